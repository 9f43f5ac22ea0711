#include "sim/cascade.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

#include "sim/model.hpp"

namespace ccpnet {

namespace {
// Losses below this (USD) are rounding, not a CCP failure.
constexpr double kTolerance = 1e-6;

double layer_sum(const std::vector<double>& layers, std::size_t c) {
  double sum = 0.0;
  for (std::size_t l = 0; l < models::kLayerCount; ++l) sum += layers[c * models::kLayerCount + l];
  return sum;
}
}  // namespace

const char* cause_name(DefaultCause cause) {
  switch (cause) {
    case DefaultCause::kNone: return "none";
    case DefaultCause::kExogenous: return "exogenous";
    case DefaultCause::kLatent: return "latent";
    case DefaultCause::kSolvency: return "solvency";
    case DefaultCause::kLiquidity: return "liquidity";
    case DefaultCause::kGroup: return "group";
    case DefaultCause::kInterbank: return "interbank";
  }
  return "?";
}

DefaultCause test_member(double capital, double cash, bool missed_call, const double* late_inflow,
                         ScenarioResult& out) {
  if (capital < 0.0) return DefaultCause::kSolvency;
  if (cash >= 0.0 && !missed_call) return DefaultCause::kNone;
  out.liquidity_shortfall += std::max(0.0, -cash);
  if (late_inflow && !missed_call && cash + *late_inflow >= 0.0) ++out.settlement_defaults;
  return DefaultCause::kLiquidity;
}

namespace {
// Position of the first layer that charges surviving accounts (layers.size() if none).
std::size_t first_survivor_layer(const std::vector<models::Layer>& layers) {
  for (std::size_t i = 0; i < layers.size(); ++i) {
    switch (layers[i]) {
      case models::Layer::kMutualizedDf:
      case models::Layer::kAssessments:
      case models::Layer::kVmgh:
      case models::Layer::kAdl:
      case models::Layer::kLenderHaircut: return i;
      default: break;
    }
  }
  return layers.size();
}

// The survivors' charges paid in cash (calls, VM gains not paid) rather than
// from capital alone (a fund contribution consumed, a position closed).
constexpr bool pays_cash(LossChannel channel) {
  return channel == LossChannel::kAssessment || channel == LossChannel::kVmgh || channel == LossChannel::kCashCall ||
         channel == LossChannel::kTearUp;
}

// CCP c failed in `round` with `uncovered` left by its layers: of its
// waterfall events of the round, the last that left a loss uncovered notes
// it, what replacing its link positions added, and the shortfall its
// creditors share.
void note_failure(CascadeTrace& trace, int c, int round, double uncovered, double shortfall) {
  WaterfallEvent* failing = nullptr;
  for (WaterfallEvent& e : trace.events)
    if (e.ccp == c && e.round == round && (failing == nullptr || e.uncovered > 0.0)) failing = &e;
  if (failing == nullptr) return;
  failing->fails = true;
  failing->round_uncovered = uncovered;
  failing->link_replacement = shortfall - uncovered;
  failing->shortfall = shortfall;
}
}  // namespace

namespace {
// The first member from m on with a cause in `initial` (its size if none):
// eight at a time past the members without one (most of them).
std::size_t next_cause(std::span<const DefaultCause> initial, std::size_t m) {
  static_assert(sizeof(DefaultCause) == 1 && static_cast<int>(DefaultCause::kNone) == 0);
  for (std::uint64_t word = 0; m + 8 <= initial.size(); m += 8) {
    std::memcpy(&word, initial.data() + m, sizeof word);
    if (word != 0) break;
  }
  while (m < initial.size() && initial[m] == DefaultCause::kNone) ++m;
  return m;
}
}  // namespace

const char* channel_name(LossChannel channel) {
  switch (channel) {
    case LossChannel::kOwnIm: return "own_im";
    case LossChannel::kOwnDf: return "own_df";
    case LossChannel::kMutualizedDf: return "mutualized_df";
    case LossChannel::kAssessment: return "assessments";
    case LossChannel::kVmgh: return "vmgh";
    case LossChannel::kAdl: return "adl";
    case LossChannel::kLenderHaircut: return "lender_haircut";
    case LossChannel::kUnpaidVm: return "unpaid_vm_failed_ccp";
    case LossChannel::kMarginLost: return "margin_lost_failed_ccp";
    case LossChannel::kPrincipal: return "principal_lost_failed_ccp";
    case LossChannel::kCashCall: return "cash_call";
    case LossChannel::kTearUp: return "tear_up";
    case LossChannel::kForcedAllocation: return "forced_allocation";
    case LossChannel::kInterbank: return "interbank";
    case LossChannel::kClientMargin: return "client_margin";
  }
  return "?";
}

namespace {

// Empties a per-scenario list. The runner reuses its result buffers window
// after window: a capacity kept as it is would ratchet up, slot by slot, to
// the largest scenario each slot has seen, and memory would grow with the
// scenario count. A capacity more than twice what the scenario just read
// needed, and beyond a floor of 1 KiB, is released instead: a slot then holds
// about its last scenario's list, memory independent of the scenario count,
// and a list of a few dozen entries (a stressed scenario's defaults) is not
// allocated again for every scenario.
template <class T>
void clear_list(std::vector<T>& list) {
  constexpr std::size_t kFloor = std::max<std::size_t>(16, 1024 / sizeof(T));
  if (list.capacity() > std::max(kFloor, 2 * list.size())) {
    std::vector<T>().swap(list);
  } else {
    list.clear();
  }
}

}  // namespace

void ScenarioResult::reset(const Model& model, std::int64_t scenario) {
  index = scenario;
  market_factor = 0.0;
  const std::size_t n = model.ccps.size();
  // A quiet result's other fields are as the last reset left them when they
  // are shaped for this model: every field reset() sizes by the model, and no
  // settlement layer (its outcome is drawn in every scenario: never quiet).
  const bool same_shape = ccp_layers.size() == n * models::kLayerCount && ccp_closeout.size() == n &&
                          ccp_peak_liquidity_need.size() == (model.liquidity_needs ? n : 0) &&
                          price_impact.size() == (model.fire_sales ? model.assets.size() : 0) &&
                          member_peak_liquidity_need.size() == (model.liquidity_needs ? model.members.size() : 0) &&
                          !model.settlement_active && settlement.ccp.empty() && settlement.chain.empty() &&
                          settlement.bridge.empty();
  if (std::exchange(quiet, false) && same_shape) return;
  rounds = 0;
  closeout_loss = total_loss = uncovered = failure_principal = interbank_shortfall = interbank_loss = 0.0;
  client_loss = 0.0;
  clients_ported = clients_closed_out = 0;
  ccp_layers.assign(n * models::kLayerCount, 0.0);
  for (auto* v : {&ccp_uncovered, &ccp_df_used, &ccp_closeout, &ccp_link_in, &ccp_link_out, &ccp_resolution_members,
                  &ccp_resolution_links, &ccp_unallocated})
    v->assign(n, 0.0);
  ccp_recovery.assign(n * models::kRecoveryToolCount, 0.0);
  ccp_auction_cost.assign(n, 0.0);
  ccp_unplaced.assign(n, 0.0);
  ccp_fail_round.assign(n, -1);
  ccp_fail_day.assign(n, -1.0);
  peak_liquidity_need = 0.0;
  ccp_peak_liquidity_need.assign(model.liquidity_needs ? n : 0, 0.0);
  member_peak_liquidity_need.assign(model.liquidity_needs ? model.members.size() : 0, 0.0);
  if (model.fire_sales)
    price_impact.assign(model.assets.size(), 0.0);
  else
    price_impact.clear();
  ccp_fail_cause.assign(n, FailureCause::kNone);
  clear_list(defaults);
  clear_list(account_losses);
  liquidity_shortfall = 0.0;
  settlement_defaults = 0;
  liquidations = venue_liquidations = 0;
  settlement.reset(model);
}

int ScenarioResult::ccp_failures() const {
  return static_cast<int>(std::count_if(ccp_fail_round.begin(), ccp_fail_round.end(), [](auto r) { return r >= 0; }));
}

double ScenarioResult::ccp_loss(std::size_t c) const {
  double loss = ccp_uncovered[c];
  for (std::size_t t = 0; t < models::kRecoveryToolCount; ++t) loss += ccp_recovery[c * models::kRecoveryToolCount + t];
  for (std::size_t l = 0; l < models::kLayerCount; ++l) {
    const auto layer = static_cast<models::Layer>(l);
    if (layer == models::Layer::kDefaulterIm || layer == models::Layer::kDefaulterDf) continue;
    loss += ccp_layers[c * models::kLayerCount + l];
  }
  return loss;
}

double ScenarioResult::ledger_total() const {
  double total = 0.0;
  for (std::size_t c = 0; c < ccp_uncovered.size(); ++c)
    total += layer_sum(ccp_layers, c) + ccp_resolution_members[c] + ccp_resolution_links[c] + ccp_unallocated[c] -
             ccp_link_out[c];
  for (double v : ccp_recovery) total += v;
  return total;
}

Cascade::Cascade(const Model& model) : model_(model) {
  const std::size_t n_accounts = model.accounts.size();
  link_accounts_of_.assign(model.ccps.size(), {});
  auctioned_.assign(model.ccps.size(), 0.0);
  mirror_.assign(n_accounts, -1);
  link_of_.assign(n_accounts, -1);
  for (std::size_t l = 0; l < model.links.size(); ++l) {
    const LinkModel& link = model.links[l];
    const auto a1 = static_cast<std::size_t>(link.account_at_first),
               a2 = static_cast<std::size_t>(link.account_at_second);
    mirror_[a1] = link.account_at_second;
    mirror_[a2] = link.account_at_first;
    link_of_[a1] = link_of_[a2] = static_cast<int>(l);
  }
  single_asset_.assign(n_accounts, -1);
  for (std::size_t a = 0; a < n_accounts; ++a) {
    const Account& acc = model.accounts[a];
    if (acc.kind != AccountKind::kMember || !acc.options.empty()) continue;
    int only = -1, count = 0;
    for (Eigen::Index k = 0; k < acc.quantity.size(); ++k)
      if (acc.quantity(k) != 0.0) {
        only = static_cast<int>(k);
        ++count;
      }
    if (count == 1) single_asset_[a] = only;
  }
  for (std::size_t a = 0; a < n_accounts; ++a)
    if (model.accounts[a].kind == AccountKind::kLink)
      link_accounts_of_[static_cast<std::size_t>(model.accounts[a].owner)].push_back(static_cast<int>(a));
  set_start_states();
  for (const auto& ccp : model.ccps) {
    link_layers_.push_back(link_loss_layers(ccp));
    first_mutual_.push_back(first_survivor_layer(ccp.waterfall));
    first_link_mutual_.push_back(first_survivor_layer(link_layers_.back()));
    const auto has = [&](models::Layer l) {
      return std::find(ccp.waterfall.begin(), ccp.waterfall.end(), l) != ccp.waterfall.end();
    };
    needs_adl_.push_back(has(models::Layer::kAdl));
    needs_lender_.push_back(has(models::Layer::kLenderHaircut));
    survivor_slots_.emplace_back();
    survivor_slots_epoch_.push_back(0);
    columns_.push_back(runs_on_columns(ccp));
  }
}

// What account() and member() start a scenario from: the scenario then adds
// its P&L (and settlement's share of the default fund). The accounts' state
// lies in the order of their CCPs' account lists (slot_), so that a CCP's
// pass over its survivors reads and writes it in one sweep.
void Cascade::set_start_states() {
  const std::size_t n_accounts = model_.accounts.size();
  slot_.assign(n_accounts, -1);
  int next = 0;
  ccp_slots_.clear();
  for (const CcpModel& ccp : model_.ccps) {
    ccp_slots_.push_back(static_cast<std::size_t>(next));
    for (int a : ccp.accounts) {
      assert(slot_[static_cast<std::size_t>(a)] < 0 && "an account in two CCPs' lists");
      slot_[static_cast<std::size_t>(a)] = next++;
    }
  }
  for (int& slot : slot_)
    if (slot < 0) slot = next++;
  info_.resize(n_accounts);
  for (std::size_t a = 0; a < n_accounts; ++a) {
    const Account& acc = model_.accounts[a];
    // What a member lent: an account without debt (a borrower's collateral
    // does not stand behind another reserve's bad debt).
    const bool lends = acc.kind == AccountKind::kMember && !(acc.quantity.minCoeff() < 0.0);
    const double contracts = single_asset_[a] >= 0 ? std::abs(acc.quantity(single_asset_[a])) : 0.0;
    // A peer link fund covers only the link's own default (ESMA): it is not
    // mutualised with the members' fund. A participant's contribution is.
    const bool peer_link = link_of_[a] >= 0 &&
                           model_.links[static_cast<std::size_t>(link_of_[a])].model == LinkKind::kPeer &&
                           acc.default_fund > 0.0;
    info_[static_cast<std::size_t>(slot_[a])] = {
        acc.default_fund,    acc.initial_margin, acc.notional, lends ? acc.notional : 0.0,
        contracts,           acc.owner,          acc.ccp,      acc.kind,
        static_cast<int>(a), acc.bids,           peer_link};
  }
  cold_.assign(n_accounts, ColdState{});
  cold_stamp_.assign(n_accounts, 0);
  member_start_.clear();
  member_first_account_.assign(1, 0);
  member_accounts_.clear();
  for (const MemberModel& m : model_.members) {
    member_start_.emplace_back(m.capital, m.liquidity);
    for (int a : m.accounts) member_accounts_.emplace_back(a, model_.accounts[static_cast<std::size_t>(a)].ccp);
    member_first_account_.push_back(member_accounts_.size());
  }
  touched_bits_.assign((model_.members.size() + 63) / 64, 0);
}

// An account's cold state in this scenario: zero until first written.
Cascade::ColdState& Cascade::cold(std::size_t a) {
  const auto slot = static_cast<std::size_t>(slot_[a]);
  if (cold_stamp_[slot] != epoch_) {
    cold_stamp_[slot] = epoch_;
    cold_[slot] = ColdState{};
  }
  return cold_[slot];
}

const Cascade::ColdState& Cascade::cold(std::size_t a) const {
  static constexpr ColdState kUnwritten{};
  const auto slot = static_cast<std::size_t>(slot_[a]);
  return cold_stamp_[slot] == epoch_ ? cold_[slot] : kUnwritten;
}

std::size_t Cascade::member(std::size_t m) {
  if (member_state_[m].stamp != epoch_) init_member(m);
  return m;
}

void Cascade::init_member(std::size_t m) {
  MemberState& ms = member_state_[m];
  ms.stamp = epoch_;
  ms.capital = member_start_[m].first + member_capital_[m];
  ms.cash = member_start_[m].second + member_cash_[m];
  ms.round = -1;
  ms.missed_call = 0;
  ms.checked_round = -1;
}

std::size_t Cascade::account(std::size_t a) {
  const auto slot = static_cast<std::size_t>(slot_[a]);
  if (account_stamp_[slot] != step_epoch_) meet_account(a, slot);
  return a;
}

// Account a's first touch in the step: initialised on its first in the
// scenario; on its first in every step, its gains of the step: the variation
// margin the CCP owes it for the step, which VMGH haircuts, and its gain over
// the step's close-out window, which ADL deleverages.
void Cascade::meet_account(std::size_t a, std::size_t slot) {
  const bool met = account_stamp_[slot] >= scenario_step_;
  account_stamp_[slot] = step_epoch_;
  const AccountInfo& acc = info_[slot];
  AccountState& st = acct_[slot];
  if (!met) {
    stamped_accounts_.push_back(static_cast<int>(a));
    const CcpModel& ccp = model_.ccps[static_cast<std::size_t>(acc.ccp)];
    st = AccountState{};
    st.df_left =
        settlement_ ? acc.default_fund * settlement_->df_kept[static_cast<std::size_t>(acc.ccp)] : acc.default_fund;
    st.assess_cap = acc.default_fund * ccp.assessment_multiple;
    st.lender_left = acc.lent;
    st.cash_call_cap = acc.default_fund * ccp.cash_call_multiple;
  }
  const double h = held(a, true);
  st.vm_gain = h * std::max(0.0, account_pnl_.over_step(a));
  // Read only where ADL may take it: a P&L read fewer on most accounts.
  const bool adl = acc.kind == AccountKind::kMember && needs_adl_[static_cast<std::size_t>(acc.ccp)];
  st.adl_left = adl ? h * std::max(0.0, account_pnl_[a]) : 0.0;
}

double Cascade::held(std::size_t a, bool at_step_start) const {
  if (partly_closed_.empty()) return 1.0;
  const ColdState& cs = cold(a);
  return 1.0 - (at_step_start ? cs.closed_before : cs.closed);
}

double Cascade::close_share(std::size_t a, double share) {
  if (!(share > 0.0)) return 0.0;
  ColdState& cs = cold(a);
  if (cs.closed == 0.0) partly_closed_.push_back(static_cast<int>(a));
  const double closed = (1.0 - cs.closed) * std::min(1.0, share);
  cs.closed += closed;
  return closed;
}

// ADL closes positions: by quantity (the members' run, at the bankruptcy
// price) the contracts it closed of those left; by the whole-gain rule
// (multi-asset accounts, link losses after the members' run) the share of
// the gain left it took, as closing that share of what is left would.
// `by_quantity`: the part of the charge the quantity rule made. ADL marks
// them at the end of a close-out window (by quantity: adl_mark_from_end_; the
// whole-gain rule's gain: the window from the step's start); where that ends
// after the step (an MPOR longer than a step, or a window from the step's
// end) their holder is paid the closed contracts' margin from the step's end
// to it now, as ADL settles them there (take_closed_positions_off takes the
// margin of the steps after off).
//
// The contracts closed by quantity take their whole gain with them (the gap
// to the bankruptcy price charged, the rest paid at it): the whole-gain rule
// may take after that only the gain on the contracts left.
double Cascade::close_deleveraged(std::size_t ai, const models::Survivor& s, double contracts_left, double gain_left,
                                  double by_quantity) {
  double by_gain = s.adl_charged, beyond_step = 0.0;
  const double from_start_window = account_pnl_[ai] - account_pnl_.over_step(ai);
  if (s.adl_closed > 0.0 && contracts_left > 0.0) {
    const double share = std::min(1.0, s.adl_closed / contracts_left);
    const double closed = close_share(ai, share);
    beyond_step += closed * (adl_mark_from_end_ ? account_pnl_.after_step(ai) : from_start_window);
    by_gain -= by_quantity;
    gain_left *= 1.0 - share;
  }
  if (by_gain > 0.0 && gain_left > 0.0) {
    const double closed = close_share(ai, by_gain / gain_left);
    if (closed > 0.0) closed_against_.push_back({static_cast<int>(ai), closed, closing_at_end_});
    beyond_step += closed * from_start_window;
    gain_left = std::max(0.0, gain_left - by_gain);
  }
  const Account& acc = model_.accounts[ai];
  if (beyond_step != 0.0 && acc.kind == AccountKind::kMember) {
    MemberState& ms = member_state_[static_cast<std::size_t>(acc.owner)];
    ms.capital += beyond_step;
    ms.cash += beyond_step;
  }
  return gain_left;
}

double Cascade::gain_after_quantity(std::size_t i) const {
  const auto ai = static_cast<std::size_t>(survivor_accounts_[i]);
  const double gain = acct_[static_cast<std::size_t>(slot_[ai])].adl_left, left = contracts_left(ai);
  const double closed = survivors_[i].adl_closed;
  return closed > 0.0 && left > 0.0 ? gain * std::max(0.0, 1.0 - closed / left) : gain;
}

// A holder keeps no variation margin on the positions ADL or tear-up closed:
// the runner's capital and cash are of its whole book, so the step's margin
// on the closed share comes off (a gain it does not receive, a loss it does
// not pay), at a failed CCP and after a venue's liquidation too (the runner
// takes off only the held share there). From this step on its gains and
// close-out are of what it holds.
void Cascade::take_closed_positions_off(AccountPnl account_pnl) {
  for (const int a : partly_closed_) {
    const auto ai = static_cast<std::size_t>(a);
    ColdState& cs = cold(ai);
    cs.closed_before = cs.closed;
    const Account& acc = model_.accounts[ai];
    if (acc.kind != AccountKind::kMember) continue;
    MemberState& ms = member_state_[static_cast<std::size_t>(acc.owner)];
    const double not_held = cs.closed * account_pnl.over_step(ai);
    ms.capital -= not_held;
    ms.cash -= not_held;
  }
}

// A new step (new_scenario: the scenario's first): the accounts' stamps fall
// behind. When the counter would wrap, the accounts met in the scenario are
// restamped 1 (met, not in this step) and the others 0.
void Cascade::next_step_epoch(bool new_scenario) {
  if (step_epoch_ == std::numeric_limits<std::uint32_t>::max()) {
    for (std::uint32_t& stamp : account_stamp_) stamp = !new_scenario && stamp >= scenario_step_ ? 1 : 0;
    std::fill(survivor_slots_epoch_.begin(), survivor_slots_epoch_.end(), 0);
    step_epoch_ = scenario_step_ = 1;
  }
  ++step_epoch_;
  if (new_scenario) scenario_step_ = step_epoch_;
}

bool Cascade::owner_alive(std::size_t a) {
  const AccountInfo& acc = info(a);
  switch (acc.kind) {
    case AccountKind::kMember: return member_state_[member(static_cast<std::size_t>(acc.owner))].round < 0;
    case AccountKind::kLink: return ccp_round_[static_cast<std::size_t>(acc.owner)] < 0;
    case AccountKind::kRestOfMarket: return true;
    // A client stands; an account closed out with its member is gone (holder kClosedOut).
    case AccountKind::kClient: return state(account(a)).holder != kClosedOut;
  }
  return true;
}

// State is initialised lazily, on first touch in this scenario (epoch stamps):
// a scenario with a few defaults touches a few accounts, not all.
void Cascade::start_scenario(AccountPnl account_pnl, std::span<const double> member_capital,
                             std::span<const double> member_cash, const SettlementState* settlement,
                             std::span<const double> insurance_funds) {
  const std::size_t n_members = model_.members.size(), n_accounts = model_.accounts.size();
  const std::size_t n_ccps = model_.ccps.size();
  account_pnl_ = account_pnl;
  member_capital_ = member_capital;
  member_cash_ = member_cash;
  settlement_ = settlement;
  if (account_stamp_.size() != n_accounts) account_stamp_.assign(n_accounts, 0);
  if (member_state_.size() != n_members) member_state_.assign(n_members, MemberState{});
  acct_.resize(n_accounts);
  if (++epoch_ == 0) {  // wrapped: forget every stamp
    for (MemberState& ms : member_state_) ms.stamp = 0;
    std::fill(cold_stamp_.begin(), cold_stamp_.end(), 0);
    epoch_ = 1;
  }
  next_step_epoch(true);
  resources_.resize(n_ccps);
  vmgh_.resize(n_ccps);
  ccp_round_.assign(n_ccps, -1);
  closing_.resize(n_ccps);
  link_lines_.resize(n_ccps);
  next_link_lines_.resize(n_ccps);
  for (std::size_t c = 0; c < n_ccps; ++c) {
    const CcpModel& ccp = model_.ccps[c];
    const double fund = insurance_funds.empty() ? ccp.insurance_fund : insurance_funds[c];
    resources_[c] = {ccp.sitg, ccp.sitg2, fund, std::max(0.0, ccp.capital - ccp.sitg - ccp.sitg2)};
    vmgh_[c] = ccp.vmgh;
    closing_[c].clear();
    link_lines_[c].clear();
    next_link_lines_[c].clear();
  }
  touched_.clear();
  new_members_.clear();
  ported_.clear();
  taken_im_.clear();
  reverted_lines_.clear();
  stamped_accounts_.clear();
  partly_closed_.clear();
  torn_up_ = false;
  fire_sale_moves_ = close_out_prices_ = end_prices_ = {};
  im_at_start_ = im_at_end_ = {};
  round_ = last_active_ = step_round_ = 0;
  day_ = 0.0;
}

void Cascade::run(AccountPnl account_pnl, std::span<const double> member_capital, std::span<const double> member_cash,
                  std::span<const DefaultCause> initial, ScenarioResult& out, CascadeTrace* trace,
                  const SettlementState* settlement, std::span<const Liquidation> liquidations,
                  std::span<const double> insurance_funds) {
  start_scenario(account_pnl, member_capital, member_cash, settlement, insurance_funds);
  step(initial, 0.0, out, trace, liquidations);
  finish(out);
}

void Cascade::begin(AccountPnl account_pnl, std::span<const double> member_capital, std::span<const double> member_cash,
                    std::span<const double> insurance_funds) {
  start_scenario(account_pnl, member_capital, member_cash, nullptr, insurance_funds);
  // Every member is tested at every step: initialised at once.
  for (std::size_t m = 0; m < member_state_.size(); ++m) init_member(m);
}

// The next step's window: the members take the variation margin of the step
// (what the cumulative P&L added); the accounts their gains over it when the
// step first touches them (account()).
void Cascade::advance(AccountPnl account_pnl, std::span<const double> member_capital,
                      std::span<const double> member_cash) {
  for (std::size_t m = 0; m < member_state_.size(); ++m) {
    member_state_[m].capital += member_capital[m] - member_capital_[m];
    member_state_[m].cash += member_cash[m] - member_cash_[m];
  }
  account_pnl_ = account_pnl;
  member_capital_ = member_capital;
  member_cash_ = member_cash;
  take_closed_positions_off(account_pnl);
  next_step_epoch(false);
}

void Cascade::keep_default_funds(std::span<const double> kept) {
  for (int a : stamped_accounts_) {
    const auto ai = static_cast<std::size_t>(a);
    state(ai).df_left *= kept[static_cast<std::size_t>(info(ai).ccp)];
  }
}

void Cascade::revalue_insurance_funds(std::span<const double> growth) {
  for (std::size_t c = 0; c < growth.size(); ++c) resources_[c].insurance_fund *= growth[c];
}

// Members are initialised (begin()); most pass both tests with nothing to book.
void Cascade::test_standing(std::span<DefaultCause> causes, ScenarioResult& out) {
  for (std::size_t m = 0; m < causes.size(); ++m) {
    const MemberState& ms = member_state_[m];
    if (causes[m] != DefaultCause::kNone || ms.round >= 0) continue;
    if (ms.capital >= 0.0 && ms.cash >= 0.0 && !ms.missed_call) continue;  // test_member's kNone
    causes[m] = test_member(ms.capital, ms.cash, ms.missed_call != 0,
                            settlement_ ? &settlement_->late_inflow[m] : nullptr, out);
  }
}

void Cascade::step(std::span<const DefaultCause> initial, double day, ScenarioResult& out, CascadeTrace* trace,
                   std::span<const Liquidation> liquidations) {
  day_ = day;
  const std::size_t n_members = model_.members.size(), n_ccps = model_.ccps.size();
  if (round_ > 0) ++round_;  // a later step: its defaults start a round of their own
  step_round_ = round_;
  for (std::size_t c = 0; c < n_ccps; ++c) vmgh_[c].step_left = model_.ccps[c].vmgh.step_left;
  std::fill(auctioned_.begin(), auctioned_.end(), 0.0);  // a new day's bidders
  replaced_.clear();
  closed_clients_.clear();
  closed_against_.clear();
  torn_shares_.clear();
  // Defaults at the start (exogenous, latent, and their groups) are on day 0.
  const auto at_start = [](DefaultCause c) { return c == DefaultCause::kExogenous || c == DefaultCause::kLatent; };
  // One allocation for the step's defaults, rather than one per doubling.
  const auto starting =
      std::count_if(initial.begin(), initial.end(), [](DefaultCause c) { return c != DefaultCause::kNone; });
  const std::size_t needed = out.defaults.size() + static_cast<std::size_t>(starting);
  if (needed > out.defaults.capacity()) out.defaults.reserve(std::max(needed, 2 * out.defaults.capacity()));
  for (std::size_t m = next_cause(initial, 0); m < n_members; m = next_cause(initial, m + 1)) {
    if (member_state_[member(m)].round >= 0) continue;
    bool start = at_start(initial[m]);
    if (initial[m] == DefaultCause::kGroup)
      for (int other : model_.groups[static_cast<std::size_t>(model_.members[m].group)])
        start = start || at_start(initial[static_cast<std::size_t>(other)]);
    member_state_[m].round = round_;
    out.defaults.push_back({static_cast<int>(m), round_, initial[m], start ? 0.0 : day});
    new_members_.push_back(static_cast<int>(m));
  }
  bool any_liquidated = false;
  for (const Liquidation& l : liquidations) {
    const auto ai = account(static_cast<std::size_t>(l.account));
    state(ai).liquidated = l.liquidated;
    if (l.liquidated) state(ai).bad_debt_booked = 0;  // time steps: this step's bad debt
    ColdState& cs = cold(ai);
    cs.bad_debt = l.bad_debt;
    cs.closing_bad_debt = l.closing_bad_debt;
    cs.venue_loss = l.loss;
    cs.venue_margin = l.margin;
    cs.venue_pnl = l.mark_pnl;
    any_liquidated = any_liquidated || l.liquidated;
  }
  // Members and CCPs default once each; link losses between standing CCPs
  // shrink as they pass through layers. Past this many rounds what is still in
  // flight is booked as unallocated (it does not happen on any library file).
  const int max_rounds = round_ + 2 * static_cast<int>(n_members + n_ccps) + 16;
  const int first_round = round_ + 1;
  const auto pending_links = [&] {
    return std::any_of(next_link_lines_.begin(), next_link_lines_.end(), [](const auto& v) { return !v.empty(); });
  };
  while (!new_members_.empty() || pending_links() || (round_ + 1 == first_round && any_liquidated)) {
    const int round = ++round_;
    if (round > max_rounds) {
      for (std::size_t c = 0; c < n_ccps; ++c) {
        for (const LinkLine& line : next_link_lines_[c]) {
          out.ccp_link_in[c] += line.loss;
          out.ccp_unallocated[c] += line.loss;
        }
        next_link_lines_[c].clear();
      }
      new_members_.clear();
      break;
    }
    for (std::size_t c = 0; c < n_ccps; ++c) {
      closing_[c].clear();
      std::swap(link_lines_[c], next_link_lines_[c]);
      next_link_lines_[c].clear();
    }
    touched_.clear();
    failed_now_.clear();
    resolutions_.clear();
    // Lending protocols liquidate their under-collateralised accounts in the first round.
    if (round == first_round)
      for (const Liquidation& l : liquidations)
        if (l.liquidated)
          closing_[static_cast<std::size_t>(model_.accounts[static_cast<std::size_t>(l.account)].ccp)].push_back(
              l.account);
    for (int m : new_members_) {
      const auto mi = static_cast<std::size_t>(m);
      for (std::size_t i = member_first_account_[mi]; i < member_first_account_[mi + 1]; ++i) {
        const int a = member_accounts_[i].first;
        closing_[static_cast<std::size_t>(member_accounts_[i].second)].push_back(a);
        // Its Account (for its positions, add_member_lines) and its P&L are read
        // when its CCP settles the round, after the other CCPs: asked for now.
        __builtin_prefetch(&model_.accounts[static_cast<std::size_t>(a)].values);
        account_pnl_.prefetch(static_cast<std::size_t>(a), true);
      }
    }
    new_members_.clear();
    // ---- 1. each CCP's losses of the round through its waterfall
    for (std::size_t c = 0; c < n_ccps; ++c) {
      if (closing_[c].empty() && link_lines_[c].empty()) continue;
      last_active_ = round;
      settle_ccp(c, round, out, trace);
    }
    // ---- 2. failures and late claims: resolved once the round's waterfalls
    // have all run, so that no resolution depends on the order of the CCPs
    // (resolve_round); then the failed CCPs closed
    if (!resolutions_.empty()) resolve_round(round, out, trace);
    for (int c : failed_now_) close_failed_ccp(static_cast<std::size_t>(c), round, out);
    if (model_.interbank) clear_interbank(round, out);
    // ---- 3. solvency and liquidity of the members charged this round
    check_members(round, out);
    if (!new_members_.empty()) last_active_ = round;
  }
}

void Cascade::finish(ScenarioResult& out) {
  partly_closed_.clear();  // held() is 1 again until the next scenario's steps
  const std::size_t n_ccps = model_.ccps.size();
  out.rounds = last_active_;
  double final_payers = 0.0;
  for (std::size_t c = 0; c < n_ccps; ++c) {
    out.uncovered += out.ccp_uncovered[c];
    final_payers += out.ccp_loss(c) - out.ccp_uncovered[c] + out.ccp_resolution_members[c] + out.ccp_unallocated[c];
    final_payers -= out.ccp_link_out[c] - out.ccp_resolution_links[c];  // the link accounts' share of the layers
  }
  out.total_loss = final_payers + out.failure_principal + out.interbank_loss;
#ifndef NDEBUG
  // Conservation (SPEC 3.11): every dollar of close-out loss has one final payer.
  assert(std::abs(out.ledger_total() - out.closeout_loss) <= 1e-9 * std::max(1.0, out.closeout_loss) &&
         "cascade lost track of a loss");
  assert(std::abs(out.interbank_loss - out.interbank_shortfall) <= 1e-9 * std::max(1.0, out.interbank_shortfall) &&
         "the interbank network lost track of a loss");
#endif
}

void Cascade::add_member_lines(std::size_t c, ScenarioResult& out) {
  const CcpModel& ccp = model_.ccps[c];
  std::sort(closing_[c].begin(), closing_[c].end());
  for (int a : closing_[c]) __builtin_prefetch(model_.accounts[static_cast<std::size_t>(a)].values.data());
  if (ccp.auction) start_round_auction(c);
  for (int a : closing_[c]) {
    const auto ai = account(static_cast<std::size_t>(a));
    if (state(ai).closed) continue;
    state(ai).closed = 1;  // closed out now: not a survivor below
    const Account& acc = model_.accounts[ai];
    models::Defaulter d;
    double to_fund = 0.0;
    if (ccp.lending && acc.kind == AccountKind::kMember) {
      d = lending_line(ai, acc);
    } else if (state(ai).liquidated) {
      // A crypto venue's liquidation engine: the margin covers the loss, and
      // what it leaves goes to the insurance fund before the round's layers.
      d.loss = cold(ai).venue_loss;
      d.im = cold(ai).venue_margin;
      to_fund = std::max(0.0, d.im - d.loss);
      resources_[c].insurance_fund += to_fund;
    } else {
      // Its clients' pools close out with it (close_out_pool); the margin
      // they use is booked as they close, and the stress report shows it on
      // its line (trace_event).
      const double& im =
          out.ccp_layers[c * models::kLayerCount + static_cast<std::size_t>(models::Layer::kDefaulterIm)];
      // Of it, the clients ported to it and reverted to their original member
      // are that member's (add_reverted_lines): counted from where they closed.
      reverted_im_end_ = im;
      d = default_line(c, ai, acc, out);
      if (im != reverted_im_end_) client_cover_.emplace_back(defaulters_.size(), im - reverted_im_end_);
    }
    defaulters_.push_back(d);
    defaulter_accounts_.push_back(a);
    line_kinds_.push_back(LineKind::kMember);
    line_to_fund_.push_back(to_fund);
  }
  if (!reverted_lines_.empty()) add_reverted_lines();
}

// The books CCP c closes out this round, auctioned together after those of
// the step's earlier rounds: the bidders' depth is the day's, shared by every
// book the CCP auctions that day (models::auction_increment); each book bears
// its part pro rata to its value (default_line).
void Cascade::start_round_auction(std::size_t c) {
  double value = 0.0;
  int last = -1;
  for (int a : closing_[c]) {
    if (a == last) continue;  // closing_[c] is sorted
    last = a;
    const auto ai = account(static_cast<std::size_t>(a));
    if (state(ai).closed || state(ai).liquidated) continue;
    value += close_out_value(model_.accounts[ai], closeout_prices(ai), held(ai));
  }
  round_auction_value_ = value;
  round_auction_ = models::auction_increment(model_.ccps[c].auction_terms, auctioned_[c], value);
  auctioned_[c] += value;
}

// A lending protocol loses the bad debt its liquidations wrote off (once)
// and, when the borrower's owner defaults, that of closing the rest; nothing
// on a lender's deposits. A liquidated account whose owner stands stays open
// with what is left.
models::Defaulter Cascade::lending_line(std::size_t ai, const Account& acc) {
  models::Defaulter d;
  if (state(ai).liquidated && !state(ai).bad_debt_booked) {
    d.loss += cold(ai).bad_debt;
    state(ai).bad_debt_booked = 1;
  }
  if (member_state_[member(static_cast<std::size_t>(acc.owner))].round >= 0) {
    d.loss += cold(ai).closing_bad_debt;
  } else {
    // Back among the survivors. Liquidations close in a step's first round,
    // before its CCP's first survivors' pass of the step, so no pass has
    // left it out yet; should that change, the next pass is a full one.
    state(ai).closed = 0;
    assert(survivor_slots_epoch_[static_cast<std::size_t>(acc.ccp)] != step_epoch_ &&
           "a lending account reopened after its CCP's survivors' pass of the step");
    survivor_slots_epoch_[static_cast<std::size_t>(acc.ccp)] = 0;
  }
  return d;
}

// Whether account `ai`'s holder (a client's: its backup member once ported)
// defaulted in a later round of the step, on the step's charges, having paid
// the step's variation margin and IM.
bool Cascade::paid_step(std::size_t ai) const {
  const Account& acc = model_.accounts[ai];
  int m = clearing_member(model_, acc);
  if (acc.kind == AccountKind::kClient && state(ai).holder >= 0) m = state(ai).holder;
  return m >= 0 && paid_step_member(static_cast<std::size_t>(m));
}

// Such an account is closed out from the step's end, where the path has that
// close-out window (closeout_pnl).
bool Cascade::closeout_from_end(std::size_t ai) const { return paid_step(ai) && account_pnl_.next_window(); }

std::span<const double> Cascade::closeout_prices(std::size_t ai) const {
  return closeout_from_end(ai) ? end_prices_ : close_out_prices_;
}

// The prices of what is closed out after the step (AccountPnl::after_step):
// its end's where the path has the next window, else its start's.
std::span<const double> Cascade::after_step_prices() const {
  return account_pnl_.next_window() ? end_prices_ : close_out_prices_;
}

// Replacing a failed peer's link positions (PFMI Principle 20, key
// consideration 8: a link's margin covers the exposure to the linked CCP,
// including its replacement): the P&L of its account over c's MPOR from the
// end of the step in which the peer failed, which the peer no longer pays (the
// step's own variation margin is c's claim on the peer, apply_resolution; in
// one period the claim covers the whole window), and the square-root cost of
// trading the positions at the prices of the step's end (of its start in one
// period and the horizon's last step). It is part of c's claim on the
// peer's estate, set off against the peer's collateral (apply_resolution).
double Cascade::link_replacement(std::size_t ai) const {
  const double h = held(ai);
  return -h * account_pnl_.after_step(ai) + close_out_cost(model_, model_.accounts[ai], after_step_prices(), h);
}

// A defaulter's P&L over its close-out: over its CCP's MPOR from the last
// variation margin it paid (RTS 153/2013 art. 26). A member defaulting in a
// later round of a step, on the step's charges, paid the step's margin: its
// close-out runs from the step's end (AccountPnl::after_step). In one period,
// whose rounds are one instant, and in the horizon's last step (the path
// ends with the first defaulters' windows) it runs from the step's start.
double Cascade::closeout_pnl(std::size_t ai) const {
  return held(ai) * (closeout_from_end(ai) ? account_pnl_.after_step(ai) : account_pnl_[ai]);
}

// Fire sales price the members' close-outs, whose flows move the price; a
// client's close-out is not in that flow and pays its own square-root cost.
// Both at the prices its close-out starts from (closeout_prices).
double Cascade::liquidation_cost(std::size_t ai) const {
  const Account& acc = model_.accounts[ai];
  if (!fire_sale_moves_.empty() && acc.kind == AccountKind::kMember)
    return fire_sale_cost(acc, closeout_prices(ai), fire_sale_moves_, held(ai));
  return close_out_cost(model_, acc, closeout_prices(ai), held(ai));
}

// A defaulter's account closed out at the end of the MPOR: -P&L + the
// liquidation cost, against its IM and what is left of its DF contribution.
models::Defaulter Cascade::default_line(std::size_t c, std::size_t ai, const Account& acc, ScenarioResult& out) {
  const CcpModel& ccp = model_.ccps[c];
  models::Defaulter d;
  if (ccp.auction) {
    // Hedge and auction (ccps[].auction): the unplaced book's loss, its
    // reserve discount and its share of the market loss, is what the recovery
    // tools that re-establish a matched book may place or tear up.
    const double value = close_out_value(acc, closeout_prices(ai), held(ai));
    const models::AuctionResult auction =
        models::scaled(round_auction_, round_auction_value_ > 0.0 ? value / round_auction_value_ : 0.0);
    const double pnl = closeout_pnl(ai);
    d.loss = -pnl + auction.cost();
    out.ccp_auction_cost[c] += auction.cost();
    out.ccp_unplaced[c] += auction.unsold;
    if (auction.unsold > 0.0) {
      const double unsold = auction.unsold / auction.value;
      unplaced_loss_ += auction.unsold_cost + unsold * std::max(0.0, -pnl);
      unplaced_value_.resize(model_.assets.size(), 0.0);
      const double share = unsold * held(ai);
      for (const auto [asset, v] : acc.values) unplaced_value_[static_cast<std::size_t>(asset)] += share * v;
    }
  } else {
    d.loss = -closeout_pnl(ai) + liquidation_cost(ai);
  }
  // With IM recomputed through the steps: the IM after the last call the
  // member paid, the step's own when it defaulted in a later round.
  const double im = im_at_start_.empty() ? acc.initial_margin : (paid_step(ai) ? im_at_end_ : im_at_start_)[ai];
  d.im = im;
  if (settlement_ && acc.kind == AccountKind::kMember) {
    // What the CCP holds after the scenario's (the step's) margin calls:
    // paid unless the member defaulted at the start (of the step); in time
    // steps with IM recomputed, the change from the account's IM on top.
    if (settlement_->im_adjusted[c]) {
      const double held = member_state_[static_cast<std::size_t>(acc.owner)].round == step_round_
                              ? settlement_->im_unpaid[ai]
                              : settlement_->im_paid[ai];
      d.im = im_at_start_.empty() ? held : held + (im - acc.initial_margin);
    }
    // Free of payment: the CCP delivered first; what was in flight to the defaulter is lost.
    if (!settlement_->principal.empty() && settlement_->principal[ai] > 0.0) {
      d.loss += settlement_->principal[ai];
      out.settlement.at(c, CcpSettleMetric::kFails) += 1.0;
      out.settlement.at(c, CcpSettleMetric::kPrincipalLost) += settlement_->principal[ai];
      if (ccp.settlement.chain >= 0) {
        const auto chain = static_cast<std::size_t>(ccp.settlement.chain);
        out.settlement.at_chain(chain, ChainMetric::kFails) += 1.0;
        out.settlement.at_chain(chain, ChainMetric::kLoss) += settlement_->principal[ai];
      }
    }
  }
  d.df = state(ai).df_left;
  if (!model_.clients.empty() && acc.kind == AccountKind::kMember) d.loss += close_out_clients(c, acc.owner, out);
  return d;
}

// A failed peer's line closes its account here: its link margin and the fund
// it posted absorb first. A standing peer's charge seizes nothing of the peer.
// Closing the account leaves c holding its positions, the other side of c's
// members' trades routed over the link: c replaces them as it closes out a
// defaulter (link_replacement). Their cost is part of c's claim on the peer,
// already in the line (apply_resolution); the trades join the day's flow.
void Cascade::add_link_lines(std::size_t c) {
  for (const LinkLine& line : link_lines_[c]) {
    const auto ai = account(static_cast<std::size_t>(line.account));
    models::Defaulter d;
    d.loss = line.loss;
    if (line.kind == LineKind::kFailedPeer && !state(ai).collateral_taken) {
      state(ai).closed = 1;
      state(ai).collateral_taken = 1;
      d.im = collateral_im(ai);
      d.df = state(ai).df_left;
      replaced_.push_back(line.account);
    }
    defaulters_.push_back(d);
    defaulter_accounts_.push_back(line.account);
    line_kinds_.push_back(line.kind);
    line_to_fund_.push_back(0.0);
  }
}

// The survivors at CCP c, in the order of its accounts (its slots): one pass, with
// account() and owner_alive() inlined (state initialised on first touch as
// they would). An account with nothing a layer or tool could take (no fund
// contribution, call capacity, VM gain, lent balance or recovery base left;
// without ADL, which ranks by positions) is left out: it would add exactly 0
// to every pro-rata sum and be charged nothing, so the outcome is bit for bit
// the same with fewer rows for the waterfall's passes.
template <class Emit>
void Cascade::visit_survivors(std::size_t c, Emit&& emit) {
  const CcpModel& ccp = model_.ccps[c];
  // Whether the account in `slot` (met in the step) is a survivor, and what it brings.
  const auto survives = [&](std::size_t slot, SurvivorInputs& in) {
    const AccountInfo& acc = info_[slot];
    const auto ai = static_cast<std::size_t>(acc.account);
    const AccountState& st = acct_[slot];
    if (st.closed) return false;
    if (acc.kind == AccountKind::kMember) {
      const auto m = static_cast<std::size_t>(acc.owner);
      if (member_state_[member_state_[m].stamp == epoch_ ? m : member(m)].round >= 0) return false;
    } else if (acc.kind != AccountKind::kRestOfMarket && !owner_alive(ai)) {
      return false;
    }
    const bool peer_link = acc.peer_link;
    const bool recovery = !ccp.recovery.empty() && !peer_link;
    in.df = peer_link ? 0.0 : st.df_left;
    in.assessment_cap = peer_link ? 0.0 : st.assess_cap;
    in.lender = needs_lender_[c] ? st.lender_left : 0.0;
    in.cash_call_cap = recovery ? st.cash_call_cap : 0.0;
    in.weight = recovery ? acc.default_fund : 0.0;
    in.vm_gain = st.vm_gain;
    if (!needs_adl_[c] && in.df == 0.0 && in.assessment_cap == 0.0 && in.vm_gain == 0.0 && in.lender == 0.0 &&
        in.cash_call_cap == 0.0 && in.weight == 0.0)
      return false;  // nothing left for a layer or a tool to take: adds 0 to every sum, charged nothing
    // A linked CCP meets a call in full, then absorbs it by its own rulebook.
    in.cash = acc.kind == AccountKind::kMember ? std::max(0.0, member_state_[static_cast<std::size_t>(acc.owner)].cash)
              : acc.kind == AccountKind::kLink ? std::numeric_limits<double>::infinity()
                                               : 0.0;
    return true;
  };
  const auto visit = [&](std::size_t slot) {
    SurvivorInputs in{};
    if (!survives(slot, in)) return false;
    emit(slot, in);
    return true;
  };
  // Later in the step, the survivors are among those of the CCP's last pass:
  // within a step an account leaves (closed out, its owner defaulted, nothing
  // left to take) and none comes back (lending_line forgets the pass where
  // one does), so those slots give the same rows in the same order.
  std::vector<int>& slots = survivor_slots_[c];
  const std::size_t first = ccp_slots_[c], end = first + ccp.accounts.size();
  if (survivor_slots_epoch_[c] == step_epoch_) {
    std::size_t kept = 0;
    for (const int slot : slots)
      if (visit(static_cast<std::size_t>(slot))) slots[kept++] = slot;
    slots.resize(kept);
#ifndef NDEBUG
    std::vector<int> full;  // what a full pass would give
    for (std::size_t slot = first; slot < end; ++slot) {
      SurvivorInputs in{};
      if (account_stamp_[slot] == step_epoch_ && survives(slot, in)) full.push_back(static_cast<int>(slot));
    }
    assert(full == slots && "an account came back among the survivors within a step");
#endif
    return;
  }
  slots.clear();
  survivor_slots_epoch_[c] = step_epoch_;
  constexpr std::size_t kAhead = 8;   // the P&L of the accounts to meet, asked for this many slots ahead
  const bool window = needs_adl_[c];  // meet_account reads the close-out window's P&L for ADL alone
  for (std::size_t slot = first; slot < std::min(end, first + kAhead); ++slot)
    if (account_stamp_[slot] != step_epoch_)
      account_pnl_.prefetch(static_cast<std::size_t>(info_[slot].account), window);
  for (std::size_t slot = first; slot < end; ++slot) {
    if (slot + kAhead < end && account_stamp_[slot + kAhead] != step_epoch_)
      account_pnl_.prefetch(static_cast<std::size_t>(info_[slot + kAhead].account), window);
    if (account_stamp_[slot] != step_epoch_) meet_account(static_cast<std::size_t>(info_[slot].account), slot);
    if (visit(slot)) slots.push_back(static_cast<int>(slot));
  }
}

void Cascade::collect_survivors(std::size_t c) {
  const CcpModel& ccp = model_.ccps[c];
  survivors_.reserve(ccp.accounts.size());
  survivor_accounts_.reserve(ccp.accounts.size());
  visit_survivors(c, [&](std::size_t slot, const SurvivorInputs& in) {
    const AccountInfo& acc = info_[slot];
    models::Survivor& s = survivors_.emplace_back();
    s.df = in.df;
    s.assessment_cap = in.assessment_cap;
    s.cash = in.cash;
    s.vm_gain = in.vm_gain;
    if (needs_adl_[c]) {
      // Ranked on what it still holds, against its whole margin (kept behind
      // it), as ADL by quantity ranks the contracts left.
      const auto ai = static_cast<std::size_t>(acc.account);
      const double h = held(ai);
      s.adl_gain = acct_[slot].adl_left;
      s.adl_rank = models::adl_rank(h * account_pnl_[ai], acc.initial_margin, h * acc.notional);
    }
    s.lender_balance = in.lender;
    s.junior = ccp.juniorisation && acc.kind == AccountKind::kMember && !acc.bids;
    s.cash_call_cap = in.cash_call_cap;
    s.allocation_weight = in.weight;
    survivor_accounts_.push_back(acc.account);
  });
}

void Cascade::collect_columns(std::size_t c) {
  table_.reserve(model_.ccps[c].accounts.size());
  table_.size = 0;
  visit_survivors(c, [&](std::size_t slot, const SurvivorInputs& in) { table_.push(static_cast<int>(slot), in); });
  on_columns_ = true;
}

void Cascade::SurvivorTable::reserve(std::size_t n) {
  if (slot.size() >= n) return;
  for (auto* column :
       {&df, &df_charged, &assessment_cap, &cash, &assessment_paid, &assessment_unpaid, &vm_gain, &vmgh_charged})
    column->resize(n);
  missed_call.resize(n);
  slot.resize(n);
}

void Cascade::SurvivorTable::push(int row_slot, const SurvivorInputs& in) {
  const std::size_t i = size++;
  df[i] = in.df;
  assessment_cap[i] = in.assessment_cap;
  cash[i] = in.cash;
  vm_gain[i] = in.vm_gain;
  df_charged[i] = assessment_paid[i] = assessment_unpaid[i] = vmgh_charged[i] = 0.0;
  missed_call[i] = 0;
  slot[i] = row_slot;
}

models::SurvivorColumns Cascade::SurvivorTable::columns() {
  const auto first = [this](std::vector<double>& v) { return std::span<double>(v.data(), size); };
  return {first(df),      first(df_charged),      first(assessment_cap),
          first(cash),    first(assessment_paid), first(assessment_unpaid),
          first(vm_gain), first(vmgh_charged),    std::span<std::uint8_t>(missed_call.data(), size)};
}

// ADL at the bankruptcy price (BitMEX "Auto-Deleveraging"): when this
// round's member lines at CCP c are all single-asset positions in one
// contract, the contracts of the lines on the net side whose loss their own
// margin and fund contribution do not cover (a shortfall) are closed against
// the opposite single-asset accounts in that contract, by quantity, in
// ranking order (ccps[].adl), each up to its contracts left, at the
// quantity-weighted bankruptcy price B of those lines, B_i = P0 - IM_i / q_i
// (where the loss q_i (P0 - B_i) equals the IM: the defaulter's equity is
// zero). Lines closed in the market with a surplus are not deleveraged. Entry
// price: today's price P0; mark: P0 + P&L / quantity (the scenario's move over
// the MPOR). Each contract closed takes the lines' shortfall per contract off
// the loss (the mutual layers before ADL reduce every line's residual pro
// rata, so ADL closes the same share of each line's contracts) and costs the
// account |mark - B|: the close-out cost on it is never incurred
// (models::run_waterfall, adl_cost_avoided), as models::liquidate_venue_position
// leaves q (S - F) / S contracts to ADL. Other single-asset accounts are not
// deleveraged; multi-asset accounts keep the whole-gain rule (adl_rank on
// aggregates), ranked in the same queue by their own score.
void Cascade::setup_adl_by_quantity(std::size_t c, std::size_t n) {
  adl_by_quantity_.clear();  // empty: none by quantity
  adl_matched_lines_.clear();
  adl_quantity_ = 0.0;
  adl_mark_from_end_ = false;
  if (!needs_adl_[c] || n == 0) return;
  adl_by_quantity_.assign(survivors_.size(), 0);
  int asset = -1;
  double net = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto ai = static_cast<std::size_t>(defaulter_accounts_[i]);
    const int k = single_asset_[ai];
    if (k < 0 || (asset >= 0 && k != asset)) return;
    asset = k;
    net += held(ai) * model_.accounts[ai].quantity(k);
  }
  if (net == 0.0) return;
  const models::Side side = net > 0.0 ? models::Side::kLong : models::Side::kShort;
  const double sl = models::side_sign(side);
  const double p0 = model_.assets[static_cast<std::size_t>(asset)].price;
  double q_sum = 0.0, b_sum = 0.0, shortfall = 0.0;
  // The round's defaulters are closed out from the step's start, or, in a
  // later round of a step whose margin they paid, from its end
  // (closeout_from_end): their margin is settled to that point, and ADL
  // marks at the end of the close-out window from it.
  const auto first = static_cast<std::size_t>(defaulter_accounts_[0]);
  adl_mark_from_end_ = closeout_from_end(first);
  for (std::size_t i = 0; i < n; ++i) {
    const models::Defaulter& d = defaulters_[i];
    const auto ai = static_cast<std::size_t>(defaulter_accounts_[i]);
    // What it still holds (held()) and the margin settled on it.
    const double h = held(ai);
    const double q = h * model_.accounts[ai].quantity(asset);
    const double short_i = d.loss - d.im - d.df;
    if (q * sl <= 0.0 || !(short_i > 0.0)) continue;
    // Its equity is zero at B = the price its margin stands behind (today's
    // price, or where it last paid variation margin) - IM / q.
    const double settled = state(ai).liquidated ? 0.0 : h * settled_pnl(ai);
    q_sum += std::abs(q);
    b_sum += std::abs(q) * (p0 + (settled - d.im) / q);
    shortfall += short_i;
    adl_matched_lines_.push_back(static_cast<int>(i));
  }
  adl_quantity_ = q_sum;
  if (q_sum == 0.0) return;
  const double bankruptcy = b_sum / q_sum;
  // The mark must have reached the bankruptcy price (otherwise the defaulted
  // position has equity left and only its close-out cost reaches the layer).
  const double mark = mark_price(first, asset);
  if (!(sl * (bankruptcy - mark) >= 0.0)) return;
  std::vector<std::size_t> queue;
  for (std::size_t j = 0; j < survivors_.size(); ++j) {
    const auto ai = static_cast<std::size_t>(survivor_accounts_[j]);
    const int k = single_asset_[ai];
    if (k < 0) continue;
    // A single-asset account is deleveraged in the members' run only by
    // quantity, in the contract; a link loss after it takes its gain left.
    models::Survivor& s = survivors_[j];
    s.adl_gain = 0.0;
    adl_by_quantity_[j] = kAdlBeyond;
    const Account& acc = model_.accounts[ai];
    const double q = acc.quantity(k);
    if (k != asset || q * sl >= 0.0 || contracts_left(ai) <= 0.0) continue;
    const double own_mark = mark_price(ai, asset);
    const models::AdlAccount position{contracts_left(ai), p0, own_mark, acc.initial_margin};
    s.adl_rank = models::adl_priority(models::opposite_side(side), position, model_.ccps[c].adl_ranking);
    s.adl_entry_price = p0;
    s.adl_mark_price = own_mark;
    s.adl_bankruptcy_price = bankruptcy;
    s.adl_loss_per_contract = shortfall / q_sum;
    s.adl_gain = state(ai).adl_left;  // for a link loss after the members' run
    queue.push_back(j);
  }
  std::stable_sort(queue.begin(), queue.end(),
                   [&](std::size_t a, std::size_t b) { return survivors_[a].adl_rank > survivors_[b].adl_rank; });
  double left = q_sum;
  for (std::size_t j : queue) {
    models::Survivor& s = survivors_[j];
    s.adl_quantity = std::min(left, contracts_left(static_cast<std::size_t>(survivor_accounts_[j])));
    left -= s.adl_quantity;
    adl_by_quantity_[j] = s.adl_quantity > 0.0 ? kAdlQueued : kAdlBeyond;
    if (s.adl_quantity == 0.0) s.adl_gain = 0.0;  // beyond the defaulted quantity: not in the members' run
  }
}

double Cascade::settled_pnl(std::size_t ai) const {
  return adl_mark_from_end_ ? account_pnl_.at_step_end(ai) : account_pnl_.to(ai) - account_pnl_[ai];
}

double Cascade::mark_price(std::size_t ai, int asset) const {
  const double p0 = model_.assets[static_cast<std::size_t>(asset)].price;
  const double q = model_.accounts[ai].quantity(asset);
  const bool venue = !model_.ccps[static_cast<std::size_t>(model_.accounts[ai].ccp)].lending;
  if (state(ai).liquidated && venue) return p0 + cold(ai).venue_pnl / (held(ai) * q);  // of what it held
  if (adl_mark_from_end_) return p0 + (account_pnl_.at_step_end(ai) + account_pnl_.after_step(ai)) / q;
  return p0 + account_pnl_.to(ai) / q;
}

void Cascade::trace_event(int round, std::size_t c, const models::WaterfallOutcome& wf, std::size_t first,
                          std::size_t end, const std::vector<LineKind>& kinds, CascadeTrace* trace,
                          const std::vector<AdlLine>& adl) const {
  if (!trace || first == end) return;
  WaterfallEvent event{round, static_cast<int>(c), {}, wf.by_layer, wf.uncovered, kinds[first] != LineKind::kMember,
                       adl};
  event.day = day_;
  event.adl_cost_avoided = wf.adl_cost_avoided;
  for (std::size_t i = first; i < end; ++i) {
    const auto& d = defaulters_[i];
    const double after_own = std::max(0.0, d.loss) - d.im_used - d.df_used;
    const bool liquidated =
        kinds[i] == LineKind::kMember && state(static_cast<std::size_t>(defaulter_accounts_[i])).liquidated;
    // A venue liquidation's margin left goes to the insurance fund, not back.
    const double estate = line_to_fund_[i] > 0.0 ? 0.0 : d.estate_return;
    event.defaulters.push_back({defaulter_accounts_[i], d.loss, d.im_used, d.df_used, after_own, estate, kinds[i],
                                liquidated, line_to_fund_[i]});
    // Its clients' accounts closed out with it, as far as their own margin covered them.
    for (const auto& [line, cover] : client_cover_) {
      if (line != i) continue;
      event.by_layer[static_cast<std::size_t>(models::Layer::kDefaulterIm)] += cover;
      event.defaulters.push_back({defaulter_accounts_[i], cover, cover, 0.0, 0.0, 0.0, LineKind::kClients});
    }
  }
  // Clients reverted to a defaulted original member, covered by their own margin.
  for (std::size_t i = 0; first == 0 && i < reverted_cover_.size(); ++i) {
    const auto& [house, cover] = reverted_cover_[i];
    event.by_layer[static_cast<std::size_t>(models::Layer::kDefaulterIm)] += cover;
    event.defaulters.push_back({house, cover, cover, 0.0, 0.0, 0.0, LineKind::kClients});
  }
  trace->events.push_back(std::move(event));
}

// VMGH caps hold for a round of defaults as a whole: the link lines' run
// gets what the members' run left of the per-call cap, and of max_rate on the
// gains as they stood before the round.
void Cascade::run_layers(std::size_t c, std::span<models::Defaulter> members, std::span<models::Defaulter> links,
                         models::CcpResources& resources, models::VmghCaps& vmgh, models::WaterfallOutcome& wf_members,
                         models::WaterfallOutcome& wf_links) {
  const double gains_before = vmgh.max_rate < 1.0 ? survivor_gains() : 0.0;  // for the cap on the rate only
  const bool adl = needs_adl_[c] && !survivors_.empty();
  if (adl) adl_charged_members_.assign(survivors_.size(), 0.0);
  wf_members = run_waterfall(model_.ccps[c].waterfall, members, resources, vmgh);
  const double taken = wf_members.by_layer[static_cast<std::size_t>(models::Layer::kVmgh)];
  models::VmghCaps round = vmgh;
  round.per_call = std::max(0.0, vmgh.per_call - taken);
  if (taken > 0.0 && vmgh.max_rate < 1.0) {
    const double gains_after = survivor_gains();
    round.max_rate =
        gains_after > 0.0 ? std::clamp((vmgh.max_rate * gains_before - taken) / gains_after, 0.0, 1.0) : 0.0;
  }
  if (adl) {
    record_adl(0);
    note_adl_matched();
  } else {
    adl_lines_[0].clear();  // no adl layer: nothing deleveraged
  }
  // Link losses deleverage by the whole-gain rule, every opposite account by
  // its gain on what it still holds: the members' contract was closed by
  // quantity above.
  for (std::size_t i = 0; adl && i < survivors_.size(); ++i) {
    if (!adl_by_quantity_.empty() && adl_by_quantity_[i] != 0) {
      models::Survivor& s = survivors_[i];
      s.adl_gain = gain_after_quantity(i);
      s.adl_quantity = 0.0;
    }
  }
  wf_links = run_waterfall(link_layers_[c], links, resources, round);
  vmgh.total_left = round.total_left;
  vmgh.step_left = round.step_left;
  if (adl)
    record_adl(1);
  else
    adl_lines_[1].clear();  // no adl layer: nothing deleveraged
}

models::WaterfallOutcome Cascade::run_waterfall(std::span<const models::Layer> layers,
                                                std::span<models::Defaulter> lines, models::CcpResources& resources,
                                                models::VmghCaps& vmgh) {
  if (on_columns_) return models::run_waterfall(layers, lines, table_.columns(), resources, vmgh);
  return models::run_waterfall(layers, lines, survivors_, resources, vmgh);
}

double Cascade::survivor_gains() const {
  double sum = 0.0;
  if (on_columns_)
    for (std::size_t i = 0; i < table_.size; ++i) sum += std::max(0.0, table_.vm_gain[i]);
  else
    for (const models::Survivor& s : survivors_) sum += std::max(0.0, s.vm_gain);
  return sum;
}

// ADL by quantity closed each net-side line's contracts in proportion: the
// contracts closed over theirs. Those are not sold into the market.
void Cascade::note_adl_matched() {
  if (adl_by_quantity_.empty() || !(adl_quantity_ > 0.0)) return;
  double closed = 0.0;
  for (std::size_t i = 0; i < survivors_.size(); ++i)
    if (adl_by_quantity_[i] == kAdlQueued) closed += survivors_[i].adl_closed;
  const double share = std::min(1.0, closed / adl_quantity_);
  if (!(share > 0.0)) return;
  for (const int i : adl_matched_lines_)
    cold(static_cast<std::size_t>(defaulter_accounts_[static_cast<std::size_t>(i)])).adl_matched = share;
}

// The survivors' ADL charges of run `run` (0: members' lines, 1: link lines).
void Cascade::record_adl(int run) {
  auto& lines = adl_lines_[static_cast<std::size_t>(run)];
  lines.clear();
  for (std::size_t i = 0; i < survivors_.size(); ++i) {
    const models::Survivor& s = survivors_[i];
    const double before = run == 0 ? 0.0 : adl_charged_members_[i];
    const double charged = s.adl_charged - before;
    if (run == 0) adl_charged_members_[i] = s.adl_charged;
    if (charged <= 0.0) continue;
    const bool by_quantity = run == 0 && !adl_by_quantity_.empty() && adl_by_quantity_[i] == kAdlQueued;
    lines.push_back({survivor_accounts_[i], by_quantity ? s.adl_closed : 0.0,
                     by_quantity ? s.adl_bankruptcy_price : 0.0, charged, 0, s.adl_rank});
  }
  // The queue's order: highest score first, ties in account order (run_waterfall's).
  std::vector<std::size_t> order(lines.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return lines[a].priority > lines[b].priority; });
  for (std::size_t k = 0; k < order.size(); ++k) lines[order[k]].rank = static_cast<int>(k + 1);
}

// Losses that reach CCP c after it failed: from a peer that failed in the same
// round, or a late charge. A failed peer's line is absorbed first by that
// peer's own collateral here (its link margin and fund, less what c's
// resolution took of them), as at a standing CCP; c has no layer left, so its
// creditors bear the rest on what is left of their stakes.
void Cascade::settle_failed_ccp(std::size_t c, int round, ScenarioResult& out, CascadeTrace* trace) {
  using L = models::Layer;
  WaterfallEvent event;
  event.round = round;
  event.ccp = static_cast<int>(c);
  event.link_losses = true;
  event.day = day_;
  for (const LinkLine& line : link_lines_[c]) {
    const auto ai = account(static_cast<std::size_t>(line.account));
    out.ccp_link_in[c] += line.loss;
    double left = line.loss, im = 0.0, df = 0.0;
    if (line.kind == LineKind::kFailedPeer && !state(ai).collateral_taken) {
      state(ai).collateral_taken = 1;
      im = std::min(left, collateral_im(ai));
      df = std::min(left - im, std::max(0.0, state(ai).df_left));
      state(ai).df_left -= df;
      left -= im + df;
    }
    out.ccp_layers[c * models::kLayerCount + static_cast<std::size_t>(L::kDefaulterIm)] += im;
    out.ccp_layers[c * models::kLayerCount + static_cast<std::size_t>(L::kDefaulterDf)] += df;
    if (!info(ai).peer_link) out.ccp_df_used[c] += df;  // a participant CCP's contribution, as settle_ccp counts it
    event.by_layer[static_cast<std::size_t>(L::kDefaulterIm)] += im;
    event.by_layer[static_cast<std::size_t>(L::kDefaulterDf)] += df;
    event.uncovered += left;
    if (trace) event.defaulters.push_back({line.account, line.loss, im, df, left, 0.0, line.kind});
  }
  const double late = event.uncovered;
  // The stress report shows these lines as a waterfall of their own, so that
  // its rounds add up to the CCP's figures.
  if (trace && !event.defaulters.empty()) trace->events.push_back(std::move(event));
  if (late <= 0.0) return;
  out.ccp_uncovered[c] += late;
  resolutions_.push_back({c, late, false});  // resolved after the round's waterfalls (resolve_round)
}

// The IM a link account's owner still has at its CCP: what that CCP's failure
// did not take of it (non-segregated margin lost pro rata).
double Cascade::collateral_im(std::size_t ai) const {
  return std::max(0.0, model_.accounts[ai].initial_margin - cold(ai).margin_lost);
}

void Cascade::settle_ccp(std::size_t c, int round, ScenarioResult& out, CascadeTrace* trace) {
  const CcpModel& ccp = model_.ccps[c];
  defaulters_.clear();
  defaulter_accounts_.clear();
  line_kinds_.clear();
  line_to_fund_.clear();
  client_cover_.clear();
  reverted_cover_.clear();
  survivors_.clear();
  survivor_accounts_.clear();
  on_columns_ = false;
  if (ccp_round_[c] >= 0) {
    settle_failed_ccp(c, round, out, trace);
    return;
  }
  const double fund_start = resources_[c].insurance_fund;
  unplaced_loss_ = 0.0;
  unplaced_value_.clear();
  add_member_lines(c, out);
  const std::size_t n_member_lines = defaulters_.size();
  add_link_lines(c);
  if (defaulters_.empty()) return;
  const std::span<models::Defaulter> members(defaulters_.data(), n_member_lines);
  const std::span<models::Defaulter> links(defaulters_.data() + n_member_lines, defaulters_.size() - n_member_lines);
  // Survivors are only needed when the loss reaches a layer that charges them:
  // first try the waterfalls without them; if everything was absorbed before
  // the first survivor-charging layer, that is the exact outcome (most
  // defaults stop at the defaulters' own IM and DF, or at SITG).
  const auto reaches_survivors = [](const models::WaterfallOutcome& wf, const std::vector<models::Layer>& layers,
                                    std::size_t first) {
    if (wf.uncovered > 0.0) return true;
    for (std::size_t i = first; i < layers.size(); ++i)
      if (wf.by_layer[static_cast<std::size_t>(layers[i])] > 0.0) return true;
    return false;
  };
  models::CcpResources trial = resources_[c];
  models::VmghCaps trial_vmgh = vmgh_[c];
  models::WaterfallOutcome wf_members, wf_links;
  run_layers(c, members, links, trial, trial_vmgh, wf_members, wf_links);
  const bool needs_survivors = reaches_survivors(wf_members, ccp.waterfall, first_mutual_[c]) ||
                               reaches_survivors(wf_links, link_layers_[c], first_link_mutual_[c]);
  if (!needs_survivors) {
    resources_[c] = trial;
    vmgh_[c] = trial_vmgh;
  } else {
    if (columns_[c]) {
      collect_columns(c);
    } else {
      collect_survivors(c);
      setup_adl_by_quantity(c, n_member_lines);
    }
    run_layers(c, members, links, resources_[c], vmgh_[c], wf_members, wf_links);
  }
  models::RecoveryOutcome recovery;
  if (!ccp.recovery.empty() && wf_members.uncovered + wf_links.uncovered > kTolerance)
    recovery = run_recovery_tools(c, wf_members, wf_links, out);
  for (std::size_t l = 0; l < models::kLayerCount; ++l)
    out.ccp_layers[c * models::kLayerCount + l] += wf_members.by_layer[l] + wf_links.by_layer[l];
  out.closeout_loss += wf_members.loss;
  out.ccp_closeout[c] += wf_members.loss;
  out.ccp_link_in[c] += wf_links.loss;
  using L = models::Layer;
  // The default fund used: members' own and mutualised contributions, and a
  // participant CCP's; a peer link fund is not part of the default fund.
  double peer_funds = 0.0;
  for (std::size_t i = n_member_lines; i < defaulters_.size(); ++i)
    if (info(static_cast<std::size_t>(defaulter_accounts_[i])).peer_link) peer_funds += defaulters_[i].df_used;
  const auto df_used = [](const models::WaterfallOutcome& wf) {
    return wf.by_layer[static_cast<std::size_t>(L::kDefaulterDf)] +
           wf.by_layer[static_cast<std::size_t>(L::kMutualizedDf)];
  };
  out.ccp_df_used[c] += df_used(wf_members) + df_used(wf_links) - peer_funds;
  for (std::size_t i = 0; i < defaulters_.size(); ++i) {
    const auto ai = static_cast<std::size_t>(defaulter_accounts_[i]);
    state(ai).df_left -= defaulters_[i].df_used;
    if (i < n_member_lines && info(ai).kind == AccountKind::kMember) {
      if (defaulters_[i].im_used > 0.0)
        out.account_losses.push_back({static_cast<int>(ai), LossChannel::kOwnIm, defaulters_[i].im_used});
      if (defaulters_[i].df_used > 0.0)
        out.account_losses.push_back({static_cast<int>(ai), LossChannel::kOwnDf, defaulters_[i].df_used});
    }
  }
  const std::size_t first_event = trace ? trace->events.size() : 0;
  trace_event(round, c, wf_members, 0, n_member_lines, line_kinds_, trace, adl_lines_[0]);
  trace_event(round, c, wf_links, n_member_lines, defaulters_.size(), line_kinds_, trace, adl_lines_[1]);
  for (std::size_t e = first_event; trace && e < trace->events.size(); ++e) {
    WaterfallEvent& event = trace->events[e];
    event.insurance_fund_start = fund_start;
    event.insurance_fund_surpluses = std::accumulate(line_to_fund_.begin(), line_to_fund_.end(), 0.0);
    event.insurance_fund_end = resources_[c].insurance_fund;
    if (e == first_event) event.recovery = recovery.by_tool;
  }
  // What it closes of the survivors trades at the prices of the round's
  // close-outs (closeout_from_end; link losses: where replacements trade).
  closing_at_end_ = n_member_lines > 0 ? closeout_from_end(static_cast<std::size_t>(defaulter_accounts_[0]))
                                       : account_pnl_.next_window();
  if (on_columns_)
    book_column_charges(c, round, out);
  else
    book_survivor_charges(c, round, out);
  const double uncovered = wf_members.uncovered + wf_links.uncovered;
  if (uncovered > kTolerance) {
    out.ccp_uncovered[c] += uncovered;
    out.ccp_fail_cause[c] = wf_members.uncovered > kTolerance ? FailureCause::kMembers : FailureCause::kLinks;
    failed_now_.push_back(static_cast<int>(c));
    resolutions_.push_back({c, uncovered, true});  // resolved after the round's waterfalls (resolve_round)
  } else if (uncovered > 0.0) {
    out.ccp_unallocated[c] += uncovered;  // rounding: below a cent's ten-thousandth
  }
}

// Member m goes on the list check_members tests this round (once).
void Cascade::mark_to_test(std::size_t m, int round) {
  MemberState& ms = member_state_[m];
  if (ms.checked_round == round) return;
  ms.checked_round = round;
  touched_.push_back(static_cast<int>(m));
}

void Cascade::charge_member(std::size_t ai, LossChannel channel, double amount, bool cash, int round,
                            ScenarioResult& out) {
  if (!(amount <= 0.0)) charge_account(info(ai), channel, amount, cash, round, out);
}

void Cascade::charge_account(const AccountInfo& acc, LossChannel channel, double amount, bool cash, int round,
                             ScenarioResult& out) {
  out.account_losses.push_back({acc.account, channel, amount});
  if (acc.kind == AccountKind::kClient) {  // the client's loss: its member's capital is not touched
    out.client_loss += amount;
    return;
  }
  const auto m = static_cast<std::size_t>(acc.owner);
  MemberState& ms = member_state_[m];
  ms.capital -= amount;
  if (cash) ms.cash -= amount;
  mark_to_test(m, round);
}

// What the layers left goes to the recovery tools in the rulebook's order:
// the members' lines first, then the link lines. The survivors' charges are
// booked with the layers' (book_survivor_charges).
models::RecoveryOutcome Cascade::run_recovery_tools(std::size_t c, models::WaterfallOutcome& wf_members,
                                                    models::WaterfallOutcome& wf_links, ScenarioResult& out) {
  const double residual = wf_members.uncovered + wf_links.uncovered;
  const auto& tools = model_.ccps[c].recovery;
  if (std::find(tools.begin(), tools.end(), models::RecoveryTool::kTearUp) != tools.end()) set_tear_up_gains(c);
  models::RecoveryOutcome rec = models::run_recovery(tools, residual, unplaced_loss_, survivors_);
  torn_up_ = rec.by_tool[static_cast<std::size_t>(models::RecoveryTool::kTearUp)] > 0.0;
  double covered = 0.0;
  for (std::size_t t = 0; t < models::kRecoveryToolCount; ++t) {
    out.ccp_recovery[c * models::kRecoveryToolCount + t] += rec.by_tool[t];
    covered += rec.by_tool[t];
  }
  const double from_members = std::min(wf_members.uncovered, covered);
  wf_members.uncovered -= from_members;
  wf_links.uncovered = std::max(0.0, wf_links.uncovered - (covered - from_members));
  if (rec.uncovered <= 0.0) wf_members.uncovered = wf_links.uncovered = 0.0;
  return rec;
}

// Partial tear-up terminates the standing positions opposite the book the
// auctions did not place, in each asset pro rata to the positions on that
// side, at the last settlement price (CPMI-IOSCO, Recovery of financial
// market infrastructures, 2014 rev. 2017, 4.5: tear-up of the positions
// that offset the defaulter's unmatched book). Positions by their value
// today (options by their delta, as the auction values the book). A
// survivor's gain on them: its VM gain times the share of its book's value
// torn up; exact for an account in one asset, an approximation for a
// multi-asset book (its gain is spread over its positions by value, whatever
// asset made it). Positions of linked CCPs are not torn up here.
void Cascade::set_tear_up_gains(std::size_t c) {
  if (unplaced_value_.empty()) return;
  const auto opposite = [&](int asset, double v) { return v * unplaced_value_[static_cast<std::size_t>(asset)] < 0.0; };
  opposite_value_.assign(unplaced_value_.size(), 0.0);
  for (int a : model_.ccps[c].accounts) {
    const auto ai = account(static_cast<std::size_t>(a));
    const Account& acc = model_.accounts[ai];
    if (acc.kind == AccountKind::kLink || state(ai).closed || !owner_alive(ai)) continue;
    const double h = held(ai);
    for (const auto [asset, v] : acc.values)
      if (opposite(asset, v)) opposite_value_[static_cast<std::size_t>(asset)] += h * std::abs(v);
  }
  // Each asset's share torn up, signed as the opposite side (torn_shares).
  torn_at_ = static_cast<int>(torn_shares_.size());
  for (std::size_t k = 0; k < unplaced_value_.size(); ++k) {
    const double u = unplaced_value_[k];
    torn_shares_.push_back(u != 0.0 ? -std::copysign(std::min(1.0, std::abs(u) / opposite_value_[k]), u) : 0.0);
  }
  const std::span<const double> share(torn_shares_.data() + static_cast<std::size_t>(torn_at_), unplaced_value_.size());
  torn_share_.assign(survivors_.size(), 0.0);
  for (std::size_t i = 0; i < survivors_.size(); ++i) {
    const Account& acc = model_.accounts[static_cast<std::size_t>(survivor_accounts_[i])];
    survivors_[i].tear_up_gain = 0.0;
    if (acc.kind == AccountKind::kLink) continue;
    double book = 0.0, torn = 0.0;
    for (const auto [asset, v] : acc.values) {
      book += std::abs(v);
      if (opposite(asset, v)) torn += std::abs(v) * std::abs(share[static_cast<std::size_t>(asset)]);
    }
    if (book <= 0.0) continue;
    torn_share_[i] = torn / book;
    survivors_[i].tear_up_gain = std::max(0.0, survivors_[i].vm_gain) * torn_share_[i];
  }
}

std::span<const double> Cascade::torn_shares(const ClosedShare& closed) const {
  if (closed.torn < 0) return {};
  return std::span<const double>(torn_shares_).subspan(static_cast<std::size_t>(closed.torn), model_.assets.size());
}

// A survivor's charges, in the order of their channels: a member or a
// client pays them; a linked CCP passes their sum to its own waterfall next
// round.
template <std::size_t N>
void Cascade::book_charges(std::size_t c, const AccountInfo& acc, const SurvivorCharges<N>& charges, bool missed_call,
                           int round, ScenarioResult& out) {
  if (acc.kind == AccountKind::kMember || acc.kind == AccountKind::kClient) {
    // Most survivors pay on one channel or two: the channels charged as
    // bits, one test each without a branch, and only those booked (as
    // charge_member books: not a charge <= 0).
    unsigned paid = 0;
    for (std::size_t k = 0; k < charges.size(); ++k) paid |= static_cast<unsigned>(!(charges[k].second <= 0.0)) << k;
    for (; paid != 0; paid &= paid - 1) {
      const auto& [channel, amount] = charges[static_cast<std::size_t>(std::countr_zero(paid))];
      charge_account(acc, channel, amount, pays_cash(channel), round, out);
    }
    if (missed_call && acc.kind == AccountKind::kMember) {  // tested this round even if charged nothing
      const auto m = static_cast<std::size_t>(acc.owner);
      member_state_[m].missed_call = 1;
      mark_to_test(m, round);
    }
  } else if (acc.kind == AccountKind::kLink) {
    double charge = 0.0;
    for (const auto& [channel, amount] : charges) charge += amount;
    if (charge <= 0.0) return;
    out.ccp_link_out[c] += charge;
    next_link_lines_[static_cast<std::size_t>(acc.owner)].push_back(
        {mirror_[static_cast<std::size_t>(acc.account)], charge, LineKind::kLinkCharge});
  }
}

// Charges of the layers on the survivors: members pay from capital (and cash
// for calls and unpaid gains); a linked CCP passes its charge to its own
// waterfall next round.
void Cascade::book_survivor_charges(std::size_t c, int round, ScenarioResult& out) {
  for (std::size_t i = 0; i < survivors_.size(); ++i) {
    const auto ai = static_cast<std::size_t>(survivor_accounts_[i]);
    const auto slot = static_cast<std::size_t>(slot_[ai]);
    const AccountInfo& acc = info_[slot];
    AccountState& st = acct_[slot];
    const models::Survivor& s = survivors_[i];
    const double torn_up = s.tear_up_charged;
    const double vm_cut = st.vm_gain - s.vm_gain - torn_up;  // VMGH's; tear-up's apart
    st.df_left -= s.df_charged;
    st.cash_call_cap -= s.cash_call_paid + s.cash_call_unpaid;
    st.assess_cap -= s.assessment_paid + s.assessment_unpaid;
    if (s.adl_charged > 0.0 || s.adl_closed > 0.0) {
      const bool by_quantity = !adl_by_quantity_.empty() && adl_by_quantity_[i] == kAdlQueued;
      st.adl_left =
          close_deleveraged(ai, s, contracts_left(ai), st.adl_left, by_quantity ? adl_charged_members_[i] : 0.0);
    }
    if (torn_up_ && torn_share_[i] > 0.0) {
      // In its P&L the torn share of its whole book; in what the CCP trades,
      // each asset's torn positions alone (torn_shares).
      const double held_before = held(ai);
      if (close_share(ai, torn_share_[i]) > 0.0)
        closed_against_.push_back({static_cast<int>(ai), held_before, closing_at_end_, torn_at_});
      st.adl_left *= 1.0 - torn_share_[i];
    }
    st.lender_left -= s.lender_charged;
    st.vm_gain = s.vm_gain;
    // In the order of the channels, as they are booked.
    book_charges(c, acc,
                 SurvivorCharges<8>{{{LossChannel::kMutualizedDf, s.df_charged},
                                     {LossChannel::kAssessment, s.assessment_paid},
                                     {LossChannel::kVmgh, vm_cut},
                                     {LossChannel::kAdl, s.adl_charged},
                                     {LossChannel::kLenderHaircut, s.lender_charged},
                                     {LossChannel::kCashCall, s.cash_call_paid},
                                     {LossChannel::kTearUp, torn_up},
                                     {LossChannel::kForcedAllocation, s.allocation_charged}}},
                 s.missed_call, round, out);
  }
  torn_up_ = false;
}

// book_survivor_charges on the columns: their layers charge no ADL, lender
// haircut or recovery tool (the other channels' zeros would add 0 to a link's
// sum and book nothing).
void Cascade::book_column_charges(std::size_t c, int round, ScenarioResult& out) {
  for (std::size_t i = 0; i < table_.size; ++i) {
    const auto slot = static_cast<std::size_t>(table_.slot[i]);
    AccountState& st = acct_[slot];
    const double df = table_.df_charged[i], paid = table_.assessment_paid[i];
    const double vm_cut = st.vm_gain - table_.vm_gain[i];
    st.df_left -= df;
    st.assess_cap -= paid + table_.assessment_unpaid[i];
    st.vm_gain = table_.vm_gain[i];
    book_charges(
        c, info_[slot],
        SurvivorCharges<3>{
            {{LossChannel::kMutualizedDf, df}, {LossChannel::kAssessment, paid}, {LossChannel::kVmgh, vm_cut}}},
        table_.missed_call[i] != 0, round, out);
  }
}

// A failed CCP's creditors bear what its waterfall left, pro rata to what
// each has at stake there: VM gains it owes, default-fund contributions left,
// and non-segregated margin net of the recovery rate. A creditor's share never
// exceeds its stake, so no creditor pays twice; the rest is unallocated.
//
// A linked CCP is a secured creditor: it holds the failed CCP's link margin
// and fund (its collateral there), sets its claim off against them, and what
// is left of them belongs to the failed CCP's estate. So every dollar of
// that collateral reduces what is left to share, and only the claims beyond
// their collateral share the rest pro rata (insolvency set-off; PFMI Principle
// 20, key consideration 8: a link's margin covers the exposure to the linked
// CCP). The collateral used is booked on the linked CCP's line, where it
// absorbs first as the failed CCP's own margin and fund there.
//
// The linked CCP's claim is its close-out amount: the VM and margin owed,
// and the cost of replacing the failed CCP's link positions (link_replacement;
// a gain reduces the claim, and beyond it is owed to the estate). The
// replacements are debts of the failed CCP on its link book: what they add
// to (or take off) its shortfall is a close-out loss of the failed CCP, shared
// with the rest; what a gain leaves over is the estate's, nobody's loss (the
// layers the failed CCP used stay used).
void Cascade::resolve_round(int round, ScenarioResult& out, CascadeTrace* trace) {
  stakes_.clear();
  pledges_.clear();
  for (Resolution& r : resolutions_) gather_stakes(r);
  for (Resolution& r : resolutions_) net_applied_collateral(r);
  for (const Resolution& r : resolutions_) {
    apply_resolution(r, round, out);
    if (trace && r.failing) note_failure(*trace, static_cast<int>(r.ccp), round, r.uncovered, r.shortfall);
  }
  resolutions_.clear();
}

// Resolution r's stakes, as they stand before any of the round's
// resolutions is charged, its shortfall with the replacements, and the share
// of its collateral its linked creditors apply (noted in pledges_).
void Cascade::gather_stakes(Resolution& r) {
  r.first = stakes_.size();
  add_creditor_stakes(r.ccp);
  r.last = stakes_.size();
  double replaced = 0.0;
  for (std::size_t i = r.first; i < r.last; ++i) {
    r.collateral += stakes_[i].collateral();
    replaced += stakes_[i].replacement;
  }
  r.shortfall = std::max(0.0, r.uncovered + replaced);
  r.used = r.collateral > 0.0 ? std::min(1.0, r.shortfall / r.collateral) : 0.0;
  for (std::size_t i = r.first; i < r.last; ++i) {
    const Stake& s = stakes_[i];
    if (s.collateral() > 0.0)
      pledges_.push_back(
          {static_cast<std::size_t>(mirror_[s.account]), s.collateral_im * r.used, s.collateral_df * r.used});
  }
}

// Two CCPs failing in the same round may hold each other's link margin. The
// margin a linked CCP applies against its claim on the failed CCP that posted
// it is set off, so that CCP no longer claims it back in the linked CCP's own
// insolvency: its stake there is what is left of its margin (insolvency
// set-off of mutual claims; PFMI Principle 20, key consideration 8). Then the
// rate at which the creditors lose their unsecured claims.
void Cascade::net_applied_collateral(Resolution& r) {
  double unsecured = 0.0;
  for (std::size_t i = r.first; i < r.last; ++i) {
    Stake& s = stakes_[i];
    const auto applied =
        std::find_if(pledges_.begin(), pledges_.end(), [&](const Pledge& p) { return p.account == s.account; });
    if (applied != pledges_.end()) {
      const LinkModel& link = model_.links[static_cast<std::size_t>(link_of_[s.account])];
      const double margin_applied = info(s.account).peer_link ? applied->im + applied->df : applied->im;
      s.margin = std::max(0.0, s.margin - margin_applied * (1.0 - link.recovery_rate));
      if (!info(s.account).peer_link) s.fund = std::max(0.0, s.fund - applied->df);
    }
    unsecured += s.unsecured();
  }
  const double left = std::max(0.0, r.shortfall - r.collateral);
  r.rate = unsecured > 0.0 ? std::min(1.0, left / unsecured) : 0.0;
}

void Cascade::apply_resolution(const Resolution& r, int round, ScenarioResult& out) {
  const std::size_t c = r.ccp;
  out.closeout_loss += r.shortfall - r.uncovered;
  out.ccp_closeout[c] += r.shortfall - r.uncovered;
  out.ccp_uncovered[c] += r.shortfall - r.uncovered;
  double borne = 0.0;
  for (std::size_t i = r.first; i < r.last; ++i) {
    const Stake& s = stakes_[i];
    const Account& acc = model_.accounts[s.account];
    if (acc.kind == AccountKind::kMember || acc.kind == AccountKind::kClient) {
      const double vm = s.vm * r.rate, margin = s.margin * r.rate, fund = s.fund * r.rate;
      state(s.account).vm_gain -= vm;
      state(s.account).df_left -= fund;
      cold(s.account).margin_lost += margin;
      borne += vm + margin + fund;
      out.ccp_resolution_members[c] += vm + margin + fund;
      charge_member(s.account, LossChannel::kUnpaidVm, vm, true, round, out);
      charge_member(s.account, LossChannel::kMarginLost, margin + fund, false, round, out);
      continue;
    }
    // The linked CCP's loss, booked once on the failed CCP's account there:
    // the collateral used, then its claim beyond the collateral, pro rata.
    const double claim = s.unsecured() * r.rate;
    // What is left of the claim, stake - claim, for later claims: carried by
    // its VM, margin and fund (the replacement is settled here).
    const double carried = s.vm + s.margin + s.fund;
    const double share = carried > 0.0 ? std::clamp((claim - (s.stake() - carried)) / carried, 0.0, 1.0) : 0.0;
    state(s.account).vm_gain -= s.vm * share;
    if (!info(s.account).peer_link) state(s.account).df_left -= s.fund * share;
    cold(s.account).margin_lost += s.margin * share;
    const double loss = s.collateral() * r.used + claim;
    borne += loss;
    out.ccp_resolution_links[c] += loss;
    out.ccp_link_out[c] += loss;
    next_link_lines_[static_cast<std::size_t>(acc.owner)].push_back({mirror_[s.account], loss, LineKind::kFailedPeer});
  }
  out.ccp_unallocated[c] += std::max(0.0, r.shortfall - borne);
}

// What each creditor of CCP c has at stake there (what is left of it when c
// failed before: a late claim), and for a linked CCP the collateral the failed
// CCP posted with it (link margin and fund left; all of it came off at the
// first resolution, so none is left for late claims); appended to stakes_.
void Cascade::add_creditor_stakes(std::size_t c) {
  const CcpModel& ccp = model_.ccps[c];
  const bool late = ccp_round_[c] >= 0;  // its accounts were closed when it failed
  for (int a : ccp.accounts) {
    const auto ai = account(static_cast<std::size_t>(a));
    const Account& acc = model_.accounts[ai];
    if ((state(ai).closed && !late) || !owner_alive(ai) || acc.kind == AccountKind::kRestOfMarket) continue;
    Stake s{ai, std::max(0.0, state(ai).vm_gain), 0.0, std::max(0.0, state(ai).df_left), 0.0, 0.0, 0.0};
    double margin = 0.0;
    if (acc.kind == AccountKind::kMember || acc.kind == AccountKind::kClient) {
      const double im = im_at_end_.empty() ? acc.initial_margin : im_at_end_[ai];
      if (!ccp.im_segregated) margin = im * (1.0 - ccp.im_recovery_rate);
    } else {
      const LinkModel& link = model_.links[static_cast<std::size_t>(link_of_[ai])];
      const bool peer_link = info(ai).peer_link;
      const double posted = acc.initial_margin + (peer_link ? state(ai).df_left : 0.0);
      if (!link.segregated) margin = posted * (1.0 - link.recovery_rate);
      if (peer_link) s.fund = 0.0;                                       // counted in the margin posted
      const auto held = account(static_cast<std::size_t>(mirror_[ai]));  // the failed CCP's account at the creditor
      if (!state(held).collateral_taken && !late) {
        s.collateral_im = collateral_im(held);
        s.collateral_df = std::max(0.0, state(held).df_left);
        // A linked CCP failing in this round replaces nothing: its own
        // positions are closed with it.
        if (std::find(failed_now_.begin(), failed_now_.end(), acc.owner) == failed_now_.end())
          s.replacement = link_replacement(held);
      }
    }
    s.margin = std::max(0.0, margin - cold(ai).margin_lost);
    if (s.stake() > 0.0 || s.collateral() > 0.0 || s.replacement != 0.0) stakes_.push_back(s);
  }
}

void Cascade::close_failed_ccp(std::size_t c, int round, ScenarioResult& out) {
  ccp_round_[c] = round;
  out.ccp_fail_round[c] = static_cast<std::int8_t>(std::min(round, 127));
  out.ccp_fail_day[c] = day_;
  const CcpModel& ccp = model_.ccps[c];
  for (int a : ccp.accounts) {
    const auto ai = account(static_cast<std::size_t>(a));
    const Account& acc = model_.accounts[ai];
    if (state(ai).closed || !owner_alive(ai)) continue;
    state(ai).closed = 1;
    // Free of payment: the member performed first; what was in flight from the failed CCP is lost.
    if (acc.kind != AccountKind::kMember || !settlement_ || settlement_->principal.empty() ||
        settlement_->principal[ai] <= 0.0)
      continue;
    const double principal = settlement_->principal[ai];
    out.failure_principal += principal;
    charge_member(ai, LossChannel::kPrincipal, principal, true, round, out);
    out.settlement.at(c, CcpSettleMetric::kFails) += 1.0;
    out.settlement.at(c, CcpSettleMetric::kPrincipalLost) += principal;
    if (ccp.settlement.chain >= 0) {
      out.settlement.at_chain(static_cast<std::size_t>(ccp.settlement.chain), ChainMetric::kFails) += 1.0;
      out.settlement.at_chain(static_cast<std::size_t>(ccp.settlement.chain), ChainMetric::kLoss) += principal;
    }
  }
  // Its accounts at the linked CCPs are closed out there next round (a line
  // for each, even with nothing owed: the account is closed and its margin
  // freed), unless resolution already sent one.
  for (int a : link_accounts_of_[c]) {
    const auto owner_ccp = static_cast<std::size_t>(model_.accounts[static_cast<std::size_t>(a)].ccp);
    auto& lines = next_link_lines_[owner_ccp];
    const bool sent = std::any_of(lines.begin(), lines.end(),
                                  [&](const LinkLine& l) { return l.account == a && l.kind == LineKind::kFailedPeer; });
    if (!sent) lines.push_back({a, 0.0, LineKind::kFailedPeer});
  }
}

// touched_ (distinct members) in ascending order: many through a bitset of
// the members, in one pass over its words; a few by sorting.
void Cascade::sort_touched() {
  constexpr std::size_t kFew = 64;
  if (touched_.size() < kFew) {
    std::sort(touched_.begin(), touched_.end());
    return;
  }
  for (int m : touched_) touched_bits_[static_cast<std::size_t>(m) / 64] |= std::uint64_t{1} << (m % 64);
  touched_.clear();
  for (std::size_t w = 0; w < touched_bits_.size(); ++w)
    for (std::uint64_t& bits = touched_bits_[w]; bits != 0; bits &= bits - 1)
      touched_.push_back(static_cast<int>(w * 64) + std::countr_zero(bits));
}

void Cascade::check_members(int round, ScenarioResult& out) {
  sort_touched();
  for (int mi : touched_) {
    const auto m = static_cast<std::size_t>(mi);
    if (member_state_[m].round >= 0) continue;
    DefaultCause cause = test_member(member_state_[m].capital, member_state_[m].cash, member_state_[m].missed_call != 0,
                                     settlement_ ? &settlement_->late_inflow[m] : nullptr, out);
    if (cause == DefaultCause::kNone) continue;
    if (cause == DefaultCause::kSolvency && model_.interbank && interbank_tipped_[m] == round)
      cause = DefaultCause::kInterbank;
    member_state_[m].round = round;
    out.defaults.push_back({mi, round, cause, day_});
    new_members_.push_back(mi);
  }
  // Members of one group default together, wherever they are members.
  const std::size_t own = new_members_.size();
  for (std::size_t i = 0; i < own; ++i) {
    const int g = model_.members[static_cast<std::size_t>(new_members_[i])].group;
    for (int other : model_.groups[static_cast<std::size_t>(g)]) {
      const auto o = member(static_cast<std::size_t>(other));
      if (member_state_[o].round >= 0) continue;
      member_state_[o].round = round;
      out.defaults.push_back({other, round, DefaultCause::kGroup, day_});
      new_members_.push_back(other);
    }
  }
}

}  // namespace ccpnet
