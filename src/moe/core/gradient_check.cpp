#include "moe/core/gradient_check.hpp"

#include <cmath>

namespace moe {

GradientCheck check_gradient(ParamList& params, const std::function<double(bool)>& loss, double step, double floor) {
  GradientCheck out;
  params.zero_grad();
  loss(true);
  out.analytic = params.grads();
  const arma::vec theta = params.values();
  out.numeric.set_size(theta.n_elem);
  arma::vec probe = theta;
  for (arma::uword i = 0; i < theta.n_elem; ++i) {
    const double h = step * std::max(1.0, std::abs(theta[i]));
    probe[i] = theta[i] + h;
    params.set_values(probe);
    const double up = loss(false);
    probe[i] = theta[i] - h;
    params.set_values(probe);
    const double down = loss(false);
    probe[i] = theta[i];
    out.numeric[i] = (up - down) / (2.0 * h);
  }
  params.set_values(theta);
  for (arma::uword i = 0; i < theta.n_elem; ++i) {
    const double a = out.analytic[i], n = out.numeric[i];
    out.max_abs_error = std::max(out.max_abs_error, std::abs(a - n));
    out.max_relative_error = std::max(out.max_relative_error, std::abs(a - n) / std::max(std::abs(a) + std::abs(n), floor));
  }
  return out;
}

}  // namespace moe
