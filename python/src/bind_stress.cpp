// Bindings of deterministic stress tests: ccpnet._core.stress and the
// StressRun behind ccpnet.StressResult (the numbers of `ccpnet stress`).
#include <fmt/format.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "sim/stress.hpp"

namespace py = pybind11;

namespace ccpnet::python {

namespace {

struct StressRun {
  ModelPtr model;
  std::vector<StressOutcome> outcomes;
};
using StressPtr = std::shared_ptr<StressRun>;

StressPtr stress(const ModelPtr& model) {
  auto out = std::make_shared<StressRun>();
  out->model = model;
  {
    py::gil_scoped_release release;
    try {
      out->outcomes = run_stress(model->model);
    } catch (const InputError&) {
      throw;  // bad input found while running (e.g. a stress move): ScenarioError
    } catch (const std::exception& e) {
      throw SimulationError(fmt::format("the stress test of '{}' failed: {}", model->model.name, e.what()));
    }
  }
  return out;
}

}  // namespace

void bind_stress(py::module_& m) {
  py::class_<StressRun, StressPtr>(m, "StressRun", R"doc(
The outcome of the deterministic stress scenarios of a model, as computed by the
engine. Wrapped by :class:`ccpnet.StressResult`, which adds pandas tables; use that one.
)doc")
      .def_property_readonly(
          "model", [](const StressRun& s) { return s.model; }, "The model that was stressed.")
      .def_property_readonly(
          "names",
          [](const StressRun& s) {
            std::vector<std::string> names;
            for (const auto& o : s.outcomes) names.push_back(o.stress.name);
            return names;
          },
          "Names of the stress scenarios run, in file order.")
      .def_property_readonly(
          "stress_json", [](const StressRun& s) { return stress_json(s.model->model, s.outcomes).dump(2) + "\n"; },
          "stress.json as `ccpnet stress --out` writes it (JSON text).")
      .def_property_readonly(
          "layers_csv", [](const StressRun& s) { return stress_layers_csv(s.model->model, s.outcomes); },
          "stress_layers.csv as `ccpnet stress --out` writes it (CSV text).")
      .def_property_readonly(
          "text", [](const StressRun& s) { return format_stress(s.model->model, s.outcomes); },
          "The report `ccpnet stress` prints.")
      .def("__repr__", [](const StressRun& s) {
        return fmt::format("<ccpnet StressRun '{}': {} stress scenarios>", s.model->model.name, s.outcomes.size());
      });

  m.def("stress", &stress, py::arg("model"),
        R"doc(Run the deterministic stress scenarios of a model (engine level; see ccpnet.stress).

Every stress scenario of ``market.stress_scenarios`` that is not an overlay is run
once through the cascade, with exogenous defaults and no latent draws; with none,
the baseline (no market move). The GIL is released while the engine runs.

Returns
-------
StressRun
)doc");
}

}  // namespace ccpnet::python
