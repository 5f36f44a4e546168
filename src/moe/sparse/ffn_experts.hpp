#pragma once
// A bank of E two-layer feed-forward experts, the experts of the sparse MoE layer:
//   FFN_e(x) = W2_e act(W1_e x + b1_e) + b2_e,  W1_e: f x d, b1_e: f, W2_e: d x f, b2_e: d
// act = relu or gelu (exact: x Phi(x)). Every call takes the columns routed to one expert (d x n) and
// keeps the f x n pre-activations for the backward pass. Parameters "<prefix>expert<e>/W1|b1|W2|b2".
// Storage: each parameter kind of all E experts lies back to back in one array (the layout of
// kernels::ExpertWeights, which the fast backends read without copying); the per-expert matrices are
// Armadillo views of that memory, so the parameter list, the optimisers and the HDF5 names are unchanged.
#include <armadillo>
#include <string>
#include <vector>

#include "moe/core/params.hpp"
#include "moe/core/rng.hpp"
#include "moe/backend/ffn_activation.hpp"
#include "moe/backend/sparse_ffn_views.hpp"

namespace moe {

FfnActivation parse_ffn_activation(const std::string& name);  // "relu" | "gelu"; throws otherwise

class FfnExperts {
 public:
  FfnExperts(arma::uword model_dim, arma::uword ff_dim, arma::uword experts, FfnActivation activation);
  // A slice of a layer's bank (expert parallelism): this process holds experts [first, first + experts)
  // of a layer of layer_experts; parameters keep the layer's names ("expert<first + e>/...") and init
  // draws what the whole layer's init draws, keeping this slice's experts.
  FfnExperts(arma::uword model_dim, arma::uword ff_dim, arma::uword experts, FfnActivation activation,
             arma::uword first, arma::uword layer_experts);
  // The views point into this object's own arrays: moving keeps them valid, copying would not.
  FfnExperts(const FfnExperts&) = delete;
  FfnExperts& operator=(const FfnExperts&) = delete;
  FfnExperts(FfnExperts&&) = default;
  // W1 ~ N(0, 1/d), W2 ~ N(0, 1/f) scaled by output_scale; biases 0.
  void init(Rng& rng, double output_scale = 1.0);
  void collect(ParamList& params, const std::string& prefix);

  // X: d x n columns for expert e; writes the f x n pre-activations to *pre; returns d x n outputs.
  arma::mat forward(arma::uword e, const arma::mat& X, arma::mat* pre) const;
  // dY: d x n dL/d(outputs) of forward(e, X, pre); adds the parameter gradients, returns dL/dX (d x n).
  arma::mat backward(arma::uword e, const arma::mat& X, const arma::mat& pre, const arma::mat& dY);

  // Sparse upcycling: every expert becomes a copy of one dense FFN (shapes f x d, f, d x f, d).
  void copy_into_all(const arma::mat& W1, const arma::mat& b1, const arma::mat& W2, const arma::mat& b2);

  const arma::mat& W1(arma::uword e) const { return W1_.views[e]; }
  const arma::mat& b1(arma::uword e) const { return b1_.views[e]; }
  const arma::mat& W2(arma::uword e) const { return W2_.views[e]; }
  const arma::mat& b2(arma::uword e) const { return b2_.views[e]; }
  arma::uword experts() const { return W1_.views.size(); }  // held by this object
  arma::uword first_expert() const { return first_; }          // the layer's id of expert 0 of this bank
  arma::uword layer_experts() const { return layer_experts_; }
  arma::uword model_dim() const { return d_; }
  arma::uword ff_dim() const { return f_; }
  FfnActivation activation() const { return activation_; }

  // The whole bank as the fast backends read it, and its gradients (added to by their backward).
  kernels::ExpertWeights<double> weights() const;
  kernels::ExpertGrads<double> grads();

 private:
  // One array per parameter kind, E experts back to back, and the per-expert views into it.
  struct Kind {
    std::vector<double> storage;
    std::vector<arma::mat> views;
    void allocate(arma::uword rows, arma::uword cols, arma::uword experts);
  };
  arma::uword d_, f_;
  FfnActivation activation_;
  arma::uword first_ = 0, layer_experts_ = 0;
  Kind W1_, b1_, W2_, b2_, dW1_, db1_, dW2_, db2_;
};

}  // namespace moe
