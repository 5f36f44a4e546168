#include "moe/models/mlp.hpp"

#include "moe/core/math.hpp"
#include "moe/core/error.hpp"
#include "moe/models/model_registry.hpp"

namespace moe {

Mlp::Mlp(const ModelSpec& spec)
    : spec_(spec),
      W1_(spec.hidden, spec.inputs, arma::fill::zeros),
      b1_(spec.hidden, 1, arma::fill::zeros),
      W2_(spec.outputs, spec.hidden, arma::fill::zeros),
      b2_(spec.outputs, 1, arma::fill::zeros) {
  spec_.validate();
}

void Mlp::init(Rng& rng) {
  // Glorot-style scales keep tanh/sigmoid units out of saturation at the start.
  W1_ = rng.normal_matrix(W1_.n_rows, W1_.n_cols, 1.0 / std::sqrt(double(spec_.inputs)));
  W2_ = rng.normal_matrix(W2_.n_rows, W2_.n_cols, 1.0 / std::sqrt(double(spec_.hidden)));
  b1_.zeros();
  b2_.zeros();
}

void Mlp::collect(ParamList& params) {
  params.add("hidden/W", W1_, dW1_, ParamKind::weight);
  params.add("hidden/b", b1_, db1_);
  params.add("output/W", W2_, dW2_, ParamKind::weight);
  params.add("output/b", b2_, db2_);
}

arma::mat Mlp::hidden(const arma::mat& X) const {
  arma::mat A = W1_ * X;
  A.each_col() += b1_.col(0);
  if (spec_.activation == "tanh") return arma::tanh(A);
  if (spec_.activation == "sigmoid") return 1.0 / (1.0 + arma::exp(-A));
  return arma::clamp(A, 0.0, arma::datum::inf);
}

arma::mat Mlp::output_of(const arma::mat& Z) const {
  if (spec_.output == "softmax") return softmax_cols(Z);
  if (spec_.output == "sigmoid") return 1.0 / (1.0 + arma::exp(-Z));
  return Z;
}

Prediction Mlp::predict(const arma::mat& X) const {
  arma::mat Z = W2_ * hidden(X);
  Z.each_col() += b2_.col(0);
  return {output_of(Z), {}};
}

arma::rowvec Mlp::pointwise_loss(const arma::mat& X, const arma::mat& Y) const {
  arma::mat Z = W2_ * hidden(X);
  Z.each_col() += b2_.col(0);
  if (spec_.output == "softmax") return -arma::sum(Y % log_softmax_cols(Z), 0);
  return 0.5 * arma::sum(arma::square(Y - output_of(Z)), 0);
}

double Mlp::loss(const arma::mat& X, const arma::mat& Y, bool accumulate_grad) {
  const arma::mat A = hidden(X);
  arma::mat Z = W2_ * A;
  Z.each_col() += b2_.col(0);
  const arma::mat out = output_of(Z);
  const double n = double(X.n_cols);
  double value;
  arma::mat dZ;  // m x N: d(sum loss)/dz
  if (spec_.output == "softmax") {
    value = -arma::accu(Y % log_softmax_cols(Z)) / n;
    dZ = out.each_row() % arma::sum(Y, 0) - Y;
  } else {
    value = 0.5 * arma::accu(arma::square(Y - out)) / n;
    dZ = out - Y;
    if (spec_.output == "sigmoid") dZ %= out % (1.0 - out);
  }
  if (!accumulate_grad) return value;
  backprop(X, A, dZ / n);
  return value;
}

void Mlp::backprop(const arma::mat& X, const arma::mat& A, const arma::mat& dZ) {
  dW2_ += dZ * A.t();
  db2_ += arma::sum(dZ, 1);
  arma::mat dA = W2_.t() * dZ;
  if (spec_.activation == "tanh") dA %= 1.0 - arma::square(A);
  else if (spec_.activation == "sigmoid") dA %= A % (1.0 - A);
  else dA %= arma::conv_to<arma::mat>::from(A > 0.0);
  dW1_ += dA * X.t();
  db1_ += arma::sum(dA, 1);
}

void Mlp::accumulate_output_grad(const arma::mat& X, const arma::mat& D) {
  const arma::mat A = hidden(X);
  arma::mat Z = W2_ * A;
  Z.each_col() += b2_.col(0);
  const arma::mat out = output_of(Z);
  arma::mat dZ;
  if (spec_.output == "softmax") {  // d(sum_c D_c s_c)/dz = s % (D - sum_c s_c D_c)
    dZ = D.each_row() - arma::sum(out % D, 0);
    dZ %= out;
  } else {
    dZ = D;
    if (spec_.output == "sigmoid") dZ %= out % (1.0 - out);
  }
  backprop(X, A, dZ);
}

namespace {
const ModelRegistration registered{{
    .name = "mlp",
    .help = "a one-hidden-layer perceptron trained by backpropagation (the baseline of the early MoE papers)",
    .flags = {"hidden", "activation", "mlp-output"},
    .language_model = false,
    .validate = [](const ModelSpec& s) { s.validate_mlp(); },
    .expert_count = {},
    .state_values = [](const ModelSpec& s) { return double(s.hidden) * (double(s.inputs) + double(s.outputs)); },  // W1, W2
    .make = [](const ModelSpec& s) -> std::unique_ptr<Model> { return std::make_unique<Mlp>(s); },
}};
}  // namespace

}  // namespace moe
