#include "moe/run/data_options.hpp"

#include "moe/core/error.hpp"
#include "moe/data/read_table.hpp"
#include "moe/data/spec.hpp"
#include "moe/models/model_spec.hpp"

namespace moe {

void DataOptions::validate() const {
  require(!path.empty(), "no data file given (--data)");
  require(!features.empty(), "no feature columns given (--features)");
  require(!target.empty(), "no target column given (--target)");
  parse_task(task);
  require(valid_fraction >= 0.0 && test_fraction >= 0.0 && valid_fraction + test_fraction < 1.0,
          "--valid-fraction and --test-fraction must be non-negative and sum to less than 1");
  require(train_groups == 0 || !group.empty(), "--train-groups needs a group column (--group)");
}

Dataset load_dataset(const DataOptions& options) {
  options.validate();
  const Table table = read_table(options.path, is_hdf5_path(options.path) ? options.hdf5_group : "");
  DatasetSpec spec;
  spec.features = options.features;
  spec.target = options.target;
  spec.task = parse_task(options.task);
  spec.filters = options.filters;
  spec.group = options.group;
  spec.classes = options.classes;
  return build_dataset(table, spec);
}

PreparedData prepare_data(const DataOptions& options, Rng& rng) {
  const Dataset all = load_dataset(options);
  PreparedData out;
  out.split = options.train_groups > 0
                  ? split_by_group(all, options.train_groups, options.valid_groups, options.test_groups, rng)
                  : split_random(all.n(), options.valid_fraction, options.test_fraction, rng);
  out.train = all.subset(out.split.train);
  out.valid = all.subset(out.split.valid);
  out.test = all.subset(out.split.test);
  require(out.train.n() > 0, "the training split is empty");
  if (options.standardize) {
    out.standardizer.fit(out.train.X);
  } else {
    out.standardizer.mean.zeros(all.d());
    out.standardizer.scale.ones(all.d());
  }
  for (Dataset* part : {&out.train, &out.valid, &out.test}) part->X = out.standardizer.apply(part->X);
  return out;
}

}  // namespace moe
