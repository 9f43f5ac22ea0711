// The multi-CCP default cascade of one scenario (SPEC 3.10).
//
// Rounds until nothing changes:
//  1. the defaults of the previous round (members, and CCPs through their link
//     accounts) are closed out at every CCP where they hold an account; each
//     CCP runs its waterfall; charges land on surviving members and on the
//     equity of CCPs that take part as linked counterparties;
//  2. a CCP with loss left over fails: what it owes its surviving accounts in
//     VM gains is not paid, IM that is not bankruptcy-remote is lost (up to a
//     recovery rate), link margin posted to it without segregation is lost,
//     and its linked CCPs close out their link to it in the next round;
//  3. surviving members are checked for solvency (capital + P&L - charges < 0)
//     and liquidity (cash due exceeds liquid resources, or an assessment call
//     not met) defaults.
// Each member and CCP defaults at most once, so the cascade ends within
// members + CCPs + 1 rounds. Everything is processed in index order.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "models/waterfall/waterfall.hpp"
#include "sim/settlement.hpp"

namespace ccpnet {

struct Model;

enum class DefaultCause : std::uint8_t { kNone = 0, kExogenous, kLatent, kSolvency, kLiquidity, kGroup };
inline constexpr int kDefaultCauseCount = 6;  // kGroup: pulled in by another member of its default group
const char* cause_name(DefaultCause cause);

struct MemberDefault {
  int member = -1;
  int round = 0;  // 0: at the start (exogenous, latent, or the market move alone)
  DefaultCause cause = DefaultCause::kNone;
};

// Everything the metrics need from one scenario.
struct ScenarioResult {
  std::int64_t index = 0;
  double market_factor = 0.0;
  int rounds = 0;
  double closeout_loss = 0.0;         // sum of positive close-out losses of all defaulters
  double total_loss = 0.0;            // borne by others than the defaulters: every non-defaulter layer + uncovered
  double uncovered = 0.0;             // left after the last layer of failed CCPs
  std::vector<double> ccp_layers;     // CCPs x kLayerCount
  std::vector<double> ccp_uncovered;  // per CCP
  std::vector<double> ccp_df_used;    // DF consumed (defaulters' and mutualized) per CCP
  // What a CCP was charged as a linked counterparty (VM it was not paid, link
  // margin lost) beyond its equity: it fails, and passes the shortfall on to
  // its own members' VM gains. Not a new loss (the charging layer counts it).
  std::vector<double> ccp_link_shortfall;
  std::vector<std::int8_t> ccp_fail_round;  // -1: survived
  std::vector<MemberDefault> defaults;      // in order of round, then member index
  double liquidity_shortfall = 0.0;         // cash missing of the members that defaulted for liquidity
  int settlement_defaults = 0;              // liquidity defaults that VM gains settled in time would have avoided
  SettlementOutcome settlement;             // empty unless the model has a settlement layer
  int liquidations = 0;                     // accounts liquidated at lending protocols (owners not in default)

  void reset(const Model& model, std::int64_t scenario);
  int ccp_failures() const;
  // Loss at CCP c beyond the defaulters' own resources (non-defaulter layers + uncovered).
  double ccp_loss(std::size_t c) const;
};

// The layer-by-layer story of one scenario, for `ccpnet stress` and reports.
struct DefaulterLine {
  int account = -1;
  double loss = 0.0;  // close-out loss
  double im_used = 0.0;
  double df_used = 0.0;
  double residual = 0.0;  // left after its own IM and DF, for the mutual layers
  double estate_return = 0.0;
};
struct WaterfallEvent {
  int round = 0;
  int ccp = -1;
  std::vector<DefaulterLine> defaulters;
  std::array<double, models::kLayerCount> by_layer{};
  double uncovered = 0.0;
};
struct CascadeTrace {
  std::vector<WaterfallEvent> events;
};

// A borrower's account at a lending protocol: `liquidated` when the protocol
// liquidates it in this scenario although its owner does not default (closed
// out in round 1); `bad_debt` is what the protocol loses when the account is
// closed, by that liquidation or, at the end of the period, because its owner
// defaults. Either way a defaulter loss with no IM and no DF of its own; a
// protocol account not listed (a lender's deposits) loses the protocol nothing.
struct Liquidation {
  int account = -1;
  double bad_debt = 0.0;
  bool liquidated = false;
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
  // liquidations: the borrowers' accounts at lending protocols, in account order.
  // The result's reset() must have been called.
  void run(std::span<const double> account_pnl, std::span<const double> member_capital,
           std::span<const double> member_cash, std::span<const DefaultCause> initial, ScenarioResult& out,
           CascadeTrace* trace = nullptr, const SettlementState* settlement = nullptr,
           std::span<const Liquidation> liquidations = {});

 private:
  const Model& model_;
  std::vector<std::uint8_t> peer_link_fund_;            // per account: a peer link's own fund (never mutualised)
  std::vector<std::uint8_t> needs_adl_, needs_lender_;  // per CCP: its waterfall has the layer
  std::vector<std::size_t> first_mutual_;               // per CCP: first waterfall layer charging survivors
  std::vector<std::vector<int>> link_accounts_of_;      // per CCP: its link accounts at the other CCPs
  std::uint32_t epoch_ = 0;                             // scenario counter for the lazy initialisation
  std::vector<std::uint32_t> account_stamp_, member_stamp_;
  std::vector<int> checked_round_;
  std::vector<double> capital_, cash_;  // per member
  std::vector<int> member_round_;       // -1 alive
  std::vector<std::uint8_t> missed_call_;
  std::vector<double> df_left_, assess_cap_, vm_gain_;  // per account
  std::vector<double> adl_left_, lender_left_;          // per account: gain left to deleverage, balance left
  std::vector<std::uint8_t> closed_, liquidated_;
  std::vector<double> bad_debt_;                 // per account liquidated at a lending protocol
  std::vector<models::CcpResources> resources_;  // per CCP
  std::vector<double> ccp_shortfall_;
  std::vector<int> ccp_round_;
  std::vector<models::Defaulter> defaulters_;
  std::vector<int> defaulter_accounts_;
  std::vector<models::Survivor> survivors_;
  std::vector<int> survivor_accounts_;
};

}  // namespace ccpnet
