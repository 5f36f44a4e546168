#pragma once
// Resumable training state beyond the parameters: optimiser moments, random-generator states, counters,
// the training loop's position and history. Every owner of such state writes one function,
//   void visit_state(StateVisitor& v, const std::string& prefix);
// that names each piece once; the same function saves it (a writing visitor) and restores it (a reading
// visitor), so saving and loading cannot drift apart. The visitor behind a checkpoint file is in
// moe/io/checkpoint.hpp. Names are slash-separated paths, unique within one checkpoint.
#include <armadillo>
#include <cstdint>
#include <string>
#include <vector>

#include "moe/core/error.hpp"

namespace moe {

class StateVisitor {
 public:
  virtual ~StateVisitor() = default;
  virtual bool loading() const = 0;
  // Loading replaces the value; a non-empty value whose shape differs from the saved one is an error
  // (the checkpoint belongs to another model), an empty one takes the saved shape.
  virtual void matrix(const std::string& name, arma::mat& value) = 0;
  virtual void reals(const std::string& name, std::vector<double>& value) = 0;  // any length
  virtual void count(const std::string& name, std::uint64_t& value) = 0;        // exact, all 64 bits
  virtual void real(const std::string& name, double& value) = 0;
  virtual void text(const std::string& name, std::string& value) = 0;

  // Conveniences built on the above.
  void flag(const std::string& name, bool& value) {
    std::uint64_t v = value;
    count(name, v);
    value = v != 0;
  }
  void signed_count(const std::string& name, long& value) {
    std::uint64_t v = static_cast<std::uint64_t>(value);
    count(name, v);
    value = static_cast<long>(v);
  }
  void size(const std::string& name, std::size_t& value) {
    std::uint64_t v = value;
    count(name, v);
    value = static_cast<std::size_t>(v);
  }
  // A list of matrices of any count (e.g. one per parameter); loading resizes the list.
  void matrices(const std::string& name, std::vector<arma::mat>& values) {
    std::size_t n = values.size();
    size(name + "/count", n);
    if (loading()) values.assign(n, arma::mat());
    for (std::size_t i = 0; i < n; ++i) matrix(name + "/" + std::to_string(i), values[i]);
  }
  // Columns of equal length (e.g. a per-step E-vector) as one E x steps matrix, and their count (which a
  // matrix of zero rows would not keep). Empty columns are never indexed: Armadillo's col() of a matrix
  // without elements binds a reference to a null pointer (UBSan reports it).
  void columns(const std::string& name, std::vector<arma::vec>& values) {
    std::size_t n = values.size();
    size(name + "/count", n);
    arma::mat m;
    if (!loading() && n > 0 && values.front().n_elem > 0) {
      m.set_size(values.front().n_elem, n);
      for (std::size_t i = 0; i < n; ++i) m.col(i) = values[i];
    }
    matrix(name + "/values", m);
    if (loading()) {
      require(m.n_elem == 0 || m.n_cols == n, "checkpoint entry '" + name + "' holds " + std::to_string(m.n_cols) +
                                                   " columns, but its count says " + std::to_string(n));
      values.assign(n, arma::vec());
      if (m.n_elem > 0)
        for (std::size_t i = 0; i < n; ++i) values[i] = m.col(i);
    }
  }
};

}  // namespace moe
