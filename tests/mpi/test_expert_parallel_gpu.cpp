// The acceptance check of expert parallelism on P GPUs: under `mpirun -np P` with one GPU per rank, the expert-parallel layer
// whose all-to-alls run GPU to GPU over NCCL equals the single-GPU layer on the whole batch (outputs, input
// gradients, auxiliary losses, expert and summed replicated gradients) within the fast path's bounds,
// float 1e-5 and bf16 1e-2 relative. Skipped (a message on rank 0) without CUDA, a GPU per rank or NCCL:
// so in CI, and on a one-GPU machine for P > 1 (tests/sparse/test_cuda_expert_exchange.cpp checks the same
// exchange there with ranks as threads over a loopback).
#include <doctest/doctest.h>

#include "moe/parallel/gpu_communicators.hpp"
#include "moe/backend/cuda_sparse_ffn.hpp"
#include "mpi_world.hpp"
#include "sparse/expert_parallel_threads.hpp"

using namespace moe;

TEST_CASE("expert-parallel layer over NCCL, one GPU per rank, equals the single-GPU layer: float and bf16") {
  Communicator& comm = world();
  // Every rank takes the same decision: skip when any rank lacks what the case needs.
  double missing = !kernels::cuda_built() || !nccl_built() || kernels::cuda_device_count() < comm.size() ? 1.0 : 0.0;
  comm.allreduce_sum(&missing, 1);
  if (missing > 0) {
    MESSAGE("needs a CUDA build with NCCL and a GPU for each of the " << comm.size() << " ranks: skipped");
    return;
  }
  const std::unique_ptr<DeviceCommunicator> exchange = make_gpu_exchange(comm, "nccl");  // selects this rank's GPU
  REQUIRE(exchange != nullptr);
  CHECK(exchange->transport() == "nccl");
  for (const std::string precision : {"float", "bf16"}) {
    CAPTURE(precision);
    test::ThreadRanksCase c;
    c.spec.router = "topk";
    c.spec.top_k = 2;
    c.spec.model_dim = 24;
    c.spec.ff_dim = 40;
    c.spec.capacity_factor = 0.8;
    c.spec.ffn_activation = "gelu";
    c.spec.w_importance = 0.3;
    c.spec.device = "cuda";
    c.spec.cuda_precision = precision;
    c.experts = 8;
    for (int r = 0; r < comm.size(); ++r) c.tokens_per_rank.push_back(r == 1 && comm.size() > 2 ? 0 : 40 + 13 * arma::uword(r));
    c.tolerance = precision == "float" ? 1e-5 : 1e-2;
    test::check_rank(c, test::make_ranks_problem(c), comm, exchange.get());
  }
}
