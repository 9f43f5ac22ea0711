// Default-fund sizing by Cover-1 / Cover-2 over a stress-scenario set
// (SPEC 3.5; EMIR art. 42(3) and 43(2)).
//
// Input is the uncovered stress loss of each default group in each stress
// scenario: stress loss minus the group's IM, floored at 0.
#pragma once

#include <Eigen/Dense>
#include <vector>

namespace ccpnet::models {

struct CoverSizing {
  double fund = 0.0;                 // required default fund
  Eigen::Index scenario = -1;        // stress scenario that sets it
  std::vector<Eigen::Index> groups;  // the largest groups in that scenario, largest first
};

// cover = 1: fund = max_s U(1)(s).
// cover = 2 (EMIR): the fund alone covers the largest group or the 2nd and 3rd
// together, whichever is bigger, and fund + other prefunded resources (SITG)
// cover the two largest: fund = max_s max(U(1), U(2) + U(3), U(1) + U(2) - prefunded).
// U(k)(s) is the k-th largest uncovered loss in scenario s. `uncovered` is
// groups x scenarios.
CoverSizing size_cover(const Eigen::MatrixXd& uncovered, int cover, double other_prefunded = 0.0);

// total split pro rata to `weights` (all zero: equal shares).
Eigen::VectorXd allocate_pro_rata(const Eigen::VectorXd& weights, double total);

}  // namespace ccpnet::models
