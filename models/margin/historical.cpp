#include "models/margin/historical.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ccpnet::models {
namespace {

void check_alpha(double alpha) {
  if (!(alpha > 0.0 && alpha < 1.0))
    throw std::invalid_argument("historical margin: confidence alpha must be in (0, 1), got " + std::to_string(alpha));
}

// VaR and ES of `losses` (reordered in place), k worst.
void tail_of(std::vector<double>& losses, Eigen::Index k, double& var, double& es) {
  const auto kth = losses.begin() + (k - 1);
  std::nth_element(losses.begin(), kth, losses.end(), std::greater<>());
  var = *kth;
  // The k worst are now in [begin, kth]; sort them so the sum has a fixed order.
  std::sort(losses.begin(), kth, std::greater<>());
  double sum = 0.0;
  for (auto it = losses.begin(); it <= kth; ++it) sum += *it;
  es = sum / static_cast<double>(k);
}

HistoricalRisk risk_of_pnl(const Eigen::VectorXd& pnl, double alpha) {
  check_alpha(alpha);
  if (pnl.size() == 0) throw std::invalid_argument("historical margin: no P&L observations");
  std::vector<double> losses(static_cast<std::size_t>(pnl.size()));
  for (Eigen::Index i = 0; i < pnl.size(); ++i) losses[static_cast<std::size_t>(i)] = -pnl(i);
  HistoricalRisk r;
  r.observations = pnl.size();
  tail_of(losses, tail_count(pnl.size(), alpha), r.var, r.expected_shortfall);
  return r;
}

}  // namespace

Eigen::MatrixXd overlapping_log_returns(const Eigen::MatrixXd& prices, int horizon_days) {
  Eigen::MatrixXd log_prices = prices, out;
  overlapping_log_returns_into(log_prices, horizon_days, out);
  return out;
}

void overlapping_log_returns_into(Eigen::MatrixXd& prices, int horizon_days, Eigen::MatrixXd& out) {
  if (horizon_days < 1)
    throw std::invalid_argument("historical margin: the return horizon must be at least 1 day, got " +
                                std::to_string(horizon_days));
  if (prices.rows() <= horizon_days)
    throw std::invalid_argument("historical margin: " + std::to_string(prices.rows()) + " days of prices give no " +
                                std::to_string(horizon_days) + "-day return");
  if (!prices.allFinite() || (prices.array() <= 0.0).any())
    throw std::invalid_argument("historical margin: prices must be positive and finite");
  const Eigen::Index n = prices.rows() - horizon_days;
  prices = prices.array().log().matrix();
  out = prices.bottomRows(n) - prices.topRows(n);
}

Eigen::Index tail_count(Eigen::Index observations, double alpha) {
  const double expected = static_cast<double>(observations) * (1.0 - alpha);
  const auto k = static_cast<Eigen::Index>(std::ceil(expected - 1e-9));
  return std::clamp<Eigen::Index>(k, 1, std::max<Eigen::Index>(observations, 1));
}

double historical_var(const Eigen::VectorXd& pnl, double alpha) { return risk_of_pnl(pnl, alpha).var; }

double historical_es(const Eigen::VectorXd& pnl, double alpha) { return risk_of_pnl(pnl, alpha).expected_shortfall; }

Eigen::VectorXd historical_pnl(const Eigen::MatrixXd& log_returns, const Eigen::VectorXd& values) {
  if (log_returns.cols() != values.size())
    throw std::invalid_argument("historical margin: returns have " + std::to_string(log_returns.cols()) +
                                " assets, the portfolio " + std::to_string(values.size()));
  return (log_returns.array().exp() - 1.0).matrix() * values;
}

HistoricalRisk historical_risk(const Eigen::MatrixXd& prices, const Eigen::VectorXd& values, double alpha,
                               int horizon_days) {
  return risk_of_pnl(historical_pnl(overlapping_log_returns(prices, horizon_days), values), alpha);
}

Eigen::VectorXd historical_im_rows(const Eigen::MatrixXd& values, const Eigen::MatrixXd& log_returns, double alpha,
                                   RiskMeasure measure) {
  HistoricalScratch scratch;
  Eigen::VectorXd im;
  historical_im_rows_into(values, log_returns, alpha, measure, scratch, im);
  return im;
}

void historical_im_rows_into(const Eigen::MatrixXd& values, const Eigen::MatrixXd& log_returns, double alpha,
                             RiskMeasure measure, HistoricalScratch& scratch, Eigen::VectorXd& im) {
  check_alpha(alpha);
  if (log_returns.cols() != values.cols())
    throw std::invalid_argument("historical margin: returns have " + std::to_string(log_returns.cols()) +
                                " assets, the accounts " + std::to_string(values.cols()));
  im.setZero(values.rows());
  if (values.rows() == 0) return;
  if (log_returns.rows() == 0) throw std::invalid_argument("historical margin: no return observations");
  // Losses: observations x accounts. The product takes exp(R) - 1 as an
  // expression (for one account Eigen then sums column by column, an order a
  // plain matrix of it would change).
  scratch.losses.noalias() = (log_returns.array().exp() - 1.0).matrix() * values.transpose();
  scratch.losses = -scratch.losses;
  const Eigen::Index k = tail_count(scratch.losses.rows(), alpha);
  std::vector<double>& column = scratch.column;
  column.resize(static_cast<std::size_t>(scratch.losses.rows()));
  for (Eigen::Index i = 0; i < scratch.losses.cols(); ++i) {
    std::copy(scratch.losses.col(i).begin(), scratch.losses.col(i).end(), column.begin());
    double var = 0.0, es = 0.0;
    tail_of(column, k, var, es);
    im(i) = std::max(0.0, measure == RiskMeasure::kVar ? var : es);
  }
}

}  // namespace ccpnet::models
