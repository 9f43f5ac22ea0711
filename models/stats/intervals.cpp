#include "models/stats/intervals.hpp"

#include <algorithm>
#include <boost/math/distributions/beta.hpp>
#include <boost/math/distributions/binomial.hpp>
#include <boost/math/distributions/normal.hpp>
#include <cmath>
#include <stdexcept>
#include <string>

namespace ccpnet::models::stats {

namespace {

void check_confidence(double confidence) {
  if (!(confidence > 0.0 && confidence < 1.0))
    throw std::invalid_argument("confidence level must be in (0, 1), got " + std::to_string(confidence));
}

void check_counts(std::int64_t k, std::int64_t n) {
  if (n < 0 || k < 0 || k > n)
    throw std::invalid_argument("proportion: expected 0 <= k <= n, got k = " + std::to_string(k) +
                                ", n = " + std::to_string(n));
}

}  // namespace

double normal_critical_value(double confidence) {
  check_confidence(confidence);
  return boost::math::quantile(
      boost::math::complement(boost::math::normal_distribution<double>(), (1.0 - confidence) / 2.0));
}

Interval wilson(std::int64_t k, std::int64_t n, double confidence) {
  check_counts(k, n);
  const double z = normal_critical_value(confidence);
  if (n == 0) return {0.0, 1.0};
  const double nn = static_cast<double>(n);
  const double p = static_cast<double>(k) / nn;
  const double z2 = z * z;
  const double denominator = 1.0 + z2 / nn;
  const double centre = (p + z2 / (2.0 * nn)) / denominator;
  const double half = z * std::sqrt(p * (1.0 - p) / nn + z2 / (4.0 * nn * nn)) / denominator;
  // At k = 0 (k = n) the bound is 0 (1) exactly; the formula leaves rounding there.
  const double lower = k == 0 ? 0.0 : std::max(0.0, centre - half);
  const double upper = k == n ? 1.0 : std::min(1.0, centre + half);
  return {lower, upper};
}

Interval clopper_pearson(std::int64_t k, std::int64_t n, double confidence) {
  check_counts(k, n);
  check_confidence(confidence);
  if (n == 0) return {0.0, 1.0};
  const double alpha = 1.0 - confidence;
  const double kk = static_cast<double>(k);
  const double nn = static_cast<double>(n);
  const double lower =
      k == 0 ? 0.0 : boost::math::quantile(boost::math::beta_distribution<double>(kk, nn - kk + 1.0), alpha / 2.0);
  const double upper =
      k == n ? 1.0
             : boost::math::quantile(boost::math::beta_distribution<double>(kk + 1.0, nn - kk), 1.0 - alpha / 2.0);
  return {lower, upper};
}

double proportion_standard_error(std::int64_t k, std::int64_t n) {
  check_counts(k, n);
  if (n == 0) return 0.0;
  const double p = static_cast<double>(k) / static_cast<double>(n);
  return std::sqrt(p * (1.0 - p) / static_cast<double>(n));
}

MeanEstimate mean_estimate(double sum, double sum_squares, std::int64_t n, double confidence) {
  const double z = normal_critical_value(confidence);
  MeanEstimate e;
  if (n <= 0) return e;
  const double nn = static_cast<double>(n);
  e.mean = sum / nn;
  if (n > 1) {
    const double variance = std::max(0.0, (sum_squares - sum * e.mean) / (nn - 1.0));
    e.standard_error = std::sqrt(variance / nn);
  }
  e.interval = {e.mean - z * e.standard_error, e.mean + z * e.standard_error};
  return e;
}

RankInterval quantile_rank_interval(std::int64_t n, double p, double confidence) {
  check_confidence(confidence);
  if (n < 1)
    throw std::invalid_argument("quantile interval: expected a sample of at least 1, got " + std::to_string(n));
  if (!(p > 0.0 && p < 1.0))
    throw std::invalid_argument("quantile interval: expected 0 < p < 1, got " + std::to_string(p));
  const double tail = (1.0 - confidence) / 2.0;
  const boost::math::binomial_distribution<double> b(static_cast<double>(n), p);
  // P(B <= k), with P(B <= -1) = 0, and P(B >= k) = 1 - P(B <= k - 1).
  const auto cdf = [&](std::int64_t k) { return k < 0 ? 0.0 : boost::math::cdf(b, static_cast<double>(k)); };
  const auto at_least = [&](std::int64_t k) {
    return k <= 0 ? 1.0 : boost::math::cdf(boost::math::complement(b, static_cast<double>(k - 1)));
  };
  // lower: the largest r in [0, n] with cdf(r - 1) <= tail (cdf(-1) = 0, so r = 0 qualifies).
  std::int64_t lo = 0, hi = n;
  while (lo < hi) {
    const std::int64_t mid = lo + (hi - lo + 1) / 2;
    if (cdf(mid - 1) <= tail) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  RankInterval out;
  out.lower = lo;
  // upper: the smallest s in [1, n + 1] with P(B >= s) <= tail (P(B >= n + 1) = 0, so s = n + 1 qualifies).
  lo = 1;
  hi = n + 1;
  while (lo < hi) {
    const std::int64_t mid = lo + (hi - lo) / 2;
    if (mid > n || at_least(mid) <= tail) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  out.upper = lo;
  // P(lower <= B <= upper - 1)
  out.coverage = cdf(out.upper - 1) - cdf(out.lower - 1);
  return out;
}

}  // namespace ccpnet::models::stats
