// Determinism (STYLE habits 5 and 6): the same seed gives byte-identical
// outputs for any thread count, batch size and split of the scenario range;
// random streams are independent of each other.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <utility>

#include "sim/config/load.hpp"
#include "sim/model.hpp"
#include "sim/output.hpp"
#include "sim/runner.hpp"
#include "sim/shocks.hpp"
#include "tests/sim/step_paths.hpp"

namespace ccpnet {
namespace test_determinism {

// The example system with random (latent-factor) defaults on top of the
// exogenous one, so scenarios differ in their cascades.
Model test_model(std::vector<config::Override> extra = {}) {
  std::vector<config::Override> o{{"defaults.latent", "{pd: 0.05, beta: 0.6}"}, {"simulation.scenarios", "9000"}};
  o.insert(o.end(), extra.begin(), extra.end());
  return build_model(config::load_scenario_file(std::string(CCPNET_SOURCE_DIR) + "/scenarios/two_ccp_peer.yaml", o));
}

// Every per-scenario row and the summary, as text.
std::string run_text(const Model& model, int threads, std::int64_t batch, std::int64_t first = 0,
                     std::int64_t count = -1) {
  std::string rows;
  RunOptions options;
  options.threads = threads;
  options.batch = batch;
  options.first = first;
  options.count = count;
  options.on_scenario = [&](const ScenarioResult& r) {
    rows += fmt::format("{} {} {} {} {} {}", r.index, r.market_factor, r.defaults.size(), r.rounds, r.total_loss,
                        r.closeout_loss);
    for (double x : r.ccp_layers) rows += fmt::format(" {}", x);
    rows += '\n';
  };
  const RunResult result = run_monte_carlo(model, options);
  return rows + summary_json(model, result).dump(1);
}

TEST(Determinism, IdenticalForAnyThreadCountAndBatchSize) {
  const Model model = test_model();
  const std::string reference = run_text(model, 1, 256);
  EXPECT_NE(reference.find("\"p_any_member_default\""), std::string::npos);
  EXPECT_EQ(run_text(model, 2, 256), reference);
  EXPECT_EQ(run_text(model, 8, 256), reference);
  EXPECT_EQ(run_text(model, 2, 64), reference);
  EXPECT_EQ(run_text(model, 2, 100), reference);  // rounded up to whole tiles
  EXPECT_EQ(run_text(model, 3, 4096), reference);
}

// A run is computed window by window, the last ones halving, and a window
// in units of whole tiles down to one (sim/runner.cpp): on any count, from
// any first scenario, every scenario comes once, in order, with the same
// numbers whatever the threads and the batch.
TEST(Determinism, EveryRunLengthGivesEachScenarioOnceInOrder) {
  const Model model = test_model();
  // Batches of 64 on 2 and 5 threads: regular windows of 4,096, so 8,193
  // scenarios run one and then the halving ones.
  for (const std::int64_t count : {1, 63, 65, 257, 2 * 4096 + 1}) {
    const std::string reference = run_text(model, 1, 4096, 4096, count);
    std::int64_t expected = 4096, rows = 0;
    for (std::size_t at = 0; at < reference.size() && reference[at] != '{'; at = reference.find('\n', at) + 1) {
      EXPECT_EQ(std::stoll(reference.substr(at)), expected++) << "count " << count;
      ++rows;
    }
    EXPECT_EQ(rows, count);
    for (const auto& [threads, batch] : {std::pair{2, 64}, std::pair{5, 64}, std::pair{2, 512}, std::pair{16, 1}})
      EXPECT_EQ(run_text(model, threads, batch, 4096, count), reference)
          << "count " << count << ", " << threads << " threads, batch " << batch;
  }
}

// The same with close-out by auction and recovery tools at both CCPs (their
// outputs in the summary, their amounts in the rows).
TEST(Determinism, IdenticalForAnyThreadCountWithAuctionsAndRecoveryTools) {
  std::vector<config::Override> o{{"market.shocks.volatility_multiplier", "4"}};
  for (const char* ccp : {"ccps[0].", "ccps[1]."}) {
    o.push_back({std::string(ccp) + "auction",
                 "{hedge_cost: 0.002, slope: 0.05, depth: 1.0e7, reserve_discount: 0.05, "
                 "juniorisation: true, bidder_share: 0.5}"});
    o.push_back({std::string(ccp) + "recovery", "{tools: [cash_call, tear_up, forced_allocation]}"});
    o.push_back({std::string(ccp) + "waterfall", "[defaulter_im, defaulter_df, sitg, mutualized_df, assessments]"});
  }
  const Model model = test_model(o);
  const auto row = [](const ScenarioResult& r) {
    std::string line;
    for (double x : r.ccp_recovery) line += fmt::format(" {}", x);
    for (double x : r.ccp_auction_cost) line += fmt::format(" {}", x);
    return line;
  };
  const auto auctioned = [](const ScenarioResult& r) {
    return std::count_if(r.ccp_auction_cost.begin(), r.ccp_auction_cost.end(), [](double x) { return x != 0.0; });
  };
  const test_paths::RunText reference =
      test_paths::expect_identical_for_any_threads(model, row, auctioned, {{1, 256}, {2, 256}, {3, 100}});
  EXPECT_NE(reference.text.find("\"default_management\""), std::string::npos);
  EXPECT_GT(reference.counted, 0);
}

TEST(Determinism, SplitRangesMergeToTheSingleRun) {
  // Two halves split on an aggregation chunk boundary, merged, give the same
  // totals as one run: what MPI ranks and Dask workers rely on.
  const Model model = test_model();
  RunOptions all;
  all.threads = 2;
  const RunResult whole = run_monte_carlo(model, all);
  RunOptions a = all, b = all;
  a.count = kChunk;
  b.first = kChunk;
  b.count = model.scenarios - kChunk;
  RunResult first = run_monte_carlo(model, a);
  const RunResult second = run_monte_carlo(model, b);
  first.aggregate.merge(second.aggregate);
  first.aggregate.finish();
  first.completed += second.completed;
  first.requested = whole.requested;
  EXPECT_EQ(summary_json(model, first).dump(), summary_json(model, whole).dump());
}

// Member losses are summed per worker and window and handed over when the
// window is folded: a run stopped while a window is folded keeps exactly the
// losses of the scenarios it counts, not those of the window computed
// meanwhile. Windows here (2 threads, batches of 64, 9,000 scenarios):
// [0, 4096), [4096, 6592), [6592, 7808), ...; the stop comes in the second,
// so both of a worker's buffers are used, and the first one twice.
TEST(Determinism, AnInterruptedRunKeepsTheMemberLossesOfTheScenariosItCounts) {
  // Stressed, so that survivors lose (mutualised fund, assessments) in many scenarios.
  const Model model = build_model(config::load_scenario_file(
      std::string(CCPNET_SOURCE_DIR) + "/scenarios/cover2_linked.yaml", {{"simulation.scenarios", "9000"},
                                                                         {"market.shocks.volatility_multiplier", "3"},
                                                                         {"defaults.latent", "{pd: 0.01, beta: 0.6}"},
                                                                         {"outputs.member_quantiles", "true"}}));
  std::atomic<bool> stop{false};
  RunOptions options;
  options.threads = 2;
  options.batch = 64;
  options.stop = &stop;
  options.on_scenario = [&](const ScenarioResult& r) {
    if (r.index == 5000) stop = true;
  };
  const RunResult partial = run_monte_carlo(model, options);
  ASSERT_TRUE(partial.interrupted);
  ASSERT_EQ(partial.completed, 6592);
  const auto table = [&](std::int64_t count) {
    RunOptions counted;
    counted.threads = 1;
    counted.count = count;
    return member_table(model, run_monte_carlo(model, counted).aggregate);
  };
  const Table kept = member_table(model, partial.aggregate);
  EXPECT_EQ(kept.to_csv(), table(partial.completed).to_csv());
  // Survivors' losses are in the table (mutualised fund, 99% loss), and those of
  // the dropped window would change it.
  const auto positive = [](const std::vector<double>& xs) {
    return std::count_if(xs.begin(), xs.end(), [](double x) { return x > 0.0; });
  };
  EXPECT_GT(positive(kept.numbers("loss_mutualized_df")), 0);
  EXPECT_GT(positive(kept.numbers("member_loss_p99")), 0);
  const Table with_dropped = table(7808);
  EXPECT_NE(with_dropped.numbers("loss_mutualized_df"), kept.numbers("loss_mutualized_df"));
}

TEST(Determinism, OneScenarioAloneEqualsTheSameScenarioInARun) {
  const Model model = test_model();
  std::vector<ScenarioResult> seen;
  RunOptions options;
  options.count = 200;
  options.on_scenario = [&](const ScenarioResult& r) { seen.push_back(r); };
  run_monte_carlo(model, options);
  for (std::int64_t i : {0, 1, 63, 64, 65, 199}) {
    const ScenarioResult alone = run_scenario(model, i);
    EXPECT_EQ(alone.market_factor, seen[static_cast<std::size_t>(i)].market_factor) << i;
    EXPECT_EQ(alone.total_loss, seen[static_cast<std::size_t>(i)].total_loss) << i;
    EXPECT_EQ(alone.ccp_layers, seen[static_cast<std::size_t>(i)].ccp_layers) << i;
  }
}

TEST(Determinism, ChangingOneStreamLeavesTheOthersAlone) {
  // The latent model draws from the defaults stream only: switching it off (or
  // changing its PD) must not move a single market number.
  const Model with = test_model();
  const Model without = test_model({{"defaults.latent", "{pd: 0.2, beta: 0.1}"}});
  const ShockGenerator a(with), b(without);
  const auto horizons = static_cast<Eigen::Index>(with.horizons.size());
  Eigen::MatrixXd ca(2, horizons), cb(2, horizons);
  for (std::uint64_t s = 0; s < 50; ++s) {
    double fa = 0, fb = 0;
    a.generate(s, ca, fa);
    b.generate(s, cb, fb);
    EXPECT_EQ(fa, fb);
    EXPECT_EQ(ca, cb);
  }
  // Jumps draw from their own stream: turning them on leaves the diffusive
  // market factor unchanged.
  const Model jumps = test_model({{"market.shocks.jumps", "{intensity: 0.5, mean: -0.1, stdev: 0.05}"}});
  const ShockGenerator c(jumps);
  for (std::uint64_t s = 0; s < 50; ++s) {
    double fa = 0, fc = 0;
    a.generate(s, ca, fa);
    c.generate(s, cb, fc);
    EXPECT_EQ(fa, fc);
  }
}

TEST(Determinism, DifferentSeedsDiffer) {
  const Model a = test_model();
  const Model b = test_model({{"seed", "8"}});
  EXPECT_NE(run_text(a, 2, 256, 0, 500), run_text(b, 2, 256, 0, 500));
}

}  // namespace test_determinism
}  // namespace ccpnet
