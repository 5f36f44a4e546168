# Sourced by nccl_device.sh and nccl_scaling.sh on the GPU machine: unpacks the Debian packages carried in
# .debs/ into a prefix, finds NCCL in the pip wheel nvidia-nccl-cu13, puts both on LD_LIBRARY_PATH (sets
# $prefix, $lib, $nccl), and defines nccl_build DIR MPI [TARGET ...]: configure DIR with -DMOE_CUDA=ON
# -DMOE_NCCL=ON -DMOE_MPI=MPI against them, then build the targets (all without any); on failure it prints
# the configure log's tail or the build errors and exits.
prefix=/tmp/moe-debs
mkdir -p $prefix
for f in .debs/*.deb; do dpkg -x "$f" $prefix; done
lib=$prefix/usr/lib/x86_64-linux-gnu
nccl=$(python3 -c 'import nvidia.nccl as m; print(m.__path__[0])')
export LD_LIBRARY_PATH=$nccl/lib:$lib:$lib/openblas-pthread:${LD_LIBRARY_PATH:-}

nccl_build() {
  local dir=$1 mpi=$2
  shift 2
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMOE_CUDA=ON -DMOE_NCCL=ON -DNCCL_ROOT="$nccl" \
    -DMOE_MPI="$mpi" -DMOE_ARCH= -DCMAKE_PREFIX_PATH=$prefix/usr -DCMAKE_LIBRARY_PATH="$lib/openblas-pthread;$lib" \
    -DCMAKE_CXX_FLAGS="-I$prefix/usr/include/x86_64-linux-gnu/openblas-pthread" > /tmp/configure.log 2>&1 \
    || { tail -30 /tmp/configure.log; exit 1; }
  cmake --build "$dir" -j "$(nproc)" ${1:+--target "$@"} > /tmp/build.log 2>&1 \
    || { grep -E "error|Error" -A5 /tmp/build.log | head -60; exit 1; }
}
