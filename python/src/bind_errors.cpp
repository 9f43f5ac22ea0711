// Exceptions: ccpnet.ScenarioError (bad input, every located message) and
// ccpnet.SimulationError (run-time failures).
#include <pybind11/pybind11.h>

#include "bindings.hpp"
#include "sim/config/diagnostics.hpp"
#include "sim/model.hpp"

namespace py = pybind11;

namespace ccpnet::python {

void bind_errors(py::module_& m) {
  static py::exception<config::ScenarioError> scenario_error(m, "ScenarioError", PyExc_ValueError);
  static py::exception<std::runtime_error> simulation_error(m, "SimulationError", PyExc_RuntimeError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const config::ScenarioError& e) {
      PyErr_SetString(scenario_error.ptr(), e.what());
    } catch (const InputError& e) {
      PyErr_SetString(scenario_error.ptr(), e.what());
    }
  });
}

}  // namespace ccpnet::python
