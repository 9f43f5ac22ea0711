// The margin spiral under a historical (filtered historical simulation) margin
// model, worked by hand (sim/margin_path.hpp).
//
// The rules. Commission Delegated Regulation (EU) No 153/2013 art. 24-26: IM
// at a confidence over the liquidation period, on the model's volatility;
// art. 25: a lookback of at least 12 months (shorter here to be worked by
// hand); the CCP recomputes it after the move (art. 27-28, CPMI-IOSCO PFMI
// Principle 6, key considerations 3-4). Filtered historical simulation (Barone-Adesi,
// Giannopoulos and Vosper 1999, "VaR without correlations for portfolios of
// derivative securities", J. Futures Markets 19(5)): each asset's historical
// returns are standardised by the volatility they were observed at and scaled
// by today's, r~_t = r_t sigma_now / sigma_t. In ccpnet sigma_t is one
// volatility per asset (the asset's daily volatility), so the recomputation
// scales each asset's history by its EWMA ratio M = sigma_1 / sigma_0
// (RiskMetrics Technical Document, J.P. Morgan 1996:
// sigma_1^2 = lambda sigma_0^2 + (1 - lambda) r^2).
// The quantile (models/margin/historical.hpp): losses sorted from the worst,
// VaR = the k-th worst with k = max(1, ceil(n (1 - alpha))) (Hyndman and Fan
// 1996, definition 1, no interpolation); IM = max(0, VaR).
//
// The history, tests/data/history/prices.csv (six days, five daily returns):
//   BTC 100 110  99  99 120  90   gross returns 1.1, 0.9, 1, 1.212121, 0.75
//   ETH  50  40  60  45  45  54   gross returns 0.8, 1.5, 0.75, 1, 1.2
// BTC has volatility 0.6 a year, ETH 0.8, over 365 days. The CCPs' model:
// VaR at alpha = 0.6 over h = 1 day (n = 5 one-day returns, k = ceil(5 x 0.4)
// = 2: the second worst loss), recomputed with lambda = 0.94 after BTC falls
// 20% in a day (x = ln 0.8 = -0.223144); ETH does not move.
//   BTC: sigma_d = 0.6 / sqrt(365) = 0.031405, x^2 / sigma_d^2 = 50.484615,
//        M_BTC = sqrt(0.94 + 0.06 x 50.484615) = sqrt(3.969077) = 1.992254;
//   ETH: r = 0, M_ETH = sqrt(0.94) = 0.969536 (the estimate decays).
// A BTC day with gross return g becomes g^M (exp(M ln g)): 1.1 -> 1.209107,
// 0.9 -> 0.810661, 1 -> 1, 1.212121 -> 1.467050, 0.75 -> 0.563755.
//
// M1 at A, long 10 BTC (1,000). Losses -1,000 (g - 1) over the five days:
//   -100, 100, 0, -212.12, 250: the second worst 100, IM0 = 100.
// After: the position is worth 800, losses -800 (g^M - 1):
//   -167.29, 151.47, 0, -373.64, 348.996: the second worst 151.470952,
//   IM1 / IM0 = 1.514710, a call of 51.470952 (scaling by 0.8 M would call 59.38:
//   the scaled history is revalued in full, e^{M r} - 1, not M (e^r - 1)).
// M2 at B, long 10 BTC and 20 ETH (1,000 each). Losses today:
//   100, -400, 250, -212.12, 50: the second worst 100 (day 1), IM0 = 100.
// After: -800 (g_BTC^M_BTC - 1) - 1,000 (g_ETH^M_ETH - 1):
//   day 1: -800 x 0.209107 - 1,000 (0.8^0.969536 - 1) = -167.29 + 194.55 = 27.26
//   day 2: -800 x -0.189339 - 1,000 (1.5^0.969536 - 1) = 151.47 - 481.59 = -330.11
//   day 3: 0 - 1,000 (0.75^0.969536 - 1) = 243.40
//   day 4: -800 x 0.467050 - 0 = -373.64
//   day 5: -800 x -0.436245 - 1,000 (1.2^0.969536 - 1) = 349.00 - 193.35 = 155.64
// The second worst is now day 5's 155.642760 (day 1 today): the quantile is
// taken again on the rescaled history, not scaled. IM1 / IM0 = 1.556428, a
// call of 55.642760.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "sim/config/load.hpp"
#include "sim/model.hpp"
#include "sim/runner.hpp"
#include "sim/shocks.hpp"

namespace ccpnet {
namespace test_spiral_historical {

namespace fs = std::filesystem;

// Named as if it lived beside tests/data/history/prices.csv, so the file resolves there.
const std::string& scenario_name() {
  static const std::string name = (fs::path(CCPNET_SOURCE_DIR) / "tests" / "data" / "history" / "s.yaml").string();
  return name;
}

constexpr std::string_view kHistoricalSpiral = R"(name: historical spiral
market:
  assets:
    - {id: BTC, price: 100, volatility: 0.6}
    - {id: ETH, price: 50, volatility: 0.8}
  history: {file: prices.csv, mode: replay}
  stress_scenarios: [{name: crash, moves: {BTC: -0.2}, days: 1}]
ccps:
  - id: A
    capital: 1e8
    margin: {model: historical, confidence: 0.6, lookback_days: 10, mpor_days: 1, spiral: {lambda: 0.94}}
    default_fund: {sizing: fixed, amount: 0}
    imbalance: rest_of_market
  - id: B
    capital: 1e8
    margin: {model: historical, confidence: 0.6, lookback_days: 10, mpor_days: 1, spiral: {lambda: 0.94}}
    default_fund: {sizing: fixed, amount: 0}
    imbalance: rest_of_market
members:
  - {id: M1, capital: 1e8, liquidity: 1e7, positions: {A: {BTC: 10}}}
  - {id: M2, capital: 1e8, liquidity: 1e7, positions: {B: {BTC: 10, ETH: 20}}}
)";

Model model_of(std::vector<config::Override> overrides = {}) {
  return build_model(config::load_scenario_text(kHistoricalSpiral, scenario_name(), overrides));
}

ScenarioResult stress(const Model& model) {
  return run_move(model, stress_move(model, model.stress_scenarios[0]), nullptr, &model.stress_scenarios[0]);
}

const std::vector<double> kBtc{100, 110, 99, 99, 120, 90}, kEth{50, 40, 60, 45, 45, 54};

// The second worst of the five one-day losses of a book worth vb in BTC and ve
// in ETH, each day's gross return raised to the power mb (BTC) and me (ETH).
double second_worst_loss(double vb, double ve, double mb, double me) {
  std::vector<double> losses;
  for (std::size_t t = 0; t + 1 < kBtc.size(); ++t)
    losses.push_back(
        -(vb * (std::pow(kBtc[t + 1] / kBtc[t], mb) - 1.0) + ve * (std::pow(kEth[t + 1] / kEth[t], me) - 1.0)));
  std::sort(losses.begin(), losses.end(), std::greater<>());
  return losses[1];
}

double ccp_margin(const Model& m, std::size_t member) {
  return m.accounts[static_cast<std::size_t>(m.members[member].accounts.front())].initial_margin;
}

double btc_ratio() {
  const double sd = 0.6 / std::sqrt(365.0), x = std::log(0.8);
  return std::sqrt(0.94 + 0.06 * x * x / (sd * sd));
}

TEST(SpiralHistorical, RecomputesTheQuantileOnTheHistoryScaledByTheNewVolatility) {
  const double mb = btc_ratio(), me = std::sqrt(0.94);
  ASSERT_NEAR(mb, 1.992254, 1e-6);
  ASSERT_NEAR(second_worst_loss(1000, 0, 1, 1), 100.0, 1e-9);
  ASSERT_NEAR(second_worst_loss(1000, 1000, 1, 1), 100.0, 1e-9);
  const double im1_one = second_worst_loss(800, 0, mb, me), im1_two = second_worst_loss(800, 1000, mb, me);
  ASSERT_NEAR(im1_one, 151.470952, 1e-6);
  ASSERT_NEAR(im1_two, 155.642760, 1e-6);
  const Model m = model_of();
  ASSERT_NEAR(ccp_margin(m, 0), 100.0, 1e-9);  // the start-up model, as above
  ASSERT_NEAR(ccp_margin(m, 1), 100.0, 1e-9);
  const ScenarioResult r = stress(m);
  EXPECT_NEAR(r.settlement.get(0, CcpSettleMetric::kMarginCalls), im1_one - 100.0, 1e-9);
  EXPECT_NEAR(r.settlement.get(1, CcpSettleMetric::kMarginCalls), im1_two - 100.0, 1e-9);
  EXPECT_TRUE(r.defaults.empty());
}

// An asset without volatility but with an observed history: the start-up
// historical model scales an observed history by vol / daily_vol, and an asset
// with daily_vol 0 keeps its returns as observed (models/margin/margin_model.cpp),
// so ETH's observed days count in today's IM. The recomputation must read the
// same history: ETH's EWMA ratio is 1 (no volatility to update), its returns
// stay as observed.
// M2 (10 BTC, 20 ETH), ETH with volatility 0: today as above, IM0 = 100.
// After BTC's fall: -800 (g_BTC^M - 1) - 1,000 (g_ETH - 1):
//   32.71, -348.53, 250, -373.64, 149.00: the second worst 148.996137, a call
// of 48.996137. Scaling ETH's history by its zero volatility drops it from the
// recomputation (IM0 and IM1 on BTC alone: 100 and 151.470952): a call of
// 51.470952 on a book whose ETH leg hedges part of the BTC risk.
TEST(SpiralHistorical, AnAssetWithoutVolatilityKeepsItsObservedHistoryAsAtStartUp) {
  const double mb = btc_ratio();
  const double im1 = second_worst_loss(800, 1000, mb, 1.0);
  ASSERT_NEAR(im1, 148.996137, 1e-6);
  const Model m = model_of({{"market.assets[1].volatility", "0"}});
  ASSERT_NEAR(ccp_margin(m, 1), 100.0, 1e-9);
  const ScenarioResult r = stress(m);
  EXPECT_NEAR(r.settlement.get(1, CcpSettleMetric::kMarginCalls), im1 - 100.0, 1e-9);
  EXPECT_NEAR(r.settlement.get(0, CcpSettleMetric::kMarginCalls), second_worst_loss(800, 0, mb, 1.0) - 100.0, 1e-9);
}

}  // namespace test_spiral_historical
}  // namespace ccpnet
