#include "moe/text/corpus.hpp"

#include <fstream>
#include <set>

#include "moe/core/atomic_file.hpp"
#include "moe/core/error.hpp"

namespace moe {

std::size_t Corpus::characters() const {
  std::size_t n = 0;
  for (const auto& d : documents) n += d.text.size();
  return n;
}

std::string fold_whitespace(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  bool space = false;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      space = !out.empty();
    } else {
      if (space) out += ' ';
      space = false;
      out += c;
    }
  }
  return out;
}

void write_corpus(const std::string& path, const Corpus& corpus) {
  for (const auto& d : corpus.documents)
    require(!d.id.empty() && d.id.find_first_of("\t\r\n") == std::string::npos,
            "document id '" + d.id + "' is empty or holds a tab or line break");
  write_file_atomically(path, [&](std::ostream& out) {
    for (const auto& d : corpus.documents) out << d.id << '\t' << fold_whitespace(d.text) << '\n';
  });
}

Corpus read_corpus(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  require(static_cast<bool>(in), "cannot open corpus file " + path);
  Corpus corpus;
  std::set<std::string> seen;
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const auto tab = line.find('\t');
    const std::string where = path + " line " + std::to_string(number);
    require(tab != std::string::npos, where + ": expected '<id><TAB><text>' (not a moe-data corpus file?)");
    require(tab > 0, where + ": empty document id");
    Document d{line.substr(0, tab), line.substr(tab + 1)};
    require(seen.insert(d.id).second, where + ": document id '" + d.id + "' appears twice");
    corpus.documents.push_back(std::move(d));
  }
  require(!corpus.documents.empty(), "corpus file " + path + " holds no documents");
  return corpus;
}

}  // namespace moe
