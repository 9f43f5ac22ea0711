// Default-fund sizing by Cover-1 / Cover-2 over a stress-scenario set
// (SPEC 3.5; EMIR art. 42(3) and 43(2)), the Bank of England variant, and
// allocation of the fund to contributors.
//
// Input is the uncovered stress loss of each default group in each stress
// scenario: stress loss minus the group's IM, floored at 0 (negative entries
// count as 0).
#pragma once

#include <Eigen/Dense>
#include <vector>

namespace ccpnet::models {

struct CoverSizing {
  double fund = 0.0;                 // required default fund
  Eigen::Index scenario = -1;        // stress scenario that sets it
  std::vector<Eigen::Index> groups;  // the largest groups in that scenario, largest first
};

// cover = 1: fund = max_s U(1)(s).
// cover = 2 (EMIR): the fund alone covers the largest group or the 2nd and 3rd
// together, whichever is bigger, and fund + other prefunded resources (SITG)
// cover the two largest: fund = max_s max(U(1), U(2) + U(3), U(1) + U(2) - prefunded).
// U(k)(s) is the k-th largest uncovered loss in scenario s (ties: lower group
// index first; scenario ties: the first). `uncovered` is groups x scenarios.
// Throws unless cover is 1 or 2.
CoverSizing size_cover(const Eigen::Ref<const Eigen::MatrixXd>& uncovered, int cover, double other_prefunded = 0.0);

// The uncovered stress loss of each row (a default group, or an account stressed
// like one) in each move: the sum over the row's accounts of their loss in the
// move plus their liquidation cost, beyond the row's dedicated resources
// (its IM, and a link's fund), floored at 0. `pnl` is accounts x moves;
// `account_row` gives each account's row (-1: none); rows x moves.
Eigen::MatrixXd uncovered_losses(const Eigen::MatrixXd& pnl, const Eigen::VectorXd& liquidation_cost,
                                 const std::vector<int>& account_row, const Eigen::VectorXd& resources);
// The same into `uncovered` (rows x moves already), so that a caller taking
// the moves in blocks reuses one buffer. Throws on a wrong size.
void uncovered_losses_into(const Eigen::Ref<const Eigen::MatrixXd>& pnl, const Eigen::VectorXd& liquidation_cost,
                           const std::vector<int>& account_row, const Eigen::VectorXd& resources,
                           Eigen::Ref<Eigen::MatrixXd> uncovered);

// size_cover over a stress set taken in blocks of moves (so that memory stays
// rows x block, not rows x moves): the block's best replaces the best so far
// only when larger (ties: the first move, as over the whole set).
class CoverSearch {
 public:
  CoverSearch(int cover, double other_prefunded) : cover_(cover), prefunded_(other_prefunded) {}
  // `uncovered` (rows x moves) holds the moves first_move, first_move + 1, ...
  void add(const Eigen::Ref<const Eigen::MatrixXd>& uncovered, Eigen::Index first_move);
  // The sizing over the moves added; its `scenario` counts from move 0.
  const CoverSizing& sizing() const { return sizing_; }
  // The uncovered losses of every row in the move that sets the fund (empty
  // when no move was added).
  const Eigen::VectorXd& sizing_column() const { return column_; }

 private:
  int cover_;
  double prefunded_;
  CoverSizing sizing_;
  Eigen::VectorXd column_;
};

// ---- Bank of England variant ---------------------------------------------------
// The Bank of England's CCP supervisory stress tests default "the two members
// whose default generates the greatest depletion of mutualised resources"
// (Bank of England, 2024 CCP Supervisory Stress Test: results report) rather
// than the two with the largest exposures. A defaulting group's own default-fund
// contribution c_g absorbs its own uncovered loss first, and a surplus goes back
// to its estate, not to the other defaulter (SPEC 3.6). So group g takes
//   r_g(s) = max(U_g(s) - c_g, 0)
// from mutualised resources: first the CCP's SITG, then the surviving members'
// contributions.

struct MutualisedDepletion {
  double mutualised_loss = 0.0;      // sum of r_g over the chosen groups, before SITG
  double survivors_loss = 0.0;       // max(mutualised_loss - SITG, 0): taken from survivors' contributions
  Eigen::Index scenario = -1;        // scenario where it is largest (ties: the first)
  std::vector<Eigen::Index> groups;  // the `cover` groups with the largest r_g there, largest first
};

// The `cover` (1 or 2) groups whose default depletes mutualised resources most:
// max over s of the sum of the `cover` largest r_g(s). Ties in r_g: larger U_g
// first, then lower index. `own_contributions` has one entry per group (each
// group's DF contribution at this CCP).
MutualisedDepletion mutualised_depletion(const Eigen::MatrixXd& uncovered, const Eigen::VectorXd& own_contributions,
                                         int cover = 2, double skin_in_the_game = 0.0);

// Cover-2 sizing under the Bank of England reading. Contributions are a share
// of the fund: c_g = F w_g / sum(w) (all weights zero: equal shares). The fund
// is the smallest F that
//   - meets EMIR Cover-2, F >= size_cover(uncovered, 2, prefunded).fund, and
//   - leaves the survivors' contributions non-negative whichever two groups
//     default in whichever scenario, with no defaulter's surplus used for the
//     other: for all s and i != j,
//       F - c_i - c_j >= max(r_i(s) + r_j(s) - prefunded, 0)
//     i.e. F + prefunded >= max(U_i, c_i) + max(U_j, c_j).
// Both sides move with F (c = F w); the left side minus the right is
// non-decreasing in F, so F is found by bisection (to 1e-12 relative).
// `groups` and `scenario` are the Bank of England pair at that fund
// (mutualised_depletion with c), `fund` the size. Throws when no fund can
// satisfy it (contributions concentrated in one group while another group has
// uncovered losses beyond the prefunded resources).
CoverSizing size_cover_boe(const Eigen::MatrixXd& uncovered, const Eigen::VectorXd& contribution_weights,
                           double other_prefunded = 0.0);

// ---- Allocation ------------------------------------------------------------------

// total split pro rata to `weights` (all zero: equal shares). Throws on a
// negative weight.
Eigen::VectorXd allocate_pro_rata(const Eigen::VectorXd& weights, double total);

// Weights for allocation pro rata to uncovered stress loss: for each row
// (contributor: member or group) its largest uncovered loss over the stress
// scenarios, max(0, max_s U_i(s)).
Eigen::VectorXd uncovered_loss_weights(const Eigen::MatrixXd& uncovered);

// total split pro rata to uncovered_loss_weights(uncovered) (none uncovered:
// equal shares).
Eigen::VectorXd allocate_pro_rata_uncovered(const Eigen::MatrixXd& uncovered, double total);

}  // namespace ccpnet::models
