#include "models/lending/lending.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace ccpnet::models {

double health_factor(double collateral, double debt, double liquidation_threshold) {
  if (debt <= 0.0) return std::numeric_limits<double>::infinity();
  return collateral * liquidation_threshold / debt;
}

double liquidation_bad_debt(double collateral, double debt, double bonus) {
  return std::max(0.0, debt - collateral / (1.0 + bonus));
}

LiquidationOutcome liquidate_on_path(double collateral0, double debt0, double x_collateral, double x_debt,
                                     const LendingParams& params, double period_days) {
  LiquidationOutcome out;
  const auto at = [&](double t) {
    out.collateral = collateral0 * std::exp(x_collateral * t);
    out.debt = debt0 * std::exp(x_debt * t);
  };
  if (debt0 <= 0.0) {
    at(1.0);
    return out;
  }
  const double hf0 = health_factor(collateral0, debt0, params.liquidation_threshold);
  const double drift = x_collateral - x_debt;  // d ln HF / dt
  double trigger = 0.0;
  if (hf0 >= 1.0) {
    // HF(1) = HF0 exp(drift) >= 1: no crossing within the period.
    if (!(drift < 0.0) || std::log(hf0) + drift >= 0.0) {
      at(1.0);
      return out;
    }
    trigger = -std::log(hf0) / drift;
  }
  out.liquidated = true;
  out.trigger_time = trigger;
  out.execution_time = std::min(1.0, trigger + params.oracle_delay_hours / (24.0 * period_days));
  at(out.execution_time);
  out.bad_debt = liquidation_bad_debt(out.collateral, out.debt, params.liquidation_bonus);
  return out;
}

}  // namespace ccpnet::models

namespace ccpnet::models {

namespace {

void check_sizes(const LendingMarket& market, const LendingAccount& account, Eigen::Index prices) {
  const std::size_t n = market.assets.size();
  if (account.collateral.size() != n || account.debt.size() != n || static_cast<std::size_t>(prices) != n)
    throw std::invalid_argument("lending: the account's collateral, debt and the prices need one entry per asset (" +
                                std::to_string(n) + ")");
}

const EModeCategory* emode_of(const LendingMarket& market, const LendingAccount& account, std::size_t asset) {
  if (account.emode_category == 0 || market.assets[asset].emode_category != account.emode_category) return nullptr;
  for (const auto& c : market.emode_categories)
    if (c.id == account.emode_category) return &c;
  throw std::invalid_argument("lending: unknown e-mode category " + std::to_string(account.emode_category));
}

std::size_t largest(const std::vector<double>& units, const Eigen::VectorXd& prices) {
  std::size_t best = 0;
  double best_value = -1.0;
  for (std::size_t i = 0; i < units.size(); ++i) {
    const double v = units[i] * prices(static_cast<Eigen::Index>(i));
    if (v > best_value) {
      best = i;
      best_value = v;
    }
  }
  return best;
}

double value_of(const std::vector<double>& units, const Eigen::VectorXd& prices) {
  double sum = 0.0;
  for (std::size_t i = 0; i < units.size(); ++i) sum += units[i] * prices(static_cast<Eigen::Index>(i));
  return sum;
}

}  // namespace

double liquidation_threshold(const LendingMarket& market, const LendingAccount& account, std::size_t asset) {
  const EModeCategory* c = emode_of(market, account, asset);
  return c ? c->liquidation_threshold : market.assets.at(asset).liquidation_threshold;
}

double liquidation_bonus(const LendingMarket& market, const LendingAccount& account, std::size_t asset) {
  const EModeCategory* c = emode_of(market, account, asset);
  return c ? c->liquidation_bonus : market.assets.at(asset).liquidation_bonus;
}

double health_factor(const LendingMarket& market, const LendingAccount& account, const Eigen::VectorXd& prices) {
  check_sizes(market, account, prices.size());
  const double debt = value_of(account.debt, prices);
  if (debt <= 0.0) return std::numeric_limits<double>::infinity();
  double weighted = 0.0;
  for (std::size_t i = 0; i < market.assets.size(); ++i)
    weighted +=
        account.collateral[i] * prices(static_cast<Eigen::Index>(i)) * liquidation_threshold(market, account, i);
  return weighted / debt;
}

LendingLiquidation liquidation_call(const LendingMarket& market, LendingAccount& account, const Eigen::VectorXd& prices,
                                    double debt_to_cover) {
  check_sizes(market, account, prices.size());
  for (Eigen::Index i = 0; i < prices.size(); ++i)
    if (!(prices(i) > 0.0)) throw std::invalid_argument("lending: prices must be positive");
  LendingLiquidation out;
  out.health_factor_before = health_factor(market, account, prices);
  out.health_factor_after = out.health_factor_before;
  if (!(out.health_factor_before < 1.0) || !(debt_to_cover > 0.0)) return out;
  const std::size_t d = largest(account.debt, prices);
  const std::size_t c = largest(account.collateral, prices);
  out.debt_asset = d;
  out.collateral_asset = c;
  const double p_d = prices(static_cast<Eigen::Index>(d));
  const double p_c = prices(static_cast<Eigen::Index>(c));
  const CloseFactorRule& rule = market.close_factor;
  // Close factor (executeLiquidationCall): the whole reserve debt, unless the
  // reserve's collateral and debt are both above the dust threshold and HF is
  // above the HF threshold: then the default share of the TOTAL debt value.
  double max_debt = account.debt[d];
  out.close_factor = 1.0;
  if (account.collateral[c] * p_c >= rule.min_base_threshold && account.debt[d] * p_d >= rule.min_base_threshold &&
      out.health_factor_before > rule.hf_threshold) {
    const double allowed = rule.default_close_factor * value_of(account.debt, prices) / p_d;
    if (account.debt[d] > allowed) {
      max_debt = allowed;
      out.close_factor = rule.default_close_factor;
    }
  }
  double repay = std::min(debt_to_cover, max_debt);
  // _calculateAvailableCollateralToLiquidate.
  const double bonus = liquidation_bonus(market, account, c);
  double seized = repay * p_d / p_c * (1.0 + bonus);
  if (seized >= account.collateral[c]) {
    seized = account.collateral[c];
    repay = std::min(repay, seized * p_c / p_d / (1.0 + bonus));
  }
  account.debt[d] -= repay;
  account.collateral[c] -= seized;
  out.debt_repaid = repay;
  out.debt_repaid_value = repay * p_d;
  out.collateral_seized = seized;
  out.collateral_seized_value = seized * p_c;
  // Aave v3.3 deficit: no collateral left, the remaining debt is written off.
  if (value_of(account.collateral, prices) <= 0.0) {
    out.bad_debt = value_of(account.debt, prices);
    for (auto& x : account.debt) x = 0.0;
  }
  out.health_factor_after = health_factor(market, account, prices);
  return out;
}

std::vector<LendingLiquidation> liquidate_along_path(const LendingMarket& market, LendingAccount& account,
                                                     const Eigen::MatrixXd& price_path, int max_calls_per_step) {
  std::vector<LendingLiquidation> out;
  for (Eigen::Index t = 0; t < price_path.rows(); ++t) {
    const Eigen::VectorXd prices = price_path.row(t).transpose();
    for (int k = 0; k < max_calls_per_step; ++k) {
      LendingLiquidation l = liquidation_call(market, account, prices);
      if (l.debt_repaid <= 0.0 && l.bad_debt <= 0.0) break;
      l.step = static_cast<std::size_t>(t);
      out.push_back(l);
    }
  }
  return out;
}

}  // namespace ccpnet::models
