// Deterministic single-asset paths for the time-step tests.
#pragma once

#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "sim/model.hpp"
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

}  // namespace ccpnet::test_paths
