#include "moe/experts/expert.hpp"

#include "moe/core/error.hpp"
#include "moe/core/warning.hpp"

namespace moe {

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
