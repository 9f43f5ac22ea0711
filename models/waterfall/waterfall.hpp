// The default waterfall of one CCP (SPEC 3.6): an ordered list of layers that
// absorb the close-out losses of the members (or linked CCPs) defaulting in one
// round. State (what is left of each resource) persists across the rounds of a
// scenario, so a second wave of defaults meets a depleted waterfall.
//
// Conservation: for every call, sum of the defaulters' losses net of their
// returned surplus = sum of by_layer + uncovered.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>

namespace ccpnet::models {

enum class Layer : int {
  kDefaulterIm,
  kDefaulterDf,
  kSitg,
  kSitg2,
  kMutualizedDf,
  kAssessments,
  kVmgh,
  kInsuranceFund,
  kAdl,
  kLenderHaircut,
  kCcpEquity,
};
inline constexpr std::size_t kLayerCount = 11;

std::string_view layer_name(Layer layer);

// A member (or linked CCP) defaulting at this CCP in this round.
struct Defaulter {
  double loss = 0.0;  // close-out loss: -P&L over the MPOR + liquidation cost (negative: a gain)
  double im = 0.0;    // its initial margin (collateral value after haircuts)
  double df = 0.0;    // what is left of its default-fund contribution
  // Outputs:
  double residual = 0.0;  // loss not absorbed by any layer (set by run_waterfall)
  double im_used = 0.0;
  double df_used = 0.0;
  double estate_return = 0.0;  // IM and DF beyond its own loss, returned to its estate
};

// A surviving account at this CCP. Resource fields are what is left and are
// decreased; charge fields accumulate what the account was made to pay.
struct Survivor {
  double df = 0.0;              // default-fund contribution left
  double assessment_cap = 0.0;  // what may still be called: multiple x contribution - called so far
  double cash = 0.0;            // liquid resources of its owner available to pay a call
  double vm_gain = 0.0;         // VM gains still owed to it in this scenario
  double adl_gain = 0.0;        // unrealised gain on positions opposite to the defaulters (ADL)
  double adl_rank = 0.0;        // ADL priority (higher is deleveraged first), e.g. adl_priority (adl.hpp)
  // ADL by quantity at the bankruptcy price (adl.hpp). When adl_quantity > 0
  // the account is closed by contracts at adl_bankruptcy_price and charged
  // only what that costs it against the mark, |mark - bankruptcy price| per
  // contract, up to its quantity (adl_gain is then not used). Otherwise (the
  // default) ADL takes up to the whole adl_gain, as if closed at entry.
  double adl_quantity = 0.0;          // contracts opposite the defaulted position
  double adl_entry_price = 0.0;       // its average entry price (for the caller's ranking; not used here)
  double adl_mark_price = 0.0;        // mark price of the contract
  double adl_bankruptcy_price = 0.0;  // bankruptcy price of the defaulted position it is closed against
  // The loss one contract closed by ADL takes off the defaulted position: its
  // shortfall per contract had it been sold into the market, the gap
  // |mark - bankruptcy price| plus that sale's close-out cost (0: the gap, no
  // cost). A contract closed at the bankruptcy price is not sold, so its
  // close-out cost is never incurred: the account pays the gap, the rest of
  // the loss it takes off vanishes (WaterfallOutcome::adl_cost_avoided).
  double adl_loss_per_contract = 0.0;
  double lender_balance = 0.0;  // balance lent to a lending protocol
  // Charges (accumulate):
  double df_charged = 0.0;
  double assessment_paid = 0.0;
  double assessment_unpaid = 0.0;
  double vmgh_charged = 0.0;
  double adl_charged = 0.0;
  double adl_closed = 0.0;  // contracts closed by ADL (quantity mode)
  double lender_charged = 0.0;
  bool missed_call = false;  // could not pay an assessment in full: a liquidity default
  // Juniorisation (auction.hpp): a member that did not bid well; the
  // mutualized_df layer uses the juniors' contributions before the others'.
  bool junior = false;
  // Recovery tools (recovery.hpp), after the layers:
  double cash_call_cap = 0.0;  // what cash calls may still take of it
  // Its VM gain on the positions a tear-up would terminate: those opposite
  // the book the auction did not place (the caller's split; recovery.hpp).
  // Tear-up takes at most the VM gain left (a gain an earlier tool or layer
  // took is not taken twice).
  double tear_up_gain = 0.0;
  double allocation_weight = 0.0;  // its share of a forced allocation (its DF contribution)
  double cash_call_paid = 0.0;
  double cash_call_unpaid = 0.0;
  double tear_up_charged = 0.0;     // VM gains lost on its positions torn up
  double allocation_charged = 0.0;  // the reserve discount on the book allocated to it
};

struct CcpResources {
  double sitg = 0.0;
  double sitg2 = 0.0;
  double insurance_fund = 0.0;
  double equity = 0.0;  // capital beyond SITG
};

struct WaterfallOutcome {
  std::array<double, kLayerCount> by_layer{};  // amount absorbed by each layer
  double loss = 0.0;                           // sum of positive defaulter losses
  double uncovered = 0.0;                      // left after the last layer: the CCP fails if > 0
  // Close-out cost of the contracts closed by ADL, which were not sold into
  // the market: already taken off `loss` (and off no layer), so that
  // loss = sum(by_layer) + uncovered still holds.
  double adl_cost_avoided = 0.0;
};

// Caps on variation-margin gains haircutting (VMGH). The haircut is pro rata
// to the survivors' VM gains at one rate for all, the largest that respects
// every cap; what the caps leave uncovered passes to the next layer.
// Default: uncapped (the layer takes what it needs, up to every gain).
struct VmghCaps {
  double max_rate = 1.0;  // share of each survivor's VM gain that one call may haircut, in [0, 1]
  double per_call = std::numeric_limits<double>::infinity();  // most one call (a round of defaults) may take
  // What the scenario's total cap still allows: set to the total cap at the
  // start of the scenario, decreased by each call (like the CCP's resources).
  double total_left = std::numeric_limits<double>::infinity();
  // The same for one time step (a day of a default management process): set
  // to the per-step cap at the start of each step.
  double step_left = std::numeric_limits<double>::infinity();
};

// Runs `layers` in order over the defaulters' losses. Per-defaulter layers
// (defaulter_im, defaulter_df) only ever cover that defaulter's own loss;
// mutual layers absorb the total and reduce each residual pro rata.
WaterfallOutcome run_waterfall(std::span<const Layer> layers, std::span<Defaulter> defaulters,
                               std::span<Survivor> survivors, CcpResources& ccp);
// The same with caps on VMGH; `vmgh.total_left` is decreased by what the layer takes.
WaterfallOutcome run_waterfall(std::span<const Layer> layers, std::span<Defaulter> defaulters,
                               std::span<Survivor> survivors, CcpResources& ccp, VmghCaps& vmgh);

// The survivors as the columns the pro-rata layers read and charge
// (mutualized_df without juniors, assessments, vmgh; row i of every span is
// survivor i): for a waterfall without the adl and lender_haircut layers,
// which need whole rows. The same layers give the same numbers, bit for bit,
// as on Survivor rows with these fields.
struct SurvivorColumns {
  std::span<double> df, df_charged;
  std::span<double> assessment_cap, cash, assessment_paid, assessment_unpaid;
  std::span<double> vm_gain, vmgh_charged;
  std::span<std::uint8_t> missed_call;
};
// Whether run_waterfall can run `layer` on SurvivorColumns.
bool supports_columns(Layer layer);
// run_waterfall on columns; throws std::invalid_argument on a layer they do
// not support or on columns of different lengths.
WaterfallOutcome run_waterfall(std::span<const Layer> layers, std::span<Defaulter> defaulters,
                               const SurvivorColumns& survivors, CcpResources& ccp, VmghCaps& vmgh);

// Calls on the survivors pro rata to what each may still be called (its
// field `cap`), up to `need` in all: the assessments and the recovery cash
// calls. A survivor pays what its cash allows (added to `paid`); the rest is
// added to `unpaid` and it missed the call (a liquidity default). Returns
// what was paid.
double call_on_caps(std::span<Survivor> survivors, double need, double Survivor::*cap, double Survivor::*paid,
                    double Survivor::*unpaid);

// ADL priority of a position with unrealised P&L `pnl`, margin `margin` and
// notional `notional`, an approximation of the BitMEX ranking on aggregates
// (the ranking on entry and mark values is adl_priority in adl.hpp): PnL% x
// effective leverage for a gain, PnL% / effective leverage for a loss, with
// PnL% = pnl / margin and effective leverage = notional / (margin + pnl).
double adl_rank(double pnl, double margin, double notional);

}  // namespace ccpnet::models
