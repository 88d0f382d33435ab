#!/usr/bin/env bash
# Installs what is missing and builds colend into build/ (binaries in build/bin).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOLEND_TEST_HOOKS=ON \
  -DCOLEND_WERROR="${COLEND_WERROR:-OFF}" >/dev/null
cmake --build build -j "$(nproc)"
