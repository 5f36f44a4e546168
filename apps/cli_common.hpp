#pragma once
// Flag plumbing shared by the apps: flags -> config structs, the one-line error convention, and the
// recorded command line. No maths here: everything else is a library call.
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <algorithm>
#include <filesystem>
#include <functional>
#include <istream>
#include <memory>
#include <string>
#include <vector>

#include "moe/core/build_info.hpp"
#include "moe/core/error.hpp"
#include "moe/core/stop_request.hpp"
#include "moe/run/data_options.hpp"

namespace moe::cli {

inline std::string command_line(int argc, char** argv) {
  std::string out;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    const bool plain = !a.empty() && a.find_first_of(" \t\"'\\$`*?[]{}()<>|&;!") == std::string::npos;
    if (i) out += ' ';
    if (plain) {
      out += a;
    } else {
      out += '\'';
      for (char c : a) out += (c == '\'') ? std::string("'\\''") : std::string(1, c);
      out += '\'';
    }
  }
  return out;
}

// The line every program and subcommand prints for --version.
inline std::string version_line() {
  return std::string("moekit ") + moe::build::version + " (" + moe::build::git_revision + ")";
}

// --version on `app` and on every subcommand it has so far (call after adding the subcommands).
inline void add_version_flag(CLI::App& app) {
  app.set_version_flag("--version", version_line());
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) add_version_flag(*sub);
}

// A flag given twice takes its last value (`--epochs 3 --epochs 5` is 5), as in most command lines;
// list options (std::vector) still collect every value, so --filter stays repeatable. Call first, on
// the program's CLI::App: options and subcommands copy the defaults when they are added.
inline void last_value_wins(CLI::App& app) {
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
}

// Marks an option whose value is a file or directory path (a list of them, for a list option): in a
// --config file, a relative one is relative to that file's directory (ConfigRelativePaths).
inline constexpr const char* path_marker = "moe-path";
inline CLI::Option* path_option(CLI::Option* o) {
  return o->check(CLI::Validator([](std::string&) { return std::string(); }, "", path_marker));
}
inline bool is_path_option(CLI::Option* o) {
  try {
    o->get_validator(path_marker);
    return true;
  } catch (const CLI::OptionNotFound&) {
    return false;
  }
}

// The TOML reader of --config: CLI11's, except that the value of a path option (path_option) that is
// relative is taken relative to the config file's directory, so a config file and the data beside it
// can move together; absolute paths, and paths written on the command line, are left as they are.
class ConfigRelativePaths : public CLI::ConfigTOML {
 public:
  explicit ConfigRelativePaths(CLI::App* app) : app_(app) {}
  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override {
    std::vector<CLI::ConfigItem> items = CLI::ConfigTOML::from_config(input);
    // The file being read: --config is a single value (last_value_wins), so it is the option's value.
    const CLI::Option* config = app_->get_config_ptr();
    const std::filesystem::path dir =
        config && config->count() ? std::filesystem::path(config->as<std::string>()).parent_path() : "";
    if (dir.empty()) return items;
    for (CLI::ConfigItem& item : items) {
      CLI::Option* o = find(item);
      if (!o || !is_path_option(o)) continue;
      for (std::string& value : item.inputs) value = resolve(dir, value, o->get_delimiter());
    }
    return items;
  }

 private:
  CLI::App* app_;

  // The option a config item sets ([section] items belong to the subcommand of that name), as CLI11
  // looks it up; nullptr when there is none (CLI11 then reports the unknown key).
  CLI::Option* find(const CLI::ConfigItem& item) const {
    CLI::App* app = app_;
    for (const std::string& parent : item.parents) {
      try {
        app = app->get_subcommand(parent);
      } catch (const CLI::OptionNotFound&) {
        return nullptr;
      }
    }
    CLI::Option* o = app->get_option_no_throw("--" + item.name);
    if (!o && item.name.size() == 1) o = app->get_option_no_throw("-" + item.name);
    if (!o) o = app->get_option_no_throw(item.name);
    return o;
  }

  // `value` (a list split at `delimiter` when the option has one) with each relative path put under dir.
  static std::string resolve(const std::filesystem::path& dir, const std::string& value, char delimiter) {
    std::string out;
    std::size_t start = 0;
    while (true) {
      const std::size_t end = delimiter ? value.find(delimiter, start) : std::string::npos;
      const std::string part = value.substr(start, end == std::string::npos ? std::string::npos : end - start);
      const std::filesystem::path path(part);
      out += part.empty() || path.is_absolute() ? part : (dir / path).string();
      if (end == std::string::npos) break;
      out += delimiter;
      start = end + 1;
    }
    return out;
  }
};

// The --config file given, or "" (after parsing).
inline std::string config_file(const CLI::App& app) {
  const CLI::Option* c = app.get_config_ptr();
  return c && c->count() > 0 ? c->as<std::string>() : std::string();
}

// `--config FILE` reads any flag from TOML (key = flag name without dashes, e.g. learning-rate = 0.1).
inline void add_config_option(CLI::App& app, const std::string& keys = "keys are the long flag names") {
  app.set_config("--config", "", "Read flags from a TOML file (" + keys + "; flags given on the command line "
                                 "win; relative paths in it are relative to the file's directory)");
  app.config_formatter(std::make_shared<ConfigRelativePaths>(&app));
  app.allow_config_extras(CLI::config_extras_mode::error);  // a misspelt key is an error, not ignored
}

// Lists are written with or without spaces: "F1, F2" is F1,F2. For a list option (a delimiter splits
// it): each item trimmed; for a comma-separated text option (--target, --group): the items trimmed and
// joined by commas.
inline std::string trim_blanks(const std::string& text) {
  const auto b = text.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return text.substr(b, text.find_last_not_of(" \t") - b + 1);
}
inline CLI::Option* trimmed_items(CLI::Option* o) {
  return o->transform([](const std::string& item) { return trim_blanks(item); }, "", "trimmed");
}
inline CLI::Option* trimmed_list(CLI::Option* o) {
  return o->transform(
      [](const std::string& text) {
        std::string out;
        std::size_t start = 0;
        while (true) {
          const std::size_t comma = text.find(',', start);
          out += trim_blanks(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
          if (comma == std::string::npos) break;
          out += ',';
          start = comma + 1;
        }
        return out;
      },
      "", "trimmed");
}

inline void add_data_options(CLI::App& app, DataOptions& d, bool features_required) {
  path_option(app.add_option("--data", d.path, "Data file: CSV with a header line, or HDF5 (.h5/.hdf5) whose group "
                                                "holds one 1-D dataset per column"))
      ->required();
  app.add_option("--hdf5-group", d.hdf5_group, "HDF5 group holding the columns")->capture_default_str();
  auto* f = trimmed_items(app.add_option("--features", d.features, "Feature columns, comma-separated (e.g. F1,F2)")
                              ->delimiter(','));
  auto* m = app.add_option("--feature-matrix", d.feature_matrix,
                           "HDF5 data: a 2-D dataset of --hdf5-group holding the features, laid out as "
                           "--matrix-layout says (e.g. the pixels of `moe-data jitter`); its features are "
                           "named NAME[0], NAME[1], ...; replaces --features");
  if (features_required) f->excludes(m);  // one or the other (DataOptions::validate says when neither)
  app.add_option("--matrix-layout", d.matrix_layout, "--feature-matrix: columns (features x observations, one "
                                                     "observation per column, as `moe-data jitter` writes) or "
                                                     "rows (observations x features, as numpy, h5py and pandas "
                                                     "write an N x d array)")
      ->capture_default_str()
      ->check(CLI::IsMember({"columns", "rows"}));
  trimmed_list(app.add_option("--target", d.target, "Target column (classification: class names; regression: "
                                                    "numbers, comma-separated for several outputs); required "
                                                    "except for --task lm"));
  app.add_option("--filter", d.filters, "Keep rows whose column is one of the values: COLUMN=v1,v2 (repeatable; "
                                        "all must hold)");
  trimmed_list(app.add_option("--group", d.group, "Group column (e.g. Speaker) for group-disjoint splits"));
  app.add_option("--missing", d.missing, "Rows with a missing value (an empty cell, NA, or NaN) in a column the run "
                                         "reads (features, targets, group): error, or drop them with a warning "
                                         "that counts them (row ids keep naming the file's rows)")
      ->capture_default_str()
      ->check(CLI::IsMember({"error", "drop"}));
  trimmed_items(app.add_option("--classes", d.classes, "Class order, comma-separated (default: sorted class names)")
                    ->delimiter(','));
}

inline void add_split_options(CLI::App& app, DataOptions& d) {
  app.add_option("--task", d.task, "classification, regression or lm (language model: --data is a corpus "
                                   "from `moe-data fetch sotu|kjv` or a synthetic language .h5, split by "
                                   "document with --valid-fraction/--test-fraction)")
      ->capture_default_str();
  app.add_option("--train-groups", d.train_groups, "Split by --group: number of training groups (0: split rows "
                                                   "at random instead)")
      ->capture_default_str();
  app.add_option("--valid-groups", d.valid_groups, "Split by --group: number of validation groups")
      ->capture_default_str();
  app.add_option("--test-groups", d.test_groups, "Split by --group: number of test groups")->capture_default_str();
  app.add_option("--valid-fraction", d.valid_fraction, "Random split: fraction of rows for validation")
      ->capture_default_str();
  app.add_option("--test-fraction", d.test_fraction, "Random split: fraction of rows for test")->capture_default_str();
  app.add_option("--split-seed", d.split_seed, "Seed of the train/valid/test split alone (0: use --seed), so "
                                               "runs with different seeds can share one split")
      ->capture_default_str();
  app.add_flag("!--no-standardize", d.standardize, "Do not standardise features (default: zero mean, unit "
                                                   "variance with training statistics, saved with the model)");
}

// The long names (without dashes) of the options written on the command line, aliases resolved to the
// option's first long name (--lr -> learning-rate). Call after parsing.
inline std::vector<std::string> command_line_flags(const CLI::App& app, int argc, char** argv) {
  std::vector<std::string> out;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0 || a.size() == 2) continue;
    a = a.substr(0, a.find('='));
    if (const CLI::Option* o = app.get_option_no_throw(a); o && !o->get_lnames().empty())
      out.push_back(o->get_lnames().front());
  }
  return out;
}

// The flags among `names` (long names without dashes) that the user set: written on the command line
// (`command_line`, any value), or read from the --config file with a value other than the default. A
// config file that spells out defaults (as every /config recorded before the registries did) sets nothing.
inline std::vector<std::string> given_flags(const CLI::App& app, const std::vector<std::string>& names,
                                            const std::vector<std::string>& command_line) {
  std::vector<std::string> out;
  for (const std::string& name : names) {
    const CLI::Option* o = app.get_option("--" + name);
    if (o->count() == 0) continue;
    const bool typed = std::find(command_line.begin(), command_line.end(), name) != command_line.end();
    bool differs;
    if (o->get_items_expected_max() == 0) {  // a flag: set when its value is what the bare flag gives
      differs = o->as<std::string>() == o->get_flag_value(o->get_lnames().front(), "");
    } else {
      // Lists are compared without their brackets, quotes and spaces ("[4, 4]" and "[4,4]" are one list).
      auto bare = [](std::string text) {
        std::erase_if(text, [](char c) { return c == ' ' || c == '[' || c == ']' || c == '"' || c == '\''; });
        return text;
      };
      std::string joined;
      for (const std::string& r : o->reduced_results()) joined += (joined.empty() ? "" : ",") + r;
      std::string value = bare(joined), fallback = bare(o->get_default_str());
      differs = value != fallback;
      if (differs) {  // numbers written another way ("2" and "2.0", "0.001" and "1e-3") are equal
        double x = 0.0, y = 0.0;
        if (CLI::detail::lexical_cast(value, x) && CLI::detail::lexical_cast(fallback, y)) differs = x != y;
      }
    }
    if (typed || differs) out.push_back(name);
  }
  return out;
}

// Checks every number option has before its value is read. CLI11 reads "-1" into an unsigned option as a
// huge number, so every count, size and seed must be given as a non-negative number; and it reads "inf"
// and "nan" into a real option, which no setting of moekit means, so every real must be finite (the
// option's own check then names its range). Call after all options are added.
inline void check_number_options(CLI::App& app) {
  const CLI::Validator non_negative(
      [](std::string& value) -> std::string {
        const auto start = value.find_first_not_of(" \t");
        if (start != std::string::npos && value[start] == '-') return "must not be negative (got " + value + ")";
        return "";
      },
      "", "non-negative");
  const CLI::Validator finite(
      [](std::string& value) -> std::string {
        double x = 0.0;
        if (CLI::detail::lexical_cast(value, x) && !std::isfinite(x))
          return "must be a finite number (got " + value + ")";
        return "";  // a non-number is CLI11's own error
      },
      "", "finite");
  for (CLI::Option* o : app.get_options()) {
    if (o->get_type_name() == "UINT" || o->get_name() == "--threads" || o->get_name() == "--irls-iterations")
      o->check(non_negative);
    if (o->get_type_name() == "FLOAT") o->check(finite);
  }
}

// Runs `body` after parsing; maps every failure to "<program>: error: <one line>" and a non-zero exit
// (2 for usage errors: CLI11's parse errors and moe::UsageError; 1 for everything else).
inline int run(CLI::App& app, int argc, char** argv, const std::function<void()>& body) {
  const std::string program = app.get_name();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::Success&) {  // an option that did its work while parsing (--list)
    return 0;
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    const std::string extra = "INI was not able to parse ";  // CLI11's words for an unknown config key
    if (msg.rfind(extra, 0) == 0) msg = "unknown key '" + msg.substr(extra.size()) + "' in the --config file";
    for (char& c : msg)
      if (c == '\n') c = ' ';
    std::fprintf(stderr, "%s: error: %s (see --help)\n", program.c_str(), msg.c_str());
    return 2;
  }
  try {
    body();
  } catch (const moe::Stopped& e) {  // a requested stop, honoured: not an error
    std::fprintf(stderr, "%s: %s\n", program.c_str(), e.what());
    return e.exit_status();
  } catch (const moe::UsageError& e) {
    std::fprintf(stderr, "%s: error: %s\n", program.c_str(), e.what());
    return 2;
  } catch (const moe::Error& e) {
    std::fprintf(stderr, "%s: error: %s\n", program.c_str(), e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "%s: error: out of memory\n", program.c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: error: %s\n", program.c_str(), e.what());
    return 1;
  }
  return 0;
}

}  // namespace moe::cli
