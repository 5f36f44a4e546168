// The backend op harness: every case of backend_op_cases.cpp on every registered backend and precision
// this machine can run, against the CPU double oracle. Backends that cannot run here (CUDA without a GPU
// or without a CUDA build) are skipped with a message.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "backend/backend_op_cases.hpp"
#include "moe/backend/backend_registry.hpp"
#include "moe/core/error.hpp"
#include "moe/core/threads.hpp"

namespace moe::test {

namespace {

// Largest |candidate - oracle| over the largest |oracle| (the differences themselves when the oracle is
// all zero).
double normalised_error(const std::vector<double>& oracle, const std::vector<double>& candidate) {
  double diff = 0.0, scale = 0.0;
  for (std::size_t i = 0; i < oracle.size(); ++i) {
    diff = std::max(diff, std::abs(candidate[i] - oracle[i]));
    scale = std::max(scale, std::abs(oracle[i]));
    if (std::isnan(candidate[i]) != std::isnan(oracle[i])) return INFINITY;
  }
  return scale > 0.0 ? diff / scale : diff;
}

void compare(const OpCase& c, const std::string& who, const std::vector<HostArray>& oracle,
             const std::vector<HostArray>& got, double bound) {
  REQUIRE(got.size() == oracle.size());
  for (std::size_t i = 0; i < oracle.size(); ++i) {
    INFO(c.op << " (" << c.shape << ") on " << who << ": output " << oracle[i].name);
    REQUIRE(got[i].values.size() == oracle[i].values.size());
    if (oracle[i].exact) {
      CHECK(got[i].values == oracle[i].values);
    } else {
      const double err = normalised_error(oracle[i].values, got[i].values);
      CHECK_MESSAGE(err <= bound, "error " << err << " above the bound " << bound);
    }
  }
}

}  // namespace

TEST_CASE("backend ops: every op of the interface has a case, and every case names an op") {
  std::set<std::string> covered;
  for (const OpCase& c : backend_op_cases()) {
    INFO(c.op);
    CHECK(std::find(backend_op_names().begin(), backend_op_names().end(), c.op) != backend_op_names().end());
    covered.insert(c.op);
  }
  for (const std::string& op : backend_op_names()) {
    INFO("no case for " << op);
    CHECK(covered.count(op) == 1);
  }
}

TEST_CASE("backend ops: every backend and precision agrees with the cpu double oracle") {
  const std::unique_ptr<Backend> oracle = make_backend("cpu", "double");
  std::size_t candidates = 0;
  for (const BackendEntry& entry : BackendRegistry::instance().entries())
    for (const Precision p : entry.precisions) {
      if (entry.name == "cpu" && p == Precision::f64) continue;
      const std::string who = entry.name + "-" + precision_name(p);
      if (entry.unavailable && !entry.unavailable().empty()) {
        MESSAGE("skipped " << who << ": " << entry.unavailable());
        continue;
      }
      ++candidates;
      const std::unique_ptr<Backend> backend = entry.make(p);
      for (const OpCase& c : backend_op_cases()) {
        const double bound = p == Precision::bf16 ? c.bound_bf16 : c.bound_float;
        compare(c, who, c.run(*oracle), c.run(*backend), bound);
      }
    }
  CHECK(candidates >= 1);  // cpu float at least
}

TEST_CASE("backend ops: the cpu backends give the same bits with 1 and 2 threads") {
  for (const char* precision : {"float", "double"}) {
    const std::unique_ptr<Backend> backend = make_backend("cpu", precision);
    for (const OpCase& c : backend_op_cases()) {
      set_threads(1);
      const std::vector<HostArray> one = c.run(*backend);
      set_threads(2);
      const std::vector<HostArray> two = c.run(*backend);
      for (std::size_t i = 0; i < one.size(); ++i) {
        INFO(c.op << " (" << c.shape << ") cpu-" << precision << ": output " << one[i].name);
        CHECK(one[i].values == two[i].values);
      }
    }
  }
  set_threads(1);
}

TEST_CASE("backend ops: wrong shapes, wrong element types and unknown backends are refused in one line") {
  const std::unique_ptr<Backend> b = make_backend("cpu", "float");
  Tensor A = b->zeros(3, 4), B = b->zeros(5, 2), C = b->zeros(3, 2);
  CHECK_THROWS_WITH_AS(b->gemm(false, false, 1.0, A, B, 0.0, C), "gemm: op(A) is 3 x 4 but op(B) has 5 rows", Error);
  Tensor ints = b->zeros(3, 4, DType::i32);
  CHECK_THROWS_AS(b->axpy(1.0, A, ints), Error);
  Tensor se = b->zeros(2, 4, DType::i32);
  CHECK_THROWS_WITH_AS(b->top_k(A, nullptr, 4, se), "top_k: k = 4 must be between 1 and 3", Error);
  const std::unique_ptr<Backend> other = make_backend("cpu", "float");
  Tensor foreign = other->zeros(3, 4);
  CHECK_THROWS_WITH_AS(b->axpy(1.0, foreign, A), "axpy: a tensor of another backend", Error);
  const std::string unknown = "unknown --device 'tpu' (expected " + BackendRegistry::instance().choices() + ")";
  CHECK_THROWS_WITH_AS(make_backend("tpu"), unknown.c_str(), Error);
  CHECK_THROWS_WITH_AS(make_backend("cpu", "bf16"), "--device cpu computes in float or double, not --precision bf16", Error);
  CHECK_THROWS_WITH_AS(make_backend("cpu", "half"), "--device cpu computes in float or double, not --precision half", Error);
  DevicePlan plan;
  plan.tokens = 2, plan.experts = 3, plan.k = 1;
  plan.slot_expert = b->zeros(1, 2, DType::i32);
  plan.slot_weight = b->zeros(1, 2);
  const std::int32_t bad[2] = {0, 3};
  b->upload(plan.slot_expert, bad);
  CHECK_THROWS_AS(b->build_plan(plan), Error);
}

}  // namespace moe::test
