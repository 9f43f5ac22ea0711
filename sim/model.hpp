// The validated, resolved system the engine runs: ids turned into indices,
// positions into value matrices, margin and default funds computed (or taken
// as observed), link positions derived. Built once from a loaded scenario;
// read-only during a run, so any number of threads share it.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/waterfall/waterfall.hpp"
#include "sim/config/load.hpp"
#include "sim/config/schema.hpp"

namespace ccpnet {

// Bad input found while building the model; the message is already located.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct AssetModel {
  std::string id;
  double price = 0.0;
  double daily_vol = 0.0;  // volatility / sqrt(trading_days)
  double adv = 0.0;
  double liquidation_k = 0.0;
  std::string chain;
};

enum class AccountKind { kMember, kLink, kRestOfMarket };

// A position account at one CCP: a member's, a linked CCP's, or the aggregate
// rest of the market.
struct Account {
  AccountKind kind = AccountKind::kMember;
  int owner = -1;  // member index (kMember) or linked CCP index (kLink)
  int ccp = -1;
  Eigen::VectorXd quantity;  // per asset
  double initial_margin = 0.0;
  double default_fund = 0.0;
  double liquidation_cost = 0.0;  // square-root impact of closing the whole account
  double notional = 0.0;          // sum of |position value|
};

struct CcpModel {
  std::string id;
  config::CcpKind kind = config::CcpKind::kTraditional;
  double capital = 0.0;
  double sitg = 0.0;
  double sitg2 = 0.0;
  double insurance_fund = 0.0;
  double assessment_multiple = 1.0;
  double mpor_days = 2.0;
  int horizon = 0;  // index into Model::horizons
  std::vector<models::Layer> waterfall;
  double default_fund = 0.0;  // total prefunded fund
  bool im_segregated = true;
  double im_recovery_rate = 0.0;
  std::string margin_model;       // name of the margin model, for reports
  std::vector<int> accounts;      // indices into Model::accounts
  std::vector<int> cover_groups;  // groups with the largest uncovered stress loss, largest first
};

struct MemberModel {
  std::string id;
  int group = -1;
  double capital = 0.0;
  double liquidity = 0.0;
  double pd = 0.0;  // latent-model probability of default
  std::vector<int> accounts;
};

struct LinkModel {
  int first = -1, second = -1;
  config::LinkModel model = config::LinkModel::kPeer;
  bool segregated = true;
  double recovery_rate = 0.0;
  double link_fund = 0.0;
  int account_at_first = -1;   // the second CCP's account at the first
  int account_at_second = -1;  // the first CCP's account at the second
};

struct Model {
  std::string name;
  std::uint64_t seed = 1;
  std::int64_t scenarios = 0;
  std::int64_t batch = 256;
  int threads = 0;

  std::vector<AssetModel> assets;
  Eigen::MatrixXd correlation;
  Eigen::MatrixXd correlation_factor;  // L with L L' = correlation
  config::ShockConfig shocks;
  std::vector<config::StressScenarioConfig> stress_scenarios;
  std::vector<double> horizons;  // distinct MPORs (days), ascending
  // market.history: its daily log-returns ln(P(t+1) / P(t)) (days - 1 rows,
  // oldest first, a column per asset) and how scenarios use them; no mode:
  // scenarios come from the shock model.
  Eigen::MatrixXd history_log_returns;
  std::optional<config::HistoryMode> history_mode;

  std::vector<CcpModel> ccps;
  std::vector<MemberModel> members;
  std::vector<std::vector<int>> groups;  // members of each default group
  std::vector<std::string> group_ids;
  std::vector<Account> accounts;
  std::vector<LinkModel> links;

  std::vector<int> exogenous_groups;  // default at the start of every scenario
  bool latent_defaults = false;
  double latent_beta = 0.0;

  // Position values (quantity x price) of every account, one row per account,
  // grouped by horizon: value_rows[h] lists the accounts, values[h] their rows.
  std::vector<std::vector<int>> horizon_accounts;
  std::vector<Eigen::MatrixXd> horizon_values;

  std::string source_name;
};

// Builds the model; throws InputError (located) when the positions cannot be
// balanced over the links, and ScenarioError for other cross-checks.
Model build_model(const config::LoadedScenario& loaded);

}  // namespace ccpnet
