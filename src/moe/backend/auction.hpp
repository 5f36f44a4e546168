#pragma once
// Balanced linear assignment by Bertsekas's auction algorithm (the routing problem of BASE layers,
// Lewis et al. 2021). A: E x T scores (expert e, token t). Finds experts e_t maximising sum_t A(e_t, t)
// with at most `capacity` tokens per expert (E * capacity >= T required), within E * capacity * eps of
// the optimum (dummy tokens of score 0 fill the places left over; epsilon scaling keeps it fast).
// Each expert is `capacity` objects with their own prices; unassigned tokens bid in FIFO order (token id
// order at the start, evicted tokens to the back), ties to the lower expert: serial and deterministic.
// A bid costs O(E + log capacity).
#include <armadillo>
#include <cstdint>
#include <vector>

namespace moe {

std::vector<std::int32_t> auction_assignment(const arma::mat& A, std::size_t capacity, double eps);

}  // namespace moe
