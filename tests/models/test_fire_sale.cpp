// Fire sales by the square-root impact law (models/market/fire_sale.hpp).
#include <gtest/gtest.h>

#include <cmath>

#include "models/margin/addons.hpp"
#include "models/market/fire_sale.hpp"

namespace ccpnet::models {
namespace test_fire_sale {

// Worked by hand: k = 0.5, ADV = 1e6 USD. One liquidator sells x = 40,000:
// s = -0.5 sqrt(0.04) = -0.1 (a 10% fall); it pays -x s = 40,000 x 0.1 = 4,000,
// which is liquidation_cost's k |x| sqrt(|x| / ADV) = 0.5 x 40,000 x 0.2.
TEST(FireSale, OneSellerPaysItsSquareRootCost) {
  const double s = fire_sale_move(-40'000.0, 1e6, 0.5);
  EXPECT_NEAR(s, -0.1, 1e-15);
  Eigen::VectorXd x(1), adv(1), k(1);
  x << 40'000.0;
  adv << 1e6;
  k << 0.5;
  EXPECT_NEAR(40'000.0 * -s, liquidation_cost(x, adv, k), 1e-9);
}

// Two liquidators at two CCPs sell 40,000 each the same day: X = -80,000,
// s = -0.5 sqrt(0.08) = -0.141421...; each pays 40,000 x 0.141421 = 5,656.85,
// sqrt(2) times its cost alone (4,000), together 11,313.71 = k |X| sqrt(|X| /
// ADV) > 8,000.
TEST(FireSale, TwoSellersOfOneAssetPayMoreThanEitherAlone) {
  const double alone = -40'000.0 * fire_sale_move(-40'000.0, 1e6, 0.5);
  const double s = fire_sale_move(-80'000.0, 1e6, 0.5);
  const double each = -40'000.0 * s;
  EXPECT_NEAR(each, 5'656.854249492381, 1e-9);
  EXPECT_NEAR(each / alone, std::sqrt(2.0), 1e-12);
  EXPECT_NEAR(2.0 * each, 0.5 * 80'000.0 * std::sqrt(0.08), 1e-9);
}

TEST(FireSale, OppositeFlowsNetAndNothingMovesWithoutImpact) {
  EXPECT_EQ(fire_sale_move(0.0, 1e6, 0.5), 0.0);  // a seller and a buyer of the same size
  EXPECT_EQ(fire_sale_move(-1e5, INFINITY, 0.5), 0.0);
  EXPECT_EQ(fire_sale_move(-1e5, 1e6, 0.0), 0.0);
  EXPECT_NEAR(fire_sale_move(90'000.0, 1e6, 0.5), 0.15, 1e-15);  // buying back shorts lifts the price
}

TEST(FireSale, APriceFallsAtMostNinetyNinePercent) {
  EXPECT_EQ(fire_sale_move(-1e12, 1e6, 1.0), -kMaxFireSaleFall);
  EXPECT_THROW((void)fire_sale_move(-1.0, 0.0, 1.0), std::invalid_argument);
}

}  // namespace test_fire_sale
}  // namespace ccpnet::models
