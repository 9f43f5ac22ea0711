// The multi-CCP cascade on systems small enough to work out by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "sim/config/load.hpp"
#include "sim/model.hpp"
#include "sim/runner.hpp"

namespace ccpnet {
namespace {

Model model_of(std::string_view yaml) { return build_model(config::load_scenario_text(yaml, "t.yaml")); }

double layer(const ScenarioResult& r, std::size_t ccp, models::Layer l) {
  return r.ccp_layers[ccp * models::kLayerCount + static_cast<std::size_t>(l)];
}

// X falls 50% (price 100 -> 50). Observed IM and DF make the numbers exact.
//   CCP A: D long 10 X (exogenous default), M short 10 X.
//   CCP B: M long 10 X, N short 10 X.   M's P&L: +500 at A, -500 at B: 0 in all.
// Round 1 at A: D's close-out loss 500 - IM 100 - DF 20 = 380; SITG 10 -> 370;
//   M's DF 60 -> 310; assessment on M (1x its DF) 60 -> 250; VMGH: M's gain at A
//   is 500, haircut 250 (50%). A survives. M's charges 60 + 60 + 250 = 370 exceed
//   its capital 50: M defaults (solvency) at the end of round 1.
// Round 2 at B: M's close-out loss 500 - IM 100 - DF 40 = 360; SITG 20 -> 340;
//   N's DF 50 -> 290; assessment on N 50 -> 240; VMGH: N's gain 500, haircut 240.
//   (At A, M's book gained 500 on close-out: nothing to absorb.)
constexpr std::string_view kCommonMember = R"(name: cascade across CCPs through a common member
market:
  assets: [{id: X, price: 100, volatility: 0.5}]
  stress_scenarios: [{name: crash, moves: {X: -0.5}, days: 1}]
ccps:
  - {id: A, capital: 100, sitg: 10, margin: {model: parametric, mpor_days: 1}, default_fund: {sizing: fixed, amount: 80}}
  - {id: B, capital: 100, sitg: 20, margin: {model: parametric, mpor_days: 1}, default_fund: {sizing: fixed, amount: 90}}
members:
  - {id: D, capital: 1000, liquidity: 1000, positions: {A: {X: 10}}, initial_margin: {A: 100}, default_fund: {A: 20}}
  - id: M
    capital: 50
    liquidity: 1000
    positions: {A: {X: -10}, B: {X: 10}}
    initial_margin: {A: 100, B: 100}
    default_fund: {A: 60, B: 40}
  - {id: N, capital: 1000, liquidity: 1000, positions: {B: {X: -10}}, initial_margin: {B: 100}, default_fund: {B: 50}}
defaults: {exogenous: [D]}
)";

TEST(Cascade, CrossesFromOneCcpToAnotherThroughACommonMember) {
  const Model model = model_of(kCommonMember);
  ASSERT_EQ(model.stress_scenarios.size(), 1u);
  CascadeTrace trace;
  const ScenarioResult r = run_move(model, stress_move(model, model.stress_scenarios[0]), &trace);
  using L = models::Layer;
  EXPECT_NEAR(layer(r, 0, L::kDefaulterIm), 100, 1e-9);
  EXPECT_NEAR(layer(r, 0, L::kDefaulterDf), 20, 1e-9);
  EXPECT_NEAR(layer(r, 0, L::kSitg), 10, 1e-9);
  EXPECT_NEAR(layer(r, 0, L::kMutualizedDf), 60, 1e-9);
  EXPECT_NEAR(layer(r, 0, L::kAssessments), 60, 1e-9);
  EXPECT_NEAR(layer(r, 0, L::kVmgh), 250, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kDefaulterIm), 100, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kDefaulterDf), 40, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kSitg), 20, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kMutualizedDf), 50, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kAssessments), 50, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kVmgh), 240, 1e-9);
  ASSERT_EQ(r.defaults.size(), 2u);
  EXPECT_EQ(r.defaults[0].member, 0);
  EXPECT_EQ(r.defaults[0].round, 0);
  EXPECT_EQ(r.defaults[0].cause, DefaultCause::kExogenous);
  EXPECT_EQ(r.defaults[1].member, 1);
  EXPECT_EQ(r.defaults[1].round, 1);
  EXPECT_EQ(r.defaults[1].cause, DefaultCause::kSolvency);
  EXPECT_EQ(r.ccp_failures(), 0);
  EXPECT_EQ(r.rounds, 2);
  EXPECT_NEAR(r.closeout_loss, 1000, 1e-9);
  EXPECT_NEAR(r.total_loss, 380 + 360, 1e-9);
  EXPECT_NEAR(r.uncovered, 0, 1e-9);
  // The trace: A in round 1 (D), A and B in round 2 (M).
  ASSERT_EQ(trace.events.size(), 3u);
  EXPECT_EQ(trace.events[0].round, 1);
  EXPECT_EQ(trace.events[0].ccp, 0);
  EXPECT_NEAR(trace.events[0].defaulters[0].residual, 380, 1e-9);
  EXPECT_EQ(trace.events[2].ccp, 1);
}

TEST(Cascade, NoMoveNoContagion) {
  // Without a price move D's close-out costs nothing; M keeps its capital.
  const Model model = model_of(kCommonMember);
  const ScenarioResult r = run_move(model, Eigen::MatrixXd::Zero(1, 1));
  ASSERT_EQ(r.defaults.size(), 1u);
  EXPECT_EQ(r.rounds, 1);
  EXPECT_EQ(r.total_loss, 0.0);
}

// A CCP failure crossing a peer link. X falls 50%.
//   CCP A (waterfall without VMGH): D long 10 X (exogenous). A's book is
//   balanced by the link: B's account at A is short 10 X (gains 500).
//   CCP B: N short 10 X; A's account at B is long 10 X (loses 500).
// Round 1 at A: 500 - IM 100 - DF 20 = 380; SITG 10 -> 370; no mutualised fund
//   (the peer link does not contribute); equity 90 -> 280 uncovered: A fails.
//   The VM gain A owes B over the link (500) goes unpaid up to 280: charged to B's
//   equity (980 -> 700).
// Round 2 at B: A's link account is closed out: loss 500 - link IM (B's margin
//   model on 10 X: q_0.99 x 1000 x 0.5 / sqrt(365)) -> SITG 20 -> N's DF 30 ->
//   assessments on N (30) -> VMGH on N's gain 500.
constexpr std::string_view kLinkFailure = R"(name: a CCP failure crossing a peer link
market:
  assets: [{id: X, price: 100, volatility: 0.5}]
  stress_scenarios: [{name: crash, moves: {X: -0.5}, days: 1}]
ccps:
  - id: A
    capital: 100
    sitg: 10
    margin: {model: parametric, mpor_days: 1}
    default_fund: {sizing: fixed, amount: 20}
    waterfall: [defaulter_im, defaulter_df, sitg, mutualized_df, ccp_equity]
  - {id: B, capital: 1000, sitg: 20, margin: {model: parametric, mpor_days: 1}, default_fund: {sizing: fixed, amount: 30}}
members:
  - {id: D, capital: 1000, liquidity: 1000, positions: {A: {X: 10}}, initial_margin: {A: 100}, default_fund: {A: 20}}
  - {id: N, capital: 1000, liquidity: 1000, positions: {B: {X: -10}}, initial_margin: {B: 100}, default_fund: {B: 30}}
links:
  - {between: [A, B], model: peer, segregated: true}
defaults: {exogenous: [D]}
)";

TEST(Cascade, CcpFailureCrossesAPeerLink) {
  const Model model = model_of(kLinkFailure);
  const ScenarioResult r = run_move(model, stress_move(model, model.stress_scenarios[0]));
  using L = models::Layer;
  EXPECT_NEAR(layer(r, 0, L::kSitg), 10, 1e-9);
  EXPECT_NEAR(layer(r, 0, L::kMutualizedDf), 0, 1e-9);
  EXPECT_NEAR(layer(r, 0, L::kCcpEquity), 90, 1e-9);
  EXPECT_NEAR(r.ccp_uncovered[0], 280, 1e-9);
  EXPECT_EQ(r.ccp_fail_round[0], 1);
  // The link margin A posted to B: 2.3263478740408408 (the normal 99% quantile,
  // from tables) x |10 x 100| x 0.5 / sqrt(365) x sqrt(1 day).
  const double link_im = 2.3263478740408408 * 1000.0 * 0.5 / std::sqrt(365.0);
  EXPECT_NEAR(layer(r, 1, L::kDefaulterIm), link_im, 1e-6);
  const double after_sitg = 500.0 - link_im - 20.0;
  EXPECT_NEAR(layer(r, 1, L::kSitg), 20, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kMutualizedDf), 30, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kAssessments), 30, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kVmgh), after_sitg - 60.0, 1e-6);
  EXPECT_EQ(r.ccp_fail_round[1], -1);
  EXPECT_EQ(r.rounds, 2);
}

TEST(Cascade, TerminatesWithinMembersPlusCcpsPlusOneRounds) {
  const Model model = model_of(kLinkFailure);
  for (double m : {-0.1, -0.5, -0.9, 0.5, 3.0}) {
    auto stress = model.stress_scenarios[0];
    stress.moves[0].second = m;
    const ScenarioResult r = run_move(model, stress_move(model, stress));
    EXPECT_LE(r.rounds, static_cast<int>(model.members.size() + model.ccps.size() + 1));
  }
}

}  // namespace
}  // namespace ccpnet
