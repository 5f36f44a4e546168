// The CUDA backend of the routed sparse layer against the CPU reference (routed_ffn.cpp, double), on
// edge-case plans: the plan the GPU builds must equal make_plan's exactly (order included); outputs and
// gradients within 1e-4 (float, no TF32) and 1e-2 (bf16, and tf32), relative over each array, with every
// GPU buffer poisoned (NaN) before the run, gradients included. (Without the inputs on the element type's
// grid, relu's mask flips wherever the input rounding moves a pre-activation across 0: 1-2% on dW1 in tf32.) The GEMM paths (MOE_CUDA_GEMM, the cuBLASLt
// epilogues) are chosen by environment variables: experiments/bench/cuda_device.sh runs these cases under
// each. The inputs are rounded to the GPU's element type first, so the comparison
// measures the kernels' arithmetic, not the rounding of the inputs. Without a CUDA build, or without a GPU,
// these cases check only that asking for CUDA fails with one clear error (CI has no GPU).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>

#include "moe/core/error.hpp"
#include "moe/core/rng.hpp"
#include "moe/backend/cuda_sparse_ffn.hpp"
#include "moe/sparse/routed_ffn.hpp"
#include "moe/sparse/sparse_moe_layer.hpp"
#include "sparse/routing_cases.hpp"

using namespace moe;

namespace {

// float -> a float with only `mantissa` of its 23 mantissa bits, round to nearest even: bf16 keeps 7 (what
// __float2bfloat16 does for finite values), TF32 10 (what the tensor cores see of a float).
double round_mantissa(double x, int mantissa) {
  const int drop = 23 - mantissa;
  float f = float(x);
  std::uint32_t bits;
  std::memcpy(&bits, &f, 4);
  const std::uint32_t half = (1u << (drop - 1)) - 1u, keep = ~((1u << drop) - 1u);
  bits = (bits + half + ((bits >> drop) & 1u)) & keep;
  std::memcpy(&f, &bits, 4);
  return f;
}

using GpuCase = moe::test::RoutingCase;
using moe::test::as_vec;
using moe::test::random_plan;
using moe::test::relative_error;

std::vector<GpuCase> gpu_cases() {
  return {
      {"top-2 of 8, dropless", 300, 8, 2, 64, 96, 0.0, 8, FfnActivation::relu},
      {"top-2 of 6, capacity 0.7 (drops), gelu", 513, 6, 2, 48, 80, 0.7, 6, FfnActivation::gelu},
      {"empty experts (2 of 9 used)", 200, 9, 2, 32, 40, 0.0, 2, FfnActivation::relu},
      {"every token on one expert", 260, 4, 1, 40, 72, 0.0, 1, FfnActivation::relu},
      {"k = E = 4", 150, 4, 4, 24, 56, 0.0, 4, FfnActivation::gelu},
      {"one expert", 99, 1, 1, 16, 32, 0.0, 1, FfnActivation::relu},
      {"no tokens", 0, 3, 2, 8, 8, 0.0, 3, FfnActivation::relu},
      {"d_ff 128: the relu mask fits the DRELU epilogue", 240, 6, 2, 32, 128, 0.0, 6, FfnActivation::relu},
      {"40 experts: per-expert path, bias-gradient kernel", 400, 40, 2, 16, 24, 0.0, 40, FfnActivation::relu},
  };
}

void run_case(const GpuCase& c, const std::string& precision, double tol) {
  CAPTURE(c.name);
  CAPTURE(precision);
  Rng rng(7);
  RoutingPlan plan = random_plan(c, rng);
  if (c.capacity_factor > 0.0) REQUIRE(!plan.dropped.empty());
  // Values the GPU holds exactly (bf16 or float), used by both sides.
  auto round = [&](arma::mat M) {
    const int mantissa = precision == "bf16" ? 7 : precision == "tf32" ? 10 : 23;
    for (double& x : M) x = mantissa < 23 ? round_mantissa(x, mantissa) : double(float(x));
    return M;
  };
  FfnExperts bank(c.d, c.f, c.experts, c.activation);
  bank.init(rng);
  ParamList params;
  bank.collect(params, "");
  for (const Param& p : params) {
    *p.value = round(*p.value + 0.05 * rng.normal_matrix(p.value->n_rows, p.value->n_cols));  // nonzero biases
    p.grad->zeros();
  }
  for (double& w : plan.slot_weight) w = double(float(w));
  for (double& w : plan.sorted_weight) w = double(float(w));
  const arma::mat X = round(rng.normal_matrix(c.d, c.tokens)), dY = rng.normal_matrix(c.d, c.tokens);
  const arma::mat dYf = round(dY);  // dY goes up as float
  RoutedFfnState state;
  const arma::mat Y = routed_ffn_forward(RoutedKernel::reference, plan, bank, X, state);
  arma::vec dweight;
  const arma::mat dX = routed_ffn_backward(RoutedKernel::reference, plan, bank, state, dYf, dweight);

  kernels::CudaFfnProblem p;
  p.tokens = c.tokens, p.experts = c.experts, p.k = c.k, p.d = c.d, p.f = c.f, p.activation = c.activation;
  p.capacity = plan.capacity;
  p.slot_expert = plan.slot_expert;
  p.slot_weight.assign(plan.slot_weight.begin(), plan.slot_weight.end());
  p.X = moe::test::cast<float>(X.memptr(), X.n_elem);
  p.dY = moe::test::cast<float>(dYf.memptr(), dYf.n_elem);
  const kernels::ExpertWeights<double> w = bank.weights();
  p.W1 = moe::test::cast<float>(w.W1, c.f * c.d * c.experts), p.b1 = moe::test::cast<float>(w.b1, c.f * c.experts);
  p.W2 = moe::test::cast<float>(w.W2, c.d * c.f * c.experts), p.b2 = moe::test::cast<float>(w.b2, c.d * c.experts);
  const kernels::CudaFfnResult r = kernels::cuda_sparse_ffn_run(p, precision);

  // The GPU's plan is make_plan's: same kept slots, same order.
  CHECK(r.expert_offsets == plan.expert_offsets);
  CHECK(r.slot_position == plan.slot_position);
  CHECK(std::vector<std::int32_t>(r.sorted_token) == plan.sorted_token);
  CHECK(relative_error(r.Y, arma::vectorise(Y)) < tol);
  CHECK(relative_error(r.dX, arma::vectorise(dX)) < tol);
  CHECK(relative_error(r.dweight, dweight) < tol);
  const kernels::ExpertGrads<double> g = bank.grads();
  CHECK(relative_error(r.dW1, as_vec(g.W1, c.f * c.d * c.experts)) < tol);
  CHECK(relative_error(r.db1, as_vec(g.b1, c.f * c.experts)) < tol);
  CHECK(relative_error(r.dW2, as_vec(g.W2, c.d * c.f * c.experts)) < tol);
  CHECK(relative_error(r.db2, as_vec(g.b2, c.d * c.experts)) < tol);
}

}  // namespace

TEST_CASE("CUDA sparse backend matches the CPU reference (float 1e-4, bf16 1e-2), or says it is not there") {
  if (!kernels::cuda_built() || kernels::cuda_device_count() == 0) {
    kernels::CudaFfnProblem p;
    if (!kernels::cuda_built())
      CHECK_THROWS_WITH_AS(kernels::cuda_sparse_ffn_run(p, "bf16"), doctest::Contains("no CUDA backend"), moe::Error);
    else
      CHECK_THROWS_AS(kernels::cuda_sparse_ffn_run(p, "bf16"), moe::Error);
    MESSAGE("no CUDA device here: only the error path was checked");
    return;
  }
  MESSAGE("CUDA device: " << kernels::cuda_device_name());
  for (const GpuCase& c : gpu_cases()) {
    run_case(c, "float", 1e-4);
    run_case(c, "tf32", 1e-2);
    run_case(c, "bf16", 1e-2);
  }
}

TEST_CASE("sparse layer with --device cuda matches the CPU layer (float), or is refused without CUDA") {
  SparseLayerSpec spec;
  spec.router = "topk";
  spec.top_k = 2;
  spec.model_dim = 24;
  spec.ff_dim = 40;
  spec.capacity_factor = 0.8;  // training batch: some slots dropped
  spec.ffn_activation = "gelu";
  spec.w_importance = 0.3;
  spec.device = "cuda";
  if (!kernels::cuda_built()) {
    CHECK_THROWS_WITH_AS(spec.validate(6), doctest::Contains("this build has no CUDA backend"), moe::Error);
    return;
  }
  if (kernels::cuda_device_count() == 0) {
    MESSAGE("no CUDA device here: skipped");
    return;
  }
  SparseLayerSpec cpu_spec = spec;
  cpu_spec.device = "cpu";
  SparseMoeLayer gpu_layer(spec, 6), cpu_layer(cpu_spec, 6);
  Rng a(4), b(4);
  gpu_layer.init(a);
  cpu_layer.init(b);
  ParamList gpu_params, cpu_params;
  gpu_layer.collect(gpu_params, "");
  cpu_layer.collect(cpu_params, "");
  gpu_params.zero_grad(), cpu_params.zero_grad();
  Rng data(9), noise1(1), noise2(1);
  const arma::mat X = data.normal_matrix(24, 200), dY = data.normal_matrix(24, 200);
  const MoeForward fg = gpu_layer.forward(X, RouteContext{&noise1, true, {}});
  const MoeForward fc = cpu_layer.forward(X, RouteContext{&noise2, true, {}});
  REQUIRE(!fc.routing.plan.dropped.empty());
  CHECK(arma::norm(fg.Y - fc.Y) / arma::norm(fc.Y) < 1e-5);
  const arma::mat dXg = gpu_layer.backward(X, fg, dY), dXc = cpu_layer.backward(X, fc, dY);
  CHECK(arma::norm(dXg - dXc) / arma::norm(dXc) < 1e-4);
  const arma::vec gg = gpu_params.grads(), gc = cpu_params.grads();
  CHECK(arma::norm(gg - gc) / arma::norm(gc) < 1e-4);
}
