// The margin models a CCP can run (SPEC 3.4) as one variant, and the initial
// margin of many accounts under one of them with its add-ons: the dispatch
// from a CCP's rulebook to parametric.hpp, historical.hpp, scenario_grid.hpp
// and tiered.hpp, then the concentration add-on and anti-procyclicality
// (addons.hpp).
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "models/instruments/black76.hpp"
#include "models/margin/historical.hpp"
#include "models/margin/tiered.hpp"

namespace ccpnet::models {

// VaR of the delta-equivalent position values at `confidence`, normal or
// unit-variance Student-t with `dof` degrees of freedom.
struct ParametricMarginModel {
  double confidence = 0.99;
  bool student_t = false;
  double dof = 4.0;
};

// Filtered-history VaR or ES over the overlapping MPOR-day returns of the
// last `lookback_days` days of a daily history.
struct HistoricalMarginModel {
  double confidence = 0.99;
  RiskMeasure measure = RiskMeasure::kVar;
  std::int64_t lookback_days = 750;
};

// SPAN-style scan: linear positions by their largest loss at +/- scan_sigmas
// horizon sds, options revalued over the price x vol grid.
struct ScenarioGridMarginModel {
  double scan_sigmas = 3.0;
  int price_steps = 7;
  std::vector<double> vol_moves;  // relative implied-vol moves; empty: the grid's own
};

// Notional-tiered rates (crypto venues).
struct TieredMarginModel {
  std::vector<Tier> tiers;
};

using MarginModel =
    std::variant<ParametricMarginModel, HistoricalMarginModel, ScenarioGridMarginModel, TieredMarginModel>;

// Anti-procyclicality (EMIR RTS 153/2013 art. 28): none, a buffer on the
// margin, or a weight on a stressed volatility.
enum class ApcMode { kNone, kBuffer, kStressedWeight };

struct MarginRule {
  MarginModel model;
  double mpor_days = 2.0;
  std::optional<double> concentration_participation;  // the concentration add-on's participation rate
  ApcMode apc = ApcMode::kNone;
  double apc_buffer = 0.0;
  double apc_stressed_weight = 0.0;
  double apc_stressed_multiplier = 1.0;
};

// An option position of an account: `quantity` options on one unit of the
// asset `underlying`, its Black-76 delta today.
struct HeldOption {
  int underlying = -1;
  OptionContract contract;
  double delta = 0.0;
  double quantity = 0.0;
};

// What the margin models read of the market (one entry per asset): prices,
// daily volatilities (unstressed), average daily volumes, the Cholesky factor
// of the correlation; daily returns of a history (days x assets, oldest
// first), and the daily volatility each asset's returns were observed at
// (`history_vol`; null: the history is standardised, unit daily variance). A
// historical model scales an asset's returns by the volatility it sees over
// the one they were observed at, and keeps as observed those of an asset
// observed at volatility 0.
struct MarginMarket {
  const Eigen::VectorXd& price;
  const Eigen::VectorXd& daily_vol;
  const Eigen::VectorXd& adv;
  const Eigen::MatrixXd& correlation_factor;
  const Eigen::MatrixXd& history_daily_returns;
  const Eigen::VectorXd* history_vol = nullptr;
};

// Linear values plus each option position's delta-equivalent value
// (delta x price x quantity) in its underlying's column: how the models that
// take position values (parametric, historical, tiered, add-ons) see options.
// `options` holds one entry per row.
Eigen::MatrixXd delta_values(const Eigen::MatrixXd& values, const std::vector<std::vector<HeldOption>>& options,
                             const Eigen::VectorXd& price);

// Initial margin of every row of `values` (linear position values, rows x
// assets) under `rule`, with its add-ons; `options` holds the rows' option
// positions (one entry per row).
Eigen::VectorXd margin_rows(const MarginRule& rule, const Eigen::MatrixXd& values,
                            const std::vector<std::vector<HeldOption>>& options, const MarginMarket& market);

// What margin_rows_into reuses from call to call.
struct MarginWorkspace {
  Eigen::MatrixXd values;      // delta values
  Eigen::VectorXd vol, scale;  // the volatility the model sees; a history's scale per asset
  Eigen::MatrixXd factor;      // parametric: the covariance factor
  Eigen::MatrixXd projected;   // parametric: values x factor
  Eigen::MatrixXd prices;      // historical: the rescaled history's prices, then log-prices
  Eigen::MatrixXd returns;     // historical: its overlapping returns
  HistoricalScratch historical;
  Eigen::VectorXd addon;  // the concentration add-on
};
// margin_rows into `im`. A call with the sizes of an earlier call on the same
// workspace allocates nothing, except under a scenario-grid model (its scan).
void margin_rows_into(const MarginRule& rule, const Eigen::MatrixXd& values,
                      const std::vector<std::vector<HeldOption>>& options, const MarginMarket& market,
                      MarginWorkspace& ws, Eigen::VectorXd& im);

}  // namespace ccpnet::models
