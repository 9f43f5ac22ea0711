// The multi-CCP cascade on systems small enough to work out by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "sim/cascade.hpp"
#include "sim/config/load.hpp"
#include "sim/model.hpp"
#include "sim/runner.hpp"
#include "sim/stress.hpp"
#include "tests/sim/yaml_edit.hpp"

namespace ccpnet {
namespace test_cascade {

Model model_of(std::string_view yaml) { return build_model(config::load_scenario_text(yaml, "t.yaml")); }

double layer(const ScenarioResult& r, std::size_t ccp, models::Layer l) {
  return r.ccp_layers[ccp * models::kLayerCount + static_cast<std::size_t>(l)];
}

// X falls 50% (price 100 -> 50). Observed IM and DF make the numbers exact.
//   CCP A: D long 10 X (exogenous default), M short 10 X.
//   CCP B: M long 10 X, N short 10 X.   M's P&L: +500 at A, -500 at B: 0 in all.
// Round 1 at A: D's close-out loss 500 - IM 100 - DF 20 = 380; SITG 10 -> 370;
//   M's DF 60 -> 310; assessment on M (1x its DF) 60 -> 250; VMGH: M's gain at A
//   is 500, haircut 250 (50%). A survives. M's charges 60 + 60 + 250 = 370 exceed
//   its capital 50: M defaults (solvency) at the end of round 1.
// Round 2 at B: M's close-out loss 500 - IM 100 - DF 40 = 360; SITG 20 -> 340;
//   N's DF 50 -> 290; assessment on N 50 -> 240; VMGH: N's gain 500, haircut 240.
//   (At A, M's book gained 500 on close-out: nothing to absorb.)
constexpr std::string_view kCommonMember = R"(name: cascade across CCPs through a common member
market:
  assets: [{id: X, price: 100, volatility: 0.5}]
  stress_scenarios: [{name: crash, moves: {X: -0.5}, days: 1}]
ccps:
  - {id: A, capital: 100, sitg: 10, margin: {model: parametric, mpor_days: 1}, default_fund: {sizing: fixed, amount: 80}}
  - {id: B, capital: 100, sitg: 20, margin: {model: parametric, mpor_days: 1}, default_fund: {sizing: fixed, amount: 90}}
members:
  - {id: D, capital: 1000, liquidity: 1000, positions: {A: {X: 10}}, initial_margin: {A: 100}, default_fund: {A: 20}}
  - id: M
    capital: 50
    liquidity: 1000
    positions: {A: {X: -10}, B: {X: 10}}
    initial_margin: {A: 100, B: 100}
    default_fund: {A: 60, B: 40}
  - {id: N, capital: 1000, liquidity: 1000, positions: {B: {X: -10}}, initial_margin: {B: 100}, default_fund: {B: 50}}
defaults: {exogenous: [D]}
)";

TEST(Cascade, CrossesFromOneCcpToAnotherThroughACommonMember) {
  const Model model = model_of(kCommonMember);
  ASSERT_EQ(model.stress_scenarios.size(), 1u);
  CascadeTrace trace;
  const ScenarioResult r = run_move(model, stress_move(model, model.stress_scenarios[0]), &trace);
  using L = models::Layer;
  EXPECT_NEAR(layer(r, 0, L::kDefaulterIm), 100, 1e-9);
  EXPECT_NEAR(layer(r, 0, L::kDefaulterDf), 20, 1e-9);
  EXPECT_NEAR(layer(r, 0, L::kSitg), 10, 1e-9);
  EXPECT_NEAR(layer(r, 0, L::kMutualizedDf), 60, 1e-9);
  EXPECT_NEAR(layer(r, 0, L::kAssessments), 60, 1e-9);
  EXPECT_NEAR(layer(r, 0, L::kVmgh), 250, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kDefaulterIm), 100, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kDefaulterDf), 40, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kSitg), 20, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kMutualizedDf), 50, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kAssessments), 50, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kVmgh), 240, 1e-9);
  ASSERT_EQ(r.defaults.size(), 2u);
  EXPECT_EQ(r.defaults[0].member, 0);
  EXPECT_EQ(r.defaults[0].round, 0);
  EXPECT_EQ(r.defaults[0].cause, DefaultCause::kExogenous);
  EXPECT_EQ(r.defaults[1].member, 1);
  EXPECT_EQ(r.defaults[1].round, 1);
  EXPECT_EQ(r.defaults[1].cause, DefaultCause::kSolvency);
  EXPECT_EQ(r.ccp_failures(), 0);
  EXPECT_EQ(r.rounds, 2);
  EXPECT_NEAR(r.closeout_loss, 1000, 1e-9);
  EXPECT_NEAR(r.total_loss, 380 + 360, 1e-9);
  EXPECT_NEAR(r.uncovered, 0, 1e-9);
  // The trace: A in round 1 (D), A and B in round 2 (M).
  ASSERT_EQ(trace.events.size(), 3u);
  EXPECT_EQ(trace.events[0].round, 1);
  EXPECT_EQ(trace.events[0].ccp, 0);
  EXPECT_NEAR(trace.events[0].defaulters[0].residual, 380, 1e-9);
  EXPECT_EQ(trace.events[2].ccp, 1);
}

TEST(Cascade, NoMoveNoContagion) {
  // Without a price move D's close-out costs nothing; M keeps its capital.
  const Model model = model_of(kCommonMember);
  const ScenarioResult r = run_move(model, Eigen::MatrixXd::Zero(1, 1));
  ASSERT_EQ(r.defaults.size(), 1u);
  EXPECT_EQ(r.rounds, 1);
  EXPECT_EQ(r.total_loss, 0.0);
}

// A CCP failure crossing a peer link. X falls 50%. The link is one set of
// contracts (EMIR art. 53; ESMA guidelines on interoperability arrangements,
// ESMA/2013/323): when A fails, B loses what A does not pay it on the link,
// once, and B holds A's link margin against exactly that (PFMI Principle 20,
// key consideration 8: each CCP of a link covers its current and potential
// future exposure to the linked CCP without reducing its ability to meet its
// obligations to its own participants). B treats A as a
// defaulting member: A's link margin first, then B's own layers in order.
//   CCP A (waterfall without VMGH): D long 10 X (exogenous). A's book is
//   balanced by the link: B's account at A is short 10 X (gains 500).
//   CCP B: N short 10 X; A's account at B is long 10 X (loses 500).
// Round 1 at A: 500 - IM 100 - DF 20 = 380; SITG 10 -> 370; no mutualised fund
//   (the peer link does not contribute); equity 90 -> 280 uncovered: A fails.
//   A's creditors bear the 280 pro rata to their stakes; the only one is B
//   (VM gain 500 owed on the link; its link margin at A is segregated): 280.
// Round 2 at B: A's account is closed out with loss 280 (the VM A did not
//   pay), its link margin L = q_0.99 x 1000 x 0.5 / sqrt(365) first (B's margin
//   model on 10 X over one day), then SITG 20, N's DF 30, assessments on N 30,
//   VMGH on N's gain: 280 - L - 80. B survives.
// The system's close-out loss is the price loss, 500: D's IM and DF 120 + A's
// SITG and equity 100 + A's link margin L + B's layers (280 - L) = 500.
constexpr std::string_view kLinkFailure = R"(name: a CCP failure crossing a peer link
market:
  assets: [{id: X, price: 100, volatility: 0.5}]
  stress_scenarios: [{name: crash, moves: {X: -0.5}, days: 1}]
ccps:
  - id: A
    capital: 100
    sitg: 10
    margin: {model: parametric, mpor_days: 1}
    default_fund: {sizing: fixed, amount: 20}
    waterfall: [defaulter_im, defaulter_df, sitg, mutualized_df, ccp_equity]
  - {id: B, capital: 1000, sitg: 20, margin: {model: parametric, mpor_days: 1}, default_fund: {sizing: fixed, amount: 30}}
members:
  - {id: D, capital: 1000, liquidity: 1000, positions: {A: {X: 10}}, initial_margin: {A: 100}, default_fund: {A: 20}}
  - {id: N, capital: 1000, liquidity: 1000, positions: {B: {X: -10}}, initial_margin: {B: 100}, default_fund: {B: 30}}
links:
  - {between: [A, B], model: peer, segregated: true}
defaults: {exogenous: [D]}
)";

// The normal 99% quantile (from tables) and the one-day parametric margin on
// a position of `value` USD of X (volatility 0.5 a year over 365 days).
constexpr double kQ99 = 2.3263478740408408;
double link_margin(double value) { return kQ99 * value * 0.5 / std::sqrt(365.0); }

ScenarioResult crash(std::string_view yaml, std::vector<config::Override> overrides = {}) {
  const Model model = build_model(config::load_scenario_text(yaml, "t.yaml", std::move(overrides)));
  return run_move(model, stress_move(model, model.stress_scenarios[0]));
}

TEST(Cascade, CcpFailureCrossesAPeerLink) {
  const ScenarioResult r = crash(kLinkFailure);
  using L = models::Layer;
  EXPECT_NEAR(layer(r, 0, L::kSitg), 10, 1e-9);
  EXPECT_NEAR(layer(r, 0, L::kMutualizedDf), 0, 1e-9);
  EXPECT_NEAR(layer(r, 0, L::kCcpEquity), 90, 1e-9);
  EXPECT_NEAR(r.ccp_uncovered[0], 280, 1e-9);
  EXPECT_EQ(r.ccp_fail_round[0], 1);
  EXPECT_EQ(r.ccp_fail_cause[0], FailureCause::kMembers);
  EXPECT_NEAR(r.ccp_resolution_links[0], 280, 1e-9);
  EXPECT_NEAR(r.ccp_resolution_members[0], 0, 1e-9);
  // B: the VM A did not pay, once, net of A's link margin.
  const double lm = link_margin(1000.0);
  EXPECT_NEAR(r.ccp_link_in[1], 280, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kDefaulterIm), lm, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kSitg), 20, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kMutualizedDf), 30, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kAssessments), 30, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kVmgh), 280 - lm - 80, 1e-9);
  EXPECT_NEAR(r.ccp_loss(1), 280 - lm, 1e-9);
  EXPECT_EQ(r.ccp_fail_round[1], -1);
  EXPECT_EQ(r.rounds, 2);
  EXPECT_NEAR(r.closeout_loss, 500, 1e-9);
  EXPECT_NEAR(r.ledger_total(), 500, 1e-9);
  // Borne by others than the defaulters (D, and A's link margin at B): A's
  // SITG and equity, B's SITG, N's DF, assessment and VM haircut.
  EXPECT_NEAR(r.total_loss, 100 + (280 - lm), 1e-9);
}

// B replaces the link positions A no longer stands behind. When A fails, B
// is left holding A's account at B (long 10 X), the other side of N's short:
// it sells it as it would close out a defaulter's book (PFMI Principle 20,
// key consideration 8: the link's margin covers the exposure to the linked
// CCP, its replacement included), at the square-root cost of 10 X at today's
// price in one period, c = k |x| sqrt(|x| / ADV) = 0.5 x 1,000 x
// sqrt(1,000 / 1e6) = 15.8114. The cost is part of B's close-out amount
// against A: A's debt on its link book. D's close-out at A costs c too: A's
// shortfall is 280 + c after its layers and 280 + 2c with the replacement,
// all of it B's (the only creditor): B's line 280 + 2c against A's link
// margin, then B's layers. The replacement is a close-out loss of A, the
// defaulter on the link book; B receives it across the link.
TEST(Cascade, ALinkedCcpReplacesTheLinkPositionsOfAFailedPeer) {
  const ScenarioResult r =
      crash(kLinkFailure, {{"market.assets.X.adv", "1e6"}, {"market.assets.X.liquidation_cost", "0.5"}});
  using L = models::Layer;
  const double c = 0.5 * 1000.0 * std::sqrt(1000.0 / 1e6), lm = link_margin(1000.0);
  EXPECT_NEAR(r.ccp_uncovered[0], 280 + 2 * c, 1e-9);
  EXPECT_NEAR(r.ccp_closeout[0], 500 + 2 * c, 1e-9);
  EXPECT_NEAR(r.ccp_resolution_links[0], 280 + 2 * c, 1e-9);
  EXPECT_NEAR(r.ccp_link_in[1], 280 + 2 * c, 1e-9);
  EXPECT_NEAR(r.ccp_closeout[1], 0, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kDefaulterIm), lm, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kVmgh), 280 + 2 * c - lm - 80, 1e-9);
  EXPECT_NEAR(r.closeout_loss, 500 + 2 * c, 1e-9);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
  EXPECT_EQ(r.ccp_fail_round[1], -1);
}

// The stress report tells the same story: A's waterfall leaves 280 + c
// uncovered, B's replacement adds c, and the shortfall its creditor shares
// is 280 + 2c (the text, stress.json and stress_layers.csv).
TEST(Cascade, TheStressReportShowsTheReplacementInTheFailedCcpsShortfall) {
  const Model model = build_model(config::load_scenario_text(
      kLinkFailure, "t.yaml", {{"market.assets.X.adv", "1e6"}, {"market.assets.X.liquidation_cost", "0.5"}}));
  const auto outcomes = run_stress(model);
  ASSERT_EQ(outcomes.size(), 1u);
  const double c = 0.5 * 1000.0 * std::sqrt(1000.0 / 1e6);
  const auto json = stress_json(model, outcomes);
  int failing = 0;
  for (const auto& e : json["stress_scenarios"][0]["waterfalls"]) {
    if (!e["fails"].get<bool>()) {
      EXPECT_EQ(e["link_replacement"].get<double>(), 0.0);
      continue;
    }
    ++failing;
    EXPECT_EQ(e["ccp"], "A");
    EXPECT_NEAR(e["uncovered"].get<double>(), 280 + c, 1e-9);
    EXPECT_NEAR(e["link_replacement"].get<double>(), c, 1e-9);
    EXPECT_NEAR(e["shortfall"].get<double>(), 280 + 2 * c, 1e-9);
  }
  EXPECT_EQ(failing, 1);
  EXPECT_NEAR(json["stress_scenarios"][0]["ccps"]["A"]["uncovered"].get<double>(), 280 + 2 * c, 1e-9);
  const std::string text = format_stress(model, outcomes);
  EXPECT_NE(text.find("+ link replacement"), std::string::npos) << text;
  EXPECT_NE(text.find("= SHORTFALL"), std::string::npos) << text;
  EXPECT_NE(stress_layers_csv(model, outcomes).find(",A,link_replacement,"), std::string::npos);
}

// Two linked CCPs failing in the same round: kLinkFailure with a square-root
// cost on X (ADV 1e6, k 0.5) and, at B, E long 30 Y (exogenous, IM 100)
// against F short 30 Y; X and Y fall 50%; B's rulebook has no VMGH.
std::string same_round_failures() {
  std::string yaml(kLinkFailure);
  const auto edit = [&yaml](std::string_view from, std::string_view to) {
    const auto at = yaml.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) yaml.replace(at, from.size(), to);
  };
  edit("assets: [{id: X, price: 100, volatility: 0.5}]",
       "assets: [{id: X, price: 100, volatility: 0.5, adv: 1.0e6, liquidation_cost: 0.5}, "
       "{id: Y, price: 100, volatility: 0.5}]");
  edit("moves: {X: -0.5}", "moves: {X: -0.5, Y: -0.5}");
  edit("  - {id: B, capital: 1000, sitg: 20,",
       "  - {id: B, capital: 100, sitg: 20, waterfall: [defaulter_im, defaulter_df, sitg, mutualized_df, "
       "ccp_equity],");
  edit("links:\n",
       "  - {id: E, capital: 1000, liquidity: 1000, positions: {B: {Y: 30}}, initial_margin: {B: 100}, "
       "default_fund: {B: 0}}\n"
       "  - {id: F, capital: 1.0e6, liquidity: 1.0e6, positions: {B: {Y: -30}}, initial_margin: {B: 0}, "
       "default_fund: {B: 0}}\n"
       "links:\n");
  edit("defaults: {exogenous: [D]}", "defaults: {exogenous: [D, E]}");
  return yaml;
}

// Neither replaces the other's link positions: each one's own positions
// close with it (PFMI Principle 20, key consideration 8: the replacement is
// a standing CCP's cost of the exposure it is left with). Round 1:
//   A: D's 500 + c (c = 0.5 x 1,000 x sqrt(1e-3) = 15.8114) runs through
//   A's layers (220): A's shortfall is 280 + c.
//   B: E's 1,500 - IM 100 - SITG 20 - N's fund 30 - equity 80 = 1,270.
//   Both fail; their failures are resolved after the round's waterfalls,
//   so neither claim carries a replacement (had B, standing, replaced A's
//   long 10 X at B, A's shortfall would be 280 + 2c; had A replaced B's
//   short 10 X at A, B's would be 1,270 + c). B's creditors: N (VM gain
//   500), F (1,500) and A, which holds B's link margin lm and has no VM
//   claim (A's account at B is long): the collateral lm comes off, and N
//   and F share 1,270 - lm. A's only creditor is B.
// Round 2: B's loss on A (280 + c) reaches B late: A's link margin lm at B
// takes lm of it, N and F the 280 + c - lm left, within what is left of
// their gains (2,000 - (1,270 - lm)).
TEST(Cascade, LinkedCcpsFailingInTheSameRoundReplaceNothing) {
  const ScenarioResult r = crash(same_round_failures());
  const double lm = link_margin(1000.0);
  EXPECT_EQ(r.ccp_fail_round[0], 1);
  EXPECT_EQ(r.ccp_fail_round[1], 1);
  const double c = 0.5 * 1000.0 * std::sqrt(1e-3), late = 280.0 + c - lm;
  EXPECT_NEAR(r.ccp_uncovered[0], 280.0 + c, 1e-9);
  EXPECT_NEAR(r.ccp_closeout[0], 500.0 + c, 1e-9);
  EXPECT_NEAR(r.ccp_uncovered[1], 1270.0 + late, 1e-9);
  EXPECT_NEAR(r.ccp_resolution_members[1], 1270.0 - lm + late, 1e-9);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9 * r.closeout_loss);
}

// The stress report shows the late loss as a waterfall of B's in round 2:
// A's line 280 + c, A's link margin lm absorbs lm, 280 + c - lm uncovered
// (its creditors' late claim); so B's rounds add up to its totals.
TEST(Cascade, TheStressReportShowsALateLossAtAFailedCcp) {
  const Model model = build_model(config::load_scenario_text(same_round_failures(), "t.yaml", {}));
  const auto outcomes = run_stress(model);
  ASSERT_EQ(outcomes.size(), 1u);
  const double lm = link_margin(1000.0), c = 0.5 * 1000.0 * std::sqrt(1e-3);
  int late_events = 0;
  std::array<double, models::kLayerCount> b_layers{};
  double b_uncovered = 0.0;
  for (const WaterfallEvent& e : outcomes[0].trace.events) {
    if (e.ccp != 1) continue;
    for (std::size_t l = 0; l < models::kLayerCount; ++l) b_layers[l] += e.by_layer[l];
    b_uncovered += e.uncovered + e.link_replacement;
    if (e.round != 2) continue;
    ++late_events;
    EXPECT_TRUE(e.link_losses);
    ASSERT_EQ(e.defaulters.size(), 1u);
    EXPECT_NEAR(e.defaulters[0].loss, 280.0 + c, 1e-9);
    EXPECT_NEAR(e.by_layer[static_cast<std::size_t>(models::Layer::kDefaulterIm)], lm, 1e-9);
    EXPECT_NEAR(e.uncovered, 280.0 + c - lm, 1e-9);
  }
  EXPECT_EQ(late_events, 1);
  const ScenarioResult& r = outcomes[0].result;
  for (std::size_t l = 0; l < models::kLayerCount; ++l)
    EXPECT_NEAR(b_layers[l], r.ccp_layers[models::kLayerCount + l], 1e-9) << l;
  EXPECT_NEAR(b_uncovered, r.ccp_uncovered[1], 1e-9);
  const std::string text = format_stress(model, outcomes);
  EXPECT_NE(text.find("-> a late loss the failed CCP's creditors bear"), std::string::npos) << text;
}

// A participant's fund at a failed host is default fund used. The same two
// failures with A a participant of B (PFMI Principle 20, participant links:
// A clears at B as a member, posting B's margin lm and 10 of B's fund of 40)
// and B's rulebook without a mutualised layer, so that A's 10 is still there
// when A's loss reaches B. Round 1: B's 1,500 on E - IM 100 - SITG 20 -
// equity 80: B fails; A fails on its 280 + c. Round 2: A's line 280 + c
// reaches B late and takes A's margin lm and A's contribution 10 as a
// defaulter's own (RTS 153/2013 art. 35: a defaulter's contribution comes
// before the CCP's resources): B's default fund used is those 10, as the
// same line would count at a standing B (settle_ccp).
TEST(Cascade, AParticipantsFundTakenByALateLossIsDefaultFundUsed) {
  std::string yaml = same_round_failures();
  const auto waterfall = yaml.rfind("mutualized_df, ccp_equity]");  // B's
  ASSERT_NE(waterfall, std::string::npos);
  yaml.replace(waterfall, std::string_view("mutualized_df, ccp_equity]").size(), "ccp_equity]");
  const ScenarioResult r = crash(yaml, {{"links", "[{between: [A, B], model: participant}]"},
                                        {"ccps.B.default_fund", "{sizing: fixed, amount: 40}"}});
  const double lm = link_margin(1000.0), c = 0.5 * 1000.0 * std::sqrt(1e-3);
  using L = models::Layer;
  EXPECT_EQ(r.ccp_fail_round[0], 1);
  EXPECT_EQ(r.ccp_fail_round[1], 1);
  EXPECT_NEAR(r.ccp_link_in[1], 280.0 + c, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kDefaulterIm), 100.0 + lm, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kDefaulterDf), 10.0, 1e-9);
  EXPECT_NEAR(r.ccp_df_used[1], 10.0, 1e-9);
  EXPECT_NEAR(r.ccp_uncovered[1], 1300.0 + 280.0 + c - lm - 10.0, 1e-9);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9 * r.closeout_loss);
}

// The same scenario with its CCPs in the other order (B listed first).
std::string ccps_swapped(const std::string& yaml) {
  const auto a = yaml.find("  - id: A\n"), b = yaml.find("  - {id: B,");
  EXPECT_NE(a, std::string::npos);
  EXPECT_NE(b, std::string::npos);
  if (a == std::string::npos || b == std::string::npos) return yaml;
  const auto b_end = yaml.find('\n', b) + 1;
  std::string swapped = yaml;
  swapped.erase(b, b_end - b);
  swapped.insert(a, yaml.substr(b, b_end - b));
  return swapped;
}

// Every CCP's figures are the same, by name, whichever CCP the file lists first.
void expect_same_by_name(const ScenarioResult& r, const ScenarioResult& s) {
  for (std::size_t i = 0; i < 2; ++i) {
    const std::size_t j = 1 - i;  // the same CCP in the swapped file
    EXPECT_NEAR(s.ccp_uncovered[j], r.ccp_uncovered[i], 1e-9) << i;
    EXPECT_NEAR(s.ccp_closeout[j], r.ccp_closeout[i], 1e-9) << i;
    EXPECT_NEAR(s.ccp_resolution_members[j], r.ccp_resolution_members[i], 1e-9) << i;
    EXPECT_NEAR(s.ccp_resolution_links[j], r.ccp_resolution_links[i], 1e-9) << i;
    EXPECT_NEAR(s.ccp_link_in[j], r.ccp_link_in[i], 1e-9) << i;
    EXPECT_NEAR(s.ccp_unallocated[j], r.ccp_unallocated[i], 1e-9) << i;
    EXPECT_EQ(s.ccp_fail_round[j], r.ccp_fail_round[i]) << i;
  }
  EXPECT_NEAR(s.closeout_loss, r.closeout_loss, 1e-9);
  EXPECT_NEAR(s.total_loss, r.total_loss, 1e-9);
  EXPECT_NEAR(s.client_loss, r.client_loss, 1e-9);
}

// The same two failures with B listed first: every CCP's numbers are the
// same, by name (no replacement, whatever the CCPs' order). The link is
// segregated: neither CCP holds the other's collateral at risk.
TEST(Cascade, SameRoundReplacementsDoNotDependOnTheOrderOfTheCcps) {
  const std::string yaml = same_round_failures();
  expect_same_by_name(crash(yaml), crash(ccps_swapped(yaml)));
}

// Two CCPs failing in the same round that hold each other's link margin,
// not segregated (recovery 25%): each is the other's unsecured creditor (its
// margin at the other) and its secured creditor (the other's margin it
// holds). The margin a CCP applies against its claim on the other is set off:
// the poster no longer claims it back (insolvency set-off of mutual claims;
// PFMI Principle 20, key consideration 8). Here each shortfall exceeds the
// margin the other holds (A's 280 + c and B's 1,270 against lm = 60.88), so
// each applies all of it, neither claims any back, and every figure is the
// segregated link's (LinkedCcpsFailingInTheSameRoundReplaceNothing): A's
// creditor B shares 280 + c - lm, B's members 1,270 - lm then the late
// 280 + c - lm. Neither resolution may see the other's effects: the same
// numbers whichever CCP is listed first.
TEST(Cascade, MutualNonSegregatedLinkMarginIsSetOffWhateverTheOrderOfTheCcps) {
  std::string yaml = same_round_failures();
  const std::string_view from = "segregated: true}";
  yaml.replace(yaml.find(from), from.size(), "segregated: false, recovery_rate: 0.25}");
  const ScenarioResult r = crash(yaml), s = crash(ccps_swapped(yaml));
  ASSERT_EQ(r.ccp_fail_round[0], 1);
  ASSERT_EQ(r.ccp_fail_round[1], 1);
  const double lm = link_margin(1000.0), c = 0.5 * 1000.0 * std::sqrt(1e-3), late = 280.0 + c - lm;
  EXPECT_NEAR(r.ccp_uncovered[0], 280.0 + c, 1e-9);
  EXPECT_NEAR(r.ccp_resolution_links[0], 280.0 + c, 1e-9);
  EXPECT_NEAR(r.ccp_uncovered[1], 1270.0 + late, 1e-9);
  EXPECT_NEAR(r.ccp_resolution_members[1], 1270.0 - lm + late, 1e-9);
  EXPECT_NEAR(r.ccp_resolution_links[1], lm, 1e-9);
  EXPECT_NEAR(r.ccp_unallocated[0] + r.ccp_unallocated[1], 0.0, 1e-9);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9 * r.closeout_loss);
  expect_same_by_name(r, s);
  expect_same_by_name(r, crash(ccps_swapped(same_round_failures())));
}

// A failed CCP whose creditors lose their VM gains and non-segregated
// margin pro rata (the test below works the numbers).
constexpr std::string_view kNonSegregatedLink = R"(name: non-segregated link margin
market:
  assets: [{id: X, price: 100, volatility: 0.5}]
  stress_scenarios: [{name: crash, moves: {X: -0.5}, days: 1}]
ccps:
  - id: A
    capital: 100
    sitg: 10
    margin: {model: parametric, mpor_days: 1}
    default_fund: {sizing: fixed, amount: 20}
    waterfall: [defaulter_im, defaulter_df, sitg, ccp_equity]
    im_segregated: false
    im_recovery_rate: 0.5
  - {id: B, capital: 1000, sitg: 20, margin: {model: parametric, mpor_days: 1}, default_fund: {sizing: fixed, amount: 30}}
members:
  - {id: D, capital: 1000, liquidity: 1000, positions: {A: {X: 10}}, initial_margin: {A: 100}, default_fund: {A: 20}}
  - {id: S, capital: 1000, liquidity: 1000, positions: {A: {X: -5}}, initial_margin: {A: 50}, default_fund: {A: 0}}
  - {id: N, capital: 1000, liquidity: 1000, positions: {B: {X: -5}}, initial_margin: {B: 100}, default_fund: {B: 30}}
links:
  - {between: [A, B], model: peer, segregated: false, recovery_rate: 0.25}
defaults: {exogenous: [D]}
)";

TEST(Cascade, NonSegregatedLinkMarginIsLostProRataByStakeWithTheFailedCcpsOtherCreditors) {
  // A's rulebook has no VMGH: past its layers, its creditors share the rest pro
  // rata (pari passu in A's insolvency), each up to its stake: VM gains owed,
  // DF left, non-segregated IM and link margin net of the recovery rate. B is
  // a secured creditor: it holds A's link margin L5 (on A's long 5 X at B) and
  // sets its claim off against it; the collateral is A's estate's, so all of it
  // comes off what is left to share, and B shares only its claim beyond it
  // (insolvency set-off; PFMI Principle 20, key consideration 8).
  //   A: D long 10 (loses 500); S short 5 (gains 250; IM 50, not segregated,
  //   recovery 50%: stake 250 + 25); B's account short 5 (gains 250; its link
  //   margin at A, L5 = q 500 0.5 / sqrt(365), not segregated, recovery 25%:
  //   stake 250 + 0.75 L5). U = 500 - 100 - 20 - 10 - 90 = 280.
  //   Set-off: B's unsecured claim 250 + 0.75 L5 - L5 = 250 - 0.25 L5; left to
  //   share 280 - L5; rate = (280 - L5) / (275 + 250 - 0.25 L5).
  //   S loses 275 rate; B's line is L5 (the collateral used) + (250 - 0.25 L5) rate.
  //   At B: A's account (long 5) loses B's line; A's link margin L5, SITG 20,
  //   N's DF 30, assessments 30, VMGH on N's gain (250) the rest.
  //   (Pro rata on the gross claims, with L5 kept against B's share only, S
  //   would lose 275 x 280 / (525 + 0.75 L5): 8 more, for A's collateral.)
  const ScenarioResult r = crash(kNonSegregatedLink);
  using L = models::Layer;
  const double l5 = link_margin(500.0);
  const double stake_s = 250 + 25, unsecured_b = 250 - 0.25 * l5;
  const double rate = (280 - l5) / (stake_s + unsecured_b);
  EXPECT_NEAR(r.ccp_uncovered[0], 280, 1e-9);
  EXPECT_NEAR(r.ccp_resolution_members[0], stake_s * rate, 1e-9);
  EXPECT_NEAR(r.ccp_resolution_members[0], 132.64, 0.01);  // by hand: L5 = 30.44, rate 0.48234
  EXPECT_NEAR(r.ccp_resolution_links[0], l5 + unsecured_b * rate, 1e-9);
  EXPECT_NEAR(r.ccp_unallocated[0], 0, 1e-9);
  const double b_loss = l5 + unsecured_b * rate;
  EXPECT_NEAR(r.ccp_link_in[1], b_loss, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kDefaulterIm), l5, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kVmgh), b_loss - l5 - 80, 1e-9);
  EXPECT_EQ(r.ccp_fail_round[1], -1);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
  // S's losses as a creditor of A, by channel: its VM gain and its IM, pro rata.
  double unpaid = 0, margin = 0;
  for (const auto& l : r.account_losses) {
    if (l.channel == LossChannel::kUnpaidVm) unpaid += l.amount;
    if (l.channel == LossChannel::kMarginLost) margin += l.amount;
  }
  EXPECT_NEAR(unpaid, 250 * rate, 1e-9);
  EXPECT_NEAR(margin, 25 * rate, 1e-9);
}

// The replacement is part of the linked CCP's claim, set off against the
// failed CCP's collateral like the rest of it, and what is unsecured ranks
// pari passu with the other creditors (close-out netting and insolvency
// set-off; PFMI Principle 20, key consideration 8). kNonSegregatedLink with a
// square-root cost (ADV 1e6, k 0.5): D's close-out costs c10 = 0.5 x 1,000 x
// sqrt(1e-3) = 15.8114, B's replacement of A's long 5 X at B c5 = 0.5 x 500
// x sqrt(5e-4) = 5.5902. A's shortfall: 280 + c10 after its layers, 280 +
// c10 + c5 with its link book replaced. B's claim 250 + 0.75 L5 + c5 is
// secured up to L5: unsecured 250 - 0.25 L5 + c5; S's 275. Left to share
// 280 + c10 + c5 - L5 at rate (280 + c10 + c5 - L5) / (525 - 0.25 L5 + c5).
// By hand: L5 = 30.442, rate = 270.960 / 522.980 = 0.51811; S bears 142.48
// and B 30.44 + 247.98 x 0.51811 = 158.92 (sum 301.40 = 280 + c10 + c5).
// With B bearing its replacement alone (the old treatment) S would bear 275
// x (265.370 / 517.390) = 141.05.
TEST(Cascade, TheReplacementIsPartOfTheLinkedCcpsSecuredClaim) {
  const ScenarioResult r =
      crash(kNonSegregatedLink, {{"market.assets.X.adv", "1e6"}, {"market.assets.X.liquidation_cost", "0.5"}});
  using L = models::Layer;
  const double l5 = link_margin(500.0), c10 = 0.5 * 1000.0 * std::sqrt(1e-3), c5 = 0.5 * 500.0 * std::sqrt(5e-4);
  const double shortfall = 280 + c10 + c5, unsecured_b = 250 - 0.25 * l5 + c5;
  const double rate = (shortfall - l5) / (275 + unsecured_b);
  EXPECT_NEAR(r.ccp_uncovered[0], shortfall, 1e-9);
  EXPECT_NEAR(r.ccp_resolution_members[0], 275 * rate, 1e-9);
  EXPECT_NEAR(r.ccp_resolution_members[0], 142.48, 0.01);
  EXPECT_NEAR(r.ccp_resolution_links[0], l5 + unsecured_b * rate, 1e-9);
  EXPECT_NEAR(r.ccp_resolution_links[0], 158.92, 0.01);
  EXPECT_NEAR(r.ccp_unallocated[0], 0, 1e-9);
  EXPECT_NEAR(r.ccp_link_in[1], l5 + unsecured_b * rate, 1e-9);
  EXPECT_NEAR(r.ccp_closeout[1], 0, 1e-9);  // B's replacement is in its claim, not on top of it
  EXPECT_NEAR(layer(r, 1, L::kDefaulterIm), l5, 1e-9);
  EXPECT_NEAR(r.closeout_loss, 500 + c10 + c5, 1e-9);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
}

// One Cascade runs scenario after scenario (a worker's): what a scenario
// leaves on the accounts (funds used, margin lost as a creditor of a failed
// CCP, accounts closed) must not reach the next, or the second of two equal
// scenarios would see S's and B's stakes at A shrunk by the first's losses
// (S: margin 25 - 25 x rate) and share A's 280 - L5 at another rate. The
// cascade's inputs by hand: X falls 50% from 100, so an account's P&L is
// -50 x its contracts (D -500, S +250, B's account at A +250, A's account at
// B -250, N +250), and a member's capital and cash take its accounts' P&L.
TEST(Cascade, AReusedCascadeStartsEachScenarioAfresh) {
  const Model model = model_of(kNonSegregatedLink);
  std::vector<double> pnl(model.accounts.size()), capital(model.members.size(), 0.0);
  for (std::size_t a = 0; a < model.accounts.size(); ++a) {
    pnl[a] = -50.0 * model.accounts[a].quantity(0);
    if (model.accounts[a].kind == AccountKind::kMember)
      capital[static_cast<std::size_t>(model.accounts[a].owner)] += pnl[a];
  }
  std::vector<DefaultCause> initial(model.members.size(), DefaultCause::kNone);
  initial[0] = DefaultCause::kExogenous;  // D
  const auto run = [&](Cascade& cascade, std::int64_t index) {
    ScenarioResult r;
    r.reset(model, index);
    cascade.run(std::span<const double>(pnl), capital, capital, initial, r);
    return r;
  };
  Cascade reused(model), fresh(model);
  const ScenarioResult first = run(reused, 0), second = run(reused, 1), alone = run(fresh, 1);
  const double l5 = link_margin(500.0), rate = (280 - l5) / (275 + 250 - 0.25 * l5);
  EXPECT_NEAR(first.ccp_resolution_members[0], 275 * rate, 1e-9);
  for (const ScenarioResult* r : {&second, &alone}) {
    EXPECT_EQ(r->ccp_resolution_members, first.ccp_resolution_members);
    EXPECT_EQ(r->ccp_resolution_links, first.ccp_resolution_links);
    EXPECT_EQ(r->ccp_layers, first.ccp_layers);
    ASSERT_EQ(r->account_losses.size(), first.account_losses.size());
    for (std::size_t i = 0; i < first.account_losses.size(); ++i) {
      EXPECT_EQ(r->account_losses[i].account, first.account_losses[i].account);
      EXPECT_EQ(r->account_losses[i].channel, first.account_losses[i].channel);
      EXPECT_EQ(r->account_losses[i].amount, first.account_losses[i].amount);
    }
  }
}

TEST(Cascade, AFailedCcpsCollateralBeyondItsLinkedCcpsClaimGoesToItsEstate) {
  // Set-off with a surplus. A owes B 100 on the link and B holds A's link
  // margin L2 (on A's long 2 X at B: q 200 0.5 / sqrt(365) = 12.18) and A's link
  // fund 100: collateral 112.18 for a claim of 100. B is paid in full from it
  // and the 12.18 left is A's, for its other creditors (insolvency set-off).
  //   A: D long 10 (loses 500, IM 100, DF 20), S short 8 (gains 400, segregated
  //   IM), B's account short 2 (gains 100). U = 500 - 120 - 10 - 90 = 280.
  //   All of A's collateral at B comes off: 280 - 112.18 = 167.82 is left, and
  //   S (the only unsecured claim, 400) bears it. B's line is 112.18, absorbed
  //   by A's margin and fund there: B's own layers pay nothing.
  //   (Pro rata on gross claims, S would bear 280 x 400 / 500 = 224.)
  const std::string yaml = R"(name: collateral beyond the claim
market:
  assets: [{id: X, price: 100, volatility: 0.5}]
  stress_scenarios: [{name: crash, moves: {X: -0.5}, days: 1}]
ccps:
  - id: A
    capital: 100
    sitg: 10
    margin: {model: parametric, mpor_days: 1}
    default_fund: {sizing: fixed, amount: 20}
    waterfall: [defaulter_im, defaulter_df, sitg, ccp_equity]
  - {id: B, capital: 1000, sitg: 20, margin: {model: parametric, mpor_days: 1}, default_fund: {sizing: fixed, amount: 30}}
members:
  - {id: D, capital: 1000, liquidity: 1000, positions: {A: {X: 10}}, initial_margin: {A: 100}, default_fund: {A: 20}}
  - {id: S, capital: 1000, liquidity: 1000, positions: {A: {X: -8}}, initial_margin: {A: 80}, default_fund: {A: 0}}
  - {id: N, capital: 1000, liquidity: 1000, positions: {B: {X: -2}}, initial_margin: {B: 100}, default_fund: {B: 30}}
links:
  - {between: [A, B], model: peer, link_fund: 100}
defaults: {exogenous: [D]}
)";
  const ScenarioResult r = crash(yaml);
  using L = models::Layer;
  const double l2 = link_margin(200.0);
  EXPECT_NEAR(l2, 12.18, 0.01);
  EXPECT_NEAR(r.ccp_uncovered[0], 280, 1e-9);
  EXPECT_NEAR(r.ccp_resolution_members[0], 280 - 100 - l2, 1e-9);
  EXPECT_NEAR(r.ccp_resolution_links[0], 100 + l2, 1e-9);
  EXPECT_NEAR(r.ccp_unallocated[0], 0, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kDefaulterIm), l2, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kDefaulterDf), 100, 1e-9);
  EXPECT_NEAR(r.ccp_loss(1), 0, 1e-9);
  EXPECT_EQ(r.ccp_fail_round[1], -1);
  double unpaid = 0;
  for (const auto& l : r.account_losses)
    if (l.channel == LossChannel::kUnpaidVm) unpaid += l.amount;
  EXPECT_NEAR(unpaid, 280 - 100 - l2, 1e-9);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
  EXPECT_NEAR(r.closeout_loss, 500, 1e-9);
}

TEST(Cascade, TwoLinkedCcpsFailingInOneRoundPassTheirLossesToEachOthersCreditors) {
  // A and B fail in the same round; each is a creditor of the other, and what
  // one's estate does not pay the other is a loss of the other's estate after
  // its resolution: its creditors bear it on what is left of their stakes
  // (it used to be unallocated). Each failed CCP's collateral at the other
  // absorbs first, as at a standing CCP. X falls 50%; L = the link margin on 10 X.
  //   A: D_A long 10 (loses 500: IM 100, DF 20, SITG 10, equity 90); B's
  //   account short 10 (gains 500). U_A = 280, B's claim 500, A's collateral
  //   at B L: B's line is L + (280 - L) = 280.
  //   B: D_B long 5 (loses 250: IM 50, DF 10, SITG 5, equity 15), N short 10
  //   and S short 5 (gains 500 and 250), A's account long 10. U_B = 170; A has
  //   no claim, B's collateral at A is L: N and S share 170 - L (rate
  //   (170 - L) / 750); A's line is L.
  //   Round 2: at A, B's margin absorbs B's line L. At B, A's margin absorbs L
  //   of A's line, and the 280 - L left goes to N and S on what is left of
  //   their gains (750 - 170 + L).
  //   N and S bear 450 - 2L in all; nothing is unallocated. The system's
  //   close-out loss 750 = 120 + 100 + 60 + 20 + 2L + (450 - 2L).
  const std::string yaml = R"(name: two CCPs failing together
market:
  assets: [{id: X, price: 100, volatility: 0.5}]
  stress_scenarios: [{name: crash, moves: {X: -0.5}, days: 1}]
ccps:
  - id: A
    capital: 100
    sitg: 10
    margin: {model: parametric, mpor_days: 1}
    default_fund: {sizing: fixed, amount: 20}
    waterfall: [defaulter_im, defaulter_df, sitg, ccp_equity]
  - id: B
    capital: 20
    sitg: 5
    margin: {model: parametric, mpor_days: 1}
    default_fund: {sizing: fixed, amount: 10}
    waterfall: [defaulter_im, defaulter_df, sitg, ccp_equity]
members:
  - {id: DA, capital: 1000, liquidity: 1000, positions: {A: {X: 10}}, initial_margin: {A: 100}, default_fund: {A: 20}}
  - {id: DB, capital: 1000, liquidity: 1000, positions: {B: {X: 5}}, initial_margin: {B: 50}, default_fund: {B: 10}}
  - {id: N, capital: 1000, liquidity: 1000, positions: {B: {X: -10}}, initial_margin: {B: 100}, default_fund: {B: 0}}
  - {id: S, capital: 1000, liquidity: 1000, positions: {B: {X: -5}}, initial_margin: {B: 50}, default_fund: {B: 0}}
links:
  - {between: [A, B], model: peer}
defaults: {exogenous: [DA, DB]}
)";
  const ScenarioResult r = crash(yaml);
  using L = models::Layer;
  const double lm = link_margin(1000.0);
  EXPECT_EQ(r.ccp_fail_round[0], 1);
  EXPECT_EQ(r.ccp_fail_round[1], 1);
  EXPECT_NEAR(r.ccp_resolution_links[0], 280, 1e-9);
  EXPECT_NEAR(r.ccp_resolution_links[1], lm, 1e-9);
  EXPECT_NEAR(layer(r, 0, L::kDefaulterIm), 100 + lm, 1e-9);  // D_A's IM, then B's margin at A
  EXPECT_NEAR(layer(r, 1, L::kDefaulterIm), 50 + lm, 1e-9);   // D_B's IM, then A's margin at B
  EXPECT_NEAR(r.ccp_resolution_members[1], 450 - 2 * lm, 1e-9);
  EXPECT_NEAR(r.ccp_unallocated[0] + r.ccp_unallocated[1], 0, 1e-9);
  double unpaid = 0;
  for (const auto& l : r.account_losses)
    if (l.channel == LossChannel::kUnpaidVm) unpaid += l.amount;
  EXPECT_NEAR(unpaid, 450 - 2 * lm, 1e-9);
  EXPECT_NEAR(r.closeout_loss, 750, 1e-9);
  EXPECT_NEAR(r.ledger_total(), 750, 1e-9);
}

TEST(Cascade, ALinkFundAbsorbsAfterTheLinkMarginAndBeforeTheLinkedCcpsLayers) {
  // As CcpFailureCrossesAPeerLink with a link fund of 50 posted by each side:
  // at B, A's fund absorbs after its link margin. B's fund at A is not
  // mutualised there and, segregated, not at stake in A's failure.
  const ScenarioResult r = crash(kLinkFailure, {{"links", "[{between: [A, B], link_fund: 50}]"}});
  using L = models::Layer;
  const double lm = link_margin(1000.0);
  EXPECT_NEAR(r.ccp_uncovered[0], 280, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kDefaulterIm), lm, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kDefaulterDf), 50, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kVmgh), 280 - lm - 50 - 80, 1e-9);
  EXPECT_NEAR(r.ledger_total(), 500, 1e-9);
}

TEST(Cascade, ALinkFundSizedByStressCoversTheLinksCover1Loss) {
  // link_fund_sizing: cover1. B's stress set for A's account (long 10 X):
  // every asset down 5 daily sigmas (exp(-5 x 0.5 / sqrt(365)) - 1: -12.3%, a
  // loss of 122.65) and the file's crash (-50%: 500). A's fund at B is the
  // largest loss beyond its link margin L: 500 - L. In the crash A's unpaid 280
  // is then covered by L and A's fund: B's own layers pay nothing.
  const std::string yaml(kLinkFailure);
  const Model model = build_model(
      config::load_scenario_text(yaml, "t.yaml", {{"links", "[{between: [A, B], link_fund_sizing: cover1}]"}}));
  const double lm = link_margin(1000.0);
  EXPECT_NEAR(model.accounts[static_cast<std::size_t>(model.links[0].account_at_second)].default_fund, 500 - lm, 1e-9);
  const ScenarioResult r = run_move(model, stress_move(model, model.stress_scenarios[0]));
  using L = models::Layer;
  EXPECT_NEAR(layer(r, 1, L::kDefaulterIm), lm, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kDefaulterDf), 280 - lm, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kSitg), 0, 1e-9);
  EXPECT_NEAR(r.ccp_loss(1), 0, 1e-9);
}

TEST(Cascade, ParticipantLinkTheParticipantPostsMarginAndFundAtTheHostOnly) {
  // PFMI Principle 20 (explanatory notes on participant links): the first CCP
  // (A) is a clearing member of the second (B) under B's participant rules: it posts IM (B's margin model on 10 X: L)
  // and contributes to B's fund (fixed 40, of which N's observed 30: A gets 10); B posts nothing at A. A fails as
  // before (U = 280, B's claim 280: B posted no margin at A). At B, A is a defaulting member: L, then its DF 10, SITG
  // 20, N's DF 30, assessments 30 (N's contribution x 1; A's is gone), VMGH.
  const std::string yaml(kLinkFailure);
  const Model model = build_model(config::load_scenario_text(
      yaml, "t.yaml",
      {{"links", "[{between: [A, B], model: participant}]"}, {"ccps.B.default_fund", "{sizing: fixed, amount: 40}"}}));
  const double lm = link_margin(1000.0);
  const LinkModel& link = model.links[0];
  EXPECT_NEAR(model.accounts[static_cast<std::size_t>(link.account_at_second)].initial_margin, lm, 1e-9);
  EXPECT_NEAR(model.accounts[static_cast<std::size_t>(link.account_at_second)].default_fund, 10, 1e-9);
  EXPECT_EQ(model.accounts[static_cast<std::size_t>(link.account_at_first)].initial_margin, 0.0);
  EXPECT_EQ(model.accounts[static_cast<std::size_t>(link.account_at_first)].default_fund, 0.0);
  const ScenarioResult r = run_move(model, stress_move(model, model.stress_scenarios[0]));
  using L = models::Layer;
  EXPECT_NEAR(r.ccp_uncovered[0], 280, 1e-9);
  EXPECT_NEAR(r.ccp_link_in[1], 280, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kDefaulterIm), lm, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kDefaulterDf), 10, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kMutualizedDf), 30, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kAssessments), 30, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kVmgh), 280 - lm - 10 - 20 - 60, 1e-9);
  EXPECT_EQ(r.ccp_fail_round[1], -1);
  EXPECT_NEAR(r.ledger_total(), 500, 1e-9);
}

// A haircut at a standing peer. A's rulebook has VMGH and A survives:
//   D's loss 500 - IM 100 - DF 20 - SITG 10 = 370; no mutualised fund or
//   assessments from the peer link; VMGH on B's link gain (500): 370.
// B is charged 370 over the link. Through its waterfall (the default): SITG 20,
// N's DF 30, assessments 30, VMGH on N's gain 290: B survives. With
// link_losses: own_capital, only its capital (SITG and equity) pays: it fails
// exactly when 370 exceeds its capital.
constexpr std::string_view kPeerHaircut = R"(name: a haircut at a standing peer
market:
  assets: [{id: X, price: 100, volatility: 0.5}]
  stress_scenarios: [{name: crash, moves: {X: -0.5}, days: 1}]
ccps:
  - {id: A, capital: 100, sitg: 10, margin: {model: parametric, mpor_days: 1}, default_fund: {sizing: fixed, amount: 20}}
  - {id: B, capital: 1000, sitg: 20, margin: {model: parametric, mpor_days: 1}, default_fund: {sizing: fixed, amount: 30}}
members:
  - {id: D, capital: 1000, liquidity: 1000, positions: {A: {X: 10}}, initial_margin: {A: 100}, default_fund: {A: 20}}
  - {id: N, capital: 1000, liquidity: 1000, positions: {B: {X: -10}}, initial_margin: {B: 100}, default_fund: {B: 30}}
links: [{between: [A, B]}]
defaults: {exogenous: [D]}
)";

TEST(Cascade, APeersHaircutGoesThroughTheChargedCcpsOwnWaterfall) {
  const ScenarioResult r = crash(kPeerHaircut);
  using L = models::Layer;
  EXPECT_NEAR(layer(r, 0, L::kVmgh), 370, 1e-9);
  EXPECT_EQ(r.ccp_fail_round[0], -1);
  EXPECT_NEAR(r.ccp_link_out[0], 370, 1e-9);
  EXPECT_NEAR(r.ccp_link_in[1], 370, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kDefaulterIm), 0, 1e-9);  // A is not in default: its margin is not B's
  EXPECT_NEAR(layer(r, 1, L::kSitg), 20, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kMutualizedDf), 30, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kAssessments), 30, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kVmgh), 290, 1e-9);
  EXPECT_EQ(r.ccp_fail_round[1], -1);
  EXPECT_NEAR(r.ledger_total(), 500, 1e-9);
  EXPECT_NEAR(r.total_loss, 10 + 370, 1e-9);
}

TEST(Cascade, OwnCapitalRuleFailsTheChargedCcpExactlyWhenTheHaircutExceedsItsCapital) {
  for (const double capital : {369.0, 371.0}) {
    const ScenarioResult r =
        crash(kPeerHaircut, {{"ccps.B.link_losses", "own_capital"}, {"ccps.B.capital", std::to_string(capital)}});
    using L = models::Layer;
    EXPECT_NEAR(layer(r, 1, L::kMutualizedDf), 0, 1e-9) << capital;
    EXPECT_NEAR(layer(r, 1, L::kSitg) + layer(r, 1, L::kCcpEquity), std::min(capital, 370.0), 1e-9) << capital;
    EXPECT_EQ(r.ccp_fail_round[1] >= 0, capital < 370.0) << capital;
    if (capital < 370.0) {
      EXPECT_EQ(r.ccp_fail_cause[1], FailureCause::kLinks);
      // B's creditors: N (VM gain 500, DF 30) and A. A holds B's link margin
      // (on B's short 10 X at A: 60.9) and returns it to B's estate, where it
      // covers the 1 left: N loses nothing; at A, B's margin absorbs the line.
      EXPECT_NEAR(r.ccp_resolution_members[1], 0.0, 1e-9);
      EXPECT_NEAR(r.ccp_resolution_links[1], 370.0 - capital, 1e-9);
      EXPECT_NEAR(layer(r, 0, L::kDefaulterIm), 100 + (370.0 - capital), 1e-9);
    }
    EXPECT_NEAR(r.ledger_total(), 500, 1e-9) << capital;
  }
}

TEST(Cascade, TerminatesWithinTheRoundBound) {
  const Model model = model_of(kLinkFailure);
  for (double m : {-0.1, -0.5, -0.9, 0.5, 3.0}) {
    auto stress = model.stress_scenarios[0];
    stress.moves[0].second = m;
    const ScenarioResult r = run_move(model, stress_move(model, stress));
    EXPECT_LE(r.rounds, 2 * static_cast<int>(model.members.size() + model.ccps.size()) + 16);
    EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9 * std::max(1.0, r.closeout_loss));
  }
}

// VMGH caps through the YAML engine: the common-member system above with
// A: capital 200 (equity 190), vmgh: {max_rate: 0.3}; B: capital 1000 (equity
// 980), vmgh: {total: 100}. X falls 50%.
// Round 1 at A: D's loss 500 - IM 100 - DF 20 = 380; SITG 10 -> 370; M's DF 60
//   -> 310; assessment 60 -> 250 for VMGH. M's gain at A is 500: max_rate caps
//   the haircut at 0.3 x 500 = 150; the 100 left goes to A's equity (190 -> 90).
//   M is charged 60 + 60 + 150 = 270 > capital 50: M defaults.
// Round 2 at B: M's loss 500 - IM 100 - DF 40 = 360; SITG 20 -> 340; N's DF 50
//   -> 290; assessment 50 -> 240; VMGH: N's gain 500, the total cap allows 100;
//   B's equity takes the other 140.
// With per_call: 120 at A instead, A's VMGH takes 120 and its equity 130.
constexpr std::string_view kVmghCaps = R"(name: VMGH caps
market:
  assets: [{id: X, price: 100, volatility: 0.5}]
  stress_scenarios: [{name: crash, moves: {X: -0.5}, days: 1}]
ccps:
  - id: A
    capital: 200
    sitg: 10
    margin: {model: parametric, mpor_days: 1}
    default_fund: {sizing: fixed, amount: 80}
    vmgh: {max_rate: 0.3}
  - id: B
    capital: 1000
    sitg: 20
    margin: {model: parametric, mpor_days: 1}
    default_fund: {sizing: fixed, amount: 90}
    vmgh: {total: 100}
members:
  - {id: D, capital: 1000, liquidity: 1000, positions: {A: {X: 10}}, initial_margin: {A: 100}, default_fund: {A: 20}}
  - id: M
    capital: 50
    liquidity: 1000
    positions: {A: {X: -10}, B: {X: 10}}
    initial_margin: {A: 100, B: 100}
    default_fund: {A: 60, B: 40}
  - {id: N, capital: 1000, liquidity: 1000, positions: {B: {X: -10}}, initial_margin: {B: 100}, default_fund: {B: 50}}
defaults: {exogenous: [D]}
)";

// The account of member m at CCP c.
int account_of(const Model& model, int m, int c) {
  for (int a : model.members[static_cast<std::size_t>(m)].accounts)
    if (model.accounts[static_cast<std::size_t>(a)].ccp == c) return a;
  return -1;
}

double channel_total(const ScenarioResult& r, int account, LossChannel channel) {
  double sum = 0.0;
  for (const AccountLoss& l : r.account_losses)
    if (l.account == account && l.channel == channel) sum += l.amount;
  return sum;
}

TEST(Cascade, VmghCapsPassWhatTheyLeaveToTheNextLayer) {
  const Model model = model_of(kVmghCaps);
  using L = models::Layer;
  for (int run = 0; run < 2; ++run) {  // the caps are reset at each scenario's start
    const ScenarioResult r = run_move(model, stress_move(model, model.stress_scenarios[0]));
    EXPECT_NEAR(layer(r, 0, L::kAssessments), 60, 1e-9);
    EXPECT_NEAR(layer(r, 0, L::kVmgh), 150, 1e-9);
    EXPECT_NEAR(layer(r, 0, L::kCcpEquity), 100, 1e-9);
    EXPECT_NEAR(layer(r, 1, L::kAssessments), 50, 1e-9);
    EXPECT_NEAR(layer(r, 1, L::kVmgh), 100, 1e-9);
    EXPECT_NEAR(layer(r, 1, L::kCcpEquity), 140, 1e-9);
    EXPECT_EQ(r.ccp_failures(), 0);
    ASSERT_EQ(r.defaults.size(), 2u);
    EXPECT_EQ(r.defaults[1].cause, DefaultCause::kSolvency);
    EXPECT_NEAR(channel_total(r, account_of(model, 1, 0), LossChannel::kVmgh), 150, 1e-9);
    EXPECT_NEAR(channel_total(r, account_of(model, 2, 1), LossChannel::kVmgh), 100, 1e-9);
    EXPECT_NEAR(r.total_loss, 380 + 360, 1e-9);
    EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
  }
  const ScenarioResult r = crash(kVmghCaps, {config::Override::parse("ccps[0].vmgh.per_call=120")});
  EXPECT_NEAR(layer(r, 0, L::kVmgh), 120, 1e-9);
  EXPECT_NEAR(layer(r, 0, L::kCcpEquity), 130, 1e-9);
}

// ADL at the bankruptcy price through the YAML engine (BitMEX, "Auto-
// Deleveraging": opposite positions are closed at the bankruptcy price of the
// liquidated position, by quantity, in ranking order PnL% x effective
// leverage, effective leverage = mark value / (mark value - bankrupt value)).
// Venue V [defaulter_im, insurance_fund, adl], insurance fund 40. X 100 -> 80.
//   D long 10 X, IM 100 (exogenous): bankruptcy price 100 - 100 / 10 = 90; its
//   loss at the mark 10 x 20 = 200; IM 100 -> 100; insurance fund 40 -> 60 for
//   ADL, each contract closed at 90 instead of 80 costs a short 10: 6 contracts.
//   Shorts (entry 100, mark 80, P&L 20 a contract, PnL% 0.2 for each), listed
//   S4, S3, S2, S1, effective leverage 80 q / (IM + 20 q):
//     S1: q 2, IM 10:  160 / 50  = 3.2, score 0.64 -> closes 2, loses 20
//     S2: q 3, IM 60:  240 / 120 = 2.0, score 0.40 -> closes 3, loses 30
//     S3: q 4, IM 120: 320 / 200 = 1.6, score 0.32 -> closes 1 of 4, loses 10
//     S4: q 1, IM 60:   80 / 80  = 1.0, score 0.20 -> nothing
//   ranking: pnl (PnL% alone, all 0.2: ties in listed order): S4 1 (10), S3 4
//   (40), S2 1 of 3 (10), S1 nothing.
constexpr std::string_view kAdlQueue = R"(name: ADL queue at the bankruptcy price
market:
  assets: [{id: X, price: 100, volatility: 0.5}]
  stress_scenarios: [{name: crash, moves: {X: -0.2}, days: 1}]
ccps:
  - {id: V, kind: crypto_venue, capital: 1000, insurance_fund: 40, margin: {model: parametric, mpor_days: 1}}
members:
  - {id: D, capital: 1000, liquidity: 1000, positions: {V: {X: 10}}, initial_margin: {V: 100}}
  - {id: S4, capital: 1000, liquidity: 1000, positions: {V: {X: -1}}, initial_margin: {V: 60}}
  - {id: S3, capital: 1000, liquidity: 1000, positions: {V: {X: -4}}, initial_margin: {V: 120}}
  - {id: S2, capital: 1000, liquidity: 1000, positions: {V: {X: -3}}, initial_margin: {V: 60}}
  - {id: S1, capital: 1000, liquidity: 1000, positions: {V: {X: -2}}, initial_margin: {V: 10}}
defaults: {exogenous: [D]}
)";

TEST(Cascade, AdlClosesOppositeContractsAtTheBankruptcyPriceInRankingOrder) {
  using L = models::Layer;
  const auto check = [](std::string_view ranking, const std::array<double, 4>& contracts) {
    const Model model = build_model(config::load_scenario_text(
        kAdlQueue, "t.yaml", {config::Override::parse(std::string("ccps[0].adl.ranking=") + std::string(ranking))}));
    CascadeTrace trace;
    const ScenarioResult r = run_move(model, stress_move(model, model.stress_scenarios[0]), &trace);
    EXPECT_NEAR(r.closeout_loss, 200, 1e-9);
    EXPECT_NEAR(layer(r, 0, L::kDefaulterIm), 100, 1e-9);
    EXPECT_NEAR(layer(r, 0, L::kInsuranceFund), 40, 1e-9);
    EXPECT_NEAR(layer(r, 0, L::kAdl), 60, 1e-9);
    EXPECT_EQ(r.ccp_failures(), 0);
    EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
    ASSERT_EQ(trace.events.size(), 1u);
    // Members S4, S3, S2, S1 are 1..4; each contract closed costs 10 against the mark.
    for (int m = 1; m <= 4; ++m) {
      const int a = account_of(model, m, 0);
      const double want = contracts[static_cast<std::size_t>(m - 1)];
      EXPECT_NEAR(channel_total(r, a, LossChannel::kAdl), 10 * want, 1e-9) << ranking << " member " << m;
      const auto& lines = trace.events[0].adl;
      const auto it = std::find_if(lines.begin(), lines.end(), [&](const AdlLine& l) { return l.account == a; });
      if (want == 0.0) {
        EXPECT_EQ(it, lines.end());
        continue;
      }
      ASSERT_NE(it, lines.end());
      EXPECT_NEAR(it->contracts, want, 1e-9);
      EXPECT_NEAR(it->price, 90, 1e-9);
      EXPECT_NEAR(it->loss_vs_mark, 10 * want, 1e-9);
    }
  };
  check("bitmex", {0, 1, 3, 2});
  check("leverage", {0, 1, 3, 2});
  check("pnl", {1, 4, 1, 0});
}

using test_cases::replace_in;

// Two defaulters in one round: the quantity-weighted bankruptcy price. The
// queue above with D long 6 X, IM 60 (bankruptcy 100 - 60 / 6 = 90) and E long
// 4 X, IM 20 (100 - 20 / 4 = 95): B = (6 x 90 + 4 x 95) / 10 = 92. X 100 -> 80:
// losses 120 + 80 = 200, IM 80 -> 120; insurance fund 24 -> 96 for ADL at
// |80 - 92| = 12 a contract: 8 contracts. BitMEX order S1 2 (24), S2 3 (36),
// S3 3 of 4 (36), S4 nothing. Through `ccpnet stress`: stress.json's adl lines.
TEST(Cascade, AdlAtTheQuantityWeightedBankruptcyPriceOfSeveralDefaulters) {
  std::string yaml(kAdlQueue);
  replace_in(yaml, "insurance_fund: 40", "insurance_fund: 24");
  replace_in(yaml, "  - {id: D, capital: 1000, liquidity: 1000, positions: {V: {X: 10}}, initial_margin: {V: 100}}\n",
             "  - {id: D, capital: 1000, liquidity: 1000, positions: {V: {X: 6}}, initial_margin: {V: 60}}\n"
             "  - {id: E, capital: 1000, liquidity: 1000, positions: {V: {X: 4}}, initial_margin: {V: 20}}\n");
  replace_in(yaml, "exogenous: [D]", "exogenous: [D, E]");
  const Model model = build_model(config::load_scenario_text(yaml, "t.yaml"));
  const auto outcomes = run_stress(model);
  ASSERT_EQ(outcomes.size(), 1u);
  const ScenarioResult& r = outcomes[0].result;
  EXPECT_NEAR(r.closeout_loss, 200, 1e-9);
  EXPECT_NEAR(layer(r, 0, models::Layer::kInsuranceFund), 24, 1e-9);
  EXPECT_NEAR(layer(r, 0, models::Layer::kAdl), 96, 1e-9);
  const auto json = stress_json(model, outcomes);
  const auto& adl = json["stress_scenarios"][0]["waterfalls"][0]["adl"];
  ASSERT_EQ(adl.size(), 3u);  // in the order of the venue's accounts: S3, S2, S1
  const std::array<std::string, 3> ids{"S3", "S2", "S1"};
  const std::array<double, 3> contracts{3, 3, 2};
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(adl[i]["account"], ids[i]);
    EXPECT_NEAR(adl[i]["contracts"].get<double>(), contracts[i], 1e-9);
    EXPECT_NEAR(adl[i]["price"].get<double>(), 92, 1e-9);
    EXPECT_NEAR(adl[i]["loss_vs_mark"].get<double>(), 12 * contracts[i], 1e-9);
  }
  const std::string text = format_stress(model, outcomes);
  EXPECT_NE(text.find("deleveraged (adl)"), std::string::npos) << text;
}

// ADL by quantity closes contracts with their whole gain: the gap to the
// bankruptcy price is charged and the rest is paid at it (BitMEX, "Auto-
// Deleveraging": the position is closed at the bankruptcy price). A later
// loss that deleverages by the whole-gain rule (a link loss) may take only
// the gain on the contracts left, and from every opposite account by rank.
// X falls 50%. A (as kPeerHaircut): D long 10, IM 100, DF 20, SITG 10:
// 500 - 130 = 370 taken by VMGH on the gains at A. B [defaulter_im, adl]:
// E long 10, IM 100; N1 short 10 (IM 50: ranked first), N2 short.
//   Round 1 at B: E owes 500 - 100 = 400 at its bankruptcy price 100 -
//   100 / 10 = 90 against the mark 50: N1's 10 contracts close at 90, 40
//   each: N1 pays 400 and holds nothing; the other 100 of its gain (10 x 10)
//   is paid to it at 90 and gone from what ADL may take.
//   B's link account at A (short 10, gain 500) bears A's 370: round 2 at
//   B, deleveraged by the whole-gain rule: N1 has no gain left; N2 pays 370.
//   (Were N1's 100 left to take, it would pay 100 and N2 270.)
constexpr std::string_view kQuantityThenLink = R"(name: ADL by quantity, then a link loss
market:
  assets: [{id: X, price: 100, volatility: 0.5}]
  stress_scenarios: [{name: crash, moves: {X: -0.5}, days: 1}]
ccps:
  - {id: A, capital: 100, sitg: 10, margin: {model: parametric, mpor_days: 1}, default_fund: {sizing: fixed, amount: 20}}
  - {id: B, capital: 1000, sitg: 0, margin: {model: parametric, mpor_days: 1}, default_fund: {sizing: fixed, amount: 0},
     waterfall: [defaulter_im, adl]}
members:
  - {id: D, capital: 1000, liquidity: 1000, positions: {A: {X: 10}}, initial_margin: {A: 100}, default_fund: {A: 20}}
  - {id: E, capital: 1000, liquidity: 1000, positions: {B: {X: 10}}, initial_margin: {B: 100}}
  - {id: N1, capital: 1e6, liquidity: 1e6, positions: {B: {X: -10}}, initial_margin: {B: 50}}
  - {id: N2, capital: 1e6, liquidity: 1e6, positions: {B: {X: -10}}, initial_margin: {B: 100}}
links: [{between: [A, B]}]
defaults: {exogenous: [D, E]}
)";

// What both cases below share: A's VMGH takes 370 and passes `link` to B;
// N1 pays 400 by quantity, N2 the link loss by the whole-gain rule; B stands.
ScenarioResult expect_quantity_then_link(std::string_view yaml, double link) {
  using L = models::Layer;
  const Model model = build_model(config::load_scenario_text(yaml, "t.yaml"));
  const ScenarioResult r = run_move(model, stress_move(model, model.stress_scenarios[0]));
  EXPECT_NEAR(layer(r, 0, L::kVmgh), 370, 1e-9);
  EXPECT_NEAR(r.ccp_link_in[1], link, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kAdl), 400 + link, 1e-9);
  EXPECT_NEAR(channel_total(r, account_of(model, 2, 1), LossChannel::kAdl), 400, 1e-9);   // N1
  EXPECT_NEAR(channel_total(r, account_of(model, 3, 1), LossChannel::kAdl), link, 1e-9);  // N2
  EXPECT_EQ(r.ccp_failures(), 0);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
  return r;
}

TEST(Cascade, AWholeGainAdlAfterOneByQuantityTakesOnlyTheGainOnTheContractsLeft) {
  const ScenarioResult r = expect_quantity_then_link(kQuantityThenLink, 370);
  EXPECT_EQ(r.defaults.size(), 2u);
  EXPECT_NEAR(r.closeout_loss, 1000, 1e-9);
}

// The same in one round at B, members' run then link run: E is now a member
// of A too, short 5 X there (DF 0, capital 300), so A's net is long 5 and
// B's link account at A is short 5; at B, E long 10 against N1 short 10 (IM
// 50, first) and N2 short 5. X falls 50%.
//   Round 1 at A: D's 370 goes to VMGH on the gains at A: E's 250 and B's
//   250, 185 each. E (300 + 250 - 500 = 50) cannot pay 185: it defaults.
//   Round 2 at B: E's line owes 400 at 90 against 50: N1's 10 contracts
//   close (400); N2 is beyond E's quantity. The link line (185) then
//   deleverages by the whole-gain rule: N1 has nothing left, N2 (gain 250)
//   pays 185 and B stands. (Had N1 kept 100 to take, and N2 been left out
//   as beyond the quantity, N1 would pay 100 and B fail on 85.)
// kQuantityThenLink in one round at B (below): E a member of A too, N2 short 5.
std::string same_round_case() {
  std::string yaml(kQuantityThenLink);
  replace_in(
      yaml, "{id: E, capital: 1000, liquidity: 1000, positions: {B: {X: 10}}, initial_margin: {B: 100}}",
      "{id: E, capital: 300, liquidity: 1000, positions: {A: {X: -5}, B: {X: 10}}, initial_margin: {A: 0, B: 100},\n"
      "     default_fund: {A: 0}}");
  replace_in(yaml, "positions: {B: {X: -10}}, initial_margin: {B: 100}}",
             "positions: {B: {X: -5}}, initial_margin: {B: 100}}");
  replace_in(yaml, "exogenous: [D, E]", "exogenous: [D]");
  return yaml;
}

TEST(Cascade, ALinkLossInTheRoundOfAnAdlByQuantityDeleveragesEveryOppositeAccountByItsGainLeft) {
  const std::string yaml = same_round_case();
  const ScenarioResult r = expect_quantity_then_link(yaml, 185);
  ASSERT_EQ(r.defaults.size(), 2u);
  EXPECT_EQ(r.defaults[1].member, 1);  // E, in round 2
  EXPECT_EQ(r.defaults[1].round, 1);   // rounds count from 0
}

// The same round with a contract in another asset at B: N3 short 5 Y (IM
// 10: ranked first) against L3 long 5 Y; Y also falls 50% (N3's gain 250).
// The members' run closes N1 by quantity in X; the link loss (185) then
// takes N3's gain in Y first, as it would in a round without a member line
// (before, N3 was left out of the link run and N2 paid it).
TEST(Cascade, ALinkLossInTheRoundOfAnAdlByQuantityReachesAccountsInOtherContracts) {
  std::string yaml = same_round_case();
  replace_in(yaml, "assets: [{id: X, price: 100, volatility: 0.5}]",
             "assets: [{id: X, price: 100, volatility: 0.5}, {id: Y, price: 100, volatility: 0.5}]");
  replace_in(yaml, "moves: {X: -0.5}", "moves: {X: -0.5, Y: -0.5}");
  replace_in(yaml, "positions: {B: {X: -5}}, initial_margin: {B: 100}}",
             "positions: {B: {X: -5}}, initial_margin: {B: 100}}\n"
             "  - {id: N3, capital: 1e6, liquidity: 1e6, positions: {B: {Y: -5}}, initial_margin: {B: 10}}\n"
             "  - {id: L3, capital: 1e6, liquidity: 1e6, positions: {B: {Y: 5}}, initial_margin: {B: 100}}");
  const Model model = build_model(config::load_scenario_text(yaml, "t.yaml"));
  const ScenarioResult r = run_move(model, stress_move(model, model.stress_scenarios[0]));
  ASSERT_EQ(r.defaults.size(), 2u);
  EXPECT_EQ(r.defaults[1].member, 1);  // E, in round 2
  EXPECT_NEAR(r.ccp_link_in[1], 185, 1e-9);
  EXPECT_NEAR(channel_total(r, account_of(model, 2, 1), LossChannel::kAdl), 400, 1e-9);  // N1, by quantity
  EXPECT_NEAR(channel_total(r, account_of(model, 4, 1), LossChannel::kAdl), 185, 1e-9);  // N3, its Y gain
  EXPECT_NEAR(channel_total(r, account_of(model, 3, 1), LossChannel::kAdl), 0, 1e-9);    // N2
  EXPECT_EQ(r.ccp_failures(), 0);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
}

TEST(Cascade, VmghAndAdlKeysAreValidated) {
  const auto error = [](std::string_view yaml, const char* assignment) {
    try {
      (void)config::load_scenario_text(yaml, "t.yaml", {config::Override::parse(assignment)});
    } catch (const config::ScenarioError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error(kVmghCaps, "ccps[0].vmgh.max_rate=1.5").find("ccps[0].vmgh.max_rate"), std::string::npos);
  EXPECT_NE(error(kVmghCaps, "ccps[0].vmgh.per_call=-1").find("ccps[0].vmgh.per_call"), std::string::npos);
  EXPECT_NE(error(kVmghCaps, "ccps[1].vmgh.total=-1").find("ccps[1].vmgh.total"), std::string::npos);
  EXPECT_NE(error(kAdlQueue, "ccps[0].adl.ranking=oldest").find("expected one of bitmex, pnl, leverage"),
            std::string::npos);
  EXPECT_EQ(error(kAdlQueue, "ccps[0].adl.ranking=leverage"), "");
}

// A survivor charged by one CCP's mutual layers meets the next CCP's call in
// the same round with what the first left it, and is tested at the end of the
// round on both charges. SPEC 3.6: assessments are cash calls on the
// survivors, up to 1x their DF contribution, pro rata; a member that cannot
// pay is a liquidity default and what it did not pay stays uncovered. SPEC
// 3.10: the charges of every CCP's waterfall in a round land before the
// members are checked (step 3), in CCP order.
// X falls 50% (100 -> 50); DA (long 10 at A) and DB (long 10 at B) default
// at the start; M is short 10 at A and long 10 at B (P&L +500 - 500 = 0, so
// its capital and cash are what the file gives); N is short 20 at B.
// Waterfalls: defaulter_im, defaulter_df, mutualized_df, assessments, equity.
// Round 1 at A: DA's 500 - IM 100 - DF 20 = 380; M's DF 60 -> 320; M is
//   called 60 (its cap) and pays 60 -> 260; A's equity 260.
// Round 1 at B: DB's 500 - 100 - 20 = 380; M's 40 and N's 60 of DF -> 280;
//   calls: M 40, N 60 (caps, rate 1).
//   M with liquidity 80: A's call left it 20, so it pays 20 and misses 20;
//     B's assessments 20 + 60 = 80, its equity 200. M defaults for liquidity
//     in round 1 (cash 80 - 60 - 20 = 0, a call missed; no shortfall). Had B
//     called against M's 80, M would pay 40, B's assessments 100, equity 180.
//   M with capital 150 (liquidity 1000): it pays both calls; charges
//     60 + 60 + 40 + 40 = 200 > 150 leave it at -50: a solvency default in
//     round 1 (A's 120 or B's 80 alone would not).
// Round 2 at B: M's long loses 500 - IM 100 (its DF is spent) = 400: no DF,
//   no call left (N's and M's caps are used up): B's equity 400 more. At A,
//   M's short gained 500: nothing to absorb.
constexpr std::string_view kTwoCalls = R"(name: a survivor called at two CCPs in one round
market:
  assets: [{id: X, price: 100, volatility: 0.5}]
  stress_scenarios: [{name: crash, moves: {X: -0.5}, days: 1}]
ccps:
  - id: A
    capital: 1000
    sitg: 0
    margin: {model: parametric, mpor_days: 1}
    default_fund: {sizing: fixed, amount: 80}
    waterfall: [defaulter_im, defaulter_df, mutualized_df, assessments, ccp_equity]
  - id: B
    capital: 1000
    sitg: 0
    margin: {model: parametric, mpor_days: 1}
    default_fund: {sizing: fixed, amount: 120}
    waterfall: [defaulter_im, defaulter_df, mutualized_df, assessments, ccp_equity]
members:
  - {id: DA, capital: 1000, liquidity: 1000, positions: {A: {X: 10}}, initial_margin: {A: 100}, default_fund: {A: 20}}
  - id: M
    capital: 1000
    liquidity: 80
    positions: {A: {X: -10}, B: {X: 10}}
    initial_margin: {A: 100, B: 100}
    default_fund: {A: 60, B: 40}
  - {id: DB, capital: 1000, liquidity: 1000, positions: {B: {X: 10}}, initial_margin: {B: 100}, default_fund: {B: 20}}
  - {id: N, capital: 1000, liquidity: 1000, positions: {B: {X: -20}}, initial_margin: {B: 200}, default_fund: {B: 60}}
defaults: {exogenous: [DA, DB]}
)";

TEST(Cascade, ASurvivorCalledAtTwoCcpsInOneRoundPaysTheSecondWithWhatTheFirstLeft) {
  const Model model = model_of(kTwoCalls);
  const ScenarioResult r = run_move(model, stress_move(model, model.stress_scenarios[0]));
  using L = models::Layer;
  EXPECT_NEAR(layer(r, 0, L::kMutualizedDf), 60, 1e-9);
  EXPECT_NEAR(layer(r, 0, L::kAssessments), 60, 1e-9);
  EXPECT_NEAR(layer(r, 0, L::kCcpEquity), 260, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kMutualizedDf), 100, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kAssessments), 80, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kCcpEquity), 200 + 400, 1e-9);
  EXPECT_NEAR(channel_total(r, account_of(model, 1, 0), LossChannel::kAssessment), 60, 1e-9);
  EXPECT_NEAR(channel_total(r, account_of(model, 1, 1), LossChannel::kAssessment), 20, 1e-9);
  EXPECT_NEAR(channel_total(r, account_of(model, 3, 1), LossChannel::kAssessment), 60, 1e-9);
  ASSERT_EQ(r.defaults.size(), 3u);
  EXPECT_EQ(r.defaults[2].member, 1);
  EXPECT_EQ(r.defaults[2].round, 1);
  EXPECT_EQ(r.defaults[2].cause, DefaultCause::kLiquidity);
  EXPECT_NEAR(r.liquidity_shortfall, 0, 1e-9);
  EXPECT_EQ(r.rounds, 2);
  EXPECT_NEAR(r.closeout_loss, 1500, 1e-9);
  EXPECT_NEAR(r.total_loss, 380 + 780, 1e-9);
  EXPECT_EQ(r.ccp_failures(), 0);
}

TEST(Cascade, ASurvivorChargedAtTwoCcpsInOneRoundIsTestedOnBothCharges) {
  const Model model = build_model(config::load_scenario_text(
      kTwoCalls, "t.yaml",
      {config::Override::parse("members.M.capital=150"), config::Override::parse("members.M.liquidity=1000")}));
  const ScenarioResult r = run_move(model, stress_move(model, model.stress_scenarios[0]));
  using L = models::Layer;
  EXPECT_NEAR(layer(r, 1, L::kAssessments), 100, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kCcpEquity), 180 + 400, 1e-9);
  for (int c : {0, 1})
    EXPECT_NEAR(channel_total(r, account_of(model, 1, c), LossChannel::kMutualizedDf) +
                    channel_total(r, account_of(model, 1, c), LossChannel::kAssessment),
                c == 0 ? 120 : 80, 1e-9);
  ASSERT_EQ(r.defaults.size(), 3u);
  EXPECT_EQ(r.defaults[2].member, 1);
  EXPECT_EQ(r.defaults[2].round, 1);
  EXPECT_EQ(r.defaults[2].cause, DefaultCause::kSolvency);
}

}  // namespace test_cascade
}  // namespace ccpnet
