// The errors of ccpnet, one taxonomy for the library, the CLI and Python.
//
//  - config::ScenarioError (sim/config/diagnostics.hpp): a scenario that is not
//    valid, every problem located as FILE:LINE:COL: key.path: message.
//    CLI exit 2; Python ccpnet.ScenarioError.
//  - InputError: other bad input whose message already names it (an output
//    directory, a command-line value, a file the system refuses to give).
//    CLI exit 2; Python ccpnet.ScenarioError.
//  - SimulationError: a valid scenario whose simulation broke an invariant of
//    the engine: a defect of ccpnet, never the user's input. CLI exit 1;
//    Python ccpnet.SimulationError.
//
// models/ is pure domain math and throws std::invalid_argument (or
// std::domain_error) on arguments outside its domain. build_model is the one
// boundary where those become located ScenarioErrors (see model.cpp); during a
// simulation the same exceptions mean the engine passed something it had
// checked, and become SimulationError.
#pragma once

#include <stdexcept>
#include <string>

namespace ccpnet {

// Bad input found outside the scenario loader; the message is already located.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An internal invariant failed while simulating a valid scenario.
class SimulationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace ccpnet
