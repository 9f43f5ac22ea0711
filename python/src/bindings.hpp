// One bind_<area>() per area of the ccpnet._core module, and the handle the
// areas share.
#pragma once

#include <oneapi/tbb/task_arena.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/config/load.hpp"
#include "sim/errors.hpp"
#include "sim/metrics.hpp"
#include "sim/model.hpp"
#include "sim/output.hpp"

namespace ccpnet::python {

// A Python integer argument within [lo, hi] (operator.index: no floats, no
// strings); a ValueError naming it otherwise.
std::int64_t checked(const pybind11::object& value, std::int64_t lo, std::int64_t hi, const char* what);

// f() in an arena of the threads a call is given (None: the model's
// simulation.threads; 0: all cores): what runs in parallel during the call,
// the building of its models and variants included, keeps to them as the
// run itself does (the CLI's --threads bounds a whole command the same way).
template <class F>
auto on_threads(const pybind11::object& threads, int model_threads, F&& f) {
  const int n = threads.is_none() ? model_threads : static_cast<int>(checked(threads, 0, 1024, "threads"));
  tbb::task_arena arena(n > 0 ? n : tbb::info::default_concurrency());
  return arena.execute(std::forward<F>(f));
}

// Ctrl-C during a long engine run: the GIL is released while the engine works;
// every kChunk scenarios, check() takes it back to let Python handle a pending
// signal and, on one, keeps the exception and asks the runner to stop after the
// current window (RunOptions::stop = &stop). Rethrow with `if (error) throw *error`.
struct InterruptCheck {
  std::atomic<bool> stop{false};
  std::optional<pybind11::error_already_set> error;

  void check() {
    if (++since_ < kChunk || error) return;
    since_ = 0;
    pybind11::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) {
      error.emplace();  // takes the pending exception (KeyboardInterrupt)
      stop = true;
    }
  }

 private:
  std::int64_t since_ = 0;
};

// A loaded scenario and the model built from it: the Python `Model`. Never
// changed after it is built, and shared (std::shared_ptr) by everything that
// refers to it: Model objects, run results, their arrays. Nothing is global,
// so any number of models and results live side by side.
struct ModelHandle {
  config::LoadedScenario loaded;
  std::vector<config::Override> overrides;  // applied on top of loaded.text, in order
  ccpnet::Model model;
  std::string resolved_yaml;    // config::to_yaml of the resolved scenario
  std::string resolved_sha256;  // its SHA-256, as in manifest.json: identifies the model
};
using ModelPtr = std::shared_ptr<ModelHandle>;

// Loads and builds a model; the GIL is released while the engine works.
// Data files (price history, trades) are read beside the scenario file unless
// `access` says anywhere (the CLI's --allow-outside-data).
ModelPtr load_model(std::string text, const std::string& source_name, std::vector<config::Override> overrides,
                    config::DataAccess access = config::DataAccess::kBesideScenario);

// The same scenario with more overrides (seed, scenario count, ...), validated
// like the rest. Returns `base` itself when there is nothing to change.
ModelPtr derive_model(const ModelPtr& base, const std::vector<config::Override>& extra);
// Overrides that set the seed and the scenario count (None: unchanged; nothing
// when the base already has them): validated like the file and written into
// the resolved scenario. Append to other overrides and call derive_model once.
std::vector<config::Override> seed_and_scenarios(const ModelPtr& base, const pybind11::object& seed,
                                                 const pybind11::object& scenarios);

// Overrides from Python: a list of "key.path=value" strings, or a mapping
// {key.path: value} whose values are YAML text (str) or plain Python data.
std::vector<config::Override> to_overrides(const pybind11::handle& overrides);

// A new 1-D numpy array of n elements, element i = value(i).
template <class T, class F>
pybind11::array_t<T> column(std::size_t n, F&& value) {
  pybind11::array_t<T> out(static_cast<pybind11::ssize_t>(n));
  auto w = out.template mutable_unchecked<1>();
  for (std::size_t i = 0; i < n; ++i) w(static_cast<pybind11::ssize_t>(i)) = value(i);
  return out;
}

// A sim Table (sim/output.hpp) as a dict: lists of str for text columns, numpy arrays for numbers.
pybind11::dict table_columns(const Table& table);

void bind_errors(pybind11::module_& m);     // ScenarioError, SimulationError
void bind_model(pybind11::module_& m);      // Model, load
void bind_run(pybind11::module_& m);        // run, RunResult, merge
void bind_stress(pybind11::module_& m);     // stress, StressRun
void bind_compare(pybind11::module_& m);    // compare, ComparisonRun
void bind_sweep(pybind11::module_& m);      // sweep
void bind_clearing(pybind11::module_& m);   // Eisenberg-Noe, Rogers-Veraart, DebtRank
void bind_margin(pybind11::module_& m);     // margin models, add-ons, collateral
void bind_waterfall(pybind11::module_& m);  // the default waterfall, default-fund sizing
void bind_calibrate(pybind11::module_& m);  // calibrate_disclosures (ccpnet.calibrate)
void bind_figures(pybind11::module_& m);    // the report's figures from plain data, money, VaR and ES

}  // namespace ccpnet::python
