// Time steps (simulation.horizon_days, step_days): members pay variation
// margin step by step and are closed out over their CCP's margin period of
// risk from the last variation margin they paid.
//
// The margin period of risk runs from the last collection of margin from the
// defaulting member to the close-out of its positions (Commission Delegated
// Regulation (EU) No 153/2013, art. 26, and CPMI-IOSCO PFMI, Principle 6,
// key consideration 3): a member that pays the calls of days 1 and 2 and
// misses the call of day 3 is closed out from day-2 prices over the MPOR.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "models/margin/quantile.hpp"
#include "sim/config/load.hpp"
#include "sim/margin_path.hpp"
#include "sim/model.hpp"
#include "sim/runner.hpp"
#include "sim/shocks.hpp"
#include "tests/sim/auction_case.hpp"
#include "tests/sim/step_paths.hpp"
#include "tests/sim/yaml_edit.hpp"

using ccpnet::test_paths::path_of;

namespace ccpnet {
namespace test_time_steps {

double layer(const ScenarioResult& r, std::size_t ccp, models::Layer l) {
  return r.ccp_layers[ccp * models::kLayerCount + static_cast<std::size_t>(l)];
}

Model model_of(std::string_view yaml, std::vector<config::Override> overrides = {}) {
  return build_model(config::load_scenario_text(yaml, "t.yaml", std::move(overrides)));
}

// One CCP with a 2-day MPOR, four daily steps. X: 100 today, then
//   day 1: 100, day 2: 95, day 3: 80, day 4: 70, day 5: 70.
// D is long 10 X with capital 100: variation margin paid to the end of day 1:
// 0; of day 2: -50 (capital 50 left, it pays); of day 3: -200 (capital -100:
// it cannot, and defaults at the end of step 3). Its last margin paid is that
// of day 2, so it is closed out over days 2 to 4: 10 x (95 - 70) = 250.
// (Over days 0 to 2 it would be 10 x 5 = 50; from its default, days 3 to 5,
// 10 x 10 = 100.) Against IM 100 and DF 20: 130 left; SITG 30 -> 100;
// N's DF 50 -> 50; assessment on N (1 x its DF) 50 -> 0. A survives.
constexpr std::string_view kTwoDays = R"(name: a default on day 3 closed out over days 2 to 4
simulation: {horizon_days: 4, step_days: 1}
market:
  assets: [{id: X, price: 100, volatility: 0.5}]
ccps:
  - {id: A, capital: 1000, sitg: 30, margin: {model: parametric, mpor_days: 2}, default_fund: {sizing: fixed, amount: 70}}
members:
  - {id: D, capital: 100, liquidity: 1000, positions: {A: {X: 10}}, initial_margin: {A: 100}, default_fund: {A: 20}}
  - {id: N, capital: 10000, liquidity: 10000, positions: {A: {X: -10}}, initial_margin: {A: 100}, default_fund: {A: 50}}
)";

TEST(TimeSteps, TheStepsAndTheirCloseOutWindows) {
  const Model model = model_of(kTwoDays);
  ASSERT_EQ(model.steps.count, 4);
  EXPECT_EQ(model.steps.days, 1.0);
  // Step ends 1..4, windows 0+2 .. 3+2: points 1..5.
  EXPECT_EQ(model.steps.points, (std::vector<double>{1, 2, 3, 4, 5}));
  EXPECT_EQ(model.steps.start, (std::vector<int>{-1, 0, 1, 2}));
  EXPECT_EQ(model.steps.end, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(model.steps.window[2], std::vector<int>{3});  // step 3 starts at day 2: window to day 4
}

TEST(TimeSteps, AMemberMissingTheCallOfDayThreeIsClosedOutOverDaysTwoToFour) {
  const Model model = model_of(kTwoDays);
  CascadeTrace trace;
  const ScenarioResult r = run_move(model, path_of(model, {100, 100, 95, 80, 70, 70}), &trace);
  ASSERT_EQ(r.defaults.size(), 1u);
  EXPECT_EQ(r.defaults[0].member, 0);
  EXPECT_EQ(r.defaults[0].cause, DefaultCause::kSolvency);
  EXPECT_EQ(r.defaults[0].day, 3.0);
  EXPECT_NEAR(r.closeout_loss, 250.0, 1e-9);
  using L = models::Layer;
  EXPECT_NEAR(layer(r, 0, L::kDefaulterIm), 100.0, 1e-9);
  EXPECT_NEAR(layer(r, 0, L::kDefaulterDf), 20.0, 1e-9);
  EXPECT_NEAR(layer(r, 0, L::kSitg), 30.0, 1e-9);
  EXPECT_NEAR(layer(r, 0, L::kMutualizedDf), 50.0, 1e-9);
  EXPECT_NEAR(layer(r, 0, L::kAssessments), 50.0, 1e-9);
  EXPECT_NEAR(r.total_loss, 130.0, 1e-9);
  EXPECT_EQ(r.ccp_failures(), 0);
  ASSERT_EQ(trace.events.size(), 1u);
  EXPECT_EQ(trace.events[0].day, 3.0);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
}

TEST(TimeSteps, OnePeriodClosesOutFromTodayAndTheTestLooksAtTheWholePeriod) {
  // The same file in one period of 2 days (the MPOR): D is tested on its P&L
  // over days 0 to 2 (-50 against capital 100: it stands).
  const Model model = model_of(kTwoDays, {{"simulation.horizon_days", "2"}, {"simulation.step_days", "2"}});
  ASSERT_EQ(model.steps.count, 1);
  const ScenarioResult r = run_move(model, path_of(model, {100, 100, 95, 80, 70, 70}));
  EXPECT_TRUE(r.defaults.empty());
  // Days 0 to 2 at 80 (a fall of 20): D's P&L -200 < -100: it defaults at the
  // end of the one step, closed out from today: 10 x 20 = 200.
  const ScenarioResult s = run_move(model, path_of(model, {100, 90, 80, 80, 80, 80}));
  ASSERT_EQ(s.defaults.size(), 1u);
  EXPECT_EQ(s.defaults[0].day, 2.0);
  EXPECT_NEAR(s.closeout_loss, 200.0, 1e-9);
}

TEST(TimeSteps, ExogenousDefaultsAreAtTheStartAndClosedOutFromToday) {
  // D defaults at the start: closed out over days 0 to 2, 10 x 5 = 50, whatever
  // comes later; N pays nothing (IM 100 covers it).
  const Model model = model_of(kTwoDays, {{"defaults.exogenous", "[D]"}});
  const ScenarioResult r = run_move(model, path_of(model, {100, 100, 95, 80, 70, 70}));
  ASSERT_EQ(r.defaults.size(), 1u);
  EXPECT_EQ(r.defaults[0].cause, DefaultCause::kExogenous);
  EXPECT_EQ(r.defaults[0].day, 0.0);
  EXPECT_NEAR(r.closeout_loss, 50.0, 1e-9);
  EXPECT_NEAR(r.total_loss, 0.0, 1e-9);
}

TEST(TimeSteps, ChargesOfOneStepCarryToTheNext) {
  // Two defaulters on different days at one CCP: the first's residual uses
  // the fund that the second's then no longer finds.
  //   D (long 10, capital 100) misses the call of day 3 as above: residual 130
  //   after its IM and DF; SITG 30, then E's and N's DF pro rata... E is long
  //   10 too with capital 260: cumulative VM -50 (day 2), -200 (day 3), -300
  //   (day 4): it pays until day 3 (260 - 200 = 60, less its share of the
  //   charges of step 3) and misses the call of day 4 at the latest.
  // Rather than a closed form for each layer, the property: the fund used by
  // both equals the fund there was at most, and the ledger conserves.
  constexpr std::string_view kTwo = R"(name: two defaulters on two days
simulation: {horizon_days: 4, step_days: 1}
market:
  assets: [{id: X, price: 100, volatility: 0.5}]
ccps:
  - {id: A, capital: 1000, sitg: 30, margin: {model: parametric, mpor_days: 2}, default_fund: {sizing: fixed, amount: 120}}
members:
  - {id: D, capital: 100, liquidity: 1000, positions: {A: {X: 10}}, initial_margin: {A: 100}, default_fund: {A: 20}}
  - {id: E, capital: 260, liquidity: 1000, positions: {A: {X: 10}}, initial_margin: {A: 100}, default_fund: {A: 50}}
  - {id: N, capital: 10000, liquidity: 10000, positions: {A: {X: -20}}, initial_margin: {A: 200}, default_fund: {A: 50}}
)";
  const Model model = model_of(kTwo);
  const ScenarioResult r = run_move(model, path_of(model, {100, 100, 95, 80, 70, 70}));
  ASSERT_EQ(r.defaults.size(), 2u);
  EXPECT_EQ(r.defaults[0].member, 0);
  EXPECT_EQ(r.defaults[0].day, 3.0);
  EXPECT_EQ(r.defaults[1].member, 1);
  EXPECT_GT(r.defaults[1].day, 3.0 - 1e-12);
  using L = models::Layer;
  const double df = layer(r, 0, L::kDefaulterDf) + layer(r, 0, L::kMutualizedDf);
  EXPECT_LE(df, 120.0 + 1e-9);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9 * std::max(1.0, r.closeout_loss));
}

TEST(TimeSteps, ACcpFailedInAnEarlierStepPaysNoMoreVariationMargin) {
  // CCP A fails on day 1: D (exogenous) loses 10 x 50 = 500 over days 0 to 1
  // (MPOR 1); IM 10, DF 5, M's DF at A 5 and A's equity 10 leave 470, which
  // A's only creditor M bears as VM gains A does not pay (M's gain at A over
  // the day was 500). M is short 10 X at A and long 10 X at B, hedged while
  // both stand: after day 1 its capital is 600 - 5 - 470 = 125. From then on
  // its position at A is torn up with A, while its loss at B goes on: X falls
  // from 50 to 20 on day 2, a variation margin of -300 at B: M defaults at
  // the end of day 2. Had A stood, its gain at A would have matched the loss.
  constexpr std::string_view kFail = R"(name: a CCP failure stops its variation margin
simulation: {horizon_days: 2, step_days: 1}
market:
  assets: [{id: X, price: 100, volatility: 0.5}]
ccps:
  - id: A
    capital: 10
    sitg: 0
    margin: {model: parametric, mpor_days: 1}
    default_fund: {sizing: fixed, amount: 10}
    waterfall: [defaulter_im, defaulter_df, sitg, mutualized_df, ccp_equity]
  - {id: B, capital: 1000, sitg: 10, margin: {model: parametric, mpor_days: 1}, default_fund: {sizing: fixed, amount: 100}}
members:
  - {id: D, capital: 1e6, liquidity: 1e6, positions: {A: {X: 10}}, initial_margin: {A: 10}, default_fund: {A: 5}}
  - id: M
    capital: 600
    liquidity: 1e6
    positions: {A: {X: -10}, B: {X: 10}}
    initial_margin: {A: 10, B: 400}
    default_fund: {A: 5, B: 50}
  - {id: N, capital: 1e6, liquidity: 1e6, positions: {B: {X: -10}}, initial_margin: {B: 400}, default_fund: {B: 50}}
defaults: {exogenous: [D]}
)";
  const Model model = model_of(kFail);
  const ScenarioResult r = run_move(model, path_of(model, {100, 50, 20, 20}));
  ASSERT_EQ(r.ccp_failures(), 1);
  EXPECT_EQ(r.ccp_fail_day[0], 1.0);
  EXPECT_LT(r.ccp_fail_day[1], 0.0);
  ASSERT_EQ(r.defaults.size(), 2u);
  EXPECT_EQ(r.defaults[1].member, 1);
  EXPECT_EQ(r.defaults[1].day, 2.0);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9 * std::max(1.0, r.closeout_loss));
}

TEST(TimeSteps, OneStepOfTheMporIsTheOnePeriodEngine) {
  // horizon_days equal to the MPOR in one step is the one-period engine,
  // scenario by scenario (the same numbers from the two code paths).
  const std::string file = std::string(CCPNET_SOURCE_DIR) + "/scenarios/reference_network.yaml";
  const std::vector<config::Override> stressed = {{"market.shocks.volatility_multiplier", "3"},
                                                  {"defaults.latent.pd", "0.001"}};
  auto with_steps = stressed;
  with_steps.push_back({"simulation.horizon_days", "2"});
  const Model one = build_model(config::load_scenario_file(file, stressed));
  const Model steps = build_model(config::load_scenario_file(file, with_steps));
  ASSERT_EQ(one.steps.count, 0);
  ASSERT_EQ(steps.steps.count, 1);
  int eventful = 0;
  for (std::int64_t i = 0; i < 120; ++i) {
    const ScenarioResult a = run_scenario(one, i), b = run_scenario(steps, i);
    eventful += !a.defaults.empty();
    ASSERT_EQ(a.defaults.size(), b.defaults.size()) << "scenario " << i;
    EXPECT_EQ(a.closeout_loss, b.closeout_loss) << "scenario " << i;
    EXPECT_EQ(a.total_loss, b.total_loss) << "scenario " << i;
    EXPECT_EQ(a.ccp_layers, b.ccp_layers) << "scenario " << i;
    EXPECT_EQ(a.ccp_fail_round, b.ccp_fail_round) << "scenario " << i;
    EXPECT_EQ(a.market_factor, b.market_factor) << "scenario " << i;
  }
  EXPECT_GT(eventful, 30);  // the comparison covers cascades, not only calm scenarios
}

TEST(TimeSteps, TheLedgerConservesInEveryScenarioOfADailyRun) {
  const std::string file = std::string(CCPNET_SOURCE_DIR) + "/scenarios/reference_network.yaml";
  const Model model = build_model(config::load_scenario_file(file, {{"market.shocks.volatility_multiplier", "3"},
                                                                    {"simulation.horizon_days", "10"},
                                                                    {"simulation.step_days", "1"}}));
  ASSERT_EQ(model.steps.count, 10);
  int late = 0;
  for (std::int64_t i = 0; i < 60; ++i) {
    const ScenarioResult r = run_scenario(model, i);
    ASSERT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9 * std::max(1.0, r.closeout_loss)) << "scenario " << i;
    for (const MemberDefault& d : r.defaults) {
      late += d.day > 1.0;
      EXPECT_GE(d.day, 0.0);
      EXPECT_LE(d.day, 10.0);
    }
  }
  EXPECT_GT(late, 0);  // defaults happen on later days, not only the first
}

TEST(TimeSteps, TheHorizonMustBeAWholeNumberOfSteps) {
  try {
    (void)model_of(kTwoDays, {{"simulation.step_days", "1.5"}});
    FAIL() << "expected an error";
  } catch (const config::ScenarioError& e) {
    EXPECT_NE(std::string(e.what()).find("simulation.step_days"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("whole steps"), std::string::npos) << e.what();
  }
  try {
    (void)model_of(kTwoDays, {{"simulation.step_days", "8"}});
    FAIL() << "expected an error";
  } catch (const config::ScenarioError& e) {
    EXPECT_NE(std::string(e.what()).find("at most the horizon"), std::string::npos) << e.what();
  }
}

TEST(TimeSteps, EveryLibraryMechanismRunsInSteps) {
  // The settlement layer with its bridges and collateral assets
  // (test_settlement_steps, test_settlement_bridges), lending protocols and
  // venues' liquidation engines (test_lending, test_venue_liquidation) run in
  // steps: their files load in daily steps.
  for (const char* name :
       {"lending_oracle_delay.yaml", "settlement_squeeze.yaml", "bridge_exploit.yaml", "l2_margin_spiral.yaml"})
    EXPECT_GT(build_model(config::load_scenario_file(std::string(CCPNET_SOURCE_DIR) + "/scenarios/" + name,
                                                     {{"simulation.step_days", "1"}}))
                  .steps.count,
              0)
        << name;
}

}  // namespace test_time_steps
}  // namespace ccpnet

namespace ccpnet {
namespace test_time_steps {

// Wrong-way risk in time steps. A latent default is drawn at the start and
// closed out over its CCP's MPOR from today, so the factor it loads on is the
// move over that window: wrong-way risk is exposure that rises as the
// participant's credit worsens, which CCPs must identify and manage (CPMI-IOSCO
// PFMI, 2012, Principles 4 and 6), and the later days of the path, which a
// default at the start cannot foresee, must neither inform it nor dilute it.
// One asset X, daily sd s = 0.5 / sqrt(365), an MPOR of 2 days, ten daily
// steps. With one asset the market factor is the log-move of days 0 to 2 over
// its sd: F = (z_0 + z_1) / sqrt(2) = c_2 / (s sqrt(2)), c_2 the cumulative
// log-return at day 2 (the one-period factor of the same scenario, whose path
// starts with the same draws). D is long 10 X at 100 (1,000 USD); on its own
// book F_D = 1,000 (e^c_2 - 1) / (1,000 s sqrt(2)), and with beta 1 it defaults
// exactly when F_D < Phi^-1(PD) (PD 5%: -1.645). Over day 1 alone (c_1 over
// s), or over the whole path, the factor would be another number, and the
// defaults other scenarios.
constexpr std::string_view kWrongWay = R"(name: wrong-way risk over the first close-out
market:
  assets: [{id: X, price: 100, volatility: 0.5}]
ccps:
  - {id: A, capital: 1.0e9, margin: {model: parametric, mpor_days: 2}, default_fund: {sizing: fixed, amount: 1000}}
members:
  - {id: D, capital: 1.0e9, liquidity: 1.0e9, positions: {A: {X: 10}}, default_fund: {A: 20}}
  - {id: N, capital: 1.0e9, liquidity: 1.0e9, positions: {A: {X: -10}}, default_fund: {A: 50}}
defaults: {latent: {pd: 0.0, member_pd: {D: 0.05}, beta: 1.0, factor: own_book}}
)";

const std::vector<config::Override> kTenDays = {{"simulation.horizon_days", "10"}, {"simulation.step_days", "1"}};

// The index of the point `day` of a time-step model.
Eigen::Index point_of(const Model& model, double day) {
  const auto& points = model.steps.points;
  return static_cast<Eigen::Index>(std::find(points.begin(), points.end(), day) - points.begin());
}

TEST(WrongWayRisk, TheMarketFactorIsTheMoveOverTheFirstCloseOut) {
  auto market = kTenDays;
  market.push_back({"defaults.latent.factor", "market"});
  const Model steps = model_of(kWrongWay, market), one = model_of(kWrongWay, {{"defaults.latent.factor", "market"}});
  ASSERT_EQ(steps.steps.count, 10);
  ASSERT_EQ(one.steps.count, 0);
  const Eigen::Index day2 = point_of(steps, 2.0);
  ASSERT_LT(day2, static_cast<Eigen::Index>(steps.steps.points.size()));
  const double s = 0.5 / std::sqrt(365.0);
  const ShockGenerator by_day(steps), by_period(one);
  Eigen::MatrixXd path(1, static_cast<Eigen::Index>(move_points(steps).size()));
  Eigen::MatrixXd period(1, static_cast<Eigen::Index>(move_points(one).size()));
  for (std::uint64_t i = 0; i < 200; ++i) {
    double f = 0.0, f_one = 0.0;
    by_day.generate(i, path, f);
    by_period.generate(i, period, f_one);
    EXPECT_NEAR(f, path(0, day2) / (s * std::sqrt(2.0)), 1e-12) << "scenario " << i;
    EXPECT_EQ(f, f_one) << "scenario " << i;
  }
}

TEST(WrongWayRisk, AnOwnBookDefaultAtTheStartLoadsOnTheLossOverItsCloseOut) {
  const Model model = model_of(kWrongWay, kTenDays);
  const Eigen::Index day2 = point_of(model, 2.0);
  const double s = 0.5 / std::sqrt(365.0), threshold = models::normal_quantile(0.05);
  const ShockGenerator shocks(model);
  Eigen::MatrixXd path(1, static_cast<Eigen::Index>(move_points(model).size()));
  int defaults = 0, checked = 0;
  for (std::int64_t i = 0; i < 400; ++i) {
    double f = 0.0;
    shocks.generate(static_cast<std::uint64_t>(i), path, f);
    const double own = 1000.0 * std::expm1(path(0, day2)) / (1000.0 * s * std::sqrt(2.0));
    if (std::abs(own - threshold) < 1e-9) continue;  // on the threshold: rounding decides
    const ScenarioResult r = run_scenario(model, i);
    const bool latent = std::any_of(r.defaults.begin(), r.defaults.end(), [](const MemberDefault& d) {
      return d.member == 0 && d.cause == DefaultCause::kLatent && d.day == 0.0;
    });
    EXPECT_EQ(latent, own < threshold) << "scenario " << i << ": F_D " << own;
    defaults += latent;
    ++checked;
  }
  EXPECT_GT(defaults, 8);  // about 5% of 400
  EXPECT_GT(checked, 390);
}

// Fire sales (market.fire_sales; models/market/fire_sale.hpp, square-root
// impact law). X: price 100, ADV 1e6 USD, impact coefficient k = 0.5, no
// market move (the close-outs cost only their liquidation). D1 at A and D2 at
// B are long 400 X each (40,000 USD), both default at the start.
// Alone, each close-out costs k |x| sqrt(|x| / ADV) = 0.5 x 40,000 x 0.2 =
// 4,000. Sold the same day, the flow is -80,000: the price falls by
// s = 0.5 sqrt(0.08) = 14.142%, and each pays 40,000 x 0.141421 = 5,656.85:
// sqrt(2) times its cost alone, 11,313.71 together.
constexpr std::string_view kFireSale = R"(name: two defaulters selling one asset at two CCPs
market:
  assets: [{id: X, price: 100, volatility: 0.5, adv: 1.0e6, liquidation_cost: 0.5}]
ccps:
  - {id: A, capital: 1e6, sitg: 10, margin: {model: parametric, mpor_days: 1}, default_fund: {sizing: fixed, amount: 1000}}
  - {id: B, capital: 1e6, sitg: 10, margin: {model: parametric, mpor_days: 1}, default_fund: {sizing: fixed, amount: 1000}}
members:
  - {id: D1, capital: 1e6, liquidity: 1e6, positions: {A: {X: 400}}, initial_margin: {A: 10000}, default_fund: {A: 100}}
  - {id: D2, capital: 1e6, liquidity: 1e6, positions: {B: {X: 400}}, initial_margin: {B: 10000}, default_fund: {B: 100}}
  - {id: N1, capital: 1e6, liquidity: 1e6, positions: {A: {X: -400}}, initial_margin: {A: 10000}, default_fund: {A: 900}}
  - {id: N2, capital: 1e6, liquidity: 1e6, positions: {B: {X: -400}}, initial_margin: {B: 10000}, default_fund: {B: 900}}
defaults: {exogenous: [D1, D2]}
)";

ScenarioResult flat(const Model& model) {
  return run_move(model, Eigen::MatrixXd::Zero(1, static_cast<Eigen::Index>(move_points(model).size())));
}

TEST(FireSales, TwoDefaultersAtTwoCcpsPayTheCostOfTheirJointFlow) {
  const ScenarioResult off = flat(model_of(kFireSale));
  EXPECT_NEAR(off.closeout_loss, 2 * 4'000.0, 1e-6);  // each its own square-root cost
  const Model on_model = model_of(kFireSale, {{"market.fire_sales", "true"}});
  ASSERT_EQ(on_model.steps.count, 1);  // one step of the MPOR
  const ScenarioResult on = flat(on_model);
  EXPECT_NEAR(on.ccp_closeout[0], 5'656.854249492381, 1e-6);
  EXPECT_NEAR(on.ccp_closeout[1], 5'656.854249492381, 1e-6);
  EXPECT_NEAR(on.closeout_loss, 0.5 * 80'000.0 * std::sqrt(0.08), 1e-6);
  ASSERT_EQ(on.price_impact.size(), 1u);
  EXPECT_NEAR(on.price_impact[0], std::log1p(-0.5 * std::sqrt(0.08)), 1e-12);
  // One defaulter alone pays what it pays without the channel.
  const ScenarioResult one = flat(model_of(kFireSale, {{"market.fire_sales", "true"}, {"defaults.exogenous", "[D1]"}}));
  EXPECT_NEAR(one.closeout_loss, 4'000.0, 1e-6);
}

// Two daily steps, MPOR 1. D (long 400 X, exogenous) is sold in step 1: the
// price falls 10% (s = 0.5 sqrt(40,000 / 1e6)) from the end of day 1 on.
// M (long 100 X, capital 500) pays no variation margin on day 1 and 1,000 on
// day 2 (100 x 100 x 10%): it defaults at the end of day 2 on the fire sale
// alone, closed out over day 1 to 2 at a loss of 1,000 plus its own sale in
// step 2 (flow -10,000: s = 0.5 x 0.1 = 5%, cost 10,000 x 5% = 500). Without
// the channel no price moves and M stands.
constexpr std::string_view kSpiral = R"(name: a fire sale that defaults a member the next day
simulation: {horizon_days: 2, step_days: 1}
market:
  assets: [{id: X, price: 100, volatility: 0.5, adv: 1.0e6, liquidation_cost: 0.5}]
  fire_sales: true
ccps:
  - {id: A, capital: 1e6, sitg: 10, margin: {model: parametric, mpor_days: 1}, default_fund: {sizing: fixed, amount: 1000}}
members:
  - {id: D, capital: 1e6, liquidity: 1e6, positions: {A: {X: 400}}, initial_margin: {A: 10000}, default_fund: {A: 100}}
  - {id: M, capital: 500, liquidity: 1e6, positions: {A: {X: 100}}, initial_margin: {A: 2000}, default_fund: {A: 100}}
  - {id: N, capital: 1e6, liquidity: 1e6, positions: {A: {X: -500}}, initial_margin: {A: 10000}, default_fund: {A: 800}}
defaults: {exogenous: [D]}
)";

TEST(FireSales, TheMoveStaysInThePriceForTheNextStep) {
  const ScenarioResult r = flat(model_of(kSpiral));
  ASSERT_EQ(r.defaults.size(), 2u);
  EXPECT_EQ(r.defaults[1].member, 1);
  EXPECT_EQ(r.defaults[1].day, 2.0);
  EXPECT_EQ(r.defaults[1].cause, DefaultCause::kSolvency);
  EXPECT_NEAR(r.closeout_loss, 4'000.0 + 1'000.0 + 500.0, 1e-6);
  EXPECT_NEAR(r.total_loss, 0.0, 1e-9);  // IM covers both
  EXPECT_NEAR(r.price_impact[0], std::log(0.9) + std::log(0.95), 1e-12);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9 * r.closeout_loss);
  const ScenarioResult off = flat(model_of(kSpiral, {{"market.fire_sales", "false"}}));
  ASSERT_EQ(off.defaults.size(), 1u);
  EXPECT_TRUE(off.price_impact.empty());
}

TEST(FireSales, MonteCarloPathsConserveAndCostMoreThanWithoutTheChannel) {
  const std::string file = std::string(CCPNET_SOURCE_DIR) + "/scenarios/reference_network.yaml";
  const std::vector<config::Override> base = {
      {"market.shocks.volatility_multiplier", "3"}, {"simulation.horizon_days", "4"}, {"simulation.step_days", "1"}};
  auto with = base;
  with.push_back({"market.fire_sales", "true"});
  const Model off = build_model(config::load_scenario_file(file, base));
  const Model on = build_model(config::load_scenario_file(file, with));
  double cost_off = 0.0, cost_on = 0.0;
  for (std::int64_t i = 0; i < 40; ++i) {
    const ScenarioResult a = run_scenario(off, i), b = run_scenario(on, i);
    ASSERT_NEAR(b.ledger_total(), b.closeout_loss, 1e-9 * std::max(1.0, b.closeout_loss)) << "scenario " << i;
    cost_off += a.closeout_loss;
    cost_on += b.closeout_loss;
  }
  EXPECT_GT(cost_on, cost_off);
}

}  // namespace test_time_steps
}  // namespace ccpnet

namespace ccpnet {
namespace test_time_steps {

// VMGH over several days with a per-day and a total cap (ccps[].vmgh.per_step
// and total; a rulebook's recovery tool, e.g. LCH's and ICE Clear Europe's
// VMGH caps, and the CPMI-IOSCO 2017 recovery guidance, 4.2.24: loss
// allocation tools should be bounded and predictable). Waterfall: the
// defaulter's IM, VMGH, the CCP's equity. X: 100, 70 on day 1, 40 on day 2.
// D1 (long 10, capital 100, no IM) misses the call of day 1: loss 300 over
// day 0 to 1. D2 (long 10, capital 400) pays day 1 (300) and misses day 2:
// loss 300 over day 1 to 2. N (short 20) gains 600 on each day.
// per_step 200: each day VMGH takes 200 of N's gain and equity the other 100.
// With a total cap of 300 as well: day 2's VMGH takes only the 100 left, and
// equity 200.
constexpr std::string_view kVmghDays = R"(name: VMGH capped per day and in total
simulation: {horizon_days: 2, step_days: 1}
market:
  assets: [{id: X, price: 100, volatility: 0.5}]
ccps:
  - id: A
    capital: 1000
    sitg: 0
    margin: {model: parametric, mpor_days: 1}
    waterfall: [defaulter_im, vmgh, ccp_equity]
    vmgh: {per_step: 200}
members:
  - {id: D1, capital: 100, liquidity: 1e6, positions: {A: {X: 10}}, initial_margin: {A: 0}}
  - {id: D2, capital: 400, liquidity: 1e6, positions: {A: {X: 10}}, initial_margin: {A: 0}}
  - {id: N, capital: 1e6, liquidity: 1e6, positions: {A: {X: -20}}, initial_margin: {A: 1000}}
)";

TEST(RecoveryTools, VmghIsCappedPerDayAndInTotal) {
  using L = models::Layer;
  const Model model = model_of(kVmghDays);
  const auto path = [&](const Model& m) { return path_of(m, {100, 70, 40, 40}); };
  const ScenarioResult r = run_move(model, path(model));
  ASSERT_EQ(r.defaults.size(), 2u);
  EXPECT_EQ(r.defaults[0].day, 1.0);
  EXPECT_EQ(r.defaults[1].day, 2.0);
  EXPECT_NEAR(layer(r, 0, L::kVmgh), 400.0, 1e-9);
  EXPECT_NEAR(layer(r, 0, L::kCcpEquity), 200.0, 1e-9);
  const Model capped = model_of(kVmghDays, {{"ccps.A.vmgh.total", "300"}});
  const ScenarioResult t = run_move(capped, path(capped));
  EXPECT_NEAR(layer(t, 0, L::kVmgh), 300.0, 1e-9);
  EXPECT_NEAR(layer(t, 0, L::kCcpEquity), 300.0, 1e-9);
  EXPECT_NEAR(t.ledger_total(), t.closeout_loss, 1e-9);
  // Without the per-day cap the layer takes the whole 300 each day.
  const Model uncapped = model_of(kVmghDays, {{"ccps.A.vmgh", "{}"}});
  const ScenarioResult u = run_move(uncapped, path(uncapped));
  EXPECT_NEAR(layer(u, 0, L::kVmgh), 600.0, 1e-9);
  EXPECT_NEAR(layer(u, 0, L::kCcpEquity), 0.0, 1e-9);
}

// VMGH haircuts the gains of each step's close-out window (a day's variation
// margin), not what an earlier day's haircut left of another day's. The
// model above without caps, and a close-out cost k |x| sqrt(|x| / adv) on
// D1's and D2's 10 X at the prices their close-outs start from: D1's from
// today (1,000: 0.3 x 1,000 x sqrt(1) = 300), D2's from day 1 (700:
// 0.3 x 700 x sqrt(0.7) = 175.70). D1's loss on day 1 is 300 + 300 = 600, all
// of N's gain over day 0 to 1 (20 x 30); D2's on day 2 is 300 + 175.70,
// within N's gain over day 1 to 2 (600). VMGH 1,075.70, equity 0 (were day 2
// to see what day 1 left of N's gain, 0, equity would pay 475.70).
TEST(RecoveryTools, EachDaysVmghActsOnThatDaysGains) {
  using L = models::Layer;
  std::string yaml(kVmghDays);
  const std::string from = "volatility: 0.5}";
  yaml.replace(yaml.find(from), from.size(), "volatility: 0.5, adv: 1000, liquidation_cost: 0.3}");
  const Model model = model_of(yaml, {{"ccps.A.vmgh", "{}"}});
  const ScenarioResult r = run_move(model, path_of(model, {100, 70, 40, 40}));
  ASSERT_EQ(r.defaults.size(), 2u);
  EXPECT_EQ(r.defaults[1].day, 2.0);
  EXPECT_NEAR(layer(r, 0, L::kVmgh), 600.0 + 300.0 + 0.3 * 700.0 * std::sqrt(0.7), 1e-9);
  EXPECT_NEAR(layer(r, 0, L::kCcpEquity), 0.0, 1e-9);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
}

// VMGH haircuts the variation margin the CCP owes in the step. The tool
// cancels or reduces the VM payments a CCP would otherwise make to members
// with gains (CPMI-IOSCO, Recovery of financial market infrastructures, 2014,
// revised 2017, section 4.2: variation margin gains haircutting), and a day's
// payment is that day's gain. With a 2-day MPOR and daily steps a step's
// close-out window runs a day past the step's end; that day's gain is owed,
// and may be haircut, in the next step, not in this one as well.
// The model above with an MPOR of 2 days over three days, without caps.
// X: 100, 90 on day 1, 60 on day 2, then 60. Waterfall: the defaulter's IM
// (none), VMGH, the CCP's equity (1,000). D1 (long 10, capital 50) misses day 1's
// call (-100): closed out over days 0 to 2, 10 x 40 = 400. D2 (long 10,
// capital 350) pays day 1 (-100) and misses day 2 (-300): closed out over
// days 1 to 3, 10 x 30 = 300. N (short 20) is owed 200 for day 1, 600 for day 2.
// Day 1: VMGH takes N's 200, equity the other 200. Day 2: VMGH takes 300 of
// N's 600. VMGH 500 of the 800 N was owed, equity 200. (On the windows' gains,
// 800 over days 0 to 2 and 600 over days 1 to 3, VMGH would take 700 and
// equity nothing: day 2's gain haircut on both days.)

TEST(RecoveryTools, VmghTakesTheVariationMarginOwedForTheDayNotTheNextDays) {
  using L = models::Layer;
  const Model model = model_of(kVmghDays, {{"simulation.horizon_days", "3"},
                                           {"ccps.A.margin.mpor_days", "2"},
                                           {"ccps.A.vmgh", "{}"},
                                           {"members.D1.capital", "50"},
                                           {"members.D2.capital", "350"}});
  const ScenarioResult r = run_move(model, path_of(model, {100, 90, 60, 60, 60, 60}));
  ASSERT_EQ(r.defaults.size(), 2u);
  EXPECT_EQ(r.defaults[0].day, 1.0);
  EXPECT_EQ(r.defaults[1].day, 2.0);
  EXPECT_NEAR(r.closeout_loss, 700.0, 1e-9);
  EXPECT_NEAR(layer(r, 0, L::kVmgh), 500.0, 1e-9);
  EXPECT_NEAR(layer(r, 0, L::kCcpEquity), 200.0, 1e-9);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
}

}  // namespace test_time_steps
}  // namespace ccpnet

namespace ccpnet {
namespace test_time_steps {

// A stress scenario given day by day (market.stress_scenarios[].path) replays
// the hand case above: X 100, 100, 95, 80, 70, 70 is the path of daily moves
// 0, -5%, 80/95 - 1, -12.5%, 0; D misses the call of day 3 and is closed out
// over days 2 to 4 at a loss of 250.
TEST(StressPaths, APathOfDailyMovesReplaysDayByDay) {
  std::string yaml(kTwoDays);
  const std::string at = "  assets: [{id: X, price: 100, volatility: 0.5}]\n";
  yaml.replace(yaml.find(at), at.size(),
               at + "  stress_scenarios: [{name: replay, path: [{X: 0}, {X: -0.05}, {X: -0.15789473684210525}, "
                    "{X: -0.125}, {X: 0}]}]\n");
  const Model model = model_of(yaml);
  ASSERT_EQ(model.stress_scenarios.size(), 1u);
  const auto& st = model.stress_scenarios[0];
  EXPECT_EQ(st.length_days(), 5.0);
  EXPECT_NEAR(std::expm1(st.log_move("X", 5.0)), -0.30, 1e-9);  // 70 / 100 - 1
  EXPECT_NEAR(std::expm1(st.log_move("X", 2.5)), 0.95 * std::sqrt(80.0 / 95.0) - 1.0,
              1e-9);  // day 2 whole, half of day 3
  CascadeTrace trace;
  const ScenarioResult r = run_move(model, stress_move(model, st), &trace);
  ASSERT_EQ(r.defaults.size(), 1u);
  EXPECT_EQ(r.defaults[0].day, 3.0);
  EXPECT_NEAR(r.closeout_loss, 250.0, 1e-6);
}

TEST(StressPaths, MovesOrAPathNotBoth) {
  std::string yaml(kTwoDays);
  const std::string at = "  assets: [{id: X, price: 100, volatility: 0.5}]\n";
  yaml.replace(yaml.find(at), at.size(),
               at + "  stress_scenarios: [{name: both, moves: {X: -0.1}, path: [{X: -0.1}]}]\n");
  try {
    (void)model_of(yaml);
    FAIL() << "expected an error";
  } catch (const config::ScenarioError& e) {
    EXPECT_NE(std::string(e.what()).find("found both"), std::string::npos) << e.what();
  }
}

}  // namespace test_time_steps
}  // namespace ccpnet

namespace ccpnet {
namespace test_time_steps {

// Initial margin recomputed at every step (ccps[].margin.spiral in time
// steps; sim/margin_path.hpp). A CCP runs its margin model daily on current
// positions and prices (Commission Delegated Regulation (EU) No 153/2013,
// art. 24-28); with an EWMA volatility (RiskMetrics Technical Document, J.P.
// Morgan 1996, section 5.2: sigma_t^2 = lambda sigma_{t-1}^2 + (1 - lambda)
// r_t^2, lambda = 0.94 for daily data) the IM of a parametric model,
// q sigma sqrt(h) |v|, moves with the price and the volatility. Members post
// the increase in cash with the day's variation margin (CPMI-IOSCO PFMI,
// Principle 6, key consideration 4: margin called and collected daily).
//
// X: volatility 0.2 over 100 trading days, a daily sigma of 0.02. Day 1 and
// day 2 each move X by a log-return of -0.1; day 3 by -0.2 (prices 100,
// 90.4837, 81.8731, 67.0320). EWMA multipliers:
//   day 1: sqrt(0.94 + 0.06 x 0.1^2 / 0.02^2) = sqrt(2.44) = 1.562050
//   day 2: sqrt(0.94 x 2.44 + 0.06 x 25) = sqrt(3.7936) = 1.947717
// M is long 10 X with IM 100 today: IM after day 1 = 100 x 0.904837 x
// 1.562050 = 141.3401 (a call of 41.3401), after day 2 = 100 x 0.818731 x
// 1.947717 = 159.4655 (a call of 18.1254).
// Variation margin: day 1 -95.1626, day 2 -86.1067. With liquidity 200, M
// pays day 1 (95.1626 + 41.3401 = 136.5027) and cannot pay day 2 (cumulative
// 181.2692 + 59.4655 = 240.7348 > 200): a liquidity default at the end of
// day 2, for the IM call; with day-0 IM it would need 181.2692 and stand.
// Closed out over its MPOR of 2 days from day 1: 10 x (90.4837 - 67.0320) =
// 234.5174 against the IM it posted up to day 1, 141.3401; SITG takes the
// other 93.1772.
constexpr std::string_view kImCalls = R"(name: an IM call on day 2 that a member cannot pay
simulation: {horizon_days: 2, step_days: 1}
outputs: {liquidity_needs: true}
market:
  assets: [{id: X, price: 100, volatility: 0.2, trading_days: 100}]
ccps:
  - id: A
    capital: 1e6
    sitg: 1000
    margin: {model: parametric, mpor_days: 2, spiral: {lambda: 0.94}}
    default_fund: {sizing: fixed, amount: 1000}
members:
  - {id: M, capital: 1e6, liquidity: 200, positions: {A: {X: 10}}, initial_margin: {A: 100}, default_fund: {A: 0}}
  - {id: N, capital: 1e6, liquidity: 1e6, positions: {A: {X: -10}}, initial_margin: {A: 100}, default_fund: {A: 1000}}
)";

// The same file with today's IM throughout (no spiral).
Model without_spiral() {
  std::string yaml(kImCalls);
  const std::string spiral = ", spiral: {lambda: 0.94}";
  yaml.erase(yaml.find(spiral), spiral.size());
  return model_of(yaml);
}

std::vector<double> im_call_prices() {
  return {100.0, 100.0 * std::exp(-0.1), 100.0 * std::exp(-0.2), 100.0 * std::exp(-0.4)};
}

TEST(MarginThroughTime, TheEwmaIncreaseIsCalledAndAMemberThatCannotPayItDefaults) {
  const Model model = model_of(kImCalls);
  ASSERT_FALSE(model.settlement_active);  // in time steps the spiral is the IM recomputed per step
  ASSERT_EQ(model.steps.points, (std::vector<double>{1, 2, 3}));
  const ScenarioResult r = run_move(model, path_of(model, im_call_prices()));
  ASSERT_EQ(r.defaults.size(), 1u);
  EXPECT_EQ(r.defaults[0].member, 0);
  EXPECT_EQ(r.defaults[0].cause, DefaultCause::kLiquidity);
  EXPECT_EQ(r.defaults[0].day, 2.0);
  EXPECT_NEAR(r.liquidity_shortfall, 240.7347957606561 - 200.0, 1e-9);
  EXPECT_NEAR(r.closeout_loss, 234.5173720003201, 1e-9);
  using L = models::Layer;
  EXPECT_NEAR(layer(r, 0, L::kDefaulterIm), 141.3401230192714, 1e-9);
  EXPECT_NEAR(layer(r, 0, L::kSitg), 93.17724898104876, 1e-9);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
  // Without the spiral the IM stays at 100: M pays 181.27 of 200 and stands.
  const Model flat_im = without_spiral();
  EXPECT_TRUE(run_move(flat_im, path_of(flat_im, im_call_prices())).defaults.empty());
}

TEST(MarginThroughTime, ThePeakLiquidityNeedIsTheLargestStepOfCalls) {
  // Calls of the hand case above, gross of gains: day 1, M's variation margin
  // 95.1626 and IM 41.3401, N's IM 41.3401 (its variation margin is a gain):
  // 177.8428; day 2 (M stands at its start), 86.1067 + 18.1254 + 18.1254 =
  // 122.3575. The peak at A and over the system is day 1's; M's 136.5027,
  // N's 41.3401.
  const Model model = model_of(kImCalls);
  const ScenarioResult r = run_move(model, path_of(model, im_call_prices()));
  const double m1 = 95.16258196404053 + 41.34012301927137;
  ASSERT_EQ(r.ccp_peak_liquidity_need.size(), 1u);
  EXPECT_NEAR(r.ccp_peak_liquidity_need[0], m1 + 41.34012301927137, 1e-9);
  EXPECT_NEAR(r.peak_liquidity_need, m1 + 41.34012301927137, 1e-9);
  ASSERT_EQ(r.member_peak_liquidity_need.size(), 2u);
  EXPECT_NEAR(r.member_peak_liquidity_need[0], m1, 1e-9);
  EXPECT_NEAR(r.member_peak_liquidity_need[1], 41.34012301927137, 1e-9);
  // With today's IM only the variation margin is called: M's day 1, 95.1626.
  const Model flat_im = without_spiral();
  const ScenarioResult f = run_move(flat_im, path_of(flat_im, im_call_prices()));
  EXPECT_NEAR(f.peak_liquidity_need, 95.16258196404053, 1e-9);
  EXPECT_NEAR(f.member_peak_liquidity_need[1], 0.0, 1e-12);
}

TEST(MarginThroughTime, ThePeakLiquidityNeedIsAnOutputOfTimeStepsOnly) {
  // The same file in one period: outputs.liquidity_needs asks for nothing
  // (no step to take a peak over): no metric values, no columns.
  std::string yaml(kImCalls);
  const std::string simulation = "simulation: {horizon_days: 2, step_days: 1}\n";
  yaml.erase(yaml.find(simulation), simulation.size());
  const Model one_period = model_of(yaml);
  EXPECT_EQ(one_period.steps.count, 0);
  EXPECT_FALSE(one_period.liquidity_needs);
  EXPECT_EQ(level_size(one_period, MetricLevel::kCcpSteps), 0u);
  EXPECT_TRUE(model_of(kImCalls).liquidity_needs);
}

TEST(MarginThroughTime, AnApcBufferAbsorbsTheRiseFirst) {
  // A 25% buffer (RTS 153/2013 art. 28(1)(a)): today's IM of 100 is a model
  // margin of 80 plus the buffer. After day 1 the model margin is
  // 80 x 1.413401 = 113.0721 (apc_buffer_margin: max(113.07, 1.25 x 80)): a
  // call of 13.0721 instead of 41.3401; after day 2, 80 x 1.594656 =
  // 127.5724. M's cumulative need on day 2 is 181.2692 + 27.5724 = 208.8417:
  // it still defaults, 8.8417 short.
  const Model model = model_of(kImCalls, {{"ccps.A.margin.apc", "{mode: buffer, buffer: 0.25}"}});
  const ScenarioResult r = run_move(model, path_of(model, im_call_prices()));
  ASSERT_EQ(r.defaults.size(), 1u);
  EXPECT_EQ(r.defaults[0].day, 2.0);
  EXPECT_NEAR(r.liquidity_shortfall, 181.2692469220181 + 80.0 * 0.8187307530779819 * 1.947716611830377 - 100.0 - 200.0,
              1e-9);
  EXPECT_NEAR(layer(r, 0, models::Layer::kDefaulterIm), 80.0 * 0.9048374180359595 * 1.5620499351813313, 1e-9);
}

TEST(MarginThroughTime, OneDailyStepRecomputesTheOnePeriodSpiral) {
  // l2_margin_spiral.yaml with both venues' spiral on, in a crash regime: its
  // one period (MPOR 1 day) and the same file in one daily step recompute IM
  // by the same function (SpiralMargin) on the same move, so they give the
  // same defaults, losses and margin calls, scenario by scenario.
  const std::string file = std::string(CCPNET_SOURCE_DIR) + "/scenarios/l2_margin_spiral.yaml";
  const std::vector<config::Override> stressed = {{"market.shocks.volatility_multiplier", "4"}};
  auto with_steps = stressed;
  with_steps.push_back({"simulation.horizon_days", "1"});
  const Model one = build_model(config::load_scenario_file(file, stressed));
  const Model steps = build_model(config::load_scenario_file(file, with_steps));
  ASSERT_EQ(one.steps.count, 0);
  ASSERT_EQ(steps.steps.count, 1);
  const auto defaults = [](const ScenarioResult& r) { return static_cast<int>(r.defaults.size()); };
  const int eventful = test_paths::expect_steps_equal_one_period(one, steps, 300, defaults);
  EXPECT_GT(eventful, 20);
  for (std::int64_t i = 0; i < 300; ++i) {
    const ScenarioResult a = run_scenario(one, i), b = run_scenario(steps, i);
    const double calls = a.settlement.total(CcpSettleMetric::kMarginCalls);
    EXPECT_NEAR(calls, b.settlement.total(CcpSettleMetric::kMarginCalls), 1e-9 * std::max(1.0, calls))
        << "scenario " << i;
    EXPECT_NEAR(a.liquidity_shortfall, b.liquidity_shortfall, 1e-9 * std::max(1.0, a.liquidity_shortfall))
        << "scenario " << i;
  }
}

TEST(MarginThroughTime, SpiralOnAModelThatKeepsTodaysImIsRefusedInTimeSteps) {
  try {
    (void)model_of(
        kImCalls, {{"ccps.A.margin", "{model: historical, lookback_days: 100, mpor_days: 2, spiral: {lambda: 0.94}}"}});
    FAIL() << "expected an error";
  } catch (const config::ScenarioError& e) {
    EXPECT_NE(std::string(e.what()).find("ccps[0].margin.spiral"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("historical model, which keeps today's IM"), std::string::npos) << e.what();
  }
}

}  // namespace test_time_steps
}  // namespace ccpnet

namespace ccpnet {
namespace test_time_steps {

// A close-out trades at the prices of its own days, not today's. The MPOR
// runs from the last variation margin the defaulter paid (RTS 153/2013,
// art. 26): a default in step 3 (days 2 to 3) is closed out over days 2 to 4,
// and what the CCP sells then is worth what the market pays on day 2.
// X: 100 today, 50 on days 1 and 2, 25 from day 3. D (long 10 X, capital 600)
// pays 500 on day 1, nothing on day 2, cannot pay 250 on day 3: it defaults
// in step 3 and its P&L over days 2 to 4 is 10 x (25 - 50) = -250.
// - Square-root cost (ADV 1e6, k 0.5): 0.5 x 500 x sqrt(500 / 1e6) = 5.5902
//   at day 2's value 500; today's value 1,000 would give 15.8114 (2^1.5 as much).
// - Hedge (1%) and auction (2% discount, no depth effect) of the gross value:
//   3% x 500 = 15, not 30.
// - Fire sale of the one defaulter: flow -500, price move
//   s = -0.5 sqrt(500 / 1e6), its cost 500 |s| = the square-root cost alone.
constexpr std::string_view kCrashThenDefault = R"(name: a default after a crash, closed out at the crash prices
simulation: {horizon_days: 4, step_days: 1}
market:
  assets: [{id: X, price: 100, volatility: 0.5, adv: 1.0e6, liquidation_cost: 0.5}]
ccps:
  - {id: A, capital: 1e6, sitg: 30, margin: {model: parametric, mpor_days: 2}, default_fund: {sizing: fixed, amount: 70}}
members:
  - {id: D, capital: 600, liquidity: 1e6, positions: {A: {X: 10}}, initial_margin: {A: 100}, default_fund: {A: 20}}
  - {id: N, capital: 1e6, liquidity: 1e6, positions: {A: {X: -10}}, initial_margin: {A: 100}, default_fund: {A: 50}}
)";

ScenarioResult crash_then_default(std::vector<config::Override> overrides = {}) {
  const Model model = model_of(kCrashThenDefault, std::move(overrides));
  const ScenarioResult r = run_move(model, path_of(model, {100, 50, 50, 25, 25, 25}));
  EXPECT_EQ(r.defaults.size(), 1u);
  EXPECT_TRUE(!r.defaults.empty() && r.defaults[0].day == 3.0);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9 * r.closeout_loss);
  return r;
}

TEST(CloseOutPrices, TheLiquidationCostIsAtThePricesOfTheCloseOutDays) {
  const double at_day_2 = 0.5 * 500.0 * std::sqrt(500.0 / 1e6);
  EXPECT_NEAR(crash_then_default().closeout_loss, 250.0 + at_day_2, 1e-9);
}

TEST(CloseOutPrices, TheHedgeAndAuctionAreOfTheBookAtThePricesOfTheCloseOutDays) {
  const ScenarioResult r = crash_then_default(
      {{"ccps[0].auction", "{hedge_cost: 0.01, base_discount: 0.02, slope: 0, depth: 1.0e6, reserve_discount: 0.5}"}});
  EXPECT_NEAR(r.ccp_auction_cost[0], 0.03 * 500.0, 1e-9);
  EXPECT_NEAR(r.closeout_loss, 250.0 + 15.0, 1e-9);
}

TEST(CloseOutPrices, TheFireSaleFlowIsAtThePricesOfTheCloseOutDays) {
  const ScenarioResult r = crash_then_default({{"market.fire_sales", "true"}});
  const double s = 0.5 * std::sqrt(500.0 / 1e6);
  ASSERT_EQ(r.price_impact.size(), 1u);
  EXPECT_NEAR(r.price_impact[0], std::log1p(-s), 1e-12);
  EXPECT_NEAR(r.closeout_loss, 250.0 + 500.0 * s, 1e-9);  // alone: its own square-root cost
}

}  // namespace test_time_steps
}  // namespace ccpnet

namespace ccpnet {
namespace test_time_steps {

// A failed peer's link positions replaced over the linked CCP's MPOR from the
// failure. Two CCPs with a 1-day MPOR, two daily steps, linked as peers
// (test_cascade.cpp's CcpFailureCrossesAPeerLink, in time steps). X: 100,
// 50 on day 1, 40 on day 2. D (long 10 X at A) defaults at the start: A's
// loss over day 0 to 1 is 500; IM 100, DF 20, SITG 10 and equity 90 leave 280:
// A fails at the end of day 1, owing B the VM of day 1 on the link. B is
// then left long 10 X (A's account at B, the other side of N's short) and
// closes it out over its MPOR from day 1: 10 x (40 - 50) = -100, which N
// gains on day 2 and nobody pays B. B's close-out amount against A is 280 +
// 100, A's shortfall with its link book replaced: B's line 380 against A's
// link margin, then SITG 20, N's DF 30, assessment 30 and VMGH. The system's
// close-out loss is the price loss on D's book to its close-out and on the
// link's to its replacement: 500 + 100, both A's (D's defaulter, and A the
// defaulter on its link book).
// With one step (horizon 1 day) the failure is at the horizon: only the day
// 0 to 1 (the claim), as in one period.
constexpr std::string_view kLinkFailureDays = R"(name: a peer link replaced after its CCP fails
simulation: {horizon_days: 2, step_days: 1}
market:
  assets: [{id: X, price: 100, volatility: 0.5}]
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
  - {id: N, capital: 1e6, liquidity: 1e6, positions: {B: {X: -10}}, initial_margin: {B: 100}, default_fund: {B: 30}}
links:
  - {between: [A, B], model: peer, segregated: true}
defaults: {exogenous: [D]}
)";

TEST(LinkReplacement, ALinkedCcpClosesOutAFailedPeersPositionsOverItsMporFromTheFailure) {
  using L = models::Layer;
  const Model model = model_of(kLinkFailureDays);
  const ScenarioResult r = run_move(model, path_of(model, {100, 50, 40}));
  EXPECT_NEAR(r.ccp_fail_day[0], 1.0, 1e-12);
  EXPECT_LT(r.ccp_fail_day[1], 0.0);
  EXPECT_NEAR(r.ccp_uncovered[0], 380.0, 1e-9);
  EXPECT_NEAR(r.ccp_resolution_links[0], 380.0, 1e-9);
  EXPECT_NEAR(r.ccp_link_in[1], 380.0, 1e-9);
  EXPECT_NEAR(r.ccp_closeout[0], 600.0, 1e-9);
  EXPECT_NEAR(r.ccp_closeout[1], 0.0, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kSitg) + layer(r, 1, L::kMutualizedDf) + layer(r, 1, L::kAssessments), 80.0, 1e-9);
  EXPECT_NEAR(r.closeout_loss, 600.0, 1e-9);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
  // With fire sales (ADV 1e6, k 0.5), B's sale of the 10 X from the failure
  // (500 USD at day 1's 50) joins D's (1,000 at today's 100, its close-out's
  // start) in the day's flow: -1,500, a move of -0.5 sqrt(1,500 / 1e6), where
  // D's sale alone would move it by -0.5 sqrt(1,000 / 1e6).
  const Model sales = model_of(
      kLinkFailureDays,
      {{"market.fire_sales", "true"}, {"market.assets.X.adv", "1e6"}, {"market.assets.X.liquidation_cost", "0.5"}});
  const ScenarioResult f = run_move(sales, path_of(sales, {100, 50, 40}));
  EXPECT_NEAR(f.ccp_fail_day[0], 1.0, 1e-12);
  ASSERT_EQ(f.price_impact.size(), 1u);
  EXPECT_NEAR(f.price_impact[0], std::log1p(-0.5 * std::sqrt(1500.0 / 1e6)), 1e-12);
  EXPECT_NEAR(f.ledger_total(), f.closeout_loss, 1e-9 * f.closeout_loss);
  // Failing at the horizon's only step: its claim alone, as one period.
  const Model one = model_of(kLinkFailureDays, {{"simulation.horizon_days", "1"}});
  const ScenarioResult s = run_move(one, path_of(one, {100, 50}));
  EXPECT_NEAR(s.ccp_uncovered[0], 280.0, 1e-9);
  EXPECT_NEAR(s.ccp_closeout[0], 500.0, 1e-9);
  EXPECT_NEAR(s.closeout_loss, 500.0, 1e-9);
}

// A replacement at a gain is owed to the failed CCP's estate (close-out
// netting): it reduces the linked CCP's claim and, beyond it, the shortfall
// the other creditors share. kLinkFailureDays with X back up on day 2:
//   X 100, 50, 60: B sells A's long 10 X at 60, a gain of 100. B's claim is
//   280 - 100: A's shortfall 180, B's line 180. Close-out loss 500 - 100.
//   X 100, 50, 90: a gain of 400, beyond the 280. A still failed at the end
//   of day 1 (its layers could not pay the day's VM), but its estate ends
//   with 120 over: nobody bears a loss past A's layers. Close-out loss
//   500 - 280 = 220, A's own resources (IM 100, DF 20, SITG 10, equity 90).
TEST(LinkReplacement, AReplacementGainIsOwedToTheFailedCcpsEstate) {
  const Model model = model_of(kLinkFailureDays);
  const ScenarioResult part = run_move(model, path_of(model, {100, 50, 60}));
  EXPECT_NEAR(part.ccp_fail_day[0], 1.0, 1e-12);
  EXPECT_NEAR(part.ccp_uncovered[0], 180.0, 1e-9);
  EXPECT_NEAR(part.ccp_link_in[1], 180.0, 1e-9);
  EXPECT_NEAR(part.closeout_loss, 400.0, 1e-9);
  EXPECT_NEAR(part.ledger_total(), part.closeout_loss, 1e-9);
  const ScenarioResult all = run_move(model, path_of(model, {100, 50, 90}));
  EXPECT_NEAR(all.ccp_fail_day[0], 1.0, 1e-12);
  EXPECT_NEAR(all.ccp_uncovered[0], 0.0, 1e-9);
  EXPECT_NEAR(all.ccp_resolution_links[0] + all.ccp_resolution_members[0] + all.ccp_unallocated[0], 0.0, 1e-9);
  EXPECT_NEAR(all.ccp_link_in[1], 0.0, 1e-9);
  EXPECT_NEAR(all.closeout_loss, 220.0, 1e-9);
  EXPECT_NEAR(all.ledger_total(), all.closeout_loss, 1e-9);
  EXPECT_NEAR(all.total_loss, 100.0, 1e-9);  // A's SITG and equity
}

}  // namespace test_time_steps
}  // namespace ccpnet

namespace ccpnet {
namespace test_time_steps {

// A member that pays a step's variation margin and defaults later that day
// on the step's charges is closed out from the step's end, the last margin
// it paid (RTS 153/2013 art. 26), not from the step's start: the VM it paid
// is not a loss of the CCP. One CCP, 1-day MPOR, daily steps. X: 100, 90 on
// day 1, 60 on day 2. D (long 10 X, exogenous) is closed out over day 0 to 1:
// 100 against IM 50 and DF 20; the 30 left is assessed on the survivors pro
// rata to their contributions, M 30 and N 50: M 11.25, N 18.75. M (long 1 X,
// capital 15) paid day 1's variation margin, 10, and cannot pay its 11.25:
// it defaults in round 2 of day 1 and is closed out over day 1 to 2,
// 1 x (60 - 90) = -30 (from day 0 it would be 10, the margin it paid).
// Close-out loss 100 + 30. With one step, the horizon's last, M's close-out
// runs from the step's start as in one period: 100 + 10.
constexpr std::string_view kLaterRound = R"(name: a later-round default closed out from the step's end
simulation: {horizon_days: 2, step_days: 1}
market:
  assets: [{id: X, price: 100, volatility: 0.5}]
ccps:
  - id: A
    capital: 1e6
    sitg: 0
    margin: {model: parametric, mpor_days: 1}
    default_fund: {sizing: fixed, amount: 100}
    waterfall: [defaulter_im, defaulter_df, assessments, ccp_equity]
members:
  - {id: D, capital: 1e6, liquidity: 1e6, positions: {A: {X: 10}}, initial_margin: {A: 50}, default_fund: {A: 20}}
  - {id: M, capital: 15, liquidity: 1e6, positions: {A: {X: 1}}, initial_margin: {A: 20}, default_fund: {A: 30}}
  - {id: N, capital: 1e6, liquidity: 1e6, positions: {A: {X: -11}}, initial_margin: {A: 1000}, default_fund: {A: 50}}
defaults: {exogenous: [D]}
)";

TEST(LaterRoundDefaults, AreClosedOutFromTheStepsEndTheLastMarginTheyPaid) {
  const Model model = model_of(kLaterRound);
  const ScenarioResult r = run_move(model, path_of(model, {100, 90, 60}));
  ASSERT_EQ(r.defaults.size(), 2u);
  EXPECT_EQ(r.defaults[1].member, 1);
  EXPECT_EQ(r.defaults[1].day, 1.0);
  EXPECT_GT(r.defaults[1].round, r.defaults[0].round);
  EXPECT_NEAR(layer(r, 0, models::Layer::kAssessments) + layer(r, 0, models::Layer::kCcpEquity), 30.0, 1e-9);
  EXPECT_NEAR(r.closeout_loss, 100.0 + 30.0, 1e-9);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
  // With a square-root cost (ADV 1e6, k 0.5) each trades at the prices its
  // close-out starts from: D's 10 X at 100, 0.5 x 1,000 x sqrt(1e-3) =
  // 15.811; M's 1 X at day 1's 90, 0.5 x 90 x sqrt(9e-5) = 0.42691 (not 0.5
  // at 100). D's residual 45.811 is assessed M 17.18, N 28.63: M defaults.
  const Model costly =
      model_of(kLaterRound, {{"market.assets.X.adv", "1e6"}, {"market.assets.X.liquidation_cost", "0.5"}});
  const ScenarioResult c = run_move(costly, path_of(costly, {100, 90, 60}));
  ASSERT_EQ(c.defaults.size(), 2u);
  EXPECT_NEAR(c.closeout_loss, 100.0 + 0.5 * 1000.0 * std::sqrt(1e-3) + 30.0 + 0.5 * 90.0 * std::sqrt(9e-5), 1e-9);
  EXPECT_NEAR(c.ledger_total(), c.closeout_loss, 1e-9);
  // With IM recomputed each day (margin.spiral, EWMA lambda 0.94: see
  // MarginThroughTime below) M paid day 1's IM call with its variation
  // margin: the CCP holds M's IM after day 1, 20 x 0.9 x sqrt(0.94 + 0.06
  // ln(0.9)^2 / (0.25 / 365)) = 24.892, against M's loss of 30 (then 5.108 of
  // its DF), not the 20 it held before the call. D defaulted at the start: its
  // IM is today's 50.
  const Model spiral = model_of(kLaterRound, {{"ccps.A.margin.spiral", "{lambda: 0.94}"}});
  const ScenarioResult m = run_move(spiral, path_of(spiral, {100, 90, 60}));
  ASSERT_EQ(m.defaults.size(), 2u);
  const double im = 20.0 * 0.9 * std::sqrt(0.94 + 0.06 * std::pow(std::log(0.9), 2) / (0.25 / 365.0));
  EXPECT_NEAR(im, 24.892, 1e-3);
  EXPECT_NEAR(layer(m, 0, models::Layer::kDefaulterIm), 50.0 + im, 1e-9);
  EXPECT_NEAR(layer(m, 0, models::Layer::kDefaulterDf), 20.0 + (30.0 - im), 1e-9);
  EXPECT_NEAR(m.closeout_loss, 130.0, 1e-9);
  const Model one = model_of(kLaterRound, {{"simulation.horizon_days", "1"}});
  const ScenarioResult s = run_move(one, path_of(one, {100, 90}));
  ASSERT_EQ(s.defaults.size(), 2u);
  EXPECT_NEAR(s.closeout_loss, 100.0 + 10.0, 1e-9);
}

}  // namespace test_time_steps
}  // namespace ccpnet

namespace ccpnet {
namespace test_time_steps {

// `yaml` with `overrides`, run on the path of X's prices by day.
ScenarioResult run_on(std::string_view yaml, std::vector<config::Override> overrides, const std::vector<double>& prices,
                      CascadeTrace* trace = nullptr) {
  const Model model = model_of(yaml, std::move(overrides));
  return run_move(model, path_of(model, prices), trace);
}

// kAuction (tests/sim/auction_case.hpp) over two daily steps, J's capital C.
std::vector<config::Override> tear_up_days(std::string_view capital) {
  return {{"simulation.horizon_days", "2"}, {"simulation.step_days", "1"}, {"members.J.capital", std::string(capital)}};
}

double channel_of(const ScenarioResult& r, int account, LossChannel channel) {
  double sum = 0.0;
  for (const AccountLoss& l : r.account_losses)
    if (l.account == account && l.channel == channel) sum += l.amount;
  return sum;
}

// Auto-deleveraging closes the contracts it takes: their holder is paid the
// bankruptcy price for them and holds them no more (BitMEX, "Auto-
// Deleveraging": the opposite positions are closed at the bankruptcy price of
// the liquidated one). From the next day it pays and earns no variation margin
// on them, and a close-out is of what it still holds.
// Venue V [defaulter_im, insurance_fund (0), adl], MPOR 1 day, two daily
// steps. X: 100, 70 on day 1, 120 on day 2.
//   Day 1: D (long 10, IM 100, capital 100) owes 300 and defaults; closed out
//   over day 0-1: 300, IM 100, 200 short. Bankruptcy price 100 - 100 / 10 =
//   90: each contract closed at 90 instead of the mark 70 costs the short 20.
//   N, short 20 and the only short, is deleveraged on 10: it loses 200 and
//   holds 10. N's capital: C + 600 (day 1) - 200 = C + 400.
//   Day 2: the book is L's long 10 against N's short 10. N owes 10 x 50 = 500
//   on what it holds: C - 100. It stands with C = 101 and defaults with C = 99
//   (were its 20 contracts still there, it would owe 1,000 and default with either).
//   N's default (C = 99): closed out over day 1-2 on its 10: 500, IM 100, 400
//   short. Its bankruptcy price: 100 + (300 settled on its 10 - 100) / -10 =
//   80; L's 10 are closed at 80 against the mark 120: L loses 400 of its 500.
constexpr std::string_view kAdlDays = R"(name: ADL takes the contracts it closes off the book
simulation: {horizon_days: 2, step_days: 1}
market:
  assets: [{id: X, price: 100, volatility: 0.5}]
ccps:
  - {id: V, kind: crypto_venue, capital: 1000, insurance_fund: 0, margin: {model: parametric, mpor_days: 1}}
members:
  - {id: D, capital: 100, liquidity: 1e6, positions: {V: {X: 10}}, initial_margin: {V: 100}}
  - {id: L, capital: 1e6, liquidity: 1e6, positions: {V: {X: 10}}, initial_margin: {V: 100}}
  - {id: N, capital: 101, liquidity: 1e6, positions: {V: {X: -20}}, initial_margin: {V: 100}}
)";

TEST(ClosedPositions, AdlTakesTheContractsItClosesOffTheHoldersBook) {
  using L = models::Layer;
  const auto run = [](std::string_view capital) {
    return run_on(kAdlDays, {{"members.N.capital", std::string(capital)}}, {100, 70, 120});
  };
  const Model model = model_of(kAdlDays);
  const int l = model.members[1].accounts[0], n = model.members[2].accounts[0];
  const ScenarioResult stands = run("101");
  ASSERT_EQ(stands.defaults.size(), 1u);
  EXPECT_EQ(stands.defaults[0].day, 1.0);
  EXPECT_NEAR(stands.closeout_loss, 300.0, 1e-9);
  EXPECT_NEAR(layer(stands, 0, L::kDefaulterIm), 100.0, 1e-9);
  EXPECT_NEAR(layer(stands, 0, L::kAdl), 200.0, 1e-9);
  EXPECT_NEAR(channel_of(stands, n, LossChannel::kAdl), 200.0, 1e-9);
  EXPECT_NEAR(stands.ledger_total(), stands.closeout_loss, 1e-9);
  CascadeTrace trace;
  const Model weak = model_of(kAdlDays, {{"members.N.capital", "99"}});
  const ScenarioResult falls = run_move(weak, path_of(weak, {100, 70, 120}), &trace);
  ASSERT_EQ(falls.defaults.size(), 2u);
  EXPECT_EQ(falls.defaults[1].member, 2);  // N
  EXPECT_EQ(falls.defaults[1].day, 2.0);
  EXPECT_NEAR(falls.closeout_loss, 300.0 + 500.0, 1e-9);
  EXPECT_NEAR(layer(falls, 0, L::kDefaulterIm), 200.0, 1e-9);
  EXPECT_NEAR(layer(falls, 0, L::kAdl), 200.0 + 400.0, 1e-9);
  EXPECT_NEAR(channel_of(falls, l, LossChannel::kAdl), 400.0, 1e-9);
  ASSERT_EQ(trace.events.size(), 2u);
  ASSERT_EQ(trace.events[1].adl.size(), 1u);
  EXPECT_EQ(trace.events[1].adl[0].account, l);
  EXPECT_NEAR(trace.events[1].adl[0].contracts, 10.0, 1e-9);
  EXPECT_NEAR(trace.events[1].adl[0].price, 80.0, 1e-9);
  EXPECT_EQ(falls.ccp_failures(), 0);
  EXPECT_NEAR(falls.ledger_total(), falls.closeout_loss, 1e-9);
}

// ADL's whole-gain rule ranks a partly closed account on what it still holds,
// against the margin kept whole behind it (the CCP neither calls nor returns
// IM on what was closed), as ADL by quantity ranks the contracts left. The
// rank (models::adl_rank, after BitMEX's PnL% x effective leverage) is
// p / m x N / (m + p) on the P&L p over the close-out window, the margin m
// and the notional N; a share h held gives h p / m x h N / (m + h p).
// Venue V [defaulter_im, insurance_fund (0), adl], MPOR 1, two daily steps;
// X: 100, 80, 80 and Y: 100, 100, 80; V's rest-of-market account balances.
//   Day 1: D1 (long 10 X and 1 Y, IM 100, exogenous) loses 200 over day 0-1:
//   100 short. N1 (short 20 X and 10 Y, IM 400) gains 400, rank 400 / 400 x
//   3,000 / 800 = 3.75; N2 (short 10 X and 10 Y, IM 400) gains 200, rank
//   200 / 400 x 2,000 / 600 = 1.67. ADL takes the 100 of N1's gain: 25% of
//   its book closed, it holds 75%.
//   Day 2: D2 (long 1 X and 10 Y, IM 100, capital 100) paid 20 on day 1 and
//   owes 200: it defaults, and loses 200 over day 1-2: 100 short. Over that
//   window N1 gains 200 on its whole book, 150 on what it holds; N2 gains 200.
//   On its whole book N1 would rank 200 / 400 x 3,000 / 600 = 2.5, ahead of
//   N2; on what it holds 150 / 400 x 2,250 / 550 = 1.53, behind N2's 1.67
//   (unchanged: it holds its whole book). ADL takes the 100 of N2's gain.
constexpr std::string_view kAdlRankHeld = R"(name: a later ADL ranks what is held
simulation: {horizon_days: 2, step_days: 1}
market:
  assets: [{id: X, price: 100, volatility: 0.5}, {id: Y, price: 100, volatility: 0.5}]
ccps:
  - id: V
    kind: crypto_venue
    capital: 1000
    insurance_fund: 0
    imbalance: rest_of_market
    margin: {model: parametric, mpor_days: 1}
members:
  - {id: D1, capital: 0, liquidity: 1e6, positions: {V: {X: 10, Y: 1}}, initial_margin: {V: 100}}
  - {id: D2, capital: 100, liquidity: 1e6, positions: {V: {X: 1, Y: 10}}, initial_margin: {V: 100}}
  - {id: N1, capital: 1e6, liquidity: 1e6, positions: {V: {X: -20, Y: -10}}, initial_margin: {V: 400}}
  - {id: N2, capital: 1e6, liquidity: 1e6, positions: {V: {X: -10, Y: -10}}, initial_margin: {V: 400}}
defaults: {exogenous: [D1]}
)";

TEST(ClosedPositions, ALaterAdlRanksWhatAnAccountStillHolds) {
  const Model model = model_of(kAdlRankHeld);
  CascadeTrace trace;
  const ScenarioResult r =
      run_move(model, path_of(model, std::vector<std::vector<double>>{{100, 80, 80}, {100, 100, 80}}), &trace);
  ASSERT_EQ(r.defaults.size(), 2u);
  EXPECT_EQ(r.defaults[1].member, 1);  // D2
  EXPECT_EQ(r.defaults[1].day, 2.0);
  const int n1 = model.members[2].accounts[0], n2 = model.members[3].accounts[0];
  EXPECT_NEAR(layer(r, 0, models::Layer::kAdl), 200.0, 1e-9);
  EXPECT_NEAR(channel_of(r, n1, LossChannel::kAdl), 100.0, 1e-9);
  EXPECT_NEAR(channel_of(r, n2, LossChannel::kAdl), 100.0, 1e-9);
  ASSERT_EQ(trace.events.size(), 2u);
  ASSERT_EQ(trace.events[1].adl.size(), 1u);
  EXPECT_EQ(trace.events[1].adl[0].account, n2);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
}

// A venue's liquidation engine checks an account on the contracts it still
// holds: kAdlDays with N's maintenance margin observed at 50 (2.5% of its
// notional today, 2,000). Day 1 as above: N is deleveraged on 10 of its 20
// contracts. Day 2, X at 120: on its 10 contracts N's equity is its margin
// 100 + 10 x (100 - 120) = -100 against a maintenance of 2.5% x 1,200 = 30:
// liquidated, a shortfall of 100 at a bankruptcy price of 100 + 100 / 10 =
// 110, deleveraged against L's 10 at 110 (L loses 10 a contract against the
// mark 120). Close-out 300 + 200, margins 100 + 100, ADL 200 + 100. N's owner
// keeps what ADL paid it on day 1 (10 x 30 - 200) and loses its margin: its
// capital is its own again. On its 20 contracts it would have had a
// shortfall of 300 (P&L -400, maintenance 60).
TEST(ClosedPositions, AVenueLiquidatesOnlyTheContractsAdlLeft) {
  using L = models::Layer;
  const Model model = model_of(kAdlDays, {{"members.N.maintenance_margin", "{V: 50}"}});
  const int l = model.members[1].accounts[0], n = model.members[2].accounts[0];
  CascadeTrace trace;
  const ScenarioResult r = run_move(model, path_of(model, {100, 70, 120}), &trace);
  ASSERT_EQ(r.defaults.size(), 1u);  // D; N's account is liquidated, N stands
  ASSERT_EQ(trace.venue.size(), 1u);
  const VenueLine& line = trace.venue[0];
  EXPECT_EQ(line.account, n);
  EXPECT_EQ(line.day, 2.0);
  EXPECT_NEAR(line.pnl, -200.0, 1e-9);
  EXPECT_NEAR(line.maintenance_margin, 30.0, 1e-9);
  EXPECT_NEAR(line.shortfall, 100.0, 1e-9);
  EXPECT_NEAR(line.bankruptcy_price, 110.0, 1e-9);
  ASSERT_EQ(trace.events.size(), 2u);
  ASSERT_EQ(trace.events[1].adl.size(), 1u);
  EXPECT_EQ(trace.events[1].adl[0].account, l);
  EXPECT_NEAR(trace.events[1].adl[0].contracts, 10.0, 1e-9);
  EXPECT_NEAR(trace.events[1].adl[0].price, 110.0, 1e-9);
  EXPECT_NEAR(r.closeout_loss, 300.0 + 200.0, 1e-9);
  EXPECT_NEAR(layer(r, 0, L::kDefaulterIm), 100.0 + 100.0, 1e-9);
  EXPECT_NEAR(layer(r, 0, L::kAdl), 200.0 + 100.0, 1e-9);
  EXPECT_NEAR(channel_of(r, n, LossChannel::kOwnIm), 100.0, 1e-9);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
}

// ADL marks the contracts it closes at the end of the close-out window from
// the step's start; with an MPOR of two daily steps that is a day after the
// step. kAdlDays with MPOR 2 over three days, X: 100, 70, 60, then 111 on
// day 3. D misses day 1's call; closed out over days 0 to 2: 10 x 40 = 400,
// IM 100, 300 short at the bankruptcy price 90 against the mark 60 of day
// 2. N is deleveraged on 10 of its 20 contracts (30 each against the mark).
// N's P&L: the 10 closed settle at 90 (+100), the 10 it holds are at 111 on
// day 3 (-110): capital C - 10. It stands with C = 11 and defaults with
// C = 9 (were the closed contracts' margin of day 2 taken off with them, it
// would be C - 110: had their day-2 move been counted twice, C + 90).
TEST(ClosedPositions, AdlSettlesItsContractsAtTheEndOfTheCloseOutWindow) {
  const auto run = [](std::string_view capital) {
    return run_on(kAdlDays,
                  {{"simulation.horizon_days", "3"},
                   {"ccps.V.margin.mpor_days", "2"},
                   {"members.N.capital", std::string(capital)}},
                  {100, 70, 60, 111, 111});
  };
  const ScenarioResult stands = run("11");
  ASSERT_EQ(stands.defaults.size(), 1u);
  EXPECT_NEAR(stands.closeout_loss, 400.0, 1e-9);
  EXPECT_NEAR(layer(stands, 0, models::Layer::kAdl), 300.0, 1e-9);
  const ScenarioResult falls = run("9");
  ASSERT_EQ(falls.defaults.size(), 2u);
  EXPECT_EQ(falls.defaults[1].member, 2);  // N
  EXPECT_EQ(falls.defaults[1].day, 3.0);
  EXPECT_NEAR(falls.ledger_total(), falls.closeout_loss, 1e-9);
}

// What ADL may close of an account is what it holds: the whole-gain rule
// closes the share of the gain it takes. Day 1: D1, long 10 X and 1 Y (a
// multi-asset book: the whole-gain rule), misses its call as X falls to 70:
// 300 against IM 100; N (short 20 X) gives up 200 of its 600 gain, a third
// of its position: it holds 13.33. Day 2, X at 50: D2 (long 20 X, capital
// 700) misses its call; closed out over day 1 to 2: 20 x 20 = 400, IM 200,
// 200 short at the bankruptcy price 100 + (-600 - 200) / 20 = 60 against
// the mark 50. ADL by quantity closes N's 13.33 contracts left at 10 each:
// 133.33; 66.67 is left and V fails (closing 20 would have covered it).
constexpr std::string_view kWholeGainThenQuantity = R"(name: a whole-gain ADL, then one by quantity
simulation: {horizon_days: 2, step_days: 1}
market:
  assets: [{id: X, price: 100, volatility: 0.5}, {id: Y, price: 100, volatility: 0.5}]
ccps:
  - {id: V, kind: crypto_venue, capital: 1000, insurance_fund: 0, margin: {model: parametric, mpor_days: 1},
     imbalance: rest_of_market}
members:
  - {id: D1, capital: 100, liquidity: 1e6, positions: {V: {X: 10, Y: 1}}, initial_margin: {V: 100}}
  - {id: D2, capital: 700, liquidity: 1e6, positions: {V: {X: 20}}, initial_margin: {V: 200}}
  - {id: N, capital: 1e6, liquidity: 1e6, positions: {V: {X: -20}}, initial_margin: {V: 100}}
)";

TEST(ClosedPositions, AdlByQuantityClosesOnlyWhatAnEarlierWholeGainAdlLeft) {
  const Model model = model_of(kWholeGainThenQuantity);
  Eigen::MatrixXd cumulative(2, static_cast<Eigen::Index>(move_points(model).size()));
  const Eigen::MatrixXd x = path_of(model, {100, 70, 50});
  cumulative.row(0) = x.row(0);
  cumulative.row(1).setZero();
  CascadeTrace trace;
  const ScenarioResult r = run_move(model, cumulative, &trace);
  ASSERT_EQ(r.defaults.size(), 2u);
  ASSERT_EQ(trace.events.size(), 2u);
  ASSERT_EQ(trace.events[1].adl.size(), 1u);
  EXPECT_NEAR(trace.events[1].adl[0].contracts, 40.0 / 3.0, 1e-9);
  EXPECT_NEAR(trace.events[1].adl[0].price, 60.0, 1e-9);
  EXPECT_NEAR(layer(r, 0, models::Layer::kAdl), 200.0 + 400.0 / 3.0, 1e-9);
  EXPECT_EQ(r.ccp_failures(), 1);
  EXPECT_NEAR(r.uncovered, 200.0 / 3.0, 1e-9);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
}

// ADL settles the contracts it closes at its mark, the end of the close-out
// window, in the horizon's last step too: with an MPOR of 2 days over one
// daily step that is a day after the horizon. V (MPOR 2) as kAdlDays; N is
// also long 10 Y at a second venue W (MPOR 1). X: 100, 60, then 70 on day
// 2; Y: 100, 45.
//   Day 1: N's variation margin: +20 x 40 on X, -10 x 55 on Y: C + 250. D
//   (long 10 X, capital 100) cannot pay -400; closed out over days 0 to 2:
//   10 x 30 = 300, IM 100, 200 short at the bankruptcy price 90 against the
//   mark 70: ADL closes 10 of N's 20 contracts, 20 each (-200), and settles
//   them at 70: their margin from day 1 to 2, 10 x (60 - 70) = -100. N: C -
//   50. It stands with C = 51 and defaults with C = 49 (without the
//   settlement it would be C + 50 and stand with either).
constexpr std::string_view kAdlLastStep = R"(name: ADL settles at its mark in the horizon's last step
simulation: {horizon_days: 1, step_days: 1}
market:
  assets: [{id: X, price: 100, volatility: 0.5}, {id: Y, price: 100, volatility: 0.5}]
ccps:
  - {id: V, kind: crypto_venue, capital: 1000, insurance_fund: 0, margin: {model: parametric, mpor_days: 2}}
  - {id: W, kind: crypto_venue, capital: 1000, insurance_fund: 0, margin: {model: parametric, mpor_days: 1}}
members:
  - {id: D, capital: 100, liquidity: 1e6, positions: {V: {X: 10}}, initial_margin: {V: 100}}
  - {id: L, capital: 1e6, liquidity: 1e6, positions: {V: {X: 10}}, initial_margin: {V: 100}}
  - {id: N, capital: 51, liquidity: 1e6, positions: {V: {X: -20}, W: {Y: 10}}, initial_margin: {V: 100, W: 100}}
  - {id: S, capital: 1e6, liquidity: 1e6, positions: {W: {Y: -10}}, initial_margin: {W: 100}}
)";

TEST(ClosedPositions, AdlSettlesAtItsMarkInTheHorizonsLastStep) {
  const auto run = [](std::string_view capital) {
    const Model model = model_of(kAdlLastStep, {{"members.N.capital", std::string(capital)}});
    Eigen::MatrixXd cumulative(2, static_cast<Eigen::Index>(move_points(model).size()));
    cumulative.row(0) = path_of(model, {100, 60, 70}).row(0);
    cumulative.row(1) = path_of(model, {100, 45, 45}).row(0);
    return run_move(model, cumulative);
  };
  const ScenarioResult stands = run("51");
  ASSERT_EQ(stands.defaults.size(), 1u);
  EXPECT_NEAR(stands.closeout_loss, 300.0, 1e-9);
  EXPECT_NEAR(layer(stands, 0, models::Layer::kAdl), 200.0, 1e-9);
  EXPECT_NEAR(stands.ledger_total(), stands.closeout_loss, 1e-9);
  const ScenarioResult falls = run("49");
  ASSERT_EQ(falls.defaults.size(), 2u);
  EXPECT_EQ(falls.defaults[1].member, 2);  // N
  EXPECT_EQ(falls.defaults[1].day, 1.0);
  EXPECT_NEAR(falls.ledger_total(), falls.closeout_loss, 1e-9);
}

// A member defaulting in a later round of a step, on the step's charges,
// paid the step's variation margin: its close-out runs from the step's end
// (RTS 153/2013 art. 26), and so does ADL against it: its bankruptcy price
// is where its margin settled, the step's end, less IM over its contracts,
// and the mark the end of its close-out window. CCP V [defaulter_im,
// mutualized_df, adl], MPOR 1, daily steps. X: 100, 100 on day 1, 60 on day
// 2, 55 on day 3.
//   Day 2, round 1: D1 (long 10, capital 100, no IM) cannot pay -400; closed
//   out over day 1 to 2: 400, all to the mutualised fund: D2's 100, N's 300.
//   Round 2: D2 (long 10, capital 450, IM 20) paid the -400 and is at -50:
//   closed out over day 2 to 3: 10 x 5 = 50, IM 20, 30 short. Its bankruptcy
//   price is 100 + (-400 - 20) / 10 = 58 against the mark 55: ADL closes
//   N's 10 contracts at 58, 3 each. (From the step's start it would be 98
//   against 60: 0.79 contracts at 98.)
constexpr std::string_view kLaterRoundAdl = R"(name: ADL against a later-round defaulter
simulation: {horizon_days: 3, step_days: 1}
market:
  assets: [{id: X, price: 100, volatility: 0.5}]
ccps:
  - {id: V, capital: 1000, sitg: 0, margin: {model: parametric, mpor_days: 1},
     default_fund: {sizing: fixed, amount: 400}, waterfall: [defaulter_im, mutualized_df, adl]}
members:
  - {id: D1, capital: 100, liquidity: 1e6, positions: {V: {X: 10}}, initial_margin: {V: 0}, default_fund: {V: 0}}
  - {id: D2, capital: 450, liquidity: 1e6, positions: {V: {X: 10}}, initial_margin: {V: 20}, default_fund: {V: 100}}
  - {id: N, capital: 1e6, liquidity: 1e6, positions: {V: {X: -20}}, initial_margin: {V: 100}, default_fund: {V: 300}}
)";

TEST(ClosedPositions, AdlAgainstALaterRoundDefaulterMarksFromTheStepsEnd) {
  const Model model = model_of(kLaterRoundAdl);
  CascadeTrace trace;
  const ScenarioResult r = run_move(model, path_of(model, {100, 100, 60, 55, 55}), &trace);
  ASSERT_EQ(r.defaults.size(), 2u);
  EXPECT_EQ(r.defaults[1].member, 1);  // D2
  EXPECT_EQ(r.defaults[1].day, 2.0);
  EXPECT_GT(r.defaults[1].round, r.defaults[0].round);
  EXPECT_NEAR(r.closeout_loss, 400.0 + 50.0, 1e-9);
  ASSERT_FALSE(trace.events.empty());
  const WaterfallEvent& last = trace.events.back();
  ASSERT_EQ(last.adl.size(), 1u);
  EXPECT_EQ(last.adl[0].account, model.members[2].accounts[0]);
  EXPECT_NEAR(last.adl[0].contracts, 10.0, 1e-9);
  EXPECT_NEAR(last.adl[0].price, 58.0, 1e-9);
  EXPECT_NEAR(last.adl[0].loss_vs_mark, 30.0, 1e-9);
  EXPECT_NEAR(layer(r, 0, models::Layer::kAdl), 30.0, 1e-9);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
}

// Contracts ADL closes against the survivors at the bankruptcy price are not
// sold into the market (BitMEX, "Auto-Deleveraging": the liquidation engine
// hands the position to ADL when it cannot be closed in the market), so they
// move no price (market.fire_sales; models/market/fire_sale.hpp: a move of
// -k sqrt(|flow| / ADV)). kAdlDays with fire sales, ADV 1e9, k 0.1, N capital 1e6; X: 100,
// 70, 120. Day 1: D's sale of its 10 at today's 100 (1,000) would move X by
// -0.1 sqrt(1e-6) = -1e-4; closed at the moved price it costs 0.1: D owes
// 300.1, IM 100, 200.1 short, 20.01 a contract.
//   Without a fund ADL closes all 10 of D's contracts against N: nothing is
//   sold, X moves by nothing, and the sale's 0.1 is never paid (close-out
//   300).
//   With an insurance fund of 100.05, ADL takes the other 100.05: 5
//   contracts (0.05 of the sale avoided); D's other 5 are sold:
//   -0.1 sqrt(500 / 1e9).
TEST(ClosedPositions, ContractsAdlClosesAreNotSoldIntoTheMarket) {
  const auto run = [](std::string_view fund) {
    return run_on(kAdlDays,
                  {{"market.fire_sales", "true"},
                   {"market.assets.X.adv", "1e9"},
                   {"market.assets.X.liquidation_cost", "0.1"},
                   {"ccps.V.insurance_fund", std::string(fund)},
                   {"members.N.capital", "1e6"}},
                  {100, 70, 120});
  };
  using L = models::Layer;
  const ScenarioResult all = run("0");
  ASSERT_EQ(all.defaults.size(), 1u);
  EXPECT_NEAR(all.closeout_loss, 300.0, 1e-9);
  EXPECT_NEAR(layer(all, 0, L::kAdl), 200.0, 1e-9);  // 10 x 20; the sale's 0.1 is avoided
  ASSERT_EQ(all.price_impact.size(), 1u);
  EXPECT_EQ(all.price_impact[0], 0.0);
  const ScenarioResult half = run("100.05");
  ASSERT_EQ(half.defaults.size(), 1u);
  EXPECT_NEAR(layer(half, 0, L::kInsuranceFund), 100.05, 1e-9);
  EXPECT_NEAR(layer(half, 0, L::kAdl), 100.0, 1e-9);  // 5 x 20
  EXPECT_NEAR(half.closeout_loss, 300.05, 1e-9);
  ASSERT_EQ(half.price_impact.size(), 1u);
  EXPECT_NEAR(half.price_impact[0], std::log1p(-0.1 * std::sqrt(500.0 / 1e9)), 1e-12);
  EXPECT_NEAR(half.ledger_total(), half.closeout_loss, 1e-9);
  EXPECT_NEAR(all.ledger_total(), all.closeout_loss, 1e-9);
}

// ADL's whole-gain rule closes a share of each survivor's book against the
// defaulters' (BitMEX, "Auto-Deleveraging": positions are closed against the
// bankrupt one, not in the market), so the CCP sells only the net of the two.
// kAdlDays with D long 10 X and 1 Y (a multi-asset book: the whole-gain rule)
// and N short 20 X and 1 Y; Y stays at 100, X goes 100, 70, 120; both assets
// ADV 1e9, k 0.1. Day 1, before the rounds: D's sale of 1,000 of X and 100 of
// Y moves X by -0.1 sqrt(1e-6) = -1e-4 and Y by -0.1 sqrt(1e-7), so D's
// close-out costs c = 0.1 + 100 x 0.1 sqrt(1e-7) beyond its 300: IM 100, ADL
// 200 + c of N's gain over the window (20 x 30 = 600) closes the share
// s = (200 + c) / 600 of N's book. After the rounds the CCP sells D's book
// less N's closed share: X 1,000 - 2,000 s, Y 100 - 100 s.
TEST(ClosedPositions, PositionsTheWholeGainRuleClosesNetAgainstTheDefaultersSale) {
  using test_cases::replace_in;
  std::string yaml(kAdlDays);
  replace_in(yaml, "assets: [{id: X, price: 100, volatility: 0.5}]",
             "assets: [{id: X, price: 100, volatility: 0.5}, {id: Y, price: 100, volatility: 0.5}]");
  replace_in(yaml, "positions: {V: {X: 10}}, initial_margin: {V: 100}}\n  - {id: L",
             "positions: {V: {X: 10, Y: 1}}, initial_margin: {V: 100}}\n  - {id: L");
  replace_in(yaml, "positions: {V: {X: -20}}", "positions: {V: {X: -20, Y: -1}}");
  const Model model = model_of(yaml, {{"market.fire_sales", "true"},
                                      {"market.assets.X.adv", "1e9"},
                                      {"market.assets.X.liquidation_cost", "0.1"},
                                      {"market.assets.Y.adv", "1e9"},
                                      {"market.assets.Y.liquidation_cost", "0.1"},
                                      {"members.N.capital", "1e6"}});
  const ScenarioResult r = run_move(model, path_of(model, std::vector<std::vector<double>>{{100, 70, 120}, {}}));
  ASSERT_EQ(r.defaults.size(), 1u);
  const double c = 0.1 + 100.0 * 0.1 * std::sqrt(1e-7), s = (200.0 + c) / 600.0;
  EXPECT_NEAR(r.closeout_loss, 300.0 + c, 1e-9);
  EXPECT_NEAR(layer(r, 0, models::Layer::kAdl), 200.0 + c, 1e-9);
  EXPECT_NEAR(channel_of(r, model.members[2].accounts[0], LossChannel::kAdl), 200.0 + c, 1e-9);
  ASSERT_EQ(r.price_impact.size(), 2u);
  EXPECT_NEAR(r.price_impact[0], std::log1p(-0.1 * std::sqrt((1000.0 - 2000.0 * s) / 1e9)), 1e-12);
  EXPECT_NEAR(r.price_impact[1], std::log1p(-0.1 * std::sqrt((100.0 - 100.0 * s) / 1e9)), 1e-12);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
}

// Partial tear-up terminates the positions it tears up (CPMI-IOSCO, Recovery
// of financial market infrastructures, 2014 rev. 2017, 4.5): from the next
// day their holders pay and earn nothing on them. The auction and recovery
// case of tests/sim/auction_case.hpp (kAuction) over two daily steps,
// X: 100, 80 on day 1, 150 on day 2. Day 1 as there: D's unplaced 75 X tear
// up 75% of B's short 60 and J's short 40; J pays DF 100, assessment 100,
// cash call 50 and tear-up 200 of its 800 gain: capital C + 350. Day 2: J
// holds 10 X and owes 10 x 70 = 700: C - 350 (its 40 would owe 2,800). It
// stands with C = 351 and defaults with C = 349; then its close-out is of
// its 10 X over day 1-2, 700, and the auction of a book worth 10 x 80 = 800.
TEST(ClosedPositions, TearUpTakesThePositionsItTerminatesOffTheHoldersBook) {
  using T = models::RecoveryTool;
  using test_cases::kAuction;
  const auto run = [](std::string_view capital) { return run_on(kAuction, tear_up_days(capital), {100, 80, 150}); };
  const Model model = model_of(kAuction, tear_up_days("351"));
  const int j = model.members[2].accounts[0];
  const ScenarioResult stands = run("351");
  ASSERT_EQ(stands.defaults.size(), 1u);
  EXPECT_NEAR(stands.closeout_loss, 2700.0, 1e-9);
  EXPECT_NEAR(stands.ccp_recovery[static_cast<std::size_t>(T::kTearUp)], 500.0, 1e-9);
  EXPECT_NEAR(channel_of(stands, j, LossChannel::kTearUp), 200.0, 1e-9);
  EXPECT_NEAR(stands.ledger_total(), stands.closeout_loss, 1e-9);
  const ScenarioResult falls = run("349");
  ASSERT_EQ(falls.defaults.size(), 2u);
  EXPECT_EQ(falls.defaults[1].member, 2);  // J
  EXPECT_EQ(falls.defaults[1].day, 2.0);
  const double auction = models::auction_increment(model.ccps[0].auction_terms, 0.0, 800.0).cost();
  EXPECT_NEAR(falls.ccp_auction_cost[0], 700.0 + auction, 1e-9);
  EXPECT_NEAR(falls.closeout_loss, 2700.0 + 700.0 + auction, 1e-9);
  EXPECT_NEAR(falls.ledger_total(), falls.closeout_loss, 1e-9);
  // Day 2's liquidity need is the variation margin of what B and J hold:
  // 15 x 70 and 10 x 70 (on their 60 and 40, 4,200 and 2,800).
  std::vector<config::Override> with_needs = tear_up_days("351");
  with_needs.push_back({"outputs.liquidity_needs", "true"});
  const ScenarioResult n = run_on(kAuction, with_needs, {100, 80, 150});
  EXPECT_NEAR(n.member_peak_liquidity_need[1], 1050.0, 1e-9);
  EXPECT_NEAR(n.member_peak_liquidity_need[2], 700.0, 1e-9);
  EXPECT_NEAR(n.peak_liquidity_need, 1750.0, 1e-9);
  // With IM recomputed each day (margin.spiral) the day's IM call is on what
  // they hold too: a quarter of the rise of their accounts' IM (MarginPath's,
  // which does not depend on the tear-up).
  with_needs.push_back({"ccps.A.margin.spiral", "{lambda: 0.94}"});
  const Model spiral = model_of(kAuction, with_needs);
  const Eigen::MatrixXd path = path_of(spiral, {100, 80, 150});
  MarginPath margins(spiral);
  margins.compute(path, 0);
  const auto im_rise = [&](int m) {
    const auto a = static_cast<std::size_t>(spiral.members[static_cast<std::size_t>(m)].accounts[0]);
    return margins.held(a, 1, 0) - margins.held(a, 0, 0);
  };
  ASSERT_GT(im_rise(2), 0.0);
  const ScenarioResult sn = run_move(spiral, path);
  EXPECT_NEAR(sn.member_peak_liquidity_need[1], 1050.0 + 0.25 * im_rise(1), 1e-6);
  EXPECT_NEAR(sn.member_peak_liquidity_need[2], 700.0 + 0.25 * im_rise(2), 1e-6);
  // J defaulting on day 2 (C = 349) leaves the IM it held after day 1: today's
  // 400 on its torn 30, day 1's on the 10 it holds (the CCP neither called nor
  // returned margin on what it tore up).
  std::vector<config::Override> weak = tear_up_days("349");
  weak.push_back({"ccps.A.margin.spiral", "{lambda: 0.94}"});
  const ScenarioResult sf = run_on(kAuction, weak, {100, 80, 150});
  ASSERT_EQ(sf.defaults.size(), 2u);
  const auto j_account = static_cast<std::size_t>(j);
  const double j_im = 0.75 * 400.0 + 0.25 * margins.held(j_account, 0, 0);
  EXPECT_NEAR(layer(sf, 0, models::Layer::kDefaulterIm), 1000.0 + j_im, 1e-6);
}

// A tear-up's positions net against the book it leaves unplaced in the same
// way: the CCP sells only what the auction placed. kAuction over two daily
// steps with fire sales (X: ADV 1e6, k 0.1) and J's capital 1e6 (it stands):
// on day 1 D's 10,000 of X is in the step's flow, and the tear-up takes 75%
// of B's short 60 and J's short 40 X (6,000 and 4,000 at today's prices) off
// their books: the net sold is 10,000 - 7,500 = 2,500, the value the auction
// placed, and X moves by -0.1 sqrt(2,500 / 1e6) = -0.005 for good.
TEST(ClosedPositions, TornUpPositionsNetAgainstTheUnplacedBookInTheFireSale) {
  std::vector<config::Override> with = tear_up_days("1e6");
  with.insert(
      with.end(),
      {{"market.fire_sales", "true"}, {"market.assets.X.adv", "1e6"}, {"market.assets.X.liquidation_cost", "0.1"}});
  const ScenarioResult r = run_on(test_cases::kAuction, with, {100, 80, 150});
  ASSERT_EQ(r.defaults.size(), 1u);
  EXPECT_GT(r.ccp_recovery[static_cast<std::size_t>(models::RecoveryTool::kTearUp)], 0.0);
  ASSERT_EQ(r.price_impact.size(), 1u);
  EXPECT_NEAR(r.price_impact[0], std::log1p(-0.005), 1e-12);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
}

// A tear-up terminates in each asset the positions opposite the unplaced book
// (CPMI-IOSCO 2014 rev. 2017, 4.5), so the CCP trades those and nothing of a
// multi-asset holder's other assets. The case above with B also long 10 Y
// (price 100, flat; ADV 1e6, k 0.1; A's rest-of-market account short it):
//   The tear-up takes 75% of the X shorts, B's 4,500 and J's 3,000: X's net
//   is 10,000 - 7,500 = 2,500 as before, and Y does not move.
//   B's gain split by value: 1,200 x 4,500 / 7,000 = 5,400 / 7 and J's
//   800 x 0.75 = 4,200 / 7; the 500 the tear-up takes splits 9 : 7, B
//   281.25 and J 218.75. (This is the documented approximation for a
//   multi-asset book: B's gain is all on X, 75% of it torn, 900 against
//   J's 600 would split the 500 as 300 and 200.)
//   (With B's torn share of its whole book, 4,500 / 7,000, in the flow the CCP
//   would sell 643 of Y and X's net would be 3,143.)
TEST(ClosedPositions, ATearUpTradesOnlyThePositionsItTerminates) {
  using test_cases::replace_in;
  std::string yaml(test_cases::kAuction);
  replace_in(yaml, "assets: [{id: X, price: 100, volatility: 0.5}]",
             "assets: [{id: X, price: 100, volatility: 0.5}, {id: Y, price: 100, volatility: 0.5}]");
  replace_in(yaml, "positions: {A: {X: -60}}", "positions: {A: {X: -60, Y: 10}}");
  replace_in(yaml, "    capital: 100\n", "    capital: 100\n    imbalance: rest_of_market\n");
  std::vector<config::Override> with = tear_up_days("1e6");
  with.insert(with.end(), {{"market.fire_sales", "true"},
                           {"market.assets.X.adv", "1e6"},
                           {"market.assets.X.liquidation_cost", "0.1"},
                           {"market.assets.Y.adv", "1e6"},
                           {"market.assets.Y.liquidation_cost", "0.1"}});
  const Model model = model_of(yaml, with);
  const ScenarioResult r =
      run_move(model, path_of(model, std::vector<std::vector<double>>{{100, 80, 150}, {100, 100, 100}}));
  ASSERT_EQ(r.defaults.size(), 1u);
  EXPECT_NEAR(r.ccp_recovery[static_cast<std::size_t>(models::RecoveryTool::kTearUp)], 500.0, 1e-9);
  EXPECT_NEAR(channel_of(r, model.members[1].accounts[0], LossChannel::kTearUp), 281.25, 1e-9);
  EXPECT_NEAR(channel_of(r, model.members[2].accounts[0], LossChannel::kTearUp), 218.75, 1e-9);
  ASSERT_EQ(r.price_impact.size(), 2u);
  EXPECT_NEAR(r.price_impact[0], std::log1p(-0.005), 1e-12);
  EXPECT_EQ(r.price_impact[1], 0.0);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
}

// A member defaulting in a later round of a step, on the step's charges, is
// closed out from the step's end at its prices (RTS 153/2013 art. 26: the
// MPOR runs from the last margin collected), and so is what ADL closes of
// the survivors against it. Three daily steps, MPOR 1; X: 100, 50, 25, 25 and
// Z: 100, 10, 10, 10; Y flat; X and Y ADV 1e6, k 0.1.
//   Day 1, round 0: E (exogenous, long 10 Z at T) loses 900: IM 100, then
//   D's fund 100 at T. D (capital 460) had paid the day's margin: -500 on its
//   long 10 X and 1 Y at V, +90 on its short Z at T, so it stands at 50 and
//   falls to -50: it defaults in round 1, closed out over day 1-2 at the
//   day's end prices: X 50 to 25 on 10 X, 250 against its IM 100 at V
//   (nothing moved X before the round: 0 close-out cost). Its book is
//   multi-asset: ADL's whole-gain rule takes 150 of N's gain over the step's
//   window (20 x 50 = 1,000), closing 15% of N's book.
//   After the rounds V sells D's 10 X and 1 Y at day 1's prices (500, 100)
//   less N's 15% of 20 X and 1 Y at the same prices (150, 15): X moves by
//   -0.1 sqrt(350 / 1e6), Y by -0.1 sqrt(85 / 1e6). (At the step's start's
//   prices N's share would be 300 of X, and X's net 200.) L (long 10 X at
//   V) and R (short 9 Z at T, no fund) balance the books and stand.
constexpr std::string_view kLateRoundAdl = R"(name: a later round's ADL nets at the step's end prices
simulation: {horizon_days: 3, step_days: 1}
market:
  assets:
    - {id: X, price: 100, volatility: 0.5, adv: 1.0e6, liquidation_cost: 0.1}
    - {id: Y, price: 100, volatility: 0.5, adv: 1.0e6, liquidation_cost: 0.1}
    - {id: Z, price: 100, volatility: 0.5}
  fire_sales: true
ccps:
  - {id: V, kind: crypto_venue, capital: 1000, insurance_fund: 0, margin: {model: parametric, mpor_days: 1}}
  - id: T
    capital: 1000
    sitg: 0
    margin: {model: parametric, mpor_days: 1}
    default_fund: {sizing: fixed, amount: 100}
    waterfall: [defaulter_im, defaulter_df, sitg, mutualized_df, ccp_equity]
members:
  - {id: E, capital: 100, liquidity: 1e6, positions: {T: {Z: 10}}, initial_margin: {T: 100}, default_fund: {T: 0}}
  - id: D
    capital: 460
    liquidity: 1e6
    positions: {V: {X: 10, Y: 1}, T: {Z: -1}}
    initial_margin: {V: 100, T: 10}
    default_fund: {T: 100}
  - {id: N, capital: 1e6, liquidity: 1e6, positions: {V: {X: -20, Y: -1}}, initial_margin: {V: 100}}
  - {id: L, capital: 1e6, liquidity: 1e6, positions: {V: {X: 10}}, initial_margin: {V: 100}}
  - {id: R, capital: 1e6, liquidity: 1e6, positions: {T: {Z: -9}}, initial_margin: {T: 0}, default_fund: {T: 0}}
defaults: {exogenous: [E]}
)";

TEST(ClosedPositions, ALaterRoundsAdlNetsAtTheStepsEndPrices) {
  const Model model = model_of(kLateRoundAdl);
  const ScenarioResult r =
      run_move(model, path_of(model, std::vector<std::vector<double>>{{100, 50, 25, 25}, {}, {100, 10, 10, 10}}));
  ASSERT_EQ(r.defaults.size(), 2u);
  EXPECT_EQ(r.defaults[1].member, 1);  // D
  EXPECT_EQ(r.defaults[1].day, 1.0);
  EXPECT_GT(r.defaults[1].round, r.defaults[0].round);
  EXPECT_NEAR(layer(r, 0, models::Layer::kAdl), 150.0, 1e-9);
  EXPECT_NEAR(channel_of(r, model.members[2].accounts[0], LossChannel::kAdl), 150.0, 1e-9);
  ASSERT_EQ(r.price_impact.size(), 3u);
  EXPECT_NEAR(r.price_impact[0], std::log1p(-0.1 * std::sqrt(350.0 / 1e6)), 1e-12);
  EXPECT_NEAR(r.price_impact[1], std::log1p(-0.1 * std::sqrt(85.0 / 1e6)), 1e-12);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
}

// The same for a tear-up (CPMI-IOSCO, Recovery of financial market
// infrastructures, 2014 rev. 2017, 4.5: the positions opposite the unplaced
// book are terminated): kAuction's CCP A, with D's default now in a later
// round of day 1. Three daily steps, MPOR 1; X: 100, 80, 60, 60 (ADV 1e6,
// k 0.1) and Z: 100, 10, 10, 10.
//   Round 0 at T: E (exogenous, long 10 Z) loses 900: IM 100, then D's fund
//   100, then T's equity. D (capital 1,960) had paid day 1's margin, -2,000
//   on its long 100 X at A and +90 on its short Z at T: it stood at 50 and
//   falls to -50, so it defaults in round 1, closed out over day 1-2 from
//   day 1's prices.
//   At A: the move 100 x 20 = 2,000; the auction of a book worth 100 x 80 =
//   8,000: hedge 80, 2,500 placed at 6% (150), 5,500 unplaced at 6% (330);
//   close-out loss 2,560. Layers: IM 1,000, D's fund 100, SITG 100, the
//   mutualised fund 400 (J's 100 first, then B's 300), assessments 400:
//   560 left. Cash calls 150 (B) + 50 (J): 360 left. Tear-up: 5,500 / 8,000
//   = 68.75% of B's and J's shorts, whose gains over the day are 60 x 20 =
//   1,200 and 40 x 20 = 800: 825 and 550 to tear up, of which it takes 360
//   pro rata, B 216 and J 144.
//   After the rounds A sells D's 8,000 of X less the torn 68.75% of B's and
//   J's shorts at the same prices (3,300 + 2,200): X moves by
//   -0.1 sqrt(2,500 / 1e6) = -0.005, the value the auction placed. (At the
//   step's start's prices the torn shorts would be worth 6,875, and X's net
//   1,125.)
std::string late_round_tear_up() {
  using test_cases::replace_in;
  std::string yaml(test_cases::kAuction);
  replace_in(yaml, "market:\n  assets: [{id: X, price: 100, volatility: 0.5}]\n",
             "simulation: {horizon_days: 3, step_days: 1}\n"
             "market:\n"
             "  assets:\n"
             "    - {id: X, price: 100, volatility: 0.5, adv: 1.0e6, liquidation_cost: 0.1}\n"
             "    - {id: Z, price: 100, volatility: 0.5}\n"
             "  fire_sales: true\n");
  replace_in(yaml, "cash_call_multiple: 0.5}\n",
             "cash_call_multiple: 0.5}\n"
             "  - id: T\n"
             "    capital: 1000\n"
             "    sitg: 0\n"
             "    margin: {model: parametric, mpor_days: 1}\n"
             "    default_fund: {sizing: fixed, amount: 100}\n"
             "    waterfall: [defaulter_im, defaulter_df, sitg, mutualized_df, ccp_equity]\n");
  replace_in(yaml,
             "{id: D, capital: 1000, liquidity: 1000, positions: {A: {X: 100}}, initial_margin: {A: 1000}, "
             "default_fund: {A: 100}}",
             "{id: D, capital: 1960, liquidity: 1e6, positions: {A: {X: 100}, T: {Z: -1}}, "
             "initial_margin: {A: 1000, T: 10}, default_fund: {A: 100, T: 100}}");
  replace_in(yaml, "defaults: {exogenous: [D]}\n",
             "  - {id: E, capital: 100, liquidity: 1e6, positions: {T: {Z: 10}}, initial_margin: {T: 100}, "
             "default_fund: {T: 0}}\n"
             "  - {id: R, capital: 1e6, liquidity: 1e6, positions: {T: {Z: -9}}, initial_margin: {T: 0}, "
             "default_fund: {T: 0}}\n"
             "defaults: {exogenous: [E]}\n");
  return yaml;
}

TEST(ClosedPositions, ALaterRoundsTearUpNetsAtTheStepsEndPrices) {
  const Model model = model_of(late_round_tear_up());
  const ScenarioResult r =
      run_move(model, path_of(model, std::vector<std::vector<double>>{{100, 80, 60, 60}, {100, 10, 10, 10}}));
  ASSERT_EQ(r.defaults.size(), 2u);
  EXPECT_EQ(r.defaults[1].member, 0);  // D
  EXPECT_EQ(r.defaults[1].day, 1.0);
  EXPECT_GT(r.defaults[1].round, r.defaults[0].round);
  EXPECT_NEAR(r.ccp_auction_cost[0], 80.0 + 150.0 + 330.0, 1e-9);
  EXPECT_NEAR(r.ccp_recovery[static_cast<std::size_t>(models::RecoveryTool::kCashCall)], 200.0, 1e-9);
  EXPECT_NEAR(r.ccp_recovery[static_cast<std::size_t>(models::RecoveryTool::kTearUp)], 360.0, 1e-9);
  EXPECT_NEAR(channel_of(r, model.members[1].accounts[0], LossChannel::kTearUp), 216.0, 1e-9);
  EXPECT_NEAR(channel_of(r, model.members[2].accounts[0], LossChannel::kTearUp), 144.0, 1e-9);
  EXPECT_EQ(r.ccp_uncovered[0], 0.0);
  ASSERT_EQ(r.price_impact.size(), 2u);
  EXPECT_NEAR(r.price_impact[0], std::log1p(-0.005), 1e-12);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
}

}  // namespace test_time_steps
}  // namespace ccpnet
