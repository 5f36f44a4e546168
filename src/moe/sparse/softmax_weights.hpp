#pragma once
// Combine weights taken from a softmax over experts, and their backward pass: shared by softmax top-k,
// Switch, GShard, noisy top-k (over H) and expert choice.
//   P: E x T probabilities softmax(Z) per token (column).
//   slot s of token t (index t*k+s) holds expert e_s (-1: empty) and gets weight
//     w_s = P(e_s, t) / S_t,  S_t = sum over the token's normalising experts r of P(r, t)   (renormalised)
//     w_s = P(e_s, t)                                                                       (otherwise)
//   Renormalising over the top k equals softmax(KeepTopK(Z, k)) of Shazeer et al. 2017.
#include <armadillo>
#include <cstdint>
#include <vector>

namespace moe {

// Returns T*k weights (0 for empty slots).
std::vector<double> softmax_slot_weights(const arma::mat& P, const std::vector<std::int32_t>& slot_expert,
                                         const std::vector<std::int32_t>& norm_expert, std::size_t k, bool renormalized);

// dL/dZ (E x T) given dL/dw (T*k): the selection is piecewise constant, so only the softmax and the
// normaliser carry gradient. dL/dP_j = sum_{s: e_s = j} g_s / S - [j normalising] sum_s g_s w_s / S,
// then the softmax Jacobian: dL/dZ = P % (dL/dP - sum_j P_j dL/dP_j).
arma::mat softmax_slot_weights_backward(const arma::mat& P, const std::vector<std::int32_t>& slot_expert,
                                        const std::vector<std::int32_t>& norm_expert, std::size_t k, bool renormalized,
                                        const arma::vec& dweight);

}  // namespace moe
