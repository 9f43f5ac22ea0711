// A member population consistent with a CCP's public quantitative disclosures
// (CPMI-IOSCO PQDs): the number of members, a disclosed total (initial margin)
// and its concentration, the share of the total held by the k largest members
// for a few k (e.g. the top 5 and top 10).
#pragma once

#include <Eigen/Dense>
#include <utility>
#include <vector>

namespace ccpnet::models {

// Sizes of `members` members, largest first, that sum to `total` and give the
// k largest exactly share s_k of it for every (k, s_k) of `top_shares` (k
// increasing, s_k increasing, 0 < k <= members). Members are equal within each
// band between two disclosed k (the least concentrated population the
// disclosures allow: nothing finer is disclosed); the rest share what the
// largest k leave. E.g. 20 members, total 1000, top 5 50% and top 10 70%:
// 5 x 100, 5 x 40, 10 x 30. Throws std::invalid_argument when the shares
// cannot come from sizes ordered largest first (a band's members would be
// larger than the band before: top 5 20% with top 10 70% gives 40 then 100),
// when a share is outside (0, 1], or when k does not fit.
Eigen::VectorXd concentrated_sizes(Eigen::Index members, double total,
                                   const std::vector<std::pair<Eigen::Index, double>>& top_shares);

}  // namespace ccpnet::models
