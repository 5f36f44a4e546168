#pragma once
// The trained tensors of a network on a compute backend, their gradients and the optimiser's moments,
// with the host's view of them. A network allocates its parameter and gradient tensors (an expert bank
// holds E experts back to back) and registers each pair here; the moments are allocated beside them and
// never leave the backend while training. The host sees the parameters as the model's ParamList entries,
// each a block of columns of one registered tensor (expert e's W1 is columns [e d, (e + 1) d) of the bank's
// W1), so names, model files and checkpoints are those of the host implementation:
//   collect     host copies of every entry and zero gradient matrices, in registration order
//   to_host     parameters and moments copied out (before saving); from_host writes the parameters back,
//               and the moments once after a checkpoint was loaded
//   add_grads_to_host  the gradients added to the host gradients (the Model interface's loss path)
//   step        one Adam / momentum step on every tensor, all on the backend
//   visit_state the optimiser's state as train/optimizer.hpp writes it (Adam: t, m, v; momentum:
//               velocity), one matrix per entry, so a checkpoint has the same layout on either path.
#include <armadillo>
#include <deque>
#include <string>
#include <vector>

#include "moe/backend/backend.hpp"
#include "moe/core/params.hpp"
#include "moe/core/state.hpp"

namespace moe {

// A tensor's values as a host matrix, and a host matrix into a tensor (reshaped to it).
arma::mat download_matrix(const Backend& b, const Tensor& t);
void upload_matrix(Backend& b, Tensor& t, const arma::mat& M);

// The optimiser run on the backend (train/optimizer.hpp's options; that floor is above this one).
struct BackendOptimizer {
  std::string name = "adam";  // adam | momentum | sgd
  double learning_rate = 1e-3, momentum = 0.9, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
  double l2 = 0.0;  // --l2: (l2 / 2) |W|^2 on the weight entries (ParamKind::weight), in loss and gradient
};

class BackendParams {
 public:
  explicit BackendParams(Backend& backend) : b_(backend) {}
  BackendParams(const BackendParams&) = delete;
  BackendParams& operator=(const BackendParams&) = delete;
  Backend& backend() const { return b_; }

  // value and grad (owned by the caller, outliving this object) made rows x cols and added.
  void allocate(Tensor& value, Tensor& grad, std::size_t rows, std::size_t cols, bool replicated = false);
  // A trained tensor and its gradient (same shape), owned by the caller and outliving this object.
  // replicated (expert parallelism): every process holds a copy and its gradient is this process's
  // tokens' part, to be summed over the processes before the step (sum_replicated_gradients).
  void add(Tensor& value, Tensor& grad, bool replicated = false);
  // The host entry `name`: columns [first, first + cols) of the registered tensor `value`. Returns its
  // host copy (the caller may write initial values there, then call from_host).
  arma::mat& view(const std::string& name, ParamKind kind, const Tensor& value, std::size_t first, std::size_t cols);
  arma::mat& view(const std::string& name, ParamKind kind, const Tensor& value) {
    return view(name, kind, value, 0, value.cols());
  }
  arma::mat& host(const std::string& name);  // a view's host copy; throws if there is none

  void collect(ParamList& params);
  void to_host();
  void from_host();
  // Whether a host copy was written since the last to_host / from_host (a model file loaded into the
  // ParamList, say): the backend's parameters are then stale.
  bool host_changed() const;
  void add_grads_to_host();
  void zero_grad();  // every registered gradient to 0
  // Each replicated gradient replaced by its sum over the processes (collective; one call for all).
  void sum_replicated_gradients(const ShardSum& processes);

  void start(const BackendOptimizer& optimizer);
  void step();  // one optimiser step on every registered tensor from its gradient (plus l2 W on weights)
  // The L2 penalty (l2 / 2) sum |W|^2 over the weight tensors, times scale, added to acc (1 x 1).
  void add_l2_penalty(Tensor& acc, double scale);
  long steps() const { return steps_; }
  void visit_state(StateVisitor& v, const std::string& prefix);  // the host copies of the moments

 private:
  struct Entry {
    Tensor* value;
    Tensor* grad;
    bool replicated;
    bool weight = false;  // its views are ParamKind::weight: --l2 applies
    Tensor m, v;  // Adam's moments; m is the momentum's velocity
  };
  struct View {
    std::string name;
    ParamKind kind;
    std::size_t entry, first, cols;
    arma::mat value, grad, m, v;  // host copies (m, v: for checkpoints)
    arma::mat synced;             // value as of the last to_host / from_host
  };
  std::size_t entry_of(const Tensor& value) const;

  Backend& b_;
  BackendOptimizer opt_;
  long steps_ = 0;
  std::deque<Entry> entries_;
  std::deque<View> views_;  // a deque: the ParamList keeps pointers to their matrices
  bool moments_on_host_ = false;  // a checkpoint was loaded: the next from_host writes the moments
  bool has_moments_ = false;      // a step was taken (here or before the checkpoint this resumed)
};

}  // namespace moe
