#include "sim/model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "models/default_fund/cover.hpp"
#include "models/default_fund/stress_set.hpp"
#include "models/links/flow.hpp"
#include "models/links/route.hpp"
#include "models/margin/addons.hpp"
#include "models/margin/historical.hpp"
#include "models/margin/parametric.hpp"
#include "models/margin/quantile.hpp"
#include "models/margin/scenario_grid.hpp"
#include "models/margin/tiered.hpp"
#include "models/market/correlation.hpp"
#include "sim/generator.hpp"
#include "sim/rng.hpp"

namespace ccpnet {

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

// A CCP's default-fund stress set: simple returns per asset (assets x moves)
// over its MPOR, a name per move, the implied-vol multipliers of the named
// moves that have vol moves, and the number of moves per family.
struct SizingSet {
  Eigen::MatrixXd simple_moves;
  std::vector<std::string> names;
  std::map<Eigen::Index, Eigen::VectorXd> vol_factor;
  std::vector<std::pair<std::string, int>> families;
};

// In this order (ties between moves go to the first): every asset up, every
// asset down; the file's named (non-overlay) moves, the part realised over the
// MPOR as in `ccpnet stress`; then stress_set's single-asset, spread and
// historical moves (models/default_fund/stress_set.hpp).
SizingSet sizing_stress_set(const Model& model, const config::Scenario& s, const config::CcpConfig& cfg, double mpor,
                            const Eigen::VectorXd& daily_vol, const std::map<std::string, int>& asset_index,
                            const config::LoadedScenario& loaded) {
  const auto n_assets = daily_vol.size();
  const auto id = [&](int a) -> const std::string& { return model.assets[static_cast<std::size_t>(a)].id; };
  const std::string sd = fmt::format("{:g} sd", cfg.stress_sigma);
  models::HypotheticalStressSpec spec;
  spec.sigmas = cfg.stress_sigma;
  spec.horizon_days = mpor;
  spec.single_asset = cfg.stress_set.single_asset;
  spec.spreads = cfg.stress_set.spreads;
  spec.stressed_correlation = cfg.stress_set.stressed_correlation;
  const models::StressMoves hypothetical = models::hypothetical_stress_moves(daily_vol, spec);
  models::StressMoves historical;
  if (cfg.stress_set.history && model.history_mode)
    historical = models::historical_stress_moves(model.history_log_returns, mpor);
  std::vector<const config::StressScenarioConfig*> named;
  for (const auto& st : s.market.stress_scenarios)
    if (!st.overlay) named.push_back(&st);
  const auto n_named = static_cast<Eigen::Index>(named.size());
  const Eigen::Index n_hyp = hypothetical.log_moves.cols(), n_hist = historical.log_moves.cols();
  SizingSet set;
  Eigen::MatrixXd log_moves(n_assets, n_hyp + n_named + n_hist);
  log_moves.leftCols(2) = hypothetical.log_moves.leftCols(2);
  for (Eigen::Index k = 0; k < n_named; ++k) {
    const auto& st = *named[static_cast<std::size_t>(k)];
    const double share = std::min(1.0, mpor / st.length_days());
    Eigen::VectorXd move = Eigen::VectorXd::Zero(n_assets);
    for (const auto& [asset_id, m] : st.total_moves()) move(asset_index.at(asset_id)) = st.log_move(asset_id, mpor);
    log_moves.col(2 + k) = move;
    if (!st.vol_moves.empty()) {
      Eigen::VectorXd vol = Eigen::VectorXd::Ones(n_assets);
      for (const auto& [asset_id, v] : st.vol_moves) vol(asset_index.at(asset_id)) = std::exp(std::log1p(v) * share);
      set.vol_factor[2 + k] = vol;
    }
  }
  log_moves.middleCols(2 + n_named, n_hyp - 2) = hypothetical.log_moves.rightCols(n_hyp - 2);
  log_moves.rightCols(n_hist) = historical.log_moves;
  set.simple_moves = log_moves.unaryExpr([](double x) { return std::expm1(x); });
  set.names.reserve(static_cast<std::size_t>(log_moves.cols()));
  set.names.push_back("all assets up " + sd);
  set.names.push_back("all assets down " + sd);
  for (const auto* st : named) set.names.push_back(st->name);
  const std::string rho = fmt::format("{:g}", cfg.stress_set.stressed_correlation);
  int single = 0, spread = 0;
  for (std::size_t k = 2; k < hypothetical.info.size(); ++k) {
    const models::StressMoveInfo& info = hypothetical.info[k];
    if (info.family == models::StressFamily::kSingleAsset) {
      ++single;
      set.names.push_back(info.up >= 0 ? fmt::format("{} up {}", id(info.up), sd)
                                       : fmt::format("{} down {}", id(info.down), sd));
    } else {
      ++spread;
      set.names.push_back(
          fmt::format("spread {} up, {} down {} apart (correlation {})", id(info.up), id(info.down), sd, rho));
    }
  }
  const auto& dates = loaded.data.history ? loaded.data.history->dates : std::vector<std::string>{};
  const auto h = std::max<Eigen::Index>(1, static_cast<Eigen::Index>(std::ceil(mpor - 1e-12)));
  for (const auto& info : historical.info) {
    const auto first = static_cast<std::size_t>(info.first_day), last = static_cast<std::size_t>(info.first_day + h);
    set.names.push_back(last < dates.size() ? fmt::format("history {} to {}", dates[first], dates[last])
                                            : fmt::format("history window {}", info.first_day));
  }
  set.families = {{"directional", 2},
                  {"named", static_cast<int>(n_named)},
                  {"single asset", single},
                  {"spread", spread},
                  {"historical", static_cast<int>(n_hist)}};
  return set;
}

Eigen::MatrixXd correlation_matrix(const config::MarketConfig& market, const std::map<std::string, int>& asset_index) {
  const auto n = static_cast<Eigen::Index>(market.assets.size());
  const auto& c = market.correlation;
  Eigen::MatrixXd r(n, n);
  if (!c.matrix.empty()) {
    for (Eigen::Index i = 0; i < n; ++i)
      for (Eigen::Index j = 0; j < n; ++j) r(i, j) = c.matrix[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)];
    return r;
  }
  r.setConstant(c.default_value);
  r.diagonal().setOnes();
  for (const auto& p : c.pairs) {
    const int i = asset_index.at(p.between[0]), j = asset_index.at(p.between[1]);
    r(i, j) = r(j, i) = p.value;
  }
  return r;
}

// The option positions of the rows of a values matrix (one entry per row,
// empty for a row without options).
struct RowOptions {
  const std::vector<OptionModel>& options;
  const Eigen::VectorXd& price;
  std::vector<const std::vector<OptionHolding>*> rows;
};

// Linear values plus each option position's delta-equivalent value
// (delta x price x quantity) in its underlying's column: how the models that
// take position values (parametric, historical, tiered, add-ons) see options.
Eigen::MatrixXd delta_values(const Eigen::MatrixXd& values, const RowOptions& books) {
  Eigen::MatrixXd out = values;
  for (std::size_t i = 0; i < books.rows.size(); ++i)
    for (const OptionHolding& h : *books.rows[i]) {
      const OptionModel& o = books.options[static_cast<std::size_t>(h.option)];
      out(static_cast<Eigen::Index>(i), o.underlying) += h.quantity * o.delta * books.price(o.underlying);
    }
  return out;
}

// Scenario-grid IM of the rows with options: each underlying an account holds
// options on is scanned in full (its linear position, and its options by
// Black-76 over the price x vol grid with the MPOR's time decay); the linear
// rows cover the rest. Options are grouped by discount rate into books
// scanned on one grid, whose risk arrays add up to the account's.
Eigen::VectorXd scenario_grid_rows(const config::ScenarioGridMargin& m, const Eigen::MatrixXd& values,
                                   const Eigen::VectorXd& horizon_vol, double mpor_days, const RowOptions& books) {
  Eigen::MatrixXd linear = values;
  std::vector<std::vector<int>> scanned(books.rows.size());
  for (std::size_t i = 0; i < books.rows.size(); ++i) {
    for (const OptionHolding& h : *books.rows[i]) {
      const int a = books.options[static_cast<std::size_t>(h.option)].underlying;
      if (std::find(scanned[i].begin(), scanned[i].end(), a) == scanned[i].end()) scanned[i].push_back(a);
      linear(static_cast<Eigen::Index>(i), a) = 0.0;
    }
  }
  Eigen::VectorXd im = models::scenario_grid_linear_rows(linear, horizon_vol, m.scan_sigmas);
  const double horizon_years = mpor_days / 365.0;
  for (std::size_t i = 0; i < books.rows.size(); ++i) {
    for (int a : scanned[i]) {
      models::ScanGrid grid = models::make_scan_grid(horizon_vol(a), m.scan_sigmas, static_cast<int>(m.price_steps));
      if (!m.vol_moves.empty()) grid.vol_moves = m.vol_moves;
      grid.relative_vol_moves = true;
      const double forward = books.price(a);
      std::vector<double> rates;
      for (const OptionHolding& h : *books.rows[i]) {
        const OptionModel& o = books.options[static_cast<std::size_t>(h.option)];
        if (o.underlying == a && std::find(rates.begin(), rates.end(), o.contract.rate) == rates.end())
          rates.push_back(o.contract.rate);
      }
      Eigen::VectorXd pnl;
      for (std::size_t k = 0; k < rates.size(); ++k) {
        models::UnderlyingBook book;
        book.forward = forward;
        book.linear_quantity = k == 0 ? values(static_cast<Eigen::Index>(i), a) / forward : 0.0;
        for (const OptionHolding& h : *books.rows[i]) {
          const OptionModel& o = books.options[static_cast<std::size_t>(h.option)];
          if (o.underlying != a || o.contract.rate != rates[k]) continue;
          book.options.push_back(
              {o.contract.type, o.contract.strike, o.contract.expiry_years, o.contract.implied_vol, h.quantity});
        }
        const Eigen::VectorXd part = models::scan_risk_array(book, grid, rates[k], horizon_years);
        pnl = k == 0 ? part : Eigen::VectorXd(pnl + part);
      }
      im(static_cast<Eigen::Index>(i)) += std::max(0.0, -pnl.minCoeff());
    }
  }
  return im;
}

// Margin of every row of `values` (linear position values) under the CCP's
// model, with its add-ons; `books` holds the rows' options.
// `history_daily_returns` are standardised (unit daily variance) unless
// `observed_history`: then they are the log-returns of market.history.
Eigen::VectorXd margin_rows(const config::MarginConfig& margin, const Eigen::MatrixXd& linear_values,
                            const RowOptions& books, const Eigen::VectorXd& daily_vol,
                            const Eigen::MatrixXd& correlation_factor, const Eigen::VectorXd& adv,
                            const Eigen::MatrixXd& history_daily_returns, bool observed_history) {
  const Eigen::MatrixXd values = delta_values(linear_values, books);
  // Anti-procyclicality by a stressed-volatility weight scales the volatility
  // the models see; the buffer scales the margin.
  Eigen::VectorXd vol = daily_vol;
  if (margin.apc.mode == config::ApcMode::kStressedWeight) {
    for (Eigen::Index a = 0; a < vol.size(); ++a)
      vol(a) = models::apc_weighted_vol(vol(a), vol(a) * margin.apc.stressed_multiplier, margin.apc.stressed_weight);
  }
  const double h = margin.mpor_days;
  double addon_quantile = models::normal_quantile(0.99);
  Eigen::VectorXd im = std::visit(
      [&](const auto& m) -> Eigen::VectorXd {
        using M = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<M, config::ParametricMargin>) {
          const double q = m.distribution == config::QuantileDistribution::kNormal
                               ? models::normal_quantile(m.confidence)
                               : models::unit_student_t_quantile(m.confidence, m.dof);
          addon_quantile = q;
          return models::parametric_im_rows(values, vol.asDiagonal() * correlation_factor, h, q);
        } else if constexpr (std::is_same_v<M, config::HistoricalMargin>) {
          // Cumulative log-prices of the history, scaled to this CCP's volatility
          // view, then overlapping h-day returns (h rounded up to whole days).
          // An observed history is scaled only by a stressed-volatility weight.
          const Eigen::Index days = history_daily_returns.rows();
          const int horizon = std::max(1, static_cast<int>(std::ceil(h - 1e-12)));
          Eigen::VectorXd scale = vol;
          if (observed_history)
            for (Eigen::Index a = 0; a < vol.size(); ++a) scale(a) = daily_vol(a) > 0.0 ? vol(a) / daily_vol(a) : 1.0;
          Eigen::MatrixXd log_prices = Eigen::MatrixXd::Zero(days + 1, vol.size());
          for (Eigen::Index t = 0; t < days; ++t)
            log_prices.row(t + 1) = log_prices.row(t) + history_daily_returns.row(t).cwiseProduct(scale.transpose());
          const Eigen::MatrixXd returns = models::overlapping_log_returns(log_prices.array().exp().matrix(), horizon);
          addon_quantile = models::normal_quantile(m.confidence);
          return models::historical_im_rows(values, returns, m.confidence,
                                            m.measure == config::RiskMeasureKind::kVar
                                                ? models::RiskMeasure::kVar
                                                : models::RiskMeasure::kExpectedShortfall);
        } else if constexpr (std::is_same_v<M, config::ScenarioGridMargin>) {
          addon_quantile = m.scan_sigmas;
          return scenario_grid_rows(m, linear_values, vol * std::sqrt(h), h, books);
        } else {
          std::vector<models::Tier> tiers;
          for (const auto& t : m.tiers) tiers.push_back({t.up_to, t.im});
          return models::tiered_margin_rows(values, tiers);
        }
      },
      margin.model);
  if (margin.concentration_participation)
    im += models::concentration_addon_rows(values, vol, adv, h, addon_quantile, *margin.concentration_participation);
  if (margin.apc.mode == config::ApcMode::kBuffer) im *= 1.0 + margin.apc.buffer;
  return im;
}

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
    if (model.shocks.model == config::ShockModel::kStudentT)
      scale = std::sqrt((model.shocks.dof - 2.0) / draws.chi_square(model.shocks.dof));
    out.row(t) = (model.correlation_factor * z).transpose() * scale;
  }
  return out;
}

std::string margin_name(const config::MarginConfig& margin) {
  return std::visit([](const auto& m) { return std::string(std::decay_t<decltype(m)>::kTag); }, margin.model);
}

// A figure computed from the inputs (a margin, a fund, a stress loss) that is
// not finite: a located error at the inputs of the account it belongs to,
// naming them (its positions' assets with their price, volume and impact, and
// the CCP's margin model), so that the user sees which numbers to fix.
[[noreturn]] void non_finite(const Model& model, const config::LoadedScenario& loaded, std::size_t listed_members,
                             std::size_t account, std::string_view what, double value) {
  const config::Scenario& s = loaded.scenario;
  const Account& acc = model.accounts[account];
  const CcpModel& ccp = model.ccps[static_cast<std::size_t>(acc.ccp)];
  std::string holder;
  std::string path;
  switch (acc.kind) {
    case AccountKind::kMember: {
      const auto m = static_cast<std::size_t>(acc.owner);
      holder = fmt::format("member '{}'", model.members[m].id);
      if (m >= listed_members) {
        path = "generator";
      } else {
        const auto& positions = s.members[m].positions;
        const bool listed =
            std::any_of(positions.begin(), positions.end(), [&](const auto& p) { return p.first == ccp.id; });
        path = listed ? fmt::format("members[{}].positions.{}", m, ccp.id)
                      : (s.trades.empty() ? fmt::format("members[{}]", m) : std::string("trades"));
      }
      break;
    }
    case AccountKind::kLink: {
      const std::string& other = model.ccps[static_cast<std::size_t>(acc.owner)].id;
      holder = fmt::format("the link account of CCP '{}'", other);
      for (std::size_t l = 0; l < s.links.size() && path.empty(); ++l) {
        const auto& b = s.links[l].between;
        if ((b[0] == ccp.id && b[1] == other) || (b[1] == ccp.id && b[0] == other)) path = fmt::format("links[{}]", l);
      }
      break;
    }
    default:
      holder = "the rest-of-market account";
      path = fmt::format("ccps[{}].imbalance", acc.ccp);
      break;
  }
  std::vector<std::string> inputs;
  for (Eigen::Index a = 0; a < acc.quantity.size(); ++a) {
    if (acc.quantity(a) == 0.0) continue;
    const AssetModel& asset = model.assets[static_cast<std::size_t>(a)];
    if (inputs.size() == 4) {
      inputs.emplace_back("...");
      break;
    }
    inputs.push_back(
        fmt::format("{:.6g} {} (market.assets[{}]: price {:.6g} USD, daily volatility {:.6g}, adv {:.6g} "
                    "USD, liquidation_cost {:.6g})",
                    acc.quantity(a), asset.id, a, asset.price, asset.daily_vol, asset.adv, asset.liquidation_k));
  }
  const auto& cfg = s.ccps[static_cast<std::size_t>(acc.ccp)];
  const auto& margin = cfg.margin;
  std::string margin_text = fmt::format("ccps[{}]: stress_sigma {:.6g}, margin {}, mpor_days {:.6g}", acc.ccp,
                                        cfg.stress_sigma, margin_name(margin), margin.mpor_days);
  if (margin.concentration_participation)
    margin_text += fmt::format(", concentration_participation {:.6g}", *margin.concentration_participation);
  config::Diagnostics d(loaded.source_name);
  d.error(
      loaded.source_map.find(path), path,
      fmt::format("expected a finite {} of {} at CCP '{}', found {}: the numbers it is computed from are out of "
                  "range; it comes from the positions {} and {}",
                  what, holder, ccp.id, value,
                  inputs.empty() ? std::string("(none)") : fmt::format("{}", fmt::join(inputs, ", ")), margin_text));
  throw config::ScenarioError(std::move(d));
}

void require_finite(const Model& model, const config::LoadedScenario& loaded, std::size_t listed_members,
                    std::size_t account, std::string_view what, double value) {
  if (!std::isfinite(value)) non_finite(model, loaded, listed_members, account, what, value);
}

}  // namespace

namespace {

// ---- settlement (SPEC 3.8): chains, bridges, each CCP's mode and custody.
// The loader has checked every reference and listed the built-in chains used.
void build_settlement(const config::Scenario& s, const std::map<std::string, int>& asset_index, Model& model) {
  std::map<std::string, int> chain_index, bridge_index;
  for (const auto& c : s.settlement.chains) {
    chain_index[c.id] = static_cast<int>(model.chains.size());
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
    model.chains.push_back(std::move(chain));
  }
  for (const auto& b : s.settlement.bridges) {
    bridge_index[b.id] = static_cast<int>(model.bridges.size());
    model.bridges.push_back({b.id, b.exploit_probability, b.recovery_rate, b.delay_hours});
  }
  model.asset_chain.assign(model.assets.size(), -1);
  for (const auto& [id, a] : asset_index) {
    const auto it = chain_index.find(model.assets[static_cast<std::size_t>(a)].chain);
    if (it == chain_index.end()) continue;
    model.asset_chain[static_cast<std::size_t>(a)] = it->second;
    model.chains[static_cast<std::size_t>(it->second)].assets.push_back(a);
  }
  for (auto& chain : model.chains) std::sort(chain.assets.begin(), chain.assets.end());
  const auto index_of = [](const std::map<std::string, int>& index, const std::string& id) {
    const auto it = index.find(id);
    return it == index.end() ? -1 : it->second;
  };
  for (std::size_t c = 0; c < s.ccps.size(); ++c) {
    const auto& cs = s.ccps[c].settlement;
    CcpSettlement& out = model.ccps[c].settlement;
    out.mode = s.settlement.instant ? config::SettlementMode::kInstant : cs.mode;
    out.chain = index_of(chain_index, cs.chain);
    out.bridge = index_of(bridge_index, cs.bridge);
    out.deadline_hours = cs.deadline_hours;
    out.time_lock_hours = cs.time_lock_hours;
    out.in_flight = cs.in_flight;
    out.custody = s.ccps[c].collateral.custody;
    out.custody_bridge = index_of(bridge_index, s.ccps[c].collateral.bridge);
    if (out.custody != config::Custody::kCcp) model.ccps[c].im_segregated = true;  // bankruptcy-remote
    const auto& collateral = s.ccps[c].collateral;
    if (!collateral.asset.empty()) {
      out.collateral_asset = asset_index.at(collateral.asset);
      out.collateral_share = collateral.share;
      out.collateral_haircut = collateral.haircut;
    }
    const auto& margin = s.ccps[c].margin;
    if (margin.spiral) {
      out.spiral = true;
      out.spiral_lambda = margin.spiral->lambda;
    }
    if (margin.apc.mode == config::ApcMode::kBuffer) out.apc_buffer = margin.apc.buffer;
    if (margin.apc.mode == config::ApcMode::kStressedWeight) {
      out.apc_stressed_weight = margin.apc.stressed_weight;
      out.apc_stressed_multiplier = margin.apc.stressed_multiplier;
    }
    model.settlement_active = model.settlement_active || out.mode != config::SettlementMode::kInstant ||
                              (out.custody == config::Custody::kBridge && out.custody_bridge >= 0) ||
                              out.collateral_asset >= 0 || out.spiral;
  }
}

// Adds `quantity` of option `option` to an account's option positions.
void add_option(std::vector<OptionHolding>& options, int option, double quantity) {
  for (OptionHolding& h : options)
    if (h.option == option) {
      h.quantity += quantity;
      return;
    }
  options.push_back({option, quantity});
}
// The link of a link account, or nullptr.
const LinkModel* link_of(const Model& model, int account) {
  for (const auto& link : model.links)
    if (link.account_at_first == account || link.account_at_second == account) return &link;
  return nullptr;
}

// The participant CCP's account at its host (it posts IM and contributes to the host's fund).
bool participant_account(const Model& model, int account) {
  const LinkModel* link = link_of(model, account);
  return link && link->model == config::LinkModel::kParticipant && link->account_at_second == account;
}

// The host's account at a participant CCP: the host posts nothing there.
bool hosts_participant(const Model& model, const Account& acc) {
  if (acc.kind != AccountKind::kLink) return false;
  for (const auto& link : model.links)
    if (link.model == config::LinkModel::kParticipant && link.first == acc.ccp && link.second == acc.owner) return true;
  return false;
}

// The member's account at CCP c, opened (empty) if it has none.
int member_account(Model& model, int member, int c) {
  for (int a : model.members[static_cast<std::size_t>(member)].accounts)
    if (model.accounts[static_cast<std::size_t>(a)].ccp == c) return a;
  const auto n_assets = static_cast<Eigen::Index>(model.assets.size());
  const int a = static_cast<int>(model.accounts.size());
  model.accounts.push_back({AccountKind::kMember, member, c, Eigen::VectorXd::Zero(n_assets)});
  model.members[static_cast<std::size_t>(member)].accounts.push_back(a);
  model.ccps[static_cast<std::size_t>(c)].accounts.push_back(a);
  return a;
}

// imbalance: direct_membership. Per asset, among the CCPs with that policy,
// the members on the side a CCP has too much of move part of their positions
// to accounts of their own at the CCPs that lack that side
// (models::proportional_transport between CCPs, then pro rata to each member's
// position on that side). Every member keeps its total position; each CCP's
// book nets to zero.
void take_other_side_directly(const config::Scenario& s, Model& model) {
  std::vector<int> ccps;
  for (std::size_t c = 0; c < s.ccps.size(); ++c)
    if (s.ccps[c].imbalance == config::ImbalancePolicy::kDirectMembership) ccps.push_back(static_cast<int>(c));
  if (ccps.size() < 2) return;
  const auto n = static_cast<Eigen::Index>(ccps.size());
  for (Eigen::Index asset = 0; asset < static_cast<Eigen::Index>(model.assets.size()); ++asset) {
    Eigen::VectorXd net = Eigen::VectorXd::Zero(n), shorts = Eigen::VectorXd::Zero(n);
    for (Eigen::Index i = 0; i < n; ++i)
      for (int a : model.ccps[static_cast<std::size_t>(ccps[static_cast<std::size_t>(i)])].accounts) {
        const double q = model.accounts[static_cast<std::size_t>(a)].quantity(asset);
        net(i) += q;
        shorts(i) += std::max(0.0, -q);
      }
    const Eigen::MatrixXd moves = models::proportional_transport(net);
    for (Eigen::Index d = 0; d < n; ++d) {
      const double from_d = moves.row(d).sum();
      if (from_d <= 0.0 || shorts(d) <= 0.0) continue;
      const auto& accounts = model.ccps[static_cast<std::size_t>(ccps[static_cast<std::size_t>(d)])].accounts;
      const std::vector<int> holders(accounts.begin(), accounts.end());  // accounts may grow below
      for (int a : holders) {
        const double q = model.accounts[static_cast<std::size_t>(a)].quantity(asset);
        if (q >= 0.0) continue;
        const int owner = model.accounts[static_cast<std::size_t>(a)].owner;
        for (Eigen::Index t = 0; t < n; ++t) {
          const double x = moves(d, t) * (-q) / shorts(d);
          if (x <= 0.0) continue;
          model.accounts[static_cast<std::size_t>(a)].quantity(asset) += x;
          const int there = member_account(model, owner, ccps[static_cast<std::size_t>(t)]);
          model.accounts[static_cast<std::size_t>(there)].quantity(asset) -= x;
        }
      }
    }
  }
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

}  // namespace

std::vector<models::Layer> link_loss_layers(const CcpModel& ccp) {
  using L = models::Layer;
  if (ccp.link_losses == config::LinkLossRule::kWaterfall) return ccp.waterfall;
  return {L::kDefaulterIm, L::kDefaulterDf, L::kSitg, L::kSitg2, L::kCcpEquity};
}

std::vector<models::Layer> ledger_layers(const CcpModel& ccp) {
  std::vector<models::Layer> layers = ccp.waterfall;
  for (const models::Layer l : link_loss_layers(ccp))
    if (std::find(layers.begin(), layers.end(), l) == layers.end()) layers.push_back(l);
  std::sort(layers.begin(), layers.end());
  return layers;
}

namespace {

Model build_unmapped(const config::LoadedScenario& loaded);

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

namespace {

// The time steps of simulation.horizon_days and step_days (the loader checked
// that the horizon is a whole number of steps): the days at which a path is
// revalued, each step's start and end, and its start + each horizon (the
// close-out window of a member defaulting in the step).
TimeSteps time_steps(const config::SimulationConfig& sim, bool fire_sales, const std::vector<double>& horizons) {
  TimeSteps t;
  if ((!sim.horizon_days && !sim.step_days && !fire_sales) || horizons.empty()) return t;
  const double horizon = sim.horizon_days.value_or(horizons.back());
  t.days = sim.step_days.value_or(horizon);
  t.count = std::max(1, static_cast<int>(std::lround(horizon / t.days)));
  for (int k = 0; k < t.count; ++k) {
    t.points.push_back((k + 1) * t.days);
    for (double h : horizons) t.points.push_back(k * t.days + h);
  }
  std::sort(t.points.begin(), t.points.end());
  // Days equal but for rounding (2 x 0.5 + 1 and 2) are one point.
  t.points.erase(std::unique(t.points.begin(), t.points.end(),
                             [](double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(1.0, b); }),
                 t.points.end());
  const auto at = [&](double day) {
    const auto it = std::lower_bound(t.points.begin(), t.points.end(), day - 1e-9 * std::max(1.0, day));
    return static_cast<int>(it - t.points.begin());
  };
  for (int k = 0; k < t.count; ++k) {
    t.start.push_back(k == 0 ? -1 : at(k * t.days));
    t.end.push_back(at((k + 1) * t.days));
    t.window.emplace_back();
    for (double h : horizons) t.window.back().push_back(at(k * t.days + h));
  }
  return t;
}

// The own-book latent factor's scale: the standard deviation of each
// member's P&L over the period the factor covers, delta-normal under the
// Gaussian model (daily covariance D C D, D the daily volatilities times the
// volatility multiplier; options by their delta). One period: the sum over
// its accounts of their P&L over their own MPOR, whose covariance between
// horizons h and h' is D C D min(h, h'); time steps: the first step.
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
      const double days =
          model.steps.count > 0 ? model.steps.days : model.ccps[static_cast<std::size_t>(acc.ccp)].mpor_days;
      by_days.emplace_back(days, std::move(value));
    }
    double variance = 0.0;
    for (const auto& [h1, v1] : by_days)
      for (const auto& [h2, v2] : by_days) variance += std::min(h1, h2) * v1.dot(cov * v2);
    member.book_sd = std::sqrt(std::max(0.0, variance));
  }
}

// Time steps carry margin, funds and defaults from step to step; the
// mechanisms that act within one period (the settlement layer, lending
// protocols' and crypto venues' liquidation engines) do not run over steps
// yet: such a file is refused, not run with them left out.
void check_time_step_mechanisms(const config::LoadedScenario& loaded, const Model& model) {
  if (model.steps.count == 0) return;
  std::string what;
  if (model.settlement_active) what = "a settlement layer (non-instant settlement, bridges, in-scenario margin calls)";
  for (const auto& ccp : model.ccps) {
    if (!what.empty()) break;
    if (ccp.lending) what = fmt::format("the lending protocol '{}'", ccp.id);
    if (!ccp.maintenance.empty()) what = fmt::format("the liquidation engine of the crypto venue '{}'", ccp.id);
  }
  for (const auto& acc : model.accounts)
    if (what.empty() && acc.maintenance_margin >= 0.0)
      what = fmt::format("the liquidation engine of the crypto venue '{}' (members[].maintenance_margin)",
                         model.ccps[static_cast<std::size_t>(acc.ccp)].id);
  if (what.empty()) return;
  const auto& sim = loaded.scenario.simulation;
  const std::string path = sim.step_days      ? "simulation.step_days"
                           : sim.horizon_days ? "simulation.horizon_days"
                                              : "market.fire_sales";
  config::Diagnostics d(loaded.source_name);
  d.error(loaded.source_map.find(path), path,
          fmt::format("expected a scenario without {} when it runs in time steps, found one: these mechanisms run "
                      "within one period only; remove simulation.horizon_days and step_days to run it in one period",
                      what));
  throw config::ScenarioError(std::move(d));
}

Model build_unmapped(const config::LoadedScenario& loaded) {
  const config::Scenario& s = loaded.scenario;
  Model model;
  model.name = s.name;
  model.seed = s.seed;
  model.scenarios = s.simulation.scenarios;
  model.batch = s.simulation.batch;
  model.threads = static_cast<int>(s.simulation.threads);
  model.shocks = s.market.shocks;
  model.stress_scenarios = s.market.stress_scenarios;
  model.source_name = loaded.source_name;

  // ---- market
  std::map<std::string, int> asset_index, ccp_index, member_index;
  for (const auto& a : s.market.assets) {
    asset_index[a.id] = static_cast<int>(model.assets.size());
    model.assets.push_back(
        {a.id, a.price, a.volatility / std::sqrt(a.trading_days), a.adv, a.liquidation_cost, a.chain});
  }
  const auto n_assets = static_cast<Eigen::Index>(model.assets.size());
  if (const auto& history = loaded.data.history) {
    const Eigen::MatrixXd log_prices = history->prices.array().log().matrix();
    const Eigen::Index days = log_prices.rows() - 1;
    model.history_log_returns = log_prices.bottomRows(days) - log_prices.topRows(days);
    model.history_mode = s.market.history->mode;
  }
  model.correlation = correlation_matrix(s.market, asset_index);
  model.correlation_factor = models::correlation_factor(model.correlation);
  Eigen::VectorXd daily_vol(n_assets), price(n_assets);
  for (Eigen::Index a = 0; a < n_assets; ++a) {
    daily_vol(a) = model.assets[static_cast<std::size_t>(a)].daily_vol * s.market.shocks.volatility_multiplier;
    price(a) = model.assets[static_cast<std::size_t>(a)].price;
  }
  std::map<std::string, int> option_index;
  for (const auto& o : s.market.options) {
    option_index[o.id] = static_cast<int>(model.options.size());
    OptionModel option;
    option.id = o.id;
    option.underlying = asset_index.at(o.underlying);
    option.contract = {o.type, o.strike, o.expiry_days / 365.0, o.implied_vol, o.rate, o.vol_beta};
    const auto greeks = models::black76_greeks(o.type, price(option.underlying), o.strike, option.contract.expiry_years,
                                               o.implied_vol, o.rate);
    option.value = greeks.price;
    option.delta = greeks.delta;
    model.options.push_back(std::move(option));
  }
  // Margin models see the unstressed volatility.
  Eigen::VectorXd margin_vol(n_assets);
  for (Eigen::Index a = 0; a < n_assets; ++a) margin_vol(a) = model.assets[static_cast<std::size_t>(a)].daily_vol;

  // ---- CCPs
  for (const auto& c : s.ccps) {
    ccp_index[c.id] = static_cast<int>(model.ccps.size());
    CcpModel ccp;
    ccp.id = c.id;
    ccp.kind = c.kind;
    ccp.capital = c.capital;
    ccp.sitg = c.sitg.value_or(default_sitg(c));
    ccp.sitg_rule = c.sitg                                        ? "given"
                    : c.sitg_basis == config::SitgBasis::kCapital ? "25% of capital (sitg_basis: capital)"
                    : c.minimum_capital                           ? "25% of the minimum capital (RTS 153/2013 art. 35)"
                                                                  : "25% of capital, standing for the minimum capital "
                                                                    "(RTS 153/2013 art. 35; minimum_capital not stated)";
    ccp.sitg2 = std::min(c.sitg2, std::max(0.0, c.capital - ccp.sitg));
    ccp.insurance_fund = c.insurance_fund;
    if (!c.insurance_fund_asset.empty()) ccp.insurance_fund_asset = asset_index.at(c.insurance_fund_asset);
    if (const auto* tiered = std::get_if<config::TieredMargin>(&c.margin.model))
      for (const auto& t : tiered->tiers)
        if (t.mm) ccp.maintenance.push_back({t.up_to, *t.mm});
    if (c.kind == CcpKind::kLendingProtocol)
      ccp.lending = lending_rules(c.lending.value_or(config::LendingConfig{}), asset_index);
    ccp.assessment_multiple = c.assessments.multiple;
    ccp.vmgh.max_rate = c.vmgh.max_rate;
    ccp.adl_ranking = c.adl.ranking == config::AdlRankingRule::kPnl        ? models::AdlRanking::kPnl
                      : c.adl.ranking == config::AdlRankingRule::kLeverage ? models::AdlRanking::kLeverage
                                                                           : models::AdlRanking::kBitmex;
    ccp.vmgh.per_call = c.vmgh.per_call.value_or(std::numeric_limits<double>::infinity());
    ccp.vmgh.total_left = c.vmgh.total.value_or(std::numeric_limits<double>::infinity());
    ccp.vmgh.step_left = c.vmgh.per_step.value_or(std::numeric_limits<double>::infinity());
    ccp.mpor_days = c.margin.mpor_days;
    ccp.waterfall = c.waterfall ? *c.waterfall : default_waterfall(c.kind);
    ccp.im_segregated = c.im_segregated;
    ccp.im_recovery_rate = c.im_recovery_rate;
    ccp.link_losses = c.link_losses;
    ccp.ledger_layers = ledger_layers(ccp);
    ccp.margin_model = margin_name(c.margin);
    model.ccps.push_back(std::move(ccp));
    model.horizons.push_back(c.margin.mpor_days);
  }
  build_settlement(s, asset_index, model);
  std::sort(model.horizons.begin(), model.horizons.end());
  model.horizons.erase(std::unique(model.horizons.begin(), model.horizons.end()), model.horizons.end());
  for (auto& ccp : model.ccps)
    ccp.horizon = static_cast<int>(std::lower_bound(model.horizons.begin(), model.horizons.end(), ccp.mpor_days) -
                                   model.horizons.begin());
  model.fire_sales = s.market.fire_sales;
  model.steps = time_steps(s.simulation, model.fire_sales, model.horizons);

  // ---- members (listed, then generated) and their accounts
  std::vector<config::MemberConfig> members = s.members;
  {
    auto generated = generate_members(s);
    std::set<std::string> ids;
    for (const auto& m : members) ids.insert(m.id);
    for (auto& m : generated) {
      if (ids.count(m.id)) {
        config::Diagnostics d(loaded.source_name);
        d.error(loaded.source_map.find("generator.id_prefix"), "generator.id_prefix",
                fmt::format("generated member id '{}' is already the id of a listed member", m.id));
        throw config::ScenarioError(std::move(d));
      }
      members.push_back(std::move(m));
    }
  }
  std::map<std::string, int> group_index;
  for (const auto& m : members) {
    const int mi = static_cast<int>(model.members.size());
    member_index[m.id] = mi;
    MemberModel member;
    member.id = m.id;
    const std::string& group = m.group.empty() ? m.id : m.group;
    auto [it, inserted] = group_index.emplace(group, static_cast<int>(model.groups.size()));
    if (inserted) {
      model.groups.emplace_back();
      model.group_ids.push_back(group);
    }
    member.group = it->second;
    model.groups[static_cast<std::size_t>(member.group)].push_back(mi);
    member.capital = m.capital;
    member.liquidity = m.liquidity;
    for (const auto& [ccp_id, book] : m.positions) {
      Account acc;
      acc.kind = AccountKind::kMember;
      acc.owner = mi;
      acc.ccp = ccp_index.at(ccp_id);
      acc.quantity = Eigen::VectorXd::Zero(n_assets);
      for (const auto& [id, qty] : book) {
        if (const auto asset = asset_index.find(id); asset != asset_index.end()) {
          acc.quantity(asset->second) += qty;
        } else {
          add_option(acc.options, option_index.at(id), qty);
        }
      }
      std::erase_if(acc.options, [](const OptionHolding& h) { return h.quantity == 0.0; });
      member.accounts.push_back(static_cast<int>(model.accounts.size()));
      model.ccps[static_cast<std::size_t>(acc.ccp)].accounts.push_back(static_cast<int>(model.accounts.size()));
      model.accounts.push_back(std::move(acc));
    }
    model.members.push_back(std::move(member));
  }
  // Lending protocols: the e-mode category each member's account entered.
  for (std::size_t c = 0; c < s.ccps.size(); ++c) {
    auto& lending = model.ccps[c].lending;
    if (!lending) continue;
    lending->member_emode.assign(model.members.size(), 0);
    if (!s.ccps[c].lending) continue;
    for (const auto& e : s.ccps[c].lending->emode)
      for (const auto& id : e.members)
        lending->member_emode[static_cast<std::size_t>(member_index.at(id))] = static_cast<int>(e.id);
  }

  // ---- without links: members take the other side directly where it is needed
  take_other_side_directly(s, model);

  // ---- link positions that balance every book
  const auto n_ccps = static_cast<Eigen::Index>(model.ccps.size());
  Eigen::MatrixXd net = Eigen::MatrixXd::Zero(n_ccps, n_assets);
  for (const auto& acc : model.accounts) net.row(acc.ccp) += acc.quantity.transpose();
  std::vector<std::pair<int, int>> link_pairs;
  for (const auto& l : s.links) link_pairs.emplace_back(ccp_index.at(l.between[0]), ccp_index.at(l.between[1]));

  // ---- trades: novation at each side's CCP, routed over the shortest chain of links
  Eigen::MatrixXd routed = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(link_pairs.size()), n_assets);
  {
    config::Diagnostics d(loaded.source_name);
    // Where a field of a trade is (kTradeColumns order; -1: the whole trade),
    // and the key path its errors name: a trade of the file by its own key, a
    // trade of trades_file by its cell in the CSV.
    struct Site {
      config::Location where;
      std::string path;
    };
    const auto lookup = [&](const std::map<std::string, int>& index, const std::string& id, const Site& site,
                            std::string_view what) {
      auto it = index.find(id);
      if (it != index.end()) return it->second;
      d.error(site.where, site.path, fmt::format("unknown {} '{}'", what, id));
      return -1;
    };
    const auto account_of = [&](int member, int ccp) {
      for (int a : model.members[static_cast<std::size_t>(member)].accounts)
        if (model.accounts[static_cast<std::size_t>(a)].ccp == ccp) return a;
      Account acc{AccountKind::kMember, member, ccp, Eigen::VectorXd::Zero(n_assets)};
      const int a = static_cast<int>(model.accounts.size());
      model.accounts.push_back(std::move(acc));
      model.members[static_cast<std::size_t>(member)].accounts.push_back(a);
      model.ccps[static_cast<std::size_t>(ccp)].accounts.push_back(a);
      return a;
    };
    const auto novate = [&](const config::TradeConfig& trade, const auto& site) {
      const int buyer = lookup(member_index, trade.buyer, site(0), "member");
      const int seller = lookup(member_index, trade.seller, site(1), "member");
      if (option_index.count(trade.asset)) {
        const Site field = site(2);
        d.error(field.where, field.path,
                fmt::format("'{}' is an option: trades in options are not supported; give option positions under "
                            "members[].positions",
                            trade.asset));
        return;
      }
      const int asset = lookup(asset_index, trade.asset, site(2), "asset");
      const int from = lookup(ccp_index, trade.buyer_ccp, site(4), "CCP");
      const int to = lookup(ccp_index, trade.seller_ccp, site(5), "CCP");
      if (buyer < 0 || seller < 0 || asset < 0 || from < 0 || to < 0) return;
      if (buyer == seller && from == to) {
        const Site whole = site(-1);
        d.error(whole.where, whole.path, fmt::format("member '{}' trades with itself", trade.buyer));
        return;
      }
      const auto route = models::shortest_link_path(static_cast<int>(n_ccps), link_pairs, from, to);
      if (!route) {
        const Site whole = site(-1);
        d.error(whole.where, whole.path,
                fmt::format("no chain of links from CCP '{}' (buyer '{}') to CCP '{}' (seller '{}')", trade.buyer_ccp,
                            trade.buyer, trade.seller_ccp, trade.seller));
        return;
      }
      model.accounts[static_cast<std::size_t>(account_of(buyer, from))].quantity(asset) += trade.quantity;
      model.accounts[static_cast<std::size_t>(account_of(seller, to))].quantity(asset) -= trade.quantity;
      // Each hop u -> v: the next CCP v is short the quantity at u, and u long at v.
      for (std::size_t h = 0; h + 1 < route->size(); ++h) {
        const int u = (*route)[h], v = (*route)[h + 1];
        for (std::size_t l = 0; l < link_pairs.size(); ++l) {
          const auto [first, second] = link_pairs[l];
          if (first == u && second == v) {
            routed(static_cast<Eigen::Index>(l), asset) -= trade.quantity;
            break;
          }
          if (first == v && second == u) {
            routed(static_cast<Eigen::Index>(l), asset) += trade.quantity;
            break;
          }
        }
      }
    };
    for (std::size_t t = 0; t < s.trades.size(); ++t) {
      novate(s.trades[t], [&](int field) {
        std::string path = fmt::format("trades[{}]", t);
        if (field >= 0) path += "." + std::string(config::kTradeColumns[static_cast<std::size_t>(field)]);
        return Site{loaded.source_map.find(path), path};
      });
    }
    for (const auto& file_trade : loaded.data.trades) {
      novate(file_trade.trade, [&](int field) {
        config::Location where = file_trade.where[static_cast<std::size_t>(std::max(field, 0))];
        if (field < 0) where.column = 1;  // the row
        return Site{where, "trades_file"};
      });
    }
    if (!d.empty()) throw config::ScenarioError(std::move(d));
  }
  Eigen::VectorXd gross = Eigen::VectorXd::Zero(n_assets);
  for (const auto& acc : model.accounts) gross += acc.quantity.cwiseAbs();
  models::LinkFlows flows = models::min_norm_link_flows(net, link_pairs);
  flows.flows += routed;  // routed trades balance their own legs hop by hop
  for (Eigen::Index c = 0; c < n_ccps; ++c) {
    const auto& cfg = s.ccps[static_cast<std::size_t>(c)];
    Eigen::VectorXd left = flows.imbalance.row(c).transpose();
    for (Eigen::Index a = 0; a < n_assets; ++a) {
      // Rounding relative to the gross positions in the asset, not the net.
      const double scale = std::max(1.0, gross(a));
      if (std::abs(left(a)) <= 1e-9 * scale) left(a) = 0.0;
    }
    // Options do not cross links: the CCP's members net them among themselves.
    std::vector<OptionHolding> options_left;
    {
      std::vector<double> net_options(model.options.size(), 0.0), gross_options(model.options.size(), 0.0);
      for (int a : model.ccps[static_cast<std::size_t>(c)].accounts)
        for (const OptionHolding& h : model.accounts[static_cast<std::size_t>(a)].options) {
          net_options[static_cast<std::size_t>(h.option)] += h.quantity;
          gross_options[static_cast<std::size_t>(h.option)] += std::abs(h.quantity);
        }
      for (std::size_t o = 0; o < net_options.size(); ++o)
        if (std::abs(net_options[o]) > 1e-9 * std::max(1.0, gross_options[o]))
          options_left.push_back({static_cast<int>(o), net_options[o]});
    }
    if (left.isZero() && options_left.empty()) continue;
    if (cfg.imbalance == config::ImbalancePolicy::kError) {
      std::vector<std::string> parts;
      for (Eigen::Index a = 0; a < n_assets; ++a)
        if (left(a) != 0.0)
          parts.push_back(fmt::format("{} {:+.6g}", model.assets[static_cast<std::size_t>(a)].id, left(a)));
      for (const OptionHolding& h : options_left)
        parts.push_back(fmt::format("{} {:+.6g} (options do not cross links)",
                                    model.options[static_cast<std::size_t>(h.option)].id, h.quantity));
      const auto where = loaded.source_map.find(fmt::format("ccps[{}].id", c));
      config::Diagnostics d(loaded.source_name);
      d.error(where, fmt::format("ccps[{}]", c),
              fmt::format("the book of CCP '{}' does not balance: its members are net {} that no link can offset; "
                          "add positions or links, or set imbalance: rest_of_market",
                          cfg.id, fmt::join(parts, ", ")));
      throw config::ScenarioError(std::move(d));
    }
    Account rest;
    rest.kind = AccountKind::kRestOfMarket;
    rest.ccp = static_cast<int>(c);
    rest.quantity = -left;
    for (const OptionHolding& h : options_left) rest.options.push_back({h.option, -h.quantity});
    model.ccps[static_cast<std::size_t>(c)].accounts.push_back(static_cast<int>(model.accounts.size()));
    model.accounts.push_back(std::move(rest));
  }
  for (std::size_t l = 0; l < s.links.size(); ++l) {
    const auto& cfg = s.links[l];
    LinkModel link;
    link.first = link_pairs[l].first;
    link.second = link_pairs[l].second;
    link.model = cfg.model;
    link.segregated = cfg.segregated;
    link.recovery_rate = cfg.recovery_rate;
    link.link_fund = cfg.link_fund;
    link.fund_by_stress = cfg.link_fund_sizing == config::LinkFundSizing::kCover1;
    const Eigen::VectorXd f = flows.flows.row(static_cast<Eigen::Index>(l)).transpose();
    Account at_first{AccountKind::kLink, link.second, link.first, f};
    Account at_second{AccountKind::kLink, link.first, link.second, -f};
    link.account_at_first = static_cast<int>(model.accounts.size());
    model.ccps[static_cast<std::size_t>(link.first)].accounts.push_back(link.account_at_first);
    model.accounts.push_back(std::move(at_first));
    link.account_at_second = static_cast<int>(model.accounts.size());
    model.ccps[static_cast<std::size_t>(link.second)].accounts.push_back(link.account_at_second);
    model.accounts.push_back(std::move(at_second));
    model.links.push_back(link);
  }

  // ---- per-account figures: notional, liquidation cost (options by their delta)
  for (auto& acc : model.accounts) {
    const Eigen::VectorXd value = account_delta_values(model, acc);
    acc.notional = value.cwiseAbs().sum();
    for (Eigen::Index a = 0; a < n_assets; ++a) {
      const double x = std::abs(value(a));
      const auto& asset = model.assets[static_cast<std::size_t>(a)];
      if (x > 0.0 && asset.liquidation_k > 0.0 && std::isfinite(asset.adv))
        acc.liquidation_cost += asset.liquidation_k * x * std::sqrt(x / asset.adv);
    }
  }
  // Every figure below is a sum of these and of margins, stress losses and
  // funds: each is checked finite once computed, at the inputs it comes from.
  const std::size_t listed_members = s.members.size();
  const auto require = [&](int account, std::string_view what, double value) {
    require_finite(model, loaded, listed_members, static_cast<std::size_t>(account), what, value);
  };
  for (std::size_t a = 0; a < model.accounts.size(); ++a) {
    require(static_cast<int>(a), "position value (USD)", model.accounts[a].notional);
    require(static_cast<int>(a), "liquidation cost (USD)", model.accounts[a].liquidation_cost);
  }

  // ---- margin and default funds, CCP by CCP
  Eigen::MatrixXd history(0, n_assets);
  Eigen::VectorXd adv(n_assets);
  for (Eigen::Index a = 0; a < n_assets; ++a) adv(a) = model.assets[static_cast<std::size_t>(a)].adv;
  for (std::size_t c = 0; c < model.ccps.size(); ++c) {
    CcpModel& ccp = model.ccps[c];
    const auto& cfg = s.ccps[c];
    const auto n_acc = static_cast<Eigen::Index>(ccp.accounts.size());
    Eigen::MatrixXd values(n_acc, n_assets);
    for (Eigen::Index i = 0; i < n_acc; ++i)
      values.row(i) = model.accounts[static_cast<std::size_t>(ccp.accounts[static_cast<std::size_t>(i)])]
                          .quantity.cwiseProduct(price)
                          .transpose();
    std::int64_t lookback = 0;
    if (const auto* hist = std::get_if<config::HistoricalMargin>(&cfg.margin.model)) lookback = hist->lookback_days;
    // market.history: its last lookback_days returns (all when it is shorter).
    const Eigen::Index recent = std::min<Eigen::Index>(lookback, model.history_log_returns.rows());
    if (!model.history_mode && lookback > history.rows()) history = history_returns(model, lookback);
    RowOptions books{model.options, price, {}};
    for (int a : ccp.accounts) books.rows.push_back(&model.accounts[static_cast<std::size_t>(a)].options);
    const Eigen::VectorXd im = model.history_mode
                                   ? margin_rows(cfg.margin, values, books, margin_vol, model.correlation_factor, adv,
                                                 model.history_log_returns.bottomRows(recent), true)
                                   : margin_rows(cfg.margin, values, books, margin_vol, model.correlation_factor, adv,
                                                 history.topRows(std::max<Eigen::Index>(lookback, 0)), false);
    for (Eigen::Index i = 0; i < n_acc; ++i) {
      Account& acc = model.accounts[static_cast<std::size_t>(ccp.accounts[static_cast<std::size_t>(i)])];
      acc.initial_margin = acc.kind == AccountKind::kRestOfMarket || hosts_participant(model, acc) ? 0.0 : im(i);
      if (acc.kind == AccountKind::kMember) {
        for (const auto& [ccp_id, amount] : members[static_cast<std::size_t>(acc.owner)].initial_margin)
          if (ccp_id == ccp.id) acc.initial_margin = amount;
        for (const auto& [ccp_id, amount] : members[static_cast<std::size_t>(acc.owner)].maintenance_margin)
          if (ccp_id == ccp.id) acc.maintenance_margin = amount;
      }
      require(ccp.accounts[static_cast<std::size_t>(i)], "initial margin (USD)", im(i));
    }

    // ---- the default-fund stress set (RTS 153/2013 art. 30): directional,
    // named, single-asset, spread and historical moves over the MPOR
    // (models/default_fund/stress_set.hpp), taken in blocks of moves so that
    // memory stays accounts x block, not accounts x moves.
    const SizingSet set = sizing_stress_set(model, s, cfg, ccp.mpor_days, margin_vol, asset_index, loaded);
    const Eigen::Index n_moves = set.simple_moves.cols();
    ccp.stress_families = set.families;
    // Rows of the uncovered-loss matrix: the default groups with an account
    // here (ascending, so ties go to the lower group as before), then the link
    // accounts whose losses reach the mutualised fund (ESMA interoperability
    // guidelines: stressed like members), each beyond the link margin and link
    // fund it posts here.
    std::vector<char> present(model.groups.size(), 0);
    for (int a : ccp.accounts) {
      const Account& acc = model.accounts[static_cast<std::size_t>(a)];
      if (acc.kind == AccountKind::kMember)
        present[static_cast<std::size_t>(model.members[static_cast<std::size_t>(acc.owner)].group)] = 1;
    }
    std::vector<int> group_row(model.groups.size(), -1), row_group;
    for (std::size_t g = 0; g < present.size(); ++g)
      if (present[g]) {
        group_row[g] = static_cast<int>(row_group.size());
        row_group.push_back(static_cast<int>(g));
      }
    const auto n_groups = static_cast<Eigen::Index>(row_group.size());
    std::vector<Eigen::Index> link_rows;  // rows of ccp.accounts, after the groups
    if (ccp.link_losses == config::LinkLossRule::kWaterfall)
      for (Eigen::Index i = 0; i < n_acc; ++i)
        if (model.accounts[static_cast<std::size_t>(ccp.accounts[static_cast<std::size_t>(i)])].kind ==
            AccountKind::kLink)
          link_rows.push_back(i);
    const Eigen::Index n_rows = n_groups + static_cast<Eigen::Index>(link_rows.size());
    Eigen::VectorXd group_im = Eigen::VectorXd::Zero(n_rows);
    for (Eigen::Index i = 0; i < n_acc; ++i) {
      const Account& acc = model.accounts[static_cast<std::size_t>(ccp.accounts[static_cast<std::size_t>(i)])];
      if (acc.kind == AccountKind::kMember)
        group_im(group_row[static_cast<std::size_t>(model.members[static_cast<std::size_t>(acc.owner)].group)]) +=
            acc.initial_margin;
    }
    // The fund each peer link account posts here: fixed, or Cover-1 of its
    // stress loss beyond its link margin (link accounts hold no options).
    std::map<int, double> posted_fund;
    for (Eigen::Index i = 0; i < n_acc; ++i) {
      const int a = ccp.accounts[static_cast<std::size_t>(i)];
      const LinkModel* link = link_of(model, a);
      if (!link || link->model != config::LinkModel::kPeer) continue;
      double fund = link->link_fund;
      const Account& acc = model.accounts[static_cast<std::size_t>(a)];
      if (link->fund_by_stress && n_moves > 0)
        fund = std::max(fund,
                        (-(values.row(i) * set.simple_moves)).maxCoeff() + acc.liquidation_cost - acc.initial_margin);
      posted_fund[a] = fund;
    }
    std::vector<double> dedicated(link_rows.size());
    for (std::size_t r = 0; r < link_rows.size(); ++r) {
      const int a = ccp.accounts[static_cast<std::size_t>(link_rows[r])];
      const Account& acc = model.accounts[static_cast<std::size_t>(a)];
      dedicated[r] = acc.initial_margin + (posted_fund.count(a) ? posted_fund.at(a) : 0.0);
      group_im(n_groups + static_cast<Eigen::Index>(r)) = participant_account(model, a) ? acc.initial_margin : 0.0;
    }
    const bool by_uncovered = cfg.default_fund.allocation == config::FundAllocation::kUncoveredStress;
    const int cover = cfg.default_fund.sizing == config::DefaultFundSizing::kCover1 ? 1 : 2;
    const bool boe = cfg.default_fund.variant == config::CoverVariant::kBoe;
    // Each account's largest uncovered stress loss, max(0, max_s loss_s - IM),
    // the key of allocation pro rata to uncovered stress loss.
    Eigen::VectorXd account_uncovered = Eigen::VectorXd::Zero(n_acc);
    Eigen::MatrixXd uncovered_all;  // rows x moves, kept for the Bank of England variant only
    if (boe) uncovered_all.resize(n_rows, n_moves);
    models::CoverSizing sizing;
    Eigen::VectorXd sizing_column = Eigen::VectorXd::Zero(n_rows);  // uncovered losses in the sizing move
    constexpr Eigen::Index kBlock = 256;
    for (Eigen::Index b0 = 0; b0 < n_moves; b0 += kBlock) {
      const Eigen::Index nb = std::min(kBlock, n_moves - b0);
      // P&L of every account under the block's moves: linear positions, and
      // options revalued in full (Black-76) with the MPOR's time decay.
      Eigen::MatrixXd pnl = values * set.simple_moves.middleCols(b0, nb);
      for (Eigen::Index i = 0; i < n_acc; ++i) {
        const Account& acc = model.accounts[static_cast<std::size_t>(ccp.accounts[static_cast<std::size_t>(i)])];
        for (const OptionHolding& h : acc.options) {
          const OptionModel& o = model.options[static_cast<std::size_t>(h.option)];
          for (Eigen::Index k = 0; k < nb; ++k) {
            const auto vol = set.vol_factor.find(b0 + k);
            const double after = models::black76_value_after(
                o.contract, price(o.underlying), set.simple_moves(o.underlying, b0 + k),
                vol == set.vol_factor.end() ? 1.0 : vol->second(o.underlying), ccp.mpor_days / 365.0);
            pnl(i, k) += h.quantity * (after - o.value);
          }
        }
        for (Eigen::Index k = 0; k < nb; ++k) {
          require(ccp.accounts[static_cast<std::size_t>(i)], "stress loss (USD)", -pnl(i, k));
          account_uncovered(i) = std::max(account_uncovered(i), -pnl(i, k) + acc.liquidation_cost - acc.initial_margin);
        }
      }
      Eigen::MatrixXd uncovered = Eigen::MatrixXd::Zero(n_rows, nb);
      for (Eigen::Index i = 0; i < n_acc; ++i) {
        const Account& acc = model.accounts[static_cast<std::size_t>(ccp.accounts[static_cast<std::size_t>(i)])];
        if (acc.kind != AccountKind::kMember) continue;
        const int row = group_row[static_cast<std::size_t>(model.members[static_cast<std::size_t>(acc.owner)].group)];
        uncovered.row(row).array() += -pnl.row(i).array() + acc.liquidation_cost;
      }
      for (Eigen::Index g = 0; g < n_groups; ++g)
        uncovered.row(g) = (uncovered.row(g).array() - group_im(g)).cwiseMax(0.0);
      for (std::size_t r = 0; r < link_rows.size(); ++r) {
        const Account& acc =
            model.accounts[static_cast<std::size_t>(ccp.accounts[static_cast<std::size_t>(link_rows[r])])];
        uncovered.row(n_groups + static_cast<Eigen::Index>(r)) =
            (-pnl.row(link_rows[r]).array() + acc.liquidation_cost - dedicated[r]).cwiseMax(0.0);
      }
      if (boe) {
        uncovered_all.middleCols(b0, nb) = uncovered;
        continue;
      }
      // Cover-1/2 is a maximum over moves: the block's best replaces the best
      // so far only when larger (ties: the first move, as over the whole set).
      const models::CoverSizing part = models::size_cover(uncovered, cover, ccp.sitg);
      if (part.scenario >= 0 && (sizing.scenario < 0 || part.fund > sizing.fund)) {
        sizing = part;
        sizing_column = uncovered.col(part.scenario);
        sizing.scenario += b0;
      }
    }
    for (Eigen::Index i = 0; i < n_acc; ++i)
      require(ccp.accounts[static_cast<std::size_t>(i)], "uncovered stress loss (USD)", account_uncovered(i));
    if (boe) {
      // Each group's contribution is its share of the fund by the allocation key.
      Eigen::VectorXd group_weight = group_im;
      if (by_uncovered) {
        group_weight.setZero();
        for (Eigen::Index i = 0; i < n_acc; ++i) {
          const Account& acc = model.accounts[static_cast<std::size_t>(ccp.accounts[static_cast<std::size_t>(i)])];
          if (acc.kind == AccountKind::kMember)
            group_weight(
                group_row[static_cast<std::size_t>(model.members[static_cast<std::size_t>(acc.owner)].group)]) +=
                account_uncovered(i);
        }
        for (std::size_t r = 0; r < link_rows.size(); ++r)
          if (participant_account(model, ccp.accounts[static_cast<std::size_t>(link_rows[r])]))
            group_weight(n_groups + static_cast<Eigen::Index>(r)) = account_uncovered(link_rows[r]);
      }
      try {
        sizing = models::size_cover_boe(uncovered_all, group_weight, ccp.sitg);
      } catch (const std::invalid_argument& e) {
        config::Diagnostics d(loaded.source_name);
        const std::string path = fmt::format("ccps[{}].default_fund.variant", c);
        d.error(loaded.source_map.find(path), path, fmt::format("CCP '{}': {}", ccp.id, e.what()));
        throw config::ScenarioError(std::move(d));
      }
      if (sizing.scenario >= 0) sizing_column = uncovered_all.col(sizing.scenario);
    }
    ccp.stress_fund = sizing.fund;
    if (sizing.scenario >= 0) ccp.stress_scenario = set.names[static_cast<std::size_t>(sizing.scenario)];
    for (auto g : sizing.groups) {
      if (!(sizing_column(g) > 0.0)) continue;
      if (g < n_groups) {  // member groups only: a link is not a member that `defaults.rule` can default
        ccp.cover_groups.push_back(row_group[static_cast<std::size_t>(g)]);
        ccp.stress_groups.push_back(model.group_ids[static_cast<std::size_t>(row_group[static_cast<std::size_t>(g)])]);
      } else {
        const int a = ccp.accounts[static_cast<std::size_t>(link_rows[static_cast<std::size_t>(g - n_groups)])];
        ccp.stress_groups.push_back(
            "link:" + model.ccps[static_cast<std::size_t>(model.accounts[static_cast<std::size_t>(a)].owner)].id);
      }
    }
    ccp.default_fund =
        cfg.default_fund.sizing == config::DefaultFundSizing::kFixed ? *cfg.default_fund.amount : sizing.fund;
    // A rulebook without default-fund layers (a crypto venue's insurance fund
    // and ADL) has no default fund.
    const bool uses_fund = std::any_of(ccp.waterfall.begin(), ccp.waterfall.end(), [](models::Layer l) {
      return l == models::Layer::kDefaulterDf || l == models::Layer::kMutualizedDf || l == models::Layer::kAssessments;
    });
    if (!uses_fund) ccp.default_fund = 0.0;
    if (!std::isfinite(ccp.default_fund)) {
      config::Diagnostics d(loaded.source_name);
      const std::string path = fmt::format("ccps[{}].default_fund", c);
      d.error(loaded.source_map.find(path), path,
              fmt::format("expected a finite default fund of CCP '{}', found {}: the stress losses of its members "
                          "add up beyond the range of numbers; check the units of their positions",
                          ccp.id, ccp.default_fund));
      throw config::ScenarioError(std::move(d));
    }

    // Allocation: observed contributions are used as given; the rest of the
    // fund is shared pro rata to IM (or to uncovered stress loss) among the
    // other contributors (members, and CCPs that are participants here).
    double observed_total = 0.0;
    std::vector<Account*> contributors;
    std::vector<double> contributor_uncovered;
    for (std::size_t i = 0; i < ccp.accounts.size(); ++i) {
      const int a = ccp.accounts[i];
      const std::size_t before = contributors.size();
      Account& acc = model.accounts[static_cast<std::size_t>(a)];
      if (acc.kind == AccountKind::kMember) {
        const auto& observed = members[static_cast<std::size_t>(acc.owner)].default_fund;
        auto it = std::find_if(observed.begin(), observed.end(), [&](const auto& p) { return p.first == ccp.id; });
        if (it != observed.end()) {
          acc.default_fund = it->second;
          observed_total += it->second;
          continue;
        }
        contributors.push_back(&acc);
      } else if (participant_account(model, a)) {
        contributors.push_back(&acc);
      }
      if (contributors.size() > before)
        contributor_uncovered.push_back(account_uncovered(static_cast<Eigen::Index>(i)));
    }
    Eigen::VectorXd weights(static_cast<Eigen::Index>(contributors.size()));
    for (std::size_t i = 0; i < contributors.size(); ++i)
      weights(static_cast<Eigen::Index>(i)) = by_uncovered ? contributor_uncovered[i] : contributors[i]->initial_margin;
    const Eigen::VectorXd shares = models::allocate_pro_rata(weights, std::max(0.0, ccp.default_fund - observed_total));
    for (std::size_t i = 0; i < contributors.size(); ++i)
      contributors[i]->default_fund = shares(static_cast<Eigen::Index>(i));
    ccp.default_fund = 0.0;
    for (int a : ccp.accounts) ccp.default_fund += model.accounts[static_cast<std::size_t>(a)].default_fund;
    // A peer link's own fund: covers the link's default only, apart from the
    // members' default fund (and not counted in it).
    for (const auto& [a, fund] : posted_fund) model.accounts[static_cast<std::size_t>(a)].default_fund = fund;
    for (int a : ccp.accounts)
      require(a, "default fund contribution (USD)", model.accounts[static_cast<std::size_t>(a)].default_fund);
  }

  // ---- defaults
  std::map<int, bool> exo;
  for (const auto& id : s.defaults.exogenous)
    exo[model.members[static_cast<std::size_t>(member_index.at(id))].group] = true;
  if (s.defaults.rule != config::DefaultRule::kNone) {
    const std::size_t n = s.defaults.rule == config::DefaultRule::kCover1 ? 1 : 2;
    for (const auto& ccp : model.ccps)
      for (std::size_t k = 0; k < std::min(n, ccp.cover_groups.size()); ++k) exo[ccp.cover_groups[k]] = true;
  }
  for (const auto& [g, yes] : exo) model.exogenous_groups.push_back(g);
  if (s.defaults.latent) {
    model.latent_defaults = true;
    model.latent_beta = s.defaults.latent->beta;
    for (auto& m : model.members) m.pd = s.defaults.latent->pd;
    for (const auto& [id, pd] : s.defaults.latent->member_pd)
      model.members[static_cast<std::size_t>(member_index.at(id))].pd = pd;
    model.latent_own_book = s.defaults.latent->factor == config::LatentFactor::kOwnBook;
    if (model.latent_own_book) set_book_sd(model, s.market.shocks.volatility_multiplier);
  }

  // ---- value matrices by horizon for the revaluation kernel
  model.ledger_columns = s.outputs.ledger_columns;
  model.member_quantiles = s.outputs.member_quantiles;
  model.horizon_accounts.assign(model.horizons.size(), {});
  for (std::size_t a = 0; a < model.accounts.size(); ++a) {
    const int h = model.ccps[static_cast<std::size_t>(model.accounts[a].ccp)].horizon;
    model.horizon_accounts[static_cast<std::size_t>(h)].push_back(static_cast<int>(a));
  }
  for (std::size_t h = 0; h < model.horizons.size(); ++h) {
    const auto& ids = model.horizon_accounts[h];
    Eigen::MatrixXd v(static_cast<Eigen::Index>(ids.size()), n_assets);
    for (std::size_t i = 0; i < ids.size(); ++i)
      v.row(static_cast<Eigen::Index>(i)) =
          model.accounts[static_cast<std::size_t>(ids[i])].quantity.cwiseProduct(price).transpose();
    model.horizon_values.push_back(std::move(v));
  }
  check_time_step_mechanisms(loaded, model);
  compile_interbank(loaded, model);
  return model;
}

}  // namespace

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
