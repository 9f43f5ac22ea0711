// The default skin in the game (SITG), RTS 153/2013 art. 35(1): a CCP keeps
// dedicated own resources of 25% of the minimum capital it holds under EMIR
// art. 16 (Commission Delegated Regulation 152/2013), used after the
// defaulters' margin and contributions and before the survivors' (EMIR art.
// 45(4)). ccps[].minimum_capital states that minimum; sitg_basis: capital
// keeps ccpnet's former rule (25% of the whole capital).
//
// Worked by hand: capital 400m, minimum capital 120m.
//   RTS 153/2013 art. 35:     SITG = 0.25 x 120m = 30m
//   sitg_basis: capital:      SITG = 0.25 x 400m = 100m
//   no minimum_capital given: the capital stands for it, 0.25 x 400m = 100m
//   sitg: 7m given:           7m whatever the basis
// A second tranche (sitg2) is capped by the capital left after the SITG:
//   sitg2 350m -> min(350m, 400m - 30m) = 350m under art. 35, and
//   min(350m, 400m - 100m) = 300m under sitg_basis: capital.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "sim/config/load.hpp"
#include "sim/model.hpp"

namespace ccpnet {
namespace test_sitg {

using ::testing::HasSubstr;

// The file, with `minimum_capital` as its line 6 (empty: none given).
std::string scenario(std::string_view minimum_capital = "    minimum_capital: 1.2e8\n") {
  return std::string(R"(name: sitg default
market:
  assets: [{id: X, price: 100, volatility: 0.5}]
ccps:
  - id: A
)") + std::string(minimum_capital) +
         R"(    capital: 4.0e8
    sitg2: 3.5e8
    margin: {model: parametric, mpor_days: 1}
members:
  - {id: M1, capital: 1e6, positions: {A: {X: 10}}}
  - {id: M2, capital: 1e6, positions: {A: {X: -10}}}
)";
}

Model build(const std::vector<config::Override>& overrides = {}, const std::string& text = scenario()) {
  return build_model(config::load_scenario_text(text, "t.yaml", overrides));
}

TEST(Sitg, DefaultIsAQuarterOfTheMinimumCapitalRts153Art35) {
  const Model m = build();
  EXPECT_DOUBLE_EQ(m.ccps[0].sitg, 3.0e7);
  EXPECT_DOUBLE_EQ(m.ccps[0].sitg2, 3.5e8);
}

TEST(Sitg, BasisCapitalKeepsAQuarterOfTheWholeCapital) {
  const Model m = build({{"ccps.A.sitg_basis", "capital"}}, scenario(""));
  EXPECT_DOUBLE_EQ(m.ccps[0].sitg, 1.0e8);
  EXPECT_DOUBLE_EQ(m.ccps[0].sitg2, 3.0e8);
}

TEST(Sitg, WithoutAMinimumCapitalTheCapitalStandsForIt) {
  const Model m = build({}, scenario(""));
  EXPECT_DOUBLE_EQ(m.ccps[0].sitg, 1.0e8);
}

TEST(Sitg, AGivenSitgIsUsedAsGiven) { EXPECT_DOUBLE_EQ(build({{"ccps.A.sitg", "7e6"}}).ccps[0].sitg, 7.0e6); }

std::string errors_of(const std::string& text) {
  try {
    (void)config::load_scenario_text(text, "t.yaml");
  } catch (const config::ScenarioError& e) {
    return e.what();
  }
  return "";
}

TEST(Sitg, AMinimumCapitalAboveTheCapitalIsRefusedEmirArt16) {
  EXPECT_THAT(errors_of(scenario("    minimum_capital: 5.0e8\n")),
              HasSubstr("t.yaml:6:22: ccps[0].minimum_capital: minimum capital 500000000 exceeds the CCP's capital "
                        "400000000: EMIR art. 16 requires a CCP to hold at least its minimum capital"));
}

TEST(Sitg, BasisCapitalWithAMinimumCapitalIsRefused) {
  EXPECT_THAT(errors_of(scenario("    minimum_capital: 1.2e8\n    sitg_basis: capital\n")),
              HasSubstr("t.yaml:7:17: ccps[0].sitg_basis: sitg_basis: capital ignores the minimum_capital given"));
}

}  // namespace test_sitg
}  // namespace ccpnet
