// The settlement layer in time steps (sim/settlement.hpp, "Time steps").
//
// Each day variation margin is called and paid; a payment counts toward the
// member's resources only once final (SPEC 3.8; CPMI-IOSCO PFMI, Principle 8:
// final settlement no later than the end of the value date, and Principle 7:
// a participant's liquidity is what it can use when the payment is due). A
// VM gain not final by the deadline of the member's calls is missing from
// that day's cash, and arrives the next day: late, not lost.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "sim/config/load.hpp"
#include "sim/model.hpp"
#include "sim/output.hpp"
#include "sim/runner.hpp"
#include "sim/shocks.hpp"
#include "tests/sim/step_paths.hpp"

using ccpnet::test_paths::path_of;

namespace ccpnet {
namespace test_settlement_steps {

Model model_of(std::string_view yaml, std::vector<config::Override> overrides = {}) {
  return build_model(config::load_scenario_text(yaml, "t.yaml", std::move(overrides)));
}

// A hedged member H over two daily steps: long 10 BTC at A (instant, VM due
// within 1 hour), short 10 BTC at B, which pays VM on a chain final after 3
// hours. H's P&L nets to zero every day; its gain at B is never final by A's
// deadline, so each day's gain at B arrives the day after.
constexpr std::string_view kHedgedDays = R"(name: settlement delay day by day
simulation: {horizon_days: 2, step_days: 1}
market:
  assets: [{id: BTC, price: 100, volatility: 0.5, chain: bitcoin}]
settlement:
  chains: [{id: bitcoin, finality: {distribution: fixed, mean_hours: 3}}]
ccps:
  - id: A
    capital: 1000
    margin: {model: parametric, mpor_days: 1}
    default_fund: {sizing: fixed, amount: 0}
    settlement: {mode: instant, deadline_hours: 1}
    imbalance: rest_of_market
  - id: B
    capital: 1000
    margin: {model: parametric, mpor_days: 1}
    default_fund: {sizing: fixed, amount: 0}
    settlement: {mode: atomic, chain: bitcoin, deadline_hours: 1}
    imbalance: rest_of_market
members:
  - id: H
    capital: 1000
    liquidity: 150
    positions: {A: {BTC: 10}, B: {BTC: -10}}
    initial_margin: {A: 50, B: 50}
)";

TEST(SettlementSteps, AWinningLegLateOnDayOneMakesASolventMemberDefaultThatDay) {
  // BTC 100 -> 80 on day 1, flat on day 2. Day 1: VM -200 at A, +200 at B not
  // final by 1 hour: cash 150 - 200 = -50 < 0 while capital 1,000 is intact:
  // a liquidity default on day 1 that timely settlement would have avoided.
  // Closed out over A's MPOR from today (the last VM it paid): loss 200.
  const Model model = model_of(kHedgedDays);
  ASSERT_EQ(model.steps.count, 2);
  const ScenarioResult r = run_move(model, path_of(model, {100, 80, 80}));
  ASSERT_EQ(r.defaults.size(), 1u);
  EXPECT_EQ(r.defaults[0].cause, DefaultCause::kLiquidity);
  EXPECT_EQ(r.defaults[0].day, 1.0);
  EXPECT_EQ(r.settlement_defaults, 1);
  EXPECT_NEAR(r.liquidity_shortfall, 50.0, 1e-9);
  EXPECT_NEAR(r.settlement.get(1, CcpSettleMetric::kLateInflows), 200.0, 1e-9);
  EXPECT_NEAR(r.closeout_loss, 200.0, 1e-9);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
  // With the gain final in time (2 hours to spare) H pays and survives.
  const ScenarioResult fast = run_move(model_of(kHedgedDays, {{"settlement.chains[0].finality.mean_hours", "0.5"}}),
                                       path_of(model, {100, 80, 80}));
  EXPECT_TRUE(fast.defaults.empty());
  EXPECT_EQ(fast.settlement.get(1, CcpSettleMetric::kLateInflows), 0.0);
}

TEST(SettlementSteps, AGainLateOnDayOneArrivesOnDayTwo) {
  // Liquidity 250; BTC 100 -> 80 -> 60. Day 1: cash 250 - 200 = 50 (B's +200
  // late). Day 2: A calls 200 more; day 1's +200 from B has arrived, day 2's
  // is late: cash 250 - 400 + 200 = 50 >= 0, no default. Were late gains
  // lost, cash would be 250 - 400 = -150 on day 2. Late in all: 400.
  const Model model = model_of(kHedgedDays, {{"members[0].liquidity", "250"}});
  const ScenarioResult r = run_move(model, path_of(model, {100, 80, 60}));
  EXPECT_TRUE(r.defaults.empty());
  EXPECT_NEAR(r.settlement.get(1, CcpSettleMetric::kLateInflows), 400.0, 1e-9);
  // A deeper fall on day 2 (80 -> 50): cash 250 - 500 + 200 = -50: H
  // defaults on day 2, closed out at A from day-1 prices: 10 x (80 - 50) = 300.
  const ScenarioResult deeper = run_move(model, path_of(model, {100, 80, 50}));
  ASSERT_EQ(deeper.defaults.size(), 1u);
  EXPECT_EQ(deeper.defaults[0].cause, DefaultCause::kLiquidity);
  EXPECT_EQ(deeper.defaults[0].day, 2.0);
  EXPECT_NEAR(deeper.liquidity_shortfall, 50.0, 1e-9);
  EXPECT_EQ(deeper.settlement_defaults, 1);
  EXPECT_NEAR(deeper.closeout_loss, 300.0, 1e-9);
  EXPECT_NEAR(deeper.ledger_total(), deeper.closeout_loss, 1e-9);
}

void expect_same(const ScenarioResult& a, const ScenarioResult& b, const std::string& what) {
  const auto near = [](double x, double y) { return std::abs(x - y) <= 1e-9 * std::max(1.0, std::abs(x)); };
  ASSERT_EQ(a.defaults.size(), b.defaults.size()) << what;
  for (std::size_t i = 0; i < a.defaults.size(); ++i) {
    EXPECT_EQ(a.defaults[i].member, b.defaults[i].member) << what;
    EXPECT_EQ(a.defaults[i].cause, b.defaults[i].cause) << what;
  }
  EXPECT_TRUE(near(a.closeout_loss, b.closeout_loss)) << what << ": " << a.closeout_loss << " " << b.closeout_loss;
  EXPECT_TRUE(near(a.total_loss, b.total_loss)) << what;
  EXPECT_TRUE(near(a.liquidity_shortfall, b.liquidity_shortfall)) << what;
  EXPECT_EQ(a.settlement_defaults, b.settlement_defaults) << what;
  ASSERT_EQ(a.settlement.ccp.size(), b.settlement.ccp.size()) << what;
  for (std::size_t i = 0; i < a.settlement.ccp.size(); ++i)
    EXPECT_TRUE(near(a.settlement.ccp[i], b.settlement.ccp[i])) << what << " ccp metric " << i;
  ASSERT_EQ(a.settlement.chain.size(), b.settlement.chain.size()) << what;
  for (std::size_t i = 0; i < a.settlement.chain.size(); ++i)
    EXPECT_TRUE(near(a.settlement.chain[i], b.settlement.chain[i])) << what << " chain metric " << i;
  for (std::size_t i = 0; i < a.ccp_layers.size(); ++i)
    EXPECT_TRUE(near(a.ccp_layers[i], b.ccp_layers[i])) << what << " layer " << i;
}

const std::string kSqueeze = std::string(CCPNET_SOURCE_DIR) + "/scenarios/settlement_squeeze.yaml";

TEST(SettlementSteps, OneStepOfTheMporIsTheOnePeriodEngine) {
  // settlement_squeeze with every MPOR 1 day (one period's VM is then the
  // step's): chains, halts, swap timeouts, free-of-payment principal and late
  // gains give the same numbers scenario by scenario and stress by stress.
  // (The file runs in daily steps: `one` resets simulation to one period.)
  const std::vector<config::Override> one_day = {{"ccps.CCP_EU.margin.mpor_days", "1"},
                                                 {"market.shocks.volatility_multiplier", "2.5"},
                                                 {"simulation", "{scenarios: 2000}"}};
  auto with_steps = one_day;
  with_steps.push_back({"simulation.horizon_days", "1"});
  const Model one = build_model(config::load_scenario_file(kSqueeze, one_day));
  const Model steps = build_model(config::load_scenario_file(kSqueeze, with_steps));
  ASSERT_EQ(one.steps.count, 0);
  ASSERT_EQ(steps.steps.count, 1);
  int eventful = 0, late = 0;
  for (std::int64_t i = 0; i < 300; ++i) {
    const ScenarioResult a = run_scenario(one, i), b = run_scenario(steps, i);
    eventful += !a.defaults.empty();
    late += a.settlement.total(CcpSettleMetric::kLateInflows) > 0.0;
    expect_same(a, b, fmt::format("scenario {}", i));
  }
  EXPECT_GT(eventful, 10);
  EXPECT_GT(late, 10);
  for (std::size_t s = 0; s < one.stress_scenarios.size(); ++s)
    expect_same(run_move(one, stress_move(one, one.stress_scenarios[s]), nullptr, &one.stress_scenarios[s]),
                run_move(steps, stress_move(steps, steps.stress_scenarios[s]), nullptr, &steps.stress_scenarios[s]),
                fmt::format("stress {}", s));
}

TEST(SettlementSteps, DailyPathsConserveAndAreIdenticalForAnyThreadCount) {
  const Model model = build_model(config::load_scenario_file(
      kSqueeze, {{"simulation.scenarios", "1500"}, {"simulation.horizon_days", "4"}, {"simulation.step_days", "1"}}));
  ASSERT_EQ(model.steps.count, 4);
  const auto later_defaults = [](const ScenarioResult& r) {
    return std::count_if(r.defaults.begin(), r.defaults.end(), [](const MemberDefault& d) { return d.day > 1.0; });
  };
  const int later = test_paths::expect_identical_for_any_threads(model, test_paths::settlement_row, later_defaults,
                                                                 {{1, 256}, {2, 64}, {3, 1000}})
                        .counted;
  EXPECT_GT(later, 0);  // scenarios with defaults on later days too
}

}  // namespace test_settlement_steps
}  // namespace ccpnet
