// The quick shape checks of the cheapest studies, on real data, as experiments/run_all.sh --quick runs
// them: each study's run.sh --quick into a fresh folder, then its check.py, whose outcome must be the one
// recorded here and in experiments/REPORT.md, check by check (P pass, F fail, in check.py's order). The
// quick runs are deterministic (fixed seeds, one thread), so a check that changes either way is a change
// in what the library reproduces, and CI says so. The failing ones are findings the studies' READMEs
// explain (jordan: our Adam backprop is far faster than the paper's 1994 backprop; hampshire: on
// Hillenbrand the gate sends women to the children's expert). The other studies' quick runs take minutes
// each; REPORT.md records them.
#include <doctest/doctest.h>

#include <filesystem>

#include "cli/run_command.hpp"

using moe::test::run_command;
using moe::test::TempDir;

namespace {

const std::string repo = std::string(MOE_FIXTURES) + "/../..";

// "PPF...": the verdicts of check.py's PASS and FAIL lines, in order.
std::string verdicts(const std::string& check_output) {
  std::string v;
  std::size_t start = 0;
  while (start < check_output.size()) {
    const std::size_t end = check_output.find('\n', start);
    const std::string line = check_output.substr(start, end - start);
    if (line.rfind("PASS:", 0) == 0) v += 'P';
    if (line.rfind("FAIL:", 0) == 0) v += 'F';
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return v;
}

void quick_study(const std::string& study, const std::string& expected) {
  TempDir dir("study");
  const std::string bin = std::filesystem::path(MOE_TRAIN_BIN).parent_path().string();
  const std::string out = dir / study;
  const auto ran = run_command("MOE_BIN=" + bin + " bash " + repo + "/experiments/" + study + "/run.sh --quick --out " + out);
  INFO(study, " run.sh --quick:\n", ran.err);
  REQUIRE(ran.status == 0);
  CHECK(std::filesystem::exists(out + "/table.md"));
  CHECK(std::filesystem::exists(out + "/plot.png"));
  const auto checked = run_command("/usr/bin/python3 " + repo + "/experiments/" + study + "/check.py " + out);
  INFO(study, " check.py:\n", checked.out, checked.err);
  CHECK(checked.status == (expected.find('F') == std::string::npos ? 0 : 1));
  CHECK(verdicts(checked.out) == expected);
  CHECK(checked.out.find("checks pass") != std::string::npos);
}

}  // namespace

TEST_CASE("quick study jacobs1991-vowels: 7 of 7 shape checks pass") { quick_study("jacobs1991-vowels", "PPPPPPP"); }
TEST_CASE("quick study jordan1994-hme-em: 4 of 6 shape checks pass, as recorded") {
  quick_study("jordan1994-hme-em", "PFFPPP");
}
TEST_CASE("quick study hampshire1992-meta-pi: 6 of 8 shape checks pass, as recorded") {
  quick_study("hampshire1992-meta-pi", "PPPPFPPF");
}
