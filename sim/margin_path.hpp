// Initial margin recomputed after a move (SPEC 3.4, 3.10): the margin spiral.
//
// A CCP whose margin model scales with volatility (parametric, scenario_grid)
// and carries an EWMA estimator (ccps[].margin.spiral) recomputes every member
// account's IM after the market moves, as CCPs run their margin models on
// current positions at current prices (Commission Delegated Regulation (EU)
// No 153/2013, art. 24-28: IM at the model's confidence over the liquidation
// period, on the model's volatility; art. 28 for the APC measures; CPMI-IOSCO
// PFMI Principle 6, key considerations 3-4: risk-based IM, positions marked
// and margin called at least daily). The parametric IM of one asset,
// q sigma sqrt(h) |v|, moves with the volatility and with the position's
// value at the new price, so after a move the account needs
//   ratio = sum_a w_a (P_a / P_a,0) (sigma_a / sigma_a,0),   w_a = |v_a| / sum |v|,
// times the model margin it holds, v_a its delta values today (options by
// their delta): exact for one asset, the day-0 diversification kept for
// several. Each asset's volatility is its EWMA estimate updated with the
// move (models::ewma_vol_path: one update per step, a move of h days entering
// as its daily equivalent), the current part only under a stressed-weight APC
// (models::apc_weighted_multiplier); an APC buffer absorbs a rise first
// (models::recomputed_margin).
//
// SpiralMargin is that computation, the one place both engines take it from:
// the one-period spiral (sim/settlement.cpp: one step over the CCP's MPOR, to
// the prices at its end) and the path of time steps (MarginPath below: one
// step per day of the path, to the prices at each step's end), so that one
// step over the MPOR gives the one-period IM.
//
// In time steps, members post an increase at the step's end from their
// liquid resources, as they pay variation margin, and get a decrease back.
// Historical and tiered models, and CCPs without spiral, keep today's IM over
// the whole horizon (the loader refuses spiral on a historical or tiered
// model in time steps). Link accounts keep today's inter-CCP margin.
#pragma once

#include <Eigen/Dense>
#include <cstddef>
#include <utility>
#include <vector>

namespace ccpnet {

struct Model;

class SpiralMargin {
 public:
  explicit SpiralMargin(const Model& model);
  // Some CCP recomputes IM.
  bool active() const { return !rows_.empty(); }
  // Account a's IM is recomputed (a member account with positions at a CCP with spiral).
  bool recomputes(std::size_t a) const { return row_of_[a] >= 0; }
  // CCP c's volatility ratios sigma_a,k / sigma_a,0 (assets x steps) after
  // steps of `step_days` days with the log-returns `step_returns` (assets x
  // steps); 1 for an asset without volatility or at a CCP without spiral.
  void vol_ratios(std::size_t c, const Eigen::MatrixXd& step_returns, double step_days, Eigen::MatrixXd& out) const;
  // The IM account a needs after a move to the price ratios P_a / P_a,0 with
  // the volatility ratios of its CCP (one entry per asset); today's IM for an
  // account that is not recomputed.
  double required(std::size_t a, const Eigen::Ref<const Eigen::VectorXd>& price_ratio,
                  const Eigen::Ref<const Eigen::VectorXd>& vol_ratio) const;

 private:
  struct Row {
    int account;
    double apc_buffer;
    std::vector<std::pair<Eigen::Index, double>> weights;  // (asset, |v_a| / sum |v|)
  };
  const Model& model_;
  std::vector<Row> rows_;
  std::vector<int> row_of_;  // per account: its index in rows_, -1
};

// IM recomputed along a path of time steps, every step's end.
class MarginPath {
 public:
  explicit MarginPath(const Model& model);
  // Some CCP recomputes IM in time steps.
  bool active() const { return active_; }
  // The IM of every recomputing account after each step of the path
  // `cumulative` (log-returns from today at Model::steps.points, assets x
  // points), kept in `slot` (one per path of a tile).
  void compute(const Eigen::MatrixXd& cumulative, int slot);
  // The IM account a holds after step k of the slot's path (k = -1: today's).
  double held(std::size_t a, int k, int slot) const;
  // What member m has posted beyond today's IM after step k (negative when
  // its IM fell), at recomputing CCPs.
  double increase(std::size_t m, int k, int slot) const {
    return k < 0 ? 0.0 : member_increase_[static_cast<std::size_t>(slot)](static_cast<Eigen::Index>(m), k);
  }

 private:
  const Model& model_;
  SpiralMargin spiral_;
  bool active_ = false;
  std::vector<int> spiral_ccps_;                  // indices of the CCPs with spiral
  std::vector<int> accounts_;                     // the recomputed accounts, in their order in held_
  std::vector<int> row_of_;                       // per account: its row in held_, -1
  std::vector<Eigen::MatrixXd> held_;             // per slot: rows x steps
  std::vector<Eigen::MatrixXd> member_increase_;  // per slot: members x steps
  Eigen::MatrixXd step_returns_, price_ratio_;    // scratch: assets x steps
  std::vector<Eigen::MatrixXd> vol_ratio_;        // scratch, per CCP with spiral: assets x steps
};

}  // namespace ccpnet
