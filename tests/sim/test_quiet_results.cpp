// Quiet scenarios (ScenarioResult::quiet): a scenario in which nothing but the
// market move happened is marked by the engine, and its readers (the
// metrics, scenarios.csv) take one result that stays in the cache instead of
// its own; reset() does not re-zero it. The mark must be safe: a quiet result
// holds exactly what reset() gives, a run reads the same numbers as each
// scenario computed alone, and a quiet row of scenarios.csv is the row of
// its own values.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sim/config/load.hpp"
#include "sim/model.hpp"
#include "sim/output.hpp"
#include "sim/runner.hpp"
#include "tests/sim/files.hpp"

namespace ccpnet {
namespace test_quiet_results {

namespace fs = std::filesystem;

// The reference network with fewer members, its volatilities scaled.
Model reference(const std::vector<config::Override>& extra, const std::string& volatility = "2") {
  std::vector<config::Override> o = {{"generator.members", "300"},
                                     {"simulation.scenarios", "512"},
                                     {"market.shocks.volatility_multiplier", volatility},
                                     {"defaults.latent.pd", "0.0001"}};
  o.insert(o.end(), extra.begin(), extra.end());
  return build_model(
      config::load_scenario_file(std::string(CCPNET_SOURCE_DIR) + "/scenarios/reference_network.yaml", o));
}

const std::vector<config::Override> kTenDays = {{"simulation.horizon_days", "10"}, {"simulation.step_days", "1"}};

// Every field of `r` but its index and market factor is what reset() gives.
void expect_as_reset(const Model& model, const ScenarioResult& r, const std::string& where) {
  ScenarioResult e;
  e.reset(model, r.index);
  EXPECT_EQ(r.rounds, e.rounds) << where;
  for (const auto& [x, y] : {std::pair{r.closeout_loss, e.closeout_loss},
                             {r.total_loss, e.total_loss},
                             {r.uncovered, e.uncovered},
                             {r.failure_principal, e.failure_principal},
                             {r.interbank_shortfall, e.interbank_shortfall},
                             {r.interbank_loss, e.interbank_loss},
                             {r.client_loss, e.client_loss},
                             {r.liquidity_shortfall, e.liquidity_shortfall},
                             {r.peak_liquidity_need, e.peak_liquidity_need}})
    EXPECT_EQ(x, y) << where;
  for (const auto& [x, y] : {std::pair{r.clients_ported, e.clients_ported},
                             {r.clients_closed_out, e.clients_closed_out},
                             {r.settlement_defaults, e.settlement_defaults},
                             {r.liquidations, e.liquidations},
                             {r.venue_liquidations, e.venue_liquidations}})
    EXPECT_EQ(x, y) << where;
  for (const auto& [x, y] : {std::pair{&r.ccp_layers, &e.ccp_layers},
                             {&r.ccp_uncovered, &e.ccp_uncovered},
                             {&r.ccp_df_used, &e.ccp_df_used},
                             {&r.ccp_closeout, &e.ccp_closeout},
                             {&r.ccp_link_in, &e.ccp_link_in},
                             {&r.ccp_link_out, &e.ccp_link_out},
                             {&r.ccp_resolution_members, &e.ccp_resolution_members},
                             {&r.ccp_resolution_links, &e.ccp_resolution_links},
                             {&r.ccp_unallocated, &e.ccp_unallocated},
                             {&r.ccp_fail_day, &e.ccp_fail_day},
                             {&r.price_impact, &e.price_impact},
                             {&r.ccp_recovery, &e.ccp_recovery},
                             {&r.ccp_auction_cost, &e.ccp_auction_cost},
                             {&r.ccp_unplaced, &e.ccp_unplaced},
                             {&r.ccp_peak_liquidity_need, &e.ccp_peak_liquidity_need},
                             {&r.member_peak_liquidity_need, &e.member_peak_liquidity_need},
                             {&r.settlement.ccp, &e.settlement.ccp},
                             {&r.settlement.chain, &e.settlement.chain},
                             {&r.settlement.bridge, &e.settlement.bridge},
                             {&r.settlement.daily, &e.settlement.daily}})
    EXPECT_EQ(*x, *y) << where;
  EXPECT_EQ(r.ccp_fail_round, e.ccp_fail_round) << where;
  EXPECT_EQ(r.ccp_fail_cause, e.ccp_fail_cause) << where;
  EXPECT_TRUE(r.defaults.empty()) << where;
  EXPECT_TRUE(r.account_losses.empty()) << where;
}

// Scenario by scenario (run_scenario: the engine's own result, not what a
// reader is given): a quiet one holds what reset() gives; one with a default
// or a loss is not quiet. Both kinds occur: volatility x3 over one period,
// x2 over ten daily steps.
TEST(QuietResults, AQuietScenarioHoldsWhatResetGives) {
  for (const bool days : {false, true}) {
    const Model model = days ? reference(kTenDays) : reference({}, "3");
    int quiet = 0, loud = 0;
    for (std::int64_t i = 0; i < 160; ++i) {
      const ScenarioResult r = run_scenario(model, i);
      if (!r.defaults.empty() || r.closeout_loss > 0.0) {
        EXPECT_FALSE(r.quiet) << i;
      }
      if (!r.quiet) {
        ++loud;
        continue;
      }
      ++quiet;
      expect_as_reset(model, r, fmt::format("scenario {}{}", i, days ? ", ten days" : ""));
    }
    EXPECT_GT(quiet, 10) << days;
    EXPECT_GT(loud, 10) << days;
  }
}

// The same for every file of the scenario library but the reference network
// (tested above): lending protocols, venues' liquidation engines, fire
// sales, settlement layers, clients, the interbank network, time steps.
TEST(QuietResults, EveryLibraryScenarioMarkedQuietHoldsWhatResetGives) {
  int quiet = 0;
  for (const auto& entry : fs::directory_iterator(std::string(CCPNET_SOURCE_DIR) + "/scenarios")) {
    if (entry.path().extension() != ".yaml" || entry.path().stem() == "reference_network") continue;
    const Model model = build_model(config::load_scenario_file(entry.path().string(), {}));
    for (std::int64_t i = 0; i < 24; ++i) {
      const ScenarioResult r = run_scenario(model, i);
      if (!r.quiet) continue;
      ++quiet;
      EXPECT_FALSE(model.settlement_active) << entry.path().filename();
      expect_as_reset(model, r, fmt::format("{} scenario {}", entry.path().filename().string(), i));
    }
  }
  EXPECT_GT(quiet, 24);
}

// A run reuses its result slots window after window (1,536 scenarios on one
// thread in batches of 64: windows of 768, 384, 192, 128 and 64 scenarios
// in two buffers of 768 results, so the scenarios from 1,152 on are a slot's
// second or third), and reset() keeps a quiet slot as it is: the numbers a
// run hands its readers equal those of each scenario computed alone.
TEST(QuietResults, ARunReadsWhatEachScenarioAloneGives) {
  for (const bool days : {false, true}) {
    const Model model = days ? reference(kTenDays) : reference({}, "3");
    std::vector<std::vector<double>> seen;
    std::vector<std::vector<double>> df_used;
    std::vector<std::size_t> defaults;
    RunOptions options;
    options.threads = 1;
    options.batch = 64;
    options.count = 1536;
    options.on_scenario = [&](const ScenarioResult& r) {
      scenario_values(model, r, seen.emplace_back());
      df_used.push_back(r.ccp_df_used);
      defaults.push_back(r.defaults.size());
    };
    run_monte_carlo(model, options);
    ASSERT_EQ(seen.size(), 1536u);
    std::vector<double> alone_values;
    for (std::int64_t i = 1024; i < 1536; i += 16) {
      const ScenarioResult alone = run_scenario(model, i);
      const auto k = static_cast<std::size_t>(i);
      scenario_values(model, alone, alone_values);
      EXPECT_EQ(seen[k], alone_values) << i << (days ? ", ten days" : "");
      EXPECT_EQ(df_used[k], alone.ccp_df_used) << i;
      EXPECT_EQ(defaults[k], alone.defaults.size()) << i;
    }
  }
}

// reset() keeps a quiet result's fields only when they are shaped for the
// model it is reset for: a result reset for a network of 10 CCPs, then for
// one of 2, has the second's per-CCP fields; one without a settlement
// outcome, reset for a model with a settlement layer, gets its outcome.
TEST(QuietResults, AQuietResultOfAnotherShapeIsResetInFull) {
  const Model ten = reference({});
  const Model two =
      build_model(config::load_scenario_file(std::string(CCPNET_SOURCE_DIR) + "/scenarios/two_ccp_peer.yaml", {}));
  ScenarioResult r;
  r.reset(ten, 3);
  r.quiet = true;
  r.reset(two, 4);
  EXPECT_FALSE(r.quiet);
  EXPECT_EQ(r.index, 4);
  EXPECT_EQ(r.ccp_closeout.size(), two.ccps.size());
  EXPECT_EQ(r.ccp_layers.size(), two.ccps.size() * models::kLayerCount);
  // An evaluated result is emptied: nothing of its scenario is left.
  r.closeout_loss = 5.0;
  r.ccp_layers[1] = 7.0;
  r.defaults.push_back({1, 1, DefaultCause::kSolvency, 0.0});
  r.reset(two, 5);
  EXPECT_EQ(r.closeout_loss, 0.0);
  EXPECT_EQ(r.ccp_layers[1], 0.0);
  EXPECT_TRUE(r.defaults.empty());
  // The settlement outcome.
  const Model settling = build_model(
      config::load_scenario_file(std::string(CCPNET_SOURCE_DIR) + "/scenarios/settlement_squeeze.yaml", {}));
  ASSERT_TRUE(settling.settlement_active);
  r.reset(settling, 6);
  const std::size_t outcome = r.settlement.ccp.size();
  ASSERT_GT(outcome, 0u);
  r.settlement.ccp.clear();
  r.quiet = true;
  r.reset(settling, 7);
  EXPECT_EQ(r.settlement.ccp.size(), outcome);
}

using ccpnet::test_files::read_text;

// scenarios.csv written from the results as a run hands them over (a quiet
// row from the cached text of the cells every quiet row has) equals the one
// written from copies not marked quiet (every row from its values).
TEST(QuietResults, AQuietRowIsTheRowOfItsValues) {
  for (const bool days : {false, true}) {
    const Model model = days ? reference(kTenDays) : reference({});
    const fs::path base = fs::temp_directory_path() / fmt::format("ccpnet-quiet-{}-{}", ::getpid(), days);
    fs::remove_all(base);
    OutputWriter quick(model, OutputInfo{"t.yaml", "", "", (base / "quick").string()});
    OutputWriter full(model, OutputInfo{"t.yaml", "", "", (base / "full").string()});
    int quiet = 0;
    RunOptions options;
    options.threads = 2;
    options.count = 512;
    options.on_scenario = [&](const ScenarioResult& r) {
      quiet += r.quiet ? 1 : 0;
      quick.scenario(r);
      ScenarioResult copy = r;
      copy.quiet = false;
      full.scenario(copy);
    };
    const RunResult result = run_monte_carlo(model, options);
    quick.finish(result);
    full.finish(result);
    EXPECT_GT(quiet, 10);
    const std::string rows = read_text(base / "quick" / "scenarios.csv");
    EXPECT_EQ(rows, read_text(base / "full" / "scenarios.csv"));
    EXPECT_EQ(std::count(rows.begin(), rows.end(), '\n'), 513);  // the header and a row per scenario
    fs::remove_all(base);
  }
}

}  // namespace test_quiet_results
}  // namespace ccpnet
