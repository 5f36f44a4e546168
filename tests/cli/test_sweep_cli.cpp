// experiments/lib/sweep.py, the sweep runner of the studies: a 2 x 2 grid of moe-train runs on the vowel
// fixture runs completely; after one result is deleted and a stale temporary file (what a killed run
// leaves) is planted, a second run redoes exactly that run and leaves the others' files untouched; the
// Slurm export lists every run; bad manifests are one-line errors. Also the studies' shape checks, through
// experiments/lib/test_checks.py (synthetic result folders that must pass, and fail on the named check).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <vector>

#include "cli/run_command.hpp"

using moe::test::count_lines;
using moe::test::run_command;
using moe::test::TempDir;

namespace {

const std::string repo = std::string(MOE_FIXTURES) + "/../..";
const std::string fixture = std::string(MOE_FIXTURES) + "/vowels_small.csv";

std::string sweep(const std::string& manifest, const std::string& action) {
  const std::string bin = std::filesystem::path(MOE_TRAIN_BIN).parent_path().string();
  return "MOE_BIN=" + bin + " /usr/bin/python3 " + repo + "/experiments/lib/sweep.py " + manifest + " " + action;
}

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

}  // namespace

TEST_CASE("sweep: a grid runs, an interrupted sweep redoes only what was not finished, Slurm export") {
  TempDir dir("sweep");
  const std::string manifest = dir / "m.toml", out = dir / "runs";
  write(manifest, "program = \"moe-train\"\nout = \"" + out + "\"\nname = \"k{experts}-s{seed}\"\n[flags]\n"
                  "data = \"" + fixture + "\"\nfeatures = \"F1,F2\"\ntarget = \"Vowel\"\n"
                  "filter = \"Vowel=iy,ih,aa,ah\"\ngroup = \"Speaker\"\ntrain-groups = 8\ntest-groups = 4\n"
                  "epochs = 3\nquiet = true\n[grid]\nexperts = [2, 3]\nseed = [1, 2]\n");
  const auto listed = run_command(sweep(manifest, "list"));
  REQUIRE(listed.status == 0);
  CHECK(count_lines(listed.out) == 4);
  CHECK(listed.out.find("--experts 3 --seed 2 -o " + out + "/k3-s2.h5") != std::string::npos);

  const auto first = run_command(sweep(manifest, "run --jobs 2"));
  REQUIRE(first.status == 0);
  CHECK(first.err.find("4 runs, 0 complete, 4 to run") != std::string::npos);
  CHECK(first.err.find("[4/4]") != std::string::npos);
  const std::string names[] = {"k2-s1", "k2-s2", "k3-s1", "k3-s2"};
  std::map<std::string, std::filesystem::file_time_type> written;
  for (const auto& n : names) {
    REQUIRE(std::filesystem::exists(out + "/" + n + ".h5"));
    written[n] = std::filesystem::last_write_time(out + "/" + n + ".h5");
  }
  // As if the sweep had been killed during k3-s1: its result missing, a temporary file left behind.
  std::filesystem::remove(out + "/k3-s1.h5");
  write(out + "/k3-s1.h5.tmp-99999", "half a file");
  const auto second = run_command(sweep(manifest, "run"));
  REQUIRE(second.status == 0);
  CHECK(second.err.find("4 runs, 3 complete, 1 to run") != std::string::npos);
  CHECK(second.err.find("[1/1] k3-s1: done") != std::string::npos);
  CHECK(std::filesystem::exists(out + "/k3-s1.h5"));
  CHECK_FALSE(std::filesystem::exists(out + "/k3-s1.h5.tmp-99999"));
  for (const auto& n : names)
    if (n != "k3-s1") CHECK(std::filesystem::last_write_time(out + "/" + n + ".h5") == written[n]);

  // The same folder with other epochs: every file was made by another command, so every run is redone.
  const auto longer = run_command(sweep(manifest, "run --jobs 2 --set epochs=4"));
  REQUIRE(longer.status == 0);
  CHECK(longer.err.find("4 runs, 0 complete, 4 to run, 2 at a time (4 of them complete but made by another "
                        "command") != std::string::npos);
  const auto again = run_command(sweep(manifest, "run --set epochs=4"));
  REQUIRE(again.status == 0);
  CHECK(again.err.find("4 runs, 4 complete, 0 to run") != std::string::npos);

  const auto exported = run_command(sweep(manifest, "slurm"));
  REQUIRE(exported.status == 0);
  std::ifstream script(out + "/sweep.sbatch");
  const std::string text((std::istreambuf_iterator<char>(script)), std::istreambuf_iterator<char>());
  CHECK(text.find("#SBATCH --array=1-4") != std::string::npos);
  std::ifstream commands(out + "/commands.txt");
  const std::string lines((std::istreambuf_iterator<char>(commands)), std::istreambuf_iterator<char>());
  CHECK(count_lines(lines) == 4);
  CHECK(lines.find("test -e " + out + "/k2-s1.h5 || ") != std::string::npos);
}

TEST_CASE("sweep: named settings and --set overrides expand to the expected commands") {
  TempDir dir("sweepset");
  const std::string manifest = dir / "m.toml", out = dir / "runs";
  write(manifest, "program = \"moe-train\"\nout = \"" + out + "\"\nname = \"{setting}-s{seed}\"\n[flags]\n"
                  "epochs = 10\nrouter = \"topk\"\n[settings.dense]\nexperts = 1\n[settings.switch]\n"
                  "router = \"switch\"\nexperts = 8\n[grid]\nsetting = [\"dense\", \"switch\"]\nseed = [1, 2, 3]\n");
  const auto all = run_command(sweep(manifest, "list"));
  REQUIRE(all.status == 0);
  CHECK(count_lines(all.out) == 6);
  // A bundle's flag replaces the fixed flag of the same name, in the fixed flag's place.
  CHECK(all.out.find("--epochs 10 --router switch --experts 8 --seed 2 -o " + out + "/switch-s2.h5\n") !=
        std::string::npos);
  CHECK(all.out.find("--epochs 10 --router topk --experts 1 --seed 3 -o " + out + "/dense-s3.h5\n") !=
        std::string::npos);
  // Quick mode: one seed, fewer epochs, a flag the manifest does not have, another output folder.
  const auto quick = run_command(sweep(manifest, "list --set seed=7 --set epochs=2 --set threads=1 --set "
                                                 "setting=switch --out " + (dir / "quick")));
  REQUIRE(quick.status == 0);
  CHECK(quick.out.find("--epochs 2 --router switch --threads 1 --experts 8 --seed 7 -o " + (dir / "quick") +
                       "/switch-s7.h5\n") != std::string::npos);
  CHECK(count_lines(quick.out) == 1);
  const auto bad = run_command(sweep(manifest, "list --set epochs=1,2"));
  CHECK(bad.status == 2);
  CHECK(bad.err == "sweep: error: --set 'epochs=1,2': 'epochs' is not a grid key, so it takes one value\n");
  const auto unnamed = run_command(sweep(manifest, "list --set setting=dense,moe"));
  CHECK(unnamed.status == 2);
  CHECK(count_lines(unnamed.err) == 1);
  CHECK(unnamed.err.find("grid 'setting' names 'moe'") != std::string::npos);
}

TEST_CASE("sweep: stopped by SIGTERM mid-run, it exits 130 and a second start redoes only what did not finish") {
  TempDir dir("sweepkill");
  const std::string manifest = dir / "m.toml", out = dir / "runs";
  // Four runs of about a second each, one at a time, so the signal lands while one is training.
  write(manifest, "program = \"moe-train\"\nout = \"" + out + "\"\nname = \"s{seed}\"\n[flags]\n"
                  "data = \"" + fixture + "\"\nfeatures = \"F1,F2\"\ntarget = \"Vowel\"\n"
                  "model = \"mlp\"\nhidden = 64\nepochs = 1000\nbatch-size = 0\nthreads = 1\nquiet = true\n"
                  "[grid]\nseed = [1, 2, 3, 4]\n");
  const std::string first_result = out + "/s1.h5";
  const auto stopped = run_command(
      "(" + sweep(manifest, "run") + " 2>'" + (dir / "first.err") + "' & pid=$!; for i in $(seq 1200); do "
      "[ -e '" + first_result + "' ] && break; sleep 0.05; done; sleep 0.3; kill -TERM $pid; wait $pid; "
      "echo $?)");
  REQUIRE(stopped.status == 0);
  CHECK(stopped.out == "130\n");
  const std::string first_err = moe::test::slurp(dir / "first.err");
  CHECK(first_err.find("[1/4] s1: done") != std::string::npos);
  CHECK(first_err.find("sweep: error: interrupted: ") != std::string::npos);
  REQUIRE(std::filesystem::exists(first_result));
  std::map<std::string, std::filesystem::file_time_type> kept;
  int complete = 0;
  for (const std::string n : {"s1", "s2", "s3", "s4"})
    if (std::filesystem::exists(out + "/" + n + ".h5")) {
      ++complete;
      kept[n] = std::filesystem::last_write_time(out + "/" + n + ".h5");
    }
  CHECK(complete < 4);  // the signal came mid-sweep: something is left to do
  CHECK(first_err.find("interrupted: " + std::to_string(complete) + " of 4 runs complete") != std::string::npos);
  // The run the signal stopped wrote a checkpoint (unless the signal came before moe-train had set up its
  // handlers, which the 0.3 s wait makes unlikely but not impossible): the sweep says so.
  std::vector<std::string> checkpoints;
  for (const std::string n : {"s1", "s2", "s3", "s4"})
    if (std::filesystem::exists(out + "/" + n + ".h5.ckpt")) checkpoints.push_back(n);
  CHECK(checkpoints.size() <= 1);  // one run at a time
  if (!checkpoints.empty())
    CHECK(first_err.find("(1 continue from the checkpoint they wrote when stopped)") != std::string::npos);

  const auto resumed = run_command(sweep(manifest, "run --jobs 2"));
  REQUIRE(resumed.status == 0);
  CHECK(resumed.err.find("4 runs, " + std::to_string(complete) + " complete, " + std::to_string(4 - complete) +
                         " to run") != std::string::npos);
  for (const auto& [n, t] : kept) CHECK(std::filesystem::last_write_time(out + "/" + n + ".h5") == t);
  for (const auto& entry : std::filesystem::directory_iterator(out)) {
    CHECK(entry.path().string().find(".tmp-") == std::string::npos);
    CHECK(entry.path().extension() != ".ckpt");  // the resumed run finished and removed its checkpoint
  }
  for (const std::string& n : checkpoints) {
    CHECK(resumed.err.find("1 of them stopped mid-way and continue from their checkpoint") != std::string::npos);
    // The resumed run continued (moe-train's --resume): its log has no "starting from epoch 1" note, and
    // the sweep counts its result as the run's own.
    CHECK(moe::test::slurp(out + "/" + n + ".log").find("no checkpoint") == std::string::npos);
  }
  const auto again = run_command(sweep(manifest, "run"));
  REQUIRE(again.status == 0);
  CHECK(again.err.find("4 runs, 4 complete, 0 to run") != std::string::npos);
  for (const std::string n : {"s1", "s2", "s3", "s4"}) CHECK(std::filesystem::exists(out + "/" + n + ".h5"));
}

TEST_CASE("sweep: bad manifests are one-line errors with exit code 2") {
  TempDir dir("sweepbad");
  const std::string manifest = dir / "m.toml";
  const std::pair<std::string, std::string> cases[] = {
      {"program = \"moe-train\"\nout = \"x\"\n", "sweep: error: manifest '" + manifest + "': [grid] must list at least one flag\n"},
      {"program = \"moe-train\"\nout = \"x\"\ncolour = 1\n[grid]\nseed = [1]\n",
       "sweep: error: manifest '" + manifest + "': unknown key 'colour' (expected program, out, name, flags, settings, grid)\n"},
      {"program = \"moe-train\"\nout = \"x\"\n[grid]\nseed = []\n",
       "sweep: error: manifest '" + manifest + "': grid 'seed' must be a non-empty list\n"},
      {"program = \"moe-train\"\nout = \"x\"\nname = \"s{seed}\"\n[grid]\nseed = [1]\nexperts = [2, 3]\n",
       "sweep: error: manifest '" + manifest + "': two runs are both named 's1': the name template must use every grid flag\n"},
      {"program = \"moe-train\"\nout = \"x\"\n[settings.a]\nexperts = 2\n[grid]\nsetting = [\"a\", \"b\"]\n",
       "sweep: error: manifest '" + manifest + "': grid 'setting' names 'b', which is not in [settings] (there: a)\n"},
      {"program = \"moe-train\"\nout = \"x\"\n[settings.a]\nexperts = 2\n[grid]\nseed = [1]\n",
       "sweep: error: manifest '" + manifest + "': [settings] are given but the grid has no 'setting' key to choose among them\n"},
  };
  // .first / .second, not a structured binding: clang 14 (scripts/tsan.sh) cannot capture one in CAPTURE.
  for (const auto& bad_case : cases) {
    const std::string &text = bad_case.first, &message = bad_case.second;
    CAPTURE(text);
    write(manifest, text);
    const auto r = run_command(sweep(manifest, "list"));
    CHECK(r.status == 2);
    CHECK(r.err == message);
    CHECK(count_lines(r.err) == 1);
  }
  const auto missing = run_command(sweep(dir / "none.toml", "list"));
  CHECK(missing.status == 2);
  CHECK(missing.err == "sweep: error: manifest '" + (dir / "none.toml") + "' does not exist\n");
}

TEST_CASE("study shape checks (check.py) pass on synthetic results of the right shape and fail on the wrong one") {
  const auto r = run_command("/usr/bin/python3 " + repo + "/experiments/lib/test_checks.py");
  CHECK(r.status == 0);
  CHECK(r.out == "ok\n");
  CHECK(r.err.empty());
}
