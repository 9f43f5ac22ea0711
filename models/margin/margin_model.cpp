#include "models/margin/margin_model.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "models/margin/addons.hpp"
#include "models/margin/parametric.hpp"
#include "models/margin/quantile.hpp"
#include "models/margin/scenario_grid.hpp"

namespace ccpnet::models {
namespace {

// The daily volatility the models see: a stressed-volatility weight scales it.
void model_vol(const MarginRule& rule, const Eigen::VectorXd& daily_vol, Eigen::VectorXd& vol) {
  vol = daily_vol;
  if (rule.apc == ApcMode::kStressedWeight) {
    for (Eigen::Index a = 0; a < vol.size(); ++a)
      vol(a) = apc_weighted_vol(vol(a), vol(a) * rule.apc_stressed_multiplier, rule.apc_stressed_weight);
  }
}

void delta_values_into(const Eigen::MatrixXd& values, const std::vector<std::vector<HeldOption>>& options,
                       const Eigen::VectorXd& price, Eigen::MatrixXd& out) {
  out = values;
  for (std::size_t i = 0; i < options.size(); ++i)
    for (const HeldOption& h : options[i])
      out(static_cast<Eigen::Index>(i), h.underlying) += h.quantity * h.delta * price(h.underlying);
}

// The underlyings row i holds options on, in order of first appearance.
std::vector<int> option_underlyings(const std::vector<HeldOption>& options) {
  std::vector<int> out;
  for (const HeldOption& h : options)
    if (std::find(out.begin(), out.end(), h.underlying) == out.end()) out.push_back(h.underlying);
  return out;
}

// The scan of one underlying `a` of a row: its linear position and its
// options by Black-76 over the price x vol grid, options grouped by discount
// rate into books scanned on one grid, whose risk arrays add up.
Eigen::VectorXd scan_underlying(const ScenarioGridMarginModel& m, const std::vector<HeldOption>& options, int a,
                                double linear_value, double forward, double horizon_vol, double horizon_years) {
  ScanGrid grid = make_scan_grid(horizon_vol, m.scan_sigmas, m.price_steps);
  if (!m.vol_moves.empty()) grid.vol_moves = m.vol_moves;
  grid.relative_vol_moves = true;
  std::vector<double> rates;
  for (const HeldOption& h : options)
    if (h.underlying == a && std::find(rates.begin(), rates.end(), h.contract.rate) == rates.end())
      rates.push_back(h.contract.rate);
  Eigen::VectorXd pnl;
  for (std::size_t k = 0; k < rates.size(); ++k) {
    UnderlyingBook book;
    book.forward = forward;
    book.linear_quantity = k == 0 ? linear_value / forward : 0.0;
    for (const HeldOption& h : options) {
      if (h.underlying != a || h.contract.rate != rates[k]) continue;
      const OptionContract& c = h.contract;
      book.options.push_back({c.type, c.strike, c.expiry_years, c.implied_vol, h.quantity});
    }
    const Eigen::VectorXd part = scan_risk_array(book, grid, rates[k], horizon_years);
    pnl = k == 0 ? part : Eigen::VectorXd(pnl + part);
  }
  return pnl;
}

// Scenario-grid IM of the rows with options: each underlying an account holds
// options on is scanned in full (scan_underlying, with the MPOR's time
// decay); the linear rows cover the rest.
Eigen::VectorXd scenario_grid_rows(const ScenarioGridMarginModel& m, const Eigen::MatrixXd& values,
                                   const std::vector<std::vector<HeldOption>>& options,
                                   const Eigen::VectorXd& horizon_vol, double mpor_days, const Eigen::VectorXd& price) {
  Eigen::MatrixXd linear = values;
  std::vector<std::vector<int>> scanned(options.size());
  for (std::size_t i = 0; i < options.size(); ++i) {
    scanned[i] = option_underlyings(options[i]);
    for (int a : scanned[i]) linear(static_cast<Eigen::Index>(i), a) = 0.0;
  }
  Eigen::VectorXd im = scenario_grid_linear_rows(linear, horizon_vol, m.scan_sigmas);
  const double horizon_years = mpor_days / 365.0;
  for (std::size_t i = 0; i < options.size(); ++i) {
    const auto row = static_cast<Eigen::Index>(i);
    for (int a : scanned[i]) {
      const Eigen::VectorXd pnl =
          scan_underlying(m, options[i], a, values(row, a), price(a), horizon_vol(a), horizon_years);
      im(row) += std::max(0.0, -pnl.minCoeff());
    }
  }
  return im;
}

// Historical IM: the cumulative log-prices of the history, each asset's
// returns scaled by the volatility the CCP sees over the one they were
// observed at (MarginMarket::history_vol), then overlapping h-day returns (h
// rounded up to whole days).
void historical_rows(const HistoricalMarginModel& m, const Eigen::MatrixXd& values, double mpor_days,
                     const MarginMarket& market, MarginWorkspace& ws, Eigen::VectorXd& im) {
  const Eigen::MatrixXd& returns_daily = market.history_daily_returns;
  const Eigen::Index days = returns_daily.rows();
  const int horizon = std::max(1, static_cast<int>(std::ceil(mpor_days - 1e-12)));
  ws.scale = ws.vol;
  if (market.history_vol)
    for (Eigen::Index a = 0; a < ws.vol.size(); ++a) {
      const double observed = (*market.history_vol)(a);
      ws.scale(a) = observed > 0.0 ? ws.vol(a) / observed : 1.0;
    }
  ws.prices.setZero(days + 1, ws.vol.size());
  for (Eigen::Index t = 0; t < days; ++t)
    ws.prices.row(t + 1) = ws.prices.row(t) + returns_daily.row(t).cwiseProduct(ws.scale.transpose());
  ws.prices = ws.prices.array().exp().matrix();
  overlapping_log_returns_into(ws.prices, horizon, ws.returns);
  historical_im_rows_into(values, ws.returns, m.confidence, m.measure, ws.historical, im);
}

}  // namespace

Eigen::MatrixXd delta_values(const Eigen::MatrixXd& values, const std::vector<std::vector<HeldOption>>& options,
                             const Eigen::VectorXd& price) {
  Eigen::MatrixXd out;
  delta_values_into(values, options, price, out);
  return out;
}

Eigen::VectorXd margin_rows(const MarginRule& rule, const Eigen::MatrixXd& linear_values,
                            const std::vector<std::vector<HeldOption>>& options, const MarginMarket& market) {
  MarginWorkspace ws;
  Eigen::VectorXd im;
  margin_rows_into(rule, linear_values, options, market, ws, im);
  return im;
}

void margin_rows_into(const MarginRule& rule, const Eigen::MatrixXd& linear_values,
                      const std::vector<std::vector<HeldOption>>& options, const MarginMarket& market,
                      MarginWorkspace& ws, Eigen::VectorXd& im) {
  delta_values_into(linear_values, options, market.price, ws.values);
  model_vol(rule, market.daily_vol, ws.vol);
  const Eigen::MatrixXd& values = ws.values;
  const Eigen::VectorXd& vol = ws.vol;
  const double h = rule.mpor_days;
  double addon_quantile = normal_quantile(0.99);
  std::visit(
      [&](const auto& m) {
        using M = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<M, ParametricMarginModel>) {
          const double q = m.student_t ? unit_student_t_quantile(m.confidence, m.dof) : normal_quantile(m.confidence);
          addon_quantile = q;
          ws.factor.noalias() = vol.asDiagonal() * market.correlation_factor;
          parametric_im_rows_into(values, ws.factor, h, q, ws.projected, im);
        } else if constexpr (std::is_same_v<M, HistoricalMarginModel>) {
          addon_quantile = normal_quantile(m.confidence);
          historical_rows(m, values, h, market, ws, im);
        } else if constexpr (std::is_same_v<M, ScenarioGridMarginModel>) {
          addon_quantile = m.scan_sigmas;
          im = scenario_grid_rows(m, linear_values, options, vol * std::sqrt(h), h, market.price);
        } else {
          tiered_margin_rows_into(values, m.tiers, im);
        }
      },
      rule.model);
  if (rule.concentration_participation) {
    concentration_addon_rows_into(values, vol, market.adv, h, addon_quantile, *rule.concentration_participation,
                                  ws.addon);
    im += ws.addon;
  }
  if (rule.apc == ApcMode::kBuffer) im *= 1.0 + rule.apc_buffer;
}

}  // namespace ccpnet::models
