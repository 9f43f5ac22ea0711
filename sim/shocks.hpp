// Scenario generation: the market move of one scenario as cumulative
// log-returns at every margin period of risk in the system (SPEC 3.1).
//
// Per day d: r_d = sigma_d * (L z_d) * sqrt((nu - 2) / W_d)   (Student-t, unit variance)
//            r_d = sigma_d * (L z_d)                          (Gaussian)
// plus market-wide jumps (Poisson count per day, normal log-size, beta per
// asset). The cumulative return at a horizon h adds whole days and the
// square-root share of a fractional last day, so its variance is exact.
//
// With market.history the daily moves come from the price file instead: replay
// takes the D consecutive daily log-returns starting at day (scenario mod W),
// W = number of daily returns - D + 1; bootstrap draws each of the D days with
// replacement from them (stream kHistory, substream 1, keyed by scenario).
// Both cumulate over the horizons exactly as above. Every move is bounded
// (kMaxDailyLogMove a day, kMaxHorizonLogMove at a horizon).
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <span>
#include <vector>

#include "sim/model_types.hpp"
#include "sim/rng.hpp"

namespace ccpnet {

struct Model;

// Bounds on a scenario's price moves, so that extreme parameters (jumps of
// mean 5 at intensity 10 and beta 10, a Student-t of 2.001 degrees of freedom,
// a price history with a 1e-300 price) give large losses, not astronomically
// large or infinite ones. A day's log-return is at most ln 100 either way (a
// price multiplied or divided by 100 in a day: more than any traded asset has
// moved, LUNA's fall included) and the cumulative log-return at a horizon at
// most ln 10^4 (x 10,000 or / 10,000). Moves within the bounds are unchanged.
inline constexpr double kMaxDailyLogMove = 4.605170185988092;    // ln 100
inline constexpr double kMaxHorizonLogMove = 9.210340371976184;  // ln 10^4

// The points in time at which a scenario's move is given: every horizon (the
// distinct MPORs), or with time steps every point of the path (Model::steps).
const std::vector<double>& move_points(const Model& model);

// The cumulative log-returns of a stress scenario at every move point, its
// log-moves scaled by `multiple` (reverse stress tests search over it).
Eigen::MatrixXd stress_move(const Model& model, const StressScenario& stress, double multiple = 1.0);
// The same at `points` (days after today, ascending) instead of the horizons.
Eigen::MatrixXd stress_move_at(const Model& model, const StressScenario& stress, const std::vector<double>& points,
                               double multiple = 1.0);

// The implied-vol multipliers of a stress scenario's vol_moves at every
// move point (assets x points): (1 + v)^min(1, h / days), realised over the
// days log-linearly like the price moves; 1 for an asset without a vol move.
Eigen::MatrixXd stress_vol_factor(const Model& model, const StressScenario& stress);

class ShockGenerator {
 public:
  // Cumulative log-returns at every horizon, or with time steps at every
  // point of the path (Model::steps).
  explicit ShockGenerator(const Model& model);
  // ... at `points` (days after today, ascending). The days of a scenario are
  // the same draws whatever the points: a longer path extends a shorter one.
  ShockGenerator(const Model& model, const std::vector<double>& points);

  // Cumulative log-returns (assets x points) of `scenario`, and the market
  // factor F ~ N(0, 1) that drives latent-model defaults (the standardised
  // Gaussian driver of the equally weighted move over the first close-out).
  void generate(std::uint64_t scenario, Eigen::Ref<Eigen::MatrixXd> cumulative, double& market_factor) const;
  // The same for the scenarios first, first + 1, ... into cumulative[i] (resized
  // to assets x points) and market_factor[i], i < cumulative.size(): each
  // scenario draws from its own streams, so its numbers are those of
  // generate() whatever the tile around it. The tile's normals of a day are
  // correlated together, one product by the factor's nonzero entries per day
  // for every scenario side by side.
  void generate_tile(std::uint64_t first, std::span<Eigen::MatrixXd> cumulative, std::span<double> market_factor) const;

  int days() const { return days_; }
  // Number of replay windows of the price history (0 without one).
  std::int64_t windows() const { return windows_; }

 private:
  void historical(std::uint64_t scenario, Eigen::Ref<Eigen::MatrixXd> cumulative, double& market_factor) const;
  // Up to kTileWidth scenarios of generate_tile, `vectors` vectors of lanes wide.
  template <std::size_t vectors>
  void model_tile(std::uint64_t first, std::span<Eigen::MatrixXd> cumulative, std::span<double> market_factor) const;
  // x = L z for a day of the tile: z and x are assets x kTileWidth, scenarios side by side.
  template <std::size_t vectors>
  void correlate(const double* z, double* x) const;

  const Model& model_;
  std::vector<double> points_;  // days after today, ascending
  rng::Philox market_, jumps_, history_;
  int days_ = 1;
  bool student_t_ = false;
  double dof_ = 0.0;
  Eigen::VectorXd daily_vol_;
  // The correlation factor L by rows, its nonzero entries only (in column
  // order): row i's entries are [factor_start_[i], factor_start_[i + 1]).
  std::vector<int> factor_start_, factor_column_;
  std::vector<double> factor_value_;
  Eigen::VectorXd jump_beta_;
  Eigen::MatrixXd overlay_;  // the overlay stress scenarios' log-moves (assets x horizons), added to every draw
  double factor_scale_ = 1.0;
  // Price history: replay windows, and the mean and standard deviation of the
  // equally weighted daily log-return (to standardise the market factor).
  std::int64_t windows_ = 0;
  double history_factor_mean_ = 0.0, history_factor_sd_ = 0.0;
};

}  // namespace ccpnet
