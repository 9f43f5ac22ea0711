#include "models/default_fund/cover.hpp"

#include <algorithm>
#include <numeric>

namespace ccpnet::models {

CoverSizing size_cover(const Eigen::MatrixXd& uncovered, int cover, double other_prefunded) {
  CoverSizing best;
  const Eigen::Index groups = uncovered.rows();
  if (groups == 0) return best;
  std::vector<Eigen::Index> order(static_cast<std::size_t>(groups));
  for (Eigen::Index s = 0; s < uncovered.cols(); ++s) {
    std::iota(order.begin(), order.end(), Eigen::Index{0});
    // Largest first; ties by group index so the choice is deterministic.
    std::stable_sort(order.begin(), order.end(),
                     [&](Eigen::Index a, Eigen::Index b) { return uncovered(a, s) > uncovered(b, s); });
    const auto u = [&](std::size_t k) { return k < order.size() ? std::max(0.0, uncovered(order[k], s)) : 0.0; };
    double need = u(0);
    if (cover >= 2) need = std::max({u(0), u(1) + u(2), u(0) + u(1) - other_prefunded});
    if (need > best.fund || best.scenario < 0) {
      best.fund = need;
      best.scenario = s;
      best.groups.assign(order.begin(), order.begin() + std::min<Eigen::Index>(cover, groups));
    }
  }
  return best;
}

Eigen::VectorXd allocate_pro_rata(const Eigen::VectorXd& weights, double total) {
  const double sum = weights.sum();
  if (weights.size() == 0) return weights;
  if (sum <= 0.0) return Eigen::VectorXd::Constant(weights.size(), total / static_cast<double>(weights.size()));
  return weights * (total / sum);
}

}  // namespace ccpnet::models
