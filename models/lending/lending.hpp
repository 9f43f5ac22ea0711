// Liquidation of an over-collateralised loan at a lending protocol (SPEC 3.6),
// after Aave v3 (Aave v3 technical paper, 2022; Aave docs, "Liquidations").
//
// An account's health factor is
//   HF = sum_i collateral_i x LT_i / debt
// (collateral and debt valued at the oracle price); it may be liquidated when
// HF < 1. A liquidator repays debt and receives collateral worth the repaid
// debt times (1 + liquidation bonus). Aave's close factor lets a liquidator
// repay 50% of the debt while HF > 0.95 and 100% below; in a crash the
// successive liquidations close the whole account, which is what is modelled:
// one full liquidation. Collateral C_e cannot buy back more than C_e / (1 + b)
// of debt D_e, so the protocol is left with bad debt max(0, D_e - C_e / (1 + b)).
//
// Oracle delay: prices move along a log-linear path over the period (the
// scenario's log-moves spread evenly, t in [0, 1]), so with HF0 the health
// factor today and x_c, x_d the value-weighted log-moves of collateral and
// debt, HF(t) = HF0 exp((x_c - x_d) t) crosses 1 at
//   t* = -ln HF0 / (x_c - x_d)
// and the liquidation executes `oracle_delay_hours` later, at
//   t_e = min(1, t* + delay / (24 h))
// with h the period in days. Without delay the liquidation executes at HF = 1,
// where C LT = D: bad debt is zero whenever LT (1 + b) <= 1.
#pragma once

namespace ccpnet::models {

struct LendingParams {
  double liquidation_threshold = 0.825;  // LT: share of collateral value that counts toward the debt
  double liquidation_bonus = 0.05;       // b: liquidator's discount on the collateral it receives
  double oracle_delay_hours = 0.0;       // from HF crossing 1 to the liquidation's execution
};

// sum(collateral x LT) / debt; +infinity without debt.
double health_factor(double collateral, double debt, double liquidation_threshold);

// Bad debt of a full liquidation of debt `debt` against collateral `collateral`
// with liquidation bonus b: max(0, debt - collateral / (1 + b)).
double liquidation_bad_debt(double collateral, double debt, double bonus);

struct LiquidationOutcome {
  bool liquidated = false;
  double trigger_time = 1.0;    // t*, in units of the period (0: already below 1 today)
  double execution_time = 1.0;  // t_e
  double collateral = 0.0;      // C_e: collateral value at execution (at the end of the period if not liquidated)
  double debt = 0.0;            // D_e
  double bad_debt = 0.0;
};

// The account's path over one period of `period_days`: collateral C0 and debt
// D0 today, log-moves x_c and x_d over the period.
LiquidationOutcome liquidate_on_path(double collateral0, double debt0, double x_collateral, double x_debt,
                                     const LendingParams& params, double period_days);

}  // namespace ccpnet::models
