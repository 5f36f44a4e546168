#pragma once
// A registry of named entries: one per extension point (routers, ...). Each entry registers once, beside
// its own code, with a file-scope Registration object:
//
//   namespace { const moe::Registration<RouterEntry> registered{{.name = "topk", .help = "...", ...}}; }
//
// and everything that needs the names (command-line choices and help, validation, `--list`, tests) reads
// the registry instead of a list typed out by hand. Entry is any struct with `std::string name` and
// `std::string help`; an entry that also has `std::vector<std::string> flags` (the long flag names,
// without dashes, that only some entries read) gets the "flag does not apply" check below.
//
// Registrations run during static initialisation, in an unspecified order across files, so the registry
// is a function-local static (built on first use) and entries() are kept sorted by name: every listing
// is the same whatever the link order. The library is a static archive whose registering objects nothing
// else references, so programs link it whole (CMake: $<LINK_LIBRARY:WHOLE_ARCHIVE,moe>; see
// docs/install.md), or the linker would drop them.
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "moe/core/error.hpp"

namespace moe {

// "a, b or c" (for messages and help text).
inline std::string or_list(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) out += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  return out;
}

template <class Entry>
class Registry {
 public:
  // The one registry of this entry type.
  static Registry& instance() {
    static Registry registry;
    return registry;
  }

  // Adds an entry; a second entry of the same name is a programming error (both files register it).
  void add(Entry entry) {
    require(!entry.name.empty(), "registry: an entry without a name");
    require(find(entry.name) == nullptr, "registry: '" + entry.name + "' is registered twice");
    const auto at = std::lower_bound(entries_.begin(), entries_.end(), entry.name,
                                     [](const Entry& e, const std::string& n) { return e.name < n; });
    entries_.insert(at, std::move(entry));
  }

  // nullptr when no entry has this name.
  const Entry* find(std::string_view name) const {
    for (const Entry& e : entries_)
      if (e.name == name) return &e;
    return nullptr;
  }

  // The entry, or moe::Error "unknown <what> 'x' (expected a, b or c)"; `what` names the flag, e.g.
  // "--router".
  const Entry& get(std::string_view name, const std::string& what) const {
    if (const Entry* e = find(name)) return *e;
    fail("unknown " + what + " '" + std::string(name) + "' (expected " + choices() + ")");
  }

  const std::vector<Entry>& entries() const { return entries_; }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const Entry& e : entries_) out.push_back(e.name);
    return out;
  }

  // "a, b or c": the names for an error message.
  std::string choices() const { return or_list(names()); }

  // The flags some entries read (the union of the entries' flags, sorted): the flags that "apply" to some
  // entries only. Other flags concern every entry.
  std::vector<std::string> flags() const {
    std::vector<std::string> out;
    for (const Entry& e : entries_)
      for (const std::string& f : e.flags)
        if (std::find(out.begin(), out.end(), f) == out.end()) out.push_back(f);
    std::sort(out.begin(), out.end());
    return out;
  }

  // The entries that read `flag`, by name.
  std::vector<std::string> reading(const std::string& flag) const {
    std::vector<std::string> out;
    for (const Entry& e : entries_)
      if (std::find(e.flags.begin(), e.flags.end(), flag) != e.flags.end()) out.push_back(e.name);
    return out;
  }

  // Flags given (command line or config file; long names without dashes) that entry `name` does not read
  // although other entries do: moe::UsageError naming the first and the entry, e.g. "--top-k does not apply to
  // --router switch" (`what` = "--router"). Flags no entry reads are not checked.
  void reject_unused(const std::string& name, const std::vector<std::string>& given, const std::string& what) const {
    const Entry& entry = get(name, what);
    const std::vector<std::string> specific = flags();
    for (const std::string& flag : given) {
      const bool specific_flag = std::find(specific.begin(), specific.end(), flag) != specific.end();
      const bool read = std::find(entry.flags.begin(), entry.flags.end(), flag) != entry.flags.end();
      if (specific_flag && !read) throw UsageError("--" + flag + " does not apply to " + what + " " + name);
    }
  }

  // One line per entry, "  name   help", names padded to one column: for --list and --help.
  std::string listing() const {
    std::size_t width = 0;
    for (const Entry& e : entries_) width = std::max(width, e.name.size());
    std::string out;
    for (const Entry& e : entries_) out += "  " + e.name + std::string(width - e.name.size() + 2, ' ') + e.help + "\n";
    return out;
  }

 private:
  Registry() = default;
  std::vector<Entry> entries_;
};

// Registers `entry` when constructed: one file-scope object beside the entry's code.
template <class Entry>
struct Registration {
  explicit Registration(Entry entry) { Registry<Entry>::instance().add(std::move(entry)); }
};

}  // namespace moe
