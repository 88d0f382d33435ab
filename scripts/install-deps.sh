#!/usr/bin/env bash
# Installs the Debian 12 packages colend needs to build and test, if any is missing.
set -euo pipefail
packages=(build-essential cmake ninja-build ccache pkg-config python3 openssl
          libssl-dev libleveldb-dev libjemalloc-dev libboost1.81-dev libprotobuf-dev protobuf-compiler
          libgtest-dev nlohmann-json3-dev libcli11-dev libzip-dev unzip chromium python3-prometheus-client
          clang libclang-rt-14-dev
          python3-pil libbenchmark-dev etcd-server etcd-client python3-matplotlib)  # python3-pil: the dashboard test; the last four: benchmarks
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
