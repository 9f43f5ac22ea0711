// Liquidations at a lending protocol (SPEC 3.6) in the engine, after Aave v3
// (Aave v3 technical paper; Aave docs, "Liquidations"): an account whose
// health factor crosses 1 on the scenario's path is liquidated in round 1 of
// the cascade although its owner does not default; its bad debt falls on the
// protocol's reserve (insurance_fund), then on the lenders (lender_haircut).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "sim/config/load.hpp"
#include "sim/model.hpp"
#include "sim/output.hpp"
#include "sim/runner.hpp"
#include "sim/shocks.hpp"
#include "sim/stress.hpp"
#include "tests/sim/step_paths.hpp"
#include "tests/sim/yaml_edit.hpp"

namespace ccpnet {
namespace test_lending {

Model model_of(std::string_view yaml, std::vector<config::Override> overrides = {}) {
  return build_model(config::load_scenario_text(yaml, "t.yaml", overrides));
}

ScenarioResult stress(const Model& model, std::size_t i, CascadeTrace* trace = nullptr) {
  return run_move(model, stress_move(model, model.stress_scenarios[i]), trace, &model.stress_scenarios[i]);
}

double layer(const ScenarioResult& r, std::size_t ccp, models::Layer l) {
  return r.ccp_layers[ccp * models::kLayerCount + static_cast<std::size_t>(l)];
}

// Borrower B: 1000 ETH at 3000 (collateral 3,000,000) against a 2,000,000
// USDC loan; lender L supplied 2,000,000 USDC. LT 0.825, bonus 5%, reserve
// 100,000. HF0 = 3,000,000 x 0.825 / 2,000,000 = 1.2375.
// crash (ETH -40% over the MPOR of 1 day): HF crosses 1 at
//   t* = ln 1.2375 / -ln 0.6 = 0.4171545;
// with a 12-hour oracle delay the liquidation executes at t_e = 0.9171545,
// collateral 3,000,000 x 0.6^0.9171545 = 1,877,810.11, bad debt
// 2,000,000 - 1,877,810.11 / 1.05 = 211,609.42: the reserve takes 100,000,
// the lender 111,609.42. B loses 1,200,000 on its ETH, well within its capital.
// dip (ETH -10%): HF(1) = 1.2375 x 0.9 = 1.114 > 1, nothing happens.
constexpr std::string_view kLoan = R"(name: one loan
market:
  assets:
    - {id: ETH, price: 3000, volatility: 0.8}
    - {id: USDC, price: 1, volatility: 0.01}
  stress_scenarios:
    - {name: crash, moves: {ETH: -0.4}, days: 1}
    - {name: dip, moves: {ETH: -0.1}, days: 1}
ccps:
  - id: AAVE
    kind: lending_protocol
    capital: 0
    insurance_fund: 100000
    margin: {model: parametric, mpor_days: 1}
    default_fund: {sizing: fixed, amount: 0}
    imbalance: rest_of_market
    lending: {liquidation_threshold: 0.825, liquidation_bonus: 0.05, oracle_delay_hours: 12}
members:
  - {id: B, capital: 5000000, liquidity: 5000000, positions: {AAVE: {ETH: 1000, USDC: -2000000}}}
  - {id: L, capital: 1000000, liquidity: 1000000, positions: {AAVE: {USDC: 2000000}}}
)";

void expect_conserved(const ScenarioResult& r) {
  double accounted = r.uncovered;
  for (double x : r.ccp_layers) accounted += x;
  EXPECT_NEAR(accounted, r.closeout_loss, 1e-9 * std::max(1.0, r.closeout_loss));
}

// A borrower whose owner defaults for other reasons (exogenously here) is
// closed at the end of the period at the bad debt of a liquidation then: in
// the dip (ETH -10%, not liquidated) collateral 2,700,000 covers the debt with
// the bonus (2,700,000 / 1.05 > 2,000,000): the protocol loses nothing, though
// the borrower lost 300,000 on its ETH. In the crash the loan is liquidated
// (211,609.42, as below) whether or not its owner defaults. A lender's
// default costs the protocol nothing: it owes the lender, not the reverse.
TEST(Lending, ADefaultingBorrowerCostsTheProtocolItsBadDebtAndALenderNothing) {
  for (const char* who : {"[B]", "[L]", "[B, L]"}) {
    SCOPED_TRACE(who);
    const Model model = model_of(kLoan, {{"defaults.exogenous", who}});
    const ScenarioResult dip = stress(model, 1);
    EXPECT_EQ(dip.liquidations, 0);
    EXPECT_EQ(dip.closeout_loss, 0.0);
    EXPECT_EQ(dip.total_loss, 0.0);
    const ScenarioResult crash = stress(model, 0);
    EXPECT_NEAR(crash.closeout_loss, 211609.42166468524, 1e-4);
    expect_conserved(crash);
  }
}

TEST(Lending, CrashWithOracleDelayLeavesBadDebtOnReserveThenLenders) {
  const Model model = model_of(kLoan);
  CascadeTrace trace;
  const ScenarioResult r = stress(model, 0, &trace);
  EXPECT_EQ(r.liquidations, 1);
  EXPECT_TRUE(r.defaults.empty());  // the borrower is liquidated, not in default
  EXPECT_EQ(r.rounds, 1);
  EXPECT_NEAR(r.closeout_loss, 211609.42166468524, 1e-4);
  EXPECT_EQ(layer(r, 0, models::Layer::kDefaulterIm), 0.0);
  EXPECT_NEAR(layer(r, 0, models::Layer::kInsuranceFund), 100000.0, 1e-6);
  EXPECT_NEAR(layer(r, 0, models::Layer::kLenderHaircut), 111609.42166468524, 1e-4);
  EXPECT_EQ(r.uncovered, 0.0);
  EXPECT_NEAR(r.total_loss, r.closeout_loss, 1e-6);
  expect_conserved(r);
  ASSERT_EQ(trace.events.size(), 1u);
  ASSERT_EQ(trace.events[0].defaulters.size(), 1u);  // only B's account; L is charged as a lender
  EXPECT_EQ(trace.events[0].defaulters[0].im_used, 0.0);
  const std::string text = format_stress(model, run_stress(model));
  EXPECT_NE(text.find("lending protocols liquidate 1 account"), std::string::npos) << text;
}

TEST(Lending, WithoutOracleDelayTheLiquidationLeavesNoBadDebt) {
  // LT (1 + b) = 0.825 x 1.05 = 0.86625 < 1: executed at HF = 1 the collateral
  // 2,424,242.42 buys back 2,308,802.31 > 2,000,000 of debt.
  const Model model = model_of(kLoan, {{"ccps.AAVE.lending.oracle_delay_hours", "0"}});
  const ScenarioResult crash = stress(model, 0);
  EXPECT_EQ(crash.liquidations, 1);
  EXPECT_EQ(crash.closeout_loss, 0.0);
  EXPECT_EQ(crash.total_loss, 0.0);
  EXPECT_TRUE(crash.defaults.empty());
  // The dip does not cross: no liquidation, with or without delay.
  const ScenarioResult dip = stress(model, 1);
  EXPECT_EQ(dip.liquidations, 0);
  EXPECT_EQ(dip.closeout_loss, 0.0);
  EXPECT_EQ(stress(model_of(kLoan), 1).liquidations, 0);
}

TEST(Lending, ReserveAndLendersExhaustedLeaveUncovered) {
  // A 1-unit lender balance: 211,609.42 - 100,000 reserve - 1 = 111,608.42 uncovered.
  const Model model = model_of(kLoan, {{"members.L.positions.AAVE.USDC", "1"}});
  const ScenarioResult r = stress(model, 0);
  EXPECT_NEAR(layer(r, 0, models::Layer::kLenderHaircut), 1.0, 1e-9);
  EXPECT_NEAR(r.uncovered, 211609.42166468524 - 100001.0, 1e-4);
  expect_conserved(r);
}

// The loader's error for `yaml` with `overrides`; empty when it loads.
std::string load_error(std::string_view yaml, const std::vector<config::Override>& overrides = {}) {
  try {
    (void)config::load_scenario_text(yaml, "t.yaml", overrides);
  } catch (const config::ScenarioError& e) {
    return e.what();
  }
  return {};
}

// ADL (BitMEX, "Auto-Deleveraging") closes a bankrupt position against the
// opposite positions; a lending protocol's loss is a loan's bad debt, which
// its lenders bear (Aave: deficits are covered by the reserve, then the
// suppliers), so the layer is refused where a file puts it: line 17 of the
// edited file, its third element at column 47.
TEST(Lending, AdlInALendingProtocolsWaterfallIsALocatedError) {
  const auto with_waterfall = [](std::string_view layers) {
    std::string yaml(kLoan);
    test_cases::replace_in(
        yaml, "    imbalance: rest_of_market\n",
        "    imbalance: rest_of_market\n    waterfall: [defaulter_im, insurance_fund, " + std::string(layers) + "]\n");
    return load_error(yaml);
  };
  EXPECT_NE(with_waterfall("adl").find("t.yaml:17:47: ccps[0].waterfall[2]: layer 'adl' deleverages positions and a "
                                       "lending protocol's losses are bad debt on loans: use lender_haircut"),
            std::string::npos)
      << with_waterfall("adl");
  EXPECT_EQ(with_waterfall("lender_haircut"), "");
}

TEST(Lending, LendingRulesOnAnotherKindAreALocatedError) {
  const std::string error = load_error(kLoan, {{"ccps.AAVE.kind", "crypto_venue"}});
  EXPECT_NE(error.find("t.yaml:17:14: ccps[0].lending: lending applies to kind lending_protocol, found kind: "
                       "crypto_venue"),
            std::string::npos)
      << error;
}

TEST(Lending, MonteCarloIdenticalForAnyThreadCountAndConserved) {
  // A 2,300,000 loan: HF0 = 1.076, crossed by a fall of 7%, about 1.8 daily
  // standard deviations of ETH.
  const Model model = model_of(kLoan, {{"members.B.positions.AAVE.USDC", "-2300000"},
                                       {"members.L.positions.AAVE.USDC", "2300000"},
                                       {"simulation.scenarios", "3000"}});
  const auto row = [](const ScenarioResult& r) {
    std::string line = fmt::format("{} {} {} {}", r.index, r.liquidations, r.closeout_loss, r.total_loss);
    for (double x : r.ccp_layers) line += fmt::format(" {}", x);
    return line;
  };
  const auto liquidations = [](const ScenarioResult& r) { return r.liquidations; };
  const int liquidated = test_paths::expect_identical_for_any_threads(model, row, liquidations).counted;
  EXPECT_GT(liquidated, 0);
  EXPECT_LT(liquidated, 3000);
}

// ---- Aave v3 rules through the engine: tests/data/hand/*.yaml works them out ----

Model hand_case(const char* file, std::vector<config::Override> overrides = {}) {
  return build_model(
      config::load_scenario_file(std::string(CCPNET_SOURCE_DIR) + "/tests/data/hand/" + file, overrides));
}

const nlohmann::ordered_json& lending_line(const nlohmann::ordered_json& scenario, std::string_view account) {
  for (const auto& l : scenario["lending"])
    if (l["account"] == account) return l;
  ADD_FAILURE() << "no lending line for " << account;
  static const nlohmann::ordered_json none;
  return none;
}

TEST(LendingAave, CloseFactorFiftyPercentTwiceAlongTheSlideAndDustInFull) {
  const Model model = hand_case("aave_close_factor.yaml");
  const auto outcomes = run_stress(model);
  const auto json = stress_json(model, outcomes);
  const auto& slide = json["stress_scenarios"][0];
  EXPECT_EQ(slide["liquidations"], 2);
  const auto& b = lending_line(slide, "B");
  EXPECT_EQ(b["calls"], 2);
  EXPECT_NEAR(b["health_factor_start"].get<double>(), 1.1, 1e-12);
  EXPECT_NEAR(b["collateral_seized"].get<double>(), 11812.5, 1e-6);
  EXPECT_NEAR(b["debt_repaid"].get<double>(), 11250, 1e-6);
  EXPECT_EQ(b["bad_debt"].get<double>(), 0.0);
  EXPECT_NEAR(b["health_factor_after"].get<double>(), 1.0604459765625, 1e-9);
  EXPECT_EQ(b["closing_bad_debt"].get<double>(), 0.0);
  const auto& d = lending_line(slide, "D");
  EXPECT_EQ(d["calls"], 1);
  EXPECT_NEAR(d["debt_repaid"].get<double>(), 1500, 1e-6);
  EXPECT_NEAR(d["collateral_seized"].get<double>(), 1575, 1e-6);
  EXPECT_TRUE(d["health_factor_after"].is_null());  // no debt left
  EXPECT_EQ(slide["closeout_loss"].get<double>(), 0.0);
  EXPECT_TRUE(slide["member_defaults"].empty());
  // B's P&L is that of what it holds at the end: -5,000 + 1,070.21; its
  // capital 5,000 is not exhausted. The call trace says when each call ran.
  CascadeTrace trace;
  (void)run_move(model, stress_move(model, model.stress_scenarios[0]), &trace, &model.stress_scenarios[0]);
  ASSERT_EQ(trace.lending.size(), 2u);
  EXPECT_EQ(trace.lending[0].calls, 2);
  EXPECT_NE(format_stress(model, outcomes).find("lending protocols liquidate 2 accounts"), std::string::npos);
}

TEST(LendingAave, ACrashWithAStaleOracleWritesOffDebtOnTheReserveThenTheLender) {
  const Model model = hand_case("aave_close_factor.yaml", {{"ccps.AAVE.lending.oracle_delay_hours", "12"}});
  const auto outcomes = run_stress(model);
  const auto json = stress_json(model, outcomes);
  const auto& crash = json["stress_scenarios"][1];
  const auto& b = lending_line(crash, "B");
  EXPECT_EQ(b["calls"], 1);
  EXPECT_NEAR(b["collateral_seized"].get<double>(), 14083.575804390605, 1e-6);
  EXPECT_NEAR(b["debt_repaid"].get<double>(), 13412.92933751486, 1e-6);
  EXPECT_NEAR(b["bad_debt"].get<double>(), 1587.070662485139, 1e-6);
  const auto& d = lending_line(crash, "D");
  EXPECT_NEAR(d["bad_debt"].get<double>(), 158.7070662485139, 1e-6);
  const ScenarioResult& r = outcomes[1].result;
  EXPECT_NEAR(r.closeout_loss, 1745.777728733653, 1e-6);
  EXPECT_NEAR(layer(r, 0, models::Layer::kInsuranceFund), 1000, 1e-9);
  EXPECT_NEAR(layer(r, 0, models::Layer::kLenderHaircut), 745.777728733653, 1e-6);
  EXPECT_TRUE(r.defaults.empty());  // B and D lose their equity, not more
  expect_conserved(r);
}

TEST(LendingAave, TheCloseFactorIsConfigurable) {
  // factor 1: B is closed in full at the first crossing: 15,000 repaid with
  // 15,750 of ETH at 1,818.18 (8.6625 ETH); 1.3375 ETH left, no debt.
  const Model model = hand_case("aave_close_factor.yaml", {{"ccps.AAVE.lending.close_factor.factor", "1"}});
  const auto json = stress_json(model, run_stress(model));
  const auto& b = lending_line(json["stress_scenarios"][0], "B");
  EXPECT_EQ(b["calls"], 1);
  EXPECT_NEAR(b["debt_repaid"].get<double>(), 15000, 1e-6);
  EXPECT_NEAR(b["collateral_seized"].get<double>(), 15750, 1e-6);
}

TEST(LendingAave, PerAssetRulesAndEMode) {
  const Model model = hand_case("aave_emode.yaml");
  const auto json = stress_json(model, run_stress(model));
  const auto& depeg = json["stress_scenarios"][0];
  const auto& e = lending_line(depeg, "E");
  EXPECT_NEAR(e["health_factor_start"].get<double>(), 1.0925, 1e-12);
  EXPECT_EQ(e["calls"], 1);
  EXPECT_NEAR(e["debt_repaid"].get<double>(), 10000, 1e-6);
  EXPECT_NEAR(e["collateral_seized"].get<double>(), 10100, 1e-6);
  EXPECT_NEAR(e["health_factor_after"].get<double>(), 1.03789875, 1e-9);
  const auto& p = lending_line(depeg, "P");
  EXPECT_NEAR(p["health_factor_start"].get<double>(), 0.9315, 1e-12);
  EXPECT_EQ(p["calls"], 1);
  EXPECT_NEAR(p["debt_repaid"].get<double>(), 20000, 1e-6);
  EXPECT_NEAR(p["collateral_seized"].get<double>(), 21200, 1e-6);
  EXPECT_TRUE(p["health_factor_after"].is_null());
  EXPECT_EQ(depeg["closeout_loss"].get<double>(), 0.0);
}

TEST(LendingAave, LendingKeysAreValidated) {
  const auto error = [](std::vector<config::Override> o) {
    try {
      (void)hand_case("aave_emode.yaml", std::move(o));
    } catch (const config::ScenarioError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error({{"ccps.AAVE.lending.assets[1].id", "WSTETH"}}).find("asset 'WSTETH' is listed twice"),
            std::string::npos);
  EXPECT_NE(error({{"ccps.AAVE.lending.assets[0].id", "STETH"}}).find("unknown asset 'STETH'"), std::string::npos);
  EXPECT_NE(error({{"ccps.AAVE.lending.emode[0].members", "[E, X]"}}).find("unknown member 'X'"), std::string::npos);
  EXPECT_NE(error({{"ccps.AAVE.lending.close_factor.hf_threshold", "1.5"}}).find("close_factor.hf_threshold"),
            std::string::npos);
}

// ---- Through time steps (simulation.horizon_days, step_days)
//
// Liquidators act whenever a health factor is below 1 (Aave docs,
// "Liquidations": "when the health factor of a position is below 1,
// liquidators repay part of the debt ... and receive discounted collateral"),
// and a call leaves the account open with what is left, so a position is
// liquidated again each time its health factor falls below 1 again. Through
// steps: each step runs the path of its own prices (log-linear from the
// step's start, the oracle delay a fraction of the step), the account's
// units carry to the next step, bad debt is written off in the step it
// appears, and the owner's P&L is that of what it holds from the step of the
// liquidation on.
//
// Hand case (tests/data/hand/aave_close_factor.yaml over two daily steps):
// ETH 2,000 today, 1,700 at the end of day 1, 1,500 at the end of day 2; no
// oracle delay. B (10 ETH against 15,000 USDC, HF 1.1):
//   day 1: HF 1 at 1,818.18: 50%, repay 7,500, seize 4.33125 ETH (HF 1.13375);
//          the next crossing, 1,603.69, is below 1,700: one call. B's P&L at
//          day 1's end: 10 x (1,700 - 2,000) = -3,000 on what it held, but it
//          holds 5.66875 ETH against 7,500: -4.33125 x 1,700 + 7,500 =
//          +136.875 better, -2,863.125.
//   day 2: HF 1 again at 1,603.69: 50%, repay 3,750, seize 2.4552773 ETH;
//          P&L -5,000 + 1,070.21 = -3,929.79 (the one-period path's calls).
// D (1 ETH, 1,500 USDC, under the 2,000 USD line): 100% at 1,818.18 on day 1.
// With capital 2,900, B stands on day 1 only because of its liquidation
// (-3,000 alone would exhaust it) and is insolvent on day 2.
Eigen::MatrixXd eth_path(const Model& model, const std::vector<double>& eth_by_day) {
  const std::vector<double>& points = move_points(model);
  Eigen::MatrixXd cumulative = Eigen::MatrixXd::Zero(2, static_cast<Eigen::Index>(points.size()));
  for (std::size_t p = 0; p < points.size(); ++p)
    cumulative(0, static_cast<Eigen::Index>(p)) =
        std::log(eth_by_day[static_cast<std::size_t>(std::lround(points[p]))] / eth_by_day[0]);
  return cumulative;
}

TEST(LendingSteps, ABorrowerIsLiquidatedAgainOnDayTwoAndItsPnlFollowsFromDayOne) {
  const Model model =
      hand_case("aave_close_factor.yaml",
                {{"simulation.horizon_days", "2"}, {"simulation.step_days", "1"}, {"members.B.capital", "2900"}});
  ASSERT_EQ(model.steps.count, 2);
  CascadeTrace trace;
  const ScenarioResult r = run_move(model, eth_path(model, {2000, 1700, 1500}), &trace);
  EXPECT_EQ(r.liquidations, 2);  // B and D
  ASSERT_EQ(trace.lending.size(), 3u);
  EXPECT_EQ(account_name(model, trace.lending[0].account), "B");
  EXPECT_EQ(trace.lending[0].day, 1.0);
  EXPECT_EQ(trace.lending[0].calls, 1);
  EXPECT_NEAR(trace.lending[0].debt_repaid, 7500, 1e-6);
  EXPECT_NEAR(trace.lending[0].health_factor_end, 5.66875 * 1700 * 0.825 / 7500, 1e-9);
  EXPECT_EQ(account_name(model, trace.lending[1].account), "D");
  EXPECT_EQ(trace.lending[1].day, 1.0);
  EXPECT_NEAR(trace.lending[1].debt_repaid, 1500, 1e-6);
  EXPECT_EQ(account_name(model, trace.lending[2].account), "B");
  EXPECT_EQ(trace.lending[2].day, 2.0);
  EXPECT_NEAR(trace.lending[2].health_factor_start, 5.66875 * 1700 * 0.825 / 7500, 1e-9);
  EXPECT_NEAR(trace.lending[2].debt_repaid, 3750, 1e-6);
  EXPECT_NEAR(trace.lending[2].health_factor_end, 1.0604459765625, 1e-9);
  // B stands on day 1 (2,900 - 2,863.125) and defaults on day 2; what is left
  // of its account, 3.2134727 ETH at 1,500 against 3,750, closes without loss.
  ASSERT_EQ(r.defaults.size(), 1u);
  EXPECT_EQ(model.members[static_cast<std::size_t>(r.defaults[0].member)].id, "B");
  EXPECT_EQ(r.defaults[0].day, 2.0);
  EXPECT_EQ(r.defaults[0].cause, DefaultCause::kSolvency);
  EXPECT_EQ(r.closeout_loss, 0.0);
  expect_conserved(r);
  // Without the day-1 liquidation's gain on what B no longer holds, B would
  // default on day 1: with capital 2,860 it does (2,860 - 2,863.125 < 0).
  const Model poorer =
      hand_case("aave_close_factor.yaml",
                {{"simulation.horizon_days", "2"}, {"simulation.step_days", "1"}, {"members.B.capital", "2860"}});
  const ScenarioResult p = run_move(poorer, eth_path(poorer, {2000, 1700, 1500}));
  ASSERT_EQ(p.defaults.size(), 1u);
  EXPECT_EQ(p.defaults[0].day, 1.0);
}

// Bad debt when it appears: ETH 2,000 -> 1,900 (day 1: HF 1.045, no call) ->
// 1,200 (day 2) with a 12-hour oracle delay, half a step. On day 2 the HF,
// 1.045 (1,200 / 1,900)^t, crosses 1 at t* = ln 1.045 / ln(1,900 / 1,200)
// and the call executes at t* + 0.5, ETH at 1,900 (1,200 / 1,900)^(t* + 0.5):
// HF <= 0.95, 100%. B's 10 ETH buy back 10 p / 1.05 of its 15,000: the rest
// is written off on day 2; D's 1 ETH (100%, under the 2,000 USD line) the
// same per unit on 1,500. The reserve pays 1,000 of it, the lender the rest.
TEST(LendingSteps, BadDebtIsWrittenOffOnTheDayItAppears) {
  const Model model = hand_case("aave_close_factor.yaml", {{"simulation.horizon_days", "2"},
                                                           {"simulation.step_days", "1"},
                                                           {"ccps.AAVE.lending.oracle_delay_hours", "12"}});
  CascadeTrace trace;
  const ScenarioResult r = run_move(model, eth_path(model, {2000, 1900, 1200}), &trace);
  const double x = std::log(1200.0 / 1900.0), t = std::log(1.045) / -x;
  const double p = 1900 * std::exp(x * (t + 0.5));
  const double bad_b = 15000 - 10 * p / 1.05, bad_d = 1500 - p / 1.05;
  ASSERT_EQ(trace.lending.size(), 2u);
  EXPECT_EQ(trace.lending[0].day, 2.0);
  EXPECT_NEAR(trace.lending[0].bad_debt, bad_b, 1e-6);
  EXPECT_NEAR(trace.lending[1].bad_debt, bad_d, 1e-6);
  ASSERT_EQ(trace.events.size(), 1u);
  EXPECT_EQ(trace.events[0].day, 2.0);
  EXPECT_NEAR(r.closeout_loss, bad_b + bad_d, 1e-6);
  EXPECT_NEAR(layer(r, 0, models::Layer::kInsuranceFund), 1000, 1e-9);
  EXPECT_NEAR(layer(r, 0, models::Layer::kLenderHaircut), bad_b + bad_d - 1000, 1e-6);
  EXPECT_TRUE(r.defaults.empty());
  expect_conserved(r);
}

// Fire sales (models/market/fire_sale.hpp): the liquidators sell the
// collateral they seize into the step's market with every other close-out.
// On the slide (one step), B's two calls seize 7,875 / 1,818.18 + 3,937.5 /
// 1,603.69 ETH and D's 1,575 / 1,818.18: 7.6527773 ETH, 15,305.55 USD at
// today's 2,000; with ADV 1e5 and k = 0.5 the price moves by
// -0.5 sqrt(15,305.55 / 1e5) = -19.56% (USDC without impact).
TEST(LendingSteps, SeizedCollateralJoinsTheStepsFireSaleFlow) {
  const Model model = hand_case(
      "aave_close_factor.yaml",
      {{"market.fire_sales", "true"}, {"market.assets.ETH.adv", "1e5"}, {"market.assets.ETH.liquidation_cost", "0.5"}});
  ASSERT_EQ(model.steps.count, 1);
  const ScenarioResult r = run_move(model, stress_move(model, model.stress_scenarios[0]));
  const double p1 = 15000 / 8.25, p2 = 7500 / (5.66875 * 0.825);
  const double seized = 7875 / p1 + 3937.5 / p2 + 1575 / p1;
  EXPECT_EQ(r.liquidations, 2);
  ASSERT_EQ(r.price_impact.size(), 2u);
  EXPECT_NEAR(std::expm1(r.price_impact[0]), -0.5 * std::sqrt(seized * 2000 / 1e5), 1e-9);
  EXPECT_EQ(r.price_impact[1], 0.0);
}

TEST(LendingSteps, OneStepOfTheMporIsTheOnePeriodEngine) {
  for (const char* delay : {"0", "12"}) {
    // Capital and liquid resources one dollar above the borrowers' equity: a
    // borrower its liquidations wipe out is left with 1, not 0 +- rounding.
    const std::vector<config::Override> base = {{"ccps.AAVE.lending.oracle_delay_hours", delay},
                                                {"market.shocks.volatility_multiplier", "3"},
                                                {"members.B.capital", "5001"},
                                                {"members.B.liquidity", "5001"},
                                                {"members.D.capital", "501"},
                                                {"members.D.liquidity", "501"}};
    auto with_steps = base;
    with_steps.push_back({"simulation.horizon_days", "1"});
    const Model one = hand_case("aave_close_factor.yaml", base),
                steps = hand_case("aave_close_factor.yaml", with_steps);
    ASSERT_EQ(steps.steps.count, 1);
    for (std::size_t i = 0; i < one.stress_scenarios.size(); ++i) {
      const ScenarioResult a = run_move(one, stress_move(one, one.stress_scenarios[i]));
      const ScenarioResult b = run_move(steps, stress_move(steps, steps.stress_scenarios[i]));
      EXPECT_EQ(a.liquidations, b.liquidations);
      EXPECT_EQ(a.defaults.size(), b.defaults.size());
      EXPECT_NEAR(a.closeout_loss, b.closeout_loss, 1e-9);
      for (std::size_t l = 0; l < a.ccp_layers.size(); ++l) EXPECT_NEAR(a.ccp_layers[l], b.ccp_layers[l], 1e-9);
    }
    const int liquidated = test_paths::expect_steps_equal_one_period(
        one, steps, 300, [](const ScenarioResult& r) { return r.liquidations; });
    EXPECT_GT(liquidated, 10);
  }
}

TEST(LendingSteps, MonteCarloPathsConserveAndAreIdenticalForAnyThreadCount) {
  const Model model = hand_case("aave_close_factor.yaml", {{"simulation.scenarios", "600"},
                                                           {"simulation.horizon_days", "5"},
                                                           {"simulation.step_days", "1"},
                                                           {"ccps.AAVE.lending.oracle_delay_hours", "6"},
                                                           {"market.fire_sales", "true"},
                                                           {"market.assets.ETH.adv", "1e5"},
                                                           {"market.assets.ETH.liquidation_cost", "0.5"}});
  const auto row = [](const ScenarioResult& r) {
    return fmt::format("{} {} {} {}", r.index, r.liquidations, r.closeout_loss, r.total_loss);
  };
  const auto liquidations = [](const ScenarioResult& r) { return r.liquidations; };
  const int liquidated = test_paths::expect_identical_for_any_threads(model, row, liquidations).counted;
  EXPECT_GT(liquidated, 0);
}

}  // namespace test_lending
}  // namespace ccpnet
