// Close-out as CCPs run it: the defaulter's portfolio is hedged, then
// auctioned to the surviving members (SwapClear default management process:
// risk neutralisation by hedging, then portfolio auctions; CME and ICE Clear
// Europe run the same two steps). What the auction does not place goes on to
// the recovery tools that re-establish a matched book (recovery.hpp).
//
// The auction's discount on the value it places grows with the portfolio's
// size against the bidders' depth (the capacity of the surviving members to
// absorb risk: Ferrara, Li & Marszalec, "Central counterparty auction
// design", J. Financial Market Infrastructures 8(2) 2019/2020, where bidders'
// budget and inventory costs cut their bids on a large portfolio):
//
//   d(x) = base + k (x / depth)^exponent      (share of the value x placed)
//
// The CCP accepts no discount beyond its reserve r. When d(V) <= r the whole
// portfolio V is placed, at cost d(V) V. Otherwise the bidders take the
// largest x* with d(x*) = r, x* = depth ((r - base) / k)^(1 / exponent)
// (none when r <= base), at cost r x*; the rest U = V - x* is unplaced and
// valued at the reserve price, cost r U, until the recovery tools place or
// tear it up. The hedge costs hedge_cost V (the spread paid to neutralise the
// directional risk before the auction). Several books auctioned the same day
// share the depth: they are placed as one (auction_increment), each bearing
// its part pro rata to its value.
#pragma once

#include <limits>

namespace ccpnet::models {

struct AuctionTerms {
  double hedge_cost = 0.0;                                 // share of the portfolio's gross value paid to hedge it
  double base_discount = 0.0;                              // d(0)
  double slope = 0.0;                                      // k
  double exponent = 0.5;                                   // > 0
  double depth = std::numeric_limits<double>::infinity();  // bidders' capacity (USD)
  double reserve_discount = 1.0;                           // the largest discount the CCP accepts
};

struct AuctionResult {
  double value = 0.0;         // gross value of the portfolio (USD)
  double hedge_cost = 0.0;    // hedge_cost x value
  double sold = 0.0;          // value placed by the auction
  double auction_cost = 0.0;  // discount on the value placed
  double unsold = 0.0;        // value not placed
  double unsold_cost = 0.0;   // the unplaced value's discount at the reserve price
  double cost() const { return hedge_cost + auction_cost + unsold_cost; }
};

// The discount d(x) on a placed value x >= 0.
double auction_discount(const AuctionTerms& terms, double value);
// Hedge, then auction of a portfolio of gross value `value` >= 0.
AuctionResult auction_close_out(const AuctionTerms& terms, double value);

// The bidders' depth is a day's: books a CCP auctions the same day share it
// (the capacity of its surviving members to take on risk), so they are
// placed as one portfolio. Books of gross value `value` auctioned after
// `before` USD of others that day add to the day's auction what it places
// and costs with them beyond what it placed and cost without them (each field
// auction_close_out(before + value) - auction_close_out(before)): whatever the
// order, the day's books together cost auction_close_out of their sum.
AuctionResult auction_increment(const AuctionTerms& terms, double before, double value);
// `result`'s figures times `share` (a book's part of a joint auction).
AuctionResult scaled(const AuctionResult& result, double share);

}  // namespace ccpnet::models
