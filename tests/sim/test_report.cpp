// report.html: the run, stress and compare reports are well-formed,
// self-contained HTML with the expected sections and figures, numbers fit for
// people (never "nan" or "inf"), and every string from the scenario escaped.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "sim/compare.hpp"
#include "sim/config/load.hpp"
#include "sim/model.hpp"
#include "sim/report.hpp"
#include "sim/runner.hpp"
#include "sim/stress.hpp"

namespace ccpnet {
namespace {

const std::string kExample = std::string(CCPNET_SOURCE_DIR) + "/scenarios/two_ccp_peer.yaml";

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + what.size())) ++n;
  return n;
}

// Opening tags `<name>` / `<name ...>` (not `<names...>`).
std::size_t opening(const std::string& text, const std::string& name) {
  return count(text, "<" + name + ">") + count(text, "<" + name + " ");
}

// The page's text outside the resolved-scenario block (which quotes the YAML
// as written, e.g. `.inf` for an unbounded tier).
std::string without_yaml(const std::string& html) {
  const auto begin = html.find("<pre>");
  const auto end = html.find("</pre>");
  if (begin == std::string::npos || end == std::string::npos) return html;
  return html.substr(0, begin) + html.substr(end);
}

void expect_well_formed(const std::string& html) {
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(count(html, "<html"), 1u);
  EXPECT_EQ(count(html, "</html>"), 1u);
  EXPECT_EQ(count(html, "<head>"), 1u);
  EXPECT_EQ(count(html, "</head>"), 1u);
  EXPECT_EQ(count(html, "<body>"), 1u);
  EXPECT_EQ(count(html, "</body>"), 1u);
  EXPECT_NE(html.find("<meta charset=\"utf-8\">"), std::string::npos);
  for (const char* tag :
       {"main", "section", "table", "thead", "tbody", "tr", "figure", "figcaption", "svg", "details", "summary",
        "pre",  "g",       "text",  "title", "style", "h2", "h3",     "dl",         "nav", "footer"})
    EXPECT_EQ(opening(html, tag), count(html, std::string("</") + tag + ">")) << "unbalanced <" << tag << ">";
  // Self-contained: no scripts, nothing fetched from elsewhere.
  EXPECT_EQ(count(html, "<script"), 0u);
  EXPECT_EQ(count(html, "http://"), count(html, "xmlns=\"http://www.w3.org/2000/svg\""));
  EXPECT_EQ(count(html, "https://"), 0u);
  static const std::regex fetched(R"(<[^>]*\s(src|href)=\"(?!#|data:))");
  EXPECT_FALSE(std::regex_search(html, fetched)) << "a resource outside the page";
  // Numbers for people: no NaN or infinity anywhere outside the quoted YAML.
  static const std::regex bad(R"((^|[^A-Za-z_])(nan|inf|infinity)([^A-Za-z_]|$))", std::regex::icase);
  const std::string text = without_yaml(html);
  std::smatch m;
  EXPECT_FALSE(std::regex_search(text, m, bad)) << "found '" << m.str(0) << "'";
  EXPECT_EQ(text.find("e+"), std::string::npos) << "a number in exponent notation";
}

std::filesystem::path write_temp(const std::string& name, const std::string& html) {
  const auto dir = std::filesystem::temp_directory_path() / "ccpnet-report-test";
  std::filesystem::create_directories(dir);
  const auto path = dir / name;
  std::ofstream(path, std::ios::binary) << html;
  EXPECT_EQ(std::filesystem::file_size(path), html.size());
  return path;
}

// The example system with random (latent-factor) defaults on top of the
// exogenous one, so losses, failures and defaults vary across scenarios.
config::LoadedScenario example(const std::string& text) {
  return config::load_scenario_text(text, "two_ccp_peer.yaml",
                                    {{"defaults.latent", "{pd: 0.05, beta: 0.6}"}, {"simulation.scenarios", "4096"}});
}

RunResult run(const Model& model) {
  RunOptions options;
  options.count = 4096;
  options.threads = 1;
  return run_monte_carlo(model, options);
}

TEST(Report, RunReportIsWellFormedWithEverySectionAndFigure) {
  const auto loaded = example(read_text(kExample));
  const Model model = build_model(loaded);
  const RunResult result = run(model);
  ASSERT_EQ(result.aggregate.scenarios(), 4096);
  const std::string html = run_report(model, result, "scenarios/two_ccp_peer.yaml", config::to_yaml(loaded.scenario));
  expect_well_formed(html);
  for (const char* section : {"id=\"summary\"", "id=\"ccps\"", "id=\"system\"", "id=\"losses\"",
                              "id=\"fig-waterfalls\"", "id=\"network\"", "id=\"scenario\"", "id=\"members\""})
    EXPECT_NE(html.find(section), std::string::npos) << section;
  for (const char* title : {"Loss distribution: histogram", "Loss distribution: exceedance curve",
                            "Waterfall depletion per CCP", "Network: CCPs, links and members"})
    EXPECT_NE(html.find(title), std::string::npos) << title;
  for (const char* text : {"P(any CCP fails)", "mean member defaults", "VaR 99%", "VaR 99.9%", "ES 99%",
                           "DF depletion, p99", "Mean loss per waterfall layer", "have no loss", "Resolved scenario",
                           "two CCPs, one peer link", "CCP_A", "CCP_B", "Mutualised DF", "USD", "4,096"})
    EXPECT_NE(html.find(text), std::string::npos) << text;
  EXPECT_EQ(count(html, "<svg"), 5u);  // two loss figures, two waterfall figures, the network
  EXPECT_GT(count(html, "<rect"), 10u);
  EXPECT_GT(count(html, "<circle"), 5u);
  EXPECT_EQ(count(html, "<polyline"), 1u);
  EXPECT_NE(html.find("<details id=\"resolved\">"), std::string::npos);
  EXPECT_NE(html.find("seed: 7"), std::string::npos);  // the resolved YAML
  EXPECT_EQ(html.find("partial: interrupted"), std::string::npos);
  // Deterministic: the same run gives the same bytes.
  EXPECT_EQ(run_report(model, run(model), "scenarios/two_ccp_peer.yaml", config::to_yaml(loaded.scenario)), html);
  const auto path = write_temp("run.html", html);
  std::cout << "run report: " << path.string() << " (" << html.size() << " bytes)\n";
}

TEST(Report, StressReportShowsRoundsWaterfallsAndFailures) {
  // A crash on a thinly capitalised CCP_A: M1's close-out loss runs through
  // CCP_A's waterfall and is left partly uncovered, and the failure reaches
  // CCP_B over the link.
  const auto loaded = config::load_scenario_file(
      kExample, {{"market.stress_scenarios",
                  "[{name: crypto crash, moves: {BTC: -0.9, ETH: 3.0}, days: 2}, {name: calm, moves: {BTC: 0.01}}]"},
                 {"ccps.CCP_A.capital", "2.0e6"},
                 {"ccps.CCP_A.sitg", "1.0e5"},
                 {"ccps.CCP_A.waterfall", "[defaulter_im, defaulter_df, sitg, ccp_equity]"},
                 {"ccps.CCP_B.capital", "1.0e6"},
                 {"ccps.CCP_B.insurance_fund", "1.0e5"},
                 {"members.M2.capital", "1.0e6"}});
  const Model model = build_model(loaded);
  const auto outcomes = run_stress(model);
  ASSERT_EQ(outcomes.size(), 2u);
  ASSERT_GT(outcomes[0].result.ccp_failures(), 0);
  ASSERT_EQ(outcomes[1].result.ccp_failures(), 0);
  const std::string html = stress_report(model, outcomes, "two_ccp_peer.yaml", config::to_yaml(loaded.scenario));
  expect_well_formed(html);
  for (const char* text :
       {"Overview", "Stress scenario 1: crypto crash", "Stress scenario 2: calm", "Defaults by round and cause",
        "Waterfalls in stress scenario 1", "Waterfalls layer by layer", "Contagion network in stress scenario 1",
        "BTC \u221290.0%, ETH +300.0% over 2 days", "M1 <span class=\"muted\">(exogenous)</span>", "Defaulter IM",
        "CCP equity", "Uncovered: the CCP fails", "FAILS in round 1", "banner fail", "CCP_A (round 1)"})
    EXPECT_NE(html.find(text), std::string::npos) << text;
  EXPECT_EQ(count(html, "<svg"), 4u);  // bars and network per stress scenario
  EXPECT_EQ(count(html, "<section id=\"stress-"), 2u);
  write_temp("stress.html", html);
}

TEST(Report, CompareReportHasDifferencesWithIntervals) {
  const std::string file = (std::filesystem::temp_directory_path() / "ccpnet-report-compare.yaml").string();
  std::ofstream(file) << read_text(kExample)
                      << "variants:\n"
                         "  - {name: no link, topology: none}\n"
                         "  - {name: bigger SITG, set: [ccps.CCP_A.sitg=1.0e8]}\n"
                         "  - {name: one global CCP, topology: single}\n";
  RunOptions options;
  options.threads = 1;
  const Comparison c =
      run_compare(file, {{"simulation.scenarios", "4096"}, {"defaults.latent", "{pd: 0.05, beta: 0.6}"}}, options);
  ASSERT_EQ(c.variants.size(), 4u);
  const std::string html = compare_report(c);
  expect_well_formed(html);
  for (const char* text :
       {"Variants side by side", "Paired differences to the base (95% intervals)",
        "Difference to base: P(any CCP fails)", "Difference to base: total loss borne by non-defaulters", "no link",
        "bigger SITG", "95% interval", "variant minus base"})
    EXPECT_NE(html.find(text), std::string::npos) << text;
  // One dot-and-whisker figure per metric, or a sentence when no variant changes it at all.
  EXPECT_EQ(count(html, "<svg") + count(html, "in every scenario: nothing to plot"), 5u);
  EXPECT_GE(count(html, "<svg"), 1u);
  write_temp("compare.html", html);
  std::filesystem::remove(file);
}

TEST(Report, StringsFromTheScenarioAreEscaped) {
  // Ids and names are free text in a scenario file: none may become markup.
  std::string text = read_text(kExample);
  const auto replace_all = [&](const std::string& from, const std::string& to) {
    for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size()))
      text.replace(pos, from.size(), to);
  };
  replace_all("M3", "'<script>alert(1)</script>'");
  replace_all("CCP_B", "'B&<b>\"x\"</b>'");
  replace_all("name: two CCPs, one peer link", "name: '<img src=x onerror=alert(2)>'");
  const auto loaded = example(text);
  const Model model = build_model(loaded);
  const std::string yaml = config::to_yaml(loaded.scenario);
  for (const std::string& html : {run_report(model, run(model), "<i>file</i>.yaml", yaml),
                                  stress_report(model, run_stress(model), "<i>file</i>.yaml", yaml)}) {
    EXPECT_EQ(html.find("<script>"), std::string::npos);
    EXPECT_EQ(html.find("<img"), std::string::npos);
    EXPECT_EQ(html.find("<b>"), std::string::npos);
    EXPECT_EQ(html.find("<i>"), std::string::npos);
    EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
    EXPECT_NE(html.find("B&amp;&lt;b&gt;&quot;x&quot;&lt;/b&gt;"), std::string::npos);
    EXPECT_NE(html.find("&lt;img src=x onerror=alert(2)&gt;"), std::string::npos);
    expect_well_formed(html);
  }
  EXPECT_EQ(html_escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
}

TEST(Report, RunWithoutAnyLossSaysSo) {
  // No defaults at all: every scenario is calm and the loss figure says so.
  const auto loaded =
      config::load_scenario_file(kExample, {{"defaults.exogenous", "[]"}, {"simulation.scenarios", "128"}});
  const Model model = build_model(loaded);
  RunOptions options;
  options.threads = 1;
  const RunResult result = run_monte_carlo(model, options);
  const std::string html = run_report(model, result, "two_ccp_peer.yaml", config::to_yaml(loaded.scenario));
  expect_well_formed(html);
  EXPECT_TRUE(result.aggregate.totals().total_loss > 0.0 || html.find("No scenario had a loss") != std::string::npos);
}

}  // namespace
}  // namespace ccpnet
