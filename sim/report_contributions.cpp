// report.html of `ccpnet contributions --report` (see sim/report.hpp): each
// node's contribution to the system metric, left out one at a time on common
// random numbers, with its paired 95% interval.
#include <fmt/format.h>

#include <string>

#include "sim/compare.hpp"
#include "sim/contributions.hpp"
#include "sim/model.hpp"
#include "sim/report.hpp"
#include "sim/report_figures.hpp"
#include "sim/report_page.hpp"

namespace ccpnet {

namespace {

using namespace page;  // the vocabulary of the pages: money, pct, card, figure, ...
using figures::difference_text;
using figures::value_text;

// Whether the node adds to the metric (the whole interval above 0), removes from it, or neither.
std::string reading(const Contribution& r) {
  if (r.lower > 0.0) return "<span class=\"badge worse\">&#9650; adds</span>";
  if (r.upper < 0.0) return "<span class=\"badge better\">&#9660; reduces</span>";
  if (r.lower == 0.0 && r.upper == 0.0) return "<span class=\"badge neutral\">no effect in any scenario</span>";
  return "<span class=\"badge neutral\">interval includes 0</span>";
}

std::string node_table(const Contributions& c, const ShownMetric& m) {
  std::string h =
      "<div class=\"tablewrap\"><table>\n<thead><tr><th>node</th><th>kind</th><th class=\"num\">with it</th>"
      "<th class=\"num\">without it</th><th class=\"num\">contribution</th><th class=\"num\">95% interval</th>"
      "<th class=\"num\">share</th><th>reading</th></tr></thead>\n<tbody>\n";
  for (const Contribution& r : c.rows)
    h += fmt::format(
        "<tr><td><strong>{}</strong></td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
        "<td class=\"num\"><strong>{}</strong></td><td class=\"num\">[{}, {}]</td><td class=\"num\">{:.1f}%</td>"
        "<td>{}</td></tr>\n",
        esc(r.node), r.kind, value_text(r.with_node, m.unit), value_text(r.without_node, m.unit),
        difference_text(r.contribution, m.unit), difference_text(r.lower, m.unit), difference_text(r.upper, m.unit),
        100.0 * r.share, reading(r));
  return h + "</tbody></table></div>\n";
}

}  // namespace

std::string contributions_report(const Contributions& c) {
  const ShownMetric m = shown_metric(compare_metrics()[compare_metric_index(c.metric)]);
  const std::string name = c.model ? esc(c.model->name) : std::string("(no node)");
  std::string h = begin(fmt::format("ccpnet contributions report: {}", name), fmt::format("Contributions: {}", name),
                        fmt::format("{} node{} left out one at a time &#183; {} scenarios each, common random numbers",
                                    c.rows.size(), c.rows.size() == 1 ? "" : "s", grouped(c.scenarios)));
  h += "<section id=\"contributions\"><h2>Each node's contribution to " + std::string(m.title) + "</h2>\n";
  h += "<dl class=\"meta\">";
  if (c.model)
    h += fmt::format("<dt>Scenario file</dt><dd>{}</dd><dt>Seed</dt><dd>{}</dd>", esc(c.model->source_name),
                     c.model->seed);
  h += fmt::format("<dt>ccpnet version</dt><dd>{}</dd><dt>Scenarios per variant</dt><dd>{}</dd></dl>\n", CCPNET_VERSION,
                   grouped(c.scenarios));
  h += "<p>A member's contribution is the metric with its interbank exposures (as lender and as borrower) minus "
       "the metric without them, the rest of the network as built; a link's, with the link minus without it. Every "
       "variant runs on the base's scenarios, so each contribution is a paired difference with a 95% interval. "
       "Contributions need not add up to the total: the channels interact.</p>\n";
  if (c.rows.empty()) {
    h += "<p>No node to leave out: the scenario has no interbank network to take a member out of and no "
         "link.</p>\n</section>\n";
    return h + end("Leave-one-out on common random numbers.");
  }
  h += node_table(c, m) + "</section>\n";
  figures::DotWhisker data;
  data.unit = m.unit;
  data.title = fmt::format("Contribution to {}", m.title);
  data.axis = "with the node minus without it";
  for (const Contribution& r : c.rows) data.rows.push_back({esc(r.node), r.contribution, r.lower, r.upper});
  figures::Ids ids;
  h += "<section id=\"figures\"><h2>Figure</h2>\n";
  h += figure(data.title, figures::dot_whisker(data, ids),
              "Dot: mean paired contribution; whiskers: 95% interval. Red: the whole interval is above 0 (the node "
              "adds to the metric); blue: below 0; grey: the interval includes 0.");
  h += "</section>\n";
  return h + end("Leave-one-out on common random numbers.");
}

}  // namespace ccpnet
