// Default management through the YAML engine: close-out by hedge and auction
// (ccps[].auction), juniorisation of the default fund and the recovery tools
// after the last layer (ccps[].recovery), worked by hand.
//
// SwapClear's default management process hedges the defaulter's portfolio,
// then auctions it; losses beyond the defaulter's resources are attributed to
// the members' funded contributions in tranches by bidding behaviour,
// non-participants first (LCH, "SwapClear default management"; CME and ICE
// Clear Europe tranche theirs likewise). Ferrara, Li & Marszalec (J.
// Financial Market Infrastructures 8(2), 2019/2020): bidders' capacity limits
// what they take of a large portfolio. CPMI-IOSCO, "Recovery of financial
// market infrastructures" (2014, rev. 2017), section 4: cash calls allocate
// uncovered losses; forced allocation and tear-up re-establish a matched book;
// Regulation (EU) 2021/23 art. 9 and Annex: the recovery plan sets them out.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <utility>

#include "sim/config/load.hpp"
#include "sim/model.hpp"
#include "sim/runner.hpp"
#include "sim/stress.hpp"
#include "tests/sim/auction_case.hpp"

namespace ccpnet {
namespace test_default_management {

using test_cases::kAuction;

Model model_of(std::string_view yaml, std::vector<config::Override> overrides = {}) {
  return build_model(config::load_scenario_text(yaml, "t.yaml", std::move(overrides)));
}

ScenarioResult crash(const Model& model, CascadeTrace* trace = nullptr) {
  return run_move(model, stress_move(model, model.stress_scenarios[0]), trace);
}

double layer(const ScenarioResult& r, models::Layer l) { return r.ccp_layers[static_cast<std::size_t>(l)]; }
double tool(const ScenarioResult& r, models::RecoveryTool t) { return r.ccp_recovery[static_cast<std::size_t>(t)]; }

double channel_total(const ScenarioResult& r, int account, LossChannel channel) {
  double sum = 0.0;
  for (const AccountLoss& l : r.account_losses)
    if (l.account == account && l.channel == channel) sum += l.amount;
  return sum;
}

TEST(DefaultManagement, AnAuctionBeyondItsDepthLeavesABookThatTheRecoveryToolsPlace) {
  using L = models::Layer;
  using T = models::RecoveryTool;
  const Model model = model_of(kAuction);
  EXPECT_FALSE(model.accounts[static_cast<std::size_t>(model.members[2].accounts[0])].bids);  // J
  EXPECT_TRUE(model.accounts[static_cast<std::size_t>(model.members[1].accounts[0])].bids);   // B
  CascadeTrace trace;
  const ScenarioResult r = crash(model, &trace);
  EXPECT_NEAR(r.closeout_loss, 2700, 1e-9);
  EXPECT_NEAR(r.ccp_auction_cost[0], 700, 1e-9);
  EXPECT_NEAR(r.ccp_unplaced[0], 7500, 1e-9);
  EXPECT_NEAR(layer(r, L::kMutualizedDf), 400, 1e-9);
  EXPECT_NEAR(layer(r, L::kAssessments), 400, 1e-9);
  EXPECT_NEAR(tool(r, T::kCashCall), 200, 1e-9);
  EXPECT_NEAR(tool(r, T::kTearUp), 500, 1e-9);
  EXPECT_EQ(tool(r, T::kForcedAllocation), 0.0);
  EXPECT_EQ(r.ccp_failures(), 0);
  EXPECT_EQ(r.uncovered, 0.0);
  EXPECT_NEAR(r.total_loss, 2700 - 1100, 1e-9);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
  const int b = model.members[1].accounts[0], j = model.members[2].accounts[0];
  EXPECT_NEAR(channel_total(r, b, LossChannel::kCashCall), 150, 1e-9);
  EXPECT_NEAR(channel_total(r, j, LossChannel::kCashCall), 50, 1e-9);
  EXPECT_NEAR(channel_total(r, b, LossChannel::kTearUp), 300, 1e-9);
  EXPECT_NEAR(channel_total(r, j, LossChannel::kTearUp), 200, 1e-9);
  ASSERT_FALSE(trace.events.empty());
  EXPECT_NEAR(trace.events[0].recovery[static_cast<std::size_t>(T::kTearUp)], 500, 1e-9);
  EXPECT_NEAR(trace.events[0].uncovered, 0.0, 1e-9);
}

// Partial tear-up terminates the positions opposite the book the auction did
// not place, not every gain (CPMI-IOSCO, Recovery of financial market
// infrastructures, 2014 rev. 2017, 4.5: tear-up of the positions that offset
// the defaulter's unmatched book). kAuction with K long 50 Y against L
// short 50 Y; Y rises 20% (K gains 1,000; neither contributes to the fund,
// so no layer or other tool charges them). The unplaced book is 75% of D's long 100 X: 75 X, opposite B's short
// 60 and J's short 40 (torn up 75%). B's gain on its torn contracts is
// 1,200 x 0.75 = 900, J's 800 x 0.75 = 600; K holds nothing opposite. The
// tear-up's 500: B 500 x 900 / 1,500 = 300, J 200 (as in kAuction), K 0 (a
// pro-rata haircut of all gains would have taken 500 x 1,000 / 3,000 = 167
// of K's).
TEST(DefaultManagement, TearUpTakesOnlyTheGainsOfThePositionsOppositeTheUnplacedBook) {
  std::string yaml(kAuction);
  const auto edit = [&yaml](std::string_view from, std::string_view to) {
    const auto at = yaml.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    yaml.replace(at, from.size(), to);
  };
  edit("assets: [{id: X, price: 100, volatility: 0.5}]",
       "assets: [{id: X, price: 100, volatility: 0.5}, {id: Y, price: 100, volatility: 0.5}]");
  edit("moves: {X: -0.2}", "moves: {X: -0.2, Y: 0.2}");
  edit("defaults: {exogenous: [D]}",
       "  - {id: K, capital: 10000, liquidity: 10000, positions: {A: {Y: 50}}, initial_margin: {A: 500}, "
       "default_fund: {A: 0}}\n"
       "  - {id: L, capital: 10000, liquidity: 10000, positions: {A: {Y: -50}}, initial_margin: {A: 500}, "
       "default_fund: {A: 0}}\ndefaults: {exogenous: [D]}");
  const Model model = model_of(yaml);
  const ScenarioResult r = crash(model);
  using T = models::RecoveryTool;
  EXPECT_NEAR(tool(r, T::kCashCall), 200, 1e-9);
  EXPECT_NEAR(tool(r, T::kTearUp), 500, 1e-9);
  const int b = model.members[1].accounts[0], j = model.members[2].accounts[0], k = model.members[3].accounts[0];
  EXPECT_NEAR(channel_total(r, b, LossChannel::kTearUp), 300, 1e-9);
  EXPECT_NEAR(channel_total(r, j, LossChannel::kTearUp), 200, 1e-9);
  EXPECT_EQ(channel_total(r, k, LossChannel::kTearUp), 0.0);
  EXPECT_EQ(r.ccp_failures(), 0);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
}

// Two defaulters' books auctioned the same day share the bidders' depth
// (models::auction_increment; Ferrara, Li & Marszalec 2020: the surviving
// members' capacity to absorb risk limits their bids). kAuction's D split in
// two, D1 and D2 long 50 X each (5,000 each).
//  - Each alone: d(5,000) = 0.02 + 0.04 sqrt(2) = 0.0766 > 0.06: x* = 2,500
//    placed (150), 2,500 unplaced (150), hedge 50: 350 each, 5,000 unplaced.
//  - Together, one book of 10,000 (kAuction): 2,500 placed, 7,500 unplaced,
//    cost 700, 350 to each (pro rata to value 5,000 : 5,000).
// Below the reserve the shared depth costs more: D1, D2 long 4 X (400 each)
// against B short 5, J short 3: alone 4 + 0.036 x 400 = 18.4 each, 36.8;
// together 8 + (0.02 + 0.04 sqrt(800 / 2500)) x 800 = 42.1017.
constexpr std::string_view kTwoBooks = R"(name: two books auctioned the same day
market:
  assets: [{id: X, price: 100, volatility: 0.5}]
  stress_scenarios: [{name: crash, moves: {X: -0.2}, days: 1}]
ccps:
  - id: A
    capital: 100
    sitg: 100
    margin: {model: parametric, mpor_days: 1}
    default_fund: {sizing: fixed, amount: 500}
    waterfall: [defaulter_im, defaulter_df, sitg, mutualized_df, assessments]
    auction: {hedge_cost: 0.01, base_discount: 0.02, slope: 0.04, exponent: 0.5, depth: 2500, reserve_discount: 0.06}
members:
  - {id: D1, capital: 1000, liquidity: 1000, positions: {A: {X: 50}}, initial_margin: {A: 500}, default_fund: {A: 50}}
  - {id: D2, capital: 1000, liquidity: 1000, positions: {A: {X: 50}}, initial_margin: {A: 500}, default_fund: {A: 50}}
  - {id: B, capital: 10000, liquidity: 10000, positions: {A: {X: -60}}, initial_margin: {A: 600}, default_fund: {A: 300}}
  - {id: J, capital: 10000, liquidity: 10000, positions: {A: {X: -40}}, initial_margin: {A: 400}, default_fund: {A: 100}}
defaults: {exogenous: [D1, D2]}
)";

TEST(DefaultManagement, BooksAuctionedTheSameDayShareTheBiddersDepth) {
  const ScenarioResult r = crash(model_of(kTwoBooks));
  EXPECT_NEAR(r.ccp_auction_cost[0], 700, 1e-9);
  EXPECT_NEAR(r.ccp_unplaced[0], 7500, 1e-9);  // 5,000 were each auctioned alone
  EXPECT_NEAR(r.closeout_loss, 2000 + 700, 1e-9);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
  const ScenarioResult one = crash(model_of(kTwoBooks, {{"defaults.exogenous", "[D1]"}}));
  EXPECT_NEAR(one.ccp_auction_cost[0], 350, 1e-9);
  EXPECT_NEAR(one.ccp_unplaced[0], 2500, 1e-9);
  std::string small(kTwoBooks);
  for (const auto& [from, to] :
       {std::pair<std::string, std::string>{"X: 50}", "X: 4}"}, {"X: -60}", "X: -5}"}, {"X: -40}", "X: -3}"}})
    for (std::size_t at = small.find(from); at != std::string::npos; at = small.find(from, at + to.size()))
      small.replace(at, from.size(), to);
  const ScenarioResult both = crash(model_of(small));
  EXPECT_NEAR(both.ccp_auction_cost[0], 8 + (0.02 + 0.04 * std::sqrt(800.0 / 2500.0)) * 800, 1e-9);
  EXPECT_GT(both.ccp_auction_cost[0], 2 * 18.4 + 5);
  EXPECT_NEAR(both.ccp_unplaced[0], 0.0, 1e-9);
}

// Forced allocation before tear-up, no cash call: the 700 left after the
// assessments is allocated with the unplaced book (its loss 1950 >= 700)
// pro rata to the DF contributions 300 : 100: B 525, J 175.
TEST(DefaultManagement, ForcedAllocationChargesTheSurvivorsByContribution) {
  const Model model = model_of(kAuction, {config::Override::parse("ccps[0].recovery.tools=[forced_allocation]")});
  const ScenarioResult r = crash(model);
  EXPECT_NEAR(tool(r, models::RecoveryTool::kForcedAllocation), 700, 1e-9);
  EXPECT_NEAR(channel_total(r, model.members[1].accounts[0], LossChannel::kForcedAllocation), 525, 1e-9);
  EXPECT_NEAR(channel_total(r, model.members[2].accounts[0], LossChannel::kForcedAllocation), 175, 1e-9);
  EXPECT_EQ(r.ccp_failures(), 0);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
}

// A CCP fails only when the tools its rulebook allows are exhausted: with
// the cash call alone, 500 of the 700 is left and A fails with it; with no
// recovery key, all 700.
TEST(DefaultManagement, ACcpFailsWhenItsRecoveryToolsAreExhausted) {
  for (const auto& [tools, left] : {std::pair{std::string("[cash_call]"), 500.0}}) {
    const Model model = model_of(kAuction, {config::Override::parse("ccps[0].recovery.tools=" + tools)});
    const ScenarioResult r = crash(model);
    EXPECT_EQ(r.ccp_failures(), 1);
    EXPECT_NEAR(r.ccp_uncovered[0], left, 1e-9);
    EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-6);
  }
}

// Juniorisation alone (the auction places everything: slope 0, d = 2%), X
// falls 10%: close-out 1000 + hedge 100 + 200 = 1300; IM 1000 -> 300, DF 100
// -> 200, SITG 100 -> 100 for the mutualised fund: J (the non-bidder) pays
// all 100, B nothing. Without juniorisation, pro rata 300 : 100: B 75, J 25.
TEST(DefaultManagement, TheNonBiddersContributionIsUsedBeforeTheBiddersOne) {
  for (const bool junior : {true, false}) {
    const Model model = model_of(kAuction, {config::Override::parse("market.stress_scenarios[0].moves.X=-0.1"),
                                            config::Override::parse("ccps[0].auction.slope=0"),
                                            config::Override::parse(std::string("ccps[0].auction.juniorisation=") +
                                                                    (junior ? "true" : "false"))});
    const ScenarioResult r = crash(model);
    EXPECT_NEAR(r.closeout_loss, 1300, 1e-9);
    EXPECT_NEAR(r.ccp_unplaced[0], 0.0, 1e-12);
    EXPECT_NEAR(channel_total(r, model.members[1].accounts[0], LossChannel::kMutualizedDf), junior ? 0 : 75, 1e-9);
    EXPECT_NEAR(channel_total(r, model.members[2].accounts[0], LossChannel::kMutualizedDf), junior ? 100 : 25, 1e-9);
    EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
  }
}

TEST(DefaultManagement, TearUpWithoutAnAuctionIsALocatedError) {
  std::string yaml(kAuction);
  const auto from = yaml.find("    auction:");
  yaml.erase(from, yaml.find("    recovery:") - from);
  try {
    model_of(yaml);
    FAIL() << "expected a ScenarioError";
  } catch (const config::ScenarioError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("t.yaml:"), std::string::npos) << what;
    EXPECT_NE(what.find("ccps[0].recovery.tools"), std::string::npos) << what;
    EXPECT_NE(what.find("expected ccps[0].auction with the recovery tool tear_up"), std::string::npos) << what;
  }
}

// ADL by quantity closes the positions opposite the defaulted book at its
// bankruptcy price (BitMEX and Binance ADL: the venues' tear-up); a tear-up
// after it would terminate the same positions again. Seen on kAuction with
// an adl layer, B and J short 30 and 20 X instead of 60 and 40 (the rest of
// the market the other 50) and X -50%: ADL closed all 50 contracts at 90 (B
// paid 30 x 40 = 1,200, J 800), then the tear-up took another 1,400 from the
// same two members, as their gains on the contracts ADL had closed. Such a
// CCP is refused, whether adl is in its waterfall or in its kind's.
TEST(DefaultManagement, TearUpAfterAnAdlLayerIsALocatedError) {
  const auto refused = [](const std::string& yaml, const std::string& layer) {
    try {
      model_of(yaml);
      ADD_FAILURE() << "expected a ScenarioError";
    } catch (const config::ScenarioError& e) {
      const std::string what = e.what();
      const auto line =
          1 + std::count(yaml.begin(), yaml.begin() + static_cast<std::ptrdiff_t>(yaml.find("recovery:")), '\n');
      EXPECT_NE(what.find(fmt::format("t.yaml:{}:", line)), std::string::npos) << what;  // recovery's line
      EXPECT_NE(what.find("ccps[0].recovery.tools"), std::string::npos) << what;
      EXPECT_NE(what.find("expected either the waterfall layer adl" + layer +
                          " or the recovery tool tear_up at CCP 'A', found both"),
                std::string::npos)
          << what;
    }
  };
  std::string listed(kAuction);
  listed.replace(listed.find("mutualized_df, assessments]"), 27, "mutualized_df, assessments, adl]");
  refused(listed, "");
  std::string by_kind(kAuction);
  by_kind.replace(by_kind.find("    waterfall: ["), 0, "    kind: crypto_venue\n#");
  refused(by_kind, " (in the waterfall of its kind)");
  // Either alone is a CCP the engine runs: ADL with the other tools, or the
  // tear-up without ADL (kAuction itself).
  std::string adl_only = listed;
  adl_only.replace(adl_only.find("cash_call, tear_up, forced_allocation"), 37, "cash_call, forced_allocation");
  EXPECT_NO_THROW(model_of(adl_only));
  EXPECT_NO_THROW(model_of(std::string(kAuction)));
}

}  // namespace test_default_management
}  // namespace ccpnet
