// Scenario generation: the market move of one scenario as cumulative
// log-returns at every margin period of risk in the system (SPEC 3.1).
//
// Per day d: r_d = sigma_d * (L z_d) * sqrt((nu - 2) / W_d)   (Student-t, unit variance)
//            r_d = sigma_d * (L z_d)                          (Gaussian)
// plus market-wide jumps (Poisson count per day, normal log-size, beta per
// asset). The cumulative return at a horizon h adds whole days and the
// square-root share of a fractional last day, so its variance is exact.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <vector>

#include "sim/rng.hpp"

namespace ccpnet {

struct Model;

class ShockGenerator {
 public:
  explicit ShockGenerator(const Model& model);

  // Cumulative log-returns (assets x horizons) of `scenario`, and the market
  // factor F ~ N(0, 1) that drives latent-model defaults (the standardised
  // Gaussian driver of the equally weighted move over the longest horizon).
  void generate(std::uint64_t scenario, Eigen::Ref<Eigen::MatrixXd> cumulative, double& market_factor) const;

  int days() const { return days_; }

 private:
  const Model& model_;
  rng::Philox market_, jumps_;
  int days_ = 1;
  bool student_t_ = false;
  double dof_ = 0.0;
  Eigen::VectorXd daily_vol_;
  Eigen::VectorXd jump_beta_;
  Eigen::VectorXd overlay_;    // log-moves of overlay stress scenarios (per asset, whole period)
  double overlay_days_ = 1.0;  // realised linearly in log terms over this many days
  double factor_scale_ = 1.0;
};

}  // namespace ccpnet
