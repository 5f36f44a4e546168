// moe-train stopped for real and resumed: killed with SIGKILL after a periodic checkpoint, or stopped by
// SIGINT / SIGTERM (which write a checkpoint and exit with 128 + the signal), then rerun with --resume:
// the results file equals an uninterrupted run's in every dataset (wall-clock seconds aside).
#include <doctest/doctest.h>

#include <filesystem>

#include "cli/compare_results.hpp"
#include "cli/run_command.hpp"
#include "moe/h5/hdf5.hpp"

using namespace moe;
using moe::test::check_same_results;
using moe::test::run_command;
using moe::test::TempDir;

namespace {

// A sparse model with noisy routing, minibatch Adam: training state in the optimiser, the generator,
// the layer's noise step and its routing log. About 2 s on one core (longer under sanitizers).
std::string train_command(const std::string& data, const std::string& out, const std::string& extra,
                          const std::string& experts = "4", const std::string& epochs = "150") {
  return std::string(MOE_TRAIN_BIN) + " --data " + data + " --features x1,x2,x3 --target y --task regression "
         "--model sparse --router noisy-topk --experts " + experts + " --epochs " + epochs +
         " --top-k 2 --d-model 8 --d-ff 8 --optimizer adam --learning-rate 0.01 --batch-size 16 --valid-fraction 0.2 --seed 4 --threads 1 --quiet -o " +
         out + " " + extra;
}

std::string make_data(const TempDir& dir) {
  const std::string data = dir / "data.csv";
  REQUIRE(run_command(std::string(MOE_DATA_BIN) + " generate linear-mixture --n 1500 --inputs 3 --experts 3 "
                      "--seed 2 --out " + data).status == 0);
  return data;
}

// Starts `command` in the background, waits until `file` exists (or the command ends), sleeps `delay`
// seconds, sends `signal` and reports the command's exit status ("exited N" / "killed N").
test::CommandResult interrupt(const std::string& command, const std::string& file, const std::string& signal,
                              const std::string& delay) {
  return run_command("bash -c '" + command + " & pid=$!; while kill -0 $pid 2>/dev/null && [ ! -e " + file +
                     " ]; do sleep 0.01; done; sleep " + delay + "; kill -" + signal +
                     " $pid; wait $pid; echo status $?'");
}

}  // namespace

TEST_CASE("cli: moe-train killed by SIGKILL after a checkpoint, rerun with --resume, equals the uninterrupted run") {
  TempDir dir("ckpt-kill");
  const std::string data = make_data(dir), whole = dir / "whole.h5", out = dir / "out.h5";
  auto r = run_command(train_command(data, whole, "--checkpoint-every 5"));
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(!std::filesystem::exists(whole + ".ckpt"));  // removed once the results were written

  r = interrupt(train_command(data, out, "--checkpoint-every 5"), out + ".ckpt", "KILL", "0.3");
  INFO(r.out, r.err);
  REQUIRE(r.out.find("status 137") != std::string::npos);  // the kill landed before the run finished
  CHECK(!std::filesystem::exists(out));
  REQUIRE(std::filesystem::exists(out + ".ckpt"));
  const auto saved_epoch = h5::File::open(out + ".ckpt").read_uvec("checkpoint/loop/epoch")(0);
  CHECK(saved_epoch % 5 == 1);  // after epoch 5, 10, ...: it resumes with the next one
  CHECK(saved_epoch < 150);

  r = run_command(train_command(data, out, "--checkpoint-every 5 --resume"));
  INFO(r.err);
  REQUIRE(r.status == 0);
  // It continued from the checkpoint (not a fresh run that happens to give the same file).
  CHECK(r.err.find("moe-train: note: resumed from " + out + ".ckpt in epoch " + std::to_string(saved_epoch) + "\n") !=
        std::string::npos);
  CHECK(!std::filesystem::exists(out + ".ckpt"));
  CHECK(check_same_results(whole, out) > 20);
  CHECK(h5::File::open(out).attr_int("routing", "steps") == h5::File::open(whole).attr_int("routing", "steps"));
}

TEST_CASE("cli: moe-train stopped by SIGINT or SIGTERM writes a checkpoint, exits 130 / 143, and resumes exactly") {
  TempDir dir("ckpt-int");
  const std::string data = make_data(dir), whole = dir / "whole.h5";
  REQUIRE(run_command(train_command(data, whole, "")).status == 0);
  for (const auto& stop : {std::pair<std::string, int>{"INT", 130}, {"TERM", 143}}) {
    const std::string signal = stop.first;  // not a structured binding: clang 14 cannot capture one (CAPTURE)
    const int status = stop.second;
    CAPTURE(signal);
    const std::string out = dir / (signal + ".h5");
    // The signal comes 0.2 s after the first periodic checkpoint (epoch 20 of 150, ~0.3 s into a ~2 s run):
    // by then the handlers are installed for sure, and the stop lands mid-run, mostly inside an epoch.
    auto r = interrupt(train_command(data, out, "--checkpoint-every 20"), out + ".ckpt", signal, "0.2");
    INFO(r.out, r.err);
    REQUIRE(r.out.find("status " + std::to_string(status)) != std::string::npos);
    CHECK(r.err.find("moe-train: stopped by SIG" + signal + " in epoch ") != std::string::npos);
    CHECK(r.err.find("rerun with --resume to continue") != std::string::npos);
    CHECK(test::count_lines(r.err) == 1);
    CHECK(!std::filesystem::exists(out));
    REQUIRE(std::filesystem::exists(out + ".ckpt"));
    for (const auto& entry : std::filesystem::directory_iterator(dir.path))  // no temporaries left behind
      CHECK(entry.path().string().find(".tmp-") == std::string::npos);

    const auto stopped_epoch = h5::File::open(out + ".ckpt").read_uvec("checkpoint/loop/epoch")(0);
    r = run_command(train_command(data, out, "--checkpoint-every 20 --resume"));
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(r.err.find("moe-train: note: resumed from " + out + ".ckpt in epoch " + std::to_string(stopped_epoch)) !=
          std::string::npos);
    CHECK(check_same_results(whole, out) > 20);
    CHECK(!std::filesystem::exists(out + ".ckpt"));
  }
}

TEST_CASE("cli: --resume refuses a checkpoint of other settings and names the difference, and without one it starts afresh") {
  TempDir dir("ckpt-other");
  const std::string data = make_data(dir), out = dir / "out.h5";
  auto r = interrupt(train_command(data, out, "--checkpoint-every 20"), out + ".ckpt", "INT", "0.1");
  REQUIRE(std::filesystem::exists(out + ".ckpt"));
  r = run_command(train_command(data, out, "--checkpoint-every 20 --resume", "5"));
  CHECK(r.status == 1);
  CHECK(r.err.find("belongs to a run with other settings ('experts=4' there, 'experts=5' here)") != std::string::npos);
  CHECK(test::count_lines(r.err) == 1);
  CHECK(!std::filesystem::exists(out));
  // --epochs may differ (to train longer); a missing checkpoint with --resume is a fresh start, said once.
  r = run_command(train_command(data, dir / "fresh.h5", "--resume", "4", "2"));
  CHECK(r.status == 0);
  CHECK(r.err.find("no checkpoint at") != std::string::npos);
  r = run_command(train_command(data, out, "--checkpoint-every 20 --resume", "4", "3"));
  CHECK(r.status == 1);
  CHECK(r.err.find("epochs already; --epochs 3 would end before it") != std::string::npos);
  r = run_command(train_command(data, out, "--checkpoint-every 20 --resume", "4", "160"));
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(!std::filesystem::exists(out + ".ckpt"));
}

TEST_CASE("cli: --resume with a broken checkpoint gives one error line naming the entry, and keeps the file") {
  TempDir dir("ckpt-broken");
  const std::string data = make_data(dir), out = dir / "out.h5", pristine = dir / "pristine.ckpt";
  // A checkpoint of a run stopped mid-epoch (SIGTERM 0.2 s after its first periodic checkpoint).
  auto r = interrupt(train_command(data, out, "--checkpoint-every 20"), out + ".ckpt", "TERM", "0.2");
  INFO(r.out, r.err);
  REQUIRE(r.out.find("status 143") != std::string::npos);
  std::filesystem::rename(out + ".ckpt", pristine);
  struct Breakage {
    std::string what, python, needle;  // python: edits the h5py File `f`
  };
  const std::vector<Breakage> breakages = {
      {"parameter missing", "del f['checkpoint/model/params/embed/W']", "checkpoint entry 'model/params/embed/W' is missing"},
      {"parameter of another shape", "del f['checkpoint/model/params/output/b']; f['checkpoint/model/params/output/b'] = "
                                     "numpy.zeros((5, 5))", "checkpoint entry 'model/params/output/b' is 5x5"},
      {"epoch as text", "del f['checkpoint/loop/epoch']; f['checkpoint/loop/epoch'] = numpy.array([b'ten'])", "loop/epoch"},
      {"row beyond the epoch", "f['checkpoint/loop/next'][0] = 10**6", "resumes at row 1000000 of an epoch"},
      // (1200 training rows: 1500 less the validation fifth; the stop may have come between epochs, when the
      // checkpoint holds no order, so one is written)
      {"order not a permutation", "del f['checkpoint/loop/order']; f['checkpoint/loop/order'] = numpy.zeros((1, 1200)); "
                                  "f['checkpoint/loop/next'][0] = 5", "not a permutation of the 1200 rows"},
      {"no checkpoint group", "del f['checkpoint']; f['other'] = numpy.zeros(2)", "is not a moekit checkpoint"},
  };
  for (const Breakage& b : breakages) {
    CAPTURE(b.what);
    const std::string broken = dir / "broken.ckpt";
    std::filesystem::copy_file(pristine, broken, std::filesystem::copy_options::overwrite_existing);
    REQUIRE(run_command("/usr/bin/python3 -c \"import h5py, numpy; f = h5py.File('" + broken + "', 'a'); " + b.python +
                        "; f.close()\"").status == 0);
    const auto before = std::filesystem::file_size(broken);
    r = run_command(train_command(data, out, "--checkpoint-every 20 --resume --checkpoint " + broken));
    CAPTURE(r.err);
    CHECK(r.status != 0);
    CHECK(r.status < 128);
    CHECK(test::count_lines(r.err) == 1);
    CHECK(r.err.rfind("moe-train: error: ", 0) == 0);
    CHECK(r.err.find(b.needle) != std::string::npos);
    CHECK(!std::filesystem::exists(out));
    CHECK(std::filesystem::file_size(broken) == before);  // left as it was, for the user to look at
  }
}
