// Novation and book balancing (SPEC 3.3): members take the other side
// directly where a CCP's policy says so, trades are novated at each side's
// CCP and routed over links, the link positions that balance every book are
// found (models/links), and what no link can offset goes to a rest-of-market
// account or is refused.
#include <fmt/format.h>

#include "models/links/flow.hpp"
#include "models/links/route.hpp"
#include "sim/compile/steps.hpp"

namespace ccpnet::compile {
namespace {

// Moves `moves(d, t)` of an asset from the short accounts at CCP d (pro rata
// to each one's short position) to accounts of the same members at CCP t.
void move_short_positions(const std::vector<int>& ccps, Eigen::Index asset, const Eigen::MatrixXd& moves,
                          const Eigen::VectorXd& shorts, Model& model) {
  const auto n = static_cast<Eigen::Index>(ccps.size());
  for (Eigen::Index d = 0; d < n; ++d) {
    const double from_d = moves.row(d).sum();
    if (from_d <= 0.0 || shorts(d) <= 0.0) continue;
    const auto& accounts = model.ccps[static_cast<std::size_t>(ccps[static_cast<std::size_t>(d)])].accounts;
    const std::vector<int> holders(accounts.begin(), accounts.end());  // accounts may grow below
    for (int a : holders) {
      const double q = model.accounts[static_cast<std::size_t>(a)].quantity(asset);
      if (q >= 0.0 || model.accounts[static_cast<std::size_t>(a)].kind != AccountKind::kMember) continue;
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

// Where a field of a trade is (kTradeColumns order; -1: the whole trade), and
// the key path its errors name: a trade of the file by its own key, a trade of
// trades_file by its cell in the CSV.
struct Site {
  config::Location where;
  std::string path;
};

// Novates one trade: the buyer long at its CCP, the seller short at its own,
// and the legs over the links of the shortest route between them added to
// `routed` (links x assets). Errors go to `d`.
template <class SiteOf>
void novate(const config::TradeConfig& trade, const SiteOf& site, const Index& index, Eigen::MatrixXd& routed,
            config::Diagnostics& d, Model& model) {
  const auto lookup = [&](const std::map<std::string, int>& ids, const std::string& id, int field,
                          std::string_view what) {
    auto it = ids.find(id);
    if (it != ids.end()) return it->second;
    const Site s = site(field);
    d.error(s.where, s.path, fmt::format("unknown {} '{}'", what, id));
    return -1;
  };
  const int buyer = lookup(index.member, trade.buyer, 0, "member");
  const int seller = lookup(index.member, trade.seller, 1, "member");
  if (index.option.count(trade.asset)) {
    const Site field = site(2);
    d.error(field.where, field.path,
            fmt::format("'{}' is an option: trades in options are not supported; give option positions under "
                        "members[].positions",
                        trade.asset));
    return;
  }
  const int asset = lookup(index.asset, trade.asset, 2, "asset");
  const int from = lookup(index.ccp, trade.buyer_ccp, 4, "CCP");
  const int to = lookup(index.ccp, trade.seller_ccp, 5, "CCP");
  if (buyer < 0 || seller < 0 || asset < 0 || from < 0 || to < 0) return;
  const Site whole = site(-1);
  if (buyer == seller && from == to) {
    d.error(whole.where, whole.path, fmt::format("member '{}' trades with itself", trade.buyer));
    return;
  }
  const auto route = models::shortest_link_path(static_cast<int>(model.ccps.size()), index.links, from, to);
  if (!route) {
    d.error(whole.where, whole.path,
            fmt::format("no chain of links from CCP '{}' (buyer '{}') to CCP '{}' (seller '{}')", trade.buyer_ccp,
                        trade.buyer, trade.seller_ccp, trade.seller));
    return;
  }
  model.accounts[static_cast<std::size_t>(member_account(model, buyer, from))].quantity(asset) += trade.quantity;
  model.accounts[static_cast<std::size_t>(member_account(model, seller, to))].quantity(asset) -= trade.quantity;
  for (const auto& [link, sign] : models::route_link_flows(index.links, *route))
    routed(static_cast<Eigen::Index>(link), asset) += sign * trade.quantity;
}

// The options a CCP's members are net (options do not cross links: they net
// among themselves), rounding against the gross positions dropped.
std::vector<OptionHolding> unbalanced_options(const Model& model, const CcpModel& ccp) {
  const auto n = static_cast<Eigen::Index>(model.options.size());
  Eigen::VectorXd net = Eigen::VectorXd::Zero(n), gross = Eigen::VectorXd::Zero(n);
  for (int a : ccp.accounts)
    for (const OptionHolding& h : model.accounts[static_cast<std::size_t>(a)].options) {
      net(h.option) += h.quantity;
      gross(h.option) += std::abs(h.quantity);
    }
  const Eigen::VectorXd left = models::unbalanced(net, gross);
  std::vector<OptionHolding> out;
  for (Eigen::Index o = 0; o < n; ++o)
    if (left(o) != 0.0) out.push_back({static_cast<int>(o), left(o)});
  return out;
}

[[noreturn]] void refuse_unbalanced(const config::LoadedScenario& loaded, const Model& model, std::size_t c,
                                    const Eigen::VectorXd& left, const std::vector<OptionHolding>& options_left) {
  std::vector<std::string> parts;
  for (Eigen::Index a = 0; a < left.size(); ++a)
    if (left(a) != 0.0)
      parts.push_back(fmt::format("{} {:+.6g}", model.assets[static_cast<std::size_t>(a)].id, left(a)));
  for (const OptionHolding& h : options_left)
    parts.push_back(fmt::format("{} {:+.6g} (options do not cross links)",
                                model.options[static_cast<std::size_t>(h.option)].id, h.quantity));
  config::Diagnostics d(loaded.source_name);
  d.error(loaded.source_map.find(fmt::format("ccps[{}].id", c)), fmt::format("ccps[{}]", c),
          fmt::format("the book of CCP '{}' does not balance: its members are net {} that no link can offset; "
                      "add positions or links, or set imbalance: rest_of_market",
                      model.ccps[c].id, fmt::join(parts, ", ")));
  throw config::ScenarioError(std::move(d));
}

}  // namespace

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
        // Members take the other side directly, not their clients.
        if (model.accounts[static_cast<std::size_t>(a)].kind == AccountKind::kMember) shorts(i) += std::max(0.0, -q);
      }
    move_short_positions(ccps, asset, models::proportional_transport(net), shorts, model);
  }
}

Eigen::MatrixXd net_positions(const Model& model) {
  Eigen::MatrixXd net = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(model.ccps.size()),
                                              static_cast<Eigen::Index>(model.assets.size()));
  for (const auto& acc : model.accounts) net.row(acc.ccp) += acc.quantity.transpose();
  return net;
}

// Trades (of the file, then of trades_file): novation at each side's CCP,
// routed over the shortest chain of links; returns the routed legs (links x
// assets), which balance each other hop by hop. Every error is reported.
Eigen::MatrixXd novate_trades(const config::LoadedScenario& loaded, const Index& index, Model& model) {
  const config::Scenario& s = loaded.scenario;
  Eigen::MatrixXd routed = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(index.links.size()),
                                                 static_cast<Eigen::Index>(model.assets.size()));
  config::Diagnostics d(loaded.source_name);
  for (std::size_t t = 0; t < s.trades.size(); ++t) {
    const auto site = [&](int field) {
      std::string path = fmt::format("trades[{}]", t);
      if (field >= 0) path += "." + std::string(config::kTradeColumns[static_cast<std::size_t>(field)]);
      return Site{loaded.source_map.find(path), path};
    };
    novate(s.trades[t], site, index, routed, d, model);
  }
  for (const auto& file_trade : loaded.data.trades) {
    const auto site = [&](int field) {
      config::Location where = file_trade.where[static_cast<std::size_t>(std::max(field, 0))];
      if (field < 0) where.column = 1;  // the row
      return Site{where, "trades_file"};
    };
    novate(file_trade.trade, site, index, routed, d, model);
  }
  if (!d.empty()) throw config::ScenarioError(std::move(d));
  return routed;
}

// The link positions (links x assets) that balance every book as far as links
// can: the least-norm flows for the members' net positions `net`, plus the
// routed trades. What is left at a CCP goes to a rest-of-market account
// (imbalance: rest_of_market) or is refused (imbalance: error).
Eigen::MatrixXd balance_books(const config::LoadedScenario& loaded, const Index& index, const Eigen::MatrixXd& net,
                              const Eigen::MatrixXd& routed, Model& model) {
  Eigen::VectorXd gross = Eigen::VectorXd::Zero(net.cols());
  for (const auto& acc : model.accounts) gross += acc.quantity.cwiseAbs();
  models::LinkFlows flows = models::min_norm_link_flows(net, index.links);
  flows.flows += routed;
  for (std::size_t c = 0; c < model.ccps.size(); ++c) {
    // Rounding relative to the gross positions in the asset, not the net.
    const Eigen::VectorXd left =
        models::unbalanced(flows.imbalance.row(static_cast<Eigen::Index>(c)).transpose(), gross);
    const std::vector<OptionHolding> options_left = unbalanced_options(model, model.ccps[c]);
    if (left.isZero() && options_left.empty()) continue;
    if (loaded.scenario.ccps[c].imbalance == config::ImbalancePolicy::kError)
      refuse_unbalanced(loaded, model, c, left, options_left);
    Account rest;
    rest.kind = AccountKind::kRestOfMarket;
    rest.ccp = static_cast<int>(c);
    rest.quantity = -left;
    for (const OptionHolding& h : options_left) rest.options.push_back({h.option, -h.quantity});
    model.ccps[c].accounts.push_back(static_cast<int>(model.accounts.size()));
    model.accounts.push_back(std::move(rest));
  }
  return flows.flows;
}

// Each link's two mirror accounts, holding the balancing flows.
void add_links(const config::Scenario& s, const Index& index, const Eigen::MatrixXd& flows, Model& model) {
  for (std::size_t l = 0; l < s.links.size(); ++l) {
    LinkModel link = link_model(s.links[l], index.links[l]);
    const Eigen::VectorXd f = flows.row(static_cast<Eigen::Index>(l)).transpose();
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
}

const LinkModel* link_of(const Model& model, int account) {
  for (const auto& link : model.links)
    if (link.account_at_first == account || link.account_at_second == account) return &link;
  return nullptr;
}

// The participant CCP's account at its host (it posts IM and contributes to the host's fund).
bool participant_account(const Model& model, int account) {
  const LinkModel* link = link_of(model, account);
  return link && link->model == LinkKind::kParticipant && link->account_at_second == account;
}

// The host's account at a participant CCP: the host posts nothing there.
bool hosts_participant(const Model& model, const Account& acc) {
  if (acc.kind != AccountKind::kLink) return false;
  for (const auto& link : model.links)
    if (link.model == LinkKind::kParticipant && link.first == acc.ccp && link.second == acc.owner) return true;
  return false;
}

}  // namespace ccpnet::compile
