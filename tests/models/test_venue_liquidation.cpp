// The liquidation engine of a crypto venue (models/waterfall/venue_liquidation).
// Source: BitMEX, "Liquidation" and "Insurance Fund" (an account whose margin
// falls below maintenance is taken over and closed in the market; what the
// close leaves above the bankruptcy price goes to the insurance fund, a close
// below it is paid by the fund; ADL when the fund is spent); the impact cost
// is models' square-root law k V sqrt(V / ADV).
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "models/waterfall/venue_liquidation.hpp"

namespace ccpnet::models {
namespace test_venue_liquidation {

// One market: ADV 91,000, k = 0.05. A position of 10 contracts at mark 91 is
// worth V = 910, sqrt(910 / 91,000) = 0.1, cost = 0.05 x 910 x 0.1 = 4.55.
constexpr VenueMarket kMarket{91000, 0.05};

// Long 10 from 100 with margin 100 (10x), mark 91, maintenance 2% x 910 = 18.2:
// equity 100 - 90 = 10 < 18.2, liquidated with equity still positive.
// Bankruptcy price 100 - 100 / 10 = 90; execution 91 - 4.55 / 10 = 90.545;
// surplus 10 x (90.545 - 90) = 10 - 4.55 = 5.45.
constexpr VenuePosition kLongSurplus{Side::kLong, 10, 100, 91, 100, 18.2};
// Short 10 from 82 with margin 82, mark 91: equity 82 - 90 = -8 (< 18.2).
// Bankruptcy price 82 + 82 / 10 = 90.2; execution 91 + 0.455 = 91.455;
// shortfall 10 x (91.455 - 90.2) = 8 + 4.55 = 12.55.
constexpr VenuePosition kShortShortfall{Side::kShort, 10, 82, 91, 82, 18.2};
// Long 10 from 100 with margin 100 at mark 99: equity 90 >= 19.8, left alone.
constexpr VenuePosition kHealthy{Side::kLong, 10, 100, 99, 100, 19.8};

TEST(VenueLiquidation, MaintenanceBreachAndTheCloseOut) {
  EXPECT_DOUBLE_EQ(venue_equity(kLongSurplus), 10);
  EXPECT_DOUBLE_EQ(venue_bankruptcy_price(kLongSurplus), 90);
  EXPECT_TRUE(maintenance_breached(kLongSurplus));
  EXPECT_FALSE(maintenance_breached(kHealthy));
  EXPECT_NEAR(venue_impact_cost(kLongSurplus, kMarket), 4.55, 1e-12);
  auto c = venue_close_out(kLongSurplus, kMarket);
  EXPECT_TRUE(c.liquidated);
  EXPECT_NEAR(c.execution_price, 90.545, 1e-12);
  EXPECT_NEAR(c.surplus, 5.45, 1e-12);
  EXPECT_EQ(c.shortfall, 0.0);
  c = venue_close_out(kShortShortfall, kMarket);
  EXPECT_DOUBLE_EQ(c.bankruptcy_price, 90.2);
  EXPECT_NEAR(c.execution_price, 91.455, 1e-12);
  EXPECT_NEAR(c.shortfall, 12.55, 1e-12);
  EXPECT_EQ(c.surplus, 0.0);
  EXPECT_FALSE(venue_close_out(kHealthy, kMarket).liquidated);
}

TEST(VenueLiquidation, ACrossMarginedAccountIsClosedWhole) {
  // Margin 500 behind two contracts, P&L -450 at the marks, maintenance 100,
  // closing both costs 30: equity 50 < 100, the close leaves 50 - 30 = 20 to
  // the fund. With P&L -490 the equity 10 is short of the cost by 20.
  auto c = venue_account_close_out(500, -450, 100, 30);
  EXPECT_TRUE(c.liquidated);
  EXPECT_DOUBLE_EQ(c.equity, 50);
  EXPECT_DOUBLE_EQ(c.surplus, 20);
  EXPECT_EQ(c.shortfall, 0.0);
  EXPECT_EQ(c.bankruptcy_price, 0.0);
  c = venue_account_close_out(500, -490, 100, 30);
  EXPECT_DOUBLE_EQ(c.shortfall, 20);
  EXPECT_FALSE(venue_account_close_out(500, -300, 100, 30).liquidated);
  // One contract: the same numbers as the position's close.
  const auto p = venue_close_out(kShortShortfall, kMarket);
  const auto a = venue_account_close_out(82, -90, 18.2, venue_impact_cost(kShortShortfall, kMarket));
  EXPECT_NEAR(a.shortfall, p.shortfall, 1e-12);
}

TEST(VenueLiquidation, InsuranceFundOverASequenceThenAdl) {
  // USD fund 4.59: +5.45 (surplus) = 10.04; the healthy account is left
  // alone; the short's shortfall 12.55: the fund pays 10.04, 2.51 is left,
  // 2.51 / 12.55 = 20% of the 10 contracts = 2 contracts to ADL at 90.2.
  InsuranceFund fund{4.59, 1.0};
  const std::vector<VenueLiquidationStep> steps{{kLongSurplus}, {kHealthy}, {kShortShortfall}};
  const auto r = process_venue_liquidations(steps, kMarket, fund);
  ASSERT_EQ(r.steps.size(), 3u);
  EXPECT_NEAR(r.steps[0].fund_after, 10.04, 1e-12);
  EXPECT_FALSE(r.steps[1].liquidated);
  EXPECT_NEAR(r.steps[1].fund_after, 10.04, 1e-12);
  EXPECT_NEAR(r.steps[2].fund_paid, 10.04, 1e-12);
  EXPECT_NEAR(r.steps[2].uncovered, 2.51, 1e-12);
  EXPECT_NEAR(r.steps[2].adl_quantity, 2.0, 1e-12);
  EXPECT_DOUBLE_EQ(r.steps[2].bankruptcy_price, 90.2);
  EXPECT_NEAR(fund.value(), 0.0, 1e-12);
  EXPECT_NEAR(r.fund_end - r.fund_start, r.surpluses - r.fund_paid + r.revaluation, 1e-12);
  // A fund large enough: no ADL, the short's shortfall paid in full.
  InsuranceFund big{100, 1.0};
  const auto b = process_venue_liquidations(steps, kMarket, big);
  EXPECT_NEAR(big.value(), 100 + 5.45 - 12.55, 1e-12);
  EXPECT_EQ(b.adl_quantity, 0.0);
}

TEST(VenueLiquidation, FundHeldInACryptoAsset) {
  // 2 units at 5 (value 10). The surplus 5.45 buys 1.09 units: 3.09 units,
  // 15.45. The asset then falls 20%: price 4, value 12.36 (revaluation
  // -3.09). The shortfall 12.55: the fund pays 12.36, 0.19 is left, 10 x
  // 0.19 / 12.55 = 0.1513944 contracts to ADL.
  InsuranceFund fund{2, 5};
  const std::vector<VenueLiquidationStep> steps{{kLongSurplus, 0.0}, {kShortShortfall, -0.2}};
  const auto r = process_venue_liquidations(steps, kMarket, fund);
  EXPECT_NEAR(r.steps[0].fund_after, 15.45, 1e-12);
  EXPECT_NEAR(r.revaluation, -3.09, 1e-12);
  EXPECT_NEAR(r.steps[1].fund_paid, 12.36, 1e-12);
  EXPECT_NEAR(r.steps[1].adl_quantity, 1.9 / 12.55, 1e-12);
  EXPECT_DOUBLE_EQ(fund.price, 4.0);
  EXPECT_NEAR(fund.value(), 0.0, 1e-12);
  // 0 - 10 = 5.45 - 12.36 - 3.09.
  EXPECT_NEAR(r.fund_end - r.fund_start, r.surpluses - r.fund_paid + r.revaluation, 1e-12);
}

TEST(VenueLiquidation, PropertyTheFundConserves) {
  std::mt19937_64 gen(7);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int trial = 0; trial < 100; ++trial) {
    std::vector<VenueLiquidationStep> steps(10);
    for (auto& s : steps) {
      const double entry = 100, mark = 80 + 40 * u(gen), q = 1 + 20 * u(gen);
      s.position = {
          u(gen) < 0.5 ? Side::kLong : Side::kShort, q, entry, mark, q * entry * 0.05 * (1 + u(gen)), 0.02 * q * mark};
      s.fund_asset_return = trial % 2 ? 0.2 * (u(gen) - 0.5) : 0.0;
    }
    InsuranceFund fund{trial % 3 == 0 ? 1e6 : 50 * u(gen), 1.0};
    const auto r = process_venue_liquidations(steps, kMarket, fund);
    EXPECT_NEAR(r.fund_end - r.fund_start, r.surpluses - r.fund_paid + r.revaluation, 1e-9);
    double shortfalls = 0.0;
    for (const auto& l : r.steps) shortfalls += l.shortfall;
    EXPECT_NEAR(r.fund_paid + r.uncovered, shortfalls, 1e-9);
    if (trial % 3 == 0 && trial % 2 == 0) {  // a fund never spent, in USD: change = surpluses - shortfalls
      EXPECT_NEAR(r.fund_end - r.fund_start, r.surpluses - shortfalls, 1e-6);
    }
  }
}

}  // namespace test_venue_liquidation
}  // namespace ccpnet::models
