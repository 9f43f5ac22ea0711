#include "models/links/route.hpp"

#include <algorithm>
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/breadth_first_search.hpp>

namespace ccpnet::models {

std::optional<std::vector<int>> shortest_link_path(int n_ccps, const std::vector<std::pair<int, int>>& links, int from,
                                                   int to) {
  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS>;
  // Edges inserted in (lower, higher) order give every vertex its neighbours in
  // ascending order, so the search prefers low CCP indices on ties.
  std::vector<std::pair<int, int>> sorted;
  for (auto [a, b] : links) sorted.emplace_back(std::min(a, b), std::max(a, b));
  std::sort(sorted.begin(), sorted.end());
  Graph g(static_cast<std::size_t>(n_ccps));
  for (auto [a, b] : sorted) boost::add_edge(static_cast<std::size_t>(a), static_cast<std::size_t>(b), g);
  std::vector<std::size_t> parent(static_cast<std::size_t>(n_ccps));
  for (std::size_t i = 0; i < parent.size(); ++i) parent[i] = i;
  boost::breadth_first_search(
      g, static_cast<std::size_t>(from),
      boost::visitor(boost::make_bfs_visitor(boost::record_predecessors(parent.data(), boost::on_tree_edge()))));
  if (from != to && parent[static_cast<std::size_t>(to)] == static_cast<std::size_t>(to)) return std::nullopt;
  std::vector<int> path{to};
  while (path.back() != from) path.push_back(static_cast<int>(parent[static_cast<std::size_t>(path.back())]));
  std::reverse(path.begin(), path.end());
  return path;
}

std::vector<std::pair<std::size_t, double>> route_link_flows(const std::vector<std::pair<int, int>>& links,
                                                             const std::vector<int>& route) {
  std::vector<std::pair<std::size_t, double>> out;
  for (std::size_t h = 0; h + 1 < route.size(); ++h) {
    const int u = route[h], v = route[h + 1];
    for (std::size_t l = 0; l < links.size(); ++l) {
      if (links[l].first == u && links[l].second == v) {
        out.emplace_back(l, -1.0);
        break;
      }
      if (links[l].first == v && links[l].second == u) {
        out.emplace_back(l, 1.0);
        break;
      }
    }
  }
  return out;
}

}  // namespace ccpnet::models
