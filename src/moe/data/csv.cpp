#include "moe/data/csv.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <unistd.h>

#include "moe/core/atomic_file.hpp"
#include "moe/core/error.hpp"

namespace moe {

long Table::find(const std::string& name) const {
  for (std::size_t j = 0; j < columns.size(); ++j)
    if (columns[j] == name) return static_cast<long>(j);
  return -1;
}

namespace {

std::string base_name(const std::string& path) { return std::filesystem::path(path).filename().string(); }

// One record: its fields and the (1-based) line it started on.
struct Record {
  std::vector<std::string> fields;
  std::size_t line = 0;
};

// Splits the whole text into records. A record ends at LF or CRLF outside quotes; a lone CR outside
// quotes is dropped (tolerates CRLF). Blank lines are skipped (a trailing empty line is common).
std::vector<Record> split_records(const std::string& text, const std::string& source) {
  std::vector<Record> out;
  Record rec;
  std::string field;
  bool in_quotes = false, field_quoted = false, any = false;
  std::size_t line = 1;
  rec.line = 1;
  auto end_field = [&] {
    rec.fields.push_back(field);
    field.clear();
    field_quoted = false;
  };
  auto end_record = [&] {
    if (any) {
      end_field();
      out.push_back(std::move(rec));
    }
    rec = Record{};
    field.clear();
    field_quoted = false;
    any = false;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (!any) rec.line = line;
    switch (c) {
      case '"':
        // A quote opens a quoted field only at its start; elsewhere it is kept verbatim (lenient).
        if (field.empty() && !field_quoted) {
          in_quotes = true;
          field_quoted = true;
        } else {
          field += c;
        }
        any = true;
        break;
      case ',':
        end_field();
        any = true;
        break;
      case '\r':
        break;
      case '\n':
        end_record();
        ++line;
        break;
      default:
        field += c;
        any = true;
    }
  }
  if (in_quotes) fail(source + " line " + std::to_string(rec.line) + ": unterminated quoted field");
  end_record();
  return out;
}

}  // namespace

Table parse_csv(const std::string& text_in, const std::string& source) {
  std::string_view text(text_in);
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 byte-order mark
  std::vector<Record> records = split_records(std::string(text), source);
  if (records.empty()) fail(source + " is empty: no header line");

  Table t;
  t.source = source;
  t.columns = records[0].fields;
  std::set<std::string> seen;
  for (const auto& name : t.columns) {
    if (!seen.insert(name).second)
      fail(source + " line " + std::to_string(records[0].line) + ": duplicate column name '" + name + "'");
  }
  if (records.size() == 1) fail(source + " has no data rows");
  t.rows.reserve(records.size() - 1);
  for (std::size_t r = 1; r < records.size(); ++r) {
    auto& rec = records[r];
    if (rec.fields.size() != t.columns.size())
      fail(source + " line " + std::to_string(rec.line) + ": " + std::to_string(rec.fields.size()) +
           " fields, header has " + std::to_string(t.columns.size()));
    t.rows.push_back(std::move(rec.fields));
  }
  return t;
}

Table read_csv(const std::string& path) {
  const std::string name = base_name(path);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail("cannot open " + path + ": no such file");
  if (std::filesystem::is_directory(path, ec)) fail("cannot open " + path + ": is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open " + path + ": permission denied or unreadable");
  std::ostringstream buf;
  buf << in.rdbuf();
  return parse_csv(buf.str(), name);
}

std::vector<std::string> read_csv_header(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail("cannot open " + path + ": no such file");
  if (std::filesystem::is_directory(path, ec)) fail("cannot open " + path + ": is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open " + path + ": permission denied or unreadable");
  // Lines up to the first non-blank one whose quotes are balanced: the header record, however many lines
  // its quoted names span.
  std::string text, line;
  std::size_t quotes = 0;
  while (std::getline(in, line)) {
    text += line + "\n";
    quotes += std::size_t(std::count(line.begin(), line.end(), '"'));
    if (quotes % 2 == 0 && line.find_first_not_of(" \t\r\xEF\xBB\xBF") != std::string::npos) break;
  }
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.erase(0, 3);
  const std::vector<Record> records = split_records(text, base_name(path));
  if (records.empty()) fail(base_name(path) + " is empty: no header line");
  return records.front().fields;
}

namespace {

// Quotes a cell holding a separator, quote or line break; an empty cell in a one-column table is
// quoted too, else its line would be blank and skipped on reading.
std::string quote_cell(const std::string& cell, bool only_column) {
  if (cell.empty() && only_column) return "\"\"";
  if (cell.find_first_of(",\"\r\n") == std::string::npos) return cell;
  std::string q = "\"";
  for (char c : cell) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + "\"";
}

void write_record(std::ostream& out, const std::vector<std::string>& cells) {
  for (std::size_t j = 0; j < cells.size(); ++j) {
    if (j) out << ',';
    out << quote_cell(cells[j], cells.size() == 1);
  }
  out << '\n';
}

}  // namespace

void write_csv(const std::string& path, const Table& table) {
  for (std::size_t r = 0; r < table.rows.size(); ++r)
    require(table.rows[r].size() == table.columns.size(),
            "cannot write " + path + ": row " + std::to_string(r + 1) + " has " +
                std::to_string(table.rows[r].size()) + " cells, header has " +
                std::to_string(table.columns.size()));
  write_file_atomically(path, [&](std::ostream& out) {
    write_record(out, table.columns);
    for (const auto& row : table.rows) write_record(out, row);
  });
}

}  // namespace moe
