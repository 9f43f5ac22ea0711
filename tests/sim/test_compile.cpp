// The model compiler's steps one by one (sim/compile/steps.hpp), on small
// hand cases: novation and book balancing, margins by the CCP's model, the
// default fund's sizing and allocation, time steps.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>

#include "sim/compile/steps.hpp"
#include "sim/config/load.hpp"
#include "sim/model.hpp"

namespace ccpnet {
namespace test_compile {

// Two CCPs, one asset at 100; A holds +10 at P and -4 at Q, B -6 at P.
constexpr std::string_view kTwoCcps = R"(name: two CCPs
market:
  assets:
    - {id: X, price: 100, volatility: 0.365, adv: 1.0e9, liquidation_cost: 0.1}
ccps:
  - {id: P, capital: 1e6, imbalance: rest_of_market, margin: {model: parametric, confidence: 0.99, mpor_days: 1}}
  - {id: Q, capital: 1e6, imbalance: rest_of_market, margin: {model: parametric, confidence: 0.99, mpor_days: 2}}
members:
  - {id: A, capital: 1e6, liquidity: 1e5, positions: {P: {X: 10}, Q: {X: -4}}}
  - {id: B, capital: 1e6, liquidity: 1e5, positions: {P: {X: -6}}}
)";

// The steps up to the members' accounts, as build_model runs them.
struct Compiled {
  config::LoadedScenario loaded;
  compile::Index index;
  Model model;
  std::vector<config::MemberConfig> members;

  explicit Compiled(std::string_view yaml, const std::string& links = "")
      : loaded(config::load_scenario_text(std::string(yaml) + links, "t.yaml")) {
    const config::Scenario& s = loaded.scenario;
    model = compile::settings(loaded);
    compile::add_assets(s.market, index, model);
    compile::set_correlation(s.market, index, model);
    compile::add_ccps(s, index, model);
    index.links = compile::link_pairs(s.links, index);
    compile::set_horizons(model);
    members = compile::member_list(s);
    compile::add_members(members, index, model);
  }
  Eigen::MatrixXd balance() {
    const Eigen::MatrixXd net = compile::net_positions(model);
    const Eigen::MatrixXd routed = compile::novate_trades(loaded, index, model);
    return compile::balance_books(loaded, index, net, routed, model);
  }
  compile::FiniteCheck finite() const { return {loaded, loaded.scenario.members.size()}; }
  // Balanced books, then the accounts' figures and margins.
  void margins() {
    balance();
    compile::set_account_figures(finite(), model);
    compile::set_initial_margins(loaded.scenario, members, finite(), model);
  }
};

const Account* rest_of_market(const Model& m, int ccp) {
  for (const auto& acc : m.accounts)
    if (acc.kind == AccountKind::kRestOfMarket && acc.ccp == ccp) return &acc;
  return nullptr;
}

// Without links each CCP's book is balanced by the rest of the market: P's
// members are net +4, Q's -4.
TEST(CompileBooks, WithoutLinksTheRestOfTheMarketTakesEachCcpsNet) {
  Compiled c(kTwoCcps);
  const Eigen::MatrixXd flows = c.balance();
  EXPECT_EQ(flows.rows(), 0);
  ASSERT_NE(rest_of_market(c.model, 0), nullptr);
  ASSERT_NE(rest_of_market(c.model, 1), nullptr);
  EXPECT_DOUBLE_EQ(rest_of_market(c.model, 0)->quantity(0), -4.0);
  EXPECT_DOUBLE_EQ(rest_of_market(c.model, 1)->quantity(0), 4.0);
}

// A link P-Q offsets both: the link's flow is P's net (+4: Q is short 4 at
// P), nothing is left to the rest of the market; the mirror accounts sum to 0.
TEST(CompileBooks, ALinkCarriesWhatTheBooksLeave) {
  Compiled c(kTwoCcps, "links:\n  - {between: [P, Q]}\n");
  const Eigen::MatrixXd flows = c.balance();
  ASSERT_EQ(flows.rows(), 1);
  EXPECT_NEAR(flows(0, 0), -4.0, 1e-12);
  EXPECT_EQ(rest_of_market(c.model, 0), nullptr);
  compile::add_links(c.loaded.scenario, c.index, flows, c.model);
  ASSERT_EQ(c.model.links.size(), 1u);
  const LinkModel& link = c.model.links[0];
  EXPECT_NEAR(c.model.accounts[static_cast<std::size_t>(link.account_at_first)].quantity(0), -4.0, 1e-12);
  EXPECT_NEAR(c.model.accounts[static_cast<std::size_t>(link.account_at_second)].quantity(0), 4.0, 1e-12);
}

// A trade of 3 from A at P to B at Q: novated at both CCPs and routed over
// the link, whose flow carries it (on top of the members' net).
TEST(CompileBooks, TradesAreNovatedAndRoutedOverLinks) {
  Compiled c(kTwoCcps,
             "links:\n  - {between: [P, Q]}\ntrades:\n  - {buyer: A, seller: B, asset: X, quantity: 3, "
             "buyer_ccp: P, seller_ccp: Q}\n");
  const Eigen::MatrixXd net = compile::net_positions(c.model);
  const Eigen::MatrixXd routed = compile::novate_trades(c.loaded, c.index, c.model);
  EXPECT_DOUBLE_EQ(routed(0, 0), -3.0);  // Q is short 3 more at P
  const int a_at_p = compile::member_account(c.model, 0, 0), b_at_q = compile::member_account(c.model, 1, 1);
  EXPECT_DOUBLE_EQ(c.model.accounts[static_cast<std::size_t>(a_at_p)].quantity(0), 13.0);
  EXPECT_DOUBLE_EQ(c.model.accounts[static_cast<std::size_t>(b_at_q)].quantity(0), -3.0);
  const Eigen::MatrixXd flows = compile::balance_books(c.loaded, c.index, net, routed, c.model);
  EXPECT_NEAR(flows(0, 0), -7.0, 1e-12);
  EXPECT_EQ(rest_of_market(c.model, 1), nullptr);
}

// imbalance: error refuses a book no link can offset, located at the CCP.
TEST(CompileBooks, AnUnbalancedBookIsRefusedWhereThePolicySaysSo) {
  std::string yaml(kTwoCcps);
  yaml.replace(yaml.find("imbalance: rest_of_market"), 25, "imbalance: error");
  Compiled c(yaml);
  try {
    c.balance();
    FAIL() << "expected a ScenarioError";
  } catch (const config::ScenarioError& e) {
    EXPECT_NE(std::string(e.what()).find("the book of CCP 'P' does not balance"), std::string::npos) << e.what();
  }
}

// Margins by the CCP's model: parametric VaR q sigma sqrt(h) |V|, with sigma
// = 0.365 / sqrt(365) = 0.0191 daily, at P (h = 1) on A's 1,000 USD.
TEST(CompileMargin, EachAccountTakesItsCcpsModel) {
  Compiled c(kTwoCcps);
  c.margins();
  const double sigma = 0.365 / std::sqrt(365.0), q = 2.3263478740408408;
  const Account& a_at_p = c.model.accounts[0];
  ASSERT_EQ(a_at_p.ccp, 0);
  EXPECT_NEAR(a_at_p.initial_margin, q * sigma * 1000.0, 1e-6);
  const Account& a_at_q = c.model.accounts[1];
  EXPECT_NEAR(a_at_q.initial_margin, q * sigma * std::sqrt(2.0) * 400.0, 1e-6);
  EXPECT_EQ(rest_of_market(c.model, 0)->initial_margin, 0.0);  // the rest of the market posts none
  // Liquidation cost: k |x| sqrt(|x| / ADV) = 0.1 x 1,000 x sqrt(1e-6).
  EXPECT_NEAR(a_at_p.liquidation_cost, 0.1 * 1000.0 * std::sqrt(1000.0 / 1e9), 1e-12);
}

// Cover-2 at P over its stress set: the fund is the largest uncovered loss
// of the groups (A and B), allocated pro rata to IM.
TEST(CompileDefaultFund, SizedOverTheStressSetAndAllocatedProRataToMargin) {
  Compiled c(kTwoCcps);
  c.margins();
  compile::set_default_funds(c.loaded, c.members, c.index, c.finite(), c.model);
  const CcpModel& p = c.model.ccps[0];
  EXPECT_GT(p.stress_fund, 0.0);
  EXPECT_NEAR(p.default_fund, p.stress_fund, 1e-9 * p.stress_fund);
  // A's and B's shares follow their IM: 1,000 and 600 USD of positions at one model.
  const double a = c.model.accounts[0].default_fund, b = c.model.accounts[2].default_fund;
  EXPECT_NEAR(a / b, c.model.accounts[0].initial_margin / c.model.accounts[2].initial_margin, 1e-9);
  EXPECT_EQ(p.stress_families.front(), (std::pair<std::string, int>{"directional", 2}));
}

// Time steps: a 3-day horizon in 1-day steps with MPORs 1 and 2 revalues
// at days 1, 2, 3, 4 (step 3 starting at day 2 closes out at 2 + 2 = 4).
TEST(CompileTimeSteps, PointsCoverEveryStepsCloseOutWindow) {
  config::SimulationConfig sim;
  sim.horizon_days = 3.0;
  sim.step_days = 1.0;
  const TimeSteps t = compile::time_steps(sim, false, {1.0, 2.0});
  EXPECT_EQ(t.count, 3);
  EXPECT_EQ(t.points, (std::vector<double>{1.0, 2.0, 3.0, 4.0}));
  EXPECT_EQ(t.start, (std::vector<int>{-1, 0, 1}));
  EXPECT_EQ(t.end, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(t.window[2], (std::vector<int>{2, 3}));
  EXPECT_EQ(compile::time_steps(config::SimulationConfig{}, false, {1.0}).count, 0);  // one period
}

// A listed member whose id a generated member would take is refused when
// loading (with every other input error), located at generator.id_prefix.
TEST(CompileMembers, AGeneratedIdThatRepeatsAListedOneIsALoadError) {
  const std::string yaml = std::string(kTwoCcps) + "generator: {members: 12, id_prefix: B, assets_per_account: 1}\n";
  std::string renamed = yaml;
  renamed.replace(renamed.find("{id: B,"), 7, "{id: B07,");
  try {
    config::load_scenario_text(renamed, "t.yaml");
    FAIL() << "expected a ScenarioError";
  } catch (const config::ScenarioError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("generator.id_prefix"), std::string::npos) << what;
    EXPECT_NE(what.find("generated member id 'B07' is already the id of a listed member"), std::string::npos) << what;
  }
  EXPECT_NO_THROW(config::load_scenario_text(yaml, "t.yaml"));  // B1 is not of the form B01..B12
}

// Generated clients (generator.clients): each core member clears for that many,
// at every traditional CCP, with two other core members as backups; they are
// drawn after the members, so the members' own books are those drawn without
// clients except the balancing (largest house) position of each CCP and asset,
// which takes the other side of the clients' net: the books still net to zero
// per CCP and asset (no link). A negative count is a located load error.
TEST(CompileMembers, GeneratedClientsOfTheCoreMembers) {
  const std::string head = std::string(kTwoCcps) + "generator: {members: 5, id_prefix: G, core_share: 1, ";
  const auto members_of = [&](const std::string& extra) {
    return compile::member_list(config::load_scenario_text(head + extra + "}\n", "t.yaml").scenario);
  };
  const auto without = members_of("clients: 0");
  const auto with = members_of("clients: 3, client_individual_share: 1");
  ASSERT_EQ(with.size(), 7u);  // A, B and G1..G5
  std::map<std::pair<std::string, std::string>, double> net, moved;
  for (std::size_t m = 2; m < with.size(); ++m) {
    const auto& member = with[m];
    ASSERT_EQ(member.clients.size(), 3u);
    for (std::size_t k = 0; k < 3; ++k) {
      const auto& client = member.clients[k];
      EXPECT_EQ(client.id, member.id + "C" + std::to_string(k + 1));
      EXPECT_EQ(client.segregation, Segregation::kIndividual);
      ASSERT_EQ(client.backup.size(), 2u);
      EXPECT_NE(client.backup[0], client.backup[1]);
      for (const auto& b : client.backup) EXPECT_TRUE(b != member.id && b[0] == 'G') << b;
      EXPECT_EQ(client.positions.size(), 2u);  // P and Q
      for (const auto& [ccp, book] : client.positions)
        for (const auto& [asset, qty] : book) net[{ccp, asset}] += qty;
    }
    for (const auto& [ccp, book] : member.positions)
      for (const auto& [asset, qty] : book) net[{ccp, asset}] += qty;
    for (std::size_t c = 0; c < member.positions.size(); ++c)
      for (std::size_t a = 0; a < member.positions[c].second.size(); ++a) {
        const double before = without[m].positions[c].second[a].second;
        if (member.positions[c].second[a].second != before)
          moved[{member.positions[c].first, member.positions[c].second[a].first}] +=
              member.positions[c].second[a].second - before;
      }
  }
  // Quantities of order 1e6: nil to 1e-6.
  for (const auto& [key, qty] : net) EXPECT_NEAR(qty, 0.0, 1e-6) << key.first;
  EXPECT_EQ(moved.size(), 2u);  // one balancing position at P and one at Q
  const auto omnibus = members_of("clients: 3, client_individual_share: 0");
  for (const auto& c : omnibus[2].clients) EXPECT_EQ(c.segregation, Segregation::kOmnibus);
  try {
    config::load_scenario_text(head + "clients: -1}\n", "t.yaml");
    FAIL() << "expected a ScenarioError";
  } catch (const config::ScenarioError& e) {
    EXPECT_NE(std::string(e.what()).find("generator.clients"), std::string::npos) << e.what();
  }
  // A listed member whose id a generated client would take: a located load error.
  std::string taken = head + "clients: 3}\n";
  taken.replace(taken.find("{id: B,"), 7, "{id: G2C3,");
  try {
    config::load_scenario_text(taken, "t.yaml");
    FAIL() << "expected a ScenarioError";
  } catch (const config::ScenarioError& e) {
    EXPECT_NE(std::string(e.what()).find("generated client id 'G2C3' is already the id of a listed member"),
              std::string::npos)
        << e.what();
  }
  taken.replace(taken.find("{id: G2C3,"), 10, "{id: G2C4,");  // clients C1..C3 only
  EXPECT_NO_THROW(config::load_scenario_text(taken, "t.yaml"));
}

// Collateral taken in an asset (margin calls of the settlement layer) runs
// in time steps too (test_settlement_bridges): the file loads with steps.
TEST(CompileTimeSteps, CollateralInAnAssetRunsInSteps) {
  std::string yaml(kTwoCcps);
  yaml.replace(yaml.find("{id: P, capital: 1e6,"), 21, "{id: P, capital: 1e6, collateral: {asset: X},");
  const Model model =
      build_model(config::load_scenario_text(yaml + "simulation: {horizon_days: 2, step_days: 1}\n", "t.yaml"));
  EXPECT_EQ(model.steps.count, 2);
  EXPECT_TRUE(model.settlement_active);
}

}  // namespace test_compile
}  // namespace ccpnet
