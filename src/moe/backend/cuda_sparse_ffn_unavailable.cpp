// The routed sparse FFN's CUDA entry points (cuda_sparse_ffn.hpp) in a build without CUDA: each says so.
#ifndef MOE_HAVE_CUDA
#include "moe/backend/cuda_sparse_ffn.hpp"

namespace moe::kernels {

struct CudaRoutedSession::Impl {};
CudaRoutedSession::CudaRoutedSession(const std::string&) { fail_without_cuda(); }
CudaRoutedSession::~CudaRoutedSession() = default;
CudaRoutedSession::CudaRoutedSession(CudaRoutedSession&&) noexcept = default;
CudaRoutedSession& CudaRoutedSession::operator=(CudaRoutedSession&&) noexcept = default;
std::vector<float> CudaRoutedSession::forward(const CudaFfnProblem&, bool) { fail_without_cuda(); }
CudaFfnResult CudaRoutedSession::backward(const std::vector<float>&) { fail_without_cuda(); }
const float* CudaRoutedSession::forward_on_device(const CudaFfnProblem&, const float*) { fail_without_cuda(); }
CudaFfnResult CudaRoutedSession::backward_on_device(const float*, const float**) { fail_without_cuda(); }
CudaFfnResult cuda_sparse_ffn_run(const CudaFfnProblem&, const std::string&) { fail_without_cuda(); }
CudaBenchResult cuda_sparse_bench(const PlanView&, const double*, std::size_t, std::size_t, const std::string&,
                                  std::size_t, std::uint64_t) {
  fail_without_cuda();
}

}  // namespace moe::kernels
#endif
