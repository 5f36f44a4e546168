#pragma once
// Real data sets produced by the Debian praat package (DESIGN.md, "Real data"). The table of sets
// lives in fetch.cpp (praat_sets); adding a set is one entry there.
#include <string>
#include <vector>

namespace moe {

struct PraatSet {
  std::string name;           // command-line name, e.g. "peterson-barney"
  std::string praat_command;  // praat command that creates the Table object
  std::size_t expected_rows;  // data rows the export must have
  std::vector<std::string> required_columns;  // must all appear in the header (in this order)
  std::string description;    // one line for --help and data/README.md
};

const std::vector<PraatSet>& praat_sets();
// The set called `name`, or a moe::Error listing the known names.
const PraatSet& find_praat_set(const std::string& name);

struct FetchResult {
  std::string csv_path, meta_path;
  std::size_t rows = 0;
  std::string sha256;
};

// Writes a temporary praat script (UTF-8 text preference, the set's command, "Save as
// comma-separated file"), runs `praat --no-pref-files --run` headless, checks the header and row
// count, then renames the CSV onto `out_path` (parent directories created) and writes
// "<out_path>.meta": key = value lines (name, source, praat_version, debian_package_version,
// sha256, rows, columns, created UTC). Errors are one line: "praat not found: apt-get install
// praat", praat's own first error line, or the check that failed.
FetchResult fetch_praat_set(const PraatSet& set, const std::string& out_path);

}  // namespace moe
