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

// The links a trade routed along `route` (CCP indices, buyer's CCP first)
// crosses, each with its flow per unit bought: on a hop u -> v over the link
// (u, v) the next CCP v is short at u (-1); over the link (v, u), u is long at
// v (+1). The first link joining a hop's CCPs carries it; a hop without a link
// is skipped.
std::vector<std::pair<std::size_t, double>> route_link_flows(const std::vector<std::pair<int, int>>& links,
                                                             const std::vector<int>& route);

}  // namespace ccpnet::models
