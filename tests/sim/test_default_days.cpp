// The day of each default and CCP failure (defaults.csv) and the term
// structure of defaults through the steps (summary.json's term_structure).
//
// Supervisory CCP stress tests look at how a default management process
// unfolds over its days, not only at its end: ESMA's CCP stress tests model
// defaults and liquidity needs day by day over the liquidation period, and the
// CPMI-IOSCO Resilience of central counterparties (2017), 4.2, asks CCPs to
// consider the timing of defaults and of the losses they bring. A member
// charged by a default on day t that cannot bear the charge defaults on day t
// too, one cascade round later.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "sim/config/load.hpp"
#include "sim/metrics.hpp"
#include "sim/model.hpp"
#include "sim/output.hpp"
#include "sim/runner.hpp"
#include "sim/shocks.hpp"
#include "sim/stress.hpp"
#include "tests/sim/files.hpp"
#include "tests/sim/step_paths.hpp"

using ccpnet::test_paths::path_of;

namespace ccpnet {
namespace test_default_days {

namespace fs = std::filesystem;

Model model_of(std::string_view yaml, std::vector<config::Override> overrides = {}) {
  return build_model(config::load_scenario_text(yaml, "t.yaml", std::move(overrides)));
}

// One CCP, MPOR 1 day, two daily steps. X: 100 today, 100 on day 1, 50 on day 2.
// D (long 10, capital 100): VM 0 on day 1, -500 on day 2: capital -400, it
// defaults at the end of step 2 (day 2), closed out over days 1 to 2:
// 10 x 50 = 500. IM 10 and DF 5 leave 485; SITG 0; the mutualised fund (E's
// 40 and N's 40) is used up. E (long 1, capital 60) paid VM 50 on day 2
// (capital 10) and loses its DF 40: capital -30, it defaults on day 2 too, one
// round after D. A's capital (1000) takes the rest: 405 of D's close-out and
// E's 1 x 50 less its IM 10 = 40. A stands.
constexpr std::string_view kTwoDays = R"(name: two defaults on day 2, one round apart
simulation: {horizon_days: 2, step_days: 1}
market:
  assets: [{id: X, price: 100, volatility: 0.5}]
ccps:
  - id: A
    capital: 1000
    sitg: 0
    margin: {model: parametric, mpor_days: 1}
    default_fund: {sizing: fixed, amount: 85}
    waterfall: [defaulter_im, defaulter_df, sitg, mutualized_df, ccp_equity]
members:
  - {id: D, capital: 100, liquidity: 1e6, positions: {A: {X: 10}}, initial_margin: {A: 10}, default_fund: {A: 5}}
  - {id: E, capital: 60, liquidity: 1e6, positions: {A: {X: 1}}, initial_margin: {A: 10}, default_fund: {A: 40}}
  - {id: N, capital: 1e6, liquidity: 1e6, positions: {A: {X: -11}}, initial_margin: {A: 100}, default_fund: {A: 40}}
)";

TEST(DefaultDays, AMemberTippedByTheChargesOfADefaultDefaultsOnItsDay) {
  const Model model = model_of(kTwoDays);
  const ScenarioResult r = run_move(model, path_of(model, {100, 100, 50, 50}));
  ASSERT_EQ(r.defaults.size(), 2u);
  EXPECT_EQ(r.defaults[0].member, 0);
  EXPECT_EQ(r.defaults[0].day, 2.0);
  EXPECT_EQ(r.defaults[0].cause, DefaultCause::kSolvency);
  EXPECT_EQ(r.defaults[1].member, 1);
  EXPECT_EQ(r.defaults[1].day, 2.0);  // the day of the charge that tipped it, not the start
  EXPECT_EQ(r.defaults[1].round, r.defaults[0].round + 1);
  EXPECT_EQ(r.defaults[1].cause, DefaultCause::kSolvency);
  EXPECT_EQ(r.ccp_failures(), 0);
  const auto layer = [&](models::Layer l) { return r.ccp_layers[static_cast<std::size_t>(l)]; };
  EXPECT_NEAR(r.closeout_loss, 500.0 + 50.0, 1e-9);
  EXPECT_NEAR(layer(models::Layer::kMutualizedDf), 80.0, 1e-9);
  EXPECT_NEAR(layer(models::Layer::kCcpEquity), 405.0 + 40.0, 1e-9);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
  EXPECT_DOUBLE_EQ(first_default_day(r), 2.0);

  // The rows of defaults.csv: D, then E a round later, both on day 2.
  std::vector<DefaultEvent> events;
  default_events(r, events);
  std::string rows;
  for (const DefaultEvent& e : events) append_default_row(model, e, rows);
  const int round = r.defaults[0].round;
  EXPECT_EQ(rows, fmt::format("0,member,D,D,2,{},solvency\n0,member,E,E,2,{},solvency\n", round, round + 1));
}

TEST(DefaultDays, ACcpFailureHasItsRowWithItsDay) {
  // A's capital 100 instead: D's 405 left after the fund exceeds it on day 2.
  const Model model = model_of(kTwoDays, {{"ccps[0].capital", "100"}});
  const ScenarioResult r = run_move(model, path_of(model, {100, 100, 50, 50}));
  ASSERT_EQ(r.ccp_failures(), 1);
  EXPECT_EQ(r.ccp_fail_day[0], 2.0);
  std::vector<DefaultEvent> events;
  default_events(r, events);
  std::size_t members = 0, ccps = 0;
  for (const DefaultEvent& e : events) {
    (e.ccp ? ccps : members) += 1;
    EXPECT_EQ(e.day, 2.0);
    if (e.ccp) {
      EXPECT_EQ(default_cause_text(e), "members");
    }
  }
  EXPECT_EQ(members, r.defaults.size());
  EXPECT_EQ(ccps, 1u);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9 * std::max(1.0, r.closeout_loss));
}

TEST(DefaultDays, TheTermStructureOfTheHandCase) {
  // Two scenarios: the hand case (two defaults on day 2) and a calm path.
  const Model model = model_of(kTwoDays);
  Aggregate agg(model);
  ScenarioResult stressed = run_move(model, path_of(model, {100, 100, 50, 50}));
  ScenarioResult calm = run_move(model, path_of(model, {100, 100, 100, 100}));
  stressed.index = 0;
  calm.index = 1;
  agg.add(stressed);
  agg.add(calm);
  agg.finish();
  const ChunkSums& t = agg.totals();
  EXPECT_EQ(t.defaulted_by_day, (std::vector<std::int64_t>{0, 0, 1}));
  EXPECT_EQ(t.ccp_failed_by_day, (std::vector<std::int64_t>{0, 0, 0}));
  EXPECT_EQ(t.defaults_on_day, (std::vector<std::int64_t>{0, 0, 2}));
  EXPECT_EQ(t.member_default_day, (std::vector<double>{2.0, 2.0, 0.0}));
  const Table table = term_structure_table(model, agg);
  EXPECT_EQ(table.numbers("day"), (std::vector<double>{0.0, 1.0, 2.0}));
  EXPECT_EQ(table.numbers("p_member_default_by_day"), (std::vector<double>{0.0, 0.0, 0.5}));
  EXPECT_EQ(table.numbers("mean_member_defaults_on_day"), (std::vector<double>{0.0, 0.0, 1.0}));
  // Day 2: one of two scenarios, Wilson at 95%: (p + z^2/2n -+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n).
  const double z = 1.959963984540054, n = 2.0, p = 0.5;
  const double centre = (p + z * z / (2 * n)) / (1 + z * z / n);
  const double half = z * std::sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n);
  EXPECT_NEAR(table.numbers("p_member_default_by_day_lower")[2], centre - half, 1e-12);
  EXPECT_NEAR(table.numbers("p_member_default_by_day_upper")[2], centre + half, 1e-12);
  // members.csv: D and E default on day 2 when they default; N never (NaN).
  const Table members = member_table(model, agg);
  const auto& day = members.numbers("mean_default_day");
  EXPECT_EQ(day[0], 2.0);
  EXPECT_EQ(day[1], 2.0);
  EXPECT_TRUE(std::isnan(day[2]));
}

using ccpnet::test_files::read_text;

// The output directory of a run with `threads` and `batch`.
fs::path write_run(const Model& model, int threads, std::int64_t batch, const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / fmt::format("ccpnet-default-days-{}-{}", ::getpid(), name);
  fs::remove_all(dir);
  OutputWriter writer(model, OutputInfo{"t.yaml", "", "", dir.string()});
  RunOptions options;
  options.threads = threads;
  options.batch = batch;
  options.on_scenario = [&](const ScenarioResult& r) { writer.scenario(r); };
  writer.finish(run_monte_carlo(model, options));
  return dir;
}

// Column `name` of a CSV text (no quoted fields), one value per row.
std::vector<std::string> csv_column(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header;
  for (std::stringstream h(line); std::getline(h, header.emplace_back(), ',');) {
  }
  const auto k = static_cast<std::size_t>(std::find(header.begin(), header.end(), name) - header.begin());
  std::vector<std::string> out;
  while (std::getline(in, line)) {
    std::stringstream row(line);
    std::string cell;
    for (std::size_t i = 0; i <= k; ++i) std::getline(row, cell, ',');
    out.push_back(cell);
  }
  return out;
}

TEST(DefaultDays, TheReferenceNetworkInTenDailyStepsHasARowPerDefault) {
  const Model model = build_model(config::load_scenario_file(
      std::string(CCPNET_SOURCE_DIR) + "/scenarios/reference_network.yaml",
      {{"simulation.scenarios", "3000"}, {"simulation.horizon_days", "10"}, {"simulation.step_days", "1"}}));
  ASSERT_TRUE(model.default_rows);
  const fs::path one = write_run(model, 1, 256, "a");
  const fs::path two = write_run(model, 2, 64, "b");
  const std::string defaults = read_text(one / "defaults.csv");
  // Byte-identical for any thread count and batch size.
  EXPECT_EQ(read_text(two / "defaults.csv"), defaults);
  EXPECT_EQ(read_text(two / "summary.json"), read_text(one / "summary.json"));
  EXPECT_EQ(read_text(two / "members.csv"), read_text(one / "members.csv"));
  // Per scenario: as many member rows as member_defaults, as many CCP rows as ccp_failures.
  const std::string scenarios = read_text(one / "scenarios.csv");
  const auto index = csv_column(scenarios, "scenario");
  const auto member_defaults = csv_column(scenarios, "member_defaults");
  const auto ccp_failures = csv_column(scenarios, "ccp_failures");
  const auto first_day = csv_column(scenarios, "first_default_day");
  std::map<std::string, int> members, ccps;
  std::map<std::string, double> first;
  const auto scenario = csv_column(defaults, "scenario"), kind = csv_column(defaults, "kind");
  const auto day = csv_column(defaults, "day");
  for (std::size_t i = 0; i < scenario.size(); ++i) {
    ++(kind[i] == "member" ? members : ccps)[scenario[i]];
    if (kind[i] == "member" && !first.contains(scenario[i])) first[scenario[i]] = std::stod(day[i]);
  }
  int stressed = 0, late = 0;
  for (std::size_t s = 0; s < index.size(); ++s) {
    EXPECT_EQ(members[index[s]], std::stoi(member_defaults[s])) << "scenario " << index[s];
    EXPECT_EQ(ccps[index[s]], std::stoi(ccp_failures[s])) << "scenario " << index[s];
    if (members[index[s]] == 0) continue;
    ++stressed;
    EXPECT_EQ(first[index[s]], std::stod(first_day[s])) << "scenario " << index[s];  // rows in order of day
    late += first[index[s]] > 1.0;
  }
  EXPECT_GT(stressed, 30);
  EXPECT_GT(late, 0);
  // The term structure ends at the run's totals: P(some default by day 10)
  // is P(any member defaults); the defaults per day add up to the mean.
  const auto summary = nlohmann::json::parse(read_text(one / "summary.json"));
  const auto& ts = summary.at("term_structure");
  const auto p_by_day = ts.at("p_member_default_by_day").get<std::vector<double>>();
  ASSERT_EQ(p_by_day.size(), 11u);
  for (std::size_t d = 1; d < p_by_day.size(); ++d) EXPECT_GE(p_by_day[d], p_by_day[d - 1]);
  EXPECT_DOUBLE_EQ(p_by_day.back(), summary["system"]["p_any_member_default"].get<double>());
  double sum = 0.0;
  for (double x : ts.at("mean_member_defaults_on_day").get<std::vector<double>>()) sum += x;
  EXPECT_NEAR(sum, summary["system"]["mean_member_defaults"].get<double>(), 1e-12);
  fs::remove_all(one);
  fs::remove_all(two);
}

TEST(DefaultDays, OnePeriodRunsWriteTheFileOnlyWhenAsked) {
  const std::string file = std::string(CCPNET_SOURCE_DIR) + "/scenarios/two_ccp_peer.yaml";
  const Model plain = build_model(config::load_scenario_file(file, {{"simulation.scenarios", "500"}}));
  EXPECT_FALSE(plain.default_rows);
  const fs::path dir = write_run(plain, 1, 256, "plain");
  EXPECT_FALSE(fs::exists(dir / "defaults.csv"));
  EXPECT_EQ(nlohmann::json::parse(read_text(dir / "summary.json")).count("term_structure"), 0u);
  EXPECT_EQ(read_text(dir / "members.csv").find("mean_default_day"), std::string::npos);
  const Model asked =
      build_model(config::load_scenario_file(file, {{"simulation.scenarios", "500"}, {"outputs.defaults", "true"}}));
  const fs::path with = write_run(asked, 1, 256, "asked");
  const std::string defaults = read_text(with / "defaults.csv");
  const auto day = csv_column(defaults, "day");
  EXPECT_FALSE(day.empty());
  for (const auto& d : day) EXPECT_EQ(d, "0");
  EXPECT_EQ(read_text(with / "scenarios.csv"), read_text(dir / "scenarios.csv"));
  fs::remove_all(dir);
  fs::remove_all(with);
}

TEST(DefaultDays, TheStressStoryCountsALiquidatedBorrowerOnceWithItsDays) {
  // Three days of ETH -15% and VOLT -25%: both borrowers of LEND are
  // liquidated on day 2 and again on day 3 (their health factors fall below 1
  // each day); two accounts, each listed with its two days.
  const Model model = build_model(config::load_scenario_file(
      std::string(CCPNET_SOURCE_DIR) + "/scenarios/lending_oracle_delay.yaml",
      {{"simulation.horizon_days", "3"},
       {"simulation.step_days", "1"},
       {"market.stress_scenarios",
        "[{name: three days down, path: [{ETH: -0.15, VOLT: -0.25}, {ETH: -0.15, VOLT: -0.25}, "
        "{ETH: -0.15, VOLT: -0.25}]}]"}}));
  const std::vector<StressOutcome> outcomes = run_stress(model);
  ASSERT_EQ(outcomes.size(), 1u);
  ASSERT_EQ(outcomes[0].trace.lending.size(), 4u);  // a line per account and day
  EXPECT_EQ(outcomes[0].result.liquidations, 2);
  const std::string text = format_stress(model, outcomes, false);
  EXPECT_NE(text.find("lending protocols liquidate 2 accounts: 2 on days 2 and 3\n"), std::string::npos) << text;
}

}  // namespace test_default_days
}  // namespace ccpnet
