// The CCPs: their rulebooks, the distinct margin periods of risk, the
// settlement layer (SPEC 3.8) and the time steps.
#include <algorithm>
#include <cmath>

#include "sim/compile/steps.hpp"

namespace ccpnet::compile {

void add_ccps(const config::Scenario& s, Index& index, Model& model) {
  for (const auto& c : s.ccps) {
    index.ccp[c.id] = static_cast<int>(model.ccps.size());
    model.ccps.push_back(ccp_model(c, index));
  }
}

std::vector<std::pair<int, int>> link_pairs(const std::vector<config::LinkConfig>& links, const Index& index) {
  std::vector<std::pair<int, int>> pairs;
  for (const auto& l : links) pairs.emplace_back(index.ccp.at(l.between[0]), index.ccp.at(l.between[1]));
  return pairs;
}

// Chains, bridges, each CCP's mode and custody. The loader has checked every
// reference and listed the built-in chains used.
void add_settlement(const config::Scenario& s, const Index& index, Model& model) {
  std::map<std::string, int> chain_index, bridge_index;
  for (const auto& c : s.settlement.chains) {
    chain_index[c.id] = static_cast<int>(model.chains.size());
    model.chains.push_back(chain_model(c));
  }
  for (const auto& b : s.settlement.bridges) {
    bridge_index[b.id] = static_cast<int>(model.bridges.size());
    model.bridges.push_back({b.id, b.exploit_probability, b.recovery_rate, b.delay_hours});
  }
  model.asset_chain.assign(model.assets.size(), -1);
  for (const auto& [id, a] : index.asset) {
    const auto it = chain_index.find(model.assets[static_cast<std::size_t>(a)].chain);
    if (it == chain_index.end()) continue;
    model.asset_chain[static_cast<std::size_t>(a)] = it->second;
    model.chains[static_cast<std::size_t>(it->second)].assets.push_back(a);
  }
  for (auto& chain : model.chains) std::sort(chain.assets.begin(), chain.assets.end());
  for (std::size_t c = 0; c < s.ccps.size(); ++c) {
    CcpSettlement& out = model.ccps[c].settlement;
    out = ccp_settlement(s, s.ccps[c], index, chain_index, bridge_index);
    if (out.custody != Custody::kCcp) model.ccps[c].im_segregated = true;  // bankruptcy-remote
    model.settlement_active = model.settlement_active || config::uses_settlement_layer(s, s.ccps[c]);
  }
}

// The distinct MPORs, ascending, and each CCP's among them.
void set_horizons(Model& model) {
  for (const auto& ccp : model.ccps) model.horizons.push_back(ccp.mpor_days);
  std::sort(model.horizons.begin(), model.horizons.end());
  model.horizons.erase(std::unique(model.horizons.begin(), model.horizons.end()), model.horizons.end());
  for (auto& ccp : model.ccps)
    ccp.horizon = static_cast<int>(std::lower_bound(model.horizons.begin(), model.horizons.end(), ccp.mpor_days) -
                                   model.horizons.begin());
}

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

}  // namespace ccpnet::compile
