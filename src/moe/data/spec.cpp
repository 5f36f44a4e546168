#include "moe/data/spec.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "moe/core/error.hpp"
#include "moe/data/number.hpp"

namespace moe {

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(start, comma - start);
    const auto b = item.find_first_not_of(" \t");
    const auto e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
    start = comma + 1;
  }
  return out;
}

namespace {

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

std::size_t column_index(const Table& t, const std::string& name) {
  long j = t.find(name);
  if (j < 0) fail("unknown column '" + name + "' in " + t.source + " (columns: " + join(t.columns, ", ") + ")");
  return static_cast<std::size_t>(j);
}

std::string where(const Table& t, std::size_t row, const std::string& column) {
  return t.source + " row " + std::to_string(row + 1) + ", column '" + column + "'";
}

// Finite value of cell (row, j) or a one-line error naming it.
double finite_cell(const Table& t, std::size_t row, std::size_t j) {
  const std::string& cell = t.rows[row][j];
  auto v = parse_number(cell);
  if (!v) fail(where(t, row, t.columns[j]) + ": '" + cell + "' is not a number");
  if (!std::isfinite(*v)) fail(where(t, row, t.columns[j]) + ": '" + cell + "' is not finite");
  return *v;
}

struct Filter {
  std::size_t column;
  std::set<std::string> values;
};

Filter parse_filter(const Table& t, const std::string& text) {
  const auto eq = text.find('=');
  require(eq != std::string::npos && eq > 0,
          "bad filter '" + text + "': expected column=value[,value...]");
  Filter f;
  const std::vector<std::string> column = split_list(text.substr(0, eq));  // trimmed: "Vowel = iy, ih" works
  require(column.size() == 1, "bad filter '" + text + "': expected column=value[,value...]");
  f.column = column_index(t, column.front());
  for (auto& v : split_list(text.substr(eq + 1))) f.values.insert(v);
  require(!f.values.empty(), "bad filter '" + text + "': no values after '='");
  return f;
}

}  // namespace

Dataset build_dataset(const Table& t, const DatasetSpec& spec) {
  require(!spec.features.empty(), "no feature columns given for " + t.source);
  const std::vector<std::string> targets = split_list(spec.target);
  require(!targets.empty(), "no target column given for " + t.source);
  const bool classify = spec.task == Task::classification;
  require(!classify || targets.size() == 1,
          "classification needs one target column, got '" + spec.target + "'");

  std::vector<std::size_t> fcols, tcols, gcols;
  const arma::mat* fm = spec.feature_matrix;
  if (fm) {
    require(fm->n_cols == t.rows.size(), t.source + ": the feature matrix has " + std::to_string(fm->n_cols) +
                                             " columns (observations), the table " + std::to_string(t.rows.size()) +
                                             " rows");
    require(fm->n_rows == spec.features.size(), t.source + ": the feature matrix has " +
                                                    std::to_string(fm->n_rows) + " rows but " +
                                                    std::to_string(spec.features.size()) + " feature names");
  } else {
    for (const auto& name : spec.features) fcols.push_back(column_index(t, name));
  }
  for (const auto& name : targets) tcols.push_back(column_index(t, name));
  const std::vector<std::string> group_names = split_list(spec.group);
  for (const auto& name : group_names) gcols.push_back(column_index(t, name));
  std::vector<Filter> filters;
  for (const auto& text : spec.filters) filters.push_back(parse_filter(t, text));

  // Rows kept by every filter, in file order.
  std::vector<std::size_t> keep;
  for (std::size_t r = 0; r < t.rows.size(); ++r) {
    bool ok = true;
    for (const auto& f : filters) ok = ok && f.values.count(t.rows[r][f.column]) > 0;
    if (ok) keep.push_back(r);
  }
  if (keep.empty())
    fail("no rows left after filters " + join(spec.filters, " and ") + " in " + t.source + " (" +
         std::to_string(t.rows.size()) + " rows before)");

  const arma::uword n = keep.size(), d = spec.features.size();
  Dataset ds;
  ds.task = spec.task;
  ds.feature_names = spec.features;
  if (fm) {
    arma::uvec cols(n);
    for (arma::uword i = 0; i < n; ++i) cols[i] = keep[i];
    ds.X = fm->cols(cols);
    if (!ds.X.is_finite()) {
      const arma::uvec bad = arma::find_nonfinite(ds.X);
      fail(t.source + ": the feature matrix holds a value that is not finite (feature '" +
           spec.features[bad[0] % d] + "', row " + std::to_string(keep[bad[0] / d] + 1) + ")");
    }
  } else {
    ds.X.set_size(d, n);
    for (arma::uword i = 0; i < n; ++i)
      for (arma::uword k = 0; k < d; ++k) ds.X(k, i) = finite_cell(t, keep[i], fcols[k]);
  }

  if (classify) {
    const std::size_t tc = tcols[0];
    std::vector<std::string> classes = spec.classes;
    if (classes.empty()) {
      std::set<std::string> unique;
      for (std::size_t r : keep) unique.insert(t.rows[r][tc]);
      classes.assign(unique.begin(), unique.end());
    }
    std::map<std::string, arma::uword> index;
    for (std::size_t k = 0; k < classes.size(); ++k)
      require(index.emplace(classes[k], k).second, "class '" + classes[k] + "' listed twice");
    ds.target_names = classes;
    ds.labels.set_size(n);
    ds.Y.zeros(classes.size(), n);
    for (arma::uword i = 0; i < n; ++i) {
      const std::string& cell = t.rows[keep[i]][tc];
      auto it = index.find(cell);
      if (it == index.end())
        fail(where(t, keep[i], t.columns[tc]) + ": class '" + cell + "' is not one of the listed classes (" +
             join(classes, ", ") + ")");
      ds.labels[i] = it->second;
      ds.Y(it->second, i) = 1.0;
    }
  } else {
    ds.target_names = targets;
    ds.Y.set_size(tcols.size(), n);
    for (arma::uword i = 0; i < n; ++i)
      for (arma::uword k = 0; k < tcols.size(); ++k) ds.Y(k, i) = finite_cell(t, keep[i], tcols[k]);
  }

  if (!gcols.empty()) {
    ds.group_name = join(group_names, ",");
    ds.groups.reserve(n);
    for (std::size_t r : keep) {
      std::string id;
      for (std::size_t k = 0; k < gcols.size(); ++k) id += (k ? ":" : "") + t.rows[r][gcols[k]];
      ds.groups.push_back(std::move(id));
    }
  }
  return ds;
}

}  // namespace moe
