// A crypto venue's liquidation engine in the cascade: an account whose equity
// falls below its maintenance margin is closed in the market before its owner
// can default; the insurance fund takes the surplus or pays the shortfall
// against the bankruptcy price; ADL closes what the fund cannot pay. The hand
// case, its numbers and their sources are in tests/data/hand/venue_liquidations.yaml.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "sim/config/load.hpp"
#include "sim/model.hpp"
#include "sim/runner.hpp"
#include "sim/shocks.hpp"
#include "sim/stress.hpp"

namespace ccpnet {
namespace {

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
  int liquidated = 0;
  const auto text = [&](int threads) {
    std::string rows;
    liquidated = 0;
    RunOptions options;
    options.threads = threads;
    options.on_scenario = [&](const ScenarioResult& r) {
      rows += fmt::format("{} {} {} {}", r.index, r.venue_liquidations, r.closeout_loss, r.total_loss);
      for (double x : r.ccp_layers) rows += fmt::format(" {}", x);
      rows += '\n';
      liquidated += r.venue_liquidations > 0;
      EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9 * std::max(1.0, r.closeout_loss));
    };
    (void)run_monte_carlo(model, options);
    return rows;
  };
  const std::string reference = text(1);
  EXPECT_GT(liquidated, 0);
  EXPECT_LT(liquidated, 2000);
  EXPECT_EQ(text(2), reference);
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

}  // namespace
}  // namespace ccpnet
