// default_fund.variant (emir | boe) and default_fund.allocation (im |
// uncovered_stress) as wired from the scenario file, on a four-member example
// worked by hand.
//
// Sources: EMIR (Regulation 648/2012) art. 42(3) and 43(2) for Cover-2; the
// Bank of England's approach in its CCP supervisory stress tests (2024 CCP
// Supervisory Stress Test: results report): the two members whose default
// depletes mutualised resources most, each defaulter's own contribution
// absorbing its own loss first (models/default_fund/cover.hpp).
//
// One CCP, one asset X at 100, MPOR 1 day, no SITG, stress_sigma 0 (the
// standard up and down moves are 0), and two named stress moves over 1 day:
//   member  group  quantity  IM   loss if X -10%   loss if X +10%
//   M1      G1       100     200      1000              -
//   M2      G1        50     100       500              -
//   M3      G2        90     100       900              -
//   M4      G3      -240     300        -             2400
// Uncovered stress loss by group (loss minus the group's IM, floored at 0):
//   X -10%: G1 1500 - 300 = 1200, G2 800, G3 0;   X +10%: G1 0, G2 0, G3 2100.
//
// EMIR Cover-2 (no other prefunded resources): max over scenarios of
// max(U1, U2 + U3, U1 + U2) = max(2000, 2100) = 2100.
//
// Bank of England, contributions pro rata to IM (group shares 3/7, 1/7, 3/7):
// the smallest F with F >= max(U_i, c_i) + max(U_j, c_j) for every pair and
// scenario, c = F x share. X +10% binds: F >= 2100 + 3F/7, F = 3675 (then
// X -10%: c = 1575, 525, 1575, claims 1575 + 1575 = 3150 <= 3675).
//
// Allocation pro rata to uncovered stress loss: each account's largest
// max(0, loss - IM): M1 800, M2 400, M3 800, M4 2100 (sum 4100). With the Bank
// of England sizing the group shares are 1200, 800, 2100 over 4100; X +10%
// binds: F >= 2100 + 12F/41, F = 2100 x 41 / 29 = 86100 / 29 (then X -10%:
// c = 868.97, 579.31, 1520.69, claims 1520.69 + 1200 = 2720.69 <= F).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/config/load.hpp"
#include "sim/model.hpp"

namespace ccpnet {
namespace test_default_fund_options {

constexpr std::string_view kFourMembers = R"(name: default fund options
market:
  assets: [{id: X, price: 100, volatility: 0.5}]
  stress_scenarios:
    - {name: X -10%, moves: {X: -0.10}, days: 1}
    - {name: X +10%, moves: {X: 0.10}, days: 1}
ccps:
  - id: A
    capital: 1e6
    sitg: 0
    stress_sigma: 0
    margin: {model: parametric, mpor_days: 1}
    default_fund: {sizing: cover2}
members:
  - {id: M1, group: G1, capital: 1e6, positions: {A: {X: 100}}, initial_margin: {A: 200}}
  - {id: M2, group: G1, capital: 1e6, positions: {A: {X: 50}}, initial_margin: {A: 100}}
  - {id: M3, group: G2, capital: 1e6, positions: {A: {X: 90}}, initial_margin: {A: 100}}
  - {id: M4, group: G3, capital: 1e6, positions: {A: {X: -240}}, initial_margin: {A: 300}}
)";

Model model_with(const std::string& variant, const std::string& allocation) {
  return build_model(config::load_scenario_text(
      kFourMembers, "t.yaml",
      {{"ccps.A.default_fund.variant", variant}, {"ccps.A.default_fund.allocation", allocation}}));
}

std::vector<double> contributions(const Model& m) {
  std::vector<double> out(4, -1.0);
  for (const auto& acc : m.accounts)
    if (acc.kind == AccountKind::kMember) out[static_cast<std::size_t>(acc.owner)] = acc.default_fund;
  return out;
}

// Rounding of the stress moves (expm1(log1p(m))) and of the bisection (1e-12).
constexpr double kTolerance = 1e-8;

TEST(DefaultFundOptions, EmirProRataToIm) {
  const Model m = model_with("emir", "im");
  EXPECT_NEAR(m.ccps[0].default_fund, 2100.0, kTolerance);
  const auto c = contributions(m);  // 2100 x IM / 700
  EXPECT_NEAR(c[0], 600.0, kTolerance);
  EXPECT_NEAR(c[1], 300.0, kTolerance);
  EXPECT_NEAR(c[2], 300.0, kTolerance);
  EXPECT_NEAR(c[3], 900.0, kTolerance);
  // The largest uncovered loss sets the fund: G3 in X +10% (G1 has none there).
  EXPECT_EQ(m.ccps[0].cover_groups, (std::vector<int>{2}));
}

TEST(DefaultFundOptions, EmirProRataToUncoveredStressLoss) {
  const Model m = model_with("emir", "uncovered_stress");
  EXPECT_NEAR(m.ccps[0].default_fund, 2100.0, kTolerance);
  const auto c = contributions(m);  // 2100 x (800, 400, 800, 2100) / 4100
  EXPECT_NEAR(c[0], 16800.0 / 41.0, kTolerance);
  EXPECT_NEAR(c[1], 8400.0 / 41.0, kTolerance);
  EXPECT_NEAR(c[2], 16800.0 / 41.0, kTolerance);
  EXPECT_NEAR(c[3], 44100.0 / 41.0, kTolerance);
}

TEST(DefaultFundOptions, BankOfEnglandProRataToIm) {
  const Model m = model_with("boe", "im");
  EXPECT_NEAR(m.ccps[0].default_fund, 3675.0, 1e-6);
  const auto c = contributions(m);  // 3675 x IM / 700
  EXPECT_NEAR(c[0], 1050.0, 1e-6);
  EXPECT_NEAR(c[1], 525.0, 1e-6);
  EXPECT_NEAR(c[2], 525.0, 1e-6);
  EXPECT_NEAR(c[3], 1575.0, 1e-6);
  // At that fund G3 depletes mutualised resources most: 2100 - 1575 = 525 in
  // X +10%, against 800 - 525 = 275 for G2 in X -10% (G1: 1200 - 1575 < 0).
  EXPECT_EQ(m.ccps[0].cover_groups, (std::vector<int>{2}));
}

TEST(DefaultFundOptions, BankOfEnglandProRataToUncoveredStressLoss) {
  const Model m = model_with("boe", "uncovered_stress");
  const double fund = 86100.0 / 29.0;
  EXPECT_NEAR(m.ccps[0].default_fund, fund, 1e-6);
  const auto c = contributions(m);
  EXPECT_NEAR(c[0], fund * 800.0 / 4100.0, 1e-6);
  EXPECT_NEAR(c[1], fund * 400.0 / 4100.0, 1e-6);
  EXPECT_NEAR(c[2], fund * 800.0 / 4100.0, 1e-6);
  EXPECT_NEAR(c[3], fund * 2100.0 / 4100.0, 1e-6);
}

TEST(DefaultFundOptions, TheBankOfEnglandVariantSizesCover2Funds) {
  try {
    config::load_scenario_text(kFourMembers, "t.yaml",
                               {{"ccps.A.default_fund.variant", "boe"}, {"ccps.A.default_fund.sizing", "cover1"}});
    ADD_FAILURE() << "loaded";
  } catch (const config::ScenarioError& e) {
    EXPECT_EQ(std::string(e.what()),
              "--set ccps.A.default_fund.variant=boe:0:0: ccps[0].default_fund.variant: variant: boe sizes a cover2 "
              "fund, found sizing: cover1\n");
  }
}

}  // namespace test_default_fund_options
}  // namespace ccpnet
