// Reverse stress tests (`ccpnet reverse`): along one direction, and the
// multi-dimensional search for the most plausible move that fails a CCP.
//
// Plausibility of a move is its Mahalanobis norm in standard deviations of the
// log-returns over the MPOR (Breuer, Jandacka, Rheinberger and Summer 2009,
// "How to find plausible, severe and useful stress scenarios", International
// Journal of Central Banking 5(3)); the smallest norm that reaches a failure
// is the Hasofer-Lind (1974) reliability index at the design point. For a
// loss that depends on one asset X only, the design point is known in closed
// form: |x*_X| / s_X standard deviations, every other asset at its
// conditional mean given X, x_Y = rho s_Y / s_X x*_X (the most likely
// scenario given X's move: Kupiec 1998, "Stress testing in a value at risk
// framework", Journal of Derivatives 6(1)).
#include <gtest/gtest.h>
#include <oneapi/tbb/global_control.h>

#include <cmath>
#include <string>

#include "sim/config/load.hpp"
#include "sim/errors.hpp"
#include "sim/model.hpp"
#include "sim/reverse.hpp"

namespace ccpnet {
namespace test_reverse {

// D is long 100 X (value 10,000) and defaults at the start; N is short. X and
// Y correlate at 0.6; nobody holds Y. The CCP's waterfall without VMGH or
// assessments: D's IM 100 and DF 20, SITG 30, N's DF 50, equity 970 (capital
// 1,000 less SITG): 1,170 in all. No liquidation cost. D's close-out loss is
// 10,000 (1 - e^x): A fails once it exceeds 1,170, at x* = ln(1 - 0.117) =
// ln 0.883 = -0.124430. A's MPOR is 2 days, X's daily volatility
// 0.5 / sqrt(365), so one standard deviation of x is s_X = sqrt(2) 0.5 /
// sqrt(365) = 0.0370117 and the design point lies at 0.124430 / 0.0370117 =
// 3.36192 standard deviations, with Y at 0.6 (0.8 / 0.5) x* = 0.96 x*.
// N's capital keeps it standing in any move searched.
constexpr std::string_view kOneAsset = R"(name: one asset decides
market:
  assets: [{id: X, price: 100, volatility: 0.5}, {id: Y, price: 10, volatility: 0.8}]
  correlation: [[1.0, 0.6], [0.6, 1.0]]
  stress_scenarios: [{name: X down 10%, moves: {X: -0.1}, days: 2}]
ccps:
  - id: A
    capital: 1000
    sitg: 30
    margin: {model: parametric, mpor_days: 2}
    default_fund: {sizing: fixed, amount: 70}
    waterfall: [defaulter_im, defaulter_df, sitg, mutualized_df, ccp_equity]
members:
  - {id: D, capital: 100, liquidity: 1000, positions: {A: {X: 100}}, initial_margin: {A: 100}, default_fund: {A: 20}}
  - {id: N, capital: 1.0e9, liquidity: 1.0e9, positions: {A: {X: -100}}, initial_margin: {A: 100}, default_fund: {A: 50}}
defaults: {exogenous: [D]}
)";

Model model_of(std::string_view yaml) { return build_model(config::load_scenario_text(yaml, "t.yaml")); }

TEST(ReverseSearch, TheDesignPointOfAOneAssetLossIsKnownInClosedForm) {
  const Model model = model_of(kOneAsset);
  const double x_star = std::log(0.883);
  const double s_x = std::sqrt(2.0) * 0.5 / std::sqrt(365.0);
  ASSERT_NEAR(s_x, 0.0370117, 1e-7);
  const ReverseSearchResult r = reverse_search(model, 0, {});
  ASSERT_TRUE(r.at_design_point.has_value());
  const SearchDirection& best = r.directions.front();
  ASSERT_TRUE(best.radius.has_value());
  EXPECT_NEAR(*best.radius, -x_star / s_x, 2e-4 * 3.36192);
  EXPECT_NEAR(*best.radius, 3.36192, 2e-4 * 3.36192);
  const Eigen::VectorXd x = search_log_move(model, 0, best.u, *best.radius);
  EXPECT_NEAR(x(0), x_star, 2e-3 * std::abs(x_star));
  EXPECT_NEAR(x(1), 0.96 * x(0), 2e-3 * std::abs(x_star));  // Y at its conditional mean
  EXPECT_GE(r.at_design_point->result.ccp_fail_round[0], 0);
  // The one-dimensional reverse stress along "X down 10%" agrees: it fails at
  // multiple k* = x* / ln 0.9 = 1.18099.
  const ReverseResult one = reverse_stress(model, 0, "X down 10%");
  ASSERT_TRUE(one.failure.has_value());
  EXPECT_NEAR(*one.failure, x_star / std::log(0.9), 1e-3);
  // "X down" alone is a direction of the search, further out: Y's
  // unconditional 0 is less likely than its conditional mean. Its radius is
  // |x*| / (s_X sqrt(1 - rho^2)) = 3.36192 / 0.8 = 4.20239.
  bool found = false;
  for (const auto& d : r.directions)
    if (d.name == "X down") {
      found = true;
      ASSERT_TRUE(d.radius.has_value());
      EXPECT_NEAR(*d.radius, 3.36192 / 0.8, 2e-4 * 4.2);
    }
  EXPECT_TRUE(found);
}

TEST(ReverseSearch, ASingularCorrelationMovesTheAssetsTogether) {
  // X and Y perfectly correlated: the correlation is only semi-definite, its
  // factor comes from its eigenvectors, and every move has Y at
  // (s_Y / s_X) x_X. The design point keeps its radius |x*| / s_X = 3.36192.
  std::string yaml(kOneAsset);
  yaml.replace(yaml.find("[[1.0, 0.6], [0.6, 1.0]]"), 24, "[[1.0, 1.0], [1.0, 1.0]]");
  const Model model = model_of(yaml);
  const ReverseSearchResult r = reverse_search(model, 0, {});
  ASSERT_TRUE(r.at_design_point.has_value());
  const SearchDirection& best = r.directions.front();
  EXPECT_NEAR(*best.radius, 3.36192, 2e-4 * 3.36192);
  const Eigen::VectorXd x = search_log_move(model, 0, best.u, *best.radius);
  EXPECT_NEAR(x(1), 1.6 * x(0), 1e-9);
}

TEST(ReverseSearch, ALayerIsExhaustedBeforeTheCcpFails) {
  const Model model = model_of(kOneAsset);
  // D's IM and DF (120) are exhausted once 10,000 (1 - e^x) > 120: x = ln 0.988.
  ReverseSearchOptions options;
  options.layer = models::Layer::kDefaulterDf;
  const ReverseSearchResult r = reverse_search(model, 0, options);
  ASSERT_TRUE(r.directions.front().radius.has_value());
  const double s_x = std::sqrt(2.0) * 0.5 / std::sqrt(365.0);
  EXPECT_NEAR(*r.directions.front().radius, -std::log(0.988) / s_x, 2e-4 * 0.3262);
  options.layer = models::Layer::kAssessments;  // not in A's waterfall
  EXPECT_THROW(reverse_search(model, 0, options), InputError);
}

TEST(ReverseSearch, TheSameForAnyThreadCount) {
  const Model model = model_of(kOneAsset);
  std::string one, two;
  {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, 1);
    one = reverse_search_json(model, reverse_search(model, 0, {})).dump();
  }
  {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, 2);
    two = reverse_search_json(model, reverse_search(model, 0, {})).dump();
  }
  EXPECT_EQ(one, two);
}

TEST(ReverseSearch, NothingWithinTheRadiusSaysSo) {
  const Model model = model_of(kOneAsset);
  ReverseSearchOptions options;
  options.max_radius = 2.0;  // the design point is at 3.36
  const ReverseSearchResult r = reverse_search(model, 0, options);
  EXPECT_FALSE(r.at_design_point.has_value());
  for (const auto& d : r.directions) EXPECT_FALSE(d.radius.has_value()) << d.name;
  EXPECT_NE(format_reverse_search(model, r).find("No direction searched makes A fail within 2 standard deviations"),
            std::string::npos);
}

}  // namespace test_reverse
}  // namespace ccpnet
