// Bindings of variant comparisons: ccpnet._core.compare and the ComparisonRun
// behind ccpnet.Comparison (the numbers of `ccpnet compare`).
#include <fmt/format.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "sim/compare.hpp"
#include "sim/contributions.hpp"
#include "sim/metrics.hpp"
#include "sim/report.hpp"
#include "sim/report_figures.hpp"

namespace py = pybind11;

namespace ccpnet::python {

namespace {

struct ComparisonRun {
  ModelPtr model;  // the base model (with the run's seed and scenario count)
  Comparison comparison;
};
using ComparisonPtr = std::shared_ptr<ComparisonRun>;

std::size_t variant_index(const ComparisonRun& c, const py::object& variant) {
  const auto& vs = c.comparison.variants;
  if (py::isinstance<py::str>(variant)) {
    const auto name = variant.cast<std::string>();
    for (std::size_t i = 0; i < vs.size(); ++i)
      if (vs[i].name == name) return i;
    std::vector<std::string> names;
    for (const auto& v : vs) names.push_back("'" + v.name + "'");
    throw py::key_error(fmt::format("no variant '{}'; the variants are {}", name, fmt::join(names, ", ")));
  }
  const auto i = variant.cast<std::int64_t>();
  if (i < 0 || static_cast<std::size_t>(i) >= vs.size())
    throw py::index_error(fmt::format("variant index {} out of range [0, {})", i, vs.size()));
  return static_cast<std::size_t>(i);
}

// The per-scenario metrics of one variant as numpy arrays sharing memory with
// the comparison (the capsule keeps it alive).
py::dict per_scenario(const ComparisonPtr& c, const py::object& variant) {
  const std::size_t v = variant_index(*c, variant);
  py::dict out;
  auto& columns = c->comparison.variants[v].per_scenario;
  if (columns.empty())
    throw py::value_error(
        "the comparison did not keep its per-scenario values: run it with "
        "ccpnet.compare(..., keep_per_scenario=True) (memory proportional to the scenarios)");
  const auto& metrics = compare_metrics();
  for (std::size_t k = 0; k < metrics.size(); ++k) {
    auto* keep = new ComparisonPtr(c);
    py::capsule base(keep, [](void* p) { delete static_cast<ComparisonPtr*>(p); });
    auto& data = columns[k];
    py::array_t<double> a({static_cast<py::ssize_t>(data.size())}, {static_cast<py::ssize_t>(sizeof(double))},
                          data.data(), base);
    a.attr("setflags")(py::arg("write") = false);
    out[py::str(std::string(metrics[k].name))] = a;
  }
  return out;
}

// Runs `body(options)` without the GIL, as the CLI would, stopped by Ctrl-C:
// what a comparison and the contributions share.
template <class Body>
auto run_variants(const ModelPtr& model, const py::object& threads, bool progress, const char* what, Body&& body) {
  RunOptions options;
  options.progress = progress;
  if (!threads.is_none()) options.threads = static_cast<int>(checked(threads, 0, 1024, "threads"));

  // Ctrl-C stops the variant being run and every later one.
  InterruptCheck interrupt_check;
  options.stop = &interrupt_check.stop;
  options.on_scenario = [&](const ScenarioResult&) { interrupt_check.check(); };
  decltype(body(options)) out{};
  bool out_of_memory = false;
  {
    py::gil_scoped_release release;
    try {
      out = on_threads(threads, model->model.threads, [&] { return body(options); });
    } catch (const config::ScenarioError&) {
      throw;  // a variant's changes are not valid: ScenarioError
    } catch (const InputError&) {
      throw;
    } catch (const std::bad_alloc&) {
      out_of_memory = true;  // raised below, with the GIL
    } catch (const std::exception& e) {
      throw SimulationError(fmt::format("the {} of '{}' failed: {}", what, model->model.name, e.what()));
    }
  }
  if (out_of_memory) {
    PyErr_SetString(PyExc_MemoryError, fmt::format("out of memory during the {}", what).c_str());
    throw py::error_already_set();
  }
  if (interrupt_check.error) throw *interrupt_check.error;
  return out;
}

ComparisonPtr compare(const ModelPtr& base, const py::object& scenarios, const py::object& seed,
                      const py::object& threads, bool progress, bool keep_per_scenario) {
  auto out = std::make_shared<ComparisonRun>();
  out->model = on_threads(threads, base->model.threads,
                          [&] { return derive_model(base, seed_and_scenarios(base, seed, scenarios)); });
  out->comparison = run_variants(out->model, threads, progress, "comparison", [&](const RunOptions& options) {
    return run_compare(out->model->loaded, out->model->overrides, options, keep_per_scenario);
  });
  return out;
}

// ccpnet.contributions' numbers (sim/contributions.hpp): one dict per node,
// largest contribution first. members None: the default ones; links None: every link.
py::list contributions(const ModelPtr& base, const std::optional<std::vector<std::string>>& members,
                       const std::optional<std::vector<int>>& links, int top, const std::string& metric,
                       const py::object& scenarios, const py::object& seed, const py::object& threads, bool progress) {
  const ModelPtr model = on_threads(threads, base->model.threads,
                                    [&] { return derive_model(base, seed_and_scenarios(base, seed, scenarios)); });
  ContributionRequest request;
  request.members = members;
  request.links = links;
  request.top = top;
  request.metric = metric;
  const Contributions c = run_variants(model, threads, progress, "contributions", [&](const RunOptions& options) {
    return run_contributions(model->loaded, model->overrides, request, options);
  });
  py::list rows;
  for (const Contribution& r : c.rows) {
    py::dict row;
    row["node"] = r.node;
    row["kind"] = r.kind;
    row["metric"] = c.metric;
    row["with_node"] = r.with_node;
    row["without_node"] = r.without_node;
    row["contribution"] = r.contribution;
    row["lower"] = r.lower;
    row["upper"] = r.upper;
    row["share"] = r.share;
    rows.append(row);
  }
  return rows;
}

// The paired differences to the base, one dot-and-whisker figure per metric of
// the report, one under the other.
std::string compare_figure(const ComparisonRun& c, const std::string& prefix) {
  if (c.comparison.variants.size() < 2)
    throw py::value_error("the comparison has no variant besides the base: nothing to draw");
  figures::Ids ids(prefix);
  std::vector<figures::Svg> panels;
  for (const ShownMetric& metric : shown_metrics(c.comparison))
    panels.push_back(figures::dot_whisker(compare_differences(c.comparison, metric), ids));
  return figures::standalone(figures::arrange(panels, 1));
}

}  // namespace

void bind_compare(py::module_& m) {
  py::class_<ComparisonRun, ComparisonPtr>(m, "ComparisonRun", R"doc(
The outcome of a comparison of variants on common random numbers, as computed by
the engine. Wrapped by :class:`ccpnet.Comparison`, which adds pandas tables; use that one.
)doc")
      .def_property_readonly(
          "model", [](const ComparisonRun& c) { return c.model; },
          "The base model (with the comparison's seed and scenario count).")
      .def_property_readonly(
          "scenarios", [](const ComparisonRun& c) { return c.comparison.scenarios; }, "Scenarios per variant.")
      .def_property_readonly(
          "variant_names",
          [](const ComparisonRun& c) {
            std::vector<std::string> names;
            for (const auto& v : c.comparison.variants) names.push_back(v.name);
            return names;
          },
          "Names of the variants, 'base' first.")
      .def_property_readonly(
          "metric_names",
          [](const ComparisonRun&) {
            std::vector<std::string> names;
            for (const auto& metric : compare_metrics()) names.emplace_back(metric.name);
            return names;
          },
          "Names of the per-scenario metrics compared (declared once with the engine's metrics).")
      .def_property_readonly(
          "warnings", [](const ComparisonRun& c) { return c.comparison.warnings; },
          "Warnings of loading and rewiring the variants (printed on stderr by the CLI).")
      .def_property_readonly(
          "compare_json", [](const ComparisonRun& c) { return comparison_json(c.comparison).dump(2) + "\n"; },
          "compare.json as `ccpnet compare --out` writes it (JSON text).")
      .def_property_readonly(
          "text", [](const ComparisonRun& c) { return format_comparison(c.comparison); },
          "The table `ccpnet compare` prints.")
      .def(
          "report", [](const ComparisonRun& c) { return compare_report(c.comparison); },
          "report.html as `ccpnet compare --report` writes it (HTML text).")
      .def("figure", &compare_figure, py::arg("prefix") = "",
           "The paired differences to the base with their 95% intervals as SVG text, one panel per metric of "
           "the report (engine level; see ccpnet.plot.compare).")
      .def("per_scenario", &per_scenario, py::arg("variant"),
           R"doc(The per-scenario metrics of one variant (name or index) as read-only numpy arrays.

One array per compared metric (``metric_names``: ``total_loss``, ``member_defaults``,
``any_ccp_fail``, ...), one value per scenario in index order, sharing memory with
the comparison (no copy). Only when the comparison was run with
keep_per_scenario=True; else ValueError.
)doc")
      .def("__repr__", [](const ComparisonRun& c) {
        return fmt::format("<ccpnet ComparisonRun '{}': {} variants, {} scenarios each>", c.model->model.name,
                           c.comparison.variants.size(), c.comparison.scenarios);
      });

  m.def("compare", &compare, py::arg("model"), py::arg("scenarios") = py::none(), py::arg("seed") = py::none(),
        py::arg("threads") = py::none(), py::kw_only(), py::arg("progress") = false,
        py::arg("keep_per_scenario") = false,
        R"doc(Run a model and its variants on common random numbers (engine level; see ccpnet.compare).

Parameters
----------
model : Model
scenarios : int, optional
    Scenarios per variant (``simulation.scenarios``), validated as an override.
seed : int, optional
    Master seed (``seed``), validated as an override.
threads : int, optional
    Worker threads; 0: all cores. Default: the model's ``simulation.threads``.
progress : bool
    Progress bar on stderr when it is a terminal.
keep_per_scenario : bool
    Keep every compared value of every scenario (``per_scenario``); memory
    proportional to the scenarios. Default: the paired statistics stream.

Ctrl-C stops the comparison after the current window of scenarios and raises
KeyboardInterrupt. The GIL is released while the engine runs; results do not
depend on threads.
)doc");
  m.def("contributions", &contributions, py::arg("model"), py::arg("members") = py::none(),
        py::arg("links") = py::none(), py::arg("top") = 10, py::arg("metric") = "total_loss",
        py::arg("scenarios") = py::none(), py::arg("seed") = py::none(), py::arg("threads") = py::none(), py::kw_only(),
        py::arg("progress") = false,
        R"doc(Each member's and link's contribution to a system metric by leave-one-out on common random
numbers (engine level, the numbers of ``ccpnet contributions``; see ccpnet.contributions).

Returns one dict per node (node, kind, metric, with_node, without_node, contribution,
lower, upper, share), largest contribution first. ``members`` None: the ``top``
largest by capital when the model has an interbank network; ``links`` None: every link.
)doc");
}

}  // namespace ccpnet::python
