// Limits on input: where data files may be, the bound on price moves, the
// check of every computed figure, generated members named without being made.
// The malformed files of tests/data/bad pin the messages (test_loader.cpp).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "sim/config/load.hpp"
#include "sim/model.hpp"
#include "sim/shocks.hpp"

namespace ccpnet {
namespace test_input_limits {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr std::string_view kMinimal = R"(name: minimal
market:
  assets:
    - {id: BTC, price: 60000, volatility: 0.6}
    - {id: ETH, price: 3000, volatility: 0.8}
ccps:
  - id: A
    capital: 1.0e8
members:
  - id: M1
    capital: 1.0e6
    positions: {A: {BTC: 1, ETH: -10}}
  - id: M2
    capital: 1.0e6
    positions: {A: {BTC: -1, ETH: 10}}
)";

std::string errors_of(const std::string& text) {
  try {
    (void)build_model(config::load_scenario_text(text, "t.yaml"));
  } catch (const config::ScenarioError& e) {
    return e.what();
  }
  return "";
}

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ =
        fs::temp_directory_path() / ("ccpnet-limits-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST(DataFilePaths, InsideTheScenarioDirectoryOnlyUnlessAllowed) {
  using config::data_path_error;
  using config::DataAccess;
  TempDir tmp;
  fs::create_directories(tmp.path() / "s" / "sub");
  std::ofstream(tmp.path() / "outside.csv") << "a\n";
  std::ofstream(tmp.path() / "s" / "sub" / "in.csv") << "a\n";
  fs::create_symlink(tmp.path() / "outside.csv", tmp.path() / "s" / "link.csv");
  const std::string scenario = (tmp.path() / "s" / "x.yaml").string();
  EXPECT_EQ(data_path_error(scenario, "sub/in.csv", DataAccess::kBesideScenario), "");
  EXPECT_EQ(data_path_error(scenario, "sub/../sub/in.csv", DataAccess::kBesideScenario), "");
  EXPECT_THAT(data_path_error(scenario, "../outside.csv", DataAccess::kBesideScenario), HasSubstr("leads out of it"));
  EXPECT_THAT(data_path_error(scenario, "sub/../../outside.csv", DataAccess::kBesideScenario),
              HasSubstr("leads out of it"));
  EXPECT_THAT(data_path_error(scenario, (tmp.path() / "outside.csv").string(), DataAccess::kBesideScenario),
              HasSubstr("absolute path"));
  EXPECT_THAT(data_path_error(scenario, "link.csv", DataAccess::kBesideScenario), HasSubstr("symbolic link"));
  for (const char* name : {"../outside.csv", "link.csv"})
    EXPECT_EQ(data_path_error(scenario, name, DataAccess::kAnywhere), "") << name;
  // Only CSV files, wherever they are: a file's contents never reach a message.
  for (const char* name : {"/etc/shadow", "x.yaml", "csv", "a.csv.txt"})
    for (const auto access : {DataAccess::kBesideScenario, DataAccess::kAnywhere})
      EXPECT_THAT(data_path_error(scenario, name, access), HasSubstr("expected the name of a CSV file")) << name;
  EXPECT_EQ(data_path_error(scenario, "UPPER.CSV", DataAccess::kBesideScenario), "");
}

TEST(PriceMoves, AreBoundedWhateverTheParameters) {
  // Jumps of mean log-size 5, ten a day, loaded ten times: unbounded, E[loss]
  // of 5e90 USD. Bounded: each day at most ln 100, each horizon ln 10^4.
  const Model model = build_model(config::load_scenario_text(
      std::string(kMinimal) + "  - id: M3\n    capital: 1.0\n    positions: {A: {BTC: 0.5}}\n"
                              "  - id: M4\n    capital: 1.0\n    positions: {A: {BTC: -0.5}}\n",
      "t.yaml",
      {{"market.shocks",
        "{model: student_t, dof: 2.001, jumps: {intensity: 10, mean: 5, stdev: 5, beta: {BTC: 10, "
        "ETH: -10}}}"},
       {"ccps.A.margin", "{model: parametric, mpor_days: 60}"}}));
  const ShockGenerator shocks(model);
  Eigen::MatrixXd cumulative(2, static_cast<Eigen::Index>(model.horizons.size()));
  double factor = 0.0;
  double largest = 0.0;
  for (std::uint64_t s = 0; s < 2000; ++s) {
    shocks.generate(s, cumulative, factor);
    ASSERT_TRUE(cumulative.allFinite()) << s;
    largest = std::max(largest, cumulative.cwiseAbs().maxCoeff());
  }
  EXPECT_LE(largest, kMaxHorizonLogMove);
  EXPECT_EQ(largest, kMaxHorizonLogMove);  // these parameters reach the bound
  EXPECT_DOUBLE_EQ(kMaxDailyLogMove, std::log(100.0));
  EXPECT_DOUBLE_EQ(kMaxHorizonLogMove, std::log(1e4));
}

TEST(ComputedFigures, ANonFiniteOneIsALocatedErrorNamingItsInputs) {
  // Volatility 2000% a day, stress moves of 100 of its standard deviations
  // over 60 days: the stress loss overflows.
  std::string text(kMinimal);
  text.replace(text.find("volatility: 0.6}"), 16, "volatility: 20, trading_days: 1}");
  text.replace(text.find("capital: 1.0e8"), 14, "capital: 1.0e8\n    stress_sigma: 100\n    margin: {mpor_days: 60}");
  const std::string report = errors_of(text);
  EXPECT_THAT(report, HasSubstr("t.yaml:14:17: members[0].positions.A: expected a finite stress loss (USD) of member "
                                "'M1' at CCP 'A', found "));
  EXPECT_THAT(report, HasSubstr("1 BTC (market.assets[0]: price 60000 USD, daily volatility 20"));
  EXPECT_THAT(report, HasSubstr("ccps[0]: stress_sigma 100, margin parametric, mpor_days 60"));
  EXPECT_EQ(std::count(report.begin(), report.end(), '\n'), 1);
}

TEST(GeneratedMembers, AreNamedWithoutBeingMade) {
  const std::string text = std::string(kMinimal) + "generator: {members: 100000}\n";
  const auto with_default = [&](const std::string& id) {
    try {
      config::load_scenario_text(text + "defaults: {exogenous: [" + id + "]}\n", "t.yaml");
    } catch (const config::ScenarioError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(with_default("GM000001"), "");
  EXPECT_EQ(with_default("GM100000"), "");
  for (const char* id : {"GM000000", "GM100001", "GM1", "GM0000001", "GMx00001"})
    EXPECT_THAT(with_default(id), HasSubstr("unknown member")) << id;
}

}  // namespace test_input_limits
}  // namespace ccpnet
