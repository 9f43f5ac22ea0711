// TailSample: the quantile state in bounded memory. Its figures at levels of
// 0.99 and above (quantiles, their distribution-free intervals, expected
// shortfall) are those of the full sorted sample, bit for bit, for any split
// of the sample; below 0.99 they are within the sketch's 1%. The reference
// here is the textbook computation on the whole sample, zeros included:
// Hyndman and Fan (1996) type 7 for the quantile (numpy's default), the order
// statistics at the binomial ranks of Hahn and Meeker (1991, 5.2) for the
// interval, and the mean of the ceil(n (1 - p)) largest values for the
// expected shortfall (Acerbi and Tasche 2002, on an empirical distribution).
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "models/stats/intervals.hpp"
#include "sim/config/load.hpp"
#include "sim/metrics.hpp"
#include "sim/model.hpp"
#include "sim/runner.hpp"
#include "sim/tail_sample.hpp"

namespace ccpnet {
namespace test_tail_sample {

std::uint64_t bits(double x) { return std::bit_cast<std::uint64_t>(x); }

// The full sample, sorted, with its zeros.
struct FullSample {
  std::vector<double> sorted;
  explicit FullSample(std::vector<double> values) : sorted(std::move(values)) {
    std::sort(sorted.begin(), sorted.end());
  }
  std::int64_t n() const { return static_cast<std::int64_t>(sorted.size()); }
  double quantile(double p) const {
    const double h = static_cast<double>(n() - 1) * p;
    const auto lo = static_cast<std::size_t>(std::floor(h));
    const auto hi = std::min(lo + 1, sorted.size() - 1);
    return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
  }
  models::stats::Interval interval(double p, double confidence) const {
    const auto ranks = models::stats::quantile_rank_interval(n(), p, confidence);
    const auto at = [&](std::int64_t r) {
      if (r <= 0) return 0.0;  // every value is >= 0
      if (r > n()) return std::numeric_limits<double>::infinity();
      return sorted[static_cast<std::size_t>(r - 1)];
    };
    return {at(ranks.lower), at(ranks.upper)};
  }
  double expected_shortfall(double p) const {
    const auto k =
        std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(static_cast<double>(n()) * (1 - p) - 1e-9)));
    double sum = 0.0;
    for (std::int64_t i = 0; i < k; ++i) sum += sorted[sorted.size() - 1 - static_cast<std::size_t>(i)];
    return sum / static_cast<double>(k);
  }
};

// Zeros with probability `zero_share`, else lognormal amounts (heavy tail).
std::vector<double> random_losses(std::int64_t n, double zero_share, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::bernoulli_distribution zero(zero_share);
  std::lognormal_distribution<double> amount(15.0, 2.0);
  std::vector<double> out(static_cast<std::size_t>(n));
  for (double& x : out) x = zero(rng) ? 0.0 : amount(rng);
  return out;
}

TailSample sample_of(const std::vector<double>& values, std::size_t from, std::size_t to, std::int64_t capacity) {
  TailSample s(capacity);
  for (std::size_t i = from; i < to; ++i)
    if (values[i] > 0.0) s.add(values[i]);
  return s;
}

void expect_exact_figures(const TailSample& s, const FullSample& full) {
  const std::int64_t n = full.n();
  for (double p : {0.99, 0.995, 0.999, 0.9995, 0.9999}) {
    EXPECT_EQ(bits(s.quantile(n, p)), bits(full.quantile(p))) << p;
    EXPECT_EQ(bits(s.expected_shortfall(n, p)), bits(full.expected_shortfall(p))) << p;
    for (double confidence : {0.9, 0.95, 0.99, TailSample::kExactConfidence}) {
      const auto got = s.quantile_interval(n, p, confidence), want = full.interval(p, confidence);
      EXPECT_EQ(bits(got.lower), bits(want.lower)) << p << " " << confidence;
      EXPECT_EQ(bits(got.upper), bits(want.upper)) << p << " " << confidence;
    }
  }
}

TEST(TailSample, FiguresFrom99PercentAreThoseOfTheFullSortedSample) {
  for (const std::int64_t n : {1000, 20000, 150000}) {
    const std::vector<double> values = random_losses(n, 0.4, static_cast<std::uint64_t>(n));
    const FullSample full(values);
    const std::int64_t capacity = TailSample::capacity(n);
    TailSample s = sample_of(values, 0, values.size(), capacity);
    s.finish();
    ASSERT_GT(s.positive(), capacity) << "the bound must bite";
    EXPECT_EQ(static_cast<std::int64_t>(s.top().size()), capacity);
    // About 1% of the scenarios plus the interval's margin: far from all the positive values.
    EXPECT_LT(capacity, n / 100 + 4 * static_cast<std::int64_t>(std::sqrt(static_cast<double>(n) * 0.01)) + 40) << n;
    expect_exact_figures(s, full);
  }
}

TEST(TailSample, BelowTheExactLevelsQuantilesAreWithinTheSketchAccuracy) {
  const std::int64_t n = 50000;
  const std::vector<double> values = random_losses(n, 0.3, 7);
  const FullSample full(values);
  TailSample s = sample_of(values, 0, values.size(), TailSample::capacity(n));
  s.finish();
  for (double p : {0.1, 0.29, 0.31, 0.5, 0.75, 0.9, 0.95, 0.98}) {
    const double want = full.quantile(p), got = s.quantile(n, p);
    EXPECT_LE(std::abs(got - want), 0.01 * want * (1 + 1e-9)) << p;
  }
  EXPECT_EQ(s.quantile(n, 0.2), 0.0);  // among the zeros: exact
  // The distribution for a histogram: every positive scenario once.
  std::int64_t total = 0;
  double previous = 0.0;
  for (const auto& [value, count] : s.distribution()) {
    EXPECT_GE(value, previous);
    previous = value;
    total += count;
  }
  EXPECT_EQ(total, s.positive());
  // The expected shortfall at a low level mixes the exact top and the sketch: within 1%.
  EXPECT_NEAR(s.expected_shortfall(n, 0.9), full.expected_shortfall(0.9), 0.01 * full.expected_shortfall(0.9));
}

TEST(TailSample, AnySplitMergesToTheSameState) {
  const std::int64_t n = 40000;
  const std::vector<double> values = random_losses(n, 0.5, 11);
  const std::int64_t capacity = TailSample::capacity(n);
  TailSample whole = sample_of(values, 0, values.size(), capacity);
  const nlohmann::json expected = whole.to_json();
  for (const std::vector<std::size_t>& cuts :
       std::vector<std::vector<std::size_t>>{{0, 40000}, {0, 4096, 40000}, {0, 1, 17, 20000, 39999, 40000}}) {
    std::vector<TailSample> parts;
    for (std::size_t k = 0; k + 1 < cuts.size(); ++k)
      parts.push_back(sample_of(values, cuts[k], cuts[k + 1], capacity));
    // Merged in order, and in reverse order through their JSON (as between processes).
    TailSample forward(capacity), backward(capacity);
    for (const auto& part : parts) forward.merge(part);
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) backward.merge(TailSample::from_json(it->to_json()));
    EXPECT_EQ(forward.to_json(), expected);
    EXPECT_EQ(backward.to_json(), expected);
  }
}

// Between processes the kept values travel as one byte string of
// little-endian IEEE 754 binary64 (8 bytes a value): 1.5 is 0x3FF8000000000000,
// 3 is 0x4008000000000000. A string that is not whole values, or values that
// are not positive and ascending, is refused.
TEST(TailSample, ItsStateCarriesEightBytesAValueAndRefusesAnotherState) {
  TailSample s(2);
  for (double x : {3.0, 0.25, 1.5}) s.add(x);
  const nlohmann::json j = s.to_json();
  const std::vector<std::uint8_t> expected{0, 0, 0, 0, 0, 0, 0xF8, 0x3F, 0, 0, 0, 0, 0, 0, 0x08, 0x40};
  ASSERT_TRUE(j.at("top").is_binary());
  EXPECT_EQ(static_cast<const std::vector<std::uint8_t>&>(j.at("top").get_binary()), expected);
  const TailSample back = TailSample::from_json(j);
  EXPECT_EQ(back.positive(), 3);
  EXPECT_EQ(back.top(), (std::vector<double>{1.5, 3.0}));
  const auto with_top = [&](std::vector<std::uint8_t> bytes) {
    nlohmann::json k = j;
    k["top"] = nlohmann::json::binary(std::move(bytes));
    return k;
  };
  std::vector<std::uint8_t> swapped(expected.begin() + 8, expected.end());
  swapped.insert(swapped.end(), expected.begin(), expected.begin() + 8);
  std::vector<std::uint8_t> zero = expected;
  std::fill(zero.begin(), zero.begin() + 8, 0);
  for (const auto& bad : {std::vector<std::uint8_t>(expected.begin(), expected.end() - 1), swapped, zero})
    EXPECT_THROW(TailSample::from_json(with_top(bad)), std::runtime_error);
}

// The memory is the capacity: never more values held, whatever arrives, and
// they are the capacity largest (ties included) in ascending order.
TEST(TailSample, HoldsNoMoreThanItsCapacityAndKeepsTheLargest) {
  const std::int64_t n = 200000;
  std::vector<double> values = random_losses(n, 0.2, 5);
  // 3,000 equal values: about 200 draws lie above them, so the capacity (about 2,100) ends among them.
  for (std::size_t i = 0; i < 3000; ++i) values[i * 50] = std::exp(21.0);
  const std::int64_t capacity = TailSample::capacity(n);
  TailSample s(capacity);
  for (double x : values) {
    if (x > 0.0) s.add(x);
    ASSERT_LE(s.top().capacity(), static_cast<std::size_t>(capacity));
  }
  s.finish();
  std::vector<double> largest = values;
  std::sort(largest.begin(), largest.end());
  largest.erase(largest.begin(), largest.end() - capacity);
  EXPECT_EQ(s.top(), largest);
}

// Past a few thousand values a bounded sample takes its whole capacity at
// once (no chain of doubled arrays left behind in the heap) when that is at
// most 1 MiB or 4 times what it holds; an unbounded one (no planned count)
// goes on doubling and keeps every value. Either way the values kept are the
// largest. After 5,000 values the reservation lies in [least, most].
void expect_growth(std::int64_t capacity, std::size_t least, std::size_t most) {
  std::vector<double> values = random_losses(2 * capacity, 0.0, static_cast<std::uint64_t>(capacity));
  TailSample bounded(capacity), unbounded;
  for (std::size_t i = 0; i < values.size(); ++i) {
    bounded.add(values[i]);
    unbounded.add(values[i]);
    if (i + 1 == 5000) {
      EXPECT_GE(bounded.top().capacity(), least) << capacity;
      EXPECT_LE(bounded.top().capacity(), most) << capacity;
    }
  }
  bounded.finish();
  unbounded.finish();
  ASSERT_TRUE(unbounded.all_exact());
  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(unbounded.top(), sorted);
  sorted.erase(sorted.begin(), sorted.end() - capacity);
  EXPECT_EQ(bounded.top(), sorted) << capacity;
}

TEST(TailSample, ALargeCapacityIsReservedOnceAndUnboundedKeepsEverything) {
  const auto capacity = TailSample::capacity(1000000);  // about 10,300: 80 KB
  ASSERT_GT(capacity, 8192);
  const auto whole = static_cast<std::size_t>(capacity);
  expect_growth(capacity, whole, whole);  // doubling would hold 8,192 here
  expect_growth(4096, 4096, 4096);        // at the threshold
  expect_growth(4097, 4097, 4097);        // just past it
  // Beyond 1 MiB and 4 times the 4,096 held: doubling (8,192 after 5,000),
  // not the whole 200,000 (a reservation planned for a run, not this sample).
  expect_growth(200000, 8192, 4 * 5000);
}

TEST(TailSample, EveryFigureIsExactWhenFewValuesArePositive) {
  const std::int64_t n = 100000;
  std::vector<double> values = random_losses(n, 0.995, 3);  // about 500 positive, below the capacity
  const FullSample full(values);
  TailSample s = sample_of(values, 0, values.size(), TailSample::capacity(n));
  s.finish();
  ASSERT_TRUE(s.all_exact());
  for (double p : {0.5, 0.99, 0.995, 0.999}) EXPECT_EQ(bits(s.quantile(n, p)), bits(full.quantile(p))) << p;
  EXPECT_EQ(bits(s.expected_shortfall(n, 0.9)), bits(full.expected_shortfall(0.9)));
}

TEST(TailSample, ARealRunHasTheFiguresOfItsScenariosForAnyThreadCount) {
  // A rough market: most scenarios lose something, far more than the 1% kept.
  const Model model = build_model(config::load_scenario_file(
      std::string(CCPNET_SOURCE_DIR) + "/scenarios/two_ccp_peer.yaml", {{"defaults.latent", "{pd: 0.3, beta: 0.6}"},
                                                                        {"market.shocks.volatility_multiplier", "6"},
                                                                        {"simulation.scenarios", "30000"}}));
  std::vector<double> losses;
  std::vector<std::vector<double>> depletion(model.ccps.size());
  nlohmann::json first_state;
  const auto fund = [&](std::size_t c) { return model.ccps[c].default_fund; };  // 0: no depletion
  for (const int threads : {1, 3}) {
    RunOptions options;
    options.threads = threads;
    options.batch = threads == 1 ? 64 : 448;
    if (threads == 1)
      options.on_scenario = [&](const ScenarioResult& r) {
        losses.push_back(r.total_loss);
        for (std::size_t c = 0; c < model.ccps.size(); ++c)
          depletion[c].push_back(fund(c) > 0.0 ? std::min(1.0, r.ccp_df_used[c] / fund(c)) : 0.0);
      };
    const RunResult run = run_monte_carlo(model, options);
    const Aggregate& agg = run.aggregate;
    ASSERT_GT(agg.total_loss_sample().positive(), static_cast<std::int64_t>(agg.total_loss_sample().top().size()));
    const FullSample full(losses);
    for (double p : {0.99, 0.999}) {
      EXPECT_EQ(bits(agg.total_loss_quantile(p)), bits(full.quantile(p))) << p;
      EXPECT_EQ(bits(agg.total_loss_expected_shortfall(p)), bits(full.expected_shortfall(p))) << p;
      EXPECT_EQ(bits(agg.total_loss_quantile_interval(p).lower), bits(full.interval(p, 0.95).lower)) << p;
      EXPECT_EQ(bits(agg.total_loss_quantile_interval(p).upper), bits(full.interval(p, 0.95).upper)) << p;
    }
    for (std::size_t c = 0; c < model.ccps.size(); ++c) {
      const FullSample ccp(depletion[c]);
      EXPECT_EQ(bits(agg.depletion_quantile(c, 0.99)), bits(ccp.quantile(0.99))) << c;
      EXPECT_EQ(bits(agg.depletion_quantile_interval(c, 0.99).lower), bits(ccp.interval(0.99, 0.95).lower)) << c;
      EXPECT_EQ(bits(agg.depletion_quantile_interval(c, 0.99).upper), bits(ccp.interval(0.99, 0.95).upper)) << c;
    }
    const nlohmann::json state = agg.total_loss_sample().to_json();
    if (threads == 1) {
      first_state = state;
    } else {
      EXPECT_EQ(state, first_state);
    }
  }
}

}  // namespace test_tail_sample
}  // namespace ccpnet
