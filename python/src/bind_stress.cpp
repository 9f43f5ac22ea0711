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
#include "sim/report.hpp"
#include "sim/report_figures.hpp"
#include "sim/reverse.hpp"
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

int ccp_index(const ModelPtr& model, const std::string& ccp) {
  for (std::size_t i = 0; i < model->model.ccps.size(); ++i)
    if (model->model.ccps[i].id == ccp) return static_cast<int>(i);
  throw py::key_error(fmt::format("no CCP '{}' in '{}'", ccp, model->model.name));
}

// ccpnet reverse: the thresholds as reverse_json (a dict), the text the CLI
// prints and the page `ccpnet reverse --report` writes.
py::tuple reverse(const ModelPtr& model, const std::string& ccp, const std::string& direction, double max_multiple) {
  const int c = ccp_index(model, ccp);
  if (!(max_multiple >= 1e-6 && max_multiple <= 1e6))
    throw py::value_error(fmt::format("max_multiple: expected a value in [1e-06, 1e+06], found {}", max_multiple));
  ReverseResult r;
  {
    py::gil_scoped_release release;
    try {
      r = reverse_stress(model->model, c, direction, max_multiple);
    } catch (const InputError&) {
      throw;  // an unknown direction: ScenarioError
    } catch (const std::exception& e) {
      throw SimulationError(fmt::format("the reverse stress test of '{}' failed: {}", model->model.name, e.what()));
    }
  }
  return py::make_tuple(reverse_json(model->model, r).dump(), format_reverse(model->model, r),
                        reverse_report(model->model, r, model->loaded.source_name, model->resolved_yaml));
}

// ccpnet reverse --search: the same for the multi-dimensional search.
py::tuple reverse_search_py(const ModelPtr& model, const std::string& ccp, const std::string& layer, double max_sigma,
                            int refine) {
  const int c = ccp_index(model, ccp);
  if (!(max_sigma >= 1e-3 && max_sigma <= 1e3))
    throw py::value_error(fmt::format("max_sigma: expected a value in [0.001, 1000], found {}", max_sigma));
  if (refine < 0 || refine > 1000)
    throw py::value_error(fmt::format("refine: expected a value in [0, 1000], found {}", refine));
  ReverseSearchOptions options;
  options.max_radius = max_sigma;
  options.refine = refine;
  if (!layer.empty()) {
    for (std::size_t l = 0; l < models::kLayerCount; ++l)
      if (models::layer_name(static_cast<models::Layer>(l)) == layer) options.layer = static_cast<models::Layer>(l);
    if (!options.layer) throw py::value_error(fmt::format("layer: no layer '{}'", layer));
  }
  ReverseSearchResult r;
  {
    py::gil_scoped_release release;
    try {
      r = reverse_search(model->model, c, options);
    } catch (const InputError&) {
      throw;  // a layer not in the CCP's waterfall: ScenarioError
    } catch (const std::exception& e) {
      throw SimulationError(fmt::format("the reverse stress search of '{}' failed: {}", model->model.name, e.what()));
    }
  }
  return py::make_tuple(reverse_search_json(model->model, r).dump(), format_reverse_search(model->model, r),
                        reverse_search_report(model->model, r, model->loaded.source_name, model->resolved_yaml));
}

// A figure of the stress report for stress scenario `index`: its waterfalls or its contagion network.
std::string stress_figure(const StressRun& s, const std::string& name, std::size_t index, const std::string& prefix) {
  if (index >= s.outcomes.size())
    throw py::index_error(fmt::format("stress scenario {} out of range [0, {})", index, s.outcomes.size()));
  const Model& model = s.model->model;
  const auto json = stress_json(model, s.outcomes);
  const auto& stress = json["stress_scenarios"][index];
  figures::Ids ids(prefix);
  if (name == "waterfalls")
    return figures::standalone(figures::stacked_bars(stress_waterfalls(model, s.outcomes[index], stress), ids));
  if (name == "network")
    return figures::standalone(figures::network(stress_network(model, s.outcomes[index], stress), ids));
  throw py::value_error(fmt::format("no figure '{}' of a stress test; the figures are waterfalls, network", name));
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
      .def(
          "report",
          [](const StressRun& s) {
            return stress_report(s.model->model, s.outcomes, s.model->loaded.source_name, s.model->resolved_yaml);
          },
          "report.html as `ccpnet stress --report` writes it (HTML text).")
      .def("figure", &stress_figure, py::arg("name"), py::arg("index"), py::arg("prefix") = "",
           R"doc(A figure of the stress report as SVG text (engine level; see ccpnet.plot).

``name``: waterfalls or network, of stress scenario number ``index`` (file order).
)doc")
      .def("__repr__", [](const StressRun& s) {
        return fmt::format("<ccpnet StressRun '{}': {} stress scenarios>", s.model->model.name, s.outcomes.size());
      });

  m.def("reverse", &reverse, py::arg("model"), py::arg("ccp"), py::arg("direction") = "",
        py::arg("max_multiple") = 20.0,
        R"doc(Reverse stress test (engine level; see ccpnet.reverse): (JSON text, the CLI's text, report.html).

The smallest multiple of a stress direction's log-moves at which each waterfall layer of
``ccp`` is first used and exhausted, and at which the CCP fails (bisection). The GIL is
released while the engine runs.
)doc");
  m.def("reverse_search", &reverse_search_py, py::arg("model"), py::arg("ccp"), py::arg("layer") = "",
        py::arg("max_sigma") = 20.0, py::arg("refine") = 12,
        R"doc(Multi-dimensional reverse stress (engine level; see ccpnet.reverse with search=True):
(JSON text, the CLI's text, report.html). The GIL is released while the engine runs.
)doc");
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
