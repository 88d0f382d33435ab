#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit, and integration over real
# colend-node processes). Exit 0 only if all pass.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
cd build
ctest --output-on-failure --timeout 900 -j "$(nproc)" "$@"
