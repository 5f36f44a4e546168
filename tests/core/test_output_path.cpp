// output_target and refuse_output_over_inputs (moe/core/output_path.hpp): which paths a writer may
// replace, how links are followed, and which inputs an output may not be.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cli/run_command.hpp"
#include "moe/core/error.hpp"
#include "moe/core/output_path.hpp"

namespace fs = std::filesystem;
using moe::test::TempDir;

TEST_CASE("output path: a regular file or a new name is written in place") {
  TempDir dir("outpath");
  std::ofstream(dir / "old.h5") << "x";
  CHECK(moe::output_target(dir / "old.h5") == dir / "old.h5");
  CHECK(moe::output_target(dir / "new.h5") == dir / "new.h5");
}

TEST_CASE("output path: directories, devices and FIFOs are refused with one line") {
  TempDir dir("outpath");
  fs::create_directory(dir / "sub");
  CHECK_THROWS_WITH_AS(moe::output_target(dir / "sub"), doctest::Contains("it is a directory"), moe::Error);
  CHECK_THROWS_WITH_AS(moe::output_target("/dev/null"), doctest::Contains("it is a device"), moe::Error);
  REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
  CHECK_THROWS_WITH_AS(moe::output_target(dir / "fifo"), doctest::Contains("it is a FIFO"), moe::Error);
  CHECK_THROWS_WITH_AS(moe::output_target(dir / "missing/out.h5"), doctest::Contains("does not exist"), moe::Error);
  CHECK_THROWS_WITH_AS(moe::output_target(""), doctest::Contains("empty"), moe::Error);
}

TEST_CASE("output path: symbolic links are written through, chains and relative targets included") {
  TempDir dir("outpath");
  fs::create_directory(dir / "data");
  std::ofstream(dir / "data/real.h5") << "x";
  fs::create_symlink("data/real.h5", dir / "link1");  // relative to the link's directory
  fs::create_symlink(dir / "link1", dir / "link2");   // absolute, to another link
  CHECK(fs::path(moe::output_target(dir / "link2")) == fs::path(dir / "data/real.h5"));
  fs::create_symlink("data/not-yet.h5", dir / "dangling");
  CHECK(fs::path(moe::output_target(dir / "dangling")) == fs::path(dir / "data/not-yet.h5"));
  fs::create_symlink("/dev/null", dir / "to-device");
  CHECK_THROWS_WITH_AS(moe::output_target(dir / "to-device"), doctest::Contains("it is a device"), moe::Error);
  fs::create_symlink(dir / "loop-b", dir / "loop-a");
  fs::create_symlink(dir / "loop-a", dir / "loop-b");
  CHECK_THROWS_WITH_AS(moe::output_target(dir / "loop-a"), doctest::Contains("too many levels"), moe::Error);
}

TEST_CASE("output path: an output that is an input is refused, through links and hard links") {
  TempDir dir("outpath");
  std::ofstream(dir / "in.csv") << "a\n1\n";
  fs::create_symlink(dir / "in.csv", dir / "soft");
  fs::create_hard_link(dir / "in.csv", dir / "hard");
  for (const std::string& out : {dir / "in.csv", dir / "soft", dir / "hard"}) {
    CAPTURE(out);
    CHECK_THROWS_WITH_AS(moe::refuse_output_over_inputs({"--output", out}, {{"--model", ""}, {"--data", dir / "in.csv"}}),
                         doctest::Contains("is the input file"), moe::Error);
  }
  std::ofstream(dir / "other.h5") << "x";
  CHECK_NOTHROW(moe::refuse_output_over_inputs({"--output", dir / "other.h5"}, {{"--data", dir / "in.csv"}}));
  CHECK_NOTHROW(moe::refuse_output_over_inputs({"--output", dir / "new.h5"}, {{"--data", dir / "in.csv"}}));
}
