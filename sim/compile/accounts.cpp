// Members (listed, then generated), their default groups and their position
// accounts; per-account figures; the value matrices of the revaluation kernel.
#include "models/margin/addons.hpp"
#include "sim/compile/steps.hpp"
#include "sim/generator.hpp"

namespace ccpnet::compile {
namespace {

// Adds `quantity` of option `option` to an account's option positions.
void add_option(std::vector<OptionHolding>& options, int option, double quantity) {
  for (OptionHolding& h : options)
    if (h.option == option) {
      h.quantity += quantity;
      return;
    }
  options.push_back({option, quantity});
}

// The default group of a member (its own id when it names none), added when new.
int group_of(const config::MemberConfig& m, std::map<std::string, int>& group_index, Model& model) {
  const std::string& group = m.group.empty() ? m.id : m.group;
  auto [it, inserted] = group_index.emplace(group, static_cast<int>(model.groups.size()));
  if (inserted) {
    model.groups.emplace_back();
    model.group_ids.push_back(group);
  }
  return it->second;
}

}  // namespace

// The account of member `mi` at a CCP with the book `positions` (asset and option ids).
Account position_account(int mi, int ccp, const config::OrderedMap<double>& positions, const Index& index,
                         Eigen::Index n_assets) {
  Account acc;
  acc.kind = AccountKind::kMember;
  acc.owner = mi;
  acc.ccp = ccp;
  acc.quantity = Eigen::VectorXd::Zero(n_assets);
  for (const auto& [id, qty] : positions) {
    if (const auto asset = index.asset.find(id); asset != index.asset.end()) {
      acc.quantity(asset->second) += qty;
    } else {
      add_option(acc.options, index.option.at(id), qty);
    }
  }
  std::erase_if(acc.options, [](const OptionHolding& h) { return h.quantity == 0.0; });
  return acc;
}

// The loader has checked that no generated id repeats a listed one.
std::vector<config::MemberConfig> member_list(const config::Scenario& s) {
  std::vector<config::MemberConfig> members = s.members;
  for (auto& m : generate_members(s)) members.push_back(std::move(m));
  return members;
}

void add_members(const std::vector<config::MemberConfig>& members, Index& index, Model& model) {
  const auto n_assets = static_cast<Eigen::Index>(model.assets.size());
  std::map<std::string, int> group_index;
  for (const auto& m : members) {
    const int mi = static_cast<int>(model.members.size());
    index.member[m.id] = mi;
    MemberModel member;
    member.id = m.id;
    member.group = group_of(m, group_index, model);
    model.groups[static_cast<std::size_t>(member.group)].push_back(mi);
    member.capital = m.capital;
    member.liquidity = m.liquidity;
    for (const auto& [ccp_id, book] : m.positions) {
      Account acc = position_account(mi, index.ccp.at(ccp_id), book, index, n_assets);
      member.accounts.push_back(static_cast<int>(model.accounts.size()));
      model.ccps[static_cast<std::size_t>(acc.ccp)].accounts.push_back(static_cast<int>(model.accounts.size()));
      model.accounts.push_back(std::move(acc));
    }
    model.members.push_back(std::move(member));
  }
}

// Lending protocols: the e-mode category each member's account entered.
void set_member_emode(const config::Scenario& s, const Index& index, Model& model) {
  for (std::size_t c = 0; c < s.ccps.size(); ++c) {
    auto& lending = model.ccps[c].lending;
    if (!lending) continue;
    lending->member_emode.assign(model.members.size(), 0);
    if (!s.ccps[c].lending) continue;
    for (const auto& e : s.ccps[c].lending->emode)
      for (const auto& id : e.members)
        lending->member_emode[static_cast<std::size_t>(index.member.at(id))] = static_cast<int>(e.id);
  }
}

int member_account(Model& model, int member, int ccp) {
  for (int a : model.members[static_cast<std::size_t>(member)].accounts)
    if (model.accounts[static_cast<std::size_t>(a)].ccp == ccp) return a;
  const auto n_assets = static_cast<Eigen::Index>(model.assets.size());
  const int a = static_cast<int>(model.accounts.size());
  model.accounts.push_back({AccountKind::kMember, member, ccp, Eigen::VectorXd::Zero(n_assets)});
  model.members[static_cast<std::size_t>(member)].accounts.push_back(a);
  model.ccps[static_cast<std::size_t>(ccp)].accounts.push_back(a);
  return a;
}

// Notional, position values and liquidation cost of every account (options by their delta;
// models::liquidation_cost_rows, the square-root impact law); every later
// figure is a sum of these and of margins, stress losses and funds, each
// checked finite once computed, at the inputs it comes from.
void set_account_figures(const FiniteCheck& finite, Model& model) {
  const auto n_assets = static_cast<Eigen::Index>(model.assets.size());
  Eigen::MatrixXd values(static_cast<Eigen::Index>(model.accounts.size()), n_assets);
  for (std::size_t i = 0; i < model.accounts.size(); ++i) {
    const Eigen::VectorXd value = account_delta_values(model, model.accounts[i]);
    Account& acc = model.accounts[i];
    acc.notional = value.cwiseAbs().sum();
    acc.values.clear();
    for (Eigen::Index a = 0; a < n_assets; ++a)
      if (value(a) != 0.0) acc.values.push_back({static_cast<int>(a), value(a)});
    values.row(static_cast<Eigen::Index>(i)) = value.transpose();
  }
  Eigen::VectorXd adv(n_assets), impact(n_assets);
  for (Eigen::Index a = 0; a < n_assets; ++a) {
    adv(a) = model.assets[static_cast<std::size_t>(a)].adv;
    impact(a) = model.assets[static_cast<std::size_t>(a)].liquidation_k;
  }
  const Eigen::VectorXd cost = models::liquidation_cost_rows(values, adv, impact);
  for (std::size_t a = 0; a < model.accounts.size(); ++a) {
    model.accounts[a].liquidation_cost = cost(static_cast<Eigen::Index>(a));
    finite.require(model, static_cast<int>(a), "position value (USD)", model.accounts[a].notional);
    finite.require(model, static_cast<int>(a), "liquidation cost (USD)", model.accounts[a].liquidation_cost);
  }
}

// Position values (quantity x price) of a CCP's accounts, a row each.
Eigen::MatrixXd ccp_values(const Model& model, const CcpModel& ccp, const Eigen::VectorXd& price) {
  Eigen::MatrixXd values(static_cast<Eigen::Index>(ccp.accounts.size()), price.size());
  for (Eigen::Index i = 0; i < values.rows(); ++i)
    values.row(i) = model.accounts[static_cast<std::size_t>(ccp.accounts[static_cast<std::size_t>(i)])]
                        .quantity.cwiseProduct(price)
                        .transpose();
  return values;
}

// Value matrices by horizon for the revaluation kernel.
void set_horizon_values(Model& model) {
  const Eigen::VectorXd price = asset_prices(model);
  model.horizon_accounts.assign(model.horizons.size(), {});
  for (std::size_t a = 0; a < model.accounts.size(); ++a) {
    const int h = model.ccps[static_cast<std::size_t>(model.accounts[a].ccp)].horizon;
    model.horizon_accounts[static_cast<std::size_t>(h)].push_back(static_cast<int>(a));
  }
  for (std::size_t h = 0; h < model.horizons.size(); ++h) {
    const auto& ids = model.horizon_accounts[h];
    Eigen::MatrixXd v(static_cast<Eigen::Index>(ids.size()), price.size());
    for (std::size_t i = 0; i < ids.size(); ++i)
      v.row(static_cast<Eigen::Index>(i)) =
          model.accounts[static_cast<std::size_t>(ids[i])].quantity.cwiseProduct(price).transpose();
    model.horizon_values.push_back(std::move(v));
  }
}

}  // namespace ccpnet::compile
