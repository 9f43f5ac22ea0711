#include "sim/cascade.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "sim/model.hpp"

namespace ccpnet {

namespace {
// Losses below this (USD) are rounding, not a CCP failure.
constexpr double kTolerance = 1e-6;
}  // namespace

const char* cause_name(DefaultCause cause) {
  switch (cause) {
    case DefaultCause::kNone: return "none";
    case DefaultCause::kExogenous: return "exogenous";
    case DefaultCause::kLatent: return "latent";
    case DefaultCause::kSolvency: return "solvency";
    case DefaultCause::kLiquidity: return "liquidity";
    case DefaultCause::kGroup: return "group";
  }
  return "?";
}

void ScenarioResult::reset(const Model& model, std::int64_t scenario) {
  index = scenario;
  market_factor = 0.0;
  rounds = 0;
  closeout_loss = total_loss = uncovered = 0.0;
  const std::size_t n = model.ccps.size();
  ccp_layers.assign(n * models::kLayerCount, 0.0);
  ccp_uncovered.assign(n, 0.0);
  ccp_df_used.assign(n, 0.0);
  ccp_link_shortfall.assign(n, 0.0);
  ccp_fail_round.assign(n, -1);
  defaults.clear();
  liquidity_shortfall = 0.0;
  settlement_defaults = 0;
  liquidations = 0;
  settlement.reset(model);
}

int ScenarioResult::ccp_failures() const {
  return static_cast<int>(std::count_if(ccp_fail_round.begin(), ccp_fail_round.end(), [](auto r) { return r >= 0; }));
}

double ScenarioResult::ccp_loss(std::size_t c) const {
  double loss = ccp_uncovered[c];
  for (std::size_t l = 0; l < models::kLayerCount; ++l) {
    const auto layer = static_cast<models::Layer>(l);
    if (layer == models::Layer::kDefaulterIm || layer == models::Layer::kDefaulterDf) continue;
    loss += ccp_layers[c * models::kLayerCount + l];
  }
  return loss;
}

Cascade::Cascade(const Model& model) : model_(model) {
  link_accounts_of_.assign(model.ccps.size(), {});
  for (std::size_t a = 0; a < model.accounts.size(); ++a)
    if (model.accounts[a].kind == AccountKind::kLink)
      link_accounts_of_[static_cast<std::size_t>(model.accounts[a].owner)].push_back(static_cast<int>(a));
  peer_link_fund_.assign(model.accounts.size(), 0);
  for (std::size_t a = 0; a < model.accounts.size(); ++a) {
    const Account& acc = model.accounts[a];
    if (acc.kind != AccountKind::kLink || acc.default_fund <= 0.0) continue;
    peer_link_fund_[a] = std::none_of(model.links.begin(), model.links.end(), [&](const LinkModel& l) {
      return l.model == config::LinkModel::kParticipant && l.account_at_second == static_cast<int>(a);
    });
  }
  for (const auto& ccp : model.ccps) {
    // Position of the first layer that charges surviving accounts.
    std::size_t first = ccp.waterfall.size();
    for (std::size_t i = 0; i < ccp.waterfall.size() && first == ccp.waterfall.size(); ++i) {
      switch (ccp.waterfall[i]) {
        case models::Layer::kMutualizedDf:
        case models::Layer::kAssessments:
        case models::Layer::kVmgh:
        case models::Layer::kAdl:
        case models::Layer::kLenderHaircut: first = i; break;
        default: break;
      }
    }
    first_mutual_.push_back(first);
    const auto has = [&](models::Layer l) {
      return std::find(ccp.waterfall.begin(), ccp.waterfall.end(), l) != ccp.waterfall.end();
    };
    needs_adl_.push_back(has(models::Layer::kAdl));
    needs_lender_.push_back(has(models::Layer::kLenderHaircut));
  }
}

void Cascade::run(std::span<const double> account_pnl, std::span<const double> member_capital,
                  std::span<const double> member_cash, std::span<const DefaultCause> initial, ScenarioResult& out,
                  CascadeTrace* trace, const SettlementState* settlement, std::span<const Liquidation> liquidations) {
  const std::size_t n_members = model_.members.size();
  const std::size_t n_accounts = model_.accounts.size();
  const std::size_t n_ccps = model_.ccps.size();

  // State is initialised lazily, on first touch in this scenario (epoch
  // stamps): a scenario with a few defaults touches a few accounts, not all.
  if (account_stamp_.size() != n_accounts) account_stamp_.assign(n_accounts, 0);
  if (member_stamp_.size() != n_members) member_stamp_.assign(n_members, 0);
  df_left_.resize(n_accounts);
  assess_cap_.resize(n_accounts);
  vm_gain_.resize(n_accounts);
  adl_left_.resize(n_accounts);
  lender_left_.resize(n_accounts);
  closed_.resize(n_accounts);
  liquidated_.resize(n_accounts);
  bad_debt_.resize(n_accounts);
  capital_.resize(n_members);
  cash_.resize(n_members);
  member_round_.resize(n_members);
  missed_call_.resize(n_members);
  checked_round_.resize(n_members);
  if (++epoch_ == 0) {  // wrapped: forget every stamp
    std::fill(account_stamp_.begin(), account_stamp_.end(), 0);
    std::fill(member_stamp_.begin(), member_stamp_.end(), 0);
    epoch_ = 1;
  }
  const auto member = [&](std::size_t m) {
    if (member_stamp_[m] != epoch_) {
      member_stamp_[m] = epoch_;
      capital_[m] = model_.members[m].capital + member_capital[m];
      cash_[m] = model_.members[m].liquidity + member_cash[m];
      member_round_[m] = -1;
      missed_call_[m] = 0;
      checked_round_[m] = -1;
    }
    return m;
  };
  const auto account = [&](std::size_t a) {
    if (account_stamp_[a] != epoch_) {
      account_stamp_[a] = epoch_;
      const Account& acc = model_.accounts[a];
      df_left_[a] = acc.default_fund * (settlement ? settlement->df_kept[static_cast<std::size_t>(acc.ccp)] : 1.0);
      assess_cap_[a] = acc.default_fund * model_.ccps[static_cast<std::size_t>(acc.ccp)].assessment_multiple;
      vm_gain_[a] = std::max(0.0, account_pnl[a]);
      adl_left_[a] = acc.kind == AccountKind::kMember ? std::max(0.0, account_pnl[a]) : 0.0;
      lender_left_[a] = acc.kind == AccountKind::kMember ? acc.notional : 0.0;
      closed_[a] = 0;
      liquidated_[a] = 0;
      bad_debt_[a] = 0.0;
    }
    return a;
  };
  resources_.resize(n_ccps);
  ccp_shortfall_.assign(n_ccps, 0.0);
  ccp_round_.assign(n_ccps, -1);
  for (std::size_t c = 0; c < n_ccps; ++c) {
    const CcpModel& ccp = model_.ccps[c];
    resources_[c] = {ccp.sitg, ccp.sitg2, ccp.insurance_fund, std::max(0.0, ccp.capital - ccp.sitg - ccp.sitg2)};
  }

  std::vector<int> new_members, new_ccps;  // defaulted / failed in the previous round
  for (std::size_t m = 0; m < n_members; ++m) {
    if (initial[m] == DefaultCause::kNone) continue;
    member_round_[member(m)] = 0;
    out.defaults.push_back({static_cast<int>(m), 0, initial[m]});
    new_members.push_back(static_cast<int>(m));
  }

  // Charges on a CCP's equity as a participant at another CCP.
  const auto charge_ccp = [&](int c, double amount) {
    auto& r = resources_[static_cast<std::size_t>(c)];
    const double from_equity = std::min(r.equity, amount);
    r.equity -= from_equity;
    ccp_shortfall_[static_cast<std::size_t>(c)] += amount - from_equity;
  };
  const auto owner_alive = [&](const Account& acc) {
    switch (acc.kind) {
      case AccountKind::kMember: return member_round_[member(static_cast<std::size_t>(acc.owner))] < 0;
      case AccountKind::kLink: return ccp_round_[static_cast<std::size_t>(acc.owner)] < 0;
      case AccountKind::kRestOfMarket: return true;
    }
    return true;
  };

  int round = 0, last_active = 0;
  std::vector<std::vector<int>> closing(n_ccps);  // accounts closed out at each CCP this round
  std::vector<int> touched;                       // members charged this round
  bool any_liquidated = false;
  for (const Liquidation& l : liquidations) {
    const auto ai = account(static_cast<std::size_t>(l.account));
    liquidated_[ai] = l.liquidated;
    bad_debt_[ai] = l.bad_debt;
    any_liquidated = any_liquidated || l.liquidated;
  }
  while (!new_members.empty() || !new_ccps.empty() || (round == 0 && any_liquidated)) {
    ++round;
    for (auto& v : closing) v.clear();
    touched.clear();
    // Lending protocols liquidate their under-collateralised accounts in round 1.
    if (round == 1)
      for (const Liquidation& l : liquidations)
        if (l.liquidated)
          closing[static_cast<std::size_t>(model_.accounts[static_cast<std::size_t>(l.account)].ccp)].push_back(
              l.account);
    for (int m : new_members)
      for (int a : model_.members[static_cast<std::size_t>(m)].accounts)
        closing[static_cast<std::size_t>(model_.accounts[static_cast<std::size_t>(a)].ccp)].push_back(a);
    for (int c : new_ccps)
      for (int a : link_accounts_of_[static_cast<std::size_t>(c)])
        closing[static_cast<std::size_t>(model_.accounts[static_cast<std::size_t>(a)].ccp)].push_back(a);
    new_members.clear();
    new_ccps.clear();
    std::vector<int> failed_now;
    // ---- 1. close out the previous round's defaulters, CCP by CCP
    for (std::size_t c = 0; c < n_ccps; ++c) {
      if (ccp_round_[c] >= 0 || closing[c].empty()) continue;  // a failed CCP runs no further waterfall
      const CcpModel& ccp = model_.ccps[c];
      std::sort(closing[c].begin(), closing[c].end());
      defaulters_.clear();
      defaulter_accounts_.clear();
      survivors_.clear();
      survivor_accounts_.clear();
      for (int a : closing[c]) {
        const auto ai = account(static_cast<std::size_t>(a));
        if (closed_[ai]) continue;
        const Account& acc = model_.accounts[ai];
        models::Defaulter d;
        if (ccp.lending && acc.kind == AccountKind::kMember) {
          // A lending protocol loses the bad debt of a borrower it closes out
          // (liquidated, or its owner defaulted), nothing on a lender's deposits.
          d.loss = bad_debt_[ai];
          defaulters_.push_back(d);
          defaulter_accounts_.push_back(a);
          closed_[ai] = 1;
          continue;
        }
        d.loss = -account_pnl[ai] + acc.liquidation_cost;
        d.im = acc.initial_margin;
        if (settlement && acc.kind == AccountKind::kMember) {
          // What the CCP holds after the scenario's margin calls: paid unless
          // the member defaulted at the start.
          if (settlement->im_adjusted[c])
            d.im = member_round_[static_cast<std::size_t>(acc.owner)] == 0 ? settlement->im_unpaid[ai]
                                                                           : settlement->im_paid[ai];
          // Free of payment: the CCP delivered first; what was in flight to the defaulter is lost.
          if (!settlement->principal.empty() && settlement->principal[ai] > 0.0) {
            d.loss += settlement->principal[ai];
            out.settlement.at(c, CcpSettleMetric::kFails) += 1.0;
            out.settlement.at(c, CcpSettleMetric::kPrincipalLost) += settlement->principal[ai];
            const int chain = ccp.settlement.chain;
            if (chain >= 0) {
              out.settlement.at_chain(static_cast<std::size_t>(chain), ChainMetric::kFails) += 1.0;
              out.settlement.at_chain(static_cast<std::size_t>(chain), ChainMetric::kLoss) += settlement->principal[ai];
            }
          }
        }
        d.df = df_left_[ai];
        defaulters_.push_back(d);
        defaulter_accounts_.push_back(a);
        closed_[ai] = 1;  // closed out now: not a survivor below
      }
      if (defaulters_.empty()) continue;
      // Survivors are only needed when the loss reaches a layer that charges
      // them: first try the waterfall without them; if everything was absorbed
      // before the first survivor-charging layer, that is the exact outcome
      // (most defaults in most scenarios stop at the defaulters' own IM and DF,
      // or at SITG).
      last_active = round;
      models::CcpResources trial = resources_[c];
      models::WaterfallOutcome wf = models::run_waterfall(ccp.waterfall, defaulters_, survivors_, trial);
      bool needs_survivors = wf.uncovered > 0.0;
      for (std::size_t i = first_mutual_[c]; i < ccp.waterfall.size() && !needs_survivors; ++i)
        needs_survivors = wf.by_layer[static_cast<std::size_t>(ccp.waterfall[i])] > 0.0;
      if (!needs_survivors) {
        resources_[c] = trial;
      } else {
        for (int a : ccp.accounts) {
          const auto ai = account(static_cast<std::size_t>(a));
          if (closed_[ai]) continue;
          const Account& acc = model_.accounts[ai];
          if (!owner_alive(acc)) continue;
          models::Survivor& s = survivors_.emplace_back();
          // A peer link fund covers only the link's own default (ESMA): it is
          // not mutualised with the members' fund.
          const bool peer_link = peer_link_fund_[ai];
          s.df = peer_link ? 0.0 : df_left_[ai];
          s.assessment_cap = peer_link ? 0.0 : assess_cap_[ai];
          s.cash = acc.kind == AccountKind::kMember ? std::max(0.0, cash_[static_cast<std::size_t>(acc.owner)])
                   : acc.kind == AccountKind::kLink ? resources_[static_cast<std::size_t>(acc.owner)].equity
                                                    : 0.0;
          s.vm_gain = vm_gain_[ai];
          if (needs_adl_[c]) {
            s.adl_gain = adl_left_[ai];
            s.adl_rank = models::adl_rank(account_pnl[ai], acc.initial_margin, acc.notional);
          }
          if (needs_lender_[c]) s.lender_balance = lender_left_[ai];
          survivor_accounts_.push_back(a);
        }
        wf = models::run_waterfall(ccp.waterfall, defaulters_, survivors_, resources_[c]);
      }
      for (std::size_t l = 0; l < models::kLayerCount; ++l)
        out.ccp_layers[c * models::kLayerCount + l] += wf.by_layer[l];
      out.closeout_loss += wf.loss;
      out.ccp_df_used[c] += wf.by_layer[static_cast<std::size_t>(models::Layer::kDefaulterDf)] +
                            wf.by_layer[static_cast<std::size_t>(models::Layer::kMutualizedDf)];
      for (std::size_t i = 0; i < defaulters_.size(); ++i)
        df_left_[static_cast<std::size_t>(defaulter_accounts_[i])] -= defaulters_[i].df_used;
      if (trace) {
        WaterfallEvent event{round, static_cast<int>(c), {}, wf.by_layer, wf.uncovered};
        for (std::size_t i = 0; i < defaulters_.size(); ++i) {
          const auto& d = defaulters_[i];
          const double after_own = std::max(0.0, d.loss) - d.im_used - d.df_used;
          event.defaulters.push_back(
              {defaulter_accounts_[i], d.loss, d.im_used, d.df_used, after_own, d.estate_return});
        }
        trace->events.push_back(std::move(event));
      }
      const double uncovered = wf.uncovered;
      if (uncovered > kTolerance) {
        // The CCP fails: the VM gains it still owes its survivors go unpaid,
        // pro rata, up to the loss left.
        double owed = 0.0;
        for (const auto& s : survivors_) owed += s.vm_gain;
        const double rate = owed > 0.0 ? std::min(1.0, uncovered / owed) : 0.0;
        for (auto& s : survivors_) {
          const double unpaid = s.vm_gain * rate;
          s.vm_gain -= unpaid;
          s.vmgh_charged += unpaid;
        }
        out.ccp_uncovered[c] += uncovered;
        failed_now.push_back(static_cast<int>(c));
      }
      // Charges on the survivors.
      for (std::size_t i = 0; i < survivors_.size(); ++i) {
        const auto ai = static_cast<std::size_t>(survivor_accounts_[i]);
        const Account& acc = model_.accounts[ai];
        const models::Survivor& s = survivors_[i];
        const double vm_cut = vm_gain_[ai] - s.vm_gain;
        df_left_[ai] -= s.df_charged;
        assess_cap_[ai] -= s.assessment_paid + s.assessment_unpaid;
        adl_left_[ai] -= s.adl_charged;
        lender_left_[ai] -= s.lender_charged;
        vm_gain_[ai] = s.vm_gain;
        const double capital_charge = s.df_charged + s.assessment_paid + vm_cut + s.adl_charged + s.lender_charged;
        if (acc.kind == AccountKind::kMember) {
          const auto m = static_cast<std::size_t>(acc.owner);
          capital_[m] -= capital_charge;
          cash_[m] -= s.assessment_paid + vm_cut;
          if (s.missed_call) missed_call_[m] = 1;
          if ((capital_charge > 0.0 || s.missed_call) && checked_round_[m] != round) {
            checked_round_[m] = round;
            touched.push_back(static_cast<int>(m));
          }
        } else if (acc.kind == AccountKind::kLink) {
          charge_ccp(acc.owner, capital_charge);
        }
      }
    }
    // ---- 2. consequences of CCP failures
    // A CCP whose equity cannot pay what it was charged as a linked
    // counterparty fails too. Those dollars are already counted in the layer
    // that charged it (e.g. VMGH at the peer): passing the shortfall on to its
    // own members' unpaid VM gains moves them, it creates no new loss.
    for (std::size_t c = 0; c < n_ccps; ++c) {
      if (ccp_round_[c] >= 0 || ccp_shortfall_[c] <= kTolerance ||
          std::find(failed_now.begin(), failed_now.end(), static_cast<int>(c)) != failed_now.end())
        continue;
      failed_now.push_back(static_cast<int>(c));
      out.ccp_link_shortfall[c] = ccp_shortfall_[c];
      double owed = 0.0;
      for (int a : model_.ccps[c].accounts) {
        const auto ai = account(static_cast<std::size_t>(a));
        if (!closed_[ai] && owner_alive(model_.accounts[ai])) owed += vm_gain_[ai];
      }
      const double rate = owed > 0.0 ? std::min(1.0, ccp_shortfall_[c] / owed) : 0.0;
      for (int a : model_.ccps[c].accounts) {
        const auto ai = static_cast<std::size_t>(a);
        const Account& acc = model_.accounts[ai];
        if (closed_[ai] || !owner_alive(acc) || rate <= 0.0) continue;
        const double unpaid = vm_gain_[ai] * rate;
        vm_gain_[ai] -= unpaid;
        if (acc.kind == AccountKind::kMember) {
          const auto m = static_cast<std::size_t>(acc.owner);
          capital_[m] -= unpaid;
          cash_[m] -= unpaid;
          if (checked_round_[m] != round) {
            checked_round_[m] = round;
            touched.push_back(static_cast<int>(m));
          }
        } else if (acc.kind == AccountKind::kLink) {
          charge_ccp(acc.owner, unpaid);
        }
      }
    }
    std::sort(failed_now.begin(), failed_now.end());
    for (int c : failed_now) {
      const auto ci = static_cast<std::size_t>(c);
      ccp_round_[ci] = round;
      out.ccp_fail_round[ci] = static_cast<std::int8_t>(std::min(round, 127));
      const CcpModel& ccp = model_.ccps[ci];
      for (int a : ccp.accounts) {
        const auto ai = account(static_cast<std::size_t>(a));
        const Account& acc = model_.accounts[ai];
        if (closed_[ai] || !owner_alive(acc)) continue;
        if (acc.kind == AccountKind::kMember) {
          const auto m = static_cast<std::size_t>(acc.owner);
          double lost = df_left_[ai];  // a prefunded contribution to a failed CCP is gone
          if (!ccp.im_segregated) lost += acc.initial_margin * (1.0 - ccp.im_recovery_rate);
          capital_[m] -= lost;
          // Free of payment: the member performed first; what was in flight from the failed CCP is lost.
          if (settlement && !settlement->principal.empty() && settlement->principal[ai] > 0.0) {
            const double principal = settlement->principal[ai];
            capital_[m] -= principal;
            cash_[m] -= principal;
            out.settlement.at(ci, CcpSettleMetric::kFails) += 1.0;
            out.settlement.at(ci, CcpSettleMetric::kPrincipalLost) += principal;
            if (ccp.settlement.chain >= 0) {
              out.settlement.at_chain(static_cast<std::size_t>(ccp.settlement.chain), ChainMetric::kFails) += 1.0;
              out.settlement.at_chain(static_cast<std::size_t>(ccp.settlement.chain), ChainMetric::kLoss) += principal;
            }
          }
          if (checked_round_[m] != round) {
            checked_round_[m] = round;
            touched.push_back(static_cast<int>(m));
          }
        } else if (acc.kind == AccountKind::kLink) {
          for (const auto& link : model_.links) {
            if (link.account_at_first != a && link.account_at_second != a) continue;
            if (!link.segregated) charge_ccp(acc.owner, acc.initial_margin * (1.0 - link.recovery_rate));
          }
        }
        closed_[ai] = 1;
      }
      new_ccps.push_back(c);  // linked CCPs close out their link next round
    }
    // ---- 3. solvency and liquidity of the members charged this round, in index order
    std::sort(touched.begin(), touched.end());
    for (int mi : touched) {
      const auto m = static_cast<std::size_t>(mi);
      if (member_round_[m] >= 0) continue;
      DefaultCause cause = DefaultCause::kNone;
      if (capital_[m] < 0.0) {
        cause = DefaultCause::kSolvency;
      } else if (cash_[m] < 0.0 || missed_call_[m]) {
        cause = DefaultCause::kLiquidity;
        out.liquidity_shortfall += std::max(0.0, -cash_[m]);
        if (settlement && !missed_call_[m] && cash_[m] + settlement->late_inflow[m] >= 0.0) ++out.settlement_defaults;
      }
      if (cause == DefaultCause::kNone) continue;
      member_round_[m] = round;
      out.defaults.push_back({mi, round, cause});
      new_members.push_back(mi);
      last_active = round;
    }
    // Members of one group default together, wherever they are members.
    const std::size_t own = new_members.size();
    for (std::size_t i = 0; i < own; ++i) {
      const int g = model_.members[static_cast<std::size_t>(new_members[i])].group;
      for (int other : model_.groups[static_cast<std::size_t>(g)]) {
        const auto o = member(static_cast<std::size_t>(other));
        if (member_round_[o] >= 0) continue;
        member_round_[o] = round;
        out.defaults.push_back({other, round, DefaultCause::kGroup});
        new_members.push_back(other);
      }
    }
    if (round > static_cast<int>(n_members + n_ccps) + 1) break;  // cannot happen: each defaults once
  }
  out.rounds = last_active;
  for (std::size_t c = 0; c < n_ccps; ++c) {
    out.uncovered += out.ccp_uncovered[c];
    out.total_loss += out.ccp_loss(c);
  }
#ifndef NDEBUG
  // Conservation (SPEC 3.11): every dollar of close-out loss is taken by a
  // named layer of a named CCP or reported as uncovered.
  double accounted = out.uncovered;
  for (double x : out.ccp_layers) accounted += x;
  assert(std::abs(accounted - out.closeout_loss) <= 1e-9 * std::max(1.0, out.closeout_loss) &&
         "cascade lost track of a loss");
#endif
}

}  // namespace ccpnet
