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
  // MUST_NOT_LEAVE_DUST: a partial call leaves at least min_leftover of the
  // reserve's debt and of the collateral; the liquidator repays less.
  if (repay < account.debt[d] && seized < account.collateral[c] &&
      ((account.debt[d] - repay) * p_d < rule.min_leftover ||
       (account.collateral[c] - seized) * p_c < rule.min_leftover)) {
    repay = std::min({repay, account.debt[d] - rule.min_leftover / p_d,
                      (account.collateral[c] - rule.min_leftover / p_c) * p_c / p_d / (1.0 + bonus)});
    if (!(repay > 0.0)) return out;
    seized = repay * p_d / p_c * (1.0 + bonus);
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

double closing_bad_debt(const LendingMarket& market, const LendingAccount& account, const Eigen::VectorXd& prices) {
  check_sizes(market, account, prices.size());
  double buys_back = 0.0;
  for (std::size_t i = 0; i < market.assets.size(); ++i)
    buys_back +=
        account.collateral[i] * prices(static_cast<Eigen::Index>(i)) / (1.0 + liquidation_bonus(market, account, i));
  return std::max(0.0, value_of(account.debt, prices) - buys_back);
}

namespace {

// One collateral and one debt asset: ln HF is linear in t on the path.
bool monotone_on_path(const LendingAccount& account) {
  const auto held = [](const std::vector<double>& units) {
    return std::count_if(units.begin(), units.end(), [](double u) { return u != 0.0; });
  };
  return held(account.collateral) <= 1 && held(account.debt) <= 1;
}

// The first t in [t0, 1] with hf(t) < 1: t0 itself, or the end of a
// bisection inside the first grid step (or, when monotone, [t0, 1]) whose
// end is below 1. -1 when there is none.
template <class Hf>
double first_below_one(const Hf& hf, double t0, int grid_steps, bool monotone) {
  if (hf(t0) < 1.0) return t0;
  double lo = t0;
  for (int k = 1; k <= grid_steps; ++k) {
    const double g = monotone ? 1.0 : static_cast<double>(k) / grid_steps;
    if (g <= t0) continue;
    if (!(hf(g) < 1.0)) {
      if (monotone) return -1.0;
      lo = g;
      continue;
    }
    double hi = g;
    for (int i = 0; i < 200; ++i) {
      const double mid = 0.5 * (lo + hi);
      if (mid <= lo || mid >= hi) break;
      (hf(mid) < 1.0 ? hi : lo) = mid;
    }
    return hi;
  }
  return -1.0;
}

}  // namespace

LendingPathOutcome liquidate_on_log_path(const LendingMarket& market, LendingAccount& account,
                                         const Eigen::VectorXd& prices, const Eigen::VectorXd& log_moves, double delay,
                                         int grid_steps, int max_calls) {
  check_sizes(market, account, prices.size());
  if (log_moves.size() != prices.size()) throw std::invalid_argument("lending: the log-moves need one entry per asset");
  if (!(delay >= 0.0) || grid_steps < 1)
    throw std::invalid_argument("lending: the delay must be >= 0 and the grid at least one step");
  const auto at = [&](double t) -> Eigen::VectorXd {
    return (prices.array() * (log_moves.array() * t).exp()).matrix();
  };
  const auto hf = [&](double t) { return health_factor(market, account, at(t)); };
  LendingPathOutcome out;
  out.health_factor_start = health_factor(market, account, prices);
  double t = 0.0;
  // Each pass finds the next time HF < 1 and executes there + delay; a pass
  // that liquidates nothing leaves HF >= 1 (then the search moves on) or stops.
  for (int pass = 0; pass < 4 * max_calls && static_cast<int>(out.calls.size()) < max_calls; ++pass) {
    const double below = first_below_one(hf, t, grid_steps, monotone_on_path(account));
    if (below < 0.0) break;
    const double executed = std::min(1.0, below + delay);
    const Eigen::VectorXd p = at(executed);
    int calls = 0;
    while (static_cast<int>(out.calls.size()) < max_calls) {
      LendingLiquidation l = liquidation_call(market, account, p);
      if (l.debt_repaid <= 0.0 && l.bad_debt <= 0.0) break;
      l.time = executed;
      out.debt_repaid_value += l.debt_repaid_value;
      out.collateral_seized_value += l.collateral_seized_value;
      out.bad_debt += l.bad_debt;
      out.calls.push_back(l);
      ++calls;
    }
    if (executed >= 1.0 || (calls == 0 && health_factor(market, account, p) < 1.0)) break;
    t = executed;
  }
  const Eigen::VectorXd end = at(1.0);
  out.health_factor_end = health_factor(market, account, end);
  out.closing_bad_debt = closing_bad_debt(market, account, end);
  return out;
}

}  // namespace ccpnet::models
