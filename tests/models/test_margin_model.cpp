// Margin-model dispatch (models/margin/margin_model.hpp): each model of the
// variant with its add-ons, against closed forms worked out in the comments.
#include <gtest/gtest.h>

#include <cmath>
#include <utility>
#include <vector>

#include "models/margin/margin_model.hpp"

namespace ccpnet::models {
namespace test_margin_model {

constexpr double kQ99 = 2.3263478740408408;  // normal 99% quantile (tables)

// One account long 10 units of an asset at 100 (value 1,000) and one short 5
// (value -500); daily vol 2%, no history, unlimited volume.
struct Market {
  Eigen::VectorXd price = Eigen::VectorXd::Constant(1, 100.0);
  Eigen::VectorXd vol = Eigen::VectorXd::Constant(1, 0.02);
  Eigen::VectorXd adv = Eigen::VectorXd::Constant(1, 1e12);
  Eigen::MatrixXd factor = Eigen::MatrixXd::Identity(1, 1);
  Eigen::MatrixXd history = Eigen::MatrixXd(0, 1);
  MarginMarket view() const { return {price, vol, adv, factor, history, nullptr}; }
};

Eigen::MatrixXd two_accounts() { return (Eigen::MatrixXd(2, 1) << 1000.0, -500.0).finished(); }

const std::vector<std::vector<HeldOption>> kNoOptions(2);

MarginRule rule_of(MarginModel model, double mpor_days) {
  MarginRule rule;
  rule.model = std::move(model);
  rule.mpor_days = mpor_days;
  return rule;
}

// Parametric VaR: q sigma sqrt(h) |V| = 2.3263 x 0.02 x sqrt(4) x 1,000 = 93.05.
TEST(MarginModel, ParametricIsTheNormalQuantileOfTheHorizonMove) {
  const Market m;
  MarginRule rule = rule_of(ParametricMarginModel{0.99, false, 4.0}, 4.0);
  const Eigen::VectorXd im = margin_rows(rule, two_accounts(), kNoOptions, m.view());
  EXPECT_NEAR(im(0), kQ99 * 0.02 * 2.0 * 1000.0, 1e-9);
  EXPECT_NEAR(im(1), kQ99 * 0.02 * 2.0 * 500.0, 1e-9);
}

// Tiered: 2% up to 600 of notional, 5% above: 12 + 0.05 x 400 = 32 for the
// long account, 2% x 500 = 10 for the short.
TEST(MarginModel, TieredTakesEachTiersRateOnItsSlice) {
  const Market m;
  MarginRule rule = rule_of(TieredMarginModel{{{600.0, 0.02}, {INFINITY, 0.05}}}, 2.0);
  const Eigen::VectorXd im = margin_rows(rule, two_accounts(), kNoOptions, m.view());
  EXPECT_NEAR(im(0), 32.0, 1e-12);
  EXPECT_NEAR(im(1), 10.0, 1e-12);
}

// Scenario grid on linear positions: the largest loss at +/- scan_sigmas
// horizon sds, 1,000 x (1 - e^(-3 x 0.02 x sqrt(2))) for the long account.
TEST(MarginModel, ScenarioGridScansTheLinearPositions) {
  const Market m;
  MarginRule rule = rule_of(ScenarioGridMarginModel{3.0, 7, {}}, 2.0);
  const Eigen::VectorXd im = margin_rows(rule, two_accounts(), kNoOptions, m.view());
  const double move = 3.0 * 0.02 * std::sqrt(2.0);
  EXPECT_NEAR(im(0), 1000.0 * -std::expm1(-move), 1e-9);
  EXPECT_NEAR(im(1), 500.0 * std::expm1(move), 1e-9);
}

// Anti-procyclicality: a 25% buffer scales the margin by 1.25; a stressed
// weight w on a vol m times higher sees sigma sqrt(1 - w + w m^2) (w = 0.25,
// m = 2: sigma sqrt(1.75)).
TEST(MarginModel, AntiProcyclicalityScalesTheMarginOrTheVolatility) {
  const Market m;
  MarginRule plain = rule_of(ParametricMarginModel{0.99, false, 4.0}, 1.0);
  MarginRule buffer = plain;
  buffer.apc = ApcMode::kBuffer;
  buffer.apc_buffer = 0.25;
  MarginRule stressed = plain;
  stressed.apc = ApcMode::kStressedWeight;
  stressed.apc_stressed_weight = 0.25;
  stressed.apc_stressed_multiplier = 2.0;
  const double base = margin_rows(plain, two_accounts(), kNoOptions, m.view())(0);
  EXPECT_NEAR(margin_rows(buffer, two_accounts(), kNoOptions, m.view())(0), 1.25 * base, 1e-9);
  EXPECT_NEAR(margin_rows(stressed, two_accounts(), kNoOptions, m.view())(0), std::sqrt(1.75) * base, 1e-9);
}

// The concentration add-on is zero while a position unwinds within the MPOR
// (1,000 USD against 1e12 of daily volume), so margins are unchanged.
TEST(MarginModel, ConcentrationAddOnIsZeroForSmallPositions) {
  const Market m;
  MarginRule rule = rule_of(ParametricMarginModel{0.99, false, 4.0}, 2.0);
  const Eigen::VectorXd without = margin_rows(rule, two_accounts(), kNoOptions, m.view());
  rule.concentration_participation = 0.1;
  EXPECT_NEAR(margin_rows(rule, two_accounts(), kNoOptions, m.view())(0), without(0), 1e-9);
}

// Options enter the linear models by their delta: 10 calls of delta 0.5 on
// the asset at 100 add 500 to the row's value.
TEST(MarginModel, DeltaValuesAddEachOptionInItsUnderlyingsColumn) {
  const Eigen::VectorXd price = Eigen::VectorXd::Constant(1, 100.0);
  std::vector<std::vector<HeldOption>> options(2);
  options[1].push_back({0, OptionContract{}, 0.5, 10.0});
  const Eigen::MatrixXd v = delta_values(two_accounts(), options, price);
  EXPECT_DOUBLE_EQ(v(0, 0), 1000.0);
  EXPECT_DOUBLE_EQ(v(1, 0), 0.0);
}

// A historical model scales each asset's history by the volatility it sees
// over the one the returns were observed at (filtered historical simulation,
// Barone-Adesi, Giannopoulos and Vosper 1999), and keeps as observed the
// returns of an asset observed at volatility 0. Three daily returns 0.1,
// -0.2, 0.05, h = 1, alpha 0.99 (k = ceil(3 x 0.01) = 1: the worst loss), the
// long account worth 1,000, the model's volatility 0.04:
//   observed at 0.02: returns x 2, worst -0.4: 1,000 (1 - e^-0.4) = 329.680;
//   observed at 0:    as observed, worst -0.2: 1,000 (1 - e^-0.2) = 181.269;
//   standardised:     returns x 0.04, worst -0.008: 1,000 (1 - e^-0.008) = 7.968.
TEST(MarginModel, HistoricalScalesTheHistoryByTheVolatilityItWasObservedAt) {
  Market m;
  m.vol(0) = 0.04;
  m.history = (Eigen::MatrixXd(3, 1) << 0.1, -0.2, 0.05).finished();
  const MarginRule rule = rule_of(HistoricalMarginModel{0.99, RiskMeasure::kVar, 10}, 1.0);
  const Eigen::VectorXd at_2pct = Eigen::VectorXd::Constant(1, 0.02), at_zero = Eigen::VectorXd::Zero(1);
  MarginMarket observed = m.view();
  observed.history_vol = &at_2pct;
  EXPECT_NEAR(margin_rows(rule, two_accounts(), kNoOptions, observed)(0), 1000.0 * -std::expm1(-0.4), 1e-9);
  observed.history_vol = &at_zero;
  EXPECT_NEAR(margin_rows(rule, two_accounts(), kNoOptions, observed)(0), 1000.0 * -std::expm1(-0.2), 1e-9);
  EXPECT_NEAR(margin_rows(rule, two_accounts(), kNoOptions, m.view())(0), 1000.0 * -std::expm1(-0.008), 1e-9);
}

// One workspace reused across models and sizes gives, bit for bit, what a
// fresh computation gives: nothing of one call leaks into the next.
TEST(MarginModel, AReusedWorkspaceGivesWhatAFreshOneGives) {
  Market m;
  m.history = (Eigen::MatrixXd(4, 1) << 0.3, -0.5, 1.2, -0.1).finished();
  MarginRule concentrated = rule_of(ParametricMarginModel{0.99, true, 4.0}, 2.0);
  concentrated.concentration_participation = 1e-10;
  const std::vector<MarginRule> rules{rule_of(HistoricalMarginModel{0.6, RiskMeasure::kExpectedShortfall, 10}, 2.0),
                                      concentrated, rule_of(TieredMarginModel{{{600.0, 0.02}, {INFINITY, 0.05}}}, 2.0),
                                      rule_of(HistoricalMarginModel{0.99, RiskMeasure::kVar, 10}, 1.0),
                                      rule_of(ScenarioGridMarginModel{3.0, 7, {}}, 2.0)};
  const Eigen::MatrixXd one = two_accounts().topRows(1);
  const std::vector<std::vector<HeldOption>> one_row(1);
  MarginWorkspace ws;
  Eigen::VectorXd im;
  for (const MarginRule& rule : rules) {
    margin_rows_into(rule, two_accounts(), kNoOptions, m.view(), ws, im);
    EXPECT_EQ(im, margin_rows(rule, two_accounts(), kNoOptions, m.view()));
    margin_rows_into(rule, one, one_row, m.view(), ws, im);
    EXPECT_EQ(im, margin_rows(rule, one, one_row, m.view()));
  }
}

}  // namespace test_margin_model
}  // namespace ccpnet::models
