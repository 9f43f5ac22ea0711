// Client clearing (members[].clients; sim/clients.cpp): porting to a backup
// member, close-out by segregation model, the member's default-fund share
// counting its clients. Hand cases through the YAML engine, every step worked
// in the comment.
//
// What the rules say (the sources the engine follows):
//  - EMIR (Regulation (EU) No 648/2012) art. 39(2)-(3): a CCP offers omnibus
//    client segregation and individual client segregation; art. 39(6): an
//    individually segregated client's margin is not exposed to losses on
//    positions recorded in another account.
//  - EMIR art. 48(5)-(6): on a clearing member's default the CCP triggers the
//    transfer of the omnibus account's assets and positions to a member all
//    its clients designated, of an individually segregated client's to the
//    member it designated, when that member accepts; art. 48(7): what is not
//    transferred within the CCP's transfer period may be liquidated, and the
//    client collateral is used exclusively for the positions held for those
//    clients, the balance returned to them (or to the member for their account).
//  - CPMI-IOSCO PFMI Principle 14: segregation and portability; in an omnibus
//    account the clients bear fellow-customer risk (one client's loss can
//    consume the others' collateral).
//  - FCA CASS 7A.2.4R: a shortfall in a pool of client money is shared pro rata to the clients'
//    entitlements (margin plus the value of their positions); the FOA/ISDA clearing member disclosure
//    document under EMIR art. 39(7) (2014), Part One B: an omnibus client may receive less than its claim
//    when another client's losses exceed that client's collateral.
//  - EMIR art. 45(1)-(2): the defaulter's margin, then its default-fund
//    contribution, before any other resource.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/compare.hpp"
#include "sim/config/load.hpp"
#include "sim/model.hpp"
#include "sim/runner.hpp"
#include "sim/shocks.hpp"
#include "sim/stress.hpp"

namespace ccpnet {
namespace test_clients {

using ::testing::HasSubstr;

Model model_of(std::string_view yaml, const std::vector<config::Override>& overrides = {}) {
  return build_model(config::load_scenario_text(yaml, "clients.yaml", overrides));
}

std::string build_error(std::string_view yaml, const std::vector<config::Override>& overrides = {}) {
  try {
    model_of(yaml, overrides);
  } catch (const config::ScenarioError& e) {
    return e.what();
  }
  return "";
}

ScenarioResult stress(const Model& model) { return run_move(model, stress_move(model, model.stress_scenarios[0])); }

double layer(const ScenarioResult& r, std::size_t ccp, models::Layer l) {
  return r.ccp_layers[ccp * models::kLayerCount + static_cast<std::size_t>(l)];
}

const ClientModel& client(const Model& model, std::string_view id) {
  for (const ClientModel& c : model.clients)
    if (c.id == id) return c;
  throw std::out_of_range(std::string(id));
}

// Losses charged to a client's accounts on `channel`.
double client_charges(const ScenarioResult& r, const Model& model, std::string_view id, LossChannel channel) {
  const ClientModel& c = client(model, id);
  double sum = 0.0;
  for (const AccountLoss& l : r.account_losses)
    if (l.channel == channel && std::find(c.accounts.begin(), c.accounts.end(), l.account) != c.accounts.end())
      sum += l.amount;
  return sum;
}

// X falls 50% (100 -> 50) over the MPOR of one day; Y does not move; no liquidation cost. D defaults at the
// start. D's house account: long 10 X (P&L -500), IM 100, DF 20. D clears for three clients at A:
//   CI, individually segregated, long 2 X (P&L -100), IM 150, backup B;
//   CO1, omnibus, long 4 X (P&L -200), IM 120, no backup;
//   CO2, omnibus, short 2 X (P&L +100), IM 80, backup B.
// B (long 1 Y, IM 50, DF 30, capital 1000) is the backup; R takes the other side of everything (short 14 X,
// gains 700; short 1 Y) and contributes nothing to the fund. SITG 10.
constexpr std::string_view kPorting = R"(name: porting a defaulted member's clients
market:
  assets:
    - {id: X, price: 100, volatility: 0.5}
    - {id: Y, price: 100, volatility: 0.5}
  stress_scenarios: [{name: crash, moves: {X: -0.5}, days: 1}]
ccps:
  - {id: A, capital: 100, sitg: 10, margin: {model: parametric, mpor_days: 1}, default_fund: {sizing: fixed, amount: 50}}
members:
  - id: D
    capital: 1000
    liquidity: 1000
    positions: {A: {X: 10}}
    initial_margin: {A: 100}
    default_fund: {A: 20}
    clients:
      - {id: CI, segregation: individual, positions: {A: {X: 2}}, initial_margin: {A: 150}, backup: [B]}
      - {id: CO1, segregation: omnibus, positions: {A: {X: 4}}, initial_margin: {A: 120}}
      - {id: CO2, segregation: omnibus, positions: {A: {X: -2}}, initial_margin: {A: 80}, backup: [B]}
  - {id: B, capital: 1000, liquidity: 1000, positions: {A: {Y: 1}}, initial_margin: {A: 50}, default_fund: {A: 30}}
  - id: R
    capital: 1.0e6
    liquidity: 1.0e6
    positions: {A: {X: -14, Y: -1}}
    initial_margin: {A: 0}
    default_fund: {A: 0}
defaults:
  exogenous: [D]
)";

TEST(Clients, AnIndividuallySegregatedClientIsPortedWithItsMarginAndTheOmnibusSharesItsLoss) {
  // Round 1, D's close-out at A:
  //  CI: B stands (capital 1000 >= 0), clears at A, capacity unlimited: B takes CI's account with its
  //    positions and IM 150 (art. 48(6)). CI loses nothing by the default.
  //  The omnibus account {CO1, CO2}: no backup both designated (CO1 named none), so it is closed out (art.
  //    48(7)). Its assets: the margin 120 + 80 and CO2's gain 100 (set off, not paid out): 300 against CO1's
  //    close-out loss 200: 200 used, 100 returned pro rata to the claims, margin plus position value:
  //    CO1 120 - 200 < 0: nil; CO2 80 + 100 = 180: all 100. CO1 bears its stake 120 - 0 = 120 (its own loss
  //    200 exceeds its margin); CO2 its stake 180 - 100 = 80, the 80 of CO1's loss its margin left: fellow-
  //    customer risk (PFMI Principle 14). Pro rata to margin alone it would have been 60 and 40, CO2 paying
  //    for CO1 while CO1 kept 60 of its margin against its own loss. Nothing uncovered.
  //  D's house line: 500 - IM 100 - DF 20 = 380; SITG 10 -> 370; B's DF 30 -> 340; assessment on B (1x its
  //    DF) 30 -> 310; VMGH on the survivors' gains: R's 700 (CI, now B's client, lost 100): 310 of it.
  // Close-out losses 500 + 200 = 700 = layers: defaulter IM 100 + 200 (the omnibus's stakes), DF 20, SITG 10,
  // mutualised 30, assessments 30, VMGH 310. Total loss (beyond the defaulter's and its clients' margin)
  // 10 + 30 + 30 + 310 = 380; the clients' loss 200.
  const Model model = model_of(kPorting);
  ASSERT_EQ(model.clients.size(), 3u);
  const ScenarioResult r = stress(model);
  EXPECT_EQ(r.clients_ported, 1);
  EXPECT_EQ(r.clients_closed_out, 2);
  EXPECT_EQ(client_charges(r, model, "CI", LossChannel::kClientMargin), 0.0);
  EXPECT_NEAR(client_charges(r, model, "CO1", LossChannel::kClientMargin), 120.0, 1e-9);
  EXPECT_NEAR(client_charges(r, model, "CO2", LossChannel::kClientMargin), 80.0, 1e-9);
  EXPECT_NEAR(r.client_loss, 200.0, 1e-9);
  EXPECT_NEAR(layer(r, 0, models::Layer::kDefaulterIm), 300.0, 1e-9);
  EXPECT_NEAR(layer(r, 0, models::Layer::kDefaulterDf), 20.0, 1e-9);
  EXPECT_NEAR(layer(r, 0, models::Layer::kSitg), 10.0, 1e-9);
  EXPECT_NEAR(layer(r, 0, models::Layer::kMutualizedDf), 30.0, 1e-9);
  EXPECT_NEAR(layer(r, 0, models::Layer::kAssessments), 30.0, 1e-9);
  EXPECT_NEAR(layer(r, 0, models::Layer::kVmgh), 310.0, 1e-9);
  EXPECT_NEAR(r.closeout_loss, 700.0, 1e-9);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
  EXPECT_NEAR(r.total_loss, 380.0, 1e-9);
  ASSERT_EQ(r.defaults.size(), 1u);  // B pays 60 of its 1000: it stands
}

// A closed-out client's positions are sold at a cost whether or not fire
// sales move prices. Fire sales (market.fire_sales) price the close-outs whose
// flow moves the price, the members' (here D's house account alone, whose
// cost at the move equals its own square-root cost: models/market/fire_sale.hpp);
// the omnibus clients' close-out pays its own square-root cost
// k |x| sqrt(|x| / ADV): CO1's 400 USD of X 0.5 x 400 x 0.02 = 4, CO2's 200
// USD 1.4142, with the channel on as off (it cost nothing with it on).
TEST(Clients, AClosedOutClientPaysItsLiquidationCostWithFireSalesOnAsOff) {
  const std::vector<config::Override> costs = {{"market.assets.X.adv", "1e6"},
                                               {"market.assets.X.liquidation_cost", "0.5"}};
  const Model free = model_of(kPorting);
  const Model off = model_of(kPorting, costs);
  auto with = costs;
  with.push_back({"market.fire_sales", "true"});
  const Model on = model_of(kPorting, with);
  ASSERT_EQ(on.steps.count, 1);
  const ScenarioResult f = stress(free), a = stress(off), b = stress(on);
  const double house = 0.5 * 1000.0 * std::sqrt(1000.0 / 1e6);
  EXPECT_GT(a.closeout_loss, f.closeout_loss + house + 1.0);  // the clients' sales cost something
  EXPECT_NEAR(b.closeout_loss, a.closeout_loss, 1e-9);
  EXPECT_NEAR(b.client_loss, a.client_loss, 1e-9);
  EXPECT_NEAR(b.ledger_total(), b.closeout_loss, 1e-9);
}

// ... and its sale moves the price with its member's: all the liquidations of
// an asset in a step add up into one impact (models/market/fire_sale.hpp;
// Cont & Schaanning 2017). After the step X has moved by the joint flow of
// D's house account (long 10 X: the CCP sells 1,000 USD) and of its omnibus
// clients closed out (CO1 long 4 X, CO2 short 2 X: 200 USD net sold); CI,
// ported to B, is not sold: s = -0.5 sqrt(1,200 / 1e6), a log-move
// log1p(s). D's flow alone would give -0.5 sqrt(1,000 / 1e6).
TEST(Clients, ClosedOutClientsSellIntoTheFireSaleWithTheirMember) {
  const Model on = model_of(
      kPorting,
      {{"market.assets.X.adv", "1e6"}, {"market.assets.X.liquidation_cost", "0.5"}, {"market.fire_sales", "true"}});
  const ScenarioResult r = stress(on);
  ASSERT_EQ(r.clients_ported, 1);
  ASSERT_EQ(r.clients_closed_out, 2);
  ASSERT_EQ(r.price_impact.size(), 2u);
  EXPECT_NEAR(r.price_impact[0], std::log1p(-0.5 * std::sqrt(1200.0 / 1e6)), 1e-12);
  EXPECT_EQ(r.price_impact[1], 0.0);  // nothing of Y is sold
}

TEST(Clients, AnOmnibusShortfallIsSharedByClaimNotByMargin) {
  // A third omnibus client CO3, long 1 X (P&L -50), IM 110, no backup; R short 15 X. The pool: margin
  // 120 + 80 + 110 = 310 and CO2's gain 100, against the losses 200 (CO1) + 50 (CO3) = 250: 250 used, 160
  // returned pro rata to the claims CO1 nil (120 - 200 < 0), CO2 80 + 100 = 180, CO3 110 - 50 = 60 (of 240):
  // CO2 120, CO3 40 (FCA CASS 7A.2.4R: pro rata to the entitlements). Each bears its stake less its return:
  // CO1 120, CO2 180 - 120 = 60, CO3 110 - 40 = 70 = its own loss 50 + 20; CO1's shortfall 80 is shared
  // 60 : 20 = 180 : 240 and 60 : 240 (by claim, not by margin: 80 : 110 would give CO2 34 and CO3 46).
  // Pro rata to margin the margin used 250 would give CO1 96.77, CO2 64.52, CO3 88.71. D's house line as
  // in the case above (R's gain 750 covers the VMGH 310): close-out losses 500 + 250, defaulter IM 100 + 250.
  std::string yaml(kPorting);
  yaml.replace(yaml.find("  - {id: B,"), 0,
               "      - {id: CO3, segregation: omnibus, positions: {A: {X: 1}}, initial_margin: {A: 110}}\n");
  yaml.replace(yaml.find("X: -14"), 6, "X: -15");
  const Model model = model_of(yaml);
  const ScenarioResult r = stress(model);
  EXPECT_EQ(r.clients_closed_out, 3);
  EXPECT_NEAR(client_charges(r, model, "CO1", LossChannel::kClientMargin), 120.0, 1e-9);
  EXPECT_NEAR(client_charges(r, model, "CO2", LossChannel::kClientMargin), 60.0, 1e-9);
  EXPECT_NEAR(client_charges(r, model, "CO3", LossChannel::kClientMargin), 70.0, 1e-9);
  EXPECT_NEAR(r.client_loss, 250.0, 1e-9);
  EXPECT_NEAR(layer(r, 0, models::Layer::kDefaulterIm), 350.0, 1e-9);
  EXPECT_NEAR(layer(r, 0, models::Layer::kVmgh), 310.0, 1e-9);
  EXPECT_NEAR(r.closeout_loss, 750.0, 1e-9);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
  EXPECT_NEAR(r.total_loss, 380.0, 1e-9);
  // Whatever the move, no client bears more than its stake (its margin and its gain) and the clients bear
  // together what their pool covered: the losing clients' losses up to the pool's assets.
  for (const double move : {-0.9, -0.5, -0.1, 0.2, 0.6}) {
    std::string moved_yaml = yaml;
    moved_yaml.replace(moved_yaml.find("{X: -0.5}"), 9, fmt::format("{{X: {}}}", move));
    const Model moved = model_of(moved_yaml);
    const ScenarioResult s = stress(moved);
    double sum = 0.0;
    for (const std::string_view id : {"CO1", "CO2", "CO3"}) {
      const double pnl = -100.0 * move * (id == "CO1" ? 4 : id == "CO2" ? -2 : 1) * -1.0;
      const double im = id == "CO1" ? 120 : id == "CO2" ? 80 : 110;
      const double charge = client_charges(s, moved, id, LossChannel::kClientMargin);
      EXPECT_GE(charge, 0.0);
      EXPECT_LE(charge, im + std::max(0.0, pnl) + 1e-9) << id << " move " << move;
      sum += charge;
    }
    const double losses = std::max(0.0, -400.0 * move) + std::max(0.0, 200.0 * move) + std::max(0.0, -100.0 * move);
    const double gains = std::max(0.0, 400.0 * move) + std::max(0.0, -200.0 * move) + std::max(0.0, 100.0 * move);
    EXPECT_NEAR(sum, std::min(losses, 310.0 + gains), 1e-9) << "move " << move;
    EXPECT_NEAR(s.ledger_total(), s.closeout_loss, 1e-9 * std::max(1.0, s.closeout_loss));
  }
}

TEST(Clients, WithoutABackupThatAcceptsTheIndividualClientLosesOnlyItsOwnCloseOut) {
  // ccps[].porting.capacity 0.1: B would take CI's IM 150 > 0.1 x its equity 1000 = 100: it refuses, and CI is
  // closed out: its loss 100 against its own IM 150 (art. 39(6)): 100 used, 50 returned; the omnibus's
  // losses do not reach it (CO1 120, CO2 80 as above). The layers beyond the defaulters' and clients' margin
  // are the same as above.
  const Model model = model_of(kPorting, {{"ccps.A.porting.capacity", "0.1"}});
  const ScenarioResult r = stress(model);
  EXPECT_EQ(r.clients_ported, 0);
  EXPECT_EQ(r.clients_closed_out, 3);
  EXPECT_NEAR(client_charges(r, model, "CI", LossChannel::kClientMargin), 100.0, 1e-9);
  EXPECT_NEAR(client_charges(r, model, "CO1", LossChannel::kClientMargin), 120.0, 1e-9);
  EXPECT_NEAR(client_charges(r, model, "CO2", LossChannel::kClientMargin), 80.0, 1e-9);
  EXPECT_NEAR(layer(r, 0, models::Layer::kDefaulterIm), 400.0, 1e-9);
  EXPECT_NEAR(r.closeout_loss, 800.0, 1e-9);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
  EXPECT_NEAR(r.total_loss, 380.0, 1e-9);
  // At capacity 0.15 B takes it: 150 <= 0.15 x 1000.
  EXPECT_EQ(stress(model_of(kPorting, {{"ccps.A.porting.capacity", "0.15"}})).clients_ported, 1);
}

TEST(Clients, AnOmnibusAccountIsPortedAsAWholeToABackupAllItsClientsDesignated) {
  // CO1 designates B too: the omnibus account goes to B whole (art. 48(5)), with CI: nothing is closed out
  // but D's house account, whose layers are those above. The ported clients now stand at A as B's: CO2's gain
  // of 100 is haircut with R's 700 (VMGH applies to every surviving account's gains): 310 x 100/800 = 38.75
  // is CO2's loss, R's 271.25.
  const std::string yaml = std::string(kPorting).replace(std::string(kPorting).find("initial_margin: {A: 120}}"), 25,
                                                         "initial_margin: {A: 120}, backup: [B]}");
  const Model model = model_of(yaml);
  const ScenarioResult r = stress(model);
  EXPECT_EQ(r.clients_ported, 3);
  EXPECT_EQ(r.clients_closed_out, 0);
  EXPECT_EQ(client_charges(r, model, "CO1", LossChannel::kClientMargin), 0.0);
  EXPECT_NEAR(client_charges(r, model, "CO2", LossChannel::kVmgh), 38.75, 1e-9);
  EXPECT_NEAR(r.client_loss, 38.75, 1e-9);
  EXPECT_NEAR(layer(r, 0, models::Layer::kDefaulterIm), 100.0, 1e-9);
  EXPECT_NEAR(layer(r, 0, models::Layer::kVmgh), 310.0, 1e-9);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
}

TEST(Clients, WhatTheOmnibusMarginLeavesIsTheMembersToCoverBeforeTheMutualLayers) {
  // CO2 long 1 X instead of short 2 (P&L -50), R short 17 X: the omnibus's close-out 200 + 50 = 250 exceeds
  // its margin 200: CO1 loses its 120, CO2 its 80, and the 50 left is D's obligation: its house line
  // 500 + 50 = 550 - IM 100 - DF 20 = 430 (art. 45: the defaulter's resources first); SITG 10 -> 420; B's DF
  // 30 -> 390; assessment 30 -> 360; VMGH 360 of R's gain of 850.
  std::string yaml(kPorting);
  yaml.replace(yaml.find("positions: {A: {X: -2}}"), 23, "positions: {A: {X: 1}}");
  yaml.replace(yaml.find("X: -14"), 6, "X: -17");
  const Model model = model_of(yaml);
  const ScenarioResult r = stress(model);
  EXPECT_NEAR(client_charges(r, model, "CO1", LossChannel::kClientMargin), 120.0, 1e-9);
  EXPECT_NEAR(client_charges(r, model, "CO2", LossChannel::kClientMargin), 80.0, 1e-9);
  EXPECT_NEAR(layer(r, 0, models::Layer::kDefaulterIm), 300.0, 1e-9);
  EXPECT_NEAR(layer(r, 0, models::Layer::kDefaulterDf), 20.0, 1e-9);
  EXPECT_NEAR(layer(r, 0, models::Layer::kVmgh), 360.0, 1e-9);
  EXPECT_NEAR(r.closeout_loss, 750.0, 1e-9);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
  EXPECT_NEAR(r.total_loss, 10.0 + 30 + 30 + 360, 1e-9);
}

TEST(Clients, AMembersFundShareCountsItsClientsMarginAndItsCapitalNotTheirPnl) {
  // Fund 100 allocated pro rata to IM without observed contributions (R's observed 0): D's key is its house
  // IM 100 plus its clients' 150 + 120 + 80 = 450, B's 50: D 100 x 450/500 = 90 on its house account, B 10;
  // the client accounts hold none (EMIR art. 42: the members contribute).
  std::string yaml(kPorting);
  yaml.replace(yaml.find("    default_fund: {A: 20}\n"), 26, "");
  yaml.replace(yaml.find(", default_fund: {A: 30}"), 23, "");
  const Model model = model_of(yaml, {{"ccps.A.default_fund.amount", "100"}});
  const int house = house_account(model, 0, 0);
  ASSERT_GE(house, 0);
  EXPECT_NEAR(model.accounts[static_cast<std::size_t>(house)].default_fund, 90.0, 1e-9);
  EXPECT_NEAR(model.accounts[static_cast<std::size_t>(house_account(model, 1, 0))].default_fund, 10.0, 1e-9);
  for (const ClientModel& c : model.clients)
    for (int a : c.accounts) EXPECT_EQ(model.accounts[static_cast<std::size_t>(a)].default_fund, 0.0);
  // The clients' P&L is theirs: with no default, D (capital 1000, house P&L -500) stands although its clients
  // lose 100 + 200 more; a member whose own book lost 1,001 would not.
  const ScenarioResult r = stress(model_of(yaml, {{"defaults.exogenous", "[]"}}));
  EXPECT_TRUE(r.defaults.empty());
}

// The porting window (ccps[].porting.window_days; EMIR art. 48(5)-(7): the transfer to the backup the client
// designated within the period the CCP's rulebook sets, otherwise liquidation and the balance to the client;
// LCH and Eurex rulebooks set one or two days). The case above with a backup B that cannot outlast the
// cascade: B's capital 50, and CI long 4 X (P&L -200, IM 150), R short 16 X (gains 800).
//  Round 1, D's close-out at A as above: B stands (equity 50 >= 0) and takes CI. The omnibus {CO1, CO2} is
//    closed out (200 used, CO1 120, CO2 80). D's line 500 - 100 - 20 = 380; SITG 10; B's DF 30; assessment
//    on B 30; VMGH 310 of R's 800. B's equity 50 - 30 - 30 = -10 < 0: B defaults in round 2.
//  Round 2, B's close-out at A: its house (long 1 Y, P&L 0) and CI, whose loss 200 exceeds its margin 150:
//    CI bears its 150 either way, and 50 is left uncovered.
//    - window 0 (the transfer completed at D's close-out): CI is B's client; the 50 is B's obligation, on
//      its line: 0 + 50 against its IM 50: nothing reaches a mutual layer. Ported 1, closed out 3.
//    - window 1 day: B defaulted within it, so it never held CI: CI is closed out as D's client and the 50
//      is D's line, whose IM and fund are spent (round 1): SITG spent, no standing member's fund
//      (R contributes 0), no assessment: VMGH 50 more on R's gains (310 + 50 = 360). Ported 0, closed out 3.
std::string porting_window_case(std::string_view window) {
  std::string yaml(kPorting);
  yaml.replace(yaml.find("positions: {A: {X: 2}}"), 22, "positions: {A: {X: 4}}");
  yaml.replace(yaml.find("X: -14"), 6, "X: -16");
  yaml.replace(yaml.find("{id: B, capital: 1000"), 21, "{id: B, capital: 50");
  yaml.replace(yaml.find("default_fund: {sizing: fixed"), 0, fmt::format("porting: {{window_days: {}}}, ", window));
  return yaml;
}

TEST(Clients, ABackupThatDefaultsWithinThePortingWindowIsNoBackup) {
  for (const std::string_view window : {"0", "1"}) {
    const bool within = window == "1";
    const Model model = model_of(porting_window_case(window));
    const ScenarioResult r = stress(model);
    SCOPED_TRACE(std::string("window_days ") + std::string(window));
    ASSERT_EQ(r.defaults.size(), 2u);  // D, then B
    EXPECT_EQ(r.clients_ported, within ? 0 : 1);
    EXPECT_EQ(r.clients_closed_out, 3);
    EXPECT_NEAR(client_charges(r, model, "CI", LossChannel::kClientMargin), 150.0, 1e-9);
    EXPECT_NEAR(client_charges(r, model, "CO1", LossChannel::kClientMargin), 120.0, 1e-9);
    EXPECT_NEAR(client_charges(r, model, "CO2", LossChannel::kClientMargin), 80.0, 1e-9);
    // Defaulters' margin: D 100, the omnibus 200, CI 150, and B's IM 50 when the 50 is its line.
    EXPECT_NEAR(layer(r, 0, models::Layer::kDefaulterIm), within ? 450.0 : 500.0, 1e-9);
    EXPECT_NEAR(layer(r, 0, models::Layer::kDefaulterDf), 20.0, 1e-9);
    EXPECT_NEAR(layer(r, 0, models::Layer::kSitg), 10.0, 1e-9);
    EXPECT_NEAR(layer(r, 0, models::Layer::kMutualizedDf), 30.0, 1e-9);
    EXPECT_NEAR(layer(r, 0, models::Layer::kAssessments), 30.0, 1e-9);
    EXPECT_NEAR(layer(r, 0, models::Layer::kVmgh), within ? 360.0 : 310.0, 1e-9);
    // Close-out losses 500 (D) + 200 (omnibus) + 150 (CI's margin) + 50 (B's line or D's): 900 either way.
    EXPECT_NEAR(r.closeout_loss, 900.0, 1e-9);
    EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
    EXPECT_NEAR(r.total_loss, 380.0 + (within ? 50.0 : 0.0), 1e-9);
  }
}

TEST(Clients, APortingWindowOnlyMattersWhenTheBackupDefaults) {
  // The case of the first test (B's capital 1000: it stands): any window gives the same figures.
  const ScenarioResult none = stress(model_of(kPorting));
  const ScenarioResult two = stress(model_of(kPorting, {{"ccps.A.porting.window_days", "2"}}));
  EXPECT_EQ(two.clients_ported, none.clients_ported);
  EXPECT_EQ(two.clients_closed_out, none.clients_closed_out);
  EXPECT_EQ(two.total_loss, none.total_loss);
  EXPECT_EQ(two.client_loss, none.client_loss);
  EXPECT_THAT(build_error(porting_window_case("-1")), HasSubstr("clients.yaml:8:"));
  EXPECT_THAT(build_error(porting_window_case("-1")),
              HasSubstr("ccps[0].porting.window_days: expected a value in [0, 30] (days), found -1"));
  EXPECT_THAT(build_error(kPorting, {{"ccps.A.porting.window_days", "a day"}}),
              HasSubstr("ccps[0].porting.window_days"));
}

// The porting window in days (time steps): D defaults at the start and is closed out from today (day 0): X and Y
// do not move on day 1, so D's close-out loses nothing and its DF contribution 20 is left; B takes CI (long 4 X,
// IM 150). On day 3 X and Y halve: B (long 10 Y, capital 100) loses 500 and defaults in the step ending on day 3;
// CI's close-out loses 200, 50 beyond its margin.
// B's default day is 3, the end of the step whose variation margin it did not pay (D's: 0, at the start).
//  - window 2 days: the transfer completed on day 0 + 2 < 3: CI is B's client, the 50 is on B's line:
//    500 + 50 - IM 50 - DF 30 = 470 beyond the defaulters' resources.
//  - window 3 days: B defaulted by day 0 + 3: it never held CI, the 50 is D's line, against what is left of
//    D's DF: 50 - 20 = 30, and B's own 500 - 80 = 420: 450 in all; the defaulters' DF layer 30 + 20.
constexpr std::string_view kPortingDays = R"(name: porting window in days
simulation: {horizon_days: 4, step_days: 1}
market:
  assets:
    - {id: X, price: 100, volatility: 0.5}
    - {id: Y, price: 100, volatility: 0.5}
  stress_scenarios: [{name: day three, path: [{X: 0, Y: 0}, {X: 0, Y: 0}, {X: -0.5, Y: -0.5}, {X: 0, Y: 0}]}]
ccps:
  - {id: A, capital: 100, sitg: 10, margin: {model: parametric, mpor_days: 1}, default_fund: {sizing: fixed, amount: 50}}
members:
  - id: D
    capital: 1000
    liquidity: 1000
    positions: {A: {X: 10}}
    initial_margin: {A: 100}
    default_fund: {A: 20}
    clients:
      - {id: CI, segregation: individual, positions: {A: {X: 4}}, initial_margin: {A: 150}, backup: [B]}
  - {id: B, capital: 100, liquidity: 1000, positions: {A: {Y: 10}}, initial_margin: {A: 50}, default_fund: {A: 30}}
  - id: R
    capital: 1.0e6
    liquidity: 1.0e6
    positions: {A: {X: -14, Y: -10}}
    initial_margin: {A: 0}
    default_fund: {A: 0}
defaults:
  exogenous: [D]
)";

// kPortingDays's outcome once B has defaulted on day 3 (worked above): CI's close-out loses 200, 50
// beyond its margin 150; within the window the 50 is D's line (the defaulters' DF layer 30 + 20, 450 in
// all), after it B's (DF layer 30, 470); the ledger holds every dollar.
void expect_porting_days_outcome(const ScenarioResult& r, const Model& model, bool within) {
  EXPECT_EQ(r.defaults[1].day, 3.0);
  EXPECT_EQ(r.clients_ported, within ? 0 : 1);
  EXPECT_EQ(r.clients_closed_out, 1);
  EXPECT_NEAR(client_charges(r, model, "CI", LossChannel::kClientMargin), 150.0, 1e-6);
  EXPECT_NEAR(layer(r, 0, models::Layer::kDefaulterDf), within ? 50.0 : 30.0, 1e-6);
  EXPECT_NEAR(r.total_loss, within ? 450.0 : 470.0, 1e-6);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-6);
}

TEST(Clients, InTimeStepsTheWindowRunsFromTheCloseOutDay) {
  for (const std::string_view window : {"2", "3"}) {
    const bool within = window == "3";
    SCOPED_TRACE(std::string("window_days ") + std::string(window));
    const Model model = model_of(kPortingDays, {{"ccps.A.porting.window_days", std::string(window)}});
    const ScenarioResult r = run_move(model, stress_move(model, model.stress_scenarios[0]));
    ASSERT_EQ(r.defaults.size(), 2u);
    expect_porting_days_outcome(r, model, within);
  }
}

// The window runs from the day the clearing member actually defaulted, also when that default opens the
// scenario's first cascade round in a later step (MemberDefault::round 0 on a day after the start). The case
// above with D no exogenous defaulter: it is long 10 Z (R short 10 Z) with liquidity 50, and Z falls 10% on
// day 1: D cannot pay the variation margin of 100 and defaults at the end of day 1, the first default of the
// scenario (round 0, day 1). It is closed out over its MPOR of 1 day from day 0: 10 x 10 = 100 against its IM
// 100, nothing beyond, its DF contribution 20 left. B takes CI on day 1. X and Y do not move before day 3, then
// halve: B defaults on day 3 as above, CI's close-out loses 4 x 50 = 200, 50 beyond its margin 150.
//  - window 1 day: the transfer completed on day 1 + 1 < 3: CI is B's client, 470 as above;
//  - window 2 days: B defaulted by day 1 + 2 = 3: CI reverts to D's estate, 450 as above. Measured from day 0
//    (the start), the window would have closed on day 2 and CI stayed B's (470): the day decides this case;
//  - window 3 days: within it either way, 450.
// (EMIR art. 48(5)-(7): the transfer follows the clearing member's default; CPMI-IOSCO PFMI Principle 14,
// key consideration 3: portability on a participant's default.)
TEST(Clients, ThePortingWindowRunsFromTheDayTheMemberDefaultedInALaterStep) {
  std::string yaml(kPortingDays);
  const auto edit = [&yaml](std::string_view from, std::string_view to) {
    yaml.replace(yaml.find(from), from.size(), to);
  };
  edit("    - {id: Y, price: 100, volatility: 0.5}\n",
       "    - {id: Y, price: 100, volatility: 0.5}\n    - {id: Z, price: 100, volatility: 0.5}\n");
  edit("path: [{X: 0, Y: 0}, ", "path: [{X: 0, Y: 0, Z: -0.1}, ");
  edit("    liquidity: 1000\n    positions: {A: {X: 10}}", "    liquidity: 50\n    positions: {A: {X: 10, Z: 10}}");
  edit("{A: {X: -14, Y: -10}}", "{A: {X: -14, Y: -10, Z: -10}}");
  edit("defaults:\n  exogenous: [D]\n", "");
  for (const std::string_view window : {"1", "2", "3"}) {
    const bool within = window != "1";
    SCOPED_TRACE(std::string("window_days ") + std::string(window));
    const Model model = model_of(yaml, {{"ccps.A.porting.window_days", std::string(window)}});
    const ScenarioResult r = run_move(model, stress_move(model, model.stress_scenarios[0]));
    ASSERT_EQ(r.defaults.size(), 2u);
    EXPECT_EQ(r.defaults[0].member, 0);
    EXPECT_EQ(r.defaults[0].round, 0);
    EXPECT_EQ(r.defaults[0].cause, DefaultCause::kLiquidity);
    EXPECT_EQ(r.defaults[0].day, 1.0);
    expect_porting_days_outcome(r, model, within);
  }
}

// The stress report puts a reverted client's margin with the member whose estate it reverted to, where its
// loss beyond that margin is: kPortingDays on day 3, CI's close-out loses 200, 150 of it its own margin.
//  - window 3 days (within): CI reverts to D. The day's event lists D's line (50) and "D clients" (150), and
//    B's line with no clients of its own;
//  - window 2 days (after it): CI is B's client: "B clients" (150), no line of D;
//  - window 3 days, X down 30% rather than 50% on day 3: CI loses 120, all of it within its margin, so D has
//    no line, and "D clients" (120) still shows where it went.
// The event's defaulter_im layer counts the clients' margin once, wherever it is shown (B's own IM 50 + 150).
TEST(Clients, TheStressReportShowsARevertedClientsMarginWithItsOriginalMember) {
  struct Case {
    std::string window, fall;
    double cover;
    std::string clients_of;
    bool d_line;
  };
  for (const Case& k : {Case{"3", "-0.5", 150.0, "D", true}, Case{"2", "-0.5", 150.0, "B", false},
                        Case{"3", "-0.3", 120.0, "D", false}}) {
    SCOPED_TRACE("window " + k.window + ", X " + k.fall);
    std::string yaml(kPortingDays);
    yaml.replace(yaml.find("{X: -0.5, Y: -0.5}"), 18, "{X: " + k.fall + ", Y: -0.5}");
    const Model model = model_of(yaml, {{"ccps.A.porting.window_days", k.window}});
    const auto outcomes = run_stress(model);
    ASSERT_EQ(outcomes.size(), 1u);
    const auto json = stress_json(model, outcomes);
    int day_three = 0;
    for (const auto& e : json["stress_scenarios"][0]["waterfalls"]) {
      if (e["day"].get<double>() != 3.0) continue;
      ++day_three;
      std::map<std::string, double> rows;
      for (const auto& d : e["defaulters"]) rows[d["account"].get<std::string>()] += d["im_used"].get<double>();
      EXPECT_EQ(rows.count("B"), 1u);
      EXPECT_NEAR(rows[k.clients_of + " clients"], k.cover, 1e-9);
      EXPECT_EQ(rows.count((k.clients_of == "D" ? "B" : "D") + std::string(" clients")), 0u);
      EXPECT_EQ(rows.count("D"), k.d_line ? 1u : 0u);
      EXPECT_NEAR(e["layers"]["defaulter_im"].get<double>(), 50.0 + k.cover, 1e-9);
    }
    EXPECT_EQ(day_three, 1);
  }
}

// Two clients of D reverted from B in the same round share one line of D: D's fund contribution left stands
// behind their shortfall once. kPortingDays within the window, with a second individually segregated client
// CJ like CI (long 4 X, IM 150, backup B; R short 4 X more): on day 3 each loses 200, 50 beyond its margin.
// D's line is 100 against D's DF contribution of 20 (its own close-out on day 1 lost nothing); B's is its own
// (Y 10 x 50 = 500 against its IM 50 and DF 30). The defaulters' DF layer is 20 + 30 = 50, as with one client;
// two lines of D (each given D's 20) would take 70, charging D's contribution twice.
TEST(Clients, TwoRevertedClientsOfOneMemberShareItsFundContributionOnce) {
  std::string yaml(kPortingDays);
  const std::string ci =
      "      - {id: CI, segregation: individual, positions: {A: {X: 4}}, initial_margin: {A: 150}, "
      "backup: [B]}\n";
  yaml.replace(yaml.find(ci), ci.size(), ci + std::string(ci).replace(ci.find("CI"), 2, "CJ"));
  yaml.replace(yaml.find("{A: {X: -14, Y: -10}}"), 21, "{A: {X: -18, Y: -10}}");
  const Model model = model_of(yaml, {{"ccps.A.porting.window_days", "3"}});
  const ScenarioResult r = run_move(model, stress_move(model, model.stress_scenarios[0]));
  ASSERT_EQ(r.defaults.size(), 2u);
  EXPECT_EQ(r.clients_ported, 0);
  EXPECT_NEAR(layer(r, 0, models::Layer::kDefaulterDf), 50.0, 1e-6);
  double own_df = 0.0;
  for (const AccountLoss& l : r.account_losses)
    if (l.channel == LossChannel::kOwnDf &&
        model.accounts[static_cast<std::size_t>(l.account)].kind == AccountKind::kMember &&
        model.members[static_cast<std::size_t>(model.accounts[static_cast<std::size_t>(l.account)].owner)].id == "D")
      own_df += l.amount;
  EXPECT_NEAR(own_df, 20.0, 1e-6);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-6);
  // The stress report: one line of D with 100, and both clients' margin (300) as D's.
  const auto json = stress_json(model, run_stress(model));
  for (const auto& e : json["stress_scenarios"][0]["waterfalls"]) {
    if (e["day"].get<double>() != 3.0) continue;
    int d_lines = 0;
    double d_clients = 0.0;
    for (const auto& d : e["defaulters"]) {
      if (d["account"] == "D") {
        ++d_lines;
        EXPECT_NEAR(d["closeout_loss"].get<double>(), 100.0, 1e-9);
      }
      if (d["account"] == "D clients") d_clients += d["im_used"].get<double>();
    }
    EXPECT_EQ(d_lines, 1);
    EXPECT_NEAR(d_clients, 300.0, 1e-9);
  }
}

TEST(Clients, TheMarginComparedCountsTheClientsAccounts) {
  // compare's total initial margin is what the CCPs hold: the members' house accounts (D 100, B 50, R 0)
  // and their clients' (150 + 120 + 80, EMIR art. 39: recorded at the CCP, in the member's client accounts).
  const Comparison c =
      run_compare(config::load_scenario_text(kPorting, "clients.yaml", {}), {{"simulation.scenarios", "8"}}, {});
  ASSERT_FALSE(c.variants.empty());
  EXPECT_NEAR(c.variants[0].total_im, 100.0 + 50 + 0 + 150 + 120 + 80, 1e-9);
}

// A client ported to a backup that then defaults in a later round of a step,
// on the step's charges, having paid the step's variation margin, is closed
// out with it from the step's end, the last margin paid (RTS 153/2013 art.
// 26), not from the step's start: the account's holder decides, not its
// original clearing member. One CCP, MPOR 1 day, daily steps over 3 days; X
// flat on day 1, 100 -> 90 on day 2, 90 -> 63 on day 3.
//  - Day 0: D defaults (exogenous); its client CI (long 4 X, IM 150) is
//    ported to B at once (window 0).
//  - Day 2: E (long 20 X, liquidity 50) cannot pay the day's VM of 200 and is
//    closed out over day 1 to 2: 200 - IM 50 - DF 20 = 130 from the mutual
//    fund, all of it B's contribution (R contributes nothing). B's capital
//    100 - 130 < 0: B defaults in the next round of day 2, and CI with it.
//  - CI's close-out from day 2: 4 x (63 - 90) = -108, within its margin:
//    108 of CI's margin is used (from the step's start it would be
//    4 x (90 - 100) = -40, the VM CI paid on day 2). Close-out loss 200 + 108.
constexpr std::string_view kPortedThenLaterRound = R"(name: a ported client closed out with its backup
simulation: {horizon_days: 3, step_days: 1}
market:
  assets:
    - {id: X, price: 100, volatility: 0.5}
    - {id: Y, price: 100, volatility: 0.5}
  stress_scenarios: [{name: fall, path: [{X: 0, Y: 0}, {X: -0.1, Y: 0}, {X: -0.3, Y: 0}]}]
ccps:
  - id: A
    capital: 1.0e6
    sitg: 0
    margin: {model: parametric, mpor_days: 1}
    default_fund: {sizing: fixed, amount: 200}
    waterfall: [defaulter_im, defaulter_df, mutualized_df, ccp_equity]
    porting: {window_days: 0}
members:
  - id: D
    capital: 1000
    liquidity: 1000
    positions: {A: {Y: 1}}
    initial_margin: {A: 10}
    default_fund: {A: 10}
    clients:
      - {id: CI, segregation: individual, positions: {A: {X: 4}}, initial_margin: {A: 150}, backup: [B]}
  - {id: B, capital: 100, liquidity: 1000, positions: {A: {Y: 1}}, initial_margin: {A: 10}, default_fund: {A: 150}}
  - {id: E, capital: 1000, liquidity: 50, positions: {A: {X: 20}}, initial_margin: {A: 50}, default_fund: {A: 20}}
  - id: R
    capital: 1.0e6
    liquidity: 1.0e6
    positions: {A: {X: -24, Y: -2}}
    initial_margin: {A: 0}
    default_fund: {A: 0}
defaults:
  exogenous: [D]
)";

TEST(Clients, APortedClientIsClosedOutFromTheStepsEndWhenItsBackupDefaultsOnTheStepsCharges) {
  const Model model = model_of(kPortedThenLaterRound);
  const ScenarioResult r = stress(model);
  ASSERT_EQ(r.defaults.size(), 3u);
  EXPECT_EQ(r.defaults[1].member, 2);  // E, on day 2's VM
  EXPECT_EQ(r.defaults[2].member, 1);  // B, later that day, on its fund charge
  EXPECT_EQ(r.defaults[2].day, 2.0);
  EXPECT_GT(r.defaults[2].round, r.defaults[1].round);
  EXPECT_EQ(r.clients_ported, 1);
  EXPECT_EQ(r.clients_closed_out, 1);
  EXPECT_NEAR(client_charges(r, model, "CI", LossChannel::kClientMargin), 108.0, 1e-9);
  EXPECT_NEAR(r.closeout_loss, 200.0 + 108.0, 1e-9);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
}

TEST(Clients, ClientsAreCheckedWhereTheyAreWritten) {
  const std::string unknown = build_error(kPorting, {{"members.D.clients",
                                                      "[{id: C9, positions: {A: {X: 1}}, "
                                                      "backup: [Q]}]"}});
  EXPECT_THAT(unknown, HasSubstr("members[0].clients[0].backup[0]: unknown member 'Q'"));
  const std::string own = build_error(kPorting, {{"members.D.clients",
                                                  "[{id: C9, positions: {A: {X: 1}}, "
                                                  "backup: [D]}]"}});
  EXPECT_THAT(own, HasSubstr("expected a backup other than the client's own clearing member, found 'D'"));
  const std::string dup = build_error(kPorting, {{"members.B.clients", "[{id: CI, positions: {A: {X: 1}}}]"}});
  EXPECT_THAT(dup, HasSubstr("duplicate client id 'CI'"));
  const std::string member_id = build_error(kPorting, {{"members.B.clients", "[{id: R, positions: {A: {X: 1}}}]"}});
  EXPECT_THAT(member_id, HasSubstr("expected a client id that is no member's, found member id 'R'"));
  const std::string seg = build_error(kPorting, {{"members.B.clients",
                                                  "[{id: C9, segregation: isolated, "
                                                  "positions: {A: {X: 1}}}]"}});
  EXPECT_THAT(seg, HasSubstr("segregation"));
  EXPECT_THAT(seg, HasSubstr("individual"));
}

}  // namespace test_clients
}  // namespace ccpnet
