// ccpnet._core: the compiled part of the ccpnet Python package.
#include "bindings.hpp"
#include "sim/metrics.hpp"
#include "sim/runner.hpp"

PYBIND11_MODULE(_core, m) {
  m.doc() = "ccpnet compiled core: the engine behind the ccpnet package";
  m.attr("__version__") = CCPNET_VERSION;
  m.attr("SCENARIO_CHUNK") = ccpnet::kChunk;
  m.attr("SCENARIO_TILE") = ccpnet::kTile;
  ccpnet::python::bind_errors(m);
  ccpnet::python::bind_model(m);
  ccpnet::python::bind_run(m);
  ccpnet::python::bind_stress(m);
  ccpnet::python::bind_compare(m);
  ccpnet::python::bind_calibrate(m);
  ccpnet::python::bind_sweep(m);
  auto clearing = m.def_submodule("clearing", "Clearing building blocks: Eisenberg-Noe, Rogers-Veraart, DebtRank");
  ccpnet::python::bind_clearing(clearing);
  auto margin =
      m.def_submodule("margin", "Margin building blocks: parametric, historical, tiered, scenario grid, add-ons");
  ccpnet::python::bind_margin(margin);
  auto waterfall = m.def_submodule("waterfall", "The default waterfall and default-fund sizing");
  ccpnet::python::bind_waterfall(waterfall);
  auto figures = m.def_submodule("figures", "The report's figures as SVG text, money formatting, VaR and ES");
  ccpnet::python::bind_figures(figures);
}
