// read_csv / write_csv: RFC-4180 quoting, CRLF, BOM, backslashes, and every one-line error.
#include <doctest/doctest.h>

#include "data/data_test_util.hpp"
#include "moe/data/csv.hpp"

using namespace moe;
using namespace moe::test;

TEST_CASE("csv: plain file with trailing newline") {
  TempDir dir("csv");
  Table t = read_csv(write_text(dir, "a.csv", "x,y\n1,2\n3,4\n"));
  CHECK(t.columns == std::vector<std::string>{"x", "y"});
  REQUIRE(t.rows.size() == 2);
  CHECK(t.rows[1] == std::vector<std::string>{"3", "4"});
  CHECK(t.source == "a.csv");
  CHECK(t.find("y") == 1);
  CHECK(t.find("z") == -1);
}

TEST_CASE("csv: no trailing newline, CRLF line ends, UTF-8 BOM") {
  TempDir dir("csv");
  Table t = read_csv(write_text(dir, "b.csv", "\xEF\xBB\xBFType,F1\r\nm,240\r\nw,310"));
  CHECK(t.columns == std::vector<std::string>{"Type", "F1"});
  REQUIRE(t.rows.size() == 2);
  CHECK(t.rows[0][1] == "240");
  CHECK(t.rows[1][1] == "310");
}

TEST_CASE("csv: quoted fields with commas, doubled quotes, newlines and empty cells") {
  TempDir dir("csv");
  Table t = read_csv(write_text(dir, "q.csv", "a,b,c\n\"x,y\",\"say \"\"hi\"\"\",\"two\nlines\"\n,\"\",z\n"));
  REQUIRE(t.rows.size() == 2);
  CHECK(t.rows[0][0] == "x,y");
  CHECK(t.rows[0][1] == "say \"hi\"");
  CHECK(t.rows[0][2] == "two\nlines");
  CHECK(t.rows[1] == std::vector<std::string>{"", "", "z"});
}

TEST_CASE("csv: backslashes kept verbatim (praat IPA column)") {
  TempDir dir("csv");
  Table t = read_csv(write_text(dir, "ipa.csv", "Vowel,IPA\nih,\\ic\nah,\\vt\n"));
  CHECK(t.rows[0][1] == "\\ic");
  CHECK(t.rows[1][1] == "\\vt");
}

TEST_CASE("csv: write then read round trip, quoting where needed") {
  TempDir dir("csv");
  Table t;
  t.columns = {"name", "note"};
  t.rows = {{"a,b", "he said \"x\""}, {"\\ic", "multi\nline"}, {"", "plain"}};
  const std::string path = dir / "rt.csv";
  write_csv(path, t);
  Table back = read_csv(path);
  CHECK(back.columns == t.columns);
  CHECK(back.rows == t.rows);
  // Atomic write: no temporary left beside the result.
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path)) files += e.is_regular_file();
  CHECK(files == 1);
}

TEST_CASE("csv: one-column table with an empty cell survives a round trip") {
  TempDir dir("csv");
  Table t{{"a"}, {{"1"}, {""}, {"3"}}, "t"};
  write_csv(dir / "one.csv", t);
  CHECK(read_csv(dir / "one.csv").rows == t.rows);
}

TEST_CASE("csv: write to a missing directory fails with one line") {
  TempDir dir("csv");
  Table t{{"a"}, {{"1"}}, "t"};
  std::string msg = error_of([&] { write_csv(dir / "no/such/dir/x.csv", t); });
  CHECK(one_line(msg));
  CHECK(contains(msg, "cannot write"));
}

TEST_CASE("csv: the fixture vowels_small.csv reads as 96 rows of Peterson-Barney columns") {
  Table t = read_csv(std::string(MOE_FIXTURES) + "/vowels_small.csv");
  CHECK(t.columns == std::vector<std::string>{"Type", "Sex", "Speaker", "Vowel", "IPA", "F0", "F1", "F2", "F3"});
  CHECK(t.rows.size() == 96);
}

TEST_CASE("csv errors: missing, empty, header only, ragged, duplicate, unterminated quote") {
  TempDir dir("csv");
  std::string msg;

  msg = error_of([&] { read_csv(dir / "x.csv"); });
  CHECK(one_line(msg));
  CHECK(contains(msg, "cannot open"));
  CHECK(contains(msg, "x.csv: no such file"));

  msg = error_of([&] { read_csv(write_text(dir, "empty.csv", "")); });
  CHECK(msg == "empty.csv is empty: no header line");
  msg = error_of([&] { read_csv(write_text(dir, "blank.csv", "\n\r\n")); });
  CHECK(msg == "blank.csv is empty: no header line");

  msg = error_of([&] { read_csv(write_text(dir, "hdr.csv", "a,b,c\n")); });
  CHECK(msg == "hdr.csv has no data rows");

  const std::string ragged = "a,b,c\n1,2,3\n1,2,3\n1,2,3\n1,2,3\n1,2,3\n1,2,3,4,5\n";
  msg = error_of([&] { read_csv(write_text(dir, "rag.csv", ragged)); });
  CHECK(msg == "rag.csv line 7: 5 fields, header has 3");

  msg = error_of([&] { read_csv(write_text(dir, "dup.csv", "a,b,a\n1,2,3\n")); });
  CHECK(one_line(msg));
  CHECK(contains(msg, "dup.csv"));
  CHECK(contains(msg, "duplicate column name 'a'"));

  msg = error_of([&] { read_csv(write_text(dir, "quote.csv", "a,b\n1,\"open\n2,3\n")); });
  CHECK(one_line(msg));
  CHECK(contains(msg, "quote.csv line 2: unterminated quoted field"));

  // A line count after a quoted newline still names the right line.
  msg = error_of([&] { read_csv(write_text(dir, "ml.csv", "a,b\n\"x\ny\",1\n1,2,3\n")); });
  CHECK(msg == "ml.csv line 4: 3 fields, header has 2");
}
