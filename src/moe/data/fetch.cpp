#include "moe/data/fetch.hpp"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "moe/core/error.hpp"
#include "moe/data/csv.hpp"
#include "moe/data/process.hpp"

namespace fs = std::filesystem;

namespace moe {

const std::vector<PraatSet>& praat_sets() {
  static const std::vector<PraatSet> sets = {
      {"peterson-barney", "Create formant table (Peterson & Barney 1952)", 1520,
       {"Type", "Sex", "Speaker", "Vowel", "IPA", "F0", "F1", "F2", "F3"},
       "Peterson & Barney (1952) vowels: 76 speakers (m/w/c), 10 vowels x 2, F0-F3 in Hz"},
      // Speaker numbers restart within each Type and, for children, within each Sex (praat 6.3.07:
      // m 45 ids up to 50, w 48 up to 50, c/f 19 up to 21, c/m 27 up to 29), so one speaker is
      // "Type,Sex,Speaker" (139 of them, 12 rows each). A formant of 0 marks a missing measurement
      // (51 rows have F2 or F3 = 0; F1 is never 0): filter or treat before fitting.
      {"hillenbrand", "Create formant table (Hillenbrand et al. 1995)", 1668,
       {"Type", "Sex", "Speaker", "Vowel", "IPA", "f0", "dur", "F1", "F2", "F3"},
       "Hillenbrand et al. (1995) vowels: 139 speakers (m/w/c), 12 vowels, f0, duration, F1-F3 over time"},
  };
  return sets;
}

const PraatSet& find_praat_set(const std::string& name) {
  std::string names;
  for (const auto& s : praat_sets()) {
    if (s.name == name) return s;
    names += (names.empty() ? "" : ", ") + s.name;
  }
  fail("unknown data set '" + name + "' (known: " + names + ")");
}

namespace {

// A fresh directory under $TMPDIR, removed with everything in it when this goes out of scope.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "moe-data-XXXXXX").string();
    require(::mkdtemp(templ.data()) != nullptr, "cannot create a temporary directory in " +
                                                     fs::temp_directory_path().string());
    path = templ;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string utc_now() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Output of a helper tool's first line, or "unknown" when the tool is missing or fails.
std::string tool_line(const std::vector<std::string>& argv) {
  if (find_program(argv[0]).empty()) return "unknown";
  ProcessResult r = run_process(argv);
  std::string line = first_line(r.output);
  return (r.status == 0 && !line.empty()) ? line : "unknown";
}

// Copies `from` next to `to` and renames it there (atomic even when /tmp is another filesystem).
void install_file(const fs::path& from, const fs::path& to) {
  const fs::path temp = to.string() + ".tmp-" + std::to_string(::getpid());
  std::error_code ec;
  fs::copy_file(from, temp, fs::copy_options::overwrite_existing, ec);
  if (!ec) fs::rename(temp, to, ec);
  if (ec) {
    fs::remove(temp, ec);
    fail("cannot write " + to.string() + ": " + ec.message());
  }
}

void check_export(const PraatSet& set, const Table& t) {
  std::size_t at = 0;  // required columns appear in order
  for (const auto& want : set.required_columns) {
    while (at < t.columns.size() && t.columns[at] != want) ++at;
    if (at == t.columns.size())
      fail("praat export of " + set.name + " lacks column '" + want + "' (praat version changed?)");
  }
  if (t.rows.size() != set.expected_rows)
    fail("praat export of " + set.name + " has " + std::to_string(t.rows.size()) + " rows, expected " +
         std::to_string(set.expected_rows));
}

}  // namespace

FetchResult fetch_praat_set(const PraatSet& set, const std::string& out_path) {
  const std::string praat = find_program("praat");
  if (praat.empty()) fail("praat not found: apt-get install praat");

  TempDir tmp;
  const fs::path script = tmp.path / "fetch.praat";
  const fs::path csv = tmp.path / (set.name + ".csv");
  {
    std::ofstream s(script);
    // UTF-8 first: praat otherwise writes UTF-16 when a table holds non-ASCII text (Hillenbrand IPA).
    s << "Text writing preferences: \"UTF-8\"\n"
      << set.praat_command << "\n"
      << "Save as comma-separated file: \"" << csv.string() << "\"\n";
    require(static_cast<bool>(s), "cannot write the praat script in " + tmp.path.string());
  }
  // --no-pref-files: neither read the user's praat preferences nor overwrite them.
  ProcessResult r = run_process({praat, "--no-pref-files", "--run", script.string()});
  if (r.status != 0 || !fs::exists(csv)) {
    std::string why = first_line(r.output);
    fail("praat failed on '" + set.praat_command + "' (exit " + std::to_string(r.status) + ")" +
         (why.empty() ? "" : ": " + why));
  }

  Table t = read_csv(csv.string());
  check_export(set, t);

  const std::string sha = tool_line({"sha256sum", csv.string()});
  FetchResult out;
  out.csv_path = out_path;
  out.meta_path = out_path + ".meta";
  out.rows = t.rows.size();
  out.sha256 = sha.substr(0, sha.find(' '));

  const fs::path meta = tmp.path / "meta";
  {
    std::string columns;
    for (const auto& c : t.columns) columns += (columns.empty() ? "" : ",") + c;
    std::ofstream m(meta);
    m << "name = " << set.name << "\n"
      << "source = praat: " << set.praat_command << "\n"
      << "praat_version = " << tool_line({praat, "--version"}) << "\n"
      << "debian_package_version = " << tool_line({"dpkg-query", "-W", "-f=${Version}", "praat"}) << "\n"
      << "sha256 = " << out.sha256 << "\n"
      << "rows = " << out.rows << "\n"
      << "columns = " << columns << "\n"
      << "created = " << utc_now() << "\n";
    require(static_cast<bool>(m), "cannot write " + meta.string());
  }

  const fs::path target(out_path);
  std::error_code ec;
  if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
  if (ec) fail("cannot create directory " + target.parent_path().string() + ": " + ec.message());
  install_file(csv, target);
  install_file(meta, out.meta_path);
  return out;
}

}  // namespace moe
