#pragma once
// Train / validation / test splits as column indices into a Dataset (use Dataset::subset).
#include <armadillo>
#include <string>
#include <vector>

#include "moe/core/rng.hpp"
#include "moe/data/dataset.hpp"

namespace moe {

struct Split {
  arma::uvec train, valid, test;  // column indices into the data set, ascending within each part
  std::vector<std::string> train_groups, valid_groups, test_groups;  // group ids per part (sorted)
};

// Speaker-independent split: the sorted unique group ids are shuffled with `rng`; the first
// n_train go to train, the next n_valid to valid, the next n_test to test, the rest are unused.
// Same seed, same split. Fails when the data set has no groups or has fewer than
// n_train + n_valid + n_test of them, or when n_train is 0.
Split split_by_group(const Dataset& data, std::size_t n_train_groups, std::size_t n_valid_groups,
                     std::size_t n_test_groups, Rng& rng);

// For data without groups: a random permutation of 0..n-1; round(frac_test * n) observations go to
// test, round(frac_valid * n) to valid, the rest to train. Fractions in [0, 1), summing below 1.
Split split_random(std::size_t n, double frac_valid, double frac_test, Rng& rng);

}  // namespace moe
