// Liquidation of an over-collateralised loan at a lending protocol (SPEC 3.6),
// after Aave v3 (Aave v3 technical paper, 2022; Aave docs, "Liquidations").
//
// An account's health factor is
//   HF = sum_i collateral_i x LT_i / debt
// (collateral and debt valued at the oracle price); it may be liquidated when
// HF < 1. A liquidator repays debt and receives collateral worth the repaid
// debt times (1 + liquidation bonus). Aave's close factor lets a liquidator
// repay 50% of the debt while HF > 0.95 and 100% below; in a crash the
// successive liquidations close the whole account, which is what is modelled:
// one full liquidation. Collateral C_e cannot buy back more than C_e / (1 + b)
// of debt D_e, so the protocol is left with bad debt max(0, D_e - C_e / (1 + b)).
//
// Oracle delay: prices move along a log-linear path over the period (the
// scenario's log-moves spread evenly, t in [0, 1]), so with HF0 the health
// factor today and x_c, x_d the value-weighted log-moves of collateral and
// debt, HF(t) = HF0 exp((x_c - x_d) t) crosses 1 at
//   t* = -ln HF0 / (x_c - x_d)
// and the liquidation executes `oracle_delay_hours` later, at
//   t_e = min(1, t* + delay / (24 h))
// with h the period in days. Without delay the liquidation executes at HF = 1,
// where C LT = D: bad debt is zero whenever LT (1 + b) <= 1.
//
// Per-asset rules and partial liquidations (Aave v3.3, LiquidationLogic.sol of
// aave-dao/aave-v3-origin, and GenericLogic's health factor): below, an account
// holds collateral and debt in several assets, each collateral asset with its
// own liquidation threshold LT_i and bonus b_i, or those of the account's
// e-mode category when the asset belongs to it. With prices p,
//   HF = sum_i c_i p_i LT_i / sum_j d_j p_j
// A liquidation call repays debt of one asset and seizes collateral of one
// asset. Close factor (LiquidationLogic.executeLiquidationCall): the whole
// debt of the reserve may be repaid, unless the reserve's collateral and debt
// are both worth at least MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD (2000 USD) and
// HF > CLOSE_FACTOR_HF_THRESHOLD (0.95): then at most
// DEFAULT_LIQUIDATION_CLOSE_FACTOR (50%) of the account's total debt value.
// Collateral seized (_calculateAvailableCollateralToLiquidate):
//   debt repaid x p_debt / p_coll x (1 + b), capped by the collateral held;
// when capped, the debt repaid is what the collateral buys back:
//   collateral x p_coll / p_debt / (1 + b).
// Dust (LiquidationLogic.executeLiquidationCall, MIN_LEFTOVER_BASE = 1000 USD):
// a call that repays only part of the reserve's debt and seizes only part of
// the collateral must leave at least that much of both; a liquidator repays
// less to respect it.
// Bad debt (Aave v3.3 "deficit"): when a call seizes the account's last
// collateral, its remaining debt is written off.
//
// Along a period (liquidate_on_log_path): prices follow the log-linear path
// p_i(t) = p_i(0) exp(x_i t), t in [0, 1]; each time the health factor falls
// below 1 the liquidation executes `delay` later (the oracle's lag, as above),
// where calls follow one another while HF < 1; an account whose HF rises
// above 1 again is liquidated again when it next falls below 1.
#pragma once

#include <Eigen/Dense>
#include <cstddef>
#include <limits>
#include <vector>

namespace ccpnet::models {

struct LendingParams {
  double liquidation_threshold = 0.825;  // LT: share of collateral value that counts toward the debt
  double liquidation_bonus = 0.05;       // b: liquidator's discount on the collateral it receives
  double oracle_delay_hours = 0.0;       // from HF crossing 1 to the liquidation's execution
};

// sum(collateral x LT) / debt; +infinity without debt.
double health_factor(double collateral, double debt, double liquidation_threshold);

// Bad debt of a full liquidation of debt `debt` against collateral `collateral`
// with liquidation bonus b: max(0, debt - collateral / (1 + b)).
double liquidation_bad_debt(double collateral, double debt, double bonus);

struct LiquidationOutcome {
  bool liquidated = false;
  double trigger_time = 1.0;    // t*, in units of the period (0: already below 1 today)
  double execution_time = 1.0;  // t_e
  double collateral = 0.0;      // C_e: collateral value at execution (at the end of the period if not liquidated)
  double debt = 0.0;            // D_e
  double bad_debt = 0.0;
};

// The account's path over one period of `period_days`: collateral C0 and debt
// D0 today, log-moves x_c and x_d over the period.
LiquidationOutcome liquidate_on_path(double collateral0, double debt0, double x_collateral, double x_debt,
                                     const LendingParams& params, double period_days);

// ---- Per-asset rules, close factor, repeated liquidations ----------------------

struct LendingAsset {
  double liquidation_threshold = 0.825;  // LT_i
  double liquidation_bonus = 0.05;       // b_i
  int emode_category = 0;                // e-mode category the asset belongs to (0: none)
};

// An efficiency-mode category: its own LT and bonus for the collateral assets
// that belong to it, for accounts that entered it.
struct EModeCategory {
  int id = 0;  // > 0
  double liquidation_threshold = 0.0;
  double liquidation_bonus = 0.0;
};

// The 50%/100% rule (Aave v3.3 constants as defaults).
struct CloseFactorRule {
  double default_close_factor = 0.5;   // DEFAULT_LIQUIDATION_CLOSE_FACTOR
  double hf_threshold = 0.95;          // CLOSE_FACTOR_HF_THRESHOLD: 100% at or below
  double min_base_threshold = 2000.0;  // MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD (base currency): 100% below
  double min_leftover = 1000.0;  // MIN_LEFTOVER_BASE (base currency): least debt and collateral a partial call leaves
};

struct LendingMarket {
  std::vector<LendingAsset> assets{};             // one per asset; prices are in the same order
  std::vector<EModeCategory> emode_categories{};  // looked up by id
  CloseFactorRule close_factor{};
};

struct LendingAccount {
  std::vector<double> collateral{};  // units of each asset supplied as collateral
  std::vector<double> debt{};        // units of each asset borrowed
  int emode_category = 0;            // the e-mode category the account entered (0: none)
};

// LT and bonus of asset i for `account`: its e-mode category's when the asset
// belongs to it, else the asset's own.
double liquidation_threshold(const LendingMarket& market, const LendingAccount& account, std::size_t asset);
double liquidation_bonus(const LendingMarket& market, const LendingAccount& account, std::size_t asset);

// sum_i c_i p_i LT_i / sum_j d_j p_j; +infinity without debt.
double health_factor(const LendingMarket& market, const LendingAccount& account, const Eigen::VectorXd& prices);

struct LendingLiquidation {
  std::size_t step = 0;  // index of the price on the path
  double time = 0.0;     // liquidate_on_log_path: when it executed, as a fraction of the period
  std::size_t collateral_asset = 0;
  std::size_t debt_asset = 0;
  double health_factor_before = 0.0;
  double close_factor = 0.0;             // share of the reserve's debt (0.5 or 1: see CloseFactorRule)
  double debt_repaid = 0.0;              // units of the debt asset
  double debt_repaid_value = 0.0;        // base currency
  double collateral_seized = 0.0;        // units of the collateral asset
  double collateral_seized_value = 0.0;  // base currency
  double bad_debt = 0.0;                 // debt written off (base currency): the last collateral was seized
  double health_factor_after = 0.0;      // +infinity without debt left
};

// One liquidation call at `prices`, repaying up to `debt_to_cover` units of
// the debt asset (default: as much as the close factor allows). The
// liquidator takes the debt asset and the collateral asset of largest value
// (ties: the first). Nothing happens when HF >= 1 (debt_repaid = 0).
// `account` is updated.
LendingLiquidation liquidation_call(const LendingMarket& market, LendingAccount& account, const Eigen::VectorXd& prices,
                                    double debt_to_cover = std::numeric_limits<double>::infinity());

// Along a price path (rows: steps, columns: assets): at each step, liquidation
// calls follow one another while HF < 1 (at most `max_calls_per_step`), so an
// account is liquidated again whenever its HF falls below 1 again. Returns
// every call, in order. `account` is updated.
std::vector<LendingLiquidation> liquidate_along_path(const LendingMarket& market, LendingAccount& account,
                                                     const Eigen::MatrixXd& price_path, int max_calls_per_step = 100);

// What a full close of the account at `prices` leaves unpaid: each collateral
// asset buys back c_i p_i / (1 + b_i) of debt, so
//   max(0, sum_j d_j p_j - sum_i c_i p_i / (1 + b_i)).
double closing_bad_debt(const LendingMarket& market, const LendingAccount& account, const Eigen::VectorXd& prices);

struct LendingPathOutcome {
  std::vector<LendingLiquidation> calls;  // in order; `time` says when each executed
  double health_factor_start = 0.0;       // today
  double health_factor_end = 0.0;         // at the end of the period, after the calls
  double debt_repaid_value = 0.0;         // sums over the calls (base currency at execution)
  double collateral_seized_value = 0.0;
  double bad_debt = 0.0;  // written off along the path
  // What closing what is left at the end of the period would write off
  // (closing_bad_debt at the end prices): the protocol's loss if its owner
  // defaults.
  double closing_bad_debt = 0.0;
};

// One period along the log-linear path from `prices` (today) by the log-moves
// `log_moves` (t = 1 at the end), the liquidation executing `delay` (a
// fraction of the period, >= 0) after the health factor falls below 1. The
// first time HF < 1 in each stretch is found on a grid of `grid_steps` steps
// of the period, then to machine precision by bisection (exact for one
// collateral and one debt asset, whose HF is monotone on the path).
// `account` is updated.
LendingPathOutcome liquidate_on_log_path(const LendingMarket& market, LendingAccount& account,
                                         const Eigen::VectorXd& prices, const Eigen::VectorXd& log_moves,
                                         double delay = 0.0, int grid_steps = 64, int max_calls = 100);

}  // namespace ccpnet::models
