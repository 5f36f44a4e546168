#pragma once
// The CPU implementation of the compute backend (backend.hpp): tensors in host memory, matrix products
// through OpenBLAS called single-threaded from OpenMP tasks (the library's thread policy,
// moe/core/threads.hpp), the routed experts through the fast CPU kernels (cpu_sparse_ffn.hpp).
//   double  the oracle every other backend and precision is checked against
//   float   the fast path
// Work is split into tasks cut from the shapes alone (never from the thread count) and every element is
// summed by one task in one order, so results are bit-identical for any number of threads.
#include <memory>

#include "moe/backend/backend.hpp"

namespace moe {

// precision: f64 or f32 (bf16 is a GPU format; asking the CPU for it throws moe::Error).
std::unique_ptr<Backend> make_cpu_backend(Precision precision);

}  // namespace moe
