// moe-bench: micro-benchmarks that report their FLOP rate beside the machine's own dense GEMM rate,
// measured in the same run (DESIGN.md principle 9). Subcommand lm: one language-model output layer
// (softmax / MoS / MoC head, forward and backward on a batch) against plain GEMMs of the same shapes.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>

#include "moe/core/error.hpp"
#include "moe/core/threads.hpp"
#include "moe/lm/blocked_gemm.hpp"
#include "moe/lm/output_head.hpp"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"moe-bench: FLOP rates of the library's kernels beside the machine's GEMM rate (same run)", "moe-bench"};
  app.require_subcommand(1);
  auto* lm = app.add_subcommand("lm", "Language-model output layer: forward + backward of one batch (the loss, "
                                      "W h as V x (K N) products, dW and W' dZ), median over --steps");
  std::string head = "mos";
  std::size_t V = 2000, d = 32, K = 5, N = 128, H = 128, steps = 20;
  int threads = 0;
  lm->add_option("--head", head, "softmax, mos or moc")->capture_default_str();
  lm->add_option("--vocabulary", V, "V")->capture_default_str();
  lm->add_option("--projection", d, "d")->capture_default_str();
  lm->add_option("--experts", K, "K (mos, moc)")->capture_default_str();
  lm->add_option("--batch", N, "contexts per batch")->capture_default_str();
  lm->add_option("--hidden", H, "size of the context vectors")->capture_default_str();
  lm->add_option("--steps", steps, "timed batches")->capture_default_str();
  lm->add_option("--threads", threads, "OpenMP threads (0: all cores); BLAS single-threaded")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    moe::set_threads(threads);
    moe::OutputHead out(head, H, d, V, K);
    moe::Rng rng(1);
    out.init(rng);
    moe::ParamList params;
    out.collect(params);
    const arma::mat C = rng.uniform_matrix(H, N, -1.0, 1.0);
    arma::mat Y(1, N);
    for (double& y : Y) y = double(rng.below(V));
    const std::size_t cols = head == "mos" ? K * N : N;  // columns of the V x cols output products
    // The output layer's three products: W h (V x d x cols), dW += dZ h' and W' dZ: 2 V d cols flops each.
    const double flops = 3.0 * 2.0 * double(V) * double(d) * double(cols);
    std::vector<double> t_layer, t_gemm, t_plain;
    arma::mat dC;
    const arma::mat W = rng.normal_matrix(V, d), Hs = rng.normal_matrix(d, cols), dZ = rng.normal_matrix(V, cols);
    arma::mat acc(V, d, arma::fill::zeros);
    for (std::size_t s = 0; s < steps + 2; ++s) {  // 2 warm-up steps
      params.zero_grad();
      auto t0 = std::chrono::steady_clock::now();
      out.loss(C, Y, 1.0 / double(N), &dC);
      const double a = seconds_since(t0);
      t0 = std::chrono::steady_clock::now();
      const arma::mat Z = moe::gemm_blocked(W, Hs);
      moe::gemm_nt_accumulate(acc, dZ, Hs);
      const arma::mat G = moe::gemm_tn_blocked(W, dZ);
      const double b = seconds_since(t0);
      t0 = std::chrono::steady_clock::now();
      const arma::mat P = W * Hs;  // one BLAS call on one core: the machine's plain dgemm rate
      const double c = seconds_since(t0);
      if (s >= 2) t_layer.push_back(a), t_gemm.push_back(b), t_plain.push_back(c);
    }
    const double layer = arma::median(arma::vec(t_layer)), gemm = arma::median(arma::vec(t_gemm));
    std::printf("head %s, V %zu, d %zu, K %zu, batch %zu, threads %d\n", head.c_str(), V, d, head == "softmax" ? 1 : K, N,
                moe::max_threads());
    std::printf("output layer (forward + backward): %.3f ms / batch, %.2f GFLOP/s counting its 3 products\n",
                1e3 * layer, flops / layer * 1e-9);
    std::printf("same-shape GEMMs alone (same blocking, same run): %.3f ms, %.2f GFLOP/s\n", 1e3 * gemm,
                flops / gemm * 1e-9);
    const double plain = arma::median(arma::vec(t_plain));
    std::printf("one plain dgemm V x d x cols on one core: %.2f GFLOP/s\n", flops / 3.0 / plain * 1e-9);
    std::printf("fraction of the same-run GEMM rate (same-shape blocked GEMMs): %.2f\n", gemm / layer);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "moe-bench: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
