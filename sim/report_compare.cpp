// report.html of `ccpnet compare --report` (see sim/report.hpp): the
// variants side by side, their paired differences to the base and one
// dot-and-whisker figure per metric.
#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "sim/compare.hpp"
#include "sim/model.hpp"
#include "sim/report.hpp"
#include "sim/report_figures.hpp"
#include "sim/report_page.hpp"

namespace ccpnet {

namespace {

using namespace page;  // the vocabulary of the pages: money, pct, card, figure, ...
using figures::difference_text;
using figures::Ids;
using figures::value_text;

// The verdict on a paired difference: every metric here is "lower is better".
std::string verdict(const PairedDifference& d) {
  if (d.lo > 0.0) return "<span class=\"badge worse\">&#9650; higher</span>";
  if (d.hi < 0.0) return "<span class=\"badge better\">&#9660; lower</span>";
  if (d.lo == 0.0 && d.hi == 0.0) return "<span class=\"badge neutral\">identical in every scenario</span>";
  return "<span class=\"badge neutral\">interval includes 0</span>";
}
}  // namespace

std::string compare_report(const Comparison& c) {
  Ids ids;
  const std::vector<ShownMetric> metrics = shown_metrics(c);
  const Model* base = c.variants.empty() ? nullptr : c.variants.front().model.get();
  const std::string name = base ? esc(base->name) : std::string("(no variants)");
  std::string h = begin(fmt::format("ccpnet comparison report: {}", name), fmt::format("Comparison: {}", name),
                        fmt::format("{} variant{} &#183; {} scenarios each, common random numbers", c.variants.size(),
                                    c.variants.size() == 1 ? "" : "s", grouped(c.scenarios)));
  h += "<nav class=\"toc\"><a href=\"#variants\">Variants</a><a href=\"#differences\">Paired differences</a>"
       "<a href=\"#figures\">Figures</a></nav>\n";
  h += "<section id=\"variants\"><h2>Variants side by side</h2>\n<dl class=\"meta\">";
  if (base)
    h += fmt::format("<dt>Scenario</dt><dd>{}</dd><dt>Scenario file</dt><dd>{}</dd><dt>Seed</dt><dd>{}</dd>",
                     esc(base->name), esc(base->source_name), base->seed);
  h += fmt::format("<dt>ccpnet version</dt><dd>{}</dd><dt>Scenarios per variant</dt><dd>{}</dd></dl>\n", CCPNET_VERSION,
                   grouped(c.scenarios));
  h += "<p>Every variant is run on the same random scenarios, so each difference to the base is paired scenario by "
       "scenario and its 95% interval is much tighter than a comparison of two independent runs.</p>\n";
  if (!c.warnings.empty()) {
    h += "<div class=\"banner partial\"><strong>Warnings</strong><ul class=\"defaults\">";
    for (const auto& w : c.warnings) h += "<li>" + esc(w) + "</li>";
    h += "</ul></div>\n";
  }
  h += "<div class=\"tablewrap\"><table>\n<thead><tr><th>variant</th><th class=\"num\">total IM (USD)</th>"
       "<th class=\"num\">inter-CCP IM (USD)</th><th class=\"num\">default funds (USD)</th>";
  for (const auto& m : metrics)
    h += fmt::format("<th class=\"num\">{}{}</th>", m.unit == figures::Unit::kProbability ? "" : "mean ", m.title);
  h += "</tr></thead>\n<tbody>\n";
  for (std::size_t v = 0; v < c.variants.size(); ++v) {
    const auto& x = c.variants[v];
    h += fmt::format(
        "<tr><td><strong>{}</strong>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
        "<td class=\"num\">{}</td>",
        esc(x.name), v == 0 ? " <span class=\"badge neutral\">base</span>" : "", money(x.total_im),
        money(x.inter_ccp_margin), money(x.default_funds));
    for (const auto& m : metrics) h += fmt::format("<td class=\"num\">{}</td>", value_text(c.mean(v, m.name), m.unit));
    h += "</tr>\n";
  }
  h += "</tbody></table></div>\n</section>\n";

  h += "<section id=\"differences\"><h2>Paired differences to the base (95% intervals)</h2>\n";
  if (c.variants.size() < 2) {
    h += "<p>Only the base was run: the scenario file has no variants to compare.</p>\n";
  } else {
    h += "<div class=\"tablewrap\"><table>\n<thead><tr><th>variant</th><th>metric</th><th class=\"num\">base</th>"
         "<th class=\"num\">variant</th><th class=\"num\">difference</th><th class=\"num\">95% interval</th>"
         "<th>reading</th></tr></thead>\n<tbody>\n";
    for (std::size_t v = 1; v < c.variants.size(); ++v)
      for (std::size_t k = 0; k < metrics.size(); ++k) {
        const auto& m = metrics[k];
        const auto d = c.difference(v, m.name);
        h += fmt::format(
            "<tr>{}<td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\"><strong>{}</strong>"
            "</td><td class=\"num\">[{}, {}]</td><td>{}</td></tr>\n",
            k == 0 ? fmt::format("<td rowspan=\"{}\"><strong>{}</strong></td>", metrics.size(), esc(c.variants[v].name))
                   : "",
            m.title, value_text(c.mean(0, m.name), m.unit), value_text(c.mean(v, m.name), m.unit),
            difference_text(d.mean, m.unit), difference_text(d.lo, m.unit), difference_text(d.hi, m.unit), verdict(d));
      }
    h += "</tbody></table></div>\n<p class=\"muted\">Difference: variant minus base, mean over the paired scenarios; "
         "interval: mean &#177; 1.96 standard errors of the paired differences. Lower is safer for every metric "
         "here. pp: percentage points.";
    if (std::any_of(metrics.begin(), metrics.end(), [](const ShownMetric& m) { return m.optional; }))
      h += " Liquidity shortfall: cash missing of the members that defaulted for liquidity. Settlement loss: "
           "principal lost and replacement costs of settlement fails. Both are shown when some variant has them.";
    h += "</p>\n";
  }
  h += "</section>\n";

  h += "<section id=\"figures\"><h2>Figures</h2>\n";
  if (c.variants.size() >= 2) {
    for (const auto& m : metrics) {
      bool any = false;
      for (std::size_t v = 1; v < c.variants.size(); ++v) {
        const auto d = c.difference(v, m.name);
        any = any || d.lo != 0.0 || d.hi != 0.0;
      }
      const std::string title = fmt::format("Difference to base: {}", m.title);
      if (!any) {
        h += fmt::format(
            "<figure><h3>{}</h3><p>Every variant gives the same {} as the base in every scenario: nothing to "
            "plot.</p></figure>\n",
            title, m.title);
        continue;
      }
      h += figure(title, figures::dot_whisker(compare_differences(c, m), ids),
                  "Dot: mean paired difference (variant minus base); whiskers: 95% interval. Blue: the whole interval "
                  "is below 0 (lower than the base); red: above 0 (higher); grey: the interval includes 0.");
    }
  } else {
    h += "<p>No figures: there is nothing to compare the base with.</p>\n";
  }
  h += "</section>\n";
  h += end("Variants run on common random numbers.");
  return h;
}

}  // namespace ccpnet