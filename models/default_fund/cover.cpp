#include "models/default_fund/cover.hpp"

#include <algorithm>
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

}  // namespace

CoverSizing size_cover(const Eigen::MatrixXd& uncovered, int cover, double other_prefunded) {
  if (cover != 1 && cover != 2)
    throw std::invalid_argument("default fund: cover must be 1 or 2, got " + std::to_string(cover));
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
  if (static_cast<Eigen::Index>(account_row.size()) != pnl.rows() || liquidation_cost.size() != pnl.rows())
    throw std::invalid_argument("uncovered losses: " + std::to_string(pnl.rows()) + " accounts in the P&L, " +
                                std::to_string(liquidation_cost.size()) + " liquidation costs, " +
                                std::to_string(account_row.size()) + " rows");
  Eigen::MatrixXd uncovered = Eigen::MatrixXd::Zero(resources.size(), pnl.cols());
  for (Eigen::Index i = 0; i < pnl.rows(); ++i) {
    const int row = account_row[static_cast<std::size_t>(i)];
    if (row < 0) continue;
    uncovered.row(row).array() += -pnl.row(i).array() + liquidation_cost(i);
  }
  for (Eigen::Index r = 0; r < resources.size(); ++r)
    uncovered.row(r) = (uncovered.row(r).array() - resources(r)).cwiseMax(0.0);
  return uncovered;
}

void CoverSearch::add(const Eigen::MatrixXd& uncovered, Eigen::Index first_move) {
  const CoverSizing part = size_cover(uncovered, cover_, prefunded_);
  if (part.scenario >= 0 && (sizing_.scenario < 0 || part.fund > sizing_.fund)) {
    sizing_ = part;
    column_ = uncovered.col(part.scenario);
    sizing_.scenario += first_move;
  }
}

}  // namespace ccpnet::models
