#pragma once
// A text corpus as documents (State of the Union addresses, books of the Bible). On disk: UTF-8 text,
// one document per line, "<id>\t<text>", the text with every run of whitespace (tabs and line breaks
// included) folded to one space, so a line is a whole document and the file needs no escaping.
#include <string>
#include <vector>

namespace moe {

struct Document {
  std::string id;    // e.g. "1790_george_washington_n" or "Genesis"; no tab or line break
  std::string text;  // one line, single spaces
};

struct Corpus {
  std::vector<Document> documents;
  std::size_t characters() const;
};

// Every whitespace run of `text` (space, tab, CR, LF, FF, VT) as one space, trimmed at both ends.
std::string fold_whitespace(const std::string& text);

// Writes the corpus atomically (see above). Fails on an id with a tab or line break.
void write_corpus(const std::string& path, const Corpus& corpus);

// Reads a corpus file; a line without a tab, an empty id or a repeated id is a one-line moe::Error
// naming the file and line. Empty lines are skipped.
Corpus read_corpus(const std::string& path);

}  // namespace moe
