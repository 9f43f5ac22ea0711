// `ccpnet stress`: the file's deterministic stress scenarios, each run once
// through the cascade with the full layer-by-layer breakdown per CCP and per
// defaulter.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/cascade.hpp"
#include "sim/model_types.hpp"

namespace ccpnet {

struct Model;
struct CcpModel;

// How the CCP's default fund is sized over its stress set (RTS 153/2013 art.
// 30): the fund the set requires, the move and the groups that set it, the
// set's size by family (summary.json and stress.json).
nlohmann::ordered_json fund_sizing_json(const CcpModel& ccp);

// The same for every CCP, as `ccpnet stress` prints it before the scenarios.
std::string format_fund_sizing(const Model& model);

struct StressOutcome {
  StressScenario stress;
  ScenarioResult result;
  CascadeTrace trace;
};

// Every non-overlay stress scenario of the model, in file order. With none in
// the file, the baseline (no market move) is run so exogenous defaults still
// show their waterfalls.
std::vector<StressOutcome> run_stress(const Model& model);

// The terminal report: per scenario, defaults by round and cause, each CCP's
// waterfall layer by layer, failures.
// With `fund_sizing`, the default-fund sizing of every CCP comes first
// (format_fund_sizing).
std::string format_stress(const Model& model, const std::vector<StressOutcome>& outcomes, bool fund_sizing = true);

nlohmann::ordered_json stress_json(const Model& model, const std::vector<StressOutcome>& outcomes);

// stress_layers.csv: scenario, round, ccp, layer, amount (one row per layer hit).
std::string stress_layers_csv(const Model& model, const std::vector<StressOutcome>& outcomes);

// Why CCP c failed in r: whose losses its layers ran out on, and what was left
// for its creditors (`money` formats amounts).
std::string failure_text(const ScenarioResult& r, std::size_t c, const std::function<std::string(double)>& money);

// Display name of an account: the member's id, "link:<CCP>" or "rest_of_market".
std::string account_name(const Model& model, int account);
// Display name of a waterfall's line: its account's, "<member> clients" for
// the clients' accounts closed out with a defaulter.
std::string line_name(const Model& model, const DefaulterLine& line);

}  // namespace ccpnet
