// Data files named by a scenario (price histories, trades): a small strict CSV
// reader whose every error is located in the CSV file itself, as
// `FILE:LINE:COL: key.path: expected ..., found ...`, where key.path is the
// scenario key that named the file.
//
// Format: UTF-8 text (a byte-order mark is skipped), comma-separated, a header
// row, LF or CRLF line ends, blank lines at the end ignored, spaces around a
// cell ignored. A cell may be quoted ("a, b"; "" is a quote inside quotes) but
// may not span lines.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/config/diagnostics.hpp"

namespace ccpnet::config {

// Bounds on one data file, so that hostile input fails fast and small: bytes
// are checked while reading, cells (about 50 bytes each once split) while
// splitting. A daily history of 100 assets over 30 years is 1.1 million
// cells and about 10 MB.
inline constexpr std::size_t kMaxCsvBytes = 64u << 20;
inline constexpr std::size_t kMaxCsvCells = 5'000'000;

struct CsvCell {
  std::string text;  // without quotes and surrounding spaces
  int line = 0;      // 1-based, in the CSV file
  int column = 0;    // 1-based byte column of the cell's first character
};

struct CsvTable {
  std::string path;  // the file as opened: the scenario's directory joined with the name given
  std::string text;  // its bytes (hashed into manifest.json)
  std::vector<CsvCell> header;
  std::vector<std::vector<CsvCell>> rows;  // every row has as many cells as the header

  Location at(const CsvCell& cell) const { return Location{cell.line, cell.column, path}; }
  // The column named `name` in the header, or -1.
  int column(std::string_view name) const;
};

// A data file a scenario read: where it was found and its bytes, for the
// manifest (SPEC 5.1: the SHA-256 of every input file).
struct InputFile {
  std::string path;
  std::string text;
};

// The path of a data file named `name` in a scenario read from `scenario_file`:
// relative names are taken from the scenario file's directory.
std::string resolve_data_path(const std::string& scenario_file, const std::string& name);

// Reads and splits `path`. Problems with the file (missing, too large, not
// text) are reported at `key_location` in the scenario; problems inside it at
// their line and column of the CSV. Every error names `key`. Returns nullopt
// when the file could not be split into a table; `diagnostics` then has errors.
std::optional<CsvTable> read_csv(const std::string& path, const std::string& key, const Location& key_location,
                                 Diagnostics& diagnostics, std::size_t max_bytes = kMaxCsvBytes);

// A cell as a finite number, or nullopt after reporting "expected `what`,
// found ..." at the cell.
std::optional<double> csv_number(const CsvTable& table, const CsvCell& cell, const std::string& key,
                                 std::string_view what, Diagnostics& diagnostics);

// How a cell is quoted in messages: 'text', or "an empty cell".
std::string describe_cell(const CsvCell& cell);

}  // namespace ccpnet::config
