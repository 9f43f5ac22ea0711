// `--grid KEY=V1,V2,...` (sim/sweep.hpp): values split at top-level commas only.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

#include "sim/config/load.hpp"
#include "sim/errors.hpp"
#include "sim/sweep.hpp"

namespace ccpnet {
namespace test_sweep {

TEST(SweepAxis, SplitsAtTopLevelCommas) {
  SweepAxis a = parse_sweep_axis("market.assets.BTC.volatility=0.4, 0.6,0.8");
  EXPECT_EQ(a.key, "market.assets.BTC.volatility");
  EXPECT_EQ(a.values, (std::vector<std::string>{"0.4", "0.6", "0.8"}));
  a = parse_sweep_axis("ccps.A.waterfall=[defaulter_im, ccp_equity],[defaulter_im, sitg, ccp_equity]");
  EXPECT_EQ(a.values, (std::vector<std::string>{"[defaulter_im, ccp_equity]", "[defaulter_im, sitg, ccp_equity]"}));
  a = parse_sweep_axis("name='a, b',c");
  EXPECT_EQ(a.values, (std::vector<std::string>{"'a, b'", "c"}));
  a = parse_sweep_axis("topology=none,mesh");
  EXPECT_EQ(a.values.size(), 2u);
}

TEST(SweepAxis, RefusesWhatIsNotAGrid) {
  EXPECT_THROW(parse_sweep_axis("volatility"), InputError);
  EXPECT_THROW(parse_sweep_axis("=1,2"), InputError);
  EXPECT_THROW(parse_sweep_axis("seed=1,,2"), InputError);
  EXPECT_THROW(parse_sweep_axis("seed="), InputError);
  EXPECT_THROW(parse_sweep_axis("topology=none,star"), InputError);
}

// A 2 x 2 grid on cover2_linked, 2,000 scenarios a point.
struct SmallSweep {
  config::LoadedScenario base = config::load_scenario_file(
      std::string(CCPNET_SOURCE_DIR) + "/scenarios/cover2_linked.yaml", {{"simulation.scenarios", "2000"}});
  std::vector<SweepAxis> axes{parse_sweep_axis("market.shocks.volatility_multiplier=1,2"),
                              parse_sweep_axis("defaults.latent.pd=0.01,0.03")};
  std::string resolved = config::to_yaml(base.scenario);
  Sweep run(const RunOptions& options, const Sweep* previous = nullptr) const {
    return run_sweep(base, {{"simulation.scenarios", "2000"}}, axes, false, options, previous);
  }
};

TEST(SweepResume, AnInterruptedSweepGoesOnToWhatOneRunGives) {
  const SmallSweep s;
  RunOptions options;
  options.threads = 1;
  const Sweep whole = s.run(options);
  ASSERT_EQ(whole.grid_points, 4u);
  ASSERT_FALSE(whole.partial());
  // Ctrl-C during the third point (after 2,500 of its 2,000-scenario
  // predecessors and itself): the first two points are kept, the third dropped.
  std::atomic<bool> stop{false};
  std::int64_t seen = 0;
  options.stop = &stop;
  options.on_scenario = [&](const ScenarioResult&) {
    if (++seen == 4500) stop = true;
  };
  const Sweep partial = s.run(options);
  ASSERT_TRUE(partial.partial());
  EXPECT_EQ(partial.done, 2u);
  EXPECT_EQ(partial.points.size(), 2u);
  // Its state, read back, resumes to the uninterrupted sweep's exact tables.
  const Sweep previous = read_sweep_state(sweep_state(partial, s.resolved), s.resolved, s.axes, false);
  EXPECT_EQ(sweep_table(previous).to_csv(), sweep_table(partial).to_csv());
  RunOptions again;
  again.threads = 2;
  const Sweep resumed = s.run(again, &previous);
  EXPECT_FALSE(resumed.partial());
  EXPECT_EQ(sweep_table(resumed).to_csv(), sweep_table(whole).to_csv());
  EXPECT_EQ(sweep_json(resumed).dump(), sweep_json(whole).dump());
}

TEST(SweepResume, TheStateOfAnotherSweepIsRefused) {
  const SmallSweep s;
  RunOptions options;
  options.threads = 1;
  std::atomic<bool> stop{false};
  std::int64_t seen = 0;
  options.stop = &stop;
  options.on_scenario = [&](const ScenarioResult&) {
    if (++seen == 2500) stop = true;
  };
  const std::string state = sweep_state(s.run(options), s.resolved);
  const auto refused = [&](const std::string& resolved, const std::vector<SweepAxis>& axes, bool variants,
                           const std::string& why) {
    try {
      read_sweep_state(state, resolved, axes, variants);
      ADD_FAILURE() << "accepted: " << why;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
  };
  refused(s.resolved + "# changed\n", s.axes, false, "another scenario");
  refused(s.resolved, {s.axes[0]}, false, "another grid");
  refused(s.resolved, s.axes, true, "another --variants");
  EXPECT_THROW(read_sweep_state("not a state", s.resolved, s.axes, false), InputError);
  EXPECT_THROW(read_sweep_state(state.substr(0, state.size() / 2), s.resolved, s.axes, false), InputError);
  EXPECT_EQ(read_sweep_state(state, s.resolved, s.axes, false).done, 1u);
}

}  // namespace test_sweep
}  // namespace ccpnet
