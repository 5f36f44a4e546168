#pragma once
// Two results files hold the same numbers: every dataset of each (numeric or string) exists in the other
// and is identical to the last bit, except wall-clock times (history/seconds), the one thing a seed
// cannot fix. Returns the number of datasets compared.
#include <doctest/doctest.h>

#include <functional>
#include <string>

#include "moe/io/hdf5.hpp"

namespace moe::test {

inline int check_same_results(const std::string& a, const std::string& b) {
  h5::File fa = h5::File::open(a), fb = h5::File::open(b);
  int compared = 0;
  std::function<void(const std::string&)> walk = [&](const std::string& group) {
    CAPTURE(group);
    REQUIRE(fa.children(group) == fb.children(group));
    for (const auto& name : fa.children(group)) {
      const std::string path = group.empty() ? name : group + "/" + name;
      if (!fa.is_dataset(path)) {
        walk(path);
        continue;
      }
      if (path == "history/seconds") continue;
      CAPTURE(path);
      if (fa.is_string_dataset(path)) {
        CHECK(fa.read_strings(path) == fb.read_strings(path));
      } else {
        const arma::mat x = fa.read_matrix(path), y = fb.read_matrix(path);
        REQUIRE(arma::size(x) == arma::size(y));
        CHECK(arma::approx_equal(x, y, "absdiff", 0.0));
      }
      ++compared;
    }
  };
  walk("");
  return compared;
}

}  // namespace moe::test
