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

// ---- Per-asset rules, close factor and repeated liquidations ------------------
// Source: Aave v3.3, LiquidationLogic.sol (aave-dao/aave-v3-origin):
// DEFAULT_LIQUIDATION_CLOSE_FACTOR = 50%, CLOSE_FACTOR_HF_THRESHOLD = 0.95
// (100% at or below), MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD = 2000 USD (100%
// when the reserve's collateral or debt is worth less); collateral seized =
// debt x p_debt / p_coll x (1 + bonus), capped by the balance; a call that
// seizes the last collateral writes the remaining debt off (v3.3 "deficit").
// HF = sum c_i p_i LT_i / debt (GenericLogic.calculateUserAccountData).

// Assets: 0 ETH (LT 0.825, bonus 5%), 1 USDC (LT 0.78, bonus 4.5%).
LendingMarket eth_usdc() { return {.assets = {{0.825, 0.05, 0}, {0.78, 0.045, 0}}}; }

Eigen::VectorXd px(std::initializer_list<double> p) {
  Eigen::VectorXd v(static_cast<Eigen::Index>(p.size()));
  Eigen::Index i = 0;
  for (double x : p) v(i++) = x;
  return v;
}

TEST(LendingAave, CloseFactorFiftyThenHundredAlongAPath) {
  // 10 ETH at 2000 (20,000) against 15,000 USDC: HF = 20,000 x 0.825 / 15,000 = 1.1.
  const auto market = eth_usdc();
  LendingAccount acc{.collateral = {10, 0}, .debt = {0, 15000}};
  EXPECT_DOUBLE_EQ(health_factor(market, acc, px({2000, 1})), 1.1);
  // ETH at 1800: HF = 18,000 x 0.825 / 15,000 = 0.99: below 1, above 0.95, both
  // reserves above 2000 USD: close factor 50%, repay 7,500 USDC; collateral
  // 7,500 / 1,800 x 1.05 = 4.375 ETH (7,875 USD). Left 5.625 ETH (10,125) against
  // 7,500: HF = 10,125 x 0.825 / 7,500 = 1.11375, above 1: one call.
  // ETH at 1500: HF = 8,437.5 x 0.825 / 7,500 = 0.928125 <= 0.95: close factor
  // 100%, repay 7,500; collateral 7,500 / 1,500 x 1.05 = 5.25 ETH (7,875); left
  // 0.375 ETH and no debt: HF +infinity. Liquidated twice, no bad debt.
  Eigen::MatrixXd path(3, 2);
  path << 2000, 1, 1800, 1, 1500, 1;
  const auto ls = liquidate_along_path(market, acc, path);
  ASSERT_EQ(ls.size(), 2u);
  EXPECT_EQ(ls[0].step, 1u);
  EXPECT_NEAR(ls[0].health_factor_before, 0.99, 1e-12);
  EXPECT_DOUBLE_EQ(ls[0].close_factor, 0.5);
  EXPECT_DOUBLE_EQ(ls[0].debt_repaid, 7500);
  EXPECT_NEAR(ls[0].collateral_seized, 4.375, 1e-12);
  EXPECT_NEAR(ls[0].collateral_seized_value, 7875, 1e-9);
  EXPECT_NEAR(ls[0].health_factor_after, 1.11375, 1e-12);
  EXPECT_EQ(ls[0].bad_debt, 0.0);
  EXPECT_EQ(ls[1].step, 2u);
  EXPECT_NEAR(ls[1].health_factor_before, 0.928125, 1e-12);
  EXPECT_DOUBLE_EQ(ls[1].close_factor, 1.0);
  EXPECT_DOUBLE_EQ(ls[1].debt_repaid, 7500);
  EXPECT_NEAR(ls[1].collateral_seized, 5.25, 1e-12);
  EXPECT_TRUE(std::isinf(ls[1].health_factor_after));
  EXPECT_NEAR(acc.collateral[0], 0.375, 1e-12);
  EXPECT_EQ(acc.debt[1], 0.0);
}

TEST(LendingAave, HundredPercentWithBadDebt) {
  // 5.625 ETH against 7,500 USDC, ETH at 1300: collateral 7,312.5, HF =
  // 7,312.5 x 0.825 / 7,500 = 0.804375: 100%. 7,500 would need 7,500 / 1,300 x
  // 1.05 = 6.0577 ETH > 5.625: all 5.625 ETH are seized, buying back
  // 7,312.5 / 1.05 = 6,964.29 USDC; no collateral left, so the other
  // 7,500 - 6,964.29 = 535.71 is written off as bad debt.
  const auto market = eth_usdc();
  LendingAccount acc{.collateral = {5.625, 0}, .debt = {0, 7500}};
  const auto l = liquidation_call(market, acc, px({1300, 1}));
  EXPECT_NEAR(l.health_factor_before, 0.804375, 1e-12);
  EXPECT_DOUBLE_EQ(l.close_factor, 1.0);
  EXPECT_DOUBLE_EQ(l.collateral_seized, 5.625);
  EXPECT_NEAR(l.debt_repaid, 6964.285714285714, 1e-9);
  EXPECT_NEAR(l.bad_debt, 535.7142857142857, 1e-9);
  EXPECT_TRUE(std::isinf(l.health_factor_after));
  EXPECT_EQ(acc.debt[1], 0.0);
}

TEST(LendingAave, DustPositionsCloseInFull) {
  // 1 ETH against 1,500 USDC, ETH at 1800: HF = 1,800 x 0.825 / 1,500 = 0.99
  // (above 0.95) but the collateral (1,800) is below 2,000 USD: 100%. Repay
  // 1,500: 1,500 / 1,800 x 1.05 = 0.875 ETH seized, 0.125 ETH left.
  const auto market = eth_usdc();
  LendingAccount acc{.collateral = {1, 0}, .debt = {0, 1500}};
  const auto l = liquidation_call(market, acc, px({1800, 1}));
  EXPECT_DOUBLE_EQ(l.close_factor, 1.0);
  EXPECT_DOUBLE_EQ(l.debt_repaid, 1500);
  EXPECT_NEAR(l.collateral_seized, 0.875, 1e-12);
  // A healthy account is not liquidated.
  LendingAccount healthy{.collateral = {10, 0}, .debt = {0, 1000}};
  EXPECT_EQ(liquidation_call(market, healthy, px({1800, 1})).debt_repaid, 0.0);
}

TEST(LendingAave, PerAssetThresholdsAndBonus) {
  // Assets: 0 ETH (LT 0.825, bonus 5%), 1 WBTC (LT 0.78, bonus 7.5%), 2 USDC.
  // 5 ETH at 2000 (10,000) and 0.3 WBTC at 35,000 (10,500) against 15,000 USDC:
  // HF = (10,000 x 0.825 + 10,500 x 0.78) / 15,000 = (8,250 + 8,190) / 15,000 =
  // 1.096 (one protocol-wide LT 0.825 would give 1.1275).
  const LendingMarket market{.assets = {{0.825, 0.05, 0}, {0.78, 0.075, 0}, {0.78, 0.045, 0}}};
  LendingAccount acc{.collateral = {5, 0.3, 0}, .debt = {0, 0, 15000}};
  EXPECT_NEAR(health_factor(market, acc, px({2000, 35000, 1})), 1.096, 1e-12);
  // ETH at 1600: HF = (8,000 x 0.825 + 8,190) / 15,000 = (6,600 + 8,190) / 15,000
  // = 0.986: 50%, repay 7,500 USDC against the largest collateral, WBTC (10,500),
  // with ITS bonus 7.5%: 7,500 / 35,000 x 1.075 = 0.23035714 WBTC (8,062.5).
  // Left WBTC 2,437.5: HF = (6,600 + 2,437.5 x 0.78) / 7,500 = 8,501.25 / 7,500 = 1.1335.
  const auto l = liquidation_call(market, acc, px({1600, 35000, 1}));
  EXPECT_NEAR(l.health_factor_before, 0.986, 1e-12);
  EXPECT_EQ(l.collateral_asset, 1u);
  EXPECT_EQ(l.debt_asset, 2u);
  EXPECT_DOUBLE_EQ(l.close_factor, 0.5);
  EXPECT_DOUBLE_EQ(l.debt_repaid, 7500);
  EXPECT_NEAR(l.collateral_seized, 7500.0 / 35000 * 1.075, 1e-15);
  EXPECT_NEAR(l.collateral_seized_value, 8062.5, 1e-9);
  EXPECT_NEAR(l.health_factor_after, 1.1335, 1e-12);
}

TEST(LendingAave, EMode) {
  // E-mode category 1, "ETH correlated" (LT 95%, bonus 1%): wstETH (own LT
  // 0.81, bonus 6%) and WETH belong to it. 10 wstETH at 2300 (23,000) against
  // 10 WETH at 2000 (20,000).
  const LendingMarket market{.assets = {{0.81, 0.06, 1}, {0.825, 0.05, 1}}, .emode_categories = {{1, 0.95, 0.01}}};
  LendingAccount acc{.collateral = {10, 0}, .debt = {0, 10}, .emode_category = 1};
  // In e-mode HF = 23,000 x 0.95 / 20,000 = 1.0925; outside it 23,000 x 0.81 /
  // 20,000 = 0.9315 would be liquidatable.
  EXPECT_NEAR(health_factor(market, acc, px({2300, 2000})), 1.0925, 1e-12);
  LendingAccount plain = acc;
  plain.emode_category = 0;
  EXPECT_NEAR(health_factor(market, plain, px({2300, 2000})), 0.9315, 1e-12);
  EXPECT_DOUBLE_EQ(liquidation_threshold(market, acc, 0), 0.95);
  EXPECT_DOUBLE_EQ(liquidation_bonus(market, plain, 0), 0.06);
  // wstETH depegs to 2100: HF = 21,000 x 0.95 / 20,000 = 0.9975: 50% = 5 WETH
  // (10,000); collateral at the e-mode bonus 1%: 10,000 / 2,100 x 1.01 =
  // 4.8095238 wstETH (10,100). Left 5.1904762 wstETH (10,900) against 10,000:
  // HF = 10,900 x 0.95 / 10,000 = 1.0355.
  const auto l = liquidation_call(market, acc, px({2100, 2000}));
  EXPECT_NEAR(l.health_factor_before, 0.9975, 1e-12);
  EXPECT_DOUBLE_EQ(l.debt_repaid, 5);
  EXPECT_NEAR(l.collateral_seized, 10000.0 / 2100 * 1.01, 1e-12);
  EXPECT_NEAR(l.collateral_seized_value, 10100, 1e-9);
  EXPECT_NEAR(l.health_factor_after, 1.0355, 1e-12);
}

TEST(LendingAave, PropertyDebtIsRepaidOrWrittenOff) {
  // Along falling paths, debt at the start = debt repaid + bad debt + debt left
  // (USDC at 1), and HF >= 1 after the last call of each step unless no debt is left.
  const auto market = eth_usdc();
  for (int k = 1; k <= 40; ++k) {
    LendingAccount acc{.collateral = {10, 0}, .debt = {0, 12000 + 200.0 * k}};
    Eigen::MatrixXd path(8, 2);
    for (int t = 0; t < 8; ++t) path.row(t) << 2000 * (1 - 0.02 * k * t / 8.0), 1;
    const auto ls = liquidate_along_path(market, acc, path);
    double repaid = 0.0, bad = 0.0;
    for (const auto& l : ls) {
      repaid += l.debt_repaid_value;
      bad += l.bad_debt;
      EXPECT_LE(l.collateral_seized_value, l.debt_repaid_value * 1.05 + 1e-9);
    }
    EXPECT_NEAR(repaid + bad + acc.debt[1], 12000 + 200.0 * k, 1e-6);
  }
}

}  // namespace
}  // namespace ccpnet::models
