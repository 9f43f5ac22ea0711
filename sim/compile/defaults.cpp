// Defaults: the groups that default at the start of every scenario
// (defaults.exogenous, and the Cover-1/2 groups of defaults.rule), and the
// latent-factor model's probabilities and own-book scale.
#include <algorithm>
#include <cmath>

#include "sim/compile/steps.hpp"

namespace ccpnet::compile {
namespace {

// The own-book latent factor's scale: the standard deviation of each
// member's P&L over the period the factor covers, delta-normal under the
// Gaussian model (daily covariance D C D, D the daily volatilities times the
// volatility multiplier; options by their delta): the sum over its accounts
// of their P&L from today over their own MPOR (in time steps the close-out
// windows of the first step, which start today too), whose covariance
// between horizons h and h' is D C D min(h, h').
void set_book_sd(Model& model, double volatility_multiplier) {
  const auto n = static_cast<Eigen::Index>(model.assets.size());
  Eigen::VectorXd d(n);
  for (Eigen::Index a = 0; a < n; ++a)
    d(a) = model.assets[static_cast<std::size_t>(a)].daily_vol * volatility_multiplier;
  const Eigen::MatrixXd cov = d.asDiagonal() * model.correlation * d.asDiagonal();
  for (auto& member : model.members) {
    std::vector<std::pair<double, Eigen::VectorXd>> by_days;  // (days, delta values)
    for (int a : member.accounts) {
      const Account& acc = model.accounts[static_cast<std::size_t>(a)];
      Eigen::VectorXd value = account_delta_values(model, acc);
      by_days.emplace_back(model.ccps[static_cast<std::size_t>(acc.ccp)].mpor_days, std::move(value));
    }
    double variance = 0.0;
    for (const auto& [h1, v1] : by_days)
      for (const auto& [h2, v2] : by_days) variance += std::min(h1, h2) * v1.dot(cov * v2);
    member.book_sd = std::sqrt(std::max(0.0, variance));
  }
}

}  // namespace

void set_defaults(const config::Scenario& s, const Index& index, Model& model) {
  std::map<int, bool> exo;
  for (const auto& id : s.defaults.exogenous)
    exo[model.members[static_cast<std::size_t>(index.member.at(id))].group] = true;
  if (s.defaults.rule != config::DefaultRule::kNone) {
    const std::size_t n = s.defaults.rule == config::DefaultRule::kCover1 ? 1 : 2;
    for (const auto& ccp : model.ccps)
      for (std::size_t k = 0; k < std::min(n, ccp.cover_groups.size()); ++k) exo[ccp.cover_groups[k]] = true;
  }
  for (const auto& [g, yes] : exo) model.exogenous_groups.push_back(g);
  if (!s.defaults.latent) return;
  model.latent_defaults = true;
  model.latent_beta = s.defaults.latent->beta;
  for (auto& m : model.members) m.pd = s.defaults.latent->pd;
  for (const auto& [id, pd] : s.defaults.latent->member_pd)
    model.members[static_cast<std::size_t>(index.member.at(id))].pd = pd;
  model.latent_own_book = s.defaults.latent->factor == config::LatentFactor::kOwnBook;
  if (model.latent_own_book) set_book_sd(model, s.market.shocks.volatility_multiplier);
}

}  // namespace ccpnet::compile
