// Client clearing (members[].clients; EMIR art. 39 and 48): each client's
// accounts at the CCPs where it clears through its member, and their margins.
#include <fmt/format.h>

#include <algorithm>

#include "sim/compile/steps.hpp"

namespace ccpnet::compile {

// Clients are listed under listed members only (generated members have none),
// so the index of a listed member is its position in `members`.
void add_clients(const std::vector<config::MemberConfig>& members, const Index& index, Model& model) {
  const auto n_assets = static_cast<Eigen::Index>(model.assets.size());
  for (const config::MemberConfig& m : members) {
    const int mi = index.member.at(m.id);
    for (const config::ClientConfig& c : m.clients) {
      const int ci = static_cast<int>(model.clients.size());
      ClientModel client;
      client.id = c.id;
      client.member = mi;
      client.segregation = c.segregation;
      for (const std::string& backup : c.backup) client.backups.push_back(index.member.at(backup));
      for (const auto& [ccp_id, book] : c.positions) {
        const int ccp = index.ccp.at(ccp_id);
        member_account(model, mi, ccp);  // the member's house account there: its fund contribution
        Account acc = position_account(mi, ccp, book, index, n_assets);
        acc.kind = AccountKind::kClient;
        acc.owner = ci;
        const int a = static_cast<int>(model.accounts.size());
        client.accounts.push_back(a);
        model.ccps[static_cast<std::size_t>(ccp)].accounts.push_back(a);
        model.accounts.push_back(std::move(acc));
      }
      model.members[static_cast<std::size_t>(mi)].clients.push_back(ci);
      model.clients.push_back(std::move(client));
    }
  }
}

// Observed margins replace the margin model's; a backup that clears at none
// of its client's CCPs could never take it: a located error.
void set_client_margins(const config::LoadedScenario& loaded, Model& model) {
  std::size_t ci = 0;
  const auto& members = loaded.scenario.members;
  for (std::size_t m = 0; m < members.size(); ++m)
    for (std::size_t k = 0; k < members[m].clients.size(); ++k, ++ci) {
      const config::ClientConfig& c = members[m].clients[k];
      const ClientModel& client = model.clients[ci];
      for (int a : client.accounts) {
        Account& acc = model.accounts[static_cast<std::size_t>(a)];
        const std::string& ccp = model.ccps[static_cast<std::size_t>(acc.ccp)].id;
        for (const auto& [id, amount] : c.initial_margin)
          if (id == ccp) acc.initial_margin = amount;
      }
      for (std::size_t b = 0; b < client.backups.size(); ++b) {
        const int backup = client.backups[b];
        const bool clears = std::any_of(client.accounts.begin(), client.accounts.end(), [&](int a) {
          return house_account(model, backup, model.accounts[static_cast<std::size_t>(a)].ccp) >= 0;
        });
        if (!clears)
          refuse(loaded, fmt::format("members[{}].clients[{}].backup[{}]", m, k, b),
                 fmt::format("expected a backup member that clears at one of client '{}''s CCPs at least, found "
                             "'{}', which clears at none of them",
                             c.id, c.backup[b]));
      }
    }
}

}  // namespace ccpnet::compile
