// moe-data end to end: generate, info, usage and input errors, fetch (with praat when installed).
#include <doctest/doctest.h>

#include <filesystem>
#include <set>

#include "cli/run_command.hpp"
#include "moe/data/csv.hpp"
#include "moe/data/fetch.hpp"
#include "moe/data/process.hpp"

using namespace moe;
using namespace moe::test;

namespace {
const std::string bin = MOE_DATA_BIN;
const std::string fixture = std::string(MOE_FIXTURES) + "/vowels_small.csv";
bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
}  // namespace

TEST_CASE("moe-data: generate linear-mixture writes a deterministic CSV") {
  TempDir dir("mdata");
  const std::string gen = bin + " generate linear-mixture --n 500 --inputs 3 --experts 2 --noise 0.1 --seed 9";
  REQUIRE(run_command(gen + " --out " + (dir / "a.csv")).status == 0);
  REQUIRE(run_command(gen + " --out " + (dir / "b.csv")).status == 0);
  CHECK(slurp(dir / "a.csv") == slurp(dir / "b.csv"));
  Table t = read_csv(dir / "a.csv");
  CHECK(t.columns == std::vector<std::string>{"x1", "x2", "x3", "y", "component"});
  CHECK(t.rows.size() == 500);
}

TEST_CASE("moe-data: info describes columns of the fixture") {
  auto r = run_command(bin + " info " + fixture);
  REQUIRE(r.status == 0);
  CHECK(has(r.out, "96 rows, 9 columns"));
  CHECK(has(r.out, "Vowel"));
  CHECK(has(r.out, "4 distinct: aa, ah, ih, iy"));
  CHECK(has(r.out, "numeric"));
}

TEST_CASE("moe-data: errors are one line, exit 2 for usage and 1 for bad input") {
  TempDir dir("mdata");
  auto r = run_command(bin);
  CHECK(r.status == 2);
  CHECK(count_lines(r.err) == 1);
  CHECK(has(r.err, "moe-data: error: "));

  r = run_command(bin + " generate linear-mixture --n 10 --bogus 1 --out x.csv");
  CHECK(r.status == 2);
  CHECK(count_lines(r.err) == 1);

  r = run_command(bin + " fetch no-such-set");
  CHECK(r.status == 2);
  CHECK(count_lines(r.err) == 1);

  r = run_command(bin + " info " + (dir / "x.csv"));
  CHECK(r.status == 1);
  CHECK(count_lines(r.err) == 1);
  CHECK(has(r.err, "moe-data: error: cannot open"));
  CHECK(has(r.err, "no such file"));

  r = run_command(bin + " --help");
  CHECK(r.status == 0);
  CHECK(has(r.out, "fetch"));
}

TEST_CASE("moe-data: fetch without praat on PATH says how to install it") {
  TempDir dir("mdata");
  auto r = run_command("PATH=/nonexistent " + bin + " fetch peterson-barney --out " + (dir / "pb.csv"));
  CHECK(r.status == 1);
  CHECK(r.err == "moe-data: error: praat not found: apt-get install praat\n");
  CHECK_FALSE(std::filesystem::exists(dir / "pb.csv"));
}

TEST_CASE("moe-data: data set table names praat commands and row counts") {
  CHECK(find_praat_set("peterson-barney").expected_rows == 1520);
  CHECK(find_praat_set("hillenbrand").praat_command == "Create formant table (Hillenbrand et al. 1995)");
  std::string msg;
  try {
    find_praat_set("timit");
  } catch (const std::exception& e) {
    msg = e.what();
  }
  CHECK(has(msg, "unknown data set 'timit' (known: peterson-barney, hillenbrand)"));
}

TEST_CASE("moe-data: fetch peterson-barney with praat (skipped when praat is absent)") {
  if (find_program("praat").empty()) {
    MESSAGE("praat not installed: skipped");
    return;
  }
  TempDir dir("mdata");
  const std::string out = dir / "sub/pb.csv";
  auto r = run_command(bin + " fetch peterson-barney --out " + out);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  Table t = read_csv(out);
  CHECK(t.rows.size() == 1520);
  CHECK(t.columns == std::vector<std::string>{"Type", "Sex", "Speaker", "Vowel", "IPA", "F0", "F1", "F2", "F3"});
  // The committed fixture is a subset of this export, row for row.
  Table small = read_csv(fixture);
  std::set<std::vector<std::string>> rows(t.rows.begin(), t.rows.end());
  for (const auto& row : small.rows) CHECK(rows.count(row) == 1);
  const std::string meta = slurp(out + ".meta");
  for (const char* key : {"source = praat: Create formant table (Peterson & Barney 1952)", "praat_version = ",
                          "debian_package_version = ", "sha256 = ", "rows = 1520", "created = "})
    CHECK_MESSAGE(has(meta, key), key);
}
