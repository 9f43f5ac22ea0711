// Scenario loading: strict reading, located errors, cross-references, --set
// overrides, the resolved scenario, and hostile input.
//
// Every file in tests/data/bad has one error class (many_errors.yaml has
// several) and its exact messages below; hostile inputs are generated here.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "sim/config/load.hpp"
#include "sim/config/yaml_reader.hpp"
#include "sim/model.hpp"
#include "tests/sim/files.hpp"

namespace ccpnet::config {
namespace test_loader {

namespace fs = std::filesystem;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string errors_of(std::string_view text, const std::vector<Override>& overrides = {},
                      const std::string& name = "t.yaml") {
  try {
    load_scenario_text(text, name, overrides);
  } catch (const ScenarioError& e) {
    return e.what();
  }
  return "";
}

using ccpnet::test_files::read_text;

const fs::path& source_dir() {
  static const fs::path dir(CCPNET_SOURCE_DIR);
  return dir;
}

fs::path bad_dir() { return source_dir() / "tests" / "data" / "bad"; }

// The example file of the specification, without its comment header.
std::string base_text() {
  const std::string text = read_text(source_dir() / "scenarios" / "two_ccp_peer.yaml");
  return text.substr(text.find("name:"));
}

// `text` with the first `from` replaced by `to` (which must be there).
std::string replaced(std::string text, std::string_view from, std::string_view to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

constexpr std::string_view kMinimal = R"(name: minimal
market:
  assets:
    - {id: BTC, price: 60000, volatility: 0.6}
ccps:
  - id: A
    capital: 1.0e8
members:
  - id: M1
    capital: 1.0e6
    positions: {A: {BTC: 1}}
  - id: M2
    capital: 1.0e6
    positions: {A: {BTC: -1}}
)";

TEST(Loader, MinimalFileLoadsWithDefaults) {
  const LoadedScenario s = load_scenario_text(kMinimal, "t.yaml");
  EXPECT_EQ(s.scenario.name, "minimal");
  EXPECT_EQ(s.scenario.seed, 1u);
  EXPECT_EQ(s.scenario.simulation.scenarios, 10000);
  ASSERT_EQ(s.scenario.members.size(), 2u);
  EXPECT_EQ(s.scenario.members[0].group, "M1");  // group defaults to the id
  EXPECT_DOUBLE_EQ(s.scenario.market.assets[0].trading_days, 365.0);
}

TEST(Loader, UnknownKeyIsLocatedWithSuggestion) {
  // One mistake, one error: the misspelt key, not also "capital is missing".
  EXPECT_EQ(errors_of(replaced(std::string(kMinimal), "capital: 1.0e8", "capitl: 1.0e8")),
            "t.yaml:7:5: ccps[0].capitl: unknown key 'capitl' (did you mean 'capital'?)\n");
}

// ---- tests/data/bad: one error class per file, exact messages ---------------

struct BadFile {
  const char* name;
  // Every line of the report. "<...>" stands for text that may change as the
  // schema grows (the list of margin models).
  const char* errors;
};

void PrintTo(const BadFile& f, std::ostream* os) { *os << f.name; }

constexpr BadFile kBadFiles[] = {
    {"confidence_out_of_range.yaml",
     "confidence_out_of_range.yaml:14:45: ccps[0].margin.confidence: expected a value in [0.5, 1), found 1.0\n"},
    {"control_character.yaml", "control_character.yaml:2:15: not a YAML text file: byte 0x1b is a control character\n"},
    {"correlation_not_psd.yaml",
     "correlation_not_psd.yaml:10:16: market.correlation.matrix: the correlation matrix is not positive "
     "semi-definite (smallest eigenvalue -0.8); fix it or set market.correlation.repair: nearest_psd\n"},
    {"correlation_not_symmetric.yaml",
     "correlation_not_symmetric.yaml:9:30: market.correlation.matrix[1][0]: matrix is not symmetric: [1][0] = 0.7 "
     "but [0][1] = 0.8\n"},
    {"correlation_out_of_range.yaml",
     "correlation_out_of_range.yaml:9:23: market.correlation.matrix[0][1]: expected a value in [-1, 1], found 1.8\n"
     "correlation_out_of_range.yaml:9:30: market.correlation.matrix[1][0]: expected a value in [-1, 1], found 1.8\n"},
    {"correlation_wrong_shape.yaml",
     "correlation_wrong_shape.yaml:9:17: market.correlation.matrix[0]: expected a row of 2 numbers, found 3\n"},
    {"duplicate_asset_id.yaml",
     "duplicate_asset_id.yaml:9:12: market.assets[2].id: duplicate asset id 'BTC' (first defined at line 7)\n"},
    {"duplicate_ccp_id.yaml",
     "duplicate_ccp_id.yaml:24:9: ccps[2].id: duplicate CCP id 'CCP_A' (first defined at line 12)\n"},
    {"escaped_nul.yaml",
     "escaped_nul.yaml:31:9: members[1].id: expected a string without control characters, found a NUL character "
     "(an escape such as \"\\0\" in a quoted string?)\n"},
    {"duplicate_exogenous_defaulter.yaml",
     "duplicate_exogenous_defaulter.yaml:45:23: defaults.exogenous[2]: member 'M1' is listed twice (also "
     "defaults.exogenous[0])\n"},
    {"duplicate_key.yaml", "duplicate_key.yaml:18:5: ccps[0].sitg: duplicate key 'sitg'\n"},
    {"duplicate_link.yaml",
     "duplicate_link.yaml:44:15: links[1].between: duplicate link between 'CCP_A' and 'CCP_B'\n"},
    {"duplicate_member_id.yaml",
     "duplicate_member_id.yaml:37:9: members[2].id: duplicate member id 'M2' (first defined at line 31)\n"},
    {"duplicate_waterfall_layer.yaml",
     "duplicate_waterfall_layer.yaml:16:85: ccps[0].waterfall[6]: layer 'sitg' appears twice\n"},
    {"empty.yaml",
     "empty.yaml:1:1: the file is empty: expected a mapping with at least the keys name, market and ccps\n"},
    {"exogenous_not_member.yaml",
     "exogenous_not_member.yaml:45:15: defaults.exogenous[0]: unknown member 'M11' (did you mean 'M1'?)\n"},
    {"fixed_fund_without_amount.yaml",
     "fixed_fund_without_amount.yaml:15:19: ccps[0].default_fund: sizing: fixed needs an amount\n"},
    {"infinite_number.yaml",
     "infinite_number.yaml:23:21: ccps[1].insurance_fund: expected a finite number, found '.inf'\n"},
    {"integer_out_of_range.yaml",
     "integer_out_of_range.yaml:3:7: seed: expected an integer in [0, 18446744073709551615], found '-7'\n"},
    {"link_to_unknown_ccp.yaml",
     "link_to_unknown_ccp.yaml:43:23: links[0].between[1]: unknown CCP 'CCPB' (did you mean 'CCP_B'?)\n"},
    {"link_wrong_size.yaml", "link_wrong_size.yaml:43:15: links[0].between: expected exactly 2 elements, found 3\n"},
    {"many_errors.yaml",
     "many_errors.yaml:3:7: seed: expected an integer, found 'seven'\n"
     "many_errors.yaml:7:43: market.assets[0].volatility: expected a value in [0, 20] (fraction per sqrt(year)), "
     "found -0.6\n"
     "many_errors.yaml:13:5: ccps[0].capitl: unknown key 'capitl' (did you mean 'capital'?)\n"
     "many_errors.yaml:14:62: ccps[0].margin.mpor_days: expected a value in (0, 60] (days), found 0\n"
     "many_errors.yaml:21:5: ccps[1].kind: duplicate key 'kind'\n"
     "many_errors.yaml:42:7: members[2].positions.CCP_C: unknown CCP 'CCP_C' (did you mean 'CCP_A'?)\n"
     "many_errors.yaml:42:15: members[2].positions.CCP_C.DOGE: unknown asset 'DOGE' (known: BTC, ETH)\n"
     "many_errors.yaml:44:23: links[0].between[1]: unknown CCP 'CCP_Z' (did you mean 'CCP_A'?)\n"
     "many_errors.yaml:46:19: defaults.exogenous[1]: unknown member 'M7' (did you mean 'M1'?)\n"},
    {"member_at_unknown_ccp.yaml",
     "member_at_unknown_ccp.yaml:41:7: members[2].positions.LCH: unknown CCP 'LCH' (known: CCP_A, CCP_B)\n"},
    {"merge_key.yaml",
     "merge_key.yaml:20:5: ccps[1].<<: unknown key '<<' (YAML merge keys are not supported: write the keys out)\n"},
    {"missing_required_key.yaml", "missing_required_key.yaml:19:5: ccps[1].capital: missing required key\n"},
    {"nan_number.yaml", "nan_number.yaml:8:42: market.assets[1].volatility: expected a finite number, found '.nan'\n"},
    {"negative_capital.yaml",
     "negative_capital.yaml:38:14: members[2].capital: expected a value >= 0 (USD), found -2.0e8\n"},
    {"non_string_key.yaml", "non_string_key.yaml:4:3: expected a string key, found a list of 2 elements\n"},
    {"not_a_mapping.yaml",
     "not_a_mapping.yaml:2:1: expected a mapping with the keys name, market, ccps, ..., found a list of 2 "
     "elements\n"},
    {"null_value.yaml", "null_value.yaml:29:5: members[0].liquidity: expected a number, found nothing (null)\n"},
    {"number_overflow.yaml", "number_overflow.yaml:13:14: ccps[0].capital: expected a finite number, found '1e999'\n"},
    {"position_in_unknown_asset.yaml",
     "position_in_unknown_asset.yaml:41:15: members[2].positions.CCP_B.SOL: unknown asset 'SOL' (known: BTC, "
     "ETH)\n"},
    {"position_value_overflow.yaml",
     "position_value_overflow.yaml:41:15: members[2].positions.CCP_B.BTC: a position of -40000000000000 units at "
     "60000 USD is worth 2.4e+18 USD, more than 1e+15 USD: check the units\n"},
    {"probability_out_of_range.yaml",
     "probability_out_of_range.yaml:46:16: defaults.latent.pd: expected a value in [0, 1] (probability), found "
     "1.2\n"},
    {"self_link.yaml",
     "self_link.yaml:43:15: links[0].between: a link joins two different CCPs, found 'CCP_B' twice\n"},
    {"several_documents.yaml",
     "several_documents.yaml:46:1: expected one YAML document, found several ('---' separators)\n"},
    {"sitg_exceeds_capital.yaml",
     "sitg_exceeds_capital.yaml:17:11: ccps[0].sitg: skin in the game 500000000 exceeds the CCP's capital "
     "200000000\n"},
    {"tab_indentation.yaml",
     "tab_indentation.yaml:17:1: invalid YAML: a tab in the indentation (YAML indents with spaces only)\n"},
    {"tiers_out_of_order.yaml",
     "tiers_out_of_order.yaml:22:71: ccps[1].margin.tiers[1].up_to: tiers must be in increasing order of up_to: "
     "500000 after 1000000\n"},
    {"undefined_alias.yaml", "undefined_alias.yaml:3:7: invalid YAML: the referenced anchor is not defined\n"},
    {"unknown_enum_value.yaml",
     "unknown_enum_value.yaml:10:19: market.shocks.model: expected one of gaussian, student_t, found 'student-t' "
     "(did you mean 'student_t'?)\n"},
    {"unknown_key.yaml", "unknown_key.yaml:13:5: ccps[0].capitl: unknown key 'capitl' (did you mean 'capital'?)\n"},
    {"unknown_key_no_suggestion.yaml",
     "unknown_key_no_suggestion.yaml:18:34: ccps[0].assessments.colour: unknown key 'colour'; expected one of: "
     "multiple\n"},
    {"unknown_margin_model.yaml",
     "unknown_margin_model.yaml:14:21: ccps[0].margin.model: expected one of parametric, <...>, found 'var'\n"},
    {"unsupported_tag.yaml",
     "unsupported_tag.yaml:13:14: ccps[0].capital: unsupported YAML tag '!usd': expected a plain value\n"},
    {"wrong_type_bool.yaml", "wrong_type_bool.yaml:43:56: links[0].segregated: expected true or false, found 'yes'\n"},
    {"wrong_type_integer.yaml",
     "wrong_type_integer.yaml:4:25: simulation.scenarios: expected an integer, found '1000.5'\n"},
    {"wrong_type_list.yaml", "wrong_type_list.yaml:45:14: defaults.exogenous: expected a list, found 'M1'\n"},
    {"wrong_type_mapping.yaml",
     "wrong_type_mapping.yaml:15:19: ccps[0].default_fund: expected a mapping, found 'cover2'\n"},
    {"wrong_type_number.yaml",
     "wrong_type_number.yaml:33:16: members[1].liquidity: expected a number, found 'plenty'\n"},
    {"wrong_type_quoted_number.yaml",
     "wrong_type_quoted_number.yaml:3:7: seed: expected an integer, found the quoted string '7'\n"},
    {"yaml_syntax_error.yaml", "yaml_syntax_error.yaml:10:3: invalid YAML: end of sequence flow not found\n"},
    {"data_file_absolute.yaml",
     "data_file_absolute.yaml:46:14: trades_file: expected a path relative to the scenario file, found the absolute "
     "path '/etc/ccpnet-trades.csv'; data files are read from the scenario file's directory and below (ccpnet "
     "--allow-outside-data reads them anywhere)\n"},
    {"data_file_escape.yaml",
     "data_file_escape.yaml:46:14: trades_file: expected a path inside the scenario file's directory, found "
     "'../trades/trades.csv', which leads out of it; data files are read from the scenario file's directory and below "
     "(ccpnet --allow-outside-data reads them anywhere)\n"},
    {"data_file_not_csv.yaml",
     "data_file_not_csv.yaml:46:14: trades_file: expected the name of a CSV file (ending in .csv), found "
     "'data_file_not_csv.yaml'\n"},
    {"generator_too_large.yaml",
     "generator_too_large.yaml:46:22: generator.members: expected a value in [1, 100000] (count), found 1000000\n"},
    {"stress_overflow.yaml",
     "stress_overflow.yaml:31:7: members[0].positions.CCP_A: expected a finite stress loss (USD) of member 'M1' at CCP "
     "'CCP_A', found -inf: the numbers it is computed from are out of range; it comes from the positions 100 BTC "
     "(market.assets[0]: price 60000 USD, daily volatility 20, adv 2e+10 USD, liquidation_cost 0), -500 ETH "
     "(market.assets[1]: price 3000 USD, daily volatility 0.0418739, adv 1e+10 USD, liquidation_cost 0) and ccps[0]: "
     "stress_sigma 100, margin parametric, mpor_days 60\n"},
    {"tiny_adv.yaml", "tiny_adv.yaml:7:54: market.assets[0].adv: expected a value >= 1 (USD), found 1e-300\n"},
    {"trade_value_overflow.yaml",
     "trade_value_overflow.yaml:47:51: trades[0].quantity: a trade of 1e+308 units at 60000 USD is worth inf USD, more "
     "than 1e+15 USD: check the units\n"},
    {"trades_file_value_overflow.yaml",
     "trades_file_value_overflow.csv:3:11: trades_file: a trade of 1e+308 units at 60000 USD is worth inf USD, more "
     "than 1e+15 USD: check the units\n"},
    {"variant_entries.yaml",
     "variant_entries.yaml:48:11: variants[0].set[0]: expected KEY.PATH=VALUE, e.g. ccps.CCP_A.capital=1e9, found "
     "'ccps.CCP_A.capital'\n"
     "variant_entries.yaml:50:11: variants[1].set[0]: variant 'unknown CCP': ccps.CCP_C: no element with id 'CCP_C' "
     "(did you mean 'CCP_A'?)\n"
     "variant_entries.yaml:52:11: variants[2].set[0]: variant 'wrong type': links[0].segregated: expected true or "
     "false, found 'maybe'\n"
     "variant_entries.yaml:54:11: variants[3].set[0]: expected a key other than seed, simulation.scenarios and "
     "variants, found 'simulation.scenarios': variants run on the base scenario's seed and number of scenarios\n"
     "variant_entries.yaml:55:11: variants[4].name: duplicate variant name 'unknown CCP' (also variants[1])\n"
     "variant_entries.yaml:56:37: variants[4].set[1]: variant 'unknown CCP': ccps[1].sitg: expected a value >= 0 "
     "(USD), found -1\n"},
};

class LoaderBadFile : public ::testing::TestWithParam<BadFile> {};

// The errors of loading a bad file by its path and building its model (some
// inputs are wrong only in the numbers they give), with the directory of the
// bad files taken out of the report.
std::string bad_file_errors(const std::string& name) {
  std::string report;
  try {
    const LoadedScenario loaded = load_scenario_file((bad_dir() / name).string());
    (void)build_model(loaded);
  } catch (const ScenarioError& e) {
    report = e.what();
  }
  const std::string dir = bad_dir().string() + "/";
  for (std::size_t at; (at = report.find(dir)) != std::string::npos;) report.erase(at, dir.size());
  return report;
}

TEST_P(LoaderBadFile, ReportsExactlyItsErrors) {
  const BadFile& f = GetParam();
  // The report names the file as given, here without its directory.
  const std::string report = bad_file_errors(f.name);
  const std::string expected = f.errors;
  if (const auto hole = expected.find("<...>"); hole != std::string::npos) {
    EXPECT_THAT(report, StartsWith(expected.substr(0, hole)));
    EXPECT_THAT(report, EndsWith(expected.substr(hole + 5)));
    EXPECT_EQ(std::count(report.begin(), report.end(), '\n'), 1);
  } else {
    EXPECT_EQ(report, expected);
  }
  // The file reader names the file by its path (its data file by that's path).
  const std::string path = (bad_dir() / f.name).string();
  try {
    (void)build_model(load_scenario_file(path));
    ADD_FAILURE() << f.name << " loaded";
  } catch (const ScenarioError& e) {
    EXPECT_THAT(e.what(), StartsWith(bad_dir().string() + "/" + fs::path(f.name).stem().string()));
    EXPECT_EQ(e.diagnostics().size(), std::size_t(std::count(report.begin(), report.end(), '\n')));
  }
}

INSTANTIATE_TEST_SUITE_P(Loader, LoaderBadFile, ::testing::ValuesIn(kBadFiles),
                         [](const ::testing::TestParamInfo<BadFile>& param) {
                           return fs::path(param.param.name).stem().string();
                         });

TEST(Loader, EveryBadFileHasItsExpectedErrors) {
  std::set<std::string> on_disk, expected;
  for (const auto& entry : fs::directory_iterator(bad_dir())) {
    if (entry.path().extension() == ".yaml") on_disk.insert(entry.path().filename().string());
  }
  for (const auto& f : kBadFiles) expected.insert(f.name);
  EXPECT_EQ(on_disk, expected);
  EXPECT_GE(on_disk.size(), 20u);
}

TEST(Loader, EveryBadFileSaysWhatIsWrongWithIt) {
  // Each file starts with a one-line comment saying what is wrong with it.
  for (const auto& f : kBadFiles) {
    const std::string text = read_text(bad_dir() / f.name);
    EXPECT_THAT(text, StartsWith("# Malformed on purpose: ")) << f.name;
  }
}

// ---- more error classes, as text ---------------------------------------------

TEST(Loader, DuplicateKeysAreErrorsAtEveryLevel) {
  EXPECT_EQ(errors_of(replaced(std::string(kMinimal), "name: minimal\n", "name: minimal\nname: again\n")),
            "t.yaml:2:1: name: duplicate key 'name'\n");
  EXPECT_EQ(errors_of(replaced(std::string(kMinimal), "{A: {BTC: 1}}", "{A: {BTC: 1, BTC: 2}}")),
            "t.yaml:11:29: members[0].positions.A.BTC: duplicate key 'BTC'\n");
  EXPECT_EQ(errors_of(replaced(std::string(kMinimal), "{id: BTC, price: 60000,", "{id: BTC, price: 60000, price: 1,")),
            "t.yaml:4:31: market.assets[0].price: duplicate key 'price'\n");
}

TEST(Loader, NonFiniteNumbersAreRejected) {
  for (const char* value : {".nan", ".NaN", "nan", "1e999", "-1e999", ".inf", "-.inf", "+.inf"}) {
    SCOPED_TRACE(value);
    EXPECT_EQ(errors_of(replaced(std::string(kMinimal), "capital: 1.0e8", std::string("capital: ") + value)),
              std::string("t.yaml:7:14: ccps[0].capital: expected a finite number, found '") + value + "'\n");
  }
}

TEST(Loader, NumbersAreReadAsYamlWritesThem) {
  EXPECT_EQ(parse_double("1_000_000"), 1e6);
  EXPECT_EQ(parse_double("+2.5e3"), 2500.0);
  EXPECT_EQ(parse_double("1e-400"), 0.0);  // underflow is zero, not infinity
  EXPECT_EQ(parse_double("-1e999"), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(parse_double("0.1e999"), std::numeric_limits<double>::infinity());
  EXPECT_EQ(parse_double("0.0000001e-320"), 0.0);
  EXPECT_FALSE(parse_double("1.5x"));
  EXPECT_FALSE(parse_double(""));
  EXPECT_EQ(parse_integer("0x1F"), 31);
  EXPECT_EQ(parse_integer("0o17"), 15);
  EXPECT_EQ(parse_integer("-9223372036854775808"), std::numeric_limits<std::int64_t>::min());
  EXPECT_FALSE(parse_integer("9223372036854775808"));
  EXPECT_EQ(parse_integer("1e6"), 1000000);
  EXPECT_FALSE(parse_integer("1.5"));
  EXPECT_EQ(parse_unsigned("18446744073709551615"), std::numeric_limits<std::uint64_t>::max());
  EXPECT_FALSE(parse_unsigned("-1"));
  EXPECT_EQ(parse_unsigned("-0"), 0u);
}

TEST(Loader, SeedsUseTheWholeUnsignedRange) {
  const std::string text =
      replaced(std::string(kMinimal), "name: minimal\n", "name: minimal\nseed: 18446744073709551615\n");
  EXPECT_EQ(load_scenario_text(text, "t.yaml").scenario.seed, std::numeric_limits<std::uint64_t>::max());
  const std::string hex = replaced(std::string(kMinimal), "name: minimal\n", "name: minimal\nseed: 0xDEADBEEF\n");
  EXPECT_EQ(load_scenario_text(hex, "t.yaml").scenario.seed, 0xDEADBEEFu);
  EXPECT_EQ(
      errors_of(replaced(std::string(kMinimal), "name: minimal\n", "name: minimal\nseed: 18446744073709551616\n")),
      "t.yaml:2:7: seed: expected an integer in [0, 18446744073709551615], found '18446744073709551616'\n");
}

TEST(Loader, StringsTaggedOrQuotedAreNotNumbers) {
  EXPECT_EQ(errors_of(replaced(std::string(kMinimal), "capital: 1.0e8", "capital: !!str 1.0e8")),
            "t.yaml:7:14: ccps[0].capital: expected a number, found the string '1.0e8'\n");
  EXPECT_EQ(errors_of(replaced(std::string(kMinimal), "capital: 1.0e8", "capital: '1.0e8'")),
            "t.yaml:7:14: ccps[0].capital: expected a number, found the quoted string '1.0e8'\n");
  // Messages stay on one line.
  EXPECT_EQ(errors_of(replaced(std::string(kMinimal), "capital: 1.0e8", "capital: \"1\\n2\"")),
            "t.yaml:7:14: ccps[0].capital: expected a number, found the quoted string '1\\n2'\n");
  // YAML's own number tags are fine, and so is a quoted id.
  EXPECT_EQ(errors_of(replaced(std::string(kMinimal), "capital: 1.0e8", "capital: !!float 1.0e8")), "");
  EXPECT_EQ(errors_of(replaced(std::string(kMinimal), "- id: A\n", "- id: \"A\"\n")), "");
}

TEST(Loader, ATabInsideALineIsFine) {
  EXPECT_EQ(errors_of(replaced(std::string(kMinimal), "{id: BTC, price", "{id: BTC,\tprice")), "");
  EXPECT_EQ(errors_of(replaced(std::string(kMinimal), "capital: 1.0e8", "capital:\t1.0e8")), "");
}

TEST(Loader, ATabStartingALineOfAMappingIsLocated) {
  EXPECT_EQ(errors_of(replaced(std::string(kMinimal), "    capital: 1.0e8", "\tcapital: 1.0e8")),
            "t.yaml:7:1: invalid YAML: a tab in the indentation (YAML indents with spaces only)\n");
  EXPECT_EQ(errors_of(replaced(std::string(kMinimal), "    capital: 1.0e8", "  \t  capital: 1.0e8")),
            "t.yaml:7:3: invalid YAML: a tab in the indentation (YAML indents with spaces only)\n");
}

TEST(Loader, AByteOrderMarkAndWindowsLineEndingsAreAccepted) {
  const std::string plain = base_text();
  const std::string expected = to_yaml(load_scenario_text(plain, "t.yaml").scenario);
  const std::string bom = "\xEF\xBB\xBF" + plain;
  EXPECT_EQ(to_yaml(load_scenario_text(bom, "t.yaml").scenario), expected);
  std::string crlf;
  for (char c : plain) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  const LoadedScenario s = load_scenario_text(crlf, "t.yaml");
  EXPECT_EQ(s.scenario.name, "two CCPs, one peer link");  // no '\r' left in values
  EXPECT_EQ(to_yaml(s.scenario), expected);
  // Errors in a CRLF file are located like in the LF file.
  EXPECT_EQ(errors_of(replaced(crlf, "seed: 7", "seed: x")), "t.yaml:2:7: seed: expected an integer, found 'x'\n");
}

TEST(Loader, ControlCharactersAndBrokenUtf8AreNotText) {
  EXPECT_EQ(errors_of("name: a\x01 b\n"), "t.yaml:1:8: not a YAML text file: byte 0x01 is a control character\n");
  EXPECT_EQ(errors_of("name: caf\xC3\n"), "t.yaml:1:10: not a YAML text file: byte 0xc3 is not valid UTF-8\n");
  EXPECT_EQ(errors_of("name: \xC0\xAF\n"), "t.yaml:1:7: not a YAML text file: byte 0xc0 is not valid UTF-8\n");
  EXPECT_EQ(errors_of("name: \xED\xA0\x80\n"), "t.yaml:1:7: not a YAML text file: byte 0xed is not valid UTF-8\n");
  // Non-ASCII text is fine; columns count bytes, as the YAML parser's do.
  EXPECT_EQ(errors_of(replaced(std::string(kMinimal), "name: minimal\n", "name: café ✓\nseed: é\n")),
            "t.yaml:2:7: seed: expected an integer, found 'é'\n");
}

TEST(Loader, ReportsEveryErrorOfAFileInOnePass) {
  // Reading errors and cross-reference errors together, in file order.
  std::string text = replaced(std::string(kMinimal), "volatility: 0.6", "volatility: high");
  text = replaced(text, "positions: {A: {BTC: 1}}", "positions: {B: {BTC: 1}}");
  text = replaced(text, "capital: 1.0e6", "capital: -1");
  EXPECT_EQ(errors_of(text),
            "t.yaml:4:43: market.assets[0].volatility: expected a number, found 'high'\n"
            "t.yaml:10:14: members[0].capital: expected a value >= 0 (USD), found -1\n"
            "t.yaml:11:17: members[0].positions.B: unknown CCP 'B' (known: A)\n");
}

TEST(Loader, NoFollowOnErrorsFromAValueThatCouldNotBeRead) {
  // The assets list is not a list: positions in BTC are not "unknown assets".
  EXPECT_EQ(errors_of(replaced(std::string(kMinimal), "  assets:\n    - {id: BTC, price: 60000, volatility: 0.6}",
                               "  assets: BTC")),
            "t.yaml:3:11: market.assets: expected a list, found 'BTC'\n");
  // A CCP id that could not be read: references to the CCP are not reported.
  EXPECT_EQ(errors_of(replaced(std::string(kMinimal), "- id: A\n", "- id: [A]\n")),
            "t.yaml:6:9: ccps[0].id: expected a string, found a list of 1 element\n");
}

TEST(Loader, StopsAfterTwoHundredErrors) {
  std::string text(kMinimal);
  for (int i = 0; i < 300; ++i) text += "  - {id: X" + std::to_string(i) + ", capital: -1}\n";
  const std::string report = errors_of(text);
  EXPECT_EQ(std::count(report.begin(), report.end(), '\n'), 201);
  EXPECT_THAT(report, EndsWith("t.yaml: too many errors, stopped after 200\n"));
}

TEST(Loader, CorrelationRepairIsAWarning) {
  std::string text =
      replaced(base_text(), "    - {id: ETH, price: 3000, volatility: 0.80, adv: 1.0e10, chain: ethereum}\n",
               "    - {id: ETH, price: 3000, volatility: 0.80, adv: 1.0e10, chain: ethereum}\n"
               "    - {id: SOL, price: 150, volatility: 1.00}\n");
  text = replaced(text, "correlation: [[1.0, 0.8], [0.8, 1.0]]",
                  "correlation:\n    matrix: [[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]]\n"
                  "    repair: nearest_psd");
  const LoadedScenario s = load_scenario_text(text, "t.yaml");
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_THAT(s.warnings[0], StartsWith("market.correlation: the correlation matrix is not positive semi-definite "
                                        "(smallest eigenvalue -0.8); replaced by the nearest correlation matrix"));
  const auto& m = s.scenario.market.correlation.matrix;
  ASSERT_EQ(m.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_DOUBLE_EQ(m[i][i], 1.0);
    for (std::size_t j = 0; j < 3; ++j) EXPECT_DOUBLE_EQ(m[i][j], m[j][i]);
  }
  // The repaired matrix is what the resolved scenario says, and it loads clean.
  const LoadedScenario again = load_scenario_text(to_yaml(s.scenario), "resolved.yaml");
  EXPECT_TRUE(again.warnings.empty());
}

TEST(Loader, CorrelationPairsNameKnownAssets) {
  std::string text = replaced(base_text(), "correlation: [[1.0, 0.8], [0.8, 1.0]]",
                              "correlation: {default: 0.3, pairs: [{between: [BTC, ETHH], value: 0.8}]}");
  EXPECT_EQ(errors_of(text),
            "t.yaml:8:55: market.correlation.pairs[0].between[1]: unknown asset 'ETHH' (did you mean 'ETH'?)\n");
}

TEST(Loader, FileErrorsAreLocatedByTheFileName) {
  try {
    load_scenario_file((source_dir() / "no_such_dir" / "missing.yaml").string());
    ADD_FAILURE();
  } catch (const ScenarioError& e) {
    EXPECT_THAT(e.what(), HasSubstr("missing.yaml:0:0: cannot open the file: "));
  }
  try {
    load_scenario_file(bad_dir().string());
    ADD_FAILURE();
  } catch (const ScenarioError& e) {
    EXPECT_THAT(e.what(), HasSubstr(":0:0: cannot read the file: it is a directory, expected a scenario file"));
  }
  if (fs::exists("/dev/zero")) {  // a file without an end
    try {
      load_scenario_file("/dev/zero");
      ADD_FAILURE();
    } catch (const ScenarioError& e) {
      EXPECT_EQ(std::string(e.what()), "/dev/zero:1:1: file too large: more than 4194304 bytes (the limit)\n");
    }
  }
}

// ---- --set overrides -----------------------------------------------------------

TEST(LoaderOverrides, ValidOverridesAreApplied) {
  const std::string text = base_text();
  const LoadedScenario s =
      load_scenario_text(text, "t.yaml",
                         {Override::parse("simulation.scenarios=5000"), Override::parse("ccps.CCP_A.capital=1.0e9"),
                          Override::parse("ccps[1].capital=2"), Override::parse("members.M2.liquidity=7"),
                          Override::parse("ccps.CCP_B.margin={model: parametric, confidence: 0.95}"),
                          Override::parse("defaults.latent.pd=0.01"), Override::parse("name=a=b")});
  EXPECT_EQ(s.scenario.simulation.scenarios, 5000);
  EXPECT_EQ(s.scenario.ccps[0].capital, 1.0e9);
  EXPECT_EQ(s.scenario.ccps[1].capital, 2.0);
  EXPECT_EQ(s.scenario.members[1].liquidity, 7.0);
  ASSERT_TRUE(std::holds_alternative<ParametricMargin>(s.scenario.ccps[1].margin.model));
  EXPECT_EQ(std::get<ParametricMargin>(s.scenario.ccps[1].margin.model).confidence, 0.95);
  ASSERT_TRUE(s.scenario.defaults.latent);
  EXPECT_EQ(s.scenario.defaults.latent->pd, 0.01);
  EXPECT_EQ(s.scenario.name, "a=b");  // the first '=' separates the key path
  // The file itself is unchanged: the manifest hashes the bytes that were read.
  EXPECT_EQ(s.text, text);
}

TEST(LoaderOverrides, SelectingByIdAndByIndexIsTheSame) {
  const std::string text = base_text();
  const auto by_id = load_scenario_text(text, "t.yaml", {Override::parse("ccps.CCP_A.capital=6e8")});
  const auto by_index = load_scenario_text(text, "t.yaml", {Override::parse("ccps[0].capital=6e8")});
  EXPECT_EQ(to_yaml(by_id.scenario), to_yaml(by_index.scenario));
  EXPECT_EQ(by_id.scenario.ccps[0].capital, 6e8);
}

TEST(LoaderOverrides, AnOverrideCanFixABadFile) {
  const std::string text = read_text(bad_dir() / "negative_capital.yaml");
  EXPECT_EQ(errors_of(text, {Override::parse("members.M3.capital=2.0e8")}), "");
}

TEST(LoaderOverrides, InvalidValuesNameTheOverride) {
  const std::string text = base_text();
  const auto errors = [&](const char* assignment) { return errors_of(text, {Override::parse(assignment)}); };
  EXPECT_EQ(errors("ccps.CCP_A.capital=-1"),
            "--set ccps.CCP_A.capital=-1:0:0: ccps[0].capital: expected a value >= 0 (USD), found -1\n");
  EXPECT_EQ(errors("ccps[0].capital=-1"),
            "--set ccps[0].capital=-1:0:0: ccps[0].capital: expected a value >= 0 (USD), found -1\n");
  EXPECT_EQ(errors("ccps[0].capitl=1"),
            "--set ccps[0].capitl=1:0:0: ccps[0].capitl: unknown key 'capitl' (did you mean 'capital'?)\n");
  EXPECT_EQ(errors("seed=abc"), "--set seed=abc:0:0: seed: expected an integer, found 'abc'\n");
  EXPECT_EQ(errors("seed="), "--set seed=:0:0: seed: expected an integer, found nothing (null)\n");
  EXPECT_EQ(errors("simulation.scenarios=.nan"),
            "--set simulation.scenarios=.nan:0:0: simulation.scenarios: expected an integer, found '.nan'\n");
  EXPECT_EQ(errors("defaults.latent.pd=2"),
            "--set defaults.latent.pd=2:0:0: defaults.latent.pd: expected a value in [0, 1] (probability), found 2\n");
  EXPECT_EQ(errors("defaults.latent.foo=1"),
            "--set defaults.latent.foo=1:0:0: defaults.latent.foo: unknown key 'foo'; expected one of: beta, factor, "
            "member_pd, pd\n");
  // Checks across the scenario name the override too.
  EXPECT_EQ(errors("links[0].between=[CCP_A, CCP_Q]"),
            "--set links[0].between=[CCP_A, CCP_Q]:0:0: links[0].between[1]: unknown CCP 'CCP_Q' (did you mean "
            "'CCP_A'?)\n");
  EXPECT_EQ(errors("ccps.CCP_A.sitg=9e9"),
            "--set ccps.CCP_A.sitg=9e9:0:0: ccps[0].sitg: skin in the game 9000000000 exceeds the CCP's capital "
            "200000000\n");
  EXPECT_EQ(errors("members.M2.id=M1"),
            "--set members.M2.id=M1:0:0: members[1].id: duplicate member id 'M1' (first defined at line 24)\n");
  EXPECT_EQ(errors("market.correlation=[[1, 0.5], [0.6, 1]]"),
            "--set market.correlation=[[1, 0.5], [0.6, 1]]:0:0: market.correlation.matrix[1][0]: matrix is not "
            "symmetric: [1][0] = 0.6 but [0][1] = 0.5\n");
  // Errors inside a replaced mapping belong to the override, not to the file.
  EXPECT_EQ(errors("ccps[0]={id: CCP_A}"), "--set ccps[0]={id: CCP_A}:0:0: ccps[0].capital: missing required key\n");
}

TEST(LoaderOverrides, PathsThatDoNotFitAreErrors) {
  const std::string text = base_text();
  const auto errors = [&](const char* assignment) { return errors_of(text, {Override::parse(assignment)}); };
  EXPECT_EQ(errors("ccps.CCP_X.capital=1"),
            "--set ccps.CCP_X.capital=1:0:0: ccps.CCP_X: no element with id 'CCP_X' (did you mean 'CCP_A'?)\n");
  EXPECT_EQ(errors("ccps[9].capital=1"),
            "--set ccps[9].capital=1:0:0: ccps[9]: no element 9: the list has 2 elements\n");
  EXPECT_EQ(errors("name.x=1"), "--set name.x=1:0:0: name.x: cannot set a key inside 'two CCPs, one peer link'\n");
  EXPECT_EQ(errors("seed[0]=1"), "--set seed[0]=1:0:0: seed[0]: expected a list here, found '7'\n");
  EXPECT_EQ(errors("a[x]=1"), "--set a[x]=1:0:0: a[x]: bad key path: index is not a number\n");
  EXPECT_EQ(errors("a[1=1"), "--set a[1=1:0:0: a[1: bad key path: missing ']'\n");
  EXPECT_EQ(errors("simulation.scenarios=[1, 2"),
            "--set simulation.scenarios=[1, 2:0:0: simulation.scenarios: the value: invalid YAML: end of sequence "
            "flow not found\n");
  // A key the override created on its way is located at the override.
  EXPECT_THAT(errors("foo.bar=1"), StartsWith("--set foo.bar=1:0:0: foo: unknown key 'foo'; expected one of: "));
}

TEST(LoaderOverrides, MalformedAssignmentsAreErrors) {
  for (const char* bad : {"noequals", "=5"}) {
    try {
      Override::parse(bad);
      ADD_FAILURE() << bad;
    } catch (const ScenarioError& e) {
      EXPECT_EQ(std::string(e.what()),
                std::string("--set ") + bad + ":0:0: expected KEY.PATH=VALUE, e.g. simulation.scenarios=5000\n");
    }
  }
}

TEST(LoaderOverrides, FileAndOverrideErrorsAreReportedTogether) {
  const std::string text = read_text(bad_dir() / "negative_capital.yaml");
  EXPECT_EQ(errors_of(text, {Override::parse("seed=x"), Override::parse("ccps.NOPE.capital=1")}, "n.yaml"),
            "n.yaml:38:14: members[2].capital: expected a value >= 0 (USD), found -2.0e8\n"
            "--set ccps.NOPE.capital=1:0:0: ccps.NOPE: no element with id 'NOPE'\n"
            "--set seed=x:0:0: seed: expected an integer, found 'x'\n");
}

TEST(LoaderOverrides, ALaterOverrideWins) {
  const auto s = load_scenario_text(base_text(), "t.yaml", {Override::parse("seed=1"), Override::parse("seed=2")});
  EXPECT_EQ(s.scenario.seed, 2u);
  // The error of a value set twice names the override that set it last.
  EXPECT_EQ(errors_of(base_text(),
                      {Override::parse("ccps[0]={id: CCP_A, capital: 1}"), Override::parse("ccps[0].capital=-1")}),
            "--set ccps[0].capital=-1:0:0: ccps[0].capital: expected a value >= 0 (USD), found -1\n");
}

// ---- the resolved scenario ------------------------------------------------------

// A variant can be a valid file whose model cannot be built (here: without its
// link, CCP_A's members are net long BTC and short ETH with no one on the other
// side). `validate` builds every variant, so the file is refused there, located
// at the variant, not first in the middle of `compare`.
TEST(LoaderVariants, AVariantWhoseModelCannotBeBuiltIsAnError) {
  const std::string text = base_text() + R"(variants:
  - name: fine
    set: ["ccps.CCP_A.capital=3e8"]
  - name: no links
    set: ["links=[]"]
)";
  const LoadedScenario s = load_scenario_text(text, "v.yaml");  // loading alone is fine
  try {
    check_variant_models(s, {});
    FAIL() << "the variant without links was built";
  } catch (const ScenarioError& e) {
    ASSERT_EQ(e.diagnostics().errors().size(), 1u);
    const std::string message = e.diagnostics().format();
    EXPECT_THAT(message, ::testing::HasSubstr("v.yaml:"));
    EXPECT_THAT(message, ::testing::HasSubstr("variants[1]: variant 'no links': ccps[0]: the book of CCP 'CCP_A' "
                                              "does not balance"));
  }
  EXPECT_NO_THROW(check_variant_models(load_scenario_text(base_text(), "v.yaml"), {}));
}

TEST(LoaderRoundTrip, ResolvedYamlLoadsBackToItself) {
  std::vector<std::pair<std::string, std::string>> inputs{{"minimal", std::string(kMinimal)}};
  for (const auto& entry : fs::directory_iterator(source_dir() / "scenarios")) {
    if (entry.path().extension() == ".yaml")
      inputs.emplace_back(entry.path().filename().string(), read_text(entry.path()));
  }
  inputs.emplace_back("overridden", "");
  for (const auto& [name, text] : inputs) {
    SCOPED_TRACE(name);
    const LoadedScenario first =
        text.empty() ? load_scenario_text(base_text(), name,
                                          {Override::parse("ccps.CCP_A.capital=3.3e8"),
                                           Override::parse("defaults.latent={pd: 0.01, member_pd: {M2: 0.2}}")})
                     : load_scenario_text(text, name);
    const std::string resolved = to_yaml(first.scenario);
    const LoadedScenario second = load_scenario_text(resolved, "resolved.yaml");
    EXPECT_EQ(to_yaml(second.scenario), resolved);
  }
}

TEST(LoaderRoundTrip, UnusualStringsAndNumbersSurvive) {
  std::string text = replaced(std::string(kMinimal), "name: minimal", "name: \"a: b # c, 'd' \\\"e\\\" é ✓\"");
  text = replaced(text, "price: 60000", "price: 0.1");
  text = replaced(text, "capital: 1.0e8", "capital: 1.7976931348623157e308");
  text = replaced(text, "- id: M1\n", "- id: \"007\"\n");
  text = replaced(text, "positions: {A: {BTC: 1}}", "positions: {A: {BTC: 5.0e-324}}");
  text = replaced(text, "positions: {A: {BTC: -1}}", "positions: {A: {BTC: -5.0e-324}}");
  const LoadedScenario first = load_scenario_text(text, "t.yaml");
  EXPECT_EQ(first.scenario.name, "a: b # c, 'd' \"e\" é ✓");
  EXPECT_EQ(first.scenario.members[0].id, "007");
  const std::string resolved = to_yaml(first.scenario);
  const LoadedScenario second = load_scenario_text(resolved, "resolved.yaml");
  EXPECT_EQ(second.scenario.name, first.scenario.name);
  EXPECT_EQ(second.scenario.members[0].id, "007");
  EXPECT_EQ(second.scenario.market.assets[0].price, 0.1);
  EXPECT_EQ(second.scenario.ccps[0].capital, 1.7976931348623157e308);
  EXPECT_EQ(second.scenario.members[0].positions[0].second[0].second, 5.0e-324);
  EXPECT_EQ(to_yaml(second.scenario), resolved);
}

// ---- hostile input: a clean error, fast ----------------------------------------

// A guard against hangs and blow-ups (an unbounded alias expansion takes
// hours), not a speed test: these inputs take milliseconds to 0.4 s on a quiet
// machine, and the bound leaves room for a loaded CI runner.
constexpr auto kHostileBound = std::chrono::seconds(10);

// Loads `text`, expects an error report starting with `expected`, and checks the
// time taken.
void expect_fast_error(const std::string& what, const std::string& text, const std::string& expected,
                       const std::vector<Override>& overrides = {}) {
  SCOPED_TRACE(what);
  const auto start = std::chrono::steady_clock::now();
  const std::string report = errors_of(text, overrides);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  // Not StartsWith: a failure would print the whole (long) input.
  EXPECT_EQ(report.substr(0, expected.size()), expected) << excerpt(report, 400);
  EXPECT_LT(elapsed, kHostileBound) << std::chrono::duration<double>(elapsed).count() << " s";
  ::testing::Test::RecordProperty(what, std::to_string(std::chrono::duration<double>(elapsed).count()));
}

std::string repeated(std::string_view piece, std::size_t n) {
  std::string out;
  out.reserve(piece.size() * n);
  for (std::size_t i = 0; i < n; ++i) out += piece;
  return out;
}

// The classic: ten anchors, each a list of ten aliases of the one before, a
// billion values from a few hundred bytes.
std::string billion_laughs(const std::string& key) {
  std::string text = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i < 10; ++i) {
    text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) text += (k ? ", *a" : "*a") + std::to_string(i - 1);
    text += "]\n";
  }
  return text + key + ": *a9\n";
}

TEST(LoaderHostile, AliasBombs) {
  expect_fast_error("billion laughs", billion_laughs("lol"),
                    "t.yaml:6:25: document too large: more than 500000 values once aliases are expanded (an alias "
                    "bomb?); reading stopped here\n");
  // Aimed at keys that are read: a correlation matrix (a list of lists).
  std::string text = "row: &r [" + repeated("0.5, ", 2000) + "0.5]\n" + base_text();
  text = replaced(text, "correlation: [[1.0, 0.8], [0.8, 1.0]]", "correlation: [" + repeated("*r, ", 400) + "*r]");
  expect_fast_error("quadratic blow-up", text, "t.yaml:9:");
  // Members that are all one member.
  text = "m: &m {id: MX, capital: 1, positions: {CCP_A: {BTC: 1, ETH: 2}}}\n" + base_text();
  text = replaced(text, "members:\n", "members: [" + repeated("*m, ", 100'000) + "*m]\nold_members:\n");
  expect_fast_error("member aliases", text, "t.yaml:");
  // In an override.
  expect_fast_error("alias bomb in --set", base_text(), "--set market.x={a0: &a0 [lol, lol, lol, lol, lol",
                    {Override::parse("market.x={" + [] {
                      std::string inner = billion_laughs("b");
                      // One flow mapping: "k: v\n" lines become "k: v, ".
                      std::replace(inner.begin(), inner.end(), '\n', ',');
                      inner.pop_back();
                      return inner;
                    }() + "}")});
}

TEST(LoaderHostile, AliasesWithinBoundsAreRead) {
  // Ordinary use of anchors: one margin model shared by two CCPs.
  std::string text = replaced(base_text(), "margin: {model: parametric, confidence: 0.99, mpor_days: 2}",
                              "margin: &m {model: parametric, confidence: 0.99, mpor_days: 2}");
  text = replaced(text, "margin: {model: tiered, tiers: [{up_to: 1.0e6, im: 0.02}, {up_to: .inf, im: 0.05}]}",
                  "margin: *m");
  const LoadedScenario s = load_scenario_text(text, "t.yaml");
  EXPECT_TRUE(std::holds_alternative<ParametricMargin>(s.scenario.ccps[1].margin.model));
  // A cycle (an alias inside its own anchor) ends at the schema's depth.
  EXPECT_EQ(errors_of(replaced(base_text(), "shocks: {model: student_t, dof: 4}",
                               "shocks: &s {model: student_t, jumps: *s}")),
            "t.yaml:9:15: market.shocks.jumps.model: unknown key 'model'; expected one of: beta, intensity, mean, "
            "stdev\n"
            "t.yaml:9:33: market.shocks.jumps.jumps: unknown key 'jumps'; expected one of: beta, intensity, mean, "
            "stdev\n");
}

TEST(LoaderHostile, DeepNesting) {
  const std::string depth_error = "lists and mappings nested too deeply: the limit is ";
  expect_fast_error("flow lists 20000 deep", "name: x\nmarket: " + repeated("[", 20000) + repeated("]", 20000) + "\n",
                    "t.yaml:2:");
  EXPECT_THAT(errors_of("name: x\nmarket: " + repeated("[", 20000) + "\n"), HasSubstr(depth_error));
  expect_fast_error("flow mappings 20000 deep",
                    "name: x\nmarket: " + repeated("{a: ", 20000) + "1" + repeated("}", 20000) + "\n", "t.yaml:2:");
  expect_fast_error("block lists 20000 deep", "name: x\nmarket:\n" + repeated("- ", 20000) + "1\n", "t.yaml:3:");
  std::string block_maps = "name: x\nmarket:\n";
  for (int i = 1; i <= 2000; ++i) block_maps += std::string(static_cast<std::size_t>(i), ' ') + "a:\n";
  expect_fast_error("block mappings 2000 deep", block_maps, "t.yaml:");
  for (const std::string& text : {"name: x\nmarket: " + repeated("[", 20000) + repeated("]", 20000) + "\n",
                                  "name: x\nmarket:\n" + repeated("- ", 20000) + "1\n", block_maps}) {
    EXPECT_THAT(errors_of(text), HasSubstr(depth_error));
  }
  // 20000 levels of block mappings take 200 MB of indentation: too large.
  expect_fast_error("block mappings 20000 deep (file size)", std::string(kMaxScenarioBytes + 1, ' '),
                    "t.yaml:1:1: file too large: 4194305 bytes, more than the limit of 4194304\n");
  // Nesting in an override value.
  expect_fast_error("deep --set", base_text(),
                    "--set market=" + repeated("[", 77) +
                        "...:0:0: market: the value: lists and mappings nested too deeply: the limit is 499 levels\n",
                    {Override{"market", repeated("[", 20000) + repeated("]", 20000)}});
}

TEST(LoaderHostile, GarbageBytes) {
  std::mt19937 rng(7);
  std::string garbage(1 << 16, '\0');
  for (char& c : garbage) c = static_cast<char>(rng() & 0xFF);
  expect_fast_error("random bytes", garbage, "t.yaml:1:");
  EXPECT_THAT(errors_of(garbage), HasSubstr(": not a YAML text file: byte 0x"));
  expect_fast_error("NUL bytes", std::string(1000, '\0'),
                    "t.yaml:1:1: not a YAML text file: byte 0x00 is a NUL byte (binary data?)\n");
  expect_fast_error("NUL in a file", replaced(base_text(), "seed: 7", std::string("seed: 7\0", 8)),
                    "t.yaml:2:8: not a YAML text file: byte 0x00 is a NUL byte (binary data?)\n");
  // UTF-16 (Windows "Unicode" text) has NUL bytes and a BOM that is not UTF-8.
  expect_fast_error("UTF-16", std::string("\xFF\xFEn\0a\0m\0e\0", 10),
                    "t.yaml:1:1: not a YAML text file: byte 0xff is not valid UTF-8\n");
  // Printable garbage that is UTF-8: whatever the parser makes of it, an error.
  std::string printable(1 << 16, ' ');
  for (char& c : printable) c = static_cast<char>(' ' + rng() % 95);
  expect_fast_error("printable garbage", printable, "t.yaml:");
}

TEST(LoaderHostile, EmptyInputs) {
  const std::string empty =
      "t.yaml:1:1: the file is empty: expected a mapping with at least the keys name, market "
      "and ccps\n";
  expect_fast_error("zero bytes", "", empty);
  expect_fast_error("blank lines", "\n\n  \n", empty);
  expect_fast_error("a comment", "# nothing here\n", empty);
  expect_fast_error("a BOM alone", "\xEF\xBB\xBF", empty);
  expect_fast_error("an empty document", "---\n...\n", empty);
  expect_fast_error("null", "~\n", empty);
  expect_fast_error("a scalar", "hello\n",
                    "t.yaml:1:1: expected a mapping with the keys name, market, ccps, ..., found 'hello'\n");
  expect_fast_error("an empty mapping", "{}\n",
                    "t.yaml:1:1: name: missing required key\n"
                    "t.yaml:1:1: market: missing required key\n"
                    "t.yaml:1:1: ccps: missing required key\n");
}

TEST(LoaderHostile, HugeInputs) {
  const std::string huge = "name: x\n# " + std::string(kMaxScenarioBytes, 'x') + "\n";
  expect_fast_error(
      "over the size limit", huge,
      "t.yaml:1:1: file too large: " + std::to_string(huge.size()) + " bytes, more than the limit of 4194304\n");
  // Within the size limit, too many nodes: stopped before the tree is built.
  expect_fast_error("too many nodes", "name: x\nmarket: [" + repeated("1,", 600'000) + "1]\n",
                    "t.yaml:2:1000000: document too large: more than 500000 YAML nodes (keys, values, lists, "
                    "mappings); reading stopped here\n");
  // A key of 1000 bytes: one error, quoted short. Longer keys are not YAML
  // (an implicit key has at most 1024 characters).
  const std::string text = base_text();
  const auto line = std::count(text.begin(), text.end(), '\n') + 1;
  const std::string k37 = std::string(37, 'k') + "...";
  expect_fast_error("a long key", text + std::string(1000, 'k') + ": 1\n",
                    "t.yaml:" + std::to_string(line) + ":1: " + k37 + ": unknown key '" + k37 + "'; expected one of: ");
  expect_fast_error("a very long key", text + std::string(1 << 18, 'k') + ": 1\n",
                    "t.yaml:" + std::to_string(line) + ":262145: invalid YAML: illegal map value\n");
  // Many errors: the report stops at 200 (and composing it stays cheap).
  const std::string many = "name: x\nmarket: {assets: [" + repeated("{id: 1, price: -1}, ", 5'000) + "]}\n";
  expect_fast_error("many errors", many,
                    "t.yaml:2:19: market.assets[0].volatility: missing required key\n"
                    "t.yaml:2:34: market.assets[0].price: expected a value > 0 (USD), found -1\n");
  EXPECT_THAT(errors_of(many), EndsWith("t.yaml: too many errors, stopped after 200\n"));
}

}  // namespace test_loader
}  // namespace ccpnet::config
