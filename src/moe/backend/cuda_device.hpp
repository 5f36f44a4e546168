#pragma once
// The CUDA device basics that every GPU part shares (the sparse layer's kernels, the GPU communicators of
// expert parallelism): whether the build has CUDA, how many devices are visible, which one this process
// uses. Without a CUDA build (-DMOE_CUDA=ON) cuda_built() is false, cuda_device_count() 0 and
// cuda_set_device throws moe::Error saying so (cuda_device_unavailable.cpp); a CUDA build without a
// visible GPU also counts 0 devices (cuda_device.cu). Namespace moe::kernels, shared with the kernels
// of cuda_sparse_ffn.hpp (which includes this header).
#include <string>

namespace moe::kernels {

bool cuda_built();        // compiled with the CUDA backend
int cuda_device_count();  // visible CUDA devices (0 without a CUDA build)
std::string cuda_device_name();
void cuda_set_device(int device);  // this process's GPU, before anything else uses one (expert parallelism)

#ifndef MOE_HAVE_CUDA
// Every CUDA entry point of a build without CUDA throws this one moe::Error (the *_unavailable.cpp files).
[[noreturn]] void fail_without_cuda();
#endif

}  // namespace moe::kernels
