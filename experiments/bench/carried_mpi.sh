# Sourced: OpenMPI from Debian 12, carried as packages in .debs/mpi/ (experiments/bench/README.md), unpacked
# into a prefix and put on PATH, for a machine without MPI (the lent GPU machines). OPAL_PREFIX tells the
# relocated OpenMPI where it lives.
prefix=/tmp/moe-mpi
mkdir -p $prefix
for f in .debs/mpi/*.deb; do dpkg -x "$f" $prefix; done
export OPAL_PREFIX=$prefix/usr PATH=$prefix/usr/bin:$PATH
export LD_LIBRARY_PATH=$prefix/usr/lib/x86_64-linux-gnu:$prefix/usr/lib/x86_64-linux-gnu/openmpi/lib:${LD_LIBRARY_PATH:-}
