// The CCP-bank nexus (sim/nexus.hpp): members' bilateral exposures outside the
// CCPs, cleared inside the cascade. Hand cases through the YAML engine (every
// step worked in the comment), the standalone clearing blocks' textbook
// results reproduced inside the cascade, located errors in the CSV files, the
// interbank ledger on random systems, and determinism across threads.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "sim/config/load.hpp"
#include "sim/model.hpp"
#include "sim/output.hpp"
#include "sim/runner.hpp"
#include "sim/stress.hpp"
#include "tests/sim/step_paths.hpp"

namespace ccpnet {
namespace test_nexus {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// Named as if it lived in tests/data/interbank, so that its CSV files resolve there.
const std::string& scenario_name() {
  static const std::string name =
      (fs::path(CCPNET_SOURCE_DIR) / "tests" / "data" / "interbank" / "scenario.yaml").string();
  return name;
}

Model model_of(std::string_view yaml, const std::vector<config::Override>& overrides = {}) {
  return build_model(config::load_scenario_text(yaml, scenario_name(), overrides));
}

std::string build_error(std::string_view yaml, const std::vector<config::Override>& overrides = {}) {
  try {
    model_of(yaml, overrides);
  } catch (const config::ScenarioError& e) {
    return e.what();
  }
  return "";
}

ScenarioResult stress(const Model& model, CascadeTrace* trace = nullptr) {
  return run_move(model, stress_move(model, model.stress_scenarios[0]), trace);
}

double interbank_charges(const ScenarioResult& r, const Model& model, std::size_t member) {
  double sum = 0.0;
  for (const AccountLoss& l : r.account_losses)
    if (l.channel == LossChannel::kInterbank &&
        model.accounts[static_cast<std::size_t>(l.account)].owner == static_cast<int>(member))
      sum += l.amount;
  return sum;
}

double layer(const ScenarioResult& r, std::size_t ccp, models::Layer l) {
  return r.ccp_layers[ccp * models::kLayerCount + static_cast<std::size_t>(l)];
}

// ---------------------------------------------------------------- textbook networks inside the cascade

// The three-bank network of NEVA's documentation, the one tests/models/test_clearing.cpp works by hand
// (Eisenberg and Noe 2001; Rogers and Veraart 2013): bank 0 owes bank 1 4, bank 1 owes bank 2 3, bank 2
// owes bank 0 2 (tests/data/interbank/neva.csv); external debt (17, 18, 8); unshocked outside assets
// (20, 20, 10), so equity = e + claims - obligations - external debt = (20 + 2 - 4 - 17, 20 + 4 - 3 - 18,
// 10 + 3 - 2 - 8) = (1, 3, 3): the members' capital. The shock e = (18, 17.5, 9) is the scenario's P&L
// (-2, -2.5, -1) on one unit each of their own asset, which a rest-of-market member R takes the other side
// of; IM 10 covers each close-out, so no CCP loss reaches anyone: only the network moves money.
// Bank 0's capital 1 - 2 = -1 < 0: it defaults at the start (solvency) and is closed out at CCP A.
constexpr std::string_view kNeva = R"(name: NEVA network inside the cascade
market:
  assets:
    - {id: X0, price: 100, volatility: 0.5}
    - {id: X1, price: 100, volatility: 0.5}
    - {id: X2, price: 100, volatility: 0.5}
  stress_scenarios: [{name: shock, moves: {X0: -0.02, X1: -0.025, X2: -0.01}, days: 1}]
ccps:
  - {id: A, capital: 100, margin: {model: parametric, mpor_days: 1}, default_fund: {sizing: fixed, amount: 3}}
members:
  - {id: B0, capital: 1, liquidity: 100, positions: {A: {X0: 1}}, initial_margin: {A: 10}, default_fund: {A: 1}}
  - {id: B1, capital: 3, liquidity: 100, positions: {A: {X1: 1}}, initial_margin: {A: 10}, default_fund: {A: 1}}
  - {id: B2, capital: 3, liquidity: 100, positions: {A: {X2: 1}}, initial_margin: {A: 10}, default_fund: {A: 1}}
  - id: R
    capital: 1.0e6
    liquidity: 1.0e6
    positions: {A: {X0: -1, X1: -1, X2: -1}}
    initial_margin: {A: 10}
    default_fund: {A: 0}
interbank:
  exposures_file: neva.csv
  external_debt: {B0: 17, B1: 18, B2: 8}
)";

TEST(Nexus, EisenbergNoeInsideTheCascadeIsTheStandaloneClearingVector) {
  // Eisenberg-Noe, pari passu (test_clearing's NevaNetworkShockedPariPassu): p = (20, 21, 10). Bank 0 pays
  // 20 of its 21, so its creditor bank 1 receives 4 * 20/21 and loses 4/21; bank 1's equity 3 - 2.5 - 4/21
  // = 6.5/21, the standalone block's. No one else loses.
  const Model model = model_of(kNeva);
  ASSERT_TRUE(model.interbank.has_value());
  const ScenarioResult r = stress(model);
  EXPECT_EQ(r.total_loss - r.interbank_loss, 0.0);  // the CCP's layers: the close-outs stop at the IM
  EXPECT_NEAR(r.interbank_loss, 4.0 / 21, 1e-12);
  EXPECT_NEAR(r.interbank_shortfall, 4.0 / 21, 1e-12);
  EXPECT_NEAR(interbank_charges(r, model, 1), 4.0 / 21, 1e-12);
  EXPECT_EQ(interbank_charges(r, model, 0) + interbank_charges(r, model, 2), 0.0);
  ASSERT_EQ(r.defaults.size(), 1u);
  EXPECT_EQ(r.defaults[0].member, 0);
  EXPECT_EQ(r.defaults[0].cause, DefaultCause::kSolvency);
  EXPECT_NEAR(r.total_loss, 4.0 / 21, 1e-12);
}

TEST(Nexus, SeniorExternalDebtTipsTheSecondBankAsTheStandaloneBlockDoes) {
  // Senior external debt (NevaNetworkShockedSeniorExternalDebt): interbank payments q = (3, 2.5, 2). Bank 1
  // loses 4 - 3 = 1 on bank 0: its capital 0.5 - 1 = -0.5 < 0, it defaults in round 1 with the cause
  // interbank (it was solvent before the charge); bank 2 loses 3 - 2.5 = 0.5 on bank 1 and keeps
  // 2 - 0.5 = 1.5, the standalone equity. Round 2 closes bank 1 out at A within its IM: nothing moves.
  // Shortfall (4 - 3) + (3 - 2.5) = 1.5 = the creditors' losses 1 + 0.5.
  const Model model = model_of(kNeva, {{"interbank.external_debt_priority", "senior"}});
  const ScenarioResult r = stress(model);
  EXPECT_NEAR(interbank_charges(r, model, 1), 1.0, 1e-12);
  EXPECT_NEAR(interbank_charges(r, model, 2), 0.5, 1e-12);
  EXPECT_NEAR(r.interbank_shortfall, 1.5, 1e-12);
  EXPECT_NEAR(r.interbank_loss, 1.5, 1e-12);
  ASSERT_EQ(r.defaults.size(), 2u);
  EXPECT_EQ(r.defaults[1].member, 1);
  EXPECT_EQ(r.defaults[1].round, 1);
  EXPECT_EQ(r.defaults[1].cause, DefaultCause::kInterbank);
  EXPECT_EQ(r.rounds, 2);
}

TEST(Nexus, RogersVeraartInsideTheCascadeIsTheStandaloneClearingVector) {
  // Rogers-Veraart, alpha 0.5, beta 0.8 (test_clearing's DefaultCostsSpreadTheDefault): p = (10.6,
  // 8.75 + 33.92/21, 10). Bank 1 loses 4 (1 - 10.6/21) = 41.6/21 = 1.981 > its capital 0.5: it defaults
  // (interbank). Bank 2 loses 3 (1 - p1/21) and keeps 2 - 3 + 3 p1/21 = 9 + 3/21 p1 - 10, the standalone
  // equity.
  const Model model = model_of(
      kNeva, {{"interbank.clearing", "rogers_veraart"}, {"interbank.alpha", "0.5"}, {"interbank.beta", "0.8"}});
  const ScenarioResult r = stress(model);
  const double p1 = 8.75 + 33.92 / 21;
  EXPECT_NEAR(interbank_charges(r, model, 1), 41.6 / 21, 1e-12);
  EXPECT_NEAR(2.0 - interbank_charges(r, model, 2), 9 + 3.0 / 21 * p1 - 10, 1e-12);
  EXPECT_NEAR(r.interbank_loss, r.interbank_shortfall, 1e-12);
  ASSERT_EQ(r.defaults.size(), 2u);
  EXPECT_EQ(r.defaults[1].cause, DefaultCause::kInterbank);
}

TEST(Nexus, ReconstructedFromTheSameTotalsTheNetworkMeetsThem) {
  // neva_totals.csv gives each bank's claims and obligations of neva.csv: (2, 4), (4, 3), (3, 2). With a zero
  // diagonal and three banks maximum entropy must reproduce the totals; the member that owes the others 4
  // in neva.csv owes 4 here too.
  const Model model =
      model_of(kNeva, {{"interbank.exposures_file", "\"\""}, {"interbank.totals_file", "neva_totals.csv"}});
  const auto& net = *model.interbank;
  EXPECT_NEAR(net.obligations(0), 4, 1e-9);
  EXPECT_NEAR(net.obligations(1), 3, 1e-9);
  EXPECT_NEAR(net.claims(1), 4, 1e-9);
  EXPECT_NEAR(net.claims(2), 3, 1e-9);
  EXPECT_EQ(net.obligations(3), 0.0);
  const Model sparse = model_of(kNeva, {{"interbank.exposures_file", "\"\""},
                                        {"interbank.totals_file", "neva_totals.csv"},
                                        {"interbank.reconstruction", "min_density"}});
  EXPECT_NEAR(sparse.interbank->claims(0), 2, 1e-9);
  EXPECT_NEAR(sparse.interbank->obligations(2), 2, 1e-9);
}

// ---------------------------------------------------------------- a CCP loss, an interbank default, another CCP

// X and Y fall 50% (100 -> 50), Z 10%. CCP A: D long 10 X (exogenous default), P short 10 X and long 10 Y
// (P&L 0), R short 10 Y (gains 500; contributes nothing to the fund). CCP B: Q long 10 Z (P&L -100), S short
// 10 Z. Outside the CCPs P owes Q 100 (hand.csv); no external debt.
// Round 1 at A: D's close-out 500 - IM 100 - DF 20 = 380; SITG 10 -> 370; P's DF 60 -> 310 (R has none);
//   assessment on P (1x its DF) 60 -> 250; VMGH on R's gain of 500: 250. P is charged 120: capital 50 - 120
//   = -70.
// The network clears (Eisenberg-Noe): P's outside assets e = equity + obligations = -70 + 100 = 30 and it
//   receives nothing, so it pays 30 of 100; Q loses 70. Q's equity 150 - 100 (its P&L) = 50 -> 50 - 70 = -20:
//   Q was solvent before the charge and is not after it: Q defaults (interbank); P defaults (solvency).
// Round 2 at B, the other CCP: Q's close-out 100 - IM 40 - DF 10 = 50; SITG 20 -> 30; S's DF 30 -> 0. At A,
//   P's account closes at a P&L of 0: nothing. The network clears again (S was charged) on the same
//   equities: nothing more.
// Close-out losses 500 + 100 = 600; borne beyond the defaulters' own collateral: A 10 + 60 + 60 + 250 = 380,
// B 20 + 30 = 50, and Q's interbank loss 70: total loss 500.
constexpr std::string_view kTwoCcps = R"(name: a CCP loss, an interbank default and another CCP
market:
  assets:
    - {id: X, price: 100, volatility: 0.5}
    - {id: Y, price: 100, volatility: 0.5}
    - {id: Z, price: 100, volatility: 0.5}
  stress_scenarios: [{name: crash, moves: {X: -0.5, Y: -0.5, Z: -0.1}, days: 1}]
ccps:
  - {id: A, capital: 100, sitg: 10, margin: {model: parametric, mpor_days: 1}, default_fund: {sizing: fixed, amount: 80}}
  - {id: B, capital: 100, sitg: 20, margin: {model: parametric, mpor_days: 1}, default_fund: {sizing: fixed, amount: 40}}
members:
  - {id: D, capital: 1000, liquidity: 1000, positions: {A: {X: 10}}, initial_margin: {A: 100}, default_fund: {A: 20}}
  - {id: P, capital: 50, liquidity: 1000, positions: {A: {X: -10, Y: 10}}, initial_margin: {A: 100}, default_fund: {A: 60}}
  - {id: R, capital: 1.0e6, liquidity: 1.0e6, positions: {A: {Y: -10}}, initial_margin: {A: 100}, default_fund: {A: 0}}
  - {id: Q, capital: 150, liquidity: 1000, positions: {B: {Z: 10}}, initial_margin: {B: 40}, default_fund: {B: 10}}
  - {id: S, capital: 1.0e6, liquidity: 1.0e6, positions: {B: {Z: -10}}, initial_margin: {B: 100}, default_fund: {B: 30}}
defaults: {exogenous: [D]}
interbank: {exposures_file: hand.csv}
variants:
  - {name: no_nexus, set: ["interbank=null"]}
)";

TEST(Nexus, ACcpLossTipsAMemberWhoseInterbankDefaultDefaultsAnotherAtAnotherCcp) {
  const Model model = model_of(kTwoCcps);
  CascadeTrace trace;
  const ScenarioResult r = stress(model, &trace);
  using L = models::Layer;
  EXPECT_NEAR(layer(r, 0, L::kSitg), 10, 1e-9);
  EXPECT_NEAR(layer(r, 0, L::kMutualizedDf), 60, 1e-9);
  EXPECT_NEAR(layer(r, 0, L::kAssessments), 60, 1e-9);
  EXPECT_NEAR(layer(r, 0, L::kVmgh), 250, 1e-9);
  EXPECT_NEAR(interbank_charges(r, model, 3), 70, 1e-9);
  EXPECT_NEAR(r.interbank_shortfall, 70, 1e-9);
  ASSERT_EQ(r.defaults.size(), 3u);
  EXPECT_EQ(r.defaults[1].member, 1);  // P, tipped by the CCP's charges
  EXPECT_EQ(r.defaults[1].cause, DefaultCause::kSolvency);
  EXPECT_EQ(r.defaults[2].member, 3);  // Q, tipped by P's interbank default
  EXPECT_EQ(r.defaults[2].round, 1);
  EXPECT_EQ(r.defaults[2].cause, DefaultCause::kInterbank);
  EXPECT_NEAR(layer(r, 1, L::kDefaulterIm), 40, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kDefaulterDf), 10, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kSitg), 20, 1e-9);
  EXPECT_NEAR(layer(r, 1, L::kMutualizedDf), 30, 1e-9);
  EXPECT_EQ(r.ccp_failures(), 0);
  EXPECT_EQ(r.rounds, 2);
  EXPECT_NEAR(r.closeout_loss, 600, 1e-9);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
  EXPECT_NEAR(r.total_loss, 500, 1e-9);

  // Without the network (the variant): Q's P&L leaves it 50; B sees nothing; total loss 380.
  const Model without = model_of(kTwoCcps, {{"interbank", "null"}});
  const ScenarioResult w = stress(without);
  ASSERT_EQ(w.defaults.size(), 2u);
  EXPECT_NEAR(w.total_loss, 380, 1e-9);
  EXPECT_EQ(w.interbank_loss, 0.0);
}

TEST(Nexus, DebtRankWritesAClaimOnADefaulterDownToNothing) {
  // DebtRank (linear; Barucca et al. 2020's valuation): P defaulted, so h(P) = 1 and Q's claim of 100 on it is
  // worth 100 (1 - 1) = 0: Q loses 100 and 50 - 100 < 0, it defaults (interbank). Q's own distress is
  // min(1, 100/150): it owes no one, so it spreads nothing. Shortfall 100 = Q's loss.
  const Model model = model_of(kTwoCcps, {{"interbank.clearing", "debtrank"}});
  const ScenarioResult r = stress(model);
  EXPECT_NEAR(interbank_charges(r, model, 3), 100, 1e-9);
  EXPECT_NEAR(r.interbank_shortfall, 100, 1e-9);
  ASSERT_EQ(r.defaults.size(), 3u);
  EXPECT_EQ(r.defaults[2].cause, DefaultCause::kInterbank);
}

// ---------------------------------------------------------------- bad input

TEST(Nexus, ErrorsAreLocatedInTheCsvFile) {
  const std::string e = build_error(kTwoCcps, {{"interbank.exposures_file", "bad_exposures.csv"}});
  EXPECT_THAT(e, HasSubstr("bad_exposures.csv:3:3: interbank.exposures_file: unknown member 'PP'"));
  EXPECT_THAT(e, HasSubstr("bad_exposures.csv:4:3: interbank.exposures_file: expected a borrower other than the "
                           "lender, found 'P' twice"));
  EXPECT_THAT(e, HasSubstr("bad_exposures.csv:5:1: interbank.exposures_file: duplicate exposure of 'Q' to 'P' (also "
                           "line 2)"));
}

TEST(Nexus, AnAmountMustBePositive) {
  EXPECT_THAT(build_error(kTwoCcps, {{"interbank.exposures_file", "bad_amount.csv"}}),
              HasSubstr("bad_amount.csv:2:5: interbank.exposures_file: expected an amount > 0 (USD), found -1"));
}

TEST(Nexus, ErrorsInTheScenario) {
  EXPECT_THAT(
      build_error(kNeva, {{"interbank.exposures_file", "\"\""}, {"interbank.totals_file", "unequal_totals.csv"}}),
      HasSubstr("interbank.totals_file: expected total interbank assets equal to total interbank "
                "liabilities, found 6 and 7 USD"));
  EXPECT_THAT(build_error(kNeva, {{"interbank.capital_multiple", "2"}}),
              HasSubstr("interbank: expected one source of exposures (exposures_file, totals_file or "
                        "capital_multiple > 0), found 2"));
  EXPECT_THAT(build_error(kNeva, {{"interbank.alpha", "0.5"}}),
              HasSubstr("interbank.alpha: expected alpha only with clearing: rogers_veraart"));
  EXPECT_THAT(build_error(kNeva, {{"interbank.external_debt", "{B9: 1}"}}),
              HasSubstr("interbank.external_debt.B9: unknown member 'B9'"));
  EXPECT_THAT(build_error(kNeva, {{"simulation.step_days", "1"}, {"simulation.horizon_days", "2"}}),
              HasSubstr("expected a scenario in one period with an interbank network"));
}

// ---------------------------------------------------------------- random systems

std::string random_system(std::mt19937_64& gen, std::string_view clearing) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const int n_ccps = 2 + static_cast<int>(u(gen) * 3);
  std::string y = "name: random nexus\nseed: " + std::to_string(gen() % 1000) + "\nmarket:\n  assets:\n";
  for (int a = 0; a < 4; ++a)
    y += fmt::format("    - {{id: A{}, price: {}, volatility: {}}}\n", a, 10 + 100 * u(gen), 0.3 + u(gen));
  y += "  correlation: {default: 0.4}\n  shocks: {model: student_t, dof: 3, volatility_multiplier: 3}\nccps:\n";
  for (int c = 0; c < n_ccps; ++c)
    y += fmt::format("  - {{id: C{}, capital: {}, margin: {{model: parametric, mpor_days: {}}}}}\n", c,
                     1e5 + 1e6 * u(gen), 1 + static_cast<int>(u(gen) * 3));
  y += fmt::format(
      "generator: {{members: {}, memberships: 1.8, notional: 1.0e5, capital_ratio: {}, liquidity_ratio: 0.3, "
      "assets_per_account: 3}}\n",
      20 + static_cast<int>(u(gen) * 40), 0.05 + 0.2 * u(gen));
  y += "defaults: {latent: {pd: 0.02, beta: 0.5}}\n";
  y += fmt::format(
      "interbank: {{capital_multiple: {}, reconstruction: {}, clearing: {}, external_debt_multiple: {}, "
      "external_debt_priority: {}}}\n",
      0.5 + 2 * u(gen), u(gen) < 0.5 ? "max_entropy" : "min_density", clearing, 3 * u(gen),
      clearing == "eisenberg_noe" && u(gen) < 0.5 ? "senior" : "pari_passu");
  return y;
}

TEST(Nexus, TheLedgersConserveOnRandomSystems) {
  std::mt19937_64 gen(20261205);
  int interbank_defaults = 0;
  for (int trial = 0; trial < 9; ++trial) {
    const char* clearing = trial % 3 == 0 ? "eisenberg_noe" : trial % 3 == 1 ? "rogers_veraart" : "debtrank";
    const Model model = build_model(config::load_scenario_text(random_system(gen, clearing), "random.yaml"));
    RunOptions options;
    options.count = 1024;
    options.threads = 2;
    int problems = 0;
    options.on_scenario = [&](const ScenarioResult& r) {
      const double scale = std::max(1.0, r.closeout_loss);
      if (std::abs(r.ledger_total() - r.closeout_loss) > 1e-9 * scale && problems++ < 3)
        ADD_FAILURE() << "trial " << trial << " scenario " << r.index << ": close-out " << r.closeout_loss
                      << " vs ledger " << r.ledger_total();
      // Monte Carlo runs fold account_losses per tile: the creditors' side is interbank_loss, the sum of
      // the kInterbank charges (the hand cases read the charges themselves).
      if (std::abs(r.interbank_loss - r.interbank_shortfall) > 1e-9 * std::max(1.0, r.interbank_shortfall) &&
          problems++ < 3)
        ADD_FAILURE() << "trial " << trial << " scenario " << r.index << ": interbank shortfall "
                      << r.interbank_shortfall << " vs creditors' losses " << r.interbank_loss;
      for (const MemberDefault& d : r.defaults) interbank_defaults += d.cause == DefaultCause::kInterbank;
    };
    run_monte_carlo(model, options);
  }
  EXPECT_GT(interbank_defaults, 0) << "no interbank default exercised";
}

TEST(Nexus, IdenticalForAnyThreadCount) {
  std::mt19937_64 gen(7);
  const Model model = build_model(config::load_scenario_text(random_system(gen, "eisenberg_noe"), "random.yaml",
                                                             {{"simulation.scenarios", "2048"}}));
  const auto row = [](const ScenarioResult& r) {
    return fmt::format("{} {} {} {}", r.index, r.defaults.size(), r.total_loss, r.interbank_loss);
  };
  const auto interbank = [](const ScenarioResult& r) { return r.interbank_loss > 0.0; };
  const test_paths::RunText one =
      test_paths::expect_identical_for_any_threads(model, row, interbank, {{1, 256}, {2, 256}, {5, 256}});
  EXPECT_NE(one.text.find("\"expected_interbank_loss\""), std::string::npos);
  EXPECT_GT(one.counted, 0);
}

}  // namespace test_nexus
}  // namespace ccpnet
