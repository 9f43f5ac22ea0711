// Bindings of the figures (sim/figures.hpp) drawn from plain data, and of the
// engine's number formatting and tail measures: ccpnet._core.figures. The
// figures of a run, a stress test or a comparison are methods of their
// results (RunResult.figure, StressRun.figure, ComparisonRun.figure).
#include <fmt/format.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "bindings.hpp"
#include "sim/figures.hpp"
#include "sim/metrics.hpp"
#include "sim/report_figures.hpp"

namespace py = pybind11;

namespace ccpnet::python {

namespace {

void check_level(double confidence) {
  if (!(confidence > 0.0 && confidence < 1.0))
    throw py::value_error(fmt::format("confidence: expected a level in (0, 1), found {}", confidence));
}

// Value at risk (linear interpolation between order statistics) and expected
// shortfall (mean of the ceil(n (1 - level)) largest) of a sample, as the
// engine computes p99_total_loss and es99_total_loss.
std::pair<double, double> var_es(const py::array_t<double, py::array::c_style | py::array::forcecast>& values,
                                 double confidence) {
  check_level(confidence);
  std::vector<double> x(values.data(), values.data() + values.size());
  const auto n = static_cast<std::int64_t>(x.size());
  return {sparse_quantile(x, n, confidence), sparse_expected_shortfall(x, n, confidence)};
}

figures::Unit unit_of(const std::string& unit) {
  if (unit == "USD") return figures::Unit::kUsd;
  if (unit == "probability") return figures::Unit::kProbability;
  if (unit == "count") return figures::Unit::kCount;
  throw py::value_error(fmt::format("unit: expected USD, probability or count, found '{}'", unit));
}

// The loss distribution of a sample: histogram and exceedance curve of its
// positive values, VaR and ES at `confidence` over the whole sample.
std::string loss_distribution(const py::array_t<double, py::array::c_style | py::array::forcecast>& values,
                              double confidence, const std::string& name, const std::string& prefix) {
  const auto [var, es] = var_es(values, confidence);
  figures::LossDistribution data;
  for (py::ssize_t i = 0; i < values.size(); ++i)
    if (values.data()[i] > 0.0) data.values.push_back(values.data()[i]);
  if (data.values.empty()) throw py::value_error(fmt::format("{}: no positive value to draw", name));
  std::sort(data.values.begin(), data.values.end());
  data.scenarios = static_cast<std::int64_t>(values.size());
  data.var = var;
  data.es = es;
  data.level = confidence;
  data.name = html_escape(name);
  data.axis = html_escape(name);
  figures::Ids ids(prefix);
  return figures::standalone(
      figures::arrange({figures::loss_histogram(data, ids), figures::exceedance_curve(data, ids)}, 2));
}

using DotRows = std::vector<std::tuple<std::string, double, double, double>>;

// One dot-and-whisker panel per (title, unit, rows), one under the other.
std::string dot_whiskers(const std::vector<std::tuple<std::string, std::string, DotRows>>& panels,
                         const std::string& axis, const std::string& prefix) {
  figures::Ids ids(prefix);
  std::vector<figures::Svg> svgs;
  for (const auto& [title, unit, rows] : panels) {
    figures::DotWhisker data;
    data.title = html_escape(title);
    data.unit = unit_of(unit);
    data.axis = html_escape(axis);
    for (const auto& [label, mean, lo, hi] : rows) {
      if (!(lo <= mean && mean <= hi))
        throw py::value_error(fmt::format("{}, {}: every row needs lo <= mean <= hi", title, label));
      data.rows.push_back({html_escape(label), mean, lo, hi});
    }
    svgs.push_back(figures::dot_whisker(data, ids));
  }
  return figures::standalone(figures::arrange(svgs, 1));
}

}  // namespace

void bind_figures(py::module_& m) {
  m.def("money", &figures::money, py::arg("x"),
        "An amount as the report writes it: three significant digits, k / m / bn / tn (\"12.3m\").");
  m.def("pct", &figures::pct, py::arg("p"), "A probability as the report writes it, as a percentage (\"0.12%\").");
  m.def("var_es", &var_es, py::arg("values"), py::arg("confidence"),
        R"doc((VaR, ES) of a sample at ``confidence``, as the engine computes them.

VaR: the quantile with linear interpolation between order statistics (numpy's default);
ES: the mean of the ``ceil(n (1 - confidence))`` largest values.
)doc");
  m.def("loss_distribution", &loss_distribution, py::arg("values"), py::arg("confidence"), py::arg("name"),
        py::arg("prefix") = "",
        R"doc(The report's loss distribution figure for a sample (SVG text): histogram and exceedance
curve of its positive values on a log scale, VaR and ES at ``confidence`` marked.
)doc");
  m.def("dot_whiskers", &dot_whiskers, py::arg("panels"), py::arg("axis"), py::arg("prefix") = "",
        R"doc(The report's dot-and-whisker figure (SVG text), one panel per (title, unit, rows),
unit USD, probability or count, rows (label, mean, lo, hi); ``axis`` names the x axis.
)doc");
  m.def(
      "network",
      [](const ModelPtr& model, const std::string& prefix) {
        figures::Ids ids(prefix);
        return figures::standalone(figures::network(run_network(model->model, nullptr), ids));
      },
      py::arg("model"), py::arg("prefix") = "",
      "The report's network figure of a model not run (SVG text): CCPs, members, memberships and links.");
  m.def(
      "arrange",
      [](const std::vector<std::tuple<double, double, std::string>>& svgs, std::size_t columns) {
        std::vector<figures::Svg> all;
        for (const auto& [w, h, markup] : svgs) all.push_back({w, h, markup});
        return figures::arrange(all, columns).markup;
      },
      py::arg("figures"), py::arg("columns"),
      "Figures (width, height, SVG text) in a grid of ``columns``, row by row, as one SVG text.");
}

}  // namespace ccpnet::python
