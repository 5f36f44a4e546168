#include "moe/lm/output_head.hpp"

#include <cmath>

#include "moe/core/error.hpp"
#include "moe/core/math.hpp"
#include "moe/lm/blocked_gemm.hpp"

namespace moe {

struct OutputHead::Forward {
  arma::mat Hk;          // (K d) x N projections tanh(P C + b); component k of column n is rows k d .. k d + d - 1
  arma::mat pi, log_pi;  // K x N prior (K = 1: ones and zeros)
  arma::mat hbar;        // moc: d x N, sum_k pi_k h_k
  // softmax/mos: V x (K N), column n K + k; moc: V x N. Z: the logits W h; Q: their column softmax (the
  // backward pass turns Q into dZ in place); lse: log sum exp of each column, so that a log-probability is
  // Z(w, c) - lse(c) and no V x (K N) log-probability matrix is written.
  arma::mat Z, Q;
  arma::rowvec lse;
  double log_prob(arma::uword w, arma::uword c) const { return Z(w, c) - lse[c]; }
};

namespace {

// Column-wise softmax of logits Z (V x M, V a vocabulary): Q (V x M) and lse (1 x M). Each column is done
// whole while it is in cache (max, exp, sum, scale: four passes over V values in L1/L2) instead of
// column_softmax's passes over blocks of 256 columns (V x 256 values, streamed from memory at V = 2000);
// exp by the vectorised exp_nonpositive; the sum over 8 partial accumulators (vectorised by GCC), the max
// over 8 as well (8 independent chains; GCC keeps it scalar without -ffinite-math-only).
// Columns are independent: bit-identical results for any thread count.
void vocab_softmax(const arma::mat& Z, arma::mat& Q, arma::rowvec& lse) {
  const arma::uword V = Z.n_rows, M = Z.n_cols;
  constexpr arma::uword lanes = 8;
  Q.set_size(V, M);
  lse.set_size(M);
#pragma omp parallel for schedule(static) if (Z.n_elem >= 32768)
  for (long jj = 0; jj < long(M); ++jj) {
    const arma::uword j = arma::uword(jj);
    const double* z = Z.colptr(j);
    double* q = Q.colptr(j);
    double part[lanes];
    for (arma::uword l = 0; l < lanes; ++l) part[l] = -arma::datum::inf;
    arma::uword i = 0;
    for (; i + lanes <= V; i += lanes)
      for (arma::uword l = 0; l < lanes; ++l) part[l] = z[i + l] > part[l] ? z[i + l] : part[l];
    double mx = -arma::datum::inf;
    for (arma::uword l = 0; l < lanes; ++l) mx = part[l] > mx ? part[l] : mx;
    for (; i < V; ++i) mx = z[i] > mx ? z[i] : mx;
    mx = std::isfinite(mx) ? mx : 0.0;  // all -inf: lse = -inf below
    for (i = 0; i < V; ++i) q[i] = exp_nonpositive(z[i] - mx);
    for (arma::uword l = 0; l < lanes; ++l) part[l] = 0.0;
    for (i = 0; i + lanes <= V; i += lanes)
      for (arma::uword l = 0; l < lanes; ++l) part[l] += q[i + l];
    double total = 0.0;
    for (arma::uword l = 0; l < lanes; ++l) total += part[l];
    for (; i < V; ++i) total += q[i];
    const double inv = 1.0 / total;
    for (i = 0; i < V; ++i) q[i] *= inv;
    lse[j] = mx + std::log(total);
  }
}

}  // namespace

OutputHead::OutputHead(const std::string& kind, arma::uword inputs, arma::uword dim, arma::uword vocabulary,
                       arma::uword components)
    : kind_(kind),
      d_(dim),
      K_(kind == "softmax" ? 1 : components),
      P_(K_ * dim, inputs, arma::fill::zeros),
      b_(K_ * dim, 1, arma::fill::zeros),
      W_(vocabulary, dim, arma::fill::zeros) {
  require(kind == "softmax" || kind == "mos" || kind == "moc",
          "unknown language-model head '" + kind + "' (expected softmax, mos or moc)");
  require(K_ >= 1 && dim >= 1 && vocabulary >= 2, "a language-model head needs K >= 1, d >= 1 and V >= 2");
  if (K_ > 1) {
    U_.zeros(K_, inputs);
    u_.zeros(K_, 1);
  }
}

void OutputHead::init(Rng& rng) {
  P_ = rng.normal_matrix(P_.n_rows, P_.n_cols, 1.0 / std::sqrt(double(P_.n_cols)));
  b_.zeros();
  W_ = rng.normal_matrix(W_.n_rows, W_.n_cols, 1.0 / std::sqrt(double(d_)));
  if (K_ > 1) {
    U_ = rng.normal_matrix(U_.n_rows, U_.n_cols, 0.1 / std::sqrt(double(U_.n_cols)));
    u_.zeros();
  }
}

void OutputHead::collect(ParamList& params) {
  params.add("proj/W", P_, dP_, ParamKind::weight);
  params.add("proj/b", b_, db_);
  params.add("output/W", W_, dW_, ParamKind::weight);
  if (K_ > 1) {
    params.add("prior/W", U_, dU_, ParamKind::weight);
    params.add("prior/b", u_, du_);
  }
}

OutputHead::Forward OutputHead::forward(const arma::mat& C) const {
  const arma::uword N = C.n_cols;
  Forward f;
  f.Hk = P_ * C;
  f.Hk.each_col() += b_.col(0);
  f.Hk = arma::tanh(f.Hk);
  if (K_ > 1) {
    arma::mat z = U_ * C;
    z.each_col() += u_.col(0);
    ColumnSoftmax g = column_softmax(z);
    f.pi = std::move(g.prob);
    f.log_pi = std::move(g.log_prob);
  } else {
    f.pi.ones(1, N);
    f.log_pi.zeros(1, N);
  }
  if (kind_ == "moc") {
    f.hbar.zeros(d_, N);
    for (arma::uword n = 0; n < N; ++n)
      for (arma::uword k = 0; k < K_; ++k) f.hbar.col(n) += f.pi(k, n) * f.Hk.col(n).subvec(k * d_, k * d_ + d_ - 1);
    f.Z = gemm_blocked(W_, f.hbar);
  } else {
    const arma::mat Hs(const_cast<double*>(f.Hk.memptr()), d_, K_ * N, false, true);  // same memory, d x (K N)
    f.Z = gemm_blocked(W_, Hs);
  }
  vocab_softmax(f.Z, f.Q, f.lse);
  return f;
}

namespace {

// Target ids of a 1 x N row, checked.
arma::uword target_id(const arma::mat& Y, arma::uword n, arma::uword V) {
  const double t = Y(0, n);
  require(t >= 0.0 && t < double(V) && t == std::floor(t),
          "target token id " + std::to_string(t) + " is not an integer in [0, " + std::to_string(V) + ")");
  return arma::uword(t);
}

double lse(const double* v, arma::uword k) {
  double m = -arma::datum::inf;
  for (arma::uword i = 0; i < k; ++i) m = std::max(m, v[i]);
  if (!std::isfinite(m)) return m;
  double s = 0.0;
  for (arma::uword i = 0; i < k; ++i) s += std::exp(v[i] - m);
  return m + std::log(s);
}

}  // namespace

arma::rowvec OutputHead::loss(const arma::mat& C, const arma::mat& Y, double scale, arma::mat* dC) {
  return loss_impl(C, Y, scale, dC, dC != nullptr);
}

arma::rowvec OutputHead::loss(const arma::mat& C, const arma::mat& Y) const {
  return const_cast<OutputHead*>(this)->loss_impl(C, Y, 0.0, nullptr, false);
}

arma::rowvec OutputHead::loss_impl(const arma::mat& C, const arma::mat& Y, double scale, arma::mat* dC, bool grad) {
  const arma::uword N = C.n_cols, V = W_.n_rows, K = K_;
  const bool ids = Y.n_rows == 1;
  require(Y.n_cols == N && (ids || Y.n_rows == V), "language-model targets must be 1 x N token ids or V x N "
                                                    "distributions (V = " + std::to_string(V) + ")");
  Forward f = forward(C);
  const arma::mat& Q = f.Q;
  arma::rowvec out(N);
  arma::rowvec ysum = ids ? arma::rowvec(N, arma::fill::ones) : arma::rowvec(arma::sum(Y, 0));
  arma::mat dHk, du;  // (K d) x N and K x N
  if (kind_ == "moc") {
    for (arma::uword n = 0; n < N; ++n)
      out[n] = ids ? -f.log_prob(target_id(Y, n, V), n)
                   : -arma::dot(Y.col(n), (f.Z.col(n) - f.lse[n]).eval().clean(0.0) % (Y.col(n) > 0.0));
    if (!grad) return out;
    arma::mat& dZ = f.Q;  // in place, V x N: scale (Q sum_w y_w - Y)
    dZ.each_row() %= scale * ysum;
    if (ids) {
      for (arma::uword n = 0; n < N; ++n) dZ(arma::uword(Y(0, n)), n) -= scale;
    } else {
      dZ -= scale * Y;
    }
    gemm_nt_accumulate(dW_, dZ, f.hbar);
    const arma::mat dhbar = gemm_tn_blocked(W_, dZ);  // d x N
    dHk.set_size(K * d_, N);
    du.set_size(K, N);
    for (arma::uword n = 0; n < N; ++n) {
      double mean = 0.0;
      for (arma::uword k = 0; k < K; ++k) {
        dHk.col(n).subvec(k * d_, k * d_ + d_ - 1) = f.pi(k, n) * dhbar.col(n);
        du(k, n) = arma::dot(f.Hk.col(n).subvec(k * d_, k * d_ + d_ - 1), dhbar.col(n));  // d loss / d pi_k
        mean += f.pi(k, n) * du(k, n);
      }
      for (arma::uword k = 0; k < K; ++k) du(k, n) = f.pi(k, n) * (du(k, n) - mean);
    }
  } else {
    // r (K x N): posterior of each component given the target (soft targets: pi_k sum_w R_w Q_kw).
    arma::mat r(K, N), R;
    std::vector<double> lp(K);
    if (ids) {
      for (arma::uword n = 0; n < N; ++n) {
        const arma::uword t = target_id(Y, n, V);
        for (arma::uword k = 0; k < K; ++k) lp[k] = f.log_pi(k, n) + f.log_prob(t, n * K + k);
        const double logP = lse(lp.data(), K);
        out[n] = -logP;
        for (arma::uword k = 0; k < K; ++k) r(k, n) = std::exp(lp[k] - logP);
      }
    } else {
      R.zeros(V, N);  // Y / P
      for (arma::uword n = 0; n < N; ++n) {
        double total = 0.0;
        for (arma::uword w = 0; w < V; ++w) {
          if (!(Y(w, n) > 0.0)) continue;
          for (arma::uword k = 0; k < K; ++k) lp[k] = f.log_pi(k, n) + f.log_prob(w, n * K + k);
          const double logP = lse(lp.data(), K);
          total -= Y(w, n) * logP;
          R(w, n) = Y(w, n) * std::exp(-logP);
        }
        out[n] = total;
        for (arma::uword k = 0; k < K; ++k) r(k, n) = f.pi(k, n) * arma::dot(R.col(n), Q.col(n * K + k));
      }
    }
    if (!grad) return out;
    // d loss / d z (column n K + k) = r_kn Q - pi_kn Q % R_n (ids: r_kn (Q - e_t)).
    // In place over Q: one pass over V x (K N), no new matrix.
    arma::mat& dZ = f.Q;
    if (ids) {
#pragma omp parallel for schedule(static) if (dZ.n_elem >= 32768)
      for (long nn = 0; nn < long(N); ++nn) {
        const arma::uword n = arma::uword(nn), t = arma::uword(Y(0, n));
        for (arma::uword k = 0; k < K; ++k) {
          const arma::uword c = n * K + k;
          const double a = scale * r(k, n);
          double* q = dZ.colptr(c);
          for (arma::uword w = 0; w < V; ++w) q[w] *= a;
          q[t] -= a;
        }
      }
    } else {
      for (arma::uword n = 0; n < N; ++n)
        for (arma::uword k = 0; k < K; ++k) {
          const arma::uword c = n * K + k;
          dZ.col(c) %= scale * r(k, n) - (scale * f.pi(k, n)) * R.col(n);
        }
    }
    const arma::mat Hs(const_cast<double*>(f.Hk.memptr()), d_, K * N, false, true);
    gemm_nt_accumulate(dW_, dZ, Hs);
    dHk = gemm_tn_blocked(W_, dZ);  // d x (K N), the memory of (K d) x N
    dHk.reshape(K * d_, N);
    du = f.pi.each_row() % ysum - r;  // d loss / d prior logits
  }
  const arma::mat dPre = dHk % (1.0 - arma::square(f.Hk));  // (K d) x N
  dP_ += dPre * C.t();
  db_ += arma::sum(dPre, 1);
  *dC = P_.t() * dPre;
  if (K > 1) {
    du *= (kind_ == "moc") ? 1.0 : scale;  // moc's du already carries scale through dZ
    dU_ += du * C.t();
    du_ += arma::sum(du, 1);
    *dC += U_.t() * du;
  }
  return out;
}

arma::mat OutputHead::log_prob(const arma::mat& C) const {
  const Forward f = forward(C);
  if (kind_ == "moc" || K_ == 1) return f.Z.each_row() - f.lse;
  const arma::uword N = C.n_cols, V = W_.n_rows;
  arma::mat L(V, N);
  std::vector<double> lp(K_);
  for (arma::uword n = 0; n < N; ++n)
    for (arma::uword w = 0; w < V; ++w) {
      for (arma::uword k = 0; k < K_; ++k) lp[k] = f.log_pi(k, n) + f.log_prob(w, n * K_ + k);
      L(w, n) = lse(lp.data(), K_);
    }
  return L;
}

arma::mat OutputHead::prior(const arma::mat& C) const {
  if (K_ == 1) return arma::mat(1, C.n_cols, arma::fill::ones);
  arma::mat z = U_ * C;
  z.each_col() += u_.col(0);
  return softmax_cols(z);
}

}  // namespace moe
