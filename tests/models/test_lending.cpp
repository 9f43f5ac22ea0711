// Liquidation math of a lending protocol, after Aave v3 (Aave v3 technical
// paper; Aave docs, "Liquidations": HF = sum(collateral x LT) / debt, a
// liquidation pays the liquidator the bonus on the collateral it seizes).
// Worked example: 1000 ETH at 3000 USD (C0 = 3,000,000) against a 2,000,000
// USDC loan, LT 0.825, bonus 5%.
#include <gtest/gtest.h>

#include <cmath>

#include "models/lending/lending.hpp"

namespace ccpnet::models {
namespace test_lending {

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

TEST(LendingAave, PartialCallLeavesNoDust) {
  // MUST_NOT_LEAVE_DUST (LiquidationLogic.executeLiquidationCall, Aave v3.3):
  // 2.5 ETH at 1900 (4,750) against 2,500 USDC and 1,500 DAI (4,000): HF =
  // 4,750 x 0.825 / 4,000 = 0.9796875, above 0.95; the USDC reserve (2,500)
  // and the collateral are above 2,000 USD: at most 50% of the TOTAL debt,
  // 2,000 USDC, which would leave 500 USDC, less than MIN_LEFTOVER_BASE (1,000).
  // The liquidator repays 1,500 USDC instead: 1,500 / 1,900 x 1.05 =
  // 0.82894737 ETH (1,575); left 3,175 of ETH against 2,500: HF = 3,175 x
  // 0.825 / 2,500 = 1.0477500.
  const LendingMarket market{.assets = {{0.825, 0.05, 0}, {0.78, 0.045, 0}, {0.78, 0.045, 0}}};
  LendingAccount acc{.collateral = {2.5, 0, 0}, .debt = {0, 2500, 1500}};
  const auto l = liquidation_call(market, acc, px({1900, 1, 1}));
  EXPECT_NEAR(l.health_factor_before, 0.9796875, 1e-12);
  EXPECT_EQ(l.debt_asset, 1u);
  EXPECT_NEAR(l.debt_repaid, 1500, 1e-9);
  EXPECT_NEAR(l.collateral_seized_value, 1575, 1e-9);
  EXPECT_NEAR(l.health_factor_after, 1.04775, 1e-12);
  EXPECT_NEAR(acc.debt[1], 1000, 1e-9);
}

TEST(LendingAave, ClosingBadDebtUsesEachCollateralsBonus) {
  // 1 ETH at 2000 (bonus 5%) and 0.1 WBTC at 30,000 (bonus 7.5%) against 5,000
  // USDC: closed in full they buy back 2,000 / 1.05 + 3,000 / 1.075 =
  // 1,904.7619 + 2,790.6977 = 4,695.4596: 304.5404 is never repaid.
  const LendingMarket market{.assets = {{0.825, 0.05, 0}, {0.78, 0.075, 0}, {0.78, 0.045, 0}}};
  const LendingAccount acc{.collateral = {1, 0.1, 0}, .debt = {0, 0, 5000}};
  EXPECT_NEAR(closing_bad_debt(market, acc, px({2000, 30000, 1})), 5000 - 2000 / 1.05 - 3000 / 1.075, 1e-9);
  EXPECT_EQ(closing_bad_debt(market, acc, px({4000, 30000, 1})), 0.0);
}

// ---- Along the period's log-linear path --------------------------------------

TEST(LendingAave, RepeatedLiquidationsAlongALogLinearPath) {
  // 10 ETH at 2000 against 15,000 USDC (HF 1.1), ETH -25% over the period,
  // no oracle delay. HF = 10 p 0.825 / 15,000 reaches 1 at p1 = 15,000 / 8.25
  // = 1,818.1818: 50% (HF just below 1, both reserves above 2,000), repay
  // 7,500, seize 7,500 x 1.05 / p1 = 4.33125 ETH; left 5.66875 ETH, HF after =
  // (15,000 - 7,500 x 0.825 x 1.05) / 7,500 = 1.13375. HF reaches 1 again at
  // p2 = 7,500 / (5.66875 x 0.825) = 1,603.6884: 50% again, repay 3,750, seize
  // 3,937.5 / p2 = 2.4552773 ETH; left 3.2134727 ETH against 3,750, HF 1.13375.
  // The third crossing, p3 = 3,750 / (3.2134727 x 0.825) = 1,414.49, is below
  // the end price 1,500: two calls. At the end HF = 3.2134727 x 1,500 x 0.825 /
  // 3,750 = 1.0604460; t1 = ln(2000 / p1) / ln(4/3) = 0.3313039.
  const auto market = eth_usdc();
  LendingAccount acc{.collateral = {10, 0}, .debt = {0, 15000}};
  const auto out = liquidate_on_log_path(market, acc, px({2000, 1}), px({std::log(0.75), 0.0}));
  ASSERT_EQ(out.calls.size(), 2u);
  EXPECT_NEAR(out.health_factor_start, 1.1, 1e-12);
  EXPECT_NEAR(out.calls[0].time, std::log(2000 / (15000 / 8.25)) / std::log(4.0 / 3.0), 1e-12);
  EXPECT_DOUBLE_EQ(out.calls[0].close_factor, 0.5);
  EXPECT_NEAR(out.calls[0].debt_repaid, 7500, 1e-9);
  EXPECT_NEAR(out.calls[0].collateral_seized, 4.33125, 1e-9);
  EXPECT_NEAR(out.calls[0].health_factor_after, 1.13375, 1e-9);
  EXPECT_NEAR(out.calls[1].debt_repaid, 3750, 1e-9);
  EXPECT_NEAR(out.calls[1].collateral_seized, 3937.5 / (7500 / (5.66875 * 0.825)), 1e-9);
  EXPECT_NEAR(out.calls[1].health_factor_after, 1.13375, 1e-9);
  EXPECT_NEAR(out.debt_repaid_value, 11250, 1e-6);
  EXPECT_NEAR(out.collateral_seized_value, 11812.5, 1e-6);
  EXPECT_EQ(out.bad_debt, 0.0);
  EXPECT_NEAR(acc.collateral[0], 10 - 4.33125 - 3937.5 / (7500 / (5.66875 * 0.825)), 1e-9);
  EXPECT_NEAR(out.health_factor_end, acc.collateral[0] * 1500 * 0.825 / 3750, 1e-9);
  EXPECT_NEAR(out.health_factor_end, 1.0604459765625, 1e-9);
  EXPECT_EQ(out.closing_bad_debt, 0.0);
}

TEST(LendingAave, OracleDelayOnThePathMatchesTheOneShotLiquidation) {
  // 1000 ETH at 3000 against 2,000,000 USDC, ETH -40%, the liquidation half a
  // period after HF crosses 1 (t* = 0.4171545, executed at 0.9171545): HF then
  // 1.2375 x 0.6^0.9171545 = 0.7745. 100%: 2,000,000 would need 2,100,000 of
  // ETH, worth 1,877,810.11: all of it is seized for 1,788,390.58 of debt, and
  // 211,609.42 is written off, as liquidate_on_path finds.
  const auto market = eth_usdc();
  LendingAccount acc{.collateral = {1000, 0}, .debt = {0, 2.0e6}};
  const auto out = liquidate_on_log_path(market, acc, px({3000, 1}), px({std::log(0.6), 0.0}), 0.5);
  ASSERT_EQ(out.calls.size(), 1u);
  EXPECT_NEAR(out.calls[0].time, 0.9171545152525991, 1e-12);
  EXPECT_DOUBLE_EQ(out.calls[0].close_factor, 1.0);
  EXPECT_NEAR(out.collateral_seized_value, 1877810.1072520807, 1e-6);
  EXPECT_NEAR(out.debt_repaid_value, 1877810.1072520807 / 1.05, 1e-6);
  EXPECT_NEAR(out.bad_debt, 211609.42166468524, 1e-6);
  EXPECT_TRUE(std::isinf(out.health_factor_end));
  EXPECT_EQ(out.closing_bad_debt, 0.0);
  // A 15% fall never crosses: nothing, and closing at the end would cost nothing.
  LendingAccount calm{.collateral = {1000, 0}, .debt = {0, 2.0e6}};
  const auto none = liquidate_on_log_path(market, calm, px({3000, 1}), px({std::log(0.85), 0.0}), 0.5);
  EXPECT_TRUE(none.calls.empty());
  EXPECT_NEAR(none.health_factor_end, 1.2375 * 0.85, 1e-12);
}

TEST(LendingAave, NonMonotonePathIsFoundOnTheGrid) {
  // 5 ETH at 2000 (LT 0.825) rising 150% and 1 WBTC at 20,000 (LT 0.78)
  // falling 90% against 20,000 USDC: HF = (8,250 e^{0.916 t} + 15,600
  // e^{-2.303 t}) / 20,000 is 1.1925 today, 0.899 half-way and 1.109 at the
  // end: it dips below 1 (between t = 0.1, HF 1.072, and t = 0.2, HF 0.988)
  // though both ends are above. The grid finds the dip, the bisection its start.
  const LendingMarket market{.assets = {{0.825, 0.05, 0}, {0.78, 0.075, 0}, {0.78, 0.045, 0}}};
  LendingAccount acc{.collateral = {5, 1, 0}, .debt = {0, 0, 20000}};
  const Eigen::VectorXd p0 = px({2000, 20000, 1}), x = px({std::log(2.5), std::log(0.1), 0.0});
  LendingAccount probe = acc;
  const auto out = liquidate_on_log_path(market, acc, p0, x);
  ASSERT_FALSE(out.calls.empty());
  const double t = out.calls[0].time;
  const auto prices = [&](double s) -> Eigen::VectorXd { return (p0.array() * (x.array() * s).exp()).matrix(); };
  EXPECT_GT(t, 0.1);
  EXPECT_LT(t, 0.2);
  EXPECT_LT(health_factor(market, probe, prices(t)), 1.0);
  EXPECT_GE(health_factor(market, probe, prices(t - 1e-9)), 1.0);
  EXPECT_GT(health_factor(market, probe, prices(1.0)), 1.0);
}

}  // namespace test_lending
}  // namespace ccpnet::models
