#pragma once
// The tokens of one routing call as a shard of a larger batch (expert parallelism, moe/parallel): this
// process routes columns [offset, offset + T) of a batch of batch_tokens() tokens split over several
// processes in order. Routers and balancing losses that see a shard behave as if they saw the whole batch:
//   capacity   ceil(k batch_tokens / E c) places per expert, claimed in the batch's priority order
//              (slot 0 of every token of every shard in token order, then slot 1, ...), see make_plan
//   losses     per-expert sums (importance, load, f_e, P_e) and token counts are summed over the shards
//   draws      noise and random routing draw the batch's columns and keep this shard's (token_draws)
// Every shard must make the same calls in the same order: sum and prior_claims are collective.
// A null TokenShard (the default) is a batch of one shard.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "moe/backend/backend.hpp"

namespace moe {

// The backend's ops take it as their ShardSum (the sum below).
class TokenShard : public ShardSum {
 public:
  virtual std::size_t offset() const = 0;        // this shard's first token in the batch
  virtual std::size_t batch_tokens() const = 0;  // tokens of all shards
  // ShardSum::sum: replaces x (n values) by its sum over every shard (the same on all of them).
  // claims: k x E, slot-major (claims[s E + e] = this shard's slot-s tokens naming expert e). Returns, in
  // the same layout, how many claims of expert e made by the other shards come before this shard's slot-s
  // claims: all their slot s' < s claims, and the slot-s claims of the shards before this one.
  virtual std::vector<std::int64_t> prior_claims(const std::vector<std::int64_t>& claims, std::size_t experts) const = 0;
};

// Helpers that treat a null shard as the whole batch.
inline std::size_t batch_tokens(const TokenShard* shard, std::size_t tokens) {
  return shard ? shard->batch_tokens() : tokens;
}
inline void sum_over_shards(const TokenShard* shard, double* x, std::size_t n) {
  if (shard) shard->sum(x, n);
}

}  // namespace moe
