#include "moe/experts/expert.hpp"

#include "moe/core/error.hpp"
#include "moe/core/warning.hpp"
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

void warn_degenerate_experts(const std::vector<std::unique_ptr<Expert>>& experts, const arma::vec& mass,
                             double points, std::size_t epoch) {
  for (std::size_t i = 0; i < experts.size() && i < mass.n_elem; ++i) {
    const Expert& e = *experts[i];
    const std::string name = "expert " + std::to_string(i);
    const double floor = e.variance_floor();
    if (mass[i] < negligible_posterior_mass)
      warn("no-mass/expert" + std::to_string(i),
           name + " received no posterior mass in epoch " + std::to_string(epoch) + " (" + format_short(mass[i]) +
               " of " + format_short(points) + " observations); it keeps its parameters" +
               (floor > 0.0 ? " and its variance stays at or above the floor " + format_short(floor) : std::string()));
    else if (e.at_variance_floor())
      warn("variance-floor/expert" + std::to_string(i),
           name + "'s variance reached the floor " + format_short(floor) + " in epoch " + std::to_string(epoch) +
               " and is held there (the points it explains fit it exactly: too few of them, or duplicates)");
  }
}

}  // namespace moe
