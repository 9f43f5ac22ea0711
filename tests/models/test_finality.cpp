// Settlement finality distributions and HTLC abort probabilities against
// closed forms worked out independently of the implementation.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "models/settlement/finality.hpp"

namespace ccpnet::models {
namespace test_finality {

// Bitcoin's 6 confirmations of 10-minute blocks: the time of the 6th event of a
// Poisson process of rate 6 per hour, Erlang(6, 6/h). Its CDF is the
// probability of at least 6 blocks by t:
//   F(t) = 1 - sum_{k=0}^{5} e^{-6t} (6t)^k / k!
// (e.g. Ross, "Introduction to Probability Models", the gamma distribution as
// a sum of exponentials). At t = 1 h: 1 - e^{-6} (1 + 6 + 18 + 36 + 54 + 64.8)
// = 1 - 179.8 e^{-6} = 0.5543203586...
double erlang6_cdf(double t) {
  const double x = 6.0 * t;
  double term = 1.0, sum = 1.0;
  for (int k = 1; k <= 5; ++k) {
    term *= x / k;
    sum += term;
  }
  return 1.0 - std::exp(-x) * sum;
}

const Finality kBitcoin{FinalityFamily::kGamma, 1.0, 6.0, 0.5};

TEST(Finality, ErlangCdfMatchesThePoissonSum) {
  EXPECT_NEAR(finality_cdf(kBitcoin, 1.0), 1.0 - 179.8 * std::exp(-6.0), 1e-14);
  EXPECT_NEAR(finality_cdf(kBitcoin, 1.0), 0.5543203586, 1e-10);
  for (double t : {0.1, 0.5, 1.5, 2.0, 4.0, 24.0}) EXPECT_NEAR(finality_cdf(kBitcoin, t), erlang6_cdf(t), 1e-13) << t;
  EXPECT_EQ(finality_cdf(kBitcoin, 0.0), 0.0);
}

TEST(Finality, ExponentialFixedAndLognormalCdfs) {
  const Finality expo{FinalityFamily::kExponential, 2.0, 1.0, 0.5};
  EXPECT_NEAR(finality_cdf(expo, 2.0), 1.0 - std::exp(-1.0), 1e-15);  // P(T <= mean) = 1 - 1/e
  const Finality fixed{FinalityFamily::kFixed, 768.0 / 3600.0, 1.0, 0.5};
  EXPECT_EQ(finality_cdf(fixed, 0.2), 0.0);
  EXPECT_EQ(finality_cdf(fixed, 768.0 / 3600.0), 1.0);
  // Lognormal with mean m and sigma s: the median is m e^{-s^2/2}, where the CDF is 1/2;
  // one sigma above the median, Phi(1) = 0.8413447460685429.
  const Finality logn{FinalityFamily::kLognormal, 1.0, 1.0, 0.4};
  const double median = std::exp(-0.08);
  EXPECT_NEAR(finality_cdf(logn, median), 0.5, 1e-12);
  EXPECT_NEAR(finality_cdf(logn, median * std::exp(0.4)), 0.8413447460685429, 1e-9);
}

TEST(Finality, QuantileInvertsTheCdf) {
  for (const Finality& f :
       {kBitcoin, Finality{FinalityFamily::kExponential, 0.5, 1.0, 0.5},
        Finality{FinalityFamily::kLognormal, 3.0, 1.0, 0.8}, Finality{FinalityFamily::kGamma, 2.0, 0.7, 0.5}}) {
    for (double u : {1e-6, 0.01, 0.3, 0.5, 0.9, 0.999999}) {
      const double t = finality_quantile(f, u);
      EXPECT_NEAR(finality_cdf(f, t), u, 1e-9 * std::max(1.0, u)) << static_cast<int>(f.family) << " " << u;
    }
  }
  // Exponential by hand: the median of a mean-2 exponential is 2 ln 2.
  EXPECT_NEAR(finality_quantile(Finality{FinalityFamily::kExponential, 2.0, 1.0, 0.5}, 0.5), 2.0 * std::log(2.0),
              1e-14);
  // A larger mean never gives an earlier time for the same uniform (common random numbers).
  EXPECT_LT(finality_quantile(kBitcoin, 0.3), finality_quantile(Finality{FinalityFamily::kGamma, 2.0, 6.0, 0.5}, 0.3));
}

TEST(Finality, HtlcAbortProbabilityIsOneMinusTheProductOfTheLegsCdfs) {
  // Herlihy (2018): the swap completes when both legs are final within the lock.
  // Bitcoin leg against an exponential (mean 1 h) leg, lock 2 h:
  //   1 - F_erlang6(2) (1 - e^{-2}).
  const Finality expo{FinalityFamily::kExponential, 1.0, 1.0, 0.5};
  EXPECT_NEAR(htlc_abort_probability(kBitcoin, expo, 2.0), 1.0 - erlang6_cdf(2.0) * (1.0 - std::exp(-2.0)), 1e-13);
  // SPEC 3.8 time locks: 24 h for the participant. A 6-confirmation Bitcoin leg
  // essentially never outlasts it; an optimistic-rollup withdrawal (fixed 6.4 days) always does.
  EXPECT_LT(htlc_abort_probability(kBitcoin, kBitcoin, 24.0), 1e-40);
  const Finality rollup{FinalityFamily::kFixed, 6.4 * 24.0, 1.0, 0.5};
  EXPECT_EQ(htlc_abort_probability(kBitcoin, rollup, 24.0), 1.0);
}

TEST(Finality, ReplacementCostFallsOnTheSideTheMoveHurts) {
  // A buyer of 1,000 USD of an asset that rises 10% (log move ln 1.1) re-buys for 100 USD more;
  // the seller of the same asset loses nothing on that move, and 100 USD when it falls 10%.
  EXPECT_NEAR(replacement_cost(1000.0, std::log(1.1)), 100.0, 1e-9);
  EXPECT_EQ(replacement_cost(-1000.0, std::log(1.1)), 0.0);
  EXPECT_NEAR(replacement_cost(-1000.0, std::log(0.9)), 100.0, 1e-9);
  EXPECT_EQ(replacement_cost(1000.0, std::log(0.9)), 0.0);
}

TEST(Finality, RejectsNonsense) {
  EXPECT_THROW(finality_cdf(Finality{FinalityFamily::kGamma, 1.0, 0.0, 0.5}, 1.0), std::invalid_argument);
  EXPECT_THROW(finality_cdf(Finality{FinalityFamily::kLognormal, 1.0, 1.0, 0.0}, 1.0), std::invalid_argument);
  EXPECT_THROW(finality_quantile(kBitcoin, 0.0), std::invalid_argument);
  EXPECT_THROW(finality_quantile(kBitcoin, 1.0), std::invalid_argument);
}

}  // namespace test_finality
}  // namespace ccpnet::models
