// Default funds (SPEC 3.5), CCP by CCP: the stress set (RTS 153/2013 art. 30;
// models/default_fund/stress_set.hpp), each default group's (and each link
// account's) uncovered loss in every move, Cover-1/2 sizing (EMIR or the Bank
// of England variant; models/default_fund/cover.hpp) and the allocation of the
// fund to contributors.
#include <fmt/format.h>
#include <oneapi/tbb/enumerable_thread_specific.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <memory>
#include <span>
#include <tuple>
#include <vector>

#include "models/default_fund/cover.hpp"
#include "models/default_fund/stress_set.hpp"
#include "sim/compile/steps.hpp"

namespace ccpnet::compile {
namespace {

// A CCP's default-fund stress set: simple returns per asset (assets x moves)
// over its MPOR, a name per move, the assets of the moves that shift one or
// two (single-asset and spread moves), the implied-vol multipliers of the
// named moves that have vol moves, and the number of moves per family.
struct SizingSet {
  Eigen::MatrixXd simple_moves;
  std::vector<TwoAssetMove> two_asset;
  std::vector<std::string> names;
  std::map<Eigen::Index, Eigen::VectorXd> vol_factor;
  std::vector<std::pair<std::string, int>> families;
};

// The named (non-overlay) stress scenarios, the part realised over the MPOR
// as in `ccpnet stress`: log-moves (assets x scenarios) into `log_moves` from
// column `first`, and the implied-vol multipliers of those with vol moves.
void named_moves(const std::vector<const StressScenario*>& named, double mpor, const Index& index, Eigen::Index first,
                 Eigen::MatrixXd& log_moves, SizingSet& set) {
  const Eigen::Index n_assets = log_moves.rows();
  for (std::size_t k = 0; k < named.size(); ++k) {
    const auto& st = *named[k];
    const auto col = first + static_cast<Eigen::Index>(k);
    const double share = std::min(1.0, mpor / st.length_days());
    Eigen::VectorXd move = Eigen::VectorXd::Zero(n_assets);
    for (const auto& [asset_id, m] : st.total_moves()) move(index.asset.at(asset_id)) = st.log_move(asset_id, mpor);
    log_moves.col(col) = move;
    if (!st.vol_moves.empty()) {
      Eigen::VectorXd vol = Eigen::VectorXd::Ones(n_assets);
      for (const auto& [asset_id, v] : st.vol_moves) vol(index.asset.at(asset_id)) = std::exp(std::log1p(v) * share);
      set.vol_factor[col] = vol;
    }
  }
}

// The names of the single-asset and spread moves (after the two directional
// ones) and of the historical windows; counts the first two families.
void generated_names(const Model& model, const FundRule& rule, const models::StressMoves& hypothetical,
                     const models::StressMoves& historical, const std::vector<std::string>& dates, double mpor,
                     int& single, int& spread, SizingSet& set) {
  const auto id = [&](int a) -> const std::string& { return model.assets[static_cast<std::size_t>(a)].id; };
  const std::string sd = fmt::format("{:g} sd", rule.stress_sigma);
  const std::string rho = fmt::format("{:g}", rule.stressed_correlation);
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
  const auto h = std::max<Eigen::Index>(1, static_cast<Eigen::Index>(std::ceil(mpor - 1e-12)));
  for (const auto& info : historical.info) {
    const auto first = static_cast<std::size_t>(info.first_day), last = static_cast<std::size_t>(info.first_day + h);
    set.names.push_back(last < dates.size() ? fmt::format("history {} to {}", dates[first], dates[last])
                                            : fmt::format("history window {}", info.first_day));
  }
}

// The assets of the single-asset and spread moves (hypothetical moves 2, 3,
// ..., at column `first` of the set and on).
void two_asset_moves(const models::StressMoves& hypothetical, Eigen::Index first, SizingSet& set) {
  set.two_asset.assign(static_cast<std::size_t>(set.simple_moves.cols()), TwoAssetMove{});
  for (std::size_t k = 2; k < hypothetical.info.size(); ++k) {
    const models::StressMoveInfo& info = hypothetical.info[k];
    const int a = info.up >= 0 ? info.up : info.down;
    const int b = info.up >= 0 ? info.down : -1;
    set.two_asset[static_cast<std::size_t>(first) + k - 2] =
        b < 0 ? TwoAssetMove{a, -1} : TwoAssetMove{std::min(a, b), std::max(a, b)};
  }
}

// In this order (ties between moves go to the first): every asset up, every
// asset down; the file's named (non-overlay) moves; then stress_set's
// single-asset, spread and historical moves.
SizingSet sizing_stress_set(const Model& model, const config::LoadedScenario& loaded, const FundRule& rule, double mpor,
                            const Index& index) {
  const Eigen::VectorXd daily_vol = daily_vols(model);
  models::HypotheticalStressSpec spec;
  spec.sigmas = rule.stress_sigma;
  spec.horizon_days = mpor;
  spec.single_asset = rule.single_asset;
  spec.spreads = rule.spreads;
  spec.stressed_correlation = rule.stressed_correlation;
  const models::StressMoves hypothetical = models::hypothetical_stress_moves(daily_vol, spec);
  models::StressMoves historical;
  if (rule.history && model.history_mode) historical = models::historical_stress_moves(model.history_log_returns, mpor);
  std::vector<const StressScenario*> named;
  for (const auto& st : loaded.scenario.market.stress_scenarios)
    if (!st.overlay) named.push_back(&st);
  const auto n_named = static_cast<Eigen::Index>(named.size());
  const Eigen::Index n_hyp = hypothetical.log_moves.cols(), n_hist = historical.log_moves.cols();
  SizingSet set;
  Eigen::MatrixXd log_moves(daily_vol.size(), n_hyp + n_named + n_hist);
  log_moves.leftCols(2) = hypothetical.log_moves.leftCols(2);
  named_moves(named, mpor, index, 2, log_moves, set);
  log_moves.middleCols(2 + n_named, n_hyp - 2) = hypothetical.log_moves.rightCols(n_hyp - 2);
  log_moves.rightCols(n_hist) = historical.log_moves;
  set.simple_moves = log_moves.unaryExpr([](double x) { return std::expm1(x); });
  two_asset_moves(hypothetical, 2 + n_named, set);
  set.names.reserve(static_cast<std::size_t>(log_moves.cols()));
  const std::string sd = fmt::format("{:g} sd", rule.stress_sigma);
  set.names.push_back("all assets up " + sd);
  set.names.push_back("all assets down " + sd);
  for (const auto* st : named) set.names.push_back(st->name);
  int single = 0, spread = 0;
  const auto& dates = loaded.data.history ? loaded.data.history->dates : std::vector<std::string>{};
  generated_names(model, rule, hypothetical, historical, dates, mpor, single, spread, set);
  set.families = {{"directional", 2},
                  {"named", static_cast<int>(n_named)},
                  {"single asset", single},
                  {"spread", spread},
                  {"historical", static_cast<int>(n_hist)}};
  return set;
}

// The stress sets already built, by what sets them (the rule's set parameters
// and the MPOR): CCPs with the same ones share one (with many assets the set
// has A (A - 1) spread moves and costs more than the CCP's P&L under it).
class SizingSets {
 public:
  const SizingSet& get(const Model& model, const config::LoadedScenario& loaded, const FundRule& rule, double mpor,
                       const Index& index) {
    const Key key{rule.stress_sigma, rule.single_asset, rule.spreads, rule.history, rule.stressed_correlation, mpor};
    for (const auto& [k, set] : sets_)
      if (k == key) return *set;
    sets_.emplace_back(key, std::make_unique<SizingSet>(sizing_stress_set(model, loaded, rule, mpor, index)));
    return *sets_.back().second;
  }

 private:
  using Key = std::tuple<double, bool, bool, bool, double, double>;
  std::vector<std::pair<Key, std::unique_ptr<SizingSet>>> sets_;
};

// Rows of the uncovered-loss matrix of a CCP: the default groups with an
// account there (ascending, so ties go to the lower group), then the link
// accounts whose losses reach the mutualised fund (link_losses: waterfall;
// ESMA interoperability guidelines: stressed like members), each beyond the
// link margin and link fund it posts. Per row its dedicated resources (a
// group's IM, a link's IM and fund) and its weight for the Bank of England
// contributions by IM (a group's IM, a participant CCP's IM, 0 for a peer).
struct StressRows {
  std::vector<int> row_group;            // group of each group row
  std::vector<Eigen::Index> link_rows;   // position in ccp.accounts of each link row
  std::vector<int> account_row;          // per position in ccp.accounts: its row, -1 none
  Eigen::VectorXd resources, im_weight;  // per row
  Eigen::Index groups() const { return static_cast<Eigen::Index>(row_group.size()); }
};

// The default group behind a member's or a client's account: a client's
// account defaults with its clearing member, who is liable for it.
int group_of_account(const Model& model, const Account& acc) {
  return model.members[static_cast<std::size_t>(clearing_member(model, acc))].group;
}

bool member_side(const Account& acc) { return acc.kind == AccountKind::kMember || acc.kind == AccountKind::kClient; }

StressRows stress_rows(const Model& model, const CcpModel& ccp, const std::map<int, double>& posted_fund) {
  StressRows rows;
  std::vector<char> present(model.groups.size(), 0);
  for (int a : ccp.accounts) {
    const Account& acc = model.accounts[static_cast<std::size_t>(a)];
    if (member_side(acc)) present[static_cast<std::size_t>(group_of_account(model, acc))] = 1;
  }
  std::vector<int> group_row(model.groups.size(), -1);
  for (std::size_t g = 0; g < present.size(); ++g)
    if (present[g]) {
      group_row[g] = static_cast<int>(rows.row_group.size());
      rows.row_group.push_back(static_cast<int>(g));
    }
  const Eigen::Index n_acc = static_cast<Eigen::Index>(ccp.accounts.size()), n_groups = rows.groups();
  rows.account_row.assign(ccp.accounts.size(), -1);
  for (Eigen::Index i = 0; i < n_acc; ++i) {
    const Account& acc = model.accounts[static_cast<std::size_t>(ccp.accounts[static_cast<std::size_t>(i)])];
    if (member_side(acc))
      rows.account_row[static_cast<std::size_t>(i)] = group_row[static_cast<std::size_t>(group_of_account(model, acc))];
    if (acc.kind == AccountKind::kLink && ccp.link_losses == LinkLossRule::kWaterfall) {
      rows.account_row[static_cast<std::size_t>(i)] =
          static_cast<int>(n_groups) + static_cast<int>(rows.link_rows.size());
      rows.link_rows.push_back(i);
    }
  }
  const Eigen::Index n_rows = n_groups + static_cast<Eigen::Index>(rows.link_rows.size());
  rows.resources = Eigen::VectorXd::Zero(n_rows);
  for (Eigen::Index i = 0; i < n_acc; ++i) {
    const Account& acc = model.accounts[static_cast<std::size_t>(ccp.accounts[static_cast<std::size_t>(i)])];
    if (acc.kind == AccountKind::kMember)
      rows.resources(rows.account_row[static_cast<std::size_t>(i)]) += acc.initial_margin;
  }
  // The house accounts' IM stands behind the group's whole exposure; a client
  // account's covers that account only (EMIR art. 39(6), 48(7)), but counts in
  // the member's share of the fund.
  rows.im_weight = rows.resources;
  for (Eigen::Index i = 0; i < n_acc; ++i) {
    const Account& acc = model.accounts[static_cast<std::size_t>(ccp.accounts[static_cast<std::size_t>(i)])];
    if (acc.kind == AccountKind::kClient)
      rows.im_weight(rows.account_row[static_cast<std::size_t>(i)]) += acc.initial_margin;
  }
  for (std::size_t r = 0; r < rows.link_rows.size(); ++r) {
    const int a = ccp.accounts[static_cast<std::size_t>(rows.link_rows[r])];
    const Account& acc = model.accounts[static_cast<std::size_t>(a)];
    const auto row = n_groups + static_cast<Eigen::Index>(r);
    rows.resources(row) = acc.initial_margin + (posted_fund.count(a) ? posted_fund.at(a) : 0.0);
    rows.im_weight(row) = participant_account(model, a) ? acc.initial_margin : 0.0;
  }
  return rows;
}

// The fund each peer link account posts at the CCP: fixed, or Cover-1 of its
// stress loss beyond its link margin (link accounts hold no options).
std::map<int, double> posted_link_funds(const Model& model, const CcpModel& ccp, const Eigen::MatrixXd& values,
                                        const SizingSet& set) {
  std::map<int, double> posted;
  for (std::size_t i = 0; i < ccp.accounts.size(); ++i) {
    const int a = ccp.accounts[i];
    const LinkModel* link = link_of(model, a);
    if (!link || link->model != LinkKind::kPeer) continue;
    double fund = link->link_fund;
    const Account& acc = model.accounts[static_cast<std::size_t>(a)];
    if (link->fund_by_stress && set.simple_moves.cols() > 0)
      fund = std::max(fund, (-(values.row(static_cast<Eigen::Index>(i)) * set.simple_moves)).maxCoeff() +
                                acc.liquidation_cost - acc.initial_margin);
    posted[a] = fund;
  }
  return posted;
}

// P&L of a CCP's accounts (rows) under moves b0 .. b0 + nb - 1 of the set:
// linear positions, and the options of the rows `option_rows` lists revalued
// in full (Black-76) with the MPOR's time decay. Each loss is checked finite.
void stress_pnl(const Model& model, const CcpModel& ccp, const Eigen::MatrixXd& values, bool finite_values,
                const SizingSet& set, std::span<const Eigen::Index> option_rows, Eigen::Index b0, Eigen::Index nb,
                const FiniteCheck& finite, std::vector<double>& tail_store, Eigen::Ref<Eigen::MatrixXd> pnl) {
  stress_move_pnl(values, set.simple_moves, set.two_asset, b0, nb, finite_values, tail_store, pnl);
  if (!option_rows.empty()) {
    const Eigen::VectorXd price = asset_prices(model);
    for (const Eigen::Index i : option_rows) {
      const int a = ccp.accounts[static_cast<std::size_t>(i)];
      for (const OptionHolding& h : model.accounts[static_cast<std::size_t>(a)].options) {
        const OptionModel& o = model.options[static_cast<std::size_t>(h.option)];
        for (Eigen::Index k = 0; k < nb; ++k) {
          const auto vol = set.vol_factor.find(b0 + k);
          const double after = models::black76_value_after(
              o.contract, price(o.underlying), set.simple_moves(o.underlying, b0 + k),
              vol == set.vol_factor.end() ? 1.0 : vol->second(o.underlying), ccp.mpor_days / 365.0);
          pnl(i, k) += h.quantity * (after - o.value);
        }
      }
    }
  }
  // One pass that vectorises (Eigen's allFinite, which subtracts the block
  // from itself first, made a 10 x 200 x 4,000 start-up 0.5 s slower); where
  // it finds a loss that is not finite, the first in account order is the
  // located error.
  bool all_finite = true;
  for (Eigen::Index k = 0; k < nb; ++k) {
    const double* column = pnl.col(k).data();
    for (Eigen::Index i = 0; i < pnl.rows(); ++i)
      all_finite &= std::abs(column[i]) <= std::numeric_limits<double>::max();
  }
  if (all_finite) return;
  for (Eigen::Index i = 0; i < pnl.rows(); ++i)
    for (Eigen::Index k = 0; k < nb; ++k)
      finite.require(model, ccp.accounts[static_cast<std::size_t>(i)], "stress loss (USD)", -pnl(i, k));
}

// What the stress set gives: each account's largest uncovered loss
// max(0, max_s loss_s + liquidation cost - IM) (the key of allocation pro rata
// to uncovered stress loss), the EMIR sizing and, for the Bank of England
// variant, the rows' uncovered losses in every move.
struct StressOutcome {
  Eigen::VectorXd account_uncovered;
  models::CoverSearch search;
  Eigen::MatrixXd uncovered_all;  // rows x moves, Bank of England variant only
};

// Storage kept from block to block and CCP to CCP, grown to the largest
// block and never zeroed (each block writes all it reads): a fresh buffer of
// this size is mapped pages, each faulted in again, and a grown std::vector
// would zero and copy it too.
class Scratch {
 public:
  Eigen::Map<Eigen::MatrixXd> view(Eigen::Index rows, Eigen::Index cols) {
    const auto n = static_cast<std::size_t>(rows * cols);
    if (size_ < n) {
      data_ = std::make_unique_for_overwrite<double[]>(n);
      size_ = n;
    }
    return {data_.get(), rows, cols};
  }

 private:
  std::unique_ptr<double[]> data_;
  std::size_t size_ = 0;
};

// One block's P&L and uncovered losses, and the product's rows of the P&L
// that stress_move_pnl takes from the dense product.
struct StressBlock {
  Scratch pnl, uncovered;
  std::vector<double> tail_store;
};

// The set taken in blocks of moves, so that memory stays accounts x block.
StressOutcome stress_outcome(const Model& model, const CcpModel& ccp, const Eigen::MatrixXd& values,
                             const SizingSet& set, const StressRows& rows, const FundRule& rule,
                             const FiniteCheck& finite, StressBlock& block) {
  const Eigen::Index n_acc = values.rows(), n_moves = set.simple_moves.cols();
  StressOutcome out{Eigen::VectorXd::Zero(n_acc), models::CoverSearch(rule.cover, ccp.sitg), {}};
  if (rule.boe) out.uncovered_all.resize(rows.resources.size(), n_moves);
  Eigen::VectorXd cost(n_acc), im(n_acc);
  std::vector<Eigen::Index> clients, option_rows;  // rows of client accounts, of accounts holding options
  for (Eigen::Index i = 0; i < n_acc; ++i) {
    const Account& acc = model.accounts[static_cast<std::size_t>(ccp.accounts[static_cast<std::size_t>(i)])];
    cost(i) = acc.liquidation_cost;
    im(i) = acc.initial_margin;
    if (acc.kind == AccountKind::kClient) clients.push_back(i);
    if (!acc.options.empty()) option_rows.push_back(i);
  }
  // A client account adds to its member's exposure what its own margin does
  // not cover (its gain is the client's, not the member's to set off).
  Eigen::VectorXd group_cost = cost;
  for (Eigen::Index i : clients) group_cost(i) = 0.0;
  const bool finite_values = values.allFinite();
  // Blocks of about 2 MB of P&L: each block's product packs the accounts'
  // values again, in a workspace of its own.
  const Eigen::Index width =
      std::clamp<Eigen::Index>((Eigen::Index{1} << 18) / std::max<Eigen::Index>(n_acc, 1), 16, 4096);
  for (Eigen::Index b0 = 0; b0 < n_moves; b0 += width) {
    const Eigen::Index nb = std::min(width, n_moves - b0);
    Eigen::Map<Eigen::MatrixXd> pnl = block.pnl.view(n_acc, nb);
    stress_pnl(model, ccp, values, finite_values, set, option_rows, b0, nb, finite, block.tail_store, pnl);
    for (Eigen::Index k = 0; k < nb; ++k)
      for (Eigen::Index i = 0; i < n_acc; ++i)
        out.account_uncovered(i) = std::max(out.account_uncovered(i), -pnl(i, k) + cost(i) - im(i));
    for (Eigen::Index k = 0; k < nb; ++k)
      for (Eigen::Index i : clients) pnl(i, k) = -std::max(0.0, -pnl(i, k) + cost(i) - im(i));
    const Eigen::Map<Eigen::MatrixXd> uncovered = block.uncovered.view(rows.resources.size(), nb);
    models::uncovered_losses_into(pnl, group_cost, rows.account_row, rows.resources, uncovered);
    if (rule.boe)
      out.uncovered_all.middleCols(b0, nb) = uncovered;
    else
      out.search.add(uncovered, b0);
  }
  for (Eigen::Index i = 0; i < n_acc; ++i)
    finite.require(model, ccp.accounts[static_cast<std::size_t>(i)], "uncovered stress loss (USD)",
                   out.account_uncovered(i));
  return out;
}

// Bank of England variant: each group's contribution is its share of the fund
// by the allocation key (IM, or uncovered stress loss).
std::pair<models::CoverSizing, Eigen::VectorXd> size_boe(const config::LoadedScenario& loaded, std::size_t c,
                                                         const Model& model, const CcpModel& ccp,
                                                         const StressRows& rows, const StressOutcome& outcome,
                                                         const FundRule& rule) {
  Eigen::VectorXd weight = rows.im_weight;
  if (rule.by_uncovered_stress) {
    weight.setZero();
    for (std::size_t i = 0; i < ccp.accounts.size(); ++i) {
      const Account& acc = model.accounts[static_cast<std::size_t>(ccp.accounts[i])];
      if (member_side(acc)) weight(rows.account_row[i]) += outcome.account_uncovered(static_cast<Eigen::Index>(i));
    }
    for (std::size_t r = 0; r < rows.link_rows.size(); ++r)
      if (participant_account(model, ccp.accounts[static_cast<std::size_t>(rows.link_rows[r])]))
        weight(rows.groups() + static_cast<Eigen::Index>(r)) = outcome.account_uncovered(rows.link_rows[r]);
  }
  models::CoverSizing sizing;
  try {
    sizing = models::size_cover_boe(outcome.uncovered_all, weight, ccp.sitg);
  } catch (const std::invalid_argument& e) {
    refuse(loaded, fmt::format("ccps[{}].default_fund.variant", c), fmt::format("CCP '{}': {}", ccp.id, e.what()));
  }
  Eigen::VectorXd column = Eigen::VectorXd::Zero(rows.resources.size());
  if (sizing.scenario >= 0) column = outcome.uncovered_all.col(sizing.scenario);
  return {sizing, column};
}

// What sets the stress fund, for reports and `defaults.rule`: the move, and
// the rows with uncovered losses there (largest first): member groups, and
// link accounts as "link:<CCP>" (a link is not a member `defaults.rule` can
// default).
void record_sizing(const Model& model, const models::CoverSizing& sizing, const Eigen::VectorXd& column,
                   const StressRows& rows, const SizingSet& set, CcpModel& ccp) {
  ccp.stress_fund = sizing.fund;
  if (sizing.scenario >= 0) ccp.stress_scenario = set.names[static_cast<std::size_t>(sizing.scenario)];
  for (auto g : sizing.groups) {
    if (!(column(g) > 0.0)) continue;
    if (g < rows.groups()) {
      const int group = rows.row_group[static_cast<std::size_t>(g)];
      ccp.cover_groups.push_back(group);
      ccp.stress_groups.push_back(model.group_ids[static_cast<std::size_t>(group)]);
    } else {
      const int a = ccp.accounts[static_cast<std::size_t>(rows.link_rows[static_cast<std::size_t>(g - rows.groups())])];
      ccp.stress_groups.push_back(
          "link:" + model.ccps[static_cast<std::size_t>(model.accounts[static_cast<std::size_t>(a)].owner)].id);
    }
  }
}

// The fund: fixed or sized; none for a rulebook without default-fund layers
// (a crypto venue's insurance fund and ADL).
double fund_size(const config::LoadedScenario& loaded, std::size_t c, const CcpModel& ccp, const FundRule& rule) {
  double fund = rule.fixed ? *rule.fixed : ccp.stress_fund;
  const bool uses_fund = std::any_of(ccp.waterfall.begin(), ccp.waterfall.end(), [](models::Layer l) {
    return l == models::Layer::kDefaulterDf || l == models::Layer::kMutualizedDf || l == models::Layer::kAssessments;
  });
  if (!uses_fund) fund = 0.0;
  if (!std::isfinite(fund))
    refuse(loaded, fmt::format("ccps[{}].default_fund", c),
           fmt::format("expected a finite default fund of CCP '{}', found {}: the stress losses of its members add "
                       "up beyond the range of numbers; check the units of their positions",
                       ccp.id, fund));
  return fund;
}

// Allocation: observed contributions are used as given; the rest of the fund
// is shared pro rata to IM (or to uncovered stress loss) among the other
// contributors (members, and CCPs that are participants here). A peer link's
// own fund covers the link's default only, apart from the members' fund (and
// not counted in it).
void allocate_fund(const std::vector<config::MemberConfig>& members, const Eigen::VectorXd& account_uncovered,
                   const std::map<int, double>& posted_fund, const FundRule& rule, double fund, CcpModel& ccp,
                   Model& model) {
  double observed_total = 0.0;
  std::vector<Account*> contributors;
  std::vector<double> weights;
  // A member contributes for its clients' accounts too, on its house account.
  std::map<int, double> client_weight;
  for (std::size_t i = 0; i < ccp.accounts.size(); ++i) {
    const Account& acc = model.accounts[static_cast<std::size_t>(ccp.accounts[i])];
    if (acc.kind == AccountKind::kClient)
      client_weight[house_account(model, clearing_member(model, acc), acc.ccp)] +=
          rule.by_uncovered_stress ? account_uncovered(static_cast<Eigen::Index>(i)) : acc.initial_margin;
  }
  for (std::size_t i = 0; i < ccp.accounts.size(); ++i) {
    const int a = ccp.accounts[i];
    Account& acc = model.accounts[static_cast<std::size_t>(a)];
    if (acc.kind == AccountKind::kMember) {
      const auto& observed = members[static_cast<std::size_t>(acc.owner)].default_fund;
      auto it = std::find_if(observed.begin(), observed.end(), [&](const auto& p) { return p.first == ccp.id; });
      if (it != observed.end()) {
        acc.default_fund = it->second;
        observed_total += it->second;
        continue;
      }
    } else if (!participant_account(model, a)) {
      continue;
    }
    contributors.push_back(&acc);
    const auto clients = client_weight.find(a);
    weights.push_back(
        (rule.by_uncovered_stress ? account_uncovered(static_cast<Eigen::Index>(i)) : acc.initial_margin) +
        (clients == client_weight.end() ? 0.0 : clients->second));
  }
  const Eigen::VectorXd shares = models::allocate_pro_rata(
      Eigen::Map<const Eigen::VectorXd>(weights.data(), static_cast<Eigen::Index>(weights.size())),
      std::max(0.0, fund - observed_total));
  for (std::size_t i = 0; i < contributors.size(); ++i)
    contributors[i]->default_fund = shares(static_cast<Eigen::Index>(i));
  ccp.default_fund = 0.0;
  for (int a : ccp.accounts) ccp.default_fund += model.accounts[static_cast<std::size_t>(a)].default_fund;
  for (const auto& [a, posted] : posted_fund) model.accounts[static_cast<std::size_t>(a)].default_fund = posted;
}

// One CCP's sizing, computed apart from the other CCPs' (it reads the model
// and writes nothing), or the error that stopped it.
struct CcpSizing {
  std::map<int, double> posted_fund;
  StressRows rows;
  Eigen::VectorXd account_uncovered;
  models::CoverSizing sizing;
  Eigen::VectorXd column;  // the rows' uncovered losses in the move that sets the fund
  std::exception_ptr error;
};

CcpSizing size_ccp(const config::LoadedScenario& loaded, std::size_t c, const Model& model, const SizingSet& set,
                   const FiniteCheck& finite, StressBlock& block) {
  const CcpModel& ccp = model.ccps[c];
  const FundRule rule = fund_rule(loaded.scenario.ccps[c]);
  const Eigen::MatrixXd values = ccp_values(model, ccp, asset_prices(model));
  CcpSizing out;
  out.posted_fund = posted_link_funds(model, ccp, values, set);
  out.rows = stress_rows(model, ccp, out.posted_fund);
  StressOutcome outcome = stress_outcome(model, ccp, values, set, out.rows, rule, finite, block);
  std::tie(out.sizing, out.column) = rule.boe ? size_boe(loaded, c, model, ccp, out.rows, outcome, rule)
                                              : std::pair{outcome.search.sizing(), outcome.search.sizing_column()};
  out.account_uncovered = std::move(outcome.account_uncovered);
  return out;
}

// The sizing's writes, CCP by CCP in order: what sets the fund, the fund and
// its allocation to the CCP's accounts, the funds its peer links post.
void apply_sizing(const config::LoadedScenario& loaded, std::size_t c, const std::vector<config::MemberConfig>& members,
                  const FiniteCheck& finite, const SizingSet& set, const CcpSizing& sized, Model& model) {
  CcpModel& ccp = model.ccps[c];
  const FundRule rule = fund_rule(loaded.scenario.ccps[c]);
  ccp.stress_families = set.families;
  record_sizing(model, sized.sizing, sized.column, sized.rows, set, ccp);
  allocate_fund(members, sized.account_uncovered, sized.posted_fund, rule, fund_size(loaded, c, ccp, rule), ccp, model);
  for (int a : ccp.accounts)
    finite.require(model, a, "default fund contribution (USD)",
                   model.accounts[static_cast<std::size_t>(a)].default_fund);
}

// Each CCP's stress set (shared by CCPs with the same set parameters and
// MPOR), or the error that stopped it.
std::vector<const SizingSet*> ccp_sets(const config::LoadedScenario& loaded, const Index& index, const Model& model,
                                       SizingSets& sets, std::vector<CcpSizing>& sized) {
  std::vector<const SizingSet*> set_of(model.ccps.size(), nullptr);
  for (std::size_t c = 0; c < model.ccps.size(); ++c) try {
      set_of[c] = &sets.get(model, loaded, fund_rule(loaded.scenario.ccps[c]), model.ccps[c].mpor_days, index);
    } catch (...) {
      sized[c].error = std::current_exception();
    }
  return set_of;
}

}  // namespace

// The CCPs are sized in parallel (on simulation.threads threads, 0: all
// cores; never more than the arena the build is called from has, so that a
// caller's thread bound holds), each in scratch of its thread, and their
// results applied in CCP order: the same model, and the same first error, for
// any number of threads.
void set_default_funds(const config::LoadedScenario& loaded, const std::vector<config::MemberConfig>& members,
                       const Index& index, const FiniteCheck& finite, Model& model) {
  SizingSets sets;
  std::vector<CcpSizing> sized(model.ccps.size());
  const std::vector<const SizingSet*> set_of = ccp_sets(loaded, index, model, sets, sized);
  tbb::enumerable_thread_specific<StressBlock> blocks;
  const Model& read = model;
  const int available = tbb::this_task_arena::max_concurrency();  // all cores, or the calling arena's threads
  tbb::task_arena arena(read.threads > 0 ? std::min(read.threads, available) : available);
  arena.execute([&] {
    tbb::parallel_for(std::size_t{0}, read.ccps.size(), [&](std::size_t c) {
      if (!set_of[c]) return;
      try {
        sized[c] = size_ccp(loaded, c, read, *set_of[c], finite, blocks.local());
      } catch (...) {
        sized[c].error = std::current_exception();
      }
    });
  });
  for (std::size_t c = 0; c < model.ccps.size(); ++c) {
    if (sized[c].error) std::rethrow_exception(sized[c].error);
    apply_sizing(loaded, c, members, finite, *set_of[c], sized[c], model);
  }
}

}  // namespace ccpnet::compile
