// The kinds a Model tells apart and the stress scenarios it holds: the model's
// own vocabulary, which the scenario file names (sim/config/schema.hpp gives
// each enumerator its YAML name and reads stress scenarios into this struct),
// so that the engine reads none of the config.
#pragma once

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ccpnet {

enum class CcpKind { kTraditional, kCryptoVenue, kLendingProtocol };

// How a CCP's payments and deliveries settle (SPEC 3.8), and where it holds collateral.
enum class SettlementMode { kInstant, kAtomic, kFreeOfPayment, kBridge, kL2Optimistic };
enum class Custody { kCcp, kSmartContract, kCustodian, kBridge };

// What absorbs the losses reaching a CCP over its links: its waterfall, or its own capital.
enum class LinkLossRule { kWaterfall, kOwnCapital };

// A link between peers (each posts margin at the other), or a CCP as a clearing member of another.
enum class LinkKind { kPeer, kParticipant };

// How scenarios use an observed price history: replay its windows, or resample its days.
enum class HistoryMode { kReplay, kBootstrap };

// How the members' network outside the CCPs clears (interbank.clearing, sim/nexus.hpp).
enum class InterbankClearing { kEisenbergNoe, kRogersVeraart, kDebtRank };

// How a clearing member's client account is held at a CCP (EMIR art. 39(2)-(3)):
// in an omnibus client account with the member's other omnibus clients, or in
// an account of its own (individual client segregation).
enum class Segregation { kIndividual, kOmnibus };

// A stress scenario (SPEC 3.1): price moves per asset (asset id, simple
// return) over `days`, or day by day (`path`); implied-vol moves; an overlay
// adds its moves to every random scenario, otherwise it is a deterministic
// scenario that may halt chains and exploit bridges.
struct StressScenario {
  using Moves = std::vector<std::pair<std::string, double>>;
  std::string name;
  Moves moves;
  std::vector<Moves> path;
  Moves vol_moves;
  double days = 1.0;
  bool overlay = false;
  std::vector<std::string> halted_chains;
  std::vector<std::string> exploited_bridges;
  std::optional<double> exploit_day;  // time steps: the day the bridges are exploited (default the first)

  // The days the moves take: `days`, or the length of the path.
  double length_days() const { return path.empty() ? days : static_cast<double>(path.size()); }
  // The cumulative log-move of `asset` after `day` days, scaled by `multiple`:
  // `moves` realised linearly in log terms over `days`, or the path's days
  // summed, a fraction of a day taking that share of its day's log-move.
  double log_move(const std::string& asset, double day, double multiple = 1.0) const {
    const auto log1p_of = [](double m) { return std::log1p(std::max(m, -1.0 + 1e-12)); };
    if (path.empty()) {
      for (const auto& [id, m] : moves)
        if (id == asset) return log1p_of(m) * multiple * std::min(1.0, day / days);
      return 0.0;
    }
    double total = 0.0;
    for (std::size_t d = 0; d < path.size() && static_cast<double>(d) < day; ++d)
      for (const auto& [id, m] : path[d])
        if (id == asset) total += log1p_of(m) * std::min(1.0, day - static_cast<double>(d));
    return total * multiple;
  }
  // The move of each asset over the whole scenario (asset ids in order of
  // first appearance).
  Moves total_moves() const {
    if (path.empty()) return moves;
    Moves out;
    for (const auto& day : path)
      for (const auto& move : day) {
        const std::string& id = move.first;
        if (std::none_of(out.begin(), out.end(), [&](const auto& p) { return p.first == id; }))
          out.emplace_back(id, std::expm1(log_move(id, length_days())));
      }
    return out;
  }
};

}  // namespace ccpnet
