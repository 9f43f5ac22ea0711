// Routing a trade between two CCPs over the interoperability links (SPEC 3.3).
#pragma once

#include <optional>
#include <utility>
#include <vector>

namespace ccpnet::models {

// CCPs on a shortest path of links from `from` to `to` (both included), by
// breadth-first search on Boost.Graph; among equally short paths, the one
// through the lowest CCP indices. nullopt when they are not connected.
// `links` are pairs of CCP indices in [0, n_ccps).
std::optional<std::vector<int>> shortest_link_path(int n_ccps, const std::vector<std::pair<int, int>>& links, int from,
                                                   int to);

}  // namespace ccpnet::models
