// Leave-one-out contributions on common random numbers (sim/contributions.hpp).
#include "sim/contributions.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <numeric>

#include "sim/compare.hpp"
#include "sim/config/yaml_writer.hpp"
#include "sim/errors.hpp"
#include "sim/model.hpp"

namespace ccpnet {
namespace {

struct Node {
  std::string name, kind;
  std::vector<std::string> settings;  // the overrides that leave it out
};

template <class T>
std::string flow_yaml(const T& value) {
  YAML::Emitter out;
  out << YAML::Flow;
  config::YamlWriter::write(out, value);
  return out.c_str();
}

std::string link_name(const config::LinkConfig& link) { return fmt::format("{}", fmt::join(link.between, "-")); }

// The members by default: the `top` with the largest capital (ties: listed first).
std::vector<std::string> largest_members(const config::LoadedScenario& base, int top) {
  const Model model = build_model(base);
  std::vector<std::size_t> order(model.members.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return model.members[a].capital > model.members[b].capital; });
  order.resize(std::min(order.size(), static_cast<std::size_t>(std::max(0, top))));
  std::vector<std::string> ids;
  for (std::size_t m : order) ids.push_back(model.members[m].id);
  return ids;
}

std::vector<Node> nodes_left_out(const config::LoadedScenario& base, const ContributionRequest& request) {
  const config::Scenario& s = base.scenario;
  std::vector<std::string> members;
  if (!request.members)
    members = s.interbank ? largest_members(base, request.top) : std::vector<std::string>{};
  else if (!request.members->empty() && !s.interbank)
    throw InputError("members' contributions need an interbank network: the model has no interbank section");
  else
    members = *request.members;
  std::vector<int> links(s.links.size());
  std::iota(links.begin(), links.end(), 0);
  if (request.links) links = *request.links;
  for (int i : links)
    if (i < 0 || static_cast<std::size_t>(i) >= s.links.size())
      throw InputError(fmt::format("link {} does not exist: the model has {} links", i, s.links.size()));
  std::vector<Node> nodes;
  const std::vector<std::string> excluded = s.interbank ? s.interbank->exclude : std::vector<std::string>{};
  for (const std::string& m : members) {
    std::vector<std::string> without = excluded;
    without.push_back(m);
    nodes.push_back({m, "member", {"interbank.exclude=" + flow_yaml(without)}});
  }
  // Without a link, what a CCP's members no longer net over it is taken by its
  // members directly (as topology none does), unless the file says otherwise.
  std::vector<std::string> direct;
  for (const config::CcpConfig& ccp : s.ccps)
    if (ccp.imbalance == config::ImbalancePolicy::kError)
      direct.push_back("ccps." + ccp.id + ".imbalance=direct_membership");
  for (int i : links) {
    std::vector<config::LinkConfig> rest = s.links;
    rest.erase(rest.begin() + i);
    Node node{link_name(s.links[static_cast<std::size_t>(i)]), "link", {"links=" + flow_yaml(rest)}};
    node.settings.insert(node.settings.end(), direct.begin(), direct.end());
    nodes.push_back(std::move(node));
  }
  return nodes;
}

}  // namespace

Contributions run_contributions(const config::LoadedScenario& base, const std::vector<config::Override>& overrides,
                                const ContributionRequest& request, const RunOptions& options) {
  Contributions out;
  out.metric = request.metric;
  try {
    compare_metric_index(request.metric);
  } catch (const std::invalid_argument& e) {
    throw InputError(e.what());
  }
  const std::vector<Node> nodes = nodes_left_out(base, request);
  if (nodes.empty()) return out;
  YAML::Emitter variants;
  variants << YAML::Flow << YAML::BeginSeq;
  for (const Node& n : nodes)
    variants << YAML::BeginMap << YAML::Key << "name" << YAML::Value << fmt::format("without {} {}", n.kind, n.name)
             << YAML::Key << "set" << YAML::Value << n.settings << YAML::EndMap;
  variants << YAML::EndSeq;
  std::vector<config::Override> with_variants = overrides;
  with_variants.push_back({"variants", variants.c_str()});
  const config::LoadedScenario loo =
      config::load_scenario_text(base.text, base.source_name, with_variants, base.data_access);
  const Comparison c = run_compare(loo, with_variants, options);
  out.scenarios = c.scenarios;
  out.model = c.variants.front().model;
  out.warnings = c.warnings;
  const double mean = c.mean(0, request.metric);
  for (std::size_t v = 1; v < c.variants.size(); ++v) {
    const PairedDifference d = c.difference(v, request.metric);
    const Node& n = nodes[v - 1];
    const double contribution = 0.0 - d.mean;  // not -d.mean: a nil contribution is 0, not -0
    out.rows.push_back({n.name, n.kind, mean, c.mean(v, request.metric), contribution, 0.0 - d.hi, 0.0 - d.lo,
                        mean != 0.0 ? contribution / mean : 0.0});
  }
  std::stable_sort(out.rows.begin(), out.rows.end(),
                   [](const Contribution& a, const Contribution& b) { return a.contribution > b.contribution; });
  return out;
}

Table contributions_table(const Contributions& c) {
  std::vector<std::string> node, kind, metric;
  std::vector<double> with_node, without_node, contribution, lower, upper, share;
  for (const Contribution& r : c.rows) {
    node.push_back(r.node);
    kind.push_back(r.kind);
    metric.push_back(c.metric);
    with_node.push_back(r.with_node);
    without_node.push_back(r.without_node);
    contribution.push_back(r.contribution);
    lower.push_back(r.lower);
    upper.push_back(r.upper);
    share.push_back(r.share);
  }
  Table t;
  t.columns = {{"node", node},
               {"kind", kind},
               {"metric", metric},
               {"with_node", with_node},
               {"without_node", without_node},
               {"contribution", contribution},
               {"lower", lower},
               {"upper", upper},
               {"share", share}};
  return t;
}

nlohmann::ordered_json contributions_json(const Contributions& c) {
  nlohmann::ordered_json j;
  j["metric"] = c.metric;
  j["scenarios"] = c.scenarios;
  j["nodes"] = nlohmann::ordered_json::array();
  for (const Contribution& r : c.rows)
    j["nodes"].push_back({{"node", r.node},
                          {"kind", r.kind},
                          {"with_node", r.with_node},
                          {"without_node", r.without_node},
                          {"contribution", r.contribution},
                          {"lower", r.lower},
                          {"upper", r.upper},
                          {"share", r.share}});
  return j;
}

std::string format_contributions(const Contributions& c) {
  if (c.rows.empty()) return "no node to leave out: no interbank member and no link\n";
  std::size_t width = 4;
  for (const Contribution& r : c.rows) width = std::max(width, r.node.size());
  std::string out =
      fmt::format("contributions to {} (leave-one-out, {} scenarios, common random numbers)\n", c.metric, c.scenarios);
  out += fmt::format("{:<{}} {:<6} {:>12} {:>12} {:>26} {:>8}\n", "node", width, "kind", "with", "without",
                     "contribution [95%]", "share");
  for (const Contribution& r : c.rows)
    out += fmt::format("{:<{}} {:<6} {:>12.4g} {:>12.4g} {:>10.4g} [{:.4g}, {:.4g}] {:>7.1f}%\n", r.node, width, r.kind,
                       r.with_node, r.without_node, r.contribution, r.lower, r.upper, 100.0 * r.share);
  return out;
}

}  // namespace ccpnet
