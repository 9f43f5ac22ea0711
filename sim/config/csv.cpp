#include "sim/config/csv.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

namespace ccpnet::config {

namespace {

bool blank(std::string_view line) { return line.find_first_not_of(" \t") == std::string_view::npos; }

// Splits one line into cells; reports a malformed quote and returns false.
bool split_line(std::string_view line, int line_number, const std::string& path, const std::string& key,
                Diagnostics& diagnostics, std::vector<CsvCell>& cells) {
  const auto at = [&](std::size_t i) { return Location{line_number, static_cast<int>(i) + 1, path}; };
  std::size_t i = 0;
  while (true) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    CsvCell cell;
    cell.line = line_number;
    cell.column = static_cast<int>(i) + 1;
    if (i < line.size() && line[i] == '"') {
      const std::size_t open = i++;
      bool closed = false;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            cell.text += '"';
            i += 2;
            continue;
          }
          closed = true;
          ++i;
          break;
        }
        cell.text += line[i++];
      }
      if (!closed) {
        diagnostics.error(at(open), key,
                          "expected a closing quote, found the end of the line (a cell cannot span lines)");
        return false;
      }
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i < line.size() && line[i] != ',') {
        diagnostics.error(at(i), key, fmt::format("expected ',' after a quoted cell, found '{}'", line[i]));
        return false;
      }
    } else {
      const std::size_t comma = std::min(line.find(',', i), line.size());
      std::size_t end = comma;
      while (end > i && (line[end - 1] == ' ' || line[end - 1] == '\t')) --end;
      cell.text = std::string(line.substr(i, end - i));
      i = comma;
    }
    cells.push_back(std::move(cell));
    if (i >= line.size()) return true;
    ++i;  // the comma
  }
}

}  // namespace

int CsvTable::column(std::string_view name) const {
  for (std::size_t c = 0; c < header.size(); ++c)
    if (header[c].text == name) return static_cast<int>(c);
  return -1;
}

std::string resolve_data_path(const std::string& scenario_file, const std::string& name) {
  const std::filesystem::path given(name);
  if (given.is_absolute()) return name;
  return (std::filesystem::path(scenario_file).parent_path() / given).lexically_normal().string();
}

std::string describe_cell(const CsvCell& cell) {
  return cell.text.empty() ? std::string("an empty cell") : fmt::format("'{}'", excerpt(cell.text));
}

std::optional<CsvTable> read_csv(const std::string& path, const std::string& key, const Location& key_location,
                                 Diagnostics& diagnostics, std::size_t max_bytes) {
  const auto fail = [&](std::string message) {
    diagnostics.error(key_location, key, std::move(message));
    return std::nullopt;
  };
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (status.type() == std::filesystem::file_type::not_found)
    return fail(fmt::format("cannot open the data file '{}': no such file", path));
  if (ec) return fail(fmt::format("cannot open the data file '{}': {}", path, ec.message()));
  if (std::filesystem::is_directory(status))
    return fail(fmt::format("cannot read the data file '{}': it is a directory, expected a CSV file", path));
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(fmt::format("cannot open the data file '{}' (permission denied?)", path));
  CsvTable table;
  table.path = path;
  // In chunks, not by the size the file claims (a pipe has none).
  std::array<char, 1 << 16> chunk{};
  while (in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    table.text.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
    if (table.text.size() > max_bytes)
      return fail(fmt::format("the data file '{}' is too large: more than {} bytes (the limit)", path, max_bytes));
  }
  if (in.bad()) return fail(fmt::format("cannot read the data file '{}'", path));

  std::string_view text = table.text;
  // Columns count from the first character after a byte-order mark.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  // Lines, without their LF or CRLF.
  std::vector<std::string_view> lines;
  for (std::size_t begin = 0; begin < text.size();) {
    std::size_t end = text.find('\n', begin);
    const std::size_t next = end == std::string_view::npos ? text.size() : end + 1;
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(begin, end - begin);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    begin = next;
  }
  // Binary data stops here, at its first byte.
  for (std::size_t l = 0; l < lines.size(); ++l) {
    for (std::size_t i = 0; i < lines[l].size(); ++i) {
      const auto c = static_cast<unsigned char>(lines[l][i]);
      if (c >= 0x20 && c != 0x7F) continue;
      if (c == '\t') continue;
      const int column = static_cast<int>(i) + 1;
      diagnostics.error(Location{static_cast<int>(l) + 1, column, path}, key,
                        fmt::format("expected CSV text, found byte 0x{:02x} ({})", c,
                                    c == 0 ? "a NUL byte: binary data?" : "a control character"));
      return std::nullopt;
    }
  }
  while (!lines.empty() && blank(lines.back())) lines.pop_back();
  if (lines.empty()) {
    diagnostics.error(Location{1, 1, path}, key, "expected a header row, found an empty file");
    return std::nullopt;
  }
  const std::size_t before = diagnostics.size();
  std::size_t cell_count = 0;
  for (std::size_t l = 0; l < lines.size() && !diagnostics.full(); ++l) {
    const int number = static_cast<int>(l) + 1;
    if (cell_count > kMaxCsvCells) {
      diagnostics.error(Location{number, 1, path}, key,
                        fmt::format("the data file is too large: more than {} cells (the limit); reading stopped here",
                                    kMaxCsvCells));
      break;
    }
    if (blank(lines[l])) {
      diagnostics.error(Location{number, 1, path}, key,
                        fmt::format("expected {}, found an empty line", l == 0 ? "a header row" : "a row of cells"));
      continue;
    }
    std::vector<CsvCell> cells;
    if (!split_line(lines[l], number, path, key, diagnostics, cells)) continue;
    cell_count += cells.size();
    if (l == 0) {
      table.header = std::move(cells);
      std::map<std::string, int> seen;
      for (std::size_t c = 0; c < table.header.size(); ++c) {
        const CsvCell& h = table.header[c];
        if (h.text.empty()) {
          diagnostics.error(table.at(h), key, "expected a column name, found an empty cell");
        } else if (auto [it, inserted] = seen.emplace(h.text, static_cast<int>(c) + 1); !inserted) {
          diagnostics.error(table.at(h), key,
                            fmt::format("duplicate column '{}' (also column {})", excerpt(h.text), it->second));
        }
      }
      continue;
    }
    if (cells.size() != table.header.size()) {
      const CsvCell& where = cells.size() > table.header.size() ? cells[table.header.size()] : cells.front();
      diagnostics.error(table.at(where), key,
                        fmt::format("expected {} cells as in the header, found {}", table.header.size(), cells.size()));
      continue;
    }
    table.rows.push_back(std::move(cells));
  }
  if (diagnostics.size() != before) return std::nullopt;
  return table;
}

std::optional<double> csv_number(const CsvTable& table, const CsvCell& cell, const std::string& key,
                                 std::string_view what, Diagnostics& diagnostics) {
  std::string_view text = cell.text;
  if (!text.empty() && text[0] == '+') text.remove_prefix(1);
  double value = 0.0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (!text.empty() && ec == std::errc{} && ptr == text.data() + text.size() && std::isfinite(value)) return value;
  if (!diagnostics.full())
    diagnostics.error(table.at(cell), key, fmt::format("expected {}, found {}", what, describe_cell(cell)));
  return std::nullopt;
}

}  // namespace ccpnet::config
