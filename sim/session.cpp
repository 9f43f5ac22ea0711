#include "sim/session.hpp"

#include <filesystem>

#include "sim/distributed.hpp"
#include "sim/errors.hpp"
#include "sim/metrics.hpp"
#include "sim/model.hpp"
#include "sim/output.hpp"
#include "sim/report.hpp"

namespace ccpnet {

Session::Session(const std::string& file, const std::vector<config::Override>& overrides, config::DataAccess access)
    : Session(config::load_scenario_file(file, overrides, access)) {}

Session::Session(config::LoadedScenario loaded)
    : loaded_(std::make_shared<const config::LoadedScenario>(std::move(loaded))),
      model_(std::make_shared<const Model>(build_model(*loaded_))),
      resolved_yaml_(config::to_yaml(loaded_->scenario)) {}

namespace {

// The root opens the output (its staging directory); every rank learns where
// it is, or that it could not be opened.
std::unique_ptr<OutputWriter> open_output(const Model& model, const OutputInfo& info, const Distributed& mpi) {
  std::unique_ptr<OutputWriter> writer;
  std::string staging, error;
  if (mpi.root()) {
    try {
      writer = std::make_unique<OutputWriter>(model, info);
      staging = writer->staging().string();
    } catch (const InputError& e) {
      error = e.what();
    } catch (const std::filesystem::filesystem_error& e) {
      error = std::string("ccpnet: ") + e.what();
    }
  }
  staging = mpi.broadcast(staging);
  if (staging.empty()) throw InputError(error);
  if (!mpi.root()) writer = std::make_unique<OutputWriter>(model, staging, mpi.rank());
  return writer;
}

// The ranks' aggregates merged in rank order: the same chunks, folded in the
// same order, as a single process.
RunResult merge_ranks(const Model& model, const RunResult& mine, const std::vector<std::vector<char>>& parts,
                      bool interrupted) {
  RunResult merged(model);
  merged.aggregate = Aggregate::deserialize(model, parts[0]);
  for (std::size_t r = 1; r < parts.size(); ++r) merged.aggregate.merge(Aggregate::deserialize(model, parts[r]));
  merged.aggregate.finish();
  merged.first = 0;
  merged.requested = model.scenarios;
  merged.completed = merged.aggregate.scenarios();
  merged.interrupted = interrupted;
  merged.threads = mine.threads;
  merged.batch = mine.batch;
  merged.seconds = mine.seconds;
  return merged;
}

}  // namespace

RunResult Session::run(const RunRequest& request, const DirectoryRequest& output, const Distributed& mpi) const {
  const Model& model = *model_;
  const std::string& file = loaded_->source_name;
  const std::unique_ptr<OutputWriter> writer =
      open_output(model, OutputInfo{file, loaded_->text, resolved_yaml_, output.directory, loaded_->data.inputs}, mpi);
  const auto [first, count] = mpi.range(model.scenarios, kChunk);
  RunOptions options;
  options.progress = request.progress && mpi.root();
  options.threads = request.threads;
  options.batch = request.batch;
  options.first = first;
  options.count = count;
  options.stop = request.stop;
  options.on_scenario = [&](const ScenarioResult& r) {
    writer->scenario(r);
    if (request.on_scenario) request.on_scenario(r);
  };
  RunResult result = run_monte_carlo(model, options);
  if (!mpi.root()) writer->close_part();
  const bool interrupted = mpi.max(result.interrupted ? 1 : 0) > 0;
  if (mpi.size() > 1) {
    // Serialized only to cross ranks: the state's tail samples grow with the
    // run (1% of the scenarios), and one process reads its own aggregate.
    const auto parts = mpi.gather(result.aggregate.serialize());
    if (!mpi.root()) {
      result.interrupted = interrupted;
      return result;
    }
    result = merge_ranks(model, result, parts, interrupted);
    writer->append_parts(mpi.size());
  }
  if (output.report) writer->add_file("report.html", run_report(model, result, file, resolved_yaml_));
  writer->finish(result);
  return result;
}

}  // namespace ccpnet
