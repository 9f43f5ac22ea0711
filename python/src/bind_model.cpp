// Bindings of scenario loading and Monte Carlo runs.
#include "bindings.hpp"

namespace ccpnet::python {

void bind_model(pybind11::module_& /*m*/) {}

}  // namespace ccpnet::python
