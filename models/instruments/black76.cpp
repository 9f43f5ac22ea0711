#include "models/instruments/black76.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>

namespace ccpnet::models {
namespace {

double cdf(double x) { return 0.5 * std::erfc(-x / std::numbers::sqrt2); }
double pdf(double x) { return std::exp(-0.5 * x * x) * (std::numbers::inv_sqrtpi / std::numbers::sqrt2); }

void check_inputs(double forward, double strike) {
  if (!(forward > 0.0)) throw std::invalid_argument("Black-76: the forward price must be positive");
  if (!(strike > 0.0)) throw std::invalid_argument("Black-76: the strike must be positive");
}

// Price without checks; forward and strike are positive.
double price_unchecked(OptionType type, double forward, double strike, double expiry_years, double vol, double rate) {
  const double t = std::max(expiry_years, 0.0);
  const double discount = std::exp(-rate * t);
  const double sd = vol * std::sqrt(t);
  if (!(sd > 0.0)) {
    const double intrinsic = type == OptionType::kCall ? forward - strike : strike - forward;
    return discount * std::max(intrinsic, 0.0);
  }
  const double d1 = std::log(forward / strike) / sd + 0.5 * sd;
  const double d2 = d1 - sd;
  if (type == OptionType::kCall) return discount * (forward * cdf(d1) - strike * cdf(d2));
  return discount * (strike * cdf(-d2) - forward * cdf(-d1));
}

}  // namespace

double black76_price(OptionType type, double forward, double strike, double expiry_years, double vol, double rate) {
  check_inputs(forward, strike);
  return price_unchecked(type, forward, strike, expiry_years, vol, rate);
}

Black76Greeks black76_greeks(OptionType type, double forward, double strike, double expiry_years, double vol,
                             double rate) {
  check_inputs(forward, strike);
  Black76Greeks g;
  const double t = std::max(expiry_years, 0.0);
  const double discount = std::exp(-rate * t);
  const double sd = vol * std::sqrt(t);
  const double sign = type == OptionType::kCall ? 1.0 : -1.0;
  g.price = price_unchecked(type, forward, strike, expiry_years, vol, rate);
  if (!(sd > 0.0)) {
    const double moneyness = sign * (forward - strike);
    g.delta = moneyness > 0.0 ? sign * discount : (moneyness == 0.0 ? 0.5 * sign * discount : 0.0);
    g.theta = rate * g.price;
    return g;
  }
  const double d1 = std::log(forward / strike) / sd + 0.5 * sd;
  const double density = pdf(d1);
  g.delta = sign * discount * cdf(sign * d1);
  g.gamma = discount * density / (forward * sd);
  g.vega = discount * forward * density * std::sqrt(t);
  g.theta = rate * g.price - discount * forward * density * vol / (2.0 * std::sqrt(t));
  return g;
}

Eigen::ArrayXd black76_pnl(const OptionPosition& position, double forward, double rate,
                           const Eigen::ArrayXd& log_returns, const Eigen::ArrayXd& vol_shifts, double horizon_years) {
  check_inputs(forward, position.strike);
  if (log_returns.size() != vol_shifts.size())
    throw std::invalid_argument("Black-76 P&L: price and vol shocks have different scenario counts");
  const double base =
      price_unchecked(position.type, forward, position.strike, position.expiry_years, position.implied_vol, rate);
  const double t_after = position.expiry_years - horizon_years;
  Eigen::ArrayXd pnl(log_returns.size());
  for (Eigen::Index s = 0; s < log_returns.size(); ++s) {
    const double shocked = price_unchecked(position.type, forward * std::exp(log_returns(s)), position.strike, t_after,
                                           position.implied_vol + vol_shifts(s), rate);
    pnl(s) = position.quantity * (shocked - base);
  }
  return pnl;
}

double black76_value_after(const OptionContract& contract, double forward, double simple_return, double vol_factor,
                           double horizon_years) {
  check_inputs(forward, contract.strike);
  const double growth = 1.0 + simple_return;
  const double shocked = growth > 0.0 ? std::max(forward * growth, std::numeric_limits<double>::min())
                                      : std::numeric_limits<double>::min();
  // In logs, so that an extreme move with a large vol_beta caps instead of overflowing.
  double vol = contract.implied_vol;
  if (!(vol > 0.0) || !(vol_factor > 0.0)) {
    vol = 0.0;
  } else if (contract.vol_beta != 0.0 || vol_factor != 1.0) {
    const double log_vol = std::log(contract.implied_vol) +
                           contract.vol_beta * (std::log(shocked) - std::log(forward)) + std::log(vol_factor);
    vol = std::exp(std::min(log_vol, std::log(kMaxImpliedVol)));
  }
  return price_unchecked(contract.type, shocked, contract.strike, contract.expiry_years - horizon_years, vol,
                         contract.rate);
}

Eigen::ArrayXd black76_pnl(const OptionPosition& position, double forward, double rate,
                           const Eigen::ArrayXd& log_returns, double vol_shift, double horizon_years) {
  return black76_pnl(position, forward, rate, log_returns, Eigen::ArrayXd::Constant(log_returns.size(), vol_shift),
                     horizon_years);
}

}  // namespace ccpnet::models
