// split_by_group (speaker-independent splits) and split_random.
#include <doctest/doctest.h>

#include <set>

#include "data/data_test_util.hpp"
#include "moe/data/split.hpp"

using namespace moe;
using namespace moe::test;

namespace {

// N = 3 observations per group for `groups` groups named g0.., interleaved.
Dataset grouped(int groups) {
  Dataset ds;
  ds.X.zeros(1, 3 * groups);
  ds.Y.zeros(1, 3 * groups);
  ds.group_name = "Speaker";
  for (int i = 0; i < 3 * groups; ++i) {
    std::string id = "g";  // (not "g" + ...: GCC 12 -Wrestrict false positive)
    ds.groups.push_back(id += std::to_string(i % groups));
  }
  return ds;
}

std::set<std::string> groups_of(const Dataset& ds, const arma::uvec& idx) {
  std::set<std::string> s;
  for (arma::uword i : idx) s.insert(ds.groups[i]);
  return s;
}

}  // namespace

TEST_CASE("split_by_group: counts, disjoint groups, sorted indices") {
  Dataset ds = grouped(10);
  Rng rng(7);
  Split s = split_by_group(ds, 5, 2, 3, rng);
  CHECK(s.train_groups.size() == 5);
  CHECK(s.valid_groups.size() == 2);
  CHECK(s.test_groups.size() == 3);
  CHECK(s.train.n_elem == 15);
  CHECK(s.valid.n_elem == 6);
  CHECK(s.test.n_elem == 9);
  CHECK(s.train.is_sorted());
  CHECK(s.test.is_sorted());
  auto tr = groups_of(ds, s.train), va = groups_of(ds, s.valid), te = groups_of(ds, s.test);
  CHECK(tr == std::set<std::string>(s.train_groups.begin(), s.train_groups.end()));
  for (const auto& g : tr) CHECK((va.count(g) == 0 && te.count(g) == 0));
  for (const auto& g : va) CHECK(te.count(g) == 0);
}

TEST_CASE("split_by_group: same seed same split, other seed differs, unused groups allowed") {
  Dataset ds = grouped(20);
  Rng a(3), b(3), c(4);
  Split s1 = split_by_group(ds, 6, 0, 4, a), s2 = split_by_group(ds, 6, 0, 4, b);
  Split s3 = split_by_group(ds, 6, 0, 4, c);
  CHECK(s1.train_groups == s2.train_groups);
  CHECK(arma::all(s1.test == s2.test));
  CHECK((s1.train_groups != s3.train_groups || s1.test_groups != s3.test_groups));
  CHECK(s1.valid.is_empty());
  CHECK(s1.train.n_elem + s1.test.n_elem == 30);  // 10 of 20 groups unused

  Rng d(1);
  Split all = split_by_group(ds, 20, 0, 0, d);
  CHECK(all.train.n_elem == ds.n());
  CHECK(all.test.is_empty());
}

TEST_CASE("split_by_group errors: too few groups, no group column") {
  Dataset ds = grouped(76);
  Rng rng(1);
  std::string msg = error_of([&] { split_by_group(ds, 50, 0, 80, rng); });
  CHECK(msg == "only 76 groups (column 'Speaker'), asked for 50+0+80");

  Dataset none;
  none.X.zeros(1, 4);
  msg = error_of([&] { split_by_group(none, 1, 0, 1, rng); });
  CHECK(one_line(msg));
  CHECK(contains(msg, "no group column"));
}

TEST_CASE("split_random: sizes, partition of 0..n-1, determinism, bad fractions") {
  Rng a(5), b(5);
  Split s = split_random(100, 0.1, 0.2, a);
  CHECK(s.train.n_elem == 70);
  CHECK(s.valid.n_elem == 10);
  CHECK(s.test.n_elem == 20);
  arma::uvec all = arma::sort(arma::join_cols(s.train, arma::join_cols(s.valid, s.test)));
  CHECK(arma::all(all == arma::regspace<arma::uvec>(0, 99)));
  CHECK(s.valid.is_sorted());
  CHECK(arma::all(split_random(100, 0.1, 0.2, b).test == s.test));
  CHECK(contains(error_of([&] { split_random(10, 0.6, 0.5, a); }), "split fractions"));
  CHECK(contains(error_of([&] { split_random(2, 0.4, 0.4, a); }), "none for training"));
}
