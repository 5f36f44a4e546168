#pragma once
// One place that sets the thread count of both OpenMP and OpenBLAS, so they never oversubscribe.
namespace moe {
void set_threads(int threads);  // threads <= 0: leave the defaults
int max_threads();
}  // namespace moe
