// The scenario file schema (SPEC 5.3): every section as a struct that lists its
// fields once. Reading, writing the resolved scenario and the key reference in
// scenarios/README.md all come from these lists.
//
// Spelling of keys follows the SPEC's example file; units are USD, days,
// fractions (0.05 = 5%) and annualised volatilities.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "models/instruments/black76.hpp"
#include "models/settlement/finality.hpp"
#include "models/waterfall/recovery.hpp"
#include "models/waterfall/waterfall.hpp"
#include "sim/config/field.hpp"
#include "sim/model_types.hpp"

namespace ccpnet::config {

inline constexpr double kInf = std::numeric_limits<double>::infinity();

// ---------------------------------------------------------------- simulation
struct SimulationConfig {
  std::int64_t scenarios = 10'000;
  std::int64_t batch = 256;
  std::int64_t threads = 0;
  std::optional<double> horizon_days;
  std::optional<double> step_days;

  template <class A>
  void serialize(A& a) {
    a("scenarios", scenarios, {.doc = "number of Monte Carlo scenarios", .unit = "count", .min = 1.0, .max = 1.0e12});
    a("batch", batch,
      {.doc = "scenarios per batch (one matrix product per CCP per batch)",
       .unit = "count",
       .min = 1.0,
       .max = 65536.0});
    a("threads", threads, {.doc = "worker threads; 0 means all cores", .unit = "count", .min = 0.0, .max = 1024.0});
    a("horizon_days", horizon_days,
      {.doc = "days over which members pay variation margin and may default; default: the longest margin period of "
              "risk (one period, as the engine always ran)",
       .unit = "days",
       .min = 0.0,
       .max = 3650.0,
       .exclusive_min = true});
    a("step_days", step_days,
      {.doc = "length of one time step: each step the market moves, members pay the step's variation margin or "
              "default, and a member defaulting in a step is closed out over its CCP's margin period of risk from "
              "the last variation margin it paid; horizon_days must be a whole number of steps; default: "
              "horizon_days (one step)",
       .unit = "days",
       .min = 0.0,
       .max = 3650.0,
       .exclusive_min = true});
  }
};

// What the output directory holds beyond the fixed files.
struct OutputsConfig {
  bool ledger_columns = true;
  bool member_quantiles = false;
  bool liquidity_needs = false;
  std::optional<bool> defaults;

  template <class A>
  void serialize(A& a) {
    a("ledger_columns", ledger_columns,
      {.doc = "scenarios.csv carries each CCP's ledger per scenario: its close-out loss, every layer of its "
              "waterfall, link losses in and out, the losses its creditors bore if it failed and what no one "
              "bore; false keeps the narrow table for very large runs"});
    a("member_quantiles", member_quantiles,
      {.doc = "members.csv gives each member's p99 loss per scenario (as a survivor or a creditor of a failed CCP), "
              "from a sketch within 1% of the exact order statistic; it costs a sketch update per member charged "
              "per scenario (about half again the time of a stressed run of the reference network), so it is off "
              "by default"});
    a("liquidity_needs", liquidity_needs,
      {.doc = "in time steps, the largest one-step sum of the variation margin and IM called in cash from the "
              "members standing at the step's start (the spiral's IM rise; with a settlement layer the CCP's margin "
              "calls of the step: collateral top-ups, the rise less the collateral credited beyond the IM), over the "
              "system and per CCP (scenarios.csv; their means, with 95% intervals, in summary.json and ccps.csv), per "
              "member too (the metrics peak_liquidity_need, ccp_ and "
              "member_peak_liquidity_need), and in ccpnet stress; it walks every member account along every path, "
              "which costs several times a calm run, so it is off by default"});
    a("defaults", defaults,
      {.doc = "defaults.csv: one row per member default (scenario, member, its default group, day, cascade round, "
              "cause) and per CCP failure (day, round, whether its members' close-outs or its links exhausted it), in "
              "scenario order, as many member rows per scenario as scenarios.csv's member_defaults; default: true in "
              "time steps (simulation.step_days), false in one period"});
  }
};

// -------------------------------------------------------------------- market
struct AssetConfig {
  std::string id;
  double price = 0.0;
  double volatility = 0.0;
  double adv = kInf;
  std::string chain;
  double trading_days = 365.0;
  double liquidation_cost = 0.0;

  template <class A>
  void serialize(A& a) {
    a("id", id, {.doc = "asset identifier, unique", .required = true});
    a("price", price, {.doc = "price today", .unit = "USD", .min = 0.0, .exclusive_min = true, .required = true});
    a("volatility", volatility,
      {.doc = "annualised volatility of log-returns",
       .unit = "fraction per sqrt(year)",
       .min = 0.0,
       .max = 20.0,
       .required = true});
    a("adv", adv,
      {.doc = "average daily traded volume, at least 1 USD (liquidation costs and concentration add-ons divide by "
              "it); .inf means no liquidity limit",
       .unit = "USD",
       .min = 1.0,
       .allow_infinite = true});
    a("chain", chain, {.doc = "settlement chain of the asset (bitcoin, ethereum, ...); empty for off-chain"});
    a("trading_days", trading_days,
      {.doc = "trading days per year used to turn annual volatility into daily",
       .unit = "days",
       .min = 1.0,
       .max = 366.0});
    a("liquidation_cost", liquidation_cost,
      {.doc = "square-root impact coefficient k: cost = k |x| sqrt(|x| / adv) for a position of value x at the "
              "prices its close-out starts from (today's in one period; in time steps the start of the step in "
              "which its owner defaults, as are an auction's book and a fire sale's flow). The square-root law "
              "has k = Y sigma_daily with Y of order 1 (Toth et al. 2011); a larger k stands for the thinner "
              "books of a stressed market",
       .unit = "fraction",
       .min = 0.0,
       .max = 10.0});
  }
};

using OptionType = models::OptionType;
template <>
struct EnumNames<OptionType> {
  static constexpr std::array values{std::pair{OptionType::kCall, "call"}, std::pair{OptionType::kPut, "put"}};
};

// A European option on an asset (SPEC 3.2), priced by Black-76 with the
// asset's price as the forward. Positions name it by id; a quantity is a
// number of options on one unit of the underlying each.
struct OptionConfig {
  std::string id;
  std::string underlying;
  OptionType type = OptionType::kCall;
  double strike = 0.0;
  double expiry_days = 0.0;
  double implied_vol = 0.0;
  double rate = 0.0;
  double vol_beta = 0.0;

  template <class A>
  void serialize(A& a) {
    a("id", id,
      {.doc = "option identifier, unique and distinct from the asset ids (e.g. BTC-C-70K)", .required = true});
    a("underlying", underlying,
      {.doc = "asset id of the underlying; its price is the Black-76 forward", .required = true});
    a("type", type, {.doc = "call or put (European)", .required = true});
    a("strike", strike, {.doc = "strike price", .unit = "USD", .min = 0.0, .exclusive_min = true, .required = true});
    a("expiry_days", expiry_days,
      {.doc = "calendar days to expiry today (years = days / 365)",
       .unit = "days",
       .min = 0.0,
       .max = 36500.0,
       .exclusive_min = true,
       .required = true});
    a("implied_vol", implied_vol,
      {.doc = "Black-76 implied volatility today",
       .unit = "fraction per sqrt(year)",
       .min = 0.0,
       .max = 10.0,
       .exclusive_min = true,
       .required = true});
    a("rate", rate,
      {.doc = "continuously compounded rate discounting the premium", .unit = "per year", .min = -1.0, .max = 1.0});
    a("vol_beta", vol_beta,
      {.doc = "implied vol moves with the underlying: sigma' = sigma (1 + R)^vol_beta for a simple return R over the "
              "MPOR (negative: vol rises as the price falls, as in crypto and equity skews; -1 doubles the vol on a "
              "50% fall)",
       .min = -10.0,
       .max = 10.0});
  }
};

struct CorrelationPair {
  std::vector<std::string> between;
  double value = 0.0;

  template <class A>
  void serialize(A& a) {
    a("between", between, {.doc = "the two asset ids", .min_size = 2, .max_size = 2, .required = true});
    a("value", value, {.doc = "correlation of their daily log-returns", .min = -1.0, .max = 1.0, .required = true});
  }
};

enum class MatrixRepair { kNone, kNearestPsd };
template <>
struct EnumNames<MatrixRepair> {
  static constexpr std::array values{std::pair{MatrixRepair::kNone, "none"},
                                     std::pair{MatrixRepair::kNearestPsd, "nearest_psd"}};
};

// Either a full matrix (a list of rows, the shorthand) or a default plus pairs.
struct CorrelationConfig {
  static constexpr std::string_view kShorthand = "matrix";
  std::vector<std::vector<double>> matrix;
  double default_value = 0.0;
  std::vector<CorrelationPair> pairs;
  MatrixRepair repair = MatrixRepair::kNone;

  template <class A>
  void serialize(A& a) {
    a("matrix", matrix,
      {.doc = "full correlation matrix, rows in the order of market.assets", .min = -1.0, .max = 1.0});
    a("default", default_value,
      {.doc = "correlation of every pair not listed in pairs (when no matrix is given)", .min = -1.0, .max = 1.0});
    a("pairs", pairs, {.doc = "pairwise correlations overriding the default"});
    a("repair", repair, {.doc = "what to do with a matrix that is not positive semi-definite"});
  }
};

enum class ShockModel { kGaussian, kStudentT };
template <>
struct EnumNames<ShockModel> {
  static constexpr std::array values{std::pair{ShockModel::kGaussian, "gaussian"},
                                     std::pair{ShockModel::kStudentT, "student_t"}};
};

struct JumpConfig {
  double intensity = 0.0;
  double mean = 0.0;
  double stdev = 0.0;
  OrderedMap<double> beta;

  template <class A>
  void serialize(A& a) {
    a("intensity", intensity,
      {.doc = "probability of a market-wide jump per day (Poisson rate)", .unit = "per day", .min = 0.0, .max = 10.0});
    a("mean", mean, {.doc = "mean log-size of a jump", .unit = "log-return", .min = -5.0, .max = 5.0});
    a("stdev", stdev, {.doc = "standard deviation of the jump log-size", .unit = "log-return", .min = 0.0, .max = 5.0});
    a("beta", beta,
      {.doc = "per-asset loading on the jump (asset id: beta); assets not listed have beta 1",
       .min = -10.0,
       .max = 10.0});
  }
};

struct ShockConfig {
  ShockModel model = ShockModel::kGaussian;
  double dof = 4.0;
  std::optional<JumpConfig> jumps;
  double volatility_multiplier = 1.0;

  template <class A>
  void serialize(A& a) {
    a("model", model, {.doc = "distribution of daily log-returns"});
    a("dof", dof,
      {.doc = "degrees of freedom of the Student-t (scaled to unit variance)",
       .min = 2.0,
       .max = 1000.0,
       .exclusive_min = true});
    a("jumps", jumps, {.doc = "optional market-wide jumps"});
    a("volatility_multiplier", volatility_multiplier,
      {.doc = "scales every asset's volatility in the scenarios (stress calibration)", .min = 0.0, .max = 100.0});
  }
};

// A stress scenario as the file gives it: the model's StressScenario
// (sim/model_types.hpp) and its fields.
struct StressScenarioConfig : StressScenario {
  template <class A>
  void serialize(A& a) {
    a("name", name, {.doc = "name of the stress scenario", .required = true});
    a("moves", moves,
      {.doc = "price move per asset over the period (asset id: -0.35 for -35%); this or path",
       .unit = "fraction",
       .min = -1.0,
       .max = 100.0,
       .exclusive_min = true});
    a("path", path,
      {.doc = "the moves day by day instead of moves over days: element d is each asset's move on day d + 1 "
              "(asset id: -0.05 for -5% that day), so that an episode replays day by day in time steps; its length "
              "is the scenario's days, a fraction of a day takes that share of the day's log-move; this or moves",
       .unit = "fraction",
       .min = -1.0,
       .max = 100.0,
       .exclusive_min = true});
    a("days", days,
      {.doc = "days over which the moves happen", .unit = "days", .min = 0.0, .max = 3650.0, .exclusive_min = true});
    a("vol_moves", vol_moves,
      {.doc = "relative move of the implied vol of every option on an asset (asset id: 0.5 for vol up 50%), on top "
              "of the options' vol_beta; realised over the days like the price moves (a CCP whose MPOR h is shorter "
              "sees (1 + v)^(h / days)); deterministic scenarios only",
       .unit = "fraction",
       .min = -1.0,
       .max = 100.0,
       .exclusive_min = true});
    a("overlay", overlay, {.doc = "true: add the moves to each random scenario; false: a deterministic scenario"});
    a("halted_chains", halted_chains,
      {.doc = "chains that halt in this scenario (deterministic scenarios; finality times are otherwise their "
              "means)"});
    a("exploited_bridges", exploited_bridges, {.doc = "bridges exploited in this scenario (deterministic scenarios)"});
    a("exploit_day", exploit_day,
      {.doc = "in time steps, the day the exploited_bridges are exploited (in the step that contains it; default the "
              "first day); at most the horizon; in one period they are exploited at the start",
       .unit = "days",
       .min = 0.0,
       .max = 3650.0,
       .exclusive_min = true});
  }
};

using HistoryMode = ccpnet::HistoryMode;
template <>
struct EnumNames<HistoryMode> {
  static constexpr std::array values{std::pair{HistoryMode::kReplay, "replay"},
                                     std::pair{HistoryMode::kBootstrap, "bootstrap"}};
};

// A price history (SPEC 3.1): scenarios replay it or resample it.
struct HistoryConfig {
  std::string file;
  HistoryMode mode = HistoryMode::kReplay;

  template <class A>
  void serialize(A& a) {
    a("file", file,
      {.doc = "CSV of daily prices, relative to the scenario file: a header row, a column 'date' (yyyy-mm-dd, "
              "increasing) and one column per asset id of market.assets (USD, > 0), one row per day, at least one "
              "more day than the longest MPOR",
       .required = true});
    a("mode", mode,
      {.doc = "replay: scenario i is the run of daily log-returns starting at day i mod W (W = days - D, D the "
              "longest MPOR rounded up to whole days), returns cumulated over each MPOR as in the shock model (whole "
              "days, then the square-root share of a fractional last day); bootstrap: each day of a scenario drawn "
              "with replacement from the daily log-returns (stream 'history')"});
  }
};

struct MarketConfig {
  std::vector<AssetConfig> assets;
  std::vector<OptionConfig> options;
  CorrelationConfig correlation;
  ShockConfig shocks;
  std::vector<StressScenarioConfig> stress_scenarios;
  std::optional<HistoryConfig> history;
  bool fire_sales = false;

  template <class A>
  void serialize(A& a) {
    a("assets", assets, {.doc = "traded assets", .min_size = 1, .required = true});
    a("options", options,
      {.doc = "European options on the assets, revalued in full (Black-76) in every scenario, stress move and "
              "scenario_grid margin; options enter parametric/historical/tiered margin by their delta (delta x "
              "price x quantity added to the underlying's position value), as do liquidation costs and notionals. "
              "Members hold them in positions; they cannot be traded in trades or cross links: a CCP's option book "
              "that its members do not net goes to its rest-of-market account (imbalance: rest_of_market)"});
    a("correlation", correlation, {.doc = "correlation of daily log-returns; identity when absent"});
    a("shocks", shocks, {.doc = "random shock model"});
    a("stress_scenarios", stress_scenarios, {.doc = "named deterministic moves"});
    a("history", history,
      {.doc = "historical prices: when given, Monte Carlo scenarios replay or resample them instead of drawing from "
              "market.shocks (overlay stress scenarios still add to each), and historical margin models take their "
              "history from them"});
    a("fire_sales", fire_sales,
      {.doc = "liquidations move prices: the net value of an asset that defaulters' close-outs trade in a time step, "
              "X, at every CCP together, moves its price by sign(X) k sqrt(|X| / adv) (k: the asset's "
              "liquidation_cost; a fall of at most 99%); every close-out of the step executes at the moved price "
              "(instead of its own square-root cost alone) and the move stays in the price for everyone from the "
              "next step on. Runs in time steps (one step of the longest MPOR unless simulation.horizon_days or "
              "step_days say otherwise)"});
  }
};

// --------------------------------------------------------------- settlement
using FinalityFamily = models::FinalityFamily;
template <>
struct EnumNames<FinalityFamily> {
  static constexpr std::array values{
      std::pair{FinalityFamily::kFixed, "fixed"}, std::pair{FinalityFamily::kExponential, "exponential"},
      std::pair{FinalityFamily::kGamma, "gamma"}, std::pair{FinalityFamily::kLognormal, "lognormal"}};
};

struct FinalityConfig {
  FinalityFamily distribution = FinalityFamily::kFixed;
  double mean_hours = 0.0;
  double shape = 1.0;
  double sigma = 0.5;

  template <class A>
  void serialize(A& a) {
    a("distribution", distribution,
      {.doc = "family of the time to finality: fixed, exponential, gamma (shape blocks of a Poisson chain), "
              "lognormal"});
    a("mean_hours", mean_hours,
      {.doc = "mean time until a transfer is final", .unit = "hours", .min = 0.0, .max = 1.0e5, .required = true});
    a("shape", shape,
      {.doc = "gamma shape: number of blocks (confirmations)",
       .unit = "count",
       .min = 0.0,
       .max = 1.0e4,
       .exclusive_min = true});
    a("sigma", sigma,
      {.doc = "lognormal standard deviation of the log time", .min = 0.0, .max = 10.0, .exclusive_min = true});
  }
};

struct CongestionConfig {
  double market_drop = 0.10;
  double multiplier = 1.0;

  template <class A>
  void serialize(A& a) {
    a("market_drop", market_drop,
      {.doc = "the chain congests in a scenario whose equally weighted move of the assets settling on it (all "
              "assets when none does) over the shortest margin period falls by at least this much",
       .unit = "fraction",
       .min = 0.0,
       .max = 1.0});
    a("multiplier", multiplier,
      {.doc = "finality times of a congested chain are multiplied by this", .min = 1.0, .max = 1.0e4});
  }
};

struct ChainConfig {
  std::string id;
  FinalityConfig finality;
  std::optional<CongestionConfig> congestion;
  double halt_probability = 0.0;
  double halt_hours = 0.0;
  double challenge_days = 0.0;

  template <class A>
  void serialize(A& a) {
    a("id", id,
      {.doc = "chain identifier, as named by assets and CCPs; bitcoin, ethereum, solana, arbitrum and optimism have "
              "built-in calibrations that an entry with the same id replaces",
       .required = true});
    a("finality", finality, {.doc = "time to finality in calm markets", .required = true});
    a("congestion", congestion, {.doc = "finality stretched in crashes"});
    a("halt_probability", halt_probability,
      {.doc = "probability per scenario that the chain halts", .unit = "probability", .min = 0.0, .max = 1.0});
    a("halt_hours", halt_hours, {.doc = "how long a halt delays finality", .unit = "hours", .min = 0.0, .max = 1.0e5});
    a("challenge_days", challenge_days,
      {.doc = "optimistic-rollup challenge period a withdrawal waits (l2_optimistic settlement)",
       .unit = "days",
       .min = 0.0,
       .max = 365.0});
  }
};

// Built-in calibrations of common chains (SPEC 3.8): Bitcoin's 6 confirmations
// of 10-minute blocks (mean 60 min), Ethereum's finality after two epochs
// (64 slots of 12 s = 768 s), Solana's 32 confirmed slots of 0.4 s, and the
// optimistic rollups' withdrawal challenge periods (Arbitrum about 6.4 days,
// Optimism 7 days) on top of Ethereum finality.
inline std::vector<ChainConfig> builtin_chains() {
  const auto chain = [](std::string id, FinalityFamily family, double mean_hours, double shape, double challenge) {
    ChainConfig c;
    c.id = std::move(id);
    c.finality.distribution = family;
    c.finality.mean_hours = mean_hours;
    c.finality.shape = shape;
    c.challenge_days = challenge;
    return c;
  };
  return {chain("bitcoin", FinalityFamily::kGamma, 1.0, 6.0, 0.0),
          chain("ethereum", FinalityFamily::kFixed, 768.0 / 3600.0, 1.0, 0.0),
          chain("solana", FinalityFamily::kFixed, 12.8 / 3600.0, 1.0, 0.0),
          chain("arbitrum", FinalityFamily::kFixed, 768.0 / 3600.0, 1.0, 6.4),
          chain("optimism", FinalityFamily::kFixed, 768.0 / 3600.0, 1.0, 7.0)};
}

struct BridgeConfig {
  std::string id;
  double exploit_probability = 0.0;
  double recovery_rate = 0.0;
  double delay_hours = 0.0;

  template <class A>
  void serialize(A& a) {
    a("id", id, {.doc = "bridge identifier, unique", .required = true});
    a("exploit_probability", exploit_probability,
      {.doc = "probability per scenario that the bridge is exploited: what is held or in flight through it is lost",
       .unit = "probability",
       .min = 0.0,
       .max = 1.0});
    a("recovery_rate", recovery_rate,
      {.doc = "share of the exploited amounts later recovered", .unit = "fraction", .min = 0.0, .max = 1.0});
    a("delay_hours", delay_hours,
      {.doc = "time a transfer takes to cross the bridge, on top of the chain's finality",
       .unit = "hours",
       .min = 0.0,
       .max = 1.0e4});
  }
};

struct SettlementConfig {
  bool instant = false;
  std::vector<ChainConfig> chains;
  std::vector<BridgeConfig> bridges;

  template <class A>
  void serialize(A& a) {
    a("instant", instant,
      {.doc = "settle everything instantly and with finality, whatever the CCPs' modes (the reference a "
              "`compare` variant measures settlement risk against)"});
    a("chains", chains, {.doc = "settlement chains and their finality"});
    a("bridges", bridges, {.doc = "cross-chain bridges"});
  }
};

// --------------------------------------------------------------------- CCPs
using CcpKind = ccpnet::CcpKind;
template <>
struct EnumNames<CcpKind> {
  static constexpr std::array values{std::pair{CcpKind::kTraditional, "traditional"},
                                     std::pair{CcpKind::kCryptoVenue, "crypto_venue"},
                                     std::pair{CcpKind::kLendingProtocol, "lending_protocol"}};
};

enum class QuantileDistribution { kNormal, kStudentT };
template <>
struct EnumNames<QuantileDistribution> {
  static constexpr std::array values{std::pair{QuantileDistribution::kNormal, "normal"},
                                     std::pair{QuantileDistribution::kStudentT, "student_t"}};
};

struct ParametricMargin {
  static constexpr std::string_view kTag = "parametric";
  double confidence = 0.99;
  QuantileDistribution distribution = QuantileDistribution::kNormal;
  double dof = 4.0;

  template <class A>
  void serialize(A& a) {
    a("confidence", confidence,
      {.doc = "quantile level alpha of the margin VaR", .min = 0.5, .max = 1.0, .exclusive_max = true});
    a("distribution", distribution, {.doc = "quantile of a normal or of a unit-variance Student-t"});
    a("dof", dof,
      {.doc = "Student-t degrees of freedom when distribution is student_t",
       .min = 2.0,
       .max = 1000.0,
       .exclusive_min = true});
  }
};

struct MarginTier {
  double up_to = kInf;
  double im = 0.0;
  std::optional<double> mm;

  template <class A>
  void serialize(A& a) {
    a("up_to", up_to,
      {.doc = "upper notional bound of the tier; .inf for the last",
       .unit = "USD",
       .min = 0.0,
       .exclusive_min = true,
       .allow_infinite = true,
       .required = true});
    a("im", im,
      {.doc = "initial margin rate on notional in the tier",
       .unit = "fraction",
       .min = 0.0,
       .max = 1.0,
       .required = true});
    a("mm", mm,
      {.doc = "maintenance margin rate on notional in the tier (at most im), crypto venues: given on every tier, it "
              "runs the venue's liquidation engine on each member account (equity = IM + P&L below the maintenance "
              "margin at the mark after the scenario's move: closed in the market, the insurance fund takes the "
              "shortfall or the surplus)",
       .unit = "fraction",
       .min = 0.0,
       .max = 1.0});
  }
};

struct TieredMargin {
  static constexpr std::string_view kTag = "tiered";
  std::vector<MarginTier> tiers;

  template <class A>
  void serialize(A& a) {
    a("tiers", tiers, {.doc = "notional tiers in increasing order of up_to", .min_size = 1, .required = true});
  }
};

enum class RiskMeasureKind { kVar, kExpectedShortfall };
template <>
struct EnumNames<RiskMeasureKind> {
  static constexpr std::array values{std::pair{RiskMeasureKind::kVar, "var"},
                                     std::pair{RiskMeasureKind::kExpectedShortfall, "es"}};
};

struct HistoricalMargin {
  static constexpr std::string_view kTag = "historical";
  double confidence = 0.99;
  RiskMeasureKind measure = RiskMeasureKind::kVar;
  std::int64_t lookback_days = 750;

  template <class A>
  void serialize(A& a) {
    a("confidence", confidence, {.doc = "quantile level alpha", .min = 0.5, .max = 1.0, .exclusive_max = true});
    a("measure", measure, {.doc = "value at risk, or expected shortfall (mean of the losses beyond it)"});
    a("lookback_days", lookback_days,
      {.doc = "days of price history: the last lookback_days daily returns of market.history (all of them when "
              "it is shorter), or without it a path drawn from the market's own shock model (stream 'history'); the "
              "loss quantile is taken over the overlapping MPOR-day returns in it, the k-th worst with "
              "k = ceil(n (1 - confidence))",
       .unit = "days",
       .min = 10.0,
       .max = 100000.0});
  }
};

struct ScenarioGridMargin {
  static constexpr std::string_view kTag = "scenario_grid";
  double scan_sigmas = 3.0;
  std::int64_t price_steps = 7;
  std::vector<double> vol_moves;

  template <class A>
  void serialize(A& a) {
    a("scan_sigmas", scan_sigmas,
      {.doc = "price scan range in standard deviations of the MPOR return (SPAN-like worst loss over the grid)",
       .unit = "standard deviations",
       .min = 0.0,
       .max = 50.0,
       .exclusive_min = true});
    a("price_steps", price_steps,
      {.doc = "price moves of the grid, equally spaced log-returns over -scan to +scan (7: SPAN's 0, +-1/3, +-2/3, "
              "+-3/3); linear positions lose most at an end, options are revalued at every step",
       .unit = "count",
       .min = 2.0,
       .max = 1001.0});
    a("vol_moves", vol_moves,
      {.doc = "implied-vol moves of the grid, relative (0.5: every option's vol up 50%), each combined with every "
              "price move; empty: vol unchanged. Options are revalued in full (Black-76) at each point, with the "
              "MPOR's time decay (vol_beta does not apply: the grid spans vol independently of price); the IM "
              "of an account is the sum over underlyings of the worst loss of its book on each (no spread credit)",
       .unit = "fraction",
       .min = -1.0,
       .max = 100.0,
       .exclusive_min = true});
  }
};

using MarginModelConfig = std::variant<ParametricMargin, HistoricalMargin, ScenarioGridMargin, TieredMargin>;

enum class ApcMode { kNone, kBuffer, kStressedWeight };
template <>
struct EnumNames<ApcMode> {
  static constexpr std::array values{std::pair{ApcMode::kNone, "none"}, std::pair{ApcMode::kBuffer, "buffer"},
                                     std::pair{ApcMode::kStressedWeight, "stressed_weight"}};
};

// Anti-procyclicality (EMIR RTS 153/2013 art. 28).
struct ApcConfig {
  ApcMode mode = ApcMode::kNone;
  double buffer = 0.25;
  double stressed_multiplier = 2.0;
  double stressed_weight = 0.25;

  template <class A>
  void serialize(A& a) {
    a("mode", mode,
      {.doc = "buffer: a margin buffer collected in calm times (IM x (1 + buffer)); stressed_weight: volatility "
              "weighted with a stressed period's"});
    a("buffer", buffer, {.doc = "size of the buffer", .unit = "fraction", .min = 0.0, .max = 10.0});
    a("stressed_multiplier", stressed_multiplier,
      {.doc = "stressed-period volatility as a multiple of the current one",
       .unit = "multiple",
       .min = 1.0,
       .max = 100.0});
    a("stressed_weight", stressed_weight,
      {.doc = "weight of the stressed volatility (RTS 153/2013: at least 25%)",
       .unit = "fraction",
       .min = 0.0,
       .max = 1.0});
  }
};

struct SpiralConfig {
  double lambda = 0.94;

  template <class A>
  void serialize(A& a) {
    a("lambda", lambda,
      {.doc = "decay of the CCP's EWMA volatility estimate (RiskMetrics daily 0.94): in a scenario the CCP "
              "updates each asset's volatility with the move and runs its margin model again on the positions' values "
              "after the move (parametric: sqrt(u' S1 u) / sqrt(v' S0 v) times the IM held)",
       .min = 0.0,
       .max = 1.0});
  }
};

struct MarginConfig {
  MarginModelConfig model;
  double mpor_days = 2.0;
  ApcConfig apc;
  std::optional<double> concentration_participation;
  std::optional<SpiralConfig> spiral;

  template <class A>
  void serialize(A& a) {
    a.tagged("model", model, {.doc = "margin model"});
    a("mpor_days", mpor_days,
      {.doc = "margin period of risk (fractional days allowed)",
       .unit = "days",
       .min = 0.0,
       .max = 60.0,
       .exclusive_min = true});
    a("apc", apc, {.doc = "anti-procyclicality measure"});
    a("spiral", spiral,
      {.doc = "margin spiral: recompute IM on the positions' values at the prices after the scenario's move and "
              "the EWMA volatility updated by it, and call the increase in cash (an APC buffer absorbs it first, "
              "collateral credited beyond the IM covers it next); "
              "in time steps at every step's end on the path's prices (parametric and scenario_grid models only)"});
    a("concentration_participation", concentration_participation,
      {.doc = "concentration add-on: a position is liquidated at this share of the asset's daily volume, so a large "
              "one takes longer than the MPOR; the add-on is q sigma_d |x| (sqrt(H) - sqrt(h)) per asset with "
              "H = |x| / (participation x adv); at least 0.001 (0.1% of the daily volume)",
       .unit = "fraction",
       .min = 0.001,
       .max = 1.0});
  }
};

enum class DefaultFundSizing { kFixed, kCover1, kCover2 };
template <>
struct EnumNames<DefaultFundSizing> {
  static constexpr std::array values{std::pair{DefaultFundSizing::kFixed, "fixed"},
                                     std::pair{DefaultFundSizing::kCover1, "cover1"},
                                     std::pair{DefaultFundSizing::kCover2, "cover2"}};
};

enum class CoverVariant { kEmir, kBoe };
template <>
struct EnumNames<CoverVariant> {
  static constexpr std::array values{std::pair{CoverVariant::kEmir, "emir"}, std::pair{CoverVariant::kBoe, "boe"}};
};

enum class FundAllocation { kIm, kUncoveredStress };
template <>
struct EnumNames<FundAllocation> {
  static constexpr std::array values{std::pair{FundAllocation::kIm, "im"},
                                     std::pair{FundAllocation::kUncoveredStress, "uncovered_stress"}};
};

struct DefaultFundConfig {
  DefaultFundSizing sizing = DefaultFundSizing::kCover2;
  std::optional<double> amount;
  CoverVariant variant = CoverVariant::kEmir;
  FundAllocation allocation = FundAllocation::kIm;

  template <class A>
  void serialize(A& a) {
    a("sizing", sizing, {.doc = "how the fund is sized"});
    a("amount", amount, {.doc = "fund size when sizing is fixed", .unit = "USD", .min = 0.0});
    a("variant", variant,
      {.doc = "cover2 only. emir (EMIR art. 42(3), 43(2)): the fund covers the largest group's uncovered stress loss "
              "or the 2nd and 3rd together, and with the SITG the two largest; boe (Bank of England supervisory "
              "stress tests): also enough that whichever two groups default, each taking its own contribution "
              "first, the survivors' contributions are not exhausted; the cover groups are then the two that "
              "deplete mutualised resources most"});
    a("allocation", allocation,
      {.doc = "how the fund is shared among contributors (after observed contributions): im, pro rata to initial "
              "margin; uncovered_stress, pro rata to each account's largest uncovered stress loss (all zero: equal "
              "shares)"});
  }
};

using LayerKind = models::Layer;
template <>
struct EnumNames<LayerKind> {
  static constexpr std::array values{std::pair{LayerKind::kDefaulterIm, "defaulter_im"},
                                     std::pair{LayerKind::kDefaulterDf, "defaulter_df"},
                                     std::pair{LayerKind::kSitg, "sitg"},
                                     std::pair{LayerKind::kSitg2, "sitg2"},
                                     std::pair{LayerKind::kMutualizedDf, "mutualized_df"},
                                     std::pair{LayerKind::kAssessments, "assessments"},
                                     std::pair{LayerKind::kVmgh, "vmgh"},
                                     std::pair{LayerKind::kInsuranceFund, "insurance_fund"},
                                     std::pair{LayerKind::kAdl, "adl"},
                                     std::pair{LayerKind::kLenderHaircut, "lender_haircut"},
                                     std::pair{LayerKind::kCcpEquity, "ccp_equity"}};
};

struct AssessmentConfig {
  double multiple = 1.0;

  template <class A>
  void serialize(A& a) {
    a("multiple", multiple,
      {.doc = "cap on cash calls per surviving member, as a multiple of its DF contribution",
       .unit = "multiple",
       .min = 0.0,
       .max = 100.0});
  }
};

using SettlementMode = ccpnet::SettlementMode;
template <>
struct EnumNames<SettlementMode> {
  static constexpr std::array values{
      std::pair{SettlementMode::kInstant, "instant"}, std::pair{SettlementMode::kAtomic, "atomic"},
      std::pair{SettlementMode::kFreeOfPayment, "free_of_payment"}, std::pair{SettlementMode::kBridge, "bridge"},
      std::pair{SettlementMode::kL2Optimistic, "l2_optimistic"}};
};

struct CcpSettlementConfig {
  SettlementMode mode = SettlementMode::kInstant;
  std::string chain;
  std::string bridge;
  double deadline_hours = 2.0;
  double time_lock_hours = 24.0;
  double in_flight = 0.0;

  template <class A>
  void serialize(A& a) {
    a("mode", mode,
      {.doc = "instant; atomic (DvP by HTLC: a swap aborts when its legs are not final within the time lock); "
              "free_of_payment (principal risk: the side that performed first loses what is in flight when the "
              "other defaults); bridge (payments and deliveries cross a bridge that can be exploited); "
              "l2_optimistic (withdrawals wait the chain's challenge period)"});
    a("chain", chain,
      {.doc = "chain that variation margin is paid on (deliveries of an asset settle on the asset's chain, or on "
              "this one when the asset has none); required unless mode is instant"});
    a("bridge", bridge, {.doc = "bridge id (mode bridge)"});
    a("deadline_hours", deadline_hours,
      {.doc = "time after the call by which margin calls must be paid: VM gains not final by a member's earliest "
              "deadline do not count toward its liquidity",
       .unit = "hours",
       .min = 0.0,
       .max = 1.0e4});
    a("time_lock_hours", time_lock_hours,
      {.doc = "HTLC time lock of the participant's leg (atomic); replacement costs of an aborted swap accrue over "
              "it",
       .unit = "hours",
       .min = 0.0,
       .max = 1.0e4,
       .exclusive_min = true});
    a("in_flight", in_flight,
      {.doc = "share of each account's gross position value being delivered at any time (spot and physically "
              "settled trades): the principal at risk in a fail",
       .unit = "fraction",
       .min = 0.0,
       .max = 1.0});
  }
};

using Custody = ccpnet::Custody;
template <>
struct EnumNames<Custody> {
  static constexpr std::array values{
      std::pair{Custody::kCcp, "ccp"}, std::pair{Custody::kSmartContract, "smart_contract"},
      std::pair{Custody::kCustodian, "custodian"}, std::pair{Custody::kBridge, "bridge"}};
};

struct CollateralConfig {
  Custody custody = Custody::kCcp;
  std::string bridge;
  std::string asset;
  double share = 1.0;
  double haircut = 0.0;

  template <class A>
  void serialize(A& a) {
    a("custody", custody,
      {.doc = "where members' IM and default-fund contributions are held: ccp (returned on the CCP's failure only "
              "when im_segregated), smart_contract or custodian (bankruptcy-remote), bridge (bankruptcy-remote but "
              "lost, up to the bridge's recovery rate, when the bridge is exploited)"});
    a("bridge", bridge, {.doc = "bridge id (custody bridge)"});
    a("asset", asset,
      {.doc = "asset members post as IM collateral (empty: cash); its value moves with the scenario and a fall "
              "below the haircut-adjusted IM is called in cash"});
    a("share", share, {.doc = "share of IM posted in that asset", .unit = "fraction", .min = 0.0, .max = 1.0});
    a("haircut", haircut,
      {.doc = "haircut on the collateral asset: IM is covered by value x (1 - haircut)",
       .unit = "fraction",
       .min = 0.0,
       .max = 1.0,
       .exclusive_max = true});
  }
};

enum class ImbalancePolicy { kError, kRestOfMarket, kDirectMembership };
template <>
struct EnumNames<ImbalancePolicy> {
  static constexpr std::array values{std::pair{ImbalancePolicy::kError, "error"},
                                     std::pair{ImbalancePolicy::kRestOfMarket, "rest_of_market"},
                                     std::pair{ImbalancePolicy::kDirectMembership, "direct_membership"}};
};

// How a CCP absorbs a loss that reaches it over an interoperability link (a
// failed peer's unpaid obligations, or a charge by a surviving peer's
// waterfall): through its whole waterfall as for a defaulting member, or only
// through the link's dedicated resources and its own capital.
using LinkLossRule = ccpnet::LinkLossRule;
template <>
struct EnumNames<LinkLossRule> {
  static constexpr std::array values{std::pair{LinkLossRule::kWaterfall, "waterfall"},
                                     std::pair{LinkLossRule::kOwnCapital, "own_capital"}};
};

// The close factor of a lending protocol's liquidations: Aave v3.3's
// constants (LiquidationLogic.sol) as defaults.
struct CloseFactorConfig {
  double factor = 0.5;
  double hf_threshold = 0.95;
  double dust_threshold = 2000.0;
  double min_leftover = 1000.0;

  template <class A>
  void serialize(A& a) {
    a("factor", factor,
      {.doc = "largest share of the account's total debt value one liquidation may repay while the health factor is "
              "above hf_threshold and the reserve's debt and collateral are worth at least dust_threshold "
              "(DEFAULT_LIQUIDATION_CLOSE_FACTOR); otherwise the whole debt of the reserve",
       .unit = "fraction",
       .min = 0.0,
       .max = 1.0,
       .exclusive_min = true});
    a("hf_threshold", hf_threshold,
      {.doc = "at or below this health factor a liquidation may repay the whole debt of the reserve "
              "(CLOSE_FACTOR_HF_THRESHOLD)",
       .min = 0.0,
       .max = 1.0});
    a("dust_threshold", dust_threshold,
      {.doc = "a reserve whose debt or collateral is worth less may be repaid in full "
              "(MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD)",
       .unit = "USD",
       .min = 0.0,
       .max = 1.0e15});
    a("min_leftover", min_leftover,
      {.doc = "a liquidation that repays only part of the reserve's debt and seizes only part of the collateral "
              "leaves at least this much of each; the liquidator repays less (MIN_LEFTOVER_BASE)",
       .unit = "USD",
       .min = 0.0,
       .max = 1.0e15});
  }
};

// One asset's liquidation rules at a lending protocol.
struct LendingAssetConfig {
  std::string id;
  std::optional<double> liquidation_threshold;
  std::optional<double> liquidation_bonus;

  template <class A>
  void serialize(A& a) {
    a("id", id, {.doc = "asset id (of market.assets)", .required = true});
    a("liquidation_threshold", liquidation_threshold,
      {.doc = "LT of the asset as collateral; default: the protocol's liquidation_threshold",
       .unit = "fraction",
       .min = 0.0,
       .max = 1.0,
       .exclusive_min = true});
    a("liquidation_bonus", liquidation_bonus,
      {.doc = "liquidator's bonus on this collateral; default: the protocol's liquidation_bonus",
       .unit = "fraction",
       .min = 0.0,
       .max = 1.0});
  }
};

// An efficiency-mode category (Aave v3 e-mode): its own LT and bonus for the
// collateral assets in it, for the members that entered it.
struct EModeConfig {
  std::int64_t id = 1;
  double liquidation_threshold = 0.0;
  double liquidation_bonus = 0.0;
  std::vector<std::string> assets;
  std::vector<std::string> members;

  template <class A>
  void serialize(A& a) {
    a("id", id, {.doc = "category id, unique at the protocol", .min = 1.0, .max = 255.0, .required = true});
    a("liquidation_threshold", liquidation_threshold,
      {.doc = "LT of the category's collateral assets for its members",
       .unit = "fraction",
       .min = 0.0,
       .max = 1.0,
       .exclusive_min = true,
       .required = true});
    a("liquidation_bonus", liquidation_bonus,
      {.doc = "liquidator's bonus on the category's collateral assets for its members",
       .unit = "fraction",
       .min = 0.0,
       .max = 1.0,
       .required = true});
    a("assets", assets, {.doc = "asset ids in the category", .min_size = 1, .required = true});
    a("members", members, {.doc = "members whose account at the protocol entered the category"});
  }
};

// Liquidation rules of a lending protocol (kind lending_protocol), after
// Aave v3: an account (long positions collateral, short positions debt) whose
// health factor falls below 1 on the scenario's path is liquidated, by calls
// the close factor bounds, again whenever it falls below 1 again.
struct LendingConfig {
  double liquidation_threshold = 0.825;
  double liquidation_bonus = 0.05;
  double oracle_delay_hours = 0.0;
  CloseFactorConfig close_factor;
  std::vector<LendingAssetConfig> assets;
  std::vector<EModeConfig> emode;

  template <class A>
  void serialize(A& a) {
    a("liquidation_threshold", liquidation_threshold,
      {.doc = "LT of every collateral asset not listed in assets: health factor = sum of collateral value x LT / "
              "debt value; an account is liquidated when it falls below 1",
       .unit = "fraction",
       .min = 0.0,
       .max = 1.0,
       .exclusive_min = true});
    a("liquidation_bonus", liquidation_bonus,
      {.doc = "liquidator's bonus on the collateral it seizes (every asset not listed in assets): repaying debt D "
              "takes collateral worth D (1 + bonus)",
       .unit = "fraction",
       .min = 0.0,
       .max = 1.0});
    a("oracle_delay_hours", oracle_delay_hours,
      {.doc = "time from the health factor falling below 1 (prices on a log-linear path over the MPOR) to the "
              "liquidation's execution, each time it does",
       .unit = "hours",
       .min = 0.0,
       .max = 1.0e4});
    a("close_factor", close_factor, {.doc = "how much of the debt one liquidation may repay (Aave v3.3 defaults)"});
    a("assets", assets, {.doc = "per-asset liquidation threshold and bonus (Aave v3 reserves)"});
    a("emode", emode, {.doc = "efficiency-mode categories (Aave v3 e-mode)"});
  }
};

// Caps on variation-margin gains haircutting (the vmgh layer): one rate on
// every surviving account's VM gain, the largest that respects every cap;
// what the caps leave passes to the next layer.
struct VmghConfig {
  double max_rate = 1.0;
  std::optional<double> per_call;
  std::optional<double> total;
  std::optional<double> per_step;

  template <class A>
  void serialize(A& a) {
    a("max_rate", max_rate,
      {.doc = "largest share of each survivor's VM gain one round of defaults may haircut",
       .unit = "fraction",
       .min = 0.0,
       .max = 1.0});
    a("per_call", per_call,
      {.doc = "most the layer may take in one round of defaults (members' and link losses together); default: "
              "uncapped",
       .unit = "USD",
       .min = 0.0});
    a("total", total,
      {.doc = "most the layer may take over a scenario, all rounds together; default: uncapped",
       .unit = "USD",
       .min = 0.0});
    a("per_step", per_step,
      {.doc = "most the layer may take in one time step, all its rounds together (with step_days: 1, a per-day cap "
              "of a default management process over several days); in one period, over the period; default: "
              "uncapped",
       .unit = "USD",
       .min = 0.0});
  }
};

// Auto-deleveraging (the adl layer): the ranking of the opposite-side
// accounts, highest deleveraged first (models/waterfall/adl.hpp).
enum class AdlRankingRule { kBitmex, kPnl, kLeverage };
template <>
struct EnumNames<AdlRankingRule> {
  static constexpr std::array values{std::pair{AdlRankingRule::kBitmex, "bitmex"},
                                     std::pair{AdlRankingRule::kPnl, "pnl"},
                                     std::pair{AdlRankingRule::kLeverage, "leverage"}};
};

struct AdlConfig {
  AdlRankingRule ranking = AdlRankingRule::kBitmex;

  template <class A>
  void serialize(A& a) {
    a("ranking", ranking,
      {.doc = "order of the opposite-side accounts, highest first, with PnL% = unrealised P&L / entry value and "
              "effective leverage = mark value / (margin + unrealised P&L): bitmex (PnL% x effective leverage for "
              "a gain, PnL% / effective leverage otherwise), pnl (PnL% alone) or leverage (effective leverage "
              "alone)"});
  }
};

// The hypothetical and historical families of a CCP's default-fund stress set
// beyond its directional moves and the file's named ones (RTS 153/2013 art.
// 30; models/default_fund/stress_set.hpp).
struct StressSetConfig {
  bool single_asset = true;
  bool spreads = true;
  double stressed_correlation = 0.0;
  bool history = true;

  template <class A>
  void serialize(A& a) {
    a("single_asset", single_asset,
      {.doc = "each asset alone up, and down, by stress_sigma daily standard deviations over the MPOR, the others "
              "unmoved (2 per asset)"});
    a("spreads", spreads,
      {.doc = "spread moves: for each ordered pair of assets, the first up and the second down, each by its "
              "stress move times sqrt((1 - stressed_correlation) / 2), so that the pair moves stress_sigma standard "
              "deviations apart under the stressed correlation (A (A - 1) moves for A assets): a hedged book loses "
              "on both legs"});
    a("stressed_correlation", stressed_correlation,
      {.doc = "correlation of the two assets of a spread move once it breaks: 0 (decorrelation) scales each leg "
              "by 1/sqrt(2), -1 moves each leg its full stress move",
       .unit = "correlation",
       .min = -1.0,
       .max = 1.0});
    a("history", history,
      {.doc = "with market.history: every window of the history of the CCP's MPOR rounded up to whole days, the "
              "assets' joint move over it (the worst windows for each book are among them)"});
  }
};

// ---- default management: auction, juniorisation, recovery tools
// Close-out by hedge and auction (models/waterfall/auction.hpp): the
// defaulter's portfolio is hedged, then auctioned at a discount that grows
// with its size against the bidders' depth; what the reserve leaves unplaced
// goes on to the recovery tools.
struct AuctionConfig {
  double hedge_cost = 0.0;
  double base_discount = 0.0;
  double slope = 0.0;
  double exponent = 0.5;
  double depth = 0.0;
  double reserve_discount = 1.0;
  bool juniorisation = false;
  double bidder_share = 1.0;

  template <class A>
  void serialize(A& a) {
    a("hedge_cost", hedge_cost,
      {.doc = "cost of hedging the defaulter's portfolio before the auction (the spread paid to neutralise its "
              "directional risk), a share of its gross value",
       .unit = "fraction",
       .min = 0.0,
       .max = 1.0});
    a("base_discount", base_discount,
      {.doc = "the auction's discount on a small portfolio: d(x) = base_discount + slope (x / depth)^exponent, a "
              "share of the value x placed (Ferrara, Li & Marszalec 2020: bidders' capacity limits their bids)",
       .unit = "fraction",
       .min = 0.0,
       .max = 1.0});
    a("slope", slope,
      {.doc = "k in d(x) = base_discount + k (x / depth)^exponent", .unit = "fraction", .min = 0.0, .max = 100.0});
    a("exponent", exponent,
      {.doc = "exponent of the portfolio's size against depth (0.5: square-root, as market impact)",
       .min = 0.0,
       .max = 10.0,
       .exclusive_min = true});
    a("depth", depth,
      {.doc = "the bidders' depth: the gross value the surviving members can absorb at a discount of base_discount "
              "+ slope",
       .unit = "USD",
       .min = 0.0,
       .exclusive_min = true,
       .required = true});
    a("reserve_discount", reserve_discount,
      {.doc = "the largest discount the CCP accepts (its reserve price): bidders take the largest part x of the "
              "portfolio with d(x) <= reserve_discount; the rest is unplaced, valued at the reserve price, and goes "
              "on to the recovery tools that re-establish a matched book (tear_up, forced_allocation)",
       .unit = "fraction",
       .min = 0.0,
       .max = 1.0});
    a("juniorisation", juniorisation,
      {.doc = "the mutualized_df layer uses the contributions of the members that do not bid before those of the "
              "bidders (LCH SwapClear, CME, ICE Clear Europe default rules: contributions tranched by bidding)"});
    a("bidder_share", bidder_share,
      {.doc = "share of the CCP's member accounts that bid well in its auctions: those with the largest default-fund "
              "contributions (the largest books, the capacity to take a portfolio), at least one; the others are "
              "juniorised",
       .unit = "fraction",
       .min = 0.0,
       .max = 1.0});
  }
};

using RecoveryToolKind = models::RecoveryTool;
template <>
struct EnumNames<RecoveryToolKind> {
  static constexpr std::array values{std::pair{RecoveryToolKind::kCashCall, "cash_call"},
                                     std::pair{RecoveryToolKind::kTearUp, "tear_up"},
                                     std::pair{RecoveryToolKind::kForcedAllocation, "forced_allocation"}};
};

// Recovery tools after the waterfall (models/waterfall/recovery.hpp).
struct RecoveryConfig {
  std::vector<RecoveryToolKind> tools;
  double cash_call_multiple = 1.0;

  template <class A>
  void serialize(A& a) {
    a("tools", tools,
      {.doc =
           "recovery tools after the last layer, in the rulebook's order (CPMI-IOSCO 2014/2017 Recovery of FMIs; "
           "Regulation (EU) 2021/23 art. 9 and Annex): cash_call (beyond assessments, pro rata to the cap left, "
           "from cash), tear_up (the positions opposite the book the auction did not place are torn up at the "
           "last settlement price, each asset's opposite side pro rata to position: their holders lose their VM gains "
           "on them, pro rata as far as the loss needs (a price between that and the mark), a multi-asset book's "
           "gain split by value, and hold them no more in later time steps; not with an adl layer, which already "
           "terminates those positions), "
           "forced_allocation (survivors take "
           "the unplaced book, bearing its reserve discount pro rata to their DF contributions); the CCP fails "
           "only when they are exhausted",
       .min_size = 1,
       .required = true});
    a("cash_call_multiple", cash_call_multiple,
      {.doc = "most the cash calls may take of a member over a scenario, as a multiple of its default-fund "
              "contribution (Regulation (EU) 2021/23 art. 31: at most its contribution)",
       .min = 0.0,
       .max = 100.0});
  }
};
// ---- end default management

// What the default SITG is a share of (RTS 153/2013 art. 35).
enum class SitgBasis { kMinimumCapital, kCapital };
template <>
struct EnumNames<SitgBasis> {
  static constexpr std::array values{std::pair{SitgBasis::kMinimumCapital, "minimum_capital"},
                                     std::pair{SitgBasis::kCapital, "capital"}};
};

// Porting of a defaulted clearing member's clients (EMIR art. 48(5)-(7)):
// which of the backup members its clients designated accepts them.
struct PortingConfig {
  double capacity = kInf;
  double window_days = 0.0;

  template <class A>
  void serialize(A& a) {
    a("capacity", capacity,
      {.doc = "a backup member accepts a defaulted member's client account (individually segregated) or omnibus "
              "account (as a whole) when it stands when the CCP closes the defaulter out, and the initial margin "
              "of the client accounts it has taken in the scenario, these included, is at most this multiple of "
              "its equity then (capital after the scenario's P&L and charges); .inf: a standing backup takes any "
              "client",
       .unit = "multiple",
       .min = 0.0,
       .allow_infinite = true});
    a("window_days", window_days,
      {.doc = "the porting window of the rulebook (EMIR art. 48(5)-(6); typically 1 or 2 days): the transfer to "
              "the backup completes only if the backup stands until the window's end, the defaulter's default day "
              "plus this many days: a backup that defaults by then (time steps: in a step that ends by then; one "
              "period: later in the same cascade) is no backup, and the clients it took are closed out as the "
              "defaulter's, their shortfall the "
              "defaulter's obligation; 0: the transfer completes when the CCP closes the defaulter out",
       .unit = "days",
       .min = 0.0,
       .max = 30.0});
  }
};

struct CcpConfig {
  std::string id;
  CcpKind kind = CcpKind::kTraditional;
  double capital = 0.0;
  std::optional<double> minimum_capital;
  SitgBasis sitg_basis = SitgBasis::kMinimumCapital;
  MarginConfig margin;
  DefaultFundConfig default_fund;
  std::optional<std::vector<LayerKind>> waterfall;
  std::optional<double> sitg;
  double sitg2 = 0.0;
  AssessmentConfig assessments;
  VmghConfig vmgh;
  AdlConfig adl;
  double insurance_fund = 0.0;
  std::string insurance_fund_asset;
  bool im_segregated = true;
  double im_recovery_rate = 0.0;
  double stress_sigma = 5.0;
  StressSetConfig stress_set;
  ImbalancePolicy imbalance = ImbalancePolicy::kError;
  LinkLossRule link_losses = LinkLossRule::kWaterfall;
  CcpSettlementConfig settlement;
  CollateralConfig collateral;
  std::optional<LendingConfig> lending;
  std::optional<AuctionConfig> auction;    // default management
  std::optional<RecoveryConfig> recovery;  // default management
  PortingConfig porting;                   // client clearing

  template <class A>
  void serialize(A& a) {
    a("id", id, {.doc = "CCP identifier, unique", .required = true});
    a("kind", kind, {.doc = "rulebook family; sets the default waterfall"});
    a("capital", capital,
      {.doc = "CCP equity: what its ccp_equity layer holds, SITG included",
       .unit = "USD",
       .min = 0.0,
       .required = true});
    a("minimum_capital", minimum_capital,
      {.doc = "minimum capital the CCP must hold under EMIR art. 16 and RTS 152/2013 (winding-down, operational, "
              "credit and market, business risk), at most its capital; the default SITG is 25% of it (RTS 153/2013 "
              "art. 35). Default: the capital (ccpnet cannot derive the RTS 152/2013 requirement, which needs the "
              "CCP's operating expenses and balance sheet, so it assumes the CCP holds no capital beyond its minimum: "
              "25% of capital, the largest SITG art. 35 can give)",
       .unit = "USD",
       .min = 0.0});
    a("margin", margin, {.doc = "initial margin model for member and link accounts"});
    a("default_fund", default_fund, {.doc = "default fund sizing"});
    a("waterfall", waterfall,
      {.doc = "ordered loss-absorbing layers; default by kind: traditional [defaulter_im, defaulter_df, sitg, "
              "mutualized_df, assessments, vmgh, ccp_equity], crypto_venue [defaulter_im, insurance_fund, adl], "
              "lending_protocol [defaulter_im, insurance_fund, lender_haircut]; adl deleverages positions and "
              "is not allowed at a lending_protocol (its losses are bad debt on loans)",
       .min_size = 1});
    a("sitg", sitg,
      {.doc = "skin in the game (EMIR art. 45(4)); default by sitg_basis: 25% of minimum_capital (RTS 153/2013 art. "
              "35) or 25% of capital",
       .unit = "USD",
       .min = 0.0});
    a("sitg_basis", sitg_basis,
      {.doc = "what the default SITG (no sitg given) is 25% of: minimum_capital (RTS 153/2013 art. 35: the minimum "
              "capital held under EMIR art. 16) or capital (the CCP's whole capital, as ccpnet did before 2026-12)"});
    a("sitg2", sitg2,
      {.doc = "second SITG tranche (EU recovery regime), used by the sitg2 layer", .unit = "USD", .min = 0.0});
    a("assessments", assessments, {.doc = "assessment powers"});
    a("vmgh", vmgh,
      {.doc = "caps on variation-margin gains haircutting (the vmgh layer: it haircuts the variation margin the CCP "
              "owes each survivor with a gain, in time steps the step's own, not the later days of a close-out "
              "window); default: uncapped"});
    a("adl", adl,
      {.doc = "auto-deleveraging (the adl layer): single-asset accounts opposite the defaulted contract are closed "
              "by quantity at its bankruptcy price, in ranking order; in later time steps their holders neither pay "
              "nor earn variation margin on the contracts closed, and a venue's liquidation engine or a close-out "
              "takes only the contracts left"});
    a("insurance_fund", insurance_fund, {.doc = "insurance fund of a crypto venue", .unit = "USD", .min = 0.0});
    a("insurance_fund_asset", insurance_fund_asset,
      {.doc = "asset the insurance fund is held in (an id of market.assets): its value moves with the asset's "
              "return over the CCP's MPOR; empty: USD"});
    a("im_segregated", im_segregated, {.doc = "members' IM is bankruptcy-remote: returned in full when the CCP fails"});
    a("im_recovery_rate", im_recovery_rate,
      {.doc = "share of non-segregated IM members recover when the CCP fails",
       .unit = "fraction",
       .min = 0.0,
       .max = 1.0});
    a("settlement", settlement, {.doc = "how the CCP's payments and deliveries settle"});
    a("collateral", collateral, {.doc = "where the CCP holds its members' collateral"});
    a("lending", lending,
      {.doc = "liquidation rules of a lending protocol (kind lending_protocol only; default: these values)"});
    a("stress_sigma", stress_sigma,
      {.doc = "size of the CCP's hypothetical stress moves for default-fund sizing: every asset up, and every "
              "asset down, by this many daily standard deviations scaled to the MPOR (plus market.stress_scenarios "
              "and the moves of stress_set)",
       .unit = "standard deviations",
       .min = 0.0,
       .max = 100.0});
    a("stress_set", stress_set,
      {.doc = "the default-fund stress set beyond the directional moves and market.stress_scenarios (RTS 153/2013 "
              "art. 30: historical and hypothetical scenarios, correlation breaks included); all false: the "
              "directional and named moves only, as ccpnet sized funds before 2026-12"});
    a("imbalance", imbalance,
      {.doc = "when the members' positions at the CCP do not net to zero across the link graph: error; "
              "rest_of_market (book the difference to an aggregate account that never defaults and posts no IM); "
              "direct_membership (members of the CCPs with this policy that are net on the other side take it "
              "directly: their positions move, in proportion, to accounts of their own at the CCPs that need "
              "them, with margin, default fund and default risk like any member; what cannot be matched goes to "
              "the rest of the market)"});
    a("link_losses", link_losses,
      {.doc = "how the CCP absorbs losses that reach it over its links (a failed peer's unpaid VM and lost link "
              "margin, charges by a peer's waterfall): waterfall (the peer is treated as a defaulting member: its "
              "link margin and link fund, then every layer of the CCP's waterfall; link accounts count in the "
              "default-fund stress) or own_capital (the link's margin and fund, then SITG and capital only; the "
              "mutualised fund never pays)"});
    a("auction", auction,
      {.doc = "close-out by hedge and auction in place of the square-root liquidation cost (and of the fire sales' "
              "cost); absent: the liquidation cost"});
    a("recovery", recovery, {.doc = "recovery tools after the last layer; absent: none (the CCP fails)"});
    a("porting", porting,
      {.doc = "how a defaulted member's clients (members[].clients) are ported to a backup member they designated "
              "(EMIR art. 48(5)-(7)); clients no backup accepts are closed out with the defaulter"});
  }
};

// ------------------------------------------------------------------ members
using Segregation = ccpnet::Segregation;
template <>
struct EnumNames<Segregation> {
  static constexpr std::array values{std::pair{Segregation::kIndividual, "individual"},
                                     std::pair{Segregation::kOmnibus, "omnibus"}};
};

// A client of a clearing member (SPEC 3.9, EMIR art. 39 and 48): positions at
// CCPs held through the member in a client account, margined on their own;
// the member is liable for them, so they count in its default-fund
// contribution and its default; they are ported to a backup member or
// closed out when it defaults.
struct ClientConfig {
  std::string id;
  Segregation segregation = Segregation::kOmnibus;
  OrderedMap<OrderedMap<double>> positions;
  OrderedMap<double> initial_margin;
  std::vector<std::string> backup;

  template <class A>
  void serialize(A& a) {
    a("id", id, {.doc = "client identifier, unique among clients and members", .required = true});
    a("segregation", segregation,
      {.doc = "omnibus (EMIR art. 39(2): in the member's omnibus client account at each CCP; when the member "
              "defaults and the omnibus account is not ported as a whole, its margin covers the close-out of all "
              "its clients' positions and each client bears the margin used pro rata to the margin it posted: "
              "fellow-customer risk) or individual (art. 39(3): its own account, whose margin covers its own "
              "positions only, art. 39(6))"});
    a("positions", positions,
      {.doc = "quantities per CCP and instrument, as members[].positions; the member clears at each of these "
              "CCPs (an empty house account is opened where it has no positions of its own)",
       .unit = "units",
       .required = true});
    a("initial_margin", initial_margin,
      {.doc = "observed IM of the client's account per CCP ({CCP id: amount}); replaces the margin model's figure",
       .unit = "USD",
       .min = 0.0});
    a("backup", backup,
      {.doc = "backup clearing members the client designated, in order of preference (EMIR art. 48(5)-(6)): "
              "when its member defaults, the CCP offers the client's account at each CCP to them in turn (an "
              "omnibus account as a whole, to the first backup all its clients designated) and the first that "
              "accepts by ccps[].porting takes it with its margin; empty: closed out"});
  }
};

struct MemberConfig {
  std::string id;
  std::string group;
  double capital = 0.0;
  double liquidity = 0.0;
  OrderedMap<OrderedMap<double>> positions;
  OrderedMap<double> initial_margin;
  OrderedMap<double> default_fund;
  OrderedMap<double> maintenance_margin;
  std::vector<ClientConfig> clients;

  template <class A>
  void serialize(A& a) {
    a("id", id, {.doc = "member identifier, unique", .required = true});
    a("group", group, {.doc = "default group: members of one group default together; default: the member's id"});
    a("capital", capital, {.doc = "equity", .unit = "USD", .min = 0.0, .required = true});
    a("liquidity", liquidity, {.doc = "liquid resources available for cash calls", .unit = "USD", .min = 0.0});
    a("positions", positions,
      {.doc = "quantities per CCP and instrument: {CCP id: {asset or option id: quantity}}, negative for short; an "
              "option's quantity is a number of options on one unit of the underlying each",
       .unit = "units"});
    a("initial_margin", initial_margin,
      {.doc = "observed IM per CCP ({CCP id: amount}); replaces the margin model's figure", .unit = "USD", .min = 0.0});
    a("default_fund", default_fund,
      {.doc = "observed DF contribution per CCP ({CCP id: amount}); replaces the allocation",
       .unit = "USD",
       .min = 0.0});
    a("maintenance_margin", maintenance_margin,
      {.doc = "observed maintenance margin today per crypto venue ({CCP id: amount}), e.g. of an aggregate of many "
              "small accounts; in a scenario it moves with the account's notional at the mark, and the venue's "
              "liquidation engine runs on the account (replacing the tiered mm rates' figure)",
       .unit = "USD",
       .min = 0.0});
    a("clients", clients,
      {.doc = "client accounts the member clears for, at traditional CCPs (EMIR art. 39, 48): each margined on "
              "its own, counted in the member's default-fund contribution and default"});
  }
};

// A trade novated by the CCPs (SPEC 3.3): the buyer is long at its CCP, the
// seller short at its CCP; between two CCPs the trade is routed along the
// shortest chain of links and every hop carries an inter-CCP position.
struct TradeConfig {
  std::string buyer;
  std::string seller;
  std::string asset;
  double quantity = 0.0;
  std::string buyer_ccp;
  std::string seller_ccp;

  template <class A>
  void serialize(A& a) {
    a("buyer", buyer, {.doc = "buying member", .required = true});
    a("seller", seller, {.doc = "selling member", .required = true});
    a("asset", asset, {.doc = "traded asset", .required = true});
    a("quantity", quantity,
      {.doc = "quantity bought", .unit = "units", .min = 0.0, .exclusive_min = true, .required = true});
    a("buyer_ccp", buyer_ccp, {.doc = "the buyer's CCP", .required = true});
    a("seller_ccp", seller_ccp, {.doc = "the seller's CCP", .required = true});
  }
};

// Synthetic members (SPEC 3.3): a core-periphery market with heavy-tailed
// sizes and members at several CCPs, drawn from the scenario's seed.
struct GeneratorConfig {
  std::int64_t members = 100;
  std::string id_prefix = "GM";
  double memberships = 2.0;
  double core_share = 0.1;
  double core_size = 10.0;
  std::int64_t assets_per_account = 5;
  double notional = 5.0e7;
  double size_tail = 1.5;
  double capital_ratio = 0.5;
  double liquidity_ratio = 0.2;
  std::int64_t group_size = 1;
  std::int64_t clients = 0;
  double client_individual_share = 0.2;
  double client_size = 0.2;

  template <class A>
  void serialize(A& a) {
    // At most 100,000: `validate` builds the model (every account's margin,
    // stress losses and fund share), about 6 KB and 33 us per member with the
    // reference network's 50 assets and 10 CCPs: 3.3 s and 0.6 GB at 100,000
    // members, ten times that at a million.
    a("members", members,
      {.doc = "number of generated members (at most 100,000: checking a scenario builds every account's margin and "
              "default-fund share)",
       .unit = "count",
       .min = 1.0,
       .max = 1.0e5});
    a("id_prefix", id_prefix, {.doc = "generated ids are this prefix and a number: GM0001, ..."});
    a("memberships", memberships,
      {.doc = "mean number of CCPs a periphery member clears at (at least 1); core members clear everywhere",
       .unit = "count",
       .min = 1.0,
       .max = 1000.0});
    a("core_share", core_share, {.doc = "share of core members", .unit = "fraction", .min = 0.0, .max = 1.0});
    a("core_size", core_size,
      {.doc = "size of a core member's book relative to a periphery member's",
       .unit = "multiple",
       .min = 0.0,
       .max = 1000.0,
       .exclusive_min = true});
    a("assets_per_account", assets_per_account,
      {.doc = "assets held in each account (at most the number of assets)",
       .unit = "count",
       .min = 1.0,
       .max = 100000.0});
    a("notional", notional,
      {.doc = "median gross notional of a periphery account", .unit = "USD", .min = 0.0, .exclusive_min = true});
    a("size_tail", size_tail,
      {.doc = "Pareto tail index of account sizes (smaller: heavier tail)", .min = 0.5, .max = 100.0});
    a("capital_ratio", capital_ratio,
      {.doc = "member capital over its total gross notional",
       .unit = "fraction",
       .min = 0.0,
       .max = 100.0,
       .exclusive_min = true});
    a("liquidity_ratio", liquidity_ratio,
      {.doc = "member liquid resources over its capital", .unit = "fraction", .min = 0.0, .max = 100.0});
    a("group_size", group_size,
      {.doc = "consecutive generated members per default group", .unit = "count", .min = 1.0, .max = 1.0e5});
    a("clients", clients,
      {.doc = "clients each core member clears for (members[].clients), with ids the member's and C1, C2, ...: "
              "positions at every traditional CCP of the system in assets_per_account assets each, two other core "
              "members as backups (in random order; fewer when there are fewer), margined by the CCP's model; "
              "periphery members clear for none",
       .unit = "count",
       .min = 0.0,
       .max = 1000.0});
    a("client_individual_share", client_individual_share,
      {.doc = "probability that a generated client is individually segregated (EMIR art. 39(3)); omnibus otherwise",
       .unit = "fraction",
       .min = 0.0,
       .max = 1.0});
    a("client_size", client_size,
      {.doc = "median gross notional of a generated client's account relative to a periphery account's (notional); "
              "Pareto-distributed with tail index size_tail",
       .unit = "multiple",
       .min = 0.0,
       .max = 1000.0,
       .exclusive_min = true});
  }
};

// The id of the generated member number `index` (0-based): the prefix and the
// 1-based number, zero-padded to the width of the member count (GM0001...).
inline std::string generated_member_id(const GeneratorConfig& g, std::size_t index) {
  const std::string number = std::to_string(index + 1);
  const std::size_t width = std::to_string(g.members).size();
  return g.id_prefix + std::string(width > number.size() ? width - number.size() : 0, '0') + number;
}

// The index of the generated member whose id is `id`, or nullopt when no
// generated member has it: the inverse of generated_member_id.
inline std::optional<std::size_t> generated_member_index(const GeneratorConfig& g, std::string_view id) {
  const std::size_t width = std::to_string(g.members).size();
  if (id.size() != g.id_prefix.size() + width || id.substr(0, g.id_prefix.size()) != g.id_prefix) return std::nullopt;
  std::size_t number = 0;
  for (const char c : id.substr(g.id_prefix.size())) {
    if (c < '0' || c > '9') return std::nullopt;
    number = 10 * number + static_cast<std::size_t>(c - '0');
  }
  if (number < 1 || number > static_cast<std::size_t>(g.members)) return std::nullopt;
  return number - 1;
}

// -------------------------------------------------------------------- links
using LinkModel = ccpnet::LinkKind;
template <>
struct EnumNames<LinkModel> {
  static constexpr std::array values{std::pair{LinkModel::kPeer, "peer"},
                                     std::pair{LinkModel::kParticipant, "participant"}};
};

enum class LinkFundSizing { kFixed, kCover1 };
template <>
struct EnumNames<LinkFundSizing> {
  static constexpr std::array values{std::pair{LinkFundSizing::kFixed, "fixed"},
                                     std::pair{LinkFundSizing::kCover1, "cover1"}};
};

struct LinkConfig {
  std::vector<std::string> between;
  LinkModel model = LinkModel::kPeer;
  bool segregated = true;
  double recovery_rate = 0.0;
  double link_fund = 0.0;
  LinkFundSizing link_fund_sizing = LinkFundSizing::kFixed;

  template <class A>
  void serialize(A& a) {
    a("between", between, {.doc = "the two CCP ids", .min_size = 2, .max_size = 2, .required = true});
    a("model", model,
      {.doc = "peer: each posts inter-CCP margin to the other; participant: the first CCP is a "
              "member of the second"});
    a("segregated", segregated, {.doc = "posted link margin is returned when the receiver fails"});
    a("recovery_rate", recovery_rate,
      {.doc = "share of non-segregated link margin recovered when the receiver fails",
       .unit = "fraction",
       .min = 0.0,
       .max = 1.0});
    a("link_fund", link_fund, {.doc = "additional link fund posted by each side", .unit = "USD", .min = 0.0});
    a("link_fund_sizing", link_fund_sizing,
      {.doc = "peer links: fixed (each side posts link_fund) or cover1 (each side posts the larger of link_fund and "
              "its link account's largest stress loss beyond its link margin, over the receiving CCP's stress set: "
              "Cover-1 of the link)"});
  }
};

// ----------------------------------------------------------------- defaults
enum class DefaultRule { kNone, kCover1, kCover2 };
template <>
struct EnumNames<DefaultRule> {
  static constexpr std::array values{std::pair{DefaultRule::kNone, "none"}, std::pair{DefaultRule::kCover1, "cover1"},
                                     std::pair{DefaultRule::kCover2, "cover2"}};
};

enum class LatentFactor { kMarket, kOwnBook };
template <>
struct EnumNames<LatentFactor> {
  static constexpr std::array values{std::pair{LatentFactor::kMarket, "market"},
                                     std::pair{LatentFactor::kOwnBook, "own_book"}};
};

struct LatentDefaultConfig {
  double pd = 0.0;
  double beta = 0.0;
  OrderedMap<double> member_pd;
  LatentFactor factor = LatentFactor::kMarket;

  template <class A>
  void serialize(A& a) {
    a("pd", pd,
      {.doc = "probability of default over the horizon of every member",
       .unit = "probability",
       .min = 0.0,
       .max = 1.0});
    a("beta", beta,
      {.doc = "loading on the market factor (wrong-way risk: defaults cluster in crashes)", .min = -1.0, .max = 1.0});
    a("member_pd", member_pd,
      {.doc = "per-member PD overriding pd ({member id: pd})", .unit = "probability", .min = 0.0, .max = 1.0});
    a("factor", factor,
      {.doc = "the factor each member loads on: market, the standardised equally weighted move of all assets "
              "from today over the longest MPOR (every member defaults more in a fall, shorts too); own_book, the "
              "member's own P&L over its close-out (its accounts' P&L from today over their MPOR, in time steps "
              "too: a default at the start foresees none of the later days) divided by its standard deviation "
              "under the Gaussian model (delta-normal at the volatilities of market.shocks), so that a member "
              "defaults more when its own book loses and the fat tails and jumps of the market model carry over; "
              "a member without positions defaults with its PD"});
  }
};

struct DefaultsConfig {
  std::vector<std::string> exogenous;
  DefaultRule rule = DefaultRule::kNone;
  std::optional<LatentDefaultConfig> latent;

  template <class A>
  void serialize(A& a) {
    a("exogenous", exogenous, {.doc = "members that default at the start of every scenario (with their groups)"});
    a("rule", rule,
      {.doc = "cover1/cover2: the 1 or 2 groups with the largest uncovered stress loss at each CCP "
              "default at the start"});
    a("latent", latent, {.doc = "random defaults from a one-factor latent model"});
  }
};

// ----------------------------------------------------------------- interbank
// The CCP-bank nexus (SPEC 3.10): what members owe each other outside the
// CCPs, and how that network clears when the cascade's losses cut their equity.
enum class InterbankReconstruction { kMaxEntropy, kMinDensity };
template <>
struct EnumNames<InterbankReconstruction> {
  static constexpr std::array values{std::pair{InterbankReconstruction::kMaxEntropy, "max_entropy"},
                                     std::pair{InterbankReconstruction::kMinDensity, "min_density"}};
};

using InterbankClearing = ccpnet::InterbankClearing;
template <>
struct EnumNames<InterbankClearing> {
  static constexpr std::array values{std::pair{InterbankClearing::kEisenbergNoe, "eisenberg_noe"},
                                     std::pair{InterbankClearing::kRogersVeraart, "rogers_veraart"},
                                     std::pair{InterbankClearing::kDebtRank, "debtrank"}};
};

enum class ExternalDebtPriority { kPariPassu, kSenior };
template <>
struct EnumNames<ExternalDebtPriority> {
  static constexpr std::array values{std::pair{ExternalDebtPriority::kPariPassu, "pari_passu"},
                                     std::pair{ExternalDebtPriority::kSenior, "senior"}};
};

struct InterbankConfig {
  std::string exposures_file;
  std::string totals_file;
  double capital_multiple = 0.0;
  InterbankReconstruction reconstruction = InterbankReconstruction::kMaxEntropy;
  std::optional<std::uint64_t> seed;
  InterbankClearing clearing = InterbankClearing::kEisenbergNoe;
  ExternalDebtPriority external_debt_priority = ExternalDebtPriority::kPariPassu;
  double external_debt_multiple = 0.0;
  OrderedMap<double> external_debt;
  double alpha = 1.0;
  double beta = 1.0;
  std::vector<std::string> exclude;

  template <class A>
  void serialize(A& a) {
    a("exposures_file", exposures_file,
      {.doc = "CSV of bilateral exposures, relative to the scenario file: a header row with the columns lender, "
              "borrower, amount (USD, > 0; what the borrower owes the lender), one exposure per row, between "
              "members; empty: reconstructed from totals_file or capital_multiple"});
    a("totals_file", totals_file,
      {.doc = "CSV of each member's interbank totals to reconstruct the exposures from: the columns member, assets, "
              "liabilities (USD, >= 0; the totals of all members must be equal); members not listed have none"});
    a("capital_multiple", capital_multiple,
      {.doc = "without a file: every member's interbank assets and liabilities are this multiple of its capital, "
              "and the exposures are reconstructed from them",
       .unit = "multiple",
       .min = 0.0,
       .max = 1000.0});
    a("reconstruction", reconstruction,
      {.doc = "how exposures are reconstructed from totals: max_entropy (RAS from the product of the totals, zero "
              "diagonal: every member lends to every borrower in proportion) or min_density (links placed one by "
              "one, each as large as the totals allow, drawn at random from `seed`: a sparse network, after Anand, "
              "Craig and von Peter 2015)"});
    a("seed", seed, {.doc = "seed of the min_density draws; default: the scenario's seed"});
    a("clearing", clearing,
      {.doc = "how the network clears on the members' equity after the CCPs' losses: eisenberg_noe (the greatest "
              "clearing vector), rogers_veraart (default costs alpha and beta) or debtrank (linear DebtRank: claims "
              "on a member are written down by the share of its equity it lost at the CCPs, spread through the "
              "network)"});
    a("external_debt_priority", external_debt_priority,
      {.doc = "eisenberg_noe: pari_passu (a member's external and interbank creditors recover the same share) or "
              "senior (external debt is paid first); rogers_veraart clears pari passu"});
    a("external_debt_multiple", external_debt_multiple,
      {.doc = "each member's debt outside the network as a multiple of its capital",
       .unit = "multiple",
       .min = 0.0,
       .max = 1000.0});
    a("external_debt", external_debt,
      {.doc = "per-member debt outside the network ({member id: amount}), overriding external_debt_multiple",
       .unit = "USD",
       .min = 0.0});
    a("alpha", alpha,
      {.doc = "rogers_veraart: share of its outside assets a defaulting member realises",
       .unit = "fraction",
       .min = 0.0,
       .max = 1.0});
    a("beta", beta,
      {.doc = "rogers_veraart: share of its interbank claims a defaulting member realises",
       .unit = "fraction",
       .min = 0.0,
       .max = 1.0});
    a("exclude", exclude,
      {.doc = "members whose interbank exposures (as lender and as borrower) are taken out of the network after it "
              "is read or reconstructed, the others' left as they are: a leave-one-out variant on common random "
              "numbers measures what a member's exposures add to the system's loss (ccpnet.contributions)"});
  }
};

// ----------------------------------------------------------------- variants
enum class Topology { kAsIs, kNone, kPeer, kHub, kMesh, kSingle };
template <>
struct EnumNames<Topology> {
  static constexpr std::array values{std::pair{Topology::kAsIs, "as_is"}, std::pair{Topology::kNone, "none"},
                                     std::pair{Topology::kPeer, "peer"},  std::pair{Topology::kHub, "hub"},
                                     std::pair{Topology::kMesh, "mesh"},  std::pair{Topology::kSingle, "single"}};
};

// A variant of the scenario for `ccpnet compare`: the same market, members and
// random numbers with some keys changed and/or the CCPs rewired.
struct VariantConfig {
  std::string name;
  std::vector<std::string> set;
  Topology topology = Topology::kAsIs;

  template <class A>
  void serialize(A& a) {
    a("name", name, {.doc = "name of the variant", .required = true});
    a("set", set,
      {.doc = "overrides applied to the base scenario, as on the command line: [\"links=[]\", "
              "\"ccps.CCP_A.sitg=1e8\"]"});
    a("topology", topology,
      {.doc = "rewire the interoperability links: as_is; none (no links; members take the other side of what a "
              "CCP's members do not net directly, as members of that CCP: imbalance direct_membership); peer (a chain "
              "of peer links in CCP order); hub (the first CCP linked to "
              "every other); mesh (every pair); single (one global CCP clearing everything, with the first CCP's "
              "rulebook and the sum of all CCPs' capital and funds)"});
  }
};

// ----------------------------------------------------------------- scenario
struct Scenario {
  std::string name;
  std::string description;
  std::uint64_t seed = 1;
  SimulationConfig simulation;
  MarketConfig market;
  SettlementConfig settlement;
  std::vector<CcpConfig> ccps;
  std::vector<MemberConfig> members;
  std::optional<GeneratorConfig> generator;
  std::vector<TradeConfig> trades;
  std::string trades_file;
  std::vector<LinkConfig> links;
  DefaultsConfig defaults;
  std::optional<InterbankConfig> interbank;
  std::vector<VariantConfig> variants;
  OutputsConfig outputs;

  template <class A>
  void serialize(A& a) {
    a("name", name, {.doc = "short name of the scenario", .required = true});
    a("description", description, {.doc = "what is stressed and why"});
    a("seed", seed, {.doc = "master seed of every random draw"});
    a("simulation", simulation, {.doc = "Monte Carlo settings"});
    a("market", market, {.doc = "assets, correlation and shocks", .required = true});
    a("settlement", settlement, {.doc = "settlement chains and bridges"});
    a("ccps", ccps, {.doc = "central counterparties", .min_size = 1, .required = true});
    a("members", members, {.doc = "clearing members"});
    a("generator", generator, {.doc = "synthetic members added to the listed ones"});
    a("trades", trades, {.doc = "trades novated into positions (added to the members' positions)"});
    a("trades_file", trades_file,
      {.doc = "CSV of more trades, relative to the scenario file: a header row with the columns buyer, seller, "
              "asset, quantity, buyer_ccp, seller_ccp (any order), one trade per row, checked and novated like "
              "trades; empty: none"});
    a("links", links, {.doc = "interoperability links between CCPs"});
    a("defaults", defaults, {.doc = "which members default and how"});
    a("interbank", interbank,
      {.doc = "what members owe each other outside the CCPs, cleared with the cascade: losses at CCPs cut their "
              "equity, the network clears, and members it leaves insolvent default at every CCP"});
    a("variants", variants, {.doc = "variants compared by `ccpnet compare` on common random numbers"});
    a("outputs", outputs, {.doc = "optional parts of the output directory"});
  }
};

}  // namespace ccpnet::config
