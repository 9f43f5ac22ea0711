// Link positions: minimum-norm flows that balance the books, and trades routed
// over the shortest chain of links; worked by hand.
#include <gtest/gtest.h>

#include "models/links/route.hpp"
#include "sim/config/load.hpp"
#include "sim/graph.hpp"
#include "sim/model.hpp"

namespace ccpnet {
namespace test_links {

Model model_of(const std::string& yaml) { return build_model(config::load_scenario_text(yaml, "t.yaml")); }

// Quantity of X in the account of CCP `owner` at CCP `at`.
double link_position(const Model& m, const std::string& owner, const std::string& at) {
  for (const auto& acc : m.accounts) {
    if (acc.kind != AccountKind::kLink) continue;
    if (m.ccps[static_cast<std::size_t>(acc.owner)].id == owner && m.ccps[static_cast<std::size_t>(acc.ccp)].id == at)
      return acc.quantity(0);
  }
  ADD_FAILURE() << "no link account of " << owner << " at " << at;
  return 0.0;
}

const std::string kHead = R"(name: links
market:
  assets: [{id: X, price: 100, volatility: 0.5}]
ccps:
  - {id: A, capital: 1e6}
  - {id: B, capital: 1e6}
  - {id: C, capital: 1e6}
)";

TEST(Links, TwoCcpsOneLinkCarriesTheDifference) {
  // A's members are net long 10, B's net short 10: B is short 10 at A, A long 10 at B.
  const Model m = model_of(kHead + R"(members:
  - {id: M1, capital: 1e6, positions: {A: {X: 10}}}
  - {id: M2, capital: 1e6, positions: {B: {X: -10}}}
links: [{between: [A, B]}]
)");
  EXPECT_NEAR(link_position(m, "B", "A"), -10, 1e-12);
  EXPECT_NEAR(link_position(m, "A", "B"), 10, 1e-12);
}

TEST(Links, TriangleMinimumNormFlowSplitsTwoThirdsOneThird) {
  // Net +10 at A, -10 at B, 0 at C, links AB, AC, CB. Balance: f_AB + f_AC = -10,
  // -f_AC + f_CB = 0, -f_AB - f_CB = 10. Minimising f_AB^2 + f_AC^2 + f_CB^2 with
  // f_CB = f_AC, f_AB = -10 - f_AC: 2(10 + f_AC) + 4 f_AC = 0, so f_AC = -10/3,
  // f_AB = -20/3: two thirds over the direct link, one third via C.
  const Model m = model_of(kHead + R"(members:
  - {id: M1, capital: 1e6, positions: {A: {X: 10}}}
  - {id: M2, capital: 1e6, positions: {B: {X: -10}}}
links: [{between: [A, B]}, {between: [A, C]}, {between: [C, B]}]
)");
  EXPECT_NEAR(link_position(m, "B", "A"), -20.0 / 3, 1e-9);
  EXPECT_NEAR(link_position(m, "C", "A"), -10.0 / 3, 1e-9);
  EXPECT_NEAR(link_position(m, "B", "C"), -10.0 / 3, 1e-9);
  EXPECT_NEAR(link_position(m, "A", "C"), 10.0 / 3, 1e-9);
}

TEST(Links, UnbalancedBookIsALocatedError) {
  try {
    model_of(kHead + R"(members:
  - {id: M1, capital: 1e6, positions: {A: {X: 10}}}
)");
    FAIL() << "expected an error";
  } catch (const config::ScenarioError& e) {
    EXPECT_NE(std::string(e.what()).find("t.yaml:5:"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("the book of CCP 'A' does not balance: its members are net X +10"),
              std::string::npos)
        << e.what();
  }
}

TEST(Links, RestOfMarketTakesTheImbalanceWhenAsked) {
  const Model m = build_model(config::load_scenario_text(kHead + R"(members:
  - {id: M1, capital: 1e6, positions: {A: {X: 10}}}
)",
                                                         "t.yaml", {{"ccps.A.imbalance", "rest_of_market"}}));
  int rest = 0;
  for (const auto& acc : m.accounts)
    if (acc.kind == AccountKind::kRestOfMarket) {
      ++rest;
      EXPECT_EQ(acc.ccp, 0);
      EXPECT_NEAR(acc.quantity(0), -10, 1e-12);
    }
  EXPECT_EQ(rest, 1);
}

TEST(Links, WithoutLinksMembersTakeTheOtherSideDirectly) {
  // No links, imbalance direct_membership: A's members are net long 10, B's
  // net short 10 (M2 -6, M3 -4). B's shorts move to accounts of their own at
  // A, pro rata: M2 -6, M3 -4 at A; their accounts at B are left flat. Each
  // member keeps its total position, and neither book needs a rest of market.
  const Model m = build_model(config::load_scenario_text(
      kHead + R"(members:
  - {id: M1, capital: 1e6, positions: {A: {X: 10}}}
  - {id: M2, capital: 1e6, positions: {B: {X: -6}}}
  - {id: M3, capital: 1e6, positions: {B: {X: -4}}}
)",
      "t.yaml", {{"ccps.A.imbalance", "direct_membership"}, {"ccps.B.imbalance", "direct_membership"}}));
  const auto position = [&](const std::string& member, const std::string& ccp) {
    for (const auto& acc : m.accounts)
      if (acc.kind == AccountKind::kMember && m.members[static_cast<std::size_t>(acc.owner)].id == member &&
          m.ccps[static_cast<std::size_t>(acc.ccp)].id == ccp)
        return acc.quantity(0);
    return 0.0;
  };
  EXPECT_NEAR(position("M2", "A"), -6, 1e-12);
  EXPECT_NEAR(position("M3", "A"), -4, 1e-12);
  EXPECT_NEAR(position("M2", "B"), 0, 1e-12);
  for (const auto& acc : m.accounts) {
    EXPECT_NE(acc.kind, AccountKind::kRestOfMarket);
    if (acc.kind == AccountKind::kMember && acc.quantity(0) != 0.0) {
      EXPECT_GT(acc.initial_margin, 0.0);
    }
  }
}

TEST(Trades, RoutedThroughTheHub) {
  // M1 buys 10 X at A from M2 at B; links A-C and C-B (C the hub): the trade
  // crosses two links. A: M1 +10, C short 10 at A. C: A +10, B -10. B: C +10, M2 -10.
  const Model m = model_of(kHead + R"(members:
  - {id: M1, capital: 1e6}
  - {id: M2, capital: 1e6}
trades: [{buyer: M1, seller: M2, asset: X, quantity: 10, buyer_ccp: A, seller_ccp: B}]
links: [{between: [A, C]}, {between: [C, B]}]
)");
  EXPECT_NEAR(link_position(m, "C", "A"), -10, 1e-12);
  EXPECT_NEAR(link_position(m, "A", "C"), 10, 1e-12);
  EXPECT_NEAR(link_position(m, "B", "C"), -10, 1e-12);
  EXPECT_NEAR(link_position(m, "C", "B"), 10, 1e-12);
}

TEST(Trades, ShortestPathInAMeshIsTheDirectLink) {
  const Model m = model_of(kHead + R"(members:
  - {id: M1, capital: 1e6}
  - {id: M2, capital: 1e6}
trades: [{buyer: M1, seller: M2, asset: X, quantity: 4, buyer_ccp: A, seller_ccp: B}]
links: [{between: [A, B]}, {between: [A, C]}, {between: [B, C]}]
)");
  EXPECT_NEAR(link_position(m, "B", "A"), -4, 1e-12);
  EXPECT_NEAR(link_position(m, "C", "A"), 0, 1e-12);
  EXPECT_NEAR(link_position(m, "C", "B"), 0, 1e-12);
}

TEST(Trades, NoPathNamesTheTradeTheMembersAndTheCcps) {
  try {
    model_of(kHead + R"(members:
  - {id: M1, capital: 1e6}
  - {id: M2, capital: 1e6}
trades: [{buyer: M1, seller: M2, asset: X, quantity: 4, buyer_ccp: A, seller_ccp: B}]
links: [{between: [A, C]}]
)");
    FAIL() << "expected an error";
  } catch (const config::ScenarioError& e) {
    EXPECT_NE(
        std::string(e.what()).find("trades[0]: no chain of links from CCP 'A' (buyer 'M1') to CCP 'B' (seller 'M2')"),
        std::string::npos)
        << e.what();
  }
}

TEST(Graph, ShortestLinkPathPrefersLowIndicesOnTies) {
  // Square 0-1-3, 0-2-3: two shortest paths from 0 to 3; the one through 1.
  const auto p = models::shortest_link_path(4, {{2, 3}, {0, 2}, {1, 3}, {0, 1}}, 0, 3);
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, (std::vector<int>{0, 1, 3}));
  EXPECT_FALSE(models::shortest_link_path(4, {{0, 1}}, 0, 3));
  EXPECT_EQ(*models::shortest_link_path(4, {}, 2, 2), (std::vector<int>{2}));
}

}  // namespace test_links
}  // namespace ccpnet
