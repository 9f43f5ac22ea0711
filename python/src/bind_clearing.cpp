// Bindings of the clearing building blocks (models/clearing).
#include "bindings.hpp"

namespace ccpnet::python {

void bind_clearing(pybind11::module_& /*m*/) {}

}  // namespace ccpnet::python
