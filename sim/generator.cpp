#include "sim/generator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "sim/rng.hpp"

namespace ccpnet {

std::vector<config::MemberConfig> generate_members(const config::Scenario& s) {
  std::vector<config::MemberConfig> out;
  if (!s.generator) return out;
  const config::GeneratorConfig& g = *s.generator;
  // Generation has its own stream, apart from every per-scenario draw.
  const rng::Philox philox(s.seed, rng::Stream::kGenerator);
  rng::Draws draws(philox, 0, 0);
  const std::size_t n_ccps = s.ccps.size(), n_assets = s.market.assets.size();
  const auto n = static_cast<std::size_t>(g.members);
  const int width = static_cast<int>(std::to_string(n).size());
  const std::size_t per_account = std::min<std::size_t>(static_cast<std::size_t>(g.assets_per_account), n_assets);

  struct Position {
    std::size_t member, ccp, asset;
    double qty;
  };
  std::vector<Position> positions;
  std::vector<double> gross(n, 0.0);
  std::vector<std::size_t> ccps(n_ccps), assets(n_assets);
  for (std::size_t m = 0; m < n; ++m) {
    const bool core = draws.uniform() < g.core_share;
    // Number of CCPs: core members everywhere; others 1 + Poisson(memberships - 1).
    std::size_t k =
        core ? n_ccps : std::min<std::size_t>(n_ccps, 1 + static_cast<std::size_t>(draws.poisson(g.memberships - 1.0)));
    std::iota(ccps.begin(), ccps.end(), std::size_t{0});
    for (std::size_t i = 0; i < k; ++i)
      std::swap(ccps[i], ccps[i + static_cast<std::size_t>(draws.uniform() * static_cast<double>(n_ccps - i))]);
    std::sort(ccps.begin(), ccps.begin() + static_cast<std::ptrdiff_t>(k));
    // Heavy-tailed size: Pareto with median `notional` and tail index size_tail.
    // Pareto(x_m, alpha) has median x_m 2^(1/alpha); x_m = notional 2^(-1/alpha).
    const double pareto = std::pow(2.0 * draws.uniform(), -1.0 / g.size_tail);
    const double size = g.notional * pareto * (core ? g.core_size : 1.0);
    for (std::size_t ci = 0; ci < k; ++ci) {
      std::iota(assets.begin(), assets.end(), std::size_t{0});
      for (std::size_t i = 0; i < per_account; ++i)
        std::swap(assets[i], assets[i + static_cast<std::size_t>(draws.uniform() * static_cast<double>(n_assets - i))]);
      std::sort(assets.begin(), assets.begin() + static_cast<std::ptrdiff_t>(per_account));
      for (std::size_t ai = 0; ai < per_account; ++ai) {
        const std::size_t a = assets[ai];
        const double value =
            size / static_cast<double>(per_account) * (0.5 + draws.uniform()) * (draws.uniform() < 0.5 ? -1.0 : 1.0);
        positions.push_back({m, ccps[ci], a, value / s.market.assets[a].price});
        gross[m] += std::abs(value);
      }
    }
  }
  // Balance: per asset over the system (or per CCP and asset without links),
  // by giving the negated net to the largest holder.
  const bool per_ccp = s.links.empty();
  std::map<std::pair<std::size_t, std::size_t>, std::pair<double, std::size_t>> net;  // key -> (net, largest index)
  for (std::size_t i = 0; i < positions.size(); ++i) {
    const auto key = std::make_pair(per_ccp ? positions[i].ccp : 0, positions[i].asset);
    auto [it, inserted] = net.emplace(key, std::make_pair(0.0, i));
    it->second.first += positions[i].qty;
    if (std::abs(positions[i].qty) > std::abs(positions[it->second.second].qty)) it->second.second = i;
  }
  for (const auto& [key, v] : net) {
    Position& p = positions[v.second];
    const double before = std::abs(p.qty);
    p.qty -= v.first;
    gross[p.member] += (std::abs(p.qty) - before) * s.market.assets[p.asset].price;
  }

  out.resize(n);
  for (std::size_t m = 0; m < n; ++m) {
    auto& mem = out[m];
    mem.id = config::generated_member_id(g, m);
    mem.group = fmt::format("{}group{:0{}}", g.id_prefix, m / static_cast<std::size_t>(g.group_size) + 1, width);
    mem.capital = g.capital_ratio * gross[m];
    mem.liquidity = g.liquidity_ratio * mem.capital;
  }
  for (const auto& p : positions) {
    auto& book = out[p.member].positions;
    const std::string& ccp = s.ccps[p.ccp].id;
    auto it = std::find_if(book.begin(), book.end(), [&](const auto& e) { return e.first == ccp; });
    if (it == book.end()) {
      book.emplace_back(ccp, config::OrderedMap<double>{});
      it = std::prev(book.end());
    }
    it->second.emplace_back(s.market.assets[p.asset].id, p.qty);
  }
  return out;
}

}  // namespace ccpnet
