// Expert parallelism with the tokens on the GPU: the expert-parallel layer whose all-to-alls
// run GPU to GPU (kernels/cuda_expert_exchange) against the single-GPU layer on the whole batch, within
// the fast path's bounds (float: 1e-5 relative, bf16: 1e-2). Transports: the one-GPU loopback with 1, 2
// and 4 ranks as threads (the exchange's logic at P > 1 where one GPU is all there is), and NCCL with one
// rank (NCCL refuses two ranks on one GPU; 2 and 4 GPUs: tests/mpi/test_expert_parallel_gpu.cpp, run by
// experiments/bench/nccl_scaling.sh). A training run of the small network through NCCL follows the
// single-GPU run with the same seed. Without a CUDA build, or without NCCL, a case checks the error a user
// would get; without a GPU it says so and returns.
#include <doctest/doctest.h>

#include "expert_parallel_threads.hpp"
#include "moe/core/error.hpp"
#include "moe/models/sparse_net.hpp"
#include "moe/parallel/gpu_communicators.hpp"
#include "moe/backend/cuda_sparse_ffn.hpp"

using namespace moe;

namespace {

bool gpu_here() {
  if (!kernels::cuda_built()) {
    ThreadGroup group(1);
    CHECK_THROWS_WITH_AS(make_cuda_loopback_communicator(group, 0), doctest::Contains("no CUDA backend"), moe::Error);
    MESSAGE("no CUDA build: skipped");
    return false;
  }
  if (kernels::cuda_device_count() == 0) {
    MESSAGE("no CUDA device here: skipped");
    return false;
  }
  return true;
}

test::ThreadRanksCase gpu_case(const std::string& precision, std::vector<arma::uword> sizes) {
  test::ThreadRanksCase c;
  c.spec.router = "topk";
  c.spec.top_k = 2;
  c.spec.model_dim = 24;
  c.spec.ff_dim = 40;
  c.spec.capacity_factor = 0.8;  // slots dropped in the training batch
  c.spec.ffn_activation = "gelu";
  c.spec.w_importance = 0.3;
  c.spec.device = "cuda";
  c.spec.cuda_precision = precision;
  c.experts = 8;
  c.tokens_per_rank = std::move(sizes);
  c.tolerance = precision == "float" ? 1e-5 : 1e-2;  // tf32, bf16: the fast path's 1e-2
  return c;
}

std::unique_ptr<DeviceCommunicator> loopback(ThreadGroup& group, Communicator&, int rank) {
  return make_cuda_loopback_communicator(group, rank);
}

std::unique_ptr<DeviceCommunicator> nccl(ThreadGroup&, Communicator& host, int) {
  return make_nccl_communicator(host, 0);
}

}  // namespace

TEST_CASE("GPU exchange (loopback, 1, 2 and 4 ranks on one GPU) equals the single-GPU layer: float, bf16, tf32") {
  if (!gpu_here()) return;
  for (const std::string precision : {"float", "bf16"}) {
    CAPTURE(precision);
    test::check_thread_ranks(gpu_case(precision, {150}), loopback);
    test::check_thread_ranks(gpu_case(precision, {60, 90}), loopback);
    test::check_thread_ranks(gpu_case(precision, {50, 0, 70, 30}), loopback);  // a rank without tokens
  }
  test::ThreadRanksCase relu = gpu_case("float", {60, 90});  // relu: the cuBLASLt epilogue where it applies
  relu.spec.ffn_activation = "relu";
  relu.spec.ff_dim = 128;
  test::check_thread_ranks(relu, loopback);
  test::check_thread_ranks(gpu_case("tf32", {60, 90}), loopback);
}

TEST_CASE("GPU exchange over NCCL (one rank) equals the single-GPU layer, or says the build has no NCCL") {
  if (!gpu_here()) return;
  if (!nccl_built()) {
    SelfCommunicator self;
    CHECK_THROWS_WITH_AS(make_nccl_communicator(self, 0), doctest::Contains("no NCCL"), moe::Error);
    MESSAGE("no NCCL in this build: skipped");
    return;
  }
  test::check_thread_ranks(gpu_case("float", {150}), nccl);
  test::check_thread_ranks(gpu_case("bf16", {150}), nccl);
}

TEST_CASE("training through the NCCL exchange follows the single-GPU run with the same seed") {
  if (!gpu_here() || !nccl_built()) return;
  ModelSpec spec;
  spec.kind = "sparse";
  spec.inputs = 5;
  spec.outputs = 3;
  spec.experts = 6;
  spec.sparse.model_dim = 16;
  spec.sparse.ff_dim = 32;
  spec.sparse.router = "topk";
  spec.sparse.top_k = 2;
  spec.sparse.capacity_factor = 1.0;
  spec.sparse.w_importance = 0.1;
  spec.sparse.device = "cuda";
  Rng data(3);
  const arma::mat X = data.normal_matrix(5, 120);
  arma::mat Y(3, 120, arma::fill::zeros);
  for (arma::uword i = 0; i < 120; ++i) Y(i % 3, i) = 1.0;
  SelfCommunicator self;
  const std::unique_ptr<DeviceCommunicator> exchange = make_nccl_communicator(self, 0);
  SparseNet single(spec), parallel(spec, &self, exchange.get());
  Rng a(21), b(21);
  single.init(a);
  parallel.init(b);
  ParamList ps, pp;
  single.collect(ps);
  parallel.collect(pp);
  REQUIRE(ps.size() == pp.size());
  for (int step = 0; step < 20; ++step) {  // plain gradient descent
    CAPTURE(step);
    ps.zero_grad(), pp.zero_grad();
    const double ls = single.loss(X, Y, true), lp = parallel.loss(X, Y, true);
    CHECK(lp == doctest::Approx(ls).epsilon(1e-5));
    for (std::size_t i = 0; i < ps.size(); ++i) {
      *ps.items()[i].value -= 0.5 * *ps.items()[i].grad;
      *pp.items()[i].value -= 0.5 * *pp.items()[i].grad;
    }
    single.end_step(), parallel.end_step();
  }
  CHECK(exchange->calls() == 80);  // 4 all-to-alls a step went through NCCL
  for (std::size_t i = 0; i < ps.size(); ++i) {
    CAPTURE(ps.items()[i].name);
    CHECK(test::relative_diff(*pp.items()[i].value, *ps.items()[i].value) <= 1e-4);
  }
}
