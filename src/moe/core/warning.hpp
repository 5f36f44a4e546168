#pragma once
// One mechanism for warnings: a numeric degeneracy the library handled without failing (an
// expert that received no posterior mass, a variance held at its floor, a training set of one class, a
// constant feature) is reported as one line on stderr,
//   "<program>: warning: <message>"      (program: the running executable's name, e.g. moe-train)
// once per key, however many epochs or steps it recurs in: the key names the kind of warning and, where
// it applies, the expert ("no-mass/expert3"), so each expert's degeneracy is reported once.
#include <string>
#include <vector>

namespace moe {

// Reports `message` (one line; newlines become spaces) unless a warning with the same `key` was already
// reported in this process (or since the innermost live WarningCapture began). Thread-safe: models call
// it from their OpenMP loops.
void warn(const std::string& key, const std::string& message);

// While alive, warnings go to this object instead of stderr, and the once-per-key memory starts empty
// (so a test sees the warnings of the run it wraps). Restores the previous sink and memory when destroyed.
// Not nestable across threads: create it on the thread that runs the code under test.
class WarningCapture {
 public:
  WarningCapture();
  ~WarningCapture();
  WarningCapture(const WarningCapture&) = delete;
  WarningCapture& operator=(const WarningCapture&) = delete;
  std::vector<std::string> messages() const;          // each reported message, without the prefix
  bool contains(const std::string& needle) const;     // some message contains `needle`
  std::size_t count(const std::string& needle) const;  // how many messages contain `needle`

 private:
  struct Saved;
  Saved* saved_;
};

// Short numbers for warning texts ("1e-06", "0.25").
std::string format_short(double value);

}  // namespace moe
