#include "sim/settlement.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "models/margin/addons.hpp"
#include "models/settlement/finality.hpp"
#include "sim/model.hpp"

namespace ccpnet {

namespace {

// Substreams of rng::Stream::kSettlement. Never renumber. Time step k uses
// kChainDraws + 2k and kDelayMoves + 2k (step 0: one period's).
constexpr std::uint64_t kChainDraws = 0;  // finality and halt per chain, exploit per bridge
constexpr std::uint64_t kDelayMoves = 1;  // one normal per asset: price move over a swap's time lock

// The step of an exploit drawn with uniform u < p within `steps` steps, at a
// constant hazard that gives probability p over the horizon: the k with
// 1 - (1 - p)^(k / steps) <= u < 1 - (1 - p)^((k + 1) / steps).
int exploit_step(double u, double p, int steps) {
  if (steps <= 1 || p >= 1.0) return 0;
  const double k = std::floor(steps * std::log1p(-u) / std::log1p(-p));
  return std::clamp(static_cast<int>(k), 0, steps - 1);
}
// The part of a rise of IM from `im` to `required` that collateral credited
// beyond today's IM covers, `credited` the value the CCP credits for what the
// account posted (after haircuts, top-ups included): the call is
// max(0, required - credited), not the whole rise (EMIR RTS 153/2013 art. 40:
// collateral valued at least daily and credited after haircuts against the
// margin requirement).
double spiral_credit(double im, double required, double credited) {
  return std::min(std::max(0.0, credited - im), std::max(0.0, required - im));
}
}  // namespace

void SettlementOutcome::reset(const Model& model) {
  if (!model.settlement_active) {
    ccp.clear();
    chain.clear();
    bridge.clear();
    return;
  }
  daily.clear();
  exploit_step.clear();
  ccp.assign(model.ccps.size() * kCcpSettleMetrics, 0.0);
  chain.assign(model.chains.size() * kChainMetrics, 0.0);
  bridge.assign(model.bridges.size() * kBridgeMetrics, 0.0);
}

double SettlementOutcome::total(CcpSettleMetric m) const {
  double sum = 0.0;
  for (std::size_t i = static_cast<std::size_t>(m); i < ccp.size(); i += kCcpSettleMetrics) sum += ccp[i];
  return sum;
}

Settlement::Settlement(const Model& model)
    : model_(model), rng_(model.seed, rng::Stream::kSettlement), spiral_(model), active_(model.settlement_active) {
  min_deadline_ = std::numeric_limits<double>::infinity();
  for (const auto& ccp : model.ccps) {
    min_deadline_ = std::min(min_deadline_, ccp.settlement.deadline_hours);
    every_scenario_ = every_scenario_ || ccp.settlement.spiral || ccp.settlement.collateral_asset >= 0;
  }
}

void Settlement::draw(std::uint64_t index, std::span<const double> first_horizon_returns, SettlementState& state,
                      SettlementOutcome& out) const {
  draw_chains(index, 0, 1, state);
  state.in_steps = false;
  state.defaulted.clear();
  finish_draw(first_horizon_returns, state, out);
}

void Settlement::draw_step(std::uint64_t index, int step, int steps, std::span<const double> step_returns,
                           SettlementState& state, SettlementOutcome& out) const {
  draw_chains(index, step, steps, state);
  state.in_steps = true;
  finish_draw(step_returns, state, out);
}

void Settlement::draw_chains(std::uint64_t index, int step, int steps, SettlementState& state) const {
  const std::size_t n_chains = model_.chains.size(), n_bridges = model_.bridges.size();
  state.chain_hours.resize(n_chains);
  state.chain_halted.assign(n_chains, 0);
  state.bridge_exploited.assign(n_bridges, 0);
  state.step = step;
  if (step == 0) state.exploit_step.assign(n_bridges, -1);
  const auto twice = 2 * static_cast<std::uint64_t>(step);
  state.delay_substream = kDelayMoves + twice;
  // Always the same number of draws in the same order, whatever the
  // parameters: variants of a scenario see the same uniforms.
  rng::Draws draws(rng_, index, kChainDraws + twice);
  for (std::size_t k = 0; k < n_chains; ++k)
    state.chain_hours[k] = models::finality_quantile(model_.chains[k].finality, draws.uniform());
  for (std::size_t k = 0; k < n_chains; ++k) {
    const double p = model_.chains[k].halt_probability;
    const double per_step = steps == 1 ? p : 1.0 - std::pow(1.0 - p, 1.0 / steps);
    state.chain_halted[k] = draws.uniform() < per_step;
  }
  // The exploit within the horizon and its step are drawn at step 0; later
  // steps draw the bridge uniforms too (the stream stays that of one period).
  for (std::size_t b = 0; b < n_bridges; ++b) {
    const double u = draws.uniform(), p = model_.bridges[b].exploit_probability;
    if (step == 0 && u < p) state.exploit_step[b] = exploit_step(u, p, steps);
    state.bridge_exploited[b] = state.exploit_step[b] == step;
  }
  state.stress = false;
}

void Settlement::draw_stress(std::span<const double> first_horizon_returns, std::span<const int> halted,
                             std::span<const int> exploited, SettlementState& state, SettlementOutcome& out, int step,
                             int exploit_at) const {
  const std::size_t n_chains = model_.chains.size(), n_bridges = model_.bridges.size();
  state.chain_hours.resize(n_chains);
  state.chain_halted.assign(n_chains, 0);
  state.step = step;
  if (step == 0) state.exploit_step.assign(n_bridges, -1);
  for (std::size_t k = 0; k < n_chains; ++k) state.chain_hours[k] = model_.chains[k].finality.mean_hours;
  for (int k : halted) state.chain_halted[static_cast<std::size_t>(k)] = 1;
  for (int b : exploited) state.exploit_step[static_cast<std::size_t>(b)] = exploit_at;
  state.bridge_exploited.assign(n_bridges, 0);
  for (std::size_t b = 0; b < n_bridges; ++b) state.bridge_exploited[b] = state.exploit_step[b] == step;
  state.stress = true;
  state.in_steps = false;
  state.delay_substream = kDelayMoves;
  finish_draw(first_horizon_returns, state, out);
}

void Settlement::finish_draw(std::span<const double> first_horizon_returns, SettlementState& state,
                             SettlementOutcome& out) const {
  const std::size_t n_chains = model_.chains.size();
  state.chain_congested.assign(n_chains, 0);
  for (std::size_t k = 0; k < n_chains; ++k) {
    const ChainModel& chain = model_.chains[k];
    if (chain.congests) {
      double move = 0.0;
      if (chain.assets.empty()) {
        for (double r : first_horizon_returns) move += r;
        move /= static_cast<double>(std::max<std::size_t>(1, first_horizon_returns.size()));
      } else {
        for (int a : chain.assets) move += first_horizon_returns[static_cast<std::size_t>(a)];
        move /= static_cast<double>(chain.assets.size());
      }
      if (move <= -chain.congestion_drop) {
        state.chain_congested[k] = 1;
        state.chain_hours[k] *= chain.congestion_multiplier;
      }
    }
    if (state.chain_halted[k]) state.chain_hours[k] += chain.halt_hours;
    // The worst step's (one period: out is reset, these are its draws).
    double& hours = out.at_chain(k, ChainMetric::kHours);
    hours = std::max(hours, state.chain_hours[k]);
    double& congested = out.at_chain(k, ChainMetric::kCongested);
    congested = std::max<double>(congested, state.chain_congested[k]);
    double& halted = out.at_chain(k, ChainMetric::kHalted);
    halted = std::max<double>(halted, state.chain_halted[k]);
  }
  for (std::size_t b = 0; b < model_.bridges.size(); ++b) {
    double& exploited = out.at_bridge(b, BridgeMetric::kExploited);
    exploited = std::max<double>(exploited, state.bridge_exploited[b]);
  }

  // When each CCP's VM is final, and whether anything can matter.
  state.vm_hours.assign(model_.ccps.size(), 0.0);
  state.eventful = every_scenario_;
  for (std::size_t c = 0; c < model_.ccps.size(); ++c) {
    const CcpSettlement& st = model_.ccps[c].settlement;
    if (st.custody_bridge >= 0 && state.bridge_exploited[static_cast<std::size_t>(st.custody_bridge)])
      state.eventful = true;
    if (st.mode == SettlementMode::kInstant) continue;
    const auto k = static_cast<std::size_t>(st.chain);
    double hours = state.chain_hours[k];
    if (st.mode == SettlementMode::kBridge) {
      const auto b = static_cast<std::size_t>(st.bridge);
      hours += model_.bridges[b].delay_hours;
      if (state.bridge_exploited[b]) state.eventful = true;
    }
    if (st.mode == SettlementMode::kL2Optimistic) hours += model_.chains[k].challenge_hours;
    state.vm_hours[c] = hours;
    if (hours > min_deadline_) state.eventful = true;
    if (st.mode == SettlementMode::kAtomic && st.in_flight > 0.0) {
      if (hours > st.time_lock_hours) state.eventful = true;
      for (std::size_t a = 0; a < model_.assets.size() && !state.eventful; ++a) {
        const int ka = model_.asset_chain[a];
        if (ka >= 0 && state.chain_hours[static_cast<std::size_t>(ka)] > st.time_lock_hours) state.eventful = true;
      }
    }
  }
}

void Settlement::apply(std::uint64_t index, std::span<const double> account_pnl, const Eigen::MatrixXd& returns,
                       SettlementState& state, SettlementOutcome& out) const {
  const std::size_t n_members = model_.members.size(), n_ccps = model_.ccps.size();
  state.capital_charge.assign(n_members, 0.0);
  state.cash_charge.assign(n_members, 0.0);
  state.late_inflow.assign(n_members, 0.0);
  state.df_kept.assign(n_ccps, 1.0);
  state.df_step_kept.assign(n_ccps, 1.0);
  state.im_adjusted.assign(n_ccps, 0);
  state.im_unpaid.resize(model_.accounts.size());
  state.im_paid.resize(model_.accounts.size());
  if (!state.in_steps) {
    state.im_called.clear();
    state.collateral_gain.clear();
    state.im_credited.clear();
  } else if (state.step == 0) {
    state.im_called.assign(model_.accounts.size(), 0.0);
    state.collateral_gain.assign(model_.accounts.size(), 0.0);
    state.im_credited.assign(model_.accounts.size(), 0.0);
  }
  if (!state.in_steps || !model_.liquidity_needs)
    state.cash_called.clear();
  else if (state.step == 0)
    state.cash_called.assign(model_.accounts.size() * static_cast<std::size_t>(model_.steps.count), 0.0);
  state.principal.clear();
  std::vector<double>& delay_z = delay_z_;  // drawn on the first aborted swap
  delay_z.clear();
  std::vector<std::uint8_t>& vm_lost = vm_lost_;
  vm_lost.assign(model_.accounts.size(), 0);
  const auto charge = [&](std::size_t m, double amount) {
    state.capital_charge[m] += amount;
    state.cash_charge[m] += amount;
  };

  for (std::size_t c = 0; c < n_ccps; ++c) {
    const CcpModel& ccp = model_.ccps[c];
    const CcpSettlement& st = ccp.settlement;
    CcpCalls calls;
    bool custody_lost = false;  // its custody bridge exploited in this step or before
    if (st.custody_bridge >= 0) {
      const auto cb = static_cast<std::size_t>(st.custody_bridge);
      const int at = state.exploit_step[cb];
      custody_lost = at >= 0 && at <= state.step;
      calls.custody_hit = state.bridge_exploited[cb] != 0;
      if (custody_lost) calls.kept = model_.bridges[cb].recovery_rate;
    }
    calls.spiral = st.spiral && !state.in_steps;  // in steps: sim/margin_path.hpp
    calls.spiral_path = st.spiral && state.in_steps && state.margins != nullptr;
    const bool any_calls = custody_lost || calls.spiral || calls.spiral_path || st.collateral_asset >= 0;
    if (st.mode == SettlementMode::kInstant && !any_calls) continue;
    state.df_kept[c] = calls.kept;
    if (calls.custody_hit) state.df_step_kept[c] = calls.kept;
    state.im_adjusted[c] = any_calls;
    // The move the spiral recomputes IM on (sim/margin_path.hpp): one step over
    // the CCP's MPOR, to the prices at its end, as its variation margin.
    if (calls.spiral) {
      const auto end = static_cast<Eigen::Index>(ccp.horizon);
      const auto n_assets = static_cast<Eigen::Index>(model_.assets.size());
      spiral_move_.resize(n_assets, 1);
      price_ratio_.resize(n_assets);
      for (Eigen::Index k = 0; k < n_assets; ++k) {
        spiral_move_(k, 0) = std::log1p(returns(k, end));
        price_ratio_(k) = 1.0 + returns(k, end);
      }
      spiral_.vol_ratios(c, spiral_move_, model_.horizons[ccp.horizon], vol_ratio_);
    }
    if (st.collateral_asset >= 0)  // in steps: from today to the step's end
      calls.collateral_return =
          returns(static_cast<Eigen::Index>(st.collateral_asset), static_cast<Eigen::Index>(ccp.horizon));
    const bool vm_bridge_hit =
        st.mode == SettlementMode::kBridge && state.bridge_exploited[static_cast<std::size_t>(st.bridge)];
    const double extra_hours = st.mode == SettlementMode::kInstant
                                   ? 0.0
                                   : state.vm_hours[c] - state.chain_hours[static_cast<std::size_t>(st.chain)];
    const auto h = static_cast<Eigen::Index>(ccp.horizon);
    for (int ai : ccp.accounts) {
      const auto a = static_cast<std::size_t>(ai);
      const Account& acc = model_.accounts[a];
      if (acc.kind != AccountKind::kMember) continue;
      const auto m = static_cast<std::size_t>(acc.owner);
      if (!state.defaulted.empty() && state.defaulted[m]) continue;  // closed out: nothing more settles
      if (any_calls) margin_calls(c, a, calls, state, out);
      if (st.mode == SettlementMode::kInstant) continue;
      // Post-move values of the account's positions, and its gross in-flight deliveries.
      double gross = 0.0;
      if (st.in_flight > 0.0)
        for (Eigen::Index k = 0; k < acc.quantity.size(); ++k)
          gross += std::abs(acc.quantity(k) * model_.assets[static_cast<std::size_t>(k)].price * (1.0 + returns(k, h)));
      const double in_flight = st.in_flight * gross;
      if (vm_bridge_hit) {
        const BridgeModel& bridge = model_.bridges[static_cast<std::size_t>(st.bridge)];
        const double lost = (std::max(0.0, account_pnl[a]) + in_flight) * (1.0 - bridge.recovery_rate);
        if (lost > 0.0) {
          charge(m, lost);
          vm_lost[a] = 1;
          out.at(c, CcpSettleMetric::kFails) += 1.0;
          out.at(c, CcpSettleMetric::kPrincipalLost) += lost;
          out.at_bridge(static_cast<std::size_t>(st.bridge), BridgeMetric::kLoss) += lost;
          out.at_chain(static_cast<std::size_t>(st.chain), ChainMetric::kFails) += 1.0;
          out.at_chain(static_cast<std::size_t>(st.chain), ChainMetric::kLoss) += lost;
        }
      }
      if (st.mode == SettlementMode::kAtomic && st.in_flight > 0.0) {
        for (Eigen::Index k = 0; k < acc.quantity.size(); ++k) {
          if (acc.quantity(k) == 0.0) continue;
          const int chain = model_.asset_chain[static_cast<std::size_t>(k)] >= 0
                                ? model_.asset_chain[static_cast<std::size_t>(k)]
                                : st.chain;
          const double hours =
              std::max(state.chain_hours[static_cast<std::size_t>(chain)] + extra_hours, state.vm_hours[c]);
          if (hours <= st.time_lock_hours) continue;
          const AssetModel& asset = model_.assets[static_cast<std::size_t>(k)];
          const double value = acc.quantity(k) * asset.price * (1.0 + returns(k, h));
          const double sd = asset.daily_vol * std::sqrt(st.time_lock_hours / 24.0);
          double move;
          if (state.stress) {
            move = value > 0.0 ? sd : -sd;  // one standard deviation against the receiver
          } else {
            if (delay_z.empty()) {
              rng::Draws draws(rng_, index, state.delay_substream);
              delay_z.resize(model_.assets.size());
              for (auto& z : delay_z) z = draws.normal();
            }
            move = sd * delay_z[static_cast<std::size_t>(k)];
          }
          const double cost = st.in_flight * models::replacement_cost(value, move);
          charge(m, cost);
          out.at(c, CcpSettleMetric::kFails) += 1.0;
          out.at(c, CcpSettleMetric::kReplacementCost) += cost;
          out.at_chain(static_cast<std::size_t>(chain), ChainMetric::kFails) += 1.0;
          out.at_chain(static_cast<std::size_t>(chain), ChainMetric::kLoss) += cost;
        }
      }
      if (st.mode == SettlementMode::kFreeOfPayment && in_flight > 0.0) {
        if (state.principal.empty()) state.principal.assign(model_.accounts.size(), 0.0);
        state.principal[a] = in_flight;
      }
    }
  }

  late_inflows(account_pnl, state, out);
}

// One account's margin calls. The collateral posted tops up to back today's
// IM (models::margin_call at the cumulative move; in time steps the step calls
// what that exceeds the calls paid so far, and charges the owner the step's
// change of its gain on the posted collateral). The spiral's change of IM
// (sim/margin_path.hpp: SpiralMargin) is called in cash, and released when IM
// falls, as in time steps, where MarginPath charges it; so one step over the
// MPOR is the one period. Collateral credited beyond today's IM (a rise of the
// collateral asset, top-ups above the need) covers a rise of IM first
// (spiral_credit). The IM the CCP holds of a member that defaults later in the
// period (the step) is its collateral and top-ups: the spiral's change of the
// step is not counted as held (runner.cpp's step_margins: a member defaulting
// in step k leaves the IM held after k - 1, of which the credit so far was
// not paid in cash).
void Settlement::margin_calls(std::size_t c, std::size_t a, const CcpCalls& calls, SettlementState& state,
                              SettlementOutcome& out) const {
  const CcpSettlement& st = model_.ccps[c].settlement;
  const Account& acc = model_.accounts[a];
  const auto m = static_cast<std::size_t>(acc.owner);
  const double im = acc.initial_margin;
  double required = im, spiral_call = 0.0;  // the IM needed now, and its change in the period (the step)
  if (calls.spiral) {
    required = spiral_.required(a, price_ratio_, vol_ratio_.col(0));
    spiral_call = required - im;
    state.cash_charge[m] += spiral_call;
  } else if (calls.spiral_path) {
    required = state.margins->held(a, state.step, state.margin_slot);
    spiral_call = required - state.margins->held(a, state.step - 1, state.margin_slot);
  }
  const models::MarginCall mc =
      models::margin_call(im, im, st.collateral_share, st.collateral_haircut, calls.collateral_return, calls.kept);
  const bool steps = !state.im_called.empty();
  const double called = steps ? state.im_called[a] : 0.0;
  const double call = std::max(0.0, mc.call - called);
  const double credit_before = steps ? state.im_credited[a] : 0.0;
  const double credit = spiral_credit(im, required, mc.credited + called + call);
  state.im_unpaid[a] = mc.held_unpaid + called - credit_before;
  state.im_paid[a] = state.im_unpaid[a] + call;
  state.cash_charge[m] += call - (credit - credit_before);
  state.capital_charge[m] -= mc.collateral_change - (steps ? state.collateral_gain[a] : 0.0);
  if (steps) {
    state.im_called[a] += call;
    state.collateral_gain[a] = mc.collateral_change;
    state.im_credited[a] = credit;
  }
  // Called in cash this step: the top-up, and the spiral's rise less the rise
  // of the credit (a fall of the credit is called back in cash).
  const double cash_call = call + std::max(0.0, spiral_call - (credit - credit_before));
  out.at(c, CcpSettleMetric::kMarginCalls) += cash_call;
  if (!state.cash_called.empty())
    state.cash_called[a * static_cast<std::size_t>(model_.steps.count) + static_cast<std::size_t>(state.step)] =
        cash_call;
  if (calls.custody_hit) {
    const double lost = (acc.initial_margin + acc.default_fund) * (1.0 - calls.kept);
    state.capital_charge[m] += lost;
    out.at(c, CcpSettleMetric::kPrincipalLost) += lost;
    out.at_bridge(static_cast<std::size_t>(st.custody_bridge), BridgeMetric::kLoss) += lost;
  }
}

// Liquidity timing: VM gains not final by the member's earliest deadline
// (gains lost on an exploited bridge, vm_lost_, are not late: they are gone).
void Settlement::late_inflows(std::span<const double> account_pnl, SettlementState& state,
                              SettlementOutcome& out) const {
  for (std::size_t m = 0; m < model_.members.size(); ++m) {
    if (!state.defaulted.empty() && state.defaulted[m]) continue;
    double due = std::numeric_limits<double>::infinity();
    for (int ai : model_.members[m].accounts) {
      const auto a = static_cast<std::size_t>(ai);
      if (account_pnl[a] < 0.0)
        due = std::min(due, model_.ccps[static_cast<std::size_t>(model_.accounts[a].ccp)].settlement.deadline_hours);
    }
    if (due == std::numeric_limits<double>::infinity()) continue;  // pays nothing: timing cannot hurt
    for (int ai : model_.members[m].accounts) {
      const auto a = static_cast<std::size_t>(ai);
      const auto c = static_cast<std::size_t>(model_.accounts[a].ccp);
      if (account_pnl[a] <= 0.0 || vm_lost_[a] || state.vm_hours[c] <= due) continue;
      state.late_inflow[m] += account_pnl[a];
      out.at(c, CcpSettleMetric::kLateInflows) += account_pnl[a];
      const int chain = model_.ccps[c].settlement.chain;
      if (chain >= 0) out.at_chain(static_cast<std::size_t>(chain), ChainMetric::kLateInflows) += account_pnl[a];
    }
  }
}

}  // namespace ccpnet
