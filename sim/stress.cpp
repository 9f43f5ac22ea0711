#include "sim/stress.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <map>

#include "sim/metrics.hpp"
#include "sim/model.hpp"
#include "sim/output.hpp"
#include "sim/runner.hpp"

namespace ccpnet {

namespace {
using json_t = nlohmann::ordered_json;

std::string money(double x) {
  const double a = std::abs(x);
  if (a >= 1e9) return fmt::format("{:.3f}bn", x / 1e9);
  if (a >= 1e6) return fmt::format("{:.3f}m", x / 1e6);
  if (a >= 1e3) return fmt::format("{:.1f}k", x / 1e3);
  return fmt::format("{:.2f}", x);
}
}  // namespace

std::string account_name(const Model& model, int account) {
  const Account& acc = model.accounts[static_cast<std::size_t>(account)];
  switch (acc.kind) {
    case AccountKind::kMember: return model.members[static_cast<std::size_t>(acc.owner)].id;
    case AccountKind::kLink: return "link:" + model.ccps[static_cast<std::size_t>(acc.owner)].id;
    case AccountKind::kRestOfMarket: return "rest_of_market";
    case AccountKind::kClient: {
      const ClientModel& client = model.clients[static_cast<std::size_t>(acc.owner)];
      return model.members[static_cast<std::size_t>(client.member)].id + "/client:" + client.id;
    }
  }
  return "?";
}

std::string line_name(const Model& model, const DefaulterLine& line) {
  return account_name(model, line.account) + (line.kind == LineKind::kClients ? " clients" : "");
}

std::string failure_text(const ScenarioResult& r, std::size_t c, const std::function<std::string(double)>& money) {
  const bool links = r.ccp_fail_cause[c] == FailureCause::kLinks;
  return fmt::format("its layers ran out on {}; {} left for its creditors",
                     links ? "losses over its links" : "its members' close-outs", money(r.ccp_uncovered[c]));
}

nlohmann::ordered_json fund_sizing_json(const CcpModel& ccp) {
  json_t families = json_t::object();
  for (const auto& [family, count] : ccp.stress_families) families[family] = count;
  return {{"required", ccp.stress_fund},
          {"scenario", ccp.stress_scenario},
          {"groups", ccp.stress_groups},
          {"stress_set", families}};
}

std::string format_fund_sizing(const Model& model) {
  std::string out = "== default-fund sizing over each CCP's stress set (RTS 153/2013 art. 30)\n";
  for (const CcpModel& ccp : model.ccps) {
    int total = 0;
    std::vector<std::string> parts;
    for (const auto& [family, count] : ccp.stress_families) {
      total += count;
      if (count > 0) parts.push_back(fmt::format("{} {}", count, family));
    }
    out +=
        fmt::format("  {:<14} fund {} required {} over {} moves ({}); set by '{}'{}\n", ccp.id, money(ccp.default_fund),
                    money(ccp.stress_fund), total, fmt::join(parts, ", "), ccp.stress_scenario,
                    ccp.stress_groups.empty() ? std::string(", no group uncovered")
                                              : fmt::format(", groups {}", fmt::join(ccp.stress_groups, ", ")));
  }
  return out + "\n";
}

std::vector<StressOutcome> run_stress(const Model& model) {
  std::vector<StressScenario> stresses;
  for (const auto& s : model.stress_scenarios)
    if (!s.overlay) stresses.push_back(s);
  if (stresses.empty()) {
    StressScenario baseline;
    baseline.name = "baseline (no market move)";
    stresses.push_back(baseline);
  }
  std::vector<StressOutcome> out;
  for (const auto& s : stresses) {
    StressOutcome o;
    o.stress = s;
    o.result = run_move(model, stress_move(model, s), &o.trace, &s);
    out.push_back(std::move(o));
  }
  return out;
}

namespace {
// Time steps: per step of a deterministic path, every CCP's VM gains late and
// fails in that step (differences of SettlementOutcome::daily, the totals
// after the last step); empty in one period.
struct SettlementDay {
  double day = 0.0;  // the end of the step
  std::vector<double> late, fails;
};
std::vector<SettlementDay> settlement_days(const Model& model, const ScenarioResult& r) {
  const std::size_t n = model.ccps.size();
  const std::vector<double>& at = r.settlement.daily;
  if (model.steps.count == 0 || n == 0 || at.size() != static_cast<std::size_t>(model.steps.count) * 2 * n) return {};
  std::vector<SettlementDay> days(static_cast<std::size_t>(model.steps.count));
  for (std::size_t k = 0; k < days.size(); ++k) {
    days[k].day = static_cast<double>(k + 1) * model.steps.days;
    for (std::size_t c = 0; c < n; ++c) {
      const bool last = k + 1 == days.size();
      const double late = last ? r.settlement.get(c, CcpSettleMetric::kLateInflows) : at[((k + 1) * n + c) * 2];
      const double fails = last ? r.settlement.get(c, CcpSettleMetric::kFails) : at[((k + 1) * n + c) * 2 + 1];
      days[k].late.push_back(late - at[(k * n + c) * 2]);
      days[k].fails.push_back(fails - at[(k * n + c) * 2 + 1]);
    }
  }
  return days;
}

// The day of bridge b's exploit on a deterministic path in time steps (the
// end of its step), NaN when it was not exploited or in one period.
double exploit_day(const Model& model, const ScenarioResult& r, std::size_t b) {
  if (model.steps.count == 0 || b >= r.settlement.exploit_step.size() || r.settlement.exploit_step[b] < 0) return NAN;
  return (r.settlement.exploit_step[b] + 1) * model.steps.days;
}

// The day-by-day lines of format_settlement: per day, each CCP's VM gains
// late and fails (the days and CCPs with neither left out).
std::string format_settlement_days(const Model& model, const ScenarioResult& r) {
  std::string out;
  for (const SettlementDay& d : settlement_days(model, r)) {
    std::vector<std::string> cells;
    for (std::size_t c = 0; c < model.ccps.size(); ++c)
      if (d.late[c] != 0.0 || d.fails[c] != 0.0)
        cells.push_back(fmt::format("{} VM gains late {}, {:g} fails", model.ccps[c].id, money(d.late[c]), d.fails[c]));
    if (!cells.empty()) out += fmt::format("    day {:g}: {}\n", d.day, fmt::join(cells, "; "));
  }
  return out.empty() ? out : "  day by day:\n" + out;
}

// One scenario's settlement: when each chain was final, what failed, what was late.
std::string format_settlement(const Model& model, const ScenarioResult& r) {
  std::vector<std::string> chains, bridges;
  for (std::size_t k = 0; k < model.chains.size(); ++k) {
    const double* m = &r.settlement.chain[k * kChainMetrics];
    chains.push_back(fmt::format("{} {:.3g} h{}{}", model.chains[k].id, m[static_cast<int>(ChainMetric::kHours)],
                                 m[static_cast<int>(ChainMetric::kCongested)] > 0 ? " (congested)" : "",
                                 m[static_cast<int>(ChainMetric::kHalted)] > 0 ? " (halted)" : ""));
  }
  for (std::size_t b = 0; b < model.bridges.size(); ++b) {
    if (r.settlement.bridge[b * kBridgeMetrics + static_cast<int>(BridgeMetric::kExploited)] <= 0) continue;
    const double day = exploit_day(model, r, b);
    bridges.push_back(std::isnan(day) ? model.bridges[b].id : fmt::format("{} on day {:g}", model.bridges[b].id, day));
  }
  std::string out = "settlement:";
  if (!chains.empty()) out += fmt::format(" final after {}", fmt::join(chains, ", "));
  if (!bridges.empty()) out += fmt::format("{}EXPLOITED: {}", chains.empty() ? " " : "; ", fmt::join(bridges, ", "));
  if (chains.empty() && bridges.empty()) out += " no chain or bridge";
  out += '\n';
  for (std::size_t c = 0; c < model.ccps.size(); ++c) {
    const double fails = r.settlement.get(c, CcpSettleMetric::kFails);
    const double principal = r.settlement.get(c, CcpSettleMetric::kPrincipalLost);
    const double replacement = r.settlement.get(c, CcpSettleMetric::kReplacementCost);
    const double late = r.settlement.get(c, CcpSettleMetric::kLateInflows);
    const double calls = r.settlement.get(c, CcpSettleMetric::kMarginCalls);
    if (fails == 0.0 && principal == 0.0 && late == 0.0 && calls == 0.0) continue;
    out +=
        fmt::format("  {:<14} {:g} fails, principal lost {}, replacement cost {}, VM gains late {}, margin calls {}\n",
                    model.ccps[c].id, fails, money(principal), money(replacement), money(late), money(calls));
  }
  out += format_settlement_days(model, r);
  if (r.settlement_defaults > 0 || r.liquidity_shortfall > 0.0)
    out += fmt::format("  liquidity defaults caused by settlement delay: {} (liquidity shortfall {})\n",
                       r.settlement_defaults, money(r.liquidity_shortfall));
  return out;
}

// Time steps: settlement.days of stress.json, one entry per day with each
// CCP's VM gains late and fails that day.
json_t settlement_days_json(const Model& model, const ScenarioResult& r) {
  json_t days = json_t::array();
  for (const SettlementDay& d : settlement_days(model, r)) {
    json_t late = json_t::object(), fails = json_t::object();
    for (std::size_t c = 0; c < model.ccps.size(); ++c) {
      late[model.ccps[c].id] = d.late[c];
      fails[model.ccps[c].id] = d.fails[c];
    }
    days.push_back({{"day", d.day}, {"late_inflows", late}, {"fails", fails}});
  }
  return days;
}
// Default management per CCP: its auctions' close-out cost and unplaced
// value, what each recovery tool covered (ccps[].auction, recovery).
std::string format_default_management(const Model& model, const ScenarioResult& r) {
  std::string out;
  for (std::size_t c = 0; c < model.ccps.size(); ++c) {
    const CcpModel& ccp = model.ccps[c];
    if (!ccp.auction && ccp.recovery.empty()) continue;
    std::vector<std::string> parts;
    if (ccp.auction)
      parts.push_back(fmt::format("auctions cost {} (hedge, discounts, reserve on the unplaced), {} unplaced",
                                  money(r.ccp_auction_cost[c]), money(r.ccp_unplaced[c])));
    for (const auto tool : ccp.recovery)
      parts.push_back(
          fmt::format("{} {}", models::recovery_tool_name(tool),
                      money(r.ccp_recovery[c * models::kRecoveryToolCount + static_cast<std::size_t>(tool)])));
    out += fmt::format("  {:<14} default management: {}\n", ccp.id, fmt::join(parts, "; "));
  }
  return out.empty() ? out : "\n" + out;
}

nlohmann::ordered_json default_management_json(const Model& model, const ScenarioResult& r, std::size_t c) {
  const CcpModel& ccp = model.ccps[c];
  json_t e = json_t::object();
  if (ccp.auction) {
    e["auction_cost"] = r.ccp_auction_cost[c];
    e["unplaced_value"] = r.ccp_unplaced[c];
  }
  json_t tools = json_t::object();
  for (const auto tool : ccp.recovery)
    tools[std::string(models::recovery_tool_name(tool))] =
        r.ccp_recovery[c * models::kRecoveryToolCount + static_cast<std::size_t>(tool)];
  if (!ccp.recovery.empty()) e["recovery"] = tools;
  return e;
}

std::string health(double hf) { return std::isinf(hf) ? "no debt" : fmt::format("{:.4f}", hf); }

// The borrowers at lending protocols along the scenario's path.
// In time steps: those liquidated, one line per step with calls, its day and
// its health factor at the step's start.
std::string format_lending(const Model& model, const CascadeTrace& trace) {
  if (trace.lending.empty()) return "";
  const bool steps = model.steps.count > 0;
  const auto day = [&](const std::string& x) { return steps ? fmt::format("{:>5} ", x) : std::string(); };
  std::string out = fmt::format("  {:<22} {:<10} {}{:>5} {:>9} {:>9} {:>12} {:>12} {:>12} {:>14}\n", "borrower",
                                "protocol", day("day"), "calls", steps ? "HF before" : "HF today", "HF after",
                                "collateral", "debt repaid", "bad debt", "if closed");
  for (const LendingLine& l : trace.lending) {
    const auto ccp = static_cast<std::size_t>(model.accounts[static_cast<std::size_t>(l.account)].ccp);
    out += fmt::format("  {:<22} {:<10} {}{:>5} {:>9} {:>9} {:>12} {:>12} {:>12} {:>14}\n",
                       account_name(model, l.account), model.ccps[ccp].id, day(fmt::format("{}", l.day)), l.calls,
                       health(l.health_factor_start), health(l.health_factor_end), money(l.collateral_seized),
                       money(l.debt_repaid), money(l.bad_debt), money(l.closing_bad_debt));
  }
  return out;
}

// The accounts crypto venues' liquidation engines closed (in time steps, on
// which day: the end of the step at whose mark each was closed).
std::string format_venue(const Model& model, const CascadeTrace& trace) {
  if (trace.venue.empty()) return "";
  const bool steps = model.steps.count > 0;
  std::string out = fmt::format("  {:<22} {:<10} {}{:>12} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12}\n", "liquidated",
                                "venue", steps ? fmt::format("{:>5} ", "day") : std::string(), "margin", "P&L",
                                "maintenance", "impact cost", "surplus", "shortfall", "bankruptcy");
  for (const VenueLine& l : trace.venue) {
    const auto ccp = static_cast<std::size_t>(model.accounts[static_cast<std::size_t>(l.account)].ccp);
    out += fmt::format("  {:<22} {:<10} {}{:>12} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12}\n",
                       account_name(model, l.account), model.ccps[ccp].id,
                       steps ? fmt::format("{:>5} ", l.day) : std::string(), money(l.margin), money(l.pnl),
                       money(l.maintenance_margin), money(l.impact_cost), money(l.surplus), money(l.shortfall),
                       l.bankruptcy_price > 0.0 ? fmt::format("{:.6g}", l.bankruptcy_price) : "-");
  }
  return out;
}

// "2 on day 1, 1 on days 1 and 3": the accounts liquidated, each once, by
// the days it was liquidated on (its lines come step by step, in day order).
template <class Line>
std::string on_days(const std::vector<Line>& lines) {
  std::map<int, std::vector<double>> days_of;
  for (const Line& l : lines) days_of[l.account].push_back(l.day);
  std::map<std::vector<double>, int> accounts;
  for (const auto& entry : days_of) ++accounts[entry.second];
  std::vector<std::string> parts;
  for (const auto& [days, n] : accounts) {
    std::string text = fmt::format("{}", days.back());
    if (days.size() > 1) text = fmt::format("{} and {}", fmt::join(days.begin(), days.end() - 1, ", "), days.back());
    parts.push_back(fmt::format("{} on day{} {}", n, days.size() > 1 ? "s" : "", text));
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

json_t venue_json(const Model& model, const CascadeTrace& trace) {
  json_t out = json_t::array();
  for (const VenueLine& l : trace.venue) {
    out.push_back(
        {{"account", account_name(model, l.account)},
         {"ccp", model.ccps[static_cast<std::size_t>(model.accounts[static_cast<std::size_t>(l.account)].ccp)].id},
         {"margin", l.margin},
         {"pnl", l.pnl},
         {"maintenance_margin", l.maintenance_margin},
         {"impact_cost", l.impact_cost},
         {"surplus", l.surplus},
         {"shortfall", l.shortfall},
         {"bankruptcy_price", l.bankruptcy_price},
         {"execution_price", l.execution_price}});
    if (model.steps.count > 0) out.back()["day"] = l.day;
  }
  return out;
}

json_t lending_json(const Model& model, const CascadeTrace& trace) {
  json_t out = json_t::array();
  const auto number = [](double x) { return std::isinf(x) ? json_t(nullptr) : json_t(x); };
  for (const LendingLine& l : trace.lending) {
    out.push_back(
        {{"account", account_name(model, l.account)},
         {"ccp", model.ccps[static_cast<std::size_t>(model.accounts[static_cast<std::size_t>(l.account)].ccp)].id},
         {"calls", l.calls},
         {"health_factor_start", number(l.health_factor_start)},
         {"health_factor_after", number(l.health_factor_end)},
         {"collateral_seized", l.collateral_seized},
         {"debt_repaid", l.debt_repaid},
         {"bad_debt", l.bad_debt},
         {"closing_bad_debt", l.closing_bad_debt}});
    if (model.steps.count > 0) out.back()["day"] = l.day;
  }
  return out;
}

// A waterfall of a CCP that had failed in an earlier round: the losses that
// reached it late, which its creditors bear.
bool failed_before(const ScenarioResult& r, const WaterfallEvent& e) {
  const int failed = r.ccp_fail_round[static_cast<std::size_t>(e.ccp)];
  return failed >= 0 && failed < e.round;
}
}  // namespace

std::string format_stress(const Model& model, const std::vector<StressOutcome>& outcomes, bool fund_sizing) {
  std::string out = fund_sizing ? format_fund_sizing(model) : std::string();
  for (const auto& o : outcomes) {
    std::vector<std::string> moves;
    for (const auto& [id, m] : o.stress.total_moves()) moves.push_back(fmt::format("{} {:+.1f}%", id, 100.0 * m));
    for (const auto& [id, v] : o.stress.vol_moves)
      moves.push_back(fmt::format("{} implied vol {:+.1f}%", id, 100.0 * v));
    out += fmt::format("== stress scenario '{}': {} over {} day{}\n", o.stress.name,
                       moves.empty() ? "no price move" : fmt::format("{}", fmt::join(moves, ", ")),
                       o.stress.length_days(), o.stress.length_days() == 1.0 ? "" : "s");
    const ScenarioResult& r = o.result;
    const bool steps = model.steps.count > 0;
    if (steps)
      out += fmt::format(
          "in {} step{} of {} day{}: members pay variation margin each step; a default is closed out "
          "over its CCP's MPOR from the last margin it paid\n",
          model.steps.count, model.steps.count == 1 ? "" : "s", model.steps.days, model.steps.days == 1.0 ? "" : "s");
    // The day of a round (time steps): that of its defaults or failures.
    const auto day_of = [&](int round) {
      for (const auto& d : r.defaults)
        if (d.round == round) return d.day;
      for (std::size_t c = 0; c < model.ccps.size(); ++c)
        if (r.ccp_fail_round[c] == round) return r.ccp_fail_day[c];
      return -1.0;
    };
    const auto when = [&](int round) {
      const double day = steps ? day_of(round) : -1.0;
      return day >= 0.0 ? fmt::format("round {} (day {})", round, day) : fmt::format("round {}", round);
    };
    for (int round = 0; round <= r.rounds; ++round) {
      std::vector<std::string> names;
      for (const auto& d : r.defaults)
        if (d.round == round)
          names.push_back(
              fmt::format("{} ({})", model.members[static_cast<std::size_t>(d.member)].id, cause_name(d.cause)));
      std::vector<std::string> failed;
      for (std::size_t c = 0; c < model.ccps.size(); ++c)
        if (r.ccp_fail_round[c] == round)
          failed.push_back(fmt::format("{} ({})", model.ccps[c].id, failure_text(r, c, money)));
      if (!names.empty()) out += fmt::format("{}: members default: {}\n", when(round), fmt::join(names, ", "));
      if (!failed.empty()) out += fmt::format("{}: CCPs FAIL: {}\n", when(round), fmt::join(failed, ", "));
    }
    if (r.defaults.empty()) out += "no member defaults\n";
    if (model.liquidity_needs) {
      std::vector<std::string> needs;
      for (std::size_t c = 0; c < model.ccps.size(); ++c)
        needs.push_back(fmt::format("{} {}", model.ccps[c].id, money(r.ccp_peak_liquidity_need[c])));
      out += fmt::format("peak liquidity need in one step (variation margin and IM called): {} ({})\n",
                         money(r.peak_liquidity_need), fmt::join(needs, ", "));
    }
    for (std::size_t a = 0; a < r.price_impact.size(); ++a)
      if (r.price_impact[a] != 0.0)
        out +=
            fmt::format("fire sales move {} by {:+.2f}%\n", model.assets[a].id, 100.0 * std::expm1(r.price_impact[a]));
    if (r.liquidations > 0 && !steps)
      out += fmt::format("lending protocols liquidate {} account{} in round 1\n", r.liquidations,
                         r.liquidations == 1 ? "" : "s");
    if (r.liquidations > 0 && steps)
      out += fmt::format("lending protocols liquidate {} account{}: {}\n", r.liquidations,
                         r.liquidations == 1 ? "" : "s", on_days(o.trace.lending));
    if (r.venue_liquidations > 0 && !steps)
      out += fmt::format("crypto venues liquidate {} account{} in round 1\n", r.venue_liquidations,
                         r.venue_liquidations == 1 ? "" : "s");
    if (r.venue_liquidations > 0 && steps)
      out += fmt::format("crypto venues liquidate {} account{}: {}\n", r.venue_liquidations,
                         r.venue_liquidations == 1 ? "" : "s", on_days(o.trace.venue));
    if (model.settlement_active) out += format_settlement(model, r);
    out += format_lending(model, o.trace);
    out += format_venue(model, o.trace);
    for (const auto& e : o.trace.events) {
      const CcpModel& ccp = model.ccps[static_cast<std::size_t>(e.ccp)];
      out += fmt::format("\n  {} waterfall, round {}{}{}\n", ccp.id, e.round,
                         steps ? fmt::format(" (day {})", e.day) : std::string(),
                         e.link_losses ? ": losses over its links" : "");
      out += fmt::format("    {:<22} {:>14} {:>12} {:>12} {:>14} {:>14}\n", "defaulter", "close-out loss", "own IM",
                         "own DF", "left to mutual", "to its estate");
      for (const auto& d : e.defaulters)
        out += fmt::format("    {:<22} {:>14} {:>12} {:>12} {:>14} {:>14}\n",
                           line_name(model, d) + (d.liquidated ? " (liq.)" : ""), money(d.loss), money(d.im_used),
                           money(d.df_used), money(d.residual),
                           d.to_insurance_fund > 0.0 ? "fund " + money(d.to_insurance_fund) : money(d.estate_return));
      double total = 0.0;
      for (double x : e.by_layer) total += x;
      for (double x : e.recovery) total += x;
      total += e.uncovered;
      out += fmt::format("    {:<22} {:>14} {:>8}\n", "layer", "absorbed", "share");
      for (const auto layer : e.link_losses ? link_loss_layers(ccp) : ccp.waterfall) {
        const double x = e.by_layer[static_cast<std::size_t>(layer)];
        out += fmt::format("    {:<22} {:>14} {:>7.1f}%\n", models::layer_name(layer), money(x),
                           total > 0 ? 100.0 * x / total : 0.0);
      }
      for (const auto tool : ccp.recovery) {
        const double x = e.recovery[static_cast<std::size_t>(tool)];
        out += fmt::format("    {:<22} {:>14} {:>7.1f}%  (recovery tool)\n", models::recovery_tool_name(tool), money(x),
                           total > 0 ? 100.0 * x / total : 0.0);
      }
      out += fmt::format("    {:<22} {:>14} {:>7.1f}%{}\n", "UNCOVERED", money(e.uncovered),
                         total > 0 ? 100.0 * e.uncovered / total : 0.0,
                         !(e.uncovered > 0)    ? ""
                         : failed_before(r, e) ? "  -> a late loss the failed CCP's creditors bear"
                                               : "  -> the CCP fails");
      if (e.fails && (e.link_replacement != 0.0 || e.round_uncovered != e.uncovered)) {
        if (e.round_uncovered != e.uncovered)
          out += fmt::format("    {:<22} {:>14}  with its other waterfall of the round\n", "uncovered in the round",
                             money(e.round_uncovered));
        out += fmt::format("    {:<22} {:>14}  replacing its link positions at the standing linked CCPs\n",
                           "+ link replacement", money(e.link_replacement));
        out += fmt::format("    {:<22} {:>14}  shared by its creditors\n", "= SHORTFALL", money(e.shortfall));
      }
      if (e.insurance_fund_start > 0.0 || e.insurance_fund_surpluses > 0.0 || e.insurance_fund_end > 0.0)
        out += fmt::format("    insurance fund {} + surpluses {} - paid {} = {}\n", money(e.insurance_fund_start),
                           money(e.insurance_fund_surpluses),
                           money(e.insurance_fund_start + e.insurance_fund_surpluses - e.insurance_fund_end),
                           money(e.insurance_fund_end));
      if (!e.adl.empty()) {
        out += fmt::format("    {:<22} {:>5} {:>14} {:>14} {:>14}\n", "deleveraged (adl)", "rank", "contracts",
                           "at price", "loss vs mark");
        for (const auto& a : e.adl)
          out += fmt::format("    {:<22} {:>5} {:>14} {:>14} {:>14}\n", account_name(model, a.account), a.rank,
                             a.contracts > 0.0 ? fmt::format("{:.6g}", a.contracts) : "whole gain",
                             a.contracts > 0.0 ? fmt::format("{:.6g}", a.price) : "-", money(a.loss_vs_mark));
        if (e.adl_cost_avoided > 0.0)
          out += fmt::format("    close-out cost not incurred on the contracts closed by ADL: {}\n",
                             money(e.adl_cost_avoided));
      }
    }
    out += format_default_management(model, r);
    out += fmt::format(
        "\n  total close-out loss {}, borne by others than the defaulters {}, left by failed CCPs' layers to their "
        "creditors {}\n\n",
        money(r.closeout_loss), money(r.total_loss), money(r.uncovered));
  }
  return out;
}

nlohmann::ordered_json stress_json(const Model& model, const std::vector<StressOutcome>& outcomes) {
  using json = nlohmann::ordered_json;
  json all = json::array();
  for (const auto& o : outcomes) {
    const ScenarioResult& r = o.result;
    json j;
    j["name"] = o.stress.name;
    j["days"] = o.stress.length_days();
    json moves = json::object();
    for (const auto& [id, m] : o.stress.total_moves()) moves[id] = m;
    j["moves"] = moves;
    if (!o.stress.vol_moves.empty()) {
      json vol_moves = json::object();
      for (const auto& [id, v] : o.stress.vol_moves) vol_moves[id] = v;
      j["vol_moves"] = vol_moves;
    }
    j["cascade_rounds"] = r.rounds;
    j["closeout_loss"] = r.closeout_loss;
    j["total_loss"] = r.total_loss;
    j["uncovered_loss"] = r.uncovered;
    json defaults = json::array();
    const bool steps = model.steps.count > 0;
    for (const auto& d : r.defaults) {
      json e = {{"member", model.members[static_cast<std::size_t>(d.member)].id},
                {"round", d.round},
                {"cause", cause_name(d.cause)}};
      if (steps) e["day"] = d.day;
      defaults.push_back(std::move(e));
    }
    j["member_defaults"] = defaults;
    j["liquidity_shortfall"] = r.liquidity_shortfall;
    if (model.liquidity_needs) j["peak_liquidity_need"] = r.peak_liquidity_need;
    j["liquidations"] = r.liquidations;
    j["lending"] = lending_json(model, o.trace);
    j["venue_liquidations"] = venue_json(model, o.trace);
    if (model.settlement_active) {
      json st;
      json chains = json::object();
      for (std::size_t k = 0; k < model.chains.size(); ++k) {
        const double* m = &r.settlement.chain[k * kChainMetrics];
        chains[model.chains[k].id] = {{"finality_hours", m[static_cast<int>(ChainMetric::kHours)]},
                                      {"congested", m[static_cast<int>(ChainMetric::kCongested)] > 0},
                                      {"halted", m[static_cast<int>(ChainMetric::kHalted)] > 0},
                                      {"fails", m[static_cast<int>(ChainMetric::kFails)]},
                                      {"loss", m[static_cast<int>(ChainMetric::kLoss)]},
                                      {"late_inflows", m[static_cast<int>(ChainMetric::kLateInflows)]}};
      }
      st["chains"] = chains;
      json exploited = json::array(), exploit_days = json::object();
      for (std::size_t b = 0; b < model.bridges.size(); ++b) {
        if (r.settlement.bridge[b * kBridgeMetrics + static_cast<int>(BridgeMetric::kExploited)] <= 0) continue;
        exploited.push_back(model.bridges[b].id);
        if (const double day = exploit_day(model, r, b); !std::isnan(day)) exploit_days[model.bridges[b].id] = day;
      }
      st["exploited_bridges"] = exploited;
      if (steps) st["exploit_days"] = exploit_days;
      json per_ccp = json::object();
      for (std::size_t c = 0; c < model.ccps.size(); ++c)
        per_ccp[model.ccps[c].id] = {{"fails", r.settlement.get(c, CcpSettleMetric::kFails)},
                                     {"principal_lost", r.settlement.get(c, CcpSettleMetric::kPrincipalLost)},
                                     {"replacement_cost", r.settlement.get(c, CcpSettleMetric::kReplacementCost)},
                                     {"late_inflows", r.settlement.get(c, CcpSettleMetric::kLateInflows)},
                                     {"margin_calls", r.settlement.get(c, CcpSettleMetric::kMarginCalls)}};
      st["ccps"] = per_ccp;
      st["settlement_defaults"] = r.settlement_defaults;
      if (steps) st["days"] = settlement_days_json(model, r);
      j["settlement"] = st;
    }
    json ccps = json::object();
    for (std::size_t c = 0; c < model.ccps.size(); ++c) {
      json e;
      e["failed"] = r.ccp_fail_round[c] >= 0;
      if (r.ccp_fail_round[c] >= 0) {
        e["failure_round"] = r.ccp_fail_round[c];
        if (steps) e["failure_day"] = r.ccp_fail_day[c];
        e["fail_cause"] = r.ccp_fail_cause[c] == FailureCause::kLinks ? "links" : "members";
      }
      if (model.liquidity_needs) e["peak_liquidity_need"] = r.ccp_peak_liquidity_need[c];
      json layers = json::object();
      for (const auto layer : model.ccps[c].waterfall)
        layers[std::string(models::layer_name(layer))] =
            r.ccp_layers[c * models::kLayerCount + static_cast<std::size_t>(layer)];
      e["layer_losses"] = layers;
      e["uncovered"] = r.ccp_uncovered[c];
      json ledger = json::object();
      for (std::size_t k = 0; k < kLedgerColumns; ++k)
        ledger[ledger_column_name(static_cast<LedgerColumn>(k))] = ledger_value(r, c, static_cast<LedgerColumn>(k));
      e["ledger"] = ledger;
      if (model.ccps[c].auction || !model.ccps[c].recovery.empty())
        e["default_management"] = default_management_json(model, r, c);
      ccps[model.ccps[c].id] = e;
    }
    j["ccps"] = ccps;
    json events = json::array();
    for (const auto& e : o.trace.events) {
      json ev;
      ev["round"] = e.round;
      if (steps) ev["day"] = e.day;
      ev["ccp"] = model.ccps[static_cast<std::size_t>(e.ccp)].id;
      json ds = json::array();
      for (const auto& d : e.defaulters)
        ds.push_back({{"account", line_name(model, d)},
                      {"closeout_loss", d.loss},
                      {"im_used", d.im_used},
                      {"df_used", d.df_used},
                      {"left_to_mutual_layers", d.residual},
                      {"estate_return", d.estate_return},
                      {"liquidated", d.liquidated},
                      {"to_insurance_fund", d.to_insurance_fund}});
      ev["defaulters"] = ds;
      json layers = json::object();
      for (const auto layer : model.ccps[static_cast<std::size_t>(e.ccp)].waterfall)
        layers[std::string(models::layer_name(layer))] = e.by_layer[static_cast<std::size_t>(layer)];
      ev["layers"] = layers;
      ev["uncovered"] = e.uncovered;
      ev["fails"] = e.fails;
      ev["link_replacement"] = e.link_replacement;
      ev["shortfall"] = e.shortfall;
      const CcpModel& event_ccp = model.ccps[static_cast<std::size_t>(e.ccp)];
      if (!event_ccp.recovery.empty()) {
        json tools = json::object();
        for (const auto tool : event_ccp.recovery)
          tools[std::string(models::recovery_tool_name(tool))] = e.recovery[static_cast<std::size_t>(tool)];
        ev["recovery"] = tools;
      }
      ev["insurance_fund"] = {
          {"start", e.insurance_fund_start}, {"surpluses", e.insurance_fund_surpluses}, {"end", e.insurance_fund_end}};
      json adl = json::array();
      for (const auto& a : e.adl)
        adl.push_back({{"account", account_name(model, a.account)},
                       {"contracts", a.contracts},
                       {"price", a.price},
                       {"loss_vs_mark", a.loss_vs_mark},
                       {"rank", a.rank},
                       {"priority", a.priority}});
      ev["adl"] = adl;
      if (std::find(event_ccp.waterfall.begin(), event_ccp.waterfall.end(), models::Layer::kAdl) !=
          event_ccp.waterfall.end())
        ev["adl_cost_avoided"] = e.adl_cost_avoided;
      events.push_back(ev);
    }
    j["waterfalls"] = events;
    all.push_back(j);
  }
  json sizing = json::object();
  for (const CcpModel& ccp : model.ccps) sizing[ccp.id] = fund_sizing_json(ccp);
  return json{{"ccpnet_version", CCPNET_VERSION},
              {"scenario", model.name},
              {"default_fund_sizing", sizing},
              {"stress_scenarios", all}};
}

std::string stress_layers_csv(const Model& model, const std::vector<StressOutcome>& outcomes) {
  std::string out = "stress_scenario,round,ccp,layer,amount\n";
  for (const auto& o : outcomes)
    for (const auto& e : o.trace.events) {
      for (const auto layer : model.ccps[static_cast<std::size_t>(e.ccp)].waterfall)
        out += fmt::format("{},{},{},{},{}\n", csv_field(o.stress.name), e.round,
                           csv_field(model.ccps[static_cast<std::size_t>(e.ccp)].id), models::layer_name(layer),
                           e.by_layer[static_cast<std::size_t>(layer)]);
      for (const auto tool : model.ccps[static_cast<std::size_t>(e.ccp)].recovery)
        out += fmt::format("{},{},{},{},{}\n", csv_field(o.stress.name), e.round,
                           csv_field(model.ccps[static_cast<std::size_t>(e.ccp)].id), models::recovery_tool_name(tool),
                           e.recovery[static_cast<std::size_t>(tool)]);
      out += fmt::format("{},{},{},uncovered,{}\n", csv_field(o.stress.name), e.round,
                         csv_field(model.ccps[static_cast<std::size_t>(e.ccp)].id), e.uncovered);
      if (e.link_replacement != 0.0)
        out += fmt::format("{},{},{},link_replacement,{}\n", csv_field(o.stress.name), e.round,
                           csv_field(model.ccps[static_cast<std::size_t>(e.ccp)].id), e.link_replacement);
    }
  return out;
}

}  // namespace ccpnet
