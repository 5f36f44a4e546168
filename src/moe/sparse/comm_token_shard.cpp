#include "moe/sparse/comm_token_shard.hpp"

namespace moe {

CommTokenShard::CommTokenShard(Communicator& comm, std::size_t tokens) : comm_(comm) {
  const auto P = std::size_t(comm.size()), me = std::size_t(comm.rank());
  rank_tokens_.resize(P);
  const auto mine = std::int64_t(tokens);
  comm.allgather(&mine, 1, rank_tokens_.data());
  for (std::size_t r = 0; r < P; ++r) {
    if (r < me) offset_ += std::size_t(rank_tokens_[r]);
    batch_ += std::size_t(rank_tokens_[r]);
  }
}

std::vector<std::int64_t> CommTokenShard::prior_claims(const std::vector<std::int64_t>& claims,
                                                       std::size_t experts) const {
  const auto P = std::size_t(comm_.size()), me = std::size_t(comm_.rank()), n = claims.size(), E = experts;
  std::vector<std::int64_t> all(P * n);  // rank r's k x E claims at [r n, (r + 1) n)
  comm_.allgather(claims.data(), n, all.data());
  // prior(s, e) = sum over ranks r != me of their claims (s' < s, e)  +  sum over r < me of claims (s, e).
  std::vector<std::int64_t> prior(n, 0), earlier_slots(E, 0);
  for (std::size_t s = 0; s * E < n; ++s)
    for (std::size_t e = 0; e < E; ++e) {
      std::int64_t before_me = 0;
      for (std::size_t r = 0; r < me; ++r) before_me += all[r * n + s * E + e];
      prior[s * E + e] = earlier_slots[e] + before_me;
      for (std::size_t r = 0; r < P; ++r)
        if (r != me) earlier_slots[e] += all[r * n + s * E + e];
    }
  return prior;
}

}  // namespace moe
