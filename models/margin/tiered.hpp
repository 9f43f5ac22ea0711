// Tiered margin of crypto venues: rates by notional tier, applied
// progressively (each rate to the part of the notional inside its tier), so the
// margin is continuous and increasing in the position size. Applied per
// position (each asset's notional |x_a| separately), as venues margin each
// contract on its own.
#pragma once

#include <Eigen/Dense>
#include <vector>

namespace ccpnet::models {

struct Tier {
  double up_to;  // upper notional bound (USD), +inf for the last tier
  double rate;   // margin rate inside the tier
};

// Margin on one notional: sum_t rate_t * (min(N, up_to_t) - up_to_{t-1})^+.
// Notional beyond the last tier's bound is charged at the last tier's rate.
double tiered_margin(double notional, const std::vector<Tier>& tiers);

// Sum over positions of tiered_margin(|x_a|), for each row of `values`.
Eigen::VectorXd tiered_margin_rows(const Eigen::MatrixXd& values, const std::vector<Tier>& tiers);
// The same into `out` (no allocation once it has its size).
void tiered_margin_rows_into(const Eigen::MatrixXd& values, const std::vector<Tier>& tiers, Eigen::VectorXd& out);

}  // namespace ccpnet::models
