// Black-76: European options on a forward or futures price (SPEC 3.2).
//
// Black, F. (1976), "The pricing of commodity contracts", Journal of Financial
// Economics 3, 167-179; Hull, "Options, Futures and Other Derivatives", the
// chapter on Black's model. With forward F, strike K, time to expiry T (years),
// volatility sigma (annualised, of ln F) and continuously compounded rate r:
//   d1 = (ln(F/K) + sigma^2 T / 2) / (sigma sqrt(T)),  d2 = d1 - sigma sqrt(T)
//   call = e^{-rT} (F N(d1) - K N(d2)),   put = e^{-rT} (K N(-d2) - F N(-d1)).
// At T <= 0 or sigma <= 0 the price is the deterministic limit
// e^{-r max(T,0)} max(+-(F - K), 0).
#pragma once

#include <Eigen/Dense>

namespace ccpnet::models {

enum class OptionType { kCall, kPut };

// Price of one option on one unit of the underlying forward. Throws
// std::invalid_argument for a non-positive forward or strike.
double black76_price(OptionType type, double forward, double strike, double expiry_years, double vol, double rate);

struct Black76Greeks {
  double price = 0.0;
  double delta = 0.0;  // dV/dF: call e^{-rT} N(d1), put -e^{-rT} N(-d1)
  double gamma = 0.0;  // d2V/dF2: e^{-rT} n(d1) / (F sigma sqrt(T))
  double vega = 0.0;   // dV/dsigma per unit of vol (1.0 = 100 vol points): e^{-rT} F n(d1) sqrt(T)
  double theta = 0.0;  // dV/dt per year of calendar time (= -dV/dT): r V - e^{-rT} F n(d1) sigma / (2 sqrt(T))
};

// Price and greeks (Hull, Black's model; Haug, "The Complete Guide to Option
// Pricing Formulas", Black-76 greeks). At T <= 0 or sigma <= 0: the
// deterministic limit, delta +-e^{-rT} on the in-the-money side (0 out of the
// money, half at the money), gamma = vega = 0, theta = r V.
Black76Greeks black76_greeks(OptionType type, double forward, double strike, double expiry_years, double vol,
                             double rate);

// An option position: `quantity` options (negative = written), each on one
// unit of the underlying.
struct OptionPosition {
  OptionType type = OptionType::kCall;
  double strike = 0.0;
  double expiry_years = 0.0;
  double implied_vol = 0.0;
  double quantity = 0.0;
};

// Full-revaluation P&L of an option position under scenarios s = 0..n-1:
//   pnl_s = q * [ V(F e^{x_s}, K, T - tau, sigma + dsigma_s, r) - V(F, K, T, sigma, r) ]
// x_s: log-return of the forward, dsigma_s: absolute implied-vol shift (0.05 =
// +5 vol points; a shifted vol <= 0 prices at the deterministic limit), tau =
// horizon_years: time that passes over the shock (0: instantaneous shock, as in
// a risk array; the MPOR in years to include time decay). `log_returns` and
// `vol_shifts` have the same length.
Eigen::ArrayXd black76_pnl(const OptionPosition& position, double forward, double rate,
                           const Eigen::ArrayXd& log_returns, const Eigen::ArrayXd& vol_shifts,
                           double horizon_years = 0.0);

// Same with one vol shift for every scenario.
Eigen::ArrayXd black76_pnl(const OptionPosition& position, double forward, double rate,
                           const Eigen::ArrayXd& log_returns, double vol_shift = 0.0, double horizon_years = 0.0);

// An option contract as a scenario engine revalues it (SPEC 3.2): the implied
// vol moves with the underlying through `vol_beta` (a sticky-moneyness skew
// proxy; negative for crypto and equity, where vol rises as prices fall).
struct OptionContract {
  OptionType type = OptionType::kCall;
  double strike = 0.0;        // USD per unit of the underlying, > 0
  double expiry_years = 0.0;  // time to expiry today
  double implied_vol = 0.0;   // annualised, of ln F
  double rate = 0.0;          // continuously compounded discount rate
  double vol_beta = 0.0;      // d ln(sigma) / d ln(F)
};

// Largest implied vol a move can produce (1000%): a crash of the underlying
// with a negative vol_beta cannot send the vol, and the price, to infinity.
inline constexpr double kMaxImpliedVol = 10.0;

// Value of one option after a scenario moves its underlying by the simple
// return R over `horizon_years`:
//   F' = F (1 + R),  sigma' = min(sigma (1 + R)^vol_beta vol_factor, kMaxImpliedVol)
//   (sigma itself when vol_beta = 0 and vol_factor = 1),
//   T' = max(0, T - horizon_years),  value = Black-76(F', K, T', sigma', r).
// `vol_factor` (>= 0) is a further relative vol move (1.5: vol up 50%). A move
// that takes F' to 0 or below prices at the smallest positive forward. Never
// throws for a contract with a positive strike and a positive forward.
double black76_value_after(const OptionContract& contract, double forward, double simple_return, double vol_factor,
                           double horizon_years);

}  // namespace ccpnet::models
