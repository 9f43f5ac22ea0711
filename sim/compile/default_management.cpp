// Compiles ccps[].auction and ccps[].recovery (default management: close-out
// by hedge and auction, juniorisation, recovery tools) into the model.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "sim/compile/steps.hpp"
#include "sim/model.hpp"

namespace ccpnet {

namespace {

models::AuctionTerms auction_terms(const config::AuctionConfig& a) {
  return {a.hedge_cost, a.base_discount, a.slope, a.exponent, a.depth, a.reserve_discount};
}

// Bidding: the member accounts with the largest default-fund contributions
// (the largest books: the capacity to take a defaulted portfolio) bid well,
// bidder_share of them and at least one; ties in account order.
void mark_bidders(Model& model, const CcpModel& ccp, double bidder_share) {
  std::vector<int> members;
  for (int a : ccp.accounts)
    if (model.accounts[static_cast<std::size_t>(a)].kind == AccountKind::kMember) members.push_back(a);
  std::stable_sort(members.begin(), members.end(), [&](int x, int y) {
    return model.accounts[static_cast<std::size_t>(x)].default_fund >
           model.accounts[static_cast<std::size_t>(y)].default_fund;
  });
  const auto n = static_cast<double>(members.size());
  const auto bidders = std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(bidder_share * n - 1e-9)));
  for (std::size_t i = 0; i < members.size(); ++i)
    model.accounts[static_cast<std::size_t>(members[i])].bids = i < bidders;
}

// Tear-up and forced allocation place the book an auction left unplaced:
// without an auction there is none.
void require_auction_for_matched_book(const config::LoadedScenario& loaded, std::size_t c) {
  const config::CcpConfig& cfg = loaded.scenario.ccps[c];
  if (cfg.auction || !cfg.recovery) return;
  for (const auto tool : cfg.recovery->tools) {
    if (tool == models::RecoveryTool::kCashCall) continue;
    compile::refuse(
        loaded, fmt::format("ccps[{}].recovery.tools", c),
        fmt::format("expected ccps[{}].auction with the recovery tool {} (it places or tears up the book the "
                    "auction did not place), found no auction at CCP '{}'",
                    c, models::recovery_tool_name(tool), cfg.id));
  }
}

// ADL already terminates the positions opposite a defaulted book, at its
// bankruptcy price, as a layer of the waterfall; a tear-up after it would
// terminate the same positions again and take their gains a second time.
// No rulebook runs both (the venues' ADL is their tear-up), so a CCP takes
// one or the other.
void refuse_tear_up_after_adl(const config::LoadedScenario& loaded, const CcpModel& ccp, std::size_t c) {
  const bool by_kind = !loaded.scenario.ccps[c].waterfall;  // the layers of the CCP's kind
  const auto& tools = ccp.recovery;
  const auto& layers = ccp.waterfall;
  if (std::find(tools.begin(), tools.end(), models::RecoveryTool::kTearUp) == tools.end() ||
      std::find(layers.begin(), layers.end(), models::Layer::kAdl) == layers.end())
    return;
  compile::refuse(
      loaded, fmt::format("ccps[{}].recovery.tools", c),
      fmt::format("expected either the waterfall layer adl{} or the recovery tool tear_up at CCP '{}', found both "
                  "(ADL already terminates the positions opposite the defaulted book, at its bankruptcy price; "
                  "a tear-up after it would terminate them and take their gains again): drop one",
                  by_kind ? " (in the waterfall of its kind)" : "", ccp.id));
}

}  // namespace

namespace compile {

void set_default_management(const config::LoadedScenario& loaded, Model& model) {
  const config::Scenario& s = loaded.scenario;
  for (std::size_t c = 0; c < s.ccps.size(); ++c) {
    const config::CcpConfig& cfg = s.ccps[c];
    CcpModel& ccp = model.ccps[c];
    require_auction_for_matched_book(loaded, c);
    if (cfg.recovery) {
      ccp.recovery = cfg.recovery->tools;
      ccp.cash_call_multiple = cfg.recovery->cash_call_multiple;
      model.default_management = true;
      refuse_tear_up_after_adl(loaded, ccp, c);
    }
    if (!cfg.auction) continue;
    model.default_management = true;
    ccp.auction = true;
    ccp.juniorisation = cfg.auction->juniorisation;
    ccp.auction_terms = auction_terms(*cfg.auction);
    if (ccp.juniorisation) mark_bidders(model, ccp, cfg.auction->bidder_share);
  }
}

}  // namespace compile

}  // namespace ccpnet
