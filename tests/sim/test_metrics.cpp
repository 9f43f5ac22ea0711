// The metric declaration (ChunkSums::visit) and the merged state: every
// declared metric travels through the CBOR merge exactly, a run split over
// processes merges to the single run bit for bit, and `compare` reads the
// metrics it compares by name.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <regex>
#include <set>
#include <string>
#include <type_traits>

#include "sim/compare.hpp"
#include "sim/config/load.hpp"
#include "sim/metrics.hpp"
#include "sim/model.hpp"
#include "sim/runner.hpp"

namespace ccpnet {
namespace test_metrics {

std::string scenario_path(const char* name) { return std::string(CCPNET_SOURCE_DIR) + "/scenarios/" + name; }

// A system with a settlement layer, a bridge and a recovery tool (so every level of metric has
// values), in a market rough enough that members default and CCPs fail, with
// the member-loss sketch on.
Model settlement_model() {
  return build_model(
      config::load_scenario_file(scenario_path("bridge_exploit.yaml"), {{"defaults.latent", "{pd: 0.2, beta: 0.6}"},
                                                                        {"market.shocks.volatility_multiplier", "6"},
                                                                        {"simulation.scenarios", "10000"},
                                                                        {"outputs.member_quantiles", "true"},
                                                                        {"ccps[0].recovery", "{tools: [cash_call]}"}}));
}

// Bitwise equality of doubles (0.0 and -0.0 differ, a NaN equals itself).
std::uint64_t bits(double x) { return std::bit_cast<std::uint64_t>(x); }
std::int64_t bits(std::int64_t x) { return x; }

// Every value of every declared metric (or of the float sums only, or of the
// counts and maxima only), as "name[i] = bits", for comparisons that say which
// metric differs.
enum class Part { kAll, kFloatSums, kExact };
std::vector<std::string> metric_values(const ChunkSums& s, Part part = Part::kAll) {
  std::vector<std::string> out;
  ChunkSums::visit([&](auto field, const MetricInfo& info, const auto&) {
    const bool exact = info.aggregation != Aggregation::kSum;
    if ((part == Part::kFloatSums && exact) || (part == Part::kExact && !exact)) return;
    const auto& value = s.*field;
    if constexpr (std::is_arithmetic_v<std::decay_t<decltype(value)>>) {
      out.push_back(fmt::format("{} = {}", info.name, bits(value)));
    } else {
      for (std::size_t i = 0; i < value.size(); ++i)
        out.push_back(fmt::format("{}[{}] = {}", info.name, i, bits(value[i])));
    }
  });
  return out;
}

TEST(MetricDeclaration, NamesAreUniqueSnakeCaseAndDocumented) {
  std::set<std::string_view> names;
  const std::regex snake("[a-z][a-z0-9_]*");
  for (const MetricInfo& m : metric_infos()) {
    EXPECT_TRUE(names.insert(m.name).second) << "declared twice: " << m.name;
    EXPECT_TRUE(std::regex_match(std::string(m.name), snake)) << m.name;
    EXPECT_FALSE(m.doc.empty()) << m.name;
    EXPECT_EQ(find_metric(m.name), &m);
    if (m.compare) {
      // A compared metric has one value per scenario and a title for the reports.
      EXPECT_EQ(m.level, MetricLevel::kSystem) << m.name;
      EXPECT_FALSE(m.title.empty()) << m.name;
    }
    EXPECT_FALSE(m.optional && !m.compare) << m.name << ": optional is about compare";
    // Only float sums depend on the order of addition; a 0/1 flag or a count is an integer.
    if (m.unit == MetricUnit::kScenarios) {
      EXPECT_EQ(m.aggregation, Aggregation::kCount) << m.name;
    }
  }
  EXPECT_EQ(find_metric("no_such_metric"), nullptr);
}

// Fills every value of every declared metric with a distinct, awkward number.
void fill_every_metric(ChunkSums& s) {
  // Values a float holds exactly (CBOR writes them in single precision) and
  // values it does not (CBOR keeps a double): both must come back bit for bit.
  constexpr double kSpecial[] = {-0.0,
                                 3.0,
                                 1e-300,
                                 0.1,
                                 -1e300,
                                 std::numeric_limits<double>::denorm_min(),
                                 std::numeric_limits<double>::infinity(),
                                 1.0 / 3.0};
  std::size_t i = 0;
  std::int64_t k = std::numeric_limits<std::int64_t>::min() / 3;
  const auto next_double = [&] {
    const double x = i < std::size(kSpecial)
                         ? kSpecial[i]
                         : std::ldexp(1.0 + 1e-9 * static_cast<double>(i), static_cast<int>(i % 200) - 100);
    ++i;
    return i % 2 ? x : -x;
  };
  ChunkSums::visit([&](auto field, const MetricInfo&, const auto&) {
    auto& value = s.*field;
    using T = std::decay_t<decltype(value)>;
    if constexpr (std::is_same_v<T, double>) {
      value = next_double();
    } else if constexpr (std::is_same_v<T, std::int64_t>) {
      value = k += 977;
    } else if constexpr (std::is_same_v<typename T::value_type, double>) {
      for (auto& v : value) v = next_double();
    } else {
      for (auto& v : value) v = k += 1013;
    }
  });
}

void round_trip_every_metric(const Model& model);

// A settlement layer runs in one period only, so the metrics of time steps
// need a second model.
TEST(MetricDeclaration, EveryMetricRoundTripsThroughTheCborMerge) {
  const Model settling = settlement_model();
  const Model steps = build_model(config::load_scenario_file(scenario_path("default_days.yaml")));
  for (const MetricInfo& m : metric_infos())
    EXPECT_GT(level_size(settling, m.level) + level_size(steps, m.level), 0u) << m.name << " has no value";
  for (const Model* model : {&settling, &steps}) round_trip_every_metric(*model);
}

void round_trip_every_metric(const Model& model) {
  ChunkSums sums;
  sums.init(model, 3 * kChunk);
  sums.count = 4000;
  fill_every_metric(sums);

  // The two halves of the merged state, through CBOR bytes and back.
  const auto through_cbor = [](const nlohmann::json& j) {
    return nlohmann::json::from_cbor(nlohmann::json::to_cbor(j));
  };
  const ChunkSums floats = ChunkSums::from_json(model, through_cbor(sums.to_json(false)), false);
  const ChunkSums exact = ChunkSums::from_json(model, through_cbor(sums.to_json(true)), true);
  EXPECT_EQ(floats.first, sums.first);
  EXPECT_EQ(floats.count, sums.count);
  EXPECT_EQ(metric_values(floats, Part::kFloatSums), metric_values(sums, Part::kFloatSums));
  EXPECT_EQ(metric_values(exact, Part::kExact), metric_values(sums, Part::kExact));
  EXPECT_EQ(metric_values(sums, Part::kFloatSums).size() + metric_values(sums, Part::kExact).size(),
            metric_values(sums).size());

  // Each metric is in exactly one half, under its declared name.
  const nlohmann::json f = sums.to_json(false), e = sums.to_json(true);
  for (const MetricInfo& m : metric_infos()) {
    const std::string name(m.name);
    EXPECT_NE(f.contains(name), e.contains(name)) << name;
    EXPECT_EQ(e.contains(name), m.aggregation != Aggregation::kSum) << name;
  }
}

RunResult run_part(const Model& model, std::int64_t first, std::int64_t count, int threads) {
  RunOptions options;
  options.first = first;
  options.count = count;
  options.threads = threads;
  options.batch = 192;
  return run_monte_carlo(model, options);
}

TEST(MetricDeclaration, ARunSplitOverProcessesMergesToTheSingleRun) {
  const Model model = settlement_model();
  const RunResult whole = run_part(model, 0, model.scenarios, 2);
  // Three processes' parts, each carried as CBOR bytes, merged in rank order.
  const std::int64_t cut1 = kChunk, cut2 = 2 * kChunk;
  const RunResult a = run_part(model, 0, cut1, 1), b = run_part(model, cut1, cut2 - cut1, 2),
                  c = run_part(model, cut2, model.scenarios - cut2, 3);
  Aggregate merged = Aggregate::deserialize(model, a.aggregate.serialize());
  merged.merge(Aggregate::deserialize(model, b.aggregate.serialize()));
  merged.merge(Aggregate::deserialize(model, c.aggregate.serialize()));
  merged.finish();

  const ChunkSums& t = whole.aggregate.totals();
  ASSERT_EQ(merged.scenarios(), model.scenarios);
  EXPECT_EQ(metric_values(merged.totals()), metric_values(t));
  // The run has something in each kind of metric.
  EXPECT_GT(t.any_default, 0);
  EXPECT_GT(t.any_ccp_fail, 0);
  EXPECT_GT(t.ledger_error, 0.0);
  EXPECT_GT(t.settlement_loss, 0.0);

  // And the rest of the state: quantiles, histogram, exact member losses, the sketch.
  EXPECT_EQ(merged.total_loss_sample().to_json(), whole.aggregate.total_loss_sample().to_json());
  EXPECT_EQ(bits(merged.total_loss_quantile(0.99)), bits(whole.aggregate.total_loss_quantile(0.99)));
  for (std::size_t ccp = 0; ccp < model.ccps.size(); ++ccp)
    EXPECT_EQ(bits(merged.depletion_quantile(ccp, 0.99)), bits(whole.aggregate.depletion_quantile(ccp, 0.99)));
  for (std::size_t k = 0; k < 12; ++k)
    EXPECT_EQ(bits(merged.p_at_least_defaults(k)), bits(whole.aggregate.p_at_least_defaults(k)));
  int losses = 0;
  for (std::size_t acc = 0; acc < model.accounts.size(); ++acc)
    for (int ch = 0; ch < kLossChannelCount; ++ch) {
      const double x = whole.aggregate.account_loss(acc, static_cast<LossChannel>(ch));
      losses += x != 0.0;
      EXPECT_EQ(bits(merged.account_loss(acc, static_cast<LossChannel>(ch))), bits(x));
    }
  EXPECT_GT(losses, 0);
  EXPECT_EQ(merged.member_loss_quantiles(0.99), whole.aggregate.member_loss_quantiles(0.99));
}

TEST(MetricDeclaration, AnUnfinishedAggregateTravelsWithItsOpenChunk) {
  // Scenarios [kChunk, kChunk + 3000) folded by hand: the chunk is still open
  // when the aggregate is serialized.
  const Model model = settlement_model();
  Aggregate here(model);
  RunOptions options;
  options.first = kChunk;
  options.count = 3000;
  options.on_scenario = [&](const ScenarioResult& r) { here.add(r); };
  const RunResult run = run_monte_carlo(model, options);
  Aggregate there = Aggregate::deserialize(model, here.serialize());
  here.finish();
  there.finish();
  EXPECT_EQ(metric_values(there.totals()), metric_values(here.totals()));
  EXPECT_EQ(metric_values(there.totals()), metric_values(run.aggregate.totals()));
  EXPECT_GT(here.totals().any_default, 0);
  // Member losses do not travel with the scenario results (the run hands
  // them to its own aggregate): the sketch's round trip is tested by
  // ARunSplitOverProcessesMergesToTheSingleRun.
  EXPECT_EQ(there.total_loss_sample().to_json(), here.total_loss_sample().to_json());
}

TEST(MetricDeclaration, AnAggregateOfAnotherModelOrNotAnAggregateIsRefused) {
  const Model model = settlement_model();
  const Model other = build_model(config::load_scenario_file(scenario_path("two_ccp_peer.yaml")));
  const std::vector<char> bytes = run_part(model, 0, 500, 1).aggregate.serialize();
  try {
    (void)Aggregate::deserialize(other, bytes);
    FAIL() << "deserialized into another model";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("aggregate of another model"), std::string::npos) << e.what();
  }
  try {
    (void)Aggregate::deserialize(model, std::vector<char>(bytes.begin(), bytes.begin() + 40));
    FAIL() << "deserialized truncated bytes";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("not a ccpnet aggregate"), std::string::npos) << e.what();
  }
}

TEST(Compare, ReadsEveryComparedMetricByName) {
  // The variants of full_mesh.yaml on a few scenarios; each compared metric is
  // found by its name, and its values are what the scenario results say.
  RunOptions options;
  options.threads = 2;
  std::vector<std::vector<ScenarioResult>> seen(1);
  options.on_scenario = [&](const ScenarioResult& r) {
    if (!seen.back().empty() && r.index == 0) seen.emplace_back();
    seen.back().push_back(r);
  };
  const Comparison c =
      run_compare(scenario_path("full_mesh.yaml"), {{"simulation.scenarios", "600"}, {"seed", "11"}}, options, true);
  ASSERT_EQ(seen.size(), c.variants.size());
  const auto by_hand = [](const ScenarioResult& r, std::string_view metric) -> double {
    if (metric == "total_loss") return r.total_loss;
    if (metric == "member_defaults") return static_cast<double>(r.defaults.size());
    if (metric == "any_ccp_fail") return r.ccp_failures() > 0 ? 1.0 : 0.0;
    if (metric == "closeout_loss") return r.closeout_loss;
    if (metric == "uncovered_loss") return r.uncovered;
    if (metric == "liquidity_shortfall") return r.liquidity_shortfall;
    if (metric == "interbank_loss") return r.interbank_loss;
    if (metric == "client_loss") return r.client_loss;
    if (metric == "settlement_loss")
      return r.settlement.total(CcpSettleMetric::kPrincipalLost) +
             r.settlement.total(CcpSettleMetric::kReplacementCost);
    ADD_FAILURE() << "a compared metric this test does not know: " << metric;
    return NAN;
  };
  for (std::size_t v = 0; v < c.variants.size(); ++v) {
    for (const MetricInfo& m : compare_metrics()) {
      const std::vector<double>& values = c.values(v, m.name);
      ASSERT_EQ(values.size(), seen[v].size()) << m.name;
      double sum = 0.0;
      for (std::size_t i = 0; i < values.size(); ++i) {
        EXPECT_EQ(bits(values[i]), bits(by_hand(seen[v][i], m.name))) << m.name << " scenario " << i;
        sum += values[i];
      }
      EXPECT_EQ(c.mean(v, m.name), sum / static_cast<double>(values.size())) << m.name;
    }
  }
  EXPECT_GT(c.mean(0, "any_ccp_fail") + c.mean(1, "any_ccp_fail"), 0.0);  // something to compare
  // The order of the list is the declaration's; a name, not a position, finds a metric.
  EXPECT_EQ(compare_metrics()[compare_metric_index("uncovered_loss")].name, "uncovered_loss");
  try {
    (void)c.mean(0, "p_fail");
    FAIL() << "an unknown metric was found";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), testing::StartsWith("no compared metric 'p_fail'; the compared metrics are 'total_loss', "
                                              "'member_defaults', 'any_ccp_fail', "));
  }
}

// The paired statistics of `compare` as they were computed from every stored
// value: the mean of d_i = variant_i - base_i with mean +- z s_d / sqrt(n), and the
// ratio R = sum base / sum variant with the delta-method standard error of the mean of
// z_i = base_i - R variant_i over mean(variant) (Stuart and Ord, Kendall's Advanced
// Theory of Statistics, 10.5; the ratio estimator of Cochran 1977, 6.4).
PairedDifference stored_difference(const std::vector<double>& variant, const std::vector<double>& base) {
  const std::size_t n = variant.size();
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) sum += variant[i] - base[i];
  const double mean = sum / static_cast<double>(n);
  double ss = 0.0;
  for (std::size_t i = 0; i < n; ++i) ss += (variant[i] - base[i] - mean) * (variant[i] - base[i] - mean);
  const double se = std::sqrt(ss / static_cast<double>(n - 1) / static_cast<double>(n));
  return {mean, mean - 1.959963984540054 * se, mean + 1.959963984540054 * se};
}
PairedDifference stored_ratio(const std::vector<double>& base, const std::vector<double>& variant) {
  const std::size_t n = base.size();
  double sum_a = 0.0, sum_b = 0.0;
  for (std::size_t i = 0; i < n; ++i) sum_a += base[i], sum_b += variant[i];
  if (sum_b == 0.0) return {};
  const double r = sum_a / sum_b, mean_b = sum_b / static_cast<double>(n);
  double ss = 0.0;
  for (std::size_t i = 0; i < n; ++i) ss += (base[i] - r * variant[i]) * (base[i] - r * variant[i]);
  const double se = std::sqrt(ss / static_cast<double>(n - 1) / static_cast<double>(n)) / std::abs(mean_b);
  return {r, r - 1.959963984540054 * se, r + 1.959963984540054 * se};
}

void expect_close(const PairedDifference& got, const PairedDifference& want, const std::string& what) {
  // Relative to the larger of the estimate and the interval's half-width.
  const double scale = std::max({std::abs(want.mean), want.hi - want.mean, 1e-300});
  EXPECT_NEAR(got.mean, want.mean, 1e-12 * scale) << what;
  EXPECT_NEAR(got.lo, want.lo, 1e-12 * scale) << what;
  EXPECT_NEAR(got.hi, want.hi, 1e-12 * scale) << what;
}

TEST(CompareStreaming, PairedStatisticsEqualThoseOfTheStoredValues) {
  const std::vector<config::Override> overrides = {
      {"simulation.scenarios", "3000"}, {"seed", "5"}, {"defaults.latent", "{pd: 0.05, beta: 0.6}"}};
  RunOptions options;
  options.threads = 2;
  const Comparison kept = run_compare(scenario_path("full_mesh.yaml"), overrides, options, true);
  ASSERT_GE(kept.variants.size(), 2u);
  int compared = 0;
  for (std::size_t v = 1; v < kept.variants.size(); ++v)
    for (const MetricInfo& m : compare_metrics()) {
      const auto& x = kept.values(0, m.name);
      const auto& y = kept.values(v, m.name);
      ASSERT_EQ(x.size(), 3000u);
      const std::string what = kept.variants[v].name + " " + std::string(m.name);
      expect_close(kept.difference(v, m.name), stored_difference(y, x), what + " difference");
      const PairedDifference ratio = stored_ratio(x, y);
      if (ratio.mean != 0.0) expect_close(kept.ratio(v, m.name), ratio, what + " ratio"), ++compared;
      // The base against itself: no difference at all.
      EXPECT_EQ(kept.difference(0, m.name).hi, 0.0);
    }
  EXPECT_GT(compared, 0);
  // Streamed without keeping the values, on another thread count: the same numbers.
  options.threads = 3;
  const Comparison streamed = run_compare(scenario_path("full_mesh.yaml"), overrides, options);
  EXPECT_EQ(comparison_json(streamed).dump(), comparison_json(kept).dump());
  EXPECT_TRUE(streamed.variants[0].per_scenario.empty());
  EXPECT_THROW((void)streamed.values(0, "total_loss"), std::logic_error);
}

TEST(CompareStreaming, BlocksOfScenariosMergeToThePlainRunOfEachVariant) {
  // More than one block: each variant's summary is its own run's.
  const std::int64_t n = kCompareBlock + 1000;
  const std::vector<config::Override> overrides = {{"simulation.scenarios", std::to_string(n)}, {"seed", "3"}};
  RunOptions options;
  options.threads = 2;
  const Comparison c = run_compare(scenario_path("two_ccp_peer.yaml"), overrides, options);
  ASSERT_EQ(c.scenarios, n);
  const Model& base = *c.variants[0].model;
  const RunResult plain = run_monte_carlo(base, options);
  EXPECT_EQ(summary_json(base, plain).dump(), c.variants[0].summary.dump());
}

}  // namespace test_metrics
}  // namespace ccpnet
