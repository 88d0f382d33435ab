#!/usr/bin/env bash
# Builds the Debian package (Release, without test hooks) into build-release/:
#   build-release/colend_<version>_amd64.deb
# Install it with `dpkg -i`; scripts/test-package.sh checks the package on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
bdir=build-release
cmake -S . -B "$bdir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCOLEND_TEST_HOOKS=OFF \
  -DCOLEND_WERROR="${COLEND_WERROR:-OFF}" >/dev/null
cmake --build "$bdir" -j "$(nproc)" --target colend colend-node colend-verify
(cd "$bdir" && cpack -G DEB >/dev/null)
ls "$bdir"/colend_*.deb
