#include "models/calibration/population.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace ccpnet::models {

Eigen::VectorXd concentrated_sizes(Eigen::Index members, double total,
                                   const std::vector<std::pair<Eigen::Index, double>>& top_shares) {
  if (members < 1) throw std::invalid_argument("member population: at least one member is needed");
  if (!(total >= 0.0) || !std::isfinite(total))
    throw std::invalid_argument("member population: the total must be finite and >= 0");
  // Bands [k_prev, k) with their share of the total, then the rest.
  std::vector<std::pair<Eigen::Index, double>> bands;  // (end, cumulative share)
  Eigen::Index previous_k = 0;
  double previous_share = 0.0;
  for (const auto& [k, share] : top_shares) {
    if (k <= previous_k || k > members)
      throw std::invalid_argument("member population: the top " + std::to_string(k) + " does not fit " +
                                  std::to_string(members) + " members after the top " + std::to_string(previous_k));
    if (!(share > previous_share) || share > 1.0)
      throw std::invalid_argument("member population: the share of the top " + std::to_string(k) + " (" +
                                  std::to_string(share) + ") must exceed the previous (" +
                                  std::to_string(previous_share) + ") and be at most 1");
    bands.emplace_back(k, share);
    previous_k = k;
    previous_share = share;
  }
  if (previous_k < members) {
    bands.emplace_back(members, 1.0);
  } else if (std::abs(previous_share - 1.0) > 1e-12) {
    throw std::invalid_argument("member population: the top " + std::to_string(members) +
                                " are every member and must hold the whole total, not " +
                                std::to_string(previous_share));
  }
  Eigen::VectorXd sizes(members);
  Eigen::Index start = 0;
  double share_before = 0.0, size_before = total;  // size of the last member of the band before
  for (const auto& [end, share] : bands) {
    const double size = total * (share - share_before) / static_cast<double>(end - start);
    if (size > size_before * (1.0 + 1e-12))
      throw std::invalid_argument("member population: members " + std::to_string(start + 1) + " to " +
                                  std::to_string(end) + " would each hold " + std::to_string(size) +
                                  ", more than the larger members before them (" + std::to_string(size_before) +
                                  "): the disclosed shares are not ordered largest first");
    sizes.segment(start, end - start).setConstant(size);
    start = end;
    share_before = share;
    size_before = size;
  }
  return sizes;
}

}  // namespace ccpnet::models
