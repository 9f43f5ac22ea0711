// How the terminal shows estimates (sim/output.hpp): probabilities in percent
// with two significant digits, never a bare 0 when positive; intervals as
// "value [lower, upper]". Expected texts worked out by hand.
#include <gtest/gtest.h>

#include <limits>
#include <nlohmann/json.hpp>

#include "sim/compare.hpp"
#include "sim/output.hpp"

namespace ccpnet {
namespace test_estimate_text {

TEST(EstimateText, ProbabilitiesKeepTwoSignificantDigits) {
  EXPECT_EQ(format_percent(0.0), "0%");
  EXPECT_EQ(format_percent(5e-5), "0.0050%");  // 1 scenario in 20,000 (issue 19)
  EXPECT_EQ(format_percent(8.826282273e-06), "0.00088%");
  EXPECT_EQ(format_percent(2.831905702e-04), "0.028%");
  EXPECT_EQ(format_percent(1e-9), "0.00000010%");  // positive: never shown as 0
  EXPECT_EQ(format_percent(0.046), "4.6%");
  EXPECT_EQ(format_percent(0.5), "50%");
  EXPECT_EQ(format_percent(0.99981), "99.981%");  // two digits of 1 - p: not rounded up to 100%
  EXPECT_EQ(format_percent(1.0), "100%");
}

TEST(EstimateText, IntervalsReadValueThenBounds) {
  const nlohmann::ordered_json ci = nlohmann::ordered_json::array({8.826282273e-06, 2.831905702e-04});
  EXPECT_EQ(format_estimate(5e-5, ci, true), "0.0050% [0.00088%, 0.028%]");
  const nlohmann::ordered_json usd = nlohmann::ordered_json::array({112.607, 301.72});
  EXPECT_EQ(format_estimate(207.163, usd, false), "207 [113, 302]");
  const nlohmann::ordered_json open = nlohmann::ordered_json::array({0.0, nullptr});
  EXPECT_EQ(format_estimate(5.58e4, open, false), "5.58e+04 [0, unbounded]");
}

TEST(EstimateText, PairedDifferencesReadWithTheirUnits) {
  const MetricInfo& p = *find_metric("any_ccp_fail");  // a 0/1 flag: percentage points
  const MetricInfo& usd = *find_metric("total_loss");
  EXPECT_EQ(format_difference(p, {0.0002, -0.00019, 0.00059}), "+0.02 pp [-0.019 pp, +0.059 pp]");
  EXPECT_EQ(format_difference(usd, {-6.34e6, -7.35e6, -5.32e6}), "-6.34e+06 [-7.35e+06, -5.32e+06] USD");
  EXPECT_EQ(format_difference(p, {0.0, 0.0, 0.0}), "0 pp [0 pp, 0 pp]");
  EXPECT_EQ(difference_reading({1.0, 0.5, 1.5}), "higher than base");
  EXPECT_EQ(difference_reading({-1.0, -1.5, -0.5}), "lower than base");
  EXPECT_EQ(difference_reading({0.1, -0.5, 0.7}), "no significant difference");
  EXPECT_EQ(difference_reading({0.0, 0.0, 0.0}), "no difference");
}

}  // namespace test_estimate_text
}  // namespace ccpnet
