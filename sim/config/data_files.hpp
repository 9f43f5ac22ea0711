// The data files a scenario names, read and checked after the scenario itself:
// the price history of `market.history` and the trades of `trades_file`.
// Their errors are located in the CSV files (sim/config/csv.hpp).
#pragma once

#include <Eigen/Dense>
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "sim/config/csv.hpp"
#include "sim/config/diagnostics.hpp"
#include "sim/config/schema.hpp"

namespace ccpnet::config {

// Daily prices of every asset, oldest first.
struct PriceHistory {
  std::vector<std::string> dates;  // yyyy-mm-dd, strictly increasing
  Eigen::MatrixXd prices;          // dates x assets, columns in the order of market.assets, all > 0
};

// A trade read from a row of `trades_file`, with the cell of each field.
struct FileTrade {
  TradeConfig trade;
  // Cells of buyer, seller, asset, quantity, buyer_ccp, seller_ccp.
  std::array<Location, 6> where;
};

// The columns of `trades_file`, in the order of FileTrade::where.
inline constexpr std::array<std::string_view, 6> kTradeColumns{"buyer",    "seller",    "asset",
                                                               "quantity", "buyer_ccp", "seller_ccp"};

// A row of interbank.exposures_file (lender, borrower, amount) or of
// interbank.totals_file (member, assets, liabilities), with the cell of each
// field: the names are checked against the members when the model is built.
struct FileInterbankRow {
  std::string first, second;  // lender and borrower, or the member and ""
  double x = 0.0, y = 0.0;    // amount, or assets and liabilities
  std::array<Location, 3> where;
};

// The columns of interbank.exposures_file and interbank.totals_file.
inline constexpr std::array<std::string_view, 3> kExposureColumns{"lender", "borrower", "amount"};
inline constexpr std::array<std::string_view, 3> kInterbankTotalColumns{"member", "assets", "liabilities"};

struct DataFiles {
  std::vector<InputFile> inputs;  // every file read, for the manifest
  std::optional<PriceHistory> history;
  std::vector<FileTrade> trades;
  std::vector<FileInterbankRow> exposures;         // interbank.exposures_file
  std::vector<FileInterbankRow> interbank_totals;  // interbank.totals_file
};

// Largest value of one position or trade: a thousand trillion dollars, ten
// times world output; anything above is a unit mistake (and would overflow the
// margin and default-fund arithmetic).
inline constexpr double kMaxPositionValue = 1e15;

// Why `quantity` units at `price` are beyond kMaxPositionValue ("a `what` of
// ... is worth ..."), or empty when they are within it.
std::string position_value_error(double quantity, double price, std::string_view what);

// Where a scenario's data files may be. A scenario file names them relative
// to its own directory; by default they must be inside it (no absolute path,
// no '..' or symbolic link leading out), so that a scenario received from
// someone else reads nothing else of the machine. `ccpnet
// --allow-outside-data` lifts this. Either way a data file's name ends in .csv.
enum class DataAccess { kBesideScenario, kAnywhere };

// Why the data file `name` of a scenario read from `scenario_file` may not be
// read, or empty when it may.
std::string data_path_error(const std::string& scenario_file, const std::string& name, DataAccess access);

// Reads the files `scenario` names, relative to the directory of
// `source_name`. Errors go to `diagnostics`.
DataFiles read_data_files(const Scenario& scenario, const std::string& source_name, const SourceMap& source_map,
                          Diagnostics& diagnostics, DataAccess access = DataAccess::kBesideScenario);

// Days of price moves each scenario needs: the longest MPOR of the system,
// rounded up to whole days.
int scenario_days(const Scenario& scenario);

}  // namespace ccpnet::config
