// Initial margin of every account under its CCP's margin model
// (models/margin/margin_model.hpp), or as observed (members[].initial_margin).
#include "sim/compile/steps.hpp"
#include "sim/rng.hpp"

namespace ccpnet::compile {
namespace {

// Daily standardised returns (days x assets, unit daily variance, the
// market's correlation and tails) for historical margin models.
Eigen::MatrixXd history_returns(const Model& model, std::int64_t days) {
  const rng::Philox philox(model.seed, rng::Stream::kHistory);
  const auto n = static_cast<Eigen::Index>(model.assets.size());
  Eigen::MatrixXd out(days, n);
  Eigen::VectorXd z(n);
  for (std::int64_t t = 0; t < days; ++t) {
    rng::Draws draws(philox, static_cast<std::uint64_t>(t), 0);
    for (Eigen::Index a = 0; a < n; ++a) z(a) = draws.normal();
    double scale = 1.0;
    if (model.shocks.student_t) scale = std::sqrt((model.shocks.dof - 2.0) / draws.chi_square(model.shocks.dof));
    out.row(t) = (model.correlation_factor * z).transpose() * scale;
  }
  return out;
}

// The option positions of a CCP's accounts, a row each, as the margin models take them.
std::vector<std::vector<models::HeldOption>> held_options(const Model& model, const CcpModel& ccp) {
  std::vector<std::vector<models::HeldOption>> rows;
  rows.reserve(ccp.accounts.size());
  for (int a : ccp.accounts) rows.push_back(account_options(model, model.accounts[static_cast<std::size_t>(a)]));
  return rows;
}

// A history's daily returns standardised to unit daily variance: an observed
// history's divided by each asset's daily volatility (as historical margin
// models scale it; an asset without volatility's kept as observed, as they
// keep it), a drawn one's as drawn.
Eigen::MatrixXd standardised(const Eigen::MatrixXd& history, const Eigen::VectorXd& daily_vol, bool observed) {
  Eigen::MatrixXd out = history;
  if (!observed) return out;
  for (Eigen::Index a = 0; a < out.cols(); ++a)
    if (daily_vol(a) > 0.0) out.col(a) /= daily_vol(a);
  return out;
}

// A member's observed figure at CCP `ccp_id` (one of its by-CCP maps) in place of `figure`, if it has one.
void observed(const config::OrderedMap<double>& by_ccp, const std::string& ccp_id, double& figure) {
  for (const auto& [id, amount] : by_ccp)
    if (id == ccp_id) figure = amount;
}

}  // namespace

// CCP by CCP: the model's margin of every account (0 for the rest of the
// market and for a host's account at a participant CCP), then the observed
// initial and maintenance margins of members in their place. A historical
// model reads market.history (its last lookback_days returns, all when it is
// shorter) or, without one, a path drawn from the shock model.
void set_initial_margins(const config::Scenario& s, const std::vector<config::MemberConfig>& members,
                         const FiniteCheck& finite, Model& model) {
  const Eigen::VectorXd price = asset_prices(model), vol = daily_vols(model);
  Eigen::VectorXd adv(price.size());
  for (Eigen::Index a = 0; a < adv.size(); ++a) adv(a) = model.assets[static_cast<std::size_t>(a)].adv;
  Eigen::MatrixXd drawn(0, price.size());
  for (std::size_t c = 0; c < model.ccps.size(); ++c) {
    CcpModel& ccp = model.ccps[c];
    const std::int64_t lookback = history_lookback(s.ccps[c].margin);
    const Eigen::Index recent = std::min<Eigen::Index>(lookback, model.history_log_returns.rows());
    if (!model.history_mode && lookback > drawn.rows()) drawn = history_returns(model, lookback);
    const Eigen::MatrixXd history = model.history_mode
                                        ? Eigen::MatrixXd(model.history_log_returns.bottomRows(recent))
                                        : Eigen::MatrixXd(drawn.topRows(std::max<Eigen::Index>(lookback, 0)));
    const models::MarginMarket market{
        price, vol, adv, model.correlation_factor, history, model.history_mode ? &vol : nullptr};
    ccp.margin_rule = margin_rule(s.ccps[c].margin);
    if (ccp.settlement.spiral && std::holds_alternative<models::HistoricalMarginModel>(ccp.margin_rule.model))
      ccp.spiral_history = standardised(history, vol, model.history_mode.has_value());
    const Eigen::VectorXd im =
        models::margin_rows(ccp.margin_rule, ccp_values(model, ccp, price), held_options(model, ccp), market);
    for (std::size_t i = 0; i < ccp.accounts.size(); ++i) {
      Account& acc = model.accounts[static_cast<std::size_t>(ccp.accounts[i])];
      const double own = im(static_cast<Eigen::Index>(i));
      acc.initial_margin = acc.kind == AccountKind::kRestOfMarket || hosts_participant(model, acc) ? 0.0 : own;
      if (acc.kind == AccountKind::kMember) {
        observed(members[static_cast<std::size_t>(acc.owner)].initial_margin, ccp.id, acc.initial_margin);
        observed(members[static_cast<std::size_t>(acc.owner)].maintenance_margin, ccp.id, acc.maintenance_margin);
      }
      finite.require(model, ccp.accounts[i], "initial margin (USD)", own);
    }
  }
}

}  // namespace ccpnet::compile
