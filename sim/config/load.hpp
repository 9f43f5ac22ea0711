// Loading a scenario: text -> YAML (hostile-input safe) -> --set overrides ->
// strict typed read -> cross-reference and domain checks. Every error of the
// input is collected; on any error ScenarioError is thrown with all of them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "sim/config/data_files.hpp"
#include "sim/config/diagnostics.hpp"
#include "sim/config/schema.hpp"

namespace ccpnet::config {

// One `--set key.path=value` override. Path segments are keys, `[i]` indices,
// or the id of an element of a list of records (`ccps.CCP_A.capital`).
struct Override {
  std::string path;
  std::string value;                                   // YAML text: 5000, true, [1, 2], {a: 1}
  static Override parse(std::string_view assignment);  // "a.b=c"; throws ScenarioError
};

struct LoadedScenario {
  Scenario scenario;
  std::vector<std::string> warnings;  // e.g. a repaired correlation matrix
  std::string text;                   // the file's bytes, for the manifest
  std::string source_name;            // file name used in messages
  SourceMap source_map;               // where each key was read, for later located errors
  DataFiles data;                     // the data files it names (price history, trades), read and checked
  DataAccess data_access = DataAccess::kBesideScenario;  // where they could be (a variant reads the same)
};

// Bounds on one scenario file, so that hostile input fails fast and small:
// yaml-cpp parses a few megabytes a second and keeps about half a kilobyte
// per node. The limit on nodes also bounds the values with every alias
// expanded. A reference network of 500 members at 3 CCPs, each holding all of
// 50 assets, is 0.9 MB and 160,000 nodes.
inline constexpr std::size_t kMaxScenarioBytes = 4u << 20;
inline constexpr std::size_t kMaxYamlNodes = 500'000;

LoadedScenario load_scenario_file(const std::string& path, const std::vector<Override>& overrides = {},
                                  DataAccess access = DataAccess::kBesideScenario);
LoadedScenario load_scenario_text(std::string_view text, const std::string& source_name,
                                  const std::vector<Override>& overrides = {},
                                  DataAccess access = DataAccess::kBesideScenario);

// Variant `variant` of `base` for `ccpnet compare`: the base's text with the
// same `overrides`, then the variant's `set` entries, on the base's seed and
// number of scenarios. Loading a file checks each of its variants this way,
// with errors located at the variant's entries.
LoadedScenario load_variant(const LoadedScenario& base, std::size_t variant, const std::vector<Override>& overrides);

// Adds the errors of variant `variant` of `base` (from loading or building it)
// to `diagnostics`, each located at the variant's `set` entry that caused it
// and prefixed "variant 'NAME':".
void add_variant_errors(const LoadedScenario& base, std::size_t variant, const ScenarioError& failure,
                        Diagnostics& diagnostics);

// Whether the scenario runs in time steps (simulation.horizon_days,
// step_days or market.fire_sales).
bool runs_in_time_steps(const Scenario& s);

// Whether CCP `c` uses the settlement layer (SPEC 3.8): it settles other than
// instantly, holds collateral on a bridge, takes collateral in an asset or
// runs the margin spiral in one period (in time steps the spiral is the IM
// recomputed at every step, sim/margin_path.hpp).
bool uses_settlement_layer(const Scenario& s, const CcpConfig& c);

// The resolved scenario (every field, defaults included) as YAML text.
std::string to_yaml(const Scenario& scenario);

// The key reference of the scenario format, in Markdown.
std::string schema_markdown();

// Markers around the generated key reference in scenarios/README.md.
inline constexpr std::string_view kSchemaBegin = "<!-- BEGIN GENERATED KEY REFERENCE: ccpnet schema --update -->";
inline constexpr std::string_view kSchemaEnd = "<!-- END GENERATED KEY REFERENCE -->";

// `document` with the text between the markers replaced by schema_markdown();
// throws std::runtime_error when the markers are missing.
std::string with_schema_reference(const std::string& document);

}  // namespace ccpnet::config
