// The Monte Carlo runner (SPEC 4): scenarios in fixed tiles of kTile, P&L of a
// tile one matrix product per margin horizon, the cascade per scenario, TBB
// over batches of tiles in an arena of the requested size, results folded in
// scenario order. The output for a seed does not depend on the thread count,
// the batch size or how the scenario range is split.
#pragma once

#include <Eigen/Dense>
#include <atomic>
#include <cstdint>
#include <functional>

#include "sim/cascade.hpp"
#include "sim/metrics.hpp"
#include "sim/shocks.hpp"

namespace ccpnet {

struct Model;

// Scenarios revalued together in one matrix product. Fixed, so that every
// scenario's numbers come from the same instruction sequence whatever the
// batch size.
inline constexpr std::int64_t kTile = 64;

struct RunOptions {
  bool progress = false;                    // progress bar on stderr (only when it is a terminal)
  std::int64_t first = 0;                   // first scenario index (a multiple of kChunk when splitting a run)
  std::int64_t count = -1;                  // number of scenarios; -1: the model's
  int threads = -1;                         // -1: the model's setting; 0: all cores
  std::int64_t batch = -1;                  // -1: the model's setting (rounded up to a multiple of kTile)
  const std::atomic<bool>* stop = nullptr;  // set (e.g. by SIGINT) to stop after the current window
  std::function<void(const ScenarioResult&)> on_scenario;  // every scenario, in index order
  // Member-level screening of the calm scenarios where the model allows it;
  // false: every scenario's accounts revalued (the same results, slower).
  bool screening = true;
};

struct RunResult {
  explicit RunResult(const Model& model) : aggregate(model) {}
  Aggregate aggregate;
  std::int64_t first = 0;
  std::int64_t requested = 0;
  std::int64_t completed = 0;
  bool interrupted = false;
  int threads = 1;
  std::int64_t batch = 0;
  double seconds = 0.0;
};

RunResult run_monte_carlo(const Model& model, const RunOptions& options = {});

// One scenario on its own (the same numbers as inside a run), for tests and inspection.
ScenarioResult run_scenario(const Model& model, std::int64_t index);

// A deterministic market move: cumulative log-returns (assets x move_points:
// the horizons, or with time steps the points of the path).
// Exogenous defaults apply; latent-model draws do not. `trace` records the
// waterfalls layer by layer. Settlement takes mean finality times; `stress`
// (when given) names the chains halted and bridges exploited, and its
// vol_moves move the implied vols of options (stress_vol_factor).
ScenarioResult run_move(const Model& model, const Eigen::MatrixXd& cumulative, CascadeTrace* trace = nullptr,
                        const StressScenario* stress = nullptr);

}  // namespace ccpnet
