// Located errors of the compiler: a figure computed from the inputs that is
// not finite.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "sim/compile/steps.hpp"

namespace ccpnet::compile {
namespace {

// Who holds an account, in words, and the key path of the inputs it comes
// from: a member's positions (or `generator`, or `trades`), a link, a CCP's
// imbalance policy.
std::pair<std::string, std::string> holder_and_path(const Model& model, const config::Scenario& s,
                                                    std::size_t listed_members, const Account& acc) {
  const CcpModel& ccp = model.ccps[static_cast<std::size_t>(acc.ccp)];
  switch (acc.kind) {
    case AccountKind::kMember: {
      const auto m = static_cast<std::size_t>(acc.owner);
      const std::string holder = fmt::format("member '{}'", model.members[m].id);
      if (m >= listed_members) return {holder, "generator"};
      const auto& positions = s.members[m].positions;
      const bool listed =
          std::any_of(positions.begin(), positions.end(), [&](const auto& p) { return p.first == ccp.id; });
      return {holder, listed ? fmt::format("members[{}].positions.{}", m, ccp.id)
                             : (s.trades.empty() ? fmt::format("members[{}]", m) : std::string("trades"))};
    }
    case AccountKind::kLink: {
      const std::string& other = model.ccps[static_cast<std::size_t>(acc.owner)].id;
      std::string path;
      for (std::size_t l = 0; l < s.links.size() && path.empty(); ++l) {
        const auto& b = s.links[l].between;
        if ((b[0] == ccp.id && b[1] == other) || (b[1] == ccp.id && b[0] == other)) path = fmt::format("links[{}]", l);
      }
      return {fmt::format("the link account of CCP '{}'", other), path};
    }
    case AccountKind::kClient: {
      const ClientModel& client = model.clients[static_cast<std::size_t>(acc.owner)];
      for (std::size_t m = 0; m < s.members.size(); ++m)
        for (std::size_t k = 0; k < s.members[m].clients.size(); ++k)
          if (s.members[m].clients[k].id == client.id)
            return {fmt::format("client '{}'", client.id),
                    fmt::format("members[{}].clients[{}].positions.{}", m, k, ccp.id)};
      return {fmt::format("client '{}'", client.id), "members"};
    }
    case AccountKind::kRestOfMarket: break;
  }
  return {"the rest-of-market account", fmt::format("ccps[{}].imbalance", acc.ccp)};
}

// The positions of an account with the inputs of their assets (at most four).
std::vector<std::string> position_inputs(const Model& model, const Account& acc) {
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
  return inputs;
}

}  // namespace

// A figure computed from the inputs (a margin, a fund, a stress loss) that is
// not finite: a located error at the inputs of the account it belongs to,
// naming them (its positions' assets with their price, volume and impact, and
// the CCP's margin model), so that the user sees which numbers to fix.
void FiniteCheck::refuse_non_finite(const Model& model, int account, std::string_view what, double value) const {
  const config::Scenario& s = loaded_.scenario;
  const Account& acc = model.accounts[static_cast<std::size_t>(account)];
  const CcpModel& ccp = model.ccps[static_cast<std::size_t>(acc.ccp)];
  const auto [holder, path] = holder_and_path(model, s, listed_members_, acc);
  const std::vector<std::string> inputs = position_inputs(model, acc);
  const auto& cfg = s.ccps[static_cast<std::size_t>(acc.ccp)];
  std::string margin_text = fmt::format("ccps[{}]: stress_sigma {:.6g}, margin {}, mpor_days {:.6g}", acc.ccp,
                                        cfg.stress_sigma, ccp.margin_model, cfg.margin.mpor_days);
  if (cfg.margin.concentration_participation)
    margin_text += fmt::format(", concentration_participation {:.6g}", *cfg.margin.concentration_participation);
  refuse(loaded_, path,
         fmt::format("expected a finite {} of {} at CCP '{}', found {}: the numbers it is computed from are out of "
                     "range; it comes from the positions {} and {}",
                     what, holder, ccp.id, value,
                     inputs.empty() ? std::string("(none)") : fmt::format("{}", fmt::join(inputs, ", ")), margin_text));
}

void refuse(const config::LoadedScenario& loaded, const std::string& path, const std::string& message) {
  config::Diagnostics d(loaded.source_name);
  d.error(loaded.source_map.find(path), path, message);
  throw config::ScenarioError(std::move(d));
}

}  // namespace ccpnet::compile
