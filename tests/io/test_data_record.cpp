// /model/data (what moe-train read its data with, for moe-eval): written and read back, and the fallback to
// the root config text of files written before it.
#include <doctest/doctest.h>

#include "cli/run_command.hpp"
#include "moe/core/error.hpp"
#include "moe/io/data_record.hpp"

using namespace moe;
using moe::test::TempDir;

TEST_CASE("data record: /model/data round trip, an lm record with its tokenizer, context and documents") {
  TempDir dir("datarecord");
  DataRecord lm;
  lm.task = "lm";
  lm.split_seed = 18446744073709551615ull;  // exact: a uint64 dataset, not an int64 attribute
  lm.valid_fraction = 0.25;
  lm.test_fraction = 0.125;
  lm.tokenizer = "char";
  lm.context = 5;
  lm.max_documents = 40;
  DataRecord table;
  table.task = "regression";
  table.target_columns = {"F2", "F3"};
  table.split_seed = 7;
  table.missing = "drop";
  for (const DataRecord& r : {lm, table}) {
    const std::string path = dir / (r.task + ".h5");
    {
      h5::File f = h5::File::create(path);
      f.create_group("model");
      write_data_record(f, r);
      f.commit();
    }
    const std::optional<DataRecord> back = read_data_record(h5::File::open(path));
    REQUIRE(back.has_value());
    CHECK(back->task == r.task);
    CHECK(back->target_columns == r.target_columns);
    CHECK(back->split_seed == r.split_seed);
    CHECK(back->valid_fraction == r.valid_fraction);
    CHECK(back->test_fraction == r.test_fraction);
    CHECK(back->missing == r.missing);
    CHECK(back->tokenizer == r.tokenizer);
    CHECK(back->context == r.context);
    CHECK(back->max_documents == r.max_documents);
    CHECK(!back->from_config);
  }
}

TEST_CASE("data record: from the config text of a file written before /model/data, moe-train's defaults for keys "
          "it lacks") {
  DataRecord r = data_record_from_config("data=\"pb.csv\"\ntarget=\"F2,F3\"\ntask=\"regression\"\nseed=9\n"
                                         "valid-fraction=0.25\nfeatures=[\"F1\",\"F0\"]\n");
  CHECK(r.from_config);
  CHECK(r.task == "regression");
  CHECK(r.target_columns == std::vector<std::string>{"F2", "F3"});
  CHECK(r.split_seed == 9);  // no split-seed: the run's --seed
  CHECK(r.valid_fraction == 0.25);
  CHECK(r.test_fraction == 0.0);
  CHECK(r.tokenizer.empty());
  r = data_record_from_config("task=\"lm\"\nsplit-seed=4\nseed=9\ntokenizer=\"char\"\ntest-fraction=0.5\n");
  CHECK(r.split_seed == 4);
  CHECK(r.target_columns.empty());
  CHECK(r.tokenizer == "char");
  CHECK(r.context == 3);  // moe-train's default --context
  CHECK(r.test_fraction == 0.5);
  r = data_record_from_config("target='Vowel'\n");
  CHECK(r.task == "classification");
  CHECK(r.target_columns == std::vector<std::string>{"Vowel"});
  CHECK(r.split_seed == 1);  // moe-train's default --seed
}

TEST_CASE("data record: a file with neither /model/data nor a config has none, and a damaged one is one line") {
  TempDir dir("datarecord-none");
  const std::string none = dir / "none.h5", bad = dir / "bad.h5";
  {
    h5::File f = h5::File::create(none);
    f.create_group("model");
    f.commit();
  }
  CHECK(!read_data_record(h5::File::open(none)).has_value());
  {
    h5::File f = h5::File::create(bad);
    f.create_group("model/data");
    f.set_attr("model/data", "task", "classification");
    f.commit();
  }
  std::string msg;
  try {
    read_data_record(h5::File::open(bad));
  } catch (const Error& e) {
    msg = e.what();
  }
  CHECK(msg.find("/model/data attribute 'valid_fraction' is missing") != std::string::npos);
}
