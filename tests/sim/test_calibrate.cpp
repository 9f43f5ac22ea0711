// `ccpnet calibrate`: a scenario skeleton from public quantitative disclosures
// (CPMI-IOSCO, "Public quantitative disclosure standards for central
// counterparties", 2015, in the long layout of the CCP12 template), on
// scenarios/data/pqd_example.csv (invented numbers).
//
// By hand, EXAMPLE_CCP / crypto_futures at 2026-06-30 (the 2026-03-31 IM row
// is older and not used): IM 1.2bn over 24 members, top 5 hold 45% (108m
// each), the next 5 hold 20% (48m each), the other 14 hold 35% (30m each);
// default fund 300m, SITG 25m, capital 160m, minimum capital 100m.
// DEMO_CLEAR / spot_and_perps: IM 400m over 12 members, top 5 60% (48m each),
// next 5 30% (24m each), last 2 10% (20m each); default fund 60m, capital
// 90m, minimum capital 60m and no SITG disclosed, so the SITG is 25% of the
// minimum capital (RTS 153/2013 art. 35): 15m.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "sim/calibrate.hpp"
#include "sim/config/load.hpp"
#include "sim/model.hpp"
#include "tests/sim/files.hpp"

namespace ccpnet {
namespace test_calibrate {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const std::string kExample = "scenarios/data/pqd_example.csv";

std::string source(const std::string& relative) { return (fs::path(CCPNET_SOURCE_DIR) / relative).string(); }

using ccpnet::test_files::read_text;

TEST(Calibrate, ReadsTheLatestQuarterOfEachServiceAndListsUnusedFields) {
  const auto d = read_disclosures(source(kExample));
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].ccp, "EXAMPLE_CCP");
  EXPECT_EQ(d[0].date, "2026-06-30");
  EXPECT_EQ(d[0].values.at("initial_margin_required"), 1.2e9);
  EXPECT_EQ(d[0].unused, std::vector<std::string>{"liquid_resources"});
  EXPECT_EQ(d[1].ccp, "DEMO_CLEAR");
  EXPECT_EQ(d[1].values.count("skin_in_the_game"), 0u);
}

double ccp_im(const Model& m, std::size_t c) {
  double im = 0.0;
  for (int a : m.ccps[c].accounts) im += m.accounts[static_cast<std::size_t>(a)].initial_margin;
  return im;
}

TEST(Calibrate, TheScenarioHoldsTheDisclosedResources) {
  const std::string yaml = calibrated_scenario(read_disclosures(source(kExample)), kExample);
  const Model m = build_model(config::load_scenario_text(yaml, "calibrated.yaml"));
  ASSERT_EQ(m.ccps.size(), 2u);
  const CcpModel& a = m.ccps[0];
  EXPECT_EQ(a.id, "EXAMPLE_CCP");
  EXPECT_DOUBLE_EQ(a.capital, 1.6e8);
  EXPECT_DOUBLE_EQ(a.sitg, 2.5e7);
  EXPECT_NEAR(a.default_fund, 3.0e8, 1e-6);
  EXPECT_NEAR(ccp_im(m, 0), 1.2e9, 1e-3);
  const CcpModel& b = m.ccps[1];
  EXPECT_DOUBLE_EQ(b.capital, 9.0e7);
  EXPECT_DOUBLE_EQ(b.sitg, 1.5e7);
  EXPECT_NEAR(b.default_fund, 6.0e7, 1e-6);
  EXPECT_NEAR(ccp_im(m, 1), 4.0e8, 1e-3);
  // 24 + 12 members; the largest and the smallest IM at each CCP.
  ASSERT_EQ(m.members.size(), 36u);
  const auto im_of = [&](std::size_t member) {
    return m.accounts[static_cast<std::size_t>(m.members[member].accounts[0])].initial_margin;
  };
  EXPECT_DOUBLE_EQ(im_of(0), 1.08e8);
  EXPECT_DOUBLE_EQ(im_of(5), 4.8e7);
  EXPECT_DOUBLE_EQ(im_of(23), 3.0e7);
  EXPECT_DOUBLE_EQ(im_of(24), 4.8e7);
  EXPECT_DOUBLE_EQ(im_of(35), 2.0e7);
  // The model's own parametric IM of each position is its observed IM (the
  // positions were sized for it): the fund shares follow IM, 108/1200 of 300m.
  EXPECT_NEAR(m.accounts[static_cast<std::size_t>(m.members[0].accounts[0])].default_fund, 2.7e7, 1e-6);
}

TEST(Calibrate, TheLibraryScenarioIsTheCalibrationOfTheExampleFile) {
  const std::string yaml = calibrated_scenario(read_disclosures(source(kExample)), kExample);
  EXPECT_EQ(read_text(source("scenarios/calibrated_pqd_example.yaml")), yaml)
      << "regenerate: ccpnet calibrate " << kExample << " -o scenarios/calibrated_pqd_example.yaml";
}

std::string errors_of(const std::string& csv) {
  const fs::path path = fs::temp_directory_path() / ("ccpnet-calibrate-" + std::to_string(::getpid()) + ".csv");
  std::ofstream(path) << csv;
  std::string report;
  try {
    (void)calibrated_scenario(read_disclosures(path.string()), "x.csv");
  } catch (const config::ScenarioError& e) {
    report = e.what();
  }
  fs::remove(path);
  const std::string prefix = path.string();
  for (auto at = report.find(prefix); at != std::string::npos; at = report.find(prefix))
    report.replace(at, prefix.size(), "x.csv");
  return report;
}

constexpr std::string_view kHeader = "ccp,clearing_service,as_of_date,reference,field,currency,value\n";

TEST(Calibrate, BadFiguresAreLocatedInTheDisclosureFile) {
  const std::string rows = std::string(kHeader) +
                           "C,S,2026-06-30,6.1.1,initial_margin_required,EUR,1e9\n"
                           "C,S,2026-06-30,4.1.1,prefunded_default_fund,USD,lots\n"
                           "C,S,2026-06-30,18.1.1,clearing_members,,2.5\n"
                           "C,S,2026-06-30,6.7.1,top5_im_share,,1.5\n";
  const std::string report = errors_of(rows);
  EXPECT_THAT(report, HasSubstr("x.csv:2:46: disclosures: expected USD for initial_margin_required"));
  EXPECT_THAT(report, HasSubstr("x.csv:3:49: disclosures: expected a number >= 0"));
  EXPECT_THAT(report, HasSubstr("x.csv:4:41: disclosures: expected a whole number of clearing members"));
  EXPECT_THAT(report, HasSubstr("x.csv:5:37: disclosures: expected a share in (0, 1] for top5_im_share, found '1.5'"));
  EXPECT_THAT(report, HasSubstr("x.csv:1:1: disclosures: C / S at 2026-06-30 does not disclose capital\n"));
  // A figure given but unreadable is reported once, at its cell.
  EXPECT_THAT(report, ::testing::Not(HasSubstr("does not disclose prefunded_default_fund")));
}

// Top 5 at 20% and top 10 at 70%: members 6-10 would hold more than 1-5.
TEST(Calibrate, ConcentrationThatNoPopulationHasIsRefused) {
  const std::string rows = std::string(kHeader) +
                           "C,S,2026-06-30,,initial_margin_required,USD,1e9\n"
                           "C,S,2026-06-30,,prefunded_default_fund,USD,1e8\n"
                           "C,S,2026-06-30,,capital,USD,1e8\n"
                           "C,S,2026-06-30,,clearing_members,,20\n"
                           "C,S,2026-06-30,,top5_im_share,,0.2\n"
                           "C,S,2026-06-30,,top10_im_share,,0.7\n";
  EXPECT_THAT(errors_of(rows), HasSubstr("disclosures: C / S at 2026-06-30: member population: members 6 to 10 would "
                                         "each hold"));
}

// With 4 members the top 5 are all of them: a top-5 share below 100% is
// refused; 100% gives 4 equal members.
TEST(Calibrate, TheTopFiveOfFewerThanFiveMembersHoldEverything) {
  const std::string rows = std::string(kHeader) +
                           "C,S,2026-06-30,,initial_margin_required,USD,1e9\n"
                           "C,S,2026-06-30,,prefunded_default_fund,USD,1e8\n"
                           "C,S,2026-06-30,,capital,USD,1e8\n"
                           "C,S,2026-06-30,,clearing_members,,4\n"
                           "C,S,2026-06-30,,top5_im_share,,";
  EXPECT_THAT(errors_of(rows + "0.9\n"),
              HasSubstr("member population: the top 4 are every member and must hold the whole total"));
  EXPECT_EQ(errors_of(rows + "1\n"), "");
}

// The command: the scenario it writes validates and runs (exit 0), and a bad
// file exits 2 with its errors located.
TEST(Calibrate, TheCommandWritesAScenarioThatRuns) {
  const char* env = std::getenv("CCPNET_EXE");
  const std::string exe = env && *env ? env : (fs::path(CCPNET_BINARY_DIR) / "bin" / "ccpnet").string();
  const fs::path dir = fs::temp_directory_path() / ("ccpnet-calibrate-cli-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto status = [](const std::string& command) {
    const int s = std::system((command + " >/dev/null 2>&1").c_str());
    return WIFEXITED(s) ? WEXITSTATUS(s) : -1;
  };
  const std::string yaml = (dir / "s.yaml").string();
  EXPECT_EQ(status(exe + " calibrate " + source(kExample) + " -o " + yaml), 0);
  EXPECT_EQ(status(exe + " validate " + yaml), 0);
  EXPECT_EQ(status(exe + " run " + yaml + " -n 200 --quiet --out " + (dir / "out").string()), 0);
  const std::string summary = read_text(dir / "out" / "summary.json");
  EXPECT_THAT(summary, HasSubstr("\"default_fund\": 300000000.0"));
  std::ofstream(dir / "bad.csv") << "ccp,clearing_service\n";
  EXPECT_EQ(status(exe + " calibrate " + (dir / "bad.csv").string()), 2);
  fs::remove_all(dir);
}

}  // namespace test_calibrate
}  // namespace ccpnet
