// moe-train --expert-parallel under mpirun: a run with its experts spread over 2 (and 1, and 4)
// processes follows the one-process run step for step: the same per-step routing statistics and
// auxiliary losses, the same loss per epoch, the same trained model and evaluations, up to rounding.
// Skipped in a build without MPI.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "cli/compare_results.hpp"
#include "cli/run_command.hpp"
#include "moe/h5/hdf5.hpp"
#include "moe/backend/cuda_sparse_ffn.hpp"

using namespace moe;
using moe::test::run_command;
using moe::test::TempDir;

namespace {

std::string train_command(const std::string& data, const std::string& out) {
  // Top-2 of 4 experts with a capacity factor of 1 (slots dropped in training), the Switch and z losses,
  // Adam on minibatches of 50 (with 4 ranks, shares of 13, 13, 12, 12 tokens).
  return std::string(MOE_TRAIN_BIN) + " --data " + data + " --features x1,x2,x3 --target y --task regression "
         "--model sparse --router topk --experts 4 --top-k 2 --capacity-factor 1 --switch-alpha 0.01 "
         "--z-loss 0.001 --d-model 8 --d-ff 12 --epochs 6 --optimizer adam --learning-rate 0.01 --batch-size 50 "
         "--valid-fraction 0.2 --test-fraction 0.2 --seed 3 --threads 1 --quiet -o " + out;
}

const std::vector<std::string> per_rank = {"routing/rank_load", "routing/rank_comm_seconds", "routing/rank_experts",
                                           "routing@ranks", "/@expert_parallel_ranks"};

}  // namespace

#ifdef MOE_MPIEXEC
namespace {

// `mpirun -np ` with what every run here needs: root allowed (CI runs as root), one OpenMP thread per rank,
// and, in the sanitizer build, no leak report: OpenMPI unloads its plugins (dlclose) at MPI_Finalize, so
// LeakSanitizer sees their one-off allocations from an unknown module that no suppression can name.
// ASan's and UBSan's other reports still fail the test; our code's leaks are checked by the thread-rank
// tests of the same paths (tests/sparse/test_moe_layer_parallel.cpp).
std::string mpirun(const std::string& prefix = "") {
  return "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 "
         "ASAN_OPTIONS=\"$ASAN_OPTIONS:detect_leaks=0\" " + prefix + std::string(MOE_MPIEXEC) +
         " --oversubscribe -np ";
}

}  // namespace

TEST_CASE("cli moe-train --expert-parallel: 1, 2 and 4 processes follow the one-process run step for step") {
  TempDir dir("epcli");
  const std::string data = dir / "data.csv";
  REQUIRE(run_command(std::string(MOE_DATA_BIN) + " generate linear-mixture --n 500 --inputs 3 --experts 3 "
                      "--seed 2 --out " + data).status == 0);
  const std::string single = dir / "single.h5";
  auto r = run_command(train_command(data, single));
  INFO(r.err);
  REQUIRE(r.status == 0);
  for (const int ranks : {1, 2, 4}) {
    CAPTURE(ranks);
    const std::string out = dir / ("ep" + std::to_string(ranks) + ".h5");
    r = run_command(mpirun() + std::to_string(ranks) + " " + train_command(data, out) + " --expert-parallel");
    INFO(r.out, r.err);
    REQUIRE(r.status == 0);
    // Every rank reports its load; only rank 0's file exists, no temporaries are left.
    for (int k = 0; k < ranks; ++k)
      CHECK(r.err.find("rank " + std::to_string(k) + " of " + std::to_string(ranks) + ": experts") != std::string::npos);
    for (const auto& entry : std::filesystem::directory_iterator(dir.path))
      CHECK(entry.path().string().find(".tmp-") == std::string::npos);
    // Every dataset of the one-process run, the per-step routing included, within rounding.
    CHECK(test::check_same_results(single, out, 1e-9, per_rank) > 30);
    h5::File f = h5::File::open(out);
    const arma::mat load = f.read_matrix("routing/rank_load"), experts = f.read_matrix("routing/rank_experts");
    const arma::mat routed = h5::File::open(single).read_matrix("routing/load");
    REQUIRE(load.n_rows == arma::uword(ranks));
    REQUIRE(load.n_cols == routed.n_cols);
    // Each step, the ranks' loads add up to the batch's kept slots; rank r holds experts [first, first + n).
    CHECK(arma::approx_equal(arma::sum(load, 0), arma::sum(routed, 0), "absdiff", 0.0));
    CHECK(arma::accu(experts.col(1)) == 4.0);
    CHECK(f.read_matrix("routing/rank_comm_seconds").min() >= 0.0);
  }
}

TEST_CASE("cli moe-train --expert-parallel refuses other models, checkpoints and more processes than experts") {
  TempDir dir("epbad");
  const std::string data = dir / "data.csv";
  REQUIRE(run_command(std::string(MOE_DATA_BIN) + " generate linear-mixture --n 100 --inputs 3 --experts 3 "
                      "--seed 2 --out " + data).status == 0);
  const std::string base = std::string(MOE_TRAIN_BIN) + " --data " + data + " --features x1,x2,x3 --target y "
                           "--task regression --epochs 1 --quiet --expert-parallel -o " + (dir / "x.h5");
  auto r = run_command(base + " --model mixture --experts 2");
  CHECK(r.status != 0);
  CHECK(r.err.find("--expert-parallel does not apply to --model mixture") != std::string::npos);
  r = run_command(base + " --model sparse --experts 2 --checkpoint-every 1");
  CHECK(r.status != 0);
  CHECK(r.err.find("take no checkpoints") != std::string::npos);
  r = run_command(mpirun() + "4 " + base + " --model sparse --experts 2");
  CHECK(r.status != 0);
  CHECK(r.err.find("at most as many processes as experts") != std::string::npos);
  r = run_command(mpirun() + "2 " + base + " --model sparse --router expert-choice --experts 2");
  CHECK(r.status != 0);
  CHECK(r.err.find("per-token router") != std::string::npos);
  // The layer's settings are refused before the run, not by MPI_Abort inside it.
  r = run_command(mpirun() + "1 " + base + " --model sparse --experts 2 --device cuda");
  CHECK(r.status != 0);
  CHECK(r.err.find("moe-train: error: unknown --device 'cuda' (expected cpu)") != std::string::npos);
  CHECK(r.err.find("MPI_ABORT") == std::string::npos);
  CHECK(!std::filesystem::exists(dir / "x.h5"));
  // An error on one rank alone (here: rank 1 cannot write its temporary results file) ends every rank with
  // it, instead of leaving rank 0 waiting in a collective: a clear line, a non-zero exit, no results file.
  const std::string same_flags = std::string(MOE_TRAIN_BIN) + " --data " + data + " --features x1,x2,x3 --target y "
                                 "--task regression --epochs 1 --quiet --expert-parallel --model sparse --experts 2 -o ";
  r = run_command(mpirun("timeout 120 ") + "1 " + same_flags + (dir / "x.h5") + " : -np 1 " + same_flags + (dir / "missing/x.h5"));
  INFO(r.err);
  CHECK(r.status != 0);
  CHECK(r.status != 124);  // not the timeout
  CHECK(r.err.find("moe-train: error: ") != std::string::npos);
  CHECK(r.err.find("(rank 1 of 2; ending every rank)") != std::string::npos);
  CHECK(!std::filesystem::exists(dir / "x.h5"));
}

TEST_CASE("cli moe-bench expert-parallel: a small run on 2 ranks writes its row, the load adding up to every slot") {
  TempDir dir("epbench");
  const std::string h5path = dir / "ep.h5", csv = dir / "ep.csv";
  const auto r = run_command(mpirun() + "2 " + MOE_BENCH_BIN +
                             " expert-parallel --tokens 301 --d-model 8 --d-ff 16 --experts 4 --k 2 --steps 2 "
                             "--hdf5 " + h5path + " --csv " + csv);
  INFO(r.out, r.err);
  REQUIRE(r.status == 0);
  CHECK(test::count_lines(r.out) == 3);  // rank 0 alone prints: header, row, loads
  h5::File f = h5::File::open(h5path);
  auto value = [&](const std::string& name) { return f.read_vector("expert_parallel/" + name)(0); };
  CHECK(value("ranks") == 2.0);
  CHECK(value("assignments") == 602.0);  // dropless: every token's 2 slots
  CHECK(arma::accu(f.read_vector("expert_parallel/rank_tokens")) == 602.0);
  CHECK(value("flops") == 12.0 * 8 * 16 * 602);
  CHECK(value("step_seconds") > 0.0);
  CHECK(value("comm_seconds") >= 0.0);
  CHECK(value("comm_seconds") <= value("step_seconds"));
  CHECK(value("single_process_seconds") == 0.0);  // only with one rank
  std::ifstream in(csv);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(test::count_lines(text) == 2);
  CHECK(text.rfind("device,precision,ranks,", 0) == 0);
  CHECK(text.find("\ncpu,double,2,") != std::string::npos);
}

TEST_CASE("cli moe-bench expert-parallel refuses an unknown device or precision before any collective") {
  const std::string base = mpirun() + "1 " + MOE_BENCH_BIN + " expert-parallel --tokens 64 --d-model 8 --d-ff 16 "
                                                             "--experts 4 --steps 1 ";
  auto r = run_command(base + "--device cuda");
  CHECK(r.status != 0);
  CHECK(r.err.find("moe-bench: error: unknown --device 'cuda' (expected cpu)") != std::string::npos);
  CHECK(r.err.find("MPI_ABORT") == std::string::npos);
  r = run_command(base + "--precision bf16");
  CHECK(r.status != 0);
  CHECK(r.err.find("--device cpu computes in float or double, not --precision bf16") != std::string::npos);
}
#endif
