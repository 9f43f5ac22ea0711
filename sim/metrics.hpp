// Aggregation of per-scenario results (SPEC 3.11), deterministic and mergeable.
//
// Scenarios are folded in index order into fixed chunks of kChunk scenarios
// (aligned on the global index); totals are the chunk sums added in chunk
// order. Any split of the scenario range on chunk boundaries (threads, batches,
// MPI ranks, Dask workers) therefore gives bit-identical totals. Quantiles are
// exact: the non-zero values are kept (calm scenarios cost nothing) and sorted.
#pragma once

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "models/waterfall/waterfall.hpp"
#include "sim/cascade.hpp"
#include "sim/exact_sum.hpp"

namespace ccpnet {

struct Model;

inline constexpr std::int64_t kChunk = 4096;

// The per-CCP ledger of a scenario (ScenarioResult's ccp_closeout ...
// ccp_unallocated), in this order.
enum class LedgerColumn { kCloseout, kLinkIn, kLinkOut, kResolutionMembers, kResolutionLinks, kUnallocated };
inline constexpr std::size_t kLedgerColumns = 6;
const char* ledger_column_name(LedgerColumn column);
double ledger_value(const ScenarioResult& r, std::size_t ccp, LedgerColumn column);

struct ChunkSums {
  std::int64_t first = 0;  // first scenario index of the chunk
  std::int64_t count = 0;
  double member_defaults = 0, ccp_failures = 0, rounds = 0;
  double total_loss = 0, closeout_loss = 0, uncovered = 0;
  std::int64_t any_ccp_fail = 0, any_default = 0;
  std::vector<double> ccp_layers;                         // CCPs x kLayerCount
  std::vector<double> ccp_uncovered;                      // CCPs
  std::vector<double> ccp_loss;                           // CCPs
  std::vector<double> ccp_depletion;                      // CCPs: sum of DF depletion fractions
  std::vector<double> ccp_ledger;                         // CCPs x kLedgerColumns (see ScenarioResult)
  std::vector<std::int64_t> ccp_fails, ccp_df_exhausted;  // CCPs
  std::vector<std::int64_t> ccp_fails_via_links;          // CCPs: failures whose waterfall ran out on link losses
  double failure_principal = 0;
  double ledger_error = 0;  // largest |closeout - ledger total| / max(1, closeout) of a scenario
  // members x kDefaultCauseCount. Integer counts add exactly in any order, so a
  // closed chunk hands them to its Aggregate and keeps none (bounded memory).
  std::vector<std::int64_t> member_defaults_by_cause;
  double liquidity_shortfall = 0, settlement_defaults = 0;
  // Settlement layer (empty unless the model has one): sums of SettlementOutcome.
  std::vector<double> ccp_settle, chain_settle, bridge_settle;

  void init(const Model& model, std::int64_t first_index);
  void add(const Model& model, const ScenarioResult& r);
  void fold_into(ChunkSums& total) const;  // total += this, in a fixed order
};

class Aggregate {
 public:
  explicit Aggregate(const Model& model);

  // Scenarios must arrive in increasing index order (gaps only at chunk boundaries).
  void add(const ScenarioResult& r);
  // Merge another aggregate that covers a later range (chunk-aligned).
  void merge(const Aggregate& later);
  // Closes the open chunk; call once before reading.
  void finish();

  // Bytes that carry this (unfinished) aggregate to another process, and back.
  std::vector<char> serialize() const;
  static Aggregate deserialize(const Model& model, const std::vector<char>& bytes);

  std::int64_t scenarios() const { return totals_.count; }
  const ChunkSums& totals() const { return totals_; }
  const std::vector<ChunkSums>& chunks() const { return chunks_; }
  std::vector<ChunkSums>& chunks() { return chunks_; }
  std::vector<double>& total_loss_values() { return total_loss_values_; }
  std::vector<std::vector<double>>& depletion_values() { return depletion_values_; }
  std::vector<std::int64_t>& default_count_histogram() { return default_histogram_; }
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
  // zeros included implicitly), expected shortfall above it.
  double total_loss_quantile(double p) const;
  double total_loss_expected_shortfall(double p) const;
  double depletion_quantile(std::size_t ccp, double p) const;
  // P(at least k member defaults).
  double p_at_least_defaults(std::size_t k) const;

 private:
  const Model* model_;
  ChunkSums current_;
  bool open_ = false;
  std::vector<ChunkSums> chunks_;
  ChunkSums totals_;
  std::vector<double> total_loss_values_;              // non-zero values
  std::vector<std::vector<double>> depletion_values_;  // per CCP, non-zero values
  std::vector<std::int64_t> default_histogram_;        // scenarios with k member defaults
  std::vector<std::int64_t> by_cause_;                 // member defaults by cause of the closed chunks
  // By account x kLossChannelCount + channel; allocated when a first loss
  // arrives (a calm run keeps none).
  std::vector<ExactSum> account_losses_;
  std::unordered_map<std::uint64_t, std::int64_t> member_loss_counts_;  // (member << 16 | bucket) -> scenarios
  ExactSum& account_loss_sum(std::size_t key);

  void close_chunk(ChunkSums&& chunk);  // folds its counts into by_cause_, keeps the rest
  bool finished_ = false;
};

// Quantile of a sample given only its non-zero values and its size (the rest are 0).
double sparse_quantile(std::vector<double> nonzero, std::int64_t n, double p);
double sparse_expected_shortfall(std::vector<double> nonzero, std::int64_t n, double p);

}  // namespace ccpnet
