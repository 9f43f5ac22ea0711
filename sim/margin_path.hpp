// Initial margin recomputed along a path of time steps (SPEC 3.4, 3.10).
//
// A CCP whose margin model scales with volatility (parametric, scenario_grid)
// and carries an EWMA estimator (ccps[].margin.spiral) recomputes every member
// account's IM at the end of each step from the scenario's own path, as CCPs
// run their margin models daily (EMIR RTS 153/2013 art. 24-28: IM on current
// positions and prices with the model's volatility; art. 28 for the APC
// measures):
//  - each asset's EWMA volatility updated with the step's log-return
//    (models::ewma_vol_path), the current part only under a stressed-weight
//    APC (models::apc_weighted_multiplier);
//  - the account's model margin moves by its value-weighted ratio
//      ratio_k = sum_a |v_a| (P_a,k / P_a,0) (sigma_a,k / sigma_a,0) / sum_a |v_a|,
//    v_a its delta values today: exact for one asset (IM = q sigma sqrt(h) |v|),
//    the day-0 diversification kept for several (as the one-period spiral);
//  - an APC buffer absorbs a rise first (models::recomputed_margin).
// Members post an increase at the step's end from their liquid resources, as
// they pay variation margin, and get a decrease back. Historical and tiered
// models, and CCPs without spiral, keep today's IM over the whole horizon
// (the loader refuses spiral on a historical or tiered model in time steps).
// Link accounts keep today's inter-CCP margin.
#pragma once

#include <Eigen/Dense>
#include <cstddef>
#include <vector>

namespace ccpnet {

struct Model;

class MarginPath {
 public:
  explicit MarginPath(const Model& model);
  // Some CCP recomputes IM.
  bool active() const { return !rows_.empty(); }
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
  struct Row {
    int account;
    int ccp;                                               // index into ccps_
    std::vector<std::pair<Eigen::Index, double>> weights;  // (asset, |v_a| / sum |v|)
  };
  struct Recomputing {
    double lambda, apc_buffer, stressed_weight, stressed_multiplier;
  };
  const Model& model_;
  std::vector<Recomputing> ccps_;
  std::vector<Row> rows_;
  std::vector<int> row_of_;                       // per account: its index in rows_, -1
  std::vector<Eigen::MatrixXd> held_;             // per slot: rows x steps
  std::vector<Eigen::MatrixXd> member_increase_;  // per slot: members x steps
  std::vector<Eigen::MatrixXd> multipliers_;      // per recomputing CCP: assets x steps (scratch)
  std::vector<double> returns_;                   // scratch: one asset's step log-returns
};

}  // namespace ccpnet
