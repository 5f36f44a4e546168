#pragma once
// `moe-data info FILE`: a few lines describing any file moe-data writes (and the tables moekit reads),
// the kind told from the name and the first bytes:
//   a directory              (fetch outputs: image sets, corpora)  every file in it, described in turn
//   NAME.meta                (fetch provenance)                    its key = value lines
//   an IDX file, plain or gz (fetch image sets)                    element type, sizes, value range
//   NAME.txt                 (fetch sotu|kjv corpus)               documents, words, characters, first ids
//   NAME.h5 / .hdf5 / .he5   (jitter sets, rank-language, results) attributes, 1-D columns as a table,
//                                                                  other datasets with their shapes, groups
//   anything else            (CSV: fetch tables, generate)         rows, columns, per-column ranges
#include <string>

#include "moe/data/csv.hpp"

namespace moe {

// The description, one or more lines each ending in '\n'. `group` (HDF5 only; empty: the root) is the
// group described. One-line moe::Error for a missing or unreadable file, or one of its kind that is
// malformed (the kind's own reader says what is wrong).
std::string describe_file(const std::string& path, const std::string& group = "");

// The CSV part of describe_file: "<source>: R rows, C columns" and a line per column (numeric range or
// distinct text values), columns aligned.
std::string describe_table(const std::string& source, const Table& table);

}  // namespace moe
