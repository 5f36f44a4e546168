// moe-bench: micro-benchmarks that report their FLOP rate beside the machine's own dense GEMM rate,
// measured in the same run (docs/architecture.md#principles). Subcommand lm: one language-model output layer
// (softmax / MoS / MoC head, forward and backward on a batch) against plain GEMMs of the same shapes;
// with --data, first a timed training epoch of the whole language model on that corpus (the same sizes),
// so one command prints the time per epoch and the output layer's fraction of the same-run GEMM rate.
// Subcommand sparse: the routed sparse MoE layer's experts (forward, forward + backward) over a grid of
// sizes and routing imbalances, on the CPU or the GPU, beside dense GEMMs of the same FLOPs; CSV and HDF5.
// Subcommand expert-parallel, under `mpirun -np P`: time per training step of the expert-parallel layer on
// P ranks, its communication time and each rank's load (expert_parallel_bench.hpp); rank 0 prints and writes.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>

#include "moe/bench/expert_parallel_bench.hpp"
#include "moe/bench/sparse_bench.hpp"
#include "moe/bench/train_bench.hpp"
#include "moe/parallel/mpi_communicator.hpp"
#include "moe/backend/cuda_sparse_ffn.hpp"
#include "moe/core/error.hpp"
#include "moe/core/threads.hpp"
#include "moe/lm/blocked_gemm.hpp"
#include "moe/lm/output_head.hpp"
#include "moe/models/model.hpp"
#include "moe/run/data_options.hpp"
#include "moe/train/trainer.hpp"
#include "cli_common.hpp"
#include "lm_options.hpp"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"moe-bench: FLOP rates of the library's kernels beside the machine's GEMM rate (same run)", "moe-bench"};
  moe::cli::last_value_wins(app);
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
  // The optional training epoch(s): the corpus, its tokenizer/vocabulary flags (as moe-train's --task lm),
  // the encoder, Adam. V then comes from the corpus' vocabulary, not --vocabulary.
  moe::DataOptions data;
  data.task = "lm";
  data.valid_fraction = 0.1;
  data.test_fraction = 0.1;
  moe::ModelSpec spec;
  spec.kind = "lm";
  spec.embedding = 64;
  moe::TrainOptions train;
  train.optimizer.name = "adam";
  train.optimizer.learning_rate = 0.003;
  train.epochs = 1;
  train.quiet = true;
  std::uint64_t seed = 1;
  lm->add_option("--data", data.path, "Corpus (a directory from `moe-data fetch sotu|kjv`, or a text file): time "
                                      "--epochs training epochs of the whole language model (encoder + head, "
                                      "Adam, minibatches of --batch) before the output-layer benchmark; the "
                                      "vocabulary size V comes from the corpus")
      ->capture_default_str();
  moe::cli::add_lm_data_options(*lm, data.lm, false);
  lm->add_option("--embedding", spec.embedding, "--data: size of the input token embeddings")->capture_default_str();
  lm->add_option("--epochs", train.epochs, "--data: timed training epochs")->capture_default_str();
  lm->add_option("--learning-rate", train.optimizer.learning_rate, "--data: Adam step size")->capture_default_str();
  lm->add_option("--valid-fraction", data.valid_fraction, "--data: documents held out as validation (not used "
                                                          "here; the split matches moe-train's)")
      ->capture_default_str();
  lm->add_option("--test-fraction", data.test_fraction, "--data: documents held out as test")->capture_default_str();
  lm->add_option("--seed", seed, "--data: seed of the split, initialisation and minibatch order")->capture_default_str();
  auto* sparse = app.add_subcommand("sparse", "Sparse MoE layer (routed FFN experts, relu): plan + forward and plan + "
                                              "forward + backward, median over --steps, for every combination of "
                                              "the listed sizes, beside dense GEMMs of the same FLOPs (same run)");
  std::vector<std::size_t> s_tokens{4096}, s_dmodel{512}, s_dff{1024}, s_experts{8, 64, 256}, s_k{2};
  std::vector<double> s_imbalance{0.0};
  moe::SparseBenchOptions s_opt;
  std::string s_csv, s_hdf5;
  sparse->add_option("--tokens", s_tokens, "tokens per batch (several values: a grid)")->capture_default_str();
  sparse->add_option("--d-model", s_dmodel, "d_model")->capture_default_str();
  sparse->add_option("--d-ff", s_dff, "d_ff of every expert")->capture_default_str();
  sparse->add_option("--experts", s_experts, "experts")->capture_default_str();
  sparse->add_option("--k", s_k, "experts per token")->capture_default_str();
  sparse->add_option("--imbalance", s_imbalance, "Zipf exponent of the experts' popularity (0: uniform; the "
                                                 "realised max/mean load is printed)")
      ->capture_default_str();
  sparse->add_option("--device", s_opt.device, "cpu or cuda")->capture_default_str();
  sparse->add_option("--precision", s_opt.precision, "cpu: float or double; cuda: bf16, float or tf32")
      ->capture_default_str();
  sparse->add_option("--steps", s_opt.steps, "timed steps per case, after one warm-up")->capture_default_str();
  sparse->add_flag("--accumulate", s_opt.accumulate, "cpu: the backward adds to the weight gradients (as the "
                                                     "library's layer does) instead of writing them");
  sparse->add_option("--seed", s_opt.seed, "seed of the routing and the values")->capture_default_str();
  sparse->add_option("--threads", threads, "OpenMP threads (0: all cores)")->capture_default_str();
  sparse->add_option("--csv", s_csv, "write the table here as CSV");
  sparse->add_option("--hdf5", s_hdf5, "write the table here as HDF5 (/sparse/<column>)");
  auto* ep = app.add_subcommand("expert-parallel", "Expert-parallel sparse MoE layer (top-k, relu experts) under "
                                                  "`mpirun -np P`: median time per training step (forward + "
                                                  "backward) of the slowest rank, time in MPI collectives, each "
                                                  "rank's load; P = 1 also times the single-process layer");
  moe::ExpertParallelBenchCase e_case;
  std::string e_csv, e_hdf5;
  int e_threads = 1;
  ep->add_option("--tokens", e_case.tokens, "tokens per batch, all ranks together (split evenly)")->capture_default_str();
  ep->add_option("--d-model", e_case.model_dim, "d_model")->capture_default_str();
  ep->add_option("--d-ff", e_case.ff_dim, "d_ff of every expert")->capture_default_str();
  ep->add_option("--experts", e_case.experts, "experts, all ranks together")->capture_default_str();
  ep->add_option("--k", e_case.k, "experts per token")->capture_default_str();
  ep->add_option("--capacity-factor", e_case.capacity_factor, "places per expert ceil(k T / E c); <= 0: dropless")
      ->capture_default_str();
  ep->add_option("--steps", e_case.steps, "timed steps, after one warm-up")->capture_default_str();
  ep->add_option("--seed", e_case.seed, "seed of the tokens and the weights")->capture_default_str();
  ep->add_option("--threads", e_threads, "OpenMP threads per rank (0: all cores)")->capture_default_str();
  ep->add_option("--device", e_case.device, "the compute backend of each rank's layer: cpu")->capture_default_str();
  ep->add_option("--precision", e_case.precision, "cpu: double (default) or float");
  ep->add_option("--csv", e_csv, "rank 0 writes the row here as CSV");
  ep->add_option("--hdf5", e_hdf5, "rank 0 writes the row here as HDF5 (/expert_parallel/<column>)");
  auto* tr = app.add_subcommand("train", "WORK IN PROGRESS: whole training steps of the sparse network on the "
                                         "compute backend, beside the backend's dense GEMMs of the same FLOPs");
  moe::TrainBenchCase t_case;
  tr->add_option("--tokens", t_case.tokens, "tokens (examples) per batch")->capture_default_str();
  tr->add_option("--inputs", t_case.inputs, "input features")->capture_default_str();
  tr->add_option("--d-model", t_case.model_dim, "d_model")->capture_default_str();
  tr->add_option("--d-ff", t_case.ff_dim, "d_ff")->capture_default_str();
  tr->add_option("--experts", t_case.experts, "experts")->capture_default_str();
  tr->add_option("--k", t_case.k, "experts per token")->capture_default_str();
  tr->add_option("--classes", t_case.classes, "classes")->capture_default_str();
  tr->add_option("--device", t_case.device, "cpu")->capture_default_str();
  tr->add_option("--precision", t_case.precision, "float or double")->capture_default_str();
  tr->add_option("--optimizer", t_case.optimizer, "adam or momentum")->capture_default_str();
  tr->add_option("--steps", t_case.steps, "timed steps after one warm-up")->capture_default_str();
  tr->add_option("--threads", threads, "OpenMP threads (0: all cores)")->capture_default_str();
  moe::cli::check_number_options(*lm);
  moe::cli::check_number_options(*sparse);
  moe::cli::check_number_options(*ep);
  moe::cli::add_version_flag(app);
  return moe::cli::run(app, argc, argv, [&] {
    if (ep->parsed()) {
      moe::set_threads(e_threads);
      // A build without MPI runs one process (P = 1): the exchange path against the single-process layer.
      std::unique_ptr<moe::MpiSession> session;
      std::unique_ptr<moe::Communicator> comm;
      if (moe::mpi_built()) {
        session = std::make_unique<moe::MpiSession>();
        comm = moe::make_world_communicator();
      } else {
        std::fprintf(stderr, "moe-bench: note: this build has no MPI: one process (P = 1)\n");
        comm = std::make_unique<moe::SelfCommunicator>();
      }
      moe::check_case(e_case, std::size_t(comm->size()));  // on every rank, before any collective
      moe::ExpertParallelBenchRow r;
      try {
        r = moe::run_expert_parallel_bench(*comm, e_case);
      } catch (const std::exception& e) {  // one rank failing alone would leave the others waiting: end all
        if (!session) throw;
        std::fprintf(stderr, "moe-bench: error: %s (rank %d of %d; ending every rank)\n", e.what(), comm->rank(),
                     comm->size());
        std::fflush(stderr);
        moe::MpiSession::abort(1);
      }
      if (comm->rank() != 0) return;
      std::printf("%5s %7s %7s %5s %5s %4s %2s | %9s %9s %9s %10s %9s %9s\n", "ranks", "threads", "tokens", "d",
                  "d_ff", "E", "k", "step ms", "comm ms", "single ms", "tokens/s", "GF/s/rank", "dense GF/s");
      std::printf("%5zu %7zu %7zu %5zu %5zu %4zu %2zu | %9.2f %9.2f %9.2f %10.0f %9.2f %9.2f\n", r.ranks, r.threads,
                  r.c.tokens, r.c.model_dim, r.c.ff_dim, r.c.experts, r.c.k, r.step_seconds * 1e3,
                  r.comm_seconds * 1e3, r.single_seconds * 1e3, r.tokens_per_second(), r.rate_per_rank() * 1e-9,
                  r.dense_gemm_rate * 1e-9);
      std::printf("load (columns per rank's experts):");
      for (const double t : r.rank_tokens) std::printf(" %.0f", t);
      std::printf("; comm ms per rank:");
      for (const double t : r.rank_comm_seconds) std::printf(" %.2f", t * 1e3);
      std::printf("\n");
      if (!e_csv.empty()) moe::write_expert_parallel_csv(e_csv, r);
      if (!e_hdf5.empty()) moe::write_expert_parallel_hdf5(e_hdf5, r);
      return;
    }
    if (tr->parsed()) {
      moe::set_threads(threads);
      const moe::TrainBenchRow r = moe::run_train_bench(t_case);
      std::printf("train %s-%s threads %d: T %zu d_in %zu D %zu F %zu E %zu k %zu: %.3f ms/step, %.0f tokens/s, "
                  "%.1f GFLOP/s; dense same FLOPs %.3f ms (%.1f GFLOP/s), fraction %.2f; loss %.4f -> %.4f\n",
                  t_case.device.c_str(), t_case.precision.c_str(), moe::max_threads(), r.c.tokens, r.c.inputs,
                  r.c.model_dim, r.c.ff_dim, r.c.experts, r.c.k, 1e3 * r.step_seconds, double(r.c.tokens) / r.step_seconds,
                  1e-9 * r.flops / r.step_seconds, 1e3 * r.dense_seconds, 1e-9 * r.flops / r.dense_seconds,
                  r.dense_seconds / r.step_seconds, r.loss_first, r.loss_last);
      return;
    }
    if (sparse->parsed()) {
      moe::set_threads(threads);
      // Every setting of the grid is checked before the first case runs: no partial table on bad input.
      moe::check_options(s_opt);
      std::vector<moe::SparseBenchCase> cases;
      for (std::size_t T : s_tokens)
        for (std::size_t d : s_dmodel)
          for (std::size_t f : s_dff)
            for (std::size_t E : s_experts)
              for (std::size_t k : s_k)
                for (double imbalance : s_imbalance) cases.push_back({T, d, f, E, k, imbalance});
      for (const moe::SparseBenchCase& c : cases) moe::check_case(c);
      std::vector<moe::SparseBenchRow> rows;
      std::printf("%-5s %-6s %6s %5s %5s %4s %2s %5s %8s | %9s %9s %6s | %9s %9s %6s\n", "dev", "prec", "tokens",
                  "d", "d_ff", "E", "k", "imbal", "max/mean", "fwd ms", "fwd rate", "dense", "f+b ms", "f+b rate",
                  "dense");
      for (const moe::SparseBenchCase& c : cases) {
        const moe::SparseBenchRow r = moe::run_sparse_bench(c, s_opt);
        const double unit = r.device == "cuda" ? 1e-12 : 1e-9;  // TFLOP/s on the GPU, GFLOP/s on the CPU
        std::printf("%-5s %-6s %6zu %5zu %5zu %4zu %2zu %5.2f %8.2f | %9.3f %9.1f %6.2f | %9.3f %9.1f %6.2f\n",
                    r.device.c_str(), r.precision.c_str(), c.tokens, c.model_dim, c.ff_dim, c.experts, c.k,
                    c.imbalance, r.max_over_mean_load, r.forward_seconds * 1e3, r.forward_rate() * unit,
                    r.forward_fraction(), r.training_seconds * 1e3, r.training_rate() * unit, r.training_fraction());
        std::fflush(stdout);
        rows.push_back(r);
      }
      std::printf("rates in %s; 'dense': the fraction of the rate of dense GEMMs of the same FLOPs in this run "
                  "(%s); threads %d\n",
                  s_opt.device == "cuda" ? "TFLOP/s" : "GFLOP/s",
                  s_opt.device == "cuda" ? "cuBLAS, same precision"
                                          : "the faster of OpenBLAS's own threads and OpenMP row blocks", moe::max_threads());
      if (!s_csv.empty()) moe::write_sparse_bench_csv(s_csv, rows);
      if (!s_hdf5.empty()) moe::write_sparse_bench_hdf5(s_hdf5, rows);
      return;
    }
    moe::set_threads(threads);
    double epoch_seconds = -1.0;
    std::size_t train_tokens = 0;
    if (!data.path.empty()) {
      // The same streams as moe-train (run_train_job): split 1, initialisation 2, training 3.
      moe::Rng root(seed);
      moe::Rng split_rng = root.stream(1), init_rng = root.stream(2), train_rng = root.stream(3);
      moe::PreparedData prepared = moe::prepare_data(data, split_rng);
      spec.task = prepared.train.task;
      spec.inputs = prepared.train.d();
      spec.outputs = prepared.train.m();
      spec.context_vocabulary = prepared.context_vocabulary;
      spec.tokenizer = prepared.tokenizer;
      spec.head = head;
      spec.experts = K;
      spec.hidden = H;
      spec.projection = d;
      spec.validate();
      train.batch_size = N;
      train.criterion_metric = "perplexity";
      train.validate(prepared.train.is_classification());
      auto model = moe::make_model(spec);
      model->init(init_rng);
      const moe::TrainResult r =
          moe::train(*model, prepared.train.X, prepared.train.Y, arma::mat(), arma::mat(),
                     prepared.train.is_classification(), train, train_rng);
      epoch_seconds = r.seconds / double(train.epochs);
      train_tokens = prepared.train.n();
      V = spec.outputs;
      std::printf("training epoch on %s: %zu tokens, V %zu, context %zu, embedding %zu, hidden %zu: %.2f s / epoch "
                  "(mean of %zu; training loss %.4f)\n",
                  data.path.c_str(), train_tokens, V, std::size_t(spec.inputs), std::size_t(spec.embedding), H,
                  epoch_seconds, train.epochs, r.history.loss.empty() ? 0.0 : r.history.loss.back());
    }
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
    // The machine's rate: one plain dgemm V x d x cols on one core, times the threads the layer used.
    const double plain_rate = flops / 3.0 / plain, machine_rate = plain_rate * double(moe::max_threads());
    std::printf("one plain dgemm V x d x cols on one core: %.2f GFLOP/s\n", plain_rate * 1e-9);
    std::printf("fraction of the same-run GEMM rate (same-shape blocked GEMMs): %.2f\n", gemm / layer);
    std::printf("fraction of the same-run plain dgemm rate x %d threads: %.2f\n", moe::max_threads(),
                flops / layer / machine_rate);
    if (epoch_seconds >= 0.0) {
      const double batches = std::ceil(double(train_tokens) / double(N));
      std::printf("summary: %.2f s / epoch; output layer %.2f of the same-shape GEMMs' rate and %.2f of the plain "
                  "dgemm rate x threads (same run), %.0f%% of the epoch (%.0f batches x %.3f ms)\n",
                  epoch_seconds, gemm / layer, flops / layer / machine_rate,
                  100.0 * batches * layer / epoch_seconds, batches, 1e3 * layer);
    }
  });
}
