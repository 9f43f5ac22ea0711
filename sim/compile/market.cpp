// The market: assets, an observed price history, the correlation and the
// options with their Black-76 value and delta today.
#include "models/instruments/black76.hpp"
#include "models/market/correlation.hpp"
#include "sim/compile/steps.hpp"

namespace ccpnet::compile {

void add_assets(const config::MarketConfig& market, Index& index, Model& model) {
  for (const auto& a : market.assets) {
    index.asset[a.id] = static_cast<int>(model.assets.size());
    model.assets.push_back(asset_model(a));
  }
}

// market.history: its daily log-returns ln(P(t+1) / P(t)), oldest first.
void add_history(const config::LoadedScenario& loaded, Model& model) {
  const auto& history = loaded.data.history;
  if (!history) return;
  const Eigen::MatrixXd log_prices = history->prices.array().log().matrix();
  const Eigen::Index days = log_prices.rows() - 1;
  model.history_log_returns = log_prices.bottomRows(days) - log_prices.topRows(days);
  model.history_mode = loaded.scenario.market.history->mode;
}

void set_correlation(const config::MarketConfig& market, const Index& index, Model& model) {
  const auto n = static_cast<Eigen::Index>(market.assets.size());
  const auto& c = market.correlation;
  Eigen::MatrixXd r(n, n);
  if (!c.matrix.empty()) {
    for (Eigen::Index i = 0; i < n; ++i)
      for (Eigen::Index j = 0; j < n; ++j) r(i, j) = c.matrix[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)];
  } else {
    r.setConstant(c.default_value);
    r.diagonal().setOnes();
    for (const auto& p : c.pairs) {
      const int i = index.asset.at(p.between[0]), j = index.asset.at(p.between[1]);
      r(i, j) = r(j, i) = p.value;
    }
  }
  model.correlation = r;
  model.correlation_factor = models::correlation_factor(model.correlation);
}

void add_options(const config::MarketConfig& market, Index& index, Model& model) {
  for (const auto& o : market.options) {
    index.option[o.id] = static_cast<int>(model.options.size());
    OptionModel option;
    option.id = o.id;
    option.underlying = index.asset.at(o.underlying);
    option.contract = {o.type, o.strike, o.expiry_days / 365.0, o.implied_vol, o.rate, o.vol_beta};
    const double forward = model.assets[static_cast<std::size_t>(option.underlying)].price;
    const auto greeks =
        models::black76_greeks(o.type, forward, o.strike, option.contract.expiry_years, o.implied_vol, o.rate);
    option.value = greeks.price;
    option.delta = greeks.delta;
    model.options.push_back(std::move(option));
  }
}

Eigen::VectorXd asset_prices(const Model& model) {
  Eigen::VectorXd price(static_cast<Eigen::Index>(model.assets.size()));
  for (Eigen::Index a = 0; a < price.size(); ++a) price(a) = model.assets[static_cast<std::size_t>(a)].price;
  return price;
}

Eigen::VectorXd daily_vols(const Model& model) {
  Eigen::VectorXd vol(static_cast<Eigen::Index>(model.assets.size()));
  for (Eigen::Index a = 0; a < vol.size(); ++a) vol(a) = model.assets[static_cast<std::size_t>(a)].daily_vol;
  return vol;
}

}  // namespace ccpnet::compile
