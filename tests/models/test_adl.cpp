// Auto-deleveraging by quantity at the bankruptcy price (models/waterfall/adl).
// Source: BitMEX, "Auto-Deleveraging" and "Auto-Deleveraging Further
// Information" (bitmex.com/app/autoDeleveraging, .../autoDeleveragingExamples):
// opposing positions are closed at the bankruptcy price of the liquidated
// order, in ranking order, each up to its size; ranking = PnL% x effective
// leverage (PnL% > 0) or PnL% / effective leverage (otherwise), with
// effective leverage = |mark value| / (mark value - bankrupt value) and
// PnL% = (mark value - avg entry value) / |avg entry value|.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "models/waterfall/adl.hpp"
#include "models/waterfall/waterfall.hpp"

namespace ccpnet::models {
namespace test_adl {

// Five shorts against a liquidated long of 55 contracts with bankruptcy price
// 104; the mark is 100 (it has crossed the bankruptcy price).
//        q   entry  margin  P&L = q(E-100)  PnL% = P&L/(qE)  equity  lev = 100q/equity  BitMEX score
//   A   10   125    250      250            0.2              500     2                  0.4
//   B   20   120    200      400            1/6              600     10/3               5/9 = 0.5556
//   C   30   110    100      300            1/11             400     7.5                7.5/11 = 0.6818
//   D   25   100    500        0            0                500     5                  0
//   E   15    90    300     -150            -1/9             150     10                 -1/90
std::vector<AdlAccount> five_shorts() {
  return {{10, 125, 100, 250}, {20, 120, 100, 200}, {30, 110, 100, 100}, {25, 100, 100, 500}, {15, 90, 100, 300}};
}
constexpr AdlPosition kLong55{Side::kLong, 55, 104};

TEST(Adl, RankingOnEntryAndMarkValues) {
  const auto a = five_shorts();
  // B in BitMEX's signed values: mark value -2000, entry value -2400, its own
  // bankruptcy price 120 + 200 / 20 = 130, bankrupt value -2600:
  // PnL% = (-2000 + 2400) / 2400 = 1/6; effective leverage = 2000 / (-2000 + 2600) = 10/3.
  EXPECT_DOUBLE_EQ(adl_unrealised_pnl(Side::kShort, a[1]), 400);
  EXPECT_DOUBLE_EQ(adl_pnl_percent(Side::kShort, a[1]), 1.0 / 6);
  EXPECT_DOUBLE_EQ(adl_effective_leverage(Side::kShort, a[1]), 10.0 / 3);
  const double expected[] = {0.4, 5.0 / 9, 7.5 / 11, 0.0, -1.0 / 90};
  for (std::size_t i = 0; i < a.size(); ++i)
    EXPECT_NEAR(adl_priority(Side::kShort, a[i]), expected[i], 1e-12) << i;  // scores to ~12 digits
  // A long: 2 contracts from 50, mark 60, margin 20. Mark value 120, entry
  // value 100, bankruptcy price 50 - 20 / 2 = 40, bankrupt value 80:
  // PnL% = 20 / 100 = 0.2, effective leverage = 120 / (120 - 80) = 3, score 0.6.
  const AdlAccount lng{2, 50, 60, 20};
  EXPECT_DOUBLE_EQ(adl_pnl_percent(Side::kLong, lng), 0.2);
  EXPECT_DOUBLE_EQ(adl_effective_leverage(Side::kLong, lng), 3.0);
  EXPECT_NEAR(adl_priority(Side::kLong, lng), 0.6, 1e-12);
  EXPECT_NEAR(adl_priority(Side::kLong, lng, AdlRanking::kPnl), 0.2, 1e-12);
  EXPECT_NEAR(adl_priority(Side::kLong, lng, AdlRanking::kLeverage), 3.0, 1e-12);
  // Same PnL% and leverage at three times the size: a tie, whatever the rounding.
  const AdlAccount big{6, 50, 60, 60};
  EXPECT_EQ(adl_priority(Side::kLong, big), adl_priority(Side::kLong, lng));
  // Names of the rankings.
  EXPECT_EQ(adl_ranking_from_name("bitmex"), AdlRanking::kBitmex);
  EXPECT_EQ(adl_ranking_from_name("leverage"), AdlRanking::kLeverage);
  EXPECT_FALSE(adl_ranking_from_name("size").has_value());
  EXPECT_EQ(adl_ranking_name(AdlRanking::kPnl), "pnl");
}

TEST(Adl, FiveAccountsInBitmexOrderWithAPartialLast) {
  // Order C (0.68), B (0.56), A (0.4), D (0), E (-0.011). 55 contracts: C
  // closes 30, B 20, A the last 5 of its 10; each gives up 104 - 100 = 4 per
  // contract against the mark: 120, 80, 20; total 220 = 55 x 4, what the
  // liquidated long lacks at the mark.
  const auto r = deleverage(kLong55, five_shorts());
  const int rank[] = {3, 2, 1, 4, 5};
  const double qty[] = {5, 20, 30, 0, 0}, left[] = {5, 0, 0, 25, 15}, loss[] = {20, 80, 120, 0, 0};
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(r.fills[i].rank, rank[i]) << i;
    EXPECT_DOUBLE_EQ(r.fills[i].quantity, qty[i]) << i;
    EXPECT_DOUBLE_EQ(r.fills[i].remaining, left[i]) << i;
    EXPECT_DOUBLE_EQ(r.fills[i].loss_vs_mark, loss[i]) << i;
    EXPECT_DOUBLE_EQ(r.fills[i].price, 104) << i;
  }
  EXPECT_DOUBLE_EQ(r.closed, 55);
  EXPECT_DOUBLE_EQ(r.unfilled, 0);
  EXPECT_DOUBLE_EQ(r.loss_vs_mark, 220);
}

TEST(Adl, TheRankingIsAChoice) {
  // By PnL%: A (0.2), B (1/6), C (1/11), D, E: A 10, B 20, C 25 of 30.
  auto r = deleverage(kLong55, five_shorts(), AdlRanking::kPnl);
  EXPECT_EQ(r.fills[0].rank, 1);
  EXPECT_DOUBLE_EQ(r.fills[0].quantity, 10);
  EXPECT_DOUBLE_EQ(r.fills[1].quantity, 20);
  EXPECT_DOUBLE_EQ(r.fills[2].quantity, 25);
  EXPECT_DOUBLE_EQ(r.fills[2].remaining, 5);
  // By effective leverage: E (10), C (7.5), D (5), B (10/3), A (2): E 15, C 30, D 10 of 25.
  r = deleverage(kLong55, five_shorts(), AdlRanking::kLeverage);
  EXPECT_EQ(r.fills[4].rank, 1);
  EXPECT_DOUBLE_EQ(r.fills[4].quantity, 15);
  EXPECT_DOUBLE_EQ(r.fills[4].loss_vs_mark, 60);  // a losing short closed at 104 too
  EXPECT_DOUBLE_EQ(r.fills[2].quantity, 30);
  EXPECT_DOUBLE_EQ(r.fills[3].quantity, 10);
  EXPECT_DOUBLE_EQ(r.fills[3].remaining, 15);
  EXPECT_DOUBLE_EQ(r.fills[1].quantity + r.fills[0].quantity, 0);
}

TEST(Adl, BitmexDocumentationExample) {
  // BitMEX's example: six longs, quantities 10, 10, 20, 30, 20, 10 with PnL
  // rankings 3, 6, 1, 4, 5, 2; a short of 20 contracts is liquidated at the
  // bankruptcy price 650: account 2 is closed in full (10), account 5 for the
  // other 10 and keeps 10. With the mark at 660, each long sells at 650, 10
  // below the mark: 100 each.
  const std::vector<AdlAccount> longs{{10, 600, 660, 60}, {10, 600, 660, 60}, {20, 600, 660, 60},
                                      {30, 600, 660, 60}, {20, 600, 660, 60}, {10, 600, 660, 60}};
  const std::vector<double> ranking{3, 6, 1, 4, 5, 2};
  const auto r = deleverage({Side::kShort, 20, 650}, longs, ranking);
  EXPECT_DOUBLE_EQ(r.fills[1].quantity, 10);
  EXPECT_DOUBLE_EQ(r.fills[4].quantity, 10);
  EXPECT_DOUBLE_EQ(r.fills[4].remaining, 10);
  EXPECT_DOUBLE_EQ(r.fills[1].loss_vs_mark, 100);
  EXPECT_DOUBLE_EQ(r.fills[4].loss_vs_mark, 100);
  EXPECT_EQ(r.fills[1].rank, 1);
  EXPECT_EQ(r.fills[4].rank, 2);
  EXPECT_EQ(r.fills[2].rank, 6);
  EXPECT_DOUBLE_EQ(r.closed, 20);
  // More than the whole opposite side (100 contracts): 20 are left unfilled.
  const auto all = deleverage({Side::kShort, 120, 650}, longs, ranking);
  EXPECT_DOUBLE_EQ(all.closed, 100);
  EXPECT_DOUBLE_EQ(all.unfilled, 20);
}

TEST(Adl, PropertyClosedIsTheSmallerSideAndRankOrderIsKept) {
  std::mt19937_64 gen(15);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<AdlAccount> acc(1 + trial % 7);
    double total = 0.0;
    for (auto& a : acc) {
      a = {trial % 5 == 0 ? 0.0 : 50 * u(gen), 80 + 40 * u(gen), 100, 1 + 200 * u(gen)};
      total += a.quantity;
    }
    const AdlPosition p{Side::kLong, 150 * u(gen), 100 + 10 * u(gen)};
    const auto r = deleverage(p, acc);
    EXPECT_NEAR(r.closed, std::min(p.quantity, total), 1e-9);
    EXPECT_NEAR(r.loss_vs_mark, r.closed * (p.bankruptcy_price - 100), 1e-9);
    // A lower-ranked account gets contracts only when every higher one is closed in full.
    for (const auto& hi : r.fills)
      for (const auto& lo : r.fills)
        if (hi.rank > 0 && lo.rank > hi.rank && lo.quantity > 0) {
          EXPECT_EQ(hi.remaining, 0.0);
        }
  }
}

TEST(Adl, WaterfallLayerChargesOnlyTheGainBeyondTheBankruptcyPrice) {
  // The defaulter: loss 300 against IM 50; insurance fund 30 -> 220 left for
  // ADL. The five shorts as survivors, closed at 104 with the mark at 100:
  // 4 per contract, 220 / 4 = 55 contracts, the fills above: C 120 (30
  // contracts), B 80 (20), A 20 (5 of 10). Under the old rule (whole gains)
  // C alone would have given 220 of its 300.
  const auto shorts = five_shorts();
  std::vector<Survivor> s(shorts.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    s[i].adl_quantity = shorts[i].quantity;
    s[i].adl_entry_price = shorts[i].entry_price;
    s[i].adl_mark_price = 100;
    s[i].adl_bankruptcy_price = 104;
    s[i].adl_gain = 1e9;  // not used by ADL by quantity
    s[i].adl_rank = adl_priority(Side::kShort, shorts[i]);
  }
  std::vector<Defaulter> d(1);
  d[0].loss = 300;
  d[0].im = 50;
  CcpResources ccp{.insurance_fund = 30};
  const Layer layers[] = {Layer::kDefaulterIm, Layer::kInsuranceFund, Layer::kAdl};
  const auto o = run_waterfall(layers, d, s, ccp);
  EXPECT_DOUBLE_EQ(o.by_layer[static_cast<std::size_t>(Layer::kAdl)], 220);
  EXPECT_NEAR(o.uncovered, 0.0, 1e-12);
  const auto fills = deleverage(kLong55, shorts);
  for (std::size_t i = 0; i < s.size(); ++i) {
    EXPECT_NEAR(s[i].adl_charged, fills.fills[i].loss_vs_mark, 1e-12) << i;
    EXPECT_NEAR(s[i].adl_closed, fills.fills[i].quantity, 1e-12) << i;
    EXPECT_NEAR(s[i].adl_quantity, fills.fills[i].remaining, 1e-12) << i;
  }
}

}  // namespace test_adl
}  // namespace ccpnet::models
