// report.html of `ccpnet stress --report` and `ccpnet reverse --report` (see
// sim/report.hpp): each stress scenario's story, section by section; the
// figures come from sim/report_figures.hpp.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <optional>
#include <string>

#include "sim/cascade.hpp"
#include "sim/model.hpp"
#include "sim/report.hpp"
#include "sim/report_figures.hpp"
#include "sim/report_page.hpp"
#include "sim/reverse.hpp"
#include "sim/stress.hpp"

namespace ccpnet {

namespace {

using namespace page;  // the vocabulary of the pages: money, pct, card, figure, ...
using figures::Ids;
using figures::kLayerColour;
using figures::kLayerLabel;
using figures::kUncovered;

std::string moves_text(const StressScenario& s) {
  std::string moves;
  for (const auto& [id, m] : s.total_moves())
    moves +=
        fmt::format("{}{} {}{:.1f}%", moves.empty() ? "" : ", ", esc(id), m < 0 ? kMinus : "+", std::abs(100.0 * m));
  for (const auto& [id, v] : s.vol_moves)
    moves += fmt::format("{}{} implied vol {}{:.1f}%", moves.empty() ? "" : ", ", esc(id), v < 0 ? kMinus : "+",
                         std::abs(100.0 * v));
  if (moves.empty()) moves = "no price move";
  return fmt::format("{} over {:g} day{}{}", moves, s.length_days(), s.length_days() == 1.0 ? "" : "s",
                     s.path.empty() ? "" : ", day by day");
}

// Time steps: each day's VM gains late and fails per CCP (settlement.days of
// stress.json), the days with neither left out.
std::string stress_settlement_days(const Model& model, const nlohmann::ordered_json& days) {
  std::string rows;
  for (const auto& d : days) {
    std::string cells;
    bool any = false;
    for (const auto& ccp : model.ccps) {
      const double late = d["late_inflows"][ccp.id].get<double>(), fails = d["fails"][ccp.id].get<double>();
      any = any || late != 0.0 || fails != 0.0;
      cells += num_cell(money(late), late) + num_cell(fmt::format("{:g}", fails), fails);
    }
    if (any) rows += fmt::format("<tr><td>{:g}</td>{}</tr>\n", d["day"].get<double>(), cells);
  }
  if (rows.empty()) return "<p>No VM gain late and no settlement fail on any day.</p>\n";
  std::string head = "<th>day</th>";
  for (const auto& ccp : model.ccps)
    head +=
        fmt::format("<th class=\"num\">{0}: VM gains late (USD)</th><th class=\"num\">{0}: fails</th>", esc(ccp.id));
  return "<p>Day by day:</p>\n<div class=\"tablewrap\"><table>\n<thead><tr>" + head + "</tr></thead>\n<tbody>\n" +
         rows + "</tbody></table></div>\n";
}

// One stress scenario's settlement: when each chain was final, which bridges
// were exploited (on which day, in time steps), what failed and what was late
// per CCP (and per day), and the liquidity defaults that settlement delay
// caused (from stress.json).
std::string stress_settlement(const Model& model, const nlohmann::ordered_json& stress) {
  const auto& st = stress["settlement"];
  std::string h = "<h3>Settlement</h3>\n";
  std::string chains;
  for (const auto& chain : model.chains) {
    const auto& e = st["chains"][chain.id];
    const double finality = e["finality_hours"].get<double>();
    chains += fmt::format("{}<strong>{}</strong> <span{}>{}</span>{}{}", chains.empty() ? "" : ", ", esc(chain.id),
                          exact_attr(finality), hours(finality),
                          e["congested"].get<bool>() ? " <span class=\"badge warn\">congested</span>" : "",
                          e["halted"].get<bool>() ? " <span class=\"badge bad\">halted</span>" : "");
  }
  std::string bridges;
  for (const auto& b : st["exploited_bridges"]) {
    const std::string id = b.get<std::string>();
    bridges += (bridges.empty() ? "" : ", ") + fmt::format("<strong>{}</strong>", esc(id));
    if (st.contains("exploit_days") && st["exploit_days"].contains(id))
      bridges += fmt::format(" on day {:g}", st["exploit_days"][id].get<double>());
  }
  h += "<p>";
  if (!chains.empty()) h += "Final after: " + chains + ". ";
  if (!model.bridges.empty())
    h += bridges.empty() ? std::string("No bridge exploited.")
                         : "<span class=\"badge bad\">exploited</span> " + bridges + ".";
  h += "</p>\n";

  std::string rows;
  for (std::size_t c = 0; c < model.ccps.size(); ++c) {
    const auto& e = st["ccps"][model.ccps[c].id];
    const double fails = e["fails"].get<double>(), principal = e["principal_lost"].get<double>();
    const double replacement = e["replacement_cost"].get<double>(), late = e["late_inflows"].get<double>();
    if (fails == 0.0 && principal == 0.0 && replacement == 0.0 && late == 0.0) continue;
    rows += fmt::format("<tr><td><strong>{}</strong></td><td>{}</td>", esc(model.ccps[c].id),
                        settlement_route(model, model.ccps[c]));
    rows += num_cell(fmt::format("{:g}", fails), fails) + num_cell(money(principal), principal) +
            num_cell(money(replacement), replacement) + num_cell(money(late), late) + "</tr>\n";
  }
  if (rows.empty()) {
    h += "<p>No settlement fails, losses or late VM gains at any CCP.</p>\n";
  } else {
    h += "<div class=\"tablewrap\"><table>\n<thead><tr><th>CCP</th><th>settlement</th><th class=\"num\">fails</th>"
         "<th class=\"num\">principal lost (USD)</th><th class=\"num\">replacement cost (USD)</th>"
         "<th class=\"num\">VM gains late (USD)</th></tr></thead>\n<tbody>\n" +
         rows + "</tbody></table></div>\n";
  }
  if (st.contains("days")) h += stress_settlement_days(model, st["days"]);
  const int delay_defaults = st["settlement_defaults"].get<int>();
  const double shortfall = stress["liquidity_shortfall"].get<double>();
  h += fmt::format(
      "<p><strong{}>Liquidity defaults caused by settlement delay: <span data-value=\"{}\">{}</span></strong> "
      "(members whose VM gains, settled in time, would have met their calls); liquidity shortfall of the members "
      "that defaulted for liquidity: <span{}>{}</span>.</p>\n",
      delay_defaults > 0 ? " class=\"fail\"" : "", delay_defaults, delay_defaults, exact_attr(shortfall),
      usd(shortfall));
  return h;
}
// A number of stress.json shown with three significant digits (a price, a
// quantity or a health factor), "&#8734;" for a health factor with no debt.
std::string json_plain(const nlohmann::ordered_json& x) {
  if (x.is_null()) return "&#8734;";
  return plain(x.get<double>(), 4);
}

// What the crypto venues and lending protocols did in one stress scenario
// (stress.json's venue_liquidations, waterfalls[].adl and lending): accounts
// their liquidation engines closed, the insurance fund round by round, the
// accounts auto-deleveraged in rank order, and the borrowers a protocol
// liquidated. Empty when none of it happened.
// In time steps an account or a round shows its day.
std::string venue_and_lending_blocks(const nlohmann::ordered_json& stress) {
  const auto on_day = [](const nlohmann::ordered_json& x) {
    return x.contains("day") ? fmt::format(" (day {})", plain(x["day"].get<double>())) : std::string();
  };
  std::string h;
  const auto& venue = stress["venue_liquidations"];
  if (!venue.empty()) {
    const bool days = venue[0].contains("day");
    h += "<h3>Liquidation engines</h3>\n<div class=\"tablewrap\"><table>\n<thead><tr><th>account</th><th>venue</th>";
    if (days) h += "<th class=\"num\">day</th>";
    h += "<th class=\"num\">margin</th><th class=\"num\">P&amp;L</th><th class=\"num\">maintenance margin</th>"
         "<th class=\"num\">impact cost</th><th class=\"num\">to the insurance fund</th>"
         "<th class=\"num\">shortfall</th><th class=\"num\">bankruptcy price</th>"
         "<th class=\"num\">execution price</th></tr></thead>\n<tbody>\n";
    for (const auto& l : venue) {
      const auto price = [](const nlohmann::ordered_json& x) {
        return x.get<double>() > 0.0 ? plain(x.get<double>(), 5) : std::string(kDash);
      };
      h += fmt::format(
          "<tr><td>{}</td><td>{}</td>{}<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
          "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
          "<td class=\"num\">{}</td></tr>\n",
          esc(l["account"].get<std::string>()), esc(l["ccp"].get<std::string>()),
          days ? fmt::format("<td class=\"num\">{}</td>", plain(l["day"].get<double>())) : std::string(),
          money(l["margin"].get<double>()), money(l["pnl"].get<double>()), money(l["maintenance_margin"].get<double>()),
          money(l["impact_cost"].get<double>()), money(l["surplus"].get<double>()), money(l["shortfall"].get<double>()),
          price(l["bankruptcy_price"]), price(l["execution_price"]));
    }
    h +=
        "</tbody></table></div>\n<p class=\"muted\">Accounts whose equity fell below their maintenance margin, closed "
        "in the market by the venue's liquidation engine: the trader loses its margin; what the close leaves above the "
        "bankruptcy price goes to the insurance fund, a shortfall below it is the fund's, then auto-deleveraging's. "
        "Prices for single-contract accounts.</p>\n";
  }
  std::string funds, adl;
  for (const auto& e : stress["waterfalls"]) {
    const auto& fund = e["insurance_fund"];
    if (fund["start"].get<double>() != 0.0 || fund["surpluses"].get<double>() != 0.0 ||
        fund["end"].get<double>() != 0.0)
      funds += fmt::format(
          "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
          "<td class=\"num\">{}</td></tr>\n",
          esc(e["ccp"].get<std::string>()), fmt::format("{}{}", e["round"].get<int>(), on_day(e)),
          money(fund["start"].get<double>()), money(fund["surpluses"].get<double>()), money(fund["end"].get<double>()));
    std::vector<nlohmann::ordered_json> ranked(e["adl"].begin(), e["adl"].end());
    std::stable_sort(ranked.begin(), ranked.end(), [](const auto& x, const auto& y) {
      return x["rank"].template get<int>() < y["rank"].template get<int>();
    });
    for (const auto& a : ranked) {
      const bool by_quantity = a["contracts"].get<double>() != 0.0;
      adl += fmt::format(
          "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td>"
          "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
          esc(e["ccp"].get<std::string>()), fmt::format("{}{}", e["round"].get<int>(), on_day(e)), a["rank"].get<int>(),
          esc(a["account"].get<std::string>()), plain(a["priority"].get<double>()),
          by_quantity ? plain(a["contracts"].get<double>(), 5) : std::string(kDash),
          by_quantity ? plain(a["price"].get<double>(), 5) : std::string("whole gain"),
          money(a["loss_vs_mark"].get<double>()));
    }
  }
  if (!funds.empty())
    h += "<h3>Insurance funds</h3>\n<div class=\"tablewrap\"><table class=\"narrow\">\n<thead><tr><th>venue</th>"
         "<th class=\"num\">round</th><th class=\"num\">before</th><th class=\"num\">liquidation surpluses</th>"
         "<th class=\"num\">after</th></tr></thead>\n<tbody>\n" +
         funds + "</tbody></table></div>\n";
  if (!adl.empty())
    h += "<h3>Auto-deleveraging</h3>\n<div class=\"tablewrap\"><table>\n<thead><tr><th>venue</th>"
         "<th class=\"num\">round</th><th class=\"num\">rank</th><th>account</th><th class=\"num\">ranking score"
         "</th><th class=\"num\">contracts closed</th><th class=\"num\">at price</th>"
         "<th class=\"num\">given up against the mark</th></tr></thead>\n<tbody>\n" +
         adl +
         "</tbody></table></div>\n<p class=\"muted\">Opposite positions closed when the insurance fund ran out, in "
         "rank order (ccps[].adl.ranking), each up to its size, at the bankruptcy price of the position they offset; "
         "a cross-margined account gives up its whole gain.</p>\n";
  std::string lending;
  for (const auto& l : stress["lending"])
    if (l["calls"].get<int>() > 0 || l["bad_debt"].get<double>() > 0.0 || l["closing_bad_debt"].get<double>() > 0.0)
      lending += fmt::format(
          "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
          "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
          "</tr>\n",
          esc(l["account"].get<std::string>()) + on_day(l), esc(l["ccp"].get<std::string>()), l["calls"].get<int>(),
          json_plain(l["health_factor_start"]), json_plain(l["health_factor_after"]),
          money(l["collateral_seized"].get<double>()), money(l["debt_repaid"].get<double>()),
          money(l["bad_debt"].get<double>()), money(l["closing_bad_debt"].get<double>()));
  if (!lending.empty())
    h += "<h3>Lending protocols</h3>\n<div class=\"tablewrap\"><table>\n<thead><tr><th>borrower</th>"
         "<th>protocol</th><th class=\"num\">liquidation calls</th><th class=\"num\">health factor before</th>"
         "<th class=\"num\">after</th><th class=\"num\">collateral seized</th><th class=\"num\">debt repaid</th>"
         "<th class=\"num\">bad debt</th><th class=\"num\">bad debt if closed</th></tr></thead>\n<tbody>\n" +
         lending +
         "</tbody></table></div>\n<p class=\"muted\">Borrowers the protocol liquidated along the scenario's path (each "
         "call up to the close factor, collateral seized with the liquidation bonus, values at execution), and the bad "
         "debt written off; the last column is what closing the rest would write off if the owner defaulted.</p>\n";
  return h;
}

// Overview: one row per stress scenario.
std::string stress_overview(const Model& model, const std::vector<StressOutcome>& outcomes,
                            const nlohmann::ordered_json& stresses, const std::string& scenario_file) {
  std::string h;
  h += "<section id=\"overview\"><h2>Overview</h2>\n<dl class=\"meta\">";
  h += fmt::format("<dt>Scenario</dt><dd>{}</dd><dt>Scenario file</dt><dd>{}</dd><dt>ccpnet version</dt><dd>{}</dd>",
                   esc(model.name), esc(scenario_file), CCPNET_VERSION);
  h += "</dl>\n<div class=\"tablewrap\"><table>\n<thead><tr><th>stress scenario</th><th>market move</th>"
       "<th class=\"num\">member defaults</th><th>CCP failures</th><th class=\"num\">cascade rounds</th>"
       "<th class=\"num\">close-out loss (USD)</th><th class=\"num\">borne by non-defaulters (USD)</th>"
       "<th class=\"num\">uncovered (USD)</th>";
  if (model.settlement_active) h += "<th class=\"num\">defaults from settlement delay</th>";
  h += "</tr></thead>\n<tbody>\n";
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const auto& o = outcomes[i];
    const ScenarioResult& r = o.result;
    std::string failed;
    for (std::size_t c = 0; c < model.ccps.size(); ++c)
      if (r.ccp_fail_round[c] >= 0) {
        const double shortfall = link_shortfall(stresses[i], model.ccps[c].id);
        failed += (failed.empty() ? "" : ", ") + esc(model.ccps[c].id) +
                  (shortfall > 0.0 ? fmt::format(" ({})", link_shortfall_text(shortfall)) : "");
      }
    h += fmt::format(
        "<tr{}><td><a href=\"#stress-{}\"><strong>{}</strong></a></td><td>{}</td><td class=\"num\">{}</td>"
        "<td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
        "<td class=\"num\">{}</td>{}</tr>\n",
        failed.empty() ? "" : " class=\"failrow\"", i + 1, esc(o.stress.name), moves_text(o.stress), r.defaults.size(),
        failed.empty() ? "none" : "<span class=\"fail\">" + failed + "</span>", r.rounds, money(r.closeout_loss),
        money(r.total_loss), money(r.uncovered),
        model.settlement_active
            ? fmt::format("<td class=\"num\">{}</td>", stresses[i]["settlement"]["settlement_defaults"].get<int>())
            : "");
  }
  h += "</tbody></table></div>\n</section>\n";

  return h;
}

// A stress scenario's heading, the banner of its failures and its headline numbers.
std::string stress_headline(const Model& model, const StressOutcome& o, const nlohmann::ordered_json& stress,
                            std::size_t i) {
  const ScenarioResult& r = o.result;
  const int failures = r.ccp_failures();
  std::string h;
  h += fmt::format("<section id=\"stress-{}\"><h2>Stress scenario {}: {}</h2>\n<p>{}</p>\n", i + 1, i + 1,
                   esc(o.stress.name), moves_text(o.stress));
  if (failures > 0) {
    std::string failed;
    for (std::size_t c = 0; c < model.ccps.size(); ++c)
      if (r.ccp_fail_round[c] >= 0) {
        const double shortfall = link_shortfall(stress, model.ccps[c].id);
        failed += fmt::format("{}{} (round {}{})", failed.empty() ? "" : ", ", esc(model.ccps[c].id),
                              r.ccp_fail_round[c], shortfall > 0.0 ? ": " + link_shortfall_text(shortfall) : "");
      }
    h += fmt::format("<div class=\"banner fail\"><strong>{} CCP{} fail{}:</strong> {}.</div>\n", failures,
                     failures == 1 ? "" : "s", failures == 1 ? "s" : "", failed);
  }
  h += "<div class=\"cards\">\n";
  h += card(grouped(static_cast<std::int64_t>(r.defaults.size())), "member defaults");
  h += card(std::to_string(failures), "CCP failures", failures > 0);
  h += card(std::to_string(r.rounds), "cascade rounds");
  h += card(usd(r.closeout_loss), "close-out loss of the defaulters");
  h += card(usd(r.total_loss), "borne by non-defaulters");
  h += card(usd(r.uncovered), "uncovered", r.uncovered >= 0.005);
  if (model.settlement_active) {
    const int delay_defaults = stress["settlement"]["settlement_defaults"].get<int>();
    h += card(std::to_string(delay_defaults), "liquidity defaults caused by settlement delay", delay_defaults > 0);
  }
  h += "</div>\n";

  return h;
}

// Member defaults and CCP failures, round by round, by cause.
std::string defaults_by_round(const Model& model, const ScenarioResult& r) {
  std::string h;
  // Defaults by round and cause.
  h += "<h3>Defaults by round and cause</h3>\n<div class=\"tablewrap\"><table>\n<thead><tr>"
       "<th class=\"num\">round</th>";
  for (int cause = 1; cause < kDefaultCauseCount; ++cause)
    h += fmt::format("<th class=\"num\">{}</th>", cause_name(static_cast<DefaultCause>(cause)));
  h += "<th>members defaulting</th><th>CCPs failing</th></tr></thead>\n<tbody>\n";
  bool any_row = false;
  for (int round = 0; round <= r.rounds; ++round) {
    std::array<int, kDefaultCauseCount> by_cause{};
    std::string names;
    int listed = 0, in_round = 0;
    for (const auto& d : r.defaults) {
      if (d.round != round) continue;
      ++by_cause[static_cast<std::size_t>(d.cause)];
      ++in_round;
      if (listed++ < 40)
        names += fmt::format("{}{} <span class=\"muted\">({})</span>", names.empty() ? "" : ", ",
                             esc(model.members[static_cast<std::size_t>(d.member)].id), cause_name(d.cause));
    }
    if (listed > 40) names += fmt::format(" and {} more", listed - 40);
    std::string failed;
    for (std::size_t c = 0; c < model.ccps.size(); ++c)
      if (r.ccp_fail_round[c] == round) failed += (failed.empty() ? "" : ", ") + esc(model.ccps[c].id);
    if (in_round == 0 && failed.empty()) continue;
    any_row = true;
    std::string cells;
    for (std::size_t cause = 1; cause < by_cause.size(); ++cause)
      cells += fmt::format("<td class=\"num\">{}</td>", by_cause[cause]);
    h += fmt::format("<tr{}><td class=\"num\">{}</td>{}<td>{}</td><td>{}</td></tr>\n",
                     failed.empty() ? "" : " class=\"failrow\"", round, cells, names.empty() ? "&#8211;" : names,
                     failed.empty() ? "&#8211;" : "<span class=\"fail\">" + failed + "</span>");
  }
  if (!any_row)
    h += fmt::format("<tr><td colspan=\"{}\">No member defaults and no CCP failures.</td></tr>\n",
                     kDefaultCauseCount + 2);
  h += "</tbody></table></div>\n";

  return h;
}

// One waterfall call (a CCP in a round) layer by layer, and its defaulters.
std::string waterfall_event(const Model& model, const StressOutcome& o, const WaterfallEvent& e) {
  const ScenarioResult& r = o.result;
  std::string h;
  const CcpModel& ccp = model.ccps[static_cast<std::size_t>(e.ccp)];
  double total = e.uncovered;
  for (double x : e.by_layer) total += x;
  // The failure is labelled on the waterfall whose layers ran out (an
  // uncovered loss in the CCP's failure round), by what ran them out:
  // its members' close-outs or losses over its links (as failure_text).
  const bool fails_here = r.ccp_fail_round[static_cast<std::size_t>(e.ccp)] == e.round && e.uncovered > 0.0;
  const std::string fail_label =
      e.link_losses ? "uncovered loss over its links: the CCP fails" : "uncovered loss: the CCP fails";
  h += fmt::format("<details{}><summary>{}, round {}{}{}</summary>\n",
                   fails_here || o.trace.events.size() <= 4 ? " open" : "", esc(ccp.id), e.round,
                   e.link_losses ? " (losses over its links)" : "",
                   fails_here ? " <span class=\"badge bad\">" + fail_label + "</span>" : "");
  h += "<div class=\"grid2\"><div class=\"tablewrap\"><table>\n<thead><tr><th>layer</th>"
       "<th class=\"num\">absorbed (USD)</th><th class=\"num\">share</th><th class=\"num\">cumulative</th>"
       "</tr></thead>\n<tbody>\n";
  double cumulative = 0.0;
  for (auto layer : e.link_losses ? link_loss_layers(ccp) : ccp.waterfall) {
    const auto l = static_cast<std::size_t>(layer);
    const double x = e.by_layer[l];
    cumulative += x;
    h += fmt::format(
        "<tr><td title=\"{}\">{}{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td "
        "class=\"num\">{}</td>"
        "</tr>\n",
        models::layer_name(layer), swatch(kLayerColour[l]), kLayerLabel[l], money(x),
        total > 0.0 ? pct(x / total) : "&#8211;", money(cumulative));
  }
  h += fmt::format(
      "<tr class=\"{}\"><td>{}{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
      "</tr>\n",
      fails_here ? "failrow total" : "total", swatch(kLayerColour[kUncovered]),
      fails_here ? "<span class=\"fail\">Uncovered: the CCP fails</span>" : "Uncovered", money(e.uncovered),
      total > 0.0 ? pct(e.uncovered / total) : "&#8211;", money(total));
  if (e.fails && (e.link_replacement != 0.0 || e.round_uncovered != e.uncovered)) {
    if (e.round_uncovered != e.uncovered)
      h += fmt::format(
          "<tr><td>uncovered in the round, with its other waterfall</td><td class=\"num\">{}</td><td></td>"
          "<td></td></tr>\n",
          money(e.round_uncovered));
    h += fmt::format(
        "<tr><td>+ replacing its link positions at the standing linked CCPs</td><td class=\"num\">{}</td>"
        "<td></td><td></td></tr>\n<tr class=\"total\"><td>= shortfall shared by its creditors</td>"
        "<td class=\"num\">{}</td><td></td><td></td></tr>\n",
        money(e.link_replacement), money(e.shortfall));
  }
  h += "</tbody></table></div>\n<div class=\"tablewrap\"><table>\n<thead><tr><th>defaulter</th>"
       "<th class=\"num\">close-out loss</th><th class=\"num\">own IM used</th><th class=\"num\">own DF used"
       "</th><th class=\"num\">left to mutual layers</th><th class=\"num\">returned to its estate</th></tr>"
       "</thead>\n<tbody>\n";
  for (const auto& d : e.defaulters)
    h += fmt::format(
        "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
        "<td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
        esc(line_name(model, d)), money(d.loss), money(d.im_used), money(d.df_used), money(d.residual),
        money(d.estate_return));
  h += "</tbody></table></div></div>\n</details>\n";
  return h;
}

// Stress scenario i: its story, section by section.
std::string stress_section(const Model& model, const StressOutcome& o, const nlohmann::ordered_json& stress,
                           std::size_t i, Ids& ids) {
  std::string h = stress_headline(model, o, stress, i) + defaults_by_round(model, o.result);
  if (model.settlement_active) h += stress_settlement(model, stress);
  bool through_links = false;
  const figures::BarChart bars = stress_waterfalls(model, o, stress, &through_links);
  h += figure(fmt::format("Waterfalls in stress scenario {}", i + 1), figures::stacked_bars(bars, ids),
              std::string("Loss absorbed by each layer of each CCP's waterfall over all rounds, in waterfall "
                          "order; the hatched red segment is what no layer covered (the CCP fails). Failed CCPs are "
                          "shaded red.") +
                  (through_links ? " A CCP marked (links) failed because its layers ran out on losses that came "
                                   "over its links (a failed peer's unpaid obligations, or charges by a peer's "
                                   "waterfall); what its layers left falls on its creditors."
                                 : ""));
  if (!o.trace.events.empty()) {
    h += "<h3>Waterfalls layer by layer</h3>\n";
    if (o.trace.events.size() > 4)
      h += "<p class=\"muted\">One waterfall per CCP and round; open one to read it layer by layer (those of "
           "failing CCPs are open).</p>\n";
    for (const auto& e : o.trace.events) h += waterfall_event(model, o, e);
  }
  h += venue_and_lending_blocks(stress);
  h += figure(fmt::format("Contagion network in stress scenario {}", i + 1),
              figures::network(stress_network(model, o, stress), ids),
              "Who defaults and how it spreads: defaulting members coloured by cause; an orange arrow shows a "
              "defaulter's book closed out at a CCP, a red arrow a failed CCP's link account closed out by a linked "
              "CCP. CCPs: red fails, orange used its waterfall and survived. Circle area grows with capital.");
  return h + "</section>\n";
}

// A page that tells stress scenarios' stories; `preface` (a section with id
// "reverse", or empty) comes first.
struct StressPage {
  std::string title, heading;
  std::string preface;
};

std::string stress_page(const Model& model, const std::vector<StressOutcome>& outcomes,
                        const std::string& scenario_file, const std::string& resolved_yaml, const StressPage& page) {
  const auto json = stress_json(model, outcomes);
  const auto& stresses = json["stress_scenarios"];
  Ids ids;
  std::string h =
      begin(page.title, page.heading,
            fmt::format("{} &#183; {} &#183; {} &#183; {}", plural(outcomes.size(), "deterministic stress scenario"),
                        plural(model.ccps.size(), "CCP"), plural(model.members.size(), "member"),
                        plural(model.links.size(), "link")));
  h += "<nav class=\"toc\">";
  if (!page.preface.empty()) h += "<a href=\"#reverse\">Reverse stress</a>";
  h += "<a href=\"#overview\">Overview</a>";
  for (std::size_t i = 0; i < outcomes.size(); ++i)
    h += fmt::format("<a href=\"#stress-{}\">{}</a>", i + 1, esc(outcomes[i].stress.name));
  h += "<a href=\"#scenario\">Scenario</a></nav>\n";
  h += page.preface + stress_overview(model, outcomes, stresses, scenario_file);
  for (std::size_t i = 0; i < outcomes.size(); ++i) h += stress_section(model, outcomes[i], stresses[i], i, ids);
  h += "<section id=\"scenario\"><h2>Scenario</h2>\n" + resolved_block(resolved_yaml) + "</section>\n";
  h += end("Deterministic stress scenarios: no random numbers are drawn.");
  return h;
}

}  // namespace

std::string stress_report(const Model& model, const std::vector<StressOutcome>& outcomes,
                          const std::string& scenario_file, const std::string& resolved_yaml) {
  return stress_page(model, outcomes, scenario_file, resolved_yaml,
                     {fmt::format("ccpnet stress report: {}", esc(model.name)),
                      fmt::format("Stress scenarios: {}", esc(model.name)),
                      {}});
}

namespace {

// A multiple or a radius, or "not reached" beyond the searched range.
std::string reached_text(const std::optional<double>& x, double beyond) {
  return x ? fmt::format("{:.4f}", *x) : fmt::format("&gt; {}", plain(beyond));
}

}  // namespace

std::string reverse_report(const Model& model, const ReverseResult& r, const std::string& scenario_file,
                           const std::string& resolved_yaml) {
  const CcpModel& ccp = model.ccps[static_cast<std::size_t>(r.ccp)];
  std::string h = fmt::format(
      "<section id=\"reverse\"><h2>Reverse stress of {}</h2>\n<p>Multiples k of the direction '{}' ({}): each "
      "asset's log-move times k. Bisection to a relative tolerance of {}, assuming losses grow with k; searched up to "
      "k = {}.</p>\n<div class=\"tablewrap\"><table class=\"narrow\">\n<thead><tr><th>layer</th>"
      "<th class=\"num\">first used at k</th><th class=\"num\">exhausted at k</th></tr></thead>\n<tbody>\n",
      esc(ccp.id), esc(r.direction.name), moves_text(r.direction), plain(r.tolerance), plain(r.max_multiple));
  for (const auto& t : r.layers)
    h += fmt::format("<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
                     esc(models::layer_name(t.layer)), reached_text(t.first_used, r.max_multiple),
                     reached_text(t.exhausted, r.max_multiple));
  h += fmt::format("</tbody></table></div>\n<p><strong>{}</strong></p>\n</section>\n",
                   r.failure ? fmt::format("{} fails at k = {:.4f}: the stress scenario below is that move.",
                                           esc(ccp.id), *r.failure)
                             : fmt::format("{} does not fail up to k = {}.", esc(ccp.id), plain(r.max_multiple)));
  std::vector<StressOutcome> outcomes;
  if (r.at_failure) outcomes.push_back(*r.at_failure);
  return stress_page(model, outcomes, scenario_file, resolved_yaml,
                     {fmt::format("ccpnet reverse stress report: {}", esc(ccp.id)),
                      fmt::format("Reverse stress: {} ({})", esc(ccp.id), esc(model.name)), h});
}

std::string reverse_search_report(const Model& model, const ReverseSearchResult& r, const std::string& scenario_file,
                                  const std::string& resolved_yaml) {
  const auto json = reverse_search_json(model, r);
  const CcpModel& ccp = model.ccps[static_cast<std::size_t>(r.ccp)];
  const std::string target = r.options.layer ? fmt::format("exhausts the {} layer of {}",
                                                           esc(models::layer_name(*r.options.layer)), esc(ccp.id))
                                             : fmt::format("makes {} fail", esc(ccp.id));
  std::string h = fmt::format(
      "<section id=\"reverse\"><h2>The most plausible move that {}</h2>\n<p>Plausibility is the size of the move "
      "in standard deviations of the scenarios' log-returns over the MPOR of {} days (the Mahalanobis norm, with the "
      "scenarios' volatilities and correlation): the reliability index of Hasofer and Lind (1974), as Breuer et al. "
      "(2009) use it for stress scenarios. FORM &#934;(&#8722;r) reads a radius r as a first-order probability under "
      "Gaussian moves, not an estimate. Searched: {} directions (stress scenarios, each asset alone, the moves most "
      "likely to hurt the largest books and pairs of them) up to {} standard deviations, then a pattern search from "
      "the closest; {} scenarios run. Along each direction the radius is found by bisection, assuming losses grow "
      "with it.</p>\n<div class=\"tablewrap\"><table>\n<thead><tr><th>direction</th><th>family</th>"
      "<th class=\"num\">radius (sd)</th><th class=\"num\">FORM</th><th>largest moves at the radius</th></tr>"
      "</thead>\n<tbody>\n",
      target, plain(r.days), grouped(static_cast<std::int64_t>(r.directions.size())), plain(r.options.max_radius),
      grouped(r.evaluations));
  for (const auto& d : json["directions"]) {
    if (d["radius"].is_null()) continue;
    std::vector<std::pair<double, std::string>> moves;
    for (const auto& [id, m] : d["moves"].items()) moves.emplace_back(m.get<double>(), id);
    std::stable_sort(moves.begin(), moves.end(),
                     [](const auto& a, const auto& b) { return std::abs(a.first) > std::abs(b.first); });
    std::vector<std::string> shown;
    for (std::size_t k = 0; k < std::min<std::size_t>(moves.size(), 4); ++k)
      shown.push_back(
          fmt::format("{} {}{}", esc(moves[k].second), moves[k].first > 0.0 ? "+" : "", pct(moves[k].first)));
    h += fmt::format(
        "<tr><td>{}</td><td>{}</td><td class=\"num\">{:.4f}</td><td class=\"num\">{:.3g}</td><td>{}</td></tr>\n",
        esc(d["name"].get<std::string>()), esc(d["family"].get<std::string>()), d["radius"].get<double>(),
        d["form_probability"].get<double>(), fmt::join(shown, ", "));
  }
  h += "</tbody></table></div>\n";
  std::size_t unreached = 0;
  for (const auto& d : r.directions) unreached += d.radius ? 0 : 1;
  if (unreached > 0)
    h += fmt::format("<p class=\"muted\">{} not reaching it within {} standard deviations are not listed.</p>\n",
                     plural(unreached, "direction"), plain(r.options.max_radius));
  h += r.at_design_point ? std::string("<p>The stress scenario below is the move of the first row.</p>\n")
                         : fmt::format(
                               "<p><strong>No direction searched {} within {} standard deviations.</strong>"
                               "</p>\n",
                               target, plain(r.options.max_radius));
  h += "</section>\n";
  std::vector<StressOutcome> outcomes;
  if (r.at_design_point) outcomes.push_back(*r.at_design_point);
  return stress_page(model, outcomes, scenario_file, resolved_yaml,
                     {fmt::format("ccpnet reverse stress report: {}", esc(ccp.id)),
                      fmt::format("Reverse stress: {} ({})", esc(ccp.id), esc(model.name)), h});
}
}  // namespace ccpnet
