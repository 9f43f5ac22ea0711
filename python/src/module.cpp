// ccpnet._core: the compiled part of the ccpnet Python package.
#include <pybind11/pybind11.h>

namespace py = pybind11;

PYBIND11_MODULE(_core, m) {
  m.doc() = "ccpnet compiled core";
  m.attr("__version__") = CCPNET_VERSION;
}
