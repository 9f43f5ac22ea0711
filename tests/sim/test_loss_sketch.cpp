// The members' loss quantiles: a relative-accuracy sketch (DDSketch, Masson,
// Rim and Lee, VLDB 2019) against the exact order statistics.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "sim/loss_sketch.hpp"

namespace ccpnet {
namespace test_loss_sketch {

// Exact nearest-rank quantile: the value of rank ceil((n - 1) p), 0-based.
double exact(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(std::ceil(static_cast<double>(v.size() - 1) * p))];
}

TEST(LossSketch, QuantilesAreWithinTheRelativeAccuracyOfTheExactOrderStatistic) {
  std::mt19937_64 gen(4);
  std::lognormal_distribution<double> loss(12.0, 3.0);  // USD, over many orders of magnitude
  std::bernoulli_distribution hit(0.05);                // most scenarios cost a member nothing
  for (int trial = 0; trial < 5; ++trial) {
    std::vector<double> values;
    std::map<std::uint32_t, std::int64_t> counts;
    for (int i = 0; i < 20000; ++i) {
      const double x = hit(gen) ? loss(gen) : 0.0;
      values.push_back(x);
      if (x > 0.0) ++counts[LossSketch::bucket(x)];
    }
    const std::vector<std::pair<std::uint32_t, std::int64_t>> sorted(counts.begin(), counts.end());
    for (const double p : {0.9, 0.95, 0.99, 0.999}) {
      const double want = exact(values, p), got = LossSketch::quantile(sorted, 20000, p);
      if (want == 0.0) {
        EXPECT_EQ(got, 0.0) << p;
      } else {
        EXPECT_LE(std::abs(got - want), LossSketch::kAccuracy * want * (1 + 1e-12)) << trial << " " << p;
      }
    }
  }
}

TEST(LossSketch, AllZerosGiveZero) {
  EXPECT_EQ(LossSketch::quantile({}, 1000, 0.99), 0.0);
  // 5 positive of 1000: the 99th percentile (rank 990) is still a zero.
  EXPECT_EQ(LossSketch::quantile({{LossSketch::bucket(7.0), 5}}, 1000, 0.99), 0.0);
  // 20 positive of 1000: rank 990 is among them.
  EXPECT_NEAR(LossSketch::quantile({{LossSketch::bucket(7.0), 20}}, 1000, 0.99), 7.0, 0.07);
}

}  // namespace test_loss_sketch
}  // namespace ccpnet
