#include "moe/experts/expert.hpp"

#include "moe/core/error.hpp"
#include "moe/experts/full_covariance_expert.hpp"
#include "moe/experts/gaussian_expert.hpp"
#include "moe/experts/linear_gaussian_expert.hpp"
#include "moe/experts/softmax_expert.hpp"

namespace moe {

ExpertKind parse_expert_kind(const std::string& name) {
  if (name == "gaussian") return ExpertKind::gaussian;
  if (name == "linear-gaussian") return ExpertKind::linear_gaussian;
  if (name == "linear-gaussian-full") return ExpertKind::linear_gaussian_full;
  if (name == "softmax") return ExpertKind::softmax;
  fail("unknown expert kind '" + name + "' (expected gaussian, linear-gaussian, linear-gaussian-full or softmax)");
}

std::string to_string(ExpertKind kind) {
  switch (kind) {
    case ExpertKind::gaussian: return "gaussian";
    case ExpertKind::linear_gaussian: return "linear-gaussian";
    case ExpertKind::linear_gaussian_full: return "linear-gaussian-full";
    case ExpertKind::softmax: return "softmax";
  }
  return "?";
}

std::unique_ptr<Expert> make_expert(ExpertKind kind, arma::uword inputs, arma::uword outputs, bool learn_variance) {
  switch (kind) {
    case ExpertKind::gaussian: return std::make_unique<GaussianExpert>(outputs);
    case ExpertKind::linear_gaussian: return std::make_unique<LinearGaussianExpert>(inputs, outputs, learn_variance);
    case ExpertKind::linear_gaussian_full: return std::make_unique<FullCovarianceExpert>(inputs, outputs);
    case ExpertKind::softmax: return std::make_unique<SoftmaxExpert>(inputs, outputs);
  }
  fail("unknown expert kind");
}

}  // namespace moe
