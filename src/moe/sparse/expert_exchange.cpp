#include "moe/sparse/expert_exchange.hpp"

#include <algorithm>
#include <utility>

#include "moe/core/error.hpp"

namespace moe {

namespace {

std::vector<std::size_t> times(const std::vector<std::size_t>& cols, std::size_t d) {
  std::vector<std::size_t> out(cols);
  for (std::size_t& c : out) c *= d;
  return out;
}

bool is_identity(const std::vector<std::size_t>& order) {
  for (std::size_t i = 0; i < order.size(); ++i)
    if (order[i] != i) return false;
  return true;
}

// out column i <- from column order[i] (gather), or out column order[i] <- from column i (scatter). An
// identity order (state.in_order) moves the matrix instead of copying it.
arma::mat gather_columns(arma::mat&& from, const ExpertExchangeState& state) {
  if (state.in_order) return std::move(from);
  arma::mat out(from.n_rows, state.order.size());
  for (std::size_t i = 0; i < state.order.size(); ++i) out.col(i) = from.col(state.order[i]);
  return out;
}
arma::mat scatter_columns(arma::mat&& from, const ExpertExchangeState& state) {
  if (state.in_order) return std::move(from);
  arma::mat out(from.n_rows, state.order.size());
  for (std::size_t i = 0; i < state.order.size(); ++i) out.col(state.order[i]) = from.col(i);
  return out;
}

// Sends `cols_out[q]` columns of M (in rank order) to each rank q; returns the d x sum(cols_in) received.
arma::mat exchange(Communicator& comm, const arma::mat& M, const std::vector<std::size_t>& cols_out,
                   const std::vector<std::size_t>& cols_in, arma::uword d) {
  std::size_t total = 0;
  for (const std::size_t c : cols_in) total += c;
  arma::mat R(d, total);
  comm.alltoallv(M.memptr(), times(cols_out, d), R.memptr(), times(cols_in, d));
  return R;
}

// The GPU path: the host side hands over this rank's plan, the counts and orders computed above, X and
// the local experts' weights; Y and dX come back through the experts only (the residual added here).
arma::mat gpu_forward(const RoutedBackend& backend, const RoutingPlan& plan, const FfnExperts& local,
                      const arma::mat& X, const std::vector<std::int32_t>& expert_of, ExpertExchangeState& state) {
  kernels::CudaExchangeProblem p;
  p.tokens = plan.tokens, p.k = plan.k, p.d = X.n_rows, p.f = local.ff_dim(), p.local_experts = local.experts();
  p.activation = local.activation();
  p.sorted_token.assign(plan.sorted_token.begin(), plan.sorted_token.begin() + std::ptrdiff_t(plan.assignments()));
  p.slot_position.assign(plan.slot_position.begin(), plan.slot_position.end());
  p.slot_weight.assign(plan.slot_weight.begin(), plan.slot_weight.end());
  p.send_cols = state.send_cols, p.recv_cols = state.recv_cols;
  p.order.assign(state.order.begin(), state.order.end());
  p.expert_of = expert_of;
  p.X = to_float(X.memptr(), X.n_elem);
  const kernels::ExpertWeights<double> w = local.weights();
  const std::size_t E = w.experts, d = w.d, f = w.f;
  p.W1 = to_float(w.W1, E * f * d), p.b1 = to_float(w.b1, E * f), p.W2 = to_float(w.W2, E * d * f);
  p.b2 = to_float(w.b2, E * d);
  state.gpu = std::make_shared<kernels::CudaExchangeSession>(backend.cuda_precision, *backend.device_exchange);
  return X + from_float(state.gpu->forward(p), X.n_rows, X.n_cols);
}

arma::mat gpu_backward(FfnExperts& local, ExpertExchangeState& state, const arma::mat& dY, arma::vec& dweight) {
  const kernels::CudaExchangeGrads g = state.gpu->backward(to_float(dY.memptr(), dY.n_elem));
  dweight.set_size(g.dweight.size());
  std::copy(g.dweight.begin(), g.dweight.end(), dweight.begin());
  add_float_grads(local, g.dW1, g.db1, g.dW2, g.db2);
  return dY + from_float(g.dX, dY.n_rows, dY.n_cols);
}

}  // namespace

arma::mat exchange_forward(Communicator& comm, const ExpertPlacement& placement, const RoutedBackend& backend,
                           const RoutingPlan& plan, const FfnExperts& local, const arma::mat& X,
                           ExpertExchangeState& state) {
  const std::size_t P = placement.ranks, me = std::size_t(comm.rank()), most = placement.most();
  const std::size_t mine = placement.count(me);
  require(std::size_t(comm.size()) == P && plan.experts == placement.experts && local.experts() == mine,
          "expert parallelism: the layer's placement does not match the communicator or the plan");
  const arma::uword d = X.n_rows;
  state.gpu.reset();
  // How many columns each rank sends to each expert: per destination q, `most` counts (padded with 0).
  std::vector<std::int64_t> counts_out(P * most, 0), counts_in(P * most);
  state.send_cols.assign(P, 0);
  for (std::size_t q = 0; q < P; ++q)
    for (std::size_t j = 0; j < placement.count(q); ++j) {
      counts_out[q * most + j] = std::int64_t(plan.expert_count(placement.first(q) + j));
      state.send_cols[q] += std::size_t(counts_out[q * most + j]);
    }
  comm.alltoall(counts_out.data(), most, counts_in.data());
  state.recv_cols.assign(P, 0);
  state.expert_tokens.zeros(mine);
  for (std::size_t p = 0; p < P; ++p)
    for (std::size_t j = 0; j < mine; ++j) {
      state.recv_cols[p] += std::size_t(counts_in[p * most + j]);
      state.expert_tokens[j] += arma::uword(counts_in[p * most + j]);
    }
  // What arrives holds rank 0's columns for local experts 0, 1, ..., then rank 1's, ...: the order that
  // makes it expert-major.
  std::vector<std::size_t> block_start(P * mine);
  for (std::size_t p = 0, at = 0; p < P; ++p)
    for (std::size_t j = 0; j < mine; ++j) block_start[p * mine + j] = at, at += std::size_t(counts_in[p * most + j]);
  state.order.clear();
  std::size_t arriving = 0;
  for (const std::size_t c : state.recv_cols) arriving += c;
  state.order.reserve(arriving);
  std::vector<std::int32_t> expert_of;
  expert_of.reserve(arriving);
  for (std::size_t j = 0; j < mine; ++j)
    for (std::size_t p = 0; p < P; ++p)
      for (std::int64_t c = 0; c < counts_in[p * most + j]; ++c) {
        state.order.push_back(block_start[p * mine + j] + std::size_t(c));
        expert_of.push_back(std::int32_t(j));
      }
  state.in_order = is_identity(state.order);
  if (backend.cuda && backend.device_exchange)
    return gpu_forward(backend, plan, local, X, expert_of, state);
  // The kept slots' inputs in the plan's expert-sorted order: blocks of consecutive experts per owner.
  const std::size_t A = plan.assignments();
  arma::mat inputs(d, A);
  for (std::size_t i = 0; i < A; ++i) inputs.col(i) = X.col(arma::uword(plan.sorted_token[i]));
  arma::mat R = exchange(comm, inputs, state.send_cols, state.recv_cols, d);
  const std::size_t n = state.order.size();
  state.received = make_plan(n, mine, 1, std::move(expert_of), std::vector<double>(n, 1.0), 0);
  arma::mat outputs = routed_ffn_forward(backend, state.received, local, gather_columns(std::move(R), state),
                                         state.ffn, false);
  state.out = exchange(comm, scatter_columns(std::move(outputs), state), state.recv_cols, state.send_cols, d);
  arma::mat Y = X;
  for_each_kept_slot(plan, [&](std::size_t t, std::size_t slot, std::size_t, std::size_t) {
    Y.col(t) += plan.slot_weight[slot] * state.out.col(arma::uword(plan.slot_position[slot]));
  });
  return Y;
}

arma::mat exchange_backward(Communicator& comm, const ExpertPlacement&, const RoutedBackend& backend,
                            const RoutingPlan& plan, FfnExperts& local, ExpertExchangeState& state,
                            const arma::mat& dY, arma::vec& dweight) {
  if (state.gpu) return gpu_backward(local, state, dY, dweight);
  const arma::uword d = dY.n_rows;
  arma::mat dout(d, plan.assignments());
  dweight.zeros(plan.slot_weight.size());
  for_each_kept_slot(plan, [&](std::size_t t, std::size_t slot, std::size_t, std::size_t) {
    const arma::uword pos = arma::uword(plan.slot_position[slot]);
    dweight[slot] = arma::dot(dY.col(t), state.out.col(pos));
    dout.col(pos) = plan.slot_weight[slot] * dY.col(t);
  });
  arma::vec unused;
  arma::mat dinputs = routed_ffn_backward(backend, state.received, local, state.ffn,
                                          gather_columns(exchange(comm, dout, state.send_cols, state.recv_cols, d),
                                                         state),
                                          unused, false);
  const arma::mat back =
      exchange(comm, scatter_columns(std::move(dinputs), state), state.recv_cols, state.send_cols, d);
  arma::mat dX = dY;
  for_each_kept_slot(plan, [&](std::size_t t, std::size_t slot, std::size_t, std::size_t) {
    dX.col(t) += back.col(arma::uword(plan.slot_position[slot]));
  });
  return dX;
}

}  // namespace moe
