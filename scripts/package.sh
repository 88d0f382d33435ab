#!/usr/bin/env bash
# Builds the Debian package (Release, without test hooks) into build-release/:
#   build-release/colend_<version>_amd64.deb
# Install it with `dpkg -i`; scripts/test-package.sh checks the package on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build-release.sh colend colend-node colend-verify
bdir=build-release
(cd "$bdir" && cpack -G DEB >/dev/null)
ls "$bdir"/colend_*.deb
