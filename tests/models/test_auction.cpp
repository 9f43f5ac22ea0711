// Close-out by hedge and auction, juniorisation of the default fund and the
// recovery tools, against hand-worked examples.
//
// Sources: SwapClear's default management process (risk neutralisation by
// hedging, then portfolio auctions; the funded default-fund contributions are
// tranched by bidding behaviour, non-participants' first); Ferrara, Li &
// Marszalec, "Central counterparty auction design", J. Financial Market
// Infrastructures 8(2), 2019/2020 (bidders' capacity limits what they take of
// a large portfolio; penalties such as juniorisation on poor bidders); Huang &
// Zhu, "CCP auction design", J. Economic Theory 2024 (juniorisation: the
// prefunded cash of members with bad bids is used first); CPMI-IOSCO,
// "Recovery of financial market infrastructures" (2014, rev. 2017), section 4
// (cash calls; forced allocation and tear-up to re-establish a matched book).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "models/waterfall/auction.hpp"
#include "models/waterfall/recovery.hpp"
#include "models/waterfall/waterfall.hpp"

namespace ccpnet::models {
namespace test_auction {

// Terms: hedge 1%, d(x) = 0.02 + 0.04 sqrt(x / 2500), reserve 6%.
const AuctionTerms kTerms{
    .hedge_cost = 0.01, .base_discount = 0.02, .slope = 0.04, .exponent = 0.5, .depth = 2500, .reserve_discount = 0.06};

TEST(Auction, ASmallPortfolioIsPlacedWholeAtItsDiscount) {
  // V = 400: d = 0.02 + 0.04 sqrt(400 / 2500) = 0.02 + 0.04 x 0.4 = 0.036
  // <= 0.06: all placed, cost 0.036 x 400 = 14.4; hedge 0.01 x 400 = 4.
  const AuctionResult r = auction_close_out(kTerms, 400);
  EXPECT_NEAR(auction_discount(kTerms, 400), 0.036, 1e-15);
  EXPECT_DOUBLE_EQ(r.sold, 400);
  EXPECT_NEAR(r.auction_cost, 14.4, 1e-12);
  EXPECT_NEAR(r.hedge_cost, 4, 1e-12);
  EXPECT_EQ(r.unsold, 0.0);
  EXPECT_NEAR(r.cost(), 18.4, 1e-12);
}

TEST(Auction, BeyondTheReserveTheBiddersTakeWhatTheirDepthAllowsAndTheRestIsUnplaced) {
  // V = 10,000: d(V) = 0.02 + 0.04 sqrt(4) = 0.10 > 0.06. Bidders take x*
  // with d(x*) = 0.06: x* = 2500 ((0.06 - 0.02) / 0.04)^2 = 2500 at cost
  // 0.06 x 2500 = 150; unplaced 7500 at the reserve, 0.06 x 7500 = 450;
  // hedge 100. Cost 700.
  const AuctionResult r = auction_close_out(kTerms, 10000);
  EXPECT_NEAR(r.sold, 2500, 1e-9);
  EXPECT_NEAR(r.auction_cost, 150, 1e-9);
  EXPECT_NEAR(r.unsold, 7500, 1e-9);
  EXPECT_NEAR(r.unsold_cost, 450, 1e-9);
  EXPECT_NEAR(r.cost(), 700, 1e-9);
  // The cost per unit of value never falls with size (a larger portfolio is
  // no cheaper to close out), and a reserve at or below the base places nothing.
  double last = 0.0;
  for (double v = 100; v < 1e6; v *= 1.7) {
    const double unit = auction_close_out(kTerms, v).cost() / v;
    EXPECT_GE(unit, last - 1e-15);
    last = unit;
  }
  AuctionTerms none = kTerms;
  none.reserve_discount = 0.02;
  EXPECT_EQ(auction_close_out(none, 10000).sold, 0.0);
  EXPECT_NEAR(auction_close_out(none, 10000).unsold_cost, 200, 1e-12);
}

// Books a CCP auctions the same day share the bidders' depth (Ferrara, Li &
// Marszalec 2020: the surviving members' capacity to absorb risk limits what
// they bid; it is not renewed for each portfolio of the day). Two books of
// 5,000 with kTerms: alone each is placed at cost 0.06 x 2500 + 0.06 x 2500 +
// hedge 50 = 350 (d(5000) = 0.02 + 0.04 sqrt(2) = 0.0766 > 0.06: x* = 2500).
// Together they are one book of 10,000 (cost 700 above): the first adds 350,
// the second 350 more, all of it unplaced (x* is taken): 300 at the reserve
// and its hedge 50.
TEST(Auction, BooksAuctionedTheSameDayShareTheBiddersDepth) {
  const AuctionResult first = auction_increment(kTerms, 0.0, 5000);
  const AuctionResult second = auction_increment(kTerms, 5000, 5000);
  EXPECT_NEAR(first.cost(), 350, 1e-9);
  EXPECT_NEAR(first.sold, 2500, 1e-9);
  EXPECT_NEAR(second.sold, 0.0, 1e-9);
  EXPECT_NEAR(second.unsold, 5000, 1e-9);
  EXPECT_NEAR(second.cost(), 350, 1e-9);
  // A small book after a small one: d rises with the day's total, so the
  // second pays more than it would alone (V = 400 alone: 18.4).
  const AuctionResult small = auction_increment(kTerms, 400, 400);
  const double joint = auction_close_out(kTerms, 800).cost();  // 8 + (0.02 + 0.04 sqrt(0.32)) 800
  EXPECT_NEAR(joint, 8 + (0.02 + 0.04 * std::sqrt(0.32)) * 800, 1e-9);
  EXPECT_NEAR(small.cost(), joint - 18.4, 1e-9);
  EXPECT_GT(small.cost(), 18.4);
  // Whatever the grouping, the day's books cost the auction of their sum.
  for (const double a : {100.0, 1000.0, 3000.0, 20000.0})
    for (const double b : {50.0, 2000.0, 9000.0})
      EXPECT_NEAR(auction_increment(kTerms, 0.0, a).cost() + auction_increment(kTerms, a, b).cost(),
                  auction_close_out(kTerms, a + b).cost(), 1e-9 * (a + b));
  // A book's part of a joint auction: its figures pro rata.
  const AuctionResult part = scaled(auction_close_out(kTerms, 10000), 0.25);
  EXPECT_NEAR(part.value, 2500, 1e-9);
  EXPECT_NEAR(part.cost(), 175, 1e-9);
}

// Two survivors: B bids (DF 300), J does not (DF 100, junior).
std::vector<Survivor> bidders(bool juniorise) {
  std::vector<Survivor> s(2);
  s[0].df = 300;
  s[1].df = 100;
  s[1].junior = juniorise;
  return s;
}

TEST(Juniorisation, TheNonBiddersContributionIsUsedFirst) {
  // A loss of 100 left for the mutualised fund: juniorised, J's 100 pays it
  // all and B's 300 is untouched; otherwise pro rata 300 : 100 -> 75 and 25.
  const std::vector<Layer> layers{Layer::kMutualizedDf};
  for (const bool juniorise : {true, false}) {
    std::vector<Survivor> s = bidders(juniorise);
    std::vector<Defaulter> d{{.loss = 100}};
    CcpResources ccp;
    const WaterfallOutcome o = run_waterfall(layers, d, s, ccp);
    EXPECT_NEAR(o.by_layer[static_cast<std::size_t>(Layer::kMutualizedDf)], 100, 1e-12);
    EXPECT_NEAR(s[0].df_charged, juniorise ? 0 : 75, 1e-12);
    EXPECT_NEAR(s[1].df_charged, juniorise ? 100 : 25, 1e-12);
  }
  // A loss of 250: J's 100, then B's 150 of its 300 (J has nothing left).
  std::vector<Survivor> s = bidders(true);
  std::vector<Defaulter> d{{.loss = 250}};
  CcpResources ccp;
  run_waterfall(layers, d, s, ccp);
  EXPECT_NEAR(s[1].df_charged, 100, 1e-12);
  EXPECT_NEAR(s[0].df_charged, 150, 1e-12);
}

// Survivors for the recovery tools: B (cap 150, gain 1200, DF 300) and J
// (cap 50, gain 800, DF 100), both with ample cash.
std::vector<Survivor> recovering(double cash_j = 1e9) {
  std::vector<Survivor> s(2);
  s[0] = {.cash = 1e9, .vm_gain = 1200, .cash_call_cap = 150, .tear_up_gain = 1200, .allocation_weight = 300};
  s[1] = {.cash = cash_j, .vm_gain = 800, .cash_call_cap = 50, .tear_up_gain = 800, .allocation_weight = 100};
  return s;
}

// Tear-up takes the gains on the positions it terminates, not other gains:
// a third survivor gaining 1,000 on positions not opposite the unplaced book
// (tear_up_gain 0) loses nothing, and one with 900 of its 1,000 opposite
// loses at most the 900, within its VM gain left (here 600 after an earlier
// haircut). Need 500 from 1,200 + 800 + 600: rate 500 / 2,600.
TEST(Recovery, TearUpTakesOnlyTheGainsOnThePositionsItTerminates) {
  std::vector<Survivor> s = recovering();
  s.push_back({.vm_gain = 1000, .tear_up_gain = 0});
  s.push_back({.vm_gain = 600, .tear_up_gain = 900});
  const RecoveryOutcome o = run_recovery(std::vector<RecoveryTool>{RecoveryTool::kTearUp}, 500, 1950, s);
  EXPECT_NEAR(o.by_tool[1], 500, 1e-12);
  const double rate = 500.0 / 2600.0;
  EXPECT_NEAR(s[0].tear_up_charged, 1200 * rate, 1e-12);
  EXPECT_NEAR(s[1].tear_up_charged, 800 * rate, 1e-12);
  EXPECT_EQ(s[2].tear_up_charged, 0.0);
  EXPECT_EQ(s[2].vm_gain, 1000.0);
  EXPECT_NEAR(s[3].tear_up_charged, 600 * rate, 1e-12);
  EXPECT_NEAR(s[3].vm_gain, 600 * (1 - rate), 1e-12);
}

TEST(Recovery, ToolsRunInTheRulebooksOrderOnWhatTheLayersLeft) {
  using T = RecoveryTool;
  // Residual 700, unplaced book's loss 1950. Cash call: caps 150 + 50 = 200
  // -> 500; tear-up: min(500, 1950) from gains 1200 : 800 -> 300 and 200.
  std::vector<Survivor> s = recovering();
  const std::vector<T> order{T::kCashCall, T::kTearUp, T::kForcedAllocation};
  RecoveryOutcome o = run_recovery(order, 700, 1950, s);
  EXPECT_NEAR(o.by_tool[0], 200, 1e-12);
  EXPECT_NEAR(o.by_tool[1], 500, 1e-12);
  EXPECT_EQ(o.by_tool[2], 0.0);
  EXPECT_EQ(o.uncovered, 0.0);
  EXPECT_NEAR(s[0].tear_up_charged, 300, 1e-12);
  EXPECT_NEAR(s[1].tear_up_charged, 200, 1e-12);
  EXPECT_NEAR(s[0].vm_gain, 900, 1e-12);
  // Forced allocation first: 700 of the book's 1950, by DF 300 : 100 -> 525, 175.
  s = recovering();
  o = run_recovery(std::vector<T>{T::kForcedAllocation, T::kTearUp}, 700, 1950, s);
  EXPECT_NEAR(o.by_tool[2], 700, 1e-12);
  EXPECT_NEAR(s[0].allocation_charged, 525, 1e-12);
  EXPECT_NEAR(s[1].allocation_charged, 175, 1e-12);
  // The matched-book tools cover only the unplaced book's loss: with 300 of
  // it, tear-up takes 300 and forced allocation nothing more; 400 left.
  s = recovering();
  o = run_recovery(std::vector<T>{T::kTearUp, T::kForcedAllocation}, 700, 300, s);
  EXPECT_NEAR(o.by_tool[1], 300, 1e-12);
  EXPECT_EQ(o.by_tool[2], 0.0);
  EXPECT_NEAR(o.uncovered, 400, 1e-12);
  // A cash call a member cannot pay: J has 20 of its 50; it missed the call.
  s = recovering(20);
  o = run_recovery(std::vector<T>{T::kCashCall}, 700, 0, s);
  EXPECT_NEAR(o.by_tool[0], 170, 1e-12);
  EXPECT_NEAR(s[1].cash_call_unpaid, 30, 1e-12);
  EXPECT_TRUE(s[1].missed_call);
  EXPECT_NEAR(o.uncovered, 530, 1e-12);
}

}  // namespace test_auction
}  // namespace ccpnet::models
