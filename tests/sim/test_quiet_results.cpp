// Quiet scenarios (ScenarioResult::quiet): a scenario in which nothing but the
// market move happened is marked by the engine, and its readers (the
// metrics, scenarios.csv) take one result that stays in the cache instead of
// its own. The mark must be safe: a quiet result holds exactly what reset()
// gives, and its row in scenarios.csv is the row of its own values.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "sim/config/load.hpp"
#include "sim/model.hpp"
#include "sim/output.hpp"
#include "sim/runner.hpp"

namespace ccpnet {
namespace {

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

// Scenario by scenario (run_scenario: the engine's own result, not a
// reader's): a quiet one has no default, no member loss and the values of a
// result just reset; a scenario with a default is never quiet. Both kinds
// occur: volatility x3 over one period, x2 over ten daily steps.
TEST(QuietResults, AQuietScenarioHoldsWhatResetGives) {
  for (const bool days : {false, true}) {
    const Model model =
        days ? reference({{"simulation.horizon_days", "10"}, {"simulation.step_days", "1"}}) : reference({}, "3");
    int quiet = 0, loud = 0;
    std::vector<double> values, expected;
    for (std::int64_t i = 0; i < 160; ++i) {
      const ScenarioResult r = run_scenario(model, i);
      if (!r.quiet) {
        ++loud;
        continue;
      }
      ++quiet;
      EXPECT_TRUE(r.defaults.empty()) << i;
      EXPECT_TRUE(r.account_losses.empty()) << i;
      ScenarioResult fresh;
      fresh.reset(model, i);
      fresh.market_factor = r.market_factor;
      scenario_values(model, r, values);
      scenario_values(model, fresh, expected);
      EXPECT_EQ(values, expected) << "scenario " << i << (days ? ", ten days" : ", one period");
    }
    EXPECT_GT(quiet, 10) << days;
    EXPECT_GT(loud, 10) << days;
  }
}

// reset() leaves a quiet result's fields as they are only when they are
// shaped for the model it is reset for: a result reset for a network of
// 10 CCPs, then for one of 2, has the second's per-CCP fields.
TEST(QuietResults, AQuietResultOfAnotherModelIsResetInFull) {
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
  // And an evaluated result is emptied: nothing of its scenario is left.
  r.closeout_loss = 5.0;
  r.ccp_layers[1] = 7.0;
  r.defaults.push_back({1, 1, DefaultCause::kSolvency, 0.0});
  r.reset(two, 5);
  EXPECT_EQ(r.closeout_loss, 0.0);
  EXPECT_EQ(r.ccp_layers[1], 0.0);
  EXPECT_TRUE(r.defaults.empty());
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// scenarios.csv written from the results as a run hands them over (quiet
// rows from the cached text of the cells every quiet scenario has) equals
// the one written from copies not marked quiet (every row from its values).
TEST(QuietResults, AQuietRowIsTheRowOfItsValues) {
  const Model model = reference({});
  const fs::path base = fs::temp_directory_path() / fmt::format("ccpnet-quiet-{}", ::getpid());
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

}  // namespace
}  // namespace ccpnet
