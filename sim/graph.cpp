#include "sim/graph.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <initializer_list>
#include <map>
#include <set>

#include "sim/model.hpp"

namespace ccpnet {

SystemGraph::SystemGraph(const Model& model) : graph_(model.ccps.size() + model.members.size()) {
  n_ccps_ = model.ccps.size();
  for (std::size_t c = 0; c < model.ccps.size(); ++c)
    graph_[ccp_vertex(static_cast<int>(c))] = {NodeKind::kCcp, static_cast<int>(c)};
  for (std::size_t m = 0; m < model.members.size(); ++m)
    graph_[member_vertex(static_cast<int>(m))] = {NodeKind::kMember, static_cast<int>(m)};
  for (std::size_t a = 0; a < model.accounts.size(); ++a) {
    const Account& acc = model.accounts[a];
    if (acc.kind != AccountKind::kMember) continue;
    boost::add_edge(member_vertex(acc.owner), ccp_vertex(acc.ccp),
                    EdgeProps{EdgeKind::kMembership, static_cast<int>(a)}, graph_);
    ++memberships_;
  }
  for (std::size_t l = 0; l < model.links.size(); ++l)
    boost::add_edge(ccp_vertex(model.links[l].first), ccp_vertex(model.links[l].second),
                    EdgeProps{EdgeKind::kLink, static_cast<int>(l)}, graph_);
}

std::vector<int> SystemGraph::ccps_of(int member) const {
  std::vector<int> out;
  for (auto [e, end] = boost::out_edges(member_vertex(member), graph_); e != end; ++e)
    out.push_back(graph_[boost::target(*e, graph_)].index);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

namespace {
std::string escaped(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}
std::string quote(const std::string& s) { return "\"" + escaped(s) + "\""; }
// A DOT label of several lines: each escaped, joined by DOT's own "\n".
std::string label(std::initializer_list<std::string> lines) {
  std::string out = "\"";
  for (const std::string& line : lines) out += (out.size() > 1 ? "\\n" : "") + escaped(line);
  return out + "\"";
}
std::string money(double x) {
  if (std::abs(x) >= 1e9) return fmt::format("{:.1f}bn", x / 1e9);
  if (std::abs(x) >= 1e6) return fmt::format("{:.1f}m", x / 1e6);
  if (std::abs(x) >= 1e3) return fmt::format("{:.1f}k", x / 1e3);
  return fmt::format("{:.0f}", x);
}
}  // namespace

std::string SystemGraph::to_dot(const Model& model) const {
  std::string out = fmt::format("graph {} {{\n  graph [layout=neato, overlap=false, splines=true, label={}];\n",
                                quote("ccpnet"), quote(model.name));
  out += "  node [fontname=\"Helvetica\"];\n";
  for (std::size_t c = 0; c < model.ccps.size(); ++c) {
    const auto& ccp = model.ccps[c];
    out += fmt::format("  {} [shape=box, style=\"filled,bold\", fillcolor=\"#cfe2f3\", label={}];\n", quote(ccp.id),
                       label({ccp.id, "capital " + money(ccp.capital), "DF " + money(ccp.default_fund)}));
  }
  constexpr std::size_t kMaxMembersDrawn = 60;
  if (model.members.size() <= kMaxMembersDrawn) {
    for (std::size_t m = 0; m < model.members.size(); ++m) {
      const auto& mem = model.members[m];
      out += fmt::format("  {} [shape=ellipse, label={}];\n", quote(mem.id),
                         label({mem.id, "capital " + money(mem.capital)}));
      for (int c : ccps_of(static_cast<int>(m)))
        out += fmt::format("  {} -- {};\n", quote(mem.id), quote(model.ccps[static_cast<std::size_t>(c)].id));
    }
  } else {
    // Too many members to draw: one node per set of CCPs, sized by count.
    std::map<std::vector<int>, std::pair<int, double>> clusters;
    for (std::size_t m = 0; m < model.members.size(); ++m) {
      auto& entry = clusters[ccps_of(static_cast<int>(m))];
      entry.first += 1;
      entry.second += model.members[m].capital;
    }
    int k = 0;
    for (const auto& [ccps, stats] : clusters) {
      std::vector<std::string> names;
      for (int c : ccps) names.push_back(model.ccps[static_cast<std::size_t>(c)].id);
      const std::string id = fmt::format("members_{}", k++);
      out += fmt::format("  {} [shape=ellipse, style=dashed, label={}];\n", quote(id),
                         label({fmt::format("{} members", stats.first), fmt::format("at {}", fmt::join(names, ", ")),
                                "capital " + money(stats.second)}));
      for (const auto& n : names) out += fmt::format("  {} -- {} [color=gray];\n", quote(id), quote(n));
    }
  }
  for (const auto& link : model.links) {
    out += fmt::format("  {} -- {} [penwidth=3, color=\"#cc0000\", label={}];\n",
                       quote(model.ccps[static_cast<std::size_t>(link.first)].id),
                       quote(model.ccps[static_cast<std::size_t>(link.second)].id),
                       quote(link.model == LinkKind::kPeer ? "peer" : "participant"));
  }
  out += "}\n";
  return out;
}

}  // namespace ccpnet
