// Reverse stress test (`ccpnet reverse`): the smallest multiple of a stress
// direction at which each layer of a CCP's waterfall starts to be used, is
// exhausted, and the CCP fails. Bisection on the multiple k of the stress
// scenario's log-moves (stress_move) and of its implied-vol log-moves
// (vol_moves), with a stated tolerance; it assumes, as reverse stress tests
// do, that losses grow with k along the direction.
#pragma once

#include <Eigen/Dense>
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

// Multi-dimensional reverse stress (`ccpnet reverse --search`): the most
// plausible market move that fails a CCP (or exhausts one of its layers),
// over many directions, not a multiple of one.
//
// Plausibility is the Mahalanobis norm of the move: a move x of log-returns
// over the CCP's MPOR of h days is x = sqrt(h) diag(sigma) L u, with sigma the
// daily volatilities of the scenarios (volatility_multiplier applied), L L'
// their correlation and u in standard units; |u| is the number of standard
// deviations of the move. The smallest |u| at which the target is reached is
// the reliability index of Hasofer and Lind (1974) at the design point (the
// most likely failure point of FORM), and the plausibility measure of Breuer,
// Jandacka, Rheinberger and Summer (2009, "How to find plausible, severe and
// useful stress scenarios", International Journal of Central Banking 5(3)).
// Phi(-|u|) is the first-order (FORM) approximation of the probability of the
// target under Gaussian moves: a reading of plausibility, not an estimate.
//
// Directions searched: each stress scenario of the file; each asset alone,
// up and down; for each of the default groups (and linked CCPs) with the
// largest books at the CCP, the move most likely to hurt its book there
// (u = -L' diag(sigma) v / |.|, v its position values: the steepest loss per
// standard deviation of a linear book), and the same for pairs of the largest
// ones (two defaulters, as Cover-2 assumes); then a pattern search on the unit
// sphere from the best direction (each coordinate of u moved by a step, both
// ways, the step halved when nothing improves). Along each direction the
// radius is found by bisection, assuming that losses grow with it.
struct ReverseSearchOptions {
  std::optional<models::Layer> layer;  // exhaust this layer; none: the CCP fails
  double max_radius = 20.0;            // standard deviations searched along each direction
  int groups = 8;                      // the largest books whose loss directions are searched
  int refine = 12;                     // pattern-search iterations (0: none)
  double tolerance = 1e-4;             // bisection, relative
};
struct SearchDirection {
  std::string name;
  std::string family;            // stress scenario, single asset, book, two books, refined
  Eigen::VectorXd u;             // unit vector in standard units
  std::optional<double> radius;  // standard deviations at which the target is reached
};
struct ReverseSearchResult {
  int ccp = -1;
  ReverseSearchOptions options;
  double days = 0.0;                             // the CCP's MPOR
  std::vector<SearchDirection> directions;       // reached first (smallest radius) first, then the rest in search order
  std::optional<StressOutcome> at_design_point;  // the scenario at the smallest radius
  int evaluations = 0;                           // scenarios run
};

ReverseSearchResult reverse_search(const Model& model, int ccp, const ReverseSearchOptions& options);
// The log-returns over the CCP's MPOR of a move `radius` standard deviations along `u`.
Eigen::VectorXd search_log_move(const Model& model, int ccp, const Eigen::VectorXd& u, double radius);
std::string format_reverse_search(const Model& model, const ReverseSearchResult& r);
nlohmann::ordered_json reverse_search_json(const Model& model, const ReverseSearchResult& r);
// The same as JSON (`ccpnet reverse --json`): ccp, direction {name, days, moves, vol_moves},
// max_multiple, tolerance, layers [{layer, first_used, exhausted}], failure (null: none up to max_multiple).
nlohmann::ordered_json reverse_json(const Model& model, const ReverseResult& r);

}  // namespace ccpnet
