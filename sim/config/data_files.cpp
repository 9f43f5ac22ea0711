#include "sim/config/data_files.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>

#include "sim/config/yaml_writer.hpp"

namespace ccpnet::config {

namespace {

// yyyy-mm-dd, a day of the calendar.
bool is_iso_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (text[i] < '0' || text[i] > '9') return false;
  const auto number = [&](std::size_t from, std::size_t length) {
    int n = 0;
    for (std::size_t i = from; i < from + length; ++i) n = 10 * n + (text[i] - '0');
    return n;
  };
  const std::chrono::year_month_day day{std::chrono::year{number(0, 4)},
                                        std::chrono::month{static_cast<unsigned>(number(5, 2))},
                                        std::chrono::day{static_cast<unsigned>(number(8, 2))}};
  return day.ok();
}

std::optional<PriceHistory> read_history(const Scenario& s, const CsvTable& table, const std::string& key,
                                         const Location& key_location, Diagnostics& diagnostics) {
  const std::size_t before = diagnostics.size();
  std::vector<std::string> asset_ids;
  for (const auto& a : s.market.assets) asset_ids.push_back(a.id);
  std::vector<std::string> expected_columns{"date"};
  expected_columns.insert(expected_columns.end(), asset_ids.begin(), asset_ids.end());

  const int date_column = table.column("date");
  if (date_column < 0) {
    diagnostics.error(table.at(table.header.front()), key,
                      "expected a column 'date' (yyyy-mm-dd) and one price column per asset, found no 'date' column");
  }
  for (const CsvCell& h : table.header) {
    if (h.text == "date" || std::find(asset_ids.begin(), asset_ids.end(), h.text) != asset_ids.end()) continue;
    std::string message = fmt::format("expected 'date' or an asset id of market.assets, found {}", describe_cell(h));
    if (auto guess = closest_match(h.text, expected_columns); !guess.empty())
      message += fmt::format(" (did you mean '{}'?)", guess);
    diagnostics.error(table.at(h), key, message);
  }
  std::vector<int> asset_column;
  for (const auto& id : asset_ids) {
    asset_column.push_back(table.column(id));
    if (asset_column.back() < 0)
      diagnostics.error(table.at(table.header.front()), key,
                        fmt::format("expected a price column for every asset, found none for '{}'", excerpt(id)));
  }
  if (diagnostics.size() != before) return std::nullopt;

  PriceHistory history;
  const auto n_rows = static_cast<Eigen::Index>(table.rows.size());
  history.prices.resize(n_rows, static_cast<Eigen::Index>(asset_ids.size()));
  std::map<std::string, int> date_line;
  for (Eigen::Index r = 0; r < n_rows && !diagnostics.full(); ++r) {
    const auto& row = table.rows[static_cast<std::size_t>(r)];
    const CsvCell& date = row[static_cast<std::size_t>(date_column)];
    if (!is_iso_date(date.text)) {
      diagnostics.error(table.at(date), key, fmt::format("expected a date yyyy-mm-dd, found {}", describe_cell(date)));
    } else if (auto [it, inserted] = date_line.emplace(date.text, date.line); !inserted) {
      diagnostics.error(table.at(date), key, fmt::format("duplicate date {} (also line {})", date.text, it->second));
    } else if (!history.dates.empty() && date.text < history.dates.back()) {
      diagnostics.error(
          table.at(date), key,
          fmt::format("expected dates in increasing order, found {} after {}", date.text, history.dates.back()));
    }
    history.dates.push_back(date.text);
    for (std::size_t a = 0; a < asset_ids.size(); ++a) {
      const CsvCell& cell = row[static_cast<std::size_t>(asset_column[a])];
      const std::string what = fmt::format("a price > 0 (USD) for {}", asset_ids[a]);
      if (cell.text.empty()) {
        diagnostics.error(table.at(cell), key,
                          fmt::format("expected {}, found an empty cell (a gap: every asset needs a price on every "
                                      "date)",
                                      what));
        continue;
      }
      const auto price = csv_number(table, cell, key, what, diagnostics);
      if (price && !(*price > 0.0))
        diagnostics.error(table.at(cell), key, fmt::format("expected {}, found {}", what, cell.text));
      history.prices(r, static_cast<Eigen::Index>(a)) = price.value_or(1.0);
    }
  }
  if (diagnostics.size() != before) return std::nullopt;
  const int days = scenario_days(s);
  if (n_rows < days + 1) {
    diagnostics.error(key_location, key,
                      fmt::format("expected at least {} dates in '{}' (one more than the longest margin period of "
                                  "risk, {} day{}), found {}",
                                  days + 1, table.path, days, days == 1 ? "" : "s", n_rows));
    return std::nullopt;
  }
  return history;
}

// The index of each of `columns` in the file's header, or nullopt after
// locating every unknown header cell (with the closest name) and every missing
// column.
template <std::size_t N>
std::optional<std::array<int, N>> locate_columns(const CsvTable& table, const std::string& key,
                                                 const std::array<std::string_view, N>& columns,
                                                 Diagnostics& diagnostics) {
  const std::size_t before = diagnostics.size();
  const std::vector<std::string> names(columns.begin(), columns.end());
  for (const CsvCell& h : table.header) {
    if (std::find(names.begin(), names.end(), h.text) != names.end()) continue;
    std::string message = fmt::format("expected one of {}, found {}", fmt::join(names, ", "), describe_cell(h));
    if (auto guess = closest_match(h.text, names); !guess.empty())
      message += fmt::format(" (did you mean '{}'?)", guess);
    diagnostics.error(table.at(h), key, message);
  }
  std::array<int, N> column{};
  for (std::size_t c = 0; c < N; ++c) {
    column[c] = table.column(columns[c]);
    if (column[c] < 0)
      diagnostics.error(
          table.at(table.header.front()), key,
          fmt::format("expected the columns {}, found no column '{}'", fmt::join(names, ", "), columns[c]));
  }
  if (diagnostics.size() != before) return std::nullopt;
  return column;
}

std::vector<FileTrade> read_trades(const Scenario& s, const CsvTable& table, const std::string& key,
                                   Diagnostics& diagnostics) {
  const auto located = locate_columns(table, key, kTradeColumns, diagnostics);
  if (!located) return {};
  const auto& column = *located;

  std::vector<FileTrade> trades;
  trades.reserve(table.rows.size());
  for (const auto& row : table.rows) {
    if (diagnostics.full()) break;
    FileTrade t;
    std::array<std::string*, 6> text{&t.trade.buyer, &t.trade.seller,    &t.trade.asset,
                                     nullptr,        &t.trade.buyer_ccp, &t.trade.seller_ccp};
    for (std::size_t c = 0; c < kTradeColumns.size(); ++c) {
      const CsvCell& cell = row[static_cast<std::size_t>(column[c])];
      t.where[c] = table.at(cell);
      if (text[c]) {
        *text[c] = cell.text;
        if (cell.text.empty())
          diagnostics.error(table.at(cell), key, fmt::format("expected a non-empty string, found an empty cell"));
        continue;
      }
      if (const auto q = csv_number(table, cell, key, "a number", diagnostics)) {
        t.trade.quantity = *q;
        if (!(*q > 0.0)) {
          diagnostics.error(table.at(cell), key, fmt::format("expected a value > 0 (units), found {}", cell.text));
        } else {
          // The bound on a position's value, at the price of the row's asset.
          const std::string& asset = row[static_cast<std::size_t>(column[2])].text;
          const auto it = std::find_if(s.market.assets.begin(), s.market.assets.end(),
                                       [&](const AssetConfig& a) { return a.id == asset; });
          std::string message = it == s.market.assets.end() ? "" : position_value_error(*q, it->price, "trade");
          if (!message.empty()) diagnostics.error(table.at(cell), key, std::move(message));
        }
      }
    }
    trades.push_back(std::move(t));
  }
  return trades;
}

// The rows of an interbank file with `columns`: two names and a number
// (exposures) or a name and two numbers (totals), the numbers finite and
// non-negative (an exposure's amount > 0).
std::vector<FileInterbankRow> read_interbank_rows(const CsvTable& table, const std::string& key,
                                                  const std::array<std::string_view, 3>& columns,
                                                  Diagnostics& diagnostics) {
  const auto located = locate_columns(table, key, columns, diagnostics);
  if (!located) return {};
  const auto& column = *located;
  const bool edge = columns[1] == kExposureColumns[1];
  std::vector<FileInterbankRow> rows;
  rows.reserve(table.rows.size());
  for (const auto& row : table.rows) {
    if (diagnostics.full()) break;
    FileInterbankRow r;
    for (std::size_t c = 0; c < 3; ++c) {
      const CsvCell& cell = row[static_cast<std::size_t>(column[c])];
      r.where[c] = table.at(cell);
      if (c == 0 || (c == 1 && edge)) {
        (c == 0 ? r.first : r.second) = cell.text;
        if (cell.text.empty()) diagnostics.error(table.at(cell), key, "expected a member id, found an empty cell");
        continue;
      }
      const auto value = csv_number(table, cell, key, "a number (USD)", diagnostics);
      if (!value) continue;
      (c == 2 ? (edge ? r.x : r.y) : r.x) = *value;
      if (edge && !(*value > 0.0))
        diagnostics.error(table.at(cell), key, fmt::format("expected an amount > 0 (USD), found {}", cell.text));
      else if (!(*value >= 0.0) || *value > kMaxPositionValue)
        diagnostics.error(
            table.at(cell), key,
            fmt::format("expected a value >= 0 and at most {:g} (USD), found {}", kMaxPositionValue, cell.text));
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace

std::string position_value_error(double quantity, double price, std::string_view what) {
  const double value = std::fabs(price * quantity);
  if (value <= kMaxPositionValue) return {};
  return fmt::format("a {} of {} units at {} USD is worth {:.6g} USD, more than {:g} USD: check the units", what,
                     format_number(quantity), format_number(price), value, kMaxPositionValue);
}

int scenario_days(const Scenario& scenario) {
  double longest = 0.0;
  for (const auto& c : scenario.ccps) longest = std::max(longest, c.margin.mpor_days);
  // Time steps: the last step starts at horizon - step and closes out over
  // the longest MPOR from there.
  const auto& sim = scenario.simulation;
  const double horizon = sim.horizon_days.value_or(longest);
  const double step = std::min(horizon, sim.step_days.value_or(horizon));
  double path = longest;
  if ((sim.horizon_days || sim.step_days) && step > 0.0) path = horizon - step + longest;  // one step: the same
  return std::max(1, static_cast<int>(std::ceil(std::min(path, 1.0e5) - 1e-12)));
}

std::string data_path_error(const std::string& scenario_file, const std::string& name, DataAccess access) {
  namespace fs = std::filesystem;
  std::string suffix = name.size() >= 4 ? name.substr(name.size() - 4) : name;
  std::transform(suffix.begin(), suffix.end(), suffix.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  if (suffix != ".csv")
    return fmt::format("expected the name of a CSV file (ending in .csv), found '{}'", excerpt(name, 80));
  if (access == DataAccess::kAnywhere) return {};
  const fs::path given(name);
  const std::string outside =
      "; data files are read from the scenario file's directory and below (ccpnet "
      "--allow-outside-data reads them anywhere)";
  if (given.is_absolute() || given.has_root_name() || given.has_root_directory())
    return fmt::format("expected a path relative to the scenario file, found the absolute path '{}'{}",
                       excerpt(name, 80), outside);
  const fs::path relative = given.lexically_normal();
  if (!relative.empty() && *relative.begin() == "..")
    return fmt::format("expected a path inside the scenario file's directory, found '{}', which leads out of it{}",
                       excerpt(name, 80), outside);
  // A symbolic link on the way may lead out too: compare the real paths.
  std::error_code ec;
  const fs::path dir = fs::weakly_canonical(fs::absolute(fs::path(scenario_file)).parent_path(), ec);
  if (ec) return {};
  const fs::path target = fs::weakly_canonical(dir / relative, ec);
  if (ec) return {};
  const fs::path inside = target.lexically_relative(dir);
  if (inside.empty() || *inside.begin() == "..")
    return fmt::format(
        "expected a path inside the scenario file's directory, found '{}', which a symbolic link "
        "leads out of it{}",
        excerpt(name, 80), outside);
  return {};
}

DataFiles read_data_files(const Scenario& s, const std::string& source_name, const SourceMap& source_map,
                          Diagnostics& diagnostics, DataAccess access) {
  DataFiles data;
  const auto read = [&](const std::string& name, const std::string& key) -> std::optional<CsvTable> {
    const Location where = source_map.find(key);
    if (std::string refused = data_path_error(source_name, name, access); !refused.empty()) {
      diagnostics.error(where, key, std::move(refused));
      return std::nullopt;
    }
    auto table = read_csv(resolve_data_path(source_name, name), key, where, diagnostics);
    if (table) data.inputs.push_back({table->path, table->text});
    return table;
  };
  if (s.market.history) {
    const std::string key = "market.history.file";
    if (const auto table = read(s.market.history->file, key))
      data.history = read_history(s, *table, key, source_map.find(key), diagnostics);
  }
  if (!s.trades_file.empty()) {
    const std::string key = "trades_file";
    if (const auto table = read(s.trades_file, key)) data.trades = read_trades(s, *table, key, diagnostics);
  }
  if (s.interbank && !s.interbank->exposures_file.empty()) {
    const std::string key = "interbank.exposures_file";
    if (const auto table = read(s.interbank->exposures_file, key))
      data.exposures = read_interbank_rows(*table, key, kExposureColumns, diagnostics);
  }
  if (s.interbank && !s.interbank->totals_file.empty()) {
    const std::string key = "interbank.totals_file";
    if (const auto table = read(s.interbank->totals_file, key))
      data.interbank_totals = read_interbank_rows(*table, key, kInterbankTotalColumns, diagnostics);
  }
  return data;
}

}  // namespace ccpnet::config
