#!/usr/bin/env bash
# Installs the Debian 12 packages moekit needs, only those that are missing (run as root).
set -euo pipefail
packages=(g++ cmake make pkg-config git libarmadillo-dev libopenblas-dev libhdf5-dev libcli11-dev doctest-dev
          praat python3 python3-h5py python3-matplotlib python3-numpy)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
