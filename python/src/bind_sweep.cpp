// ccpnet._core.sweep: a grid of key values on common random numbers (sim/sweep.hpp).
#include <fmt/format.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <exception>
#include <new>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "sim/errors.hpp"
#include "sim/output.hpp"
#include "sim/output_dir.hpp"
#include "sim/sweep.hpp"

namespace py = pybind11;

namespace ccpnet::python {

namespace {

py::dict sweep(const ModelPtr& base, const std::vector<std::pair<std::string, std::vector<std::string>>>& grid,
               bool variants, const py::object& scenarios, const py::object& seed, const py::object& threads,
               bool progress, const std::string& directory, bool resume) {
  if (resume && directory.empty())
    throw py::value_error("resume: only with out (the directory of the interrupted sweep)");
  const ModelPtr model = on_threads(threads, base->model.threads,
                                    [&] { return derive_model(base, seed_and_scenarios(base, seed, scenarios)); });
  std::vector<SweepAxis> axes;
  for (const auto& [key, values] : grid) {
    // The same checks as the CLI's --grid KEY=V1,V2 (an unknown topology, an empty value).
    std::string text = key + "=";
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (values[i].empty()) throw py::value_error(fmt::format("grid {}: an empty value", key));
      text += (i ? "," : "") + values[i];
    }
    if (values.empty()) throw py::value_error(fmt::format("grid {}: no values", key));
    SweepAxis axis = parse_sweep_axis(text);
    axis.values = values;  // as given: a value may hold a comma (a YAML list)
    axes.push_back(std::move(axis));
  }
  RunOptions options;
  options.progress = progress;
  if (!threads.is_none()) options.threads = static_cast<int>(checked(threads, 0, 1024, "threads"));
  InterruptCheck interrupt_check;
  options.stop = &interrupt_check.stop;
  options.on_scenario = [&](const ScenarioResult&) { interrupt_check.check(); };
  Sweep s;
  bool out_of_memory = false;
  const config::LoadedScenario& loaded = model->loaded;
  const OutputInfo info{loaded.source_name, loaded.text, model->resolved_yaml, directory, loaded.data.inputs};
  {
    py::gil_scoped_release release;
    try {
      std::optional<Sweep> previous;
      if (!directory.empty()) check_output_directory(directory);  // before the work, not after
      if (resume) previous = read_sweep_state(read_sweep_state_file(directory), model->resolved_yaml, axes, variants);
      s = on_threads(threads, model->model.threads, [&] {
        return run_sweep(loaded, model->overrides, axes, variants, options, previous ? &*previous : nullptr);
      });
      // What `ccpnet sweep --out` writes; an interrupted sweep, its finished points and their state.
      if (!directory.empty()) write_directory(info, sweep_files(s, model->resolved_yaml));
    } catch (const config::ScenarioError&) {
      throw;
    } catch (const InputError&) {
      throw;
    } catch (const std::bad_alloc&) {
      out_of_memory = true;
    } catch (const std::exception& e) {
      throw SimulationError(fmt::format("the sweep of '{}' failed: {}", model->model.name, e.what()));
    }
  }
  if (out_of_memory) {
    PyErr_SetString(PyExc_MemoryError, "out of memory during the sweep");
    throw py::error_already_set();
  }
  if (interrupt_check.error) throw *interrupt_check.error;
  py::dict out;
  out["columns"] = table_columns(sweep_table(s));
  out["json"] = sweep_json(s).dump();
  out["text"] = format_sweep(s);
  out["warnings"] = s.warnings;
  return out;
}

}  // namespace

void bind_sweep(py::module_& m) {
  m.def("sweep", &sweep, py::arg("model"), py::arg("grid"), py::arg("variants") = false,
        py::arg("scenarios") = py::none(), py::arg("seed") = py::none(), py::arg("threads") = py::none(),
        py::arg("progress") = false, py::arg("out") = "", py::arg("resume") = false,
        R"doc(Run a model over a grid of key values on common random numbers (``ccpnet sweep``).

``grid`` is a list of (key path, [YAML text values]); the key ``topology`` rewires
the CCPs. Returns a dict: ``columns`` (the tidy table of ``sweep.csv``), ``json``
(``sweep.json``), ``text`` (the table the CLI prints) and ``warnings``. With ``out``,
also writes the directory ``ccpnet sweep --out`` writes (after Ctrl-C: the finished
points and their resume state, then KeyboardInterrupt); ``resume`` goes on from it. Use
:func:`ccpnet.sweep`, which returns a pandas DataFrame.
)doc");
}

}  // namespace ccpnet::python
