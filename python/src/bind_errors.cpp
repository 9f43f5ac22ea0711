// Exceptions: ccpnet.ScenarioError (bad input, every located message) and
// ccpnet.SimulationError (run-time failures).
#include <pybind11/pybind11.h>

#include <algorithm>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "sim/config/diagnostics.hpp"
#include "sim/model.hpp"

namespace py = pybind11;

namespace ccpnet::python {

namespace {

constexpr const char* kScenarioErrorDoc =
    "The scenario is not valid: unknown or missing keys, wrong types, values out of range,\n"
    "dangling references, positions that cannot be balanced.\n\n"
    "str(error) lists every problem, one per line, as 'FILE:LINE:COL: key.path: message'.\n\n"
    "Attributes\n----------\n"
    "errors : list[str]\n    Every located message, in file order.\n"
    "diagnostics : list[dict]\n    The same as records: file, line, column, path, message\n"
    "    (line 0 when the value did not come from the file, e.g. an override).\n";

constexpr const char* kSimulationErrorDoc = "A run failed for a reason other than bad input.";

std::string strip_newline(std::string text) {
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

// Raises `type` with the message and the .errors / .diagnostics attributes.
void raise_scenario_error(PyObject* type, const std::string& message, const std::vector<config::Diagnostic>& errors) {
  std::vector<const config::Diagnostic*> sorted;
  for (const auto& d : errors) sorted.push_back(&d);
  // The order of Diagnostics::format(): by position, values without a line last.
  std::stable_sort(sorted.begin(), sorted.end(), [](const config::Diagnostic* a, const config::Diagnostic* b) {
    const int la = a->where.line > 0 ? a->where.line : 1 << 30;
    const int lb = b->where.line > 0 ? b->where.line : 1 << 30;
    if (la != lb) return la < lb;
    return a->where.column < b->where.column;
  });
  py::list texts, records;
  for (const auto* d : sorted) {
    // A message without a source (from the model builder) is already located.
    texts.append(d->file.empty() && d->where.origin.empty() ? d->message : d->format());
    py::dict r;
    r["file"] = d->where.origin.empty() ? d->file : d->where.origin;
    r["line"] = d->where.line;
    r["column"] = d->where.column;
    r["path"] = d->path;
    r["message"] = d->message;
    records.append(r);
  }
  py::object exc = py::reinterpret_borrow<py::object>(type)(strip_newline(message));
  exc.attr("errors") = texts;
  exc.attr("diagnostics") = records;
  PyErr_SetObject(type, exc.ptr());
}

}  // namespace

void bind_errors(py::module_& m) {
  PyObject* scenario_error =
      PyErr_NewExceptionWithDoc("ccpnet.ScenarioError", kScenarioErrorDoc, PyExc_ValueError, nullptr);
  PyObject* simulation_error =
      PyErr_NewExceptionWithDoc("ccpnet.SimulationError", kSimulationErrorDoc, PyExc_RuntimeError, nullptr);
  if (!scenario_error || !simulation_error) throw py::error_already_set();
  m.attr("ScenarioError") = py::reinterpret_steal<py::object>(scenario_error);
  m.attr("SimulationError") = py::reinterpret_steal<py::object>(simulation_error);

  // Local to this module: other pybind11 modules keep their own translations.
  // The types are looked up in the module (a translator cannot hold state).
  py::register_local_exception_translator([](std::exception_ptr p) {
    const auto type = [](const char* name) { return py::module_::import("ccpnet._core").attr(name); };
    try {
      if (p) std::rethrow_exception(p);
    } catch (const config::ScenarioError& e) {
      raise_scenario_error(type("ScenarioError").ptr(), e.what(), e.diagnostics().errors());
    } catch (const InputError& e) {
      // Already located by the model builder: one message.
      config::Diagnostic d;
      d.message = strip_newline(e.what());
      raise_scenario_error(type("ScenarioError").ptr(), e.what(), {d});
    } catch (const SimulationError& e) {
      PyErr_SetString(type("SimulationError").ptr(), e.what());
    }
  });
}

}  // namespace ccpnet::python
