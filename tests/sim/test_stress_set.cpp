// The default-fund stress set of RTS 153/2013 (Commission Delegated Regulation
// 153/2013) art. 30 as wired from the scenario file: hypothetical spread
// (decorrelation) moves and historical windows, and which move and which
// groups set each fund.
//
// Hand example 1, a long-BTC/short-ETH book that the directional moves
// under-stress. BTC 60,000 (vol 0.60), ETH 3,000 (vol 0.80), correlation 0.8,
// 365 days: daily vols 0.0314054 and 0.0418739. One CCP, parametric IM at 99%
// (q = 2.3263479) over 2 days, stress_sigma 5, no SITG. M1 is long 100 BTC
// and short 2,000 ETH (6m USD each way), M2 the mirror book.
//   IM (each) = q sqrt(2) x 6m x sqrt(s_B^2 + s_E^2 - 2 0.8 s_B s_E) = 497,666.57
//   stress moves m = 5 sqrt(2) s: BTC 0.2220700, ETH 0.2960933 (log)
//   old set, all up: M1 loses 6m (e^0.29609 - e^0.22207) = 575,621.07,
//     M2 gains; all down: M2 loses 6m (e^-0.22207 - e^-0.29609) = 342,847.70.
//     Cover-2 fund (two groups, one loses per move, no SITG) = 575,621.07 -
//     497,666.57 = 77,954.51, set by "all assets up 5 sd", group M1.
//   spread moves, correlation broken to 0: each leg moves 1/sqrt(2) of its
//     stress move. ETH up, BTC down: M1 loses 6m (1 - e^-0.15703) + 6m
//     (e^0.20937 - 1) = 2,269,318.35; the fund is 2,269,318.35 - 497,666.57 =
//     1,771,651.78 (the largest: BTC up/ETH down costs M2 2,153,591.92, ETH up
//     alone costs M1 2,067,573.48), 22.7 times the old one.
//   stressed correlation -1, each leg its full move: 6m (1 - e^-0.22207) + 6m
//     (e^0.29609 - 1) = 3,262,417.49, fund 2,764,750.92.
//
// Hand example 2, historical windows of tests/data/history/prices.csv
// (BTC 100 110 99 99 120 90, ETH 50 40 60 45 45 54 on 2024-01-01..06), MPOR
// 2 days, so four 2-day windows; stress_sigma 0 makes every hypothetical move
// 0. L is long 1 BTC and short 2 ETH at today's prices (100 and 50), S the
// mirror, each with an observed IM of 5:
//   window 01-03..01-05: BTC x 120/99, ETH x 45/60: S loses 100 (21/99) + 100
//   (1/4) = 46.2121, uncovered 41.2121 (the largest: L's worst, window
//   01-04..01-06, BTC x 90/99, ETH x 54/45, is 100/11 + 20 = 29.0909, 24.0909
//   uncovered).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "sim/config/load.hpp"
#include "sim/model.hpp"

namespace ccpnet {
namespace test_stress_set {

constexpr std::string_view kSpreadBook = R"(name: long BTC, short ETH
market:
  assets:
    - {id: BTC, price: 60000, volatility: 0.60}
    - {id: ETH, price: 3000, volatility: 0.80}
  correlation: [[1.0, 0.8], [0.8, 1.0]]
ccps:
  - id: A
    capital: 1.0e9
    sitg: 0
    margin: {model: parametric, confidence: 0.99, mpor_days: 2}
    default_fund: {sizing: cover2}
members:
  - {id: M1, capital: 1.0e8, positions: {A: {BTC: 100, ETH: -2000}}}
  - {id: M2, capital: 1.0e8, positions: {A: {BTC: -100, ETH: 2000}}}
)";

const CcpModel& ccp_with(const std::vector<config::Override>& overrides, Model& holder) {
  holder = build_model(config::load_scenario_text(kSpreadBook, "t.yaml", overrides));
  return holder.ccps[0];
}

TEST(StressSet, DirectionalMovesAloneUnderStressALongBtcShortEthBook) {
  Model m;
  const CcpModel& a = ccp_with({{"ccps.A.stress_set.single_asset", "false"},
                                {"ccps.A.stress_set.spreads", "false"},
                                {"ccps.A.stress_set.history", "false"}},
                               m);
  EXPECT_NEAR(a.stress_fund, 77954.51, 0.01);
  EXPECT_NEAR(a.default_fund, 77954.51, 0.01);
  EXPECT_EQ(a.stress_scenario, "all assets up 5 sd");
  EXPECT_EQ(a.stress_groups, std::vector<std::string>{"M1"});
}

TEST(StressSet, SpreadMovesSetTheFundOfALongBtcShortEthBookRts153Art30) {
  Model m;
  const CcpModel& a = ccp_with({}, m);
  EXPECT_NEAR(a.stress_fund, 1771651.78, 0.01);
  EXPECT_NEAR(a.default_fund, 1771651.78, 0.01);
  EXPECT_EQ(a.stress_scenario, "spread ETH up, BTC down 5 sd apart (correlation 0)");
  EXPECT_EQ(a.stress_groups, std::vector<std::string>{"M1"});
  EXPECT_EQ(a.cover_groups, std::vector<int>{0});
  // 2 directional + 0 named + 2 x 2 single-asset + 2 x 1 spread moves.
  const std::vector<std::pair<std::string, int>> families{
      {"directional", 2}, {"named", 0}, {"single asset", 4}, {"spread", 2}, {"historical", 0}};
  EXPECT_EQ(a.stress_families, families);
}

TEST(StressSet, AFullyBrokenCorrelationMovesEachLegItsFullStressMove) {
  Model m;
  const CcpModel& a = ccp_with({{"ccps.A.stress_set.stressed_correlation", "-1"}}, m);
  EXPECT_NEAR(a.stress_fund, 2764750.92, 0.01);
  EXPECT_EQ(a.stress_scenario, "spread ETH up, BTC down 5 sd apart (correlation -1)");
}

TEST(StressSet, AFixedFundStillReportsWhatTheStressSetRequires) {
  Model m;
  const CcpModel& a = ccp_with({{"ccps.A.default_fund.sizing", "fixed"}, {"ccps.A.default_fund.amount", "1e6"}}, m);
  EXPECT_DOUBLE_EQ(a.default_fund, 1.0e6);
  EXPECT_NEAR(a.stress_fund, 1771651.78, 0.01);
}

constexpr std::string_view kHistoryBooks = R"(name: history windows
market:
  assets:
    - {id: BTC, price: 100, volatility: 0.6}
    - {id: ETH, price: 50, volatility: 0.8}
  history: {file: prices.csv}
ccps:
  - id: X
    capital: 1.0e8
    sitg: 0
    stress_sigma: 0
    margin: {model: parametric, mpor_days: 2}
members:
  - {id: L, capital: 1.0e6, positions: {X: {BTC: 1, ETH: -2}}, initial_margin: {X: 5}}
  - {id: S, capital: 1.0e6, positions: {X: {BTC: -1, ETH: 2}}, initial_margin: {X: 5}}
)";

Model history_model(const std::vector<config::Override>& overrides = {}) {
  const auto name = std::filesystem::path(CCPNET_SOURCE_DIR) / "tests" / "data" / "history" / "scenario.yaml";
  return build_model(config::load_scenario_text(kHistoryBooks, name.string(), overrides));
}

TEST(StressSet, TheWorstHistoricalWindowSetsTheFundRts153Art30) {
  const Model m = history_model();
  const CcpModel& x = m.ccps[0];
  EXPECT_NEAR(x.stress_fund, 2100.0 / 99.0 + 20.0, 1e-9);
  EXPECT_EQ(x.stress_scenario, "history 2024-01-03 to 2024-01-05");
  EXPECT_EQ(x.stress_groups, std::vector<std::string>{"S"});
  EXPECT_EQ(x.stress_families.back(), (std::pair<std::string, int>{"historical", 4}));
}

TEST(StressSet, WithoutHistoryWindowsAZeroMoveSetLeavesNoFund) {
  const Model m = history_model({{"ccps.X.stress_set.history", "false"}});
  EXPECT_EQ(m.ccps[0].stress_fund, 0.0);
  EXPECT_EQ(m.ccps[0].stress_scenario, "all assets up 0 sd");
  EXPECT_TRUE(m.ccps[0].stress_groups.empty());
}

}  // namespace test_stress_set
}  // namespace ccpnet
