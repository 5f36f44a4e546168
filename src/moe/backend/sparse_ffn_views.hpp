#pragma once
// Plain views that the fast backends of the sparse MoE layer (CPU and CUDA) read and write: the
// expert-sorted half of a RoutingPlan, and a bank of E FFN experts stored back to back. Free of Armadillo
// and of the standard library's containers so that the CUDA kernels include it with nothing else.
//
// Shapes (T tokens, E experts, k slots per token, A kept assignments, d = d_model, f = d_ff), column-major:
//   tokens X, Y, dY, dX                 d x T   (one token per column)
//   expert-sorted blocks                d x A or f x A; expert e owns columns [offsets[e], offsets[e+1])
//   W1 of expert e at W1 + e f d        f x d;  b1 of expert e at b1 + e f      f
//   W2 of expert e at W2 + e d f        d x f;  b2 of expert e at b2 + e d      d
#include <cstddef>
#include <cstdint>

namespace moe::kernels {

struct PlanView {
  std::size_t tokens = 0, experts = 0, k = 0;
  const std::int64_t* slot_position = nullptr;   // T k: column of slot t k + s in the sorted blocks, or -1
  const std::int64_t* expert_offsets = nullptr;  // E + 1
  const std::int32_t* sorted_token = nullptr;    // A: token id of each sorted column
  std::size_t assignments() const { return std::size_t(expert_offsets[experts]); }
};

template <class T>
struct ExpertWeights {
  std::size_t d = 0, f = 0, experts = 0;
  const T* W1 = nullptr;
  const T* b1 = nullptr;
  const T* W2 = nullptr;
  const T* b2 = nullptr;
};

// Gradients in the layout of ExpertWeights; the CPU backend adds to them (+=, as every module's backward
// does) or writes them (GradMode::overwrite); the GPU backend writes them.
template <class T>
struct ExpertGrads {
  T* W1 = nullptr;
  T* b1 = nullptr;
  T* W2 = nullptr;
  T* b2 = nullptr;
};

}  // namespace moe::kernels
