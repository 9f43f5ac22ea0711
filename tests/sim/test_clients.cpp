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
//  - FCA CASS 7A.2.4R: a shortfall in a pool of client money is shared pro rata.
//  - EMIR art. 45(1)-(2): the defaulter's margin, then its default-fund
//    contribution, before any other resource.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/config/load.hpp"
#include "sim/model.hpp"
#include "sim/runner.hpp"
#include "sim/shocks.hpp"

namespace ccpnet {
namespace {

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
  //    48(7)): its close-out loss 200 - 100 = 100 against its pooled margin 120 + 80 = 200: 100 used, 100
  //    returned. Each bears the margin used pro rata to its own: CO1 100 x 120/200 = 60, CO2 100 x 80/200 = 40
  //    although its own positions gained 100: fellow-customer risk (PFMI Principle 14). Nothing uncovered.
  //  D's house line: 500 - IM 100 - DF 20 = 380; SITG 10 -> 370; B's DF 30 -> 340; assessment on B (1x its
  //    DF) 30 -> 310; VMGH on the survivors' gains: R's 700 (CI, now B's client, lost 100): 310 of it.
  // Close-out losses 500 + 100 = 600 = layers: defaulter IM 100 + 100 (the omnibus margin), DF 20, SITG 10,
  // mutualised 30, assessments 30, VMGH 310. Total loss (beyond the defaulter's and its clients' margin)
  // 10 + 30 + 30 + 310 = 380; the clients' loss 100.
  const Model model = model_of(kPorting);
  ASSERT_EQ(model.clients.size(), 3u);
  const ScenarioResult r = stress(model);
  EXPECT_EQ(r.clients_ported, 1);
  EXPECT_EQ(r.clients_closed_out, 2);
  EXPECT_EQ(client_charges(r, model, "CI", LossChannel::kClientMargin), 0.0);
  EXPECT_NEAR(client_charges(r, model, "CO1", LossChannel::kClientMargin), 60.0, 1e-9);
  EXPECT_NEAR(client_charges(r, model, "CO2", LossChannel::kClientMargin), 40.0, 1e-9);
  EXPECT_NEAR(r.client_loss, 100.0, 1e-9);
  EXPECT_NEAR(layer(r, 0, models::Layer::kDefaulterIm), 200.0, 1e-9);
  EXPECT_NEAR(layer(r, 0, models::Layer::kDefaulterDf), 20.0, 1e-9);
  EXPECT_NEAR(layer(r, 0, models::Layer::kSitg), 10.0, 1e-9);
  EXPECT_NEAR(layer(r, 0, models::Layer::kMutualizedDf), 30.0, 1e-9);
  EXPECT_NEAR(layer(r, 0, models::Layer::kAssessments), 30.0, 1e-9);
  EXPECT_NEAR(layer(r, 0, models::Layer::kVmgh), 310.0, 1e-9);
  EXPECT_NEAR(r.closeout_loss, 600.0, 1e-9);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
  EXPECT_NEAR(r.total_loss, 380.0, 1e-9);
  ASSERT_EQ(r.defaults.size(), 1u);  // B pays 60 of its 1000: it stands
}

TEST(Clients, WithoutABackupThatAcceptsTheIndividualClientLosesOnlyItsOwnCloseOut) {
  // ccps[].porting.capacity 0.1: B would take CI's IM 150 > 0.1 x its equity 1000 = 100: it refuses, and CI is
  // closed out: its loss 100 against its own IM 150 (art. 39(6)): 100 used, 50 returned; the omnibus's
  // losses do not reach it. The layers beyond the defaulters' and clients' margin are the same as above.
  const Model model = model_of(kPorting, {{"ccps.A.porting.capacity", "0.1"}});
  const ScenarioResult r = stress(model);
  EXPECT_EQ(r.clients_ported, 0);
  EXPECT_EQ(r.clients_closed_out, 3);
  EXPECT_NEAR(client_charges(r, model, "CI", LossChannel::kClientMargin), 100.0, 1e-9);
  EXPECT_NEAR(client_charges(r, model, "CO1", LossChannel::kClientMargin), 60.0, 1e-9);
  EXPECT_NEAR(client_charges(r, model, "CO2", LossChannel::kClientMargin), 40.0, 1e-9);
  EXPECT_NEAR(layer(r, 0, models::Layer::kDefaulterIm), 300.0, 1e-9);
  EXPECT_NEAR(r.closeout_loss, 700.0, 1e-9);
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

}  // namespace
}  // namespace ccpnet
