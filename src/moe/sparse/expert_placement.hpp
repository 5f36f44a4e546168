#pragma once
// Which process holds which experts under expert parallelism: E experts over P ranks in contiguous
// blocks, the first E mod P ranks one expert more (rank r holds [first(r), first(r) + count(r))). Blocks
// in rank order make a RoutingPlan's expert-sorted columns already grouped by destination rank.
#include <cstddef>

#include "moe/core/error.hpp"

namespace moe {

struct ExpertPlacement {
  std::size_t experts = 1, ranks = 1;

  ExpertPlacement() = default;
  ExpertPlacement(std::size_t experts, std::size_t ranks) : experts(experts), ranks(ranks) {
    require(ranks >= 1 && experts >= ranks, "expert parallelism: " + std::to_string(experts) + " experts over " +
                                                std::to_string(ranks) + " processes leaves a process without an "
                                                "expert (use at most as many processes as experts)");
  }
  std::size_t count(std::size_t rank) const { return experts / ranks + (rank < experts % ranks ? 1 : 0); }
  std::size_t first(std::size_t rank) const {
    return rank * (experts / ranks) + (rank < experts % ranks ? rank : experts % ranks);
  }
  std::size_t most() const { return (experts + ranks - 1) / ranks; }  // count(0)
  std::size_t owner(std::size_t expert) const {
    const std::size_t big = experts / ranks + 1, in_big = (experts % ranks) * big;
    return expert < in_big ? expert / big : experts % ranks + (expert - in_big) / (experts / ranks);
  }
};

}  // namespace moe
