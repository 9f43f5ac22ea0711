// A crypto venue's liquidation engine in the cascade: an account whose equity
// falls below its maintenance margin is closed in the market before its owner
// can default; the insurance fund takes the surplus or pays the shortfall
// against the bankruptcy price; ADL closes what the fund cannot pay. The hand
// case, its numbers and their sources are in tests/data/hand/venue_liquidations.yaml.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "sim/config/load.hpp"
#include "sim/model.hpp"
#include "sim/runner.hpp"
#include "sim/shocks.hpp"
#include "sim/stress.hpp"
#include "tests/sim/step_paths.hpp"

using ccpnet::test_paths::path_of;

namespace ccpnet {
namespace test_venue_liquidation {

Model venue_case(std::vector<config::Override> overrides = {}) {
  return build_model(config::load_scenario_file(
      std::string(CCPNET_SOURCE_DIR) + "/tests/data/hand/venue_liquidations.yaml", overrides));
}

ScenarioResult stress(const Model& model, std::size_t i, CascadeTrace* trace = nullptr) {
  return run_move(model, stress_move(model, model.stress_scenarios[i]), trace, &model.stress_scenarios[i]);
}

double layer(const ScenarioResult& r, models::Layer l) { return r.ccp_layers[static_cast<std::size_t>(l)]; }

int member_index(const Model& model, std::string_view id) {
  for (std::size_t m = 0; m < model.members.size(); ++m)
    if (model.members[m].id == id) return static_cast<int>(m);
  return -1;
}

double channel_total(const Model& model, const ScenarioResult& r, std::string_view member, LossChannel channel) {
  const int account = model.members[static_cast<std::size_t>(member_index(model, member))].accounts[0];
  double sum = 0.0;
  for (const AccountLoss& l : r.account_losses)
    if (l.account == account && l.channel == channel) sum += l.amount;
  return sum;
}

const VenueLine* venue_line(const Model& model, const CascadeTrace& trace, std::string_view member) {
  for (const VenueLine& l : trace.venue)
    if (account_name(model, l.account) == member) return &l;
  return nullptr;
}

TEST(VenueEngine, TheCrashLiquidatesThreeLongsTheFundPaysThenAdl) {
  const Model model = venue_case();
  CascadeTrace trace;
  const ScenarioResult r = stress(model, 0, &trace);
  EXPECT_TRUE(r.defaults.empty());  // C's P&L (-400) exceeds its capital (350); it loses its margin (300)
  EXPECT_EQ(r.venue_liquidations, 3);
  ASSERT_EQ(trace.venue.size(), 3u);
  EXPECT_EQ(venue_line(model, trace, "A"), nullptr);  // equity 50 >= maintenance 45
  const VenueLine* b = venue_line(model, trace, "B");
  ASSERT_NE(b, nullptr);
  EXPECT_NEAR(b->maintenance_margin, 45, 1e-9);
  EXPECT_NEAR(b->impact_cost, 9, 1e-9);
  EXPECT_NEAR(b->surplus, 11, 1e-9);
  EXPECT_NEAR(b->bankruptcy_price, 88, 1e-9);
  EXPECT_NEAR(b->execution_price, 89.1, 1e-9);
  const VenueLine* c = venue_line(model, trace, "C");
  ASSERT_NE(c, nullptr);
  EXPECT_NEAR(c->impact_cost, 72, 1e-9);
  EXPECT_NEAR(c->shortfall, 172, 1e-9);
  EXPECT_NEAR(c->bankruptcy_price, 92.5, 1e-9);
  EXPECT_NEAR(venue_line(model, trace, "D")->shortfall, 9, 1e-9);
  // Layers: margins 509, fund 100 + 11 = 111, ADL 38.674 for the 70 the
  // fund left: the contracts closed by ADL are not sold, so their impact
  // cost, 81 x 70 / 181, is not a loss; every dollar of the 690 - 31.326 of
  // close-out losses has its payer.
  using L = models::Layer;
  const double adl_share = 70.0 / 181.0;
  EXPECT_NEAR(r.closeout_loss, 690 - 81 * adl_share, 1e-9);
  EXPECT_NEAR(layer(r, L::kDefaulterIm), 509, 1e-9);
  EXPECT_NEAR(layer(r, L::kInsuranceFund), 111, 1e-9);
  EXPECT_NEAR(layer(r, L::kAdl), 100 * adl_share, 1e-9);
  EXPECT_EQ(r.uncovered, 0.0);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
  ASSERT_EQ(trace.events.size(), 1u);
  const WaterfallEvent& e = trace.events[0];
  EXPECT_NEAR(e.insurance_fund_start, 100, 1e-9);
  EXPECT_NEAR(e.insurance_fund_surpluses, 11, 1e-9);
  EXPECT_NEAR(e.insurance_fund_end, 0, 1e-9);
  // Margins: B 109 used for its loss (11 to the fund), C 300, D 100.
  EXPECT_NEAR(channel_total(model, r, "B", LossChannel::kOwnIm), 109, 1e-9);
  EXPECT_NEAR(channel_total(model, r, "C", LossChannel::kOwnIm), 300, 1e-9);
  EXPECT_NEAR(e.adl_cost_avoided, 81 * adl_share, 1e-9);
  // ADL of 50 x 70 / 181 contracts at 92, 2 a contract against the mark: S1
  // (rank 1) closes them out of its 30; S2 keeps its position.
  ASSERT_EQ(e.adl.size(), 1u);
  EXPECT_EQ(e.adl[0].rank, 1);
  EXPECT_EQ(account_name(model, e.adl[0].account), "S1");
  EXPECT_NEAR(e.adl[0].priority, 0.675, 1e-12);
  EXPECT_NEAR(e.adl[0].contracts, 50 * adl_share, 1e-9);
  EXPECT_NEAR(e.adl[0].price, 92, 1e-9);
  EXPECT_NEAR(e.adl[0].loss_vs_mark, 100 * adl_share, 1e-9);
  EXPECT_NEAR(channel_total(model, r, "S1", LossChannel::kAdl), 100 * adl_share, 1e-9);
  EXPECT_EQ(channel_total(model, r, "S2", LossChannel::kAdl), 0.0);
}

TEST(VenueEngine, ThroughStressJsonAndText) {
  const Model model = venue_case();
  const auto outcomes = run_stress(model);
  const auto json = stress_json(model, outcomes);
  const auto& crash = json["stress_scenarios"][0];
  ASSERT_EQ(crash["venue_liquidations"].size(), 3u);
  EXPECT_EQ(crash["venue_liquidations"][0]["account"], "B");
  EXPECT_NEAR(crash["venue_liquidations"][0]["surplus"].get<double>(), 11, 1e-9);
  const auto& event = crash["waterfalls"][0];
  EXPECT_NEAR(event["insurance_fund"]["start"].get<double>(), 100, 1e-9);
  EXPECT_NEAR(event["insurance_fund"]["end"].get<double>(), 0, 1e-9);
  EXPECT_EQ(event["defaulters"][0]["liquidated"], true);
  EXPECT_NEAR(event["defaulters"][0]["to_insurance_fund"].get<double>(), 11, 1e-9);
  EXPECT_EQ(event["adl"][0]["rank"], 1);
  const std::string text = format_stress(model, outcomes);
  EXPECT_NE(text.find("crypto venues liquidate 3 accounts"), std::string::npos) << text;
  EXPECT_NE(text.find("insurance fund 100.00 + surpluses 11.00 - paid 111.00 = 0.00"), std::string::npos) << text;
}

TEST(VenueEngine, ADipLeavesTheFundASurplus) {
  // Only C breaches (equity 100 < 190): cost 0.1 x 3,800 x sqrt(3,800 / 90,000),
  // its margin pays the loss 200 + cost, the rest goes to the fund.
  const Model model = venue_case();
  CascadeTrace trace;
  const ScenarioResult r = stress(model, 1, &trace);
  const double cost = 0.1 * 3800 * std::sqrt(3800.0 / 90000.0);
  ASSERT_EQ(trace.venue.size(), 1u);
  EXPECT_NEAR(trace.venue[0].surplus, 100 - cost, 1e-9);
  ASSERT_EQ(trace.events.size(), 1u);
  EXPECT_NEAR(trace.events[0].insurance_fund_end, 100 + 100 - cost, 1e-9);
  EXPECT_NEAR(layer(r, models::Layer::kInsuranceFund), 0, 1e-12);
  EXPECT_NEAR(layer(r, models::Layer::kDefaulterIm), 200 + cost, 1e-9);
}

TEST(VenueEngine, WithoutMaintenanceRatesTheOwnerDefaultsInstead) {
  // No engine: C's P&L -400 against its capital 350 is a solvency default at
  // the start, and nobody else is closed.
  const Model model = venue_case({{"ccps.V.margin.tiers", "[{up_to: .inf, im: 0.1}]"}});
  const ScenarioResult r = stress(model, 0);
  EXPECT_EQ(r.venue_liquidations, 0);
  ASSERT_EQ(r.defaults.size(), 1u);
  EXPECT_EQ(model.members[static_cast<std::size_t>(r.defaults[0].member)].id, "C");
  EXPECT_EQ(r.defaults[0].cause, DefaultCause::kSolvency);
}

TEST(VenueEngine, AnObservedMaintenanceMarginMovesWithTheMarkNotional) {
  // Without mm rates only B, with an observed maintenance margin of 60 today
  // (6% of its 1,000 notional), is under the engine: at the crash's mark its
  // maintenance is 60 x 900 / 1,000 = 54 > equity 20: liquidated, 11 to the
  // fund. C, not under it, defaults on its P&L instead.
  const Model model =
      venue_case({{"ccps.V.margin.tiers", "[{up_to: .inf, im: 0.1}]"}, {"members.B.maintenance_margin", "{V: 60}"}});
  CascadeTrace trace;
  const ScenarioResult r = stress(model, 0, &trace);
  ASSERT_EQ(trace.venue.size(), 1u);
  EXPECT_EQ(account_name(model, trace.venue[0].account), "B");
  EXPECT_NEAR(trace.venue[0].maintenance_margin, 54, 1e-9);
  EXPECT_NEAR(trace.venue[0].surplus, 11, 1e-9);
  ASSERT_EQ(r.defaults.size(), 1u);
  EXPECT_EQ(model.members[static_cast<std::size_t>(r.defaults[0].member)].id, "C");
  try {
    (void)venue_case({{"ccps.V.kind", "traditional"},
                      {"ccps.V.margin.tiers", "[{up_to: .inf, im: 0.1}]"},
                      {"members.B.maintenance_margin", "{V: 60}"}});
    FAIL() << "no error";
  } catch (const config::ScenarioError& e) {
    EXPECT_NE(std::string(e.what()).find("members[1].maintenance_margin.V: a maintenance margin runs a crypto venue's "
                                         "liquidation engine: CCP 'V' is of kind traditional"),
              std::string::npos)
        << e.what();
  }
}

TEST(VenueEngine, AnInsuranceFundHeldInTheContractsAssetFallsWithIt) {
  // The fund holds X: 100 today, 90 after the crash; + 11 = 101 pays 101 of
  // the 181; 80 left: ADL closes 50 x 80 / 181 = 22.0994 of C's and D's
  // contracts at 92, 2 a contract against the mark, all from S1 (30, ranked
  // first), and their impact cost 81 x 80 / 181 is not incurred.
  const Model model = venue_case({{"ccps.V.insurance_fund_asset", "X"}});
  CascadeTrace trace;
  const ScenarioResult r = stress(model, 0, &trace);
  EXPECT_NEAR(trace.events[0].insurance_fund_start, 90, 1e-9);
  EXPECT_NEAR(layer(r, models::Layer::kInsuranceFund), 101, 1e-9);
  EXPECT_NEAR(layer(r, models::Layer::kAdl), 100 * 80.0 / 181.0, 1e-9);
  EXPECT_NEAR(trace.events[0].adl_cost_avoided, 81 * 80.0 / 181.0, 1e-9);
  ASSERT_EQ(trace.events[0].adl.size(), 1u);
  EXPECT_NEAR(trace.events[0].adl[0].contracts, 50 * 80.0 / 181.0, 1e-9);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
}

TEST(VenueEngine, MaintenanceRatesAreValidated) {
  const auto error = [](std::string_view tiers, std::string_view kind = "crypto_venue") {
    try {
      (void)venue_case({{"ccps.V.margin.tiers", std::string(tiers)}, {"ccps.V.kind", std::string(kind)}});
    } catch (const config::ScenarioError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(error("[{up_to: .inf, im: 0.1, mm: 0.05}]"), "");
  EXPECT_NE(error("[{up_to: .inf, im: 0.1, mm: 0.2}]").find("exceeds the tier's initial margin rate"),
            std::string::npos);
  EXPECT_NE(error("[{up_to: 1000, im: 0.1, mm: 0.05}, {up_to: .inf, im: 0.2}]")
                .find("ccps[0].margin.tiers[1]: a maintenance rate (mm) on some tiers needs one on every tier"),
            std::string::npos);
  EXPECT_NE(error("[{up_to: .inf, im: 0.1, mm: 0.05}]", "traditional").find("apply to kind crypto_venue"),
            std::string::npos);
  try {
    (void)venue_case({{"ccps.V.insurance_fund_asset", "Y"}});
    FAIL() << "no error";
  } catch (const config::ScenarioError& e) {
    EXPECT_NE(std::string(e.what()).find("ccps[0].insurance_fund_asset: unknown asset 'Y'"), std::string::npos)
        << e.what();
  }
}

TEST(VenueEngine, MonteCarloIdenticalForAnyThreadCountAndConserved) {
  const Model model = venue_case({{"simulation.scenarios", "2000"}});
  const auto row = [](const ScenarioResult& r) {
    std::string line = fmt::format("{} {} {} {}", r.index, r.venue_liquidations, r.closeout_loss, r.total_loss);
    for (double x : r.ccp_layers) line += fmt::format(" {}", x);
    return line;
  };
  const auto liquidations = [](const ScenarioResult& r) { return r.venue_liquidations; };
  const int liquidated = test_paths::expect_identical_for_any_threads(model, row, liquidations).counted;
  EXPECT_GT(liquidated, 0);
  EXPECT_LT(liquidated, 2000);
}

TEST(VenueEngine, LiquidationsWithoutADefaultCountInTheCcpsAggregates) {
  // Liquidations are the venue's normal path: no member defaults, yet the
  // margins, the fund and ADL pay. The per-CCP sums must see those scenarios
  // (they were skipped as calm), equal to the scenarios' own layers.
  const Model model = venue_case({{"simulation.scenarios", "2000"}});
  std::vector<double> layers(models::kLayerCount, 0.0);
  int without_default = 0;
  RunOptions options;
  options.on_scenario = [&](const ScenarioResult& r) {
    for (std::size_t l = 0; l < models::kLayerCount; ++l) layers[l] += r.ccp_layers[l];
    without_default += r.venue_liquidations > 0 && r.defaults.empty();
  };
  const RunResult run = run_monte_carlo(model, options);
  ASSERT_GT(without_default, 0);
  double total = 0.0;
  for (std::size_t l = 0; l < models::kLayerCount; ++l) {
    EXPECT_NEAR(run.aggregate.totals().ccp_layers[l], layers[l], 1e-9 * std::max(1.0, layers[l]))
        << models::layer_name(static_cast<models::Layer>(l));
    total += layers[l];
  }
  EXPECT_GT(total, 0.0);
}

// ---- Through time steps (simulation.horizon_days, step_days)
//
// A venue marks to market continuously: unrealised P&L is part of the
// account's margin balance, and the engine liquidates as soon as the margin
// balance falls below the maintenance margin at the mark ("If you cannot
// fulfill your maintenance requirement, you will be liquidated and your
// maintenance margin will be lost", BitMEX, "Liquidation"; dYdX, "Margin":
// maintenance margin requirement = |size x oracle price x MMF|, at the current
// oracle price). A close better than the bankruptcy price adds to the
// insurance fund, a worse one is paid by it (BitMEX, "Liquidation"), which is
// "the first backstop ... used before any deleveraging occurs" (dYdX,
// "Contract Loss Mechanisms"): one balance, drawn and refilled liquidation
// after liquidation, so what day 1 took is not there on day 2.
//
// Hand case: X 100 today, 92 at the end of day 1, 85 at the end of day 2;
// maintenance 5% of the mark notional; impact k = 0.1, ADV 90,000; fund 100.
//   day 1: D (long 10, margin 60): equity 60 - 80 = -20 < 46: liquidated;
//          cost 0.1 x 920 x sqrt(920 / 90,000) = 9.30166, shortfall 29.30166,
//          paid by the fund: 70.69834 left.
//          C (long 40, margin 520): equity 200 >= 184: kept (on day 1).
//          A (long 10, margin 200): 120 >= 46.
//   day 2: C: equity 520 - 600 = -80 < 170: liquidated at 85; cost
//          0.1 x 3,400 x sqrt(3,400 / 90,000) = 66.08412, shortfall 146.08412;
//          the fund pays the 70.69834 day 1 left, 75.38578 goes to ADL.
//          A: 50 >= 42.5: kept.
//   ADL: C's bankruptcy price 100 - 520 / 40 = 87 against the mark 85; the
//   share 75.38578 / 146.08412 of its 40 contracts, 20.64175, is closed
//   against S1 (ranked first: PnL% 0.15 x leverage 2,550 / (100 + 450) =
//   0.69545; S2 0.15 x 2,550 / 850 = 0.45), 2 a contract against S1's mark:
//   41.28349; their impact cost, 66.08412 x 0.51604 = 34.10229, is not paid.
//   Layers: margins 60 + 520, fund 100, ADL 41.28349 = close-out losses
//   89.30166 + 666.08412 - 34.10229 = 721.28349.
constexpr std::string_view kTwoDays = R"(name: two days at a venue
simulation: {horizon_days: 2, step_days: 1}
market:
  assets: [{id: X, price: 100, volatility: 0.8, adv: 90000, liquidation_cost: 0.1}]
ccps:
  - {id: V, kind: crypto_venue, capital: 1000, insurance_fund: 100,
     margin: {model: tiered, mpor_days: 1, tiers: [{up_to: .inf, im: 0.1, mm: 0.05}]}}
members:
  - {id: A, capital: 1000, liquidity: 1000, positions: {V: {X: 10}}, initial_margin: {V: 200}}
  - {id: C, capital: 1000, liquidity: 1000, positions: {V: {X: 40}}, initial_margin: {V: 520}}
  - {id: D, capital: 1000, liquidity: 1000, positions: {V: {X: 10}}, initial_margin: {V: 60}}
  - {id: S1, capital: 1000, liquidity: 1000, positions: {V: {X: -30}}, initial_margin: {V: 100}}
  - {id: S2, capital: 1000, liquidity: 1000, positions: {V: {X: -30}}, initial_margin: {V: 400}}
)";

Model two_days(std::vector<config::Override> overrides = {}) {
  return build_model(config::load_scenario_text(kTwoDays, "t.yaml", std::move(overrides)));
}

TEST(VenueSteps, ALongBreachesOnDayTwoNotDayOneAndTheFundPaysInTimeOrder) {
  const Model model = two_days();
  ASSERT_EQ(model.steps.count, 2);
  CascadeTrace trace;
  const ScenarioResult r = run_move(model, path_of(model, {100, 92, 85}), &trace);
  const double cost_d = 0.1 * 920 * std::sqrt(920.0 / 90000), cost_c = 0.1 * 3400 * std::sqrt(3400.0 / 90000);
  const double left = 100 - (20 + cost_d), share = (80 + cost_c - left) / (80 + cost_c);
  EXPECT_TRUE(r.defaults.empty());
  EXPECT_EQ(r.venue_liquidations, 2);
  ASSERT_EQ(trace.venue.size(), 2u);
  EXPECT_EQ(account_name(model, trace.venue[0].account), "D");
  EXPECT_EQ(trace.venue[0].day, 1.0);
  EXPECT_NEAR(trace.venue[0].pnl, -80, 1e-9);
  EXPECT_NEAR(trace.venue[0].maintenance_margin, 46, 1e-9);
  EXPECT_NEAR(trace.venue[0].shortfall, 20 + cost_d, 1e-9);
  EXPECT_EQ(account_name(model, trace.venue[1].account), "C");
  EXPECT_EQ(trace.venue[1].day, 2.0);
  EXPECT_NEAR(trace.venue[1].pnl, -600, 1e-9);
  EXPECT_NEAR(trace.venue[1].maintenance_margin, 170, 1e-9);
  EXPECT_NEAR(trace.venue[1].bankruptcy_price, 87, 1e-9);
  EXPECT_NEAR(trace.venue[1].execution_price, 85 - cost_c / 40, 1e-9);
  // The fund: 100 -> 70.69834 on day 1, all of it on day 2.
  ASSERT_EQ(trace.events.size(), 2u);
  EXPECT_EQ(trace.events[0].day, 1.0);
  EXPECT_NEAR(trace.events[0].insurance_fund_start, 100, 1e-9);
  EXPECT_NEAR(trace.events[0].insurance_fund_end, left, 1e-9);
  EXPECT_TRUE(trace.events[0].adl.empty());
  EXPECT_EQ(trace.events[1].day, 2.0);
  EXPECT_NEAR(trace.events[1].insurance_fund_start, left, 1e-9);
  EXPECT_NEAR(trace.events[1].insurance_fund_end, 0, 1e-9);
  ASSERT_EQ(trace.events[1].adl.size(), 1u);
  const AdlLine& adl = trace.events[1].adl[0];
  EXPECT_EQ(account_name(model, adl.account), "S1");
  EXPECT_NEAR(adl.priority, 0.15 * 2550.0 / 550.0, 1e-12);
  EXPECT_NEAR(adl.contracts, 40 * share, 1e-9);
  EXPECT_NEAR(adl.price, 87, 1e-9);
  EXPECT_NEAR(adl.loss_vs_mark, 2 * 40 * share, 1e-9);
  using L = models::Layer;
  EXPECT_NEAR(layer(r, L::kDefaulterIm), 580, 1e-9);
  EXPECT_NEAR(layer(r, L::kInsuranceFund), 100, 1e-9);
  EXPECT_NEAR(layer(r, L::kAdl), 2 * 40 * share, 1e-9);
  EXPECT_NEAR(r.closeout_loss, 80 + cost_d + 600 + cost_c - cost_c * share, 1e-9);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
  // Each trader loses its margin, never more.
  EXPECT_NEAR(channel_total(model, r, "C", LossChannel::kOwnIm), 520, 1e-9);
  EXPECT_NEAR(channel_total(model, r, "D", LossChannel::kOwnIm), 60, 1e-9);
  EXPECT_NEAR(channel_total(model, r, "S1", LossChannel::kAdl), 2 * 40 * share, 1e-9);
}

TEST(VenueSteps, StressTellsWhoIsLiquidatedOnWhichDay) {
  // The same path as a stress scenario given day by day: 92 / 100 - 1, then 85 / 92 - 1.
  std::string yaml(kTwoDays);
  const std::string at = "  assets: [{id: X, price: 100, volatility: 0.8, adv: 90000, liquidation_cost: 0.1}]\n";
  ASSERT_NE(yaml.find(at), std::string::npos);
  yaml.replace(yaml.find(at), at.size(),
               at + "  stress_scenarios: [{name: two days, path: [{X: -0.08}, {X: -0.07608695652173914}]}]\n");
  const Model model = build_model(config::load_scenario_text(yaml, "t.yaml"));
  const auto outcomes = run_stress(model);
  const std::string text = format_stress(model, outcomes);
  EXPECT_NE(text.find("crypto venues liquidate 2 accounts: 1 on day 1, 1 on day 2"), std::string::npos) << text;
  EXPECT_NE(text.find("V waterfall, round 3 (day 2)"), std::string::npos) << text;
  const auto json = stress_json(model, outcomes);
  const auto& lines = json["stress_scenarios"][0]["venue_liquidations"];
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["account"], "D");
  EXPECT_EQ(lines[0]["day"], 1.0);
  EXPECT_EQ(lines[1]["account"], "C");
  EXPECT_EQ(lines[1]["day"], 2.0);
  EXPECT_NEAR(lines[1]["shortfall"].get<double>(), 80 + 0.1 * 3400 * std::sqrt(3400.0 / 90000), 1e-9);
}

TEST(VenueSteps, AFundHeldInTheAssetIsValuedAtEachStepsPrice) {
  // The fund holds 1 X (100 today): 92 at day 1's close, pays D's 29.30166
  // (62.69834 USD left, 62.69834 / 92 X), worth 62.69834 x 85 / 92 = 57.92783
  // at day 2's, all of it paid for C.
  const Model model = two_days({{"ccps.V.insurance_fund_asset", "X"}});
  CascadeTrace trace;
  const ScenarioResult r = run_move(model, path_of(model, {100, 92, 85}), &trace);
  const double cost_d = 0.1 * 920 * std::sqrt(920.0 / 90000);
  const double after = 92 - (20 + cost_d);
  ASSERT_EQ(trace.events.size(), 2u);
  EXPECT_NEAR(trace.events[0].insurance_fund_start, 92, 1e-9);
  EXPECT_NEAR(trace.events[0].insurance_fund_end, after, 1e-9);
  EXPECT_NEAR(trace.events[1].insurance_fund_start, after * 85 / 92, 1e-9);
  EXPECT_NEAR(layer(r, models::Layer::kInsuranceFund), 20 + cost_d + after * 85 / 92, 1e-9);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
}

TEST(VenueSteps, OneStepOfTheMporIsTheOnePeriodEngine) {
  for (const std::vector<config::Override>& extra :
       {std::vector<config::Override>{}, std::vector<config::Override>{{"ccps.V.insurance_fund_asset", "X"}}}) {
    auto with_steps = extra;
    with_steps.push_back({"simulation.horizon_days", "1"});
    const Model one = venue_case(extra), steps = venue_case(with_steps);
    ASSERT_EQ(one.steps.count, 0);
    ASSERT_EQ(steps.steps.count, 1);
    for (std::size_t i = 0; i < one.stress_scenarios.size(); ++i) {
      CascadeTrace ta, tb;
      const ScenarioResult a = stress(one, i, &ta), b = stress(steps, i, &tb);
      EXPECT_EQ(a.venue_liquidations, b.venue_liquidations);
      EXPECT_NEAR(a.closeout_loss, b.closeout_loss, 1e-9);
      for (std::size_t l = 0; l < a.ccp_layers.size(); ++l) EXPECT_NEAR(a.ccp_layers[l], b.ccp_layers[l], 1e-9);
      ASSERT_EQ(ta.venue.size(), tb.venue.size());
      for (std::size_t v = 0; v < ta.venue.size(); ++v) EXPECT_NEAR(ta.venue[v].shortfall, tb.venue[v].shortfall, 1e-9);
      ASSERT_EQ(ta.events.size(), tb.events.size());
      for (std::size_t e = 0; e < ta.events.size(); ++e) {
        ASSERT_EQ(ta.events[e].adl.size(), tb.events[e].adl.size());
        for (std::size_t k = 0; k < ta.events[e].adl.size(); ++k)
          EXPECT_NEAR(ta.events[e].adl[k].contracts, tb.events[e].adl[k].contracts, 1e-9);
      }
    }
    const int liquidated = test_paths::expect_steps_equal_one_period(
        one, steps, 400, [](const ScenarioResult& r) { return r.venue_liquidations; });
    EXPECT_GT(liquidated, 20);
  }
}

TEST(VenueSteps, MonteCarloPathsConserveAndAreIdenticalForAnyThreadCount) {
  // Five daily steps: an account reaches its maintenance margin in more
  // scenarios than over one day, and every path's losses have their payers.
  const auto row = [](const ScenarioResult& r) {
    return fmt::format("{} {} {} {}", r.index, r.venue_liquidations, r.closeout_loss, r.total_loss);
  };
  const auto liquidations = [](const ScenarioResult& r) { return r.venue_liquidations; };
  const std::vector<config::Override> base = {{"simulation.scenarios", "1000"}, {"ccps.V.insurance_fund_asset", "X"}};
  auto daily = base;
  daily.push_back({"simulation.horizon_days", "5"});
  daily.push_back({"simulation.step_days", "1"});
  const int over_five = test_paths::expect_identical_for_any_threads(venue_case(daily), row, liquidations).counted;
  const int over_one = test_paths::expect_identical_for_any_threads(venue_case(base), row, liquidations).counted;
  EXPECT_GT(over_one, 0);
  EXPECT_GT(over_five, over_one);
}

// Fire sales: a venue's liquidation sells into the same market as a CCP's
// close-out of the same day (models/market/fire_sale.hpp, the square-root
// law on the day's joint flow). X 100, ADV 1e6, k 0.5, no market move: D1
// defaults at A (long 400, 40,000 USD); L at the venue V is long 400 with a
// margin of 1,000 against a maintenance margin of 2,000: liquidated at the
// end of day 1. Together the flow is -80,000: the price falls by
// 0.5 sqrt(0.08) = 14.1421%, and each close costs 40,000 x 0.141421 =
// 5,656.85 (alone: 0.5 x 40,000 x 0.2 = 4,000).
TEST(VenueSteps, AVenueLiquidationJoinsTheDaysFireSaleFlow) {
  const Model model = build_model(config::load_scenario_text(R"(name: a venue and a CCP selling X the same day
market:
  assets: [{id: X, price: 100, volatility: 0.5, adv: 1.0e6, liquidation_cost: 0.5}]
  fire_sales: true
ccps:
  - {id: A, capital: 1e6, sitg: 10, margin: {model: parametric, mpor_days: 1}, default_fund: {sizing: fixed, amount: 1000}}
  - {id: V, kind: crypto_venue, capital: 1e6, insurance_fund: 1e6,
     margin: {model: tiered, mpor_days: 1, tiers: [{up_to: .inf, im: 0.1, mm: 0.05}]}}
members:
  - {id: D1, capital: 1e6, liquidity: 1e6, positions: {A: {X: 400}}, initial_margin: {A: 10000}, default_fund: {A: 100}}
  - {id: N1, capital: 1e6, liquidity: 1e6, positions: {A: {X: -400}}, initial_margin: {A: 10000}, default_fund: {A: 900}}
  - {id: L, capital: 1e6, liquidity: 1e6, positions: {V: {X: 400}}, initial_margin: {V: 1000}}
  - {id: S, capital: 1e6, liquidity: 1e6, positions: {V: {X: -400}}, initial_margin: {V: 8000}}
defaults: {exogenous: [D1]}
)",
                                                             "t.yaml"));
  ASSERT_EQ(model.steps.count, 1);
  CascadeTrace trace;
  const ScenarioResult r = run_move(model, Eigen::MatrixXd::Zero(1, 1), &trace);
  const double joint = 40000 * 0.5 * std::sqrt(0.08);
  ASSERT_EQ(trace.venue.size(), 1u);
  EXPECT_NEAR(trace.venue[0].impact_cost, joint, 1e-6);
  EXPECT_NEAR(trace.venue[0].shortfall, joint - 1000, 1e-6);
  EXPECT_NEAR(trace.venue[0].execution_price, 100 - joint / 400, 1e-9);
  EXPECT_NEAR(r.ccp_closeout[0], joint, 1e-6);  // D1's close-out at A: its cost alone would be 4,000
  EXPECT_NEAR(std::expm1(r.price_impact[0]), -0.5 * std::sqrt(0.08), 1e-12);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
}

}  // namespace test_venue_liquidation
}  // namespace ccpnet

namespace ccpnet {
namespace test_venue_liquidation {

// scenarios/adl_crash_day.yaml, "the crash reversed the next day": day 1 is
// the crash day (12 longs liquidated, the shorts deleveraged at 162.21, all
// 25,000 of SHORT_08's contracts among them); ALT is back at 200 on day 2.
// The contracts ADL closed are off the shorts' books, so no short is
// liquidated or defaults on the rebound (SHORT_08 would owe 25,000 x 80 on
// contracts it no longer holds).
TEST(VenueSteps, AShortDeleveragedOnTheCrashDoesNotPayTheRebound) {
  const Model model =
      build_model(config::load_scenario_file(std::string(CCPNET_SOURCE_DIR) + "/scenarios/adl_crash_day.yaml", {}));
  const std::vector<StressOutcome> outcomes = run_stress(model);
  const auto whipsaw = std::find_if(outcomes.begin(), outcomes.end(), [](const StressOutcome& o) {
    return o.stress.name.starts_with("the crash reversed the next day");
  });
  ASSERT_NE(whipsaw, outcomes.end());
  EXPECT_TRUE(whipsaw->result.defaults.empty());
  for (const VenueLine& l : whipsaw->trace.venue) EXPECT_EQ(l.day, 1.0) << account_name(model, l.account);
  double short_08 = 0.0;
  for (const WaterfallEvent& e : whipsaw->trace.events) {
    EXPECT_EQ(e.day, 1.0);
    for (const AdlLine& a : e.adl)
      if (account_name(model, a.account) == "SHORT_08") short_08 += a.contracts;
  }
  EXPECT_NEAR(short_08, 25000.0, 1e-6);
  EXPECT_NEAR(whipsaw->result.ledger_total(), whipsaw->result.closeout_loss, 1e-9 * whipsaw->result.closeout_loss);
}

}  // namespace test_venue_liquidation
}  // namespace ccpnet
