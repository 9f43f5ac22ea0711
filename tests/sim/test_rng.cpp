// The random number generators and the shock model against their target
// distributions. Tolerances are several standard errors of the estimator for
// the sample size used (fixed seeds, so the tests are deterministic).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "models/margin/quantile.hpp"
#include "sim/config/load.hpp"
#include "sim/model.hpp"
#include "sim/rng.hpp"
#include "sim/shocks.hpp"

namespace ccpnet {
namespace test_rng {

using rng::Draws;
using rng::Philox;
using rng::Stream;

constexpr int kN = 400'000;

TEST(Rng, PureFunctionOfSeedStreamScenarioAndPosition) {
  const rng::Philox a(42, rng::Stream::kMarket), b(42, rng::Stream::kMarket), c(42, rng::Stream::kDefaults);
  EXPECT_EQ(a(7, 0, 3), b(7, 0, 3));
  EXPECT_NE(a(7, 0, 3), c(7, 0, 3));
  EXPECT_NE(a(7, 0, 3), a(8, 0, 3));
  EXPECT_NE(a(7, 0, 3), a(7, 1, 3));
}

TEST(Rng, UniformsAreInTheOpenUnitInterval) {
  EXPECT_GT(rng::to_open_unit(0), 0.0);
  EXPECT_LT(rng::to_open_unit(~std::uint64_t{0}), 1.0);
}

TEST(Rng, NormalMomentsAndTails) {
  const rng::Philox p(1, rng::Stream::kMarket);
  std::vector<double> x(kN);
  double sum = 0, sq = 0;
  for (int i = 0; i < kN; ++i) {
    rng::Draws d(p, static_cast<std::uint64_t>(i / 8), static_cast<std::uint64_t>(i % 8));
    x[static_cast<std::size_t>(i)] = d.normal();
    sum += x[static_cast<std::size_t>(i)];
    sq += x[static_cast<std::size_t>(i)] * x[static_cast<std::size_t>(i)];
  }
  const double mean = sum / kN, var = sq / kN - mean * mean;
  EXPECT_NEAR(mean, 0.0, 5.0 / std::sqrt(kN));       // se = 1/sqrt(n)
  EXPECT_NEAR(var, 1.0, 5.0 * std::sqrt(2.0 / kN));  // se = sqrt(2/n)
  std::sort(x.begin(), x.end());
  // 1% and 99% quantiles: -2.3263 and 2.3263; se of a p-quantile is
  // sqrt(p(1-p)/n) / phi(q) = 0.0995/sqrt(n)/0.02665.
  const double se = std::sqrt(0.01 * 0.99 / kN) / 0.026652;
  EXPECT_NEAR(x[static_cast<std::size_t>(0.01 * kN)], -2.3263478740408408, 5 * se);
  EXPECT_NEAR(x[static_cast<std::size_t>(0.99 * kN)], 2.3263478740408408, 5 * se);
}

// Distance in units in the last place of the double nearest to `exact`.
double ulps(double x, long double exact) {
  const double nearest = static_cast<double>(exact);
  const double ulp = std::nextafter(std::abs(nearest), INFINITY) - std::abs(nearest);
  return static_cast<double>(std::abs(static_cast<long double>(x) - exact) / ulp);
}

// Box-Muller's log (fdlibm's algorithm: within 1 ulp) against the x87 logl
// (64-bit mantissa, 11 more bits), over the uniforms' whole range [2^-53, 1):
// random draws, the ends, both sides of the reduction's sqrt(2) split.
TEST(Rng, BoxMullersLogIsWithinOneUlp) {
  const Philox p(11, Stream::kMarket);
  Draws d(p, 0);
  std::vector<double> xs{0x1p-53,
                         0x1p-52 * 1.5,
                         0.5,
                         0.5 + 0x1p-53,
                         1.0 - 0x1p-53,
                         1.0 - 0x1p-40,
                         std::sqrt(0.5),
                         std::nextafter(std::sqrt(0.5), 1.0),
                         0.7071067811865476,
                         1e-300};
  for (int i = 0; i < 200'000; ++i) xs.push_back(d.uniform());
  for (int i = 0; i < 20'000; ++i) xs.push_back(std::ldexp(d.uniform(), -static_cast<int>(d.uniform() * 60)));
  double worst = 0.0;
  for (double x : xs) worst = std::max(worst, ulps(rng::log_unit(x), std::log(static_cast<long double>(x))));
  EXPECT_LE(worst, 1.0);
}

// cos(2 pi u) and sin(2 pi u) with the angle reduced exactly (4u = q + r):
// against cosl/sinl of 2 pi u in long double (whose own angle carries about
// 1e-19), within 2^-52 absolute, about one ulp of a value in [1/2, 1); exact
// at the quarter turns. (std::sin(2 pi u) in double is off by up to 7e-16:
// the rounding of its angle 2 pi u, 2^-53 of 2 pi.)
TEST(Rng, BoxMullersCosineAndSineOfATurn) {
  const Philox p(12, Stream::kMarket);
  Draws d(p, 0);
  constexpr long double kTwoPi = 6.283185307179586476925286766559005768L;
  double worst = 0.0;
  for (int i = 0; i < 200'000; ++i) {
    const double u = d.uniform();
    double c, s;
    rng::cos_sin_2pi(u, c, s);
    worst = std::max(worst, static_cast<double>(std::abs(c - std::cos(kTwoPi * u))));
    worst = std::max(worst, static_cast<double>(std::abs(s - std::sin(kTwoPi * u))));
  }
  EXPECT_LE(worst, 0x1p-52);
  const std::vector<std::array<double, 3>> exact{
      {0.0, 1.0, 0.0}, {0.25, 0.0, 1.0}, {0.5, -1.0, 0.0}, {0.75, 0.0, -1.0}, {1.0, 1.0, 0.0}};
  for (const auto& [u, cos, sin] : exact) {
    double c, s;
    rng::cos_sin_2pi(u, c, s);
    EXPECT_EQ(c, cos) << u;
    EXPECT_EQ(std::abs(s), std::abs(sin)) << u;
  }
}

// A draw's bits do not depend on how many pairs a pass evaluates (the loop
// is vectorised, its remainder not), nor on normals() against normal():
// the same numbers, the spare of an odd count carried to the next draw.
TEST(Rng, NormalsAreTheSameOneByOneOrInPasses) {
  const Philox p(13, Stream::kMarket);
  Draws d(p, 0);
  std::vector<double> u1, u2;
  for (int i = 0; i < 77; ++i) {
    u1.push_back(d.uniform());
    u2.push_back(d.uniform());
  }
  std::vector<double> z0(77), z1(77);
  rng::box_muller(u1.data(), u2.data(), z0.data(), z1.data(), 77);
  for (std::size_t i = 0; i < 77; ++i) {
    double a, b;
    rng::box_muller(&u1[i], &u2[i], &a, &b, 1);
    EXPECT_EQ(std::bit_cast<std::uint64_t>(a), std::bit_cast<std::uint64_t>(z0[i])) << i;
    EXPECT_EQ(std::bit_cast<std::uint64_t>(b), std::bit_cast<std::uint64_t>(z1[i])) << i;
  }
  for (const std::size_t count : {std::size_t{1}, std::size_t{7}, std::size_t{50}, std::size_t{129}}) {
    Draws one(p, 5, 1), batch(p, 5, 1);
    std::vector<double> out(count);
    for (int pass = 0; pass < 3; ++pass) {
      batch.normals(out.data(), count);
      for (std::size_t i = 0; i < count; ++i) EXPECT_EQ(out[i], one.normal()) << count << " " << pass << " " << i;
    }
  }
}

TEST(Rng, ChiSquareMoments) {
  const rng::Philox p(3, rng::Stream::kMarket);
  for (double nu : {3.0, 4.0, 10.5}) {
    double sum = 0, sq = 0;
    for (int i = 0; i < kN / 4; ++i) {
      rng::Draws d(p, static_cast<std::uint64_t>(i), 1);
      const double w = d.chi_square(nu);
      sum += w;
      sq += w * w;
    }
    const double n = kN / 4.0, mean = sum / n, var = sq / n - mean * mean;
    EXPECT_NEAR(mean, nu, 5.0 * std::sqrt(2 * nu / n)) << nu;  // E = nu, Var = 2 nu
    EXPECT_NEAR(var, 2 * nu, 0.05 * 2 * nu) << nu;             // 4th moment finite: a loose 5% band
  }
}

// The shock model: daily log-returns with the asset's daily volatility, the
// target correlation, unit-variance Student-t tails.
class ShockModel : public ::testing::TestWithParam<const char*> {};

TEST_P(ShockModel, DailyReturnsHaveTheTargetVolatilityAndCorrelation) {
  const std::string text = std::string(R"(name: shocks
market:
  assets:
    - {id: A, price: 100, volatility: 0.73}
    - {id: B, price: 100, volatility: 0.365}
  correlation: [[1, 0.6], [0.6, 1]]
  shocks: )") + GetParam() +
                           R"(
ccps: [{id: C, capital: 1, margin: {model: parametric, mpor_days: 1}}]
)";
  const Model model = build_model(config::load_scenario_text(text, "t.yaml"));
  const ShockGenerator gen(model);
  Eigen::MatrixXd c(2, 1);
  const int n = kN / 2;
  std::vector<double> a(n);
  double saa = 0, sbb = 0, sab = 0, sf = 0, sff = 0;
  for (int i = 0; i < n; ++i) {
    double f = 0;
    gen.generate(static_cast<std::uint64_t>(i), c, f);
    a[static_cast<std::size_t>(i)] = c(0, 0);
    saa += c(0, 0) * c(0, 0);
    sbb += c(1, 0) * c(1, 0);
    sab += c(0, 0) * c(1, 0);
    sf += f;
    sff += f * f;
  }
  const double va = 0.73 * 0.73 / 365, vb = 0.365 * 0.365 / 365;
  EXPECT_NEAR(saa / n / va, 1.0, 0.03);
  EXPECT_NEAR(sbb / n / vb, 1.0, 0.03);
  EXPECT_NEAR(sab / std::sqrt(saa * sbb), 0.6, 0.01);
  EXPECT_NEAR(sf / n, 0.0, 5.0 / std::sqrt(n));
  EXPECT_NEAR(sff / n, 1.0, 5.0 * std::sqrt(2.0 / n));  // the market factor is N(0, 1)
  // Tails: the 0.5% quantile of the standardised return is the normal's
  // -2.5758 or the unit-variance t(4)'s -4.6041 * sqrt(2/4) = -3.2556.
  std::sort(a.begin(), a.end());
  const double q = a[static_cast<std::size_t>(0.005 * n)] / std::sqrt(va);
  const double expected = std::string(GetParam()).find("student_t") != std::string::npos
                              ? models::unit_student_t_quantile(0.005, 4.0)
                              : models::normal_quantile(0.005);
  EXPECT_NEAR(q, expected, 0.05 * std::abs(expected));
}

INSTANTIATE_TEST_SUITE_P(Gaussian, ShockModel, ::testing::Values("{model: gaussian}"));
INSTANTIATE_TEST_SUITE_P(StudentT, ShockModel, ::testing::Values("{model: student_t, dof: 4}"));

TEST(ShockModelQuantiles, StudentTableValue) {
  // t(4) 0.5% quantile from tables: -4.604095; scaled to unit variance by sqrt(2/4).
  EXPECT_NEAR(models::unit_student_t_quantile(0.005, 4.0), -4.604095 * std::sqrt(0.5), 1e-5);
}

}  // namespace test_rng
}  // namespace ccpnet

namespace ccpnet {
namespace test_rng {

TEST(ShockModelOverlay, EachOverlayIsRealisedOverItsOwnDays) {
  // Zero volatility: the draw is the overlays alone. At a 2-day MPOR, a -50%
  // move over 4 days contributes half its log-move, ln(0.5)/2, and a +10% move
  // over 1 day all of ln(1.1).
  const std::string text = R"(name: overlays
market:
  assets: [{id: A, price: 100, volatility: 0}]
  stress_scenarios:
    - {name: slow, moves: {A: -0.5}, days: 4, overlay: true}
    - {name: fast, moves: {A: 0.1}, days: 1, overlay: true}
ccps: [{id: C, capital: 1, margin: {model: parametric, mpor_days: 2}}]
)";
  const Model model = build_model(config::load_scenario_text(text, "t.yaml"));
  const ShockGenerator gen(model);
  Eigen::MatrixXd c(1, 1);
  double f = 0.0;
  gen.generate(3, c, f);
  EXPECT_NEAR(c(0, 0), std::log(0.5) / 2 + std::log(1.1), 1e-12);
}

// A model for the tile tests: `assets` assets of daily volatility 0.73 /
// sqrt(365) equicorrelated at 0.5 (a dense lower-triangular factor), a
// 3-day MPOR (three days of draws: with an odd number of assets a Box-Muller
// pair spans two days) and the shock settings `shocks`.
Model tile_model(int assets, const std::string& shocks) {
  std::string list, row;
  for (int a = 0; a < assets; ++a) list += "    - {id: A" + std::to_string(a) + ", price: 100, volatility: 0.73}\n";
  std::string correlation = "[";
  for (int i = 0; i < assets; ++i) {
    correlation += i ? ", [" : "[";
    for (int j = 0; j < assets; ++j) correlation += std::string(j ? ", " : "") + (i == j ? "1" : "0.5");
    correlation += "]";
  }
  correlation += "]";
  const std::string text = "name: tile\nmarket:\n  assets:\n" + list + "  correlation: " + correlation +
                           "\n  shocks: " + shocks +
                           "\nccps: [{id: C, capital: 1, margin: {model: parametric, mpor_days: 3}}]\n";
  return build_model(config::load_scenario_text(text, "t.yaml"));
}

// Each scenario keeps its own streams: a tile of scenarios (any width, any
// first scenario, more than one block of 64) gives every scenario the
// numbers generate() gives it alone, to the last bit.
TEST(ShockTile, EveryScenarioHasItsOwnNumbersWhateverTheTile) {
  for (const char* shocks : {"{model: gaussian}",
                             "{model: student_t, dof: 4, jumps: {intensity: 0.3, mean: -0.05, "
                             "stdev: 0.1}}"}) {
    const Model model = tile_model(7, shocks);
    const ShockGenerator gen(model);
    for (const auto& [first, count] : {std::pair<std::uint64_t, std::size_t>{0, 1}, {5, 13}, {1000, 70}}) {
      std::vector<Eigen::MatrixXd> tile(count);
      std::vector<double> factors(count);
      gen.generate_tile(first, tile, factors);
      for (std::size_t i = 0; i < count; ++i) {
        Eigen::MatrixXd alone(7, 1);
        double factor = 0.0;
        gen.generate(first + i, alone, factor);
        ASSERT_EQ(tile[i].rows(), 7);
        EXPECT_TRUE((tile[i].array() == alone.array()).all()) << shocks << " scenario " << first + i;
        EXPECT_EQ(factors[i], factor) << shocks << " scenario " << first + i;
      }
    }
  }
}

// The correlated normals of a day are x = L z, each x_i summed over j in
// ascending order (the order of Eigen's column-major product, whose zero
// entries add nothing): a Gaussian 3-day move is vol x (x_1 + x_2 + x_3)
// over the days' normals z drawn in order from (market, scenario, 0), and
// the market factor is sum_d sum_i x_di / sqrt(3 days x sum of the
// correlation matrix). Bit for bit against Eigen's dense product for an even
// number of assets (Eigen sums every row in vectors then).
// By hand, 2 assets at correlation 0.5: L = [[1, 0], [0.5, sqrt(0.75)]]
// (L L' = [[1, 0.5], [0.5, 0.25 + 0.75]]), so asset B's day is
// vol (0.5 z_A + 0.8660254 z_B) and asset A's vol z_A, vol = 0.73 / sqrt(365).
TEST(ShockTile, DayMovesAreTheFactorTimesTheDaysNormals) {
  const Model model = tile_model(10, "{model: gaussian}");
  const ShockGenerator gen(model);
  const rng::Philox market(model.seed, rng::Stream::kMarket);
  std::vector<Eigen::MatrixXd> tile(20);
  std::vector<double> factors(tile.size());
  gen.generate_tile(40, tile, factors);
  const double vol = model.assets[0].daily_vol;
  EXPECT_NEAR(vol, 0.73 / std::sqrt(365.0), 1e-15);
  for (std::size_t i = 0; i < tile.size(); ++i) {
    rng::Draws normals(market, 40 + i, 0);
    Eigen::VectorXd running = Eigen::VectorXd::Zero(10), z(10), x(10);
    double factor = 0.0;
    for (int d = 0; d < 3; ++d) {
      for (Eigen::Index a = 0; a < 10; ++a) z(a) = normals.normal();
      x.noalias() = model.correlation_factor * z;
      factor += x.sum();
      const Eigen::VectorXd day = Eigen::VectorXd::Constant(10, vol).cwiseProduct(x);  // rounded before it is added
      running += day;
    }
    EXPECT_TRUE((tile[i].col(0).array() == running.array()).all()) << "scenario " << 40 + i;
    EXPECT_NEAR(factors[i], factor / std::sqrt(3.0 * model.correlation.sum()), 1e-15);
  }
  const Model two = tile_model(2, "{model: gaussian}");
  Eigen::MatrixXd c(2, 1);
  double f = 0.0;
  ShockGenerator(two).generate(7, c, f);
  const rng::Philox two_market(two.seed, rng::Stream::kMarket);
  rng::Draws normals(two_market, 7, 0);
  double a = 0.0, b = 0.0;
  for (int d = 0; d < 3; ++d) {
    const double z_a = normals.normal(), z_b = normals.normal();
    a += vol * z_a;
    b += vol * (0.5 * z_a + std::sqrt(0.75) * z_b);  // correlation 0.5: L = [[1, 0], [0.5, sqrt(0.75)]]
  }
  EXPECT_NEAR(c(0, 0), a, 1e-15);
  EXPECT_NEAR(c(1, 0), b, 1e-15);
}

}  // namespace test_rng
}  // namespace ccpnet
