// Confidence intervals against published values and values computed
// independently (scipy 1.10: scipy.stats.norm, beta and binom, not ccpnet).
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "models/stats/intervals.hpp"

namespace ccpnet::models::stats {
namespace test_intervals {

// Newcombe, R. G. (1998), "Two-sided confidence intervals for the single
// proportion: comparison of seven methods", Statistics in Medicine 17,
// 857-872, Table II: the Wilson score interval (method 3) and the
// Clopper-Pearson interval (method 5) for four worked examples, printed to 4
// decimals. The 10-digit values next to them are
//   wilson: (p + z^2/2n -+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n), z = scipy.stats.norm.ppf(0.975)
//   clopper_pearson: scipy.stats.beta.ppf(0.025, k, n-k+1), scipy.stats.beta.ppf(0.975, k+1, n-k)
struct Published {
  std::int64_t k, n;
  double wilson_lower, wilson_upper, cp_lower, cp_upper;
};
constexpr Published kNewcombe[] = {
    {81, 263, 0.2552885199, 0.366209577, 0.2527367456, 0.3676219226},      // Newcombe: 0.2553-0.3662, 0.2527-0.3676
    {15, 148, 0.06238639953, 0.1604872417, 0.05784401008, 0.1616504903},   // 0.0624-0.1605, 0.0578-0.1617
    {0, 20, 0.0, 0.1611251581, 0.0, 0.168433471},                          // 0.0000-0.1611, 0.0000-0.1684
    {1, 29, 0.006113214293, 0.1717552188, 0.0008726468836, 0.1776442955},  // 0.0061-0.1718, 0.0009-0.1776
};

TEST(Intervals, NormalCriticalValue) {
  EXPECT_NEAR(normal_critical_value(0.95), 1.959963984540054, 1e-14);   // scipy.stats.norm.ppf(0.975)
  EXPECT_NEAR(normal_critical_value(0.99), 2.5758293035489004, 1e-13);  // scipy.stats.norm.ppf(0.995)
  EXPECT_THROW(normal_critical_value(1.0), std::invalid_argument);
  EXPECT_THROW(normal_critical_value(0.0), std::invalid_argument);
}

TEST(Intervals, WilsonMatchesNewcombe1998) {
  for (const Published& c : kNewcombe) {
    const Interval w = wilson(c.k, c.n);
    EXPECT_NEAR(w.lower, c.wilson_lower, 1e-9) << c.k << "/" << c.n;
    EXPECT_NEAR(w.upper, c.wilson_upper, 1e-9) << c.k << "/" << c.n;
  }
}

TEST(Intervals, ClopperPearsonMatchesNewcombe1998) {
  for (const Published& c : kNewcombe) {
    const Interval cp = clopper_pearson(c.k, c.n);
    EXPECT_NEAR(cp.lower, c.cp_lower, 1e-9) << c.k << "/" << c.n;
    EXPECT_NEAR(cp.upper, c.cp_upper, 1e-9) << c.k << "/" << c.n;
  }
}

TEST(Intervals, RareEventOfTheIssue) {
  // 1 scenario in 20,000 (issue 19: "0.0050% [0.0009%, 0.028%]"): Wilson
  // [8.826282273e-06, 2.831905702e-04], Clopper-Pearson [1.265889598e-06,
  // 2.785503322e-04] (scipy, formulas above).
  const Interval w = wilson(1, 20000);
  EXPECT_NEAR(w.lower, 8.826282273e-06, 1e-14);
  EXPECT_NEAR(w.upper, 2.831905702e-04, 1e-12);
  const Interval cp = clopper_pearson(1, 20000);
  EXPECT_NEAR(cp.lower, 1.265889598e-06, 1e-14);
  EXPECT_NEAR(cp.upper, 2.785503322e-04, 1e-12);
  // No event in 1,000: Wilson's upper bound z^2 / (n + z^2) = 0.003826758486; exactly 0 below.
  EXPECT_EQ(wilson(0, 1000).lower, 0.0);
  EXPECT_NEAR(wilson(0, 1000).upper, 0.003826758486, 1e-12);
  EXPECT_NEAR(clopper_pearson(0, 1000).upper, 0.003682083897, 1e-12);  // 1 - 0.025^(1/1000)
  // Every trial a success: upper bound exactly 1.
  EXPECT_EQ(wilson(29, 29).upper, 1.0);
  EXPECT_NEAR(wilson(29, 29).lower, 0.8830302015, 1e-9);
  EXPECT_EQ(clopper_pearson(29, 29).upper, 1.0);
  EXPECT_NEAR(clopper_pearson(29, 29).lower, 0.8805551309, 1e-9);  // 0.025^(1/29)
}

TEST(Intervals, ProportionEdges) {
  EXPECT_EQ(wilson(0, 0).lower, 0.0);
  EXPECT_EQ(wilson(0, 0).upper, 1.0);
  EXPECT_THROW(wilson(3, 2), std::invalid_argument);
  EXPECT_THROW(clopper_pearson(-1, 2), std::invalid_argument);
  EXPECT_DOUBLE_EQ(proportion_standard_error(1, 4), std::sqrt(0.25 * 0.75 / 4.0));
  EXPECT_EQ(proportion_standard_error(0, 0), 0.0);
}

TEST(Intervals, MeanByTheCentralLimitTheorem) {
  // The sample 2, 4, 4, 4, 5, 5, 7, 9: sum 40, sum of squares 232, mean 5,
  // sample variance (232 - 40^2/8) / 7 = 32/7, standard error
  // sqrt(32/7/8) = 0.7559289460; 95%: 5 -+ 1.959963985 * 0.7559289460 =
  // [3.518406491, 6.481593509] (scipy.stats.norm.interval(0.95, 5, scipy.stats.sem(x))).
  const MeanEstimate e = mean_estimate(40.0, 232.0, 8);
  EXPECT_DOUBLE_EQ(e.mean, 5.0);
  EXPECT_NEAR(e.standard_error, 0.7559289460, 1e-10);
  EXPECT_NEAR(e.interval.lower, 3.518406491, 1e-9);
  EXPECT_NEAR(e.interval.upper, 6.481593509, 1e-9);
  // A constant sample: no spread, the interval is the point (rounding never makes it negative).
  const MeanEstimate c = mean_estimate(0.3, 0.03, 3);
  EXPECT_NEAR(c.mean, 0.1, 1e-15);
  EXPECT_GE(c.standard_error, 0.0);
  EXPECT_LT(c.standard_error, 1e-9);
  // One value: no standard error; none: zeros.
  EXPECT_EQ(mean_estimate(7.0, 49.0, 1).standard_error, 0.0);
  EXPECT_EQ(mean_estimate(0.0, 0.0, 0).mean, 0.0);
}

TEST(Intervals, QuantileRanksMatchConoverAndScipy) {
  // The median of 10: order statistics 2 and 9, coverage 1 - 2 * 11/1024 =
  // 0.978515625 (Conover, Practical Nonparametric Statistics, 3rd ed., 1999,
  // Table A3 / section 3.2 example; binomial sums by hand).
  RankInterval r = quantile_rank_interval(10, 0.5);
  EXPECT_EQ(r.lower, 2);
  EXPECT_EQ(r.upper, 9);
  EXPECT_DOUBLE_EQ(r.coverage, 0.978515625);
  // Larger samples, ranks from scipy.stats.binom(n, p): lower = max r with cdf(r-1) <= 0.025,
  // upper = min s with sf(s-1) <= 0.025.
  struct Case {
    std::int64_t n;
    double p;
    std::int64_t lower, upper;
    double coverage;
  };
  constexpr Case kCases[] = {
      {100, 0.5, 40, 61, 0.9647997997822952},
      {100, 0.9, 84, 96, 0.955690107191223},
      {1000, 0.99, 983, 997, 0.976094763497977},
      {20000, 0.99, 19772, 19828, 0.953480113389148},
  };
  for (const Case& c : kCases) {
    r = quantile_rank_interval(c.n, c.p);
    EXPECT_EQ(r.lower, c.lower) << c.n << " " << c.p;
    EXPECT_EQ(r.upper, c.upper) << c.n << " " << c.p;
    EXPECT_NEAR(r.coverage, c.coverage, 1e-9) << c.n << " " << c.p;
  }
  // The 99.9% quantile of 1,000 values: no order statistic bounds it above (upper = n + 1).
  r = quantile_rank_interval(1000, 0.999);
  EXPECT_EQ(r.lower, 997);
  EXPECT_EQ(r.upper, 1001);
  EXPECT_THROW(quantile_rank_interval(0, 0.5), std::invalid_argument);
  EXPECT_THROW(quantile_rank_interval(10, 1.0), std::invalid_argument);
}

}  // namespace test_intervals
}  // namespace ccpnet::models::stats
