// Reverse stress test (`ccpnet reverse`): the smallest multiple of a stress
// direction at which each layer of a CCP's waterfall starts to be used, is
// exhausted, and the CCP fails. Bisection on the multiple k of the stress
// scenario's log-moves (stress_move) and of its implied-vol log-moves
// (vol_moves), with a stated tolerance; it assumes, as reverse stress tests
// do, that losses grow with k along the direction.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "models/waterfall/waterfall.hpp"
#include "sim/model_types.hpp"
#include "sim/stress.hpp"

namespace ccpnet {

struct Model;

struct LayerThreshold {
  models::Layer layer;
  std::optional<double> first_used;  // smallest multiple with a loss in the layer
  std::optional<double> exhausted;   // smallest multiple past which the next layer (or failure) is reached
};

struct ReverseResult {
  int ccp = -1;
  StressScenario direction;
  double max_multiple = 0.0;
  double tolerance = 0.0;
  std::vector<LayerThreshold> layers;
  std::optional<double> failure;  // smallest multiple at which the CCP fails
  std::optional<StressOutcome> at_failure;
};

// `direction`: a stress scenario of the model (by name; empty: the first), or
// every asset down 10% over the longest MPOR when the file has none.
ReverseResult reverse_stress(const Model& model, int ccp, const std::string& direction, double max_multiple = 20.0,
                             double tolerance = 1e-4);

std::string format_reverse(const Model& model, const ReverseResult& r);
// The same as JSON (`ccpnet reverse --json`): ccp, direction {name, days, moves, vol_moves},
// max_multiple, tolerance, layers [{layer, first_used, exhausted}], failure (null: none up to max_multiple).
nlohmann::ordered_json reverse_json(const Model& model, const ReverseResult& r);

}  // namespace ccpnet
