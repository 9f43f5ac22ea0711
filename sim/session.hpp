// A run session (in the manner of an application object: load, build, run,
// merge, write), so that the front ends stay thin: the command line and the
// Python module each parse their arguments, make one session call and map its
// errors. A session owns its loaded scenario and model and shares nothing
// with other sessions: several can live in one process.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/config/load.hpp"
#include "sim/runner.hpp"

namespace ccpnet {

struct Model;
class Distributed;

// What a Monte Carlo run is asked for.
struct RunRequest {
  int threads = 0;                                         // 0: every core
  std::int64_t batch = 0;                                  // 0: the scenario's
  bool progress = false;                                   // a progress bar on stderr (a terminal only)
  std::atomic<bool>* stop = nullptr;                       // set (Ctrl-C): stop with a valid partial result
  std::function<void(const ScenarioResult&)> on_scenario;  // also sees every scenario of this process
};

// Where a run's output directory goes (`ccpnet run --out`).
struct DirectoryRequest {
  std::string directory;
  bool report = false;  // also report.html
};

class Session {
 public:
  // Loads `file` with `overrides` (ScenarioError for bad input) and builds its model.
  Session(const std::string& file, const std::vector<config::Override>& overrides, config::DataAccess access);
  explicit Session(config::LoadedScenario loaded);

  const config::LoadedScenario& loaded() const { return *loaded_; }
  const Model& model() const { return *model_; }
  const std::string& resolved_yaml() const { return resolved_yaml_; }

  // Every scenario of the model, split over the ranks of `mpi` on chunk
  // boundaries; the root writes the output directory (the other ranks their
  // rows into its staging directory, appended in rank order) and returns the
  // merged result, byte for byte what one process gives. Throws InputError
  // when the directory cannot be written (on the root with the reason; on the
  // other ranks with an empty message, the root reports it).
  RunResult run(const RunRequest& request, const DirectoryRequest& output, const Distributed& mpi) const;

 private:
  std::shared_ptr<const config::LoadedScenario> loaded_;
  std::shared_ptr<const Model> model_;
  std::string resolved_yaml_;
};

}  // namespace ccpnet
