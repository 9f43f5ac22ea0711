// Margin models and default-fund sizing as wired into the model, against
// closed forms worked out in the comments.
#include <gtest/gtest.h>

#include <cmath>

#include "sim/config/load.hpp"
#include "sim/model.hpp"

namespace ccpnet {
namespace test_model_margin {

// One member long and one short 10 BTC (600,000 USD) at four CCPs with four margin models.
constexpr std::string_view kFourModels = R"(name: four margin models
market:
  assets:
    - {id: BTC, price: 60000, volatility: 0.6, adv: 2.0e10}
    - {id: ETH, price: 3000, volatility: 0.8, adv: 1.0e10}
  correlation: [[1, 0.8], [0.8, 1]]
ccps:
  - {id: P, capital: 1e8, margin: {model: parametric, confidence: 0.99, mpor_days: 2}}
  - {id: H, capital: 1e8, margin: {model: historical, confidence: 0.99, measure: es, lookback_days: 500, mpor_days: 2}}
  - {id: G, capital: 1e8, margin: {model: scenario_grid, scan_sigmas: 3, mpor_days: 2, apc: {mode: buffer}}}
  - {id: T, capital: 1e8, kind: crypto_venue, margin: {model: tiered, tiers: [{up_to: 1e6, im: 0.02}, {up_to: .inf, im: 0.05}]}}
members:
  - {id: A, capital: 1e8, liquidity: 1e7, positions: {P: {BTC: 10}, H: {BTC: 10}, G: {BTC: 10}, T: {BTC: 10}}}
  - {id: B, capital: 1e8, liquidity: 1e7, positions: {P: {BTC: -10}, H: {BTC: -10}, G: {BTC: -10}, T: {BTC: -10}}}
)";

const double kDailyVol = 0.6 / std::sqrt(365.0);
constexpr double kValue = 600000.0;
constexpr double kQ99 = 2.3263478740408408;  // normal 99% quantile (tables)

double im(const Model& m, int member, int ccp) {
  for (const auto& acc : m.accounts)
    if (acc.kind == AccountKind::kMember && acc.owner == member && acc.ccp == ccp) return acc.initial_margin;
  return -1.0;
}
double df(const Model& m, int member, int ccp) {
  for (const auto& acc : m.accounts)
    if (acc.kind == AccountKind::kMember && acc.owner == member && acc.ccp == ccp) return acc.default_fund;
  return -1.0;
}

TEST(ModelMargin, ParametricIsTheClosedForm) {
  const Model m = build_model(config::load_scenario_text(kFourModels, "t.yaml"));
  // IM = q sqrt(h) sigma_d |v| for one asset.
  EXPECT_NEAR(im(m, 0, 0), kQ99 * std::sqrt(2.0) * kDailyVol * kValue, 1e-6);
  EXPECT_NEAR(im(m, 1, 0), im(m, 0, 0), 1e-9);
}

TEST(ModelMargin, ScenarioGridWithApcBuffer) {
  const Model m = build_model(config::load_scenario_text(kFourModels, "t.yaml"));
  // Worst of +-3 sigma sqrt(2) log-moves: long loses v (1 - e^-s), short v (e^s - 1); then the 25% APC buffer.
  const double s = 3.0 * kDailyVol * std::sqrt(2.0);
  EXPECT_NEAR(im(m, 0, 2), 1.25 * kValue * (1.0 - std::exp(-s)), 1e-6);
  EXPECT_NEAR(im(m, 1, 2), 1.25 * kValue * (std::exp(s) - 1.0), 1e-6);
}

TEST(ModelMargin, TieredIsProgressive) {
  const Model m = build_model(config::load_scenario_text(kFourModels, "t.yaml"));
  EXPECT_DOUBLE_EQ(im(m, 0, 3), 0.02 * kValue);  // all of 600k in the first tier
  // The venue's waterfall (defaulter_im, insurance_fund, adl) has no default fund.
  EXPECT_DOUBLE_EQ(m.ccps[3].default_fund, 0.0);
}

TEST(ModelMargin, HistoricalEsIsAtLeastItsVar) {
  const Model es = build_model(config::load_scenario_text(kFourModels, "t.yaml"));
  const Model var = build_model(config::load_scenario_text(kFourModels, "t.yaml", {{"ccps.H.margin.measure", "var"}}));
  EXPECT_GT(im(es, 0, 1), 0.0);
  EXPECT_GE(im(es, 0, 1), im(var, 0, 1));
  // With a 500-day history of Gaussian returns the 99% VaR is near the parametric figure.
  EXPECT_NEAR(im(var, 0, 1) / im(var, 0, 0), 1.0, 0.25);
}

TEST(ModelMargin, Cover2FundOfTheParametricCcp) {
  const Model m = build_model(config::load_scenario_text(kFourModels, "t.yaml"));
  // Stress moves: every asset up and down by 5 sigma_d sqrt(2) in log terms.
  // Up: B (short) loses v (e^k - 1) - IM; A gains. Down: A loses v (1 - e^-k) - IM.
  // Cover-2 with SITG 25% of capital = 2.5e7: max(U1, U2 + U3, U1 + U2 - SITG) = U1.
  const double k = 5.0 * kDailyVol * std::sqrt(2.0);
  const double ip = kQ99 * std::sqrt(2.0) * kDailyVol * kValue;
  const double up = kValue * (std::exp(k) - 1.0) - ip, down = kValue * (1.0 - std::exp(-k)) - ip;
  EXPECT_NEAR(m.ccps[0].default_fund, std::max(up, down), 1e-6);
  // Allocated pro rata to IM: equal IMs, equal shares.
  EXPECT_NEAR(df(m, 0, 0), m.ccps[0].default_fund / 2, 1e-6);
  EXPECT_NEAR(df(m, 1, 0), m.ccps[0].default_fund / 2, 1e-6);
}

}  // namespace test_model_margin
}  // namespace ccpnet
