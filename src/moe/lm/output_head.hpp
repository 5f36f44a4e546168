#pragma once
// Output heads of a language model, from context vectors C (H x N) to next-token distributions over V
// words (Yang, Dai, Salakhutdinov & Cohen 2017; docs/methods.md#mixture-of-softmaxes). Shared by all three:
//   projections h_k = tanh(P_k c + b_k), k = 1..K, each d x 1 (stored stacked: proj/W (K d) x H, proj/b)
//   output embedding W (output/W, V x d), shared by every component; no output bias, as in the paper, so
//   a softmax's log-probability matrix has rank <= d + 1
//   prior pi = softmax(U c + u) (prior/W K x H, prior/b K x 1), only when K > 1
// softmax: K = 1, P = softmax(W h_1)
// mos:     P = sum_k pi_k softmax(W h_k)           (mixture of softmaxes: mixes probabilities)
// moc:     P = softmax(W sum_k pi_k h_k)           (mixture of contexts: mixes before the softmax)
// Every output-layer product is one matrix product over the batch: MoS stacks the K components of the N
// contexts as d x (K N) columns (column n K + k: component k of context n), so W h is V x (K N).
//
// Targets Y: 1 x N token ids (exact integers in [0, V)), or V x N distributions (soft targets, e.g. the
// known true distribution of the synthetic language); the loss is -sum_w Y_wn log P_wn, the
// cross-entropy (for ids: -log P of the target).
#include <armadillo>
#include <string>

#include "moe/core/params.hpp"
#include "moe/core/rng.hpp"

namespace moe {

class OutputHead {
 public:
  OutputHead(const std::string& kind, arma::uword inputs, arma::uword dim, arma::uword vocabulary,
             arma::uword components);
  void init(Rng& rng);
  void collect(ParamList& params);

  // Per-column loss (1 x N) on C (H x N). With dC non-null: grads += d(scale * sum loss)/d(theta) and
  // *dC = d(scale * sum loss)/dC (H x N).
  arma::rowvec loss(const arma::mat& C, const arma::mat& Y, double scale, arma::mat* dC);
  arma::rowvec loss(const arma::mat& C, const arma::mat& Y) const;  // no gradient
  // V x N log-probabilities (for the rank of the log-probability matrix, and predictions).
  arma::mat log_prob(const arma::mat& C) const;
  // K x N mixture weights pi (1 x N of ones for a softmax).
  arma::mat prior(const arma::mat& C) const;

  arma::uword components() const { return K_; }
  arma::uword vocabulary() const { return W_.n_rows; }

 private:
  struct Forward;  // the batch's intermediate values (output_head.cpp)
  Forward forward(const arma::mat& C) const;
  arma::rowvec loss_impl(const arma::mat& C, const arma::mat& Y, double scale, arma::mat* dC, bool grad);
  std::string kind_;
  arma::uword d_, K_;
  arma::mat P_, b_, W_, U_, u_;
  arma::mat dP_, db_, dW_, dU_, du_;
};

}  // namespace moe
