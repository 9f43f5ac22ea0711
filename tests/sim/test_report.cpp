// report.html: the run, stress and compare reports are well-formed,
// self-contained HTML with the expected sections and figures, numbers fit for
// people (never "nan" or "inf"), every string from the scenario escaped, and
// the settlement layer shown with the numbers of summary.json and stress.json.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "sim/compare.hpp"
#include "sim/config/load.hpp"
#include "sim/model.hpp"
#include "sim/output.hpp"
#include "sim/report.hpp"
#include "sim/runner.hpp"
#include "sim/stress.hpp"
#include "tests/sim/files.hpp"

namespace ccpnet {
namespace test_report {

const std::string kExample = std::string(CCPNET_SOURCE_DIR) + "/scenarios/two_ccp_peer.yaml";

using ccpnet::test_files::read_text;

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

// A number shown rounded next to its exact value (`data-value="x">text<`):
// the text, read back (k, m, bn, tn, %, h, a Unicode minus), is x to the
// three significant digits the report shows.
double read_shown(std::string text) {
  const auto strip = [&](const std::string& what) {
    const auto pos = text.find(what);
    if (pos != std::string::npos) text.erase(pos, what.size());
  };
  double scale = 1.0;
  strip("USD ");
  strip(" h");
  if (text.find("\u2212") != std::string::npos) strip("\u2212"), scale = -1.0;
  std::string digits;
  for (char ch : text) {
    if (ch == ',') continue;
    if (ch == '%') scale *= 0.01;
    if (ch == 'k') scale *= 1e3;
    if (ch == 'm') scale *= 1e6;
    if (ch == 'b') scale *= 1e9;
    if (ch == 't') scale *= 1e12;
    if (std::isdigit(static_cast<unsigned char>(ch)) || ch == '.') digits += ch;
  }
  return digits.empty() ? std::nan("") : scale * std::stod(digits);
}

// Every exact value in the page agrees with its rounded text; returns how many were checked.
std::size_t expect_rounded_values_agree(const std::string& html) {
  static const std::regex shown(R"re(data-value="([^"]+)">([^<]*)<)re");
  std::size_t n = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), shown); it != std::sregex_iterator(); ++it, ++n) {
    const double exact = std::stod((*it)[1].str());
    const std::string text = (*it)[2].str();
    if (text == "\u2013") {  // a dash: nothing to show (a challenge period of 0)
      EXPECT_EQ(exact, 0.0) << text;
      continue;
    }
    const double value = read_shown(text);
    EXPECT_NEAR(value, exact, 0.006 * std::abs(exact) + 0.005) << "'" << text << "' for " << exact;
  }
  return n;
}

// `data-value="x"` with x the shortest text of a number from summary.json.
std::string exact(const nlohmann::ordered_json& j) { return fmt::format("data-value=\"{}\"", j.get<double>()); }

// The table row (from `<tr>` to `</tr>`) of the table cell that starts with `<strong>label</strong>`,
// searched from `from`.
std::string row_of(const std::string& html, const std::string& label, std::size_t from = 0) {
  const auto at = html.find("<td><strong>" + label + "</strong>", from);
  if (at == std::string::npos) return {};
  const auto begin = html.rfind("<tr", at);
  return html.substr(begin, html.find("</tr>", at) - begin);
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
  // No settlement layer in this model: no settlement section, link or figure.
  ASSERT_FALSE(model.settlement_active);
  EXPECT_EQ(html.find("id=\"settlement\""), std::string::npos);
  EXPECT_EQ(html.find("href=\"#settlement\""), std::string::npos);
  EXPECT_EQ(html.find("Settlement losses and late VM gains"), std::string::npos);
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
  // CCP_A's failure reaches CCP_B over the link: CCP_B takes it through its own
  // waterfall (link_losses: waterfall) and survives.
  const auto json = stress_json(model, outcomes);
  const auto& ccp_b = json["stress_scenarios"][0]["ccps"]["CCP_B"];
  EXPECT_FALSE(ccp_b["failed"].get<bool>());
  EXPECT_GT(ccp_b["ledger"]["link_in"].get<double>(), 0.0);
  EXPECT_EQ(json["stress_scenarios"][0]["ccps"]["CCP_A"]["fail_cause"], "members");
  // With link losses kept off its mutualised layers, CCP_B's capital alone
  // cannot take them: it fails through the link, and the page says so.
  auto own = config::load_scenario_file(
      kExample, {{"market.stress_scenarios", "[{name: crypto crash, moves: {BTC: -0.9, ETH: 3.0}, days: 2}]"},
                 {"ccps.CCP_A.capital", "2.0e6"},
                 {"ccps.CCP_A.sitg", "1.0e5"},
                 {"ccps.CCP_A.waterfall", "[defaulter_im, defaulter_df, sitg, ccp_equity]"},
                 {"ccps.CCP_B.insurance_fund", "1.0e5"},
                 {"ccps.CCP_B.capital", "5.0e5"},
                 {"ccps.CCP_B.link_losses", "own_capital"},
                 {"members.M2.capital", "1.0e6"}});
  const Model own_model = build_model(own);
  const auto own_outcomes = run_stress(own_model);
  const auto own_json = stress_json(own_model, own_outcomes);
  ASSERT_TRUE(own_json["stress_scenarios"][0]["ccps"]["CCP_B"]["failed"].get<bool>());
  EXPECT_EQ(own_json["stress_scenarios"][0]["ccps"]["CCP_B"]["fail_cause"], "links");
  const std::string own_html =
      stress_report(own_model, own_outcomes, "two_ccp_peer.yaml", config::to_yaml(own.scenario));
  for (const char* text : {"CCP_B (round 2: its layers ran out on USD ", "FAILS in round 2 (links)",
                           "A CCP marked (links) failed because its layers ran out on losses that came over its links"})
    EXPECT_NE(own_html.find(text), std::string::npos) << text;
  // No settlement layer: no settlement block.
  EXPECT_EQ(html.find("<h3>Settlement</h3>"), std::string::npos);
  EXPECT_EQ(html.find("settlement delay"), std::string::npos);
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
  // One dot-and-whisker figure per metric, or a sentence when no variant changes it at all;
  // the liquidity shortfall and settlement loss only when some variant has them.
  std::size_t optional = 0;
  for (std::string_view m : {"liquidity_shortfall", "settlement_loss"}) {
    bool any = false;
    for (std::size_t v = 0; v < c.variants.size(); ++v) any = any || c.mean(v, m) != 0.0;
    optional += any ? 1 : 0;
    EXPECT_EQ(html.find(m == "liquidity_shortfall" ? "Difference to base: liquidity shortfall"
                                                   : "Difference to base: settlement loss") != std::string::npos,
              any);
  }
  EXPECT_EQ(count(html, "<svg") + count(html, "in every scenario: nothing to plot"), 5u + optional);
  EXPECT_GE(count(html, "<svg"), 1u);
  write_temp("compare.html", html);
  std::filesystem::remove(file);
}

// The settlement library scenarios: the run report's Settlement section has
// the numbers of summary.json (chains.csv, bridges.csv and ccps.csv are
// written from the same tables) for every chain, bridge and CCP.
class SettlementReport : public testing::TestWithParam<const char*> {};

TEST_P(SettlementReport, RunReportShowsTheSettlementOfSummaryJson) {
  const std::string file = std::string(CCPNET_SOURCE_DIR) + "/scenarios/" + GetParam();
  const auto loaded = config::load_scenario_file(file, {{"simulation.scenarios", "4096"}});
  const Model model = build_model(loaded);
  ASSERT_TRUE(model.settlement_active);
  const RunResult result = run(model);
  const std::string html = run_report(model, result, GetParam(), config::to_yaml(loaded.scenario));
  expect_well_formed(html);
  EXPECT_NE(html.find("<a href=\"#settlement\">Settlement</a>"), std::string::npos);
  const auto section = html.find("<section id=\"settlement\">");
  ASSERT_NE(section, std::string::npos);
  EXPECT_LT(html.find("<section id=\"ccps\">"), section);
  EXPECT_LT(section, html.find("<section id=\"network\">"));
  for (const char* text : {"<h3>Chains</h3>", "<h3>CCPs</h3>", "calibrated mean finality", "realised mean finality",
                           "P(congested)", "P(halted)", "liquidity defaults caused by settlement delay",
                           "liquidity shortfall, mean per scenario", "Settlement losses and late VM gains per CCP"})
    EXPECT_NE(html.find(text, section), std::string::npos) << text;
  // The run report's five, the settlement bars, and in time steps the defaults and failures by day.
  EXPECT_EQ(count(html, "<svg"), model.steps.count > 0 ? 7u : 6u);
  EXPECT_EQ(html.find("id=\"fig-time\"") != std::string::npos, model.steps.count > 0);
  EXPECT_NE(html.find("id=\"fig-settlement\""), std::string::npos);

  const auto summary = summary_json(model, result);
  const auto& st = summary["settlement"];
  EXPECT_NE(html.find(exact(st["mean_settlement_defaults"]), section), std::string::npos);
  EXPECT_NE(html.find(exact(summary["system"]["mean_liquidity_shortfall"]), section), std::string::npos);
  for (const char* key : {"mean_fails", "mean_principal_lost", "mean_replacement_cost", "mean_late_inflows"})
    EXPECT_NE(html.find(exact(st[key]), section), std::string::npos) << key;
  for (const auto& chain : model.chains) {
    const std::string row = row_of(html, chain.id, section);
    ASSERT_FALSE(row.empty()) << chain.id;
    for (const char* key : {"calm_mean_hours", "mean_finality_hours", "p_congested", "p_halted", "mean_fails",
                            "mean_loss", "mean_late_inflows"})
      EXPECT_NE(row.find(exact(st["chains"][chain.id][key])), std::string::npos) << chain.id << " " << key;
  }
  EXPECT_EQ(html.find("<h3>Bridges</h3>", section) != std::string::npos, !model.bridges.empty());
  for (const auto& bridge : model.bridges) {
    const std::string row = row_of(html, bridge.id, section);
    ASSERT_FALSE(row.empty()) << bridge.id;
    for (const char* key : {"exploit_probability", "p_exploited", "mean_loss"})
      EXPECT_NE(row.find(exact(st["bridges"][bridge.id][key])), std::string::npos) << bridge.id << " " << key;
  }
  const Table ccps = ccp_table(model, result.aggregate);
  for (const auto& ccp : model.ccps) {
    const std::string row = row_of(html, ccp.id, html.find("<h3>CCPs</h3>", section));
    ASSERT_FALSE(row.empty()) << ccp.id;
    const auto& e = summary["ccps"][ccp.id]["settlement"];
    for (const char* key : {"mean_fails", "mean_principal_lost", "mean_replacement_cost", "mean_late_inflows"})
      EXPECT_NE(row.find(exact(e[key])), std::string::npos) << ccp.id << " " << key;
  }
  // Something happened in these scenarios, and every rounded number is its exact value rounded.
  EXPECT_GT(st["mean_fails"].get<double>(), 0.0);
  EXPECT_GT(expect_rounded_values_agree(html), 20u);
  write_temp(std::string("settlement-run-") + GetParam() + ".html", html);
}

// Their stress reports: per stress scenario the settlement of stress.json.
TEST_P(SettlementReport, StressReportShowsEachScenariosSettlement) {
  const std::string file = std::string(CCPNET_SOURCE_DIR) + "/scenarios/" + GetParam();
  const auto loaded = config::load_scenario_file(file);
  const Model model = build_model(loaded);
  const auto outcomes = run_stress(model);
  ASSERT_GE(outcomes.size(), 2u);  // bridge_exploit: 3
  const std::string html = stress_report(model, outcomes, GetParam(), config::to_yaml(loaded.scenario));
  expect_well_formed(html);
  EXPECT_EQ(count(html, "<h3>Settlement</h3>"), outcomes.size());
  EXPECT_NE(html.find("defaults from settlement delay"), std::string::npos);
  const auto json = stress_json(model, outcomes);
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const auto begin = html.find(fmt::format("<section id=\"stress-{}\">", i + 1));
    ASSERT_NE(begin, std::string::npos);
    const std::string part = html.substr(begin, html.find("</section>", begin) - begin);
    const auto& st = json["stress_scenarios"][i]["settlement"];
    for (const auto& chain : model.chains) {
      const auto& e = st["chains"][chain.id];
      const auto at = part.find("<strong>" + chain.id + "</strong> <span " + exact(e["finality_hours"]));
      ASSERT_NE(at, std::string::npos) << chain.id;
      const std::string after = part.substr(at, part.find(", <strong>", at + 1) - at);
      EXPECT_EQ(after.find(">congested<") != std::string::npos, e["congested"].get<bool>()) << chain.id;
      EXPECT_EQ(after.find(">halted<") != std::string::npos, e["halted"].get<bool>()) << chain.id;
    }
    for (const auto& b : st["exploited_bridges"])
      EXPECT_NE(part.find("exploited</span> <strong>" + b.get<std::string>() + "</strong>"), std::string::npos);
    for (const auto& ccp : model.ccps) {
      const auto& e = st["ccps"][ccp.id];
      const std::string row = row_of(part, ccp.id, part.find("<h3>Settlement</h3>"));
      if (e["fails"].get<double>() == 0.0 && e["principal_lost"].get<double>() == 0.0 &&
          e["replacement_cost"].get<double>() == 0.0 && e["late_inflows"].get<double>() == 0.0)
        continue;  // as in `ccpnet stress`: only the CCPs with something to show
      ASSERT_FALSE(row.empty()) << ccp.id;
      for (const char* key : {"fails", "principal_lost", "replacement_cost", "late_inflows"})
        EXPECT_NE(row.find(exact(e[key])), std::string::npos) << ccp.id << " " << key;
    }
    EXPECT_NE(part.find(fmt::format("settlement delay: <span data-value=\"{0}\">{0}</span>",
                                    st["settlement_defaults"].get<int>())),
              std::string::npos);
    EXPECT_NE(part.find(exact(json["stress_scenarios"][i]["liquidity_shortfall"])), std::string::npos);
  }
  expect_rounded_values_agree(html);
  write_temp(std::string("settlement-stress-") + GetParam() + ".html", html);
}

INSTANTIATE_TEST_SUITE_P(Library, SettlementReport, testing::Values("settlement_squeeze.yaml", "bridge_exploit.yaml"),
                         [](const testing::TestParamInfo<const char*>& param) {
                           std::string name = param.param;
                           return name.substr(0, name.find('.'));
                         });

TEST(Report, CompareReportShowsLiquidityShortfallAndSettlementLoss) {
  // Instant settlement against the squeeze: fewer liquidity defaults, no settlement loss.
  RunOptions options;
  options.threads = 1;
  const Comparison c = run_compare(std::string(CCPNET_SOURCE_DIR) + "/scenarios/settlement_squeeze.yaml",
                                   {{"simulation.scenarios", "4096"}}, options);
  ASSERT_EQ(c.variants.size(), 2u);
  ASSERT_GT(c.mean(0, "settlement_loss"), 0.0);
  const std::string html = compare_report(c);
  expect_well_formed(html);
  for (const char* text : {"Difference to base: liquidity shortfall", "Difference to base: settlement loss",
                           "mean liquidity shortfall", "mean settlement loss", "Settlement loss: principal lost"})
    EXPECT_NE(html.find(text), std::string::npos) << text;
  EXPECT_EQ(count(html, "<svg") + count(html, "in every scenario: nothing to plot"), 7u);
  write_temp("settlement-compare.html", html);
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

// The Wilson (1927) score interval at 95%, written out here from its formula,
// not from models::stats: (p + z^2/2n +- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n).
std::pair<double, double> wilson95(double k, double n) {
  const double z = 1.959963984540054, p = k / n;
  const double centre = p + z * z / (2 * n), half = z * std::sqrt(p * (1 - p) / n + z * z / (4 * n * n));
  return {(centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)};
}

// The two ends of the first "[lower, upper]" after `from` in the page, read back.
std::pair<double, double> interval_after(const std::string& html, std::size_t from) {
  const auto open = html.find('[', from);
  const auto comma = html.find(", ", open);
  const auto close = html.find(']', comma);
  return {read_shown(html.substr(open + 1, comma - open - 1)), read_shown(html.substr(comma + 2, close - comma - 2))};
}

TEST(Report, EveryProbabilityAndMeanCarriesItsInterval) {
  // Issue: a committee reads each Monte Carlo estimate with its 95% interval.
  const auto loaded = example(read_text(kExample));
  const Model model = build_model(loaded);
  const RunResult result = run(model);
  const std::string html = run_report(model, result, "two_ccp_peer.yaml", config::to_yaml(loaded.scenario));
  const ChunkSums& t = result.aggregate.totals();
  ASSERT_GT(t.any_default, 0);
  // P(any member defaults): the card, and the system table's row, against Wilson by hand.
  const auto [lo, hi] = wilson95(static_cast<double>(t.any_default), 4096.0);
  for (const std::string& where :
       {std::string("P(any member defaults)</div>"), std::string("<td>P(any member defaults)</td>")}) {
    const auto at = html.find(where);
    ASSERT_NE(at, std::string::npos) << where;
    const auto [shown_lo, shown_hi] = interval_after(html, at);
    EXPECT_NEAR(shown_lo, lo, 0.006 * lo) << where;
    EXPECT_NEAR(shown_hi, hi, 0.006 * hi) << where;
  }
  // Each CCP's P(fail) and expected loss carry one below them; a mean's interval brackets it.
  for (const CcpModel& ccp : model.ccps) {
    const std::string row = row_of(html, ccp.id, html.find("id=\"ccps\""));
    EXPECT_GE(count(row, "class=\"ci\""), 7u) << ccp.id;
  }
  const auto at = html.find("<td>expected total loss borne by non-defaulters</td>");
  ASSERT_NE(at, std::string::npos);
  const double mean = t.total_loss / 4096.0;
  const auto [mlo, mhi] = interval_after(html, html.find("</td>", html.find("</td>", at) + 5));
  EXPECT_LE(mlo, mean * 1.006);
  EXPECT_GE(mhi, mean * 0.994);
  EXPECT_LT(mlo, mhi);
  expect_rounded_values_agree(html);
}

TEST(Report, StressReportShowsVenuesAndLendingAccountByAccount) {
  // Issue: nothing in the stress report said which accounts a venue
  // liquidated or deleveraged, or what a lending protocol seized.
  const auto stress_page = [](const std::string& name) {
    const auto loaded = config::load_scenario_file(std::string(CCPNET_SOURCE_DIR) + "/scenarios/" + name + ".yaml", {});
    const Model model = build_model(loaded);
    const auto outcomes = run_stress(model);
    return std::make_pair(stress_json(model, outcomes), stress_report(model, outcomes, name, ""));
  };
  const auto [adl_json, adl_html] = stress_page("adl_crash_day");
  expect_well_formed(adl_html);
  const auto& first = adl_json["stress_scenarios"][0];
  ASSERT_FALSE(first["venue_liquidations"].empty());
  const auto engines = adl_html.find("<h3>Liquidation engines</h3>");
  ASSERT_NE(engines, std::string::npos);
  for (const auto& l : first["venue_liquidations"])
    EXPECT_NE(adl_html.find("<td>" + l["account"].get<std::string>() + "</td>", engines), std::string::npos);
  // The deleveraged accounts in rank order, as stress.json ranks them, in
  // the first stress scenario that deleverages.
  std::vector<std::pair<int, std::string>> ranked;
  std::size_t k = 0;
  for (; k < adl_json["stress_scenarios"].size() && ranked.empty(); ++k)
    for (const auto& e : adl_json["stress_scenarios"][k]["waterfalls"])
      for (const auto& a : e["adl"]) ranked.emplace_back(a["rank"].get<int>(), a["account"].get<std::string>());
  ASSERT_GE(ranked.size(), 3u);
  std::sort(ranked.begin(), ranked.end());
  std::size_t at =
      adl_html.find(fmt::format("<h3>Auto-deleveraging</h3>"), adl_html.find(fmt::format("id=\"stress-{}\"", k)));
  ASSERT_NE(at, std::string::npos);
  for (const auto& [rank, account] : ranked) {
    const auto next = adl_html.find("<td>" + account + "</td>", at);
    ASSERT_NE(next, std::string::npos) << account;
    at = next;
  }
  const auto [lending_json, lending_html] = stress_page("lending_oracle_delay");
  expect_well_formed(lending_html);
  EXPECT_NE(lending_html.find("<h3>Lending protocols</h3>"), std::string::npos);
}

TEST(Report, TheLargestContributorsShowAtAnySize) {
  // Issue: the members table disappeared above 60 members; now the largest
  // contributors show at any size, largest first, the rest in members.csv.
  const auto loaded = config::load_scenario_file(std::string(CCPNET_SOURCE_DIR) + "/scenarios/reference_network.yaml",
                                                 {{"simulation.scenarios", "2000"},
                                                  {"market.shocks.volatility_multiplier", "3"},
                                                  {"defaults.latent.pd", "0.001"}});
  const Model model = build_model(loaded);
  ASSERT_GT(model.members.size(), 1000u);
  RunOptions options;
  options.threads = 2;
  const RunResult result = run_monte_carlo(model, options);
  const std::string html = run_report(model, result, "reference_network.yaml", "");
  expect_well_formed(html);
  const auto section = html.find("<section id=\"members\">");
  ASSERT_NE(section, std::string::npos);
  const std::string members = html.substr(section, html.find("</section>", section) - section);
  EXPECT_NE(members.find(fmt::format("The 20 largest of {} members", "1,700")), std::string::npos);
  EXPECT_EQ(count(members, "<tr><td><strong>"), 40u);  // two tables of 20
  // The first table's first member bears the most loss: the largest sum of
  // members.csv's expected_loss over its memberships.
  const Table table = member_table(model, result.aggregate);
  const auto& ids = std::get<std::vector<std::string>>(table.columns[0].second);
  std::map<std::string, double> loss;
  for (const auto& [name, column] : table.columns)
    if (name == "expected_loss") {
      const auto& v = std::get<std::vector<double>>(column);
      for (std::size_t i = 0; i < v.size(); ++i) loss[ids[i]] += v[i];
    }
  const auto top =
      std::max_element(loss.begin(), loss.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  ASSERT_GT(top->second, 0.0);
  EXPECT_EQ(members.find("<tr><td><strong>"), members.find("<tr><td><strong>" + top->first + "</strong>"));
}

}  // namespace test_report
}  // namespace ccpnet
