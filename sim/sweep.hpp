// `ccpnet sweep`: a scenario over a cartesian grid of key values (and, on
// request, the file's variants at every point), all on common random numbers
// (one seed, the same scenarios), each point's estimates with their 95%
// intervals in one tidy table: a row per point x metric x item.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "sim/config/load.hpp"
#include "sim/output.hpp"
#include "sim/runner.hpp"

namespace ccpnet {

// One axis of the grid: a key path, as `--set` takes it, and its values (YAML text).
// The key `topology` rewires the CCPs instead (none, peer, hub, mesh, single, as_is:
// a variant's `topology`).
struct SweepAxis {
  std::string key;
  std::vector<std::string> values;
};
inline constexpr std::string_view kTopologyAxis = "topology";

// "key.path=v1,v2,...": values split at commas outside brackets, braces and
// quotes ("ccps.A.waterfall=[defaulter_im, ccp_equity],[defaulter_im, sitg, ccp_equity]").
// Throws InputError naming the flag for an empty key, an empty value or an unknown topology.
SweepAxis parse_sweep_axis(std::string_view text);

struct SweepPoint {
  std::vector<std::string> values;  // one per axis
  std::string variant;              // "base", or a variant of the file (with variants)
  nlohmann::ordered_json summary;   // summary.json of the point
  Table metrics;                    // metric_table of the point
};

struct Sweep {
  std::vector<SweepAxis> axes;
  bool variants = false;
  std::vector<SweepPoint> points;  // the grid in row-major order (the last axis fastest), variants innermost
  std::int64_t scenarios = 0;
  std::uint64_t seed = 0;
  std::vector<std::string> warnings;  // each once
  std::size_t grid_points = 0;        // in the grid
  std::size_t done = 0;               // grid points run, each with all its variants (the first `done`)
  bool partial() const { return done < grid_points; }
};

// Runs every point of the grid: the base's text with `overrides`, then the
// point's values (a `topology` value rewires the CCPs), on the base's seed and
// scenario count; with `variants`, each of the file's variants at each point too
// (a grid over `topology` then is refused: variants set their own links).
// Errors in a point's values are ScenarioErrors located at the override.
// options.stop stops the point being run and all later ones: the sweep is then
// partial, with the grid points finished before it (the one it stopped is
// dropped). `previous`: a partial run of the same sweep (read_sweep_state),
// whose points are kept; the grid goes on after them, and the result is what
// one uninterrupted run gives (every point on the same random numbers).
Sweep run_sweep(const config::LoadedScenario& base, const std::vector<config::Override>& overrides,
                const std::vector<SweepAxis>& axes, bool variants, const RunOptions& options,
                const Sweep* previous = nullptr);

// The state of a partial sweep for `ccpnet sweep --resume`: what identifies the
// sweep (ccpnet's version, the resolved base scenario, the axes, variants, seed
// and scenarios) and its finished points, numbers bit for bit (CBOR; doubles
// as their bytes, so the state resumes on a machine of the same byte order).
std::string sweep_state(const Sweep& sweep, const std::string& resolved_yaml);
// Reads it back for the sweep about to run; throws InputError when it is
// damaged or belongs to another sweep (another scenario, --set, grid, -n or
// version), saying which.
Sweep read_sweep_state(const std::string& bytes, const std::string& resolved_yaml, const std::vector<SweepAxis>& axes,
                       bool variants);

// The tidy table: one column per axis (named by its key), then variant,
// metric, level, item, unit, value, standard_error, lower, upper, interval
// (as metric_table), plus the quantiles of the total loss (total_loss_p99,
// total_loss_p999: interval "order_statistics").
Table sweep_table(const Sweep& sweep);
// The terminal table: per point, P(any CCP fails), E[total loss] and mean member defaults with 95% intervals.
std::string format_sweep(const Sweep& sweep);
// The files `ccpnet sweep --out` writes (the same from Python): sweep.csv,
// sweep.json and, for a partial sweep, its resume state.
inline constexpr const char* kSweepStateFile = "sweep.resume.cbor";
std::vector<std::pair<std::string, std::string>> sweep_files(const Sweep& sweep, const std::string& resolved_yaml);
// The resume state a partial sweep left in `directory`; InputError when there is none.
std::string read_sweep_state_file(const std::string& directory);

// {axes, seed, scenarios, variants, grid_points, done_grid_points, partial,
//  points: [{values: {key: value}, variant, summary}]}
nlohmann::ordered_json sweep_json(const Sweep& sweep);

}  // namespace ccpnet
