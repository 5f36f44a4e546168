// The CUDA kernels of the routed experts against the per-token reference (routing_cases.hpp, double), on
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
  moe::test::HostBank bank = moe::test::random_bank(c.d, c.f, c.experts, c.activation, rng);
  for (std::vector<double>* v : {&bank.W1, &bank.b1, &bank.W2, &bank.b2}) {
    arma::mat M(v->data(), arma::uword(v->size()), 1, false, true);
    M = round(M);
  }
  for (double& w : plan.slot_weight) w = double(float(w));
  for (double& w : plan.sorted_weight) w = double(float(w));
  const arma::mat X = round(rng.normal_matrix(c.d, c.tokens)), dY = rng.normal_matrix(c.d, c.tokens);
  const arma::mat dYf = round(dY);  // dY goes up as float
  const moe::test::FfnResult ref = moe::test::reference_ffn(plan, bank, X, dYf);

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
  CHECK(relative_error(r.Y, ref.Y) < tol);
  CHECK(relative_error(r.dX, ref.dX) < tol);
  CHECK(relative_error(r.dweight, ref.dweight) < tol);
  CHECK(relative_error(r.dW1, ref.dW1) < tol);
  CHECK(relative_error(r.db1, ref.db1) < tol);
  CHECK(relative_error(r.dW2, ref.dW2) < tol);
  CHECK(relative_error(r.db2, ref.db2) < tol);
}

}  // namespace

TEST_CASE("CUDA sparse kernels match the per-token reference (float 1e-4, bf16 1e-2), or say they are not there") {
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
