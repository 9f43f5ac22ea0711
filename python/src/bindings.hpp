// One bind_<area>() per area of the ccpnet._core module.
#pragma once

#include <pybind11/pybind11.h>

namespace ccpnet::python {

void bind_errors(pybind11::module_& m);    // ScenarioError, SimulationError
void bind_model(pybind11::module_& m);     // load, from_dict, run, results
void bind_clearing(pybind11::module_& m);  // Eisenberg-Noe, Rogers-Veraart, DebtRank

}  // namespace ccpnet::python
