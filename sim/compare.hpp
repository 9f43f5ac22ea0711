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

struct VariantOutcome {
  std::string name;
  std::shared_ptr<const Model> model;
  double total_im = 0.0;          // members' IM at every CCP, their clients' accounts included
  double inter_ccp_margin = 0.0;  // IM of link accounts
  double default_funds = 0.0;
  std::vector<std::vector<double>> per_scenario;  // compare_metrics() x scenario
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
  // A compared metric (by name) of a variant, scenario by scenario; its mean;
  // its paired differences to the base.
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
// `set`, then its topology) and runs them on the same seed and scenarios.
// options.on_scenario, if set, also sees every scenario of every variant (in
// variant order); options.stop stops the variant being run and all later ones.
Comparison run_compare(const std::string& file, const std::vector<config::Override>& overrides,
                       const RunOptions& options);

// The same from a scenario already loaded with `overrides` (its text and
// source name are reloaded with each variant's changes).
Comparison run_compare(const config::LoadedScenario& base, const std::vector<config::Override>& overrides,
                       const RunOptions& options);

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
