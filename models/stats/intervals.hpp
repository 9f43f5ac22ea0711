// Confidence intervals for Monte Carlo estimates, in one place: proportions
// (Wilson score, Clopper-Pearson), means (central limit theorem with the
// sample standard error) and quantiles (order statistics, exact binomial).
// Pure math on counts and sums: the engine's aggregates feed it.
#pragma once

#include <cstdint>
#include <string_view>

namespace ccpnet::models::stats {

// A two-sided interval [lower, upper].
struct Interval {
  double lower = 0.0;
  double upper = 0.0;
};

// The default confidence level of every interval ccpnet reports.
inline constexpr double kConfidence = 0.95;

// The two-sided standard normal critical value z = Phi^-1(1 - (1 - confidence) / 2),
// 1.959963984540054 at 95%. Throws std::invalid_argument unless 0 < confidence < 1.
double normal_critical_value(double confidence);

// Wilson (1927) score interval for a binomial proportion: k successes in n
// trials, without continuity correction. Inside [0, 1]; never the single point
// 0 when k > 0 (the lower bound is positive), and not degenerate at k = 0
// (upper bound about z^2 / n), unlike the Wald interval p +- z sqrt(p(1-p)/n).
// n = 0 gives [0, 1]. Throws std::invalid_argument unless 0 <= k <= n.
Interval wilson(std::int64_t k, std::int64_t n, double confidence = kConfidence);

// Clopper-Pearson (1934) "exact" interval: the beta quantiles
// B(alpha/2; k, n-k+1) and B(1-alpha/2; k+1, n-k), with 0 at k = 0 and 1 at
// k = n. Coverage at least `confidence` for every p (conservative).
Interval clopper_pearson(std::int64_t k, std::int64_t n, double confidence = kConfidence);

// The standard error of a proportion k / n, sqrt(p (1 - p) / n); 0 when n = 0.
double proportion_standard_error(std::int64_t k, std::int64_t n);

// A mean estimated from n values given their sum and sum of squares.
struct MeanEstimate {
  double mean = 0.0;
  double standard_error = 0.0;  // s / sqrt(n), s the sample standard deviation (n - 1 in its denominator)
  Interval interval;            // mean +- z * standard_error (central limit theorem)
};
// n = 0: all zero; n = 1: standard error 0 (nothing to estimate it from).
// The variance (sum_squares - sum^2 / n) / (n - 1) is floored at 0 (rounding).
MeanEstimate mean_estimate(double sum, double sum_squares, std::int64_t n, double confidence = kConfidence);

// Distribution-free interval for the p-quantile of a continuous distribution
// from a sample of n: the order statistics [X_(lower), X_(upper)] (1-based
// ranks), where B ~ Binomial(n, p) counts the values below the quantile and
//   lower = the largest r with P(B <= r - 1) <= alpha / 2,
//   upper = the smallest s with P(B >= s) <= alpha / 2,
// so that P(X_(lower) <= q_p <= X_(upper)) >= confidence (Hahn and Meeker
// 1991, section 5.2; Conover 1999, section 3.2). lower = 0 means no lower
// bound from the sample (-infinity), upper = n + 1 no upper bound (+infinity):
// too few values in that tail.
struct RankInterval {
  std::int64_t lower = 0;
  std::int64_t upper = 0;
  double coverage = 0.0;  // P(lower <= B < upper), the exact coverage (>= confidence when both ranks are inside)
};
// Throws std::invalid_argument unless n >= 1 and 0 < p < 1.
RankInterval quantile_rank_interval(std::int64_t n, double p, double confidence = kConfidence);

// How the intervals are made, for output files.
inline constexpr std::string_view kProportionMethod = "Wilson score interval (Wilson 1927), no continuity correction";
inline constexpr std::string_view kMeanMethod =
    "mean +- z * standard error, standard error = sample standard deviation / sqrt(n) (central limit theorem), cut "
    "at 0 for a quantity that cannot be negative and at 1 for a fraction";
inline constexpr std::string_view kQuantileMethod =
    "order statistics [X_(l), X_(u)] with exact binomial ranks (distribution-free; Hahn and Meeker 1991)";

}  // namespace ccpnet::models::stats
