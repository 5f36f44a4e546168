// -o and --checkpoint through the programs: a device, a FIFO, a directory or one of the run's input files
// is refused with one line before any work, and nothing is replaced; a symbolic link is written through
// (the link kept, its target replaced), as docs/usage.md documents.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "cli/run_command.hpp"

namespace fs = std::filesystem;
using moe::test::CommandResult;
using moe::test::count_lines;
using moe::test::run_command;
using moe::test::slurp;
using moe::test::TempDir;

namespace {

const std::string fixture = std::string(MOE_FIXTURES) + "/vowels_small.csv";

std::string train(const std::string& data, const std::string& out, const std::string& extra = "") {
  return std::string("timeout 60 ") + MOE_TRAIN_BIN + " --data '" + data + "' --features F1,F2 --target Vowel " +
         "--experts 2 --epochs 2 --quiet -o '" + out + "' " + extra;
}

void expect_refused(const CommandResult& r, const std::string& program, const std::string& needle) {
  CAPTURE(r.err);
  CHECK(r.status == 1);
  CHECK(count_lines(r.err) == 1);
  CHECK(r.err.rfind(program + ": error: ", 0) == 0);
  CHECK(r.err.find(needle) != std::string::npos);
}

bool is_hdf5(const std::string& path) { return slurp(path).rfind("\x89HDF\r\n\x1a\n", 0) == 0; }

}  // namespace

TEST_CASE("safe outputs: moe-train refuses a device, a FIFO and a directory as -o") {
  TempDir dir("safe");
  expect_refused(run_command(train(fixture, "/dev/null")), "moe-train", "cannot write /dev/null: it is a device");
  struct stat st {};
  REQUIRE(::stat("/dev/null", &st) == 0);
  CHECK(S_ISCHR(st.st_mode));  // still the device
  REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
  expect_refused(run_command(train(fixture, dir / "fifo")), "moe-train", "it is a FIFO");
  CHECK(fs::is_fifo(dir / "fifo"));
  fs::create_directory(dir / "sub");
  expect_refused(run_command(train(fixture, dir / "sub")), "moe-train", "it is a directory");
  CHECK(fs::is_empty(dir / "sub"));
}

TEST_CASE("safe outputs: -o or --checkpoint naming the input file is refused and the input is kept") {
  TempDir dir("safe");
  fs::copy_file(fixture, dir / "data.csv");
  const std::string before = slurp(dir / "data.csv");
  expect_refused(run_command(train(dir / "data.csv", dir / "data.csv")), "moe-train",
                 "is the input file " + (dir / "data.csv") + " (--data)");
  fs::create_symlink(dir / "data.csv", dir / "alias.h5");
  expect_refused(run_command(train(dir / "data.csv", dir / "alias.h5")), "moe-train", "is the input file");
  expect_refused(run_command(train(dir / "data.csv", dir / "out.h5", "--checkpoint '" + (dir / "data.csv") + "'")),
                 "moe-train", "--checkpoint");
  expect_refused(run_command(train(dir / "data.csv", dir / "out.h5", "--checkpoint /dev/null")), "moe-train",
                 "it is a device");
  std::ofstream(dir / "run.toml") << "epochs = 2\n";
  expect_refused(run_command(train(dir / "data.csv", dir / "run.toml", "--config '" + (dir / "run.toml") + "'")),
                 "moe-train", "(--config)");
  CHECK(slurp(dir / "run.toml") == "epochs = 2\n");
  CHECK(slurp(dir / "data.csv") == before);
  CHECK(fs::is_symlink(dir / "alias.h5"));
  CHECK_FALSE(fs::exists(dir / "out.h5"));
}

TEST_CASE("safe outputs: a symbolic link as -o is written through and kept") {
  TempDir dir("safe");
  fs::create_directory(dir / "results");
  std::ofstream(dir / "results/run.h5") << "old";
  fs::create_symlink("results/run.h5", dir / "latest.h5");
  const CommandResult r = run_command(train(fixture, dir / "latest.h5"));
  CAPTURE(r.err);
  REQUIRE(r.status == 0);
  CHECK(fs::is_symlink(dir / "latest.h5"));
  CHECK(fs::read_symlink(dir / "latest.h5") == fs::path("results/run.h5"));
  CHECK(is_hdf5(dir / "results/run.h5"));
  for (const auto& e : fs::directory_iterator(dir / "results")) CHECK(e.path().filename() == "run.h5");
}

TEST_CASE("safe outputs: moe-eval and moe-data refuse the same paths") {
  TempDir dir("safe");
  fs::copy_file(fixture, dir / "data.csv");
  REQUIRE(run_command(train(dir / "data.csv", dir / "model.h5")).status == 0);
  const std::string model = slurp(dir / "model.h5");
  auto eval = [&](const std::string& out) {
    return run_command(std::string(MOE_EVAL_BIN) + " --model '" + (dir / "model.h5") + "' --data '" +
                       (dir / "data.csv") + "' --target Vowel -q -o '" + out + "'");
  };
  expect_refused(eval(dir / "model.h5"), "moe-eval", "is the input file " + (dir / "model.h5") + " (--model)");
  expect_refused(eval(dir / "data.csv"), "moe-eval", "(--data)");
  expect_refused(eval("/dev/null"), "moe-eval", "it is a device");
  CHECK(slurp(dir / "model.h5") == model);
  REQUIRE(eval(dir / "eval.h5").status == 0);
  CHECK(is_hdf5(dir / "eval.h5"));

  REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
  const CommandResult g = run_command(std::string("timeout 60 ") + MOE_DATA_BIN +
                                      " generate linear-mixture --n 50 --out '" + (dir / "fifo") + "'");
  expect_refused(g, "moe-data", "it is a FIFO");
  expect_refused(run_command(std::string(MOE_DATA_BIN) + " generate linear-mixture --n 50 --out /dev/null"), "moe-data",
                 "it is a device");
  // Reading a FIFO would block: moe-data info refuses it.
  expect_refused(run_command(std::string("timeout 60 ") + MOE_DATA_BIN + " info '" + (dir / "fifo") + "'"), "moe-data",
                 "not a regular file");
}
