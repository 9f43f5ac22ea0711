// The validated, resolved system the engine runs: ids turned into indices,
// positions into value matrices, margin and default funds computed (or taken
// as observed), link positions derived. Built once from a loaded scenario;
// read-only during a run, so any number of threads share it.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "models/instruments/black76.hpp"
#include "models/lending/lending.hpp"
#include "models/margin/margin_model.hpp"
#include "models/margin/tiered.hpp"
#include "models/settlement/finality.hpp"
#include "models/waterfall/adl.hpp"
#include "models/waterfall/auction.hpp"
#include "models/waterfall/recovery.hpp"
#include "models/waterfall/waterfall.hpp"
#include "sim/model_types.hpp"
#include "sim/nexus.hpp"

namespace ccpnet {

namespace config {
struct LoadedScenario;
struct Override;
}  // namespace config

struct AssetModel {
  std::string id;
  double price = 0.0;
  double daily_vol = 0.0;  // volatility / sqrt(trading_days)
  double adv = 0.0;
  double liquidation_k = 0.0;
  std::string chain;
};

// A European option of market.options (SPEC 3.2), revalued by Black-76 with
// its underlying's price as the forward.
struct OptionModel {
  std::string id;
  int underlying = -1;  // index into Model::assets
  models::OptionContract contract;
  double value = 0.0;  // Black-76 price today, per option (USD)
  double delta = 0.0;  // dV/dF today
};

// An option position of an account: `quantity` options on one unit each.
struct OptionHolding {
  int option = -1;  // index into Model::options
  double quantity = 0.0;
};

enum class AccountKind { kMember, kLink, kRestOfMarket, kClient };

// The value of a position in one asset (USD at today's price; options by
// their delta).
struct AssetValue {
  int asset = -1;
  double value = 0.0;
};

// A position account at one CCP: a member's, a linked CCP's, the aggregate
// rest of the market, or a client's held through its clearing member.
struct Account {
  AccountKind kind = AccountKind::kMember;
  int owner = -1;  // member index (kMember), linked CCP index (kLink) or client index (kClient)
  int ccp = -1;
  Eigen::VectorXd quantity;  // per asset
  // Option positions, by option index, nonzero quantities only (members' and
  // rest-of-market accounts; options do not cross links). They are revalued
  // in full outside the linear kernel (values matrices and Revaluation).
  std::vector<OptionHolding> options{};
  double initial_margin = 0.0;
  double default_fund = 0.0;
  double maintenance_margin = -1.0;  // observed today (members[].maintenance_margin); < 0: from the tiered mm rates
  double liquidation_cost = 0.0;     // square-root impact of closing the whole account (options by their delta)
  double notional = 0.0;             // sum over assets of |position value| (options by their delta)
  // Its position values today, nonzero only: what closing it trades. A
  // close-out later in a scenario trades them at that day's prices
  // (close_out_cost, close_out_value, fire_sale_cost).
  std::vector<AssetValue> values{};
  // Default management (ccps[].auction): whether it bids well in its CCP's
  // auctions (juniorisation).
  bool bids = true;
};

// How a CCP's payments and deliveries settle (SPEC 3.8).
struct CcpSettlement {
  SettlementMode mode = SettlementMode::kInstant;
  int chain = -1;   // index into Model::chains: the chain VM is paid on
  int bridge = -1;  // index into Model::bridges (mode bridge)
  double deadline_hours = 2.0;
  double time_lock_hours = 24.0;
  double in_flight = 0.0;
  Custody custody = Custody::kCcp;
  int custody_bridge = -1;  // index into Model::bridges (custody bridge)
  // In-scenario margin calls: collateral posted in an asset, and the spiral.
  int collateral_asset = -1;  // index into Model::assets; -1: cash
  double collateral_share = 0.0;
  double collateral_haircut = 0.0;
  bool spiral = false;
  double spiral_lambda = 0.94;
  double apc_buffer = 0.0;  // IM held includes a buffer of this rate (ApcMode::kBuffer)
  double apc_stressed_weight = 0.0, apc_stressed_multiplier = 1.0;  // ApcMode::kStressedWeight
};

// A lending protocol's liquidation rules (SPEC 3.6): per asset of
// Model::assets its LT, bonus and e-mode category, the e-mode categories and
// the close factor; the oracle delay; each member's e-mode category.
struct LendingRules {
  models::LendingMarket market;
  double oracle_delay_hours = 0.0;
  std::vector<int> member_emode;  // per member index: the category its account entered (0: none)
};

struct CcpModel {
  std::string id;
  CcpKind kind = CcpKind::kTraditional;
  double capital = 0.0;
  double sitg = 0.0;
  double sitg2 = 0.0;
  std::string sitg_rule;  // where the SITG comes from, in words (reports)
  double insurance_fund = 0.0;
  int insurance_fund_asset = -1;  // index into Model::assets: the fund is held in it; -1: USD
  // A crypto venue's maintenance rates by notional tier (tiered margin's mm):
  // its liquidation engine runs on every member account; empty: it does not.
  std::vector<models::Tier> maintenance;
  double assessment_multiple = 1.0;
  // VMGH caps; total_left holds the scenario's total cap (copied per scenario).
  models::VmghCaps vmgh;
  models::AdlRanking adl_ranking = models::AdlRanking::kBitmex;
  double mpor_days = 2.0;
  int horizon = 0;  // index into Model::horizons
  std::vector<models::Layer> waterfall;
  double default_fund = 0.0;  // total prefunded fund
  bool im_segregated = true;
  double im_recovery_rate = 0.0;
  LinkLossRule link_losses = LinkLossRule::kWaterfall;
  std::vector<models::Layer> ledger_layers;  // ledger_layers(*this), kept for the per-scenario outputs
  std::string margin_model;                  // name of the margin model, for reports
  // The margin model the CCP's IM is computed by (sim/compile/margin.cpp),
  // which the margin spiral runs again after a move (sim/margin_path.hpp);
  // with spiral and a historical model, the daily returns it reads,
  // standardised (unit daily variance; days x assets).
  models::MarginRule margin_rule;
  Eigen::MatrixXd spiral_history;
  std::vector<int> accounts;      // indices into Model::accounts
  std::vector<int> cover_groups;  // groups with the largest uncovered stress loss, largest first
  // Default-fund sizing over the stress set (RTS 153/2013 art. 30): the fund
  // the set requires (also when the fund is fixed or observed), the move that
  // sets it, the groups (and link accounts, "link:<CCP>") whose uncovered
  // losses there set it, largest first, and the set's size by family.
  double stress_fund = 0.0;
  std::string stress_scenario;
  std::vector<std::string> stress_groups;
  std::vector<std::pair<std::string, int>> stress_families;
  CcpSettlement settlement;
  // Lending protocols: the liquidation rules (long positions are collateral,
  // short positions debt); empty for other kinds.
  std::optional<LendingRules> lending;
  // Default management (sim/compile/default_management.cpp): close-out by
  // hedge and auction on these terms, juniorisation, the recovery tools in order.
  bool auction = false;
  models::AuctionTerms auction_terms{};
  bool juniorisation = false;
  std::vector<models::RecoveryTool> recovery;
  double cash_call_multiple = 1.0;
  double porting_capacity = std::numeric_limits<double>::infinity();  // ccps[].porting.capacity
  double porting_window_days = 0.0;                                   // ccps[].porting.window_days
};

struct MemberModel {
  std::string id;
  int group = -1;
  double capital = 0.0;
  double liquidity = 0.0;
  double pd = 0.0;            // latent-model probability of default
  double book_sd = 0.0;       // own-book latent factor: sd of its P&L over `book_days` (Gaussian, delta-normal)
  std::vector<int> accounts;  // its own (house) accounts, one per CCP where it clears
  std::vector<int> clients;   // indices into Model::clients: the clients it clears for
};

// A client of a clearing member (members[].clients; EMIR art. 39 and 48):
// its accounts (AccountKind::kClient, one per CCP) are margined on their own
// and hold no default-fund contribution; the member's house account at each
// of these CCPs does, sized with them. On the member's default each account
// is ported to the first backup that accepts (ccps[].porting) or closed out
// (Cascade::close_out_clients, sim/clients.cpp).
struct ClientModel {
  std::string id;
  int member = -1;  // the clearing member (index into Model::members)
  Segregation segregation = Segregation::kOmnibus;
  std::vector<int> backups;   // members it designated, in order of preference
  std::vector<int> accounts;  // indices into Model::accounts
};

// One interoperability link: one set of contracts between two CCPs, booked as
// two mirror accounts (the position of each CCP at the other; their P&L sum to
// zero). Peer link: each CCP posts inter-CCP margin (and the link fund) to the
// other. Participant link: the first CCP is a clearing member of the second
// (PFMI Principle 20): it posts IM and contributes to the second's default
// fund; the second posts nothing at the first (its account there holds no
// margin and no fund).
struct LinkModel {
  int first = -1, second = -1;
  LinkKind model = LinkKind::kPeer;
  bool segregated = true;
  double recovery_rate = 0.0;
  double link_fund = 0.0;
  bool fund_by_stress = false;  // link_fund_sizing: cover1
  int account_at_first = -1;    // the second CCP's account at the first
  int account_at_second = -1;   // the first CCP's account at the second
};

struct ChainModel {
  std::string id;
  models::Finality finality;
  bool congests = false;
  double congestion_drop = 0.0;
  double congestion_multiplier = 1.0;
  double halt_probability = 0.0;
  double halt_hours = 0.0;
  double challenge_hours = 0.0;
  std::vector<int> assets;  // assets settling on the chain
};

struct BridgeModel {
  std::string id;
  double exploit_probability = 0.0;
  double recovery_rate = 0.0;
  double delay_hours = 0.0;
};

// Time steps (simulation.horizon_days, step_days): `count` steps of `days`
// days each; count 0 is one period, the engine as it always ran. A path is
// revalued at `points` (days after today, ascending); per step k, `start[k]`
// (-1: today), `end[k]` and `window[k][h]` (start + horizon h) index into it.
struct TimeSteps {
  int count = 0;
  double days = 0.0;
  std::vector<double> points;
  std::vector<int> start, end;
  std::vector<std::vector<int>> window;
};

// The shock model of the random scenarios (market.shocks): Gaussian or
// Student-t daily log-returns, their volatilities scaled, market-wide jumps.
struct MarketShocks {
  bool student_t = false;
  double dof = 4.0;
  struct Jumps {
    double intensity = 0.0;  // per day
    double mean = 0.0, stdev = 0.0;
    Eigen::VectorXd beta;  // per asset: its exposure to a jump (1 unless the file says otherwise)
  };
  std::optional<Jumps> jumps;
  double volatility_multiplier = 1.0;
};

struct Model {
  std::string name;
  std::uint64_t seed = 1;
  std::int64_t scenarios = 0;
  std::int64_t batch = 256;
  int threads = 0;

  std::vector<AssetModel> assets;
  std::vector<OptionModel> options;
  Eigen::MatrixXd correlation;
  Eigen::MatrixXd correlation_factor;  // L with L L' = correlation
  MarketShocks shocks;
  std::vector<StressScenario> stress_scenarios;
  std::vector<double> horizons;  // distinct MPORs (days), ascending
  TimeSteps steps;
  bool fire_sales = false;  // market.fire_sales (runs in time steps)
  // market.history: its daily log-returns ln(P(t+1) / P(t)) (days - 1 rows,
  // oldest first, a column per asset) and how scenarios use them; no mode:
  // scenarios come from the shock model.
  Eigen::MatrixXd history_log_returns;
  std::optional<HistoryMode> history_mode;

  std::vector<CcpModel> ccps;
  std::vector<MemberModel> members;
  std::vector<ClientModel> clients;
  std::vector<std::vector<int>> groups;  // members of each default group
  std::vector<std::string> group_ids;
  std::vector<Account> accounts;
  std::vector<LinkModel> links;

  // Settlement layer; `settlement_active` is false when every CCP settles
  // instantly and holds collateral off bridges (then none of it is drawn).
  std::vector<ChainModel> chains;
  std::vector<BridgeModel> bridges;
  std::vector<int> asset_chain;  // per asset: index into chains, -1 off-chain
  bool settlement_active = false;

  std::vector<int> exogenous_groups;  // default at the start of every scenario
  bool latent_defaults = false;
  double latent_beta = 0.0;
  bool latent_own_book = false;  // defaults.latent.factor: own_book

  // Position values (quantity x price) of every account, one row per account,
  // grouped by horizon: horizon_accounts[h] lists the accounts (ascending),
  // horizon_values[h] their rows.
  std::vector<std::vector<int>> horizon_accounts;
  std::vector<Eigen::MatrixXd> horizon_values;

  // What members owe each other outside the CCPs (interbank); empty: none.
  std::optional<InterbankNetwork> interbank;

  std::string source_name;
  bool ledger_columns = true;       // outputs.ledger_columns
  bool member_quantiles = false;    // outputs.member_quantiles
  bool liquidity_needs = false;     // outputs.liquidity_needs, in time steps
  bool default_rows = false;        // outputs.defaults (default: in time steps): defaults.csv
  bool default_management = false;  // some CCP has an auction or recovery tools (their outputs)
};

// An account's position values today (quantity x price), each option
// position added to its underlying's column by its delta (delta x price x
// quantity): how notionals, liquidation costs, fire sales and the own-book
// latent factor see options.
Eigen::VectorXd account_delta_values(const Model& model, const Account& account);
// An account's option positions as the margin models take them (one
// models::HeldOption per holding: underlying, contract, delta today, quantity).
std::vector<models::HeldOption> account_options(const Model& model, const Account& account);

// Closing `account` when each asset's price stands at ratio[asset] times
// today's (a close-out later in a scenario trades at that day's prices; empty
// `ratio`: today's): the square-root liquidation cost of its position values
// at those prices, and their gross value (what an auction places). `held`:
// the share of its positions it still holds (auto-deleveraging and tear-up
// close the rest in a scenario's earlier steps).
double close_out_cost(const Model& model, const Account& account, std::span<const double> ratio, double held = 1.0);
double close_out_value(const Account& account, std::span<const double> ratio, double held = 1.0);
// Closing `account` at the prices a fire sale moved (models/market/fire_sale.hpp:
// the relative move s per asset): -sum_a x_a s_a over its positions' values
// x at the prices `ratio` (over today's; empty: today's).
double fire_sale_cost(const Account& account, std::span<const double> ratio, std::span<const double> moves,
                      double held = 1.0);

// The clearing member behind a member's or a client's account; -1 for a link
// or the rest of the market.
int clearing_member(const Model& model, const Account& account);
// Member `member`'s own (house) account at CCP `ccp`; -1 when it has none.
int house_account(const Model& model, int member, int ccp);

// The layers that absorb the losses reaching a CCP over its links, in order:
// its waterfall (link_losses: waterfall) or the link's margin and fund, SITG
// and capital (own_capital).
std::vector<models::Layer> link_loss_layers(const CcpModel& ccp);
// Every layer that can absorb a loss at the CCP, in the enum's order.
std::vector<models::Layer> ledger_layers(const CcpModel& ccp);
// Whether the cascade runs the CCP's waterfalls on its survivors' columns
// (models::SurvivorColumns): pro-rata layers only, in its waterfall and for
// link losses, no juniorisation and no recovery tool.
bool runs_on_columns(const CcpModel& ccp);

// Builds the model; throws ScenarioError (located) for every cross-check
// that fails, including arguments that models/ refuses (the one place where
// its std::invalid_argument and std::domain_error are mapped, sim/errors.hpp).
Model build_model(const config::LoadedScenario& loaded);

// Builds every variant of `loaded` (with the same `overrides`, as `ccpnet
// compare` does), so that a variant whose model cannot be built is refused by
// `validate` like the file itself: throws ScenarioError listing each failing
// variant's errors, located at its `set` entries.
void check_variant_models(const config::LoadedScenario& loaded, const std::vector<config::Override>& overrides);

}  // namespace ccpnet
