// Deterministic single-asset paths for the time-step tests.
#pragma once

#include <Eigen/Dense>
#include <cmath>
#include <vector>

#include "sim/model.hpp"
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

}  // namespace ccpnet::test_paths
