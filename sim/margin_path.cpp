#include "sim/margin_path.hpp"

#include <cmath>

#include "models/margin/addons.hpp"
#include "sim/model.hpp"

namespace ccpnet {

SpiralMargin::SpiralMargin(const Model& model)
    : model_(model),
      price_(static_cast<Eigen::Index>(model.assets.size())),
      adv_(static_cast<Eigen::Index>(model.assets.size())),
      row_of_(model.accounts.size(), -1) {
  for (std::size_t i = 0; i < model.assets.size(); ++i) {
    price_(static_cast<Eigen::Index>(i)) = model.assets[i].price;
    adv_(static_cast<Eigen::Index>(i)) = model.assets[i].adv;
  }
  if (model.history_mode) {
    history_vol_.resize(price_.size());
    for (std::size_t i = 0; i < model.assets.size(); ++i)
      history_vol_(static_cast<Eigen::Index>(i)) = model.assets[i].daily_vol > 0.0 ? 1.0 : 0.0;
  }
  for (const CcpModel& ccp : model.ccps) {
    if (!ccp.settlement.spiral) continue;
    const auto c = static_cast<int>(ccps_.size());
    ccps_.push_back(ccp_margin(ccp));
    for (int a : ccp.accounts) {
      const Account& acc = model.accounts[static_cast<std::size_t>(a)];
      if (acc.kind != AccountKind::kMember) continue;
      Row row{a,
              c,
              ccp.settlement.apc_buffer,
              acc.quantity.cwiseProduct(price_).transpose(),
              {account_options(model, acc)},
              0.0};
      const Eigen::VectorXd ones = Eigen::VectorXd::Ones(price_.size());
      row.model_im = model_margin(row, ones, ones);
      if (!(row.model_im > 0.0)) continue;  // nothing to scale
      row_of_[static_cast<std::size_t>(a)] = static_cast<int>(rows_.size());
      rows_.push_back(std::move(row));
    }
  }
}

SpiralMargin::CcpMargin SpiralMargin::ccp_margin(const CcpModel& ccp) const {
  CcpMargin out{ccp.margin_rule, Eigen::VectorXd(price_.size()), &ccp.spiral_history};
  for (std::size_t i = 0; i < model_.assets.size(); ++i) {
    const double vol = model_.assets[i].daily_vol;
    out.vol(static_cast<Eigen::Index>(i)) =
        out.rule.apc == models::ApcMode::kStressedWeight
            ? models::apc_weighted_vol(vol, vol * out.rule.apc_stressed_multiplier, out.rule.apc_stressed_weight)
            : vol;
  }
  out.rule.apc = models::ApcMode::kNone;
  out.rule.apc_buffer = 0.0;
  return out;
}

double SpiralMargin::model_margin(const Row& row, const Eigen::Ref<const Eigen::VectorXd>& price_ratio,
                                  const Eigen::Ref<const Eigen::VectorXd>& vol_ratio) const {
  const CcpMargin& ccp = ccps_[static_cast<std::size_t>(row.ccp)];
  Scratch& s = scratch_;
  s.price = price_.cwiseProduct(price_ratio);
  s.vol = ccp.vol.cwiseProduct(vol_ratio);
  s.values.noalias() = row.values * price_ratio.asDiagonal();
  const models::MarginMarket market{
      s.price, s.vol, adv_, model_.correlation_factor, *ccp.history, history_vol_.size() > 0 ? &history_vol_ : nullptr};
  models::margin_rows_into(ccp.rule, s.values, row.options, market, s.margin, s.im);
  return s.im(0);
}

void SpiralMargin::vol_ratios(std::size_t c, const Eigen::MatrixXd& step_returns, double step_days,
                              Eigen::MatrixXd& out) const {
  const CcpSettlement& st = model_.ccps[c].settlement;
  const Eigen::Index n_assets = step_returns.rows(), n_steps = step_returns.cols();
  out.setOnes(n_assets, n_steps);
  if (!st.spiral) return;
  step_returns_.resize(static_cast<std::size_t>(n_steps));
  for (Eigen::Index a = 0; a < n_assets; ++a) {
    const double daily = model_.assets[static_cast<std::size_t>(a)].daily_vol;
    if (!(daily > 0.0)) continue;
    for (Eigen::Index k = 0; k < n_steps; ++k) step_returns_[static_cast<std::size_t>(k)] = step_returns(a, k);
    models::ewma_vol_path_into(st.spiral_lambda, step_returns_, step_days, daily, vol_path_);
    for (Eigen::Index k = 0; k < n_steps; ++k) {
      const double x = vol_path_[static_cast<std::size_t>(k)];
      out(a, k) = st.apc_stressed_weight > 0.0  // only the current part of an APC-weighted volatility moves
                      ? models::apc_weighted_multiplier(x, st.apc_stressed_weight, st.apc_stressed_multiplier)
                      : x;
    }
  }
}

double SpiralMargin::required(std::size_t a, const Eigen::Ref<const Eigen::VectorXd>& price_ratio,
                              const Eigen::Ref<const Eigen::VectorXd>& vol_ratio) const {
  const double im = model_.accounts[a].initial_margin;
  const int r = row_of_[a];
  if (r < 0) return im;
  const Row& row = rows_[static_cast<std::size_t>(r)];
  return models::recomputed_margin(im, model_margin(row, price_ratio, vol_ratio) / row.model_im, row.apc_buffer);
}

MarginPath::MarginPath(const Model& model) : model_(model), spiral_(model), row_of_(model.accounts.size(), -1) {
  active_ = model.steps.count > 0 && spiral_.active();
  if (!active_) return;
  for (std::size_t c = 0; c < model.ccps.size(); ++c) {
    if (!model.ccps[c].settlement.spiral) continue;
    spiral_ccps_.push_back(static_cast<int>(c));
    for (int a : model.ccps[c].accounts) {
      if (!spiral_.recomputes(static_cast<std::size_t>(a))) continue;
      row_of_[static_cast<std::size_t>(a)] = static_cast<int>(accounts_.size());
      accounts_.push_back(a);
    }
  }
  vol_ratio_.resize(spiral_ccps_.size());
}

void MarginPath::compute(const Eigen::MatrixXd& cumulative, int slot) {
  if (!active_) return;
  const TimeSteps& steps = model_.steps;
  const auto n_steps = static_cast<Eigen::Index>(steps.count);
  const auto n_assets = static_cast<Eigen::Index>(model_.assets.size());
  // Each step's log-return and the price ratio at its end, per asset.
  step_returns_.resize(n_assets, n_steps);
  price_ratio_.resize(n_assets, n_steps);
  for (Eigen::Index a = 0; a < n_assets; ++a) {
    double before = 0.0;
    for (Eigen::Index k = 0; k < n_steps; ++k) {
      const double now = cumulative(a, steps.end[static_cast<std::size_t>(k)]);
      step_returns_(a, k) = now - before;
      price_ratio_(a, k) = std::exp(now);
      before = now;
    }
  }
  for (std::size_t i = 0; i < spiral_ccps_.size(); ++i)
    spiral_.vol_ratios(static_cast<std::size_t>(spiral_ccps_[i]), step_returns_, steps.days, vol_ratio_[i]);
  const auto s = static_cast<std::size_t>(slot);
  if (held_.size() <= s) {
    held_.resize(s + 1);
    member_increase_.resize(s + 1);
  }
  Eigen::MatrixXd& held = held_[s];
  Eigen::MatrixXd& increase = member_increase_[s];
  held.resize(static_cast<Eigen::Index>(accounts_.size()), n_steps);
  increase.setZero(static_cast<Eigen::Index>(model_.members.size()), n_steps);
  std::size_t row = 0;
  for (std::size_t i = 0; i < spiral_ccps_.size(); ++i) {
    for (int ai : model_.ccps[static_cast<std::size_t>(spiral_ccps_[i])].accounts) {
      const auto a = static_cast<std::size_t>(ai);
      if (!spiral_.recomputes(a)) continue;
      const Account& acc = model_.accounts[a];
      for (Eigen::Index k = 0; k < n_steps; ++k) {
        const double im = spiral_.required(a, price_ratio_.col(k), vol_ratio_[i].col(k));
        held(static_cast<Eigen::Index>(row), k) = im;
        increase(acc.owner, k) += im - acc.initial_margin;
      }
      ++row;
    }
  }
}

double MarginPath::held(std::size_t a, int k, int slot) const {
  const int row = row_of_[a];
  if (row < 0 || k < 0) return model_.accounts[a].initial_margin;
  return held_[static_cast<std::size_t>(slot)](row, k);
}

}  // namespace ccpnet
