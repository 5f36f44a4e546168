// The layering rule of src/moe (docs/architecture.md explains it, this file is its authority):
// every folder of src/moe sits on a floor, and a file may include (#include "moe/<folder>/...") only from
// folders on its own floor or below; the folder-level include graph has no cycle, so folders on one floor
// include each other in one direction only. The first test case reads every file under src/ and fails
// with one line per offending include; the second runs the same checker on small in-memory trees (one that
// breaks every rule), so the check cannot pass by seeing nothing; the third checks that the table of
// docs/architecture.md mirrors floor_table().
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

// A folder of src/moe (path below src/moe; a nested folder is a folder of its own) and its floor.
struct Placement {
  std::string folder;
  int floor;
};

// THE floor table. docs/architecture.md mirrors it; change both together. A new folder under src/moe
// fails the check until it has a line here.
const std::vector<Placement>& floor_table() {
  static const std::vector<Placement> table = {
      {"core", 0},            // errors, math, weighted least squares, rng, params, files, threads, clocks
      {"h5", 0},              // the HDF5 wrapper (moe::h5::File)
      {"backend", 1},         // the compute backend: tensors, CPU backend, routing plan, FFN kernels, CUDA basics
      {"data", 1},            // tables, readers, datasets, splits, standardiser, generators, fetchers
      {"text", 1},            // tokenizers, vocabulary, corpus files
            {"parallel", 1},        // communicators (one process, threads, MPI)
      {"fit", 2},             // IRLS, weighted least squares, the EM step's interface and options
      {"experts", 2},         // experts
      {"gates", 2},           // gates
      {"sparse", 2},          // the sparse MoE layer on the backend, its routers, routing stats, expert parallelism
      {"models", 3},          // Model, mixtures, HME, meta-pi, deep MoE, MLP, sparse net
      {"lm", 3},              // language models and their parts
      {"train", 4},           // trainers, optimisers, metrics, progress
      {"io", 5},              // results and model files, checkpoints
      {"bench", 5},           // moe-bench's measurements
      {"run", 6},             // the jobs the apps call: train, eval, data preparation
  };
  return table;
}

// Include lines that break the rule and cannot be changed yet (the file is being edited elsewhere). The
// check skips exactly these lines, and fails when one of them no longer exists: delete the entry then.
struct Pending {
  std::string file;     // below src/, e.g. "moe/models/make_model.cpp"
  std::string include;  // the included path, e.g. "moe/lm/language_model.hpp"
  std::string why;
};

const std::vector<Pending>& pending_table() {
  static const std::vector<Pending> pending = {};  // none: every folder keeps the rule
  return pending;
}

struct SourceFile {
  std::string path;  // below src/, e.g. "moe/core/math.hpp"
  std::string text;
};

struct IncludeLine {
  std::string file;    // below src/
  int line = 0;        // 1-based
  std::string target;  // the included path
  std::string where() const { return "src/" + file + ":" + std::to_string(line) + ": #include \"" + target + "\""; }
};

struct FloorReport {
  std::size_t files = 0, includes = 0;  // what was read: source files, includes of moe/...
  std::vector<std::string> unplaced;    // files and includes outside every folder of the table
  std::vector<std::string> upward;      // includes of a folder on a higher floor
  std::vector<std::string> cycles;      // one entry per folder-level cycle, with the lines forming it
  std::vector<std::string> stale;       // pending entries that match no include line
  std::vector<std::string> all() const {
    std::vector<std::string> out;
    for (const auto* v : {&unplaced, &upward, &cycles, &stale}) out.insert(out.end(), v->begin(), v->end());
    return out;
  }
  bool ok() const { return all().empty(); }
};

// The folder of a path below src/ ("moe/sparse/kernels/x.hpp" -> "sparse/kernels"), or "" when the path is
// not inside a folder of src/moe.
std::string folder_of(const std::string& path) {
  if (path.rfind("moe/", 0) != 0) return "";
  const auto slash = path.find_last_of('/');
  return slash <= 3 ? "" : path.substr(4, slash - 4);
}

// `#include "X"` or `#include <X>` at the start of a line (spaces allowed around '#'): X, else "".
// quoted: whether X was in quotes.
std::string include_target(const std::string& line, bool& quoted) {
  std::size_t i = line.find_first_not_of(" \t");
  if (i == std::string::npos || line[i] != '#') return "";
  i = line.find_first_not_of(" \t", i + 1);
  if (i == std::string::npos || line.compare(i, 7, "include") != 0) return "";
  i = line.find_first_not_of(" \t", i + 7);
  if (i == std::string::npos || (line[i] != '"' && line[i] != '<')) return "";
  quoted = line[i] == '"';
  const auto end = line.find(quoted ? '"' : '>', i + 1);
  return end == std::string::npos ? "" : line.substr(i + 1, end - i - 1);
}

FloorReport check_floors(const std::vector<SourceFile>& files, const std::vector<Placement>& table,
                         const std::vector<Pending>& pending) {
  FloorReport report;
  std::map<std::string, int> floor;
  for (const auto& p : table) floor[p.folder] = p.floor;
  auto placed = [&](const std::string& folder) { return floor.count(folder) > 0; };
  auto describe = [&](const std::string& folder) {
    return folder + " (floor " + std::to_string(floor.at(folder)) + ")";
  };

  std::vector<bool> pending_used(pending.size(), false);
  std::map<std::pair<std::string, std::string>, std::vector<IncludeLine>> edges;  // folder -> folder
  for (const auto& file : files) {
    ++report.files;
    const std::string from = folder_of(file.path);
    if (!placed(from)) {
      report.unplaced.push_back("src/" + file.path + ": its folder '" + from +
                                "' is on no floor (add it to floor_table() in tests/architecture/test_floors.cpp "
                                "and to docs/architecture.md)");
      continue;
    }
    std::istringstream in(file.text);
    std::string text;
    for (int number = 1; std::getline(in, text); ++number) {
      bool quoted = false;
      const std::string target = include_target(text, quoted);
      if (target.empty()) continue;
      const bool ours = target.rfind("moe/", 0) == 0;
      if (!ours && !quoted) continue;  // <armadillo>, <cuda_runtime.h>, ...
      const IncludeLine inc{file.path, number, target};
      if (!ours) {
        report.unplaced.push_back(inc.where() + ": a quoted include must name moe/<folder>/...");
        continue;
      }
      ++report.includes;
      bool skip = false;
      for (std::size_t p = 0; p < pending.size(); ++p)
        if (pending[p].file == file.path && pending[p].include == target) skip = pending_used[p] = true;
      if (skip) continue;
      const std::string to = folder_of(target);
      if (!placed(to)) {
        report.unplaced.push_back(inc.where() + ": folder '" + to + "' is on no floor");
        continue;
      }
      if (to == from) continue;
      if (floor.at(to) > floor.at(from))
        report.upward.push_back(inc.where() + ": " + describe(from) + " includes " + describe(to) +
                                ", a higher floor");
      edges[{from, to}].push_back(inc);
    }
  }
  for (std::size_t p = 0; p < pending.size(); ++p)
    if (!pending_used[p])
      report.stale.push_back("pending entry src/" + pending[p].file + " -> " + pending[p].include +
                             " matches no include line any more: delete it from pending_table()");

  // Strongly connected components of the folder graph (Tarjan); each one with more than one folder holds
  // a cycle, reported as its shortest cycle through its first folder plus the lines of every edge on it.
  std::map<std::string, std::vector<std::string>> next;
  std::set<std::string> nodes;
  for (const auto& [edge, lines] : edges) {
    next[edge.first].push_back(edge.second);
    nodes.insert(edge.first), nodes.insert(edge.second);
  }
  std::map<std::string, int> index, low;
  std::set<std::string> on_stack;
  std::vector<std::string> stack;
  std::vector<std::vector<std::string>> components;
  int counter = 0;
  std::function<void(const std::string&)> connect = [&](const std::string& v) {
    index[v] = low[v] = counter++;
    stack.push_back(v), on_stack.insert(v);
    for (const auto& w : next[v]) {
      if (!index.count(w)) connect(w), low[v] = std::min(low[v], low[w]);
      else if (on_stack.count(w)) low[v] = std::min(low[v], index[w]);
    }
    if (low[v] != index[v]) return;
    std::vector<std::string> component;
    std::string w;
    do {
      w = stack.back(), stack.pop_back(), on_stack.erase(w);
      component.push_back(w);
    } while (w != v);
    std::sort(component.begin(), component.end());
    if (component.size() > 1) components.push_back(component);
  };
  for (const auto& v : nodes)
    if (!index.count(v)) connect(v);
  std::sort(components.begin(), components.end());
  for (const auto& component : components) {
    const std::set<std::string> inside(component.begin(), component.end());
    const std::string start = component.front();
    // Breadth-first from start inside the component, back to start.
    std::map<std::string, std::string> parent;
    std::deque<std::string> queue{start};
    std::string last;
    while (!queue.empty() && last.empty()) {
      const std::string v = queue.front();
      queue.pop_front();
      for (const auto& w : next[v]) {
        if (!inside.count(w)) continue;
        if (w == start) {
          last = v;
          break;
        }
        if (!parent.count(w)) parent[w] = v, queue.push_back(w);
      }
    }
    std::vector<std::string> cycle{start};
    for (std::string v = last; v != start; v = parent.at(v)) cycle.insert(cycle.begin() + 1, v);
    cycle.push_back(start);
    std::string message = "folder cycle:";
    for (std::size_t i = 0; i < cycle.size(); ++i) message += (i ? " -> " : " ") + cycle[i];
    if (component.size() + 1 > cycle.size()) {
      message += " (all of these include each other, directly or not:";
      for (const auto& f : component) message += " " + f;
      message += ")";
    }
    for (std::size_t i = 0; i + 1 < cycle.size(); ++i)
      for (const auto& inc : edges.at({cycle[i], cycle[i + 1]}))
        message += "\n    " + cycle[i] + " -> " + cycle[i + 1] + ": " + inc.where();
    report.cycles.push_back(message);
  }
  return report;
}

// Every regular file under src_dir, paths relative to it, in sorted order.
std::vector<SourceFile> read_tree(const fs::path& src_dir) {
  std::vector<SourceFile> files;
  for (const auto& entry : fs::recursive_directory_iterator(src_dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    files.push_back({fs::relative(entry.path(), src_dir).generic_string(), text.str()});
  }
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  return files;
}

// The rows "| <floor> | `<folder>/` | ..." of the floor table in docs/architecture.md (apps/ left out: it
// is not under src/moe).
std::vector<Placement> documented_floors(const std::string& markdown) {
  std::vector<Placement> rows;
  std::istringstream in(markdown);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream cells(line);
    std::string bar, floor, folder;
    if (!std::getline(cells, bar, '|') || !bar.empty() || !std::getline(cells, floor, '|') ||
        !std::getline(cells, folder, '|'))
      continue;
    floor.erase(0, floor.find_first_not_of(' ')), floor.erase(floor.find_last_not_of(' ') + 1);
    const auto open = folder.find('`'), close = folder.find("/`");
    if (floor.empty() || floor.find_first_not_of("0123456789") != std::string::npos || open == std::string::npos ||
        close == std::string::npos || close < open)
      continue;
    const std::string name = folder.substr(open + 1, close - open - 1);
    if (name != "apps") rows.push_back({name, std::stoi(floor)});
  }
  return rows;
}

bool mentions(const std::vector<std::string>& lines, const std::vector<std::string>& parts) {
  return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) {
    return std::all_of(parts.begin(), parts.end(), [&](const std::string& p) { return l.find(p) != std::string::npos; });
  });
}

}  // namespace

TEST_CASE("architecture floors: src/moe folders include only their own floor or below, without cycles") {
  const fs::path src = fs::path(MOE_FIXTURES) / ".." / ".." / "src";
  REQUIRE(fs::is_directory(src / "moe"));
  const FloorReport report = check_floors(read_tree(src), floor_table(), pending_table());
  // The tree was really read (a wrong path must not pass as a clean tree).
  CHECK(report.files > 100);
  CHECK(report.includes > 300);
  for (const auto& line : report.all()) FAIL_CHECK(line);
  CHECK(report.ok());
}

TEST_CASE("architecture floors: docs/architecture.md mirrors the floor table") {
  const fs::path doc = fs::path(MOE_FIXTURES) / ".." / ".." / "docs" / "architecture.md";
  std::ifstream in(doc);
  REQUIRE_MESSAGE(in.good(), doc.string());
  std::ostringstream text;
  text << in.rdbuf();
  auto key = [](const std::vector<Placement>& v) {
    std::set<std::pair<std::string, int>> out;
    for (const auto& p : v) out.insert({p.folder, p.floor});
    return out;
  };
  const auto documented = key(documented_floors(text.str())), tested = key(floor_table());
  for (const auto& [folder, floor] : tested)
    if (!documented.count({folder, floor}))
      FAIL_CHECK("docs/architecture.md has no row | " << floor << " | `" << folder << "/` | (floor_table() has it)");
  for (const auto& [folder, floor] : documented)
    if (!tested.count({folder, floor}))
      FAIL_CHECK("docs/architecture.md has a row | " << floor << " | `" << folder << "/` | that floor_table() lacks");
  CHECK(documented.size() == floor_table().size());
}

TEST_CASE("architecture floors: the checker reports upward includes, cycles, unplaced folders and stale entries") {
  const std::vector<Placement> table = {{"base", 0}, {"left", 1}, {"right", 1}, {"top", 2}, {"top/inner", 2}};
  const std::vector<Pending> pending = {
      {"moe/top/t.cpp", "moe/base/gone.hpp", "an entry whose line was removed"},
      {"moe/base/b.hpp", "moe/top/t.hpp", "a known upward include, skipped"},
  };

  SUBCASE("a tree that keeps the rule passes, pending entries all used") {
    const std::vector<SourceFile> clean = {
        {"moe/base/b.hpp", "#pragma once\n#include <vector>\n#include \"moe/base/c.hpp\"\n#include \"moe/top/t.hpp\"\n"},
        {"moe/left/l.cpp", "#include \"moe/base/b.hpp\"\n#include \"moe/right/r.hpp\"\n"},
        {"moe/right/r.hpp", "  #  include \"moe/base/b.hpp\"\n// #include \"moe/top/t.hpp\" (a comment)\n"},
        {"moe/top/t.cpp", "#include \"moe/base/gone.hpp\"\n#include \"moe/left/l.hpp\"\n"},
        {"moe/top/inner/i.cu", "#include \"moe/top/t.hpp\"\n#include <cuda_runtime.h>\n"},
    };
    const FloorReport r = check_floors(clean, table, pending);
    for (const auto& line : r.all()) FAIL_CHECK(line);
    CHECK(r.ok());
    CHECK(r.files == 5);
    CHECK(r.includes == 8);
  }

  SUBCASE("an upward include, a cycle, an unplaced folder, a relative include and a stale entry fail") {
    const std::vector<SourceFile> bad = {
        {"moe/base/b.hpp", "#pragma once\n#include \"moe/left/l.hpp\"\n#include \"moe/top/t.hpp\"\n"},
        {"moe/left/l.hpp", "#include \"moe/right/r.hpp\"\n"},
        {"moe/right/r.cpp", "#include \"moe/base/b.hpp\"\n\n#include \"moe/left/l.hpp\"\n"},
        {"moe/top/inner/i.hpp", "#include \"moe/top/t.hpp\"\n#include \"moe/nowhere/n.hpp\"\n#include \"t.hpp\"\n"},
        {"moe/newfolder/n.hpp", "#include \"moe/base/b.hpp\"\n"},
    };
    const FloorReport r = check_floors(bad, table, pending);
    CHECK_FALSE(r.ok());
    REQUIRE(r.upward.size() == 1);
    CHECK(mentions(r.upward, {"src/moe/base/b.hpp:2", "moe/left/l.hpp", "base (floor 0)", "left (floor 1)"}));
    REQUIRE(r.cycles.size() == 1);  // base -> left -> right -> base (right -> left lies inside it)
    CHECK(mentions(r.cycles, {"folder cycle: base -> left -> right -> base", "src/moe/base/b.hpp:2",
                              "src/moe/left/l.hpp:1", "src/moe/right/r.cpp:1"}));
    CHECK(r.unplaced.size() == 3);
    CHECK(mentions(r.unplaced, {"src/moe/newfolder/n.hpp", "'newfolder' is on no floor"}));
    CHECK(mentions(r.unplaced, {"src/moe/top/inner/i.hpp:2", "'nowhere' is on no floor"}));
    CHECK(mentions(r.unplaced, {"src/moe/top/inner/i.hpp:3", "moe/<folder>"}));
    REQUIRE(r.stale.size() == 1);
    CHECK(mentions(r.stale, {"moe/base/gone.hpp"}));
  }

  SUBCASE("two folders on one floor that include each other are a cycle") {
    const std::vector<SourceFile> pair = {
        {"moe/left/l.cpp", "#include \"moe/right/r.hpp\"\n"},
        {"moe/right/r.cpp", "#include \"moe/base/b.hpp\"\n#include \"moe/left/l.hpp\"\n"},
    };
    const FloorReport r = check_floors(pair, table, {});
    CHECK(r.upward.empty());
    REQUIRE(r.cycles.size() == 1);
    CHECK(mentions(r.cycles, {"folder cycle: left -> right -> left", "src/moe/left/l.cpp:1", "src/moe/right/r.cpp:2"}));
  }
}
