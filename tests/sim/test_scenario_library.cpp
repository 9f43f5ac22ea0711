// The scenario library (scenarios/*.yaml) is run by users as it is: every file
// must load, build, run and stress cleanly, give sane metrics, and account for
// every dollar of close-out loss in its stress scenarios.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "sim/config/load.hpp"
#include "sim/model.hpp"
#include "sim/output.hpp"
#include "sim/runner.hpp"
#include "sim/stress.hpp"
#include "tests/sim/files.hpp"

namespace test_scenario_library {

namespace fs = std::filesystem;

// Money below this (USD) is floating-point rounding, not a loss.
constexpr double kMoneyTolerance = 1e-6;
// Relative tolerance of the conservation of losses.
constexpr double kConservationTolerance = 1e-6;
// Monte Carlo scenarios per file; files with thousands of accounts (the
// reference network) run fewer to keep the suite fast.
constexpr std::int64_t kScenarios = 512;
constexpr std::int64_t kScenariosLarge = 128;
constexpr std::size_t kLargeAccounts = 2000;

fs::path scenario_dir() { return fs::path(CCPNET_SOURCE_DIR) / "scenarios"; }

std::vector<fs::path> library_files() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(scenario_dir()))
    if (entry.is_regular_file() && entry.path().extension() == ".yaml") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

using ccpnet::test_files::read_text;

std::string test_name(const testing::TestParamInfo<fs::path>& info) {
  std::string name = info.param.stem().string();
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

bool is_probability_key(const std::string& key, const std::string& parent) {
  return key.rfind("p_", 0) == 0 || parent == "p_member_defaults_at_least" || parent == "df_depletion";
}

// Every number of summary.json is finite and non-negative; probabilities and
// default-fund depletion fractions are at most 1.
void check_summary(const nlohmann::ordered_json& j, const std::string& path, const std::string& parent,
                   const std::string& key, int& problems) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) check_summary(v, path + "." + k, key, k, problems);
    return;
  }
  if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i)
      check_summary(j[i], path + "[" + std::to_string(i) + "]", parent, key, problems);
    return;
  }
  if (!j.is_number()) return;
  const double x = j.get<double>();
  const bool ok = std::isfinite(x) && x >= -kMoneyTolerance && (!is_probability_key(key, parent) || x <= 1.0 + 1e-12);
  if (!ok && problems++ < 5) ADD_FAILURE() << path << " = " << x;
}

// Per-scenario sanity of a cascade result.
void check_result(const ccpnet::Model& model, const ccpnet::ScenarioResult& r, const std::string& what, int& problems) {
  const auto fail = [&](const std::string& message) {
    if (problems++ < 5) ADD_FAILURE() << what << ": " << message;
  };
  const auto money_ok = [](double x) { return std::isfinite(x) && x >= -kMoneyTolerance; };
  if (!money_ok(r.closeout_loss)) fail("closeout_loss " + std::to_string(r.closeout_loss));
  if (!money_ok(r.total_loss)) fail("total_loss " + std::to_string(r.total_loss));
  if (!money_ok(r.uncovered)) fail("uncovered " + std::to_string(r.uncovered));
  for (double x : r.ccp_layers)
    if (!money_ok(x)) fail("layer amount " + std::to_string(x));
  for (double x : r.ccp_uncovered)
    if (!money_ok(x)) fail("CCP uncovered " + std::to_string(x));
  for (double x : r.ccp_df_used)
    if (!money_ok(x)) fail("DF used " + std::to_string(x));
  if (r.defaults.size() > model.members.size()) fail("more defaults than members");
  if (r.rounds < 0 || r.rounds > 2 * static_cast<int>(model.members.size() + model.ccps.size()) + 16)
    fail("cascade rounds " + std::to_string(r.rounds));
  // A failed CCP's shortfall is shared by its creditors or left unallocated,
  // to the cent (a standing CCP leaves unallocated only rounding); a standing
  // CCP has no creditors sharing anything. A failed CCP may end with no
  // shortfall: its link book replaced at a gain (LinkReplacement).
  for (std::size_t c = 0; c < model.ccps.size(); ++c) {
    const double shared = r.ccp_resolution_members[c] + r.ccp_resolution_links[c];
    if (r.ccp_fail_round[c] < 0 && (shared > 0.0 || r.ccp_uncovered[c] > 0.0))
      fail("CCP " + model.ccps[c].id + " shared a shortfall without failing");
    if (r.ccp_fail_round[c] >= 0 &&
        std::abs(shared + r.ccp_unallocated[c] - r.ccp_uncovered[c]) > 1e-6 + 1e-9 * r.ccp_uncovered[c])
      fail("CCP " + model.ccps[c].id + " failed, shortfall " + std::to_string(r.ccp_uncovered[c]) + " shared " +
           std::to_string(shared + r.ccp_unallocated[c]));
  }
  // The ledger (SPEC 3.11, sim/cascade.hpp): each CCP's inflow is absorbed
  // once, link losses out equal link losses in, and the final payers add up
  // to the close-out losses.
  const auto close = [](double a, double b) {
    return std::abs(a - b) <= 1e-9 * std::max({1.0, std::abs(a), std::abs(b)});
  };
  double link_in = 0.0, link_out = 0.0;
  for (std::size_t c = 0; c < model.ccps.size(); ++c) {
    double layers = 0.0;
    for (std::size_t l = 0; l < ccpnet::models::kLayerCount; ++l)
      layers += r.ccp_layers[c * ccpnet::models::kLayerCount + l];
    const double in = r.ccp_closeout[c] + r.ccp_link_in[c];
    const double absorbed = layers + r.ccp_resolution_members[c] + r.ccp_resolution_links[c] + r.ccp_unallocated[c];
    if (!close(in, absorbed))
      fail("CCP " + model.ccps[c].id + " ledger: in " + std::to_string(in) + " absorbed " + std::to_string(absorbed));
    link_in += r.ccp_link_in[c];
    link_out += r.ccp_link_out[c];
  }
  if (!close(link_in, link_out)) fail("link losses in " + std::to_string(link_in) + " out " + std::to_string(link_out));
  if (!close(r.ledger_total(), r.closeout_loss))
    fail("ledger total " + std::to_string(r.ledger_total()) + " close-out " + std::to_string(r.closeout_loss));
}

class ScenarioLibrary : public testing::TestWithParam<fs::path> {};

TEST_P(ScenarioLibrary, LoadsRunsAndStressesCleanly) {
  const fs::path& file = GetParam();
  SCOPED_TRACE(file.filename().string());

  // A library file explains itself: it opens with a methodology comment.
  const std::string text = read_text(file);
  EXPECT_EQ(text.rfind("# ", 0), 0u) << "no header comment";

  std::unique_ptr<ccpnet::Model> model;
  ASSERT_NO_THROW({
    const auto loaded = ccpnet::config::load_scenario_file(file.string());
    model = std::make_unique<ccpnet::Model>(ccpnet::build_model(loaded));
  });

  // Monte Carlo.
  ccpnet::RunOptions options;
  options.count = model->accounts.size() > kLargeAccounts ? kScenariosLarge : kScenarios;
  options.threads = 2;
  int problems = 0;
  std::int64_t seen = 0;
  std::vector<double> link_in(model->ccps.size(), 0.0), settle_late(model->ccps.size(), 0.0);
  options.on_scenario = [&](const ccpnet::ScenarioResult& r) {
    ++seen;
    check_result(*model, r, "scenario " + std::to_string(r.index), problems);
    for (std::size_t c = 0; c < link_in.size(); ++c) {
      link_in[c] += r.ccp_link_in[c];
      settle_late[c] += r.settlement.get(c, ccpnet::CcpSettleMetric::kLateInflows);
    }
  };
  std::unique_ptr<ccpnet::RunResult> run;
  ASSERT_NO_THROW(run = std::make_unique<ccpnet::RunResult>(ccpnet::run_monte_carlo(*model, options)));
  EXPECT_EQ(run->completed, options.count);
  EXPECT_EQ(seen, options.count);
  nlohmann::ordered_json summary;
  ASSERT_NO_THROW(summary = ccpnet::summary_json(*model, *run));
  check_summary(summary, "summary", "", "", problems);
  // Per-CCP means of summary.json are the means of the scenarios' values.
  for (std::size_t c = 0; c < model->ccps.size(); ++c) {
    const auto& e = summary.at("ccps").at(model->ccps[c].id);
    const double n = static_cast<double>(options.count);
    EXPECT_NEAR(e.at("ledger").at("link_in").get<double>(), link_in[c] / n, 1e-9 * std::max(1.0, link_in[c] / n));
    if (model->settlement_active) {
      EXPECT_NEAR(e.at("settlement").at("mean_late_inflows").get<double>(), settle_late[c] / n,
                  1e-9 * std::max(1.0, settle_late[c] / n));
    }
  }
  const auto& system = summary.at("system");
  EXPECT_LE(system.at("p_any_ccp_fail").get<double>(), system.at("mean_ccp_failures").get<double>() + 1e-12);
  EXPECT_LE(system.at("p99_total_loss").get<double>(), system.at("p999_total_loss").get<double>() + 1e-6);

  // Stress scenarios, when the file has any.
  const bool has_stress = std::any_of(model->stress_scenarios.begin(), model->stress_scenarios.end(),
                                      [](const auto& s) { return !s.overlay; });
  if (!has_stress) return;
  std::vector<ccpnet::StressOutcome> outcomes;
  ASSERT_NO_THROW(outcomes = ccpnet::run_stress(*model));
  ASSERT_FALSE(outcomes.empty());
  ASSERT_NO_THROW((void)ccpnet::format_stress(*model, outcomes));
  for (const auto& o : outcomes) {
    SCOPED_TRACE(o.stress.name);
    const ccpnet::ScenarioResult& r = o.result;
    check_result(*model, r, "stress '" + o.stress.name + "'", problems);
    // Conservation: every dollar of close-out loss has one final payer (the
    // ledger of sim/cascade.hpp).
    const double scale = std::max(1.0, std::abs(r.closeout_loss));
    EXPECT_NEAR(r.ledger_total(), r.closeout_loss, kConservationTolerance * scale) << "ledger total vs close-out loss";
    // And waterfall by waterfall: what entered (close-outs and link losses) was absorbed or left uncovered,
    // but for the close-out cost of contracts that ADL closed instead of the market.
    double traced_loss = 0.0, links_in = 0.0, late = 0.0;
    for (const auto& e : o.trace.events) {
      double loss = -e.adl_cost_avoided, absorbed = e.uncovered;
      for (const auto& d : e.defaulters) loss += std::max(0.0, d.loss);
      for (double x : e.by_layer) absorbed += x;
      EXPECT_NEAR(absorbed, loss, kConservationTolerance * std::max(1.0, loss))
          << model->ccps[static_cast<std::size_t>(e.ccp)].id << " round " << e.round;
      traced_loss += loss;
    }
    // Clients' margin covering their own accounts' close-out (omnibus pools and individual accounts of a
    // defaulted member, sim/clients.cpp close_out_pool) is on the member's line, in its own IM: the
    // events' layers add up to the CCP's.
    std::vector<double> traced_layers(r.ccp_layers.size(), 0.0);
    for (const auto& e : o.trace.events)
      for (std::size_t l = 0; l < ccpnet::models::kLayerCount; ++l)
        traced_layers[static_cast<std::size_t>(e.ccp) * ccpnet::models::kLayerCount + l] += e.by_layer[l];
    for (std::size_t i = 0; i < traced_layers.size(); ++i)
      EXPECT_NEAR(traced_layers[i], r.ccp_layers[i], kConservationTolerance * std::max(1.0, r.ccp_layers[i]))
          << model->ccps[i / ccpnet::models::kLayerCount].id << " layer " << i % ccpnet::models::kLayerCount;
    for (std::size_t c = 0; c < model->ccps.size(); ++c) {
      links_in += r.ccp_link_in[c];
      if (r.ccp_fail_round[c] >= 0) late += r.ccp_unallocated[c];  // includes losses that reached it after it failed
    }
    EXPECT_LE(traced_loss, r.closeout_loss + links_in + kConservationTolerance * scale);
    EXPECT_GE(traced_loss + late, r.closeout_loss + links_in - kConservationTolerance * scale);
  }
}

INSTANTIATE_TEST_SUITE_P(Files, ScenarioLibrary, testing::ValuesIn(library_files()), test_name);

// The same conservation over random scenarios, at several seeds: every
// scenario's ledger adds up to its close-out loss (check_result checks each
// CCP's ledger and the links' balance).
TEST(ScenarioLibraryConservation, MonteCarloConservesLosses) {
  for (const auto& file : library_files()) {
    SCOPED_TRACE(file.filename().string());
    const auto loaded = ccpnet::config::load_scenario_file(file.string());
    ccpnet::Model model = ccpnet::build_model(loaded);
    for (const std::uint64_t seed : {1ull, 7ull, 20261204ull}) {
      model.seed = seed;
      ccpnet::RunOptions options;
      options.count = model.accounts.size() > kLargeAccounts ? kScenariosLarge : 4 * kScenarios;
      options.threads = 2;
      int problems = 0;
      options.on_scenario = [&](const ccpnet::ScenarioResult& r) {
        check_result(model, r, "seed " + std::to_string(seed) + " scenario " + std::to_string(r.index), problems);
      };
      (void)ccpnet::run_monte_carlo(model, options);
    }
  }
}

TEST(ScenarioLibraryIndex, EveryFileIsListedInTheReadme) {
  const std::string readme = read_text(scenario_dir() / "README.md");
  const auto files = library_files();
  EXPECT_GE(files.size(), 7u);
  for (const auto& file : files)
    EXPECT_NE(readme.find("| `" + file.filename().string() + "` |"), std::string::npos)
        << file.filename().string() << " has no row in the table of files in scenarios/README.md";
}

}  // namespace test_scenario_library
