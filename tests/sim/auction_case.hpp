// The default-management hand case shared by the one-period tests
// (test_default_management.cpp) and the time-step tests (test_time_steps.cpp):
// an auction that places part of a defaulted book and recovery tools that
// cover the rest.
#pragma once

#include <string_view>

namespace ccpnet::test_cases {

// One CCP A [defaulter_im, defaulter_df, sitg, mutualized_df, assessments],
// SITG 100 (its whole capital). X 100 -> 80 (-20%) over a 1-day MPOR.
//   D long 100 X (gross value 10,000), IM 1000, DF 100: exogenous default.
//   B short 60 X, DF 300: bids (the largest contribution; bidder_share 0.3 of
//     the 3 member accounts -> 1). J short 40 X, DF 100: juniorised.
// The auction: hedge 1% -> 100; d(x) = 0.02 + 0.04 sqrt(x / 2500), reserve
//   6%: d(10,000) = 0.10 > 0.06, so bidders take x* = 2500 ((0.06 - 0.02) /
//   0.04)^2 = 2500 at 0.06 x 2500 = 150; 7500 unplaced at 0.06 -> 450.
//   Close-out loss: the move 100 x 20 = 2000, + 100 + 150 + 450 = 2700.
//   The unplaced book's loss: 450 + 7500 / 10,000 x 2000 = 1950.
// Layers: IM 1000 -> 1700; DF 100 -> 1600; SITG 100 -> 1500; mutualised DF,
//   J's 100 first then B's 300 -> 1100; assessments (1 x DF: 300 + 100) ->
//   700 left after the last layer.
// Recovery [cash_call, tear_up, forced_allocation], cash_call_multiple 0.5:
//   calls 150 (B) + 50 (J) -> 500; tear-up: min(500, 1950) from the gains
//   B 60 x 20 = 1200 and J 40 x 20 = 800 pro rata: B 300, J 200 -> 0. A stands.
// Ledger: 1000 + 100 + 100 + 400 + 400 + 200 + 500 = 2700 = close-out.
inline constexpr std::string_view kAuction = R"(name: auction and recovery tools
market:
  assets: [{id: X, price: 100, volatility: 0.5}]
  stress_scenarios: [{name: crash, moves: {X: -0.2}, days: 1}]
ccps:
  - id: A
    capital: 100
    sitg: 100
    margin: {model: parametric, mpor_days: 1}
    default_fund: {sizing: fixed, amount: 500}
    waterfall: [defaulter_im, defaulter_df, sitg, mutualized_df, assessments]
    auction: {hedge_cost: 0.01, base_discount: 0.02, slope: 0.04, exponent: 0.5, depth: 2500, reserve_discount: 0.06,
              juniorisation: true, bidder_share: 0.3}
    recovery: {tools: [cash_call, tear_up, forced_allocation], cash_call_multiple: 0.5}
members:
  - {id: D, capital: 1000, liquidity: 1000, positions: {A: {X: 100}}, initial_margin: {A: 1000}, default_fund: {A: 100}}
  - {id: B, capital: 10000, liquidity: 10000, positions: {A: {X: -60}}, initial_margin: {A: 600}, default_fund: {A: 300}}
  - {id: J, capital: 10000, liquidity: 10000, positions: {A: {X: -40}}, initial_margin: {A: 400}, default_fund: {A: 100}}
defaults: {exogenous: [D]}
)";

}  // namespace ccpnet::test_cases
