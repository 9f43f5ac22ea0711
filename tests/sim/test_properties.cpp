// Properties of the cascade on random systems (drawn by the synthetic
// generator with random parameters): every dollar of loss is taken by a named
// layer or reported as uncovered; a bigger shock or an extra exogenous default
// never yields fewer defaults or smaller losses; the cascade ends within
// members + CCPs + 1 rounds.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <random>

#include "sim/config/load.hpp"
#include "sim/model.hpp"
#include "sim/runner.hpp"

namespace ccpnet {
namespace {

std::string random_system(std::mt19937_64& gen, bool links) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const int n_ccps = 2 + static_cast<int>(u(gen) * 3);
  std::string y = "name: random system\nseed: " + std::to_string(gen() % 1000) + "\nmarket:\n  assets:\n";
  for (int a = 0; a < 4; ++a)
    y += fmt::format("    - {{id: A{}, price: {}, volatility: {}}}\n", a, 10 + 100 * u(gen), 0.3 + u(gen));
  y += "  correlation: {default: 0.4}\nccps:\n";
  for (int c = 0; c < n_ccps; ++c)
    y += fmt::format("  - {{id: C{}, capital: {}, margin: {{model: parametric, mpor_days: {}}}}}\n", c,
                     1e5 + 1e6 * u(gen), 1 + static_cast<int>(u(gen) * 3));
  y += fmt::format(
      "generator: {{members: {}, memberships: 1.8, notional: 1.0e5, capital_ratio: {}, liquidity_ratio: 0.3, "
      "group_size: {}, assets_per_account: 3}}\n",
      20 + static_cast<int>(u(gen) * 40), 0.05 + 0.2 * u(gen), 1 + static_cast<int>(u(gen) * 2));
  if (links) {
    y += "links:\n";
    for (int c = 1; c < n_ccps; ++c) y += fmt::format("  - {{between: [C0, C{}]}}\n", c);
  }
  return y;
}

Model build(const std::string& yaml, std::vector<config::Override> o = {}) {
  return build_model(config::load_scenario_text(yaml, "random.yaml", o));
}

double accounted(const ScenarioResult& r) {
  double x = 0.0;
  for (double v : r.ccp_layers) x += v;
  for (double v : r.ccp_uncovered) x += v;
  return x;
}

TEST(Properties, ConservationAndTerminationOnRandomSystems) {
  std::mt19937_64 gen(20261124);
  for (int trial = 0; trial < 12; ++trial) {
    const Model model = build(random_system(gen, trial % 2 == 0),
                              {{"market.shocks", "{model: student_t, dof: 3, volatility_multiplier: 3}"},
                               {"defaults.latent", "{pd: 0.02, beta: 0.5}"}});
    RunOptions options;
    options.count = 2048;
    options.threads = 2;
    int problems = 0, stressed = 0;
    options.on_scenario = [&](const ScenarioResult& r) {
      stressed += r.defaults.empty() ? 0 : 1;
      const double scale = std::max(1.0, r.closeout_loss);
      if (std::abs(accounted(r) - r.closeout_loss) > 1e-9 * scale && problems++ < 3)
        ADD_FAILURE() << "trial " << trial << " scenario " << r.index << ": close-out " << r.closeout_loss
                      << " vs layers + uncovered " << accounted(r);
      if (r.rounds > static_cast<int>(model.members.size() + model.ccps.size()) + 1 && problems++ < 3)
        ADD_FAILURE() << "trial " << trial << ": " << r.rounds << " rounds";
    };
    run_monte_carlo(model, options);
    EXPECT_GT(stressed, 0) << "trial " << trial << " exercised no cascade";
  }
}

TEST(Properties, ABiggerShockNeverYieldsFewerDefaultsOrSmallerLosses) {
  std::mt19937_64 gen(7);
  for (int trial = 0; trial < 8; ++trial) {
    const Model model = build(random_system(gen, trial % 2 == 1));
    config::StressScenarioConfig crash;
    crash.name = "crash";
    for (const auto& a : model.assets) crash.moves.emplace_back(a.id, -0.2);
    std::size_t defaults = 0;
    double loss = 0.0;
    for (double k = 0.25; k <= 4.0; k += 0.25) {
      const ScenarioResult r = run_move(model, stress_move(model, crash, k));
      EXPECT_GE(r.defaults.size(), defaults) << "trial " << trial << " multiple " << k;
      EXPECT_GE(r.closeout_loss, loss * (1 - 1e-12)) << "trial " << trial << " multiple " << k;
      defaults = r.defaults.size();
      loss = r.closeout_loss;
    }
  }
}

TEST(Properties, AnExtraExogenousDefaultNeverYieldsFewerDefaults) {
  std::mt19937_64 gen(11);
  for (int trial = 0; trial < 8; ++trial) {
    const std::string yaml = random_system(gen, trial % 2 == 0);
    const Model base = build(yaml, {{"defaults.exogenous", "[GM01]"}});
    const Model more = build(yaml, {{"defaults.exogenous", "[GM01, GM02]"}});
    config::StressScenarioConfig crash;
    crash.name = "crash";
    for (const auto& a : base.assets) crash.moves.emplace_back(a.id, -0.3);
    const ScenarioResult a = run_move(base, stress_move(base, crash));
    const ScenarioResult b = run_move(more, stress_move(more, crash));
    EXPECT_GE(b.defaults.size(), a.defaults.size()) << "trial " << trial;
    EXPECT_GE(b.closeout_loss, a.closeout_loss * (1 - 1e-12)) << "trial " << trial;
  }
}

}  // namespace
}  // namespace ccpnet
