#pragma once
// The backend's sparse MoE layer run by one process of several (threads as ranks, or MPI processes) or by
// one alone, from the same seed and parameters set by name, on columns [first, first + n) of a batch: its
// outputs, input gradients, weighted auxiliary losses, gradients by name, bias and routing log, to be
// compared with the one-process run on the whole batch (check_part).
#include <doctest/doctest.h>

#include <functional>
#include <map>

#include "moe/backend/backend_registry.hpp"
#include "moe/sparse/moe_layer.hpp"

namespace moe::test {


struct LayerRun {
  arma::mat Y, dX, bias;
  double aux_sum = 0;  // the weighted auxiliary losses x tokens
  std::map<std::string, arma::mat> grads;
  RoutingLog log;
};

inline arma::mat download(const Backend& b, const Tensor& t) {
  arma::mat M(t.rows(), t.cols());
  if (M.n_elem > 0) b.download(t, M.memptr());
  return M;
}

// The layer on columns [first, first + n) of X, one process (comm null) or one of several.
inline LayerRun run_layer(const SparseLayerSpec& spec, std::size_t experts, const arma::mat& X, const arma::mat& dY,
                   std::size_t first, std::size_t n, Communicator* comm) {
  std::unique_ptr<Backend> b = make_backend("cpu", "double");
  BackendParams params(*b);
  MoeLayer layer(spec, experts, params, "", comm);
  Rng rng(11);
  layer.init(rng);
  ParamList list;
  params.collect(list);
  for (const Param& p : list) {  // every parameter from its own name: the same values for the same names
    Rng r(std::hash<std::string>{}(p.name));
    *p.value = r.normal_matrix(p.value->n_rows, p.value->n_cols, 0.5);
  }
  params.from_host();
  layer.from_host();
  Tensor Xt = b->tensor(X.n_rows, n), dYt = b->tensor(X.n_rows, n), Y, dX, aux = b->zeros(1, 1);
  if (n > 0) {
    const arma::mat Xs = X.cols(first, first + n - 1), dYs = dY.cols(first, first + n - 1);
    b->upload(Xt, Xs.memptr());
    b->upload(dYt, dYs.memptr());
  }
  if (layer.needs_token_ids()) {
    std::vector<std::uint64_t> ids(n);
    for (std::size_t t = 0; t < n; ++t) ids[t] = 1000 + first + t;
    layer.set_token_ids(ids);
  }
  layer.forward(Xt, true, Y);
  layer.backward(Xt, dYt, dX, aux, true);
  if (comm) {
    CommunicatorSum sum(*comm);
    params.sum_replicated_gradients(sum);
  }
  layer.end_step();
  LayerRun r;
  r.Y = download(*b, Y), r.dX = download(*b, dX), r.aux_sum = b->scalar(aux);
  params.add_grads_to_host();
  for (const Param& p : list) r.grads[p.name] = *p.grad;
  layer.to_host();
  ParamList state;
  layer.collect_state(state);
  if (const Param* bias = state.find("router/bias")) r.bias = *bias->value;
  r.log = layer.routing_log();
  return r;
}

inline double rel(const arma::mat& a, const arma::mat& b) {
  REQUIRE(arma::size(a) == arma::size(b));
  const double scale = arma::norm(b, "fro");
  return a.is_empty() ? 0.0 : arma::norm(a - b, "fro") / std::max(scale, 1e-300);
}

inline std::vector<SparseLayerSpec> settings() {
  std::vector<SparseLayerSpec> out;
  SparseLayerSpec s;
  s.model_dim = 6, s.ff_dim = 7, s.router_init_scale = 1.0;
  s.router = "topk", s.top_k = 2, s.capacity_factor = 0.8, s.w_importance = 0.3, s.switch_alpha = 0.1, s.z_loss = 0.01;
  s.shared_experts = 1;
  out.push_back(s);
  s = SparseLayerSpec{};
  s.model_dim = 6, s.ff_dim = 7, s.router_init_scale = 1.0;
  s.router = "noisy-topk", s.top_k = 2, s.w_importance = 0.2, s.w_load = 0.2;
  out.push_back(s);
  s.router = "gshard", s.capacity_factor = 1.0, s.switch_alpha = 0.1, s.w_importance = 0, s.w_load = 0;
  out.push_back(s);
  s.router = "loss-free", s.top_k = 2, s.capacity_factor = 0, s.switch_alpha = 0, s.bias_rate = 0.01;
  out.push_back(s);
  s.router = "sigmoid-topk", s.z_loss = 0.01;
  out.push_back(s);
  s = SparseLayerSpec{};
  s.model_dim = 6, s.ff_dim = 7;
  s.router = "hash", s.capacity_factor = 1.0;
  out.push_back(s);
  return out;
}


// One process's run against the whole batch's: outputs and input gradients of its columns, its experts'
// gradients (already the batch's) and the copies' (summed over the processes before the step), the bias
// and the batch's routing statistics. Returns how many expert entries it holds.
inline std::size_t check_part(const LayerRun& part, const LayerRun& whole, std::size_t first, std::size_t n) {
  if (n > 0) {
    CHECK(rel(part.Y, whole.Y.cols(first, first + n - 1)) < 1e-12);
    CHECK(rel(part.dX, whole.dX.cols(first, first + n - 1)) < 1e-12);
  }
  std::size_t experts = 0;
  for (const auto& [name, g] : part.grads) {
    experts += name.rfind("expert", 0) == 0;
    CHECK_MESSAGE(rel(g, whole.grads.at(name)) < 1e-12, name);
  }
  CHECK(arma::approx_equal(part.bias, whole.bias, "absdiff", 1e-15));
  REQUIRE(part.log.steps() == 1);
  CHECK(part.log.cv_load[0] == doctest::Approx(whole.log.cv_load[0]).epsilon(1e-12));
  CHECK(part.log.cv_importance[0] == doctest::Approx(whole.log.cv_importance[0]).epsilon(1e-12));
  CHECK(part.log.dropped_fraction[0] == doctest::Approx(whole.log.dropped_fraction[0]).epsilon(1e-12));
  CHECK(part.log.aux_total[0] == doctest::Approx(whole.log.aux_total[0]).epsilon(1e-12));
  return experts;
}

}  // namespace moe::test
