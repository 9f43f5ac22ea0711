// Helpers for the engine tests: deterministic single-asset paths for the
// time-step tests, and Monte Carlo runs compared across thread counts.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/model.hpp"
#include "sim/output.hpp"
#include "sim/runner.hpp"
#include "sim/shocks.hpp"

namespace ccpnet::test_paths {

// The path's cumulative log-returns at the model's move points, from the
// asset's price on each day (price_by_day[0]: today).
inline Eigen::MatrixXd path_of(const Model& model, const std::vector<double>& price_by_day) {
  const std::vector<double>& points = move_points(model);
  Eigen::MatrixXd cumulative(1, static_cast<Eigen::Index>(points.size()));
  for (std::size_t p = 0; p < points.size(); ++p)
    cumulative(0, static_cast<Eigen::Index>(p)) =
        std::log(price_by_day[static_cast<std::size_t>(std::lround(points[p]))] / price_by_day[0]);
  return cumulative;
}

// The same for several assets, one row each in the model's order (an empty
// list: the asset does not move).
inline Eigen::MatrixXd path_of(const Model& model, const std::vector<std::vector<double>>& prices_by_asset) {
  Eigen::MatrixXd cumulative = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(prices_by_asset.size()),
                                                     static_cast<Eigen::Index>(move_points(model).size()));
  for (std::size_t a = 0; a < prices_by_asset.size(); ++a)
    if (!prices_by_asset[a].empty()) cumulative.row(static_cast<Eigen::Index>(a)) = path_of(model, prices_by_asset[a]);
  return cumulative;
}

// Scenarios [0, n) of a one-period model and of the same model in one time
// step over its MPOR: the same liquidations (counted by `count`), defaults
// and losses to 1e-9. Returns how many scenarios had a liquidation.
template <class Count>
int expect_steps_equal_one_period(const Model& one, const Model& steps, std::int64_t n, Count count) {
  int liquidated = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const ScenarioResult a = run_scenario(one, i), b = run_scenario(steps, i);
    liquidated += count(a) > 0;
    EXPECT_EQ(count(a), count(b)) << "scenario " << i;
    EXPECT_EQ(a.defaults.size(), b.defaults.size()) << "scenario " << i;
    EXPECT_NEAR(a.closeout_loss, b.closeout_loss, 1e-9 * std::max(1.0, a.closeout_loss)) << "scenario " << i;
    EXPECT_NEAR(a.total_loss, b.total_loss, 1e-9 * std::max(1.0, a.total_loss)) << "scenario " << i;
  }
  return liquidated;
}

// The threads and the scenarios per tile of one Monte Carlo run.
struct Parallelism {
  int threads = 1;
  std::int64_t batch = 256;
};

// A scenario's settlement figures as a row: defaults, liquidity shortfall,
// settlement defaults, then the per-CCP and per-chain settlement metrics.
inline std::string settlement_row(const ScenarioResult& r) {
  std::string line =
      fmt::format("{} {} {} {}", r.index, r.defaults.size(), r.liquidity_shortfall, r.settlement_defaults);
  for (double x : r.settlement.ccp) line += fmt::format(" {}", x);
  for (double x : r.settlement.chain) line += fmt::format(" {}", x);
  return line;
}

// What a run printed (each scenario's row, then the summary), and how many of
// its scenarios were counted.
struct RunText {
  std::string text;
  int counted = 0;
};

// `model` run once per entry of `runs`. Each run prints every scenario's
// `row(r)` (a line, without its newline) and then the summary, and must print
// exactly what the first run printed: outputs are byte-identical for any
// thread count and batch size (SPEC 4). In every scenario of every run the
// ledger conserves (SPEC 3.11): the named layers and the uncovered amount
// take the close-out loss to 1e-9. Returns the first run's text and how many
// of its scenarios have count(r) > 0.
template <class Row, class Count>
RunText expect_identical_for_any_threads(const Model& model, Row row, Count count,
                                         const std::vector<Parallelism>& runs = {{1, 256}, {2, 64}}) {
  RunText first;
  for (std::size_t k = 0; k < runs.size(); ++k) {
    RunText out;
    RunOptions options;
    options.threads = runs[k].threads;
    options.batch = runs[k].batch;
    options.on_scenario = [&](const ScenarioResult& r) {
      out.text += row(r);
      out.text += '\n';
      out.counted += count(r) > 0;
      EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9 * std::max(1.0, r.closeout_loss)) << "scenario " << r.index;
    };
    out.text += summary_json(model, run_monte_carlo(model, options)).dump(1);
    if (k == 0) {
      first = std::move(out);
    } else {
      EXPECT_EQ(out.text, first.text) << runs[k].threads << " threads, batch " << runs[k].batch;
    }
  }
  return first;
}

}  // namespace ccpnet::test_paths
