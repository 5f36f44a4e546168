#pragma once
// A tensor of the sparse family's compute backend (backend.hpp): a rows x cols column-major array that
// lives in one backend's memory (host memory for the CPU backend, GPU memory for CUDA) and is freed by it.
// A handle: move-only, no arithmetic; every operation on it is a Backend op, so the same model code runs
// wherever its tensors live. Elements are the backend's real type (double or float: Backend::precision)
// or integers (routing indices).
#include <cstddef>
#include <cstdint>
#include <string>

namespace moe {

class Backend;

enum class DType : std::uint8_t {
  real,  // the backend's floating-point storage type: double (cpu-double) or float (every other backend)
  i32,   // expert ids, token ids
  i64,   // positions and offsets into expert-sorted arrays
};

class Tensor {
 public:
  Tensor() = default;
  ~Tensor() { reset(); }
  Tensor(Tensor&& other) noexcept { swap(other); }
  Tensor& operator=(Tensor&& other) noexcept {
    if (this != &other) {
      reset();
      swap(other);
    }
    return *this;
  }
  Tensor(const Tensor&) = delete;
  Tensor& operator=(const Tensor&) = delete;

  std::size_t rows() const { return rows_; }
  std::size_t cols() const { return cols_; }
  std::size_t size() const { return rows_ * cols_; }
  bool empty() const { return size() == 0; }
  DType dtype() const { return dtype_; }
  Backend* backend() const { return owner_; }
  std::string shape() const { return std::to_string(rows_) + " x " + std::to_string(cols_); }

  // The storage, for a backend's own implementation (device memory for CUDA: never dereference on the
  // host). The caller knows the element type from dtype() and the backend's precision.
  void* raw() { return data_; }
  const void* raw() const { return data_; }
  template <class T>
  T* data() {
    return static_cast<T*>(data_);
  }
  template <class T>
  const T* data() const {
    return static_cast<const T*>(data_);
  }

 private:
  friend class Backend;
  void reset();
  void swap(Tensor& other) noexcept;

  Backend* owner_ = nullptr;
  void* data_ = nullptr;
  std::size_t rows_ = 0, cols_ = 0;
  std::size_t capacity_bytes_ = 0;  // what owner_ allocated: reshape reuses it when the new shape fits
  DType dtype_ = DType::real;
};

}  // namespace moe
