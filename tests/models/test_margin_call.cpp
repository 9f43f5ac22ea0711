// In-scenario margin calls: the EWMA volatility update and collateral posted in
// a moving asset, against numbers worked out by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "models/margin/addons.hpp"

namespace ccpnet::models {
namespace test_margin_call {

TEST(MarginCall, EwmaMultiplierIsTheRiskMetricsUpdate) {
  // RiskMetrics Technical Document (J.P. Morgan/Reuters 1996), daily lambda 0.94:
  // sigma'^2 = 0.94 sigma^2 + 0.06 r^2. A 3-sigma day: sqrt(0.94 + 0.06 x 9) = sqrt(1.48).
  EXPECT_NEAR(ewma_vol_multiplier(0.94, 0.03, 1.0, 0.01), std::sqrt(1.48), 1e-14);
  // A quiet day lowers the estimate: r = 0 gives sqrt(0.94).
  EXPECT_NEAR(ewma_vol_multiplier(0.94, 0.0, 1.0, 0.01), std::sqrt(0.94), 1e-15);
  // A 2-day move enters as its daily equivalent: x^2 / 2.
  EXPECT_NEAR(ewma_vol_multiplier(0.94, 0.06, 2.0, 0.01), std::sqrt(0.94 + 0.06 * 18.0), 1e-14);
  EXPECT_THROW(ewma_vol_multiplier(1.5, 0.0, 1.0, 0.01), std::invalid_argument);
  EXPECT_THROW(ewma_vol_multiplier(0.94, 0.0, 1.0, 0.0), std::invalid_argument);
}

TEST(MarginCall, TheEwmaVolatilityAlongAPathOfDays) {
  // RiskMetrics (J.P. Morgan 1996, section 5.2), daily sigma 0.01, lambda 0.94:
  // day 1 r = 0.03: sigma^2 = 0.94e-4 + 0.06 x 9e-4 = 1.48e-4;
  // day 2 r = 0: 0.94 x 1.48e-4 = 1.3912e-4; day 3 r = -0.01: 0.94 x
  // 1.3912e-4 + 0.06e-4 = 1.367728e-4. Multipliers sqrt(sigma^2 / 1e-4).
  const std::vector<double> path = ewma_vol_path(0.94, {0.03, 0.0, -0.01}, 1.0, 0.01);
  ASSERT_EQ(path.size(), 3u);
  EXPECT_NEAR(path[0], std::sqrt(1.48), 1e-14);
  EXPECT_NEAR(path[1], std::sqrt(1.3912), 1e-14);
  EXPECT_NEAR(path[2], std::sqrt(1.367728), 1e-14);
  // Steps of 2 days: one update with the daily equivalent x^2 / 2 each.
  EXPECT_NEAR(ewma_vol_path(0.94, {0.06}, 2.0, 0.01)[0], std::sqrt(0.94 + 0.06 * 18.0), 1e-14);
}

TEST(MarginCall, AnApcBufferAbsorbsARecomputedRiseFirst) {
  // IM held 125 = model margin 100 + a 25% buffer (RTS 153/2013 art.
  // 28(1)(a)). A model margin up 10% (110) stays within the buffer: 125; up
  // 40% (140) is called in full; down 20% (80) lowers IM to 80 x 1.25 = 100.
  EXPECT_NEAR(recomputed_margin(125.0, 1.1, 0.25), 125.0, 1e-12);
  EXPECT_NEAR(recomputed_margin(125.0, 1.4, 0.25), 140.0, 1e-12);
  EXPECT_NEAR(recomputed_margin(125.0, 0.8, 0.25), 100.0, 1e-12);
  EXPECT_NEAR(recomputed_margin(100.0, 1.4, 0.0), 140.0, 1e-12);
  // Stressed weight w = 0.25, stressed multiplier s = 2: the current part
  // doubling moves the weighted sigma by sqrt((0.25 x 4 + 0.75 x 4) / (0.25 x 4 + 0.75)) = sqrt(4 / 1.75).
  EXPECT_NEAR(apc_weighted_multiplier(2.0, 0.25, 2.0), std::sqrt(4.0 / 1.75), 1e-14);
}

TEST(MarginCall, CollateralInAFallingAssetIsToppedUp) {
  // IM 100 posted in an asset with a 20% haircut: 125 of market value. The asset
  // falls 20%: worth 100, credited 80, so 20 is called; the CCP can liquidate 100
  // before the call is paid and 120 after; the member lost 25 on what it posted.
  const MarginCall mc = margin_call(100.0, 100.0, 1.0, 0.2, -0.2);
  EXPECT_NEAR(mc.call, 20.0, 1e-12);
  EXPECT_NEAR(mc.held_unpaid, 100.0, 1e-12);
  EXPECT_NEAR(mc.held_paid, 120.0, 1e-12);
  EXPECT_NEAR(mc.collateral_change, -25.0, 1e-12);
  // Half in cash, half in the asset: posted 50 + 62.5; after -20%: 50 + 50 = 100 held, credited 90, call 10.
  const MarginCall half = margin_call(100.0, 100.0, 0.5, 0.2, -0.2);
  EXPECT_NEAR(half.call, 10.0, 1e-12);
  EXPECT_NEAR(half.held_unpaid, 100.0, 1e-12);
  // A rise calls nothing; cash collateral never moves.
  EXPECT_EQ(margin_call(100.0, 100.0, 1.0, 0.2, 0.3).call, 0.0);
  const MarginCall cash = margin_call(100.0, 100.0, 0.0, 0.0, -0.5);
  EXPECT_EQ(cash.call, 0.0);
  EXPECT_EQ(cash.held_unpaid, 100.0);
}

TEST(MarginCall, SpiralAndExploitedCustodyCallTheDifference) {
  // The CCP now requires 230 on an IM of 100 held in cash: 130 called.
  EXPECT_NEAR(margin_call(100.0, 230.0, 0.0, 0.0, 0.0).call, 130.0, 1e-12);
  // Collateral held through an exploited bridge, 25% recovered: 25 held, 75 re-posted.
  const MarginCall lost = margin_call(100.0, 100.0, 0.0, 0.0, 0.0, 0.25);
  EXPECT_NEAR(lost.call, 75.0, 1e-12);
  EXPECT_NEAR(lost.held_unpaid, 25.0, 1e-12);
  EXPECT_NEAR(lost.held_paid, 100.0, 1e-12);
  EXPECT_THROW(margin_call(100.0, 100.0, 1.0, 1.0, 0.0), std::invalid_argument);
}

}  // namespace test_margin_call
}  // namespace ccpnet::models
