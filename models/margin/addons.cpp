#include "models/margin/addons.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace ccpnet::models {
namespace {

void check_buffer(double buffer_rate) {
  if (!(buffer_rate >= 0.0))
    throw std::invalid_argument("anti-procyclicality: the margin buffer must not be negative, got " +
                                std::to_string(buffer_rate));
}

void check_adv(const Eigen::VectorXd& adv, Eigen::Index assets, const Eigen::VectorXd& other, const char* what) {
  if (adv.size() != assets || other.size() != assets)
    throw std::invalid_argument(std::string("concentration add-on: ") + std::to_string(assets) +
                                " assets in the positions, " + std::to_string(adv.size()) + " ADVs, " +
                                std::to_string(other.size()) + " " + what);
  for (Eigen::Index a = 0; a < adv.size(); ++a)
    if (!(adv(a) > 0.0))
      throw std::invalid_argument("concentration add-on: asset " + std::to_string(a) +
                                  " has a non-positive average daily volume");
}

void check_haircuts(const Eigen::VectorXd& haircuts, Eigen::Index assets) {
  if (haircuts.size() != assets)
    throw std::invalid_argument("collateral: " + std::to_string(assets) + " collateral assets but " +
                                std::to_string(haircuts.size()) + " haircuts");
  for (Eigen::Index c = 0; c < haircuts.size(); ++c)
    if (!(haircuts(c) >= 0.0 && haircuts(c) < 1.0))
      throw std::invalid_argument("collateral: the haircut of collateral asset " + std::to_string(c) +
                                  " must be in [0, 1), got " + std::to_string(haircuts(c)));
}

}  // namespace

double apc_buffer_margin(double model_im, double reference_im, double buffer_rate) {
  check_buffer(buffer_rate);
  return std::max(model_im, (1.0 + buffer_rate) * std::min(model_im, reference_im));
}

Eigen::VectorXd apc_buffer_margin(const Eigen::VectorXd& model_im, const Eigen::VectorXd& reference_im,
                                  double buffer_rate) {
  check_buffer(buffer_rate);
  if (model_im.size() != reference_im.size())
    throw std::invalid_argument("anti-procyclicality: margins and reference margins differ in length");
  return model_im.cwiseMax((1.0 + buffer_rate) * model_im.cwiseMin(reference_im));
}

double apc_weighted_vol(double current_vol, double stressed_vol, double stressed_weight) {
  if (!(stressed_weight >= 0.0 && stressed_weight <= 1.0))
    throw std::invalid_argument("anti-procyclicality: the stressed weight must be in [0, 1], got " +
                                std::to_string(stressed_weight));
  return std::sqrt((1.0 - stressed_weight) * current_vol * current_vol + stressed_weight * stressed_vol * stressed_vol);
}

double apc_floor_margin(double model_im, double floor_im) { return std::max(model_im, floor_im); }

Eigen::VectorXd apc_floor_margin(const Eigen::VectorXd& model_im, const Eigen::VectorXd& floor_im) {
  if (model_im.size() != floor_im.size())
    throw std::invalid_argument("anti-procyclicality: margins and floor margins differ in length");
  return model_im.cwiseMax(floor_im);
}

double liquidation_cost(const Eigen::VectorXd& values, const Eigen::VectorXd& adv, const Eigen::VectorXd& impact) {
  const Eigen::MatrixXd row = values.transpose();
  return liquidation_cost_rows(row, adv, impact)(0);
}

double position_liquidation_cost(double value, double adv, double impact) {
  if (!(adv > 0.0)) throw std::invalid_argument("liquidation cost: non-positive average daily volume");
  const double size = std::abs(value);
  return impact * size * std::sqrt(size / adv);
}

Eigen::VectorXd liquidation_cost_rows(const Eigen::MatrixXd& values, const Eigen::VectorXd& adv,
                                      const Eigen::VectorXd& impact) {
  check_adv(adv, values.cols(), impact, "impact coefficients");
  // k |x| sqrt(|x| / ADV) = |x|^1.5 * (k / sqrt(ADV)).
  const Eigen::VectorXd per_unit = (impact.array() / adv.array().sqrt()).matrix();
  const Eigen::ArrayXXd size = values.array().abs();
  return (size * size.sqrt()).matrix() * per_unit;
}

double liquidation_horizon_days(double value, double adv, double participation_rate, double mpor_days) {
  if (!(adv > 0.0)) throw std::invalid_argument("concentration add-on: non-positive average daily volume");
  if (!(participation_rate > 0.0))
    throw std::invalid_argument("concentration add-on: the participation rate must be positive");
  return std::max(mpor_days, std::abs(value) / (participation_rate * adv));
}

Eigen::VectorXd concentration_addon_rows(const Eigen::MatrixXd& values, const Eigen::VectorXd& daily_vol,
                                         const Eigen::VectorXd& adv, double mpor_days, double quantile,
                                         double participation_rate) {
  Eigen::VectorXd addon;
  concentration_addon_rows_into(values, daily_vol, adv, mpor_days, quantile, participation_rate, addon);
  return addon;
}

void concentration_addon_rows_into(const Eigen::MatrixXd& values, const Eigen::VectorXd& daily_vol,
                                   const Eigen::VectorXd& adv, double mpor_days, double quantile,
                                   double participation_rate, Eigen::VectorXd& addon) {
  check_adv(adv, values.cols(), daily_vol, "volatilities");
  if (!(participation_rate > 0.0))
    throw std::invalid_argument("concentration add-on: the participation rate must be positive");
  addon.setZero(values.rows());
  const double sqrt_mpor = std::sqrt(mpor_days);
  for (Eigen::Index a = 0; a < values.cols(); ++a) {
    const double daily_capacity = participation_rate * adv(a);
    for (Eigen::Index i = 0; i < values.rows(); ++i) {
      const double size = std::abs(values(i, a));
      const double horizon = std::max(mpor_days, size / daily_capacity);
      addon(i) += quantile * daily_vol(a) * size * (std::sqrt(horizon) - sqrt_mpor);
    }
  }
}

double collateral_value(const Eigen::VectorXd& market_values, const Eigen::VectorXd& haircuts) {
  check_haircuts(haircuts, market_values.size());
  return market_values.dot((1.0 - haircuts.array()).matrix());
}

Eigen::VectorXd shocked_collateral_value(const Eigen::VectorXd& market_values, const Eigen::VectorXd& haircuts,
                                         const Eigen::MatrixXd& log_returns) {
  check_haircuts(haircuts, market_values.size());
  if (log_returns.cols() != market_values.size())
    throw std::invalid_argument("collateral: the shocks have " + std::to_string(log_returns.cols()) +
                                " assets, the collateral " + std::to_string(market_values.size()));
  const Eigen::VectorXd credited = (market_values.array() * (1.0 - haircuts.array())).matrix();
  return log_returns.array().exp().matrix() * credited;
}

Eigen::VectorXd shocked_collateral_rows(const Eigen::MatrixXd& market_values, const Eigen::VectorXd& haircuts,
                                        const Eigen::VectorXd& log_returns) {
  check_haircuts(haircuts, market_values.cols());
  if (log_returns.size() != market_values.cols())
    throw std::invalid_argument("collateral: the shock has " + std::to_string(log_returns.size()) +
                                " assets, the collateral " + std::to_string(market_values.cols()));
  return market_values * (log_returns.array().exp() * (1.0 - haircuts.array())).matrix();
}

double collateral_haircut(double daily_vol, double liquidation_days, double quantile) {
  if (!(daily_vol >= 0.0) || !(liquidation_days >= 0.0))
    throw std::invalid_argument("collateral: volatility and liquidation period must not be negative");
  return 1.0 - std::exp(-quantile * daily_vol * std::sqrt(liquidation_days));
}

double ewma_vol_multiplier(double lambda, double log_return, double horizon_days, double daily_vol) {
  if (!(daily_vol > 0.0)) throw std::invalid_argument("ewma_vol_multiplier: the daily volatility must be > 0");
  if (!(lambda >= 0.0 && lambda <= 1.0)) throw std::invalid_argument("ewma_vol_multiplier: lambda must be in [0, 1]");
  if (!(horizon_days > 0.0)) throw std::invalid_argument("ewma_vol_multiplier: the horizon must be > 0");
  const double z2 = log_return * log_return / (horizon_days * daily_vol * daily_vol);
  return std::sqrt(lambda + (1.0 - lambda) * z2);
}

std::vector<double> ewma_vol_path(double lambda, const std::vector<double>& step_log_returns, double step_days,
                                  double daily_vol) {
  std::vector<double> out;
  ewma_vol_path_into(lambda, step_log_returns, step_days, daily_vol, out);
  return out;
}

void ewma_vol_path_into(double lambda, const std::vector<double>& step_log_returns, double step_days, double daily_vol,
                        std::vector<double>& out) {
  out.clear();
  out.reserve(step_log_returns.size());
  double multiplier = 1.0;
  for (double r : step_log_returns) {
    multiplier *= ewma_vol_multiplier(lambda, r, step_days, daily_vol * multiplier);
    out.push_back(multiplier);
  }
}

double apc_weighted_multiplier(double multiplier, double stressed_weight, double stressed_multiplier) {
  if (!(stressed_weight >= 0.0 && stressed_weight <= 1.0))
    throw std::invalid_argument("anti-procyclicality: the stressed weight must be in [0, 1], got " +
                                std::to_string(stressed_weight));
  const double w = stressed_weight, s2 = stressed_multiplier * stressed_multiplier;
  return std::sqrt((w * s2 + (1.0 - w) * multiplier * multiplier) / (w * s2 + (1.0 - w)));
}

double recomputed_margin(double held, double ratio, double apc_buffer) {
  const double base = held / (1.0 + apc_buffer);
  return apc_buffer_margin(base * ratio, base, apc_buffer);
}

MarginCall margin_call(double im, double required, double share, double haircut, double asset_return, double kept) {
  if (!(haircut >= 0.0 && haircut < 1.0)) throw std::invalid_argument("margin_call: the haircut must be in [0, 1)");
  MarginCall out;
  const double posted = im * share / (1.0 - haircut);
  out.held_unpaid = (im * (1.0 - share) + posted * (1.0 + asset_return)) * kept;
  out.credited = im * ((1.0 - share) + share * (1.0 + asset_return)) * kept;
  out.call = std::max(0.0, required - out.credited);
  out.held_paid = out.held_unpaid + out.call;
  out.collateral_change = posted * asset_return;
  return out;
}

}  // namespace ccpnet::models
