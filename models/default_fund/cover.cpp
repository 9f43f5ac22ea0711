#include "models/default_fund/cover.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

namespace ccpnet::models {
namespace {

void check_weights(const Eigen::VectorXd& weights) {
  for (Eigen::Index i = 0; i < weights.size(); ++i)
    if (!(weights(i) >= 0.0) || !std::isfinite(weights(i)))
      throw std::invalid_argument("default fund allocation: contributor " + std::to_string(i) +
                                  " has a negative or non-finite weight " + std::to_string(weights(i)));
}

// Shares w / sum(w) (all zero: equal shares).
Eigen::VectorXd shares_of(const Eigen::VectorXd& weights) {
  check_weights(weights);
  const double sum = weights.sum();
  if (sum <= 0.0) return Eigen::VectorXd::Constant(weights.size(), 1.0 / static_cast<double>(weights.size()));
  return weights / sum;
}

// Sum of the two largest entries of max(U_g(s), 0) and share_g * fund over g.
double top_two_claims(const Eigen::MatrixXd& uncovered, Eigen::Index s, const Eigen::VectorXd& shares, double fund) {
  double first = 0.0, second = 0.0;
  for (Eigen::Index g = 0; g < uncovered.rows(); ++g) {
    const double claim = std::max({uncovered(g, s), shares(g) * fund, 0.0});
    if (claim > first) {
      second = first;
      first = claim;
    } else if (claim > second) {
      second = claim;
    }
  }
  return first + second;
}

// The rows of the three largest entries of `column`, largest first (ties: the
// lower row first, as a stable sort would put them); -1 past the last row.
// Their values are kept beside them: most entries are below the third and
// cost one comparison.
std::array<Eigen::Index, 3> largest_three(const Eigen::Ref<const Eigen::VectorXd>& column) {
  std::array<Eigen::Index, 3> top{-1, -1, -1};
  std::array<double, 3> value{};
  const double* x = column.data();
  for (Eigen::Index g = 0; g < column.size(); ++g) {
    const double v = x[g];
    if (top[2] >= 0 && !(v > value[2])) continue;
    std::size_t k = 3;
    while (k > 0 && (top[k - 1] < 0 || v > value[k - 1])) --k;
    if (k == 3) continue;
    for (std::size_t j = 2; j > k; --j) {
      top[j] = top[j - 1];
      value[j] = value[j - 1];
    }
    top[k] = g;
    value[k] = v;
  }
  return top;
}

}  // namespace

CoverSizing size_cover(const Eigen::Ref<const Eigen::MatrixXd>& uncovered, int cover, double other_prefunded) {
  if (cover != 1 && cover != 2)
    throw std::invalid_argument("default fund: cover must be 1 or 2, got " + std::to_string(cover));
  CoverSizing best;
  const Eigen::Index groups = uncovered.rows();
  if (groups == 0) return best;
  for (Eigen::Index s = 0; s < uncovered.cols(); ++s) {
    const std::array<Eigen::Index, 3> top = largest_three(uncovered.col(s));
    const auto u = [&](std::size_t k) { return top[k] >= 0 ? std::max(0.0, uncovered(top[k], s)) : 0.0; };
    double need = u(0);
    if (cover >= 2) need = std::max({u(0), u(1) + u(2), u(0) + u(1) - other_prefunded});
    if (need > best.fund || best.scenario < 0) {
      best.fund = need;
      best.scenario = s;
      best.groups.assign(top.begin(), top.begin() + std::min<Eigen::Index>(cover, groups));
    }
  }
  return best;
}

MutualisedDepletion mutualised_depletion(const Eigen::MatrixXd& uncovered, const Eigen::VectorXd& own_contributions,
                                         int cover, double skin_in_the_game) {
  if (cover != 1 && cover != 2)
    throw std::invalid_argument("default fund: cover must be 1 or 2, got " + std::to_string(cover));
  const Eigen::Index groups = uncovered.rows();
  if (own_contributions.size() != groups)
    throw std::invalid_argument("default fund: " + std::to_string(groups) + " groups but " +
                                std::to_string(own_contributions.size()) + " contributions");
  MutualisedDepletion best;
  if (groups == 0) return best;
  std::vector<Eigen::Index> order(static_cast<std::size_t>(groups));
  Eigen::VectorXd loss(groups), mutualised(groups);
  for (Eigen::Index s = 0; s < uncovered.cols(); ++s) {
    loss = uncovered.col(s).cwiseMax(0.0);
    mutualised = (loss - own_contributions).cwiseMax(0.0);
    std::iota(order.begin(), order.end(), Eigen::Index{0});
    std::stable_sort(order.begin(), order.end(), [&](Eigen::Index a, Eigen::Index b) {
      if (mutualised(a) != mutualised(b)) return mutualised(a) > mutualised(b);
      return loss(a) > loss(b);
    });
    const auto n = std::min<Eigen::Index>(cover, groups);
    double total = 0.0;
    for (Eigen::Index k = 0; k < n; ++k) total += mutualised(order[static_cast<std::size_t>(k)]);
    if (total > best.mutualised_loss || best.scenario < 0) {
      best.mutualised_loss = total;
      best.scenario = s;
      best.groups.assign(order.begin(), order.begin() + n);
    }
  }
  best.survivors_loss = std::max(0.0, best.mutualised_loss - skin_in_the_game);
  return best;
}

CoverSizing size_cover_boe(const Eigen::MatrixXd& uncovered, const Eigen::VectorXd& contribution_weights,
                           double other_prefunded) {
  const Eigen::Index groups = uncovered.rows();
  if (contribution_weights.size() != groups)
    throw std::invalid_argument("default fund: " + std::to_string(groups) + " groups but " +
                                std::to_string(contribution_weights.size()) + " contribution weights");
  CoverSizing out;
  if (groups == 0 || uncovered.cols() == 0) return out;
  const Eigen::VectorXd shares = shares_of(contribution_weights);
  const double emir = size_cover(uncovered, 2, other_prefunded).fund;
  const auto feasible = [&](double fund) {
    for (Eigen::Index s = 0; s < uncovered.cols(); ++s)
      if (fund + other_prefunded < top_two_claims(uncovered, s, shares, fund)) return false;
    return true;
  };
  double lo = emir, hi = emir;
  if (!feasible(hi)) {
    const double scale = std::max({emir, uncovered.maxCoeff(), 1.0});
    hi = 2.0 * scale;
    while (!feasible(hi)) {
      lo = hi;
      hi *= 2.0;
      if (hi > 1e12 * scale)
        throw std::invalid_argument(
            "default fund (Bank of England cover-2): no fund size covers two defaults, because contributions are "
            "concentrated in one group while another group's uncovered loss exceeds the other prefunded resources");
    }
    for (int it = 0; it < 200 && hi - lo > 1e-12 * hi; ++it) {
      const double mid = 0.5 * (lo + hi);
      (feasible(mid) ? hi : lo) = mid;
    }
  }
  out.fund = hi;
  const MutualisedDepletion pair = mutualised_depletion(uncovered, shares * out.fund, 2, other_prefunded);
  out.scenario = pair.scenario;
  out.groups = pair.groups;
  return out;
}

Eigen::VectorXd allocate_pro_rata(const Eigen::VectorXd& weights, double total) {
  if (weights.size() == 0) return weights;
  check_weights(weights);
  const double sum = weights.sum();
  if (sum <= 0.0) return Eigen::VectorXd::Constant(weights.size(), total / static_cast<double>(weights.size()));
  return weights * (total / sum);
}

Eigen::VectorXd uncovered_loss_weights(const Eigen::MatrixXd& uncovered) {
  if (uncovered.cols() == 0) return Eigen::VectorXd::Zero(uncovered.rows());
  return uncovered.rowwise().maxCoeff().cwiseMax(0.0);
}

Eigen::VectorXd allocate_pro_rata_uncovered(const Eigen::MatrixXd& uncovered, double total) {
  return allocate_pro_rata(uncovered_loss_weights(uncovered), total);
}

Eigen::MatrixXd uncovered_losses(const Eigen::MatrixXd& pnl, const Eigen::VectorXd& liquidation_cost,
                                 const std::vector<int>& account_row, const Eigen::VectorXd& resources) {
  Eigen::MatrixXd uncovered(resources.size(), pnl.cols());
  uncovered_losses_into(pnl, liquidation_cost, account_row, resources, uncovered);
  return uncovered;
}

void uncovered_losses_into(const Eigen::Ref<const Eigen::MatrixXd>& pnl, const Eigen::VectorXd& liquidation_cost,
                           const std::vector<int>& account_row, const Eigen::VectorXd& resources,
                           Eigen::Ref<Eigen::MatrixXd> uncovered) {
  if (static_cast<Eigen::Index>(account_row.size()) != pnl.rows() || liquidation_cost.size() != pnl.rows())
    throw std::invalid_argument("uncovered losses: " + std::to_string(pnl.rows()) + " accounts in the P&L, " +
                                std::to_string(liquidation_cost.size()) + " liquidation costs, " +
                                std::to_string(account_row.size()) + " rows");
  if (uncovered.rows() != resources.size() || uncovered.cols() != pnl.cols())
    throw std::invalid_argument("uncovered losses: the output is " + std::to_string(uncovered.rows()) + " x " +
                                std::to_string(uncovered.cols()) + ", expected " + std::to_string(resources.size()) +
                                " x " + std::to_string(pnl.cols()));
  // Column by column (both matrices are column-major); each row sums its
  // accounts in account order. Raw pointers: through the Eigen blocks the
  // compiler reloaded every pointer at each account (the output may alias).
  const int* row_of = account_row.data();
  const double* cost = liquidation_cost.data();
  const Eigen::Index n = pnl.rows();
  for (Eigen::Index s = 0; s < pnl.cols(); ++s) {
    auto out = uncovered.col(s);
    out.setZero();
    const double* loss = pnl.col(s).data();
    double* sums = out.data();
    for (Eigen::Index i = 0; i < n; ++i) {
      const int row = row_of[i];
      if (row >= 0) sums[row] += -loss[i] + cost[i];
    }
    out = (out - resources).cwiseMax(0.0);
  }
}

void CoverSearch::add(const Eigen::Ref<const Eigen::MatrixXd>& uncovered, Eigen::Index first_move) {
  const CoverSizing part = size_cover(uncovered, cover_, prefunded_);
  if (part.scenario >= 0 && (sizing_.scenario < 0 || part.fund > sizing_.fund)) {
    sizing_ = part;
    column_ = uncovered.col(part.scenario);
    sizing_.scenario += first_move;
  }
}

}  // namespace ccpnet::models
