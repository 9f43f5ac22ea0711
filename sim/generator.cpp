#include "sim/generator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "sim/rng.hpp"

namespace ccpnet {

namespace {

struct Position {
  std::size_t member, ccp, asset;
  double qty;
  int client;  // index in the generated clients, -1 for the member's house account
};

struct GeneratedClient {
  std::size_t member, slot;  // its member and its number among the member's clients
  config::Segregation segregation;
  std::vector<std::size_t> backups;
};

// One account's positions: `per_account` distinct assets drawn at random, each
// a random side and (0.5 + U) of an equal share of `size` in value.
void draw_account(rng::Draws& draws, const config::Scenario& s, std::size_t per_account, std::size_t member,
                  std::size_t ccp, double size, int client, std::vector<Position>& positions,
                  std::vector<double>& gross) {
  const std::size_t n_assets = s.market.assets.size();
  std::vector<std::size_t> assets(n_assets);
  std::iota(assets.begin(), assets.end(), std::size_t{0});
  for (std::size_t i = 0; i < per_account; ++i)
    std::swap(assets[i], assets[i + static_cast<std::size_t>(draws.uniform() * static_cast<double>(n_assets - i))]);
  std::sort(assets.begin(), assets.begin() + static_cast<std::ptrdiff_t>(per_account));
  for (std::size_t ai = 0; ai < per_account; ++ai) {
    const std::size_t a = assets[ai];
    const double value =
        size / static_cast<double>(per_account) * (0.5 + draws.uniform()) * (draws.uniform() < 0.5 ? -1.0 : 1.0);
    positions.push_back({member, ccp, a, value / s.market.assets[a].price, client});
    if (client < 0) gross[member] += std::abs(value);
  }
}

// The clients of the core members (generator.clients each), drawn after every
// member so that the members' books do not depend on them: a book of
// client_size times a periphery book's median at each traditional CCP of the
// member, individually segregated with probability client_individual_share,
// omnibus otherwise, and two other core members as backups in random order.
std::vector<GeneratedClient> draw_clients(rng::Draws& draws, const config::Scenario& s,
                                          const std::vector<std::size_t>& core, std::size_t per_account,
                                          std::vector<Position>& positions, std::vector<double>& gross) {
  const config::GeneratorConfig& g = *s.generator;
  std::vector<GeneratedClient> clients;
  for (std::size_t c = 0; c < core.size(); ++c)
    for (std::int64_t k = 0; k < g.clients; ++k) {
      GeneratedClient client{core[c], static_cast<std::size_t>(k), config::Segregation::kOmnibus, {}};
      if (draws.uniform() < g.client_individual_share) client.segregation = config::Segregation::kIndividual;
      std::vector<std::size_t> others;
      for (std::size_t o = 0; o < core.size(); ++o)
        if (o != c) others.push_back(core[o]);
      for (std::size_t i = 0; i < std::min<std::size_t>(2, others.size()); ++i) {
        std::swap(others[i],
                  others[i + static_cast<std::size_t>(draws.uniform() * static_cast<double>(others.size() - i))]);
        client.backups.push_back(others[i]);
      }
      const double size = g.notional * g.client_size * std::pow(2.0 * draws.uniform(), -1.0 / g.size_tail);
      const int index = static_cast<int>(clients.size());
      for (std::size_t ccp = 0; ccp < s.ccps.size(); ++ccp)
        if (s.ccps[ccp].kind == config::CcpKind::kTraditional)
          draw_account(draws, s, per_account, core[c], ccp, size, index, positions, gross);
      clients.push_back(std::move(client));
    }
  return clients;
}

// A generated client's configuration: its id (its member's and its number) and its backups' ids.
config::ClientConfig client_config(const config::GeneratorConfig& g, const GeneratedClient& c) {
  config::ClientConfig out;
  out.id = fmt::format("{}C{}", config::generated_member_id(g, c.member), c.slot + 1);
  out.segregation = c.segregation;
  for (const std::size_t b : c.backups) out.backup.push_back(config::generated_member_id(g, b));
  return out;
}

}  // namespace

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

  std::vector<Position> positions;
  std::vector<double> gross(n, 0.0);
  std::vector<std::size_t> ccps(n_ccps), core;
  for (std::size_t m = 0; m < n; ++m) {
    const bool is_core = draws.uniform() < g.core_share;
    if (is_core) core.push_back(m);
    // Number of CCPs: core members everywhere; others 1 + Poisson(memberships - 1).
    std::size_t k =
        is_core ? n_ccps
                : std::min<std::size_t>(n_ccps, 1 + static_cast<std::size_t>(draws.poisson(g.memberships - 1.0)));
    std::iota(ccps.begin(), ccps.end(), std::size_t{0});
    for (std::size_t i = 0; i < k; ++i)
      std::swap(ccps[i], ccps[i + static_cast<std::size_t>(draws.uniform() * static_cast<double>(n_ccps - i))]);
    std::sort(ccps.begin(), ccps.begin() + static_cast<std::ptrdiff_t>(k));
    // Heavy-tailed size: Pareto with median `notional` and tail index size_tail.
    // Pareto(x_m, alpha) has median x_m 2^(1/alpha); x_m = notional 2^(-1/alpha).
    const double pareto = std::pow(2.0 * draws.uniform(), -1.0 / g.size_tail);
    const double size = g.notional * pareto * (is_core ? g.core_size : 1.0);
    for (std::size_t ci = 0; ci < k; ++ci) draw_account(draws, s, per_account, m, ccps[ci], size, -1, positions, gross);
  }
  const std::vector<GeneratedClient> clients = draw_clients(draws, s, core, per_account, positions, gross);
  // Balance: per asset over the system (or per CCP and asset without links),
  // by giving the negated net to the largest house position.
  const bool per_ccp = s.links.empty();
  std::map<std::pair<std::size_t, std::size_t>, std::pair<double, std::size_t>> net;  // key -> (net, largest index)
  for (std::size_t i = 0; i < positions.size(); ++i) {
    const auto key = std::make_pair(per_ccp ? positions[i].ccp : 0, positions[i].asset);
    auto [it, inserted] = net.emplace(key, std::make_pair(0.0, i));
    it->second.first += positions[i].qty;
    const Position& largest = positions[it->second.second];
    if (positions[i].client < 0 && (largest.client >= 0 || std::abs(positions[i].qty) > std::abs(largest.qty)))
      it->second.second = i;
  }
  for (const auto& [key, v] : net) {
    Position& p = positions[v.second];
    const double before = std::abs(p.qty);
    p.qty -= v.first;
    if (p.client < 0) gross[p.member] += (std::abs(p.qty) - before) * s.market.assets[p.asset].price;
  }

  out.resize(n);
  for (std::size_t m = 0; m < n; ++m) {
    auto& mem = out[m];
    mem.id = config::generated_member_id(g, m);
    mem.group = fmt::format("{}group{:0{}}", g.id_prefix, m / static_cast<std::size_t>(g.group_size) + 1, width);
    mem.capital = g.capital_ratio * gross[m];
    mem.liquidity = g.liquidity_ratio * mem.capital;
  }
  for (const GeneratedClient& c : clients) out[c.member].clients.push_back(client_config(g, c));
  for (const auto& p : positions) {
    auto& book = p.client < 0 ? out[p.member].positions
                              : out[p.member].clients[clients[static_cast<std::size_t>(p.client)].slot].positions;
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
