#pragma once
// What the CUDA files share (the sparse layer's kernels, the GPU communicators, cuda_device.cu): error
// checks that throw moe::Error with the failing call, and an owning device array (grows, never shrinks;
// uploads and downloads are synchronous).
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include "moe/core/error.hpp"

namespace moe::kernels {

inline void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) fail(std::string("CUDA: ") + what + ": " + cudaGetErrorString(status));
}
inline void check(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS) fail(std::string("cuBLAS: ") + what + ": status " + std::to_string(int(status)));
}
#define MOE_CUDA(call) ::moe::kernels::check((call), #call)

template <class T>
struct DeviceArray {
  T* p = nullptr;
  std::size_t n = 0;
  DeviceArray() = default;
  explicit DeviceArray(std::size_t count) { resize(count); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  ~DeviceArray() {
    if (p) cudaFree(p);
  }
  void resize(std::size_t count) {
    if (count <= n && p) return;
    if (p) cudaFree(p);
    p = nullptr;
    MOE_CUDA(cudaMalloc(&p, std::max<std::size_t>(count, 1) * sizeof(T)));
    n = count;
  }
  void upload(const T* host, std::size_t count) {
    resize(count);
    if (count) MOE_CUDA(cudaMemcpy(p, host, count * sizeof(T), cudaMemcpyHostToDevice));
  }
  std::vector<T> download(std::size_t count) const {
    std::vector<T> h(count);
    if (count) MOE_CUDA(cudaMemcpy(h.data(), p, count * sizeof(T), cudaMemcpyDeviceToHost));
    return h;
  }
};

}  // namespace moe::kernels
