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
//    ccps[].porting.capacity times that equity. The porting window is the
//    round of the close-out: a backup that defaults by then cannot accept. An
//    account is ported once in a scenario: if its new member defaults in turn,
//    it is closed out.
//  - Close-out (art. 48(7): the CCP liquidates what was not ported). The
//    client collateral is used exclusively for the positions held for the
//    account of those clients (art. 48(7), 39(6)): an individually segregated
//    account's margin covers its own close-out only; an omnibus account's
//    margin, pooled, covers the close-out of all its clients' positions
//    (fellow-customer risk, PFMI Principle 14, explanatory note 3.14.5), and
//    the balance is returned for the account of the clients, each bearing the
//    margin used pro rata to the margin it posted (a shortfall in a pool of
//    client money is shared pro rata to the clients' claims on it, FCA CASS
//    7A.2.4R). Close-out loss of an account: -P&L over the CCP's MPOR plus
//    its liquidation cost, as a member's (each account its own cost).
//  - What the clients' margin does not cover is the clearing member's
//    obligation to the CCP: it is added to the loss of the member's house
//    line, so that its own IM and default-fund contribution cover it before
//    any mutual layer (EMIR art. 45(1)-(2)). The margin the clients lost is
//    the layer defaulter_im's, each client's share booked on its account as
//    LossChannel::kClientMargin: every dollar of the close-out has one payer.
#include <algorithm>
#include <cmath>

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
    if (static_cast<std::size_t>(acc.ccp) != c || acct_[ai].closed) return;
    const ClientModel& client = model_.clients[static_cast<std::size_t>(acc.owner)];
    if (client.segregation == Segregation::kIndividual)
      individual_.push_back(ported_in ? -a - 1 : a);  // negative: no second porting
    else
      (ported_in ? omnibus_in_ : omnibus_).push_back(a);
  };
  for (int ci : model_.members[static_cast<std::size_t>(m)].clients)
    for (int a : model_.clients[static_cast<std::size_t>(ci)].accounts)
      if (acct_[account(static_cast<std::size_t>(a))].holder == -1) sort_in(a, false);
  for (int a : ported_)
    if (acct_[static_cast<std::size_t>(a)].holder == m) sort_in(a, true);
  double shortfall = 0.0;
  for (int a : individual_) {
    const int own = a < 0 ? -a - 1 : a;
    const std::span<const int> one(&own, 1);
    const auto& backups =
        model_.clients[static_cast<std::size_t>(model_.accounts[static_cast<std::size_t>(own)].owner)].backups;
    if (a >= 0 && port(c, one, backups, out)) continue;
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
    if (!port(c, omnibus_, common_backups_, out))
      omnibus_in_.insert(omnibus_in_.end(), omnibus_.begin(), omnibus_.end());
  }
  if (!omnibus_in_.empty()) {
    std::sort(omnibus_in_.begin(), omnibus_in_.end());
    shortfall += close_out_pool(omnibus_in_, c, out);
  }
  return shortfall;
}

// The first backup that accepts takes `accounts` (at CCP c) as they are.
bool Cascade::port(std::size_t c, std::span<const int> accounts, std::span<const int> backups, ScenarioResult& out) {
  double im = 0.0;
  for (int a : accounts) im += model_.accounts[static_cast<std::size_t>(a)].initial_margin;
  const double capacity = model_.ccps[c].porting_capacity;
  for (int b : backups) {
    const auto mb = member(static_cast<std::size_t>(b));
    if (member_round_[mb] >= 0 || capital_[mb] < 0.0 || house_account(model_, b, static_cast<int>(c)) < 0) continue;
    auto taken = std::find_if(taken_im_.begin(), taken_im_.end(), [&](const auto& t) { return t.first == b; });
    const double before = taken == taken_im_.end() ? 0.0 : taken->second;
    if (!std::isinf(capacity) && before + im > capacity * capital_[mb]) continue;
    if (taken == taken_im_.end())
      taken_im_.emplace_back(b, im);
    else
      taken->second += im;
    for (int a : accounts) {
      acct_[account(static_cast<std::size_t>(a))].holder = b;
      ported_.push_back(a);
    }
    out.clients_ported += static_cast<int>(accounts.size());
    return true;
  }
  return false;
}

// `accounts` closed out together against their pooled margin; each bears the
// margin used pro rata to its own. Returns what the margin leaves uncovered.
double Cascade::close_out_pool(std::span<const int> accounts, std::size_t c, ScenarioResult& out) {
  double loss = 0.0, im = 0.0;
  for (int a : accounts) {
    const auto ai = account(static_cast<std::size_t>(a));
    const Account& acc = model_.accounts[ai];
    loss += -account_pnl_[ai] + (liquidation_costs_.empty() ? acc.liquidation_cost : liquidation_costs_[ai]);
    im += acc.initial_margin;
    acct_[ai].closed = 1;
    acct_[ai].holder = kClosedOut;
    acct_[ai].vm_gain = 0.0;  // set off in the close-out
  }
  out.clients_closed_out += static_cast<int>(accounts.size());
  const double used = std::clamp(loss, 0.0, im);
  if (used > 0.0) {
    out.ccp_layers[c * models::kLayerCount + static_cast<std::size_t>(models::Layer::kDefaulterIm)] += used;
    out.closeout_loss += used;
    out.ccp_closeout[c] += used;
    for (int a : accounts) {
      const double share = used * model_.accounts[static_cast<std::size_t>(a)].initial_margin / im;
      if (share <= 0.0) continue;
      out.client_loss += share;
      out.account_losses.push_back({a, LossChannel::kClientMargin, share});
    }
  }
  return std::max(0.0, loss - im);
}

}  // namespace ccpnet
