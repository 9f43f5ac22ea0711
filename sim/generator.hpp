// The synthetic market generator: members, their CCPs and positions from a
// handful of parameters (config::GeneratorConfig), seeded by the scenario seed.
#pragma once

#include <vector>

#include "sim/config/schema.hpp"

namespace ccpnet {

// The generated members, in id order. Positions are balanced per asset over
// the whole system (and per CCP when there are no links), so books can
// balance over the link graph.
std::vector<config::MemberConfig> generate_members(const config::Scenario& scenario);

}  // namespace ccpnet
