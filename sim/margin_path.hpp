// Initial margin recomputed after a move (SPEC 3.4, 3.10): the margin spiral.
//
// A CCP with an EWMA estimator (ccps[].margin.spiral) recomputes every member
// account's IM after the market moves, as CCPs run their margin models on
// current positions at current prices and current volatility (Commission
// Delegated Regulation (EU) No 153/2013, art. 24-28: IM at the model's
// confidence over the liquidation period, on the model's volatility; art. 28
// for the APC measures; CPMI-IOSCO PFMI Principle 6, key considerations 3-4:
// risk-based IM, positions marked and margin called at least daily). The
// recomputation is the CCP's own margin model (models::margin_rows with the
// CCP's rule, its add-ons included) on the account's positions at the
// post-move prices and on the post-move volatilities:
//  - parametric: q sqrt(h) sqrt(u' S1 u), u the delta values after the move,
//    S1 the covariance of the updated volatilities and the model's
//    correlations, so IM1 / IM0 = sqrt(u' S1 u) / sqrt(v' S0 v) exactly, the
//    diversification of the new book at the new volatilities;
//  - scenario_grid: the scan of the positions at the new prices over the price
//    range of the new volatilities (options revalued in full);
//  - historical (one period only): a filtered-historical model, its
//    standardised returns scaled by the updated volatility (Barone-Adesi,
//    Giannopoulos and Vosper 1999), the quantile taken again; an asset without
//    volatility keeps the returns of market.history as observed, as in
//    today's IM;
//  - tiered: the tiers of the positions' new notional (no volatility).
// The account needs its IM held times IM1 / IM0 (an IM given as data moves by
// the model's ratio). Each asset's volatility is its EWMA estimate updated with
// the move (models::ewma_vol_path: one update per step, a move of h days
// entering as its daily equivalent), the current part only under a
// stressed-weight APC (models::apc_weighted_multiplier); an APC buffer absorbs
// a rise first (models::recomputed_margin). Options are seen by each model as
// today (delta values at today's delta for parametric and historical, full
// revaluation at the new forward for scenario_grid).
//
// SpiralMargin is that computation, the one place both engines take it from
// (one per thread: it recomputes in buffers of its own, allocating nothing
// once they have their sizes, except under a scenario-grid model):
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

#include "models/margin/margin_model.hpp"

namespace ccpnet {

struct Model;
struct CcpModel;

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
  // the volatility ratios of its CCP (one entry per asset): its IM held times
  // the ratio of its CCP's model margin after the move to today's; today's IM
  // for an account that is not recomputed.
  double required(std::size_t a, const Eigen::Ref<const Eigen::VectorXd>& price_ratio,
                  const Eigen::Ref<const Eigen::VectorXd>& vol_ratio) const;

 private:
  // What a CCP with spiral runs its margin model on: its rule without APC (a
  // buffer is applied by models::recomputed_margin, a stressed weight is in
  // `vol`), the model's daily volatilities today, a historical model's returns.
  struct CcpMargin {
    models::MarginRule rule;
    Eigen::VectorXd vol;
    const Eigen::MatrixXd* history = nullptr;
  };
  // The buffers of model_margin: the market and positions after the move, the margin model's own.
  struct Scratch {
    Eigen::VectorXd price, vol, im;
    Eigen::MatrixXd values;
    models::MarginWorkspace margin;
  };
  struct Row {
    int account;
    int ccp;  // index into ccps_
    double apc_buffer;
    Eigen::MatrixXd values;                                // 1 x assets: linear position values today
    std::vector<std::vector<models::HeldOption>> options;  // one row: its option positions
    double model_im;                                       // the model margin today
  };
  CcpMargin ccp_margin(const CcpModel& ccp) const;
  // The model margin of a row after a move (ratios 1: today's).
  double model_margin(const Row& row, const Eigen::Ref<const Eigen::VectorXd>& price_ratio,
                      const Eigen::Ref<const Eigen::VectorXd>& vol_ratio) const;

  const Model& model_;
  Eigen::VectorXd price_, adv_;
  // With market.history, the volatility each column of a historical model's
  // spiral history (CcpModel::spiral_history) is at: 1 where standardised, 0
  // where kept as observed (an asset without volatility); empty without.
  Eigen::VectorXd history_vol_;
  std::vector<CcpMargin> ccps_;
  std::vector<Row> rows_;
  std::vector<int> row_of_;  // per account: its index in rows_, -1
  mutable Scratch scratch_;
  mutable std::vector<double> step_returns_, vol_path_;  // vol_ratios' buffers: one asset's
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
