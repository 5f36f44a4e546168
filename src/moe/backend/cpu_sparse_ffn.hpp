#pragma once
// The fast CPU backend of the routed sparse MoE layer, float and double (explicit instantiations).
// Forward, for the plan's kept assignments in expert-sorted order:
//   gather     inputs[:, i] = X[:, sorted_token[i]]                                  d x A
//   per expert pre = W1_e inputs_e + b1_e (one GEMM),  act = act(pre) fused           f x n_e
//              out = W2_e act_e + b2_e (one GEMM)                                     d x n_e
//   combine    Y[:, t] = [X[:, t]] + sum over t's kept slots, in slot order, w * out[:, position]
// Backward adds dW1, db1, dW2, db2, writes dX (d x T) and dweight (A: dL/d(sorted_weight[i])).
//
// Parallel work: OpenMP over (expert, block of output rows) tasks, BLAS single-threaded inside (the
// library's policy, moe/core/threads.hpp), so the two never oversubscribe the cores. Row blocks are cut
// from the routing counts alone, never the thread count, and every element is written by one task with
// one fixed summation order, so results are bit-identical for any number of threads; the combine and the
// scatter walk each token's slots in order (no atomics).
#include <cstddef>
#include <memory>

#include "moe/backend/ffn_activation.hpp"
#include "moe/backend/sparse_ffn_views.hpp"

namespace moe::kernels {

// A growable buffer that does not zero its memory (every element is written before it is read).
template <class T>
class Buffer {
 public:
  T* resize(std::size_t n) {
    if (n > capacity_) data_.reset(new T[n]), capacity_ = n;
    return data_.get();
  }
  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }

 private:
  std::unique_ptr<T[]> data_;
  std::size_t capacity_ = 0;
};

// What forward keeps for backward (expert-sorted columns), and backward's scratch. Reusable across calls.
template <class T>
struct SparseFfnWorkspace {
  Buffer<T> inputs, pre, act, out;  // d x A, f x A (bias included), f x A, d x A (before the weight)
  Buffer<T> dout, dh, dinputs;      // backward: d x A, f x A, d x A
};

// X, Y: d x T. residual: Y = X + ..., else Y = ... . sorted_weight: A combine weights in sorted order.
template <class T>
void sparse_ffn_forward(const PlanView& plan, const T* sorted_weight, const ExpertWeights<T>& w,
                        FfnActivation activation, const T* X, bool residual, T* Y, SparseFfnWorkspace<T>& ws);

// How backward treats the gradient arrays: add to them (the library's modules, after zero_grad), or write
// this call's gradients over them (as PyTorch's first backward after zero_grad(set_to_none=True); saves
// reading them, a third of the bytes moved with many small experts).
enum class GradMode { accumulate, overwrite };

// dY, dX: d x T (dX written, residual adds dY). dweight: A, written. Gradients added to or written into grads.
template <class T>
void sparse_ffn_backward(const PlanView& plan, const T* sorted_weight, const ExpertWeights<T>& w,
                         FfnActivation activation, const T* dY, bool residual, T* dX, const ExpertGrads<T>& grads,
                         T* dweight, SparseFfnWorkspace<T>& ws, GradMode mode = GradMode::accumulate);

}  // namespace moe::kernels
