// Scenario loading: strict reading, located errors, cross-references.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sim/config/load.hpp"

namespace ccpnet::config {
namespace {

using ::testing::HasSubstr;

std::string errors_of(std::string_view text, const std::vector<Override>& overrides = {}) {
  try {
    load_scenario_text(text, "t.yaml", overrides);
  } catch (const ScenarioError& e) {
    return e.what();
  }
  return "";
}

constexpr std::string_view kMinimal = R"(name: minimal
market:
  assets:
    - {id: BTC, price: 60000, volatility: 0.6}
ccps:
  - id: A
    capital: 1.0e8
members:
  - id: M1
    capital: 1.0e6
    positions: {A: {BTC: 1}}
  - id: M2
    capital: 1.0e6
    positions: {A: {BTC: -1}}
)";

TEST(Loader, MinimalFileLoadsWithDefaults) {
  const LoadedScenario s = load_scenario_text(kMinimal, "t.yaml");
  EXPECT_EQ(s.scenario.name, "minimal");
  EXPECT_EQ(s.scenario.seed, 1u);
  EXPECT_EQ(s.scenario.simulation.scenarios, 10000);
  ASSERT_EQ(s.scenario.members.size(), 2u);
  EXPECT_EQ(s.scenario.members[0].group, "M1");  // group defaults to the id
  EXPECT_DOUBLE_EQ(s.scenario.market.assets[0].trading_days, 365.0);
}

TEST(Loader, UnknownKeyIsLocatedWithSuggestion) {
  std::string text(kMinimal);
  text.replace(text.find("capital: 1.0e8"), 14, "capitl: 1.0e8");
  EXPECT_THAT(errors_of(text), HasSubstr("t.yaml:7:5: ccps[0].capitl: unknown key 'capitl' (did you mean 'capital'?)"));
}

}  // namespace
}  // namespace ccpnet::config
