// The liquidation engine of a crypto venue (BitMEX, "Liquidation"; Binance,
// Bybit and OKX run the same sequence): an account whose equity (margin +
// unrealised P&L at the mark) falls below its maintenance margin is liquidated
// before it can default. Its position is sold into the market at the mark
// moved by the square-root impact cost (models/margin/addons.hpp,
// liquidation_cost: cost = k V sqrt(V / ADV), V = q x mark), so the execution
// price is
//   P_x = M - s cost / q        (s = +1 long, -1 short)
// and the account's equity after the close is equity - cost. Against the
// bankruptcy price B (equity zero: B = E - s m / q) the close leaves
//   s q (P_x - B) = equity - cost
// which the insurance fund receives when positive (a surplus) and pays when
// negative (a shortfall). When the fund cannot pay the whole shortfall, the
// contracts it cannot pay for are closed by ADL at B instead (models/waterfall
// /adl.hpp): a fund paying F of a shortfall S leaves q (S - F) / S contracts
// to ADL (the market closes the rest at P_x, the fund paying its loss).
//
// The fund may be held in a crypto asset: it holds `units` of an asset at
// `price` (USD: price 1, never moved); its value moves with the asset's return.
#pragma once

#include <span>
#include <vector>

#include "models/waterfall/adl.hpp"

namespace ccpnet::models {

// An account's position at the venue (one contract; USD-margined, linear).
struct VenuePosition {
  Side side = Side::kLong;
  double quantity = 0.0;  // contracts (> 0)
  double entry_price = 0.0;
  double mark_price = 0.0;
  double margin = 0.0;              // collateral backing the position (wallet balance allocated to it)
  double maintenance_margin = 0.0;  // USD: e.g. tiered_margin(q x mark, maintenance tiers)
};

// Depth of the market the engine sells into.
struct VenueMarket {
  double adv = 0.0;     // average daily volume (USD, > 0)
  double impact = 0.0;  // square-root impact coefficient k (0: no impact)
};

struct InsuranceFund {
  double units = 0.0;  // holdings (USD for a USD fund)
  double price = 1.0;  // price of the fund's asset (1 for USD)
  double value() const { return units * price; }
};

// equity = margin + s q (mark - entry).
double venue_equity(const VenuePosition& p);
// Price at which the equity is zero: entry - s margin / q.
double venue_bankruptcy_price(const VenuePosition& p);
// equity < maintenance margin.
bool maintenance_breached(const VenuePosition& p);
// k V sqrt(V / ADV) with V = q x mark (models::liquidation_cost for one asset).
double venue_impact_cost(const VenuePosition& p, const VenueMarket& market);

struct VenueLiquidation {
  bool liquidated = false;        // the account breached maintenance
  double equity = 0.0;            // at the mark, before the close
  double bankruptcy_price = 0.0;  // B
  double impact_cost = 0.0;
  double execution_price = 0.0;  // P_x (what the market pays)
  double surplus = 0.0;          // equity - cost when positive: to the insurance fund
  double shortfall = 0.0;        // cost - equity when positive: due from the insurance fund
  double fund_paid = 0.0;        // part of the shortfall the fund paid
  double adl_quantity = 0.0;     // contracts left to ADL at B (the fund could not pay for them)
  double uncovered = 0.0;        // shortfall - fund_paid: the loss ADL at B avoids
  double fund_after = 0.0;       // the fund's value after this liquidation
};

// The close of one position in the market, without the fund: fills every
// field but fund_paid, adl_quantity, uncovered and fund_after. A position
// that does not breach maintenance is left alone (liquidated = false).
VenueLiquidation venue_close_out(const VenuePosition& p, const VenueMarket& market);
// The same at a given impact cost (a fire sale's: the cost of the day's joint
// flow, models/market/fire_sale.hpp) instead of the square-root cost alone.
VenueLiquidation venue_close_out(const VenuePosition& p, double impact_cost);

// The same for a cross-margined account (one margin balance behind positions
// in several contracts, closed together): equity = margin + P&L at the marks,
// liquidated when below the account's maintenance margin (the sum of its
// positions'), closed at a cost `impact_cost` (models::liquidation_cost on
// its mark values). No single bankruptcy or execution price (left 0).
VenueLiquidation venue_account_close_out(double margin, double pnl, double maintenance_margin, double impact_cost);

// The close-out settled against the insurance fund: the surplus is added to
// the fund (bought at its price), the fund pays the shortfall up to its value,
// the rest goes to ADL. `fund` is updated.
VenueLiquidation liquidate_venue_position(const VenuePosition& p, const VenueMarket& market, InsuranceFund& fund);

// One entry of a sequence: the fund's asset return since the previous entry
// (0 for a USD fund) is applied to its price before the position is handled.
struct VenueLiquidationStep {
  VenuePosition position;
  double fund_asset_return = 0.0;
};

struct VenueLiquidationSequence {
  std::vector<VenueLiquidation> steps;  // one per entry, in order
  double fund_start = 0.0;              // value before the first entry
  double fund_end = 0.0;
  double surpluses = 0.0;     // sum of surpluses received
  double fund_paid = 0.0;     // sum of shortfalls paid by the fund
  double revaluation = 0.0;   // change of the fund's value from its asset's returns
  double adl_quantity = 0.0;  // contracts sent to ADL
  double uncovered = 0.0;     // shortfalls the fund could not pay
  // Conservation: fund_end - fund_start = surpluses - fund_paid + revaluation.
};

// Process the liquidations in order, tracking the fund.
VenueLiquidationSequence process_venue_liquidations(std::span<const VenueLiquidationStep> steps,
                                                    const VenueMarket& market, InsuranceFund& fund);

}  // namespace ccpnet::models
