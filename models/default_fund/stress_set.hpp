// The stress set a CCP sizes its default fund over (SPEC 3.5): the "extreme but
// plausible market conditions" of Commission Delegated Regulation 153/2013
// (RTS on CCP requirements) art. 30, which asks for both historical and
// hypothetical scenarios, the latter including breaks in correlation between
// products that are usually hedged against each other.
//
// Every move is a vector of log-returns, one per asset, over the CCP's margin
// period of risk h (days). With m_a = k sigma_a sqrt(h) the asset's stress move
// (sigma_a its daily volatility, k the CCP's stress_sigma):
//   directional  every asset up by m_a; every asset down by m_a (the market
//                moving as one, correlation 1): 2 moves
//   single asset one asset up, or down, by m_a, the others unmoved (an
//                idiosyncratic move): 2A moves
//   spread       for each ordered pair (i, j), i up by s m_i and j down by
//                s m_j, the others unmoved, with s = sqrt((1 - rho*) / 2): the
//                pair's move of k standard deviations in the direction
//                (sigma_i, -sigma_j) when their correlation breaks to rho*
//                (the point of that direction on the k-sigma ellipse
//                u' C*^-1 u = k^2, C* = [[1, rho*], [rho*, 1]], u = t (1, -1),
//                t^2 2 / (1 - rho*) = k^2). rho* = 0 (decorrelation, the
//                default) gives s = 1/sqrt(2); rho* = -1 gives s = 1, each leg
//                its full move: A (A - 1) moves
//   historical   every overlapping window of H = ceil(h) whole days of a daily
//                price history, the assets' joint move over it (as the
//                historical margin model reads the same history): R - H + 1
//                moves for R daily returns
// A long-A/short-B book, hedged under a high correlation, loses on both legs
// in a spread move; the directional moves only see its net exposure.
#pragma once

#include <Eigen/Dense>
#include <vector>

namespace ccpnet::models {

enum class StressFamily { kDirectional, kSingleAsset, kSpread, kHistorical, kNamed };

// What a move is: its family; the asset that goes up (`up`) and the one that
// goes down (`down`), -1 when none (single asset: one of them, spread: both);
// for directional moves the direction (+1 every asset up, -1 every asset
// down); for historical ones the first day of the window (the row of the daily
// returns it starts at).
struct StressMoveInfo {
  StressFamily family = StressFamily::kNamed;
  int up = -1;
  int down = -1;
  int direction = 0;
  Eigen::Index first_day = -1;
};

struct HypotheticalStressSpec {
  double sigmas = 5.0;                // k
  double horizon_days = 1.0;          // h, the MPOR
  bool single_asset = true;           // the 2A single-asset moves
  bool spreads = true;                // the A (A - 1) spread moves
  double stressed_correlation = 0.0;  // rho* of the spread moves, in [-1, 1]
};

struct StressMoves {
  Eigen::MatrixXd log_moves;  // assets x moves
  std::vector<StressMoveInfo> info;
};

// The hypothetical moves above for assets of daily volatility `daily_vol`, in
// this order: all up, all down, then (single_asset) asset 0 up, asset 0 down,
// asset 1 up, ..., then (spreads) for i = 0..A-1 and j != i ascending, i up and
// j down. Throws on a negative sigma, volatility or horizon, or rho* outside
// [-1, 1].
StressMoves hypothetical_stress_moves(const Eigen::VectorXd& daily_vol, const HypotheticalStressSpec& spec);

// The historical moves: `daily_log_returns` is days x assets, oldest first;
// move t is the sum of rows t .. t + H - 1, H = max(1, ceil(horizon_days)),
// for t = 0 .. days - H (none when there are fewer than H days).
StressMoves historical_stress_moves(const Eigen::MatrixXd& daily_log_returns, double horizon_days);

}  // namespace ccpnet::models
