// The CUDA device basics (cuda_device.hpp) in a CUDA build.
#include <cuda_runtime.h>

#include <string>

#include "moe/backend/cuda_device.hpp"
#include "moe/backend/cuda_device_array.cuh"
#include "moe/core/error.hpp"

namespace moe::kernels {

bool cuda_built() { return true; }

int cuda_device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) return 0;
  return count;
}

void cuda_set_device(int device) {
  const int count = cuda_device_count();
  require(device >= 0 && device < count, "CUDA device " + std::to_string(device) + " asked for, " +
                                             std::to_string(count) + " visible");
  MOE_CUDA(cudaSetDevice(device));
}

std::string cuda_device_name() {
  cudaDeviceProp prop{};
  if (cuda_device_count() == 0 || cudaGetDeviceProperties(&prop, 0) != cudaSuccess) return "";
  return prop.name;
}

}  // namespace moe::kernels
