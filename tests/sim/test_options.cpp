// European options in the engine (SPEC 3.2): full Black-76 revaluation in
// stress moves and Monte Carlo scenarios, implied-vol moves, scenario-grid
// margin, delta-equivalent margin, default-fund stress losses, determinism and
// located errors. Expected numbers come from the Black-76 closed form written
// out below (independently of models/instruments), from Hull's worked example
// and from put-call parity; the grid and stress figures were also computed
// separately with Python's math.erf and are quoted in the comments.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <string>

#include "sim/config/load.hpp"
#include "sim/model.hpp"
#include "sim/runner.hpp"
#include "sim/shocks.hpp"

namespace ccpnet {
namespace test_options {

using ::testing::HasSubstr;

Model model_of(std::string_view yaml, const std::vector<config::Override>& overrides = {}) {
  return build_model(config::load_scenario_text(yaml, "t.yaml", overrides));
}

std::string errors_of(std::string_view yaml) {
  try {
    build_model(config::load_scenario_text(yaml, "t.yaml"));
  } catch (const config::ScenarioError& e) {
    return e.what();
  }
  return "";
}

// Black-76 (Black 1976; Hull, "Options, Futures and Other Derivatives", Black's
// model): d1 = (ln(F/K) + s^2 T / 2) / (s sqrt(T)), d2 = d1 - s sqrt(T),
// call = e^{-rT} (F N(d1) - K N(d2)), put = e^{-rT} (K N(-d2) - F N(-d1)).
double norm_cdf(double x) { return 0.5 * std::erfc(-x / std::numbers::sqrt2); }
double d1_of(double f, double k, double t, double s) {
  return (std::log(f / k) + 0.5 * s * s * t) / (s * std::sqrt(t));
}
double call(double f, double k, double t, double s, double r = 0.0) {
  const double d1 = d1_of(f, k, t, s), d2 = d1 - s * std::sqrt(t);
  return std::exp(-r * t) * (f * norm_cdf(d1) - k * norm_cdf(d2));
}
double put(double f, double k, double t, double s, double r = 0.0) {
  const double d1 = d1_of(f, k, t, s), d2 = d1 - s * std::sqrt(t);
  return std::exp(-r * t) * (k * norm_cdf(-d2) - f * norm_cdf(-d1));
}
// Vega per unit of vol: e^{-rT} F n(d1) sqrt(T).
double vega(double f, double k, double t, double s, double r = 0.0) {
  const double d1 = d1_of(f, k, t, s);
  return std::exp(-r * t) * f * std::exp(-0.5 * d1 * d1) / std::sqrt(2.0 * std::numbers::pi) * std::sqrt(t);
}

// The close-out loss (-P&L, no liquidation cost) of the first defaulter in a
// deterministic move, read from the waterfall trace.
double defaulter_loss(const Model& model, const StressScenario& stress, double multiple = 1.0) {
  StressScenario scaled = stress;
  for (auto& [id, v] : scaled.vol_moves) v = std::expm1(std::log1p(v) * multiple);
  CascadeTrace trace;
  run_move(model, stress_move(model, stress, multiple), &trace, &scaled);
  EXPECT_FALSE(trace.events.empty());
  if (trace.events.empty() || trace.events[0].defaulters.empty()) return NAN;
  return trace.events[0].defaulters[0].loss;
}

const Account& account_of(const Model& m, const std::string& member, const std::string& ccp) {
  for (const auto& acc : m.accounts)
    if (acc.kind == AccountKind::kMember && m.members[static_cast<std::size_t>(acc.owner)].id == member &&
        m.ccps[static_cast<std::size_t>(acc.ccp)].id == ccp)
      return acc;
  throw std::runtime_error("no account of " + member + " at " + ccp);
}

// Hull's crude-oil futures example after the move: F = 20, K = 20, r = 9%,
// sigma = 25%, T = 4 months gives 1.1166 for the call and the put. Today the
// underlying is at 25 (a 20% fall takes it to 20) and the options expire in
// 365/3 + 1 days, so one day of MPOR leaves exactly 4 months.
constexpr std::string_view kHull = R"(name: a call and a put repriced by hand
market:
  assets: [{id: X, price: 25, volatility: 0.5}]
  options:
    - {id: X-C-20, underlying: X, type: call, strike: 20, expiry_days: 122.66666666666667, implied_vol: 0.25, rate: 0.09}
    - {id: X-P-20, underlying: X, type: put, strike: 20, expiry_days: 122.66666666666667, implied_vol: 0.25, rate: 0.09}
  stress_scenarios: [{name: crash, moves: {X: -0.2}, days: 1}]
ccps:
  - {id: A, capital: 1e9, margin: {model: parametric, mpor_days: 1}, default_fund: {sizing: fixed, amount: 0}}
members:
  - {id: D, capital: 1e9, liquidity: 1e9, positions: {A: {X-C-20: 10, X-P-20: -4}}, initial_margin: {A: 0}}
  - {id: N, capital: 1e9, liquidity: 1e9, positions: {A: {X-C-20: -10, X-P-20: 4}}}
defaults: {exogenous: [D]}
)";

TEST(Options, CallAndPutRepricedByHandUnderAStressMove) {
  const double t0 = (365.0 / 3.0 + 1.0) / 365.0, t1 = 4.0 / 12.0;
  // Hull's figure to four decimals (MathWorks blkprice documentation, citing Hull).
  EXPECT_NEAR(call(20, 20, t1, 0.25, 0.09), 1.1166, 5e-5);
  EXPECT_NEAR(put(20, 20, t1, 0.25, 0.09), 1.1166, 5e-5);
  const double pnl = 10.0 * (call(20, 20, t1, 0.25, 0.09) - call(25, 20, t0, 0.25, 0.09)) -
                     4.0 * (put(20, 20, t1, 0.25, 0.09) - put(25, 20, t0, 0.25, 0.09));
  EXPECT_NEAR(pnl, -42.31426167913893, 1e-9);  // the same with Python's math.erf

  const Model model = model_of(kHull);
  ASSERT_EQ(model.options.size(), 2u);
  EXPECT_NEAR(model.options[0].value, call(25, 20, t0, 0.25, 0.09), 1e-12);
  EXPECT_NEAR(model.options[1].value, put(25, 20, t0, 0.25, 0.09), 1e-12);
  // The two members net out: no rest-of-market account.
  EXPECT_EQ(model.accounts.size(), 2u);
  EXPECT_NEAR(defaulter_loss(model, model.stress_scenarios[0]), -pnl, 1e-9);
}

TEST(Options, AnOptionBookMembersDoNotNetGoesToTheRestOfTheMarket) {
  const Model model = model_of(kHull, {{"members", "[{id: D, capital: 1e9, positions: {A: {X-C-20: 10, X-P-20: -4}}}]"},
                                       {"defaults.exogenous", "[]"},
                                       {"ccps.A.imbalance", "rest_of_market"}});
  ASSERT_EQ(model.accounts.size(), 2u);
  const Account& rest = model.accounts[1];
  EXPECT_EQ(rest.kind, AccountKind::kRestOfMarket);
  ASSERT_EQ(rest.options.size(), 2u);
  EXPECT_EQ(rest.options[0].option, 0);
  EXPECT_EQ(rest.options[0].quantity, -10.0);
  EXPECT_EQ(rest.options[1].quantity, 4.0);
  EXPECT_TRUE(rest.quantity.isZero());
}

// Long a call, short a put, same strike and expiry, rate 0: c - p = F - K at
// any vol and time, so the pair's P&L is the forward's, F' - F, whatever the
// vol does (vol_beta and the vol spike move both legs' vols alike).
constexpr std::string_view kParity = R"(name: put-call parity
seed: 11
simulation: {scenarios: 300}
market:
  assets: [{id: X, price: 100, volatility: 0.6}]
  options:
    - {id: C, underlying: X, type: call, strike: 90, expiry_days: 20, implied_vol: 0.7, vol_beta: -1}
    - {id: P, underlying: X, type: put, strike: 90, expiry_days: 20, implied_vol: 0.7, vol_beta: -1}
  shocks: {model: student_t, dof: 3}
  stress_scenarios: [{name: crash and vol spike, moves: {X: -0.3}, vol_moves: {X: 0.5}, days: 2}]
ccps: [{id: A, capital: 1e9, margin: {model: parametric, mpor_days: 2}, imbalance: rest_of_market}]
members:
  - {id: D, capital: 1e3, liquidity: 1e3, positions: {A: {C: 1000, P: -1000}}}
defaults: {exogenous: [D]}
)";

TEST(Options, PutCallParityOfTheEnginesPnl) {
  const Model options = model_of(kParity);
  const Model linear =
      model_of(kParity, {{"members", "[{id: D, capital: 1e3, liquidity: 1e3, positions: {A: {X: 1000}}}]"}});
  const auto& crash = options.stress_scenarios[0];
  for (const double k : {0.25, 1.0, 2.5}) {
    const double forward_pnl = 1000.0 * 100.0 * std::expm1(k * std::log(0.7));
    EXPECT_NEAR(defaulter_loss(options, crash, k), -forward_pnl, 1e-8 * 1e5) << "multiple " << k;
  }
  // Delta of the pair is e^{-rT} = 1: the same IM as 1000 units of X.
  EXPECT_NEAR(account_of(options, "D", "A").initial_margin, account_of(linear, "D", "A").initial_margin, 1e-6);
  EXPECT_NEAR(account_of(options, "D", "A").notional, 1e5, 1e-6);
  // Every Monte Carlo scenario: the same close-out loss as the linear position.
  std::vector<double> a, b;
  RunOptions run;
  run.threads = 1;
  run.on_scenario = [&](const ScenarioResult& r) { a.push_back(r.closeout_loss); };
  run_monte_carlo(options, run);
  run.on_scenario = [&](const ScenarioResult& r) { b.push_back(r.closeout_loss); };
  run_monte_carlo(linear, run);
  ASSERT_EQ(a.size(), 300u);
  ASSERT_EQ(b.size(), 300u);
  int losses = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_NEAR(a[i], b[i], 1e-7) << "scenario " << i;
    losses += b[i] > 0.0;
  }
  EXPECT_GT(losses, 50);
}

// A short call and a short put under a vol spike of 1% (relative): the P&L
// changes by about -q vega dsigma against the same day without the spike.
constexpr std::string_view kVolSpike = R"(name: vol spike
market:
  assets: [{id: X, price: 60000, volatility: 0.6}]
  options:
    - {id: X-C-70K, underlying: X, type: call, strike: 70000, expiry_days: 30, implied_vol: 0.65, rate: 0.05}
    - {id: X-P-50K, underlying: X, type: put, strike: 50000, expiry_days: 60, implied_vol: 0.8}
  stress_scenarios:
    - {name: calm, moves: {X: 0}, days: 1}
    - {name: vol up 1%, moves: {X: 0}, vol_moves: {X: 0.01}, days: 1}
    - {name: vol up 1% over 4 days, moves: {X: 0}, vol_moves: {X: 0.01}, days: 4}
ccps: [{id: A, capital: 1e12, margin: {model: parametric, mpor_days: 1}, imbalance: rest_of_market}]
members:
  - {id: D, capital: 1e12, liquidity: 1e12, positions: {A: {X-C-70K: -200, X-P-50K: -100}}}
defaults: {exogenous: [D]}
)";

TEST(Options, VolSpikeMovesTheBookByVegaTimesTheVolChange) {
  const Model model = model_of(kVolSpike);
  const double tc = 29.0 / 365.0, tp = 59.0 / 365.0;  // after one day
  const double calm = defaulter_loss(model, model.stress_scenarios[0]);
  const double spike = defaulter_loss(model, model.stress_scenarios[1]);
  // Calm: time decay only; short options gain theta.
  const double decay = -200.0 * (call(60000, 70000, tc, 0.65, 0.05) - call(60000, 70000, 30.0 / 365.0, 0.65, 0.05)) -
                       100.0 * (put(60000, 50000, tp, 0.8) - put(60000, 50000, 60.0 / 365.0, 0.8));
  EXPECT_NEAR(calm, -decay, 1e-6);
  EXPECT_LT(calm, 0.0);
  const double first_order =
      200.0 * vega(60000, 70000, tc, 0.65, 0.05) * 0.0065 + 100.0 * vega(60000, 50000, tp, 0.8) * 0.008;
  EXPECT_NEAR(spike - calm, first_order, 0.01 * first_order);
  const double exact = 200.0 * (call(60000, 70000, tc, 0.6565, 0.05) - call(60000, 70000, tc, 0.65, 0.05)) +
                       100.0 * (put(60000, 50000, tp, 0.808) - put(60000, 50000, tp, 0.8));
  EXPECT_NEAR(spike - calm, exact, 1e-6 * exact);
  // A spike over 4 days realises (1.01)^(1/4) within a 1-day MPOR.
  const double quarter = defaulter_loss(model, model.stress_scenarios[2]) - calm;
  const double g = std::pow(1.01, 0.25);
  const double exact_quarter = 200.0 * (call(60000, 70000, tc, 0.65 * g, 0.05) - call(60000, 70000, tc, 0.65, 0.05)) +
                               100.0 * (put(60000, 50000, tp, 0.8 * g) - put(60000, 50000, tp, 0.8));
  EXPECT_NEAR(quarter, exact_quarter, 1e-6 * exact_quarter);
}

// Scenario-grid margin on a 3 x 2 grid: X at 100, 80% vol, MPOR 1 day: the scan
// range is s = 3 x 0.8 / sqrt(365) = 0.12562 in log-return; price moves
// {-s, 0, +s} with each option's vol x {0.75, 1.25}, one day of decay.
constexpr std::string_view kGrid = R"(name: scenario grid
market:
  assets: [{id: X, price: 100, volatility: 0.8}]
  options:
    - {id: X-C-100, underlying: X, type: call, strike: 100, expiry_days: 30, implied_vol: 0.6}
    - {id: X-P-100, underlying: X, type: put, strike: 100, expiry_days: 30, implied_vol: 0.6}
ccps:
  - id: G
    capital: 1e9
    margin: {model: scenario_grid, scan_sigmas: 3, price_steps: 3, vol_moves: [-0.25, 0.25], mpor_days: 1}
    imbalance: rest_of_market
  - {id: P, capital: 1e9, margin: {model: parametric, confidence: 0.99, mpor_days: 1}, imbalance: rest_of_market}
  - id: F
    capital: 1e9
    margin: {model: parametric, mpor_days: 1}
    default_fund: {sizing: cover1}
    imbalance: rest_of_market
members:
  - id: S
    capital: 1e9
    liquidity: 1e9
    positions: {G: {X-C-100: -10, X-P-100: -10}, F: {X-C-100: -10, X-P-100: -10}}
    initial_margin: {F: 10}
  - {id: L, capital: 1e9, liquidity: 1e9, positions: {G: {X: 5, X-C-100: 10}, P: {X: 5, X-C-100: 10}}}
)";

TEST(Options, ScenarioGridMarginOfAShortStraddleByHand) {
  const Model model = model_of(kGrid);
  const double s = 3.0 * 0.8 / std::sqrt(365.0), t0 = 30.0 / 365.0, t1 = 29.0 / 365.0;
  const double base = call(100, 100, t0, 0.6) + put(100, 100, t0, 0.6);
  double straddle = 0.0, hedged = 0.0;
  for (const double m : {-s, 0.0, s})
    for (const double v : {0.75, 1.25}) {
      const double f = 100.0 * std::exp(m);
      straddle = std::max(straddle, 10.0 * (call(f, 100, t1, 0.6 * v) + put(f, 100, t1, 0.6 * v) - base));
      hedged = std::max(hedged, -(5.0 * (f - 100.0) + 10.0 * (call(f, 100, t1, 0.6 * v) - call(100, 100, t0, 0.6))));
    }
  // Python (math.erf): 73.19982453638616 at +s with vol up; 117.4702415440951 at -s with vol down.
  EXPECT_NEAR(straddle, 73.19982453638616, 1e-9);
  EXPECT_NEAR(hedged, 117.4702415440951, 1e-9);
  EXPECT_NEAR(account_of(model, "S", "G").initial_margin, straddle, 1e-9);
  EXPECT_NEAR(account_of(model, "L", "G").initial_margin, hedged, 1e-9);
}

TEST(Options, ParametricMarginSeesTheDeltaEquivalentValue) {
  const Model model = model_of(kGrid);
  const double t0 = 30.0 / 365.0, delta = norm_cdf(d1_of(100, 100, t0, 0.6));
  const double value = 5.0 * 100.0 + 10.0 * delta * 100.0;
  constexpr double kQ99 = 2.3263478740408408;  // normal 99% quantile (tables)
  EXPECT_NEAR(account_of(model, "L", "P").initial_margin, kQ99 * 0.8 / std::sqrt(365.0) * value, 1e-9);
  EXPECT_NEAR(account_of(model, "L", "P").notional, value, 1e-9);
}

TEST(Options, DefaultFundStressLossesRevalueOptionsInFull) {
  // Cover-1 at F: the short straddle's largest loss over the stress moves
  // X x e^{+-5 sigma_d} (one day of decay) less its observed IM of 10.
  // Python (math.erf): up 115.25599127932345, down 67.58879193321626.
  const Model model = model_of(kGrid);
  const double k = 5.0 * 0.8 / std::sqrt(365.0), t0 = 30.0 / 365.0, t1 = 29.0 / 365.0;
  const double base = call(100, 100, t0, 0.6) + put(100, 100, t0, 0.6);
  const auto loss = [&](double m) {
    const double f = 100.0 * std::exp(m);
    return 10.0 * (call(f, 100, t1, 0.6) + put(f, 100, t1, 0.6) - base);
  };
  EXPECT_NEAR(loss(k), 115.25599127932345, 1e-9);
  EXPECT_NEAR(loss(-k), 67.58879193321626, 1e-9);
  EXPECT_NEAR(model.ccps[2].default_fund, loss(k) - 10.0, 1e-9);
}

TEST(Options, ResultsDoNotDependOnThreadsOrBatch) {
  const Model model = model_of(
      kParity,
      {{"defaults.latent", "{pd: 0.05, beta: 0.5}"}, {"simulation.scenarios", "700"}, {"members[0].capital", "1e5"}});
  const auto rows = [&](int threads, std::int64_t batch) {
    std::string out;
    RunOptions o;
    o.threads = threads;
    o.batch = batch;
    o.on_scenario = [&](const ScenarioResult& r) {
      out += fmt::format("{} {} {} {}\n", r.index, r.closeout_loss, r.total_loss, r.defaults.size());
    };
    run_monte_carlo(model, o);
    return out;
  };
  const std::string reference = rows(1, 64);
  EXPECT_EQ(rows(2, 64), reference);
  EXPECT_EQ(rows(2, 256), reference);
  // A scenario run on its own gives the numbers it has inside a run.
  const ScenarioResult alone = run_scenario(model, 123);
  EXPECT_NE(reference.find(fmt::format("123 {} {} ", alone.closeout_loss, alone.total_loss)), std::string::npos);
}

// ---- located errors ------------------------------------------------------------------

constexpr std::string_view kErrorsBase = R"(name: bad options
market:
  assets: [{id: BTC, price: 60000, volatility: 0.6}]
  options:
    - {id: BTC-C-70K, underlying: BTC, type: call, strike: 70000, expiry_days: 30, implied_vol: 0.6}
ccps: [{id: A, capital: 1e9}]
members:
  - {id: M, capital: 1e9, positions: {A: {BTC: 1, BTC-C-70K: -5}}}
  - {id: N, capital: 1e9, positions: {A: {BTC: -1, BTC-C-70K: 5}}}
)";

std::string with(std::string_view base, std::string_view from, std::string_view to) {
  std::string text(base);
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST(Options, BaseOfTheErrorCasesLoads) { EXPECT_EQ(errors_of(kErrorsBase), ""); }

TEST(Options, UnknownUnderlyingIsLocatedWithASuggestion) {
  EXPECT_THAT(errors_of(with(kErrorsBase, "underlying: BTC", "underlying: BTX")),
              HasSubstr("t.yaml:5:35: market.options[0].underlying: unknown asset 'BTX' (did you mean 'BTC'?)"));
}

TEST(Options, OptionIdMustDifferFromTheAssetIds) {
  EXPECT_THAT(errors_of(with(kErrorsBase, "id: BTC-C-70K", "id: BTC")),
              HasSubstr("t.yaml:5:12: market.options[0].id: option id 'BTC' is already the id of an asset "
                        "(market.assets[0])"));
}

TEST(Options, DuplicateOptionIds) {
  const std::string text = with(kErrorsBase, "ccps:",
                                "    - {id: BTC-C-70K, underlying: BTC, type: put, strike: 1, expiry_days: 1, "
                                "implied_vol: 1}\nccps:");
  EXPECT_THAT(errors_of(text), HasSubstr("t.yaml:6:12: market.options[1].id: duplicate option id 'BTC-C-70K' (first "
                                         "defined at line 5)"));
}

TEST(Options, BadContractFieldsAreLocated) {
  EXPECT_THAT(errors_of(with(kErrorsBase, "strike: 70000", "strike: -1")),
              HasSubstr("t.yaml:5:60: market.options[0].strike: expected a value > 0 (USD), found -1"));
  EXPECT_THAT(errors_of(with(kErrorsBase, "type: call", "type: straddle")),
              HasSubstr("t.yaml:5:46: market.options[0].type: expected one of call, put, found 'straddle'"));
  EXPECT_THAT(errors_of(with(kErrorsBase, "implied_vol: 0.6", "implied_vol: 0")),
              HasSubstr("market.options[0].implied_vol:"));
  EXPECT_THAT(errors_of(with(kErrorsBase, ", implied_vol: 0.6", "")),
              HasSubstr("t.yaml:5:7: market.options[0].implied_vol: missing required key"));
}

TEST(Options, PositionInAnUnknownInstrumentSuggestsTheOption) {
  EXPECT_THAT(errors_of(with(kErrorsBase, "BTC-C-70K: -5", "BTC-C-70: -5")),
              HasSubstr("members[0].positions.A.BTC-C-70: unknown asset or option 'BTC-C-70' (did you mean "
                        "'BTC-C-70K'?)"));
}

TEST(Options, OptionsCannotBeTraded) {
  const std::string text = std::string(kErrorsBase) +
                           "trades: [{buyer: M, seller: N, asset: BTC-C-70K, quantity: 1, buyer_ccp: A, "
                           "seller_ccp: A}]\n";
  EXPECT_THAT(errors_of(text), HasSubstr("t.yaml:10:39: trades[0].asset: 'BTC-C-70K' is an option: trades in options "
                                         "are not supported; give option positions under members[].positions"));
}

TEST(Options, OptionsCannotBeTradedFromATradesFile) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / fmt::format("ccpnet_option_trades_{}", ::getpid());
  fs::create_directories(dir);
  {
    std::ofstream csv(dir / "trades.csv");
    csv << "buyer,seller,asset,quantity,buyer_ccp,seller_ccp\nM,N,BTC,1,A,A\nM,N,BTC-C-70K,2,A,A\n";
  }
  std::string errors;
  try {
    build_model(config::load_scenario_text(std::string(kErrorsBase) + "trades_file: trades.csv\n",
                                           (dir / "scenario.yaml").string()));
  } catch (const config::ScenarioError& e) {
    errors = e.what();
  }
  fs::remove_all(dir);
  EXPECT_THAT(errors, HasSubstr("trades.csv:3:5: trades_file: 'BTC-C-70K' is an option: trades in options are not "
                                "supported"));
}

TEST(Options, AnUnbalancedOptionBookNamesTheOption) {
  EXPECT_THAT(errors_of(with(kErrorsBase, "BTC-C-70K: 5", "BTC-C-70K: 4")),
              HasSubstr("t.yaml:6:13: ccps[0]: the book of CCP 'A' does not balance: its members are net BTC-C-70K -1 "
                        "(options do not cross links)"));
}

TEST(Options, VolMovesAreForDeterministicScenariosAndKnownAssets) {
  const std::string overlay =
      with(kErrorsBase,
           "ccps:", "  stress_scenarios: [{name: s, moves: {BTC: -0.1}, vol_moves: {BTC: 0.5}, overlay: true}]\nccps:");
  EXPECT_THAT(errors_of(overlay), HasSubstr("market.stress_scenarios[0].vol_moves: implied-vol moves apply to "
                                            "deterministic scenarios, not overlays"));
  const std::string unknown =
      with(kErrorsBase, "ccps:", "  stress_scenarios: [{name: s, moves: {BTC: -0.1}, vol_moves: {BTX: 0.5}}]\nccps:");
  EXPECT_THAT(errors_of(unknown),
              HasSubstr("market.stress_scenarios[0].vol_moves.BTX: unknown asset 'BTX' (did you mean 'BTC'?)"));
}

}  // namespace test_options
}  // namespace ccpnet
