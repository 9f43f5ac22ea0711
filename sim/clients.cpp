// Client clearing inside the cascade (SPEC 3.9; EMIR art. 39 and 48): what
// happens to a defaulted clearing member's client accounts at a CCP when the
// CCP closes the member out.
//
// The rules, in the order the CCP applies them:
//  - Porting (EMIR art. 48(5)-(6)). An individually segregated account is
//    offered to the backup members its client designated, in order; an
//    omnibus account as a whole, to the backups all its clients designated
//    (in the first client's order). The first backup that accepts takes the
//    account with its positions and margin: the client loses nothing by the
//    default. A backup accepts when it is a clearing member of the CCP, stands
//    at the close-out (it has not defaulted and its equity, capital after the
//    scenario's P&L and charges so far, is not negative), and the IM of the
//    client accounts it has taken in the scenario, these included, is at most
//    ccps[].porting.capacity times that equity. An account is ported once in
//    a scenario: if its new member defaults in turn, it is closed out.
//  - The porting window (ccps[].porting.window_days, the transfer period of
//    the rulebook, art. 48(5)-(6) and (7)): the transfer completes only if the
//    backup stands until the window's end, the day the member defaulted plus
//    the window. A backup that defaults by then (one period: at any later
//    round of the cascade; time steps: in a step that ends by then) never
//    held the accounts: they are closed out at its default as the original
//    member's clients (counted closed out, not ported), with their own pool
//    as at the original close-out, and what their margin leaves uncovered is
//    the original member's obligation: a line of its house account, against
//    what is left of its default-fund contribution, before the mutual layers.
//    Window 0: the transfer completes at the close-out.
//  - Close-out (art. 48(7): the CCP liquidates what was not ported). The
//    client collateral is used exclusively for the positions held for the
//    account of those clients (art. 48(7), 39(6)): an individually segregated
//    account's margin covers its own close-out only; an omnibus account's
//    assets, pooled, cover the close-out of all its clients' positions
//    (fellow-customer risk, PFMI Principle 14, explanatory note 3.14.5): the
//    margin of every client and the gains of the clients whose positions
//    gained (the account's assets, set off against the others' losses rather
//    than paid out). The balance is returned for the account of the clients
//    (art. 48(7)) pro rata to their claims on the pool, each client's margin
//    plus its position's value at the close-out, nil when its own loss
//    exceeds its margin (a shortfall in a pool of client money is shared pro
//    rata to the clients' entitlements, FCA CASS 7A.2.4R; the FOA/ISDA
//    clearing member disclosure under art. 39(7), 2014): a client first bears its
//    own loss, then its share of the others' shortfall. Close-out loss of an
//    account: -P&L over the CCP's MPOR plus its liquidation cost, as a
//    member's (each account its own cost).
//  - What the clients' margin does not cover is the clearing member's
//    obligation to the CCP: it is added to the loss of the member's house
//    line, so that its own IM and default-fund contribution cover it before
//    any mutual layer (EMIR art. 45(1)-(2)). What the clients' stakes covered
//    (the losing clients' close-out losses, up to the pool's margin and set-off
//    gains) is the layer defaulter_im's, each client's stake less its return
//    booked on its account as LossChannel::kClientMargin: every dollar of the
//    close-out has one payer.
#include <algorithm>
#include <cmath>
#include <tuple>

#include "sim/cascade.hpp"
#include "sim/model.hpp"

namespace ccpnet {

double Cascade::close_out_clients(std::size_t c, int m, ScenarioResult& out) {
  individual_.clear();
  omnibus_.clear();
  omnibus_in_.clear();
  const auto sort_in = [&](int a, bool ported_in) {
    const auto ai = account(static_cast<std::size_t>(a));
    const Account& acc = model_.accounts[ai];
    if (static_cast<std::size_t>(acc.ccp) != c || state(ai).closed) return;
    const ClientModel& client = model_.clients[static_cast<std::size_t>(acc.owner)];
    if (client.segregation == Segregation::kIndividual)
      individual_.push_back(ported_in ? -a - 1 : a);  // negative: no second porting
    else
      (ported_in ? omnibus_in_ : omnibus_).push_back(a);
  };
  for (int ci : model_.members[static_cast<std::size_t>(m)].clients)
    for (int a : model_.clients[static_cast<std::size_t>(ci)].accounts)
      if (state(account(static_cast<std::size_t>(a))).holder == -1) sort_in(a, false);
  const double window = model_.ccps[c].porting_window_days, day = default_day(m, out);
  reverted_.clear();
  for (const Ported& p : ported_) {
    const auto ai = account(static_cast<std::size_t>(p.account));
    if (state(ai).holder != m || static_cast<std::size_t>(model_.accounts[ai].ccp) != c) continue;
    if (window > 0.0 && day <= p.day + window)
      reverted_.push_back(p.account);
    else
      sort_in(p.account, true);
  }
  if (!reverted_.empty()) close_out_reverted(c, out);
  double shortfall = 0.0;
  for (int a : individual_) {
    const int own = a < 0 ? -a - 1 : a;
    const std::span<const int> one(&own, 1);
    const auto& backups =
        model_.clients[static_cast<std::size_t>(model_.accounts[static_cast<std::size_t>(own)].owner)].backups;
    if (a >= 0 && port(c, one, backups, day, out)) continue;
    shortfall += close_out_pool(one, c, out);
  }
  if (!omnibus_.empty()) {
    // The backups every client of the omnibus account designated, in the first client's order.
    common_backups_.clear();
    for (int b : model_.clients[static_cast<std::size_t>(model_.accounts[static_cast<std::size_t>(omnibus_[0])].owner)]
                     .backups) {
      const bool all = std::all_of(omnibus_.begin(), omnibus_.end(), [&](int a) {
        const auto& bs =
            model_.clients[static_cast<std::size_t>(model_.accounts[static_cast<std::size_t>(a)].owner)].backups;
        return std::find(bs.begin(), bs.end(), b) != bs.end();
      });
      if (all) common_backups_.push_back(b);
    }
    if (!port(c, omnibus_, common_backups_, day, out))
      omnibus_in_.insert(omnibus_in_.end(), omnibus_.begin(), omnibus_.end());
  }
  if (!omnibus_in_.empty()) {
    std::sort(omnibus_in_.begin(), omnibus_in_.end());
    shortfall += close_out_pool(omnibus_in_, c, out);
  }
  return shortfall;
}

// The day member m defaulted, as its record says (MemberDefault::day): 0 at
// the start (exogenous and latent defaults and their groups), else the end of
// the step in which it defaulted, whatever its round: rounds are numbered over
// the whole scenario and a step's defaults at its start open round 0 when
// nothing defaulted in an earlier step (a member that cannot pay the variation
// margin of day 2 is the scenario's round 0, on day 2). day_ (the current
// step's end) for a member without a record.
double Cascade::default_day(int m, const ScenarioResult& out) const {
  for (auto d = out.defaults.rbegin(); d != out.defaults.rend(); ++d)
    if (d->member == m) return d->day;
  return day_;
}

// The first backup that accepts takes `accounts` (at CCP c) as they are.
bool Cascade::port(std::size_t c, std::span<const int> accounts, std::span<const int> backups, double day,
                   ScenarioResult& out) {
  double im = 0.0;
  for (int a : accounts) im += model_.accounts[static_cast<std::size_t>(a)].initial_margin;
  const double capacity = model_.ccps[c].porting_capacity;
  for (int b : backups) {
    const auto mb = member(static_cast<std::size_t>(b));
    if (member_state_[mb].round >= 0 || member_state_[mb].capital < 0.0 ||
        house_account(model_, b, static_cast<int>(c)) < 0)
      continue;
    auto taken = std::find_if(taken_im_.begin(), taken_im_.end(), [&](const auto& t) { return t.first == b; });
    const double before = taken == taken_im_.end() ? 0.0 : taken->second;
    if (!std::isinf(capacity) && before + im > capacity * member_state_[mb].capital) continue;
    if (taken == taken_im_.end())
      taken_im_.emplace_back(b, im);
    else
      taken->second += im;
    for (int a : accounts) {
      state(account(static_cast<std::size_t>(a))).holder = b;
      ported_.push_back({a, day});
    }
    out.clients_ported += static_cast<int>(accounts.size());
    return true;
  }
  return false;
}

// Accounts whose transfer the backup did not outlast: each individually
// segregated account closed out alone, an omnibus account's with the others
// its member ported with it; the shortfall is their original member's line.
void Cascade::close_out_reverted(std::size_t c, ScenarioResult& out) {
  const auto original = [&](int a) {
    const Account& acc = model_.accounts[static_cast<std::size_t>(a)];
    return model_.clients[static_cast<std::size_t>(acc.owner)].member;
  };
  const auto omnibus = [&](int a) {
    const Account& acc = model_.accounts[static_cast<std::size_t>(a)];
    return model_.clients[static_cast<std::size_t>(acc.owner)].segregation == Segregation::kOmnibus;
  };
  std::sort(reverted_.begin(), reverted_.end(), [&](int a, int b) {
    return std::tuple(original(a), omnibus(a), a) < std::tuple(original(b), omnibus(b), b);
  });
  // The margin each pool uses of its own, booked as it closes (close_out_pool).
  const double& im = out.ccp_layers[c * models::kLayerCount + static_cast<std::size_t>(models::Layer::kDefaulterIm)];
  out.clients_ported -= static_cast<int>(reverted_.size());
  for (std::size_t first = 0; first < reverted_.size();) {
    std::size_t last = first + 1;
    if (omnibus(reverted_[first]))
      while (last < reverted_.size() && omnibus(reverted_[last]) &&
             original(reverted_[last]) == original(reverted_[first]))
        ++last;
    const std::span<const int> pool(reverted_.data() + first, last - first);
    const double before = im;
    const double shortfall = close_out_pool(pool, c, out);
    if (shortfall > 0.0 || im != before)
      reverted_lines_.push_back(
          {house_account(model_, original(reverted_[first]), static_cast<int>(c)), shortfall, im - before});
    first = last;
  }
  reverted_im_end_ = im;
}

// The lines of the original members, after the round's own (sim/cascade.cpp
// add_member_lines), with the margin their pools used: one line per member,
// whose fund contribution left stands behind the shortfall of all its pools
// once (two lines would each take it). A pool its own margin covered has no
// line, its margin shown with its original member all the same (trace_event).
void Cascade::add_reverted_lines() {
  const std::size_t first = defaulters_.size();
  for (const auto& [house, loss, cover] : reverted_lines_) {
    if (!(loss > 0.0)) {
      reverted_cover_.emplace_back(house, cover);
      continue;
    }
    const auto line =
        std::find(defaulter_accounts_.begin() + static_cast<std::ptrdiff_t>(first), defaulter_accounts_.end(), house);
    const auto i = static_cast<std::size_t>(line - defaulter_accounts_.begin());
    if (line == defaulter_accounts_.end()) {
      models::Defaulter d;
      d.df = state(account(static_cast<std::size_t>(house))).df_left;
      defaulters_.push_back(d);
      defaulter_accounts_.push_back(house);
      line_kinds_.push_back(LineKind::kMember);
      line_to_fund_.push_back(0.0);
    }
    defaulters_[i].loss += loss;
    if (cover != 0.0) client_cover_.emplace_back(i, cover);
  }
  reverted_lines_.clear();
}

// An account's own close-out loss: -P&L over the MPOR plus its liquidation cost.
double Cascade::client_closeout_loss(std::size_t ai) const { return -closeout_pnl(ai) + liquidation_cost(ai); }

// `accounts` closed out together: the losses of those that lost against the
// pool, their margin and the gains of those that gained (set off, not paid
// out). The balance goes back pro rata to the clients' claims, each one's
// margin plus its position's value at the close-out, nil for a client whose
// own loss exceeds its margin; each bears its stake (margin and gain) less
// what comes back. Returns what the pool leaves uncovered.
double Cascade::close_out_pool(std::span<const int> accounts, std::size_t c, ScenarioResult& out) {
  double losses = 0.0, stakes = 0.0, claims = 0.0;
  for (int a : accounts) {
    const auto ai = account(static_cast<std::size_t>(a));
    const double own = client_closeout_loss(ai), im = model_.accounts[ai].initial_margin;
    losses += std::max(0.0, own);
    stakes += im + std::max(0.0, -own);
    claims += std::max(0.0, im - own);
  }
  out.clients_closed_out += static_cast<int>(accounts.size());
  const double used = std::min(losses, stakes), returned = stakes - used;
  if (used > 0.0) {
    out.ccp_layers[c * models::kLayerCount + static_cast<std::size_t>(models::Layer::kDefaulterIm)] += used;
    out.closeout_loss += used;
    out.ccp_closeout[c] += used;
  }
  for (int a : accounts) {
    const auto ai = account(static_cast<std::size_t>(a));
    const double own = client_closeout_loss(ai), im = model_.accounts[ai].initial_margin;
    const double back = claims > 0.0 ? returned * std::max(0.0, im - own) / claims : 0.0;
    const double share = im + std::max(0.0, -own) - back;
    closed_clients_.emplace_back(a, closeout_from_end(ai));  // before its holder changes (paid_step)
    state(ai).closed = 1;
    state(ai).holder = kClosedOut;
    state(ai).vm_gain = 0.0;  // set off in the close-out
    if (share <= 0.0) continue;
    out.client_loss += share;
    out.account_losses.push_back({a, LossChannel::kClientMargin, share});
  }
  return losses - used;
}

}  // namespace ccpnet
