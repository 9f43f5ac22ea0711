// trades_file: trades read from a CSV are novated exactly like the same trades
// written in the scenario, and their errors are the same messages, located in
// the CSV (tests/data/trades).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "sim/config/load.hpp"
#include "sim/model.hpp"

namespace ccpnet {
namespace test_trades_file {

namespace fs = std::filesystem;

const fs::path& trades_dir() {
  static const fs::path dir = fs::path(CCPNET_SOURCE_DIR) / "tests" / "data" / "trades";
  return dir;
}

// Named as if it lived beside trades.csv, so that file names resolve there.
const std::string& scenario_name() {
  static const std::string name = (trades_dir() / "scenario.yaml").string();
  return name;
}

// Three CCPs in a chain of peer links A - B - C, three members without positions.
constexpr std::string_view kMarket = R"(name: trades
market:
  assets:
    - {id: BTC, price: 60000, volatility: 0.6}
    - {id: ETH, price: 3000, volatility: 0.8}
ccps:
  - {id: A, capital: 1e8}
  - {id: B, capital: 1e8}
  - {id: C, capital: 1e8}
members:
  - {id: M1, capital: 1e8}
  - {id: M2, capital: 1e8}
  - {id: M3, capital: 1e8}
links:
  - {between: [A, B]}
  - {between: [B, C]}
)";

// tests/data/trades/trades.csv, written as YAML.
constexpr std::string_view kYamlTrades = R"(trades:
  - {buyer: M1, seller: M2, asset: BTC, quantity: 10, buyer_ccp: A, seller_ccp: B}
  - {buyer: M2, seller: M3, asset: ETH, quantity: 250.5, buyer_ccp: B, seller_ccp: C}
  - {buyer: M3, seller: M1, asset: BTC, quantity: 4, buyer_ccp: C, seller_ccp: A}
  - {buyer: M1, seller: M3, asset: ETH, quantity: 100, buyer_ccp: A, seller_ccp: A}
)";

Model model_of(const std::string& text, const std::vector<config::Override>& overrides = {}) {
  return build_model(config::load_scenario_text(text, scenario_name(), overrides));
}

// The errors of loading and building, paths shown relative to tests/data/trades.
std::string errors_of(const std::string& text, const std::vector<config::Override>& overrides = {}) {
  std::string report;
  try {
    model_of(text, overrides);
  } catch (const config::ScenarioError& e) {
    report = e.what();
  }
  const std::string prefix = trades_dir().string() + "/";
  for (std::size_t at; (at = report.find(prefix)) != std::string::npos;) report.erase(at, prefix.size());
  return report;
}

void expect_same_books(const Model& a, const Model& b) {
  ASSERT_EQ(a.accounts.size(), b.accounts.size());
  for (std::size_t i = 0; i < a.accounts.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(a.accounts[i].kind, b.accounts[i].kind);
    EXPECT_EQ(a.accounts[i].owner, b.accounts[i].owner);
    EXPECT_EQ(a.accounts[i].ccp, b.accounts[i].ccp);
    EXPECT_EQ(a.accounts[i].quantity, b.accounts[i].quantity);
    EXPECT_EQ(a.accounts[i].initial_margin, b.accounts[i].initial_margin);
    EXPECT_EQ(a.accounts[i].default_fund, b.accounts[i].default_fund);
  }
}

double quantity(const Model& m, int member, int ccp, int asset) {
  for (const auto& acc : m.accounts)
    if (acc.kind == AccountKind::kMember && acc.owner == member && acc.ccp == ccp) return acc.quantity(asset);
  return 0.0;
}

TEST(TradesFile, ACsvEqualsTheSameTradesInYaml) {
  const Model from_yaml = model_of(std::string(kMarket) + std::string(kYamlTrades));
  const Model from_csv = model_of(std::string(kMarket) + "trades_file: trades.csv\n");
  expect_same_books(from_yaml, from_csv);
  // By hand: M1 is long 10 BTC at A (trade 1) and short 4 BTC there (trade 3):
  // +6 BTC at A; M1 long 100 ETH at A, M3 short 100 ETH at A.
  EXPECT_EQ(quantity(from_csv, 0, 0, 0), 6.0);
  EXPECT_EQ(quantity(from_csv, 0, 0, 1), 100.0);
  EXPECT_EQ(quantity(from_csv, 2, 0, 1), -100.0);
  EXPECT_EQ(quantity(from_csv, 1, 1, 1), 250.5);
}

TEST(TradesFile, ColumnsInAnyOrderWithCrlf) {
  expect_same_books(model_of(std::string(kMarket) + "trades_file: trades.csv\n"),
                    model_of(std::string(kMarket) + "trades_file: trades_reordered.csv\n"));
}

TEST(TradesFile, FileTradesAddToTheScenarioTrades) {
  const Model both = model_of(std::string(kMarket) + std::string(kYamlTrades) + "trades_file: trades.csv\n");
  EXPECT_EQ(quantity(both, 0, 0, 0), 12.0);
  EXPECT_EQ(quantity(both, 1, 1, 1), 501.0);
}

TEST(TradesFile, TheManifestListsTheFile) {
  const auto loaded = config::load_scenario_text(std::string(kMarket) + "trades_file: trades.csv\n", scenario_name());
  ASSERT_EQ(loaded.data.inputs.size(), 1u);
  EXPECT_EQ(loaded.data.inputs[0].path, (trades_dir() / "trades.csv").string());
}

struct BadTrades {
  const char* file;  // under tests/data/trades/bad/
  const char* errors;
};

void PrintTo(const BadTrades& b, std::ostream* os) { *os << b.file; }

constexpr BadTrades kBadTrades[] = {
    {"unknown_member.csv", "bad/unknown_member.csv:2:4: trades_file: unknown member 'M9'\n"},
    {"unknown_asset.csv", "bad/unknown_asset.csv:2:7: trades_file: unknown asset 'SOL'\n"},
    {"unknown_ccp.csv", "bad/unknown_ccp.csv:2:16: trades_file: unknown CCP 'D'\n"},
    {"non_positive_quantity.csv",
     "bad/non_positive_quantity.csv:2:11: trades_file: expected a value > 0 (units), found 0\n"},
    {"quantity_not_a_number.csv", "bad/quantity_not_a_number.csv:2:11: trades_file: expected a number, found 'ten'\n"},
    {"self_trade.csv", "bad/self_trade.csv:3:1: trades_file: member 'M1' trades with itself\n"},
    {"empty_cell.csv", "bad/empty_cell.csv:2:4: trades_file: expected a non-empty string, found an empty cell\n"},
    {"unknown_column.csv",
     "bad/unknown_column.csv:1:1: trades_file: expected the columns buyer, seller, asset, quantity, buyer_ccp, "
     "seller_ccp, found no column 'quantity'\n"
     "bad/unknown_column.csv:1:20: trades_file: expected one of buyer, seller, asset, quantity, buyer_ccp, "
     "seller_ccp, found 'qty'\n"},
};

class TradesBadFile : public ::testing::TestWithParam<BadTrades> {};

TEST_P(TradesBadFile, ReportsExactlyItsErrors) {
  const BadTrades& b = GetParam();
  EXPECT_EQ(errors_of(std::string(kMarket) + "trades_file: bad/" + b.file + "\n"), b.errors);
}

INSTANTIATE_TEST_SUITE_P(TradesFile, TradesBadFile, ::testing::ValuesIn(kBadTrades),
                         [](const ::testing::TestParamInfo<BadTrades>& param) {
                           return fs::path(param.param.file).stem().string();
                         });

TEST(TradesFile, EveryBadFileHasItsExpectedErrors) {
  std::set<std::string> on_disk, expected;
  for (const auto& entry : fs::directory_iterator(trades_dir() / "bad")) on_disk.insert(entry.path().filename());
  for (const auto& b : kBadTrades) expected.insert(b.file);
  EXPECT_EQ(on_disk, expected);
}

TEST(TradesFile, TheSameMessagesAsForTradesInTheScenario) {
  // Without links no trade between two CCPs can be routed: each row is named.
  EXPECT_EQ(errors_of(std::string(kMarket) + "trades_file: trades.csv\n", {{"links", "[]"}}),
            "trades.csv:2:1: trades_file: no chain of links from CCP 'A' (buyer 'M1') to CCP 'B' (seller 'M2')\n"
            "trades.csv:3:1: trades_file: no chain of links from CCP 'B' (buyer 'M2') to CCP 'C' (seller 'M3')\n"
            "trades.csv:4:1: trades_file: no chain of links from CCP 'C' (buyer 'M3') to CCP 'A' (seller 'M1')\n");
  std::string yaml = std::string(kMarket) + std::string(kYamlTrades);
  yaml.replace(yaml.find("seller: M2"), 10, "seller: M9");
  EXPECT_EQ(errors_of(yaml), "scenario.yaml:18:25: trades[0].seller: unknown member 'M9'\n");
}

}  // namespace test_trades_file
}  // namespace ccpnet
