#include "moe/run/data_options.hpp"

#include <algorithm>

#include "moe/core/error.hpp"
#include "moe/core/warning.hpp"
#include "moe/data/hdf5_table.hpp"
#include "moe/data/read_table.hpp"
#include "moe/data/spec.hpp"
#include "moe/h5/hdf5.hpp"
#include "moe/models/model_spec.hpp"
#include "moe/run/lm_data.hpp"

namespace moe {

void DataOptions::validate() const {
  require(!path.empty(), "no data file given (--data)");
  if (task == "lm") return;  // a corpus or synthetic language: no columns (src/moe/run/lm_data.cpp)
  require(!features.empty() || !feature_matrix.empty(), "no feature columns given (--features or --feature-matrix)");
  require(matrix_layout == "columns" || matrix_layout == "rows",
          "--matrix-layout must be columns or rows, not '" + matrix_layout + "'");
  require(matrix_layout == "columns" || !feature_matrix.empty(),
          "--matrix-layout rows applies to a --feature-matrix only");
  require(!targets || !target.empty(), "no target column given (--target)");
  require(missing == "error" || missing == "drop", "--missing must be error or drop (got '" + missing + "')");
  parse_task(task);
  require(valid_fraction >= 0.0 && test_fraction >= 0.0 && valid_fraction + test_fraction < 1.0,
          "--valid-fraction and --test-fraction must be non-negative and sum to less than 1");
  require(train_groups == 0 || !group.empty(), "--train-groups needs a group column (--group)");
}

std::vector<std::string> feature_matrix_names(const std::string& name, arma::uword rows) {
  std::vector<std::string> out;
  out.reserve(rows);
  for (arma::uword k = 0; k < rows; ++k) out.push_back(name + "[" + std::to_string(k) + "]");
  return out;
}

Dataset load_dataset(const DataOptions& options) {
  options.validate();
  DatasetSpec spec;
  spec.features = options.features;
  arma::mat matrix;
  Table table;
  if (options.feature_matrix.empty()) {
    table = read_table(options.path, is_hdf5_path(options.path) ? options.hdf5_group : "");
  } else {
    require(is_hdf5_path(options.path), "--feature-matrix needs an HDF5 data file (.h5), not " + options.path);
    const std::string group = options.hdf5_group.empty() ? "/" : options.hdf5_group;
    const std::string object = (group.back() == '/' ? group : group + "/") + options.feature_matrix;
    const bool rows = options.matrix_layout == "rows";
    const std::string layout = rows ? "observations x features" : "features x observations";
    {
      const h5::File file = h5::File::open(options.path);
      require(file.is_dataset(object), "--feature-matrix: no dataset '" + object + "' in " + options.path);
      require(file.shape(object).size() == 2, "--feature-matrix: '" + object + "' in " + options.path +
                                                  " is not 2-D (" + layout + ")");
      matrix = file.read_matrix(object);
    }
    require(matrix.n_rows >= 1 && matrix.n_cols >= 1, "--feature-matrix: '" + object + "' in " + options.path + " is empty");
    table = read_hdf5_table(options.path, group, {options.feature_matrix});
    // The observations run along the columns (d x N) or the rows (N x d). A matrix whose other side
    // matches the table's rows is the other layout: say so rather than fail on the counts.
    const std::size_t n = table.rows.size(), along = rows ? matrix.n_rows : matrix.n_cols,
                      across = rows ? matrix.n_cols : matrix.n_rows;
    if (along != n && across == n)
      fail("--feature-matrix: '" + object + "' in " + options.path + " is " + std::to_string(matrix.n_rows) + " x " +
           std::to_string(matrix.n_cols) + " and the table has " + std::to_string(n) + " rows: it holds one " +
           "observation per " + (rows ? "column" : "row") + "; give --matrix-layout " + (rows ? "columns" : "rows"));
    if (rows) matrix = arma::mat(matrix.t());  // d x N from here on
    const std::vector<std::string> names = feature_matrix_names(options.feature_matrix, matrix.n_rows);
    if (!options.features.empty() && options.features != names)
      fail("the feature matrix '" + options.feature_matrix + "' has " + std::to_string(names.size()) +
           " features (" + names.front() + " .. " + names.back() + "), but " +
           std::to_string(options.features.size()) + " other features were asked for (" +
           options.features.front() + " .. " + options.features.back() + ")");
    spec.features = names;
    spec.feature_matrix = &matrix;
  }
  spec.target = options.target;
  spec.task = parse_task(options.task);
  spec.filters = options.filters;
  spec.group = options.group;
  spec.classes = options.classes;
  spec.targets = options.targets;
  spec.drop_missing = options.missing == "drop";
  Dataset ds = build_dataset(table, spec);
  ds.feature_matrix = options.feature_matrix;
  return ds;
}

PreparedData prepare_data(const DataOptions& options, Rng& rng) {
  if (options.task == "lm") return prepare_lm_data(options, rng);
  const Dataset all = load_dataset(options);
  PreparedData out;
  out.split = options.train_groups > 0
                  ? split_by_group(all, options.train_groups, options.valid_groups, options.test_groups, rng)
                  : split_random(all.n(), options.valid_fraction, options.test_fraction, rng);
  out.train = all.subset(out.split.train);
  out.valid = all.subset(out.split.valid);
  out.test = all.subset(out.split.test);
  require(out.train.n() > 0, "the training split is empty");
  if (all.dropped_missing > 0)
    out.warnings.push_back({"missing-rows", missing_rows_note(all.dropped_missing)});
  Standardizer fitted;
  fitted.fit(out.train.X);
  if (!fitted.constant.empty()) {
    // One line for all of them (images have dozens of blank pixels): the first few by name and value.
    const std::size_t shown = std::min<std::size_t>(fitted.constant.size(), 4);
    std::string names;
    for (std::size_t i = 0; i < shown; ++i) {
      const arma::uword k = fitted.constant[i];
      names += (i ? ", " : "") + out.train.feature_names[k] + " = " + format_short(fitted.mean[k]);
    }
    if (fitted.constant.size() > shown) names += " and " + std::to_string(fitted.constant.size() - shown) + " more";
    const bool one = fitted.constant.size() == 1;
    const std::string scaled = options.standardize ? " and scaled by max(1, |value|), not by a zero spread" : "";
    out.warnings.push_back(
        {"constant-features", one ? "feature " + out.train.feature_names[fitted.constant[0]] +
                                        " is constant in the training data (" + names + "); it carries no information" +
                                        (scaled.empty() ? "" : "; it is left centred" + scaled)
                                  : std::to_string(fitted.constant.size()) + " features are constant in the training data (" +
                                        names + "); they carry no information" +
                                        (scaled.empty() ? "" : "; they are left centred" + scaled)});
  }
  if (out.train.is_classification()) {
    const arma::urowvec present = arma::unique(out.train.labels);
    if (present.n_elem == 1)
      out.warnings.push_back({"one-class", "only one class ('" + out.train.target_names[present[0]] +
                                               "') occurs in the training data; the model can only learn to predict it"});
  }
  if (options.standardize) {
    out.standardizer = fitted;
  } else {
    out.standardizer.mean.zeros(all.d());
    out.standardizer.scale.ones(all.d());
  }
  for (Dataset* part : {&out.train, &out.valid, &out.test}) part->X = out.standardizer.apply(part->X);
  return out;
}

std::string missing_rows_note(std::size_t rows) {
  return "left out " + std::to_string(rows) + (rows == 1 ? " row" : " rows") +
         " with a missing value (--missing drop)";
}

void report_data_warnings(const PreparedData& data) {
  for (const auto& [key, message] : data.warnings) warn(key, message);
}

}  // namespace moe
