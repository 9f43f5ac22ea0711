// report.html of `ccpnet run --report` (see sim/report.hpp): the page's
// sections, in order, and the tables that fill them; the figures come from
// sim/report_figures.hpp.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <variant>

#include "sim/config/field.hpp"
#include "sim/config/schema.hpp"
#include "sim/graph.hpp"
#include "sim/metrics.hpp"
#include "sim/model.hpp"
#include "sim/output.hpp"
#include "sim/report.hpp"
#include "sim/report_figures.hpp"
#include "sim/report_page.hpp"
#include "sim/runner.hpp"

namespace ccpnet {

namespace {

using namespace page;  // the vocabulary of the pages: money, pct, card, figure, ...
using figures::BarRow;
using figures::BarSeries;
using figures::Ids;
using figures::kLayerColour;
using figures::kLayerLabel;
using figures::kUncovered;
using models::kLayerCount;
using models::Layer;

// ---------------------------------------------------------------------------
// Layer helpers.

std::vector<std::size_t> layer_union(const Model& model) {
  std::set<std::size_t> used;
  for (const auto& c : model.ccps)
    for (auto layer : ledger_layers(c)) used.insert(static_cast<std::size_t>(layer));
  return {used.begin(), used.end()};
}

bool in_waterfall(const CcpModel& ccp, std::size_t layer) {
  const auto layers = ledger_layers(ccp);
  return std::find(layers.begin(), layers.end(), static_cast<Layer>(layer)) != layers.end();
}

double ccp_initial_margin(const Model& model, const CcpModel& ccp) {
  double im = 0.0;
  for (int a : ccp.accounts) im += model.accounts[static_cast<std::size_t>(a)].initial_margin;
  return im;
}
const std::vector<double>& numbers_of(const Table& table, std::string_view name) { return table.numbers(name); }
const std::vector<std::string>& text_of(const Table& table, std::string_view name) {
  return std::get<std::vector<std::string>>(table.column(name));
}
// The settlement amounts per CCP, for the bars.
const std::vector<BarSeries>& settlement_series() {
  static const std::vector<BarSeries> series = {
      {"#8c2d04", "Principal lost", false, false},
      {"#e69f00", "Replacement cost", false, true},
      {"#4a7fb5", "VM gains settled late", false, false},
  };
  return series;
}

// The settlement section's headline numbers (summary.json's settlement).
std::string settlement_cards(const Model& model, const RunResult& result) {
  const auto summary = summary_json(model, result);
  const auto& st = summary["settlement"];
  const auto value = [](const nlohmann::ordered_json& j, const char* key) { return j[key].get<double>(); };

  std::string h =
      "<p>Payments and deliveries settle on chains whose time to finality is random, stretched when the market "
      "falls far enough (congestion) and by halts; bridges between chains can be exploited. Variation margin a "
      "member receives counts toward its liquidity only when it is final before the member's earliest payment "
      "deadline: a member that would have met its calls with it defaults for liquidity. Fails cost the principal "
      "in flight (free of payment, bridges, collateral held through a bridge) or the replacement of the "
      "deliveries of an aborted swap (atomic).</p>\n<div class=\"cards\">\n";
  const double delay_defaults = value(st, "mean_settlement_defaults");
  const double shortfall = value(summary["system"], "mean_liquidity_shortfall");
  h += card(plain(delay_defaults), "liquidity defaults caused by settlement delay, mean per scenario",
            delay_defaults > 0.0, "members that VM gains settled in time would have kept solvent in cash",
            delay_defaults);
  h += card(usd(shortfall), "liquidity shortfall, mean per scenario", false,
            "cash missing of the members that defaulted for liquidity, whatever the cause", shortfall);
  h += card(plain(value(st, "mean_fails")), "settlement fails, mean per scenario", false, {}, value(st, "mean_fails"));
  h += card(usd(value(st, "mean_principal_lost")), "principal lost, mean per scenario", false, {},
            value(st, "mean_principal_lost"));
  h += card(usd(value(st, "mean_replacement_cost")), "replacement cost, mean per scenario", false, {},
            value(st, "mean_replacement_cost"));
  h += card(usd(value(st, "mean_late_inflows")), "VM gains settled late, mean per scenario", false,
            "paid, but after the receiver's deadline: a liquidity drain, not a loss", value(st, "mean_late_inflows"));
  h += card(usd(value(st, "mean_margin_calls")), "margin called in the scenario, mean", false,
            "IM raised on the updated volatility (margin spiral), collateral top-ups, re-posted collateral",
            value(st, "mean_margin_calls"));
  h += "</div>\n";
  return h;
}

// Per chain: calibrated and realised finality, congestion, halts, fails (chains.csv).
std::string chains_table(const Model& model, const Aggregate& agg) {
  if (model.chains.empty()) return {};
  const Table chains = chain_table(model, agg);
  std::string h;
  {
    const auto& calm = numbers_of(chains, "calm_mean_hours");
    const auto& challenge = numbers_of(chains, "challenge_hours");
    const auto& realised = numbers_of(chains, "mean_finality_hours");
    const auto& congested = numbers_of(chains, "p_congested");
    const auto& halted = numbers_of(chains, "p_halted");
    const auto& fails = numbers_of(chains, "mean_fails");
    const auto& loss = numbers_of(chains, "mean_loss");
    const auto& late = numbers_of(chains, "mean_late_inflows");
    const auto& family = text_of(chains, "distribution");
    const bool any_challenge = std::any_of(challenge.begin(), challenge.end(), [](double x) { return x > 0.0; });
    h += "<h3>Chains</h3>\n<div class=\"tablewrap\"><table>\n<thead><tr><th>chain</th>"
         "<th class=\"num\">calibrated mean finality</th>";
    if (any_challenge) h += "<th class=\"num\">challenge period</th>";
    h += "<th class=\"num\">realised mean finality</th><th class=\"num\">P(congested)</th>"
         "<th class=\"num\">P(halted)</th><th class=\"num\">fails, mean</th><th class=\"num\">loss, mean (USD)</th>"
         "<th class=\"num\">VM gains late, mean (USD)</th></tr></thead>\n<tbody>\n";
    for (std::size_t k = 0; k < model.chains.size(); ++k) {
      const ChainModel& chain = model.chains[k];
      std::string stress;
      if (chain.congests)
        stress += fmt::format("&#215;{:g} when its assets fall {:g}% or more", chain.congestion_multiplier,
                              100.0 * chain.congestion_drop);
      if (chain.halt_probability > 0.0)
        stress += fmt::format("{}halts in {} of scenarios, for {}", stress.empty() ? "" : "; ",
                              pct(chain.halt_probability), hours(chain.halt_hours));
      h += fmt::format("<tr><td><strong>{}</strong><br><span class=\"muted\">{}{}{}</span></td>{}", esc(chain.id),
                       esc(family[k]), stress.empty() ? "" : "; ", stress, num_cell(hours(calm[k]), calm[k]));
      if (any_challenge) h += num_cell(challenge[k] > 0.0 ? hours(challenge[k]) : kDash, challenge[k]);
      h += num_cell(hours(realised[k]), realised[k]) + num_cell(pct(congested[k]), congested[k]) +
           num_cell(pct(halted[k]), halted[k]) + num_cell(plain(fails[k]), fails[k]) +
           num_cell(money(loss[k]), loss[k]) + num_cell(money(late[k]), late[k]) + "</tr>\n";
    }
    h += "</tbody></table></div>\n<p class=\"muted\">Calibrated: the mean time to finality of the chain's "
         "distribution in a calm market. Realised: the mean over the scenarios, congestion and halts included. "
         "Fails and losses: the deliveries and payments on the chain that failed, and what they cost (principal "
         "lost and replacement costs). VM gains late: variation margin paid on the chain after the receiver's "
         "deadline.</p>\n";
  }
  return h;
}

// Per bridge: who uses it, its exploit probability and what it cost (bridges.csv).
std::string bridges_table(const Model& model, const Aggregate& agg) {
  if (model.bridges.empty()) return {};
  const Table bridges = bridge_table(model, agg);
  std::string h;
  {
    const auto& p = numbers_of(bridges, "exploit_probability");
    const auto& realised = numbers_of(bridges, "p_exploited");
    const auto& loss = numbers_of(bridges, "mean_loss");
    h += "<h3>Bridges</h3>\n<div class=\"tablewrap\"><table>\n<thead><tr><th>bridge</th><th>used by</th>"
         "<th class=\"num\">recovery</th><th class=\"num\">delay</th><th class=\"num\">exploit probability</th>"
         "<th class=\"num\">realised P(exploited)</th><th class=\"num\">loss, mean (USD)</th></tr></thead>\n"
         "<tbody>\n";
    for (std::size_t b = 0; b < model.bridges.size(); ++b) {
      const BridgeModel& bridge = model.bridges[b];
      std::string users;
      for (const auto& ccp : model.ccps) {
        const bool vm = ccp.settlement.bridge == static_cast<int>(b);
        const bool custody = ccp.settlement.custody_bridge == static_cast<int>(b);
        if (!vm && !custody) continue;
        users += fmt::format("{}{} ({})", users.empty() ? "" : ", ", esc(ccp.id),
                             vm && custody ? "settlement and custody"
                             : vm          ? "settlement"
                                           : "custody");
      }
      h += fmt::format("<tr><td><strong>{}</strong></td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>",
                       esc(bridge.id), users.empty() ? kDash : users, pct(bridge.recovery_rate),
                       hours(bridge.delay_hours));
      h += num_cell(pct(p[b]), p[b]) + num_cell(pct(realised[b]), realised[b]) + num_cell(money(loss[b]), loss[b]) +
           "</tr>\n";
    }
    h += "</tbody></table></div>\n<p class=\"muted\">Exploit probability: per scenario, as calibrated; realised: "
         "the share of scenarios where the bridge was exploited. Loss: what its users lost through it (VM gains and "
         "deliveries in flight, collateral held through it), less the recovery.</p>\n";
  }
  return h;
}

// Per CCP: how it settles, its settlement fails and losses (ccps.csv), and
// the bars of its settlement losses and late VM gains.
std::string settlement_ccps(const Model& model, const Aggregate& agg, Ids& ids) {
  const Table ccps = ccp_table(model, agg);
  std::string h;
  const auto& fails = numbers_of(ccps, "mean_settlement_fails");
  const auto& principal = numbers_of(ccps, "mean_principal_lost");
  const auto& replacement = numbers_of(ccps, "mean_replacement_cost");
  const auto& late = numbers_of(ccps, "mean_late_inflows");
  const auto& calls = numbers_of(ccps, "mean_margin_calls");
  h += "<h3>CCPs</h3>\n<div class=\"tablewrap\"><table>\n<thead><tr><th>CCP</th><th>settlement</th>"
       "<th>custody of collateral</th><th class=\"num\">VM deadline</th><th class=\"num\">fails, mean</th>"
       "<th class=\"num\">principal lost, mean (USD)</th><th class=\"num\">replacement cost, mean (USD)</th>"
       "<th class=\"num\">VM gains late, mean (USD)</th><th class=\"num\">margin called, mean (USD)</th>"
       "</tr></thead>\n<tbody>\n";
  std::vector<BarRow> rows;
  for (std::size_t c = 0; c < model.ccps.size(); ++c) {
    const CcpModel& ccp = model.ccps[c];
    h += fmt::format("<tr><td><strong>{}</strong></td><td>{}</td><td>{}</td><td class=\"num\">{}</td>", esc(ccp.id),
                     settlement_route(model, ccp), custody_text(model, ccp), hours(ccp.settlement.deadline_hours));
    h += num_cell(plain(fails[c]), fails[c]) + num_cell(money(principal[c]), principal[c]) +
         num_cell(money(replacement[c]), replacement[c]) + num_cell(money(late[c]), late[c]) +
         num_cell(money(calls[c]), calls[c]) + "</tr>\n";
    if (ccp.settlement.mode == config::SettlementMode::kInstant && ccp.settlement.custody_bridge < 0) continue;
    BarRow losses;
    losses.label = esc(ccp.id);
    losses.sublabel = "settlement losses";
    losses.segments = {{0, principal[c]}, {1, replacement[c]}};
    BarRow inflows;
    inflows.sublabel = "VM gains settled late";
    inflows.segments = {{2, late[c]}};
    rows.push_back(std::move(losses));
    rows.push_back(std::move(inflows));
  }
  h += "</tbody></table></div>\n<p class=\"muted\">Settlement: how the CCP's variation margin and deliveries "
       "settle (instant, atomic swap, free of payment, cross-chain through a bridge, optimistic rollup) and on which "
       "chain. "
       "Custody: where the members' margin and fund contributions are held. VM deadline: when the CCP's calls are "
       "due. Principal lost includes collateral lost through a custody bridge. Margin called: IM called in the "
       "scenario (a margin spiral on updated volatility, top-ups of collateral posted in a falling asset, collateral "
       "re-posted after a custody loss), due in cash.</p>\n";
  if (!rows.empty())
    h += figure("Settlement losses and late VM gains per CCP",
                figures::stacked_bars({settlement_series(), rows,
                                       "Mean settlement losses and mean VM gains settled late per scenario, per CCP",
                                       "mean per scenario (USD)", "none", "the bar", false},
                                      ids),
                "For each CCP that does not settle instantly (or holds collateral through a bridge): the mean "
                "principal lost and replacement cost of settlement fails per scenario, and below it the mean VM "
                "gains its members received after their deadline. Late VM gains are paid in the end: they are "
                "not a loss, but they were missing when the members' calls were due.",
                "fig-settlement");
  return h;
}

std::string run_settlement_section(const Model& model, const RunResult& result, Ids& ids) {
  return "<section id=\"settlement\"><h2>Settlement</h2>\n" + settlement_cards(model, result) +
         chains_table(model, result.aggregate) + bridges_table(model, result.aggregate) +
         settlement_ccps(model, result.aggregate, ids) + "</section>\n";
}

// The methodology of a run, generated from the model: what ccpnet computed
// with which formula and which inputs, and what it does not model, in words a
// risk committee can read.
std::string methodology_section(const Model& model) {
  std::string h = "<section id=\"methodology\"><h2>Methodology</h2>\n";
  std::string market;
  if (model.history_mode) {
    market = fmt::format(
        "Market moves {} the price history of the scenario ({} daily returns), cumulated over each "
        "CCP's margin period of risk (MPOR).",
        *model.history_mode == config::HistoryMode::kReplay ? "replay windows of" : "resample days (bootstrap) of",
        model.history_log_returns.rows());
  } else {
    market = fmt::format(
        "Market moves: daily log-returns r = &#963; (L z){} over {} asset{}, L the Cholesky factor of their "
        "correlation, {}volatilities scaled by {}; returns add up over each CCP's margin period of risk (MPOR).",
        model.shocks.student_t
            ? fmt::format(
                  " &#8730;((&#957;-2)/W), a Student-t with &#957; = {} degrees of freedom, W ~ &#967;&#178;(&#957;)",
                  plain(model.shocks.dof))
            : " with z standard normal",
        model.assets.size(), model.assets.size() == 1 ? "" : "s",
        model.shocks.jumps ? "market-wide jumps (Poisson count, normal size) added, " : "",
        plain(model.shocks.volatility_multiplier));
  }
  h += "<p>" + market + "</p>\n";
  h += "<div class=\"tablewrap\"><table>\n<thead><tr><th>CCP</th><th>initial margin</th><th>default fund</th>"
       "<th>fund set by</th><th>skin in the game</th><th>waterfall, in order</th></tr></thead>\n<tbody>\n";
  for (const CcpModel& ccp : model.ccps) {
    int moves = 0;
    std::vector<std::string> families;
    for (const auto& [family, count] : ccp.stress_families) {
      moves += count;
      if (count > 0) families.push_back(fmt::format("{} {}", count, family));
    }
    std::vector<std::string> layers;
    for (const auto layer : ccp.waterfall) layers.push_back(esc(models::layer_name(layer)));
    const bool has_fund = in_waterfall(ccp, static_cast<std::size_t>(models::Layer::kDefaulterDf)) ||
                          in_waterfall(ccp, static_cast<std::size_t>(models::Layer::kMutualizedDf));
    h += fmt::format(
        "<tr><td><strong>{}</strong></td><td>{}, MPOR {} day{}</td><td class=\"num\">{}</td>"
        "<td>{}{} required over {} stress moves ({}): {}{}</td><td>{}: {}</td><td>{}{}</td></tr>\n",
        esc(ccp.id), esc(ccp.margin_model), plain(ccp.mpor_days), ccp.mpor_days == 1.0 ? "" : "s",
        money(ccp.default_fund), has_fund ? "" : "no default fund in its waterfall; ", usd(ccp.stress_fund), moves,
        esc(fmt::format("{}", fmt::join(families, ", "))), esc(ccp.stress_scenario),
        ccp.stress_groups.empty() ? std::string()
                                  : esc(fmt::format(" (groups {})", fmt::join(ccp.stress_groups, ", "))),
        money(ccp.sitg), esc(ccp.sitg_rule), fmt::format("{}", fmt::join(layers, " &#8594; ")),
        ccp.link_losses == config::LinkLossRule::kOwnCapital
            ? "; link losses: the link's margin and fund, SITG and capital only"
            : "");
  }
  h += "</tbody></table></div>\n";
  h += "<h3>Formulas</h3>\n<ul class=\"defaults\">\n"
       "<li>Parametric initial margin: IM = q<sub>&#945;</sub> &#8730;h &#8730;(v&#8242; &#931;<sub>d</sub> v), v the "
       "position values, &#931;<sub>d</sub> the daily covariance, h the MPOR in days.</li>\n"
       "<li>Default fund, Cover-2 (EMIR art. 42(3), 43(2)): the largest over the stress set of max(U<sub>1</sub>, "
       "U<sub>2</sub> + U<sub>3</sub>, U<sub>1</sub> + U<sub>2</sub> &#8722; SITG), U<sub>k</sub> the k-th largest "
       "uncovered stress loss (stress loss plus liquidation cost minus IM, floored at 0) of a default group; the Bank "
       "of England variant where chosen.</li>\n"
       "<li>Stress set (RTS 153/2013 art. 30): every asset up and down by k daily standard deviations &#215; "
       "&#8730;h; the file's named moves; each asset alone up and down; spread moves, each pair of assets apart by k "
       "standard deviations under a broken correlation; every window of the price history when there is one.</li>\n"
       "<li>Skin in the game: as given, or 25% of the minimum capital (RTS 153/2013 art. 35).</li>\n"
       "<li>Close-out loss of a defaulter: minus its P&amp;L over the MPOR plus the liquidation cost k |x| "
       "&#8730;(|x| / ADV) per asset; the waterfall layers absorb it in the order above, and a loss left after "
       "the last layer fails the CCP.</li>\n"
       "<li>Cascade: rounds of close-outs, waterfalls, CCP failures over links and member solvency and liquidity "
       "checks until nothing changes.</li>\n</ul>\n";
  h += "<h3>Not modelled</h3>\n<ul class=\"defaults\">\n"
       "<li>The CCPs' operational, legal, investment and business risks (capital enters only as loss-absorbing "
       "layers).</li>\n<li>Currencies: every amount is in one reporting currency (USD).</li>\n"
       "<li>Trading during the MPOR: positions are those of the scenario file until closed out.</li>\n"
       "<li>What the scenario file does not state (for a scenario built by <code>ccpnet calibrate</code>: the "
       "assumptions listed in its comments).</li>\n</ul>\n</section>\n";
  return h;
}

// Default management (ccps[].auction, ccps[].recovery): per CCP that runs
// it, what its auctions cost and left unplaced and what each recovery tool
// covered, mean per scenario with its 95% interval, and how often (Wilson).
std::string default_management_section(const Model& model, const Aggregate& agg) {
  if (!model.default_management) return {};
  const ChunkSums& t = agg.totals();
  const std::int64_t count = t.count;
  const double n = std::max<double>(1.0, static_cast<double>(count));
  std::string h =
      "<h3>Default management and recovery tools</h3>\n<div class=\"tablewrap\"><table>\n<thead><tr><th>CCP</th>"
      "<th>item</th><th class=\"num\">mean per scenario</th><th class=\"num\">P(used)</th></tr></thead>\n<tbody>\n";
  for (std::size_t c = 0; c < model.ccps.size(); ++c) {
    const CcpModel& ccp = model.ccps[c];
    if (!ccp.auction && ccp.recovery.empty()) continue;
    for (std::size_t i = 0; i < kDefaultManagementItems; ++i) {
      const bool tool = i < models::kRecoveryToolCount;
      if (tool && std::find(ccp.recovery.begin(), ccp.recovery.end(), static_cast<models::RecoveryTool>(i)) ==
                      ccp.recovery.end())
        continue;
      if (!tool && !ccp.auction) continue;
      const std::size_t k = c * kDefaultManagementItems + i;
      const std::int64_t used = t.ccp_recovery_used[k];
      h += fmt::format(
          "<tr><td><strong>{}</strong></td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
          esc(ccp.id), esc(default_management_item_name(i)),
          with_interval(money(t.ccp_recovery[k] / n), metric_estimate(t, "ccp_recovery", k).interval, false),
          with_interval(pct(static_cast<double>(used) / n), models::stats::wilson(used, count), true));
    }
  }
  return h +
         "</tbody></table></div>\n<p class=\"muted\">Amounts in USD. auction_cost: the hedging and auction "
         "discount of the defaulters' portfolios (in place of the square-root liquidation cost); unplaced_value: "
         "what the auctions did not sell at the reserve price; cash_call, tear_up, forced_allocation: what each "
         "recovery tool covered after the CCP's last layer, in the rulebook's order. A CCP fails only when its "
         "tools are exhausted.</p>\n";
}

// Members shown in each table of the largest contributors.
constexpr std::size_t kContributorsShown = 20;

struct MemberFigures {
  std::size_t member = 0;
  std::int64_t defaults = 0;    // scenarios in which it defaulted
  double loss = 0.0;            // expected loss borne as a survivor or creditor (all its CCPs)
  double own_collateral = 0.0;  // expected own IM and DF used for its close-outs
};

std::vector<MemberFigures> member_figures(const Model& model, const Aggregate& agg, double n) {
  const ChunkSums& t = agg.totals();
  std::vector<MemberFigures> out(model.members.size());
  for (std::size_t m = 0; m < model.members.size(); ++m) {
    MemberFigures& f = out[m];
    f.member = m;
    for (int cause = 1; cause < kDefaultCauseCount; ++cause)
      f.defaults += t.member_defaults_by_cause[m * kDefaultCauseCount + static_cast<std::size_t>(cause)];
    for (int a : model.members[m].accounts)
      for (int k = 0; k < kLossChannelCount; ++k) {
        const auto channel = static_cast<LossChannel>(k);
        const double v = agg.account_loss(static_cast<std::size_t>(a), channel) / n;
        (channel == LossChannel::kOwnIm || channel == LossChannel::kOwnDf ? f.own_collateral : f.loss) += v;
      }
  }
  return out;
}

// The members who bear the most loss and those most likely to default, at
// any size of the system (members.csv has every membership), and what
// crossed each link.
std::string contributors_section(const Model& model, const Aggregate& agg, const SystemGraph& graph) {
  if (model.members.empty()) return {};
  const ChunkSums& t = agg.totals();
  const std::int64_t count = t.count;
  const double n = std::max<double>(1.0, static_cast<double>(count));
  std::vector<MemberFigures> figures = member_figures(model, agg, n);
  const std::size_t shown = std::min(kContributorsShown, figures.size());
  const std::string scope = shown < figures.size()
                                ? fmt::format("The {} largest of {} members; members.csv lists every membership.",
                                              shown, grouped(static_cast<std::int64_t>(figures.size())))
                                : fmt::format("All {}.", plural(figures.size(), "member"));
  const auto member_row = [&](const MemberFigures& f) {
    const MemberModel& mem = model.members[f.member];
    return fmt::format(
        "<tr><td><strong>{}</strong></td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
        "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
        esc(mem.id), ccp_list(model, graph.ccps_of(static_cast<int>(f.member))), money(mem.capital), money(f.loss),
        t.total_loss > 0.0 ? pct(f.loss * n / t.total_loss) : kDash,
        with_interval(pct(static_cast<double>(f.defaults) / n), models::stats::wilson(f.defaults, count), true),
        money(f.own_collateral));
  };
  const std::string head =
      "<div class=\"tablewrap\"><table>\n<thead><tr><th>member</th><th>clears at</th><th class=\"num\">capital</th>"
      "<th class=\"num\">expected loss borne</th><th class=\"num\">share of total loss</th>"
      "<th class=\"num\">P(default)</th><th class=\"num\">own collateral used, mean</th></tr></thead>\n<tbody>\n";
  std::string h = "<section id=\"members\"><h2>Largest contributors</h2>\n";
  // Ties broken by member index, so that the page is the same for any run order.
  std::stable_sort(figures.begin(), figures.end(),
                   [](const MemberFigures& a, const MemberFigures& b) { return a.loss > b.loss; });
  h += "<h3>Members bearing the most loss</h3>\n" + head;
  for (std::size_t i = 0; i < shown; ++i) h += member_row(figures[i]);
  h += "</tbody></table></div>\n";
  std::stable_sort(figures.begin(), figures.end(),
                   [](const MemberFigures& a, const MemberFigures& b) { return a.defaults > b.defaults; });
  h += "<h3>Members most likely to default</h3>\n" + head;
  for (std::size_t i = 0; i < shown; ++i) h += member_row(figures[i]);
  h += "</tbody></table></div>\n";
  h += fmt::format(
      "<p class=\"muted\">{} Amounts in USD, means per scenario. Loss borne: what the member lost as a survivor "
      "(default-fund contributions consumed, assessments, VM gains haircut, gains taken by ADL, lent balances "
      "written down) and as a creditor of a failed CCP (VM not paid, margin and fund lost), at all its CCPs; its "
      "share of the expected total loss. Own collateral used: its initial margin and fund contribution spent on its "
      "own close-outs when it defaulted. P(default) with its 95% Wilson interval; the expected losses are exact "
      "sums over the scenarios (no interval: the run keeps no per-member second moments).</p>\n",
      scope);
  if (!model.links.empty()) {
    h += "<h3>Links</h3>\n<div class=\"tablewrap\"><table>\n<thead><tr><th>link</th><th>model</th>"
         "<th class=\"num\">margin held by the first</th><th class=\"num\">margin held by the second</th>"
         "<th class=\"num\">link fund</th></tr></thead>\n<tbody>\n";
    for (const LinkModel& l : model.links) {
      const auto im = [&](int account) {
        return account >= 0 ? money(model.accounts[static_cast<std::size_t>(account)].initial_margin)
                            : std::string(kDash);
      };
      h += fmt::format(
          "<tr><td>{} &#8596; {}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
          "<td class=\"num\">{}</td></tr>\n",
          esc(model.ccps[static_cast<std::size_t>(l.first)].id), esc(model.ccps[static_cast<std::size_t>(l.second)].id),
          esc(config::enum_name(l.model)), im(l.account_at_first), im(l.account_at_second), money(l.link_fund));
    }
    h += "</tbody></table></div>\n<p class=\"muted\">Margin each CCP holds from the other on the link (the "
         "participant model: the host holds the participant's margin; the participant holds none). What crossed "
         "the links in the run, per CCP, is the column \"link losses received\" of the CCP table.</p>\n";
  }
  return h + "</section>\n";
}

// The inputs a committee checks the run against: the market, each CCP's
// resources and the members, as the model holds them (after defaults and
// sizing).
std::string inputs_section(const Model& model) {
  std::string h = "<section id=\"inputs\"><h2>Inputs</h2>\n";
  h += fmt::format(
      "<dl class=\"meta\"><dt>Scenarios</dt><dd>{}</dd><dt>Seed</dt><dd>{}</dd><dt>Margin periods of risk</dt>"
      "<dd>{} days</dd><dt>Time steps</dt><dd>{}</dd></dl>\n",
      grouped(model.scenarios), model.seed, fmt::format("{}", fmt::join(model.horizons, ", ")),
      model.steps.count > 0 ? fmt::format("{} steps of {} days{}", model.steps.count, plain(model.steps.days),
                                          model.fire_sales ? ", fire sales" : "")
                            : std::string("one period (each CCP's MPOR)"));
  h += "<h3>Market</h3>\n<div class=\"tablewrap\"><table>\n<thead><tr><th>asset</th><th class=\"num\">price</th>"
       "<th class=\"num\">daily volatility</th><th class=\"num\">average daily volume</th>"
       "<th class=\"num\">liquidation cost k</th></tr></thead>\n<tbody>\n";
  for (const AssetModel& a : model.assets)
    h += fmt::format(
        "<tr><td>{}</td><td class=\"num\"{}>{}</td><td class=\"num\"{}>{}</td><td class=\"num\">{}</td>"
        "<td class=\"num\">{}</td></tr>\n",
        esc(a.id), exact_attr(a.price), plain(a.price, 4), exact_attr(a.daily_vol), pct(a.daily_vol), money(a.adv),
        plain(a.liquidation_k));
  h += "</tbody></table></div>\n";
  h += "<h3>CCPs</h3>\n<div class=\"tablewrap\"><table>\n<thead><tr><th>CCP</th><th>kind</th>"
       "<th class=\"num\">members</th><th class=\"num\">initial margin</th><th class=\"num\">default fund</th>"
       "<th class=\"num\">skin in the game</th><th class=\"num\">capital</th><th class=\"num\">insurance fund</th>"
       "<th class=\"num\">assessments</th><th>initial margin</th></tr></thead>\n<tbody>\n";
  for (const CcpModel& ccp : model.ccps) {
    std::size_t members = 0;
    for (int a : ccp.accounts)
      members += model.accounts[static_cast<std::size_t>(a)].kind == AccountKind::kMember ? 1 : 0;
    h += fmt::format(
        "<tr><td><strong>{}</strong></td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
        "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
        "<td class=\"num\">{} &#215; DF</td><td>{}{}</td></tr>\n",
        esc(ccp.id), esc(config::enum_name(ccp.kind)), grouped(static_cast<std::int64_t>(members)),
        money(ccp_initial_margin(model, ccp)), money(ccp.default_fund), money(ccp.sitg), money(ccp.capital),
        money(ccp.insurance_fund), plain(ccp.assessment_multiple), ccp.im_segregated ? "segregated" : "not segregated",
        ccp.im_segregated ? std::string() : fmt::format(", recovery rate {}", pct(ccp.im_recovery_rate)));
  }
  h += "</tbody></table></div>\n";
  double capital = 0.0, liquidity = 0.0;
  for (const MemberModel& m : model.members) {
    capital += m.capital;
    liquidity += m.liquidity;
  }
  h += fmt::format("<h3>Members</h3>\n<p>{} in {}; capital {} in total, liquid resources {} in total{}.</p>\n",
                   plural(model.members.size(), "member"), plural(model.groups.size(), "default group"), usd(capital),
                   usd(liquidity),
                   model.exogenous_groups.empty() ? std::string()
                                                  : fmt::format("; {} default at the start of every scenario",
                                                                plural(model.exogenous_groups.size(), "group")));
  h += "<p class=\"muted\">Amounts in USD, as the run used them: computed margins and default funds, or the "
       "observed ones where the scenario gives them. Each CCP's margin model, MPOR, fund sizing and waterfall are in "
       "the methodology below; the resolved scenario at the end has every input.</p>\n</section>\n";
  return h;
}

// What the sections of the run page share: the run, its totals and the
// headline quantiles.
struct RunPage {
  RunPage(const Model& m, const RunResult& r, const std::string& file)
      : model(m), result(r), agg(r.aggregate), t(r.aggregate.totals()), scenario_file(file), graph(m) {}

  const Model& model;
  const RunResult& result;
  const Aggregate& agg;
  const ChunkSums& t;
  const std::string& scenario_file;
  const SystemGraph graph;
  const double n = std::max<double>(1.0, static_cast<double>(t.count));
  const double var99 = agg.total_loss_quantile(0.99);
  const double es99 = agg.total_loss_expected_shortfall(0.99);
  const double var999 = agg.total_loss_quantile(0.999);
  const double p_any_fail = static_cast<double>(t.any_ccp_fail) / n;

  std::string of_count(std::int64_t k) const { return fmt::format("{} of {} scenarios", grouped(k), grouped(t.count)); }
  // Every probability and mean with its 95% interval (metric_estimate: Wilson
  // for a probability, the central limit theorem for a mean).
  models::stats::Interval ci(std::string_view metric, std::size_t index = 0) const {
    return metric_estimate(t, metric, index).interval;
  }
  static std::string ci_note(const models::stats::Interval& iv, bool percent) {
    return "95% interval " + interval_text(iv, percent);
  }
};

// The page's head: title, contents and the banner of a partial run.
std::string top(const RunPage& p) {
  const Model& model = p.model;
  const RunResult& result = p.result;
  const std::int64_t count = p.t.count;
  std::string h =
      begin(fmt::format("ccpnet run report: {}", esc(model.name)), fmt::format("Monte Carlo run: {}", esc(model.name)),
            fmt::format("{} scenarios &#183; seed {} &#183; {} &#183; {} &#183; {}", grouped(count), model.seed,
                        plural(model.ccps.size(), "CCP"), plural(model.members.size(), "member"),
                        plural(model.links.size(), "link")));
  h += "<nav class=\"toc\"><a href=\"#summary\">Summary</a><a href=\"#losses\">Loss distribution</a>"
       "<a href=\"#ccps\">CCPs and waterfalls</a>";
  if (model.settlement_active) h += "<a href=\"#settlement\">Settlement</a>";
  h += "<a href=\"#network\">Network</a><a href=\"#system\">System</a>";
  if (model.steps.count > 0) h += "<a href=\"#time\">Through time</a>";
  if (!model.members.empty()) h += "<a href=\"#members\">Largest contributors</a>";
  h += "<a href=\"#inputs\">Inputs</a><a href=\"#methodology\">Methodology</a><a href=\"#scenario\">Scenario</a>"
       "</nav>\n";
  if (result.interrupted)
    h += fmt::format(
        "<div class=\"banner partial\"><strong>Partial result.</strong> The run was interrupted after {} of {} "
        "scenarios; every number and figure below covers the completed scenarios only.</div>\n",
        grouped(result.completed), grouped(result.requested));
  return h;
}

// Summary: the run's metadata and the headline numbers with their intervals.
std::string summary_section(const RunPage& p) {
  const Model& model = p.model;
  const RunResult& result = p.result;
  const Aggregate& agg = p.agg;
  const ChunkSums& t = p.t;
  const std::int64_t count = p.t.count;
  const double n = p.n;
  const double var999 = p.var999;
  const double p_any_fail = p.p_any_fail;
  const std::string& scenario_file = p.scenario_file;
  std::string h;
  // Summary: metadata and the headline numbers.
  h += "<section id=\"summary\"><h2>Summary</h2>\n<dl class=\"meta\">";
  h += fmt::format("<dt>Scenario</dt><dd>{}</dd>", esc(model.name));
  h += fmt::format("<dt>Scenario file</dt><dd>{}</dd>", esc(scenario_file));
  h += fmt::format("<dt>ccpnet version</dt><dd>{}</dd>", CCPNET_VERSION);
  h += fmt::format("<dt>Seed</dt><dd>{}</dd>", model.seed);
  h += fmt::format(
      "<dt>Scenarios</dt><dd>{} completed of {} requested{}</dd>", grouped(count), grouped(result.requested),
      count > 0 ? fmt::format(" (scenario indices {} to {})", grouped(result.first), grouped(result.first + count - 1))
                : std::string());
  h += fmt::format("<dt>Status</dt><dd>{}</dd>", result.interrupted
                                                     ? "<span class=\"badge warn\">partial: interrupted</span>"
                                                     : "<span class=\"badge neutral\">complete</span>");
  h += "</dl>\n<div class=\"cards\">\n";
  h += card(pct(p_any_fail), "P(any CCP fails)", p_any_fail > 0.0,
            p.of_count(t.any_ccp_fail) + "<br>" + p.ci_note(p.ci("any_ccp_fail"), true));
  h += card(pct(static_cast<double>(t.any_default) / n), "P(any member defaults)", false,
            p.of_count(t.any_default) + "<br>" + p.ci_note(p.ci("any_member_default"), true));
  h += card(
      plain(static_cast<double>(t.member_defaults) / n), "mean member defaults per scenario", false,
      fmt::format("95% interval [{}, {}]", plain(p.ci("member_defaults").lower), plain(p.ci("member_defaults").upper)));
  h += card(usd(t.total_loss / n), "expected total loss", false, p.ci_note(p.ci("total_loss"), false));
  h += card(usd(p.var99), "total loss, VaR 99%", false, p.ci_note(agg.total_loss_quantile_interval(0.99), false));
  h += card(usd(var999), "total loss, VaR 99.9%", false, p.ci_note(agg.total_loss_quantile_interval(0.999), false));
  h += card(usd(p.es99), "total loss, ES 99%");
  h += "</div>\n<p class=\"muted\">Total loss: in a scenario, the loss borne by others than the defaulters (every "
       "waterfall layer beyond the defaulters' own margin and default-fund contributions, plus what no layer "
       "covered). VaR: quantile over all scenarios; ES 99%: mean of the worst 1% of scenarios. 95% intervals of the "
       "Monte Carlo estimates: Wilson score intervals for probabilities, mean &#177; 1.96 standard errors for means "
       "(central limit theorem), order statistics at exact binomial ranks for quantiles (&#8734;: too few scenarios "
       "in the tail to bound it); the expected shortfall has none.</p>\n</section>\n";
  return h;
}

// The loss distribution: histogram and exceedance curve of the total loss.
std::string loss_section(const RunPage& p, Ids& ids) {
  const std::int64_t count = p.t.count;
  const double n = p.n;
  const std::int64_t positive = p.agg.total_loss_sample().positive();
  std::string h;
  // Loss distribution.
  const double zero_share = 1.0 - static_cast<double>(positive) / n;
  h += "<section id=\"losses\"><h2>Loss distribution</h2>\n";
  if (positive == 0) {
    h += fmt::format(
        "<figure><h3>Loss distribution</h3><p><strong>No scenario had a loss borne by non-defaulters</strong> ({} "
        "with zero loss): there is nothing to plot.</p></figure>\n",
        p.of_count(count));
  } else {
    const std::string zero_text = fmt::format(
        "<strong>{} of the scenarios ({}) have no loss</strong> borne by non-defaulters and cannot be shown on a log "
        "scale.",
        pct(zero_share), p.of_count(count - positive));
    const std::string var_text =
        p.var99 > 0.0
            ? fmt::format("VaR 99% = {} (dashed), ES 99% = {} (dotted, red).", usd(p.var99), usd(p.es99))
            : fmt::format("VaR 99% is 0: more than 99% of the scenarios have no loss. ES 99% = {} (dotted, red).",
                          usd(p.es99));
    h += "<div class=\"grid2\">\n";
    const figures::LossDistribution distribution = run_loss_distribution(p.agg);
    const TailSample& sample = p.agg.total_loss_sample();
    const std::string sketch_text = sample.all_exact()
                                        ? ""
                                        : fmt::format(
                                              " The {} largest losses are exact (VaR and ES from them); below them a "
                                              "sketch places each loss within 1%.",
                                              grouped(static_cast<std::int64_t>(sample.top().size())));
    h += figure("Loss distribution: histogram", figures::loss_histogram(distribution, ids),
                fmt::format("Share of all {} scenarios with a total loss in each bin (bins of equal width on the log "
                            "scale). {} {}{}",
                            grouped(count), zero_text, var_text, sketch_text));
    h += figure("Loss distribution: exceedance curve", figures::exceedance_curve(distribution, ids),
                fmt::format("Probability that the total loss is at least x. The dotted horizontal line is the 1% "
                            "level: the curve crosses it at VaR 99%.{}",
                            p.var99 > 0.0 ? "" : " Here VaR 99% is 0."));
    h += "</div>\n";
  }
  h += "</section>\n";
  return h;
}

// Per CCP: its figures with their intervals, then default management.
std::string ccp_table_section(const RunPage& p) {
  const Model& model = p.model;
  const Aggregate& agg = p.agg;
  const ChunkSums& t = p.t;
  const double n = p.n;
  std::string h;
  // Per CCP: the table, then the waterfall figures and the layer table.
  h += "<section id=\"ccps\"><h2>CCPs and waterfalls</h2>\n<div class=\"tablewrap\"><table>\n<thead><tr><th>CCP</th>"
       "<th>kind</th><th>margin model</th><th class=\"num\">initial margin</th><th class=\"num\">default fund</th>"
       "<th class=\"num\">P(fail)</th><th class=\"num\">expected loss</th><th class=\"num\">expected uncovered</th>"
       "<th class=\"num\">P(DF exhausted)</th><th class=\"num\">DF depletion, mean</th><th class=\"num\">DF "
       "depletion, p99</th><th class=\"num\">link losses received, mean</th></tr></thead>\n<tbody>\n";
  for (std::size_t c = 0; c < model.ccps.size(); ++c) {
    const CcpModel& ccp = model.ccps[c];
    const double p_fail = static_cast<double>(t.ccp_fails[c]) / n;
    const std::size_t link_in = c * kLedgerColumns + static_cast<std::size_t>(LedgerColumn::kLinkIn);
    h += fmt::format(
        "<tr{}><td><strong>{}</strong></td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
        "<td class=\"num\" title=\"{}\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
        "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
        "</tr>\n",
        "", esc(ccp.id), esc(config::enum_name(ccp.kind)), esc(ccp.margin_model), money(ccp_initial_margin(model, ccp)),
        money(ccp.default_fund), p.of_count(t.ccp_fails[c]),
        with_interval(p_fail > 0.0 ? "<span class=\"fail\">" + pct(p_fail) + "</span>" : pct(p_fail),
                      p.ci("ccp_fails", c), true),
        with_interval(money(t.ccp_loss[c] / n), p.ci("ccp_loss", c), false),
        with_interval(money(t.ccp_uncovered[c] / n), p.ci("ccp_uncovered_loss", c), false),
        with_interval(pct(static_cast<double>(t.ccp_df_exhausted[c]) / n), p.ci("ccp_df_exhausted", c), true),
        with_interval(pct(t.ccp_depletion[c] / n), p.ci("ccp_df_depletion", c), true),
        with_interval(pct(agg.depletion_quantile(c, 0.99)), agg.depletion_quantile_interval(c, 0.99), true),
        with_interval(money(t.ccp_ledger[link_in] / n), p.ci("ccp_ledger", link_in), false));
  }
  h += "</tbody></table></div>\n";
  h += "<p class=\"muted\">Amounts in USD. Initial margin: posted by every account at the CCP (members and linked "
       "CCPs). Expected loss: mean loss per scenario at the CCP beyond the defaulters' own resources. DF depletion: "
       "share of the prefunded default fund used in a scenario (mean and 99th percentile). Link losses received: "
       "what reached the CCP over its links (a failed peer's unpaid obligations, charges by a peer's "
       "waterfall), mean per scenario; it runs through the CCP's own layers (or its capital only, link_losses: "
       "own_capital) and a CCP fails only when those run out.</p>\n";

  h += default_management_section(model, agg);
  return h;
}

// Waterfall depletion: the whole loss, then the part beyond the defaulters.
std::string waterfall_figures(const RunPage& p, Ids& ids) {
  const Model& model = p.model;
  const ChunkSums& t = p.t;
  std::string h;
  const figures::BarChart mutual = run_waterfalls(model, t, true);
  bool any_mutual = false;
  for (const BarRow& r : mutual.rows)
    for (const auto& segment : r.segments) any_mutual = any_mutual || segment.second > 0.0;
  h += figure("Waterfall depletion per CCP", figures::stacked_bars(run_waterfalls(model, t), ids),
              "Mean loss per scenario absorbed by each layer of the CCP's default waterfall, in the order the layers "
              "are used (left to right); a hatched red segment is loss no layer covered. P(fail) in red: the CCP fails "
              "in some scenario. Percentages: share of the CCP's bar.",
              "fig-waterfalls");
  if (any_mutual) {
    h += figure("Waterfall depletion beyond the defaulters' own resources", figures::stacked_bars(mutual, ids),
                "The same bars without the defaulters' own initial margin and default-fund contribution: the part of "
                "the loss that reaches the CCP's capital, the surviving members and, at the end, the uncovered loss.");
  } else {
    h += "<p><strong>No loss reached beyond the defaulters' own resources</strong> at any CCP: their initial margin "
         "and default-fund contributions covered every close-out.</p>\n";
  }
  return h;
}

// Mean loss per layer: layers in rows, CCPs in columns.
std::string layer_table(const RunPage& p) {
  const Model& model = p.model;
  const ChunkSums& t = p.t;
  const double n = p.n;
  std::string h;
  // Mean loss per layer: layers in rows (waterfall order of the first CCP that has them), CCPs in columns.
  const auto layers = layer_union(model);
  h += fmt::format(
      "<h3>Mean loss per waterfall layer (USD per scenario)</h3>\n<div class=\"tablewrap\"><table{}>\n"
      "<thead><tr>",
      model.ccps.size() <= 4 ? " class=\"narrow\"" : "");
  h += ""
       "<th>layer</th>";
  for (const auto& ccp : model.ccps) h += fmt::format("<th class=\"num\">{}</th>", esc(ccp.id));
  h += "</tr></thead>\n<tbody>\n";
  for (std::size_t l : layers) {
    h += fmt::format("<tr><td title=\"{}\">{}{}</td>", models::layer_name(static_cast<Layer>(l)),
                     swatch(kLayerColour[l]), kLayerLabel[l]);
    for (std::size_t c = 0; c < model.ccps.size(); ++c)
      h += in_waterfall(model.ccps[c], l)
               ? fmt::format("<td class=\"num\">{}</td>", money(t.ccp_layers[c * kLayerCount + l] / n))
               : std::string("<td class=\"na\" title=\"not in this CCP's waterfall\">&#183;</td>");
    h += "</tr>\n";
  }
  h += fmt::format("<tr><td>{}{}</td>", swatch(kLayerColour[kUncovered]), kLayerLabel[kUncovered]);
  for (std::size_t c = 0; c < model.ccps.size(); ++c)
    h += fmt::format("<td class=\"num{}\">{}</td>", t.ccp_uncovered[c] / n >= 0.005 ? " fail" : "",
                     money(t.ccp_uncovered[c] / n));
  h += "</tr>\n<tr class=\"total\"><td>total</td>";
  for (std::size_t c = 0; c < model.ccps.size(); ++c) {
    double sum = t.ccp_uncovered[c];
    for (std::size_t l : layers) sum += t.ccp_layers[c * kLayerCount + l];
    h += fmt::format("<td class=\"num\">{}</td>", money(sum / n));
  }
  h += "</tr>\n</tbody></table></div>\n<p class=\"muted\">IM: initial margin; DF: default fund; SITG: the CCP's own "
       "capital committed to the waterfall (skin in the game). A dot: the layer is not in that CCP's waterfall."
       "</p>\n</section>\n";
  return h;
}

// System-wide figures with their intervals.
std::string system_section(const RunPage& p) {
  const Aggregate& agg = p.agg;
  const ChunkSums& t = p.t;
  const std::int64_t count = p.t.count;
  const double n = p.n;
  const double var999 = p.var999;
  const double p_any_fail = p.p_any_fail;
  std::string h;
  // System.
  h += "<section id=\"system\"><h2>System</h2>\n<div class=\"tablewrap\"><table class=\"narrow\">\n<thead><tr>"
       "<th>measure</th><th class=\"num\">value</th><th class=\"num\">95% interval</th></tr></thead>\n<tbody>\n";
  const auto row = [&](const std::string& k, const std::string& v, const std::string& interval) {
    h += fmt::format("<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n", k, v, interval);
  };
  const auto plain_interval = [](const models::stats::Interval& iv) {
    return fmt::format("[{}, {}]", plain(iv.lower), plain(iv.upper));
  };
  row("P(any CCP fails)", pct(p_any_fail), interval_text(p.ci("any_ccp_fail"), true));
  row("P(any member defaults)", pct(static_cast<double>(t.any_default) / n),
      interval_text(p.ci("any_member_default"), true));
  for (std::size_t k : {2, 3, 5, 10})
    row(fmt::format("P(at least {} member defaults)", k), pct(agg.p_at_least_defaults(k)),
        interval_text(models::stats::wilson(agg.scenarios_with_at_least_defaults(k), count), true));
  row("mean member defaults per scenario", plain(static_cast<double>(t.member_defaults) / n),
      plain_interval(p.ci("member_defaults")));
  row("mean CCP failures per scenario", plain(static_cast<double>(t.ccp_failures) / n),
      plain_interval(p.ci("ccp_failures")));
  row("mean cascade rounds", plain(static_cast<double>(t.rounds) / n), plain_interval(p.ci("cascade_rounds")));
  row("expected close-out loss of the defaulters", usd(t.closeout_loss / n),
      interval_text(p.ci("closeout_loss"), false));
  row("expected total loss borne by non-defaulters", usd(t.total_loss / n), interval_text(p.ci("total_loss"), false));
  row("expected uncovered loss", usd(t.uncovered / n), interval_text(p.ci("uncovered_loss"), false));
  row("total loss, VaR 99%", usd(p.var99), interval_text(agg.total_loss_quantile_interval(0.99), false));
  row("total loss, VaR 99.9%", usd(var999), interval_text(agg.total_loss_quantile_interval(0.999), false));
  row("total loss, ES 99%", usd(p.es99), kDash);
  h += "</tbody></table></div>\n</section>\n";
  return h;
}

// Time steps: who defaults and fails by when (term_structure_table), a figure and a table.
std::string term_structure_section(const RunPage& p, Ids& ids) {
  const Model& model = p.model;
  const Table table = term_structure_table(model, p.agg);
  std::string h = "<section id=\"time\"><h2>Through time</h2>\n";
  h += figure("Defaults and failures by day", figures::time_curves(run_term_structure(model, p.agg), ids),
              fmt::format("Share of scenarios in which some member has defaulted, and some CCP has failed, by the end "
                          "of each step of {:.6g} day{} (day 0: at the start, exogenous and latent defaults); shaded: "
                          "the 95% Wilson interval.",
                          model.steps.days, model.steps.days == 1.0 ? "" : "s"),
              "fig-time");
  h += "<div class=\"tablewrap\"><table class=\"narrow\">\n<thead><tr><th class=\"num\">day</th>"
       "<th class=\"num\">P(some member has defaulted)</th><th class=\"num\">95% interval</th>"
       "<th class=\"num\">P(some CCP has failed)</th><th class=\"num\">95% interval</th>"
       "<th class=\"num\">mean member defaults on the day</th><th class=\"num\">95% interval</th></tr></thead>\n"
       "<tbody>\n";
  const auto& day = table.numbers("day");
  const auto cell = [&](const char* name, std::size_t i, bool percent) {
    const std::string key(name);
    const models::stats::Interval iv{table.numbers(key + "_lower")[i], table.numbers(key + "_upper")[i]};
    const double x = table.numbers(key)[i];
    return fmt::format("<td class=\"num\">{}</td><td class=\"num\">{}</td>", percent ? pct(x) : plain(x),
                       percent ? interval_text(iv, true) : fmt::format("[{}, {}]", plain(iv.lower), plain(iv.upper)));
  };
  for (std::size_t i = 0; i < day.size(); ++i)
    h += fmt::format("<tr><td class=\"num\">{:.6g}</td>{}{}{}</tr>\n", day[i], cell("p_member_default_by_day", i, true),
                     cell("p_ccp_failure_by_day", i, true), cell("mean_member_defaults_on_day", i, false));
  h += "</tbody></table></div>\n<p class=\"muted\">The day of each default and failure of every scenario is in "
       "defaults.csv (outputs.defaults); summary.json's term_structure has these figures.</p>\n</section>\n";
  return h;
}

// The network coloured by P(fail) and P(default).
std::string network_section(const RunPage& p, Ids& ids) {
  std::string note;
  const figures::Network net = run_network(p.model, &p.t, &note);
  return "<section id=\"network\"><h2>Network</h2>\n" +
         figure("Network: CCPs, links and members", figures::network(net, ids),
                "CCPs on the inner circle, coloured by their probability of failure; members on the outer ring next "
                "to the CCPs they clear at, coloured by their probability of default. Thick lines: links between "
                "CCPs, the paths by which one CCP's failure reaches another. Circle area grows with capital (CCPs "
                "and members on separate scales)." +
                    note,
                "fig-network") +
         "</section>\n";
}

}  // namespace

std::string run_report(const Model& model, const RunResult& result, const std::string& scenario_file,
                       const std::string& resolved_yaml) {
  const RunPage p(model, result, scenario_file);
  Ids ids;
  // One section after the other (the figures' ids are numbered in page order).
  std::string h = top(p);
  h += summary_section(p);
  h += loss_section(p, ids);
  h += ccp_table_section(p);
  h += waterfall_figures(p, ids);
  h += layer_table(p);
  if (model.settlement_active) h += run_settlement_section(model, result, ids);
  h += network_section(p, ids);
  h += system_section(p);
  if (model.steps.count > 0) h += term_structure_section(p, ids);
  h += contributors_section(model, result.aggregate, p.graph);
  h += inputs_section(model);
  h += methodology_section(model);
  h += "<section id=\"scenario\"><h2>Scenario</h2>\n" + resolved_block(resolved_yaml) + "</section>\n";
  h += end(fmt::format("Seed {}, {} scenarios: the same input and seed reproduce this page exactly.", model.seed,
                       grouped(p.t.count)));
  return h;
}

}  // namespace ccpnet
