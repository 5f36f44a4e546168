// Fuzz target: the CSV reader (src/moe/data/csv.cpp) and what a table goes through next: the column
// summary of `moe-data info` (summary.cpp, number.cpp), build_dataset with the column choices a user could
// make (spec.cpp), the random split and the standardiser. The input is the file's bytes; the columns,
// filter and group used afterwards are derived from the table itself.
// Oracles: a table read back after write_csv is the table written (quoting round trip); standardised
// features of an accepted data set are finite.
#include <armadillo>

#include "moe/core/rng.hpp"
#include "moe/data/csv.hpp"
#include "moe/data/spec.hpp"
#include "moe/data/split.hpp"
#include "moe/data/standardizer.hpp"
#include "moe/data/summary.hpp"
#include "targets/fuzz_util.hpp"

namespace moe::fuzz {

namespace {

void use_dataset(const Dataset& ds) {
  Rng rng(7);
  const Split split = split_random(ds.n(), 0.25, 0.25, rng);
  const Dataset train = ds.subset(split.train), test = ds.subset(split.test);
  if (train.n() == 0) return;
  Standardizer s;
  s.fit(train.X);
  const arma::mat z = s.apply(test.X);
  oracle(s.mean.is_finite() && s.scale.is_finite() && z.is_finite(),
         "standardised features of finite data are not finite");
}

void try_spec(const Table& t, const DatasetSpec& spec) {
  refuses([&] { use_dataset(build_dataset(t, spec)); });
}

}  // namespace

int fuzz_csv(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  Table t;
  if (refuses([&] { t = parse_csv(text, "fuzz.csv"); })) return 0;
  oracle(!t.columns.empty() && !t.rows.empty(), "parse_csv accepted a table without columns or rows");
  for (const auto& row : t.rows) oracle(row.size() == t.columns.size(), "parse_csv returned a ragged row");

  const std::vector<ColumnSummary> summary = summarize(t);
  oracle(summary.size() == t.columns.size(), "summarize lost a column");

  // Round trip through the writer and the file reader (a BOM at the very start is stripped on reading by
  // design, so a first column name starting with one cannot come back).
  if (t.columns[0].rfind("\xEF\xBB\xBF", 0) != 0) {
    ScratchFile file("roundtrip.csv");
    write_csv(file.path(), t);
    const Table back = read_csv(file.path());
    oracle(back.columns == t.columns && back.rows == t.rows, "read_csv(write_csv(table)) differs from the table");
  }

  const std::size_t last = t.columns.size() - 1;
  DatasetSpec spec;
  // Classification: every other column a feature, the last the class, the first the group; then with a
  // filter on the first row's first cell and a fixed class list.
  for (std::size_t j = 0; j < last; ++j) spec.features.push_back(t.columns[j]);
  if (spec.features.empty()) spec.features.push_back(t.columns[0]);
  spec.target = t.columns[last];
  spec.task = Task::classification;
  spec.group = t.columns[0];
  try_spec(t, spec);
  spec.filters = {t.columns[0] + "=" + t.rows[0][0]};
  spec.classes = {t.rows[0][last], t.rows.back()[last]};
  try_spec(t, spec);
  // Regression on every column (several targets), no filter.
  spec.filters.clear();
  spec.classes.clear();
  spec.task = Task::regression;
  spec.target = t.columns[last] + "," + t.columns[0];
  spec.group = t.columns[last];
  try_spec(t, spec);
  spec.features = t.columns;
  spec.target = t.columns[last];
  try_spec(t, spec);
  return 0;
}

}  // namespace moe::fuzz
