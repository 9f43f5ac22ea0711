// Settlement finality and the arithmetic of settlement fails (SPEC 3.8).
//
// The time a transfer on a chain takes to become final is a random variable
// with one of four families, each given by its mean (hours):
//   fixed        T = mean                                  (e.g. Ethereum: two epochs, 768 s)
//   exponential  P(T > t) = exp(-t / mean)                 (one block of a Poisson chain)
//   gamma        shape k, scale mean / k: the time of k    (Bitcoin: 6 confirmations of
//                blocks of a Poisson chain (Erlang for       10-minute blocks, mean 60 min)
//                integer k)
//   lognormal    ln T ~ N(ln mean - sigma^2 / 2, sigma^2)  (a congested mempool)
// Draws are by inversion of the CDF, one uniform per draw, so that variants
// of a scenario with other parameters see the same uniforms (common random
// numbers) and a larger mean never gives an earlier time.
//
// An HTLC atomic swap (Herlihy 2018, "Atomic cross-chain swaps", PODC) aborts
// when the confirmation of its legs outlasts the time lock: with independent
// legs the abort probability is 1 - F_1(lock) F_2(lock).
#pragma once

namespace ccpnet::models {

enum class FinalityFamily { kFixed, kExponential, kGamma, kLognormal };

struct Finality {
  FinalityFamily family = FinalityFamily::kFixed;
  double mean_hours = 0.0;
  double shape = 1.0;  // gamma: number of blocks
  double sigma = 0.5;  // lognormal: standard deviation of ln T
};

// P(T <= hours). Throws std::invalid_argument for a negative mean or a
// non-positive shape or sigma.
double finality_cdf(const Finality& f, double hours);

// The u-quantile of T, u in (0, 1): a draw of T from a uniform.
double finality_quantile(const Finality& f, double u);

// Probability that an HTLC swap whose legs settle with finality a and b
// (independent) aborts: some leg is not final within the lock.
double htlc_abort_probability(const Finality& a, const Finality& b, double lock_hours);

// What the receiver of a failed delivery loses by replacing it at the moved
// price: value is the signed position value (long > 0 receives the asset),
// log_move the price's log-return over the delay. A buyer re-buys at a higher
// price, a seller re-sells at a lower one: max(0, value (e^move - 1)).
double replacement_cost(double value, double log_move);

}  // namespace ccpnet::models
