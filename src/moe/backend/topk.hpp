#pragma once
// Deterministic top-k of a short vector: larger value first, ties to the lower index, so that a plan
// never depends on the order of a sort or on the thread count.
#include <cstddef>
#include <cstdint>

namespace moe {

// Writes the indices of the k largest of v[0..n) into out[0..k), best first; k <= n. O(n k), for the
// small E of a router (insertion into a sorted prefix).
template <class Real>
inline void top_k_indices(const Real* v, std::size_t n, std::size_t k, std::int32_t* out) {
  std::size_t have = 0;
  for (std::size_t i = 0; i < n; ++i) {
    // Position of v[i] among the kept ones: after every kept value >= v[i] (earlier index wins ties).
    std::size_t at = have;
    while (at > 0 && v[std::size_t(out[at - 1])] < v[i]) --at;
    if (at >= k) continue;
    const std::size_t end = have < k ? have : k - 1;
    for (std::size_t j = end; j > at; --j) out[j] = out[j - 1];
    out[at] = std::int32_t(i);
    if (have < k) ++have;
  }
}

}  // namespace moe
