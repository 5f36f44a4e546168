#include "moe/data/file_info.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <vector>

#include "moe/core/error.hpp"
#include "moe/data/hdf5_table.hpp"
#include "moe/data/idx.hpp"
#include "moe/data/read_table.hpp"
#include "moe/data/summary.hpp"
#include "moe/h5/hdf5.hpp"
#include "moe/text/corpus.hpp"

namespace moe {

namespace fs = std::filesystem;

namespace {

std::string fmt(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::string shape_text(const std::vector<std::uint64_t>& shape) {
  if (shape.empty()) return "scalar";
  std::string out;
  for (std::size_t k = 0; k < shape.size(); ++k) out += (k ? " x " : "") + std::to_string(shape[k]);
  return out;
}

// Arrays up to this many elements are read for their value range; larger ones (a whole MNIST set as
// doubles is 0.4 GB) are described by their header alone.
constexpr std::uint64_t max_elements_read = 20'000'000;

std::uint64_t elements(const std::vector<std::uint64_t>& shape) {
  std::uint64_t n = 1;
  for (std::uint64_t s : shape) n *= s;
  return n;
}

enum class Kind { directory, meta, idx, corpus, hdf5, table };

// The first bytes of a file (fewer when it is shorter).
std::string head_bytes(const std::string& path, std::size_t n) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes(n, '\0');
  in.read(bytes.data(), std::streamsize(n));
  bytes.resize(std::size_t(in.gcount()));
  return bytes;
}

Kind kind_of(const std::string& path) {
  if (fs::is_directory(path)) return Kind::directory;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  // A FIFO or a device would block or never end: only regular files are read.
  require(!fs::exists(st) || fs::is_regular_file(st), "cannot describe " + path + ": not a regular file or a folder");
  const std::string ext = fs::path(path).extension().string();
  if (ext == ".meta") return Kind::meta;
  if (ext == ".txt") return Kind::corpus;
  if (is_hdf5_path(path)) return Kind::hdf5;
  const std::string head = head_bytes(path, 4);
  // IDX: 00 00 <type> <dimensions>; gzip: 1f 8b (only IDX files are stored gzipped: Debian's
  // dataset-fashion-mnist).
  if (head.size() == 4 && head[0] == '\0' && head[1] == '\0' && head[3] != '\0') return Kind::idx;
  if (head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x1f && static_cast<unsigned char>(head[1]) == 0x8b)
    return Kind::idx;
  if (head.rfind("\x89HDF", 0) == 0) return Kind::hdf5;
  return Kind::table;
}

std::string describe_meta(const std::string& path) {
  std::ifstream in(path);
  require(static_cast<bool>(in), "cannot open " + path + ": permission denied or unreadable");
  std::vector<std::string> lines;
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    require(line.find(" = ") != std::string::npos,
            path + " line " + std::to_string(number) + ": expected 'key = value', got '" + line.substr(0, 60) + "'");
    lines.push_back(line);
  }
  std::string out = path + ": provenance record (moe-data fetch), " + std::to_string(lines.size()) + " entries\n";
  for (const std::string& l : lines) out += "  " + l + "\n";
  return out;
}

std::string describe_idx(const std::string& path) {
  // The header alone first (zlib reads plain and gzipped files alike), so a large set is not loaded.
  gzFile f = gzopen(path.c_str(), "rb");
  require(f != nullptr, "cannot open " + path + ": permission denied or unreadable");
  unsigned char magic[4] = {0, 0, 0, 0};
  const int got = gzread(f, magic, 4);
  std::vector<std::uint64_t> dims;
  for (int k = 0; got == 4 && k < magic[3]; ++k) {
    unsigned char b[4];
    if (gzread(f, b, 4) != 4) break;
    dims.push_back((std::uint64_t(b[0]) << 24) | (std::uint64_t(b[1]) << 16) | (std::uint64_t(b[2]) << 8) | b[3]);
  }
  gzclose(f);
  require(got == 4 && magic[0] == 0 && magic[1] == 0 && magic[3] > 0 && dims.size() == magic[3],
          path + ": not an IDX file (bad or truncated header)");
  std::string out = path + ": IDX array of " + idx_type_name(magic[2]) + ", " + shape_text(dims);
  if (dims.size() == 3) out += " (" + std::to_string(dims[0]) + " images of " + std::to_string(dims[1]) + " x " +
                               std::to_string(dims[2]) + ")";
  if (dims.size() == 1) out += " (" + std::to_string(dims[0]) + " values, e.g. labels)";
  out += "\n";
  if (elements(dims) > max_elements_read) return out + "  values not read (" + std::to_string(elements(dims)) +
                                                  " elements)\n";
  const IdxArray a = read_idx(path);  // checks the whole file (truncated data, bytes left over)
  if (a.values.empty()) return out;
  const auto [lo, hi] = std::minmax_element(a.values.begin(), a.values.end());
  out += "  values " + fmt(*lo) + " .. " + fmt(*hi);
  if (dims.size() == 1) {  // labels: how many of each
    std::map<double, std::size_t> counts;
    for (double v : a.values) ++counts[v];
    out += ", " + std::to_string(counts.size()) + " distinct";
    if (counts.size() <= 20) {
      out += ":";
      for (const auto& [v, c] : counts) {  // appended piece by piece: GCC 12 warns (-Wrestrict, a false
        out += ' ';                         // positive) on "literal" + std::string&& once inlined
        out += fmt(v);
        out += " (";
        out += std::to_string(c);
        out += ')';
      }
    }
  }
  return out + "\n";
}

std::string describe_corpus(const std::string& path) {
  const Corpus c = read_corpus(path);
  std::size_t words = 0;
  for (const Document& d : c.documents) words += d.text.empty() ? 0 : 1 + std::count(d.text.begin(), d.text.end(), ' ');
  std::string out = path + ": corpus, " + std::to_string(c.documents.size()) + " documents, " + std::to_string(words) +
                    " words, " + std::to_string(c.characters()) + " characters\n";
  if (c.documents.empty()) return out;
  out += "  documents:";
  const std::size_t shown = std::min<std::size_t>(c.documents.size(), 5);
  for (std::size_t k = 0; k < shown; ++k) out += (k ? ", " : " ") + c.documents[k].id;
  return out + (c.documents.size() > shown ? ", ...\n" : "\n");
}

// An attribute's value as text: a string as it is, a number with up to 10 significant digits.
std::string attribute_text(const h5::File& file, const std::string& object, const std::string& name) {
  try {
    return file.attr_string(object, name);
  } catch (const Error&) {
    return fmt(file.attr_double(object, name));
  }
}

// The group's attributes, its 1-D datasets as a table, its other datasets and its sub-groups
// (recursively), each line indented by `indent`.
void describe_group(const h5::File& file, const std::string& path, const std::string& group, const std::string& indent,
                    std::string& out) {
  const std::string prefix = group.back() == '/' ? group : group + "/";
  for (const std::string& a : file.attributes(group)) out += indent + "attribute " + a + " = " + attribute_text(file, group, a) + "\n";
  std::vector<std::string> others, subgroups;
  std::size_t columns = 0;
  for (const std::string& name : file.children(group)) {
    const std::string object = prefix + name;
    if (file.is_group(object)) subgroups.push_back(name);
    else if (file.shape(object).size() == 1) ++columns;
    else others.push_back(name);
  }
  if (columns > 0) {
    Table t;
    try {
      t = read_hdf5_table(path, group, others);
    } catch (const Error&) {  // columns of different lengths: not a table, listed one by one below
      for (const std::string& name : file.children(group))
        if (!file.is_group(prefix + name) && file.shape(prefix + name).size() == 1) others.push_back(name);
    }
    if (!t.columns.empty()) {
      std::string table = describe_table("columns", t);
      for (std::size_t start = 0; start < table.size();) {  // indented once more
        const std::size_t end = table.find('\n', start);
        out += indent + table.substr(start, end - start + 1);
        start = end + 1;
      }
    }
  }
  std::sort(others.begin(), others.end());
  for (const std::string& name : others) {
    const std::string object = prefix + name;
    const std::vector<std::uint64_t> shape = file.shape(object);
    out += indent + name + "  " + std::to_string(shape.size()) + "-D " + shape_text(shape);
    if (file.is_string_dataset(object)) {
      out += ", text\n";
    } else if (shape.size() == 2 && elements(shape) > 0 && elements(shape) <= max_elements_read) {
      const arma::mat m = file.read_matrix(object);
      out += ", numeric " + fmt(m.min()) + " .. " + fmt(m.max()) + "\n";
    } else {
      out += ", numeric\n";
    }
  }
  for (const std::string& name : subgroups) {
    out += indent + name + "/  group\n";
    describe_group(file, path, prefix + name, indent + "  ", out);
  }
}

std::string describe_hdf5(const std::string& path, const std::string& group_in) {
  const std::string group = group_in.empty() ? "/" : group_in;
  const h5::File file = h5::File::open(path);
  require(file.is_group(group), "no group '" + group + "' in " + path);
  std::string out = path + ": HDF5" + (group == "/" ? "" : ", group " + group) + "\n";
  describe_group(file, path, group, "  ", out);
  return out;
}

}  // namespace

std::string describe_table(const std::string& source, const Table& t) {
  std::string out = source + ": " + std::to_string(t.rows.size()) + " rows, " + std::to_string(t.columns.size()) +
                    " columns\n";
  std::size_t width = 0;
  for (const auto& c : t.columns) width = std::max(width, c.size());
  for (const auto& s : summarize(t)) {
    out += "  " + s.name + std::string(width - s.name.size() + 2, ' ');
    if (s.numeric) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "numeric  %g .. %g  (%zu distinct)\n", s.min, s.max, s.distinct);
      out += buf;
    } else {
      out += "text     " + std::to_string(s.distinct) + " distinct:";
      for (std::size_t k = 0; k < s.examples.size(); ++k) out += (k ? ", " : " ") + s.examples[k];
      out += s.distinct > s.examples.size() ? ", ...\n" : "\n";
    }
  }
  return out;
}

std::string describe_file(const std::string& path, const std::string& group) {
  std::error_code ec;
  if (!fs::exists(path, ec)) fail("cannot open " + path + ": no such file");
  const Kind kind = kind_of(path);
  require(group.empty() || kind == Kind::hdf5, "--group applies to HDF5 files only, not " + path);
  switch (kind) {
    case Kind::directory: {
      std::vector<std::string> files;
      for (const auto& e : fs::directory_iterator(path))
        if (e.is_regular_file()) files.push_back(e.path().string());
      std::sort(files.begin(), files.end());
      std::string out = path + ": directory, " + std::to_string(files.size()) + " files\n";
      for (const std::string& f : files) out += describe_file(f);
      return out;
    }
    case Kind::meta: return describe_meta(path);
    case Kind::idx: return describe_idx(path);
    case Kind::corpus: return describe_corpus(path);
    case Kind::hdf5: return describe_hdf5(path, group);
    case Kind::table: break;
  }
  return describe_table(path, read_csv(path));
}

}  // namespace moe
