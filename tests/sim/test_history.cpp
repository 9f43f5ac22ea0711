// market.history: scenarios replaying or resampling a price file, historical
// margin on it, and every error of a bad price file located in that file.
//
// tests/data/history/prices.csv, the hand example (two assets, six days):
//   date        BTC  ETH
//   2024-01-01  100   50
//   2024-01-02  110   40
//   2024-01-03   99   60
//   2024-01-04   99   45
//   2024-01-05  120   45
//   2024-01-06   90   54
// Five daily log-returns; MPORs of 2 and 0.5 days, so D = 2 days per scenario
// and W = 5 - 2 + 1 = 4 replay windows. Over whole days log-returns add up, so
// the 2-day move from day s is ln(P(s + 2) / P(s)); the half day is the
// square-root share of the first day, sqrt(0.5) ln(P(s + 1) / P(s)), as in
// the shock generator.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "sim/config/load.hpp"
#include "sim/model.hpp"
#include "sim/runner.hpp"
#include "sim/shocks.hpp"

namespace ccpnet {
namespace test_history {

namespace fs = std::filesystem;

const fs::path& history_dir() {
  static const fs::path dir = fs::path(CCPNET_SOURCE_DIR) / "tests" / "data" / "history";
  return dir;
}

// Named as if it lived beside prices.csv, so that file names resolve there.
const std::string& scenario_name() {
  static const std::string name = (history_dir() / "scenario.yaml").string();
  return name;
}

constexpr std::string_view kScenario = R"(name: history
market:
  assets:
    - {id: BTC, price: 100, volatility: 0.6}
    - {id: ETH, price: 50, volatility: 0.8}
  history: {file: prices.csv, mode: replay}
ccps:
  - {id: A, capital: 1e8, margin: {model: historical, confidence: 0.99, lookback_days: 10, mpor_days: 2}}
  - {id: B, capital: 1e8, margin: {model: parametric, mpor_days: 0.5}}
members:
  - {id: M1, capital: 1e8, liquidity: 1e7, positions: {A: {BTC: 10}, B: {ETH: 5}}}
  - {id: M2, capital: 1e8, liquidity: 1e7, positions: {A: {BTC: -10}, B: {ETH: -5}}}
defaults: {exogenous: [M1]}
)";

Model model_with(const std::vector<config::Override>& overrides = {}, std::string_view text = kScenario) {
  return build_model(config::load_scenario_text(text, scenario_name(), overrides));
}

// Cumulative log-returns (assets x horizons) of one scenario.
Eigen::MatrixXd move(const ShockGenerator& g, const Model& m, std::uint64_t scenario, double* factor = nullptr) {
  Eigen::MatrixXd cumulative(static_cast<Eigen::Index>(m.assets.size()), static_cast<Eigen::Index>(m.horizons.size()));
  double f = 0.0;
  g.generate(scenario, cumulative, f);
  if (factor) *factor = f;
  return cumulative;
}

TEST(History, ReplayByHand) {
  const Model m = model_with();
  ASSERT_EQ(m.horizons, (std::vector<double>{0.5, 2.0}));
  ASSERT_EQ(m.history_log_returns.rows(), 5);
  const ShockGenerator g(m);
  EXPECT_EQ(g.windows(), 4);
  const double half = std::sqrt(0.5);
  // Scenario 0: the window from 2024-01-01.
  const Eigen::MatrixXd s0 = move(g, m, 0);
  EXPECT_NEAR(s0(0, 0), half * std::log(110.0 / 100.0), 1e-15);
  EXPECT_NEAR(s0(1, 0), half * std::log(40.0 / 50.0), 1e-15);
  EXPECT_NEAR(s0(0, 1), std::log(99.0 / 100.0), 1e-15);
  EXPECT_NEAR(s0(1, 1), std::log(60.0 / 50.0), 1e-15);
  // Scenario 1: from 2024-01-02.
  const Eigen::MatrixXd s1 = move(g, m, 1);
  EXPECT_NEAR(s1(0, 0), half * std::log(99.0 / 110.0), 1e-15);
  EXPECT_NEAR(s1(1, 0), half * std::log(60.0 / 40.0), 1e-15);
  EXPECT_NEAR(s1(0, 1), std::log(99.0 / 110.0), 1e-15);
  EXPECT_NEAR(s1(1, 1), std::log(45.0 / 40.0), 1e-15);
  // Scenario 3: the last window, from 2024-01-04 to 2024-01-06.
  const Eigen::MatrixXd s3 = move(g, m, 3);
  EXPECT_NEAR(s3(0, 1), std::log(90.0 / 99.0), 1e-15);
  EXPECT_NEAR(s3(1, 1), std::log(54.0 / 45.0), 1e-15);
  // Scenarios 4 and 5 wrap around to the windows of 0 and 1.
  EXPECT_EQ(move(g, m, 4), s0);
  EXPECT_EQ(move(g, m, 5), s1);
  EXPECT_EQ(move(g, m, 4 * 1000 + 3), s3);
}

TEST(History, ReplayMarketFactorIsTheStandardisedEquallyWeightedMove) {
  const Model m = model_with();
  const ShockGenerator g(m);
  // Equally weighted daily log-returns e_t = (ln BTC ratio + ln ETH ratio) / 2.
  const double p[6][2] = {{100, 50}, {110, 40}, {99, 60}, {99, 45}, {120, 45}, {90, 54}};
  std::vector<double> e;
  for (int t = 0; t < 5; ++t) e.push_back(0.5 * (std::log(p[t + 1][0] / p[t][0]) + std::log(p[t + 1][1] / p[t][1])));
  double mean = 0.0;
  for (double x : e) mean += x / 5.0;
  double var = 0.0;
  for (double x : e) var += (x - mean) * (x - mean) / 4.0;
  double f = 0.0;
  move(g, m, 1, &f);
  EXPECT_NEAR(f, (e[1] + e[2] - 2.0 * mean) / (std::sqrt(2.0) * std::sqrt(var)), 1e-12);
}

TEST(History, OverlayStressScenariosAddToTheReplay) {
  // BTC -50% over 1 day, added to every scenario: ln(0.5) at both horizons
  // (min(1, h / 1) of the log-move: half a day takes half of it).
  std::string text(kScenario);
  text.replace(text.find("  history:"), 0,
               "  stress_scenarios: [{name: crash, moves: {BTC: -0.5}, days: 1, overlay: true}]\n");
  const Model with = model_with({}, text);
  const Model without = model_with();
  const Eigen::MatrixXd a = move(ShockGenerator(with), with, 2);
  const Eigen::MatrixXd b = move(ShockGenerator(without), without, 2);
  EXPECT_NEAR(a(0, 0) - b(0, 0), 0.5 * std::log(0.5), 1e-15);
  EXPECT_NEAR(a(0, 1) - b(0, 1), std::log(0.5), 1e-15);
  EXPECT_EQ(a(1, 0), b(1, 0));
  EXPECT_EQ(a(1, 1), b(1, 1));
}

TEST(History, BootstrapDrawsWholeDaysOfTheHistory) {
  const Model m = model_with({{"market.history.mode", "bootstrap"}});
  const ShockGenerator g(m);
  const Eigen::MatrixXd& r = m.history_log_returns;
  constexpr int kScenarios = 20000;
  // The half-day move is sqrt(0.5) x the first day drawn: each is a whole row
  // of the history (BTC and ETH from the same day).
  std::vector<int> count(5, 0);
  double sum = 0.0;
  for (int s = 0; s < kScenarios; ++s) {
    const Eigen::MatrixXd c = move(g, m, static_cast<std::uint64_t>(s));
    int row = -1;
    for (int t = 0; t < 5; ++t)
      if (std::abs(c(0, 0) / std::sqrt(0.5) - r(t, 0)) < 1e-12 && std::abs(c(1, 0) / std::sqrt(0.5) - r(t, 1)) < 1e-12)
        row = t;
    ASSERT_GE(row, 0) << "scenario " << s << " day 1 is not a day of the history";
    ++count[static_cast<std::size_t>(row)];
    sum += c(0, 1);  // two days of BTC
  }
  // Each day is drawn with probability 1/5: within 4 standard errors
  // sqrt(p (1 - p) / n) = 0.0028.
  for (int t = 0; t < 5; ++t) EXPECT_NEAR(count[static_cast<std::size_t>(t)] / double(kScenarios), 0.2, 4 * 0.00283);
  // The mean daily BTC return drawn is the history's, ln(90 / 100) / 5, within
  // 4 standard errors sigma / sqrt(2 n) (sigma the history's population sd).
  const double mu = std::log(90.0 / 100.0) / 5.0;
  const double sd = std::sqrt((r.col(0).array() - mu).square().mean());
  EXPECT_NEAR(sum / (2.0 * kScenarios), mu, 4.0 * sd / std::sqrt(2.0 * kScenarios));
}

TEST(History, BootstrapIsAFunctionOfTheScenarioIndexAndSeed) {
  const Model m = model_with({{"market.history.mode", "bootstrap"}});
  const ShockGenerator g1(m), g2(m);
  EXPECT_EQ(move(g1, m, 17), move(g2, m, 17));
  (void)move(g1, m, 3);
  EXPECT_EQ(move(g1, m, 17), move(g2, m, 17));
  const Model other = model_with({{"market.history.mode", "bootstrap"}, {"seed", "2"}});
  bool differs = false;
  for (std::uint64_t s = 0; s < 20 && !differs; ++s) differs = move(g1, m, s) != move(ShockGenerator(other), other, s);
  EXPECT_TRUE(differs);
}

TEST(History, RunsAreIdenticalForAnyThreadCount) {
  for (const char* mode : {"replay", "bootstrap"}) {
    SCOPED_TRACE(mode);
    const Model m = model_with({{"market.history.mode", mode}});
    std::vector<std::vector<double>> rows[2];
    for (int k = 0; k < 2; ++k) {
      RunOptions options;
      options.count = 300;
      options.threads = k + 1;
      options.batch = 32;
      options.on_scenario = [&](const ScenarioResult& r) {
        rows[k].push_back({r.market_factor, r.closeout_loss, r.total_loss, r.uncovered});
      };
      run_monte_carlo(m, options);
    }
    EXPECT_EQ(rows[0], rows[1]);
    ASSERT_EQ(rows[0].size(), 300u);
  }
}

TEST(History, HistoricalMarginUsesThePriceFile) {
  // CCP A: historical VaR 99% over the overlapping 2-day returns of the file
  // (lookback 10 > 5 days: all of it): n = 4 windows, k = ceil(4 x 0.01) = 1,
  // the worst loss. BTC's 2-day price ratios: 99/100, 99/110, 120/99, 90/99.
  // M1 long 10 BTC (value 1000): worst 1000 (1 - 99/110) = 100.
  // M2 short 10 BTC: worst 1000 (120/99 - 1) = 212.1212...
  const Model m = model_with();
  double im_long = -1, im_short = -1;
  for (const auto& acc : m.accounts) {
    if (acc.kind != AccountKind::kMember || acc.ccp != 0) continue;
    (acc.owner == 0 ? im_long : im_short) = acc.initial_margin;
  }
  EXPECT_NEAR(im_long, 100.0, 1e-9);
  EXPECT_NEAR(im_short, 1000.0 * 21.0 / 99.0, 1e-9);
}

TEST(History, TheResolvedScenarioKeepsTheKeys) {
  const auto loaded = config::load_scenario_text(kScenario, scenario_name(), {{"market.history.mode", "bootstrap"}});
  const std::string yaml = config::to_yaml(loaded.scenario);
  EXPECT_THAT(yaml, ::testing::HasSubstr("file: \"prices.csv\""));
  EXPECT_THAT(yaml, ::testing::HasSubstr("mode: bootstrap"));
  ASSERT_EQ(loaded.data.inputs.size(), 1u);
  EXPECT_EQ(loaded.data.inputs[0].path, (history_dir() / "prices.csv").string());
}

// ---- bad price files: every error pinned, located in the CSV -------------------

struct BadHistory {
  const char* file;  // under tests/data/history/bad/
  const char* errors;
};

void PrintTo(const BadHistory& b, std::ostream* os) { *os << b.file; }

constexpr BadHistory kBadHistories[] = {
    {"gap.csv",
     "bad/gap.csv:3:16: market.history.file: expected a price > 0 (USD) for ETH, found an empty cell (a gap: every "
     "asset needs a price on every date)\n"},
    {"bad_date.csv", "bad/bad_date.csv:3:1: market.history.file: expected a date yyyy-mm-dd, found '2024-02-30'\n"},
    {"dates_out_of_order.csv",
     "bad/dates_out_of_order.csv:4:1: market.history.file: expected dates in increasing order, found 2024-01-02 "
     "after 2024-01-03\n"},
    {"duplicate_date.csv",
     "bad/duplicate_date.csv:4:1: market.history.file: duplicate date 2024-01-02 (also line 3)\n"},
    {"non_positive_price.csv",
     "bad/non_positive_price.csv:3:12: market.history.file: expected a price > 0 (USD) for BTC, found 0\n"
     "bad/non_positive_price.csv:4:15: market.history.file: expected a price > 0 (USD) for ETH, found -60\n"},
    {"not_a_number.csv",
     "bad/not_a_number.csv:3:16: market.history.file: expected a price > 0 (USD) for ETH, found 'n/a'\n"},
    {"unknown_column.csv",
     "bad/unknown_column.csv:1:14: market.history.file: expected 'date' or an asset id of market.assets, found "
     "'SOL'\n"},
    {"misspelt_column.csv",
     "bad/misspelt_column.csv:1:1: market.history.file: expected a price column for every asset, found none for "
     "'BTC'\n"
     "bad/misspelt_column.csv:1:6: market.history.file: expected 'date' or an asset id of market.assets, found "
     "'BTCC' (did you mean 'BTC'?)\n"},
    {"missing_column.csv",
     "bad/missing_column.csv:1:1: market.history.file: expected a price column for every asset, found none for "
     "'ETH'\n"},
    {"no_date_column.csv",
     "bad/no_date_column.csv:1:1: market.history.file: expected a column 'date' (yyyy-mm-dd) and one price column "
     "per asset, found no 'date' column\n"
     "bad/no_date_column.csv:1:1: market.history.file: expected 'date' or an asset id of market.assets, found 'day'\n"},
    {"too_short.csv",
     "--set market.history.file=bad/too_short.csv:0:0: market.history.file: expected at least 3 dates in "
     "'bad/too_short.csv' (one more than the longest margin period of risk, 2 days), found 2\n"},
    {"ragged_row.csv", "bad/ragged_row.csv:3:1: market.history.file: expected 3 cells as in the header, found 2\n"},
};

class HistoryBadFile : public ::testing::TestWithParam<BadHistory> {};

TEST_P(HistoryBadFile, ReportsExactlyItsErrors) {
  const BadHistory& b = GetParam();
  std::string report;
  try {
    config::load_scenario_text(kScenario, scenario_name(), {{"market.history.file", std::string("bad/") + b.file}});
    ADD_FAILURE() << b.file << " loaded";
  } catch (const config::ScenarioError& e) {
    report = e.what();
  }
  // Paths are shown relative to the scenario's directory.
  const std::string prefix = history_dir().string() + "/";
  for (std::size_t at; (at = report.find(prefix)) != std::string::npos;) report.erase(at, prefix.size());
  EXPECT_EQ(report, b.errors);
}

INSTANTIATE_TEST_SUITE_P(History, HistoryBadFile, ::testing::ValuesIn(kBadHistories),
                         [](const ::testing::TestParamInfo<BadHistory>& param) {
                           return fs::path(param.param.file).stem().string();
                         });

TEST(History, EveryBadFileHasItsExpectedErrors) {
  std::set<std::string> on_disk, expected;
  for (const auto& entry : fs::directory_iterator(history_dir() / "bad")) on_disk.insert(entry.path().filename());
  for (const auto& b : kBadHistories) expected.insert(b.file);
  EXPECT_EQ(on_disk, expected);
}

TEST(History, AMissingFileIsLocatedAtItsKey) {
  std::string text(kScenario);
  try {
    config::load_scenario_text(text, scenario_name(), {});
  } catch (...) {
    ADD_FAILURE() << "the base scenario loads";
  }
  const std::string::size_type at = text.find("prices.csv");
  text.replace(at, 10, "nowhere.csv");
  try {
    config::load_scenario_text(text, "t.yaml");
    ADD_FAILURE() << "loaded";
  } catch (const config::ScenarioError& e) {
    EXPECT_EQ(std::string(e.what()),
              "t.yaml:6:19: market.history.file: cannot open the data file 'nowhere.csv': no such file\n");
  }
}

}  // namespace test_history
}  // namespace ccpnet
