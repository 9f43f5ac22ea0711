// Config values -> model-side values: the one file of the compiler that
// reads the scenario's rulebook fields one by one.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "sim/compile/steps.hpp"

namespace ccpnet::compile {
namespace {

using config::CcpKind;

std::vector<models::Layer> default_waterfall(CcpKind kind) {
  using models::Layer;
  switch (kind) {
    case CcpKind::kTraditional:
      return {Layer::kDefaulterIm, Layer::kDefaulterDf, Layer::kSitg,     Layer::kMutualizedDf,
              Layer::kAssessments, Layer::kVmgh,        Layer::kCcpEquity};
    case CcpKind::kCryptoVenue: return {Layer::kDefaulterIm, Layer::kInsuranceFund, Layer::kAdl};
    case CcpKind::kLendingProtocol: return {Layer::kDefaulterIm, Layer::kInsuranceFund, Layer::kLenderHaircut};
  }
  return {};
}

// The SITG when the file gives none: RTS 153/2013 art. 35(1), dedicated own
// resources of 25% of the minimum capital held under EMIR art. 16 (RTS
// 152/2013); without a stated minimum_capital the capital stands for it (the
// largest figure art. 35 can give, as the capital is at least the minimum).
// sitg_basis: capital takes 25% of the whole capital whatever is stated.
constexpr double kSitgShareOfMinimumCapital = 0.25;

double default_sitg(const config::CcpConfig& c) {
  if (c.sitg_basis == config::SitgBasis::kCapital) return kSitgShareOfMinimumCapital * c.capital;
  return kSitgShareOfMinimumCapital * c.minimum_capital.value_or(c.capital);
}

std::string sitg_rule(const config::CcpConfig& c) {
  return c.sitg                                        ? "given"
         : c.sitg_basis == config::SitgBasis::kCapital ? "25% of capital (sitg_basis: capital)"
         : c.minimum_capital                           ? "25% of the minimum capital (RTS 153/2013 art. 35)"
                                                       : "25% of capital, standing for the minimum capital "
                                                         "(RTS 153/2013 art. 35; minimum_capital not stated)";
}

std::string margin_name(const config::MarginConfig& margin) {
  return std::visit([](const auto& m) { return std::string(std::decay_t<decltype(m)>::kTag); }, margin.model);
}

models::AdlRanking adl_ranking(config::AdlRankingRule rule) {
  switch (rule) {
    case config::AdlRankingRule::kPnl: return models::AdlRanking::kPnl;
    case config::AdlRankingRule::kLeverage: return models::AdlRanking::kLeverage;
    case config::AdlRankingRule::kBitmex: break;
  }
  return models::AdlRanking::kBitmex;
}

// A lending protocol's rules per asset: an asset listed in `assets` takes its
// own LT and bonus, the others the protocol's; e-mode categories by id.
LendingRules lending_rules(const config::LendingConfig& l, const std::map<std::string, int>& asset_index) {
  LendingRules rules;
  rules.oracle_delay_hours = l.oracle_delay_hours;
  rules.market.assets.assign(asset_index.size(), {l.liquidation_threshold, l.liquidation_bonus, 0});
  for (const auto& a : l.assets) {
    models::LendingAsset& asset = rules.market.assets[static_cast<std::size_t>(asset_index.at(a.id))];
    asset.liquidation_threshold = a.liquidation_threshold.value_or(l.liquidation_threshold);
    asset.liquidation_bonus = a.liquidation_bonus.value_or(l.liquidation_bonus);
  }
  for (const auto& e : l.emode) {
    const int id = static_cast<int>(e.id);
    rules.market.emode_categories.push_back({id, e.liquidation_threshold, e.liquidation_bonus});
    for (const auto& a : e.assets) rules.market.assets[static_cast<std::size_t>(asset_index.at(a))].emode_category = id;
  }
  const auto& cf = l.close_factor;
  rules.market.close_factor = {cf.factor, cf.hf_threshold, cf.dust_threshold, cf.min_leftover};
  return rules;
}

models::MarginModel margin_model(const config::MarginModelConfig& model) {
  return std::visit(
      [](const auto& m) -> models::MarginModel {
        using M = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<M, config::ParametricMargin>) {
          return models::ParametricMarginModel{m.confidence, m.distribution == config::QuantileDistribution::kStudentT,
                                               m.dof};
        } else if constexpr (std::is_same_v<M, config::HistoricalMargin>) {
          return models::HistoricalMarginModel{m.confidence,
                                               m.measure == config::RiskMeasureKind::kVar
                                                   ? models::RiskMeasure::kVar
                                                   : models::RiskMeasure::kExpectedShortfall,
                                               m.lookback_days};
        } else if constexpr (std::is_same_v<M, config::ScenarioGridMargin>) {
          return models::ScenarioGridMarginModel{m.scan_sigmas, static_cast<int>(m.price_steps), m.vol_moves};
        } else {
          models::TieredMarginModel tiered;
          for (const auto& t : m.tiers) tiered.tiers.push_back({t.up_to, t.im});
          return tiered;
        }
      },
      model);
}

}  // namespace

Model settings(const config::LoadedScenario& loaded) {
  const config::Scenario& s = loaded.scenario;
  Model model;
  model.name = s.name;
  model.seed = s.seed;
  model.scenarios = s.simulation.scenarios;
  model.batch = s.simulation.batch;
  model.threads = static_cast<int>(s.simulation.threads);
  for (const config::StressScenarioConfig& st : s.market.stress_scenarios) model.stress_scenarios.push_back(st);
  model.source_name = loaded.source_name;
  model.fire_sales = s.market.fire_sales;
  model.ledger_columns = s.outputs.ledger_columns;
  model.member_quantiles = s.outputs.member_quantiles;
  return model;
}

MarketShocks market_shocks(const config::ShockConfig& c, const Index& index) {
  MarketShocks shocks;
  shocks.student_t = c.model == config::ShockModel::kStudentT;
  shocks.dof = c.dof;
  shocks.volatility_multiplier = c.volatility_multiplier;
  if (c.jumps) {
    MarketShocks::Jumps jumps{c.jumps->intensity, c.jumps->mean, c.jumps->stdev,
                              Eigen::VectorXd::Ones(static_cast<Eigen::Index>(index.asset.size()))};
    for (const auto& [id, beta] : c.jumps->beta)
      if (const auto it = index.asset.find(id); it != index.asset.end()) jumps.beta(it->second) = beta;
    shocks.jumps = std::move(jumps);
  }
  return shocks;
}

AssetModel asset_model(const config::AssetConfig& a) {
  return {a.id, a.price, a.volatility / std::sqrt(a.trading_days), a.adv, a.liquidation_cost, a.chain};
}

CcpModel ccp_model(const config::CcpConfig& c, const Index& index) {
  CcpModel ccp;
  ccp.id = c.id;
  ccp.kind = c.kind;
  ccp.capital = c.capital;
  ccp.sitg = c.sitg.value_or(default_sitg(c));
  ccp.sitg_rule = sitg_rule(c);
  ccp.sitg2 = std::min(c.sitg2, std::max(0.0, c.capital - ccp.sitg));
  ccp.insurance_fund = c.insurance_fund;
  if (!c.insurance_fund_asset.empty()) ccp.insurance_fund_asset = index.asset.at(c.insurance_fund_asset);
  if (const auto* tiered = std::get_if<config::TieredMargin>(&c.margin.model))
    for (const auto& t : tiered->tiers)
      if (t.mm) ccp.maintenance.push_back({t.up_to, *t.mm});
  if (c.kind == CcpKind::kLendingProtocol)
    ccp.lending = lending_rules(c.lending.value_or(config::LendingConfig{}), index.asset);
  ccp.assessment_multiple = c.assessments.multiple;
  ccp.vmgh.max_rate = c.vmgh.max_rate;
  ccp.adl_ranking = adl_ranking(c.adl.ranking);
  ccp.vmgh.per_call = c.vmgh.per_call.value_or(std::numeric_limits<double>::infinity());
  ccp.vmgh.total_left = c.vmgh.total.value_or(std::numeric_limits<double>::infinity());
  ccp.vmgh.step_left = c.vmgh.per_step.value_or(std::numeric_limits<double>::infinity());
  ccp.mpor_days = c.margin.mpor_days;
  ccp.waterfall = c.waterfall ? *c.waterfall : default_waterfall(c.kind);
  ccp.im_segregated = c.im_segregated;
  ccp.im_recovery_rate = c.im_recovery_rate;
  ccp.link_losses = c.link_losses;
  ccp.porting_capacity = c.porting.capacity;
  ccp.porting_window_days = c.porting.window_days;
  ccp.ledger_layers = ledger_layers(ccp);
  ccp.margin_model = margin_name(c.margin);
  return ccp;
}

LinkModel link_model(const config::LinkConfig& l, std::pair<int, int> ccps) {
  LinkModel link;
  link.first = ccps.first;
  link.second = ccps.second;
  link.model = l.model;
  link.segregated = l.segregated;
  link.recovery_rate = l.recovery_rate;
  link.link_fund = l.link_fund;
  link.fund_by_stress = l.link_fund_sizing == config::LinkFundSizing::kCover1;
  return link;
}

ChainModel chain_model(const config::ChainConfig& c) {
  ChainModel chain;
  chain.id = c.id;
  chain.finality = {c.finality.distribution, c.finality.mean_hours, c.finality.shape, c.finality.sigma};
  if (c.congestion) {
    chain.congests = c.congestion->multiplier > 1.0;
    chain.congestion_drop = c.congestion->market_drop;
    chain.congestion_multiplier = c.congestion->multiplier;
  }
  chain.halt_probability = c.halt_probability;
  chain.halt_hours = c.halt_hours;
  chain.challenge_hours = 24.0 * c.challenge_days;
  return chain;
}

CcpSettlement ccp_settlement(const config::Scenario& s, const config::CcpConfig& c, const Index& index,
                             const std::map<std::string, int>& chain_index,
                             const std::map<std::string, int>& bridge_index) {
  const auto index_of = [](const std::map<std::string, int>& ids, const std::string& id) {
    const auto it = ids.find(id);
    return it == ids.end() ? -1 : it->second;
  };
  const auto& cs = c.settlement;
  CcpSettlement out;
  out.mode = s.settlement.instant ? config::SettlementMode::kInstant : cs.mode;
  out.chain = index_of(chain_index, cs.chain);
  out.bridge = index_of(bridge_index, cs.bridge);
  out.deadline_hours = cs.deadline_hours;
  out.time_lock_hours = cs.time_lock_hours;
  out.in_flight = cs.in_flight;
  out.custody = c.collateral.custody;
  out.custody_bridge = index_of(bridge_index, c.collateral.bridge);
  if (!c.collateral.asset.empty()) {
    out.collateral_asset = index.asset.at(c.collateral.asset);
    out.collateral_share = c.collateral.share;
    out.collateral_haircut = c.collateral.haircut;
  }
  if (c.margin.spiral) {
    out.spiral = true;
    out.spiral_lambda = c.margin.spiral->lambda;
  }
  if (c.margin.apc.mode == config::ApcMode::kBuffer) out.apc_buffer = c.margin.apc.buffer;
  if (c.margin.apc.mode == config::ApcMode::kStressedWeight) {
    out.apc_stressed_weight = c.margin.apc.stressed_weight;
    out.apc_stressed_multiplier = c.margin.apc.stressed_multiplier;
  }
  return out;
}

models::MarginRule margin_rule(const config::MarginConfig& margin) {
  models::MarginRule rule;
  rule.model = margin_model(margin.model);
  rule.mpor_days = margin.mpor_days;
  rule.concentration_participation = margin.concentration_participation;
  rule.apc = margin.apc.mode == config::ApcMode::kBuffer           ? models::ApcMode::kBuffer
             : margin.apc.mode == config::ApcMode::kStressedWeight ? models::ApcMode::kStressedWeight
                                                                   : models::ApcMode::kNone;
  rule.apc_buffer = margin.apc.buffer;
  rule.apc_stressed_weight = margin.apc.stressed_weight;
  rule.apc_stressed_multiplier = margin.apc.stressed_multiplier;
  return rule;
}

std::int64_t history_lookback(const config::MarginConfig& margin) {
  if (const auto* hist = std::get_if<config::HistoricalMargin>(&margin.model)) return hist->lookback_days;
  return 0;
}

FundRule fund_rule(const config::CcpConfig& c) {
  FundRule rule;
  rule.cover = c.default_fund.sizing == config::DefaultFundSizing::kCover1 ? 1 : 2;
  if (c.default_fund.sizing == config::DefaultFundSizing::kFixed) rule.fixed = *c.default_fund.amount;
  rule.boe = c.default_fund.variant == config::CoverVariant::kBoe;
  rule.by_uncovered_stress = c.default_fund.allocation == config::FundAllocation::kUncoveredStress;
  rule.stress_sigma = c.stress_sigma;
  rule.single_asset = c.stress_set.single_asset;
  rule.spreads = c.stress_set.spreads;
  rule.history = c.stress_set.history;
  rule.stressed_correlation = c.stress_set.stressed_correlation;
  return rule;
}

}  // namespace ccpnet::compile
