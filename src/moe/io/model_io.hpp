#pragma once
// Saving and loading a trained model in the /model group of a results file:
//   /model            attributes: every ModelSpec field (kind, experts, ...), feature and target names
//   /model/params/... one dataset per ParamList entry, named as the ParamList names it ("gate/V")
//   /model/standardizer/mean, /model/standardizer/scale   (d) the input statistics used in training
#include <memory>
#include <string>
#include <vector>

#include "moe/data/standardizer.hpp"
#include "moe/h5/hdf5.hpp"
#include "moe/models/model.hpp"

namespace moe {

struct SavedModel {
  std::unique_ptr<Model> model;
  Standardizer standardizer;
  std::vector<std::string> feature_names, target_names;
};

void write_model(h5::File& file, Model& model, const Standardizer& standardizer,
                 const std::vector<std::string>& feature_names, const std::vector<std::string>& target_names);

// Rebuilds the model from its attributes and loads every parameter; fails with a one-line moe::Error
// naming the file and what is missing or of the wrong shape. The attributes are checked against what
// /model/params stores before the model is built, so a damaged or edited file that claims absurd sizes
// (inputs = 18446744073709551615, say) is refused rather than allocated.
SavedModel read_model(const h5::File& file);

// A lower bound on the number of values in the state of a model of `spec` (Model::collect_state, what
// /model/params holds): its largest matrices, from the sizes alone, without building it. Within a small
// factor of the true count (tests/io/test_model_io.cpp checks both ways for every kind).
double min_state_values(const ModelSpec& spec);

}  // namespace moe
