// The steps of the model compiler: build_model (sim/model.cpp) runs them in
// order, each filling one part of the Model from the loaded scenario and the
// parts before it. A new part of the model is one more step here and one
// more line there.
//
// By concern: translate.cpp turns the file's rulebook values (CCPs, links,
// chains, margin and fund rules, shocks) into model-side ones; market.cpp
// assets, options and correlation; ccps.cpp CCPs, settlement and time steps;
// accounts.cpp members and their accounts; books.cpp novation and book
// balancing (rest of market, links); margin.cpp initial margins;
// default_fund.cpp the stress set, fund sizing and allocation; defaults.cpp
// exogenous and latent defaults; checks.cpp the located errors of figures
// computed from the inputs. Checks of the inputs alone belong to the loader
// (sim/config/load.cpp); the steps refuse only what needs their results (a
// trade's route, a book no link can balance, a figure out of range).
#pragma once

#include <Eigen/Dense>
#include <cmath>
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "models/margin/margin_model.hpp"
#include "sim/config/load.hpp"
#include "sim/model.hpp"

namespace ccpnet::compile {

// Ids to indices, filled as the steps add assets, options, CCPs and members;
// the CCP pairs of scenario.links, in order.
struct Index {
  std::map<std::string, int> asset, option, ccp, member;
  std::vector<std::pair<int, int>> links;
};

// ---- translate.cpp: config values -> model-side values
Model settings(const config::LoadedScenario& loaded);
MarketShocks market_shocks(const config::ShockConfig& c, const Index& index);  // after the assets
AssetModel asset_model(const config::AssetConfig& a);
CcpModel ccp_model(const config::CcpConfig& c, const Index& index);
LinkModel link_model(const config::LinkConfig& l, std::pair<int, int> ccps);
ChainModel chain_model(const config::ChainConfig& c);
CcpSettlement ccp_settlement(const config::Scenario& s, const config::CcpConfig& c, const Index& index,
                             const std::map<std::string, int>& chain_index,
                             const std::map<std::string, int>& bridge_index);
models::MarginRule margin_rule(const config::MarginConfig& margin);
std::int64_t history_lookback(const config::MarginConfig& margin);  // historical margin's lookback_days; else 0

// How a CCP sizes and allocates its default fund (ccps[].default_fund and
// stress_set), read once from its config.
struct FundRule {
  int cover = 2;                     // Cover-1 or Cover-2 (also what the stress fund reports when fixed)
  std::optional<double> fixed;       // sizing: fixed, the amount
  bool boe = false;                  // the Bank of England variant
  bool by_uncovered_stress = false;  // allocation pro rata to uncovered stress loss, else to IM
  double stress_sigma = 5.0;
  bool single_asset = true, spreads = true, history = true;
  double stressed_correlation = 0.0;
};
FundRule fund_rule(const config::CcpConfig& c);

// ---- market.cpp
void add_assets(const config::MarketConfig& market, Index& index, Model& model);
void add_history(const config::LoadedScenario& loaded, Model& model);
void set_correlation(const config::MarketConfig& market, const Index& index, Model& model);
void add_options(const config::MarketConfig& market, Index& index, Model& model);
Eigen::VectorXd asset_prices(const Model& model);
Eigen::VectorXd daily_vols(const Model& model);  // unstressed: what margin models and the stress set see

// ---- ccps.cpp
void add_ccps(const config::Scenario& s, Index& index, Model& model);
std::vector<std::pair<int, int>> link_pairs(const std::vector<config::LinkConfig>& links, const Index& index);
void add_settlement(const config::Scenario& s, const Index& index, Model& model);
void set_horizons(Model& model);
TimeSteps time_steps(const config::SimulationConfig& sim, bool fire_sales, const std::vector<double>& horizons);

// ---- accounts.cpp
std::vector<config::MemberConfig> member_list(const config::Scenario& s);  // listed, then generated
// The account of member `mi` at CCP `ccp` with the book `positions` (asset and option ids).
Account position_account(int mi, int ccp, const config::OrderedMap<double>& positions, const Index& index,
                         Eigen::Index n_assets);
void add_members(const std::vector<config::MemberConfig>& members, Index& index, Model& model);
void set_member_emode(const config::Scenario& s, const Index& index, Model& model);
int member_account(Model& model, int member, int ccp);  // opened (empty) when it has none
Eigen::MatrixXd ccp_values(const Model& model, const CcpModel& ccp, const Eigen::VectorXd& price);
void set_horizon_values(Model& model);

// ---- clients.cpp: members[].clients (EMIR art. 39, 48)
// Each client's accounts (AccountKind::kClient), after the members and before
// the books are balanced; its member's house account opened at each CCP.
void add_clients(const std::vector<config::MemberConfig>& members, const Index& index, Model& model);
// After the margins: observed client IM; each backup clears at one of its
// client's CCPs at least (located errors otherwise).
void set_client_margins(const config::LoadedScenario& loaded, Model& model);

// ---- default_management.cpp: ccps[].auction and ccps[].recovery into the
// CCPs and accounts (after the default funds are sized)
void set_default_management(const config::LoadedScenario& loaded, Model& model);

// ---- books.cpp
void take_other_side_directly(const config::Scenario& s, Model& model);
Eigen::MatrixXd net_positions(const Model& model);  // CCPs x assets
Eigen::MatrixXd novate_trades(const config::LoadedScenario& loaded, const Index& index, Model& model);
Eigen::MatrixXd balance_books(const config::LoadedScenario& loaded, const Index& index, const Eigen::MatrixXd& net,
                              const Eigen::MatrixXd& routed, Model& model);
void add_links(const config::Scenario& s, const Index& index, const Eigen::MatrixXd& flows, Model& model);
const LinkModel* link_of(const Model& model, int account);
bool participant_account(const Model& model, int account);
bool hosts_participant(const Model& model, const Account& acc);

// ---- checks.cpp: located errors at the inputs a computed figure comes from
class FiniteCheck {
 public:
  FiniteCheck(const config::LoadedScenario& loaded, std::size_t listed_members)
      : loaded_(loaded), listed_members_(listed_members) {}
  // Throws a located ScenarioError unless `value` (the `what` of an account)
  // is finite. Inline: it runs for every account in every stress move.
  void require(const Model& model, int account, std::string_view what, double value) const {
    if (!std::isfinite(value)) refuse_non_finite(model, account, what, value);
  }

 private:
  [[noreturn]] void refuse_non_finite(const Model& model, int account, std::string_view what, double value) const;
  const config::LoadedScenario& loaded_;
  std::size_t listed_members_;
};
[[noreturn]] void refuse(const config::LoadedScenario& loaded, const std::string& path, const std::string& message);

// ---- move_pnl.cpp: stress moves that shift one or two assets
// A move's assets lo < hi (hi = -1: one asset; lo = -1: a move of more assets).
struct TwoAssetMove {
  int lo = -1, hi = -1;
};
// The linear P&L of accounts under the moves b0 .. b0 + nb - 1: pnl
// (accounts x nb) = values (accounts x assets) * moves.middleCols(b0, nb),
// equal to the bit to that dense product. The moves that shift one or two
// assets (two_asset, by move; zeros elsewhere in `moves`) are read from the
// columns of those assets when every value is finite (finite_values).
// tail_store: scratch kept from call to call.
void stress_move_pnl(const Eigen::MatrixXd& values, const Eigen::MatrixXd& moves,
                     const std::vector<TwoAssetMove>& two_asset, Eigen::Index b0, Eigen::Index nb, bool finite_values,
                     std::vector<double>& tail_store, Eigen::Ref<Eigen::MatrixXd> pnl);

// ---- margin.cpp, default_fund.cpp, defaults.cpp
void set_account_figures(const FiniteCheck& finite, Model& model);
void set_initial_margins(const config::Scenario& s, const std::vector<config::MemberConfig>& members,
                         const FiniteCheck& finite, Model& model);
void set_default_funds(const config::LoadedScenario& loaded, const std::vector<config::MemberConfig>& members,
                       const Index& index, const FiniteCheck& finite, Model& model);
void set_defaults(const config::Scenario& s, const Index& index, Model& model);

}  // namespace ccpnet::compile
