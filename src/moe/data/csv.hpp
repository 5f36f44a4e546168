#pragma once
// A CSV file as a table of strings: the common currency between readers (CSV, HDF5, generators) and
// build_dataset, which turns columns into numbers. Cells are kept verbatim (backslashes included:
// praat's IPA column holds strings such as "\ic").
#include <string>
#include <vector>

namespace moe {

struct Table {
  std::vector<std::string> columns;            // header names, unique
  std::vector<std::vector<std::string>> rows;  // rows[i].size() == columns.size() for every row
  std::string source;                          // file name, used in error messages

  std::size_t n_rows() const { return rows.size(); }
  // Index of column `name`, or -1 when absent.
  long find(const std::string& name) const;
};

// Header line required; comma separated; RFC-4180 quotes ("a,b", "say ""hi""", newlines in quotes);
// CRLF line ends and a trailing empty line tolerated; a UTF-8 byte-order mark stripped. Blank lines
// are skipped, so in a one-column file an empty cell must be written as "" (write_csv does so).
// Fails with a one-line moe::Error naming the file (and line): missing file, empty file, header only,
// ragged row, duplicate column name, unterminated quote.
Table read_csv(const std::string& path);

// The header line's column names alone (the file's first record; quotes and a byte-order mark as
// read_csv), without reading the rows. Fails as read_csv does for a missing, unreadable or empty file.
std::vector<std::string> read_csv_header(const std::string& path);

// Parse CSV text; `source` names it in error messages (read_csv passes the path).
Table parse_csv(const std::string& text, const std::string& source);

// Writes header and rows, quoting cells that contain a comma, quote, CR or LF. Atomic: written to
// "<path>.tmp-<pid>" and renamed onto <path>, so a failure never leaves half a file.
void write_csv(const std::string& path, const Table& table);

}  // namespace moe
