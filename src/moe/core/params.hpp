#pragma once
// The one parameter/gradient view every module exposes (docs/architecture.md#principles). A module owns its
// matrices and registers (name, value, gradient) pairs; the optimisers, the gradient checker and model
// save/load all work on a ParamList, never on a module's internals.
#include <armadillo>
#include <string>
#include <vector>

namespace moe {

struct Param {
  std::string name;   // slash-separated path, e.g. "gate/W" or "expert3/b"; also the HDF5 dataset name
  arma::mat* value;   // owned by the module
  arma::mat* grad;    // same shape as value; accumulated by loss_grad, zeroed by zero_grad
};

class ParamList {
 public:
  void add(const std::string& name, arma::mat& value, arma::mat& grad);
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

 private:
  std::vector<Param> items_;
};

}  // namespace moe
