#pragma once
// Two results files hold the same numbers: every dataset and every attribute of each (numeric or string)
// exists in the other and is identical to the last bit, except what describes the run rather than its
// results: wall-clock times (history/seconds, history@train_seconds, /@created) and how it was started
// (/@command_line, /@config: a resumed run's flags differ; /@threads). Returns the number of datasets compared.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "moe/core/error.hpp"
#include "moe/h5/hdf5.hpp"

namespace moe::test {

// tolerance > 0: numbers may differ by that much, relative to the larger magnitude (at least 1); only_in_b:
// datasets ("routing/rank_load") and attributes ("routing@ranks", "/@x" for the root) b may hold that a
// does not (e.g. an expert-parallel run's per-rank series), not compared.
inline int check_same_results(const std::string& a, const std::string& b, double tolerance = 0.0,
                              const std::vector<std::string>& only_in_b = {}) {
  h5::File fa = h5::File::open(a), fb = h5::File::open(b);
  int compared = 0;
  auto close = [&](double x, double y) {
    return tolerance == 0.0 ? x == y : std::abs(x - y) <= tolerance * std::max({1.0, std::abs(x), std::abs(y)});
  };
  auto same_attributes = [&](const std::string& object) {
    const std::string key = object.empty() ? "/" : object;
    CAPTURE(key);
    auto listed = [&](const std::string& name) {
      return std::find(only_in_b.begin(), only_in_b.end(), key + "@" + name) != only_in_b.end();
    };
    std::vector<std::string> in_b;
    for (const auto& name : fb.attributes(key))
      if (!listed(name)) in_b.push_back(name);
    REQUIRE(fa.attributes(key) == in_b);
    for (const auto& name : in_b) {
      const bool run_description =
          (key == "/" && (name == "command_line" || name == "config" || name == "created" || name == "threads")) ||
          (key == "history" && name == "train_seconds");
      if (run_description) continue;
      CAPTURE(name);
      std::string sa, sb;
      bool is_string = true;
      try {
        sa = fa.attr_string(key, name), sb = fb.attr_string(key, name);
      } catch (const moe::Error&) {
        is_string = false;
      }
      if (is_string) CHECK(sa == sb);
      else CHECK(close(fa.attr_double(key, name), fb.attr_double(key, name)));
    }
  };
  std::function<void(const std::string&)> walk = [&](const std::string& group) {
    CAPTURE(group);
    same_attributes(group);
    std::vector<std::string> in_b;
    for (const auto& name : fb.children(group)) {
      const std::string path = group.empty() ? name : group + "/" + name;
      if (std::find(only_in_b.begin(), only_in_b.end(), path) == only_in_b.end()) in_b.push_back(name);
    }
    REQUIRE(fa.children(group) == in_b);
    for (const auto& name : fa.children(group)) {
      const std::string path = group.empty() ? name : group + "/" + name;
      if (!fa.is_dataset(path)) {
        walk(path);
        continue;
      }
      same_attributes(path);
      if (path == "history/seconds") continue;
      CAPTURE(path);
      if (fa.is_string_dataset(path)) {
        CHECK(fa.read_strings(path) == fb.read_strings(path));
      } else {
        const arma::mat x = fa.read_matrix(path), y = fb.read_matrix(path);
        REQUIRE(arma::size(x) == arma::size(y));
        if (tolerance == 0.0) {
          CHECK(arma::approx_equal(x, y, "absdiff", 0.0));
        } else if (!x.is_empty()) {
          const double scale = std::max({1.0, arma::abs(x).max(), arma::abs(y).max()});
          CHECK(arma::abs(x - y).max() <= tolerance * scale);
        }
      }
      ++compared;
    }
  };
  walk("");
  return compared;
}

}  // namespace moe::test
