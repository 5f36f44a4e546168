// The CUDA backend's entry points in a build without CUDA: each says so (one clear error, no crash).
#ifndef MOE_HAVE_CUDA
#include "moe/core/error.hpp"
#include "moe/sparse/kernels/cuda_expert_exchange.hpp"
#include "moe/sparse/kernels/cuda_sparse_ffn.hpp"

namespace moe::kernels {

namespace {
[[noreturn]] void no_cuda() {
  fail("this build has no CUDA backend (configure with -DMOE_CUDA=ON on a machine with the CUDA toolkit)");
}
}  // namespace

struct CudaRoutedSession::Impl {};
CudaRoutedSession::CudaRoutedSession(const std::string&) { no_cuda(); }
CudaRoutedSession::~CudaRoutedSession() = default;
CudaRoutedSession::CudaRoutedSession(CudaRoutedSession&&) noexcept = default;
CudaRoutedSession& CudaRoutedSession::operator=(CudaRoutedSession&&) noexcept = default;
std::vector<float> CudaRoutedSession::forward(const CudaFfnProblem&, bool) { no_cuda(); }
CudaFfnResult CudaRoutedSession::backward(const std::vector<float>&) { no_cuda(); }
const float* CudaRoutedSession::forward_on_device(const CudaFfnProblem&, const float*) { no_cuda(); }
CudaFfnResult CudaRoutedSession::backward_on_device(const float*, const float**) { no_cuda(); }
struct CudaExchangeSession::Impl {};
CudaExchangeSession::CudaExchangeSession(const std::string&, DeviceCommunicator&) { no_cuda(); }
CudaExchangeSession::~CudaExchangeSession() = default;
CudaExchangeSession::CudaExchangeSession(CudaExchangeSession&&) noexcept = default;
CudaExchangeSession& CudaExchangeSession::operator=(CudaExchangeSession&&) noexcept = default;
std::vector<float> CudaExchangeSession::forward(const CudaExchangeProblem&) { no_cuda(); }
CudaExchangeGrads CudaExchangeSession::backward(const std::vector<float>&) { no_cuda(); }
CudaFfnResult cuda_sparse_ffn_run(const CudaFfnProblem&, const std::string&) { no_cuda(); }
CudaBenchResult cuda_sparse_bench(const PlanView&, const double*, std::size_t, std::size_t, const std::string&,
                                  std::size_t, std::uint64_t) {
  no_cuda();
}

}  // namespace moe::kernels
#endif
