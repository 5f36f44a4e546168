#include "moe/train/irls.hpp"

#include <cmath>

#include "moe/core/least_squares.hpp"
#include "moe/core/math.hpp"

namespace moe {

namespace {

arma::mat logits(const arma::mat& W, const arma::mat& b, const arma::mat& X) {
  arma::mat Z = W * X;
  Z.each_col() += b.col(0);
  return Z;
}

}  // namespace

double softmax_objective(const arma::mat& W, const arma::mat& b, const arma::mat& X, const arma::mat& T,
                         const arma::rowvec& w) {
  const arma::mat L = column_softmax(logits(W, b, X)).log_prob;
  return arma::accu(arma::sum(T % L, 0) % w);
}

double irls_softmax(arma::mat& W, arma::mat& b, const arma::mat& X, const arma::mat& T, const arma::rowvec& w,
                    const IrlsOptions& o, const ColumnSoftmax* given) {
  const arma::uword C = W.n_rows, d = W.n_cols, p = d + 1;
  const arma::mat Xt = with_bias_row(X);  // (d+1) x N, bias as last input
  const arma::rowvec mass = w % arma::sum(T, 0);                          // 1 x N: w_n sum_c T_cn
  // One softmax per Newton step: the accepted trial point's softmax is the next step's P.
  auto objective = [&](const ColumnSoftmax& s) { return arma::accu(arma::sum(T % s.log_prob, 0) % w); };
  ColumnSoftmax current = given ? *given : column_softmax(logits(W, b, X));
  double q = objective(current);
  for (int it = 0; it < o.max_iterations; ++it) {
    const arma::mat& P = current.prob;  // C x N
    // Gradient of Q, C x (d+1); vectorised class-major below: theta = [W_c, b_c] for each c.
    const arma::mat R = (T.each_row() % w) - (P.each_row() % mass);
    const arma::mat G = R * Xt.t();
    // Negative Hessian: block (c, c') = Xt diag(mass * P_c (delta_cc' - P_c')) Xt^T.
    arma::mat H(C * p, C * p);
    for (arma::uword c = 0; c < C; ++c) {
      for (arma::uword k = c; k < C; ++k) {
        const arma::rowvec s = mass % P.row(c) % ((c == k ? 1.0 : 0.0) - P.row(k));
        const arma::mat block = (Xt.each_row() % s) * Xt.t();
        H.submat(c * p, k * p, arma::size(p, p)) = block;
        H.submat(k * p, c * p, arma::size(p, p)) = block.t();
      }
    }
    H.diag() += o.ridge * (arma::trace(H) / double(H.n_rows)) + 1e-12;
    const arma::vec g = arma::vectorise(G.t());
    arma::vec step;
    if (!arma::solve(step, H, g, arma::solve_opts::likely_sympd + arma::solve_opts::no_approx)) break;
    const arma::mat S = arma::reshape(step, p, C).t();  // C x (d+1)
    double t = 1.0;
    bool accepted = false;
    for (int h = 0; h <= o.max_halvings; ++h, t *= 0.5) {
      arma::mat Wn = W + t * S.cols(0, d - 1);
      arma::mat bn = b + t * S.col(d);
      ColumnSoftmax trial = column_softmax(logits(Wn, bn, X));
      const double qn = objective(trial);
      if (std::isfinite(qn) && qn >= q) {
        const double gain = qn - q;
        W = std::move(Wn);
        b = std::move(bn);
        current = std::move(trial);
        q = qn;
        accepted = true;
        if (gain <= o.tolerance * std::max(1.0, std::abs(q))) return q;
        break;
      }
    }
    if (!accepted) break;
  }
  return q;
}

}  // namespace moe
