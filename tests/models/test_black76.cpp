// Black-76 prices, greeks and full-revaluation P&L, against published values,
// put-call parity and finite differences.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "models/instruments/black76.hpp"

namespace ccpnet::models {
namespace test_black76 {

constexpr OptionType kCall = OptionType::kCall;
constexpr OptionType kPut = OptionType::kPut;

// Put-call parity for options on a forward: c - p = e^{-rT} (F - K).
void expect_parity(double forward, double strike, double expiry, double vol, double rate) {
  const double call = black76_price(kCall, forward, strike, expiry, vol, rate);
  const double put = black76_price(kPut, forward, strike, expiry, vol, rate);
  EXPECT_NEAR(call - put, std::exp(-rate * std::max(expiry, 0.0)) * (forward - strike), 1e-12 * (forward + strike))
      << "F=" << forward << " K=" << strike << " T=" << expiry;
}

TEST(Black76, HullCrudeOilFuturesPut) {
  // Hull, "Options, Futures and Other Derivatives" (5th ed., pp. 287-288; the
  // crude-oil futures put example of the Black's-model section in later
  // editions): F0 = 20, K = 20, r = 9%, sigma = 25%, T = 4 months: p = 1.12.
  // To four decimals, 1.1166 for both call and put, as reproduced in the
  // MathWorks Financial Toolbox documentation of blkprice (which cites Hull).
  const double put = black76_price(kPut, 20.0, 20.0, 4.0 / 12.0, 0.25, 0.09);
  const double call = black76_price(kCall, 20.0, 20.0, 4.0 / 12.0, 0.25, 0.09);
  EXPECT_NEAR(put, 1.12, 0.005);
  EXPECT_NEAR(put, 1.1166, 5e-5);
  EXPECT_NEAR(call, 1.1166, 5e-5);
  expect_parity(20.0, 20.0, 4.0 / 12.0, 0.25, 0.09);
}

TEST(Black76, SasBlackPutExamples) {
  // SAS FedSQL reference, function BLACKPTPRC(E, t, F, r, sigma), its examples:
  //   blackptprc(298, .25, 350, .06, .25) = 1.85980563934967
  //   blackptprc(145, .5, 170, .05, .2)   = 1.41234979911583
  EXPECT_NEAR(black76_price(kPut, 350.0, 298.0, 0.25, 0.25, 0.06), 1.85980563934967, 1e-11);
  EXPECT_NEAR(black76_price(kPut, 170.0, 145.0, 0.5, 0.2, 0.05), 1.41234979911583, 1e-11);
  expect_parity(350.0, 298.0, 0.25, 0.25, 0.06);
  expect_parity(170.0, 145.0, 0.5, 0.2, 0.05);
}

TEST(Black76, ExpiryAndZeroVolGiveTheDiscountedIntrinsicValue) {
  EXPECT_DOUBLE_EQ(black76_price(kCall, 110.0, 100.0, 0.0, 0.3, 0.05), 10.0);
  EXPECT_DOUBLE_EQ(black76_price(kPut, 110.0, 100.0, 0.0, 0.3, 0.05), 0.0);
  EXPECT_DOUBLE_EQ(black76_price(kPut, 90.0, 100.0, -0.1, 0.3, 0.05), 10.0);
  EXPECT_NEAR(black76_price(kPut, 90.0, 100.0, 0.5, 0.0, 0.04), std::exp(-0.02) * 10.0, 1e-12);
  EXPECT_DOUBLE_EQ(black76_price(kCall, 90.0, 100.0, 0.5, 0.0, 0.04), 0.0);
  expect_parity(110.0, 100.0, 0.0, 0.3, 0.05);
  expect_parity(90.0, 100.0, 0.5, 0.0, 0.04);
}

TEST(Black76, RejectsNonPositivePrices) {
  EXPECT_THROW(black76_price(kCall, 0.0, 100.0, 1.0, 0.2, 0.0), std::invalid_argument);
  EXPECT_THROW(black76_price(kCall, 100.0, -1.0, 1.0, 0.2, 0.0), std::invalid_argument);
}

struct Case {
  OptionType type;
  double forward, strike, expiry, vol, rate;
};

TEST(Black76, GreeksMatchFiniteDifferences) {
  const Case cases[] = {
      {kCall, 20.0, 20.0, 4.0 / 12.0, 0.25, 0.09},  // Hull's at-the-money example
      {kPut, 20.0, 20.0, 4.0 / 12.0, 0.25, 0.09},   //
      {kCall, 60000.0, 70000.0, 0.25, 0.6, 0.05},   // out-of-the-money crypto call
      {kPut, 60000.0, 70000.0, 0.25, 0.6, 0.05},    // in-the-money put
      {kPut, 3000.0, 2000.0, 2.0, 0.8, 0.0},        // deep out-of-the-money, long-dated
      {kCall, 350.0, 298.0, 0.25, 0.25, 0.06},      // the SAS example
  };
  for (const Case& c : cases) {
    const auto price = [&](double f, double t, double v) { return black76_price(c.type, f, c.strike, t, v, c.rate); };
    const Black76Greeks g = black76_greeks(c.type, c.forward, c.strike, c.expiry, c.vol, c.rate);
    const double df = 1e-4 * c.forward, dv = 1e-5, dt = 1e-6;
    const double delta = (price(c.forward + df, c.expiry, c.vol) - price(c.forward - df, c.expiry, c.vol)) / (2 * df);
    const double gamma = (price(c.forward + df, c.expiry, c.vol) - 2 * price(c.forward, c.expiry, c.vol) +
                          price(c.forward - df, c.expiry, c.vol)) /
                         (df * df);
    const double vega = (price(c.forward, c.expiry, c.vol + dv) - price(c.forward, c.expiry, c.vol - dv)) / (2 * dv);
    // theta = dV/dt = -dV/dT
    const double theta = (price(c.forward, c.expiry - dt, c.vol) - price(c.forward, c.expiry + dt, c.vol)) / (2 * dt);
    EXPECT_DOUBLE_EQ(g.price, price(c.forward, c.expiry, c.vol));
    EXPECT_NEAR(g.delta, delta, 1e-7);
    EXPECT_NEAR(g.gamma, gamma, 1e-4 * std::abs(g.gamma) + 1e-10);
    EXPECT_NEAR(g.vega, vega, 1e-6 * std::max(1.0, std::abs(g.vega)));
    EXPECT_NEAR(g.theta, theta, 1e-5 * std::max(1.0, std::abs(g.theta)));
    expect_parity(c.forward, c.strike, c.expiry, c.vol, c.rate);
  }
}

TEST(Black76, GreeksObeyParity) {
  // From c - p = e^{-rT}(F - K): delta_c - delta_p = e^{-rT}, equal gamma and
  // vega, theta_c - theta_p = r e^{-rT} (F - K).
  const double f = 20.0, k = 22.0, t = 0.5, v = 0.3, r = 0.07;
  const Black76Greeks c = black76_greeks(kCall, f, k, t, v, r);
  const Black76Greeks p = black76_greeks(kPut, f, k, t, v, r);
  EXPECT_NEAR(c.delta - p.delta, std::exp(-r * t), 1e-14);
  EXPECT_NEAR(c.gamma, p.gamma, 1e-14);
  EXPECT_NEAR(c.vega, p.vega, 1e-13);
  EXPECT_NEAR(c.theta - p.theta, r * std::exp(-r * t) * (f - k), 1e-13);
  EXPECT_NEAR(c.price - p.price, std::exp(-r * t) * (f - k), 1e-13);
}

TEST(Black76, FullRevaluationPnl) {
  // Written 3 calls, F = 100, K = 105, T = 0.5, sigma = 40%, r = 3%.
  const OptionPosition pos{.type = kCall, .strike = 105.0, .expiry_years = 0.5, .implied_vol = 0.4, .quantity = -3.0};
  const double f = 100.0, r = 0.03;
  Eigen::ArrayXd x(4), dvol(4);
  x << 0.0, -0.2, 0.15, 0.0;
  dvol << 0.0, 0.1, -0.05, 0.2;
  const Eigen::ArrayXd pnl = black76_pnl(pos, f, r, x, dvol);
  const double base = black76_price(kCall, f, 105.0, 0.5, 0.4, r);
  for (Eigen::Index s = 0; s < 4; ++s) {
    const double shocked = black76_price(kCall, f * std::exp(x(s)), 105.0, 0.5, 0.4 + dvol(s), r);
    EXPECT_NEAR(pnl(s), -3.0 * (shocked - base), 1e-12);
  }
  EXPECT_EQ(pnl(0), 0.0);
  EXPECT_LT(pnl(2), 0.0);  // short calls lose when the forward rises
  EXPECT_LT(pnl(3), 0.0);  // and when vol rises

  // Small moves: first order in the greeks.
  const Black76Greeks g = black76_greeks(kCall, f, 105.0, 0.5, 0.4, r);
  Eigen::ArrayXd tiny_x(1), zero(1);
  tiny_x << 1e-6;
  zero << 0.0;
  EXPECT_NEAR(black76_pnl(pos, f, r, tiny_x, zero)(0), -3.0 * g.delta * f * 1e-6, 1e-9);
  Eigen::ArrayXd tiny_vol(1);
  tiny_vol << 1e-6;
  EXPECT_NEAR(black76_pnl(pos, f, r, zero, tiny_vol)(0), -3.0 * g.vega * 1e-6, 1e-9);

  // Time decay with no move: theta * tau to first order, and the exact
  // revaluation at T - tau over a 2-day horizon.
  EXPECT_NEAR(black76_pnl(pos, f, r, zero, 0.0, 1e-5)(0), -3.0 * g.theta * 1e-5, 1e-8);
  const double tau = 2.0 / 365.0;
  EXPECT_NEAR(black76_pnl(pos, f, r, zero, 0.0, tau)(0),
              -3.0 * (black76_price(kCall, f, 105.0, 0.5 - tau, 0.4, r) - base), 1e-12);

  // A vol shifted below zero prices at the deterministic limit.
  Eigen::ArrayXd crush(1);
  crush << -0.5;
  EXPECT_NEAR(black76_pnl(pos, f, r, zero, crush)(0), 3.0 * base, 1e-12);  // OTM call worth 0 at zero vol
}

TEST(Black76, ValueAfterAMoveReachesHullsExample) {
  // Hull's crude-oil example (F = 20, K = 20, r = 9%, sigma = 25%, T = 4
  // months: 1.1166) reached from elsewhere: the forward 25 falls 20%, one
  // month passes, and the vol gets to 25% by each route.
  const double t = 5.0 / 12.0, month = 1.0 / 12.0;
  const OptionContract plain{.type = kCall, .strike = 20.0, .expiry_years = t, .implied_vol = 0.25, .rate = 0.09};
  EXPECT_NEAR(black76_value_after(plain, 25.0, -0.2, 1.0, month), 1.1166, 5e-5);
  // vol_beta -1: sigma (1 + R)^-1 = 0.2 / 0.8 = 0.25.
  OptionContract skewed = plain;
  skewed.implied_vol = 0.2;
  skewed.vol_beta = -1.0;
  EXPECT_NEAR(black76_value_after(skewed, 25.0, -0.2, 1.0, month),
              black76_price(kCall, 20.0, 20.0, 4.0 / 12.0, 0.25, 0.09), 1e-13);
  // A relative vol move: 0.2 x 1.25.
  OptionContract put = plain;
  put.type = kPut;
  put.implied_vol = 0.2;
  EXPECT_NEAR(black76_value_after(put, 25.0, -0.2, 1.25, month), 1.1166, 5e-5);
  // No move, no time: today's price, exactly.
  EXPECT_EQ(black76_value_after(plain, 25.0, 0.0, 1.0, 0.0), black76_price(kCall, 25.0, 20.0, t, 0.25, 0.09));
  // The SAS example put after a 10% rally to F = 350 with vol_beta 0.
  const OptionContract sas{.type = kPut, .strike = 298.0, .expiry_years = 0.3, .implied_vol = 0.25, .rate = 0.06};
  EXPECT_NEAR(black76_value_after(sas, 350.0 / 1.1, 0.1, 1.0, 0.05), 1.85980563934967, 1e-11);
}

TEST(Black76, ValueAfterExtremeMovesStaysFinite) {
  // A total loss of the underlying with a steep skew: the vol caps at
  // kMaxImpliedVol, the call is worth nothing, the put its discounted strike.
  const OptionContract c{
      .type = kCall, .strike = 100.0, .expiry_years = 0.5, .implied_vol = 0.8, .rate = 0.02, .vol_beta = -10.0};
  OptionContract p = c;
  p.type = kPut;
  for (const double r : {-1.0, -1.0 + 1e-15, -0.999999}) {
    const double cv = black76_value_after(c, 100.0, r, 1.0, 0.01);
    const double pv = black76_value_after(p, 100.0, r, 1.0, 0.01);
    EXPECT_TRUE(std::isfinite(cv) && std::isfinite(pv)) << r;
    EXPECT_NEAR(cv - pv, std::exp(-0.02 * 0.49) * (std::max(100.0 * (1.0 + r), 0.0) - 100.0), 1e-9) << r;
  }
  EXPECT_NEAR(black76_value_after(p, 100.0, -1.0, 1.0, 0.01), std::exp(-0.02 * 0.49) * 100.0, 1e-9);
  // A vol crushed to zero, and an option past expiry: intrinsic value.
  EXPECT_NEAR(black76_value_after(c, 100.0, 0.1, 0.0, 0.0), std::exp(-0.02 * 0.5) * 10.0, 1e-12);
  EXPECT_NEAR(black76_value_after(c, 100.0, 0.1, 1.0, 1.0), 10.0, 1e-12);
}

TEST(Black76, PnlRejectsMismatchedScenarios) {
  const OptionPosition pos{.type = kPut, .strike = 100.0, .expiry_years = 1.0, .implied_vol = 0.2, .quantity = 1.0};
  EXPECT_THROW(black76_pnl(pos, 100.0, 0.0, Eigen::ArrayXd::Zero(3), Eigen::ArrayXd::Zero(2)), std::invalid_argument);
}

}  // namespace test_black76
}  // namespace ccpnet::models
