// The expert-parallel GPU exchange's entry points (cuda_expert_exchange.hpp) in a build without CUDA: each
// says so (one clear error, no crash).
#ifndef MOE_HAVE_CUDA
#include "moe/backend/cuda_device.hpp"
#include "moe/sparse/kernels/cuda_expert_exchange.hpp"

namespace moe::kernels {

struct CudaExchangeSession::Impl {};
CudaExchangeSession::CudaExchangeSession(const std::string&, DeviceCommunicator&) { fail_without_cuda(); }
CudaExchangeSession::~CudaExchangeSession() = default;
CudaExchangeSession::CudaExchangeSession(CudaExchangeSession&&) noexcept = default;
CudaExchangeSession& CudaExchangeSession::operator=(CudaExchangeSession&&) noexcept = default;
std::vector<float> CudaExchangeSession::forward(const CudaExchangeProblem&) { fail_without_cuda(); }
CudaExchangeGrads CudaExchangeSession::backward(const std::vector<float>&) { fail_without_cuda(); }

}  // namespace moe::kernels
#endif
