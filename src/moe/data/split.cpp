#include "moe/data/split.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "moe/core/error.hpp"

namespace moe {

namespace {

arma::uvec sorted_uvec(std::vector<arma::uword>& v) {
  std::sort(v.begin(), v.end());
  return arma::uvec(v);
}

}  // namespace

Split split_by_group(const Dataset& data, std::size_t n_train, std::size_t n_valid, std::size_t n_test,
                     Rng& rng) {
  require(!data.groups.empty(), "the data set has no group column: cannot split by group");
  require(n_train > 0, "split by group needs at least one training group");
  const std::set<std::string> unique(data.groups.begin(), data.groups.end());
  const std::vector<std::string> ids(unique.begin(), unique.end());
  const std::size_t asked = n_train + n_valid + n_test;
  if (ids.size() < asked)
    fail("only " + std::to_string(ids.size()) + " groups (column '" + data.group_name + "'), asked for " +
         std::to_string(n_train) + "+" + std::to_string(n_valid) + "+" + std::to_string(n_test));

  // part[id] = 0 train, 1 valid, 2 test; ids not in the map are unused.
  const arma::uvec perm = rng.permutation(ids.size());
  std::map<std::string, int> part;
  Split s;
  for (std::size_t k = 0; k < asked; ++k) {
    const std::string& id = ids[perm[k]];
    const int p = k < n_train ? 0 : (k < n_train + n_valid ? 1 : 2);
    part[id] = p;
    (p == 0 ? s.train_groups : p == 1 ? s.valid_groups : s.test_groups).push_back(id);
  }
  for (auto* g : {&s.train_groups, &s.valid_groups, &s.test_groups}) std::sort(g->begin(), g->end());

  std::vector<arma::uword> idx[3];
  for (std::size_t i = 0; i < data.groups.size(); ++i) {
    auto it = part.find(data.groups[i]);
    if (it != part.end()) idx[it->second].push_back(i);
  }
  s.train = sorted_uvec(idx[0]);
  s.valid = sorted_uvec(idx[1]);
  s.test = sorted_uvec(idx[2]);
  return s;
}

Split split_random(std::size_t n, double frac_valid, double frac_test, Rng& rng) {
  require(frac_valid >= 0 && frac_valid < 1 && frac_test >= 0 && frac_test < 1 && frac_valid + frac_test < 1,
          "split fractions must lie in [0, 1) and sum below 1 (valid " + std::to_string(frac_valid) +
              ", test " + std::to_string(frac_test) + ")");
  const auto n_test = static_cast<std::size_t>(std::llround(frac_test * n));
  const auto n_valid = static_cast<std::size_t>(std::llround(frac_valid * n));
  require(n_test + n_valid < n, "split of " + std::to_string(n) + " observations leaves none for training");
  const arma::uvec perm = rng.permutation(n);
  std::vector<arma::uword> idx[3];
  for (std::size_t k = 0; k < n; ++k) idx[k < n_test ? 2 : (k < n_test + n_valid ? 1 : 0)].push_back(perm[k]);
  Split s;
  s.train = sorted_uvec(idx[0]);
  s.valid = sorted_uvec(idx[1]);
  s.test = sorted_uvec(idx[2]);
  return s;
}

}  // namespace moe
