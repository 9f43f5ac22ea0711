// Quantiles of many small distributions (each member's loss per scenario)
// in bounded memory: a relative-accuracy sketch (Masson, Rim and Lee,
// "DDSketch: a fast and fully-mergeable quantile sketch with relative-error
// guarantees", VLDB 2019). A positive value x falls in bucket
// b = ceil(log_gamma(x)), gamma = (1 + a) / (1 - a); the bucket's value
// 2 gamma^b / (gamma + 1) is within a relative a of every x in it. Counts are
// integers, so sketches merge exactly in any order (any split of the
// scenarios over threads and ranks gives the same quantiles).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

namespace ccpnet {

class LossSketch {
 public:
  static constexpr double kAccuracy = 0.01;  // relative
  static constexpr int kOffset = 4096;       // buckets of values down to about 1e-18 USD stay non-negative

  static std::uint32_t bucket(double x) {
    const double b = std::ceil(std::log(x) / std::log(gamma()));
    return static_cast<std::uint32_t>(std::clamp(b + kOffset, 0.0, 16383.0));
  }
  static double value(std::uint32_t b) {
    return 2.0 * std::pow(gamma(), static_cast<double>(b) - kOffset) / (gamma() + 1.0);
  }
  static double gamma() { return (1.0 + kAccuracy) / (1.0 - kAccuracy); }

  // The p-quantile (order statistic h = (n - 1) p rounded up, as the nearest
  // rank) of n values of which `counts` (bucket, count) are the positive ones,
  // in increasing bucket order, and the rest are zero.
  static double quantile(const std::vector<std::pair<std::uint32_t, std::int64_t>>& counts, std::int64_t n, double p) {
    if (n <= 0) return 0.0;
    std::int64_t positive = 0;
    for (const auto& c : counts) positive += c.second;
    const auto rank = static_cast<std::int64_t>(std::ceil(static_cast<double>(n - 1) * p));  // 0-based
    std::int64_t seen = n - positive;
    if (rank < seen) return 0.0;
    for (const auto& [b, count] : counts) {
      seen += count;
      if (rank < seen) return value(b);
    }
    return counts.empty() ? 0.0 : value(counts.back().first);
  }
};

}  // namespace ccpnet
