#include "models/links/flow.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace ccpnet::models {

LinkFlows min_norm_link_flows(const Eigen::MatrixXd& net, const std::vector<std::pair<int, int>>& links) {
  const Eigen::Index n = net.rows();
  const Eigen::Index k = static_cast<Eigen::Index>(links.size());
  LinkFlows out;
  out.flows = Eigen::MatrixXd::Zero(k, net.cols());
  if (k == 0) {
    out.imbalance = net;
    return out;
  }
  Eigen::MatrixXd incidence = Eigen::MatrixXd::Zero(n, k);
  for (Eigen::Index l = 0; l < k; ++l) {
    incidence(links[static_cast<std::size_t>(l)].first, l) += 1.0;
    incidence(links[static_cast<std::size_t>(l)].second, l) -= 1.0;
  }
  // Minimum-norm least-squares solution of B f = -b (complete orthogonal decomposition).
  Eigen::CompleteOrthogonalDecomposition<Eigen::MatrixXd> cod(incidence);
  out.flows = cod.solve(-net);
  out.imbalance = net + incidence * out.flows;
  return out;
}

Eigen::MatrixXd proportional_transport(const Eigen::VectorXd& net) {
  const Eigen::VectorXd longs = net.cwiseMax(0.0), shorts = (-net).cwiseMax(0.0);
  const double total = std::max(longs.sum(), shorts.sum());
  if (total <= 0.0) return Eigen::MatrixXd::Zero(net.size(), net.size());
  return shorts * longs.transpose() / total;
}

Eigen::VectorXd unbalanced(const Eigen::VectorXd& net, const Eigen::VectorXd& gross) {
  if (net.size() != gross.size())
    throw std::invalid_argument("unbalanced: " + std::to_string(net.size()) + " net positions, " +
                                std::to_string(gross.size()) + " gross");
  Eigen::VectorXd left = net;
  for (Eigen::Index a = 0; a < left.size(); ++a)
    if (std::abs(left(a)) <= 1e-9 * std::max(1.0, gross(a))) left(a) = 0.0;
  return left;
}

}  // namespace ccpnet::models
