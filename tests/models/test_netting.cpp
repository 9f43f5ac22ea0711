// Netting efficiency in the setting of Duffie & Zhu (2011), "Does a central
// clearing counterparty reduce counterparty risk?", Review of Asset Pricing
// Studies 1(1), 74-95: closed forms against a seeded Monte Carlo of the same
// setting, and the break-even number of members.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

#include "models/netting/netting.hpp"

namespace ccpnet::models {
namespace test_netting {

struct Sample {
  double mean = 0.0, standard_error = 0.0;
};

Sample summarise(const std::vector<double>& x) {
  double sum = 0.0;
  for (double v : x) sum += v;
  const double mean = sum / static_cast<double>(x.size());
  double ss = 0.0;
  for (double v : x) ss += (v - mean) * (v - mean);
  return {mean, std::sqrt(ss / static_cast<double>(x.size() - 1) / static_cast<double>(x.size()))};
}

// Per draw, the average over members of each member's exposure under the
// three arrangements: bilateral netting of all classes, class 0 cleared by one
// CCP, every class cleared by one CCP.
struct Draws {
  std::vector<double> bilateral, one_ccp, all_cleared;
};

Draws simulate(int n, const Eigen::VectorXd& sd, int draws, std::uint64_t seed) {
  const auto k_count = sd.size();
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  Draws out;
  // x[(i * n + j) * K + k]: what j owes i in class k (x_ij = -x_ji).
  std::vector<double> x(static_cast<std::size_t>(n * n * k_count));
  const auto at = [&](int i, int j, Eigen::Index k) -> double& {
    return x[static_cast<std::size_t>((i * n + j) * k_count + k)];
  };
  for (int d = 0; d < draws; ++d) {
    for (int i = 0; i < n; ++i)
      for (int j = i + 1; j < n; ++j)
        for (Eigen::Index k = 0; k < k_count; ++k) {
          at(i, j, k) = sd(k) * normal(rng);
          at(j, i, k) = -at(i, j, k);
        }
    double bilateral = 0.0, one_ccp = 0.0, all_cleared = 0.0;
    for (int i = 0; i < n; ++i) {
      double to_ccp = 0.0, everything = 0.0;
      for (int j = 0; j < n; ++j) {
        if (j == i) continue;
        double all = 0.0, rest = 0.0;
        for (Eigen::Index k = 0; k < k_count; ++k) {
          all += at(i, j, k);
          if (k > 0) rest += at(i, j, k);
        }
        bilateral += std::max(all, 0.0);
        one_ccp += std::max(rest, 0.0);
        to_ccp += at(i, j, 0);
        everything += all;
      }
      one_ccp += std::max(to_ccp, 0.0);
      all_cleared += std::max(everything, 0.0);
    }
    out.bilateral.push_back(bilateral / n);
    out.one_ccp.push_back(one_ccp / n);
    out.all_cleared.push_back(all_cleared / n);
  }
  return out;
}

TEST(Netting, ExpectedPositivePartOfANormal) {
  // E[max(Z, 0)] = s phi(0) = s / sqrt(2 pi); phi(0) = 0.3989422804014327 (tables).
  EXPECT_NEAR(expected_positive_part(1.0), 0.3989422804014327, 1e-15);
  EXPECT_NEAR(expected_positive_part(2.5), 2.5 * 0.3989422804014327, 1e-15);
}

TEST(Netting, ClosedFormsByHand) {
  // N = 5, K = 4 classes of sigma 1: bilateral 4 x 2 / sqrt(2 pi); class 0
  // cleared: (2 + 4 sqrt 3) / sqrt(2 pi); all cleared: 2 x 2 / sqrt(2 pi).
  const Eigen::VectorXd sd = Eigen::VectorXd::Ones(4);
  const double phi0 = 0.3989422804014327;
  EXPECT_NEAR(bilateral_exposure(5, sd), 8.0 * phi0, 1e-14);
  EXPECT_NEAR(one_ccp_exposure(5, sd), (2.0 + 4.0 * std::sqrt(3.0)) * phi0, 1e-14);
  EXPECT_NEAR(all_cleared_exposure(5, sd), 4.0 * phi0, 1e-14);
  EXPECT_THROW(bilateral_exposure(1, sd), std::invalid_argument);
  EXPECT_THROW(one_ccp_exposure(3, Eigen::VectorXd::Constant(2, -1.0)), std::invalid_argument);
}

TEST(Netting, ClosedFormsMatchAMonteCarloOfTheSameSetting) {
  // Unequal class risks, N = 6 members, 20,000 seeded draws. The tolerance is
  // 4 standard errors of the Monte Carlo mean (a false alarm about 1 in 16,000).
  Eigen::VectorXd sd(4);
  sd << 1.0, 2.0, 0.5, 1.5;
  const int n = 6;
  const Draws d = simulate(n, sd, 20'000, 20110701);
  const Sample bilateral = summarise(d.bilateral), one_ccp = summarise(d.one_ccp), all = summarise(d.all_cleared);
  EXPECT_NEAR(bilateral.mean, bilateral_exposure(n, sd), 4.0 * bilateral.standard_error);
  EXPECT_NEAR(one_ccp.mean, one_ccp_exposure(n, sd), 4.0 * one_ccp.standard_error);
  EXPECT_NEAR(all.mean, all_cleared_exposure(n, sd), 4.0 * all.standard_error);
  // The sampling error is small against the quantities compared (< 1%).
  EXPECT_LT(bilateral.standard_error, 0.01 * bilateral.mean);
}

TEST(Netting, BreakEvenNumberOfMembersForFourClasses) {
  // Duffie & Zhu (2011), Section 2, K classes of equal riskiness and
  // independent normal exposures: one CCP for one class lowers the expected
  // exposure iff N - 1 > (sqrt(K) + sqrt(K - 1))^2. For K = 4,
  // (2 + sqrt 3)^2 = 7 + 4 sqrt 3 = 13.93: it takes N = 15 members.
  EXPECT_EQ(break_even_members(4), 15);
  const Eigen::VectorXd sd = Eigen::VectorXd::Ones(4);
  EXPECT_GT(one_ccp_exposure(14, sd), bilateral_exposure(14, sd));
  EXPECT_LT(one_ccp_exposure(15, sd), bilateral_exposure(15, sd));
  // Other K from the same inequality: K = 1 (a CCP for the only class) from 3
  // members (at N = 2 the two arrangements are the same); K = 2: 5.83 -> 7;
  // K = 3: 9.90 -> 11; K = 10: 37.97 -> 39.
  EXPECT_EQ(break_even_members(1), 3);
  EXPECT_EQ(break_even_members(2), 7);
  EXPECT_EQ(break_even_members(3), 11);
  EXPECT_EQ(break_even_members(10), 39);
  for (int k = 1; k <= 12; ++k) {
    const Eigen::VectorXd s = Eigen::VectorXd::Ones(k);
    const int n = break_even_members(k);
    EXPECT_LT(one_ccp_exposure(n, s), bilateral_exposure(n, s)) << k;
    if (n - 1 >= 2) {
      EXPECT_GE(one_ccp_exposure(n - 1, s), bilateral_exposure(n - 1, s)) << k;
    }
  }
  EXPECT_THROW(break_even_members(0), std::invalid_argument);
}

}  // namespace test_netting
}  // namespace ccpnet::models
