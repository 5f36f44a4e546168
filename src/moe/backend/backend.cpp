#include "moe/backend/backend.hpp"

#include <utility>

#include "moe/core/error.hpp"

namespace moe {

std::string precision_name(Precision p) {
  switch (p) {
    case Precision::f64: return "double";
    case Precision::f32: return "float";
    case Precision::bf16: return "bf16";
  }
  return "?";
}

Precision parse_precision(const std::string& s) {
  if (s == "double") return Precision::f64;
  if (s == "float") return Precision::f32;
  if (s == "bf16") return Precision::bf16;
  fail("unknown precision '" + s + "' (expected double, float or bf16)");
}

void Tensor::reset() {
  if (owner_ && data_) owner_->release(data_);
  owner_ = nullptr;
  data_ = nullptr;
  rows_ = cols_ = capacity_bytes_ = 0;
  dtype_ = DType::real;
}

void Tensor::swap(Tensor& other) noexcept {
  std::swap(owner_, other.owner_);
  std::swap(data_, other.data_);
  std::swap(rows_, other.rows_);
  std::swap(cols_, other.cols_);
  std::swap(capacity_bytes_, other.capacity_bytes_);
  std::swap(dtype_, other.dtype_);
}

std::size_t Backend::bytes_of(DType dtype) const {
  switch (dtype) {
    case DType::real: return real_bytes();
    case DType::i32: return 4;
    case DType::i64: return 8;
  }
  return 8;
}

Tensor Backend::tensor(std::size_t rows, std::size_t cols, DType dtype) {
  Tensor t;
  reshape(t, rows, cols, dtype);
  return t;
}

Tensor Backend::zeros(std::size_t rows, std::size_t cols, DType dtype) {
  Tensor t = tensor(rows, cols, dtype);
  if (t.empty()) return t;
  if (dtype == DType::real) {
    fill(t, 0.0);
  } else if (dtype == DType::i32) {
    const std::vector<std::int32_t> z(t.size(), 0);
    upload(t, z.data());
  } else {
    const std::vector<std::int64_t> z(t.size(), 0);
    upload(t, z.data());
  }
  return t;
}

void Backend::reshape(Tensor& t, std::size_t rows, std::size_t cols, DType dtype) {
  require(t.owner_ == nullptr || t.owner_ == this, name() + ": a tensor of another backend");
  const std::size_t bytes = rows * cols * bytes_of(dtype);
  if (bytes > t.capacity_bytes_) {
    if (t.data_) release(t.data_);
    t.data_ = nullptr;
    t.capacity_bytes_ = 0;
    t.data_ = allocate(bytes);
    t.capacity_bytes_ = bytes;
  }
  t.owner_ = this;
  t.rows_ = rows;
  t.cols_ = cols;
  t.dtype_ = dtype;
}

std::vector<double> Backend::to_host(const Tensor& src) const {
  std::vector<double> out(src.size());
  if (!out.empty()) download(src, out.data());
  return out;
}

double Backend::scalar(const Tensor& src) const {
  require_shape("scalar", "the tensor", src, 1, 1);
  double v = 0.0;
  download(src, &v);
  return v;
}

namespace {
const char* dtype_name(DType d) { return d == DType::real ? "real" : d == DType::i32 ? "int32" : "int64"; }
}  // namespace

void require_shape(const char* op, const char* what, const Tensor& t, std::size_t rows, std::size_t cols, DType dtype) {
  if (t.rows() == rows && t.cols() == cols && t.dtype() == dtype && (t.backend() != nullptr || t.empty())) return;
  fail(std::string(op) + ": " + what + " is " + t.shape() + " " + dtype_name(t.dtype()) + ", expected " +
       std::to_string(rows) + " x " + std::to_string(cols) + " " + dtype_name(dtype));
}

}  // namespace moe
