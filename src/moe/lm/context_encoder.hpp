#pragma once
// Context encoder of the n-gram neural language model (Bengio et al. 2003 style): the embeddings of the
// previous n tokens, concatenated, through one hidden layer.
//   X:  n x N token ids (stored as doubles, exact below 2^53); row i holds token t-n+i (oldest first)
//   G:  (n e) x N gathered embeddings, block i = E.col(X(i, :))
//   C = act(A G + a):  H x N context vectors (act = tanh or relu)
// Parameters: embedding E (e x Vin), hidden/W A (H x n e), hidden/b a (H x 1).
#include <armadillo>
#include <string>

#include "moe/core/params.hpp"
#include "moe/core/rng.hpp"

namespace moe {

class ContextEncoder {
 public:
  ContextEncoder(arma::uword context, arma::uword vocabulary, arma::uword embedding, arma::uword hidden,
                 const std::string& activation);
  void init(Rng& rng);
  void collect(ParamList& params);

  struct Cache {
    arma::mat G;  // (n e) x N gathered embeddings
    arma::mat C;  // H x N activations
  };
  // Checks the ids (integers in [0, Vin)) and returns the activations with what backward needs.
  Cache forward(const arma::mat& X) const;
  // grads += backprop of dC (H x N, d loss / d C).
  void backward(const arma::mat& X, const Cache& cache, const arma::mat& dC);

  arma::uword output_size() const { return A_.n_rows; }

 private:
  arma::uword n_, e_;
  bool relu_;
  arma::mat E_, A_, a_;
  arma::mat dE_, dA_, da_;
};

}  // namespace moe
