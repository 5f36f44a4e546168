#include "moe/core/params.hpp"

#include "moe/core/error.hpp"

namespace moe {

void ParamList::add(const std::string& name, arma::mat& value, arma::mat& grad, ParamKind kind) {
  require(find(name) == nullptr, "duplicate parameter name '" + name + "'");
  grad.zeros(value.n_rows, value.n_cols);
  items_.push_back({name, &value, &grad, kind});
}

double ParamList::l2_penalty(double l2, bool add_grad) const {
  if (l2 == 0.0) return 0.0;
  double squares = 0.0;
  for (const auto& p : items_) {
    if (p.kind != ParamKind::weight) continue;
    squares += arma::accu(arma::square(*p.value));
    if (add_grad) *p.grad += l2 * *p.value;
  }
  return 0.5 * l2 * squares;
}

arma::uword ParamList::element_count() const {
  arma::uword n = 0;
  for (const auto& p : items_) n += p.value->n_elem;
  return n;
}

void ParamList::zero_grad() {
  for (const auto& p : items_) p.grad->zeros(p.value->n_rows, p.value->n_cols);
}

arma::vec ParamList::values() const {
  arma::vec flat(element_count());
  arma::uword at = 0;
  for (const auto& p : items_) {
    flat.subvec(at, arma::size(p.value->n_elem, 1)) = arma::vectorise(*p.value);
    at += p.value->n_elem;
  }
  return flat;
}

arma::vec ParamList::grads() const {
  arma::vec flat(element_count());
  arma::uword at = 0;
  for (const auto& p : items_) {
    flat.subvec(at, arma::size(p.grad->n_elem, 1)) = arma::vectorise(*p.grad);
    at += p.grad->n_elem;
  }
  return flat;
}

void ParamList::set_values(const arma::vec& flat) {
  require(flat.n_elem == element_count(), "parameter vector has the wrong length");
  arma::uword at = 0;
  for (const auto& p : items_) {
    std::copy(flat.begin() + at, flat.begin() + at + p.value->n_elem, p.value->begin());
    at += p.value->n_elem;
  }
}

const Param* ParamList::find(const std::string& name) const {
  for (const auto& p : items_)
    if (p.name == name) return &p;
  return nullptr;
}

}  // namespace moe
