#include "sim/margin_path.hpp"

#include <cmath>

#include "models/margin/addons.hpp"
#include "sim/model.hpp"

namespace ccpnet {

MarginPath::MarginPath(const Model& model) : model_(model), row_of_(model.accounts.size(), -1) {
  if (model.steps.count == 0) return;
  for (const CcpModel& ccp : model.ccps) {
    if (!ccp.settlement.spiral) continue;  // the loader allows it on parametric and scenario_grid models only
    const CcpSettlement& st = ccp.settlement;
    const auto c = static_cast<int>(ccps_.size());
    ccps_.push_back({st.spiral_lambda, st.apc_buffer, st.apc_stressed_weight, st.apc_stressed_multiplier});
    for (int a : ccp.accounts) {
      const Account& acc = model.accounts[static_cast<std::size_t>(a)];
      if (acc.kind != AccountKind::kMember) continue;
      const Eigen::VectorXd values = account_delta_values(model, acc).cwiseAbs();
      const double total = values.sum();
      if (!(total > 0.0)) continue;
      Row row{a, c, {}};
      for (Eigen::Index i = 0; i < values.size(); ++i)
        if (values(i) > 0.0) row.weights.emplace_back(i, values(i) / total);
      row_of_[static_cast<std::size_t>(a)] = static_cast<int>(rows_.size());
      rows_.push_back(std::move(row));
    }
  }
  multipliers_.resize(ccps_.size());
}

void MarginPath::compute(const Eigen::MatrixXd& cumulative, int slot) {
  if (!active()) return;
  const TimeSteps& steps = model_.steps;
  const auto n_steps = static_cast<Eigen::Index>(steps.count);
  const auto n_assets = static_cast<Eigen::Index>(model_.assets.size());
  // Each recomputing CCP's volatility multipliers per asset and step.
  returns_.resize(static_cast<std::size_t>(n_steps));
  for (std::size_t c = 0; c < ccps_.size(); ++c) {
    const Recomputing& rc = ccps_[c];
    Eigen::MatrixXd& m = multipliers_[c];
    m.setOnes(n_assets, n_steps);
    for (Eigen::Index a = 0; a < n_assets; ++a) {
      const double daily = model_.assets[static_cast<std::size_t>(a)].daily_vol;
      if (!(daily > 0.0)) continue;
      double before = 0.0;
      for (Eigen::Index k = 0; k < n_steps; ++k) {
        const double now = cumulative(a, steps.end[static_cast<std::size_t>(k)]);
        returns_[static_cast<std::size_t>(k)] = now - before;
        before = now;
      }
      const std::vector<double> path = models::ewma_vol_path(rc.lambda, returns_, steps.days, daily);
      for (Eigen::Index k = 0; k < n_steps; ++k) {
        const double x = path[static_cast<std::size_t>(k)];
        m(a, k) = rc.stressed_weight > 0.0
                      ? models::apc_weighted_multiplier(x, rc.stressed_weight, rc.stressed_multiplier)
                      : x;
      }
    }
  }
  const auto s = static_cast<std::size_t>(slot);
  if (held_.size() <= s) {
    held_.resize(s + 1);
    member_increase_.resize(s + 1);
  }
  Eigen::MatrixXd& held = held_[s];
  Eigen::MatrixXd& increase = member_increase_[s];
  held.resize(static_cast<Eigen::Index>(rows_.size()), n_steps);
  increase.setZero(static_cast<Eigen::Index>(model_.members.size()), n_steps);
  for (std::size_t i = 0; i < rows_.size(); ++i) {
    const Row& row = rows_[i];
    const Account& acc = model_.accounts[static_cast<std::size_t>(row.account)];
    const Recomputing& rc = ccps_[static_cast<std::size_t>(row.ccp)];
    const Eigen::MatrixXd& m = multipliers_[static_cast<std::size_t>(row.ccp)];
    for (Eigen::Index k = 0; k < n_steps; ++k) {
      const int end = steps.end[static_cast<std::size_t>(k)];
      double ratio = 0.0;
      for (const auto& [a, w] : row.weights) ratio += w * std::exp(cumulative(a, end)) * m(a, k);
      const double im = models::recomputed_margin(acc.initial_margin, ratio, rc.apc_buffer);
      held(static_cast<Eigen::Index>(i), k) = im;
      increase(acc.owner, k) += im - acc.initial_margin;
    }
  }
}

double MarginPath::held(std::size_t a, int k, int slot) const {
  const int row = row_of_[a];
  if (row < 0 || k < 0) return model_.accounts[a].initial_margin;
  return held_[static_cast<std::size_t>(slot)](row, k);
}

}  // namespace ccpnet
