#include "models/waterfall/auction.hpp"

#include <algorithm>
#include <cmath>

namespace ccpnet::models {

double auction_discount(const AuctionTerms& terms, double value) {
  if (!(value > 0.0) || terms.slope == 0.0) return terms.base_discount;
  return terms.base_discount + terms.slope * std::pow(value / terms.depth, terms.exponent);
}

AuctionResult auction_close_out(const AuctionTerms& terms, double value) {
  AuctionResult out;
  out.value = std::max(0.0, value);
  if (out.value <= 0.0) return out;
  out.hedge_cost = terms.hedge_cost * out.value;
  const double full = auction_discount(terms, out.value);
  if (full <= terms.reserve_discount) {
    out.sold = out.value;
    out.auction_cost = full * out.value;
    return out;
  }
  const double r = terms.reserve_discount;
  // d(x*) = r: the most the bidders take within the reserve.
  const double capacity = r > terms.base_discount && terms.slope > 0.0
                              ? terms.depth * std::pow((r - terms.base_discount) / terms.slope, 1.0 / terms.exponent)
                              : 0.0;
  out.sold = std::min(out.value, capacity);
  out.auction_cost = r * out.sold;
  out.unsold = out.value - out.sold;
  out.unsold_cost = r * out.unsold;
  return out;
}

AuctionResult auction_increment(const AuctionTerms& terms, double before, double value) {
  if (!(before > 0.0)) return auction_close_out(terms, value);
  const AuctionResult with = auction_close_out(terms, before + std::max(0.0, value));
  const AuctionResult without = auction_close_out(terms, before);
  return {with.value - without.value,   with.hedge_cost - without.hedge_cost,
          with.sold - without.sold,     with.auction_cost - without.auction_cost,
          with.unsold - without.unsold, with.unsold_cost - without.unsold_cost};
}

AuctionResult scaled(const AuctionResult& r, double share) {
  return {r.value * share,        r.hedge_cost * share, r.sold * share,
          r.auction_cost * share, r.unsold * share,     r.unsold_cost * share};
}

}  // namespace ccpnet::models
