#include "sim/model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "models/margin/addons.hpp"
#include "sim/compile/steps.hpp"
#include "sim/config/load.hpp"
#include "sim/errors.hpp"

namespace ccpnet {

int clearing_member(const Model& model, const Account& account) {
  switch (account.kind) {
    case AccountKind::kMember: return account.owner;
    case AccountKind::kClient: return model.clients[static_cast<std::size_t>(account.owner)].member;
    case AccountKind::kLink:
    case AccountKind::kRestOfMarket: return -1;
  }
  return -1;
}

double close_out_cost(const Model& model, const Account& account, std::span<const double> ratio, double held) {
  if (ratio.empty() && held == 1.0) return account.liquidation_cost;
  double cost = 0.0;
  for (const auto [asset, value] : account.values) {
    const AssetModel& a = model.assets[static_cast<std::size_t>(asset)];
    const double at = ratio.empty() ? 1.0 : ratio[static_cast<std::size_t>(asset)];
    cost += models::position_liquidation_cost(held * value * at, a.adv, a.liquidation_k);
  }
  return cost;
}

double close_out_value(const Account& account, std::span<const double> ratio, double held) {
  if (ratio.empty()) return held * account.notional;
  double gross = 0.0;
  for (const auto [asset, value] : account.values) gross += std::abs(value * ratio[static_cast<std::size_t>(asset)]);
  return held * gross;
}

double fire_sale_cost(const Account& account, std::span<const double> ratio, std::span<const double> moves,
                      double held) {
  double cost = 0.0;
  for (const auto [asset, value] : account.values) {
    const auto a = static_cast<std::size_t>(asset);
    cost -= value * (ratio.empty() ? 1.0 : ratio[a]) * moves[a];
  }
  return held * cost;
}

int house_account(const Model& model, int member, int ccp) {
  for (int a : model.members[static_cast<std::size_t>(member)].accounts)
    if (model.accounts[static_cast<std::size_t>(a)].ccp == ccp) return a;
  return -1;
}

std::vector<models::Layer> link_loss_layers(const CcpModel& ccp) {
  using L = models::Layer;
  if (ccp.link_losses == LinkLossRule::kWaterfall) return ccp.waterfall;
  return {L::kDefaulterIm, L::kDefaulterDf, L::kSitg, L::kSitg2, L::kCcpEquity};
}

bool runs_on_columns(const CcpModel& ccp) {
  const auto pro_rata = [](const std::vector<models::Layer>& layers) {
    return std::all_of(layers.begin(), layers.end(), models::supports_columns);
  };
  return pro_rata(ccp.waterfall) && pro_rata(link_loss_layers(ccp)) && !ccp.juniorisation && ccp.recovery.empty();
}

std::vector<models::Layer> ledger_layers(const CcpModel& ccp) {
  std::vector<models::Layer> layers = ccp.waterfall;
  for (const models::Layer l : link_loss_layers(ccp))
    if (std::find(layers.begin(), layers.end(), l) == layers.end()) layers.push_back(l);
  std::sort(layers.begin(), layers.end());
  return layers;
}

namespace {

// The compiler, step by step (sim/compile/steps.hpp): each step fills one part
// of the model from the scenario and the parts before it.
Model build_unmapped(const config::LoadedScenario& loaded) {
  const config::Scenario& s = loaded.scenario;
  compile::Index index;
  Model model = compile::settings(loaded);
  compile::add_assets(s.market, index, model);
  model.shocks = compile::market_shocks(s.market.shocks, index);
  compile::add_history(loaded, model);
  compile::set_correlation(s.market, index, model);
  compile::add_options(s.market, index, model);
  compile::add_ccps(s, index, model);
  index.links = compile::link_pairs(s.links, index);
  compile::add_settlement(s, index, model);
  compile::set_horizons(model);
  model.steps = compile::time_steps(s.simulation, model.fire_sales, model.horizons);
  model.liquidity_needs = s.outputs.liquidity_needs && model.steps.count > 0;  // a need per step
  model.default_rows = s.outputs.defaults.value_or(model.steps.count > 0);
  const std::vector<config::MemberConfig> members = compile::member_list(s);
  compile::add_members(members, index, model);
  compile::add_clients(members, index, model);
  compile::set_member_emode(s, index, model);
  compile::take_other_side_directly(s, model);
  const Eigen::MatrixXd net = compile::net_positions(model);
  const Eigen::MatrixXd routed = compile::novate_trades(loaded, index, model);
  const Eigen::MatrixXd flows = compile::balance_books(loaded, index, net, routed, model);
  compile::add_links(s, index, flows, model);
  const compile::FiniteCheck finite(loaded, s.members.size());
  compile::set_account_figures(finite, model);
  compile::set_initial_margins(s, members, finite, model);
  compile::set_client_margins(loaded, model);
  compile::set_default_funds(loaded, members, index, finite, model);
  compile::set_defaults(s, index, model);
  compile::set_horizon_values(model);
  compile::set_default_management(loaded, model);
  compile_interbank(loaded, model);
  return model;
}

}  // namespace

Model build_model(const config::LoadedScenario& loaded) {
  const auto refused = [&](const std::exception& e) {
    config::Diagnostics d(loaded.source_name);
    d.error(config::Location{1, 1, {}}, "", fmt::format("the model cannot be built from these inputs: {}", e.what()));
    return config::ScenarioError(std::move(d));
  };
  try {
    return build_unmapped(loaded);
  } catch (const std::invalid_argument& e) {
    throw refused(e);
  } catch (const std::domain_error& e) {
    throw refused(e);
  }
}

Eigen::VectorXd account_delta_values(const Model& model, const Account& account) {
  Eigen::VectorXd value(account.quantity.size());
  for (Eigen::Index a = 0; a < value.size(); ++a)
    value(a) = account.quantity(a) * model.assets[static_cast<std::size_t>(a)].price;
  for (const OptionHolding& h : account.options) {
    const OptionModel& o = model.options[static_cast<std::size_t>(h.option)];
    value(o.underlying) += h.quantity * o.delta * model.assets[static_cast<std::size_t>(o.underlying)].price;
  }
  return value;
}

std::vector<models::HeldOption> account_options(const Model& model, const Account& account) {
  std::vector<models::HeldOption> out;
  out.reserve(account.options.size());
  for (const OptionHolding& h : account.options) {
    const OptionModel& o = model.options[static_cast<std::size_t>(h.option)];
    out.push_back({o.underlying, o.contract, o.delta, h.quantity});
  }
  return out;
}

void check_variant_models(const config::LoadedScenario& loaded, const std::vector<config::Override>& overrides) {
  config::Diagnostics diagnostics(loaded.source_name);
  for (std::size_t v = 0; v < loaded.scenario.variants.size(); ++v) {
    try {
      (void)build_model(config::load_variant(loaded, v, overrides));
    } catch (const config::ScenarioError& e) {
      config::add_variant_errors(loaded, v, e, diagnostics);
    } catch (const InputError& e) {
      const std::string at = fmt::format("variants[{}]", v);
      diagnostics.error(loaded.source_map.find(at), at,
                        fmt::format("variant '{}': {}", config::excerpt(loaded.scenario.variants[v].name), e.what()));
    }
  }
  if (!diagnostics.empty()) throw config::ScenarioError(std::move(diagnostics));
}

}  // namespace ccpnet
