// The settlement layer (SPEC 3.8) on systems small enough to work out by hand,
// and its Monte Carlo frequencies against closed forms.
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

namespace ccpnet {
namespace test_settlement {

Model model_of(std::string_view yaml, std::vector<config::Override> overrides = {}) {
  return build_model(config::load_scenario_text(yaml, "t.yaml", overrides));
}

ScenarioResult stress(const Model& model, std::size_t i = 0, CascadeTrace* trace = nullptr) {
  return run_move(model, stress_move(model, model.stress_scenarios[i]), trace, &model.stress_scenarios[i]);
}

double layer(const ScenarioResult& r, std::size_t ccp, models::Layer l) {
  return r.ccp_layers[ccp * models::kLayerCount + static_cast<std::size_t>(l)];
}

// A hedged member H: long 10 BTC at A, short 10 BTC at B; BTC falls 20% (100 -> 80).
// Its P&L is -200 at A and +200 at B: zero in all. A settles instantly and calls
// VM due within 1 hour; B pays VM on a chain that is final after 3 hours.
//   instant settlement: cash 150 - 200 + 200 = 150 >= 0: no default;
//   as configured:      B's +200 is not final by A's 1-hour deadline, so
//                       cash 150 - 200 = -50 < 0: a liquidity default caused
//                       by settlement delay alone (shortfall 50, late 200).
// At A the close-out loss 200 takes H's IM 50 and then 150 of A's SITG
// (25% of capital 1,000 = 250); at B H's book gained: 200 back to its estate
// beyond its IM 50.
constexpr std::string_view kHedged = R"(name: settlement delay
market:
  assets: [{id: BTC, price: 100, volatility: 0.5, chain: bitcoin}]
  stress_scenarios:
    - {name: crash, moves: {BTC: -0.2}, days: 1}
    - {name: dip, moves: {BTC: -0.05}, days: 1}
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

TEST(Settlement, DelayAloneTurnsASolventMemberIntoALiquidityDefault) {
  const Model model = model_of(kHedged);
  ASSERT_TRUE(model.settlement_active);
  CascadeTrace trace;
  const ScenarioResult r = stress(model, 0, &trace);
  ASSERT_EQ(r.defaults.size(), 1u);
  EXPECT_EQ(r.defaults[0].round, 0);
  EXPECT_EQ(r.defaults[0].cause, DefaultCause::kLiquidity);
  EXPECT_EQ(r.settlement_defaults, 1);
  EXPECT_NEAR(r.liquidity_shortfall, 50.0, 1e-9);
  EXPECT_NEAR(r.settlement.get(1, CcpSettleMetric::kLateInflows), 200.0, 1e-9);
  EXPECT_EQ(r.settlement.get(0, CcpSettleMetric::kLateInflows), 0.0);
  EXPECT_NEAR(layer(r, 0, models::Layer::kDefaulterIm), 50.0, 1e-9);
  EXPECT_NEAR(layer(r, 0, models::Layer::kSitg), 150.0, 1e-9);
  EXPECT_NEAR(r.total_loss, 150.0, 1e-9);

  // The same system with instant settlement, and with a deadline the chain meets: no default.
  for (const auto& o :
       {config::Override{"settlement.instant", "true"}, config::Override{"ccps.A.settlement.deadline_hours", "3"}}) {
    const ScenarioResult calm = stress(model_of(kHedged, {o}));
    EXPECT_TRUE(calm.defaults.empty()) << o.path;
    EXPECT_EQ(calm.liquidity_shortfall, 0.0) << o.path;
  }
}

TEST(Settlement, CongestionStretchesFinalityInACrashOnly) {
  // Calm finality 0.5 h meets the 1-hour deadline; a fall of 10% or more
  // multiplies it by 10 (5 h): the crash makes B's VM late, the dip does not.
  const Model model = model_of(kHedged, {{"settlement.chains[0]",
                                          "{id: bitcoin, finality: {distribution: fixed, "
                                          "mean_hours: 0.5}, congestion: {market_drop: 0.1, "
                                          "multiplier: 10}}"}});
  const ScenarioResult crash = stress(model, 0);
  EXPECT_NEAR(crash.settlement.chain[static_cast<std::size_t>(ChainMetric::kHours)], 5.0, 1e-12);
  EXPECT_EQ(crash.settlement.chain[static_cast<std::size_t>(ChainMetric::kCongested)], 1.0);
  EXPECT_EQ(crash.settlement_defaults, 1);
  const ScenarioResult dip = stress(model, 1);
  EXPECT_NEAR(dip.settlement.chain[static_cast<std::size_t>(ChainMetric::kHours)], 0.5, 1e-12);
  EXPECT_EQ(dip.settlement.chain[static_cast<std::size_t>(ChainMetric::kCongested)], 0.0);
  EXPECT_TRUE(dip.defaults.empty());
}

// Free of payment at B, 10% of every position in delivery. D (long 10, exogenous
// default) received its in-flight delivery without paying: B loses the principal,
// 10% x 10 x 80 = 80, on top of the price loss 200: close-out loss 280. With IM 50
// and a waterfall of the defaulter's resources, SITG and equity only (all zero),
// 230 is uncovered: B fails, and S (short 10), which delivered its 80 first,
// loses that principal too.
constexpr std::string_view kFreeOfPayment = R"(name: free of payment
market:
  assets: [{id: BTC, price: 100, volatility: 0.5, chain: bitcoin}]
  stress_scenarios: [{name: crash, moves: {BTC: -0.2}, days: 1}]
ccps:
  - id: B
    capital: 0
    margin: {model: parametric, mpor_days: 1}
    default_fund: {sizing: fixed, amount: 0}
    waterfall: [defaulter_im, defaulter_df, sitg, ccp_equity]
    settlement: {mode: free_of_payment, chain: bitcoin, in_flight: 0.1}
members:
  - {id: D, capital: 1000, liquidity: 1000, positions: {B: {BTC: 10}}, initial_margin: {B: 50}}
  - {id: S, capital: 1000, liquidity: 1000, positions: {B: {BTC: -10}}, initial_margin: {B: 50}}
defaults: {exogenous: [D]}
)";

TEST(Settlement, FreeOfPaymentLosesThePrincipalOfWhoeverPerformedFirst) {
  const Model model = model_of(kFreeOfPayment);
  CascadeTrace trace;
  const ScenarioResult r = stress(model, 0, &trace);
  ASSERT_FALSE(trace.events.empty());
  ASSERT_EQ(trace.events[0].defaulters.size(), 1u);
  EXPECT_NEAR(trace.events[0].defaulters[0].loss, 280.0, 1e-9);
  EXPECT_NEAR(r.ccp_uncovered[0], 230.0, 1e-9);
  EXPECT_EQ(r.ccp_fail_round[0], 1);
  EXPECT_NEAR(r.settlement.get(0, CcpSettleMetric::kPrincipalLost), 160.0, 1e-9);  // 80 by B, 80 by S
  EXPECT_EQ(r.settlement.get(0, CcpSettleMetric::kFails), 2.0);
  // Delivery versus payment (atomic, locks met) loses no principal.
  const ScenarioResult dvp = stress(model_of(kFreeOfPayment, {{"ccps.B.settlement.mode", "atomic"}}));
  EXPECT_NEAR(dvp.ccp_uncovered[0], 150.0, 1e-9);
  EXPECT_EQ(dvp.settlement.get(0, CcpSettleMetric::kPrincipalLost), 0.0);
}

// Collateral held through a bridge: IM 100 and DF 40 per member, recovery 25%.
constexpr std::string_view kCustody = R"(name: custody through a bridge
market:
  assets: [{id: BTC, price: 100, volatility: 0.5}]
  stress_scenarios: [{name: exploit, moves: {BTC: -0.1}, days: 1, exploited_bridges: [wormhole]}]
settlement:
  bridges: [{id: wormhole, exploit_probability: 1.0, recovery_rate: 0.25}]
ccps:
  - id: V
    capital: 1000
    margin: {model: parametric, mpor_days: 1}
    default_fund: {sizing: fixed, amount: 80}
    collateral: {custody: bridge, bridge: wormhole}
members:
  - {id: L, capital: 1000, liquidity: 150, positions: {V: {BTC: 10}}, initial_margin: {V: 100}, default_fund: {V: 40}}
  - {id: K, capital: 1000, liquidity: 1000, positions: {V: {BTC: -10}}, initial_margin: {V: 100}, default_fund: {V: 40}}
)";

TEST(Settlement, BridgeExploitWithProbabilityOneTakesAllBridgedCollateralAndZeroNone) {
  // p = 1: every scenario loses (100 + 40) x 2 members x 75% = 210; p = 0: nothing.
  for (const double p : {1.0, 0.0}) {
    const Model model = model_of(kCustody, {{"settlement.bridges[0].exploit_probability", fmt::format("{}", p)},
                                            {"simulation.scenarios", "300"}});
    RunOptions options;
    int scenarios = 0;
    options.on_scenario = [&](const ScenarioResult& r) {
      ++scenarios;
      EXPECT_NEAR(r.settlement.get(0, CcpSettleMetric::kPrincipalLost), p * 210.0, 1e-9) << r.index;
      EXPECT_EQ(r.settlement.bridge[static_cast<std::size_t>(BridgeMetric::kExploited)], p);
    };
    const RunResult run = run_monte_carlo(model, options);
    EXPECT_EQ(scenarios, 300);
    EXPECT_NEAR(run.aggregate.totals().bridge_settle[static_cast<std::size_t>(BridgeMetric::kLoss)] / 300.0, p * 210.0,
                1e-9);
  }
}

TEST(Settlement, ExploitedCustodyCallsForNewMarginAndLeavesADefaulterShortOfIm) {
  // BTC -10% costs L (long 10 at 100) 100 of VM: with liquidity 150 it would pay.
  // But it must also re-post its lost IM, 75: 150 - 100 - 75 = -25, a liquidity
  // default at the start. Its CCP then holds only the recovered 25 of its IM: the
  // close-out loss of 100 takes the defaulter's IM 25 and what is left of its DF
  // after the exploit (40 x 25% = 10).
  const Model model = model_of(kCustody);
  const ScenarioResult r = stress(model);
  ASSERT_EQ(r.defaults.size(), 1u);
  EXPECT_EQ(r.defaults[0].cause, DefaultCause::kLiquidity);
  EXPECT_EQ(r.settlement_defaults, 0);  // a custody loss, not a late payment
  EXPECT_NEAR(r.liquidity_shortfall, 25.0, 1e-9);
  EXPECT_NEAR(layer(r, 0, models::Layer::kDefaulterIm), 25.0, 1e-9);
  EXPECT_NEAR(layer(r, 0, models::Layer::kDefaulterDf), 10.0, 1e-9);
}

// HTLC swaps: VM on chain `slow` (exponential, mean 1 h), deliveries of the asset
// on chain `other` (gamma, shape 3, mean 2 h), lock 2 h. A swap aborts unless both
// legs are final within the lock (Herlihy 2018):
//   P(abort) = 1 - (1 - e^{-2}) (1 - e^{-3} (1 + 3 + 9/2)) = 0.501253...
// (the gamma CDF at 2 h with scale 2/3 is the Poisson sum of Erlang(3)).
constexpr std::string_view kSwaps = R"(name: htlc swaps
simulation: {scenarios: 20000}
market:
  assets: [{id: BTC, price: 100, volatility: 0.5, chain: other}]
settlement:
  chains:
    - {id: slow, finality: {distribution: exponential, mean_hours: 1}}
    - {id: other, finality: {distribution: gamma, shape: 3, mean_hours: 2}}
ccps:
  - id: V
    capital: 1.0e6
    margin: {model: parametric, mpor_days: 1}
    settlement: {mode: atomic, chain: slow, time_lock_hours: 2, deadline_hours: 100, in_flight: 0.01}
members:
  - {id: L, capital: 1.0e6, liquidity: 1.0e6, positions: {V: {BTC: 10}}}
  - {id: K, capital: 1.0e6, liquidity: 1.0e6, positions: {V: {BTC: -10}}}
)";

TEST(Settlement, HtlcAbortFrequencyMatchesTheClosedForm) {
  const Model model = model_of(kSwaps);
  const double expected = 1.0 - (1.0 - std::exp(-2.0)) * (1.0 - std::exp(-3.0) * 8.5);
  std::int64_t aborted = 0, n = 0;
  double cost = 0.0;
  RunOptions options;
  options.on_scenario = [&](const ScenarioResult& r) {
    ++n;
    const double fails = r.settlement.get(0, CcpSettleMetric::kFails);
    EXPECT_TRUE(fails == 0.0 || fails == 2.0) << r.index;  // both members' deliveries fail together
    aborted += fails > 0.0;
    cost += r.settlement.get(0, CcpSettleMetric::kReplacementCost);
  };
  (void)run_monte_carlo(model, options);
  ASSERT_EQ(n, 20000);
  const double p = static_cast<double>(aborted) / static_cast<double>(n);
  const double se = std::sqrt(expected * (1.0 - expected) / static_cast<double>(n));
  EXPECT_NEAR(p, expected, 4.0 * se) << "abort frequency " << p << ", closed form " << expected;
  // Each abort costs one side 1% x |value| x (e^{|x|} - 1), x ~ N(0, sigma_d^2 lock / 24):
  // in expectation about 1% x 1,000 x sigma_d sqrt(2/24) sqrt(2/pi) = 0.0876 per abort (daily vol 0.5/sqrt(365)).
  const double sd = 0.5 / std::sqrt(365.0) * std::sqrt(2.0 / 24.0);
  const double per_abort = 0.01 * 1000.0 * sd * std::sqrt(2.0 / M_PI);
  EXPECT_NEAR(cost / static_cast<double>(aborted), per_abort, 0.05 * per_abort);
}

TEST(Settlement, IdenticalForAnyThreadCountAndBatchSize) {
  const Model model = build_model(config::load_scenario_file(
      std::string(CCPNET_SOURCE_DIR) + "/scenarios/settlement_squeeze.yaml", {{"simulation.scenarios", "6000"}}));
  const auto defaults = [](const ScenarioResult& r) { return r.defaults.size(); };
  const test_paths::RunText reference = test_paths::expect_identical_for_any_threads(
      model, test_paths::settlement_row, defaults, {{1, 256}, {2, 64}, {3, 1000}});
  EXPECT_NE(reference.text.find("\"settlement\""), std::string::npos);
  EXPECT_GT(reference.counted, 0);
}

TEST(Settlement, SettlementDrawsShiftNoOtherStream) {
  // The same market with and without a settlement layer: identical market factors and close-out losses
  // in every scenario where the settlement layer changes nothing (deadlines never binding).
  const std::string path = std::string(CCPNET_SOURCE_DIR) + "/scenarios/settlement_squeeze.yaml";
  const Model with = build_model(config::load_scenario_file(path, {{"simulation.scenarios", "2000"}}));
  const Model without =
      build_model(config::load_scenario_file(path, {{"simulation.scenarios", "2000"}, {"settlement.instant", "true"}}));
  std::vector<double> a, b;
  RunOptions options;
  options.on_scenario = [&](const ScenarioResult& r) { a.push_back(r.market_factor); };
  (void)run_monte_carlo(with, options);
  options.on_scenario = [&](const ScenarioResult& r) { b.push_back(r.market_factor); };
  (void)run_monte_carlo(without, options);
  EXPECT_EQ(a, b);
}

// The margin spiral: IM recomputed after the move on the CCP's EWMA
// volatility, on the positions at their post-move prices (sim/margin_path.hpp).
// The rules: Commission Delegated Regulation (EU) No 153/2013 art. 24-26 (IM at
// 99% (99.5% for OTC) over the liquidation period, on the model's volatility),
// art. 28(1)(a) (an APC buffer of at least 25% that may be used up when
// margins rise); CPMI-IOSCO PFMI Principle 6, key considerations 3-4 (positions
// marked to current prices and margin called at least daily). A parametric IM
// is q sigma sqrt(h) |v|: after a move it is q sigma' sqrt(h) |v'|, v' the
// position's value at the new price. The EWMA estimator: RiskMetrics Technical
// Document (J.P. Morgan 1996), sigma'^2 = lambda sigma^2 + (1 - lambda) r^2.
//
// One asset X at 100 with volatility 50% a year over 365 days (daily 0.5 /
// sqrt(365)); L is long 1 X with observed IM 100 and liquidity 100. X falls 20%
// in a day (x = ln 0.8): the CCP's EWMA estimate becomes
//   M = sqrt(0.94 + 0.06 x^2 / sigma_d^2) = sqrt(0.94 + 0.06 x 72.70...) = 2.3026...
// and L's position is worth 80: it requires 100 x 0.8 x M = 184.21 and calls
// 84.21. L pays VM 20 and cannot meet the call: 100 - 20 - 84.21 = -4.21, a
// liquidity default that the move alone does not cause.
// With an APC buffer of 25% the IM of 100 held includes the buffer (base 80): the
// CCP requires max(80 x 0.8 M, 100) = 147.37 and calls 47.37, which L pays (32.63 left).
constexpr std::string_view kSpiral = R"(name: margin spiral
market:
  assets: [{id: X, price: 100, volatility: 0.5}]
  stress_scenarios: [{name: crash, moves: {X: -0.2}, days: 1}]
ccps:
  - id: C
    capital: 1000
    margin: {model: parametric, mpor_days: 1, spiral: {lambda: 0.94}}
    default_fund: {sizing: fixed, amount: 0}
    imbalance: rest_of_market
members:
  - {id: L, capital: 1000, liquidity: 100, positions: {C: {X: 1}}, initial_margin: {C: 100}}
)";

TEST(Settlement, MarginSpiralCallsTheEwmaIncreaseAndAnApcBufferAbsorbsPartOfIt) {
  const double sd = 0.5 / std::sqrt(365.0), x = std::log(0.8);
  const double m = std::sqrt(0.94 + 0.06 * x * x / (sd * sd));
  ASSERT_NEAR(m, 2.3026, 1e-4);
  const ScenarioResult r = stress(model_of(kSpiral));
  EXPECT_NEAR(r.settlement.get(0, CcpSettleMetric::kMarginCalls), 80.0 * m - 100.0, 1e-9);
  ASSERT_EQ(r.defaults.size(), 1u);
  EXPECT_EQ(r.defaults[0].cause, DefaultCause::kLiquidity);
  EXPECT_NEAR(r.liquidity_shortfall, 80.0 * m - 100.0 - (100.0 - 20.0), 1e-9);

  const ScenarioResult buffered = stress(model_of(kSpiral, {{"ccps.C.margin.apc", "{mode: buffer, buffer: 0.25}"}}));
  EXPECT_NEAR(buffered.settlement.get(0, CcpSettleMetric::kMarginCalls), 64.0 * m - 100.0, 1e-9);
  EXPECT_TRUE(buffered.defaults.empty());
  // Without the spiral the CCP calls nothing and L survives.
  EXPECT_TRUE(stress(model_of(kSpiral, {{"ccps.C.margin.spiral", "null"}})).defaults.empty());
}

// The spiral on a book, worked by hand (sources as above). X at 100 with daily
// volatility 0.05 (0.5 over 100 trading days), Y at 50 with daily volatility
// 0.02, correlation 0.5; in a day X falls 30% and Y 10%. C's margin model is
// parametric (variance-covariance: IM = q sqrt(h) sqrt(v' S v), SPEC 3.4; RTS
// 153/2013 art. 24-26), recomputed with lambda 0.94, h = 1 day, and holds an
// APC buffer of 25% (art. 28(1)(a)): the IM held is the model margin times 1.25.
//   X: x = ln 0.7 = -0.356675, x^2 / sigma^2 = 50.8868,
//      m_X = sqrt(0.94 + 0.06 x 50.8868) = sqrt(3.99321) = 1.998301;
//   Y: y = ln 0.9 = -0.105361, y^2 / sigma^2 = 27.7521,
//      m_Y = sqrt(0.94 + 0.06 x 27.7521) = sqrt(2.60513) = 1.614040.
// L, long 10 X (1,000), IM 100 (model margin 80): at the new price the model
// margin is 80 x 0.7 x 1.998301 = 111.9049; the buffer takes the first 20
// (max(111.9049, 1.25 x min(111.9049, 80)) = 111.9049): IM 111.9049, a call
// of 11.9049 (without the buffer 39.8811; on today's value 59.8641). L pays VM
// 300 from liquidity 310: 310 - 300 - 11.9049 = -1.9049, a liquidity default.
// S, short 10 X: its position is worth 700 too, the same IM 111.9049 and call
// 11.9049; it gains 300 and has liquidity 20: it pays.
// T, long 10 X and 20 Y (1,000 each), IM 160 (model margin 128). The
// model's own formula on the values and volatilities before and after:
//   before: sigma v = (0.05 x 1,000, 0.02 x 1,000) = (50, 20),
//           v' S0 v = 50^2 + 20^2 + 2 x 0.5 x 50 x 20 = 3,900, sqrt 62.449980;
//   after:  sigma' u = (0.05 x 1.998301 x 700, 0.02 x 1.614040 x 900)
//                    = (69.940548, 29.052723),
//           u' S1 u = 4,891.68 + 844.06 + 2,031.95 = 7,767.704399, sqrt 88.134581;
//   IM1 / IM0 = 88.134581 / 62.449980 = 1.411283
// (the value-weighted 0.5 x 0.7 x 1.998301 + 0.5 x 0.9 x 1.614040 = 1.425724
// keeps today's diversification: X, the asset that fell most, is now a
// larger share of the risk, and the correlation credits it less). Model
// margin 128 x 1.411283 = 180.644195, above 1.25 x 128 = 160: a call of
// 20.644195. T pays VM 300 + 100 from liquidity 420: 420 - 400 - 20.644195 =
// -0.644195, a liquidity default.
// C calls 11.904877 + 11.904877 + 20.644195 = 44.453949.
constexpr std::string_view kSpiralBook = R"(name: margin spiral on a book
market:
  assets:
    - {id: X, price: 100, volatility: 0.5, trading_days: 100}
    - {id: Y, price: 50, volatility: 0.2, trading_days: 100}
  correlation: [[1.0, 0.5], [0.5, 1.0]]
  stress_scenarios: [{name: crash, moves: {X: -0.3, Y: -0.1}, days: 1}]
ccps:
  - id: C
    capital: 1.0e6
    margin: {model: parametric, mpor_days: 1, apc: {mode: buffer, buffer: 0.25}, spiral: {lambda: 0.94}}
    default_fund: {sizing: fixed, amount: 0}
    imbalance: rest_of_market
members:
  - {id: L, capital: 1.0e6, liquidity: 310, positions: {C: {X: 10}}, initial_margin: {C: 100}}
  - {id: S, capital: 1.0e6, liquidity: 20, positions: {C: {X: -10}}, initial_margin: {C: 100}}
  - {id: T, capital: 1.0e6, liquidity: 420, positions: {C: {X: 10, Y: 20}}, initial_margin: {C: 160}}
)";

TEST(Settlement, TheSpiralRecomputesImOnThePositionsAtTheirNewPrices) {
  const double x = std::log(0.7), y = std::log(0.9);
  const double mx = std::sqrt(0.94 + 0.06 * x * x / 0.0025), my = std::sqrt(0.94 + 0.06 * y * y / 0.0004);
  ASSERT_NEAR(mx, 1.998301, 1e-6);
  ASSERT_NEAR(my, 1.614040, 1e-6);
  const double risk_x = 0.05 * mx * 700.0, risk_y = 0.02 * my * 900.0;  // sigma' u, per asset
  const double ratio = std::sqrt((risk_x * risk_x + risk_y * risk_y + risk_x * risk_y) / 3900.0);
  ASSERT_NEAR(ratio, 1.411283, 1e-6);
  const double call_x = 80.0 * 0.7 * mx - 100.0, call_t = 128.0 * ratio - 160.0;
  ASSERT_NEAR(call_x, 11.904877, 1e-6);
  ASSERT_NEAR(call_t, 20.644195, 1e-6);
  const ScenarioResult r = stress(model_of(kSpiralBook));
  EXPECT_NEAR(r.settlement.get(0, CcpSettleMetric::kMarginCalls), 2.0 * call_x + call_t, 1e-9);
  ASSERT_EQ(r.defaults.size(), 2u);  // L and T; S pays its call from its gain
  EXPECT_EQ(r.defaults[0].member, 0);
  EXPECT_EQ(r.defaults[1].member, 2);
  EXPECT_EQ(r.defaults[0].cause, DefaultCause::kLiquidity);
  EXPECT_EQ(r.defaults[1].cause, DefaultCause::kLiquidity);
  EXPECT_NEAR(r.liquidity_shortfall, (call_x - 10.0) + (call_t - 20.0), 1e-9);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
  // One daily step over the MPOR recomputes the same IM (sim/margin_path.hpp):
  // the same defaults and shortfall.
  const ScenarioResult steps = stress(model_of(kSpiralBook, {{"simulation.horizon_days", "1"}}));
  ASSERT_EQ(steps.defaults.size(), 2u);
  EXPECT_NEAR(steps.liquidity_shortfall, r.liquidity_shortfall, 1e-9);
  EXPECT_NEAR(steps.closeout_loss, r.closeout_loss, 1e-9);
}

TEST(Settlement, TheSpiralRescansAScenarioGridModelAtTheNewVolatility) {
  // kSpiral's L under a SPAN-style scan (CME SPAN; SPEC 3.4: the worst loss
  // over price moves of +-3 horizon standard deviations, h = 1 day): a long
  // position's worst point is the bottom of the range, IM = v (1 - e^{-3 sigma}).
  // Today: sigma = 0.5 / sqrt(365) = 0.026171, m0 = 0.078514,
  //   1 - e^{-m0} = 0.075511.
  // X falls 20%: the EWMA ratio M = 2.302579 (as above), the range widens to
  // m1 = 3 sigma M = 0.180784, 1 - e^{-m1} = 0.165384, and the position is worth 80:
  //   IM1 / IM0 = 0.8 x 0.165384 / 0.075511 = 1.752171,
  // the scan's loss rising less than the volatility (a log-move range); IM
  // 175.2171, a call of 75.2171 (scaling by 0.8 M would call 84.2063). L pays
  // VM 20 from liquidity 100 and the call: 4.7829 left, no default.
  const double sd = 0.5 / std::sqrt(365.0), x = std::log(0.8);
  const double m = std::sqrt(0.94 + 0.06 * x * x / (sd * sd));
  const double ratio = 0.8 * -std::expm1(-3.0 * sd * m) / -std::expm1(-3.0 * sd);
  ASSERT_NEAR(ratio, 1.752171, 1e-6);
  const ScenarioResult r =
      stress(model_of(kSpiral, {{"ccps.C.margin", "{model: scenario_grid, mpor_days: 1, spiral: {lambda: 0.94}}"}}));
  EXPECT_NEAR(r.settlement.get(0, CcpSettleMetric::kMarginCalls), 100.0 * ratio - 100.0, 1e-9);
  EXPECT_TRUE(r.defaults.empty());
}

// Collateral credited beyond the IM covers a spiral increase first (EMIR RTS
// 153/2013 art. 40: collateral valued at least daily and credited after
// haircuts against the requirement; the call is max(0, IM1 - credited value)).
// kSpiral's L posts its IM of 100 in X with a 20% haircut: 125 of X. X rises
// 20% in a day: x = ln 1.2 = 0.182322, x^2 / sigma^2 = 48.532079, the EWMA
// ratio M = sqrt(0.94 + 0.06 x 48.532079) = 1.962632, and L's position is
// worth 120: IM1 = 100 x 1.2 x 1.962632 = 235.515852. Its collateral is
// worth 150 and credited 120, 20 beyond the IM of 100: the call is
// 235.515852 - 120 = 115.515852, not the whole rise of 135.515852. L gains VM
// 20 and has liquidity 100: 100 + 20 - 115.515852 = 4.484148, it pays (called
// for the whole rise it would be 15.515852 short and default). In cash the
// margin is credited 100 and the whole rise is called.
constexpr std::string_view kSpiralUp = R"(name: margin spiral on a rise
market:
  assets: [{id: X, price: 100, volatility: 0.5}]
  stress_scenarios: [{name: rally, moves: {X: 0.2}, days: 1}]
ccps:
  - id: C
    capital: 1000
    margin: {model: parametric, mpor_days: 1, spiral: {lambda: 0.94}}
    collateral: {asset: X, haircut: 0.2}
    default_fund: {sizing: fixed, amount: 0}
    imbalance: rest_of_market
members:
  - {id: L, capital: 1000, liquidity: 100, positions: {C: {X: 1}}, initial_margin: {C: 100}}
)";

TEST(Settlement, CollateralBeyondTheImIsCreditedAgainstASpiralIncrease) {
  const double sd = 0.5 / std::sqrt(365.0), x = std::log(1.2);
  const double m = std::sqrt(0.94 + 0.06 * x * x / (sd * sd));
  ASSERT_NEAR(m, 1.962632, 1e-6);
  const double im1 = 120.0 * m;
  ASSERT_NEAR(im1, 235.515852, 1e-6);
  const ScenarioResult r = stress(model_of(kSpiralUp));
  EXPECT_NEAR(r.settlement.get(0, CcpSettleMetric::kMarginCalls), im1 - 120.0, 1e-9);
  EXPECT_TRUE(r.defaults.empty());
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
  // One daily step over the MPOR: the same call.
  const ScenarioResult steps = stress(model_of(kSpiralUp, {{"simulation.horizon_days", "1"}}));
  EXPECT_NEAR(steps.settlement.get(0, CcpSettleMetric::kMarginCalls), im1 - 120.0, 1e-9);
  EXPECT_TRUE(steps.defaults.empty());
  // Margin in cash: nothing beyond the IM, the whole rise called, L 15.515852 short.
  const ScenarioResult cash = stress(model_of(kSpiralUp, {{"ccps.C.collateral", "{custody: ccp}"}}));
  EXPECT_NEAR(cash.settlement.get(0, CcpSettleMetric::kMarginCalls), im1 - 100.0, 1e-9);
  ASSERT_EQ(cash.defaults.size(), 1u);
  EXPECT_EQ(cash.defaults[0].cause, DefaultCause::kLiquidity);
  EXPECT_NEAR(cash.liquidity_shortfall, im1 - 100.0 - 120.0, 1e-9);
}

TEST(Settlement, CollateralPostedInTheFallingAssetIsWorthLessToTheCcp) {
  // D (long 10 BTC, exogenous default) and S (short 10 BTC) post their IM of 50 in
  // BTC itself with a 50% haircut: 100 of BTC each. BTC falls 20%: D's collateral is
  // worth 80, which is all C can liquidate against D's close-out loss of 200 (120
  // uncovered: C fails); S's is credited 40 and S is called 10, as D was.
  const ScenarioResult r = stress(model_of(
      kFreeOfPayment, {{"ccps.B.settlement", "{mode: instant}"}, {"ccps.B.collateral", "{asset: BTC, haircut: 0.5}"}}));
  EXPECT_NEAR(layer(r, 0, models::Layer::kDefaulterIm), 80.0, 1e-9);
  EXPECT_NEAR(r.ccp_uncovered[0], 120.0, 1e-9);
  EXPECT_NEAR(r.settlement.get(0, CcpSettleMetric::kMarginCalls), 20.0, 1e-9);
  // In cash, the same IM covers 50 of the loss: collateral in the asset that falls is wrong-way,
  // and the haircut decides whether it helps (50% here: 80 > 50).
  const ScenarioResult cash = stress(model_of(kFreeOfPayment, {{"ccps.B.settlement", "{mode: instant}"}}));
  EXPECT_NEAR(layer(cash, 0, models::Layer::kDefaulterIm), 50.0, 1e-9);
}

std::string errors_of(std::string_view text, std::vector<config::Override> overrides) {
  try {
    (void)config::load_scenario_text(text, "t.yaml", overrides);
  } catch (const config::ScenarioError& e) {
    return e.what();
  }
  return "";
}

TEST(Settlement, BadReferencesAreLocatedErrors) {
  // Lines and columns are those of kHedged (the first line is 1).
  EXPECT_EQ(errors_of(kHedged, {{"ccps.B.settlement.chain", "bitcon"}}),
            "--set ccps.B.settlement.chain=bitcon:0:0: ccps[1].settlement.chain: unknown chain 'bitcon' (did you mean "
            "'bitcoin'?)\n");
  EXPECT_EQ(errors_of(kHedged, {{"ccps.B.settlement.chain", "\"\""}}),
            "--set ccps.B.settlement.chain=\"\":0:0: ccps[1].settlement.chain: settlement mode atomic needs the chain "
            "margin is paid on\n");
  EXPECT_EQ(errors_of(kHedged, {{"ccps.B.settlement.mode", "bridge"}}),
            "t.yaml:20:17: ccps[1].settlement.bridge: settlement mode bridge needs a bridge id\n");
  EXPECT_EQ(errors_of(kHedged, {{"ccps.B.settlement.mode", "l2_optimistic"}}),
            "t.yaml:20:39: ccps[1].settlement.chain: settlement mode l2_optimistic needs a chain with a challenge "
            "period, found 'bitcoin' with challenge_days 0\n");
  EXPECT_EQ(errors_of(kHedged, {{"ccps.B.collateral", "{custody: bridge, bridge: ronin}"}}),
            "--set ccps.B.collateral={custody: bridge, bridge: ronin}:0:0: ccps[1].collateral.bridge: unknown bridge "
            "'ronin' (no bridges are defined)\n");
  EXPECT_EQ(errors_of(kHedged, {{"ccps.A.collateral", "{custody: smart_contract}"}, {"ccps.A.im_segregated", "false"}}),
            "--set ccps.A.im_segregated=false:0:0: ccps[0].im_segregated: custody smart_contract is bankruptcy-remote: "
            "im_segregated false contradicts it (use custody ccp)\n");
  EXPECT_EQ(errors_of(kHedged, {{"market.stress_scenarios[0].halted_chains", "[solana, tron]"}}),
            "--set market.stress_scenarios[0].halted_chains=[solana, tron]:0:0: "
            "market.stress_scenarios[0].halted_chains[1]: unknown chain 'tron' (known: arbitrum, bitcoin, ethereum, "
            "optimism, solana)\n");
  EXPECT_EQ(errors_of(kHedged, {{"settlement.chains[0].finality.mean_hours", "-1"}}),
            "--set settlement.chains[0].finality.mean_hours=-1:0:0: settlement.chains[0].finality.mean_hours: expected "
            "a value in [0, 100000] (hours), found -1\n");
}

TEST(Settlement, BuiltInChainsAreWrittenIntoTheResolvedScenario) {
  // B pays on Ethereum without defining it: the built-in calibration (768 s) is used and stated.
  const auto loaded = config::load_scenario_text(kHedged, "t.yaml", {{"ccps.B.settlement.chain", "ethereum"}});
  const Model model = build_model(loaded);
  ASSERT_EQ(model.chains.size(), 2u);
  EXPECT_EQ(model.chains[1].id, "ethereum");
  EXPECT_NEAR(model.chains[1].finality.mean_hours, 768.0 / 3600.0, 1e-15);
  EXPECT_NE(config::to_yaml(loaded.scenario).find("id: \"ethereum\""), std::string::npos);
}

}  // namespace test_settlement
}  // namespace ccpnet
