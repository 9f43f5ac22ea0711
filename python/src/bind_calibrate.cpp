// ccpnet.calibrate: a scenario skeleton from public quantitative disclosures
// (sim/calibrate.hpp).
#include "bindings.hpp"
#include "sim/calibrate.hpp"

namespace py = pybind11;

namespace ccpnet::python {

void bind_calibrate(py::module_& m) {
  m.def(
      "calibrate_disclosures",
      [](const std::string& path, const std::string& source_name) {
        return calibrated_scenario(read_disclosures(path), source_name.empty() ? path : source_name);
      },
      py::arg("path"), py::arg("source_name") = "",
      R"doc(The scenario skeleton (YAML text) that `ccpnet calibrate PATH` writes.

Parameters
----------
path : str
    A disclosure file in the CCP12 long layout (sim/calibrate.hpp lists its columns
    and the fields read).
source_name : str
    How the scenario's comments name the file (default: ``path``).

Raises ccpnet.ScenarioError with every error located in the file.
)doc");
}

}  // namespace ccpnet::python
