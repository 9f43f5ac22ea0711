// A member population consistent with a CCP's public quantitative disclosures
// (CPMI-IOSCO, "Public quantitative disclosure standards for central
// counterparties", 2015: total initial margin and its concentration in the
// largest members), models/calibration/population.hpp, worked by hand.
#include <gtest/gtest.h>

#include <stdexcept>

#include "models/calibration/population.hpp"

namespace ccpnet::models {
namespace test_population {

// 20 members, total 1000, top 5 hold 50% and top 10 70%: the top 5 hold 500
// (100 each), the next 5 hold 200 (40 each), the other 10 hold 300 (30 each).
TEST(Population, BandsHoldTheirDisclosedShares) {
  const Eigen::VectorXd s = concentrated_sizes(20, 1000.0, {{5, 0.5}, {10, 0.7}});
  ASSERT_EQ(s.size(), 20);
  for (int i = 0; i < 5; ++i) EXPECT_DOUBLE_EQ(s(i), 100.0);
  for (int i = 5; i < 10; ++i) EXPECT_DOUBLE_EQ(s(i), 40.0);
  for (int i = 10; i < 20; ++i) EXPECT_DOUBLE_EQ(s(i), 30.0);
  EXPECT_NEAR(s.sum(), 1000.0, 1e-9);
}

TEST(Population, WithoutConcentrationEveryMemberIsEqual) {
  const Eigen::VectorXd s = concentrated_sizes(4, 10.0, {});
  EXPECT_TRUE(s.isApprox(Eigen::VectorXd::Constant(4, 2.5)));
}

TEST(Population, TheTopNHoldTheWholeTotal) {
  EXPECT_TRUE(concentrated_sizes(2, 10.0, {{1, 0.6}, {2, 1.0}}).isApprox(Eigen::Vector2d(6.0, 4.0)));
  EXPECT_THROW(concentrated_sizes(2, 10.0, {{1, 0.6}, {2, 0.9}}), std::invalid_argument);
}

// Top 5 at 20% and top 10 at 70% would make members 6-10 (100 each) larger
// than members 1-5 (40 each): no population ordered largest first has them.
TEST(Population, SharesThatCannotBeOrderedLargestFirstAreRefused) {
  EXPECT_THROW(concentrated_sizes(20, 1000.0, {{5, 0.2}, {10, 0.7}}), std::invalid_argument);
  EXPECT_THROW(concentrated_sizes(20, 1000.0, {{5, 0.5}, {10, 0.4}}), std::invalid_argument);
  EXPECT_THROW(concentrated_sizes(8, 1000.0, {{10, 0.5}}), std::invalid_argument);
  EXPECT_THROW(concentrated_sizes(20, 1000.0, {{5, 1.2}}), std::invalid_argument);
}

}  // namespace test_population
}  // namespace ccpnet::models
