// Link positions that balance every CCP's book (SPEC 3.3).
//
// CCPs are nodes, links are edges (oriented from the first CCP to the second).
// For one instrument, b_c is the net position of CCP c's members. Link flows f
// (f_l > 0: the first CCP of link l is long f_l against the second) balance the
// books when b + B f = 0, B the node-link incidence matrix with B(first, l) = +1
// and B(second, l) = -1. Among all balancing flows the minimum-norm one is
// f = -B^+ b. A solution exists iff the net positions sum to zero over every
// connected component of the link graph.
#pragma once

#include <Eigen/Dense>
#include <utility>
#include <vector>

namespace ccpnet::models {

struct LinkFlows {
  Eigen::MatrixXd flows;      // links x instruments
  Eigen::MatrixXd imbalance;  // CCPs x instruments: what is left unbalanced (zero when feasible)
};

// `net` is CCPs x instruments, `links` are (first, second) CCP indices.
LinkFlows min_norm_link_flows(const Eigen::MatrixXd& net, const std::vector<std::pair<int, int>>& links);

// The counterfactual without links: members of the CCPs whose book is net
// short in an asset take the other side directly at the CCPs that are net
// long (they become members there). For one asset, `net` per CCP; the result
// T(d, s) is the quantity moved from CCP d (net short) to CCP s (net long),
// shared in proportion: T(d, s) = short_d x long_s / total, where total is the
// larger of the total net long and the total net short (the difference, if
// the system does not net to zero, stays where it is). Rows of net-long CCPs
// and columns of net-short CCPs are zero.
Eigen::MatrixXd proportional_transport(const Eigen::VectorXd& net);

// What a CCP's book leaves unbalanced: its net position per instrument,
// each entry that is rounding against the gross positions in the instrument
// (|net| <= 1e-9 max(1, gross)) set to 0.
Eigen::VectorXd unbalanced(const Eigen::VectorXd& net, const Eigen::VectorXd& gross);

}  // namespace ccpnet::models
