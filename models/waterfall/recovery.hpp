// Recovery tools after a CCP's prefunded layers and assessments (CPMI-IOSCO,
// "Recovery of financial market infrastructures", October 2014, revised July
// 2017, section 4: tools to allocate uncovered losses -- cash calls, VMGH --
// and tools to re-establish a matched book -- forced allocation, partial
// tear-up; Regulation (EU) 2021/23 art. 9 and Annex: a CCP's recovery plan
// lists them and their order; art. 29-31 cap a resolution cash call at the
// member's default-fund contribution). They run, in the rulebook's order, on
// what the layers left (`residual`); a CCP fails only when they are exhausted.
//
//  - cash_call: a call beyond the assessments, pro rata to each survivor's
//    remaining cap (cash_call_multiple x its DF contribution over the
//    scenario), paid from its cash; what it cannot pay stays uncovered and
//    the member is a liquidity default (as for an assessment).
//  - tear_up: the CCP tears up the positions of the surviving members opposite
//    the book the auction did not place, at the last settlement price. The
//    CCP no longer owes them the gains on those positions since then: each
//    survivor loses its gain on them (tear_up_gain, within its VM gain left),
//    pro rata to those gains; the survivors without positions opposite the
//    book lose nothing. It covers at most the unplaced book's part of the
//    loss (`unplaced`).
//  - forced_allocation: the survivors take the unplaced book at the mark, not
//    at the auction's reserve price: the reserve discount the CCP would have
//    paid on it is theirs, pro rata to allocation_weight (their DF
//    contributions: the members of the cleared market in proportion to their
//    risk); at most what tear_up left of `unplaced`.
// Survivors are charged in their fields (waterfall.hpp); `unplaced` is the
// loss on the book the auction did not place: its reserve discount and its
// share of the defaulters' market loss.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string_view>

#include "models/waterfall/waterfall.hpp"

namespace ccpnet::models {

enum class RecoveryTool : int { kCashCall, kTearUp, kForcedAllocation };
inline constexpr std::size_t kRecoveryToolCount = 3;
std::string_view recovery_tool_name(RecoveryTool tool);

struct RecoveryOutcome {
  std::array<double, kRecoveryToolCount> by_tool{};  // what each tool covered
  double uncovered = 0.0;                            // left after the last tool: the CCP fails if > 0
};

RecoveryOutcome run_recovery(std::span<const RecoveryTool> tools, double residual, double unplaced,
                             std::span<Survivor> survivors);

}  // namespace ccpnet::models
