#include "moe/data/spec.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string_view>
#include <utility>

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

// A missing value (DatasetSpec::drop_missing): an empty cell, NA, or in a numeric column a NaN.
bool is_missing(const std::string& cell, bool numeric) {
  const auto b = cell.find_first_not_of(" \t");
  if (b == std::string::npos) return true;
  const std::string_view text = std::string_view(cell).substr(b, cell.find_last_not_of(" \t") - b + 1);
  if (text == "NA") return true;
  if (!numeric || text.find_first_of("nN") == std::string_view::npos) return false;  // a NaN is spelt with n
  const auto v = parse_number(text);
  return v && std::isnan(*v);
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
  require(!spec.targets || !targets.empty(), "no target column given for " + t.source);
  require(spec.targets || targets.empty(), "a target column is given for data read without targets");
  const bool classify = spec.task == Task::classification;
  require(!classify || !spec.targets || targets.size() == 1,
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

  // Missing values in the columns read: an error naming --missing, or (drop_missing) the row is left out.
  std::vector<std::pair<std::size_t, bool>> checked;  // (column, numeric)
  for (std::size_t j : fcols) checked.push_back({j, true});
  for (std::size_t j : tcols) checked.push_back({j, !classify});
  for (std::size_t j : gcols) checked.push_back({j, false});
  std::size_t dropped = 0;
  std::vector<std::size_t> complete;
  complete.reserve(keep.size());
  for (std::size_t r : keep) {
    std::string missing;  // where, for the error
    for (const auto& [j, numeric] : checked) {
      if (!is_missing(t.rows[r][j], numeric)) continue;
      missing = where(t, r, t.columns[j]) + ": missing value '" + t.rows[r][j] + "'";
      break;
    }
    if (missing.empty() && fm && fm->col(r).has_nan()) {
      const arma::uvec bad = arma::find_nan(fm->col(r));
      missing = t.source + ": the feature matrix has a missing value (NaN) for feature '" + spec.features[bad[0]] +
                "', row " + std::to_string(r + 1);
    }
    if (missing.empty()) {
      complete.push_back(r);
    } else if (spec.drop_missing) {
      ++dropped;
    } else {
      fail(missing + " (--missing drop leaves out rows with missing values)");
    }
  }
  if (complete.empty())
    fail("no rows left in " + t.source + ": all " + std::to_string(keep.size()) + " rows" +
         (spec.filters.empty() ? "" : " kept by the filters") + " have a missing value (--missing drop)");
  keep.swap(complete);

  const arma::uword n = keep.size(), d = spec.features.size();
  Dataset ds;
  ds.task = spec.task;
  ds.feature_names = spec.features;
  ds.dropped_missing = dropped;
  ds.row_ids.set_size(n);
  for (arma::uword i = 0; i < n; ++i) ds.row_ids[i] = keep[i];
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

  if (!spec.targets) {  // predictions only: no targets; a classifier's classes name its outputs
    ds.target_names = classify ? spec.classes : std::vector<std::string>{};
    ds.Y.zeros(0, n);
  } else if (classify) {
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
