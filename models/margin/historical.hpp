// Historical-simulation initial margin (SPEC 3.4): VaR or expected shortfall at
// confidence alpha over overlapping h-day returns of a price history.
//
// Quantile convention (the "k-th worst loss", no interpolation). From n P&L
// observations, losses L = -P&L sorted from the worst, L_(1) >= ... >= L_(n):
//   k     = ceil(n (1 - alpha)), at least 1 (n (1 - alpha) is rounded to 1e-9
//           first, so that n = 100, alpha = 0.99 gives k = 1, not 2)
//   VaR   = L_(k)
//   ES    = (L_(1) + ... + L_(k)) / k          (mean of the k worst losses)
// so ES >= VaR, and both are the worst loss when n (1 - alpha) <= 1. VaR is
// minus the empirical (1 - alpha)-quantile of the P&L, the inverse of the
// empirical CDF with no interpolation (Hyndman & Fan 1996, "Sample quantiles in
// statistical packages", definition 1); ES is the tail mean of Acerbi & Tasche
// (2002), "On the coherence of expected shortfall", without their fractional
// weight on the k-th loss. E.g. n = 250, alpha = 0.99: k = 3, VaR is the 3rd
// worst loss and ES the mean of the 3 worst.
//
// Overlapping h-day windows share h - 1 days with their neighbours, so the n
// observations are serially correlated and worth fewer independent draws.
#pragma once

#include <Eigen/Dense>
#include <vector>

namespace ccpnet::models {

enum class RiskMeasure { kVar, kExpectedShortfall };

// Overlapping h-day log-returns from a price history. `prices` is days x assets,
// oldest day first, every price positive. Row t of the result is
// ln(P(t + h) / P(t)) for t = 0 .. days - h - 1. Throws when h < 1, when there
// are not more than h days, or on a non-positive price.
Eigen::MatrixXd overlapping_log_returns(const Eigen::MatrixXd& prices, int horizon_days);
// The same into `out`, turning `prices` into log-prices in place: no
// allocation once `out` has its size.
void overlapping_log_returns_into(Eigen::MatrixXd& prices, int horizon_days, Eigen::MatrixXd& out);

// Number of tail observations k = max(1, ceil(n (1 - alpha))) (see above).
Eigen::Index tail_count(Eigen::Index observations, double alpha);

// VaR at alpha of a P&L sample: the k-th worst loss L_(k) (may be negative when
// every observation is a gain).
double historical_var(const Eigen::VectorXd& pnl, double alpha);

// Expected shortfall at alpha of a P&L sample: mean of the k worst losses.
double historical_es(const Eigen::VectorXd& pnl, double alpha);

// P&L of a portfolio of position values v (USD per asset) under each row of
// log-returns, revalued in full: pnl_t = sum_a v_a (exp(R_ta) - 1).
Eigen::VectorXd historical_pnl(const Eigen::MatrixXd& log_returns, const Eigen::VectorXd& values);

struct HistoricalRisk {
  double var = 0.0;
  double expected_shortfall = 0.0;
  Eigen::Index observations = 0;  // n, the number of overlapping windows
};

// VaR and ES at alpha of the portfolio `values` over the overlapping
// horizon_days returns of `prices` (days x assets).
HistoricalRisk historical_risk(const Eigen::MatrixXd& prices, const Eigen::VectorXd& values, double alpha,
                               int horizon_days);

// Initial margin of many accounts at once: `values` is accounts x assets,
// `log_returns` observations x assets (e.g. from overlapping_log_returns).
// IM_i = max(0, VaR_alpha or ES_alpha of pnl_i), pnl = (exp(R) - 1) v_i'.
Eigen::VectorXd historical_im_rows(const Eigen::MatrixXd& values, const Eigen::MatrixXd& log_returns, double alpha,
                                   RiskMeasure measure);

// What historical_im_rows_into reuses from call to call.
struct HistoricalScratch {
  Eigen::MatrixXd losses;      // observations x accounts
  std::vector<double> column;  // one account's losses, reordered
};
// historical_im_rows into `im`: no allocation once `scratch` and `im` have their sizes.
void historical_im_rows_into(const Eigen::MatrixXd& values, const Eigen::MatrixXd& log_returns, double alpha,
                             RiskMeasure measure, HistoricalScratch& scratch, Eigen::VectorXd& im);

}  // namespace ccpnet::models
