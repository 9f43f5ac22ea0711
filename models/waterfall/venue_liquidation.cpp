#include "models/waterfall/venue_liquidation.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <stdexcept>

#include "models/margin/addons.hpp"

namespace ccpnet::models {

namespace {

void check(const VenuePosition& p) {
  if (!(p.quantity > 0.0)) throw std::invalid_argument("venue liquidation: the quantity must be positive");
  if (!(p.mark_price > 0.0)) throw std::invalid_argument("venue liquidation: the mark price must be positive");
}

}  // namespace

double venue_equity(const VenuePosition& p) {
  return p.margin + side_sign(p.side) * p.quantity * (p.mark_price - p.entry_price);
}

double venue_bankruptcy_price(const VenuePosition& p) {
  check(p);
  return p.entry_price - side_sign(p.side) * p.margin / p.quantity;
}

bool maintenance_breached(const VenuePosition& p) { return venue_equity(p) < p.maintenance_margin; }

double venue_impact_cost(const VenuePosition& p, const VenueMarket& market) {
  if (market.impact == 0.0) return 0.0;
  Eigen::VectorXd value(1), adv(1), impact(1);
  value << p.quantity * p.mark_price;
  adv << market.adv;
  impact << market.impact;
  return liquidation_cost(value, adv, impact);
}

VenueLiquidation venue_account_close_out(double margin, double pnl, double maintenance_margin, double impact_cost) {
  if (!(impact_cost >= 0.0)) throw std::invalid_argument("venue liquidation: the impact cost must be non-negative");
  VenueLiquidation out;
  out.equity = margin + pnl;
  if (!(out.equity < maintenance_margin)) return out;
  out.liquidated = true;
  out.impact_cost = impact_cost;
  const double left = out.equity - impact_cost;  // what the close leaves above (or below) bankruptcy
  out.surplus = std::max(0.0, left);
  out.shortfall = std::max(0.0, -left);
  return out;
}

VenueLiquidation venue_close_out(const VenuePosition& p, const VenueMarket& market) {
  check(p);
  return venue_close_out(p, maintenance_breached(p) ? venue_impact_cost(p, market) : 0.0);
}

VenueLiquidation venue_close_out(const VenuePosition& p, double impact_cost) {
  check(p);
  const double pnl = side_sign(p.side) * p.quantity * (p.mark_price - p.entry_price);
  VenueLiquidation out = venue_account_close_out(p.margin, pnl, p.maintenance_margin, impact_cost);
  out.bankruptcy_price = venue_bankruptcy_price(p);
  // s q (P_x - B) = equity - cost.
  if (out.liquidated) out.execution_price = p.mark_price - side_sign(p.side) * out.impact_cost / p.quantity;
  return out;
}

VenueLiquidation liquidate_venue_position(const VenuePosition& p, const VenueMarket& market, InsuranceFund& fund) {
  if (!(fund.price > 0.0)) throw std::invalid_argument("venue liquidation: the fund's asset price must be positive");
  VenueLiquidation out = venue_close_out(p, market);
  if (out.liquidated) {
    fund.units += out.surplus / fund.price;
    out.fund_paid = std::min(out.shortfall, std::max(0.0, fund.value()));
    fund.units -= out.fund_paid / fund.price;
    out.uncovered = out.shortfall - out.fund_paid;
    if (out.uncovered > 0.0) out.adl_quantity = p.quantity * out.uncovered / out.shortfall;
  }
  out.fund_after = fund.value();
  return out;
}

VenueLiquidationSequence process_venue_liquidations(std::span<const VenueLiquidationStep> steps,
                                                    const VenueMarket& market, InsuranceFund& fund) {
  VenueLiquidationSequence out;
  out.fund_start = fund.value();
  for (const auto& step : steps) {
    if (!(step.fund_asset_return > -1.0))
      throw std::invalid_argument("venue liquidation: the fund's asset return must be above -100%");
    const double before = fund.value();
    fund.price *= 1.0 + step.fund_asset_return;
    out.revaluation += fund.value() - before;
    const VenueLiquidation& l = out.steps.emplace_back(liquidate_venue_position(step.position, market, fund));
    out.surpluses += l.surplus;
    out.fund_paid += l.fund_paid;
    out.adl_quantity += l.adl_quantity;
    out.uncovered += l.uncovered;
  }
  out.fund_end = fund.value();
  return out;
}

}  // namespace ccpnet::models
