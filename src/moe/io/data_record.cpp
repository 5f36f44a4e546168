#include "moe/io/data_record.hpp"

#include <charconv>
#include <map>
#include <sstream>

#include "moe/core/error.hpp"

namespace moe {

namespace {

const char* const group = "model/data";

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// A TOML value as CLI11's config_to_str writes it: "text" or 'text' (quotes removed, \" and \\ undone),
// a bare number or word, or a list [a,b] (its items joined with commas).
std::string toml_value(const std::string& raw) {
  std::string v = trim(raw);
  if (!v.empty() && v.front() == '[' && v.back() == ']') {
    std::string out, item;
    std::istringstream in(v.substr(1, v.size() - 2));
    while (std::getline(in, item, ',')) {  // two steps: GCC 12 warns (-Wrestrict) on "..." + string&&
      if (!out.empty()) out += ',';
      out += toml_value(item);
    }
    return out;
  }
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
    const char q = v.front();
    std::string out;
    for (std::size_t i = 1; i + 1 < v.size(); ++i) {
      if (q == '"' && v[i] == '\\' && i + 2 < v.size()) ++i;
      out += v[i];
    }
    return out;
  }
  return v;
}

std::map<std::string, std::string> toml_keys(const std::string& toml) {
  std::map<std::string, std::string> out;
  std::istringstream in(toml);
  std::string line;
  while (std::getline(in, line)) {
    const std::string t = trim(line);
    const auto eq = t.find('=');
    if (t.empty() || t.front() == '#' || t.front() == '[' || eq == std::string::npos) continue;
    out[trim(t.substr(0, eq))] = toml_value(t.substr(eq + 1));
  }
  return out;
}

// The unsigned number of config key `key`, or `fallback` when absent or not a whole number.
std::uint64_t whole(const std::map<std::string, std::string>& keys, const std::string& key, std::uint64_t fallback) {
  const auto it = keys.find(key);
  if (it == keys.end()) return fallback;
  std::uint64_t v = 0;
  const char* end = it->second.data() + it->second.size();
  const auto [ptr, ec] = std::from_chars(it->second.data(), end, v);
  return ec == std::errc() && ptr == end ? v : fallback;
}

double real(const std::map<std::string, std::string>& keys, const std::string& key, double fallback) {
  const auto it = keys.find(key);
  if (it == keys.end()) return fallback;
  try {
    std::size_t used = 0;
    const double v = std::stod(it->second, &used);
    return used == it->second.size() ? v : fallback;
  } catch (const std::exception&) {
    return fallback;
  }
}

std::vector<std::string> comma_list(const std::string& text) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(text);
  while (std::getline(in, item, ','))
    if (!trim(item).empty()) out.push_back(trim(item));
  return out;
}

}  // namespace

void write_data_record(h5::File& file, const DataRecord& r) {
  file.create_group(group);
  file.set_attr(group, "task", r.task);
  // The seed is a uint64 of any size: a one-element dataset keeps it exact (attributes here are int64).
  file.write(std::string(group) + "/split_seed", arma::uvec{arma::uword(r.split_seed)});
  file.set_attr(group, "valid_fraction", r.valid_fraction);
  file.set_attr(group, "test_fraction", r.test_fraction);
  file.set_attr(group, "missing", r.missing);
  file.write(std::string(group) + "/target_columns", r.target_columns);
  if (!r.tokenizer.empty()) {
    file.set_attr(group, "tokenizer", r.tokenizer);
    file.set_attr(group, "context", std::int64_t(r.context));
    file.set_attr(group, "max_documents", std::int64_t(r.max_documents));
  }
}

DataRecord data_record_from_config(const std::string& toml) {
  const std::map<std::string, std::string> keys = toml_keys(toml);
  auto text = [&](const std::string& key, const std::string& fallback) {
    const auto it = keys.find(key);
    return it == keys.end() ? fallback : it->second;
  };
  DataRecord r;
  r.from_config = true;
  r.task = text("task", "classification");
  if (r.task != "lm") r.target_columns = comma_list(text("target", ""));
  const std::uint64_t seed = whole(keys, "seed", 1);  // moe-train's default --seed
  r.split_seed = whole(keys, "split-seed", 0);
  if (r.split_seed == 0) r.split_seed = seed;
  r.valid_fraction = real(keys, "valid-fraction", 0.0);
  r.test_fraction = real(keys, "test-fraction", 0.0);
  r.missing = text("missing", "error");
  if (r.task == "lm") {
    r.tokenizer = text("tokenizer", "word");
    r.context = whole(keys, "context", 3);
    r.max_documents = whole(keys, "max-documents", 0);
  }
  return r;
}

std::optional<DataRecord> read_data_record(const h5::File& file) {
  if (file.is_group(group)) {
    DataRecord r;
    const std::string g = group;
    auto need = [&](const char* name) {
      require(file.has_attr(g, name), file.path() + ": /model/data attribute '" + name + "' is missing");
    };
    for (const char* name : {"task", "valid_fraction", "test_fraction", "missing"}) need(name);
    require(file.is_dataset(g + "/split_seed") && file.is_dataset(g + "/target_columns"),
            file.path() + ": /model/data lacks split_seed or target_columns");
    r.task = file.attr_string(g, "task");
    const arma::uvec seed = file.read_uvec(g + "/split_seed");
    require(seed.n_elem == 1, file.path() + ": /model/data/split_seed must hold one value");
    r.split_seed = seed[0];
    r.valid_fraction = file.attr_double(g, "valid_fraction");
    r.test_fraction = file.attr_double(g, "test_fraction");
    r.missing = file.attr_string(g, "missing");
    r.target_columns = file.read_strings(g + "/target_columns");
    if (file.has_attr(g, "tokenizer")) {
      need("context"), need("max_documents");
      r.tokenizer = file.attr_string(g, "tokenizer");
      const std::int64_t context = file.attr_int(g, "context"), documents = file.attr_int(g, "max_documents");
      require(context >= 0 && documents >= 0, file.path() + ": /model/data context or max_documents is negative");
      r.context = std::uint64_t(context);
      r.max_documents = std::uint64_t(documents);
    }
    return r;
  }
  if (file.has_attr("/", "config")) return data_record_from_config(file.attr_string("/", "config"));
  return std::nullopt;
}

}  // namespace moe
