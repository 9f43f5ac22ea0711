// The system graph (Boost.Graph): CCP and member vertices, membership edges
// (member - CCP) and link edges (CCP - CCP).
#pragma once

#include <boost/graph/adjacency_list.hpp>
#include <string>
#include <utility>
#include <vector>

namespace ccpnet {

struct Model;

enum class NodeKind { kCcp, kMember };
enum class EdgeKind { kMembership, kLink };

struct NodeProps {
  NodeKind kind = NodeKind::kCcp;
  int index = -1;  // into Model::ccps or Model::members
};
struct EdgeProps {
  EdgeKind kind = EdgeKind::kMembership;
  int index = -1;  // account index (membership) or link index (link)
};

class SystemGraph {
 public:
  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS, NodeProps, EdgeProps>;
  using Vertex = Graph::vertex_descriptor;

  explicit SystemGraph(const Model& model);

  std::vector<int> ccps_of(int member) const;  // ascending CCP indices

  std::size_t membership_count() const { return memberships_; }
  const Graph& graph() const { return graph_; }

  // Graphviz DOT: CCPs as boxes, members as ellipses (members aggregated per
  // set of CCPs when there are many), links bold.
  std::string to_dot(const Model& model) const;

  Vertex ccp_vertex(int ccp) const { return static_cast<Vertex>(ccp); }
  Vertex member_vertex(int member) const { return static_cast<Vertex>(n_ccps_ + static_cast<std::size_t>(member)); }

 private:
  Graph graph_;
  std::size_t n_ccps_ = 0;
  std::size_t memberships_ = 0;
};

}  // namespace ccpnet
