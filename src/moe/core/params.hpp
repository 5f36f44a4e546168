#pragma once
// The one parameter/gradient view every module exposes (docs/architecture.md#principles). A module owns
// its matrices and registers (name, value, gradient, kind) entries; the optimisers, the gradient checker and model
// save/load all work on a ParamList, never on a module's internals.
#include <armadillo>
#include <string>
#include <vector>

namespace moe {

// weight: a matrix that multiplies an input (an expert's or gate's W, a layer's weights), the parameters
// the --l2 penalty (a zero-mean Gaussian prior) applies to. other: biases, variances, means, embeddings,
// scales, which it leaves alone (penalising a bias or a variance would pull predictions, not complexity).
enum class ParamKind { other, weight };

struct Param {
  std::string name;   // slash-separated path, e.g. "gate/W" or "expert3/b"; also the HDF5 dataset name
  arma::mat* value;   // owned by the module
  arma::mat* grad;    // same shape as value; accumulated by loss_grad, zeroed by zero_grad
  ParamKind kind = ParamKind::other;
};

class ParamList {
 public:
  void add(const std::string& name, arma::mat& value, arma::mat& grad, ParamKind kind = ParamKind::other);
  const std::vector<Param>& items() const { return items_; }
  std::vector<Param>::const_iterator begin() const { return items_.begin(); }
  std::vector<Param>::const_iterator end() const { return items_.end(); }
  std::size_t size() const { return items_.size(); }
  arma::uword element_count() const;

  void zero_grad();
  // Flattened copies of all values / gradients in registration order (length element_count()).
  arma::vec values() const;
  arma::vec grads() const;
  void set_values(const arma::vec& flat);
  const Param* find(const std::string& name) const;
  // The L2 penalty (l2 / 2) sum |W|^2 over the weight parameters; with add_grad, also adds its gradient
  // l2 W to their gradients. 0 when l2 is 0.
  double l2_penalty(double l2, bool add_grad) const;

 private:
  std::vector<Param> items_;
};

}  // namespace moe
