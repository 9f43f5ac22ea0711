// Scenario-grid (SPAN-like) initial margin, SPEC 3.4: the worst loss of a book
// over a grid of price moves and implied-vol moves, each position revalued in
// full (options by Black-76).
//
// After CME SPAN's 16 risk scenarios (CME Group, "SPAN Risk Arrays"; e.g. the
// table of scenarios in NSE/LCH SPAN documentation): the underlying moves by
// 0, +-1/3, +-2/3, +-3/3 of the price scan range, each with implied vol up and
// down by the vol scan range (14 scenarios), plus two "extreme" moves of +-2
// price scan ranges with vol unchanged, of which only 35% of the loss counts.
// Here price moves are log-returns (the forward goes to F e^m), and the price
// scan range is k standard deviations of the h-day log-return, k = 3 with 7
// steps giving SPAN's grid.
#pragma once

#include <Eigen/Dense>
#include <vector>

#include "models/instruments/black76.hpp"

namespace ccpnet::models {

struct ScanGrid {
  std::vector<double> price_moves;     // log-returns of the underlying
  std::vector<double> vol_moves{0.0};  // implied-vol moves: absolute shifts (0.05 = +5 vol points), or relative
  bool relative_vol_moves = false;     // true: each option's vol goes to sigma (1 + v) (0.5 = vol up 50%)
  std::vector<double> extreme_moves;   // extra price moves, vol unchanged, loss weighted by extreme_weight
  double extreme_weight = 0.35;
};

// A grid with `price_steps` (>= 2) equally spaced price moves from
// -scan_sigmas * horizon_vol to +scan_sigmas * horizon_vol (horizon_vol: the
// standard deviation of the h-day log-return, sigma_annual * sqrt(h / days per
// year)); vol moves {-vol_scan, +vol_scan} when vol_scan > 0, else {0}; extreme
// moves +-extreme_multiple * scan_sigmas * horizon_vol when extreme_multiple > 0.
// make_scan_grid(s, 3, 7, v, 2, 0.35) is SPAN's 16-scenario array.
ScanGrid make_scan_grid(double horizon_vol, double scan_sigmas = 3.0, int price_steps = 7, double vol_scan = 0.0,
                        double extreme_multiple = 0.0, double extreme_weight = 0.35);

// Positions on one underlying (SPAN's "combined commodity").
struct UnderlyingBook {
  double forward = 0.0;                 // current price of the underlying (USD per unit), > 0
  double linear_quantity = 0.0;         // spot / futures / perpetuals, units: P&L = q F (e^m - 1)
  std::vector<OptionPosition> options;  // European options on the underlying (Black-76)
};

// Risk array: P&L of the book at every grid point, price-major
// (index i * vol_moves.size() + j for price move i and vol move j), then one
// entry per extreme move (unweighted). `rate` discounts option premia;
// `horizon_years` is the time that passes over the move (0: instantaneous).
Eigen::VectorXd scan_risk_array(const UnderlyingBook& book, const ScanGrid& grid, double rate,
                                double horizon_years = 0.0);

// Scanning loss of one book: max(0, max over grid points of -pnl, max over
// extreme moves of -extreme_weight * pnl).
double scan_loss(const UnderlyingBook& book, const ScanGrid& grid, double rate, double horizon_years = 0.0);

// Scenario-grid IM of a portfolio: the sum over underlyings of each book's
// scanning loss (SPAN scan risk per combined commodity, no inter-commodity
// spread credit). `grids[u]` belongs to `books[u]`.
double scenario_grid_im(const std::vector<UnderlyingBook>& books, const std::vector<ScanGrid>& grids, double rate,
                        double horizon_years = 0.0);

// Linear positions of many accounts: `values` is accounts x assets (position
// values v = q F, USD), `horizon_vol` the h-day log-return standard deviation
// per asset. A linear P&L is monotone in the move, so the worst grid point is an
// end of the scan range, m = +-scan_sigmas * horizon_vol_a:
//   IM_i = sum_a max(v_ia (1 - e^{-m_a}), -v_ia (e^{m_a} - 1), 0).
Eigen::VectorXd scenario_grid_linear_rows(const Eigen::MatrixXd& values, const Eigen::VectorXd& horizon_vol,
                                          double scan_sigmas = 3.0);

}  // namespace ccpnet::models
