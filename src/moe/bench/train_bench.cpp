#include "moe/bench/train_bench.hpp"

#include "moe/backend/backend_registry.hpp"
#include "moe/bench/timing.hpp"
#include "moe/models/sparse_net.hpp"

namespace moe {

TrainBenchRow run_train_bench(const TrainBenchCase& c) {
  using namespace bench;
  ModelSpec spec;
  spec.kind = "sparse";
  spec.task = Task::classification;
  spec.inputs = c.inputs;
  spec.outputs = c.classes;
  spec.experts = c.experts;
  spec.sparse.model_dim = c.model_dim;
  spec.sparse.ff_dim = c.ff_dim;
  spec.sparse.top_k = c.k;
  SparseNet net(spec, make_backend(c.device, c.precision));
  Rng rng(c.seed);
  net.init(rng);
  net.start(BackendOptimizer{c.optimizer, 1e-3});
  const arma::mat X = rng.normal_matrix(c.inputs, c.tokens);
  arma::mat Y(c.classes, c.tokens, arma::fill::zeros);
  for (std::size_t t = 0; t < c.tokens; ++t) Y(rng.below(c.classes), t) = 1.0;
  TrainBenchRow row;
  row.c = c;
  const double N = double(c.tokens), d = double(c.inputs), D = double(c.model_dim), F = double(c.ff_dim),
               E = double(c.experts), k = double(c.k), m = double(c.classes);
  // forward + backward GEMMs: embedding 2 (no input gradient), router 3, experts 6, output 3.
  row.flops = 2 * N * (2 * D * d + 3 * E * D + 6 * k * D * F + 3 * m * D);
  std::vector<double> times;
  for (std::size_t s = 0; s <= c.steps; ++s) {
    const auto t0 = Clock::now();
    net.step(X, Y);
    net.backend().synchronize();
    double loss = 0.0;  // one read-back per step here, to report it
    net.add_loss_sums(loss);
    loss /= double(c.tokens);
    if (s > 0) times.push_back(seconds_since(t0));
    if (s == 1) row.loss_first = loss;
    row.loss_last = loss;
  }
  row.step_seconds = median(times);
  // Dense: a D x (k F) FFN on the N tokens, forward and backward (six GEMMs of 2 N D k F each), plus
  // the embedding's two and the output's three, on the same backend.
  Backend& b = net.backend();
  const std::size_t kF = c.k * c.ff_dim;
  Tensor Xd = b.zeros(c.inputs, c.tokens), W0 = b.zeros(c.model_dim, c.inputs), H = b.zeros(c.model_dim, c.tokens),
         W1 = b.zeros(kF, c.model_dim), A = b.zeros(kF, c.tokens), W2 = b.zeros(c.model_dim, kF),
         Wo = b.zeros(c.classes, c.model_dim), Z = b.zeros(c.classes, c.tokens), G0 = b.zeros(c.model_dim, c.inputs),
         G1 = b.zeros(kF, c.model_dim), G2 = b.zeros(c.model_dim, kF), Go = b.zeros(c.classes, c.model_dim);
  std::vector<double> dense;
  for (std::size_t s = 0; s <= c.steps; ++s) {
    const auto t0 = Clock::now();
    b.gemm(false, false, 1.0, W0, Xd, 0.0, H);
    b.gemm(false, false, 1.0, W1, H, 0.0, A);
    b.gemm(false, false, 1.0, W2, A, 1.0, H);
    b.gemm(false, false, 1.0, Wo, H, 0.0, Z);
    b.gemm(false, true, 1.0, Z, H, 0.0, Go);
    b.gemm(true, false, 1.0, Wo, Z, 0.0, H);
    b.gemm(false, true, 1.0, H, A, 0.0, G2);
    b.gemm(true, false, 1.0, W2, H, 0.0, A);
    b.gemm(false, true, 1.0, A, H, 0.0, G1);
    b.gemm(true, false, 1.0, W1, A, 1.0, H);
    b.gemm(false, true, 1.0, H, Xd, 0.0, G0);
    b.synchronize();
    if (s > 0) dense.push_back(seconds_since(t0));
  }
  row.dense_seconds = median(dense);
  return row;
}

}  // namespace moe
