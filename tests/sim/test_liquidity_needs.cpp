// The liquidity each time step calls from the members (outputs.liquidity_needs)
// when the IM is posted in a collateral asset.
//
// A participant's liquidity need is every payment it must make when due
// (CPMI-IOSCO PFMI, Principle 7, key consideration 1: the CCP measures the
// liquidity its participants must provide; Principle 6, key consideration 4:
// variation margin and margin calls collected daily). A CCP values non-cash
// collateral at least daily after its haircut and calls the shortfall against
// the requirement (EMIR RTS 153/2013 art. 40), and the collateral credited
// beyond the requirement counts toward a rise of IM (art. 40: credited after
// haircuts against the margin requirement). So in a step a member pays in
// cash its variation margin loss, the top-up of its collateral and the rise of
// IM the credit does not cover: exactly what its CCP counts in its margin
// calls, no more (a rise the credit covers is not paid in cash) and no less
// (a fall of the collateral is a cash call that step).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "sim/config/load.hpp"
#include "sim/margin_path.hpp"
#include "sim/model.hpp"
#include "sim/output.hpp"
#include "sim/runner.hpp"
#include "sim/settlement.hpp"
#include "sim/shocks.hpp"

namespace ccpnet {
namespace test_liquidity_needs {

Model model_of(std::string_view yaml, std::vector<config::Override> overrides = {}) {
  return build_model(config::load_scenario_text(yaml, "t.yaml", std::move(overrides)));
}

ScenarioResult stress_of(const Model& model, std::size_t s) {
  return run_move(model, stress_move(model, model.stress_scenarios[s]), nullptr, &model.stress_scenarios[s]);
}

double margin_calls(const ScenarioResult& r) { return r.settlement.get(0, CcpSettleMetric::kMarginCalls); }

// Two daily steps. At A, M is long and N short 10 X (1,000 each), IM 100
// each, posted in Y at a 20% haircut: 125 of Y each, credited 100. A
// recomputes IM at each step's end with an EWMA volatility (lambda 0.94,
// RiskMetrics 1996; SPEC 3.4): X's daily sigma is 0.2 / sqrt(100) = 0.02 and
// a single-asset parametric IM moves with the position's value times
// m_k = sigma_k / sigma_0, m_k^2 = 0.94 m_{k-1}^2 + 0.06 x_k^2 / 0.02^2 (x_k
// the step's log-move of X). Both members' IM is the same (|value| alike).
//   X +5% on day 1: x = ln 1.05 = 0.048790, x^2 / 0.0004 = 5.951145,
//     m_1 = sqrt(0.94 + 0.357069) = 1.138891, IM 100 x 1.05 x m_1 =
//     119.583523: a rise of 19.583523; X flat on day 2: m_2 = sqrt(0.94
//     x 1.297069) = 1.104195, IM 115.940527: a fall of 3.642996.
//   X -2% on day 1: x = ln 0.98 = -0.020203, m_1 = sqrt(0.94 + 0.061224) =
//     1.000611, IM 98.059880; X flat on day 2: m_2 = 0.970128, IM
//     95.072581: IM falls both days, nothing called for the spiral.
// The collateral after Y's cumulative return R: 125 (1 + R) of Y, credited
// 0.8 x 125 (1 + R) = 100 (1 + R); the top-up is what 100 - 100 (1 + R)
// exceeds the top-ups paid so far; the credit is what the credited value
// (top-ups included) exceeds today's IM, at most the rise of IM.
// Liquidity, capital and the CCP's resources are ample: nobody defaults.
constexpr std::string_view kCollateralSpiral = R"(name: IM in Y under a spiral on X
simulation: {horizon_days: 2, step_days: 1}
outputs: {liquidity_needs: true}
market:
  assets:
    - {id: X, price: 100, volatility: 0.2, trading_days: 100}
    - {id: Y, price: 100, volatility: 0.2, trading_days: 100}
  correlation: [[1, 0], [0, 1]]
  stress_scenarios:
    - {name: Y up covers the rise, path: [{X: 0.05, Y: 0.25}, {X: 0, Y: 0}]}
    - {name: Y falls, path: [{X: -0.02, Y: -0.1}, {X: 0, Y: -0.1}]}
    - {name: a rise beyond the credit, path: [{X: 0.05, Y: 0.1}, {X: 0, Y: 0}]}
    - {name: Y up then down, path: [{X: 0.05, Y: 0.25}, {X: 0, Y: -0.3}]}
ccps:
  - id: A
    capital: 1.0e6
    margin: {model: parametric, mpor_days: 1, spiral: {lambda: 0.94}}
    default_fund: {sizing: fixed, amount: 0}
    collateral: {asset: Y, haircut: 0.2}
members:
  - {id: M, capital: 1.0e6, liquidity: 1.0e6, positions: {A: {X: 10}}, initial_margin: {A: 100}}
  - {id: N, capital: 1.0e6, liquidity: 1.0e6, positions: {A: {X: -10}}, initial_margin: {A: 100}}
)";

// The spiral's IM after X +5% on day 1 and flat on day 2 (above).
const double kM1 = std::sqrt(0.94 + 0.06 * std::pow(std::log(1.05) / 0.02, 2));
const double kRise = 100.0 * 1.05 * kM1 - 100.0;
const double kImDay2 = 100.0 * 1.05 * kM1 * std::sqrt(0.94);

TEST(LiquidityNeeds, ARiseOfTheCollateralThatCoversTheSpiralIsNotACashCall) {
  // Y +25% on day 1: 156.25 of Y credited 125, 25 beyond IM, more than the
  // rise of 19.583523: nothing called. Day 2 (flat): IM falls 3.642996, the
  // credit (min(25, 15.940527)) with it: nothing called. N pays day 1's
  // variation margin, 10 x 5 = 50; M gains it. Needs: M 0, N 50 (its VM
  // only), A and the system 50. Counted gross of the credit, as a CCP
  // without collateral calls, they would be 19.583523 and 69.583523.
  const Model model = model_of(kCollateralSpiral);
  ASSERT_TRUE(model.settlement_active);
  const ScenarioResult r = stress_of(model, 0);
  ASSERT_TRUE(r.defaults.empty());
  EXPECT_NEAR(margin_calls(r), 0.0, 1e-9);
  EXPECT_NEAR(r.member_peak_liquidity_need[0], 0.0, 1e-9);
  EXPECT_NEAR(r.member_peak_liquidity_need[1], 50.0, 1e-9);
  EXPECT_NEAR(r.ccp_peak_liquidity_need[0], 50.0, 1e-9);
  EXPECT_NEAR(r.peak_liquidity_need, 50.0, 1e-9);
}

TEST(LiquidityNeeds, AFallOfTheCollateralIsToppedUpInCashThatStep) {
  // Y -10% a day: credited 100 x 0.9 = 90, a top-up of 10 on day 1; 100 x
  // 0.81 = 81 on day 2, 19 short of which 10 paid: 9. IM falls both days.
  // Day 1: M pays VM 10 x 2 = 20 and 10, N 10; A 40. Day 2: 9 each, A 18.
  // Peaks: M 30, N 10, A and the system 40 (its VM only, M 20, N 0, A 20, if
  // the top-ups were left out). A's margin calls: 2 x (10 + 9) = 38.
  const ScenarioResult r = stress_of(model_of(kCollateralSpiral), 1);
  ASSERT_TRUE(r.defaults.empty());
  EXPECT_NEAR(margin_calls(r), 38.0, 1e-9);
  EXPECT_NEAR(r.member_peak_liquidity_need[0], 30.0, 1e-9);
  EXPECT_NEAR(r.member_peak_liquidity_need[1], 10.0, 1e-9);
  EXPECT_NEAR(r.ccp_peak_liquidity_need[0], 40.0, 1e-9);
  EXPECT_NEAR(r.peak_liquidity_need, 40.0, 1e-9);
  // With the horizon of day 1 alone: the calls of day 1, 2 x 10.
  const ScenarioResult day1 = stress_of(model_of(kCollateralSpiral, {{"simulation.horizon_days", "1"}}), 1);
  EXPECT_NEAR(margin_calls(day1), 20.0, 1e-9);
  EXPECT_NEAR(day1.peak_liquidity_need, 40.0, 1e-9);
}

TEST(LiquidityNeeds, ARiseBeyondTheCreditIsCalledLessTheCredit) {
  // Y +10% on day 1: credited 110, 10 beyond IM: each member is called
  // 119.583523 - 110 = 9.583523 (the rise less the credit). Day 2: IM
  // 115.940527 still above 110: the credit stays 10, IM falls, nothing more.
  // Needs: M 9.583523, N 50 + 9.583523 = 59.583523, A 69.167046; A's margin
  // calls 2 x 9.583523 = 19.167046.
  ASSERT_NEAR(kM1, 1.138891, 1e-6);
  ASSERT_NEAR(kRise, 19.583523, 1e-6);
  ASSERT_NEAR(kImDay2, 115.940527, 1e-6);
  const ScenarioResult r = stress_of(model_of(kCollateralSpiral), 2);
  ASSERT_TRUE(r.defaults.empty());
  const double call = kRise - 10.0;
  EXPECT_NEAR(margin_calls(r), 2.0 * call, 1e-9);
  EXPECT_NEAR(r.member_peak_liquidity_need[0], call, 1e-9);
  EXPECT_NEAR(r.member_peak_liquidity_need[1], 50.0 + call, 1e-9);
  EXPECT_NEAR(r.ccp_peak_liquidity_need[0], 50.0 + 2.0 * call, 1e-9);
  EXPECT_NEAR(r.peak_liquidity_need, 50.0 + 2.0 * call, 1e-9);
}

TEST(LiquidityNeeds, ACreditThatFallsAwayIsCalledInCash) {
  // Day 1 as in the first case: nothing called. Day 2, Y -30% (cumulative
  // 1.25 x 0.7 = 0.875): credited 87.5, a top-up of 12.5 to today's IM, and
  // nothing beyond IM is left: the spiral's change -3.642996 less the credit's
  // change (0 - 19.583523) calls 15.940527. 28.440527 each = IM 115.940527 -
  // 87.5 credited. Peaks: M 28.440527, N 50 (day 1), A 56.881054 (day 2).
  const ScenarioResult r = stress_of(model_of(kCollateralSpiral), 3);
  ASSERT_TRUE(r.defaults.empty());
  const double day2 = kImDay2 - 87.5;
  ASSERT_NEAR(day2, 12.5 + (kImDay2 - 100.0), 1e-12);
  EXPECT_NEAR(margin_calls(r), 2.0 * day2, 1e-9);
  EXPECT_NEAR(r.member_peak_liquidity_need[0], day2, 1e-9);
  EXPECT_NEAR(r.member_peak_liquidity_need[1], 50.0, 1e-9);
  EXPECT_NEAR(r.ccp_peak_liquidity_need[0], 2.0 * day2, 1e-9);
  EXPECT_NEAR(r.peak_liquidity_need, 2.0 * day2, 1e-9);
}

// Every step's cash call of every account (SettlementState::cash_called), as
// the runner feeds the settlement layer a path, adds up over the steps and
// the CCP's accounts to the CCP's margin calls: l2_margin_spiral.yaml (IM
// half in ETH at both venues, both spirals) and bridge_exploit.yaml (IM and
// DF held through a bridge, re-posted after an exploit), over four daily
// steps in a high-volatility regime.
TEST(LiquidityNeeds, EachStepsRecordedCallsAddUpToTheCcpsMarginCalls) {
  const std::string dir = std::string(CCPNET_SOURCE_DIR) + "/scenarios/";
  for (const std::string_view file : {"l2_margin_spiral.yaml", "bridge_exploit.yaml"}) {
    std::vector<config::Override> overrides = {{"simulation.horizon_days", "4"},
                                               {"simulation.step_days", "1"},
                                               {"market.shocks.volatility_multiplier", "2.5"},
                                               {"outputs.liquidity_needs", "true"}};
    if (file == "bridge_exploit.yaml") overrides.push_back({"settlement.bridges[0].exploit_probability", "0.3"});
    const Model model = build_model(config::load_scenario_file(dir + std::string(file), overrides));
    ASSERT_EQ(model.steps.count, 4);
    const Settlement settlement(model);
    MarginPath margins(model);
    const ShockGenerator shocks(model);
    const auto n_assets = static_cast<Eigen::Index>(model.assets.size());
    Eigen::MatrixXd cumulative(n_assets, static_cast<Eigen::Index>(model.steps.points.size()));
    Eigen::MatrixXd returns(n_assets, static_cast<Eigen::Index>(model.horizons.size()));
    std::vector<double> step_returns(model.assets.size()), vm(model.accounts.size(), 0.0);
    int called = 0;
    for (std::uint64_t i = 0; i < 200; ++i) {
      double factor = 0.0;
      shocks.generate(i, cumulative, factor);
      margins.compute(cumulative, 0);
      SettlementState state;
      SettlementOutcome out;
      out.reset(model);
      for (int k = 0; k < 4; ++k) {
        const int end = model.steps.end[static_cast<std::size_t>(k)];
        const int before = k == 0 ? -1 : model.steps.end[static_cast<std::size_t>(k - 1)];
        for (Eigen::Index j = 0; j < n_assets; ++j) {
          step_returns[static_cast<std::size_t>(j)] =
              std::exp(cumulative(j, end) - (before < 0 ? 0.0 : cumulative(j, before))) - 1.0;
          returns.row(j).setConstant(std::exp(cumulative(j, end)) - 1.0);
        }
        settlement.draw_step(i, k, 4, step_returns, state, out);
        state.margins = margins.active() ? &margins : nullptr;
        settlement.apply(i, vm, returns, state, out);
      }
      ASSERT_EQ(state.cash_called.size(), model.accounts.size() * 4);
      for (std::size_t c = 0; c < model.ccps.size(); ++c) {
        double sum = 0.0;
        for (int a : model.ccps[c].accounts)
          for (std::size_t k = 0; k < 4; ++k) sum += state.cash_called[static_cast<std::size_t>(a) * 4 + k];
        const double metric = out.get(c, CcpSettleMetric::kMarginCalls);
        EXPECT_NEAR(sum, metric, 1e-9 * std::max(1.0, metric)) << file << " scenario " << i << " CCP " << c;
      }
      called += out.total(CcpSettleMetric::kMarginCalls) > 0.0;
    }
    EXPECT_GT(called, 20) << file;
  }
}

// The reported means are the scenarios' own peaks averaged: summary.json's
// system figure is the mean of scenarios.csv's peak_liquidity_need, each CCP's
// row of ccps.csv the mean of its peak_liquidity_need_<ccp> column, inside
// their 95% intervals.
TEST(LiquidityNeeds, TheMeanPeakNeedsAreTheScenariosPeaksAveraged) {
  const Model model =
      build_model(config::load_scenario_file(std::string(CCPNET_SOURCE_DIR) + "/scenarios/l2_margin_spiral.yaml",
                                             {{"simulation.horizon_days", "4"},
                                              {"simulation.step_days", "1"},
                                              {"simulation.scenarios", "512"},
                                              {"market.shocks.volatility_multiplier", "2.5"},
                                              {"outputs.liquidity_needs", "true"}}));
  double system = 0.0;
  std::vector<double> per_ccp(model.ccps.size(), 0.0);
  RunOptions options;
  options.on_scenario = [&](const ScenarioResult& r) {
    system += r.peak_liquidity_need;
    for (std::size_t c = 0; c < per_ccp.size(); ++c) per_ccp[c] += r.ccp_peak_liquidity_need[c];
  };
  const RunResult result = run_monte_carlo(model, options);
  const auto summary = summary_json(model, result)["system"];
  EXPECT_GT(system, 0.0);
  EXPECT_NEAR(summary["mean_peak_liquidity_need"].get<double>(), system / 512, 1e-9 * system / 512);
  EXPECT_LE(summary["mean_peak_liquidity_need_ci95"][0].get<double>(), system / 512);
  EXPECT_GE(summary["mean_peak_liquidity_need_ci95"][1].get<double>(), system / 512);
  const Table ccps = ccp_table(model, result.aggregate);
  for (std::size_t c = 0; c < per_ccp.size(); ++c) {
    const double mean = per_ccp[c] / 512;
    EXPECT_NEAR(ccps.numbers("mean_peak_liquidity_need")[c], mean, 1e-9 * std::max(1.0, mean));
    EXPECT_LE(ccps.numbers("mean_peak_liquidity_need_lower")[c], mean + 1e-9 * std::max(1.0, mean));
    EXPECT_GE(ccps.numbers("mean_peak_liquidity_need_upper")[c], mean - 1e-9 * std::max(1.0, mean));
  }
}

TEST(LiquidityNeeds, NothingIsRecordedWithoutTheOutput) {
  const Model model = model_of(kCollateralSpiral, {{"outputs.liquidity_needs", "false"}});
  const Settlement settlement(model);
  SettlementState state;
  SettlementOutcome out;
  out.reset(model);
  const std::vector<double> flat(model.assets.size(), 0.0);
  settlement.draw_step(0, 0, 2, flat, state, out);
  settlement.apply(0, std::vector<double>(model.accounts.size(), 0.0),
                   Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(model.assets.size()),
                                         static_cast<Eigen::Index>(model.horizons.size())),
                   state, out);
  EXPECT_TRUE(state.cash_called.empty());
}

}  // namespace test_liquidity_needs
}  // namespace ccpnet
