#include "moe/fit/irls.hpp"

#include <algorithm>
#include <cmath>

#include "moe/core/blocked.hpp"
#include "moe/core/math.hpp"

namespace moe {

namespace {

using namespace blocked;

// Inside IRLS every N x something matrix is held transposed (observations down the rows): a class's or
// an input's values over a block of observations are then contiguous, and the loops vectorise.
struct Problem {
  arma::mat XT;    // N x (d+1) inputs, the last column all ones (the bias)
  arma::mat TT;    // N x C targets
  arma::vec w;     // N weights
  arma::vec mass;  // N: w_n sum_c T_cn
  arma::mat MomT;  // N x (d+1)(d+2)/2: the moments xt_a xt_b (a <= b) of xt = [x; 1]
  // Q is unchanged when every class's weights move by the same vector, so Newton runs on the first R = C - 1
  // classes with the last one held where it is: an (R p) square Hessian instead of (C p), which is also
  // non-singular along that direction. A penalty on the weights breaks that invariance: then R = C (every
  // class moves; the bias's shift direction, still singular, is held by the Hessian's damping, and the
  // gradient has no component along it). pairs: class pairs c <= k < R.
  arma::uword C = 0, R = 0, p = 0, pairs = 0, moments = 0;

  Problem(const arma::mat& X, const arma::mat& T, const arma::rowvec& weights, bool every_class)
      : C(T.n_rows), R(every_class ? C : C - 1), p(X.n_rows + 1), pairs(R * (R + 1) / 2), moments(p * (p + 1) / 2) {
    const arma::uword n = X.n_cols, d = X.n_rows;
    XT.set_size(n, p);
    TT.set_size(n, C);
    w = weights.t();
    mass.set_size(n);
    MomT.set_size(n, moments);
    // One blocked pass (in parallel: this is every IRLS call's set-up).
    for_blocks(n, 0, p + C + moments, [&](arma::uword, arma::uword c0, arma::uword c1, double*) {
      for (arma::uword j = c0; j < c1; ++j) {
        const double* x = X.colptr(j);
        const double* t = T.colptr(j);
        double total = 0.0;
        for (arma::uword a = 0; a < d; ++a) XT(j, a) = x[a];
        XT(j, d) = 1.0;
        for (arma::uword c = 0; c < C; ++c) {
          TT(j, c) = t[c];
          total += t[c];
        }
        mass[j] = w[j] * total;
      }
      for (arma::uword a = 0, e = 0; a < p; ++a)
        for (arma::uword b = a; b < p; ++b, ++e) {
          const double* xa = XT.colptr(a);
          const double* xb = XT.colptr(b);
          double* out = MomT.colptr(e);
          for (arma::uword j = c0; j < c1; ++j) out[j] = xa[j] * xb[j];
        }
    });
  }
  arma::uword sums() const { return pairs * moments + R * p; }
  std::size_t newton_scratch() const { return (pairs + R) * blocked::block; }
};

// One block's share of the gradient (R x p, bias last) and negative Hessian of Q at the softmax PT
// (N x C), written to out (Problem::sums() values): Hessian block (c, k) = sum_n mass_n P_cn (delta_ck -
// P_kn) xt_n xt_n^T as dot products of the weights s_ck (one row per class pair c <= k < R) with the
// moment rows, then the gradient sum_n (w_n T_cn - mass_n P_cn) xt_n for c < R.
void newton_block(const Problem& pr, const arma::mat& PT, arma::uword c0, arma::uword m, double* s, double* out) {
  const arma::uword C = pr.R, N = pr.XT.n_rows;
  double* r = s + pr.pairs * block;
  const double* wj = pr.w.memptr() + c0;
  const double* mj = pr.mass.memptr() + c0;
  for (arma::uword c = 0, q = 0; c < C; ++c) {
    const double* pc = PT.colptr(c) + c0;
    const double* tc = pr.TT.colptr(c) + c0;
    for (arma::uword j = 0; j < m; ++j) r[c * block + j] = wj[j] * tc[j] - mj[j] * pc[j];
    for (arma::uword k = c; k < C; ++k, ++q) {
      double* sq = s + q * block;
      const double* pk = PT.colptr(k) + c0;
      const double delta = c == k ? 1.0 : 0.0;
      for (arma::uword j = 0; j < m; ++j) sq[j] = mj[j] * pc[j] * (delta - pk[j]);
    }
  }
  for (arma::uword q = 0; q < pr.pairs; ++q, out += pr.moments)
    dots(s + q * block, pr.MomT.colptr(0) + c0, N, pr.moments, m, out);
  for (arma::uword c = 0; c < C; ++c, out += pr.p) dots(r + c * block, pr.XT.colptr(0) + c0, N, pr.p, m, out);
}

// Gradient G (R x p) and negative Hessian H ((R p) square, class-major) from the summed block partials.
void unfold(const Problem& pr, const arma::mat& partial, arma::mat& G, arma::mat& H) {
  const arma::vec total = sum_blocks(partial);  // block order
  const arma::uword C = pr.R, p = pr.p;
  H.set_size(C * p, C * p);
  for (arma::uword c = 0, q = 0; c < C; ++c)
    for (arma::uword k = c; k < C; ++k, ++q)
      for (arma::uword a = 0, e = 0; a < p; ++a)
        for (arma::uword b2 = a; b2 < p; ++b2, ++e) {
          const double v = total[q * pr.moments + e];
          H(c * p + a, k * p + b2) = H(c * p + b2, k * p + a) = v;
          H(k * p + a, c * p + b2) = H(k * p + b2, c * p + a) = v;
        }
  G.set_size(C, p);
  for (arma::uword c = 0; c < C; ++c)
    for (arma::uword a = 0; a < p; ++a) G(c, a) = total[pr.pairs * pr.moments + c * p + a];
}

// The softmax of W x + b (W: C x d, b: C x 1) for every observation, written to PT (N x C), the objective
// Q = sum_n w_n (sum_c T_cn z_cn - mass_n lse_n) = sum_n w_n sum_c T_cn log P_cn, and, in the same pass
// while the block is in cache, the Newton sums at PT (block partials, columns of `partial`), which are the
// next Newton step's if this trial is accepted.
double softmax_objective_and_sums(const arma::mat& W, const arma::mat& b, const Problem& pr, arma::mat& PT,
                                  arma::mat& partial) {
  const arma::uword C = pr.C, d = pr.p - 1, n = pr.XT.n_rows;
  PT.set_size(n, C);
  partial.set_size(pr.sums(), block_count(n));
  arma::vec objective(block_count(n));
  for_blocks(n, 3 * block + pr.newton_scratch(), pr.sums() + C * (d + 8),
             [&](arma::uword bi, arma::uword c0, arma::uword c1, double* scratch) {
    const arma::uword m = c1 - c0;
    double* mx = scratch;
    double* sum = mx + block;
    double* lse = sum + block;
    const double* wj = pr.w.memptr() + c0;
    double q = 0.0;
    for (arma::uword c = 0; c < C; ++c) {  // logits, straight into the output
      double* zc = PT.colptr(c) + c0;
      const double bias = b(c, 0);
      for (arma::uword j = 0; j < m; ++j) zc[j] = bias;
      for (arma::uword a = 0; a < d; ++a) {
        const double wca = W(c, a);
        const double* x = pr.XT.colptr(a) + c0;
        for (arma::uword j = 0; j < m; ++j) zc[j] += wca * x[j];
      }
      const double* t = pr.TT.colptr(c) + c0;
#pragma omp simd reduction(+ : q)
      for (arma::uword j = 0; j < m; ++j) q += wj[j] * t[j] * zc[j];
    }
    const double* z0 = PT.colptr(0) + c0;
    for (arma::uword j = 0; j < m; ++j) mx[j] = z0[j];
    for (arma::uword c = 1; c < C; ++c) {
      const double* zc = PT.colptr(c) + c0;
      for (arma::uword j = 0; j < m; ++j) mx[j] = std::max(mx[j], zc[j]);
    }
    for (arma::uword j = 0; j < m; ++j) sum[j] = 0.0;
    for (arma::uword c = 0; c < C; ++c) {
      double* zc = PT.colptr(c) + c0;  // overwritten by exp(z - max)
      for (arma::uword j = 0; j < m; ++j) {
        zc[j] = exp_nonpositive(zc[j] - mx[j]);
        sum[j] += zc[j];
      }
    }
    for (arma::uword j = 0; j < m; ++j) lse[j] = mx[j] + log_positive(sum[j]);
    const double* mj = pr.mass.memptr() + c0;
#pragma omp simd reduction(+ : q)
    for (arma::uword j = 0; j < m; ++j) q -= mj[j] * lse[j];
    for (arma::uword j = 0; j < m; ++j) sum[j] = 1.0 / sum[j];
    for (arma::uword c = 0; c < C; ++c) {
      double* pc = PT.colptr(c) + c0;
      for (arma::uword j = 0; j < m; ++j) pc[j] *= sum[j];
    }
    objective[bi] = q;
    // Not partial.colptr(bi): with one class `partial` has no rows and no memory, and colptr binds a
    // reference to *nullptr (undefined behaviour; UBSan, scripts/asan.sh); nullptr + 0 is well defined.
    newton_block(pr, PT, c0, m, scratch + 3 * block, partial.memptr() + bi * partial.n_rows);
  });
  return arma::accu(objective);  // block order
}

}  // namespace

double softmax_objective(const arma::mat& W, const arma::mat& b, const arma::mat& X, const arma::mat& T,
                         const arma::rowvec& w) {
  arma::mat Z = W * X;
  Z.each_col() += b.col(0);
  const arma::mat L = column_softmax(Z).log_prob;
  return arma::accu(arma::sum(T % L, 0) % w);
}

double irls_softmax(arma::mat& W, arma::mat& b, const arma::mat& X, const arma::mat& T, const arma::rowvec& w,
                    const IrlsOptions& o) {
  const arma::uword d = W.n_cols;
  const Problem pr(X, T, w, o.l2 > 0.0 && T.n_rows > 1);
  auto penalty = [&](const arma::mat& weights) { return 0.5 * o.l2 * arma::accu(arma::square(weights)); };
  // Each pass computes a trial's softmax, objective and Newton sums together: the accepted trial's sums
  // are the next Newton step's.
  arma::mat PT, trial_PT, partial, trial_partial;  // N x C softmaxes; Newton sums per block
  double q = softmax_objective_and_sums(W, b, pr, PT, partial) - penalty(W);
  if (T.n_rows <= 1) return q;  // one class: nothing to fit
  // The penalty's minimum along the direction Q ignores: the same vector added to every class's weights.
  auto centre = [&] {
    if (o.l2 <= 0.0) return q;
    const double before = penalty(W);
    W.each_row() -= arma::mean(W, 0);
    return q + before - penalty(W);
  };
  arma::mat G, H;
  for (int it = 0; it < o.max_iterations; ++it) {
    unfold(pr, partial, G, H);
    if (o.l2 > 0.0) {  // the penalty's gradient and (negative) Hessian on the weights of the moved classes
      G.cols(0, d - 1) -= o.l2 * W.rows(0, pr.R - 1);
      for (arma::uword c = 0; c < pr.R; ++c)
        for (arma::uword a = 0; a < d; ++a) H(c * pr.p + a, c * pr.p + a) += o.l2;
    }
    H.diag() += o.ridge * (arma::trace(H) / double(H.n_rows)) + 1e-12;
    const arma::vec g = arma::vectorise(G.t());
    arma::vec step;
    if (!arma::solve(step, H, g, arma::solve_opts::likely_sympd + arma::solve_opts::no_approx)) break;
    // Newton decrement: the quadratic model's predicted gain. Below the tolerance the optimum is reached
    // and the step is not worth a pass over the data.
    if (0.5 * arma::dot(g, step) <= o.tolerance * std::max(1.0, std::abs(q))) break;
    const arma::mat S = arma::reshape(step, pr.p, pr.R).t();  // R x (d+1); a class beyond R stays
    double t = 1.0;
    bool accepted = false;
    for (int h = 0; h <= o.max_halvings; ++h, t *= 0.5) {
      arma::mat Wn = W, bn = b;
      Wn.rows(0, pr.R - 1) += t * S.cols(0, d - 1);
      bn.rows(0, pr.R - 1) += t * S.col(d);
      const double qn = softmax_objective_and_sums(Wn, bn, pr, trial_PT, trial_partial) - penalty(Wn);
      if (std::isfinite(qn) && qn >= q) {
        const double gain = qn - q;
        W = std::move(Wn);
        b = std::move(bn);
        std::swap(PT, trial_PT);
        std::swap(partial, trial_partial);
        q = qn;
        accepted = true;
        if (gain <= o.tolerance * std::max(1.0, std::abs(q))) return centre();
        break;
      }
    }
    if (!accepted) break;
  }
  return centre();
}

}  // namespace moe
