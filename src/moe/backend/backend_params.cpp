#include "moe/backend/backend_params.hpp"

#include <cmath>

#include "moe/core/error.hpp"

namespace moe {

arma::mat download_matrix(const Backend& b, const Tensor& t) {
  arma::mat M(t.rows(), t.cols());
  if (M.n_elem > 0) b.download(t, M.memptr());
  return M;
}

void upload_matrix(Backend& b, Tensor& t, const arma::mat& M) {
  b.reshape(t, M.n_rows, M.n_cols);
  if (M.n_elem > 0) b.upload(t, M.memptr());
}

void BackendParams::allocate(Tensor& value, Tensor& grad, std::size_t rows, std::size_t cols, bool replicated) {
  value = b_.tensor(rows, cols);
  grad = b_.zeros(rows, cols);
  add(value, grad, replicated);
}

void BackendParams::add(Tensor& value, Tensor& grad, bool replicated) {
  require(value.backend() == &b_ && grad.backend() == &b_ && value.rows() == grad.rows() && value.cols() == grad.cols(),
          "backend parameters: a parameter and its gradient must be tensors of this backend of one shape");
  Entry e{&value, &grad, replicated, false, b_.zeros(value.rows(), value.cols()), b_.zeros(value.rows(), value.cols())};
  entries_.push_back(std::move(e));
}

std::size_t BackendParams::entry_of(const Tensor& value) const {
  for (std::size_t i = 0; i < entries_.size(); ++i)
    if (entries_[i].value == &value) return i;
  fail("backend parameters: a view of a tensor that was not added");
}

arma::mat& BackendParams::view(const std::string& name, ParamKind kind, const Tensor& value, std::size_t first,
                               std::size_t cols) {
  const std::size_t e = entry_of(value);
  require(first + cols <= value.cols(), "backend parameters: " + name + " takes columns beyond its tensor");
  for (const View& v : views_) require(v.name != name, "backend parameters: two entries named " + name);
  entries_[e].weight = entries_[e].weight || kind == ParamKind::weight;
  View v{name, kind, e, first, cols, arma::mat(value.rows(), cols, arma::fill::zeros),
         arma::mat(value.rows(), cols, arma::fill::zeros), {}, {}, {}};
  views_.push_back(std::move(v));
  return views_.back().value;
}

arma::mat& BackendParams::host(const std::string& name) {
  for (View& v : views_)
    if (v.name == name) return v.value;
  fail("backend parameters: no entry named " + name);
}

void BackendParams::collect(ParamList& params) {
  for (View& v : views_) params.add(v.name, v.value, v.grad, v.kind);
}

void BackendParams::to_host() {
  // One download per tensor, cut into its views.
  for (std::size_t e = 0; e < entries_.size(); ++e) {
    const arma::mat value = download_matrix(b_, *entries_[e].value), m = download_matrix(b_, entries_[e].m),
                    v = download_matrix(b_, entries_[e].v);
    for (View& w : views_) {
      if (w.entry != e || w.cols == 0) continue;
      w.value = value.cols(w.first, w.first + w.cols - 1);
      w.synced = w.value;
      w.m = m.cols(w.first, w.first + w.cols - 1);
      w.v = v.cols(w.first, w.first + w.cols - 1);
    }
  }
}

void BackendParams::from_host() {
  for (std::size_t e = 0; e < entries_.size(); ++e) {
    Entry& entry = entries_[e];
    arma::mat value = download_matrix(b_, *entry.value), m, v;
    if (moments_on_host_) m = download_matrix(b_, entry.m), v = download_matrix(b_, entry.v);
    for (const View& w : views_) {
      if (w.entry != e || w.cols == 0) continue;
      auto put = [&](arma::mat& all, const arma::mat& block, const char* what) {
        require(block.n_rows == all.n_rows && block.n_cols == w.cols,
                std::string("backend parameters: the ") + what + " of " + w.name + " is " + std::to_string(block.n_rows) +
                    " x " + std::to_string(block.n_cols) + ", expected " + std::to_string(all.n_rows) + " x " +
                    std::to_string(w.cols));
        all.cols(w.first, w.first + w.cols - 1) = block;
      };
      put(value, w.value, "value");
      if (moments_on_host_) {
        put(m, w.m, "first moment");
        put(v, w.v, "second moment");
      }
    }
    for (View& w : views_)
      if (w.entry == e) w.synced = w.value;
    if (value.n_elem == 0) continue;
    b_.upload(*entry.value, value.memptr());
    if (moments_on_host_) {
      b_.upload(entry.m, m.memptr());
      b_.upload(entry.v, v.memptr());
    }
  }
  moments_on_host_ = false;  // uploaded once; later calls upload parameters only
}

bool BackendParams::host_changed() const {
  for (const View& w : views_)
    if (arma::size(w.synced) != arma::size(w.value) || !arma::approx_equal(w.synced, w.value, "absdiff", 0.0))
      return true;
  return false;
}

void BackendParams::add_grads_to_host() {
  for (std::size_t e = 0; e < entries_.size(); ++e) {
    const arma::mat g = download_matrix(b_, *entries_[e].grad);
    for (View& w : views_)
      if (w.entry == e && w.cols > 0) w.grad += g.cols(w.first, w.first + w.cols - 1);
  }
}

void BackendParams::zero_grad() {
  for (Entry& e : entries_) b_.fill(*e.grad, 0.0);
}

void BackendParams::sum_replicated_gradients(const ShardSum& processes) {
  std::vector<double> all;  // every replicated gradient back to back: one collective
  for (const Entry& e : entries_)
    if (e.replicated) {
      const std::vector<double> g = b_.to_host(*e.grad);
      all.insert(all.end(), g.begin(), g.end());
    }
  processes.sum(all.data(), all.size());
  std::size_t at = 0;
  for (Entry& e : entries_)
    if (e.replicated) {
      if (e.grad->size() > 0) b_.upload(*e.grad, all.data() + at);
      at += e.grad->size();
    }
}

void BackendParams::start(const BackendOptimizer& optimizer) {
  require(optimizer.name == "adam" || optimizer.name == "momentum" || optimizer.name == "sgd",
          "the compute backend has no optimiser " + optimizer.name);
  // A fresh optimiser, as the host trainer makes one per run (a checkpoint restores its state after this).
  steps_ = 0;
  has_moments_ = false;
  moments_on_host_ = false;
  for (Entry& e : entries_) b_.fill(e.m, 0.0), b_.fill(e.v, 0.0);
  require(std::isfinite(optimizer.l2) && optimizer.l2 >= 0.0, "--l2 must be a finite number >= 0");
  opt_ = optimizer;
}

void BackendParams::add_l2_penalty(Tensor& acc, double scale) {
  if (opt_.l2 == 0.0) return;
  Tensor sumsq = b_.zeros(1, 1);
  for (const Entry& e : entries_)
    if (e.weight) b_.sum_squares(*e.value, sumsq);
  b_.axpy(scale * opt_.l2 / 2.0, sumsq, acc);
}

void BackendParams::step() {
  ++steps_;
  has_moments_ = true;
  for (Entry& e : entries_) {
    if (opt_.l2 != 0.0 && e.weight) b_.axpy(opt_.l2, *e.value, *e.grad);  // d/dW (l2 / 2) |W|^2
    if (opt_.name == "adam")
      b_.adam(*e.value, *e.grad, e.m, e.v, AdamStep{opt_.learning_rate, opt_.beta1, opt_.beta2, opt_.epsilon, steps_},
              nullptr);
    else
      b_.momentum(*e.value, *e.grad, e.m, opt_.learning_rate, opt_.momentum, nullptr);
  }
}

void BackendParams::visit_state(StateVisitor& v, const std::string& prefix) {
  // Before the first step the host optimisers hold no moments: write none, and read none back.
  std::vector<arma::mat> m, s;
  if (!v.loading() && has_moments_)
    for (const View& w : views_) m.push_back(w.m), s.push_back(w.v);
  if (opt_.name == "adam") {
    v.signed_count(prefix + "t", steps_);
    v.matrices(prefix + "m", m);
    v.matrices(prefix + "v", s);
  } else {
    v.matrices(prefix + "velocity", m);
  }
  if (!v.loading()) return;
  require(m.empty() || m.size() == views_.size(), "checkpoint: the optimiser state does not fit this network");
  require(opt_.name != "adam" || s.size() == m.size(), "checkpoint: the optimiser's moments do not match");
  has_moments_ = !m.empty();
  if (m.empty()) {  // no step taken yet: zero moments
    moments_on_host_ = false;
    for (Entry& e : entries_) b_.fill(e.m, 0.0), b_.fill(e.v, 0.0);
    return;
  }
  for (std::size_t i = 0; i < views_.size(); ++i) {
    views_[i].m = m[i];
    views_[i].v = opt_.name == "adam" ? s[i] : arma::mat(arma::size(m[i]), arma::fill::zeros);
  }
  moments_on_host_ = true;
}

}  // namespace moe
