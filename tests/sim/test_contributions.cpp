// Leave-one-out contributions (sim/contributions.hpp; `ccpnet contributions`,
// ccpnet.contributions): each is the paired difference of a comparison whose
// variants leave one node out (Paddrik and Young's and the FSB's CCP
// interdependency analyses remove one node at a time; common random numbers
// make the difference's interval tight). Checked against the same comparison
// written out by hand, and for its choice of nodes and its errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "sim/compare.hpp"
#include "sim/config/load.hpp"
#include "sim/contributions.hpp"
#include "sim/errors.hpp"

namespace ccpnet {
namespace test_contributions {

using ::testing::HasSubstr;

// Two CCPs and a peer link, four members of equal capital, an interbank network of three times their capital.
constexpr std::string_view kNetwork = R"(name: two CCPs, a link and an interbank network
seed: 5
simulation: {scenarios: 1500}
market:
  assets:
    - {id: X, price: 100, volatility: 0.8}
ccps:
  - {id: A, capital: 50, margin: {model: parametric, mpor_days: 2}, default_fund: {sizing: fixed, amount: 40}}
  - {id: B, capital: 50, margin: {model: parametric, mpor_days: 2}, default_fund: {sizing: fixed, amount: 40}}
members:
  - {id: M1, capital: 60, liquidity: 100, positions: {A: {X: 10}}}
  - {id: M2, capital: 60, liquidity: 100, positions: {A: {X: -10}}}
  - {id: M3, capital: 70, liquidity: 100, positions: {B: {X: 10}}}
  - {id: M4, capital: 60, liquidity: 100, positions: {B: {X: -10}}}
links:
  - {between: [A, B], model: peer}
defaults:
  latent: {pd: 0.2, beta: 0.5}
interbank:
  capital_multiple: 3
)";

config::LoadedScenario loaded(std::string_view text, const std::vector<config::Override>& overrides = {}) {
  return config::load_scenario_text(text, "network.yaml", overrides);
}

RunOptions quiet() {
  RunOptions o;
  o.progress = false;
  o.threads = 2;
  return o;
}

TEST(Contributions, EachIsThePairedDifferenceOfTheComparisonWrittenByHand) {
  ContributionRequest request;
  request.members = std::vector<std::string>{"M1", "M3"};
  const Contributions c = run_contributions(loaded(kNetwork), {}, request, quiet());
  ASSERT_EQ(c.rows.size(), 3u);  // M1, M3 and the link A-B
  const std::vector<config::Override> by_hand{
      {"variants", R"([{name: m1, set: ["interbank.exclude=[M1]"]}, {name: m3, set: ["interbank.exclude=[M3]"]},
                       {name: ab, set: ["links=[]", "ccps.A.imbalance=direct_membership", "ccps.B.imbalance=direct_membership"]}])"}};
  const Comparison h = run_compare(loaded(kNetwork, by_hand), by_hand, quiet());
  const double base = h.mean(0, "total_loss");
  for (const Contribution& r : c.rows) {
    const std::size_t v = r.node == "M1" ? 1 : r.node == "M3" ? 2 : 3;
    EXPECT_EQ(r.kind, v == 3 ? "link" : "member");
    EXPECT_DOUBLE_EQ(r.with_node, base);
    EXPECT_DOUBLE_EQ(r.without_node, h.mean(v, "total_loss"));
    const PairedDifference d = h.difference(v, "total_loss");
    EXPECT_DOUBLE_EQ(r.contribution, -d.mean);
    EXPECT_DOUBLE_EQ(r.lower, -d.hi);
    EXPECT_DOUBLE_EQ(r.upper, -d.lo);
    EXPECT_LE(r.lower, r.contribution);
    EXPECT_LE(r.contribution, r.upper);
  }
  for (std::size_t i = 1; i < c.rows.size(); ++i) EXPECT_GE(c.rows[i - 1].contribution, c.rows[i].contribution);
  EXPECT_EQ(c.scenarios, 1500);
  // The CSV has a row per node with the columns of the Python frame.
  EXPECT_THAT(contributions_table(c).to_csv(),
              HasSubstr("node,kind,metric,with_node,without_node,contribution,lower,upper,share\n"));
}

TEST(Contributions, ByDefaultTheLargestMembersAndEveryLink) {
  // Capital 70 (M3) first, then the ties of 60 in the order listed: top 2 is M3, M1.
  ContributionRequest request;
  request.top = 2;
  const Contributions c = run_contributions(loaded(kNetwork, {{"simulation.scenarios", "50"}}),
                                            {{"simulation.scenarios", "50"}}, request, quiet());
  std::set<std::string> nodes;
  for (const Contribution& r : c.rows) nodes.insert(r.node);
  EXPECT_EQ(nodes, (std::set<std::string>{"M3", "M1", "A-B"}));
  // Without an interbank network, members are left out only when asked, and then refused.
  const std::vector<config::Override> none{{"interbank", "null"}, {"simulation.scenarios", "50"}};
  const Contributions links_only = run_contributions(loaded(kNetwork, none), none, {}, quiet());
  ASSERT_EQ(links_only.rows.size(), 1u);
  EXPECT_EQ(links_only.rows[0].node, "A-B");
}

TEST(Contributions, WhatCannotBeLeftOutIsRefused) {
  const auto error = [](const config::LoadedScenario& base, const ContributionRequest& request) -> std::string {
    try {
      run_contributions(base, {}, request, quiet());
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  };
  ContributionRequest link;
  link.links = std::vector<int>{3};
  EXPECT_THAT(error(loaded(kNetwork), link), HasSubstr("link 3 does not exist: the model has 1 links"));
  ContributionRequest metric;
  metric.metric = "nope";
  EXPECT_THAT(error(loaded(kNetwork), metric), HasSubstr("no compared metric 'nope'"));
  ContributionRequest member;
  member.members = std::vector<std::string>{"M1"};
  EXPECT_THAT(error(loaded(kNetwork, {{"interbank", "null"}}), member), HasSubstr("need an interbank network"));
}

}  // namespace test_contributions
}  // namespace ccpnet
