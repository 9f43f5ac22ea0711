// The CSV reader of data files: cells and their positions, the spellings it
// accepts (CRLF, byte-order mark, quotes, blank lines at the end), and every
// error located in the CSV file with the scenario key that named it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "sim/config/csv.hpp"

namespace ccpnet::config {
namespace test_csv {

namespace fs = std::filesystem;

class CsvFile {
 public:
  explicit CsvFile(std::string_view bytes) {
    static int counter = 0;
    dir_ = fs::temp_directory_path() / ("ccpnet-csv-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::create_directories(dir_);
    path_ = (dir_ / "data.csv").string();
    std::ofstream(path_, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  ~CsvFile() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  CsvFile(const CsvFile&) = delete;
  CsvFile& operator=(const CsvFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  fs::path dir_;
  std::string path_;
};

const Location kKeyAt{12, 9, {}};

// The report of reading `bytes`, with the file's path shown as "data.csv".
std::string errors_of(std::string_view bytes, std::size_t max_bytes = kMaxCsvBytes) {
  CsvFile f(bytes);
  Diagnostics d("s.yaml");
  const auto table = read_csv(f.path(), "market.history.file", kKeyAt, d, max_bytes);
  EXPECT_EQ(table.has_value(), d.empty());
  std::string out = d.format();
  for (std::size_t at; (at = out.find(f.path())) != std::string::npos;) out.replace(at, f.path().size(), "data.csv");
  return out;
}

CsvTable table_of(std::string_view bytes) {
  CsvFile f(bytes);
  Diagnostics d("s.yaml");
  auto table = read_csv(f.path(), "k", kKeyAt, d);
  EXPECT_TRUE(d.empty()) << d.format();
  return table.value_or(CsvTable{});
}

TEST(Csv, CellsKeepTheirLineAndColumn) {
  const CsvTable t = table_of("date,BTC,ETH\n2024-01-01, 42000 ,2500\n2024-01-02,43000,2600\n");
  ASSERT_EQ(t.header.size(), 3u);
  EXPECT_EQ(t.header[2].text, "ETH");
  ASSERT_EQ(t.rows.size(), 2u);
  // " 42000 ": spaces around a cell are not part of it; its column is its first character's.
  EXPECT_EQ(t.rows[0][1].text, "42000");
  EXPECT_EQ(t.rows[0][1].line, 2);
  EXPECT_EQ(t.rows[0][1].column, 13);
  EXPECT_EQ(t.rows[1][2].column, 18);
  EXPECT_EQ(t.column("ETH"), 2);
  EXPECT_EQ(t.column("SOL"), -1);
}

TEST(Csv, CrlfByteOrderMarkAndBlankLinesAtTheEnd) {
  const CsvTable t = table_of(
      "\xEF\xBB\xBF"
      "date,BTC\r\n2024-01-01,1\r\n\r\n  \n\n");
  ASSERT_EQ(t.header.size(), 2u);
  EXPECT_EQ(t.header[0].text, "date");  // no byte-order mark in the name
  EXPECT_EQ(t.header[0].column, 1);     // columns count after the mark
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(t.rows[0][1].text, "1");  // no '\r'
}

TEST(Csv, QuotedCells) {
  const CsvTable t = table_of("a,b\n\"x, y\",\"say \"\"hi\"\"\"\n");
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(t.rows[0][0].text, "x, y");
  EXPECT_EQ(t.rows[0][1].text, "say \"hi\"");
  EXPECT_EQ(t.rows[0][1].column, 8);
}

TEST(Csv, TheFileIsKeptForTheManifest) {
  const std::string bytes = "a\n1\n";
  CsvFile f(bytes);
  Diagnostics d("s.yaml");
  const auto t = read_csv(f.path(), "k", kKeyAt, d);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->text, bytes);
  EXPECT_EQ(t->path, f.path());
}

TEST(Csv, ErrorsAreLocatedInTheCsvFile) {
  EXPECT_EQ(errors_of("a,b\n1,2,3\n"),
            "data.csv:2:5: market.history.file: expected 2 cells as in the header, found 3\n");
  EXPECT_EQ(errors_of("a,b\n1\n"), "data.csv:2:1: market.history.file: expected 2 cells as in the header, found 1\n");
  EXPECT_EQ(errors_of("a,b\n\n1,2\n"),
            "data.csv:2:1: market.history.file: expected a row of cells, found an empty line\n");
  EXPECT_EQ(errors_of("a,b\n\"1,2\n"),
            "data.csv:2:1: market.history.file: expected a closing quote, found the end of the line (a cell cannot "
            "span lines)\n");
  EXPECT_EQ(errors_of("a,b\n\"1\"x,2\n"),
            "data.csv:2:4: market.history.file: expected ',' after a quoted cell, found 'x'\n");
  EXPECT_EQ(errors_of("a,,a\n1,2,3\n"),
            "data.csv:1:3: market.history.file: expected a column name, found an empty cell\n"
            "data.csv:1:4: market.history.file: duplicate column 'a' (also column 1)\n");
  EXPECT_EQ(errors_of(""), "data.csv:1:1: market.history.file: expected a header row, found an empty file\n");
  EXPECT_EQ(errors_of("\n\n"), "data.csv:1:1: market.history.file: expected a header row, found an empty file\n");
  EXPECT_EQ(errors_of(std::string("a,b\n1,\0\n", 8)),
            "data.csv:2:3: market.history.file: expected CSV text, found byte 0x00 (a NUL byte: binary data?)\n");
  EXPECT_EQ(errors_of("a,b\n1,\x1b\n"),
            "data.csv:2:3: market.history.file: expected CSV text, found byte 0x1b (a control character)\n");
}

TEST(Csv, FileProblemsAreLocatedAtTheKeyInTheScenario) {
  EXPECT_EQ(errors_of("a,b\n1,2\n", 7),
            "s.yaml:12:9: market.history.file: the data file 'data.csv' is too large: more than 7 bytes (the limit)\n");
  Diagnostics d("s.yaml");
  EXPECT_FALSE(read_csv("no/such/prices.csv", "market.history.file", kKeyAt, d));
  EXPECT_EQ(d.format(),
            "s.yaml:12:9: market.history.file: cannot open the data file 'no/such/prices.csv': no such "
            "file\n");
  Diagnostics dir("s.yaml");
  EXPECT_FALSE(read_csv(fs::temp_directory_path().string(), "trades_file", kKeyAt, dir));
  EXPECT_THAT(dir.format(), ::testing::EndsWith("it is a directory, expected a CSV file\n"));
}

TEST(Csv, ACellBombStopsAtTheLimit) {
  // Four bytes a row, two cells: the cell limit is reached long before the byte limit.
  std::string bytes = "a,b\n";
  for (std::size_t i = 0; i <= kMaxCsvCells / 2; ++i) bytes += "1,2\n";
  ASSERT_LT(bytes.size(), kMaxCsvBytes);
  EXPECT_EQ(errors_of(bytes),
            "data.csv:2500002:1: market.history.file: the data file is too large: more than "
            "5000000 cells (the limit); reading stopped here\n");
}

TEST(Csv, NumbersAreFiniteAndWhole) {
  const CsvTable t = table_of("x\n1.5e3\n+2\nabc\n1e999\nnan\n\"\"\n");
  Diagnostics d("s.yaml");
  EXPECT_EQ(csv_number(t, t.rows[0][0], "k", "a number", d), 1500.0);
  EXPECT_EQ(csv_number(t, t.rows[1][0], "k", "a number", d), 2.0);
  for (std::size_t r = 2; r < 6; ++r) EXPECT_FALSE(csv_number(t, t.rows[r][0], "k", "a number", d));
  std::string report = d.format();
  for (std::size_t at; (at = report.find(t.path)) != std::string::npos;) report.replace(at, t.path.size(), "f.csv");
  EXPECT_EQ(report,
            "f.csv:4:1: k: expected a number, found 'abc'\n"
            "f.csv:5:1: k: expected a number, found '1e999'\n"
            "f.csv:6:1: k: expected a number, found 'nan'\n"
            "f.csv:7:1: k: expected a number, found an empty cell\n");
}

TEST(Csv, RelativeNamesAreTakenFromTheScenarioDirectory) {
  EXPECT_EQ(resolve_data_path("scenarios/x.yaml", "data/prices.csv"), "scenarios/data/prices.csv");
  EXPECT_EQ(resolve_data_path("x.yaml", "prices.csv"), "prices.csv");
  EXPECT_EQ(resolve_data_path("a/x.yaml", "../p.csv"), "p.csv");
  EXPECT_EQ(resolve_data_path("a/x.yaml", "/abs/p.csv"), "/abs/p.csv");
}

TEST(Diagnostics, DataFileErrorsComeAfterTheScenarioFileAndBeforeOverrides) {
  Diagnostics d("s.yaml");
  d.error(Location{0, 0, "--set a=1"}, "a", "x");
  d.error(Location{3, 1, "t.csv"}, "trades_file", "y");
  d.error(Location{9, 2, {}}, "b", "z");
  d.error(Location{2, 5, "t.csv"}, "trades_file", "w");
  EXPECT_EQ(d.format(),
            "s.yaml:9:2: b: z\nt.csv:2:5: trades_file: w\nt.csv:3:1: trades_file: y\n--set a=1:0:0: a: x\n");
}

}  // namespace test_csv
}  // namespace ccpnet::config
