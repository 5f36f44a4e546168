#pragma once
// The routed experts' part of the sparse MoE layer for one RoutingPlan, by either CPU backend:
//   reference  per expert, an Armadillo gather and FfnExperts::forward/backward (the oracle)
//   fast       kernels/cpu_sparse_ffn (row-blocked BLAS GEMMs under OpenMP, fused activation)
// Both keep the same state, expert-sorted columns (kernels::SparseFfnWorkspace), and give the same
// results up to rounding (tests/sparse/test_fast_cpu.cpp). X, Y, dY, dX: d x T; residual included.
#include <armadillo>
#include <memory>
#include <string>

#include "moe/sparse/ffn_experts.hpp"
#include "moe/sparse/kernels/cpu_sparse_ffn.hpp"
#include "moe/sparse/routing_plan.hpp"

namespace moe {

enum class RoutedKernel { reference, fast };
RoutedKernel parse_routed_kernel(const std::string& name);  // "reference" | "fast"; throws otherwise

using RoutedFfnState = kernels::SparseFfnWorkspace<double>;

// The plan's arrays as the kernels read them (valid while the plan lives).
kernels::PlanView plan_view(const RoutingPlan& plan);

arma::mat routed_ffn_forward(RoutedKernel kernel, const RoutingPlan& plan, const FfnExperts& experts,
                             const arma::mat& X, RoutedFfnState& state);

// Adds the experts' parameter gradients; writes dweight (T k, dL/d slot_weight; 0 for empty and dropped
// slots) and returns dL/dX through the experts and the residual.
arma::mat routed_ffn_backward(RoutedKernel kernel, const RoutingPlan& plan, FfnExperts& experts,
                              RoutedFfnState& state, const arma::mat& dY, arma::vec& dweight);

}  // namespace moe
