// Liquidation math of a lending protocol, after Aave v3 (Aave v3 technical
// paper; Aave docs, "Liquidations": HF = sum(collateral x LT) / debt, a
// liquidation pays the liquidator the bonus on the collateral it seizes).
// Worked example: 1000 ETH at 3000 USD (C0 = 3,000,000) against a 2,000,000
// USDC loan, LT 0.825, bonus 5%.
#include <gtest/gtest.h>

#include <cmath>

#include "models/lending/lending.hpp"

namespace ccpnet::models {
namespace {

constexpr double kC0 = 3.0e6, kD0 = 2.0e6;

TEST(Lending, HealthFactor) {
  // 3,000,000 x 0.825 / 2,000,000 = 1.2375.
  EXPECT_DOUBLE_EQ(health_factor(kC0, kD0, 0.825), 1.2375);
  EXPECT_TRUE(std::isinf(health_factor(kC0, 0.0, 0.825)));
}

TEST(Lending, BadDebtOfAFullLiquidation) {
  // 1,800,000 of collateral buys back 1,800,000 / 1.05 = 1,714,285.71 of debt.
  EXPECT_NEAR(liquidation_bad_debt(1.8e6, kD0, 0.05), 285714.2857142857, 1e-6);
  EXPECT_EQ(liquidation_bad_debt(kC0, kD0, 0.05), 0.0);
}

TEST(Lending, CrossingTimeWithoutDelayLeavesNoBadDebt) {
  // ETH falls 40% over the day: x_c = ln 0.6 = -0.5108256, x_d = 0 (USDC).
  // t* = ln 1.2375 / 0.5108256 = 0.2130932 / 0.5108256 = 0.4171545.
  // At t*, HF = 1: C = D / LT = 2,424,242.42, which buys back
  // 2,424,242.42 / 1.05 = 2,308,802.3 > 2,000,000 of debt, since
  // LT (1 + b) = 0.86625 < 1: no bad debt.
  const LendingParams p{0.825, 0.05, 0.0};
  const auto out = liquidate_on_path(kC0, kD0, std::log(0.6), 0.0, p, 1.0);
  EXPECT_TRUE(out.liquidated);
  EXPECT_NEAR(out.trigger_time, 0.417154515252599, 1e-12);
  EXPECT_NEAR(out.collateral, 2424242.4242424243, 1e-6);
  EXPECT_DOUBLE_EQ(out.debt, kD0);
  EXPECT_EQ(out.bad_debt, 0.0);
}

TEST(Lending, OracleDelayInACrashLeavesBadDebt) {
  const LendingParams half_day{0.825, 0.05, 12.0};
  // t_e = 0.4171545 + 12 / 24 = 0.9171545: C_e = 3,000,000 x 0.6^0.9171545
  // = 1,877,810.11; bad debt 2,000,000 - 1,877,810.11 / 1.05 = 211,609.42.
  auto out = liquidate_on_path(kC0, kD0, std::log(0.6), 0.0, half_day, 1.0);
  EXPECT_NEAR(out.execution_time, 0.9171545152525991, 1e-12);
  EXPECT_NEAR(out.collateral, 1877810.1072520807, 1e-6);
  EXPECT_NEAR(out.bad_debt, 211609.42166468524, 1e-6);
  // A delay past the end of the period executes at t = 1: C_e = 1,800,000,
  // bad debt 285,714.29 (as above).
  const LendingParams day{0.825, 0.05, 24.0};
  out = liquidate_on_path(kC0, kD0, std::log(0.6), 0.0, day, 1.0);
  EXPECT_DOUBLE_EQ(out.execution_time, 1.0);
  EXPECT_NEAR(out.bad_debt, 285714.2857142857, 1e-6);
  // The delay is in hours, the period in days: 12 hours of a 2-day period is
  // a quarter of it.
  out = liquidate_on_path(kC0, kD0, std::log(0.6), 0.0, half_day, 2.0);
  EXPECT_NEAR(out.execution_time, 0.417154515252599 + 0.25, 1e-12);
}

TEST(Lending, NoCrossingNoLiquidation) {
  const LendingParams p{0.825, 0.05, 0.0};
  // A 15% fall: HF(1) = 1.2375 x 0.85 = 1.0519 > 1.
  auto out = liquidate_on_path(kC0, kD0, std::log(0.85), 0.0, p, 1.0);
  EXPECT_FALSE(out.liquidated);
  EXPECT_EQ(out.bad_debt, 0.0);
  EXPECT_NEAR(out.collateral, 2.55e6, 1e-6);
  // Debt rising as fast as the collateral: HF is constant.
  out = liquidate_on_path(kC0, kD0, 0.3, 0.3, p, 1.0);
  EXPECT_FALSE(out.liquidated);
  // No debt: never liquidated.
  EXPECT_FALSE(liquidate_on_path(kC0, 0.0, std::log(0.1), 0.0, p, 1.0).liquidated);
  // Already below 1 today: liquidated at t = 0. HF0 = 1,500,000 x 0.825 / 2,000,000 = 0.61875; bad debt
  // 2,000,000 - 1,500,000 / 1.05 = 571,428.57.
  out = liquidate_on_path(1.5e6, kD0, 0.0, 0.0, p, 1.0);
  EXPECT_TRUE(out.liquidated);
  EXPECT_EQ(out.trigger_time, 0.0);
  EXPECT_NEAR(out.bad_debt, 571428.5714285714, 1e-6);
}

}  // namespace
}  // namespace ccpnet::models
