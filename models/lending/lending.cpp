#include "models/lending/lending.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

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
