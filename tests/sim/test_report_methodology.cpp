// The run report's methodology section (issue: a report a risk committee can
// read): generated from the model, it names each CCP's margin model, the
// default-fund stress set of RTS 153/2013 art. 30 with the move and groups
// that set the fund, where the SITG comes from (given, or 25% of the minimum
// capital by RTS 153/2013 art. 35) and the waterfall order; and the page has
// a print style sheet (A4 landscape, tables not clipped, figures unsplit).
//
// On the two-CCP example (hand example in tests/sim/test_stress_set.cpp for
// the same kind of book): CCP_A's fund, 750.0k, is set by the spread move
// "ETH up, BTC down" for group G1; its SITG of 50m is given; CCP_B states no
// SITG nor minimum capital, so its SITG is 25% of its capital of 100m, 25m.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "sim/config/load.hpp"
#include "sim/model.hpp"
#include "sim/report.hpp"
#include "sim/runner.hpp"
#include "sim/stress.hpp"

namespace ccpnet {
namespace test_report_methodology {

using ::testing::HasSubstr;

std::string section(const std::string& html, const std::string& id) {
  const auto begin = html.find("<section id=\"" + id + "\">");
  if (begin == std::string::npos) return "";
  return html.substr(begin, html.find("</section>", begin) - begin);
}

TEST(ReportMethodology, NamesTheModelsTheStressSetAndTheSitgRule) {
  std::ifstream in(std::string(CCPNET_SOURCE_DIR) + "/scenarios/two_ccp_peer.yaml");
  std::stringstream text;
  text << in.rdbuf();
  const auto loaded = config::load_scenario_text(text.str(), "two_ccp_peer.yaml");
  const Model model = build_model(loaded);
  RunOptions options;
  options.count = 256;
  options.threads = 1;
  const std::string html =
      run_report(model, run_monte_carlo(model, options), "two_ccp_peer.yaml", config::to_yaml(loaded.scenario));
  EXPECT_THAT(html, HasSubstr("<a href=\"#methodology\">Methodology</a>"));
  const std::string m = section(html, "methodology");
  ASSERT_FALSE(m.empty());
  EXPECT_THAT(m, HasSubstr("spread ETH up, BTC down 5 sd apart (correlation 0) (groups G1)"));
  EXPECT_THAT(m, HasSubstr("8 stress moves (2 directional, 4 single asset, 2 spread)"));
  EXPECT_THAT(m, HasSubstr("<td>50.0m: given</td>"));
  EXPECT_THAT(m, HasSubstr("25.0m: 25% of capital, standing for the minimum capital (RTS 153/2013 art. 35"));
  EXPECT_THAT(m, HasSubstr("defaulter_im &#8594; defaulter_df &#8594; sitg &#8594; mutualized_df"));
  EXPECT_THAT(m, HasSubstr("no default fund in its waterfall"));  // CCP_B, a crypto venue
  EXPECT_THAT(m, HasSubstr("<h3>Not modelled</h3>"));
  EXPECT_THAT(html, HasSubstr("@media print{"));
  EXPECT_THAT(html, HasSubstr("@page{size:A4 landscape"));
}

// Failure labels in the stress report: the badge sits on the waterfall whose
// layers ran out, worded by what ran them out. Worked by hand (the peer
// haircut of tests/sim/test_cascade.cpp with B's capital 369 and link_losses:
// own_capital): D's loss at A leaves 370 for VMGH on B's link gain; B pays it
// from SITG 20 and equity 349 only and fails in round 2 over its link with 1
// uncovered. B's own waterfall of round 1 (E's close-out, covered by E's IM)
// has nothing uncovered and carries no badge.
constexpr std::string_view kLinkFailure = R"(name: a haircut at a standing peer fails it over its link
market:
  assets: [{id: X, price: 100, volatility: 0.5}]
  stress_scenarios: [{name: crash, moves: {X: -0.5}, days: 1}]
ccps:
  - {id: A, capital: 100, sitg: 10, margin: {model: parametric, mpor_days: 1}, default_fund: {sizing: fixed, amount: 20}}
  - id: B
    capital: 369
    sitg: 20
    link_losses: own_capital
    margin: {model: parametric, mpor_days: 1}
    default_fund: {sizing: fixed, amount: 30}
members:
  - {id: D, capital: 1000, liquidity: 1000, positions: {A: {X: 10}}, initial_margin: {A: 100}, default_fund: {A: 20}}
  - {id: N, capital: 1000, liquidity: 1000, positions: {B: {X: -11}}, initial_margin: {B: 100}, default_fund: {B: 30}}
  - {id: E, capital: 1000, liquidity: 1000, positions: {B: {X: 1}}, initial_margin: {B: 100}, default_fund: {B: 0}}
links: [{between: [A, B]}]
defaults: {exogenous: [D, E]}
)";

TEST(ReportFailureLabels, TheBadgeIsOnTheWaterfallThatRanOutWordedByItsCause) {
  const auto loaded = config::load_scenario_text(kLinkFailure, "t.yaml");
  const Model model = build_model(loaded);
  const auto outcomes = run_stress(model);
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].result.ccp_fail_round[1], 2);
  const std::string html = stress_report(model, outcomes, "t.yaml", config::to_yaml(loaded.scenario));
  EXPECT_THAT(html, HasSubstr("B, round 2 (losses over its links) <span class=\"badge bad\">uncovered loss over its "
                              "links: the CCP fails</span></summary>"));
  EXPECT_THAT(html, HasSubstr("<summary>B, round 1</summary>"));
  std::size_t badges = 0;
  for (auto at = html.find("the CCP fails</span></summary>"); at != std::string::npos;
       at = html.find("the CCP fails</span></summary>", at + 1))
    ++badges;
  EXPECT_EQ(badges, 1u);
}

}  // namespace test_report_methodology
}  // namespace ccpnet
