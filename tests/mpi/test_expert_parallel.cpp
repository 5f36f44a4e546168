// The expert-parallel sparse MoE layer against the single-process layer on the concatenated batch
//: every rank builds the same random problem, runs the single-process layer on all T tokens
// (the reference) and the expert-parallel layer on its own columns, and compares its outputs, input
// gradients, auxiliary losses, its experts' gradients and the summed router gradients. Run with
// P = 1, 2 and 4 ranks; the cases include experts that receive no tokens, capacity overflow, ranks
// without tokens and every per-token router.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "moe/core/error.hpp"
#include "moe/sparse/loss_free_router.hpp"
#include "moe/sparse/sparse_moe_layer.hpp"
#include "mpi_world.hpp"

using namespace moe;

namespace {

constexpr double tolerance = 1e-9;  // the requirement is 1e-6; the layers differ only in rounding

double max_abs_diff(const arma::mat& a, const arma::mat& b) {
  REQUIRE(arma::size(a) == arma::size(b));
  return a.is_empty() ? 0.0 : arma::abs(a - b).max();
}

// Columns [first, first + n) of M (d x 0 for n = 0).
arma::mat columns(const arma::mat& M, arma::uword first, arma::uword n) {
  return n == 0 ? arma::mat(M.n_rows, 0) : arma::mat(M.cols(first, first + n - 1));
}

// Rank r's tokens: an uneven split (rank r gets about (r + 1) shares), or none for the last rank.
std::vector<arma::uword> split(arma::uword T, int P, bool last_rank_empty) {
  std::vector<arma::uword> sizes(std::size_t(P), 0);
  const int holders = last_rank_empty && P > 1 ? P - 1 : P;
  arma::uword shares = 0;
  for (int r = 0; r < holders; ++r) shares += arma::uword(r + 1);
  arma::uword given = 0;
  for (int r = 0; r < holders; ++r) {
    sizes[std::size_t(r)] = r + 1 == holders ? T - given : T * arma::uword(r + 1) / shares;
    given += sizes[std::size_t(r)];
  }
  return sizes;
}

// Router weights of expert `e` pushed far down: with positive token features it is never chosen.
void starve_expert(SparseMoeLayer& layer, arma::uword e) {
  ParamList params;
  layer.collect_replicated(params, "");
  for (const Param& p : params)
    if (p.name.rfind("router/", 0) == 0 && p.value->n_rows == layer.experts()) p.value->row(e).fill(-5.0);
}

struct Case {
  std::string name;
  SparseLayerSpec spec;
  arma::uword experts = 4, tokens = 37;
  bool training = true, starve_last = false, last_rank_empty = false;
  bool expect_drops = false;
};

SparseLayerSpec base_spec(const std::string& router) {
  SparseLayerSpec s;
  s.router = router;
  s.model_dim = 6;
  s.ff_dim = 5;
  s.top_k = router == "switch" || router == "hash" ? 1 : 2;
  return s;
}

void run_case(const Case& c) {
  CAPTURE(c.name);
  Communicator& comm = world();
  const int P = comm.size(), me = comm.rank();
  const arma::uword d = c.spec.model_dim, T = c.tokens;
  Rng data(7);
  const arma::mat X = data.uniform_matrix(d, T, 0.1, 1.0);  // positive, so a starved expert stays empty
  const arma::mat dY = data.normal_matrix(d, T);
  const std::vector<arma::uword> sizes = split(T, P, c.last_rank_empty);
  arma::uword offset = 0;
  for (int r = 0; r < me; ++r) offset += sizes[std::size_t(r)];
  const arma::uword mine = sizes[std::size_t(me)];
  const arma::mat Xr = columns(X, offset, mine);
  const arma::mat dYr = columns(dY, offset, mine);

  SparseMoeLayer whole(c.spec, c.experts), part(c.spec, c.experts, &comm);
  Rng init_whole(11), init_part(11);
  whole.init(init_whole);
  part.init(init_part);
  if (c.starve_last) starve_expert(whole, c.experts - 1), starve_expert(part, c.experts - 1);
  ParamList pw, pp, replicated;  // (collecting zeroes the gradients: before the passes)
  whole.collect(pw, "");
  part.collect(pp, "");
  part.collect_replicated(replicated, "");
  pw.zero_grad();
  pp.zero_grad();

  Rng noise_whole(5), noise_part(5);
  const MoeForward fw = whole.forward(X, RouteContext{&noise_whole, c.training, {}});
  const MoeForward fp = part.forward(Xr, RouteContext{&noise_part, c.training, {}});
  const arma::mat dXw = whole.backward(X, fw, dY);
  const arma::mat dXp = part.backward(Xr, fp, dYr);

  // The problem has what the case is about.
  const RoutingPlan& plan = fw.routing.plan;
  if (c.expect_drops) CHECK(!plan.dropped.empty());
  if (c.starve_last) CHECK(plan.expert_count(c.experts - 1) == 0);
  // Kept and dropped slots are those of the whole batch's plan.
  std::size_t kept = 0;
  for (std::size_t i = 0; i < fp.routing.plan.slot_position.size(); ++i)
    CHECK((fp.routing.plan.slot_position[i] >= 0) == (plan.slot_position[offset * plan.k + i] >= 0));
  kept = fp.routing.plan.assignments();
  double kept_sum = double(kept);
  comm.allreduce_sum(&kept_sum, 1);
  CHECK(kept_sum == double(plan.assignments()));

  CHECK(max_abs_diff(fp.Y, columns(fw.Y, offset, mine)) <= tolerance);
  CHECK(max_abs_diff(dXp, columns(dXw, offset, mine)) <= tolerance);
  CHECK(std::abs(fp.aux.total - fw.aux.total) <= tolerance);
  CHECK(std::abs(fp.aux.importance - fw.aux.importance) <= tolerance);
  CHECK(std::abs(fp.aux.load - fw.aux.load) <= tolerance);
  CHECK(std::abs(fp.aux.switch_aux - fw.aux.switch_aux) <= tolerance);
  CHECK(std::abs(fp.aux.z - fw.aux.z) <= tolerance);

  // Balance statistics of the whole batch.
  const RoutingStats sw = whole.stats(fw), sp = part.stats(fp);
  CHECK(max_abs_diff(sp.importance, sw.importance) <= tolerance);
  CHECK(max_abs_diff(sp.load, sw.load) == 0.0);
  CHECK(sp.dropped_fraction == doctest::Approx(sw.dropped_fraction).epsilon(1e-12));
  CHECK(sp.dropped_token_fraction == doctest::Approx(sw.dropped_token_fraction).epsilon(1e-12));

  // This rank's experts: the same gradients as the whole layer's (from every rank's tokens).
  for (const Param& p : pp) {
    CAPTURE(p.name);
    const Param* q = pw.find(p.name);
    REQUIRE(q != nullptr);
    CHECK(max_abs_diff(*p.value, *q->value) == 0.0);
    if (p.name.rfind("expert", 0) == 0) CHECK(max_abs_diff(*p.grad, *q->grad) <= tolerance);
  }
  // The copies' gradients sum over the ranks to the whole layer's.
  for (const Param& p : replicated) {
    CAPTURE(p.name);
    arma::mat g = *p.grad;
    comm.allreduce_sum(g.memptr(), g.n_elem);
    CHECK(max_abs_diff(g, *pw.find(p.name)->grad) <= tolerance);
  }
  // Loss-free: the bias update sees the batch's load.
  whole.end_step(fw);
  part.end_step(fp);
  if (auto* lw = dynamic_cast<LossFreeRouter*>(whole.router()))
    CHECK(max_abs_diff(lw->bias(), dynamic_cast<LossFreeRouter*>(part.router())->bias()) == 0.0);
}

}  // namespace

TEST_CASE("expert-parallel layer equals the single-process layer: top-k, dropless, an expert without tokens") {
  Case c{"topk", base_spec("topk")};
  c.starve_last = true;
  c.spec.w_importance = 0.1;
  c.spec.z_loss = 0.01;
  run_case(c);
}

TEST_CASE("expert-parallel layer equals the single-process layer: top-k with capacity overflow") {
  Case c{"topk capacity", base_spec("topk")};
  c.spec.capacity_factor = 0.6;
  c.expect_drops = true;
  c.starve_last = true;
  c.spec.w_importance = 0.1;
  run_case(c);
  c.training = false;  // evaluation is dropless
  c.expect_drops = false;
  run_case(c);
}

TEST_CASE("expert-parallel layer equals the single-process layer: switch with its losses, a rank without tokens") {
  Case c{"switch", base_spec("switch")};
  c.spec.capacity_factor = 1.0;
  c.spec.switch_alpha = 0.01;
  c.spec.z_loss = 0.001;
  c.expect_drops = true;
  c.last_rank_empty = true;
  c.tokens = 41;
  run_case(c);
}

TEST_CASE("expert-parallel layer equals the single-process layer: noisy top-k (training noise) and its load loss") {
  Case c{"noisy-topk", base_spec("noisy-topk")};
  c.spec.router_init_scale = 1.0;
  c.spec.capacity_factor = 0.8;
  c.spec.w_load = 0.1;
  c.spec.w_importance = 0.1;
  c.expect_drops = true;
  c.experts = 8;
  c.tokens = 300;  // more than one 256-token block of noise draws
  run_case(c);
}

TEST_CASE("expert-parallel layer equals the single-process layer: gshard, hash, loss-free, shared experts") {
  Case g{"gshard", base_spec("gshard")};
  g.spec.capacity_factor = 0.7;
  g.expect_drops = true;
  run_case(g);
  Case h{"hash", base_spec("hash")};
  h.spec.capacity_factor = 0.5;
  h.expect_drops = true;
  run_case(h);
  Case l{"loss-free", base_spec("loss-free")};
  l.spec.bias_rate = 0.01;
  l.spec.shared_experts = 1;
  l.experts = 5;  // not a multiple of 2 or 4: uneven expert blocks
  run_case(l);
}

TEST_CASE("expert-parallel layer refuses batch-wide routers and more ranks than experts") {
  Communicator& comm = world();
  for (const std::string router : {"expert-choice", "balanced", "soft"}) {
    CAPTURE(router);
    CHECK_THROWS_WITH_AS(SparseMoeLayer(base_spec(router), 4, &comm), doctest::Contains("per-token router"), Error);
  }
  if (comm.size() > 1)
    CHECK_THROWS_WITH_AS(SparseMoeLayer(base_spec("topk"), arma::uword(comm.size() - 1), &comm),
                         doctest::Contains("at most as many processes as experts"), Error);
}
