#include "sim/nexus.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>

#include "models/clearing/debtrank.hpp"
#include "models/clearing/eisenberg_noe.hpp"
#include "models/clearing/rogers_veraart.hpp"
#include "models/nexus/reconstruct.hpp"
#include "sim/cascade.hpp"
#include "sim/config/load.hpp"
#include "sim/model.hpp"

namespace ccpnet {

namespace {

// Members whose interbank totals a reconstruction may hold: the dense matrix
// of 5,000 is 200 MB.
constexpr std::size_t kMaxReconstructed = 5'000;

using Triplets = std::vector<Eigen::Triplet<double>>;

// Exposures from interbank.exposures_file: L(borrower, lender) = amount.
Triplets file_exposures(const config::LoadedScenario& loaded, const std::map<std::string, int>& index,
                        const Model& model, config::Diagnostics& d) {
  const std::string key = "interbank.exposures_file";
  Triplets t;
  std::map<std::pair<int, int>, int> line_of;
  for (const config::FileInterbankRow& row : loaded.data.exposures) {
    const auto lender = index.find(row.first), borrower = index.find(row.second);
    if (lender == index.end())
      d.error(row.where[0], key, fmt::format("unknown member '{}'", config::excerpt(row.first)));
    if (borrower == index.end())
      d.error(row.where[1], key, fmt::format("unknown member '{}'", config::excerpt(row.second)));
    if (lender == index.end() || borrower == index.end()) continue;
    if (lender->second == borrower->second) {
      d.error(row.where[1], key, fmt::format("expected a borrower other than the lender, found '{}' twice", row.first));
      continue;
    }
    if (model.members[static_cast<std::size_t>(lender->second)].accounts.empty())
      d.error(
          row.where[0], key,
          fmt::format("member '{}' lends but clears at no CCP: its interbank losses would have no account", row.first));
    const auto [it, inserted] = line_of.emplace(std::pair{lender->second, borrower->second}, row.where[0].line);
    if (!inserted) {
      d.error(row.where[0], key,
              fmt::format("duplicate exposure of '{}' to '{}' (also line {})", row.first, row.second, it->second));
      continue;
    }
    t.emplace_back(borrower->second, lender->second, row.x);
  }
  return t;
}

// Each member's interbank assets and liabilities: interbank.totals_file, or
// capital_multiple x capital for every member clearing at a CCP.
std::pair<Eigen::VectorXd, Eigen::VectorXd> totals(const config::LoadedScenario& loaded,
                                                   const std::map<std::string, int>& index, const Model& model,
                                                   config::Diagnostics& d) {
  const auto& ib = *loaded.scenario.interbank;
  const auto n = static_cast<Eigen::Index>(model.members.size());
  Eigen::VectorXd assets = Eigen::VectorXd::Zero(n), liabilities = Eigen::VectorXd::Zero(n);
  if (ib.totals_file.empty()) {
    for (Eigen::Index m = 0; m < n; ++m) {
      const MemberModel& mem = model.members[static_cast<std::size_t>(m)];
      if (mem.accounts.empty()) continue;
      assets(m) = liabilities(m) = ib.capital_multiple * mem.capital;
    }
    return {assets, liabilities};
  }
  const std::string key = "interbank.totals_file";
  std::map<int, int> line_of;
  for (const config::FileInterbankRow& row : loaded.data.interbank_totals) {
    const auto member = index.find(row.first);
    if (member == index.end()) {
      d.error(row.where[0], key, fmt::format("unknown member '{}'", config::excerpt(row.first)));
      continue;
    }
    if (const auto [it, inserted] = line_of.emplace(member->second, row.where[0].line); !inserted) {
      d.error(row.where[0], key, fmt::format("member '{}' is listed twice (also line {})", row.first, it->second));
      continue;
    }
    if (row.x > 0.0 && model.members[static_cast<std::size_t>(member->second)].accounts.empty())
      d.error(
          row.where[1], key,
          fmt::format("member '{}' lends but clears at no CCP: its interbank losses would have no account", row.first));
    assets(member->second) = row.x;
    liabilities(member->second) = row.y;
  }
  return {assets, liabilities};
}

// The exposures reconstructed from the totals, over the members that have any.
Triplets reconstructed(const config::LoadedScenario& loaded, const Eigen::VectorXd& assets,
                       const Eigen::VectorXd& liabilities, std::uint64_t seed, config::Diagnostics& d) {
  const auto& ib = *loaded.scenario.interbank;
  const std::string key = ib.totals_file.empty() ? "interbank.capital_multiple" : "interbank.totals_file";
  const config::Location where = loaded.source_map.find(key);
  std::vector<Eigen::Index> nodes;
  for (Eigen::Index m = 0; m < assets.size(); ++m)
    if (assets(m) > 0.0 || liabilities(m) > 0.0) nodes.push_back(m);
  if (nodes.size() > kMaxReconstructed) {
    d.error(where, key,
            fmt::format("expected at most {} members with interbank totals to reconstruct from, found {}: give the "
                        "exposures in interbank.exposures_file",
                        kMaxReconstructed, nodes.size()));
    return {};
  }
  const auto k = static_cast<Eigen::Index>(nodes.size());
  Eigen::VectorXd a(k), l(k);
  for (Eigen::Index i = 0; i < k; ++i) {
    a(i) = assets(nodes[static_cast<std::size_t>(i)]);
    l(i) = liabilities(nodes[static_cast<std::size_t>(i)]);
  }
  models::Reconstruction r;
  try {
    r = ib.reconstruction == config::InterbankReconstruction::kMaxEntropy ? models::max_entropy(a, l)
                                                                          : models::min_density(a, l, seed);
  } catch (const std::invalid_argument& e) {
    d.error(where, key, fmt::format("expected interbank totals a network can meet, found: {}", e.what()));
    return {};
  }
  if (!r.converged) {
    d.error(where, key, "expected interbank totals a network can meet, found totals the reconstruction cannot meet");
    return {};
  }
  Triplets t;
  for (Eigen::Index i = 0; i < k; ++i)
    for (Eigen::Index j = 0; j < k; ++j)
      if (r.exposures(i, j) > 0.0)  // i's claim on j: j owes i
        t.emplace_back(nodes[static_cast<std::size_t>(j)], nodes[static_cast<std::size_t>(i)], r.exposures(i, j));
  return t;
}

}  // namespace

void compile_interbank(const config::LoadedScenario& loaded, Model& model) {
  if (!loaded.scenario.interbank) return;
  const config::InterbankConfig& ib = *loaded.scenario.interbank;
  const auto n = static_cast<Eigen::Index>(model.members.size());
  std::map<std::string, int> index;
  for (std::size_t m = 0; m < model.members.size(); ++m) index.emplace(model.members[m].id, static_cast<int>(m));
  config::Diagnostics d(loaded.source_name);
  Triplets t;
  if (!ib.exposures_file.empty()) {
    t = file_exposures(loaded, index, model, d);
  } else {
    const auto [assets, liabilities] = totals(loaded, index, model, d);
    const config::Location where = loaded.source_map.find("interbank.totals_file");
    if (d.empty() && std::abs(assets.sum() - liabilities.sum()) > 1e-9 * std::max(assets.sum(), liabilities.sum()))
      d.error(where, "interbank.totals_file",
              fmt::format("expected total interbank assets equal to total interbank liabilities, found {:.6g} and "
                          "{:.6g} USD",
                          assets.sum(), liabilities.sum()));
    if (d.empty()) t = reconstructed(loaded, assets, liabilities, ib.seed.value_or(model.seed), d);
  }
  if (!d.empty()) throw config::ScenarioError(std::move(d));
  // Leave-one-out: the excluded members' exposures out, the rest as built.
  for (const std::string& id : ib.exclude) {
    const int m = index.at(id);
    std::erase_if(t, [&](const Eigen::Triplet<double>& e) { return e.row() == m || e.col() == m; });
  }

  InterbankNetwork net;
  net.liabilities.resize(n, n);
  net.liabilities.setFromTriplets(t.begin(), t.end());
  net.liabilities.makeCompressed();
  net.obligations = Eigen::VectorXd::Zero(n);
  net.claims = Eigen::VectorXd::Zero(n);
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::SparseMatrix<double, Eigen::RowMajor>::InnerIterator it(net.liabilities, i); it; ++it) {
      net.obligations(i) += it.value();
      net.claims(it.col()) += it.value();
    }
  net.external_debt.resize(n);
  for (Eigen::Index m = 0; m < n; ++m)
    net.external_debt(m) = ib.external_debt_multiple * model.members[static_cast<std::size_t>(m)].capital;
  for (const auto& [id, debt] : ib.external_debt) net.external_debt(index.at(id)) = debt;
  net.clearing = ib.clearing;
  net.priority = ib.external_debt_priority == config::ExternalDebtPriority::kSenior ? models::DebtPriority::kSenior
                                                                                    : models::DebtPriority::kPariPassu;
  net.alpha = ib.alpha;
  net.beta = ib.beta;
  if (net.clearing == config::InterbankClearing::kDebtRank) {
    Triplets w;
    for (Eigen::Index i = 0; i < n; ++i)
      for (Eigen::SparseMatrix<double, Eigen::RowMajor>::InnerIterator it(net.liabilities, i); it; ++it) {
        const double capital = model.members[static_cast<std::size_t>(it.col())].capital;
        w.emplace_back(i, it.col(), capital > 0.0 ? std::min(1.0, it.value() / capital) : 1.0);
      }
    net.impact.resize(n, n);
    net.impact.setFromTriplets(w.begin(), w.end());
  }
  if (net.clearing == config::InterbankClearing::kEisenbergNoe) {
    models::EisenbergNoeOptions options;
    options.external_debt_priority = net.priority;
    net.eisenberg_noe.emplace(net.liabilities, net.external_debt, options);
  }
  model.interbank = std::move(net);
}

// ---------------------------------------------------------------- in the cascade

// The network cleared on the members' equities of this round; the growth of
// each member's interbank loss charged to it. A member solvent before its
// charge and insolvent after it defaults in check_members with the cause
// kInterbank (a member the CCPs' charges left insolvent: kSolvency).
void Cascade::clear_interbank(int round, ScenarioResult& out) {
  const InterbankNetwork& net = *model_.interbank;
  const auto n = static_cast<Eigen::Index>(model_.members.size());
  if (round == 1) {
    interbank_charged_.assign(static_cast<std::size_t>(n), 0.0);
    interbank_tipped_.assign(static_cast<std::size_t>(n), -1);
  } else if (touched_.empty() && out.defaults.size() == interbank_defaults_seen_) {
    return;  // no equity moved and no one defaulted since the last clearing
  }
  interbank_defaults_seen_ = out.defaults.size();
  // Each member's equity before its interbank losses, and what it still pays.
  Eigen::VectorXd equity(n);
  for (Eigen::Index m = 0; m < n; ++m) {
    const auto mi = member(static_cast<std::size_t>(m));
    equity(m) = member_state_[mi].capital + interbank_charged_[mi];
  }
  Eigen::VectorXd paid_share = Eigen::VectorXd::Ones(n);  // of its interbank obligations
  using config::InterbankClearing;
  if (net.clearing == InterbankClearing::kDebtRank) {
    Eigen::VectorXd h0(n);
    for (Eigen::Index m = 0; m < n; ++m) {
      const auto mi = static_cast<std::size_t>(m);
      const double start = model_.members[mi].capital + member_capital_[mi];
      const double lost = start - equity(m);
      const double capital = model_.members[mi].capital;
      h0(m) = member_state_[mi].round >= 0 ? 1.0 : capital > 0.0 ? std::clamp(lost / capital, 0.0, 1.0) : 0.0;
    }
    models::DebtRankOptions options;
    options.variant = models::DebtRankVariant::kLinear;
    paid_share = Eigen::VectorXd::Ones(n) - models::debtrank(net.impact, h0, Eigen::VectorXd(), options).distress;
  } else {
    const Eigen::VectorXd outside = equity + net.obligations + net.external_debt - net.claims;
    models::ClearingResult r;
    if (net.clearing == InterbankClearing::kEisenbergNoe) {
      r = net.eisenberg_noe->clear(outside);
    } else {
      r = models::rogers_veraart(net.liabilities, outside.cwiseMax(0.0), net.alpha, net.beta, net.external_debt);
    }
    for (Eigen::Index m = 0; m < n; ++m) {
      const double owed = net.obligations(m);
      if (owed <= 0.0) continue;
      const double total = owed + net.external_debt(m);
      const double interbank = net.priority == models::DebtPriority::kSenior
                                   ? std::clamp(r.payments(m) - net.external_debt(m), 0.0, owed)
                                   : std::min(owed, r.payments(m) * owed / total);
      paid_share(m) = interbank / owed;
    }
  }
  // The creditors' losses: L(i, j) (1 - share paid by i), and the debtors' shortfall.
  Eigen::VectorXd loss = Eigen::VectorXd::Zero(n);
  double shortfall = 0.0;
  for (Eigen::Index i = 0; i < n; ++i) {
    const double unpaid = 1.0 - paid_share(i);
    if (!(unpaid > 0.0)) continue;
    shortfall += net.obligations(i) * unpaid;
    for (Eigen::SparseMatrix<double, Eigen::RowMajor>::InnerIterator it(net.liabilities, i); it; ++it)
      loss(it.col()) += it.value() * unpaid;
  }
  out.interbank_shortfall = shortfall;
  for (Eigen::Index j = 0; j < n; ++j) {
    const auto m = static_cast<std::size_t>(j);
    const double more = loss(j) - interbank_charged_[m];
    if (!(more > 0.0)) continue;
    interbank_charged_[m] = loss(j);
    out.interbank_loss += more;
    const bool solvent = member_state_[m].capital >= 0.0;
    charge_member(static_cast<std::size_t>(model_.members[m].accounts.front()), LossChannel::kInterbank, more, false,
                  round, out);
    if (member_state_[m].round < 0 && solvent && member_state_[m].capital < 0.0) interbank_tipped_[m] = round;
  }
}

}  // namespace ccpnet
