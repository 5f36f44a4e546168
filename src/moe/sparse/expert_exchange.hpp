#pragma once
// The routed experts of the sparse MoE layer under expert parallelism (Lepikhin et al. 2021's
// all-to-all dispatch): each of P ranks holds its own tokens and experts [first(r), first(r) + count(r))
// (expert_placement.hpp); the RoutingPlan of its tokens was made with the batch's capacity and priority
// (token_shard.hpp), so the kept slots are those of one plan over the whole batch.
//   forward   gather the kept slots' inputs in the plan's expert-sorted order (already grouped by owner),
//             send the per-expert counts (MPI_Alltoall) and the columns (MPI_Alltoallv), reorder what
//             arrives expert-major (rank 0's tokens, then rank 1's, ...: the single-process order), run
//             the local experts with the CPU (or GPU) backend, send the outputs back, and combine them
//             with the slot weights in token and slot order, as the single-process layer does
//   backward  the same route for dL/d(expert outputs) and back for dL/d(expert inputs); the local
//             experts' gradients come from every rank's tokens, so they need no reduction
// With --device cuda and a DeviceCommunicator in the backend (NCCL) the columns never leave the
// GPUs: gather, both all-to-alls, the reorder, the experts and the combine run in
// kernels/cuda_expert_exchange; only the per-expert counts go through the host Communicator.
// X, Y, dY, dX: d x T this rank's tokens; columns of an expert-sorted block: d x A (A kept assignments).
#include <armadillo>
#include <memory>
#include <vector>

#include "moe/parallel/communicator.hpp"
#include "moe/sparse/expert_placement.hpp"
#include "moe/sparse/ffn_experts.hpp"
#include "moe/sparse/kernels/cuda_expert_exchange.hpp"
#include "moe/sparse/routed_ffn.hpp"
#include "moe/backend/routing_plan.hpp"

namespace moe {

struct ExpertExchangeState {
  std::vector<std::size_t> send_cols, recv_cols;  // P each: columns sent to / received from each rank
  std::vector<std::size_t> order;  // received columns in expert-major order: i -> column of the receive buffer
  bool in_order = false;           // order is the identity (one rank, or all columns from one): no reordering
  RoutingPlan received;            // over the received columns (k = 1, weight 1), expert-major; local expert ids
  RoutedFfnState ffn;              // the local experts' forward state
  arma::mat out;                   // d x A: this rank's slots' expert outputs, in its plan's sorted order
  arma::uvec expert_tokens;        // per local expert: columns it ran on (all ranks' tokens)
  // backend.device_exchange set: the columns moved GPU to GPU; forward's state is kept there.
  std::shared_ptr<kernels::CudaExchangeSession> gpu;
};

arma::mat exchange_forward(Communicator& comm, const ExpertPlacement& placement, const RoutedBackend& backend,
                           const RoutingPlan& plan, const FfnExperts& local, const arma::mat& X,
                           ExpertExchangeState& state);

// Adds the local experts' gradients; writes dweight (T k: dL/d slot_weight, 0 for empty and dropped slots)
// and returns dL/dX through the experts and the residual.
arma::mat exchange_backward(Communicator& comm, const ExpertPlacement& placement, const RoutedBackend& backend,
                            const RoutingPlan& plan, FfnExperts& local, ExpertExchangeState& state,
                            const arma::mat& dY, arma::vec& dweight);

}  // namespace moe
