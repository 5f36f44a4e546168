#pragma once
// The TokenShard (token_shard.hpp) of one process's tokens under expert parallelism: the batch is the
// tokens of every rank of a Communicator in rank order. Construction is collective (an allgather of the
// token counts); so are sum and prior_claims.
#include <vector>

#include "moe/parallel/communicator.hpp"
#include "moe/sparse/token_shard.hpp"

namespace moe {

class CommTokenShard final : public TokenShard {
 public:
  CommTokenShard(Communicator& comm, std::size_t tokens);
  std::size_t offset() const override { return offset_; }
  std::size_t batch_tokens() const override { return batch_; }
  void sum(double* x, std::size_t n) const override { comm_.allreduce_sum(x, n); }
  std::vector<std::int64_t> prior_claims(const std::vector<std::int64_t>& claims, std::size_t experts) const override;
  // Tokens of every rank (P entries).
  const std::vector<std::int64_t>& rank_tokens() const { return rank_tokens_; }

 private:
  Communicator& comm_;
  std::vector<std::int64_t> rank_tokens_;
  std::size_t offset_ = 0, batch_ = 0;
};

// Sums over every process of a Communicator, as the backend's ops and BackendParams take them (the
// replicated parameters' gradients under expert parallelism). Collective.
class CommunicatorSum final : public ShardSum {
 public:
  explicit CommunicatorSum(Communicator& comm) : comm_(comm) {}
  void sum(double* x, std::size_t n) const override { comm_.allreduce_sum(x, n); }

 private:
  Communicator& comm_;
};

}  // namespace moe
