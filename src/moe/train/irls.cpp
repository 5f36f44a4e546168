#include "moe/train/irls.hpp"

#include <cmath>

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
                    const IrlsOptions& o) {
  const arma::uword C = W.n_rows, d = W.n_cols, n = X.n_cols, p = d + 1;
  const arma::mat Xt = arma::join_cols(X, arma::ones<arma::rowvec>(n));  // (d+1) x N, bias as last input
  const arma::rowvec mass = w % arma::sum(T, 0);                    // 1 x N: w_n sum_c T_cn
  double q = softmax_objective(W, b, X, T, w);
  for (int it = 0; it < o.max_iterations; ++it) {
    const arma::mat P = column_softmax(logits(W, b, X)).prob;  // C x N
    // Gradient of Q in the (C x (d+1)) layout, vectorised class-major: theta = [W_c, b_c] for each c.
    const arma::mat R = (T.each_row() % w) - (P.each_row() % mass);  // C x N
    const arma::mat G = R * Xt.t();                                   // C x (d+1)
    // Negative Hessian: block (c, c') = Xt diag(mass * P_c (delta_cc' - P_c')) Xt^T.
    arma::mat H(C * p, C * p);
    for (arma::uword c = 0; c < C; ++c) {
      for (arma::uword k = c; k < C; ++k) {
        arma::rowvec s = mass % P.row(c) % ((c == k ? 1.0 : 0.0) - P.row(k));
        arma::mat Xs = Xt.each_row() % s;
        const arma::mat block = Xs * Xt.t();
        H.submat(c * p, k * p, arma::size(p, p)) = block;
        H.submat(k * p, c * p, arma::size(p, p)) = block.t();
      }
    }
    const double damping = o.ridge * (arma::trace(H) / double(H.n_rows)) + 1e-12;
    H.diag() += damping;
    arma::vec g = arma::vectorise(G.t());  // class-major: [G(0,:), G(1,:), ...]
    arma::vec step;
    if (!arma::solve(step, H, g, arma::solve_opts::likely_sympd + arma::solve_opts::no_approx)) break;
    const arma::mat S = arma::reshape(step, p, C).t();  // C x (d+1)
    double t = 1.0;
    bool accepted = false;
    for (int h = 0; h <= o.max_halvings; ++h, t *= 0.5) {
      const arma::mat Wn = W + t * S.cols(0, d - 1);
      const arma::mat bn = b + t * S.col(d);
      const double qn = softmax_objective(Wn, bn, X, T, w);
      if (std::isfinite(qn) && qn >= q) {
        const double gain = qn - q;
        W = Wn;
        b = bn;
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
