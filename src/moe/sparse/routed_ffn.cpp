#include "moe/sparse/routed_ffn.hpp"

#include "moe/core/error.hpp"

namespace moe {

RoutedKernel parse_routed_kernel(const std::string& name) {
  if (name == "fast") return RoutedKernel::fast;
  if (name == "reference") return RoutedKernel::reference;
  fail("unknown sparse kernel '" + name + "' (expected fast or reference)");
}

kernels::PlanView plan_view(const RoutingPlan& plan) {
  kernels::PlanView v;
  v.tokens = plan.tokens;
  v.experts = plan.experts;
  v.k = plan.k;
  v.slot_position = plan.slot_position.data();
  v.expert_offsets = plan.expert_offsets.data();
  v.sorted_token = plan.sorted_token.data();
  return v;
}

namespace {

// Column block [offset, offset + n) of a rows x A buffer as an Armadillo matrix sharing its memory.
arma::mat block(kernels::Buffer<double>& buffer, arma::uword rows, std::int64_t offset, std::int64_t n) {
  return arma::mat(buffer.data() + rows * arma::uword(offset), rows, arma::uword(n), false, true);
}

arma::mat reference_forward(const RoutingPlan& plan, const FfnExperts& experts, const arma::mat& X,
                            RoutedFfnState& state, bool residual) {
  const arma::uword d = experts.model_dim(), f = experts.ff_dim(), A = plan.assignments();
  state.inputs.resize(d * A), state.pre.resize(f * A), state.act.resize(f * A), state.out.resize(d * A);
#pragma omp parallel for schedule(dynamic, 1)
  for (long e = 0; e < long(plan.experts); ++e) {
    const std::int64_t begin = plan.expert_offsets[e], n = plan.expert_offsets[e + 1] - begin;
    if (n == 0) continue;
    arma::mat Xe = block(state.inputs, d, begin, n);
    for (std::int64_t i = 0; i < n; ++i) Xe.col(arma::uword(i)) = X.col(arma::uword(plan.sorted_token[begin + i]));
    arma::mat pre;
    block(state.out, d, begin, n) = experts.forward(arma::uword(e), Xe, &pre);
    block(state.pre, f, begin, n) = pre;
    arma::mat act = block(state.act, f, begin, n);
    for (arma::uword i = 0; i < pre.n_elem; ++i) act[i] = activate(experts.activation(), pre[i]);
  }
  arma::mat Y = residual ? X : arma::mat(arma::size(X), arma::fill::zeros);
  const arma::mat out(state.out.data(), d, A, false, true);
  for_each_kept_slot(plan, [&](std::size_t t, std::size_t slot, std::size_t, std::size_t) {
    Y.col(t) += plan.slot_weight[slot] * out.col(arma::uword(plan.slot_position[slot]));
  });
  return Y;
}

arma::mat reference_backward(const RoutingPlan& plan, FfnExperts& experts, RoutedFfnState& state,
                             const arma::mat& dY, arma::vec& dweight, bool residual) {
  const arma::uword d = experts.model_dim(), f = experts.ff_dim(), A = plan.assignments();
  const arma::mat out(state.out.data(), d, A, false, true);
  arma::mat dOut(d, A, arma::fill::zeros);
  dweight.zeros(plan.slot_weight.size());
  for_each_kept_slot(plan, [&](std::size_t t, std::size_t slot, std::size_t, std::size_t) {
    const arma::uword pos = arma::uword(plan.slot_position[slot]);
    dweight[slot] = arma::dot(dY.col(t), out.col(pos));
    dOut.col(pos) = plan.slot_weight[slot] * dY.col(t);
  });
  arma::mat dInputs(d, A);
#pragma omp parallel for schedule(dynamic, 1)
  for (long e = 0; e < long(plan.experts); ++e) {
    const std::int64_t begin = plan.expert_offsets[e], n = plan.expert_offsets[e + 1] - begin;
    if (n == 0) continue;
    const arma::uword c0 = arma::uword(begin), c1 = arma::uword(begin + n - 1);
    dInputs.cols(c0, c1) = experts.backward(arma::uword(e), block(state.inputs, d, begin, n),
                                            block(state.pre, f, begin, n), dOut.cols(c0, c1));
  }
  arma::mat dX = residual ? dY : arma::mat(arma::size(dY), arma::fill::zeros);
  for_each_kept_slot(plan, [&](std::size_t t, std::size_t slot, std::size_t, std::size_t) {
    dX.col(t) += dInputs.col(arma::uword(plan.slot_position[slot]));
  });
  return dX;
}


}  // namespace

std::vector<float> to_float(const double* p, std::size_t n) { return std::vector<float>(p, p + n); }

arma::mat from_float(const std::vector<float>& v, arma::uword rows, arma::uword cols) {
  arma::mat M(rows, cols);
  for (arma::uword i = 0; i < M.n_elem; ++i) M[i] = double(v[i]);
  return M;
}

void add_float_grads(FfnExperts& experts, const std::vector<float>& dW1, const std::vector<float>& db1,
                     const std::vector<float>& dW2, const std::vector<float>& db2) {
  const kernels::ExpertGrads<double> g = experts.grads();
  auto add = [](double* to, const std::vector<float>& from) {
    for (std::size_t i = 0; i < from.size(); ++i) to[i] += double(from[i]);
  };
  add(g.W1, dW1), add(g.b1, db1), add(g.W2, dW2), add(g.b2, db2);
}

namespace {

arma::mat cuda_forward(const RoutedBackend& backend, const RoutingPlan& plan, const FfnExperts& experts,
                       const arma::mat& X, RoutedFfnState& state, bool residual) {
  kernels::CudaFfnProblem p;
  p.tokens = plan.tokens, p.experts = plan.experts, p.k = plan.k;
  p.d = experts.model_dim(), p.f = experts.ff_dim(), p.activation = experts.activation();
  p.residual = false;  // added here in double: on the GPU a bf16 X would round the residual stream
  // The kept slots only (dropped ones become empty): rebuilt dropless on the GPU, they give this plan.
  p.slot_expert = plan.slot_expert;
  for (std::size_t s = 0; s < p.slot_expert.size(); ++s)
    if (plan.slot_position[s] < 0) p.slot_expert[s] = -1;
  p.slot_weight.assign(plan.slot_weight.begin(), plan.slot_weight.end());
  p.X = to_float(X.memptr(), X.n_elem);
  const kernels::ExpertWeights<double> w = experts.weights();
  const std::size_t E = w.experts, d = w.d, f = w.f;
  p.W1 = to_float(w.W1, E * f * d), p.b1 = to_float(w.b1, E * f), p.W2 = to_float(w.W2, E * d * f);
  p.b2 = to_float(w.b2, E * d);
  state.cuda = std::make_unique<kernels::CudaRoutedSession>(backend.cuda_precision);
  arma::mat Y = from_float(state.cuda->forward(p), X.n_rows, X.n_cols);
  return residual ? arma::mat(X + Y) : Y;
}

arma::mat cuda_backward(const RoutingPlan& plan, FfnExperts& experts, RoutedFfnState& state, const arma::mat& dY,
                        arma::vec& dweight, bool residual) {
  require(state.cuda != nullptr, "sparse layer: backward on the GPU without its forward");
  const kernels::CudaFfnResult r = state.cuda->backward(to_float(dY.memptr(), dY.n_elem));
  dweight.zeros(plan.slot_weight.size());
  for (std::size_t s = 0; s < r.dweight.size(); ++s) dweight[s] = double(r.dweight[s]);
  add_float_grads(experts, r.dW1, r.db1, r.dW2, r.db2);
  arma::mat dX = from_float(r.dX, dY.n_rows, dY.n_cols);
  return residual ? arma::mat(dY + dX) : dX;
}

}  // namespace

arma::mat routed_ffn_forward(const RoutedBackend& backend, const RoutingPlan& plan, const FfnExperts& experts,
                             const arma::mat& X, RoutedFfnState& state, bool residual) {
  if (backend.cuda) return cuda_forward(backend, plan, experts, X, state, residual);
  if (backend.kernel == RoutedKernel::reference) return reference_forward(plan, experts, X, state, residual);
  arma::mat Y(X.n_rows, X.n_cols);
  kernels::sparse_ffn_forward<double>(plan_view(plan), plan.sorted_weight.data(), experts.weights(),
                                      experts.activation(), X.memptr(), residual, Y.memptr(), state);
  return Y;
}

arma::mat routed_ffn_backward(const RoutedBackend& backend, const RoutingPlan& plan, FfnExperts& experts,
                              RoutedFfnState& state, const arma::mat& dY, arma::vec& dweight, bool residual) {
  if (backend.cuda) return cuda_backward(plan, experts, state, dY, dweight, residual);
  if (backend.kernel == RoutedKernel::reference) return reference_backward(plan, experts, state, dY, dweight, residual);
  arma::mat dX(dY.n_rows, dY.n_cols);
  arma::vec dsorted(plan.assignments());
  kernels::sparse_ffn_backward<double>(plan_view(plan), plan.sorted_weight.data(), experts.weights(),
                                       experts.activation(), dY.memptr(), residual, dX.memptr(), experts.grads(),
                                       dsorted.memptr(), state);
  dweight.zeros(plan.slot_weight.size());
  for (std::size_t i = 0; i < plan.assignments(); ++i) dweight[plan.sorted_slot[i]] = dsorted[i];
  return dX;
}

}  // namespace moe
