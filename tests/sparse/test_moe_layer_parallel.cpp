// The backend's sparse MoE layer under expert parallelism, processes as threads (ThreadGroup): every
// process builds the layer from the same seed, passes its own columns of the batch and is compared with
// the one-process layer on all of them, in double: outputs, input gradients, the weighted auxiliary
// losses, its experts' gradients, the copies' gradients summed over the processes, the loss-free bias
// after the step and the logged routing statistics. Uneven placements (5 experts over 2 and 3
// processes) and a process without tokens.
#include <doctest/doctest.h>

#include <functional>
#include <map>

#include "moe/backend/backend_registry.hpp"
#include "moe/parallel/thread_group.hpp"
#include "moe/sparse/moe_layer.hpp"

using namespace moe;

namespace {

struct LayerRun {
  arma::mat Y, dX, bias;
  double aux_sum = 0;  // the weighted auxiliary losses x tokens
  std::map<std::string, arma::mat> grads;
  RoutingLog log;
};

arma::mat download(const Backend& b, const Tensor& t) {
  arma::mat M(t.rows(), t.cols());
  if (M.n_elem > 0) b.download(t, M.memptr());
  return M;
}

// The layer on columns [first, first + n) of X, one process (comm null) or one of several.
LayerRun run_layer(const SparseLayerSpec& spec, std::size_t experts, const arma::mat& X, const arma::mat& dY,
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

double rel(const arma::mat& a, const arma::mat& b) {
  REQUIRE(arma::size(a) == arma::size(b));
  const double scale = arma::norm(b, "fro");
  return a.is_empty() ? 0.0 : arma::norm(a - b, "fro") / std::max(scale, 1e-300);
}

std::vector<SparseLayerSpec> settings() {
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

}  // namespace

TEST_CASE("sparse MoE layer on the backend: expert parallelism over threads equals one process") {
  const std::size_t E = 5;
  for (const std::vector<std::size_t>& tokens : {std::vector<std::size_t>{9, 8}, std::vector<std::size_t>{7, 0, 9}}) {
    std::size_t N = 0;
    for (const std::size_t t : tokens) N += t;
    for (const SparseLayerSpec& spec : settings()) {
      CAPTURE(spec.router);
      CAPTURE(tokens.size());
      Rng data(3);
      const arma::mat X = data.normal_matrix(6, N, 1.0), dY = data.normal_matrix(6, N, 1.0);
      const LayerRun whole = run_layer(spec, E, X, dY, 0, N, nullptr);
      const int P = int(tokens.size());
      std::vector<LayerRun> parts(tokens.size());
      ThreadGroup group(P);
      group.run([&](int rank) {
        ThreadGroupCommunicator comm(group, rank);
        std::size_t first = 0;
        for (int r = 0; r < rank; ++r) first += tokens[std::size_t(r)];
        parts[std::size_t(rank)] = run_layer(spec, E, X, dY, first, tokens[std::size_t(rank)], &comm);
      });
      std::size_t first = 0;
      double aux = 0;
      std::map<std::string, arma::mat> replicated;
      std::size_t experts_seen = 0;
      for (std::size_t r = 0; r < parts.size(); ++r) {
        CAPTURE(r);
        const LayerRun& part = parts[r];
        const std::size_t n = tokens[r];
        if (n > 0) {
          CHECK(rel(part.Y, whole.Y.cols(first, first + n - 1)) < 1e-12);
          CHECK(rel(part.dX, whole.dX.cols(first, first + n - 1)) < 1e-12);
        }
        aux += part.aux_sum;
        for (const auto& [name, g] : part.grads) {
          if (name.rfind("expert", 0) == 0) {  // held here only: the whole batch's gradient already
            ++experts_seen;
            CHECK_MESSAGE(rel(g, whole.grads.at(name)) < 1e-12, name);
          } else {
            CHECK_MESSAGE(rel(g, whole.grads.at(name)) < 1e-12, name);  // summed over the processes
          }
        }
        CHECK(arma::approx_equal(part.bias, whole.bias, "absdiff", 1e-15));
        REQUIRE(part.log.steps() == 1);
        CHECK(part.log.cv_load[0] == doctest::Approx(whole.log.cv_load[0]).epsilon(1e-12));
        CHECK(part.log.cv_importance[0] == doctest::Approx(whole.log.cv_importance[0]).epsilon(1e-12));
        CHECK(part.log.dropped_fraction[0] == doctest::Approx(whole.log.dropped_fraction[0]).epsilon(1e-12));
        CHECK(part.log.aux_total[0] == doctest::Approx(whole.log.aux_total[0]).epsilon(1e-12));
        first += n;
      }
      CHECK(experts_seen == 4 * E);  // every expert held exactly once
      CHECK(aux == doctest::Approx(whole.aux_sum).epsilon(1e-12));
      if (spec.capacity_factor > 0) CHECK(whole.log.dropped_fraction[0] > 0.0);  // the capacity bites
    }
  }
}
