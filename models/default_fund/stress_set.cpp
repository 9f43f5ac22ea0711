#include "models/default_fund/stress_set.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace ccpnet::models {

StressMoves hypothetical_stress_moves(const Eigen::VectorXd& daily_vol, const HypotheticalStressSpec& spec) {
  if (!(spec.sigmas >= 0.0) || !(spec.horizon_days >= 0.0))
    throw std::invalid_argument("stress set: the number of standard deviations and the horizon must be >= 0");
  if (!(spec.stressed_correlation >= -1.0 && spec.stressed_correlation <= 1.0))
    throw std::invalid_argument("stress set: the stressed correlation must be in [-1, 1], got " +
                                std::to_string(spec.stressed_correlation));
  for (Eigen::Index a = 0; a < daily_vol.size(); ++a)
    if (!(daily_vol(a) >= 0.0)) throw std::invalid_argument("stress set: a negative or undefined volatility");
  const Eigen::Index n = daily_vol.size();
  const Eigen::VectorXd m = spec.sigmas * std::sqrt(spec.horizon_days) * daily_vol;
  const Eigen::Index count = 2 + (spec.single_asset ? 2 * n : 0) + (spec.spreads ? n * (n - 1) : 0);
  StressMoves out;
  out.log_moves = Eigen::MatrixXd::Zero(n, count);
  out.info.reserve(static_cast<std::size_t>(count));
  Eigen::Index k = 0;
  out.log_moves.col(k++) = m;
  out.info.push_back({StressFamily::kDirectional, -1, -1, 1, -1});
  out.log_moves.col(k++) = -m;
  out.info.push_back({StressFamily::kDirectional, -1, -1, -1, -1});
  if (spec.single_asset)
    for (Eigen::Index a = 0; a < n; ++a) {
      out.log_moves(a, k++) = m(a);
      out.info.push_back({StressFamily::kSingleAsset, static_cast<int>(a), -1, 0, -1});
      out.log_moves(a, k++) = -m(a);
      out.info.push_back({StressFamily::kSingleAsset, -1, static_cast<int>(a), 0, -1});
    }
  if (spec.spreads) {
    const double s = std::sqrt((1.0 - spec.stressed_correlation) / 2.0);
    for (Eigen::Index i = 0; i < n; ++i)
      for (Eigen::Index j = 0; j < n; ++j) {
        if (i == j) continue;
        out.log_moves(i, k) = s * m(i);
        out.log_moves(j, k) = -s * m(j);
        ++k;
        out.info.push_back({StressFamily::kSpread, static_cast<int>(i), static_cast<int>(j), 0, -1});
      }
  }
  return out;
}

StressMoves historical_stress_moves(const Eigen::MatrixXd& daily_log_returns, double horizon_days) {
  if (!(horizon_days >= 0.0)) throw std::invalid_argument("stress set: the horizon must be >= 0");
  const Eigen::Index h = std::max<Eigen::Index>(1, static_cast<Eigen::Index>(std::ceil(horizon_days - 1e-12)));
  const Eigen::Index days = daily_log_returns.rows();
  StressMoves out;
  const Eigen::Index windows = days >= h ? days - h + 1 : 0;
  out.log_moves = Eigen::MatrixXd::Zero(daily_log_returns.cols(), windows);
  for (Eigen::Index t = 0; t < windows; ++t) {
    out.log_moves.col(t) = daily_log_returns.middleRows(t, h).colwise().sum().transpose();
    out.info.push_back({StressFamily::kHistorical, -1, -1, 0, t});
  }
  return out;
}

}  // namespace ccpnet::models
