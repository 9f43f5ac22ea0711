// Add-ons and adjustments around a base initial margin (SPEC 3.4):
// anti-procyclicality, concentration (liquidity) add-ons, collateral haircuts.
#pragma once

#include <Eigen/Dense>
#include <vector>

namespace ccpnet::models {

// ---- Anti-procyclicality (EMIR RTS 153/2013, art. 28(1)) --------------------

// Option (a), a buffer of at least 25% of the calculated margin that may be
// temporarily exhausted when calculated margins rise significantly:
//   IM = max(m, (1 + b) * min(m, m_ref))
// m: the model margin now, m_ref: the model margin at the last calm reference
// date, b: the buffer rate (0.25). In calm or falling markets (m <= m_ref)
// IM = (1 + b) m; as m rises above m_ref the buffer is used up, and the margin
// called is the model margin once m >= (1 + b) m_ref. Throws on b < 0.
double apc_buffer_margin(double model_im, double reference_im, double buffer_rate = 0.25);
Eigen::VectorXd apc_buffer_margin(const Eigen::VectorXd& model_im, const Eigen::VectorXd& reference_im,
                                  double buffer_rate = 0.25);

// Option (b), at least 25% weight on stressed observations in the lookback:
// the volatility of a sample mixing current and stressed observations with
// weight w on the stressed ones, sqrt((1 - w) sigma_now^2 + w sigma_stressed^2).
double apc_weighted_vol(double current_vol, double stressed_vol, double stressed_weight = 0.25);

// Option (c), a floor: margin not lower than the margin computed with
// volatility from a long (10-year) or stressed lookback: IM = max(m, m_floor),
// e.g. m_floor = parametric_im_rows(values, stressed_cov_factor, h, q).
double apc_floor_margin(double model_im, double floor_im);
Eigen::VectorXd apc_floor_margin(const Eigen::VectorXd& model_im, const Eigen::VectorXd& floor_im);

// ---- Concentration -----------------------------------------------------------

// Liquidation cost of positions large against market depth (SPEC 3.6), the
// square-root impact law (Toth et al. 2011, "Anomalous price impact and the
// critical nature of liquidity in financial markets", Phys. Rev. X 1; Bouchaud,
// Bonart, Donier & Gould, "Trades, Quotes and Prices", 2018):
//   cost = sum_a k_a |x_a| sqrt(|x_a| / ADV_a)
// x_a: position value (USD), ADV_a: average daily volume (USD, > 0), k_a the
// impact coefficient (dimensionless, of the order of the daily volatility).
double liquidation_cost(const Eigen::VectorXd& values, const Eigen::VectorXd& adv, const Eigen::VectorXd& impact);
// One position's term k |x| sqrt(|x| / ADV) (0 when ADV is infinite).
double position_liquidation_cost(double value, double adv, double impact);
// Many accounts: `values` is accounts x assets.
Eigen::VectorXd liquidation_cost_rows(const Eigen::MatrixXd& values, const Eigen::VectorXd& adv,
                                      const Eigen::VectorXd& impact);

// Days to unwind a position at a participation rate p of ADV, never less than
// the MPOR: H = max(h, |x| / (p ADV)).
double liquidation_horizon_days(double value, double adv, double participation_rate, double mpor_days);

// Concentration add-on by square-root extension of the liquidation horizon
// (the sqrt(LH / h) horizon scaling of Basel's FRTB liquidity horizons, applied
// per asset as CCPs lengthen the MPOR of concentrated positions): each asset's
// standalone parametric margin with the MPOR stretched to H_a, less the same at
// the MPOR,
//   add-on = sum_a q sigma_d,a |x_a| (sqrt(H_a) - sqrt(h)),
// sigma_d,a the daily volatility, q the quantile. `values` is accounts x assets.
Eigen::VectorXd concentration_addon_rows(const Eigen::MatrixXd& values, const Eigen::VectorXd& daily_vol,
                                         const Eigen::VectorXd& adv, double mpor_days, double quantile,
                                         double participation_rate);
// The same into `addon` (no allocation once it has its size).
void concentration_addon_rows_into(const Eigen::MatrixXd& values, const Eigen::VectorXd& daily_vol,
                                   const Eigen::VectorXd& adv, double mpor_days, double quantile,
                                   double participation_rate, Eigen::VectorXd& addon);

// ---- In-scenario margin calls (the margin spiral) -----------------------------

// The volatility a CCP's EWMA estimator (RiskMetrics, J.P. Morgan 1996, daily
// decay lambda = 0.94) reports after a day with log-return r:
//   sigma'^2 = lambda sigma^2 + (1 - lambda) r^2,  returned as sigma' / sigma.
// A move of sqrt(h) days' returns enters as its daily equivalent r^2 = x^2 / h.
// Throws on sigma <= 0 or lambda outside [0, 1].
double ewma_vol_multiplier(double lambda, double log_return, double horizon_days, double daily_vol);

// The EWMA volatility along a path of steps: after each step of `step_days`
// days with log-return r_k, one update of ewma_vol_multiplier with the step's
// daily equivalent, so sigma_k^2 = lambda sigma_{k-1}^2 + (1 - lambda) r_k^2
// / step_days (RiskMetrics' daily recursion when steps are days; a step of
// several days is one update, as the one-period spiral's MPOR move). Returns
// sigma_k / sigma_0 for each step k = 1..n. Throws as ewma_vol_multiplier.
std::vector<double> ewma_vol_path(double lambda, const std::vector<double>& step_log_returns, double step_days,
                                  double daily_vol);
// The same into `out` (no allocation once it has the capacity).
void ewma_vol_path_into(double lambda, const std::vector<double>& step_log_returns, double step_days, double daily_vol,
                        std::vector<double>& out);

// Anti-procyclicality option (b) with a moving current volatility: when only
// the current part of sigma^2 = w sigma_s^2 + (1 - w) sigma_c^2 moves, by
// `multiplier` (sigma_s = s sigma_c today, s the stressed multiplier), the
// weighted volatility moves by sqrt((w s^2 + (1 - w) m^2) / (w s^2 + (1 - w))).
double apc_weighted_multiplier(double multiplier, double stressed_weight, double stressed_multiplier);

// The IM a CCP requires when it recomputes the model margin behind the IM it
// holds, `held` (the model margin times 1 + b with an APC buffer b), at
// `ratio` times its value: base = held / (1 + b),
//   required = apc_buffer_margin(base ratio, base, b),
// so the buffer absorbs a rise first (b = 0: held x ratio).
double recomputed_margin(double held, double ratio, double apc_buffer);

// What happens to an account's margin in a scenario: the CCP holds IM `im`,
// a share `share` of it posted in a collateral asset with haircut `haircut`
// (market value im share / (1 - haircut)) that moves by the simple return
// `asset_return`; a share `kept` of everything posted survives (1 unless the
// custody was exploited); and the CCP now requires `required` (its IM after
// recomputing on updated volatility; `im` when it does not). Then
//   held (market value)      P = im ((1 - s) + s (1 + R) / (1 - h)) k
//   credited (after haircut) A = im ((1 - s) + s (1 + R)) k
//   call                       = max(0, required - A), due in cash
// and the CCP can liquidate P on a default before the call is paid, P + call after.
struct MarginCall {
  double call = 0.0;
  double held_unpaid = 0.0;
  double held_paid = 0.0;
  double collateral_change = 0.0;  // the member's gain on its posted collateral: im s / (1 - h) R
  double credited = 0.0;           // A
};
MarginCall margin_call(double im, double required, double share, double haircut, double asset_return,
                       double kept = 1.0);

// ---- Collateral -----------------------------------------------------------------

// Value credited for posted collateral: sum_c m_c (1 - h_c), m_c the market
// value (USD) of collateral asset c, h_c its haircut in [0, 1).
double collateral_value(const Eigen::VectorXd& market_values, const Eigen::VectorXd& haircuts);

// The same after the collateral assets' own moves (collateral in crypto moves
// with the shock): sum_c m_c e^{x_c} (1 - h_c), one result per row of
// `log_returns` (scenarios x collateral assets).
Eigen::VectorXd shocked_collateral_value(const Eigen::VectorXd& market_values, const Eigen::VectorXd& haircuts,
                                         const Eigen::MatrixXd& log_returns);

// Many members in one scenario: `market_values` is members x collateral assets,
// `log_returns` one move per collateral asset.
Eigen::VectorXd shocked_collateral_rows(const Eigen::MatrixXd& market_values, const Eigen::VectorXd& haircuts,
                                        const Eigen::VectorXd& log_returns);

// A haircut covering the collateral's fall over its liquidation period at the
// quantile q of a log-normal move (EMIR RTS 153/2013 art. 41 and Annex II:
// haircuts calibrated to the liquidation period at a high confidence level):
//   h = 1 - exp(-q sigma_d sqrt(liquidation_days)).
double collateral_haircut(double daily_vol, double liquidation_days, double quantile);

}  // namespace ccpnet::models
