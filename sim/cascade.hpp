// The multi-CCP default cascade of one scenario (SPEC 3.10).
//
// Rounds until nothing changes:
//  1. at every CCP still standing, the losses that reached it in the previous
//     round run through its waterfall: the close-out of its defaulting members
//     (and of accounts a lending protocol liquidates), then the losses that
//     came over its links (a failed peer's unpaid obligations, net of the link
//     margin and link fund it posted here; charges made on its link accounts
//     by a peer's waterfall). Link losses go through the whole waterfall as a
//     defaulting member's would, or through the link's own resources and the
//     CCP's capital only (ccps[].link_losses: own_capital). Charges on
//     surviving members reduce their capital and cash; charges on link
//     accounts become link losses of their owner in the next round.
//  2. a CCP with loss left after its last layer fails. Its creditors bear the
//     rest pro rata (an insolvency, after the rulebook's own layers): VM gains
//     it owes, default-fund contributions left, and non-segregated IM and link
//     margin net of their recovery rate. A linked CCP is a secured creditor:
//     it sets its claim off against the failed CCP's link margin and fund it
//     holds, and what is left of them goes to the failed CCP's estate, so the
//     whole of that collateral comes off the amount to share and only claims
//     beyond it share the rest. A linked CCP's loss is booked once, on the
//     mirror account (the failed CCP's account there, whose margin and fund
//     absorb the collateral used first). A loss that reaches a CCP after it
//     failed (a peer failing in the same round) is absorbed by the peer's
//     collateral there, then borne by its creditors on what is left of their
//     stakes. What no creditor can take is `unallocated`, at the system's edge.
//     A round's failures and late losses are resolved together once all its
//     waterfalls have run, from the stakes as they stood before any of them:
//     a linked CCP failing in the same round, whatever its index, replaces
//     nothing, and link margin two failing CCPs hold of each other is set off
//     (what one applies against its claim, the other no longer claims back).
//     A standing linked CCP replaces the failed CCP's link positions
//     there; the cost is part of its claim (set off against the collateral first)
//     and a debt of the failed CCP on its link book: the failed CCP's
//     shortfall and close-out include it, and a gain reduces both (a surplus
//     beyond the shortfall is the estate's: the layers used stay used).
//  3. surviving members charged this round are checked for solvency
//     (capital + P&L - charges < 0) and liquidity (cash due exceeds liquid
//     resources, or an assessment call not met).
//
// With recovery tools (ccps[].recovery), what the last layer leaves goes to
// them in the rulebook's order before the CCP fails (models/waterfall/
// recovery.hpp); each is a payer of the ledger.
//
// The ledger: every dollar of close-out loss has one final payer. Per CCP,
//   closeout + link_in = sum of layers + sum of recovery tools
//                        + resolution_members + resolution_links + unallocated,
// link_out (the link accounts' share of the layers and of the resolution)
// summed over CCPs equals link_in summed over CCPs, so
//   sum of closeout = sum over CCPs of (layers + recovery + resolution_members
//                     + resolution_links + unallocated - link_out).
// Each member and CCP defaults at most once; link losses between surviving
// CCPs can only shrink, and after a bounded number of rounds any left in
// flight are booked as unallocated at their receiver. A round's waterfalls run
// in index order (a member's cash pays the calls of its CCPs in that order);
// its resolutions do not depend on the order.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "models/waterfall/auction.hpp"
#include "models/waterfall/recovery.hpp"
#include "models/waterfall/waterfall.hpp"
#include "sim/settlement.hpp"

namespace ccpnet {

struct Model;
struct Account;
enum class AccountKind;

enum class DefaultCause : std::uint8_t { kNone = 0, kExogenous, kLatent, kSolvency, kLiquidity, kGroup, kInterbank };
// kGroup: pulled in by another member of its default group; kInterbank: left
// insolvent by its losses on what other members owe it (sim/nexus.hpp).
inline constexpr int kDefaultCauseCount = 7;
const char* cause_name(DefaultCause cause);

struct MemberDefault {
  int member = -1;
  int round = 0;  // 0: at the start (exogenous, latent, or the market move alone)
  DefaultCause cause = DefaultCause::kNone;
  double day = 0.0;  // time steps: the end of the step whose variation margin it did not pay (0: at the start)
};

// Who bore a loss, per member account (membership). The defaulter's own
// collateral first, then the survivors' channels at a standing CCP, then what
// a member loses as a creditor of a failed CCP.
enum class LossChannel : std::uint8_t {
  kOwnIm,          // a defaulter's IM used for its own close-out
  kOwnDf,          // a defaulter's DF contribution used for its own close-out
  kMutualizedDf,   // a survivor's DF contribution consumed
  kAssessment,     // assessments paid
  kVmgh,           // VM gains haircut at a standing CCP
  kAdl,            // gains taken by auto-deleveraging
  kLenderHaircut,  // lent balance written down
  kUnpaidVm,       // VM gains a failed CCP did not pay
  kMarginLost,     // DF contribution and non-segregated IM lost at a failed CCP
  kPrincipal,      // free of payment: principal in flight from a failed CCP
  // Recovery tools (ccps[].recovery), after the layers:
  kCashCall,          // cash calls paid
  kTearUp,            // VM gains lost on positions torn up
  kForcedAllocation,  // the reserve discount on an unplaced book allocated to it
  kInterbank,         // what other members did not pay it outside the CCPs (sim/nexus.hpp), on its first membership
  // Client clearing (sim/clients.cpp), on a client's account:
  kClientMargin,  // its margin used to close out its account, or its share of its omnibus account's, on its member's
                  // default
};
inline constexpr int kLossChannelCount = 15;
// Listed in the outputs only when the model has them: the recovery tools'
// channels (some CCP has ccps[].recovery), the interbank one (a network) and
// the client one (clients.csv, when members have clients).
constexpr bool recovery_channel(int channel) { return channel >= 10 && channel < 13; }
const char* channel_name(LossChannel channel);

struct AccountLoss {
  int account = -1;
  LossChannel channel = LossChannel::kOwnIm;
  double amount = 0.0;
};

// How a CCP failed: its waterfall ran out on its members' close-outs, or on
// losses that came over its links.
enum class FailureCause : std::int8_t { kNone = 0, kMembers, kLinks };

// Everything the metrics need from one scenario.
struct ScenarioResult {
  std::int64_t index = 0;
  double market_factor = 0.0;
  int rounds = 0;
  double closeout_loss = 0.0;      // of all defaulters: members, lending accounts, failed CCPs' link books
  double total_loss = 0.0;         // borne by others than the defaulters: every final payer but their own collateral
  double uncovered = 0.0;          // failed CCPs' shortfalls (then borne by their creditors)
  double failure_principal = 0.0;  // free of payment: principal members lose in flight from failed CCPs
  // The interbank network (sim/nexus.hpp): what its debtors did not pay, and
  // what its creditors lost (charged as LossChannel::kInterbank); equal.
  double interbank_shortfall = 0.0;
  double interbank_loss = 0.0;
  // Client clearing (sim/clients.cpp): what clients lost, every channel (their
  // margin used at their member's default in the layer defaulter_im, then as
  // survivors and creditors), and their accounts ported and closed out.
  double client_loss = 0.0;
  int clients_ported = 0;
  int clients_closed_out = 0;
  std::vector<double> ccp_layers;     // CCPs x kLayerCount, member and link losses alike
  std::vector<double> ccp_uncovered;  // per CCP: left after its last layer, its link book replaced (it fails)
  std::vector<double> ccp_df_used;    // DF consumed (defaulters' and mutualized) per CCP
  // The ledger per CCP (see the header comment).
  std::vector<double> ccp_closeout;            // its defaulters' close-out losses (and, failed, its link book's)
  std::vector<double> ccp_link_in;             // losses received over links
  std::vector<double> ccp_link_out;            // losses passed to linked CCPs (from layers and resolution)
  std::vector<double> ccp_resolution_members;  // its members' losses as creditors when it fails
  std::vector<double> ccp_resolution_links;    // linked CCPs' losses as creditors when it fails
  std::vector<double> ccp_unallocated;         // borne by no one: at the system's edge
  std::vector<std::int8_t> ccp_fail_round;     // -1: survived
  std::vector<double> ccp_fail_day;            // time steps: the end of the step in which it failed; -1: survived
  std::vector<double> price_impact;            // fire sales: per asset, the log price move liquidations caused
  std::vector<FailureCause> ccp_fail_cause;    // per CCP
  std::vector<MemberDefault> defaults;         // in order of round, then member index
  // Member accounts only, in the order charged; empty in the results of a
  // Monte Carlo run and of run_scenario (the run sums them per worker).
  std::vector<AccountLoss> account_losses;
  double liquidity_shortfall = 0.0;  // cash missing of the members that defaulted for liquidity
  int settlement_defaults = 0;       // liquidity defaults that VM gains settled in time would have avoided
  SettlementOutcome settlement;      // empty unless the model has a settlement layer
  int liquidations = 0;              // accounts liquidated at lending protocols (owners not in default)
  int venue_liquidations = 0;        // accounts crypto venues' liquidation engines closed
  // Default management (ccps[].auction, recovery): per CCP x recovery tool
  // what each covered (a payer of the ledger); per CCP the close-out cost of
  // its defaulters' auctions (hedge, discount on what was placed, reserve
  // discount on the rest) and the gross value the auctions did not place.
  std::vector<double> ccp_recovery;
  std::vector<double> ccp_auction_cost;
  std::vector<double> ccp_unplaced;
  // Time steps: the liquidity the steps called, each step's variation margin
  // losses and IM called in cash (the spiral's increases, sim/margin_path.hpp;
  // with a settlement layer its margin calls, SettlementState::cash_called) of
  // the member accounts standing at its start, gross of gains: the largest
  // one-step sum over the whole system, per CCP and per member (empty in one
  // period).
  double peak_liquidity_need = 0.0;
  std::vector<double> ccp_peak_liquidity_need;     // per CCP
  std::vector<double> member_peak_liquidity_need;  // per member, over its CCPs
  // Nothing happened in this scenario but the market move (no cascade, no
  // liquidation, no settlement drawn): every field but index and
  // market_factor holds what reset() gave it. Set by the engine after
  // reset(); a reader may take a result reset for the same model instead.
  bool quiet = false;

  // Every field to its empty value for `model` (a quiet result's are already).
  void reset(const Model& model, std::int64_t scenario);
  int ccp_failures() const;
  // Loss at CCP c beyond the defaulters' own resources (non-defaulter layers + uncovered).
  double ccp_loss(std::size_t c) const;
  // The final payers' total: layers + resolution + unallocated - link_out over
  // every CCP; equals closeout_loss (conservation).
  double ledger_total() const;
};

// The layer-by-layer story of one scenario, for `ccpnet stress` and reports.
enum class LineKind : std::uint8_t {
  kMember,      // a defaulting member's account (or a lending account closed out)
  kFailedPeer,  // the account of a failed linked CCP: what it did not pay
  kLinkCharge,  // a charge made on this CCP's link account by a standing peer's waterfall
  kClients,     // a defaulting member's clients' accounts closed out with it, as far as their margin covered them
};
struct DefaulterLine {
  int account = -1;   // the account at this CCP (for a link line: the peer's account here)
  double loss = 0.0;  // close-out loss
  double im_used = 0.0;
  double df_used = 0.0;
  double residual = 0.0;  // left after its own IM and DF, for the mutual layers
  double estate_return = 0.0;
  LineKind kind = LineKind::kMember;
  bool liquidated = false;         // closed by a lending protocol or a crypto venue's liquidation engine
  double to_insurance_fund = 0.0;  // a venue liquidation: the margin its loss left, to the insurance fund
};
// An account the adl layer deleveraged. By quantity (a single-asset account
// opposite the defaulted contract): `contracts` closed at `price`, the
// defaulted position's bankruptcy price. Otherwise (the whole-gain rule)
// contracts and price are 0. `loss_vs_mark`: what it gave up against the mark.
struct AdlLine {
  int account = -1;
  double contracts = 0.0;
  double price = 0.0;
  double loss_vs_mark = 0.0;
  int rank = 0;           // 1: deleveraged first
  double priority = 0.0;  // its ranking score (ccps[].adl.ranking; adl_rank for the whole-gain rule)
};
struct WaterfallEvent {
  int round = 0;
  int ccp = -1;
  std::vector<DefaulterLine> defaulters;
  std::array<double, models::kLayerCount> by_layer{};
  double uncovered = 0.0;
  bool link_losses = false;       // the losses that came over links (link_loss_layers), not the members' close-outs
  std::vector<AdlLine> adl;       // accounts deleveraged by this run, in the order of the CCP's accounts
  double adl_cost_avoided = 0.0;  // close-out cost of the contracts ADL closed instead of the market
  // The CCP's insurance fund in this round: before it, what the round's
  // venue liquidations added (their surpluses), and after its runs.
  double insurance_fund_start = 0.0;
  double insurance_fund_surpluses = 0.0;
  double insurance_fund_end = 0.0;
  double day = 0.0;  // time steps: the end of the step whose defaults it closes out
  std::array<double, models::kRecoveryToolCount> recovery{};  // what each recovery tool covered after the layers
  // The CCP fails in this event (of its failure round's waterfalls, the
  // last that left a loss uncovered): its shortfall for its creditors is
  // what its layers left in the round (round_uncovered: this event's and its
  // other waterfall's of the round, members' or links') plus the net cost of
  // replacing its link positions at its standing linked CCPs
  // (link_replacement, a gain negative), at least 0.
  bool fails = false;
  double round_uncovered = 0.0;
  double link_replacement = 0.0;
  double shortfall = 0.0;
};
// A borrower's account at a lending protocol along the scenario's path
// (models::liquidate_on_log_path): every borrower, liquidated or not.
struct LendingLine {
  int account = -1;
  int calls = 0;                     // liquidation calls
  double health_factor_start = 0.0;  // today
  double health_factor_end = 0.0;    // at the end of the period, after the calls
  double collateral_seized = 0.0;    // value at execution (USD)
  double debt_repaid = 0.0;          // value at execution (USD)
  double bad_debt = 0.0;             // written off on the path (USD)
  double closing_bad_debt = 0.0;     // what closing the rest at the end would write off (its owner defaults)
  double day = 0.0;                  // time steps: the end of the step it was liquidated in (0: one period)
};
// A member account a crypto venue's liquidation engine closed
// (models::venue_close_out, venue_account_close_out).
struct VenueLine {
  int account = -1;
  double margin = 0.0;              // its IM: the margin behind it
  double pnl = 0.0;                 // over the venue's MPOR, at the mark
  double maintenance_margin = 0.0;  // at the mark (tiered maintenance rates)
  double impact_cost = 0.0;         // square-root cost of closing it in the market
  double surplus = 0.0;             // equity - cost when positive: to the insurance fund
  double shortfall = 0.0;           // cost - equity when positive: the insurance fund's, then ADL's
  double bankruptcy_price = 0.0;    // single-contract accounts: where its equity is zero (0 otherwise)
  double execution_price = 0.0;     // single-contract accounts: the mark moved by the impact (0 otherwise)
  double day = 0.0;                 // time steps: the end of the step at whose mark it was closed (0: one period)
};
struct CascadeTrace {
  std::vector<WaterfallEvent> events;
  std::vector<LendingLine> lending;  // in account order
  std::vector<VenueLine> venue;      // in account order
};

// The member test of the start and of every round (SPEC 3.10): solvency
// (capital after the scenario's P&L and charges below zero), then liquidity
// (cash due beyond its liquid resources, or an assessment call not met).
// Books a liquidity default's shortfall in `out`, and counts it as a
// settlement default when the VM gains that settled late (`late_inflow`,
// with a settlement layer) would have covered it.
DefaultCause test_member(double capital, double cash, bool missed_call, const double* late_inflow, ScenarioResult& out);

// An account liquidated (or liquidable) in this scenario, collected before the
// cascade.
// A borrower's account at a lending protocol: `liquidated` when the protocol
// liquidated it along the scenario's path although its owner need not default
// (a line in round 1 whose loss is `bad_debt`, the debt written off on the
// path; the account stays open with what is left). When its owner defaults,
// the account is closed at the end of the period and the protocol loses
// `closing_bad_debt` on what was left. Either way a defaulter loss with no IM
// and no DF of its own; a protocol account not listed (a lender's deposits)
// loses the protocol nothing.
// An account at a crypto venue whose equity (margin + P&L) fell below its
// maintenance margin: the venue's liquidation engine closes it in round 1
// whether or not its owner defaults, at close-out loss `loss` (-P&L + the
// impact cost at the mark); its `margin` covers it first and the rest of the
// margin goes to the insurance fund (BitMEX: the liquidated trader loses its
// margin, never more); the shortfall goes on to the next layers (the
// insurance fund, then ADL).
struct Liquidation {
  int account = -1;
  double bad_debt = 0.0;
  bool liquidated = false;
  double closing_bad_debt = 0.0;
  double loss = 0.0;      // venue
  double margin = 0.0;    // venue
  double mark_pnl = 0.0;  // venue: its P&L from today at the mark it was closed at (its mark for ADL)
};

// The P&L of each account that the cascade reads: over its close-out window
// ([a]) and from today to the window's end (to(a): the marks of ADL by
// quantity). One period: a list, both the same. Time steps: read in place
// from the path's P&L (points x accounts, row-major), each account at the
// window point of its CCP's horizon, less its P&L at the step's start (none
// in the first step from today), so that only the accounts the cascade meets
// are read.
class AccountPnl {
 public:
  AccountPnl() = default;
  AccountPnl(std::span<const double> pnl) : rows_(pnl.data()) {}  // NOLINT: a list converts
  // point[horizon[a]]: account a's row of `rows` (`stride` accounts per row);
  // from: the step's start row, null for today; step_end: the step's end row,
  // null where the step ends with the close-out window (one period).
  // after[horizon[a]]: the row where account a's P&L after the step ends
  // (after_step), -1 for none; null: none for any. next_window: those rows
  // end the next step's close-out windows (not the horizon's last step).
  AccountPnl(const double* rows, std::size_t stride, const int* point, const int* horizon, const double* from,
             const double* step_end = nullptr, const int* after = nullptr, bool next_window = false)
      : rows_(rows),
        from_(from),
        step_end_(step_end),
        point_(point),
        after_(after),
        horizon_(horizon),
        stride_(stride),
        next_window_(next_window) {}
  double to(std::size_t a) const {
    return horizon_ ? rows_[static_cast<std::size_t>(point_[horizon_[a]]) * stride_ + a] : rows_[a];
  }
  // Over the close-out window: from the step's start to its CCP's MPOR after.
  double operator[](std::size_t a) const { return from_ ? to(a) - from_[a] : to(a); }
  // Over the step alone: the variation margin of the step, which VMGH haircuts.
  double over_step(std::size_t a) const {
    if (!step_end_) return (*this)[a];
    return from_ ? step_end_[a] - from_[a] : step_end_[a];
  }
  // After the step: from its end over its CCP's MPOR (the next step's close-out
  // window; in the horizon's last step, to the end of its own window); 0 in
  // one period, where the window is the step.
  double after_step(std::size_t a) const {
    if (!step_end_ || !after_) return 0.0;
    const int p = after_[horizon_[a]];
    return p < 0 ? 0.0 : rows_[static_cast<std::size_t>(p) * stride_ + a] - step_end_[a];
  }
  // Whether after_step covers a whole close-out window from the step's end.
  bool next_window() const { return next_window_; }
  // From today to the step's end (the window's end in one period).
  double at_step_end(std::size_t a) const { return step_end_ ? step_end_[a] : to(a); }
  // Asks the cache for what over_step(a), and with `window` operator[](a),
  // will read (a pass over scattered accounts hides the misses); changes
  // nothing.
  void prefetch(std::size_t a, bool window) const {
    if (window || !step_end_)
      __builtin_prefetch(horizon_ ? &rows_[static_cast<std::size_t>(point_[horizon_[a]]) * stride_ + a] : &rows_[a]);
    if (step_end_) __builtin_prefetch(&step_end_[a]);
    if (from_) __builtin_prefetch(&from_[a]);
  }

 private:
  const double* rows_ = nullptr;
  const double* from_ = nullptr;
  const double* step_end_ = nullptr;
  const int* point_ = nullptr;
  const int* after_ = nullptr;
  const int* horizon_ = nullptr;
  std::size_t stride_ = 0;
  bool next_window_ = false;
};

// Per-thread workspace; run() is called once per scenario with a default.
class Cascade {
 public:
  explicit Cascade(const Model& model);

  // account_pnl: P&L of every account over its CCP's MPOR (the account
  // holder's gain). member_capital / member_cash: what the scenario adds to
  // each member's capital and liquid resources before the cascade (its P&L,
  // less settlement losses and VM gains that settle late). initial: cause of
  // each member's default at the start (kNone for none). settlement: the
  // scenario's settlement state, when the model has a settlement layer.
  // liquidations: the borrowers' accounts at lending protocols and the
  // accounts venues liquidate, in account order. insurance_funds: each CCP's
  // insurance fund in this scenario (empty: as configured; a fund held in a
  // crypto asset moves with it). The result's reset() must have been called.
  void run(AccountPnl account_pnl, std::span<const double> member_capital, std::span<const double> member_cash,
           std::span<const DefaultCause> initial, ScenarioResult& out, CascadeTrace* trace = nullptr,
           const SettlementState* settlement = nullptr, std::span<const Liquidation> liquidations = {},
           std::span<const double> insurance_funds = {});

  // Time steps (simulation.step_days): one scenario's cascade over several
  // steps, its state (funds used, members defaulted, CCPs failed, charges)
  // carried from step to step. begin() once with the first step's inputs;
  // per step, advance() to the step's inputs (from the second step on),
  // test() the standing members, step() its defaults through the rounds; then
  // finish(). The inputs of a step: account_pnl the P&L of every account over
  // its CCP's MPOR from the step's start (the last variation margin paid), the
  // close-out window of the step's defaulters; member_capital and member_cash
  // what the variation margin paid up to the step's end adds to each member's
  // capital and cash. Spans, and the rows account_pnl reads, must stay valid
  // until the next advance(). run() is begin + step + finish.
  void begin(AccountPnl account_pnl, std::span<const double> member_capital, std::span<const double> member_cash,
             std::span<const double> insurance_funds = {});
  void advance(AccountPnl account_pnl, std::span<const double> member_capital, std::span<const double> member_cash);
  // The settlement state of the coming step (sim/settlement.hpp, time steps):
  // its late VM gains, the principal in flight; it must stay valid through step().
  void set_settlement(const SettlementState* settlement) { settlement_ = settlement; }
  // Time steps, after advance(): the default-fund contributions still held
  // by the accounts met so far scale by `kept` (per CCP: a custody bridge
  // exploited in the coming step; those met later start from
  // SettlementState::df_kept).
  void keep_default_funds(std::span<const double> kept);
  // The solvency and liquidity test, with the charges of the steps so far, of
  // every member whose cause is kNone in `causes` (one per member), which
  // takes its cause; a member that defaulted already stays kNone.
  void test_standing(std::span<DefaultCause> causes, ScenarioResult& out);
  bool defaulted(std::size_t m) { return member_state_[member(m)].round >= 0; }
  // The failed peers' link accounts whose positions the last step() replaced
  // (link_replacement): what their CCPs traded, for the fire sales.
  std::span<const int> replaced_links() const { return replaced_; }
  // The client accounts the last step() closed out with their clearing
  // members (close_out_pool), each with whether it closed from the step's end
  // (closeout_from_end): what their CCPs sold, for the fire sales.
  std::span<const std::pair<int, bool>> closed_clients() const { return closed_clients_; }
  // The shares of the survivors' books the last step() closed (ADL's
  // whole-gain rule, tear-up), each with whether at the step's end's prices
  // (those of the round's defaulters): positions the CCP took over and trades
  // net of the defaulters' books (and replaced link positions) it
  // liquidates, for the fire sales. (ADL by quantity takes its contracts off
  // the defaulters' side instead: sold().)
  struct ClosedShare {
    int account;
    double share;  // of its book; a tear-up's: what it held of its book before it
    bool at_end;
    // A tear-up's (-1: none): its positions opposite the unplaced book alone
    // are closed, each asset's by its own share (torn_shares).
    int torn = -1;
  };
  std::span<const ClosedShare> closed_against() const { return closed_against_; }
  // A tear-up's share of each asset's positions on the side opposite the
  // books its auction left unplaced, signed as that side (a position v in
  // asset k is torn up by the share r_k if v r_k > 0): the unplaced value
  // over the standing positions opposite it, at most 1.
  std::span<const double> torn_shares(const ClosedShare& closed) const;
  void step(std::span<const DefaultCause> initial, double day, ScenarioResult& out, CascadeTrace* trace = nullptr,
            std::span<const Liquidation> liquidations = {});
  // Fire sales: each asset's relative price move from the coming step's joint
  // flow; every member account closed in the step executes at the moved price
  // (fire_sale_cost) in place of its own square-root cost; empty: none.
  void set_fire_sale_moves(std::span<const double> moves) { fire_sale_moves_ = moves; }
  // Whether member m, defaulted in the last step(), is closed out from the
  // step's end (closeout_from_end) and trades at its prices.
  bool closed_out_from_end(std::size_t m) const { return paid_step_member(m) && account_pnl_.next_window(); }
  // Time steps: each asset's price at the coming step's start and at its end
  // over today's, at which close-outs from the step's start and from its end
  // (closeout_from_end) trade (close_out_cost, close_out_value,
  // fire_sale_cost); empty: today's prices (one period, a first step).
  void set_close_out_prices(std::span<const double> start, std::span<const double> end) {
    close_out_prices_ = start;
    end_prices_ = end;
  }
  // IM recomputed through the steps (sim/margin_path.hpp), per account: what
  // the CCP holds of a member defaulting in the coming step (the IM after the
  // last step it paid) and of one standing at its end (after this step's
  // call); empty: each account's own IM.
  void set_initial_margins(std::span<const double> at_start, std::span<const double> at_end) {
    im_at_start_ = at_start;
    im_at_end_ = at_end;
  }
  // Time steps: each CCP's insurance fund held in a crypto asset is worth
  // `growth` times what it was at the previous step (the asset's price at
  // this step's close-out over the previous one's); 1 for a USD fund.
  void revalue_insurance_funds(std::span<const double> growth);
  void finish(ScenarioResult& out);
  // The share of its positions account a still holds: 1 less what ADL and
  // tear-up closed so far in the scenario (at_step_start: before the current
  // step, on which its variation margin of the step is paid); 1 outside a
  // scenario's steps. What it no longer holds pays and earns nothing from the
  // next step, and a close-out is of what it holds. The runner takes off its
  // owner's capital the held share of what a failed CCP or a venue's
  // liquidation closes, and the cascade the closed share's margin from the
  // next step (advance()).
  double held(std::size_t a, bool at_step_start = false) const;
  // The share of its positions closing account a (a defaulter's close-out, a
  // venue's liquidation) trades in the market: what it holds less what ADL
  // closed against the survivors (the fire-sale flow).
  double sold(std::size_t a) const { return held(a) * (1.0 - cold(a).adl_matched); }
  // The accounts ADL or tear-up closed part of in the scenario so far.
  std::span<const int> partly_closed() const { return partly_closed_; }

 private:
  // A loss that reached a CCP over one of its links, for its next round.
  struct LinkLine {
    int account;  // the peer's account at the receiving CCP
    double loss;
    LineKind kind;
  };
  // A creditor's stake at a failed CCP: VM gains owed, margin and fund at risk;
  // for a linked CCP, also the failed CCP's collateral it holds and the cost
  // of replacing the failed CCP's link positions (a gain when negative).
  struct Stake {
    std::size_t account;
    double vm, margin, fund, collateral_im, collateral_df, replacement;
    double collateral() const { return collateral_im + collateral_df; }
    // The claim: its close-out amount, which a replacement gain reduces and
    // may turn into a debt to the failed CCP's estate (then 0 here).
    double stake() const { return std::max(0.0, vm + margin + fund + replacement); }
    double unsecured() const { return stake() - std::min(stake(), collateral()); }
  };
  // What a CCP's creditors bear this round: its failure's shortfall, or a
  // late claim on a CCP that failed before. Its stakes are stakes_[first, last).
  struct Resolution {
    std::size_t ccp;
    double uncovered;  // what its layers (or the late lines) left
    bool failing;      // failed this round (else a late claim)
    std::size_t first = 0, last = 0;
    double shortfall = 0.0, collateral = 0.0;
    double used = 0.0;  // the share of its collateral its linked creditors apply
    double rate = 0.0;  // the share of the unsecured claims its creditors lose
  };
  // A failed CCP's collateral at a linked CCP, applied by that CCP this round.
  struct Pledge {
    std::size_t account;  // the failed CCP's account at the linked CCP
    double im, df;
  };

  void start_scenario(AccountPnl account_pnl, std::span<const double> member_capital,
                      std::span<const double> member_cash, const SettlementState* settlement,
                      std::span<const double> insurance_funds);
  std::size_t member(std::size_t m);
  void init_member(std::size_t m);
  std::size_t account(std::size_t a);
  void meet_account(std::size_t a, std::size_t slot);
  void next_step_epoch(bool new_scenario);
  bool owner_alive(std::size_t a);
  void set_start_states();
  // Step 1 at CCP c: its lines of this round through its waterfall.
  void settle_ccp(std::size_t c, int round, ScenarioResult& out, CascadeTrace* trace);
  void settle_failed_ccp(std::size_t c, int round, ScenarioResult& out, CascadeTrace* trace);
  double collateral_im(std::size_t account) const;
  void add_member_lines(std::size_t c, ScenarioResult& out);
  models::Defaulter lending_line(std::size_t ai, const Account& acc);
  models::Defaulter default_line(std::size_t c, std::size_t ai, const Account& acc, ScenarioResult& out);
  // What closing account `ai` costs on top of its P&L: the fire sale's
  // (fire_sale_moves_) or its own square-root cost, at its close-out's prices.
  double liquidation_cost(std::size_t ai) const;
  double link_replacement(std::size_t ai) const;
  bool paid_step(std::size_t ai) const;
  bool paid_step_member(std::size_t m) const { return member_state_[m].round > step_round_; }
  std::span<const double> after_step_prices() const;
  bool closeout_from_end(std::size_t ai) const;
  double closeout_pnl(std::size_t ai) const;
  std::span<const double> closeout_prices(std::size_t ai) const;
  void start_round_auction(std::size_t c);
  void add_link_lines(std::size_t c);
  // What a survivor at CCP c brings to the layers (visit_survivors).
  struct SurvivorInputs {
    double df, assessment_cap, cash, vm_gain, lender, cash_call_cap, weight;
  };
  // Calls emit(slot, inputs) for each survivor at CCP c, in slot order.
  template <class Emit>
  void visit_survivors(std::size_t c, Emit&& emit);
  void collect_survivors(std::size_t c);
  // The survivors of a CCP on columns (columns_): what its layers read.
  void collect_columns(std::size_t c);
  // ADL by quantity at the bankruptcy price for this round's member lines at
  // CCP c, when they are all single-asset positions in one contract.
  void setup_adl_by_quantity(std::size_t c, std::size_t n_member_lines);
  // The price at which its close (or ADL against it) marks account ai's
  // position in `asset`, a single-asset account's: its P&L from today over
  // the contracts it holds (adl_mark_from_end_: at the end of the window from
  // the step's end).
  double mark_price(std::size_t ai, int asset) const;
  // Its P&L from today to where its margin was last settled: the step's start
  // (adl_mark_from_end_: its end).
  double settled_pnl(std::size_t ai) const;
  // The members' then the link lines through their layers, VMGH capped per round.
  void run_layers(std::size_t c, std::span<models::Defaulter> members, std::span<models::Defaulter> links,
                  models::CcpResources& resources, models::VmghCaps& vmgh, models::WaterfallOutcome& wf_members,
                  models::WaterfallOutcome& wf_links);
  void book_survivor_charges(std::size_t c, int round, ScenarioResult& out);
  void book_column_charges(std::size_t c, int round, ScenarioResult& out);
  // A waterfall run on the survivors of the CCP being settled (its rows or its columns).
  models::WaterfallOutcome run_waterfall(std::span<const models::Layer> layers, std::span<models::Defaulter> lines,
                                         models::CcpResources& resources, models::VmghCaps& vmgh);
  // The survivors' VM gains (vmgh's base), summed in row order.
  double survivor_gains() const;
  // Recovery tools on what the layers left at CCP c (members' lines first).
  models::RecoveryOutcome run_recovery_tools(std::size_t c, models::WaterfallOutcome& wf_members,
                                             models::WaterfallOutcome& wf_links, ScenarioResult& out);
  void set_tear_up_gains(std::size_t c);
  // ADL or tear-up closed `share` of what account a still held, in this
  // step; returns the share of its whole book that is.
  double close_share(std::size_t a, double share);
  // ADL's close of survivor account ai's positions (s its charges), from its
  // contracts and gain left before them; returns the gain ADL may still take.
  double close_deleveraged(std::size_t ai, const models::Survivor& s, double contracts_left, double gain_left,
                           double by_quantity);
  // What the whole-gain rule may take of survivor i after the members' run
  // closed s.adl_closed of its contracts by quantity.
  double gain_after_quantity(std::size_t i) const;
  // After the members' run: the share of the net-side lines' contracts ADL
  // by quantity closed (ColdState::adl_matched).
  void note_adl_matched();
  // advance(): what ADL and tear-up closed comes off the holders' variation margin.
  void take_closed_positions_off(AccountPnl account_pnl);
  void trace_event(int round, std::size_t c, const models::WaterfallOutcome& wf, std::size_t first, std::size_t end,
                   const std::vector<LineKind>& kinds, CascadeTrace* trace, const std::vector<AdlLine>& adl) const;
  void record_adl(int run);
  // Step 2: the creditors of the CCPs that failed this round, or received a
  // late claim, bear what they left; every stake is taken before any is charged.
  void resolve_round(int round, ScenarioResult& out, CascadeTrace* trace);
  void gather_stakes(Resolution& r);
  void net_applied_collateral(Resolution& r);
  void apply_resolution(const Resolution& r, int round, ScenarioResult& out);
  void add_creditor_stakes(std::size_t c);
  void close_failed_ccp(std::size_t c, int round, ScenarioResult& out);
  // Step 3.
  void check_members(int round, ScenarioResult& out);
  void sort_touched();
  void mark_to_test(std::size_t m, int round);
  void charge_member(std::size_t account, LossChannel channel, double amount, bool cash, int round,
                     ScenarioResult& out);
  // The CCP-bank nexus (sim/nexus.cpp): the interbank network cleared on the
  // equities of this round, before the members' test.
  void clear_interbank(int round, ScenarioResult& out);
  // Client clearing (sim/clients.cpp): at the close-out of member m at CCP c,
  // its client accounts there are ported or closed out; what their margin
  // does not cover is added to its house line's loss.
  double close_out_clients(std::size_t c, int m, ScenarioResult& out);
  bool port(std::size_t c, std::span<const int> accounts, std::span<const int> backups, double day,
            ScenarioResult& out);
  double default_day(int m, const ScenarioResult& out) const;
  double close_out_pool(std::span<const int> accounts, std::size_t c, ScenarioResult& out);
  double client_closeout_loss(std::size_t account) const;
  void close_out_reverted(std::size_t c, ScenarioResult& out);
  void add_reverted_lines();
  static constexpr int kClosedOut = -2;
  struct Ported {
    int account;
    double day;  // the day its original member defaulted
  };
  std::vector<Ported> ported_;  // client accounts ported in this scenario
  std::vector<int> reverted_;   // workspace: ported within a window their backup did not outlast
  // A pool of them closed out: its original member's house account at the
  // CCP, its loss beyond its own margin (that member's line when > 0), and
  // the margin of its own it used (shown with that member in the trace).
  struct RevertedPool {
    int house;
    double loss, cover;
  };
  std::vector<RevertedPool> reverted_lines_;
  double reverted_im_end_ = 0.0;  // the defaulter-IM layer once the reverted pools closed (add_member_lines)
  std::vector<std::pair<int, double>> reverted_cover_;  // pools without a line: house account, margin used
  std::vector<std::pair<int, double>> taken_im_;        // per backup member: the IM of the client accounts it took
  std::vector<int> individual_, omnibus_, omnibus_in_, common_backups_;  // workspaces

  std::vector<double> interbank_charged_;  // per member: its interbank loss charged so far in the scenario
  std::vector<int> interbank_tipped_;      // per member: the round its interbank loss left it insolvent; -1
  std::size_t interbank_defaults_seen_ = 0;

  const Model& model_;
  std::vector<std::uint8_t> needs_adl_, needs_lender_;   // per CCP: its waterfall has the layer
  std::vector<std::size_t> first_mutual_;                // per CCP: first waterfall layer charging survivors
  std::vector<std::size_t> first_link_mutual_;           // per CCP: the same in link_layers_
  std::vector<std::vector<models::Layer>> link_layers_;  // per CCP: the layers that absorb its link losses
  std::vector<std::vector<int>> link_accounts_of_;       // per CCP: its link accounts at the other CCPs
  std::vector<int> mirror_;                              // per link account: the other side's account; -1 otherwise
  std::vector<int> link_of_;                             // per link account: index into Model::links; -1 otherwise
  std::uint32_t epoch_ = 0;                              // scenario counter for the members' lazy initialisation
  std::vector<int> stamped_accounts_;                    // initialised in this scenario, for keep_default_funds()
  // Accounts are brought to the current step on first touch in it (account()):
  // account_stamp_ holds the step counter of that touch, and an account with
  // a stamp below scenario_step_ (the counter at the scenario's start) is
  // not yet initialised in the scenario.
  std::uint32_t step_epoch_ = 0, scenario_step_ = 0;
  int round_ = 0, last_active_ = 0;           // rounds of the scenario so far (all steps)
  int step_round_ = 0;                        // the first round of the current step
  double day_ = 0.0;                          // the current step's end (time steps)
  std::vector<std::uint32_t> account_stamp_;  // by slot
  // Per member, together: a survivor's charge reads and writes one line.
  struct MemberState {
    double capital = 0.0, cash = 0.0;
    int round = -1;  // the round it defaulted; -1 alive
    int checked_round = -1;
    std::uint32_t stamp = 0;  // epoch_ once initialised in this scenario
    std::uint8_t missed_call = 0;
  };
  std::vector<MemberState> member_state_;
  // The state of each account in the scenario. The hot part, one cache line,
  // is what the survivors' pass reads and writes: set up from the account's
  // AccountInfo on its first touch in the scenario (meet_account).
  struct alignas(64) AccountState {
    double df_left = 0.0, assess_cap = 0.0, vm_gain = 0.0;
    double adl_left = 0.0, lender_left = 0.0;  // gain left to deleverage, balance left
    double cash_call_cap = 0.0;                // what recovery cash calls may still take
    int holder = -1;  // a client account: the backup member holding it once ported, kClosedOut once closed out
    std::uint8_t closed = 0, liquidated = 0;
    std::uint8_t collateral_taken = 0;  // a link account: its owner's collateral used on its failure
    std::uint8_t bad_debt_booked = 0;   // its path's bad debt is in a line already
  };
  // The cold part, which few accounts of a scenario use (creditors of a
  // failed CCP, lending and venue accounts): zero until first written in the
  // scenario (cold(), stamped with epoch_).
  struct ColdState {
    double margin_lost = 0.0;                       // margin lost as a creditor of a failed CCP
    double bad_debt = 0.0, closing_bad_debt = 0.0;  // a borrower's account at a lending protocol
    double venue_loss = 0.0, venue_margin = 0.0;    // an account a venue liquidates: close-out loss, margin
    double venue_pnl = 0.0;                         // its P&L from today at the mark it was closed at
    // The share of its positions auto-deleveraging and tear-up closed: before
    // the current step, and so far (held()).
    double closed_before = 0.0, closed = 0.0;
    // A defaulted position's: the share of what it held that ADL by quantity
    // closed against the survivors at the bankruptcy price, not sold.
    double adl_matched = 0.0;
  };
  std::vector<AccountState> acct_;         // by slot (slot_)
  std::vector<ColdState> cold_;            // by slot
  std::vector<std::uint32_t> cold_stamp_;  // by slot: epoch_ once cold_ is written in this scenario
  // Per account what the cascade reads of it, contiguous (an Account holds
  // much more), with what its state starts a scenario from; per member its
  // capital and liquidity today.
  struct alignas(64) AccountInfo {
    double default_fund, initial_margin, notional;
    double lent;           // its notional if it has no debt, else 0 (for the lender haircut)
    double adl_contracts;  // a single-asset account's contracts, else 0 (for ADL by quantity)
    int owner, ccp;
    AccountKind kind;
    int account;  // its index in Model::accounts
    bool bids;
    bool peer_link;  // a peer link's own fund: never mutualised (ESMA)
  };
  std::vector<AccountInfo> info_;       // by slot
  std::vector<int> slot_;               // per account: its place in acct_, cold_ and info_
  std::vector<std::size_t> ccp_slots_;  // per CCP: the first slot of its accounts, which follow in its order
  AccountState& state(std::size_t a) { return acct_[static_cast<std::size_t>(slot_[a])]; }
  const AccountState& state(std::size_t a) const { return acct_[static_cast<std::size_t>(slot_[a])]; }
  const AccountInfo& info(std::size_t a) const { return info_[static_cast<std::size_t>(slot_[a])]; }
  // The contracts ADL may still close of single-asset account a: those it holds.
  double contracts_left(std::size_t a) const { return held(a) * info(a).adl_contracts; }
  ColdState& cold(std::size_t a);
  const ColdState& cold(std::size_t a) const;
  // charge_member with the account's info at hand (acc.account its index).
  void charge_account(const AccountInfo& acc, LossChannel channel, double amount, bool cash, int round,
                      ScenarioResult& out);
  // A survivor's charges by channel, in the order they are booked.
  template <std::size_t N>
  using SurvivorCharges = std::array<std::pair<LossChannel, double>, N>;
  template <std::size_t N>
  void book_charges(std::size_t c, const AccountInfo& acc, const SurvivorCharges<N>& charges, bool missed_call,
                    int round, ScenarioResult& out);
  std::vector<std::pair<double, double>> member_start_;  // capital, liquidity
  // Per member its accounts with their CCPs, contiguous (member m's from
  // member_first_account_[m] to [m + 1]), for the close-out of its default.
  std::vector<std::size_t> member_first_account_;
  std::vector<std::pair<int, int>> member_accounts_;  // account, its CCP
  std::vector<std::uint64_t> touched_bits_;           // workspace of check_members: touched_ as a bitset
  std::vector<int> single_asset_;                     // per account: its only asset, -1 otherwise
  // Per survivor: kAdlQueued, opposite the round's defaulted contract and within its quantity
  // (ADL by quantity); kAdlBeyond, any other single-asset account (beyond the quantity, in
  // another contract, on the defaulters' side): out of the members' run, in a link run with its
  // gain left; 0 otherwise (multi-asset: whole-gain in both runs).
  static constexpr std::uint8_t kAdlQueued = 1, kAdlBeyond = 2;
  std::vector<std::uint8_t> adl_by_quantity_;
  std::vector<int> adl_matched_lines_;       // the round's member lines on the net side ADL by quantity closes against
  double adl_quantity_ = 0.0;                // their contracts
  bool adl_mark_from_end_ = false;           // this round's ADL by quantity marks from the step's end
  std::vector<double> adl_charged_members_;  // per survivor: ADL charged by the members' run
  std::array<std::vector<AdlLine>, 2> adl_lines_;  // the members' and the link lines' ADL of this round
  std::vector<double> line_to_fund_;               // per line of defaulters_: margin left to the insurance fund
  std::vector<std::pair<std::size_t, double>> client_cover_;  // lines of defaulters_: their clients' margin used
  std::vector<models::CcpResources> resources_;               // per CCP
  std::vector<models::VmghCaps> vmgh_;  // per CCP: the caps, total_left what the scenario still allows
  std::vector<int> ccp_round_;
  std::vector<std::vector<int>> closing_;          // per CCP: member accounts closed out this round
  std::vector<std::vector<LinkLine>> link_lines_;  // per CCP: link losses of this round
  std::vector<std::vector<LinkLine>> next_link_lines_;
  std::vector<int> touched_;             // members charged this round
  std::vector<int> new_members_;         // defaulted in the previous round
  std::vector<int> failed_now_;          // CCPs failing this round, ascending
  std::vector<Resolution> resolutions_;  // this round's failures and late claims
  std::vector<Pledge> pledges_;          // collateral the round's resolutions apply
  std::vector<models::Defaulter> defaulters_;
  std::vector<int> defaulter_accounts_;
  std::vector<LineKind> line_kinds_;
  std::vector<models::Survivor> survivors_;
  std::vector<int> survivor_accounts_;
  // A CCP whose layers are all pro rata (no adl, lender haircut,
  // juniorisation or recovery tool) runs them on the columns of its
  // survivors (models::SurvivorColumns), which is what they read and charge:
  // the same numbers as on Survivor rows, at a fraction of the memory they
  // stream. Rows in slot order, as survivors_.
  struct SurvivorTable {
    std::vector<double> df, df_charged, assessment_cap, cash, assessment_paid, assessment_unpaid, vm_gain, vmgh_charged;
    std::vector<std::uint8_t> missed_call;
    std::vector<int> slot;
    std::size_t size = 0;
    void reserve(std::size_t n);
    void push(int slot, const SurvivorInputs& in);
    models::SurvivorColumns columns();
  };
  SurvivorTable table_;
  // Per CCP: the slots of the survivors of its last pass (visit_survivors) and its step's epoch.
  std::vector<std::vector<int>> survivor_slots_;
  std::vector<std::uint32_t> survivor_slots_epoch_;
  std::vector<std::uint8_t> columns_;  // per CCP: its survivors on columns
  bool on_columns_ = false;            // the CCP being settled runs on table_
  std::vector<Stake> stakes_;          // of this round's resolutions
  // The scenario's inputs, for the steps.
  AccountPnl account_pnl_;
  std::span<const double> member_capital_, member_cash_;
  std::span<const double> fire_sale_moves_;
  std::span<const double> close_out_prices_, end_prices_;
  std::span<const double> im_at_start_, im_at_end_;
  const SettlementState* settlement_ = nullptr;
  // Default management: the loss on the books this round's auctions at the
  // CCP being settled did not place (for tear-up and forced allocation).
  double unplaced_loss_ = 0.0;
  std::vector<double> unplaced_value_;  // per asset: the positions (value today) of the books it did not place
  std::vector<double> opposite_value_;  // per asset: the standing accounts' positions opposite them
  std::vector<double> torn_share_;      // per survivor: the share of its book a tear-up of the round terminates
  bool torn_up_ = false;                // the round's tear-up at the CCP being settled terminated them
  std::vector<int> partly_closed_;      // accounts ADL or tear-up closed in the scenario (held() < 1)
  std::vector<int> replaced_;           // in the step (replaced_links)
  std::vector<std::pair<int, bool>> closed_clients_;  // in the step (closed_clients)
  std::vector<ClosedShare> closed_against_;           // in the step (closed_against)
  std::vector<double> torn_shares_;                   // in the step: each tear-up's per asset (torn_shares)
  int torn_at_ = -1;             // the round's tear-up at the CCP being settled: its offset in torn_shares_
  bool closing_at_end_ = false;  // the CCP being settled: its round's close-outs from the step's end
  // Default management: per CCP, the gross value auctioned in the step so
  // far; the round's books at the CCP being settled, their joint auction.
  std::vector<double> auctioned_;
  models::AuctionResult round_auction_{};
  double round_auction_value_ = 0.0;
};

}  // namespace ccpnet
