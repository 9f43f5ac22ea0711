#include "sim/report_figures.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <string>

#include "sim/cascade.hpp"
#include "sim/compare.hpp"
#include "sim/config/field.hpp"
#include "sim/graph.hpp"
#include "sim/metrics.hpp"
#include "sim/model.hpp"
#include "sim/output.hpp"
#include "sim/report_page.hpp"
#include "sim/stress.hpp"

namespace ccpnet {

namespace {

using figures::BarRow;
using figures::grouped;
using figures::LegendItem;
using figures::NetLink;
using figures::NetMember;
using figures::NetNode;
using figures::pct;
using figures::plural;
using figures::usd;
using models::kLayerCount;
using models::Layer;
using page::ccp_list;

std::string esc(std::string_view s) { return html_escape(s); }

// ---------------------------------------------------------------------------
// The network's nodes, shared by the run's and the stress test's networks.

// Members drawn one by one up to this many; beyond, one node per set of CCPs.
constexpr std::size_t kMaxMembersDrawn = 60;
constexpr std::size_t kMaxGroupsDrawn = 30;

// Members clearing at the same set of CCPs; `rest`: the smallest groups
// merged into one (`sets` of them), drawn without memberships.
struct MemberGroup {
  std::vector<int> ccps;
  std::vector<int> members;
  double capital = 0.0;
  std::size_t sets = 1;
  bool rest = false;
};

// Members grouped by the set of CCPs they clear at, largest groups first; the
// rest (beyond kMaxGroupsDrawn) merged into one last group without CCPs.
std::vector<MemberGroup> group_members(const Model& model, const SystemGraph& graph) {
  std::map<std::vector<int>, MemberGroup> by_set;
  for (std::size_t m = 0; m < model.members.size(); ++m) {
    auto ccps = graph.ccps_of(static_cast<int>(m));
    auto& g = by_set[ccps];
    g.ccps = ccps;
    g.members.push_back(static_cast<int>(m));
    g.capital += model.members[m].capital;
  }
  std::vector<MemberGroup> groups;
  for (auto& [key, g] : by_set) groups.push_back(std::move(g));
  std::stable_sort(groups.begin(), groups.end(),
                   [](const MemberGroup& a, const MemberGroup& b) { return a.members.size() > b.members.size(); });
  if (groups.size() > kMaxGroupsDrawn) {
    MemberGroup rest;
    rest.rest = true;
    rest.sets = groups.size() - kMaxGroupsDrawn;
    for (std::size_t i = kMaxGroupsDrawn; i < groups.size(); ++i) {
      rest.members.insert(rest.members.end(), groups[i].members.begin(), groups[i].members.end());
      rest.capital += groups[i].capital;
    }
    groups.resize(kMaxGroupsDrawn);
    groups.push_back(std::move(rest));
  }
  return groups;
}

double sqrt_share(double x, double max) { return max > 0.0 && x > 0.0 ? std::sqrt(x / max) : 0.0; }

// The member nodes: one per member when they are few, else one per group
// (dashed, labelled with its number of members, memberships of the merged
// rest not drawn). `member` and `group` fill in the colours and the words.
std::vector<NetMember> member_nodes(const Model& model, const SystemGraph& graph,
                                    const std::function<void(std::size_t, NetMember&)>& member,
                                    const std::function<void(const MemberGroup&, NetMember&)>& group) {
  std::vector<NetMember> out;
  if (model.members.size() <= kMaxMembersDrawn) {
    double max_cap = 0.0;
    for (const auto& m : model.members) max_cap = std::max(max_cap, m.capital);
    for (std::size_t m = 0; m < model.members.size(); ++m) {
      NetMember nm;
      nm.ccps = graph.ccps_of(static_cast<int>(m));
      nm.node.label = esc(model.members[m].id);
      nm.node.size = sqrt_share(model.members[m].capital, max_cap);
      member(m, nm);
      out.push_back(std::move(nm));
    }
    return out;
  }
  const auto groups = group_members(model, graph);
  double max_cap = 0.0;
  for (const auto& g : groups) max_cap = std::max(max_cap, g.capital);
  for (const auto& g : groups) {
    NetMember nm;
    nm.ccps = g.ccps;
    nm.node.label = g.rest ? fmt::format("{} in {} more sets", grouped(static_cast<std::int64_t>(g.members.size())),
                                         grouped(static_cast<std::int64_t>(g.sets)))
                           : grouped(static_cast<std::int64_t>(g.members.size()));
    nm.node.size = sqrt_share(g.capital, max_cap);
    nm.node.dashed = true;
    group(g, nm);
    out.push_back(std::move(nm));
  }
  return out;
}

std::string link_tooltip(const Model& model, const LinkModel& l) {
  return fmt::format("{} link {} &#8211; {}{}", l.model == config::LinkModel::kPeer ? "peer" : "participant",
                     esc(model.ccps[static_cast<std::size_t>(l.first)].id),
                     esc(model.ccps[static_cast<std::size_t>(l.second)].id),
                     l.segregated ? ", segregated margin" : ", margin not segregated");
}

void link_legend(const Model& model, std::vector<LegendItem>& items) {
  bool peer = false, participant = false;
  for (const auto& l : model.links) (l.model == config::LinkModel::kPeer ? peer : participant) = true;
  if (peer) items.push_back({LegendItem::kLine, figures::kLinkColour, "peer link"});
  if (participant) items.push_back({LegendItem::kDashedLine, figures::kLinkColour, "participant link"});
  items.push_back({LegendItem::kLine, figures::kMembershipColour, "membership"});
}

double max_ccp_capital(const Model& model) {
  double max = 0.0;
  for (const auto& c : model.ccps) max = std::max(max, c.capital);
  return max;
}

// Member default causes, indexed by DefaultCause.
const char* cause_colour(DefaultCause cause) {
  static constexpr const char* kColours[] = {"#9aa3ad", "#1b1f24", "#7b5ea7", "#b2182b", "#d97a00", "#2c7fb8"};
  const auto i = static_cast<std::size_t>(cause);
  return i < std::size(kColours) ? kColours[i] : "#9aa3ad";
}

}  // namespace

// ---------------------------------------------------------------------------
// Run.

figures::LossDistribution run_loss_distribution(const Aggregate& aggregate) {
  figures::LossDistribution d;
  // The kept largest values one by one, below them the sketch's buckets (within 1%).
  for (const auto& [value, scenarios] : aggregate.total_loss_sample().distribution()) {
    d.values.push_back(value);
    d.weights.push_back(scenarios);
  }
  if (aggregate.total_loss_sample().all_exact()) d.weights.clear();
  d.scenarios = aggregate.totals().count;
  d.var = aggregate.total_loss_quantile(0.99);
  d.es = aggregate.total_loss_expected_shortfall(0.99);
  return d;
}

figures::TimeCurves run_term_structure(const Model& model, const Aggregate& aggregate) {
  figures::TimeCurves d;
  d.title = "Probability that some member has defaulted, and that some CCP has failed, by each day";
  d.axis = "probability by the day";
  const Table table = term_structure_table(model, aggregate);
  if (table.rows() == 0) return d;
  const auto column = [&](const std::string& name) { return table.numbers(name); };
  d.days = column("day");
  struct Series {
    const char *column, *label, *colour;
  };
  for (const Series& s : {Series{"p_member_default_by_day", "some member has defaulted", figures::kHotMember},
                          Series{"p_ccp_failure_by_day", "some CCP has failed", figures::kHotLink}}) {
    const std::string key(s.column);
    d.series.push_back({s.label, s.colour, column(key), column(key + "_lower"), column(key + "_upper")});
  }
  return d;
}

figures::BarChart run_waterfalls(const Model& model, const ChunkSums& t, bool beyond_defaulters) {
  const double n = std::max<double>(1.0, static_cast<double>(t.count));
  figures::BarChart chart;
  chart.series = figures::layer_series();
  chart.title = beyond_defaulters ? "Mean loss per scenario beyond the defaulters' margin and fund contributions"
                                  : "Mean loss per scenario absorbed by each waterfall layer, per CCP";
  chart.axis = "mean loss per scenario (USD)";
  for (std::size_t c = 0; c < model.ccps.size(); ++c) {
    const CcpModel& ccp = model.ccps[c];
    BarRow r;
    r.label = esc(ccp.id);
    const double p_fail = static_cast<double>(t.ccp_fails[c]) / n;
    r.alert = p_fail > 0.0;
    r.sublabel = fmt::format("P(fail) {}", pct(p_fail));
    for (auto layer : ledger_layers(ccp)) {
      if (beyond_defaulters && (layer == Layer::kDefaulterIm || layer == Layer::kDefaulterDf)) continue;
      const auto l = static_cast<std::size_t>(layer);
      r.segments.emplace_back(l, t.ccp_layers[c * kLayerCount + l] / n);
    }
    r.segments.emplace_back(figures::kUncovered, t.ccp_uncovered[c] / n);
    chart.rows.push_back(std::move(r));
  }
  return chart;
}

namespace {

std::vector<NetNode> run_ccp_nodes(const Model& model, const ChunkSums* t, double n) {
  const double max_capital = max_ccp_capital(model);
  std::vector<NetNode> nodes;
  for (std::size_t c = 0; c < model.ccps.size(); ++c) {
    const CcpModel& ccp = model.ccps[c];
    NetNode node;
    node.label = esc(ccp.id);
    node.stroke = "#1b1f24";
    node.size = sqrt_share(ccp.capital, max_capital);
    node.tooltip = fmt::format("{}: capital {}, default fund {}", esc(ccp.id), usd(ccp.capital), usd(ccp.default_fund));
    if (t) {
      const double p_fail = static_cast<double>(t->ccp_fails[c]) / n;
      node.sublabel = fmt::format("P(fail) {}", pct(p_fail));
      node.tooltip += fmt::format(", P(fail) {}", pct(p_fail));
      node.fill = figures::kRiskColour[figures::risk_class(p_fail)];
      node.emphasis = p_fail > 0.0;
    } else {
      node.fill = "#d9dee4";
    }
    nodes.push_back(std::move(node));
  }
  return nodes;
}

}  // namespace

figures::Network run_network(const Model& model, const ChunkSums* t, std::string* note) {
  const SystemGraph graph(model);
  const double n = t ? std::max<double>(1.0, static_cast<double>(t->count)) : 1.0;
  const auto p_default = [&](std::size_t m) {
    std::int64_t k = 0;
    for (int cause = 0; cause < kDefaultCauseCount; ++cause)
      k += t->member_defaults_by_cause[m * kDefaultCauseCount + static_cast<std::size_t>(cause)];
    return static_cast<double>(k) / n;
  };
  const char* grey = "#eef1f4";
  figures::Network net;
  net.ccps = run_ccp_nodes(model, t, n);
  net.members = member_nodes(
      model, graph,
      [&](std::size_t m, NetMember& nm) {
        const MemberModel& mem = model.members[m];
        nm.node.tooltip =
            fmt::format("{}: capital {}, clears at {}", esc(mem.id), usd(mem.capital), ccp_list(model, nm.ccps));
        nm.node.fill = grey;
        if (!t) return;
        const double p = p_default(m);
        if (model.members.size() <= 16) nm.node.sublabel = fmt::format("P(default) {}", pct(p));
        nm.node.tooltip += fmt::format("; P(default) {}", pct(p));
        nm.node.fill = figures::kRiskColour[figures::risk_class(p)];
      },
      [&](const MemberGroup& g, NetMember& nm) {
        nm.node.tooltip =
            g.rest ? fmt::format("{} in the {} smallest groups: capital {}", plural(g.members.size(), "member"),
                                 grouped(static_cast<std::int64_t>(g.sets)), usd(g.capital))
                   : fmt::format("{} clearing at {}: capital {}", plural(g.members.size(), "member"),
                                 ccp_list(model, g.ccps), usd(g.capital));
        nm.node.fill = grey;
        if (!t) return;
        double expected = 0.0;
        for (int m : g.members) expected += p_default(static_cast<std::size_t>(m));
        const double p = expected / static_cast<double>(g.members.size());
        nm.node.tooltip += fmt::format(", mean P(default) {}", pct(p));
        nm.node.fill = figures::kRiskColour[figures::risk_class(p)];
      });
  for (const auto& l : model.links)
    net.links.push_back(
        {l.first, l.second, l.model == config::LinkModel::kParticipant, false, false, link_tooltip(model, l)});
  if (t) {
    net.legend = {{LegendItem::kText, "", "Colour: P(fail) of a CCP, P(default) of a member"}};
    for (std::size_t k = 0; k < figures::kRiskColour.size(); ++k)
      net.legend.push_back({LegendItem::kFill, figures::kRiskColour[k], figures::kRiskLabel[k]});
    net.legend.push_back({LegendItem::kBreak, "", ""});
  }
  link_legend(model, net.legend);
  const bool grouped_members = model.members.size() > kMaxMembersDrawn;
  if (grouped_members)
    net.legend.push_back({LegendItem::kDashedCircle, "#ffffff", "group of members (number of members)"});
  net.legend.push_back({LegendItem::kText, "", "circle area: capital"});
  net.title = "The system: CCPs on the inner circle, members around them, links between CCPs";
  if (note && grouped_members) {
    *note = fmt::format(
        " {} members are too many to draw one by one: each dashed circle is the group of members clearing at the "
        "same set of CCPs, labelled with its number of members (area: their total capital; colour: their mean "
        "P(default)).",
        grouped(static_cast<std::int64_t>(model.members.size())));
    const auto groups = group_members(model, graph);
    if (groups.back().rest)
      *note +=
          fmt::format(" The {} smallest groups ({}, capital {}) are drawn as one circle without their memberships.",
                      grouped(static_cast<std::int64_t>(groups.back().sets)),
                      plural(groups.back().members.size(), "member"), usd(groups.back().capital));
  }
  return net;
}

// ---------------------------------------------------------------------------
// Stress.

double link_shortfall(const nlohmann::ordered_json& stress, const std::string& ccp) {
  const auto& e = stress["ccps"][ccp];
  if (!e.contains("fail_cause") || e["fail_cause"] != "links") return 0.0;
  return e["ledger"]["link_in"].get<double>();
}

std::string link_shortfall_text(double amount) {
  return fmt::format("its layers ran out on {} of losses over its links", usd(amount));
}

figures::BarChart stress_waterfalls(const Model& model, const StressOutcome& o, const nlohmann::ordered_json& stress,
                                    bool* through_links) {
  const ScenarioResult& r = o.result;
  figures::BarChart chart;
  chart.series = figures::layer_series();
  chart.title = fmt::format("Loss absorbed by each waterfall layer per CCP, stress scenario {}", esc(o.stress.name));
  chart.axis = "loss absorbed (USD)";
  for (std::size_t c = 0; c < model.ccps.size(); ++c) {
    const CcpModel& ccp = model.ccps[c];
    BarRow row;
    row.label = esc(ccp.id);
    row.highlight = r.ccp_fail_round[c] >= 0;
    const bool links = link_shortfall(stress, ccp.id) > 0.0;
    if (through_links) *through_links = *through_links || links;
    row.sublabel =
        row.highlight ? fmt::format("FAILS in round {}{}", r.ccp_fail_round[c], links ? " (links)" : "") : "survives";
    for (auto layer : ledger_layers(ccp)) {
      const auto l = static_cast<std::size_t>(layer);
      row.segments.emplace_back(l, r.ccp_layers[c * kLayerCount + l]);
    }
    row.segments.emplace_back(figures::kUncovered, r.ccp_uncovered[c]);
    chart.rows.push_back(std::move(row));
  }
  return chart;
}

namespace {

// What the trace of a stress scenario says about who was hit.
struct Contagion {
  std::vector<int> member_round;  // -1: survives
  std::vector<DefaultCause> member_cause;
  std::set<std::pair<int, int>> member_hits;  // (member, CCP): a defaulter's account closed out at a CCP
  std::set<std::pair<int, int>> link_hits;    // (failed CCP, CCP closing out its link)
  std::vector<bool> touched;                  // per CCP: its waterfall was used
};

Contagion contagion(const Model& model, const StressOutcome& o) {
  Contagion k{std::vector<int>(model.members.size(), -1),
              std::vector<DefaultCause>(model.members.size(), DefaultCause::kNone),
              {},
              {},
              std::vector<bool>(model.ccps.size(), false)};
  for (const auto& d : o.result.defaults) {
    k.member_round[static_cast<std::size_t>(d.member)] = d.round;
    k.member_cause[static_cast<std::size_t>(d.member)] = d.cause;
  }
  for (const auto& e : o.trace.events) {
    k.touched[static_cast<std::size_t>(e.ccp)] = true;
    for (const auto& d : e.defaulters) {
      const Account& acc = model.accounts[static_cast<std::size_t>(d.account)];
      if (acc.kind == AccountKind::kMember) k.member_hits.insert({acc.owner, e.ccp});
      if (acc.kind == AccountKind::kLink) k.link_hits.insert({acc.owner, e.ccp});
    }
  }
  return k;
}

std::vector<NetNode> stress_ccp_nodes(const Model& model, const StressOutcome& o, const nlohmann::ordered_json& stress,
                                      const Contagion& k) {
  const double max_capital = max_ccp_capital(model);
  std::vector<NetNode> nodes;
  for (std::size_t c = 0; c < model.ccps.size(); ++c) {
    const CcpModel& ccp = model.ccps[c];
    NetNode node;
    node.label = esc(ccp.id);
    const bool failed = o.result.ccp_fail_round[c] >= 0;
    node.sublabel = failed         ? fmt::format("FAILS in round {}", o.result.ccp_fail_round[c])
                    : k.touched[c] ? "waterfall used"
                                   : "";
    const double shortfall = link_shortfall(stress, ccp.id);
    node.tooltip = fmt::format("{}: {}{}", esc(ccp.id),
                               failed         ? node.sublabel
                               : k.touched[c] ? std::string("uses its waterfall and survives")
                                              : std::string("not touched"),
                               shortfall > 0.0 ? "; " + link_shortfall_text(shortfall) : "");
    node.fill = failed ? "#c62828" : k.touched[c] ? "#fdb863" : "#f4f4f4";
    node.stroke = failed ? "#5c0a0a" : "#1b1f24";
    node.emphasis = failed;
    node.size = sqrt_share(ccp.capital, max_capital);
    nodes.push_back(std::move(node));
  }
  return nodes;
}

std::vector<LegendItem> stress_legend(const Model& model, const StressOutcome& o, const Contagion& k) {
  std::vector<LegendItem> legend = {{LegendItem::kFill, "#c62828", "CCP fails"},
                                    {LegendItem::kFill, "#fdb863", "CCP uses its waterfall, survives"},
                                    {LegendItem::kFill, "#f4f4f4", "CCP not touched"},
                                    {LegendItem::kBreak, "", ""}};
  if (model.members.size() <= kMaxMembersDrawn) {
    std::set<DefaultCause> causes;
    for (const auto& d : o.result.defaults) causes.insert(d.cause);
    for (const auto cause : causes)
      legend.push_back(
          {LegendItem::kCircle, cause_colour(cause), fmt::format("member defaults: {}", cause_name(cause))});
    legend.push_back({LegendItem::kCircle, "#ffffff", "member survives"});
  } else {
    legend.push_back({LegendItem::kDashedCircle, "#b2182b", "group of members with defaults"});
    legend.push_back({LegendItem::kDashedCircle, "#ffffff", "group without defaults"});
  }
  if (!k.member_hits.empty())
    legend.push_back({LegendItem::kArrow, figures::kHotMember, "defaulter closed out at a CCP"});
  if (!k.link_hits.empty())
    legend.push_back({LegendItem::kHotArrow, figures::kHotLink, "failed CCP closed out over a link"});
  link_legend(model, legend);
  return legend;
}

}  // namespace

figures::Network stress_network(const Model& model, const StressOutcome& o, const nlohmann::ordered_json& stress) {
  const SystemGraph graph(model);
  const Contagion k = contagion(model, o);
  figures::Network net;
  net.ccps = stress_ccp_nodes(model, o, stress, k);
  net.members = member_nodes(
      model, graph,
      [&](std::size_t m, NetMember& nm) {
        for (int c : nm.ccps)
          if (k.member_hits.count({static_cast<int>(m), c})) nm.hot_ccps.push_back(c);
        const bool defaulted = k.member_round[m] >= 0;
        const char* cause = cause_name(k.member_cause[m]);
        if (defaulted) nm.node.sublabel = fmt::format("round {}, {}", k.member_round[m], cause);
        nm.node.tooltip = fmt::format(
            "{}: {}", esc(model.members[m].id),
            defaulted ? fmt::format("defaults in round {} ({})", k.member_round[m], cause) : std::string("survives"));
        nm.node.fill = defaulted ? cause_colour(k.member_cause[m]) : "#ffffff";
        nm.node.emphasis = defaulted;
      },
      [&](const MemberGroup& g, NetMember& nm) {
        int defaulted = 0;
        for (int m : g.members) {
          if (k.member_round[static_cast<std::size_t>(m)] >= 0) ++defaulted;
          for (int c : g.ccps)
            if (k.member_hits.count({m, c}) &&
                std::find(nm.hot_ccps.begin(), nm.hot_ccps.end(), c) == nm.hot_ccps.end())
              nm.hot_ccps.push_back(c);
        }
        if (defaulted > 0) nm.node.sublabel = fmt::format("{} defaulted", defaulted);
        nm.node.tooltip =
            g.rest
                ? fmt::format("{} in the {} smallest groups, memberships not drawn: {} default",
                              plural(g.members.size(), "member"), grouped(static_cast<std::int64_t>(g.sets)), defaulted)
                : fmt::format("{} members clearing at {}: {} default",
                              grouped(static_cast<std::int64_t>(g.members.size())), ccp_list(model, g.ccps), defaulted);
        nm.node.fill = defaulted > 0 ? "#b2182b" : "#ffffff";
        nm.node.emphasis = defaulted > 0;
      });
  for (const auto& l : model.links) {
    const bool ab = k.link_hits.count({l.first, l.second}) > 0, ba = k.link_hits.count({l.second, l.first}) > 0;
    net.links.push_back({ab || !ba ? l.first : l.second, ab || !ba ? l.second : l.first,
                         l.model == config::LinkModel::kParticipant, ab || ba, ab && ba, link_tooltip(model, l)});
  }
  net.legend = stress_legend(model, o, k);
  net.title = fmt::format("Contagion paths in stress scenario {}", esc(o.stress.name));
  return net;
}

// ---------------------------------------------------------------------------
// Comparison.

ShownMetric shown_metric(const MetricInfo& info) {
  const figures::Unit unit = info.unit == MetricUnit::kUsd         ? figures::Unit::kUsd
                             : info.unit == MetricUnit::kScenarios ? figures::Unit::kProbability
                                                                   : figures::Unit::kCount;
  return {info.name, info.title, unit, info.optional};
}

std::vector<ShownMetric> shown_metrics(const Comparison& c) {
  constexpr std::string_view kHeadline[] = {"any_ccp_fail", "member_defaults", "total_loss", "closeout_loss",
                                            "uncovered_loss"};
  std::vector<ShownMetric> shown;
  for (std::string_view name : kHeadline) shown.push_back(shown_metric(compare_metrics()[compare_metric_index(name)]));
  for (const MetricInfo& m : compare_metrics())
    if (std::find(std::begin(kHeadline), std::end(kHeadline), m.name) == std::end(kHeadline) && c.shows(m.name))
      shown.push_back(shown_metric(m));
  return shown;
}

figures::DotWhisker compare_differences(const Comparison& c, const ShownMetric& metric) {
  figures::DotWhisker data;
  data.unit = metric.unit;
  data.title = fmt::format("Paired difference to base: {}", metric.title);
  data.axis =
      fmt::format("variant minus base ({})", metric.unit == figures::Unit::kUsd           ? "USD"
                                             : metric.unit == figures::Unit::kProbability ? "percentage points"
                                                                                          : "defaults per scenario");
  for (std::size_t v = 1; v < c.variants.size(); ++v) {
    const auto d = c.difference(v, metric.name);
    data.rows.push_back({esc(c.variants[v].name), d.mean, d.lo, d.hi});
  }
  return data;
}

}  // namespace ccpnet
