#pragma once
// One function-object interface for every optimiser (as in ensmallen): step() reads each Param's
// gradient and updates its value. State (velocity, moments) is kept per Param, in registration order.
#include <memory>
#include <string>
#include <vector>

#include "moe/core/params.hpp"
#include "moe/core/state.hpp"

namespace moe {

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual void step(const ParamList& params) = 0;
  // Velocity / moments and step count, for checkpoints (empty before the first step).
  virtual void visit_state(StateVisitor& v, const std::string& prefix) = 0;
};

// Gradient descent with (heavy-ball) momentum: v = mu v - lr g; theta += v. mu = 0 is plain (S)GD.
class MomentumGD final : public Optimizer {
 public:
  MomentumGD(double learning_rate, double momentum) : lr_(learning_rate), mu_(momentum) {}
  void step(const ParamList& params) override;
  void visit_state(StateVisitor& v, const std::string& prefix) override { v.matrices(prefix + "velocity", velocity_); }

 private:
  double lr_, mu_;
  std::vector<arma::mat> velocity_;
};

// Adam (Kingma & Ba 2015) with bias correction.
class Adam final : public Optimizer {
 public:
  Adam(double learning_rate, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8)
      : lr_(learning_rate), b1_(beta1), b2_(beta2), eps_(epsilon) {}
  void step(const ParamList& params) override;
  void visit_state(StateVisitor& v, const std::string& prefix) override {
    v.signed_count(prefix + "t", t_);
    v.matrices(prefix + "m", m_);
    v.matrices(prefix + "v", v_);
  }

 private:
  double lr_, b1_, b2_, eps_;
  long t_ = 0;
  std::vector<arma::mat> m_, v_;
};

struct OptimizerOptions {
  std::string name = "momentum";  // momentum | sgd | adam ("sgd" = momentum with minibatches)
  double learning_rate = 0.1;
  double momentum = 0.9;
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
  void validate() const;
};

std::unique_ptr<Optimizer> make_optimizer(const OptimizerOptions& options);

}  // namespace moe
