#pragma once
// What moe-train read its data with, recorded in /model/data so that moe-eval needs no flag the model
// already knows (the target column, the tokenizer, the context and the document split of a language model):
//   /model/data                attributes task (classification | regression | lm), split_seed (the seed the
//                              split was drawn with: --split-seed, or else --seed), valid_fraction,
//                              test_fraction, missing (error | drop); lm text also tokenizer, context,
//                              max_documents
//   /model/data/target_columns (strings) the target column(s) of the data file; empty for a language model
// Files written before it have only the root attribute config (the TOML text of the run's flags):
// read_data_record falls back to it.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "moe/h5/hdf5.hpp"

namespace moe {

struct DataRecord {
  std::string task;
  std::vector<std::string> target_columns;
  std::uint64_t split_seed = 0;
  double valid_fraction = 0.0, test_fraction = 0.0;
  std::string missing = "error";
  // lm (text corpora; the synthetic language has none of these)
  std::string tokenizer;
  std::uint64_t context = 0, max_documents = 0;
  bool from_config = false;  // read from the root config text (a file written before /model/data)
};

void write_data_record(h5::File& file, const DataRecord& record);

// /model/data; else the keys of the root attribute config; nullopt when the file has neither.
std::optional<DataRecord> read_data_record(const h5::File& file);

// The record that `moe-train` flags given as TOML (the root config attribute) describe: target, task,
// split-seed (or seed, or 1, moe-train's default seed), valid-fraction, test-fraction, missing, tokenizer,
// context, max-documents; a key that is absent keeps moe-train's default.
DataRecord data_record_from_config(const std::string& toml);

}  // namespace moe
