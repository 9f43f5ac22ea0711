// `ccpnet compare`: the scenario and its variants (other links, waterfalls,
// margin models) run on common random numbers, so their differences are
// paired scenario by scenario and come with tight confidence intervals.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "sim/config/load.hpp"
#include "sim/metrics.hpp"
#include "sim/model.hpp"
#include "sim/output.hpp"
#include "sim/runner.hpp"

namespace ccpnet {

// Rewires the CCPs of a scenario (see config::Topology); warnings describe
// what had to change. A generator must have been materialised into members
// first, so that the rewired system clears the same positions.
void apply_topology(config::Scenario& scenario, config::Topology topology, std::vector<std::string>& warnings);

// The metrics compared between variants, scenario by scenario: the system
// metrics declared with `compare` in ChunkSums::visit, in that order.
const std::vector<MetricInfo>& compare_metrics();
// The position of a compared metric in compare_metrics(); throws
// std::invalid_argument naming the compared metrics when there is none.
std::size_t compare_metric_index(std::string_view name);

// The paired statistics of a compared metric of a variant (y) against the
// base (x), folded scenario by scenario in index order (the same order for
// any thread count or batch size), in memory independent of the scenario
// count: the plain sums in index order (the means), and the centred
// co-moments of the difference d = y - x and of y, updated one pair at a
// time (Welford 1962; the bivariate form of Chan, Golub and LeVeque 1983).
// They give the paired difference's and the ratio's intervals of the stored
// values (Comparison::difference, ratio) without keeping the values.
struct PairedSums {
  std::int64_t n = 0;
  double sum_x = 0.0, sum_y = 0.0, sum_d = 0.0;
  double mean_d = 0.0, mean_y = 0.0;
  double m_dd = 0.0, m_dy = 0.0, m_yy = 0.0;  // sums of (d - mean d)^2, (d - mean d)(y - mean y), (y - mean y)^2
  void add(double x, double y);
};

struct VariantOutcome {
  std::string name;
  std::shared_ptr<const Model> model;
  double total_im = 0.0;          // members' IM at every CCP, their clients' accounts included
  double inter_ccp_margin = 0.0;  // IM of link accounts
  double default_funds = 0.0;
  std::int64_t scenarios = 0;      // run (all of them unless interrupted)
  std::vector<PairedSums> paired;  // compare_metrics(): against the base's same scenarios (the base: itself)
  // compare_metrics() x scenario: only when the comparison keeps them
  // (keep_per_scenario; memory proportional to the scenarios), else empty.
  std::vector<std::vector<double>> per_scenario;
  nlohmann::ordered_json summary;
  Table metrics;  // metric_table: every declared metric with its 95% interval
};

struct PairedDifference {
  double mean = 0.0, lo = 0.0, hi = 0.0;  // variant - base, 95% interval
};

struct Comparison {
  std::vector<VariantOutcome> variants;  // the base first
  std::int64_t scenarios = 0;
  std::vector<std::string> warnings;
  // A compared metric (by name) of a variant, scenario by scenario (throws
  // std::logic_error unless the comparison kept them); its mean; its paired
  // differences to the base.
  const std::vector<double>& values(std::size_t variant, std::string_view metric) const;
  double mean(std::size_t variant, std::string_view metric) const;
  PairedDifference difference(std::size_t variant, std::string_view metric) const;
  // The base's mean over the variant's, R = mean(base) / mean(variant), with
  // its 95% interval by the delta method on the paired scenarios: the
  // standard error of the mean of base_i - R variant_i over mean(variant).
  // With a variant that removes a channel (interbank=null), the channel's
  // amplification of the loss. All zero when the variant's mean is 0.
  PairedDifference ratio(std::size_t variant, std::string_view metric) const;
  // Whether reports show the metric: always, or for an optional one when some
  // variant's mean is not zero.
  bool shows(std::string_view metric) const;
};

// Loads every variant of `file` (base overrides first, then the variant's
// `set`, then its topology) and runs them on the same seed and scenarios,
// block by block (kCompareBlock scenarios: the base, then each variant), so
// that the paired statistics stream. options.on_scenario, if set, also sees
// every scenario of every variant (block by block, in variant order within a
// block); options.stop stops every variant after the block being run (the
// variants then cover the same scenarios but the last ones of the base).
// keep_per_scenario keeps every compared value of every scenario
// (Comparison::values; memory proportional to the scenarios).
inline constexpr std::int64_t kCompareBlock = 16 * kChunk;
Comparison run_compare(const std::string& file, const std::vector<config::Override>& overrides,
                       const RunOptions& options, bool keep_per_scenario = false);

// The same from a scenario already loaded with `overrides` (its text and
// source name are reloaded with each variant's changes).
Comparison run_compare(const config::LoadedScenario& base, const std::vector<config::Override>& overrides,
                       const RunOptions& options, bool keep_per_scenario = false);

std::string format_comparison(const Comparison& c);
// A paired difference as the terminal shows it: "+1.2 pp [+0.3 pp, +2.1 pp]" for a
// probability (percentage points), "-3.2e+06 [-4.1e+06, -2.3e+06] USD" for an amount.
std::string format_difference(const MetricInfo& metric, const PairedDifference& d);
// Its reading at 95%: "higher than base" or "lower than base" when the interval
// excludes 0, "no difference" when every scenario is equal, else "no significant difference".
std::string difference_reading(const PairedDifference& d);
// compare.csv, tidy: one row per variant and compared metric: variant, metric, unit,
// mean, and the paired difference to the base with its 95% interval
// (difference, difference_lower, difference_upper; 0 for the base).
Table comparison_table(const Comparison& c);
nlohmann::ordered_json comparison_json(const Comparison& c);

}  // namespace ccpnet
