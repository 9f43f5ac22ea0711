// Auto-deleveraging (ADL) of a crypto venue: what is left of a liquidated
// position that neither the market nor the insurance fund could absorb is
// closed against opposite-side accounts, by quantity, at the BANKRUPTCY PRICE
// of the liquidated position, in ranking order, each up to its size, the last
// one partially (BitMEX, "Auto-Deleveraging"; Bybit, OKX and Hyperliquid run
// variants of the same queue).
//
// Ranking (BitMEX): with position values signed (short < 0),
//   PnL%               = (mark value - avg entry value) / |avg entry value|
//   effective leverage = |mark value| / (mark value - bankrupt value)
//   ranking            = PnL% x effective leverage   if PnL% > 0
//                        PnL% / effective leverage   otherwise
// "bankrupt value" is the account's own position valued at its own bankruptcy
// price, so mark value - bankrupt value = margin + unrealised P&L (its equity):
// for a position of q contracts at entry E, mark M, margin m and side s (+1
// long, -1 short), P&L = s q (M - E), PnL% = P&L / (q E) and effective
// leverage = q M / (m + P&L). Accounts are ranked highest first.
//
// The deleveraged account is closed at the bankruptcy price B instead of the
// mark: against the mark it gives up s_l q (B - M) per closed quantity q, s_l
// the side of the liquidated position (positive when the mark has crossed B,
// the usual case: then it is q |M - B|, the gain beyond the bankruptcy price).
// Summed over the fills it is exactly what the liquidated position lacks at
// the mark, so ADL closes the gap without any other resource.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace ccpnet::models {

enum class Side : int { kLong = 1, kShort = -1 };

constexpr double side_sign(Side side) { return side == Side::kLong ? 1.0 : -1.0; }
constexpr Side opposite_side(Side side) { return side == Side::kLong ? Side::kShort : Side::kLong; }

enum class AdlRanking : int {
  kBitmex,    // PnL% x effective leverage for a gain, PnL% / effective leverage otherwise (default)
  kPnl,       // PnL% alone (profit ratio on the entry value)
  kLeverage,  // effective leverage alone (mark value over equity)
};

std::string_view adl_ranking_name(AdlRanking ranking);                   // "bitmex", "pnl", "leverage"
std::optional<AdlRanking> adl_ranking_from_name(std::string_view name);  // nullopt when unknown

// What is left of the liquidated position for ADL.
struct AdlPosition {
  Side side = Side::kLong;        // side of the liquidated position
  double quantity = 0.0;          // contracts to deleverage (>= 0)
  double bankruptcy_price = 0.0;  // price at which the liquidated account's equity is zero
};

// An account on the opposite side of the liquidated position (its side is
// opposite_side(liquidated.side)).
struct AdlAccount {
  double quantity = 0.0;     // contracts held (>= 0)
  double entry_price = 0.0;  // average entry price
  double mark_price = 0.0;
  double margin = 0.0;  // margin (collateral) backing the position
};

// Per account, in the order the accounts were given.
struct AdlFill {
  int rank = 0;               // 1 = deleveraged first; 0 for an account without contracts
  double priority = 0.0;      // its ranking score
  double quantity = 0.0;      // contracts closed
  double price = 0.0;         // the liquidated position's bankruptcy price
  double loss_vs_mark = 0.0;  // s_l x quantity x (price - mark): the gain given up against the mark
  double remaining = 0.0;     // contracts left after the fill
};

struct AdlResult {
  std::vector<AdlFill> fills;  // one per account, input order
  double closed = 0.0;         // contracts closed = min(liquidated quantity, total opposite quantity)
  double unfilled = 0.0;       // liquidated contracts left when the opposite side runs out
  double loss_vs_mark = 0.0;   // sum of the fills' losses against the mark
};

// Unrealised P&L, PnL% and effective leverage of an account on side `side`
// (effective leverage +infinity when its equity is not positive).
double adl_unrealised_pnl(Side side, const AdlAccount& account);
double adl_pnl_percent(Side side, const AdlAccount& account);
double adl_effective_leverage(Side side, const AdlAccount& account);

// The ranking score of an account on side `side` (higher is deleveraged
// first), to about 12 significant digits: scores that agree that far are a
// tie, which goes in account order.
double adl_priority(Side side, const AdlAccount& account, AdlRanking ranking = AdlRanking::kBitmex);

// Close `liquidated` against `opposite` in descending `priority` (ties: input
// order), each account up to its quantity, at the bankruptcy price.
// `priority` has one score per account.
AdlResult deleverage(const AdlPosition& liquidated, std::span<const AdlAccount> opposite,
                     std::span<const double> priority);

// The same with the scores computed by `ranking` from the accounts' own
// quantity, entry, mark and margin.
AdlResult deleverage(const AdlPosition& liquidated, std::span<const AdlAccount> opposite,
                     AdlRanking ranking = AdlRanking::kBitmex);

}  // namespace ccpnet::models
