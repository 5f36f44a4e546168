#include "moe/train/optimizer.hpp"

#include <cmath>

#include "moe/core/error.hpp"
#include "moe/train/optimizer_registry.hpp"

namespace moe {

void MomentumGD::step(const ParamList& params) {
  if (velocity_.size() != params.size())
    for (const auto& p : params) velocity_.emplace_back(arma::size(*p.value), arma::fill::zeros);
  std::size_t i = 0;
  for (const auto& p : params) {
    velocity_[i] = mu_ * velocity_[i] - lr_ * *p.grad;
    *p.value += velocity_[i];
    ++i;
  }
}

void Adam::step(const ParamList& params) {
  if (m_.size() != params.size()) {
    for (const auto& p : params) {
      m_.emplace_back(arma::size(*p.value), arma::fill::zeros);
      v_.emplace_back(arma::size(*p.value), arma::fill::zeros);
    }
  }
  ++t_;
  const double c1 = 1.0 - std::pow(b1_, double(t_)), c2 = 1.0 - std::pow(b2_, double(t_));
  std::size_t i = 0;
  for (const auto& p : params) {
    m_[i] = b1_ * m_[i] + (1.0 - b1_) * *p.grad;
    v_[i] = b2_ * v_[i] + (1.0 - b2_) * arma::square(*p.grad);
    *p.value -= lr_ * (m_[i] / c1) / (arma::sqrt(v_[i] / c2) + eps_);
    ++i;
  }
}

void OptimizerOptions::validate() const {
  OptimizerRegistry::instance().get(name, "--optimizer");  // one line naming the registered optimisers
  require(std::isfinite(learning_rate) && learning_rate > 0.0,
          "--learning-rate must be positive (got " + std::to_string(learning_rate) + ")");
  require(momentum >= 0.0 && momentum < 1.0, "--momentum must be in [0, 1) (got " + std::to_string(momentum) + ")");
  require(beta1 >= 0.0 && beta1 < 1.0 && beta2 >= 0.0 && beta2 < 1.0, "Adam betas must be in [0, 1)");
  require(epsilon > 0.0, "Adam epsilon must be positive");
}

std::unique_ptr<Optimizer> make_optimizer(const OptimizerOptions& o) {
  o.validate();
  return OptimizerRegistry::instance().get(o.name, "--optimizer").make(o);
}

namespace {
std::unique_ptr<Optimizer> momentum_descent(const OptimizerOptions& o) {
  return std::make_unique<MomentumGD>(o.learning_rate, o.momentum);
}
const OptimizerRegistration momentum{{
    .name = "momentum",
    .help = "gradient descent with momentum: v = mu v - lr g, w += v (full batch by default)",
    .flags = {"momentum"},
    .make = momentum_descent,
}};
const OptimizerRegistration sgd{{
    .name = "sgd",
    .help = "the same update as momentum, the name for minibatch use (--batch-size)",
    .flags = {"momentum"},
    .make = momentum_descent,
}};
const OptimizerRegistration adam{{
    .name = "adam",
    .help = "Adam (Kingma & Ba 2015): bias-corrected first and second moments, --beta1, --beta2",
    .flags = {"beta1", "beta2"},
    .make = [](const OptimizerOptions& o) -> std::unique_ptr<Optimizer> {
      return std::make_unique<Adam>(o.learning_rate, o.beta1, o.beta2, o.epsilon);
    },
}};
}  // namespace

}  // namespace moe
