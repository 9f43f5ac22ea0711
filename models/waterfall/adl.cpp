#include "models/waterfall/adl.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

namespace ccpnet::models {

std::string_view adl_ranking_name(AdlRanking ranking) {
  switch (ranking) {
    case AdlRanking::kBitmex: return "bitmex";
    case AdlRanking::kPnl: return "pnl";
    case AdlRanking::kLeverage: return "leverage";
  }
  return "?";
}

std::optional<AdlRanking> adl_ranking_from_name(std::string_view name) {
  for (const auto r : {AdlRanking::kBitmex, AdlRanking::kPnl, AdlRanking::kLeverage})
    if (adl_ranking_name(r) == name) return r;
  return std::nullopt;
}

double adl_unrealised_pnl(Side side, const AdlAccount& a) {
  return side_sign(side) * a.quantity * (a.mark_price - a.entry_price);
}

double adl_pnl_percent(Side side, const AdlAccount& a) {
  const double entry_value = a.quantity * a.entry_price;
  if (!(entry_value > 0.0)) return 0.0;
  return adl_unrealised_pnl(side, a) / entry_value;
}

double adl_effective_leverage(Side side, const AdlAccount& a) {
  const double equity = a.margin + adl_unrealised_pnl(side, a);
  if (!(equity > 0.0)) return std::numeric_limits<double>::infinity();
  return a.quantity * a.mark_price / equity;
}

// Accounts whose scores agree to 40 bits of mantissa (about 12 significant
// digits) rank as equal, in account order: two accounts with the same PnL%
// and leverage at different sizes (10x on 12m and on 4m) are a tie, which the
// rounding of one compiler or another must not break.
namespace {
double tie_level(double score) {
  if (!std::isfinite(score) || score == 0.0) return score;
  int exponent = 0;
  const double mantissa = std::frexp(score, &exponent);
  return std::ldexp(std::round(std::ldexp(mantissa, 40)), exponent - 40);
}
}  // namespace

double adl_priority(Side side, const AdlAccount& a, AdlRanking ranking) {
  const double pnl_pct = adl_pnl_percent(side, a);
  const double leverage = adl_effective_leverage(side, a);
  switch (ranking) {
    case AdlRanking::kPnl: return tie_level(pnl_pct);
    case AdlRanking::kLeverage: return tie_level(leverage);
    case AdlRanking::kBitmex: break;
  }
  if (pnl_pct > 0.0) return tie_level(pnl_pct * leverage);
  return std::isinf(leverage) ? 0.0 : tie_level(pnl_pct / leverage);
}

AdlResult deleverage(const AdlPosition& liquidated, std::span<const AdlAccount> opposite,
                     std::span<const double> priority) {
  if (priority.size() != opposite.size())
    throw std::invalid_argument("ADL: " + std::to_string(priority.size()) + " priorities for " +
                                std::to_string(opposite.size()) + " accounts");
  if (!(liquidated.quantity >= 0.0)) throw std::invalid_argument("ADL: negative liquidated quantity");
  AdlResult out;
  out.fills.resize(opposite.size());
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < opposite.size(); ++i) {
    if (!(opposite[i].quantity >= 0.0)) throw std::invalid_argument("ADL: negative account quantity");
    out.fills[i].priority = priority[i];
    out.fills[i].price = liquidated.bankruptcy_price;
    out.fills[i].remaining = opposite[i].quantity;
    if (opposite[i].quantity > 0.0) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return priority[a] > priority[b]; });
  const double s = side_sign(liquidated.side);
  double left = liquidated.quantity;
  int rank = 0;
  for (const std::size_t i : order) {
    AdlFill& f = out.fills[i];
    f.rank = ++rank;
    if (left <= 0.0) continue;
    f.quantity = std::min(left, opposite[i].quantity);
    f.remaining = opposite[i].quantity - f.quantity;
    f.loss_vs_mark = s * f.quantity * (liquidated.bankruptcy_price - opposite[i].mark_price);
    left -= f.quantity;
    out.closed += f.quantity;
    out.loss_vs_mark += f.loss_vs_mark;
  }
  out.unfilled = std::max(0.0, left);
  return out;
}

AdlResult deleverage(const AdlPosition& liquidated, std::span<const AdlAccount> opposite, AdlRanking ranking) {
  std::vector<double> priority(opposite.size());
  const Side side = opposite_side(liquidated.side);
  for (std::size_t i = 0; i < opposite.size(); ++i) priority[i] = adl_priority(side, opposite[i], ranking);
  return deleverage(liquidated, opposite, priority);
}

}  // namespace ccpnet::models
