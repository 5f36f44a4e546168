// The output head's vocabulary softmax (a column at a time, exp_nonpositive, 8 partial sums) against
// arma's log-softmax, on large logits and a vocabulary that is not a multiple of the 8 lanes.
#include <doctest/doctest.h>

#include <cmath>

#include "moe/core/math.hpp"
#include "moe/lm/output_head.hpp"

using namespace moe;

TEST_CASE("lm output head: log-probabilities of large logits match log_softmax_cols, V = 13") {
  for (const std::string head : {"softmax", "moc"}) {
    CAPTURE(head);
    const arma::uword H = 3, d = 2, V = 13, K = head == "softmax" ? 1 : 3, N = 40;
    OutputHead out(head, H, d, V, K);
    Rng rng(7);
    out.init(rng);
    ParamList params;
    out.collect(params);
    *params.find("output/W")->value *= 400.0;  // logits up to several hundred: exp would overflow unshifted
    const arma::mat C = rng.uniform_matrix(H, N, -2.0, 2.0);
    const arma::mat& P = *params.find("proj/W")->value;
    const arma::mat& b = *params.find("proj/b")->value;
    const arma::mat& W = *params.find("output/W")->value;
    arma::mat Hk = arma::tanh(P * C + arma::repmat(b, 1, N));  // (K d) x N
    arma::mat h(d, N, arma::fill::zeros);
    const arma::mat pi = out.prior(C);
    for (arma::uword k = 0; k < K; ++k) h += Hk.rows(k * d, k * d + d - 1) % arma::repmat(pi.row(k), d, 1);
    const arma::mat Z = W * h;
    REQUIRE(arma::abs(Z).max() > 100.0);
    const arma::mat ref = log_softmax_cols(Z), L = out.log_prob(C);
    CHECK(L.is_finite());
    CHECK(arma::abs(L - ref).max() < 1e-9);
    CHECK(arma::abs(arma::sum(arma::exp(L), 0) - 1.0).max() < 1e-12);
    arma::mat Y(1, N);
    for (arma::uword n = 0; n < N; ++n) Y(0, n) = double((5 * n + 3) % V);
    const arma::rowvec l = out.loss(C, Y);
    for (arma::uword n = 0; n < N; ++n) CHECK(l[n] == doctest::Approx(-ref(arma::uword(Y(0, n)), n)).epsilon(1e-10));
  }
}
