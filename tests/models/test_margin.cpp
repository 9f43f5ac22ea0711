// Margin models against closed forms and hand-computed examples:
// parametric VaR (normal and Student-t), tiered, historical VaR / ES, the
// scenario grid, and the add-ons.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "models/instruments/black76.hpp"
#include "models/margin/addons.hpp"
#include "models/margin/historical.hpp"
#include "models/margin/parametric.hpp"
#include "models/margin/quantile.hpp"
#include "models/margin/scenario_grid.hpp"
#include "models/margin/tiered.hpp"
#include "models/market/correlation.hpp"

namespace ccpnet::models {
namespace test_margin {

// Table values, not computed with the code under test: the standard normal
// 99% quantile 2.326347874 (standard normal tables);
// the one-sided 99% point of Student's t with 4 degrees of freedom, 3.746947
// (t tables; NIST/SEMATECH e-Handbook of Statistical Methods, table 1.3.6.7.2,
// prints it as 3.747).
constexpr double kNormal99 = 2.326347874;
constexpr double kStudentT4At99 = 3.746947;

// ---- quantiles -----------------------------------------------------------------

TEST(Quantile, NormalAgainstTable) { EXPECT_NEAR(normal_quantile(0.99), kNormal99, 1e-9); }

TEST(Quantile, UnitVarianceStudentTAgainstTable) {
  // t_4 has variance 4 / (4 - 2) = 2; scaled to unit variance: t * sqrt(2 / 4).
  EXPECT_NEAR(unit_student_t_quantile(0.99, 4.0), kStudentT4At99 * std::sqrt(2.0 / 4.0), 1e-6);
  // With 4 degrees of freedom the t quantile has a closed form (Shaw 2006,
  // "Sampling Student's T distribution - use of the inverse cumulative
  // distribution function", J. Computational Finance 9(4)):
  //   a = 4 p (1 - p), q = cos(acos(sqrt(a)) / 3) / sqrt(a), t = 2 sqrt(q - 1).
  for (const double p : {0.9, 0.99, 0.995, 0.999}) {
    const double a = 4.0 * p * (1.0 - p);
    const double q = std::cos(std::acos(std::sqrt(a)) / 3.0) / std::sqrt(a);
    EXPECT_NEAR(unit_student_t_quantile(p, 4.0), 2.0 * std::sqrt(q - 1.0) * std::sqrt(0.5), 1e-10) << p;
  }
  EXPECT_THROW(unit_student_t_quantile(0.99, 2.0), std::invalid_argument);
}

// ---- parametric ------------------------------------------------------------------

// Daily covariance of assets with daily vols `sd` and correlation matrix `r`.
Eigen::MatrixXd covariance(const Eigen::VectorXd& sd, const Eigen::MatrixXd& r) {
  return sd.asDiagonal() * r * sd.asDiagonal();
}

TEST(ParametricMargin, OneAsset) {
  // IM = q sigma_d sqrt(h) |v|: v = -2,500,000 USD, sigma = 60% a year over
  // 365 days, h = 2 days.
  const double sd = 0.6 / std::sqrt(365.0);
  Eigen::VectorXd v(1);
  v << -2.5e6;
  const Eigen::MatrixXd cov = Eigen::MatrixXd::Constant(1, 1, sd * sd);
  for (const double q : {kNormal99, kStudentT4At99 * std::sqrt(0.5)}) {
    const double expected = q * sd * std::sqrt(2.0) * 2.5e6;
    EXPECT_NEAR(parametric_im(v, cov, 2.0, q), expected, 1e-9 * expected);
    const Eigen::MatrixXd rows = v.transpose();
    EXPECT_NEAR(parametric_im_rows(rows, Eigen::MatrixXd::Constant(1, 1, sd), 2.0, q)(0), expected, 1e-9 * expected);
  }
  // The Student-t margin is the larger at 99% (fat tail, same variance).
  EXPECT_GT(kStudentT4At99 * std::sqrt(0.5), kNormal99);
}

TEST(ParametricMargin, TwoAssetsExplicitFormula) {
  // sqrt(s1^2 v1^2 + s2^2 v2^2 + 2 rho s1 s2 v1 v2): long BTC, short ETH.
  const double s1 = 0.6 / std::sqrt(365.0), s2 = 0.8 / std::sqrt(365.0), rho = 0.8;
  const double v1 = 6.0e6, v2 = -1.5e6, h = 5.0;
  Eigen::VectorXd sd(2), v(2);
  sd << s1, s2;
  v << v1, v2;
  Eigen::MatrixXd r(2, 2);
  r << 1.0, rho, rho, 1.0;
  const double sigma_p = std::sqrt(s1 * s1 * v1 * v1 + s2 * s2 * v2 * v2 + 2.0 * rho * s1 * s2 * v1 * v2);
  // Cholesky factor of a 2x2 correlation, by hand: [[1, 0], [rho, sqrt(1 - rho^2)]].
  Eigen::MatrixXd l(2, 2);
  l << 1.0, 0.0, rho, std::sqrt(1.0 - rho * rho);
  Eigen::MatrixXd rows(3, 2);
  rows << v1, v2, -v1, -v2, 0.0, 0.0;
  for (const double q : {kNormal99, kStudentT4At99 * std::sqrt(0.5)}) {
    const double expected = q * std::sqrt(h) * sigma_p;
    EXPECT_NEAR(parametric_im(v, covariance(sd, r), h, q), expected, 1e-9 * expected);
    const Eigen::VectorXd im = parametric_im_rows(rows, sd.asDiagonal() * l, h, q);
    EXPECT_NEAR(im(0), expected, 1e-9 * expected);
    EXPECT_NEAR(im(1), expected, 1e-9 * expected);  // symmetric in the sign of the book
    EXPECT_EQ(im(2), 0.0);
  }
}

TEST(ParametricMargin, FiftyAssetsEquicorrelation) {
  // Equicorrelation rho: v' Sigma v = (1 - rho) sum_i w_i^2 + rho (sum_i w_i)^2,
  // w_i = sigma_i v_i, with no matrix product.
  const int n = 50;
  const double rho = 0.3, h = 2.0;
  Eigen::VectorXd sd(n), v(n);
  double sum_w = 0.0, sum_w2 = 0.0;
  for (int i = 0; i < n; ++i) {
    sd(i) = (0.4 + 0.01 * i) / std::sqrt(365.0);
    v(i) = (i % 3 == 0 ? -1.0 : 1.0) * 1.0e5 * (1 + i);
    const double w = sd(i) * v(i);
    sum_w += w;
    sum_w2 += w * w;
  }
  const double sigma_p = std::sqrt((1.0 - rho) * sum_w2 + rho * sum_w * sum_w);
  Eigen::MatrixXd r = Eigen::MatrixXd::Constant(n, n, rho);
  r.diagonal().setOnes();
  const Eigen::MatrixXd factor = sd.asDiagonal() * correlation_factor(r);
  Eigen::MatrixXd rows(2, n);
  rows.row(0) = v.transpose();
  rows.row(1) = 2.0 * v.transpose();
  for (const double q : {kNormal99, kStudentT4At99 * std::sqrt(0.5)}) {
    const double expected = q * std::sqrt(h) * sigma_p;
    EXPECT_NEAR(parametric_im(v, covariance(sd, r), h, q), expected, 1e-9 * expected);
    const Eigen::VectorXd im = parametric_im_rows(rows, factor, h, q);
    EXPECT_NEAR(im(0), expected, 1e-9 * expected);
    EXPECT_NEAR(im(1), 2.0 * expected, 2e-9 * expected);  // homogeneous of degree 1
  }
  // Equal weights: v' Sigma v = s^2 v^2 n (1 + (n - 1) rho).
  const double s = 0.5 / std::sqrt(365.0);
  const Eigen::VectorXd equal = Eigen::VectorXd::Constant(n, 1.0e6);
  const double expected = kNormal99 * std::sqrt(h) * s * 1.0e6 * std::sqrt(n * (1.0 + (n - 1) * rho));
  EXPECT_NEAR(parametric_im(equal, covariance(Eigen::VectorXd::Constant(n, s), r), h, kNormal99), expected,
              1e-9 * expected);
}

TEST(ParametricMargin, RejectsMismatchedSizes) {
  EXPECT_THROW(parametric_im(Eigen::VectorXd::Ones(3), Eigen::MatrixXd::Identity(2, 2), 1.0, 2.33),
               std::invalid_argument);
  EXPECT_THROW(parametric_im_rows(Eigen::MatrixXd::Ones(4, 3), Eigen::MatrixXd::Identity(2, 2), 1.0, 2.33),
               std::invalid_argument);
}

// ---- tiered ------------------------------------------------------------------------

TEST(TieredMargin, HandExample) {
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<Tier> tiers{{1.0e6, 0.02}, {5.0e6, 0.05}, {inf, 0.10}};
  // 7m: 2% of the first 1m + 5% of the next 4m + 10% of the last 2m
  //   = 20,000 + 200,000 + 200,000 = 420,000.
  EXPECT_DOUBLE_EQ(tiered_margin(7.0e6, tiers), 420000.0);
  EXPECT_DOUBLE_EQ(tiered_margin(5.0e5, tiers), 10000.0);
  EXPECT_DOUBLE_EQ(tiered_margin(5.0e6, tiers), 220000.0);
  EXPECT_DOUBLE_EQ(tiered_margin(0.0, tiers), 0.0);
  // Positions are margined one by one on |x|: 420,000 + 10,000.
  Eigen::MatrixXd rows(2, 2);
  rows << -7.0e6, 5.0e5, 0.0, 0.0;
  const Eigen::VectorXd m = tiered_margin_rows(rows, tiers);
  EXPECT_DOUBLE_EQ(m(0), 430000.0);
  EXPECT_DOUBLE_EQ(m(1), 0.0);
  // Beyond a finite last tier the last rate applies: 20,000 + 40,000 + 4% of 1m.
  const std::vector<Tier> bounded{{1.0e6, 0.02}, {2.0e6, 0.04}};
  EXPECT_DOUBLE_EQ(tiered_margin(3.0e6, bounded), 100000.0);
}

// ---- historical ----------------------------------------------------------------------

// Eleven daily prices of one asset; by hand, the one-day simple returns are
// +2/100, -3/102, +2/99, -6/101, +1/95, +2/96, -4/98, +3/94, +2/97, +1/99.
Eigen::MatrixXd eleven_prices() {
  Eigen::MatrixXd p(11, 1);
  p << 100, 102, 99, 101, 95, 96, 98, 94, 97, 99, 100;
  return p;
}

TEST(HistoricalMargin, TailCountConvention) {
  EXPECT_EQ(tail_count(10, 0.8), 2);
  EXPECT_EQ(tail_count(10, 0.9), 1);
  EXPECT_EQ(tail_count(9, 0.8), 2);     // ceil(1.8)
  EXPECT_EQ(tail_count(100, 0.99), 1);  // n (1 - alpha) = 1 despite rounding in 1 - 0.99
  EXPECT_EQ(tail_count(250, 0.99), 3);  // ceil(2.5)
  EXPECT_EQ(tail_count(1000, 0.99), 10);
  EXPECT_EQ(tail_count(5, 0.99), 1);
}

TEST(HistoricalMargin, OverlappingLogReturns) {
  const Eigen::MatrixXd r1 = overlapping_log_returns(eleven_prices(), 1);
  ASSERT_EQ(r1.rows(), 10);
  EXPECT_NEAR(r1(0, 0), std::log(102.0 / 100.0), 1e-15);
  EXPECT_NEAR(r1(9, 0), std::log(100.0 / 99.0), 1e-15);
  const Eigen::MatrixXd r2 = overlapping_log_returns(eleven_prices(), 2);
  ASSERT_EQ(r2.rows(), 9);
  EXPECT_NEAR(r2(0, 0), std::log(99.0 / 100.0), 1e-15);
  EXPECT_NEAR(r2(3, 0), std::log(96.0 / 101.0), 1e-15);
  EXPECT_THROW(overlapping_log_returns(eleven_prices(), 11), std::invalid_argument);
  EXPECT_THROW(overlapping_log_returns(eleven_prices(), 0), std::invalid_argument);
  Eigen::MatrixXd bad = eleven_prices();
  bad(4, 0) = 0.0;
  EXPECT_THROW(overlapping_log_returns(bad, 1), std::invalid_argument);
}

TEST(HistoricalMargin, VarAndEsByHand) {
  const Eigen::VectorXd v = Eigen::VectorXd::Constant(1, 1.0e6);
  // Long 1m, one-day: losses 6/101, 4/98, 3/102 of 1m, the rest gains.
  // alpha = 0.8, n = 10: k = 2; VaR = 2nd worst loss, ES = mean of the 2 worst.
  HistoricalRisk r = historical_risk(eleven_prices(), v, 0.8, 1);
  EXPECT_EQ(r.observations, 10);
  EXPECT_NEAR(r.var, 1.0e6 * 4.0 / 98.0, 1e-8);
  EXPECT_NEAR(r.expected_shortfall, 1.0e6 * (6.0 / 101.0 + 4.0 / 98.0) / 2.0, 1e-8);
  // alpha = 0.9: k = 1, VaR = ES = the worst loss.
  r = historical_risk(eleven_prices(), v, 0.9, 1);
  EXPECT_NEAR(r.var, 1.0e6 * 6.0 / 101.0, 1e-8);
  EXPECT_NEAR(r.expected_shortfall, 1.0e6 * 6.0 / 101.0, 1e-8);
  // Two-day overlapping windows: 99/100, 101/102, 95/99, 96/101, 98/95, 94/96,
  // 97/98, 99/94, 100/97; n = 9, k = ceil(1.8) = 2; worst losses 5/101, 4/99.
  r = historical_risk(eleven_prices(), v, 0.8, 2);
  EXPECT_EQ(r.observations, 9);
  EXPECT_NEAR(r.var, 1.0e6 * 4.0 / 99.0, 1e-8);
  EXPECT_NEAR(r.expected_shortfall, 1.0e6 * (5.0 / 101.0 + 4.0 / 99.0) / 2.0, 1e-8);
  // Short 1m, one-day: the losses are the long's gains, worst 3/94 then 2/96.
  r = historical_risk(eleven_prices(), -v, 0.8, 1);
  EXPECT_NEAR(r.var, 1.0e6 * 2.0 / 96.0, 1e-8);
  EXPECT_NEAR(r.expected_shortfall, 1.0e6 * (3.0 / 94.0 + 2.0 / 96.0) / 2.0, 1e-8);
}

TEST(HistoricalMargin, ManyAccounts) {
  // Two assets: the first is the eleven-price history, the second flat.
  Eigen::MatrixXd prices(11, 2);
  prices.col(0) = eleven_prices().col(0);
  prices.col(1).setConstant(50.0);
  const Eigen::MatrixXd returns = overlapping_log_returns(prices, 1);
  Eigen::MatrixXd accounts(4, 2);
  accounts << 1.0e6, 0.0,  // long
      -1.0e6, 3.0e6,       // short, plus a position in the flat asset
      5.0e5, 0.0,          // half the long
      0.0, -2.0e6;         // only the flat asset: no loss, IM 0
  const Eigen::VectorXd var = historical_im_rows(accounts, returns, 0.8, RiskMeasure::kVar);
  const Eigen::VectorXd es = historical_im_rows(accounts, returns, 0.8, RiskMeasure::kExpectedShortfall);
  EXPECT_NEAR(var(0), 1.0e6 * 4.0 / 98.0, 1e-8);
  EXPECT_NEAR(var(1), 1.0e6 * 2.0 / 96.0, 1e-8);
  EXPECT_NEAR(var(2), 0.5e6 * 4.0 / 98.0, 1e-8);
  EXPECT_EQ(var(3), 0.0);
  EXPECT_NEAR(es(0), 1.0e6 * (6.0 / 101.0 + 4.0 / 98.0) / 2.0, 1e-8);
  EXPECT_NEAR(es(1), 1.0e6 * (3.0 / 94.0 + 2.0 / 96.0) / 2.0, 1e-8);
  // The sample-level functions agree.
  const Eigen::VectorXd pnl = historical_pnl(returns, accounts.row(0).transpose());
  EXPECT_NEAR(historical_var(pnl, 0.8), var(0), 1e-8);
  EXPECT_NEAR(historical_es(pnl, 0.8), es(0), 1e-8);
  EXPECT_THROW(historical_var(pnl, 1.0), std::invalid_argument);
}

// ---- scenario grid --------------------------------------------------------------------

TEST(ScenarioGrid, SpanGridShape) {
  // 3 sigma in 7 steps: moves of 0, +-1/3, +-2/3, +-3/3 of the scan range.
  const ScanGrid g = make_scan_grid(0.05, 3.0, 7, 0.1, 2.0, 0.35);
  ASSERT_EQ(g.price_moves.size(), 7u);
  const double expected[] = {-0.15, -0.10, -0.05, 0.0, 0.05, 0.10, 0.15};
  for (int i = 0; i < 7; ++i) EXPECT_NEAR(g.price_moves[static_cast<std::size_t>(i)], expected[i], 1e-15);
  EXPECT_EQ(g.vol_moves, (std::vector<double>{-0.1, 0.1}));
  ASSERT_EQ(g.extreme_moves.size(), 2u);
  EXPECT_NEAR(g.extreme_moves[1], 0.30, 1e-15);
  // 7 x 2 + 2 = SPAN's 16 risk scenarios.
  const UnderlyingBook book{.forward = 100.0, .linear_quantity = 1.0, .options = {}};
  EXPECT_EQ(scan_risk_array(book, g, 0.0).size(), 16);
}

TEST(ScenarioGrid, LinearPositionClosedForm) {
  // A linear P&L q F (e^m - 1) is monotone in m: the worst move is an end of
  // the scan range. Long 10 at F = 100, 3 sigma of 5%: 10 * 100 * (1 - e^-0.15);
  // short 10: 10 * 100 * (e^0.15 - 1).
  const ScanGrid g = make_scan_grid(0.05, 3.0, 7);
  const double long_loss = 1000.0 * (1.0 - std::exp(-0.15));
  const double short_loss = 1000.0 * (std::exp(0.15) - 1.0);
  EXPECT_NEAR(scan_loss({.forward = 100.0, .linear_quantity = 10.0, .options = {}}, g, 0.0), long_loss, 1e-10);
  EXPECT_NEAR(scan_loss({.forward = 100.0, .linear_quantity = -10.0, .options = {}}, g, 0.0), short_loss, 1e-10);
  // Many accounts, two assets (vols 5% and 10% over the horizon).
  Eigen::MatrixXd values(3, 2);
  values << 1000.0, 0.0, -1000.0, 500.0, 0.0, 0.0;
  Eigen::VectorXd horizon_vol(2);
  horizon_vol << 0.05, 0.10;
  const Eigen::VectorXd im = scenario_grid_linear_rows(values, horizon_vol, 3.0);
  EXPECT_NEAR(im(0), long_loss, 1e-10);
  EXPECT_NEAR(im(1), short_loss + 500.0 * (1.0 - std::exp(-0.30)), 1e-10);
  EXPECT_EQ(im(2), 0.0);
  // SPAN sums the scan risk of each underlying.
  const std::vector<UnderlyingBook> books{{.forward = 100.0, .linear_quantity = -10.0, .options = {}},
                                          {.forward = 50.0, .linear_quantity = 10.0, .options = {}}};
  const std::vector<ScanGrid> grids{make_scan_grid(0.05), make_scan_grid(0.10)};
  EXPECT_NEAR(scenario_grid_im(books, grids, 0.0), im(1), 1e-10);
}

TEST(ScenarioGrid, OptionBookAgainstBruteForce) {
  // Short 5 calls K = 105, long 2 puts K = 90, short 1 future; F = 100,
  // r = 4%, horizon vol 8% (3 sigma scan), vol scan +-10 points, extremes at
  // 2 scan ranges counting 35%, one day of time decay.
  const double f = 100.0, r = 0.04, tau = 1.0 / 365.0;
  const OptionPosition calls{
      .type = OptionType::kCall, .strike = 105.0, .expiry_years = 0.25, .implied_vol = 0.5, .quantity = -5.0};
  const OptionPosition puts{
      .type = OptionType::kPut, .strike = 90.0, .expiry_years = 0.5, .implied_vol = 0.55, .quantity = 2.0};
  const UnderlyingBook book{.forward = f, .linear_quantity = -1.0, .options = {calls, puts}};
  const ScanGrid grid = make_scan_grid(0.08, 3.0, 7, 0.10, 2.0, 0.35);
  // Brute force: every grid point revalued with the pricing function.
  const auto book_value = [&](double fwd, double dvol, double elapsed) {
    return -5.0 * black76_price(OptionType::kCall, fwd, 105.0, 0.25 - elapsed, std::max(0.5 + dvol, 0.0), r) +
           2.0 * black76_price(OptionType::kPut, fwd, 90.0, 0.5 - elapsed, std::max(0.55 + dvol, 0.0), r) - fwd;
  };
  const double base = book_value(f, 0.0, 0.0);
  double worst = 0.0;
  for (int i = 0; i < 7; ++i) {
    const double m = 0.24 * (i - 3) / 3.0;
    for (const double dv : {-0.10, 0.10}) worst = std::max(worst, base - book_value(f * std::exp(m), dv, tau));
  }
  for (const double m : {-0.48, 0.48}) worst = std::max(worst, 0.35 * (base - book_value(f * std::exp(m), 0.0, tau)));
  EXPECT_GT(worst, 0.0);
  EXPECT_NEAR(scan_loss(book, grid, r, tau), worst, 1e-9 * worst);
}

TEST(ScenarioGrid, RelativeVolMovesScaleEachOptionsVol) {
  // Relative moves {-0.2, +0.3}: a 50% vol option sees 40% and 65%, a 100% vol
  // option 80% and 130% (absolute shifts -0.1/+0.15 and -0.2/+0.3).
  const OptionPosition a{
      .type = OptionType::kCall, .strike = 100.0, .expiry_years = 0.1, .implied_vol = 0.5, .quantity = -1.0};
  const OptionPosition b{
      .type = OptionType::kPut, .strike = 90.0, .expiry_years = 0.2, .implied_vol = 1.0, .quantity = 2.0};
  ScanGrid grid = make_scan_grid(0.05, 3.0, 3);
  grid.vol_moves = {-0.2, 0.3};
  grid.relative_vol_moves = true;
  const Eigen::VectorXd pnl = scan_risk_array({.forward = 100.0, .linear_quantity = 0.0, .options = {a, b}}, grid, 0.0);
  ASSERT_EQ(pnl.size(), 6);
  const double base = -black76_price(OptionType::kCall, 100.0, 100.0, 0.1, 0.5, 0.0) +
                      2.0 * black76_price(OptionType::kPut, 100.0, 90.0, 0.2, 1.0, 0.0);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 2; ++j) {
      const double f = 100.0 * std::exp(0.15 * (i - 1)), g = j == 0 ? 0.8 : 1.3;
      const double value = -black76_price(OptionType::kCall, f, 100.0, 0.1, 0.5 * g, 0.0) +
                           2.0 * black76_price(OptionType::kPut, f, 90.0, 0.2, 1.0 * g, 0.0);
      EXPECT_NEAR(pnl(i * 2 + j), value - base, 1e-12) << i << " " << j;
    }
}

TEST(ScenarioGrid, ExtremeMoveBindsForAShortDeepOutOfTheMoneyPut) {
  // SPAN's extreme moves exist for short far-out-of-the-money options: within
  // the scan range the put stays nearly worthless, beyond it the loss jumps.
  const double f = 100.0;
  const OptionPosition put{
      .type = OptionType::kPut, .strike = 60.0, .expiry_years = 0.05, .implied_vol = 0.3, .quantity = -100.0};
  const UnderlyingBook book{.forward = f, .linear_quantity = 0.0, .options = {put}};
  const ScanGrid plain = make_scan_grid(0.1, 3.0, 7, 0.05);
  const ScanGrid span = make_scan_grid(0.1, 3.0, 7, 0.05, 2.0, 0.35);
  const double base = black76_price(OptionType::kPut, f, 60.0, 0.05, 0.3, 0.0);
  const double extreme =
      0.35 * 100.0 * (black76_price(OptionType::kPut, f * std::exp(-0.6), 60.0, 0.05, 0.3, 0.0) - base);
  EXPECT_LT(scan_loss(book, plain, 0.0), extreme);
  EXPECT_NEAR(scan_loss(book, span, 0.0), extreme, 1e-9 * extreme);
}

// ---- add-ons ---------------------------------------------------------------------------

TEST(Addons, AntiProcyclicalityBuffer) {
  // Reference (calm) model margin 100, buffer 25%.
  EXPECT_DOUBLE_EQ(apc_buffer_margin(100.0, 100.0), 125.0);  // calm: buffer on top
  EXPECT_DOUBLE_EQ(apc_buffer_margin(80.0, 100.0), 100.0);   // falling: 1.25 * 80
  EXPECT_DOUBLE_EQ(apc_buffer_margin(120.0, 100.0), 125.0);  // rising: the buffer absorbs the rise
  EXPECT_DOUBLE_EQ(apc_buffer_margin(130.0, 100.0), 130.0);  // buffer exhausted: the model margin
  Eigen::VectorXd m(2), ref(2);
  m << 120.0, 130.0;
  ref << 100.0, 100.0;
  const Eigen::VectorXd out = apc_buffer_margin(m, ref, 0.25);
  EXPECT_DOUBLE_EQ(out(0), 125.0);
  EXPECT_DOUBLE_EQ(out(1), 130.0);
  EXPECT_THROW(apc_buffer_margin(1.0, 1.0, -0.1), std::invalid_argument);
}

TEST(Addons, AntiProcyclicalityStressedWeightAndFloor) {
  // sqrt(0.75 * 0.4^2 + 0.25 * 0.8^2) = sqrt(0.12 + 0.16) = sqrt(0.28).
  EXPECT_NEAR(apc_weighted_vol(0.4, 0.8, 0.25), std::sqrt(0.28), 1e-15);
  EXPECT_DOUBLE_EQ(apc_floor_margin(100.0, 150.0), 150.0);
  EXPECT_DOUBLE_EQ(apc_floor_margin(200.0, 150.0), 200.0);
  // Parametric margin floored at the stressed-volatility margin: one asset,
  // 1m long, q = 2.33, h = 1, daily vol 2% now and 5% in the stressed period:
  // max(46,600, 116,500) = 116,500.
  const Eigen::MatrixXd v = Eigen::MatrixXd::Constant(1, 1, 1.0e6);
  const Eigen::VectorXd now = parametric_im_rows(v, Eigen::MatrixXd::Constant(1, 1, 0.02), 1.0, 2.33);
  const Eigen::VectorXd stressed = parametric_im_rows(v, Eigen::MatrixXd::Constant(1, 1, 0.05), 1.0, 2.33);
  EXPECT_NEAR(apc_floor_margin(now, stressed)(0), 116500.0, 1e-6);
}

TEST(Addons, LiquidationCost) {
  // k |x| sqrt(|x| / ADV): 0.1 * 4m * sqrt(4m / 100m) = 0.1 * 4m * 0.2 = 80,000;
  // 0.05 * 9m * sqrt(9m / 1m) = 0.05 * 9m * 3 = 1,350,000.
  Eigen::VectorXd x(2), adv(2), k(2);
  x << 4.0e6, -9.0e6;
  adv << 1.0e8, 1.0e6;
  k << 0.1, 0.05;
  EXPECT_NEAR(liquidation_cost(x, adv, k), 1430000.0, 1e-6);
  Eigen::MatrixXd rows(2, 2);
  rows << 4.0e6, 0.0, 0.0, -9.0e6;
  const Eigen::VectorXd c = liquidation_cost_rows(rows, adv, k);
  EXPECT_NEAR(c(0), 80000.0, 1e-8);
  EXPECT_NEAR(c(1), 1350000.0, 1e-6);
  adv(1) = 0.0;
  EXPECT_THROW(liquidation_cost(x, adv, k), std::invalid_argument);
}

TEST(Addons, ConcentrationByLiquidationHorizon) {
  // 10% of a 10m ADV a day: a 5m position takes 5 days > MPOR 2; 1m takes 1 day.
  EXPECT_DOUBLE_EQ(liquidation_horizon_days(5.0e6, 1.0e7, 0.1, 2.0), 5.0);
  EXPECT_DOUBLE_EQ(liquidation_horizon_days(-1.0e6, 1.0e7, 0.1, 2.0), 2.0);
  // Add-on = q sigma_d |x| (sqrt(H) - sqrt(h)) = 2.33 * 0.03 * 5m * (sqrt 5 - sqrt 2)
  //        = 349,500 * 0.82185442... = 287,238.12...
  Eigen::MatrixXd rows(2, 1);
  rows << -5.0e6, 1.0e6;
  const Eigen::VectorXd addon = concentration_addon_rows(rows, Eigen::VectorXd::Constant(1, 0.03),
                                                         Eigen::VectorXd::Constant(1, 1.0e7), 2.0, 2.33, 0.1);
  EXPECT_NEAR(addon(0), 349500.0 * (std::sqrt(5.0) - std::sqrt(2.0)), 1e-6);
  EXPECT_NEAR(addon(0), 287238.12, 0.01);
  EXPECT_EQ(addon(1), 0.0);
}

TEST(Addons, CollateralHaircutsAndShock) {
  // 1m cash (no haircut) and 2m of BTC with a 20% haircut: 1m + 1.6m.
  Eigen::VectorXd mv(2), h(2);
  mv << 1.0e6, 2.0e6;
  h << 0.0, 0.2;
  EXPECT_DOUBLE_EQ(collateral_value(mv, h), 2.6e6);
  // BTC falls 30%: 1m + 2m * 0.7 * 0.8 = 2.12m; a flat scenario changes nothing.
  Eigen::MatrixXd shocks(2, 2);
  shocks << 0.0, std::log(0.7), 0.0, 0.0;
  const Eigen::VectorXd after = shocked_collateral_value(mv, h, shocks);
  EXPECT_NEAR(after(0), 2.12e6, 1e-6);
  EXPECT_NEAR(after(1), 2.6e6, 1e-6);
  Eigen::MatrixXd members(2, 2);
  members << 1.0e6, 2.0e6, 0.0, 1.0e6;
  Eigen::VectorXd move(2);
  move << 0.0, std::log(0.7);
  const Eigen::VectorXd per_member = shocked_collateral_rows(members, h, move);
  EXPECT_NEAR(per_member(0), 2.12e6, 1e-6);
  EXPECT_NEAR(per_member(1), 0.56e6, 1e-6);
  // Haircut calibrated to a 2-day 99% fall at 4% daily vol: 1 - exp(-2.33 * 0.04 * sqrt 2).
  EXPECT_NEAR(collateral_haircut(0.04, 2.0, 2.33), 1.0 - std::exp(-0.0932 * std::sqrt(2.0)), 1e-15);
  h(1) = 1.0;
  EXPECT_THROW(collateral_value(mv, h), std::invalid_argument);
}

}  // namespace test_margin
}  // namespace ccpnet::models
