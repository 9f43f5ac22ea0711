// Properties of the cascade on random systems (drawn by the synthetic
// generator with random parameters): every dollar of loss has one final payer
// in the ledger; a bigger shock or an extra exogenous default never yields
// fewer defaults or smaller losses; the cascade ends within a bounded number
// of rounds; a link that carries nothing changes nothing; the order in which
// CCPs are listed changes nothing.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "sim/config/load.hpp"
#include "sim/model.hpp"
#include "sim/runner.hpp"

namespace ccpnet {
namespace test_properties {

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

// The final payers of the ledger (sim/cascade.hpp).
double accounted(const ScenarioResult& r) { return r.ledger_total(); }

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
                      << " vs ledger " << accounted(r);
      if (r.rounds > 2 * static_cast<int>(model.members.size() + model.ccps.size()) + 16 && problems++ < 3)
        ADD_FAILURE() << "trial " << trial << ": " << r.rounds << " rounds";
    };
    run_monte_carlo(model, options);
    EXPECT_GT(stressed, 0) << "trial " << trial << " exercised no cascade";
  }
}

// The same with close-out by auction (juniorised) and every recovery tool at
// every CCP, on waterfalls that end at the assessments so that the tools run:
// each tool is a payer of the ledger, which still balances to 1e-9.
TEST(Properties, ConservationWithAuctionsAndRecoveryToolsOnRandomSystems) {
  std::mt19937_64 gen(20261205);
  std::int64_t used = 0, unplaced = 0;
  for (int trial = 0; trial < 8; ++trial) {
    const std::string yaml = random_system(gen, trial % 2 == 0);
    std::vector<config::Override> o{{"market.shocks", "{model: student_t, dof: 3, volatility_multiplier: 3}"},
                                    {"defaults.latent", "{pd: 0.02, beta: 0.5}"}};
    for (std::size_t c = 0; yaml.find(fmt::format("{{id: C{},", c)) != std::string::npos; ++c) {
      const std::string ccp = fmt::format("ccps[{}].", c);
      o.push_back({ccp + "waterfall", "[defaulter_im, defaulter_df, sitg, mutualized_df, assessments]"});
      o.push_back({ccp + "auction", fmt::format("{{hedge_cost: 0.002, base_discount: 0.01, slope: 0.05, depth: {}, "
                                                "reserve_discount: 0.04, juniorisation: true, bidder_share: 0.5}}",
                                                trial % 3 == 0 ? 1e4 : 1e6)});
      o.push_back({ccp + "recovery", trial % 2 == 0
                                         ? "{tools: [cash_call, tear_up, forced_allocation]}"
                                         : "{tools: [forced_allocation, cash_call], cash_call_multiple: 2}"});
    }
    const Model model = build(yaml, o);
    RunOptions options;
    options.count = 2048;
    options.threads = 2;
    int problems = 0;
    options.on_scenario = [&](const ScenarioResult& r) {
      const double scale = std::max(1.0, r.closeout_loss);
      if (std::abs(accounted(r) - r.closeout_loss) > 1e-9 * scale && problems++ < 3)
        ADD_FAILURE() << "trial " << trial << " scenario " << r.index << ": close-out " << r.closeout_loss
                      << " vs ledger " << accounted(r);
      for (double v : r.ccp_recovery) used += v > 0.0;
      for (double v : r.ccp_unplaced) unplaced += v > 0.0;
    };
    run_monte_carlo(model, options);
  }
  EXPECT_GT(used, 0) << "no recovery tool ran";
  EXPECT_GT(unplaced, 0) << "no auction left a book unplaced";
}

// A CCP whose layers are all pro rata runs them on its survivors' columns,
// one with a recovery tool on whole rows (Cascade::SurvivorTable), and later
// passes of a step visit only the last pass's survivors. Where the tool never
// runs (no CCP's layers ran out: nothing uncovered on columns), the two give
// the same scenario to the bit: its defaults, every layer and every charge of
// the ledger.
TEST(Properties, SurvivorColumnsAndRowsGiveTheSameScenarios) {
  std::mt19937_64 gen(20261207);
  int compared = 0, with_charges = 0;
  for (int trial = 0; trial < 8; ++trial) {
    const std::string yaml = random_system(gen, trial % 2 == 0);
    std::vector<config::Override> rows_o;
    for (std::size_t c = 0; yaml.find(fmt::format("{{id: C{},", c)) != std::string::npos; ++c)
      rows_o.push_back({fmt::format("ccps[{}].recovery", c), "{tools: [cash_call]}"});
    const Model columns = build(yaml), rows = build(yaml, rows_o);
    // Else both would run on rows: every CCP of the columns model runs on
    // columns, and none of the rows model does.
    for (std::size_t c = 0; c < columns.ccps.size(); ++c) {
      ASSERT_TRUE(runs_on_columns(columns.ccps[c])) << columns.ccps[c].id;
      ASSERT_FALSE(runs_on_columns(rows.ccps[c])) << rows.ccps[c].id;
    }
    StressScenario crash;
    crash.name = "crash";
    for (const auto& a : columns.assets) crash.moves.emplace_back(a.id, -0.15);
    for (double k = 0.5; k <= 3.0; k += 0.25) {
      const ScenarioResult a = run_move(columns, stress_move(columns, crash, k));
      const ScenarioResult b = run_move(rows, stress_move(rows, crash, k));
      const auto any = [](const std::vector<double>& v) {
        return std::any_of(v.begin(), v.end(), [](double x) { return x != 0.0; });
      };
      if (any(a.ccp_uncovered) || any(b.ccp_recovery)) continue;  // the tool ran on rows
      ++compared;
      const std::string at = fmt::format("trial {} multiple {}", trial, k);
      ASSERT_EQ(a.defaults.size(), b.defaults.size()) << at;
      for (std::size_t i = 0; i < a.defaults.size(); ++i) {
        EXPECT_EQ(a.defaults[i].member, b.defaults[i].member) << at;
        EXPECT_EQ(a.defaults[i].round, b.defaults[i].round) << at;
      }
      EXPECT_EQ(a.closeout_loss, b.closeout_loss) << at;
      EXPECT_EQ(a.ccp_layers, b.ccp_layers) << at;
      EXPECT_EQ(a.ccp_link_out, b.ccp_link_out) << at;
      ASSERT_EQ(a.account_losses.size(), b.account_losses.size()) << at;
      bool charged = false;
      for (std::size_t i = 0; i < a.account_losses.size(); ++i) {
        const AccountLoss &x = a.account_losses[i], &y = b.account_losses[i];
        EXPECT_TRUE(x.account == y.account && x.channel == y.channel && x.amount == y.amount)
            << at << " record " << i << ": " << x.account << " " << x.amount << " vs " << y.account << " " << y.amount;
        charged = charged || x.channel == LossChannel::kMutualizedDf || x.channel == LossChannel::kAssessment;
      }
      with_charges += charged;
    }
  }
  EXPECT_GT(compared, 40);
  EXPECT_GT(with_charges, 10) << "too few scenarios charged the survivors";
}

TEST(Properties, ABiggerShockNeverYieldsFewerDefaultsOrSmallerLosses) {
  std::mt19937_64 gen(7);
  for (int trial = 0; trial < 8; ++trial) {
    const Model model = build(random_system(gen, trial % 2 == 1));
    StressScenario crash;
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
    StressScenario crash;
    crash.name = "crash";
    for (const auto& a : base.assets) crash.moves.emplace_back(a.id, -0.3);
    const ScenarioResult a = run_move(base, stress_move(base, crash));
    const ScenarioResult b = run_move(more, stress_move(more, crash));
    EXPECT_GE(b.defaults.size(), a.defaults.size()) << "trial " << trial;
    EXPECT_GE(b.closeout_loss, a.closeout_loss * (1 - 1e-12)) << "trial " << trial;
  }
}

// Two CCPs whose members' books balance at each CCP: the link between them
// carries no position. With or without it, every scenario is the same.
TEST(Properties, ALinkWithNoPositionChangesNothing) {
  const std::string yaml = R"(name: balanced books
seed: 3
market:
  assets: [{id: X, price: 100, volatility: 0.8}]
  shocks: {model: student_t, dof: 3}
ccps:
  - {id: A, capital: 1e4, margin: {model: parametric, mpor_days: 2}}
  - {id: B, capital: 1e4, margin: {model: parametric, mpor_days: 2}}
members:
  - {id: M1, capital: 2e3, liquidity: 1e3, positions: {A: {X: 10}, B: {X: -5}}}
  - {id: M2, capital: 2e3, liquidity: 1e3, positions: {A: {X: -10}}}
  - {id: M3, capital: 2e3, liquidity: 1e3, positions: {B: {X: 5}}}
defaults: {latent: {pd: 0.05, beta: 0.3}}
)";
  const Model without = build(yaml);
  const Model with = build(yaml, {{"links", "[{between: [A, B], link_fund: 100}]"}});
  for (std::int64_t i = 0; i < 400; ++i) {
    const ScenarioResult a = run_scenario(without, i), b = run_scenario(with, i);
    ASSERT_EQ(a.defaults.size(), b.defaults.size()) << i;
    EXPECT_DOUBLE_EQ(a.closeout_loss, b.closeout_loss) << i;
    EXPECT_DOUBLE_EQ(a.total_loss, b.total_loss) << i;
    for (std::size_t c = 0; c < 2; ++c) {
      EXPECT_EQ(a.ccp_fail_round[c], b.ccp_fail_round[c]) << i;
      EXPECT_DOUBLE_EQ(b.ccp_link_in[c], 0.0) << i;
    }
  }
}

// Listing the CCPs in another order relabels them and changes no number. (The
// members here clear at one CCP each: a member called for assessments by two
// CCPs in one round pays them in CCP order from its cash, the one place where
// the order of the list matters.)
TEST(Properties, RelabellingCcpsChangesNothing) {
  std::mt19937_64 gen(99);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int trial = 0; trial < 4; ++trial) {
    std::vector<std::string> ccps;
    for (int c = 0; c < 3; ++c)
      ccps.push_back(fmt::format("{{id: C{}, capital: {}, margin: {{model: parametric, mpor_days: {}}}}}", c,
                                 2e4 + 2e5 * u(gen), 1 + c % 2));
    std::string members = "members:\n";
    for (int k = 0; k < 6; ++k) {  // pairs of opposite books at two CCPs: the system nets to zero
      const double x = std::round(200 * u(gen) - 100), y = std::round(200 * u(gen) - 100);
      for (int side = 0; side < 2; ++side)
        members +=
            fmt::format("  - {{id: M{}, capital: {}, liquidity: {}, positions: {{C{}: {{X: {}, Y: {}}}}}}}\n",
                        2 * k + side, 1e3 + 2e4 * u(gen), 1e4 * u(gen), (k + side) % 3, side ? -x : x, side ? -y : y);
    }
    const auto yaml = [&](const std::vector<std::string>& list) {
      return "name: relabel\nseed: 5\nmarket:\n  assets: [{id: X, price: 50, volatility: 0.9}, {id: Y, price: 20, "
             "volatility: 0.7}]\n  shocks: {model: student_t, dof: 3, volatility_multiplier: 2}\nccps: [" +
             fmt::format("{}", fmt::join(list, ", ")) + "]\n" + members +
             "links: [{between: [C0, C1]}, {between: [C1, C2]}, {between: [C0, C2], segregated: false}]\n"
             "defaults: {latent: {pd: 0.05, beta: 0.5}}\n";
    };
    const Model model = build(yaml(ccps));
    std::reverse(ccps.begin(), ccps.end());
    const Model reversed = build(yaml(ccps));
    const auto n = model.ccps.size();
    for (std::int64_t i = 0; i < 300; ++i) {
      const ScenarioResult a = run_scenario(model, i), b = run_scenario(reversed, i);
      ASSERT_EQ(a.defaults.size(), b.defaults.size()) << trial << " " << i;
      EXPECT_NEAR(a.closeout_loss, b.closeout_loss, 1e-6 * std::max(1.0, a.closeout_loss)) << trial << " " << i;
      EXPECT_NEAR(a.total_loss, b.total_loss, 1e-6 * std::max(1.0, a.total_loss)) << trial << " " << i;
      for (std::size_t c = 0; c < n; ++c) {
        EXPECT_EQ(a.ccp_fail_round[c], b.ccp_fail_round[n - 1 - c]) << trial << " " << i;
        EXPECT_NEAR(a.ccp_link_in[c], b.ccp_link_in[n - 1 - c], 1e-6 * std::max(1.0, a.ccp_link_in[c]));
      }
    }
  }
}

}  // namespace test_properties
}  // namespace ccpnet
