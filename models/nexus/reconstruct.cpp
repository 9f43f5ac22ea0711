#include "models/nexus/reconstruct.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <string>

namespace ccpnet::models {

namespace {

// The common total of `assets` and `liabilities`, after checking them.
double checked_total(const Eigen::VectorXd& assets, const Eigen::VectorXd& liabilities, bool zero_diagonal) {
  if (assets.size() != liabilities.size())
    throw std::invalid_argument("interbank reconstruction: assets and liabilities need one entry per bank, found " +
                                std::to_string(assets.size()) + " and " + std::to_string(liabilities.size()));
  for (Eigen::Index i = 0; i < assets.size(); ++i)
    if (!std::isfinite(assets(i)) || !std::isfinite(liabilities(i)) || assets(i) < 0.0 || liabilities(i) < 0.0)
      throw std::invalid_argument("interbank reconstruction: bank " + std::to_string(i) +
                                  " has negative or non-finite interbank assets or liabilities");
  const double a = assets.sum(), l = liabilities.sum();
  if (std::abs(a - l) > 1e-9 * std::max(a, l))
    throw std::invalid_argument("interbank reconstruction: total interbank assets (" + std::to_string(a) +
                                ") must equal total interbank liabilities (" + std::to_string(l) + ")");
  if (zero_diagonal)
    for (Eigen::Index i = 0; i < assets.size(); ++i)
      if (assets(i) + liabilities(i) > a * (1.0 + 1e-12) && assets(i) > 0.0 && liabilities(i) > 0.0)
        throw std::invalid_argument("interbank reconstruction: bank " + std::to_string(i) +
                                    " lends more than the others borrow, or borrows more than they lend, in all");
  return a;
}

// The largest gap between the sums of `x` and their targets.
double sum_error(const Eigen::MatrixXd& x, const Eigen::VectorXd& assets, const Eigen::VectorXd& liabilities) {
  return std::max((x.rowwise().sum() - assets).cwiseAbs().maxCoeff(),
                  (x.colwise().sum().transpose() - liabilities).cwiseAbs().maxCoeff());
}

// A uniform draw in [0, 1) from 53 bits of the generator: the same on every
// platform (std::uniform_real_distribution is not).
double uniform(std::mt19937_64& gen) { return static_cast<double>(gen() >> 11) * 0x1.0p-53; }

}  // namespace

Reconstruction max_entropy(const Eigen::VectorXd& assets, const Eigen::VectorXd& liabilities,
                           const MaxEntropyOptions& options) {
  const double total = checked_total(assets, liabilities, options.zero_diagonal);
  const Eigen::Index n = assets.size();
  Reconstruction r;
  r.exposures = Eigen::MatrixXd::Zero(n, n);
  if (total <= 0.0) {
    r.converged = true;
    return r;
  }
  r.exposures = assets * liabilities.transpose() / total;
  if (options.zero_diagonal) r.exposures.diagonal().setZero();
  const double tolerance = options.tolerance * total;
  while (sum_error(r.exposures, assets, liabilities) > tolerance) {
    if (r.iterations == options.max_iterations) return r;
    ++r.iterations;
    const Eigen::VectorXd rows = r.exposures.rowwise().sum();
    for (Eigen::Index i = 0; i < n; ++i)
      if (rows(i) > 0.0) r.exposures.row(i) *= assets(i) / rows(i);
    const Eigen::VectorXd cols = r.exposures.colwise().sum().transpose();
    for (Eigen::Index j = 0; j < n; ++j)
      if (cols(j) > 0.0) r.exposures.col(j) *= liabilities(j) / cols(j);
  }
  r.converged = true;
  return r;
}

Reconstruction min_density(const Eigen::VectorXd& assets, const Eigen::VectorXd& liabilities, std::uint64_t seed) {
  const double total = checked_total(assets, liabilities, true);
  const Eigen::Index n = assets.size();
  Reconstruction r;
  r.exposures = Eigen::MatrixXd::Zero(n, n);
  Eigen::VectorXd a = assets, l = liabilities;  // what is left to place
  const double eps = 1e-12 * total;
  for (Eigen::Index i = 0; i < n; ++i) {
    if (a(i) <= eps) a(i) = 0.0;
    if (l(i) <= eps) l(i) = 0.0;
  }
  std::mt19937_64 gen(seed);
  const auto limit = 4 * n + 16;  // each link exhausts a row or a column; reroutes add at most n
  while (a.sum() > eps && r.iterations < limit) {
    ++r.iterations;
    const double l_sum = l.sum();
    double weight = 0.0;
    for (Eigen::Index i = 0; i < n; ++i) weight += a(i) * (l_sum - l(i));
    if (weight > eps * eps) {
      // Draw the link (i, j), i != j, with weight a(i) l(j).
      double u = uniform(gen) * weight;
      Eigen::Index i = 0;
      for (; i < n - 1; ++i) {
        const double row = a(i) * (l_sum - l(i));
        if (u < row) break;
        u -= row;
      }
      while (a(i) <= 0.0) --i;  // rounding at the end of the walk: the last row with weight
      u = std::min(u / a(i), l_sum - l(i));
      Eigen::Index j = 0;
      for (; j < n - 1; ++j) {
        if (j == i) continue;
        if (u < l(j)) break;
        u -= l(j);
      }
      while (j == i || l(j) <= 0.0) --j;
      const double z = std::min(a(i), l(j));
      r.exposures(i, j) += z;
      a(i) = a(i) - z <= eps ? 0.0 : a(i) - z;
      l(j) = l(j) - z <= eps ? 0.0 : l(j) - z;
      continue;
    }
    // Only one bank's own diagonal is left: reroute through the largest link
    // (k, m) clear of it: k lends to it and it lends to m instead.
    Eigen::Index i = 0;
    a.maxCoeff(&i);
    Eigen::Index k = -1, m = -1;
    for (Eigen::Index c = 0; c < n; ++c)
      for (Eigen::Index row = 0; row < n; ++row)
        if (row != i && c != i && (k < 0 || r.exposures(row, c) > r.exposures(k, m))) {
          k = row;
          m = c;
        }
    if (k < 0 || r.exposures(k, m) <= 0.0)
      throw std::invalid_argument("interbank reconstruction: bank " + std::to_string(i) +
                                  " would have to lend to itself (no other bank borrows)");
    const double z = std::min({a(i), l(i), r.exposures(k, m)});
    r.exposures(k, m) -= z;
    r.exposures(i, m) += z;
    r.exposures(k, i) += z;
    a(i) = a(i) - z <= eps ? 0.0 : a(i) - z;
    l(i) = l(i) - z <= eps ? 0.0 : l(i) - z;
  }
  r.converged = a.sum() <= eps && l.sum() <= eps;
  return r;
}

}  // namespace ccpnet::models
