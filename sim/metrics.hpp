// Aggregation of per-scenario results (SPEC 3.11), deterministic and mergeable.
//
// Scenarios are folded in index order into fixed chunks of kChunk scenarios
// (aligned on the global index); float sums of chunks are added as a binary
// tree over the chunk index (a block of 2^(j+1) aligned chunks is its left
// half plus its right half, each as soon as both are there), and the largest
// blocks in index order; counts and maxima are exact in any order. Any split
// of the scenario range on chunk boundaries (threads, batches, MPI ranks,
// Dask workers) therefore gives bit-identical totals, and an aggregate holds
// at most about log2(chunks) blocks of sums, whatever the scenario count. Quantiles of the total loss
// and of the default-fund depletion come from a TailSample: exact at levels
// of 0.99 and above (every quantile, interval and expected shortfall the
// outputs report), within 1% below, in memory bounded by the planned
// scenario count, not by the scenarios with a loss.
//
// The metrics are declared once (ChunkSums::visit), the rest of the merged
// state once (Aggregate::visit_state); an aggregate travels between threads,
// ranks and processes as CBOR (nlohmann::json::to_cbor), keyed by those names.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "models/stats/intervals.hpp"
#include "models/waterfall/waterfall.hpp"
#include "sim/cascade.hpp"
#include "sim/exact_sum.hpp"
#include "sim/tail_sample.hpp"

namespace ccpnet {

struct Model;

inline constexpr std::int64_t kChunk = 4096;

// The per-CCP ledger of a scenario (ScenarioResult's ccp_closeout ...
// ccp_unallocated), in this order.
enum class LedgerColumn { kCloseout, kLinkIn, kLinkOut, kResolutionMembers, kResolutionLinks, kUnallocated };
inline constexpr std::size_t kLedgerColumns = 6;
const char* ledger_column_name(LedgerColumn column);
double ledger_value(const ScenarioResult& r, std::size_t ccp, LedgerColumn column);

// Default management per CCP (ccps[].auction, recovery): what each recovery
// tool covered (models::RecoveryTool's order), then the auctions' close-out
// cost and the gross value they did not place.
inline constexpr std::size_t kDefaultManagementItems = models::kRecoveryToolCount + 2;
std::string_view default_management_item_name(std::size_t item);
double default_management_value(const ScenarioResult& r, std::size_t ccp, std::size_t item);

// ---------------------------------------------------------------- metrics
// Every metric of a run is declared once, in ChunkSums::visit: its name (the
// key in the merged state, in `compare` and in Python), what it counts, at
// which level, how per-scenario values combine and how a scenario yields it.
// That list sizes, fills, folds and serializes the sums; nothing else names
// the fields one by one.

// What a metric's values are.
enum class MetricUnit : std::uint8_t {
  kUsd,
  kCount,      // events (defaults, rounds) per scenario
  kScenarios,  // a 0/1 flag per scenario: its mean is a probability
  kFraction,   // a share in [0, 1] per scenario
  kMixed,      // per item of the level (settlement: fails are counts, hours are hours, the rest USD)
  kDays,       // a day of the horizon (time steps)
};

// What one value of a metric belongs to (its index runs over these).
enum class MetricLevel : std::uint8_t {
  kSystem,         // one value
  kCcp,            // per CCP
  kCcpLayer,       // per CCP x waterfall layer (models::kLayerCount)
  kCcpLedger,      // per CCP x ledger column (kLedgerColumns)
  kMemberCause,    // per member x default cause (kDefaultCauseCount)
  kCcpSettlement,  // per CCP x CcpSettleMetric; only with a settlement layer
  kChain,          // per chain x ChainMetric; only with a settlement layer
  kBridge,         // per bridge x BridgeMetric; only with a settlement layer
  kCcpRecovery,    // per CCP x kDefaultManagementItems; only with ccps[].auction or recovery
  kSteps,          // one value; only in time steps with outputs.liquidity_needs
  kCcpSteps,       // per CCP; only in time steps with outputs.liquidity_needs
  kMemberSteps,    // per member; only in time steps with outputs.liquidity_needs
  kStepDays,       // per day a step ends on, day 0 (the start) first: steps + 1 values; only in time steps
  kMemberDays,     // per member; only in time steps
};

// Time steps: the index of `day` among the days steps end on (0: the start,
// k: the end of step k), as kStepDays counts them.
std::size_t step_day_index(double day, double step_days);
// Time steps: the day of a scenario's first member default and of its first
// CCP failure (-1: none).
double first_default_day(const ScenarioResult& r);
double first_ccp_failure_day(const ScenarioResult& r);

// How the per-scenario values of a metric combine.
enum class Aggregation : std::uint8_t {
  kSum,    // doubles: added in scenario order within a chunk, then chunk by chunk in index order
  kCount,  // integers: exact in any order
  kMax,    // the largest value: exact in any order
};

struct MetricInfo {
  std::string_view name;  // snake_case, unique
  std::string_view doc;   // one sentence, domain wording
  MetricUnit unit;
  MetricLevel level;
  Aggregation aggregation;
  bool stressed_only = false;   // zero in a calm scenario (MetricInput::calm), which skips it
  bool compare = false;         // compared between variants, scenario by scenario (`ccpnet compare`)
  bool optional = false;        // compare: reported only where some variant has it
  std::string_view title = {};  // short label in reports (compared metrics)
  bool nonnegative = true;      // no scenario's value is below 0: a mean's interval is cut at 0 (at 1 for a fraction)
};
// Designated initialisers follow the order above:
//   {.name = "...", .doc = "...", .unit = ..., .level = ..., .aggregation = ..., .compare = true}

// How the per-scenario mean of a metric gets its standard error and interval,
// implied by its declaration: a 0/1 flag (unit kScenarios) is a binomial
// proportion (Wilson score interval); any other sum or count a mean (central
// limit theorem: its sum of squares is kept too, ChunkSums::squares), cut to
// the values the mean can take (>= 0 for a `nonnegative` metric, <= 1 for a
// fraction); a maximum has none.
enum class IntervalKind : std::uint8_t { kNone, kProportion, kMean };
constexpr IntervalKind interval_kind(const MetricInfo& info) {
  if (info.aggregation == Aggregation::kMax) return IntervalKind::kNone;
  return info.unit == MetricUnit::kScenarios ? IntervalKind::kProportion : IntervalKind::kMean;
}
std::string_view interval_method(IntervalKind kind);  // the method, in words ("" for kNone)

std::string_view metric_unit_name(MetricUnit unit);
std::string_view metric_level_name(MetricLevel level);
std::string_view aggregation_name(Aggregation aggregation);
// Number of values of a level in `model`, and the label of value i (the CCP,
// member, chain or bridge id, then the layer, column, cause or metric: "CCP_A/sitg").
std::size_t level_size(const Model& model, MetricLevel level);
std::string level_label(const Model& model, MetricLevel level, std::size_t i);

// One scenario as the metrics read it.
struct MetricInput {
  MetricInput(const ScenarioResult& result, std::span<const double> ccp_default_funds, std::size_t step_count = 0,
              double step_length = 0.0);
  const ScenarioResult& r;
  std::span<const double> default_funds;  // per CCP
  std::size_t steps = 0;                  // time steps: their number (0: one period) and length
  double step_days = 0.0;
  std::size_t ccps() const { return default_funds.size(); }
  int ccp_failures = 0;
  bool calm = true;  // no member default, no CCP failure and no close-out loss (liquidations)
};

struct ChunkSums {
  std::int64_t first = 0;  // first scenario index of the chunk
  std::int64_t count = 0;  // scenarios folded in
  int level = 0;           // the chunks it sums: 2^level from `first`, aligned on that many (Aggregate's tree)
  // System
  double total_loss = 0, closeout_loss = 0, uncovered = 0, liquidity_shortfall = 0, settlement_loss = 0;
  double failure_principal = 0, interbank_loss = 0, client_loss = 0, ledger_error = 0;
  std::int64_t clients_ported = 0, clients_closed_out = 0;
  std::int64_t member_defaults = 0, any_ccp_fail = 0, any_default = 0, ccp_failures = 0, rounds = 0;
  std::int64_t settlement_defaults = 0;
  // Per CCP, and per CCP x layer, x ledger column
  std::vector<double> ccp_loss, ccp_uncovered, ccp_depletion, ccp_layers, ccp_ledger;
  std::vector<std::int64_t> ccp_fails, ccp_fails_via_links, ccp_df_exhausted;
  std::vector<std::int64_t> member_defaults_by_cause;  // members x kDefaultCauseCount
  // Settlement layer (empty unless the model has one): sums of SettlementOutcome.
  std::vector<double> ccp_settle, chain_settle, bridge_settle;
  // Default management (empty unless some CCP has an auction or recovery tools).
  std::vector<double> ccp_recovery;
  std::vector<std::int64_t> ccp_recovery_used;
  // Time steps (empty in one period): peak liquidity needs.
  std::vector<double> peak_liquidity_need, ccp_peak_liquidity_need, member_peak_liquidity_need;
  // Time steps (empty in one period): the term structure of defaults and
  // failures per step day, and each member's default day.
  std::vector<std::int64_t> defaulted_by_day, ccp_failed_by_day, defaults_on_day;
  std::vector<double> member_default_day;
  // Per metric (in declaration order), the sums of the squares of its
  // per-scenario values when its interval is a mean's (IntervalKind::kMean),
  // else empty. Float sums: folded like kSum sums, in chunk order.
  std::vector<std::vector<double>> squares;

  // The list: v(&ChunkSums::field, MetricInfo, extract) for every metric, where
  // extract(const MetricInput&, add) calls add(index, value) for the scenario's values.
  template <class Visitor>
  static void visit(Visitor&& v);

  void init(const Model& model, std::int64_t first_index);
  void add(const MetricInput& x);
  // total += this: the float sums (kSum), which must be folded in chunk order.
  void fold_sums_into(ChunkSums& total) const;
  // exact += this: the counts and maxima, exact in any order.
  void fold_exact_into(ChunkSums& exact) const;
  // Hands the counts and maxima to `exact` and releases them here (a closed chunk keeps its float sums only).
  void move_exact_into(ChunkSums& exact);

  // The merged state of one chunk: its float sums, or (`exact`) its counts and maxima, by metric name.
  nlohmann::json to_json(bool exact) const;
  static ChunkSums from_json(const Model& model, const nlohmann::json& j, bool exact);
};

// The metrics declared in ChunkSums::visit, in their order.
const std::vector<MetricInfo>& metric_infos();
const MetricInfo* find_metric(std::string_view name);  // nullptr if none

// The per-scenario mean of value `index` of a metric over the scenarios of
// `totals` (a probability for a 0/1 flag), its standard error and its
// interval at `confidence`, by the metric's IntervalKind: Wilson for a
// proportion, the CLT for a mean (sample standard error from the sum of
// squares); a maximum is its value with no spread. Throws std::out_of_range
// for an unknown metric or index.
struct Estimate {
  double value = 0.0;
  double standard_error = 0.0;
  models::stats::Interval interval;
  IntervalKind kind = IntervalKind::kNone;
};
Estimate metric_estimate(const ChunkSums& totals, std::string_view metric, std::size_t index,
                         double confidence = models::stats::kConfidence);

// ----------------------------------------------------------- the declaration
// One long function on purpose: it is the list of every metric, one entry per
// metric, and splitting it would scatter the list it exists to keep in one place.

template <class Visitor>
void ChunkSums::visit(Visitor&& v) {
  using L = MetricLevel;
  using U = MetricUnit;
  using A = Aggregation;
  const auto each = [](const std::vector<double>& values, auto& add) {
    for (std::size_t i = 0; i < values.size(); ++i) add(i, values[i]);
  };
  // System: the metrics `ccpnet compare` compares first, in its order.
  v(&ChunkSums::total_loss,
    MetricInfo{.name = "total_loss",
               .doc = "loss borne by others than the defaulters: mutualised layers, CCP capital, haircuts, uncovered",
               .unit = U::kUsd,
               .level = L::kSystem,
               .aggregation = A::kSum,
               .compare = true,
               .title = "total loss borne by non-defaulters"},
    [](const MetricInput& x, auto&& add) { add(0, x.r.total_loss); });
  v(&ChunkSums::member_defaults,
    MetricInfo{.name = "member_defaults",
               .doc = "members that default",
               .unit = U::kCount,
               .level = L::kSystem,
               .aggregation = A::kCount,
               .compare = true,
               .title = "member defaults per scenario"},
    [](const MetricInput& x, auto&& add) { add(0, x.r.defaults.size()); });
  v(&ChunkSums::any_ccp_fail,
    MetricInfo{.name = "any_ccp_fail",
               .doc = "some CCP fails",
               .unit = U::kScenarios,
               .level = L::kSystem,
               .aggregation = A::kCount,
               .compare = true,
               .title = "P(any CCP fails)"},
    [](const MetricInput& x, auto&& add) { add(0, x.ccp_failures > 0 ? 1 : 0); });
  v(&ChunkSums::closeout_loss,
    MetricInfo{.name = "closeout_loss",
               .doc = "close-out losses of every defaulter (members, lending accounts, failed CCPs' link books)",
               .unit = U::kUsd,
               .level = L::kSystem,
               .aggregation = A::kSum,
               .compare = true,
               .title = "close-out loss"},
    [](const MetricInput& x, auto&& add) { add(0, x.r.closeout_loss); });
  v(&ChunkSums::uncovered,
    MetricInfo{.name = "uncovered_loss",
               .doc = "failed CCPs' shortfalls (left after their last layer, their link books replaced), then borne by "
                      "their creditors",
               .unit = U::kUsd,
               .level = L::kSystem,
               .aggregation = A::kSum,
               .compare = true,
               .title = "uncovered loss"},
    [](const MetricInput& x, auto&& add) { add(0, x.r.uncovered); });
  v(&ChunkSums::liquidity_shortfall,
    MetricInfo{.name = "liquidity_shortfall",
               .doc = "cash missing of the members that defaulted for liquidity",
               .unit = U::kUsd,
               .level = L::kSystem,
               .aggregation = A::kSum,
               .compare = true,
               .optional = true,
               .title = "liquidity shortfall"},
    [](const MetricInput& x, auto&& add) { add(0, x.r.liquidity_shortfall); });
  v(&ChunkSums::settlement_loss,
    MetricInfo{.name = "settlement_loss",
               .doc = "principal lost and replacement costs of settlement fails",
               .unit = U::kUsd,
               .level = L::kSystem,
               .aggregation = A::kSum,
               .compare = true,
               .optional = true,
               .title = "settlement loss"},
    [](const MetricInput& x, auto&& add) {
      add(0, x.r.settlement.total(CcpSettleMetric::kPrincipalLost) +
                 x.r.settlement.total(CcpSettleMetric::kReplacementCost));
    });
  v(&ChunkSums::any_default,
    MetricInfo{.name = "any_member_default",
               .doc = "some member defaults",
               .unit = U::kScenarios,
               .level = L::kSystem,
               .aggregation = A::kCount},
    [](const MetricInput& x, auto&& add) { add(0, x.r.defaults.empty() ? 0 : 1); });
  v(&ChunkSums::ccp_failures,
    MetricInfo{.name = "ccp_failures",
               .doc = "CCPs that fail",
               .unit = U::kCount,
               .level = L::kSystem,
               .aggregation = A::kCount},
    [](const MetricInput& x, auto&& add) { add(0, x.ccp_failures); });
  v(&ChunkSums::rounds,
    MetricInfo{.name = "cascade_rounds",
               .doc = "rounds of the default cascade",
               .unit = U::kCount,
               .level = L::kSystem,
               .aggregation = A::kCount},
    [](const MetricInput& x, auto&& add) { add(0, x.r.rounds); });
  v(&ChunkSums::failure_principal,
    MetricInfo{.name = "failure_principal",
               .doc = "principal members lose in flight from failed CCPs (free of payment)",
               .unit = U::kUsd,
               .level = L::kSystem,
               .aggregation = A::kSum},
    [](const MetricInput& x, auto&& add) { add(0, x.r.failure_principal); });
  v(&ChunkSums::interbank_loss,
    MetricInfo{.name = "interbank_loss",
               .doc = "what members lose on what other members owe them outside the CCPs (interbank)",
               .unit = U::kUsd,
               .level = L::kSystem,
               .aggregation = A::kSum,
               .compare = true,
               .optional = true,
               .title = "interbank loss"},
    [](const MetricInput& x, auto&& add) { add(0, x.r.interbank_loss); });
  v(&ChunkSums::client_loss,
    MetricInfo{.name = "client_loss",
               .doc = "what clients of clearing members lose: their margin used when their member's default closes "
                      "them out (members[].clients), and their losses as survivors and creditors of failed CCPs",
               .unit = U::kUsd,
               .level = L::kSystem,
               .aggregation = A::kSum,
               .compare = true,
               .optional = true,
               .title = "client loss"},
    [](const MetricInput& x, auto&& add) { add(0, x.r.client_loss); });
  v(&ChunkSums::clients_ported,
    MetricInfo{.name = "client_accounts_ported",
               .doc = "client accounts of defaulted members ported to a backup member",
               .unit = U::kCount,
               .level = L::kSystem,
               .aggregation = A::kCount},
    [](const MetricInput& x, auto&& add) { add(0, x.r.clients_ported); });
  v(&ChunkSums::clients_closed_out,
    MetricInfo{.name = "client_accounts_closed_out",
               .doc = "client accounts of defaulted members closed out (no backup accepted them)",
               .unit = U::kCount,
               .level = L::kSystem,
               .aggregation = A::kCount},
    [](const MetricInput& x, auto&& add) { add(0, x.r.clients_closed_out); });
  v(&ChunkSums::ledger_error,
    MetricInfo{.name = "ledger_max_relative_error",
               .doc = "largest |close-out loss - ledger total| / max(1, close-out loss) of a scenario, and the same "
                      "of the interbank network: |creditors' losses - debtors' shortfall| / max(1, shortfall)",
               .unit = U::kFraction,
               .level = L::kSystem,
               .aggregation = A::kMax},
    [](const MetricInput& x, auto&& add) {
      add(0, std::max(std::abs(x.r.closeout_loss - x.r.ledger_total()) / std::max(1.0, x.r.closeout_loss),
                      std::abs(x.r.interbank_loss - x.r.interbank_shortfall) / std::max(1.0, x.r.interbank_shortfall)));
    });
  v(&ChunkSums::settlement_defaults,
    MetricInfo{.name = "settlement_defaults",
               .doc = "liquidity defaults that VM gains settled in time would have avoided",
               .unit = U::kCount,
               .level = L::kSystem,
               .aggregation = A::kCount},
    [](const MetricInput& x, auto&& add) { add(0, x.r.settlement_defaults); });
  // Per CCP
  v(&ChunkSums::ccp_loss,
    MetricInfo{.name = "ccp_loss",
               .doc = "loss at the CCP beyond the defaulters' own resources (non-defaulter layers and uncovered)",
               .unit = U::kUsd,
               .level = L::kCcp,
               .aggregation = A::kSum,
               .stressed_only = true},
    [](const MetricInput& x, auto&& add) {
      for (std::size_t c = 0; c < x.ccps(); ++c) add(c, x.r.ccp_loss(c));
    });
  v(&ChunkSums::ccp_uncovered,
    MetricInfo{.name = "ccp_uncovered_loss",
               .doc = "left after the CCP's last layer, its link book replaced (it fails)",
               .unit = U::kUsd,
               .level = L::kCcp,
               .aggregation = A::kSum,
               .stressed_only = true},
    [each](const MetricInput& x, auto&& add) { each(x.r.ccp_uncovered, add); });
  v(&ChunkSums::ccp_depletion,
    MetricInfo{.name = "ccp_df_depletion",
               .doc = "share of the default fund consumed (defaulters' and mutualised contributions)",
               .unit = U::kFraction,
               .level = L::kCcp,
               .aggregation = A::kSum,
               .stressed_only = true},
    [](const MetricInput& x, auto&& add) {
      for (std::size_t c = 0; c < x.ccps(); ++c) {
        const double fund = x.default_funds[c];
        add(c, fund > 0.0 ? std::min(1.0, x.r.ccp_df_used[c] / fund) : 0.0);
      }
    });
  v(&ChunkSums::ccp_layers,
    MetricInfo{.name = "ccp_layer_loss",
               .doc = "loss absorbed by each layer of the CCP's waterfall, member and link losses alike",
               .unit = U::kUsd,
               .level = L::kCcpLayer,
               .aggregation = A::kSum,
               .stressed_only = true},
    [each](const MetricInput& x, auto&& add) { each(x.r.ccp_layers, add); });
  v(&ChunkSums::ccp_ledger,
    MetricInfo{.name = "ccp_ledger",
               .doc = "the CCP's ledger: close-out, link losses in and out, creditors' losses if it fails, unallocated",
               .unit = U::kUsd,
               .level = L::kCcpLedger,
               .aggregation = A::kSum,
               .stressed_only = true},
    [](const MetricInput& x, auto&& add) {
      for (std::size_t c = 0; c < x.ccps(); ++c)
        for (std::size_t k = 0; k < kLedgerColumns; ++k)
          add(c * kLedgerColumns + k, ledger_value(x.r, c, static_cast<LedgerColumn>(k)));
    });
  v(&ChunkSums::ccp_fails,
    MetricInfo{.name = "ccp_fails",
               .doc = "the CCP fails",
               .unit = U::kScenarios,
               .level = L::kCcp,
               .aggregation = A::kCount,
               .stressed_only = true},
    [](const MetricInput& x, auto&& add) {
      for (std::size_t c = 0; c < x.ccps(); ++c) add(c, x.r.ccp_fail_round[c] >= 0 ? 1 : 0);
    });
  v(&ChunkSums::ccp_fails_via_links,
    MetricInfo{.name = "ccp_fails_via_links",
               .doc = "the CCP fails, its waterfall run out on link losses",
               .unit = U::kScenarios,
               .level = L::kCcp,
               .aggregation = A::kCount,
               .stressed_only = true},
    [](const MetricInput& x, auto&& add) {
      for (std::size_t c = 0; c < x.ccps(); ++c) add(c, x.r.ccp_fail_cause[c] == FailureCause::kLinks ? 1 : 0);
    });
  v(&ChunkSums::ccp_df_exhausted,
    MetricInfo{.name = "ccp_df_exhausted",
               .doc = "the CCP's default fund is used up",
               .unit = U::kScenarios,
               .level = L::kCcp,
               .aggregation = A::kCount,
               .stressed_only = true},
    [](const MetricInput& x, auto&& add) {
      for (std::size_t c = 0; c < x.ccps(); ++c) {
        const double fund = x.default_funds[c];
        add(c, fund > 0.0 && x.r.ccp_df_used[c] >= fund * (1.0 - 1e-12) ? 1 : 0);
      }
    });
  // Per member
  v(&ChunkSums::member_defaults_by_cause,
    MetricInfo{.name = "member_defaults_by_cause",
               .doc = "the member defaults, by cause",
               .unit = U::kScenarios,
               .level = L::kMemberCause,
               .aggregation = A::kCount,
               .stressed_only = true},
    [](const MetricInput& x, auto&& add) {
      for (const auto& d : x.r.defaults)
        add(static_cast<std::size_t>(d.member) * kDefaultCauseCount + static_cast<std::size_t>(d.cause), 1);
    });
  // Settlement layer
  v(&ChunkSums::ccp_settle,
    MetricInfo{.name = "ccp_settlement",
               .doc = "the CCP's settlement fails, principal lost, replacement costs, late VM inflows and margin calls",
               .unit = U::kMixed,
               .level = L::kCcpSettlement,
               .aggregation = A::kSum},
    [each](const MetricInput& x, auto&& add) { each(x.r.settlement.ccp, add); });
  v(&ChunkSums::chain_settle,
    MetricInfo{.name = "chain_settlement",
               .doc = "each chain's finality hours, congestion, halts, fails, losses and late VM inflows",
               .unit = U::kMixed,
               .level = L::kChain,
               .aggregation = A::kSum},
    [each](const MetricInput& x, auto&& add) { each(x.r.settlement.chain, add); });
  v(&ChunkSums::bridge_settle,
    MetricInfo{.name = "bridge_settlement",
               .doc = "each bridge's exploits and losses",
               .unit = U::kMixed,
               .level = L::kBridge,
               .aggregation = A::kSum},
    [each](const MetricInput& x, auto&& add) { each(x.r.settlement.bridge, add); });
  // Default management
  const auto default_management = [](const MetricInput& x, auto&& add, bool flag) {
    for (std::size_t c = 0; c < x.ccps(); ++c)
      for (std::size_t i = 0; i < kDefaultManagementItems; ++i) {
        const double value = default_management_value(x.r, c, i);
        if (value > 0.0) add(c * kDefaultManagementItems + i, flag ? 1.0 : value);
      }
  };
  v(&ChunkSums::ccp_recovery,
    MetricInfo{.name = "ccp_recovery",
               .doc = "what each recovery tool of the CCP covered after its last layer (cash calls, tear-up, forced "
                      "allocation), its auctions' close-out cost and the value they did not place",
               .unit = U::kUsd,
               .level = L::kCcpRecovery,
               .aggregation = A::kSum,
               .stressed_only = true},
    [default_management](const MetricInput& x, auto&& add) { default_management(x, add, false); });
  v(&ChunkSums::ccp_recovery_used,
    MetricInfo{.name = "ccp_recovery_used",
               .doc = "scenarios in which each recovery tool of the CCP covered a loss, its auctions cost something, "
                      "and left a value unplaced",
               .unit = U::kCount,
               .level = L::kCcpRecovery,
               .aggregation = A::kCount,
               .stressed_only = true},
    [default_management](const MetricInput& x, auto&& add) { default_management(x, add, true); });
  // Time steps: the largest one-step call of liquidity (variation margin and
  // IM increases of the members standing at the step's start).
  v(&ChunkSums::peak_liquidity_need,
    MetricInfo{.name = "peak_liquidity_need",
               .doc = "largest one-step sum of the variation margin and IM called from the members, over the system",
               .unit = U::kUsd,
               .level = L::kSteps,
               .aggregation = A::kSum},
    [](const MetricInput& x, auto&& add) {
      if (!x.r.ccp_peak_liquidity_need.empty()) add(0, x.r.peak_liquidity_need);
    });
  v(&ChunkSums::ccp_peak_liquidity_need,
    MetricInfo{.name = "ccp_peak_liquidity_need",
               .doc = "largest one-step sum of the variation margin and IM the CCP called from its members",
               .unit = U::kUsd,
               .level = L::kCcpSteps,
               .aggregation = A::kSum},
    [each](const MetricInput& x, auto&& add) { each(x.r.ccp_peak_liquidity_need, add); });
  v(&ChunkSums::member_peak_liquidity_need,
    MetricInfo{.name = "member_peak_liquidity_need",
               .doc = "largest one-step sum of the variation margin and IM the member was called for at its CCPs",
               .unit = U::kUsd,
               .level = L::kMemberSteps,
               .aggregation = A::kSum},
    [](const MetricInput& x, auto&& add) {
      const auto& need = x.r.member_peak_liquidity_need;
      for (std::size_t m = 0; m < need.size(); ++m)
        if (need[m] != 0.0) add(m, need[m]);
    });
  // Time steps: the term structure. Day d's value i counts what happened by
  // (or on) the end of the step ending on day d (i = 0: at the start).
  const auto by_day = [](double first_day, const MetricInput& x, auto& add) {
    if (first_day < 0.0 || x.step_days <= 0.0) return;
    for (std::size_t i = step_day_index(first_day, x.step_days); i <= x.steps; ++i) add(i, 1);
  };
  v(&ChunkSums::defaulted_by_day,
    MetricInfo{.name = "member_default_by_day",
               .doc = "some member has defaulted by the end of the step ending on the day (day 0: at the start)",
               .unit = U::kScenarios,
               .level = L::kStepDays,
               .aggregation = A::kCount,
               .stressed_only = true},
    [by_day](const MetricInput& x, auto&& add) { by_day(first_default_day(x.r), x, add); });
  v(&ChunkSums::ccp_failed_by_day,
    MetricInfo{.name = "ccp_failure_by_day",
               .doc = "some CCP has failed by the end of the step ending on the day",
               .unit = U::kScenarios,
               .level = L::kStepDays,
               .aggregation = A::kCount,
               .stressed_only = true},
    [by_day](const MetricInput& x, auto&& add) { by_day(first_ccp_failure_day(x.r), x, add); });
  v(&ChunkSums::defaults_on_day,
    MetricInfo{.name = "member_defaults_on_day",
               .doc = "members that default in the step ending on the day (day 0: at the start)",
               .unit = U::kCount,
               .level = L::kStepDays,
               .aggregation = A::kCount,
               .stressed_only = true},
    [](const MetricInput& x, auto&& add) {
      if (x.step_days <= 0.0) return;
      // Each day's count added once (its square is the scenario's).
      thread_local std::vector<std::int64_t> on_day;
      on_day.assign(x.steps + 1, 0);
      for (const MemberDefault& d : x.r.defaults) ++on_day[std::min(x.steps, step_day_index(d.day, x.step_days))];
      for (std::size_t i = 0; i <= x.steps; ++i)
        if (on_day[i] > 0) add(i, on_day[i]);
    });
  v(&ChunkSums::member_default_day,
    MetricInfo{.name = "member_default_day",
               .doc = "the day the member defaulted (0 when it does not): divided by its probability of default, the "
                      "mean default day given a default",
               .unit = U::kDays,
               .level = L::kMemberDays,
               .aggregation = A::kSum,
               .stressed_only = true},
    [](const MetricInput& x, auto&& add) {
      if (x.step_days <= 0.0) return;
      for (const MemberDefault& d : x.r.defaults) add(static_cast<std::size_t>(d.member), d.day);
    });
}

class Aggregate {
 public:
  explicit Aggregate(const Model& model);

  // Scenarios must arrive in increasing index order (gaps only at chunk
  // boundaries). A Monte Carlo run's results carry no member losses by
  // account (account_losses is empty): the run sums them per worker and
  // hands them over by add_account_loss and add_member_loss_count.
  void add(const ScenarioResult& r);
  // Member losses summed outside the scenario results (a worker's window):
  // the exact sum of account x kLossChannelCount + channel, and the scenarios
  // in which a member's loss fell in a sketch bucket (member << 16 | bucket).
  void add_account_loss(std::size_t key, const ExactSum& sum) { account_loss_sum(key).add(sum); }
  void add_member_loss_count(std::uint64_t key, std::int64_t count) { member_loss_counts_[key] += count; }
  // Merge another aggregate that covers a later range (chunk-aligned).
  void merge(const Aggregate& later);
  // Closes the open chunk; call once before reading.
  void finish();

  // CBOR that carries this (unfinished) aggregate to another process, and back.
  std::vector<char> serialize() const;
  static Aggregate deserialize(const Model& model, const std::vector<char>& bytes);

  std::int64_t scenarios() const { return totals_.count; }
  const ChunkSums& totals() const { return totals_; }
  // The total loss per scenario: its positive values, the largest exactly (TailSample).
  const TailSample& total_loss_sample() const { return total_loss_sample_; }
  // The p-quantile of member m's loss per scenario (as a survivor or a
  // creditor of a failed CCP), from a relative-accuracy sketch (LossSketch:
  // within 1% of the exact order statistic).
  std::vector<double> member_loss_quantiles(double p) const;  // one per member
  // Member accounts' losses by channel: accounts x kLossChannelCount sums.
  double account_loss(std::size_t account, LossChannel channel) const {
    const std::size_t key = account * kLossChannelCount + static_cast<std::size_t>(channel);
    return key < account_losses_.size() ? account_losses_[key].value() : 0.0;
  }

  // Quantile of the total loss (linear interpolation between order statistics,
  // zeros included implicitly), expected shortfall above it: exact for
  // p >= TailSample::kExactFrom (0.99), else within 1% (TailSample).
  double total_loss_quantile(double p) const;
  // Distribution-free interval for the p-quantile (models::stats::quantile_rank_interval
  // on the order statistics); the upper end is +infinity when too few scenarios lie above it.
  models::stats::Interval total_loss_quantile_interval(double p, double confidence = models::stats::kConfidence) const;
  models::stats::Interval depletion_quantile_interval(std::size_t ccp, double p,
                                                      double confidence = models::stats::kConfidence) const;
  // Scenarios with at least k member defaults.
  std::int64_t scenarios_with_at_least_defaults(std::size_t k) const;
  double total_loss_expected_shortfall(double p) const;
  double depletion_quantile(std::size_t ccp, double p) const;
  // P(at least k member defaults).
  double p_at_least_defaults(std::size_t k) const;

  // The merged state besides the chunks, each part once: v(&Aggregate::part, name).
  template <class Visitor>
  static void visit_state(Visitor&& v) {
    v(&Aggregate::total_loss_sample_, "total_loss_sample");          // positive total losses, for quantiles
    v(&Aggregate::depletion_samples_, "df_depletion_sample");        // per CCP: positive DF depletion, for quantiles
    v(&Aggregate::default_histogram_, "member_defaults_histogram");  // scenarios with k member defaults
    v(&Aggregate::account_losses_, "account_losses");                // accounts x loss channels, exact sums
    v(&Aggregate::member_loss_counts_, "member_loss_sketch");        // (member << 16 | bucket) -> scenarios
  }

 private:
  const Model* model_;
  std::vector<double> default_funds_;  // per CCP (MetricInput)
  ChunkSums current_;
  bool open_ = false;
  std::vector<ChunkSums> chunks_;  // closed blocks of chunks (their float sums), in index order
  ChunkSums exact_;                // counts and maxima of the closed chunks
  ChunkSums totals_;
  TailSample total_loss_sample_;
  std::vector<TailSample> depletion_samples_;
  std::vector<std::int64_t> default_histogram_;
  // By account x kLossChannelCount + channel; allocated when a first loss
  // arrives (a calm run keeps none).
  std::vector<ExactSum> account_losses_;
  std::unordered_map<std::uint64_t, std::int64_t> member_loss_counts_;
  ExactSum& account_loss_sum(std::size_t key);

  void close_chunk(ChunkSums&& chunk);         // hands its counts and maxima to exact_, keeps its float sums
  void combine_blocks();                       // sorts the blocks, adds up every two halves of a larger one
  void check_state(const Model& model) const;  // throws when the state does not fit the model
};

// Quantile of a sample given only its non-zero values and its size (the rest are 0),
// exactly (every value kept: a TailSample without bound).
double sparse_quantile(const std::vector<double>& nonzero, std::int64_t n, double p);
double sparse_expected_shortfall(const std::vector<double>& nonzero, std::int64_t n, double p);
// Interval for the p-quantile from the same sample: its order statistics
// at the ranks of models::stats::quantile_rank_interval; +infinity above when no rank bounds it.
models::stats::Interval sparse_quantile_interval(const std::vector<double>& nonzero, std::int64_t n, double p,
                                                 double confidence);

}  // namespace ccpnet
