#!/usr/bin/env bash
# Installs what is missing and builds the optimised build a bank runs (CMAKE_BUILD_TYPE=Release:
# -O3, assertions kept, no test hooks) into build-release/, for the given targets:
#   scripts/build-release.sh colend colend-node colend-bench
# Used by scripts/package.sh, bench.sh and bench-long.sh; build/ stays the -O1 development and
# CI build (scripts/build.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DCOLEND_TEST_HOOKS=OFF \
  -DCOLEND_WERROR="${COLEND_WERROR:-OFF}" >/dev/null
cmake --build build-release -j "$(nproc)" --target "$@"
