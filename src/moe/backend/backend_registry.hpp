#pragma once
// The compute backends (backend.hpp), registered beside their code like the library's other extension
// points (moe/core/registry.hpp): `--device` names one, `--precision` one of its element types.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "moe/backend/backend.hpp"
#include "moe/core/registry.hpp"

namespace moe {

struct BackendEntry {
  std::string name;  // --device value: cpu | cuda
  std::string help;
  std::vector<Precision> precisions;  // what it computes in; the first is the default
  // Empty when the backend can run here, else the one-line reason (no CUDA in this build, no GPU).
  std::function<std::string()> unavailable;
  std::function<std::unique_ptr<Backend>(Precision)> make;
};

using BackendRegistration = Registration<BackendEntry>;
using BackendRegistry = Registry<BackendEntry>;

// The backend `device` in `precision` ("" for its default). Throws moe::Error naming the device or
// precision when it is unknown, not offered by that device, or cannot run on this machine.
std::unique_ptr<Backend> make_backend(const std::string& device, const std::string& precision = "");
// The same checks, without making one.
void check_backend(const std::string& device, const std::string& precision = "");

}  // namespace moe
