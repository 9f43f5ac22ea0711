// Systemic measures: each node's contribution to a system metric by
// leave-one-out on common random numbers (issue: the CCP-bank nexus). A
// member's contribution is what the system loses with its interbank exposures
// (as lender and as borrower) minus what it loses without them
// (interbank.exclude, the rest of the network as built); a link's, with the
// link minus without it (the CCPs' books rebalanced over the other links, what
// none of them nets taken by the CCP's members directly, as topology none does,
// unless the file sets ccps[].imbalance).
// Every variant runs on the base's seed and scenarios, so each contribution
// is a paired difference with its 95% interval (sim/compare.hpp). The
// contributions of several nodes need not add up to the loss: the channels
// interact.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sim/config/load.hpp"
#include "sim/output.hpp"
#include "sim/runner.hpp"

namespace ccpnet {

struct ContributionRequest {
  // Members whose interbank exposures are left out one at a time; nullopt:
  // the `top` members with the largest capital when the scenario has an
  // interbank network, none otherwise.
  std::optional<std::vector<std::string>> members;
  // Links (positions in `links`) left out one at a time; nullopt: every link.
  std::optional<std::vector<int>> links;
  int top = 10;
  std::string metric = "total_loss";  // a compared metric (compare_metrics())
};

struct Contribution {
  std::string node, kind;                               // kind: member or link
  double with_node = 0.0, without_node = 0.0;           // the base's mean, the variant's
  double contribution = 0.0, lower = 0.0, upper = 0.0;  // base - variant, 95% interval
  double share = 0.0;                                   // contribution over the base's mean (0 when it is 0)
};

struct Contributions {
  std::shared_ptr<const Model> model;  // the base (name, source, seed)
  std::string metric;
  std::vector<Contribution> rows;  // largest contribution first
  std::int64_t scenarios = 0;
  std::vector<std::string> warnings;
};

// The leave-one-out variants of `base` (loaded with `overrides`) in place of
// its own, run by run_compare. Throws InputError on an unknown member, link
// or metric, or members without an interbank network.
Contributions run_contributions(const config::LoadedScenario& base, const std::vector<config::Override>& overrides,
                                const ContributionRequest& request, const RunOptions& options);

// contributions.csv; the "contributions" block of the JSON; the terminal's table.
Table contributions_table(const Contributions& c);
nlohmann::ordered_json contributions_json(const Contributions& c);
std::string format_contributions(const Contributions& c);

}  // namespace ccpnet
