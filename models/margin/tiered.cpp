#include "models/margin/tiered.hpp"

#include <algorithm>
#include <cmath>

namespace ccpnet::models {

double tiered_margin(double notional, const std::vector<Tier>& tiers) {
  double margin = 0.0;
  double lower = 0.0;
  for (const Tier& t : tiers) {
    if (notional <= lower) break;
    margin += t.rate * (std::min(notional, t.up_to) - lower);
    lower = t.up_to;
  }
  if (!tiers.empty() && notional > lower) margin += tiers.back().rate * (notional - lower);
  return margin;
}

Eigen::VectorXd tiered_margin_rows(const Eigen::MatrixXd& values, const std::vector<Tier>& tiers) {
  Eigen::VectorXd out;
  tiered_margin_rows_into(values, tiers, out);
  return out;
}

void tiered_margin_rows_into(const Eigen::MatrixXd& values, const std::vector<Tier>& tiers, Eigen::VectorXd& out) {
  out.resize(values.rows());
  for (Eigen::Index i = 0; i < values.rows(); ++i) {
    double m = 0.0;
    for (Eigen::Index a = 0; a < values.cols(); ++a) m += tiered_margin(std::abs(values(i, a)), tiers);
    out(i) = m;
  }
}

}  // namespace ccpnet::models
