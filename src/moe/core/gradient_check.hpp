#pragma once
// Central-difference gradient check over a ParamList (docs/architecture.md#principles). The default step 1e-5
// (times max(1, |theta|)) balances truncation (h^2) against round-off (eps / h) in double precision. Used by every test of a
// module's gradient: one checker for all modules because all of them expose the same ParamList.
#include <functional>

#include "moe/core/params.hpp"

namespace moe {

struct GradientCheck {
  double max_relative_error = 0.0;  // max_i |a_i - n_i| / max(|a_i| + |n_i|, floor)
  double max_abs_error = 0.0;
  arma::vec analytic, numeric;
};

// `loss(accumulate)` returns the loss at the current parameter values and, when accumulate is true,
// adds its gradient into the ParamList's gradients (which the checker zeroes first).
GradientCheck check_gradient(ParamList& params, const std::function<double(bool)>& loss, double step = 1e-5,
                             double floor = 1e-8);

}  // namespace moe
