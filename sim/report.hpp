// report.html (SPEC 5.1, `--report`): one self-contained HTML page per command,
// with inline CSS and inline SVG figures (sim/figures.hpp, filled by
// sim/report_figures.hpp), no scripts, no external files, nothing fetched.
// Every string that comes from the scenario file (ids, names, the resolved
// YAML) is HTML-escaped (html_escape, sim/figures.hpp).
//
// The pages hold no timing, thread count or date: the same input and seed give
// the same bytes, so report.html can be listed in the manifest like any other
// output.
#pragma once

#include <string>
#include <vector>

#include "sim/figures.hpp"

namespace ccpnet {

struct Model;
struct RunResult;
struct StressOutcome;
struct Comparison;
struct Contributions;
struct ReverseResult;
struct ReverseSearchResult;

// `ccpnet run --report`: run metadata, the resolved scenario (collapsible),
// per-CCP and system tables, and figures: the loss distribution (histogram on
// a log scale and the exceedance curve, VaR 99% and ES 99% marked), the mean
// waterfall depletion per CCP, and the network coloured by failure
// probability. With a settlement layer, a Settlement section: per chain,
// bridge and CCP the numbers of summary.json (chains.csv, bridges.csv,
// ccps.csv), the liquidity defaults caused by settlement delay, and the
// settlement losses and late VM gains per CCP. `result.aggregate` must be
// finished.
std::string run_report(const Model& model, const RunResult& result, const std::string& scenario_file,
                       const std::string& resolved_yaml);

// `ccpnet stress --report`: per stress scenario, member defaults by round and
// cause, its settlement (as in stress.json, with a settlement layer), each
// CCP's waterfall layer by layer (tables and stacked bars, failures
// highlighted, a failure through link charges named) and the contagion paths
// on the network.
std::string stress_report(const Model& model, const std::vector<StressOutcome>& outcomes,
                          const std::string& scenario_file, const std::string& resolved_yaml);

// `ccpnet compare --report`: the variants side by side, paired differences to
// the base with 95% intervals, one dot-and-whisker figure per metric (the
// liquidity shortfall and settlement loss when some variant has them).
std::string compare_report(const Comparison& comparison);
// report.html of `ccpnet contributions --report`: each node's contribution
// with its paired 95% interval, as a table and a dot-and-whisker figure.
std::string contributions_report(const Contributions& contributions);

// `ccpnet reverse --report`: the thresholds of each layer along the
// direction (or, with --search, every direction searched with its radius in
// standard deviations), then the stress story of the move at which the CCP
// fails (or the layer is exhausted), as `ccpnet stress --report` tells it.
std::string reverse_report(const Model& model, const ReverseResult& result, const std::string& scenario_file,
                           const std::string& resolved_yaml);
std::string reverse_search_report(const Model& model, const ReverseSearchResult& result,
                                  const std::string& scenario_file, const std::string& resolved_yaml);

}  // namespace ccpnet
