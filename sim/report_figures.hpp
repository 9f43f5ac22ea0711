// The standard figures of a run, a stress test and a comparison: what each
// figure shows, taken from the engine's results (sim/figures.hpp draws it).
// The report pages and the Python package (ccpnet.plot) both call these, so
// that a figure in a notebook is the figure of the report.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "sim/figures.hpp"

namespace ccpnet {

struct Model;
struct ChunkSums;
class Aggregate;
struct StressOutcome;
struct Comparison;
struct MetricInfo;

// The non-zero total losses of a run with their VaR 99% and ES 99% (the
// summary's p99_total_loss and es99_total_loss). `aggregate` must be finished.
figures::LossDistribution run_loss_distribution(const Aggregate& aggregate);

// Mean loss per scenario absorbed by each waterfall layer, one bar per CCP,
// then what no layer covered; `beyond_defaulters`: without the defaulters'
// own margin and fund contribution.
figures::BarChart run_waterfalls(const Model& model, const ChunkSums& totals, bool beyond_defaulters = false);

// Time steps: P(some member has defaulted by the day) and P(some CCP has
// failed by the day), per day a step ends on, with their 95% intervals
// (term_structure_table). No series in one period.
figures::TimeCurves run_term_structure(const Model& model, const Aggregate& aggregate);

// The system: CCPs coloured by P(fail), members by P(default) (groups of
// members beyond 60); without `totals` (a model not run) every node is grey.
// `note`, when given, receives the caption's words on grouped members.
figures::Network run_network(const Model& model, const ChunkSums* totals, std::string* note = nullptr);

// Stress scenario `outcome` (its entry of stress.json: `stress`): the loss each
// layer absorbed per CCP over all rounds, failures shaded; `through_links`
// is set when a CCP failed on losses over its links.
figures::BarChart stress_waterfalls(const Model& model, const StressOutcome& outcome,
                                    const nlohmann::ordered_json& stress, bool* through_links = nullptr);
// Who defaults and how it spreads: members by cause, the defaulters' books
// closed out at CCPs and failed CCPs' link accounts closed out, as arrows.
figures::Network stress_network(const Model& model, const StressOutcome& outcome, const nlohmann::ordered_json& stress);

// A compared metric as the report shows it: its name and title (from its
// declaration) and how its numbers read.
struct ShownMetric {
  std::string_view name;
  std::string_view title;
  figures::Unit unit;
  bool optional;
};
// The headline metrics in a fixed order, then every other compared metric (an
// optional one where some variant has it).
std::vector<ShownMetric> shown_metrics(const Comparison& comparison);
ShownMetric shown_metric(const MetricInfo& info);
// Each variant's paired difference to the base for `metric`, with its 95% interval.
figures::DotWhisker compare_differences(const Comparison& comparison, const ShownMetric& metric);

// What a CCP whose layers ran out on losses over its links received over them,
// from its entry in stress.json (0 when it did not fail that way), in words.
double link_shortfall(const nlohmann::ordered_json& stress, const std::string& ccp);
std::string link_shortfall_text(double amount);

}  // namespace ccpnet
