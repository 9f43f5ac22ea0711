// The output directory of a run (SPEC 5.1): summary.json, scenarios.csv
// (streamed, one row per scenario in index order), defaults.csv (streamed the
// same way: outputs.defaults), ccps.csv, members.csv,
// scenario.resolved.yaml and manifest.json (SHA-256 of every input and output).
//
// Everything is written into a staging directory next to the target and moved
// into place at the end, so a failed run leaves no half-written output and the
// previous output as it was (sim/output_dir.hpp: what may be replaced).
#pragma once

#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "sim/config/csv.hpp"
#include "sim/runner.hpp"

namespace ccpnet {

struct Model;
class OutputDirectory;

struct OutputInfo {
  std::string scenario_file;                       // path of the input, as given
  std::string scenario_text;                       // its bytes
  std::string resolved_yaml;                       // the resolved scenario (defaults and overrides applied)
  std::string directory;                           // target directory
  std::vector<config::InputFile> data_files = {};  // the data files the scenario read (CSV)
};

// defaults.csv (Model::default_rows): per scenario, one row per member default
// and per CCP failure, in the order they happened (day, cascade round; members
// before CCPs, each by index). The member rows of a scenario are as many as
// its member_defaults; the CCP rows as its ccp_failures.
struct DefaultEvent {
  std::int64_t scenario = 0;
  bool ccp = false;  // a CCP's failure; else a member's default
  int index = -1;    // the member or the CCP
  double day = 0.0;  // time steps: the end of the step it happened in (0: at the start); one period: 0
  int round = 0;     // the cascade round (counted through the steps)
  int cause = 0;     // a member's DefaultCause; a CCP's FailureCause
};
void default_events(const ScenarioResult& r, std::vector<DefaultEvent>& out);
// The columns of defaults.csv: scenario, kind (member or ccp), id, group (a
// member's default group), day, round, cause (a member's default cause; for a
// CCP, "members" or "links": what exhausted its waterfall).
const std::vector<std::string>& default_column_names();
std::string_view default_cause_text(const DefaultEvent& e);
void append_default_row(const Model& model, const DefaultEvent& e, std::string& out);

// The rows of defaults.csv as append_default_row writes them, with the text
// of each member's and CCP's columns made once.
class DefaultRowText {
 public:
  explicit DefaultRowText(const Model& model);
  void append(const DefaultEvent& e, std::string& out) const;

 private:
  std::vector<std::string> members_, ccps_;
};

class OutputWriter {
 public:
  OutputWriter(const Model& model, OutputInfo info);
  // Rank `rank` > 0 of a distributed run: rows go to a part file in the
  // root's staging directory; the root appends the parts in rank order.
  OutputWriter(const Model& model, std::filesystem::path staging, int rank);
  ~OutputWriter();
  OutputWriter(const OutputWriter&) = delete;
  OutputWriter& operator=(const OutputWriter&) = delete;

  void scenario(const ScenarioResult& r);  // appends one row to scenarios.csv (and its rows to defaults.csv)
  // The same from the row's values (scenario_values: in the order of scenario_columns).
  void row(const std::vector<double>& values);
  // Appends the rows of one scenario to defaults.csv (Model::default_rows).
  void default_rows(std::span<const DefaultEvent> events);
  void finish(const RunResult& result);  // writes the rest and moves the directory into place
  void add_file(const std::string& name, const std::string& text);  // another output (e.g. report.html)
  void close_part();                                                // rank > 0: the part is complete
  void append_parts(int ranks);                                     // root: appends the parts of ranks 1..ranks-1
  const std::filesystem::path& staging() const { return staging_; }

 private:
  // A file written as the scenarios arrive (scenarios.csv, defaults.csv), or
  // a rank's part of it ("NAME.part-RANK", appended by the root in rank order).
  struct Stream {
    std::filesystem::path path;
    std::FILE* file = nullptr;
    int write_errno = 0;  // the first failed write's errno
    void open(std::filesystem::path p, const std::string& header);
    void write(const std::string& text);
    void close();  // throws InputError when a row could not be written
    void append_parts(const std::filesystem::path& staging, const std::string& name, int ranks);
  };
  void close_streams();
  void write_rest(const RunResult& result);  // every file but the streamed ones, into the staging directory
  // The text of values[first..] into buffer_, each cell after a comma, as
  // row() writes them.
  void append_cells(const std::vector<double>& values, std::size_t first);
  // A quiet scenario's row: its index and market factor, then the cells every
  // quiet scenario has (quiet_tail_, made from the first).
  void quiet_row(const ScenarioResult& r);

  const Model& model_;
  OutputInfo info_;
  std::unique_ptr<OutputDirectory> directory_;  // the root's: the target, and the staging directory until finish
  std::filesystem::path staging_;
  Stream scenarios_, defaults_;  // defaults_: only with Model::default_rows
  std::string buffer_;
  std::vector<DefaultEvent> events_;
  std::unique_ptr<DefaultRowText> row_text_;  // made at the first default row
  std::vector<double> row_;
  std::vector<std::uint8_t> integer_columns_;
  std::string quiet_tail_;
  std::vector<std::string> extra_files_;
};

// A table of named columns (text or numbers), the one definition of
// ccps.csv and members.csv for the files and for Python.
struct Table {
  using Column = std::variant<std::vector<std::string>, std::vector<double>>;
  std::vector<std::pair<std::string, Column>> columns;
  std::size_t rows() const;
  std::string to_csv() const;  // numbers as the shortest text that reads back exactly
  // The column `name`; std::logic_error when the table has none (of that kind).
  const Column& column(std::string_view name) const;
  const std::vector<double>& numbers(std::string_view name) const;
};

// ccps.csv: one row per CCP (margin, fund, failure and layer statistics); an
// estimate X has its 95% interval in X_lower and X_upper (as in summary.json).
Table ccp_table(const Model& model, const Aggregate& aggregate);
// members.csv: one row per member and CCP where it holds an account.
Table member_table(const Model& model, const Aggregate& aggregate);
// clients.csv (members[].clients): one row per client account.
Table client_table(const Model& model, const Aggregate& aggregate);
// The columns of scenarios.csv (and of the Python Result.scenarios), defined once.
struct ScenarioColumn {
  std::string name;
  bool integer = false;  // an index, a count or a 0/1 flag
};
std::vector<ScenarioColumn> scenario_columns(const Model& model);
// One scenario's values in the order of scenario_columns (integers as exact doubles).
void scenario_values(const Model& model, const ScenarioResult& r, std::vector<double>& out);

// Every metric declared in ChunkSums::visit, one row per value: metric, level,
// item (the CCP, layer, member and cause... of the value; empty for a system
// metric), unit, aggregation, total (the sum, count or maximum over the
// scenarios) and value (per scenario: total / scenarios, a probability for a
// 0/1 flag; a maximum as it is), then standard_error, lower and upper (its 95%
// interval: metric_estimate) and interval (the method: "wilson" for a 0/1 flag,
// "clt" for a mean, "" for a maximum). Python's Result.metrics.
Table metric_table(const Model& model, const Aggregate& aggregate);

// Time steps: the term structure of defaults, one row per day a step ends on
// (day 0, the start, first): P(some member has defaulted by the day), P(some
// CCP has failed by the day) (Wilson intervals), the expected number of
// member defaults on the day (CLT interval), each with its _lower and _upper.
// Empty in one period.
Table term_structure_table(const Model& model, const Aggregate& aggregate);

// Per settlement chain and per bridge (models with a settlement layer).
Table chain_table(const Model& model, const Aggregate& aggregate);
Table bridge_table(const Model& model, const Aggregate& aggregate);

// summary.json content.
nlohmann::ordered_json summary_json(const Model& model, const RunResult& result);

// The table printed at the end of `ccpnet run`: every estimate with its 95% interval.
std::string format_summary(const Model& model, const RunResult& result);

// How the terminal shows estimates. A probability in percent with two
// significant digits (of p, or of 1 - p above 50%): 5e-5 is "0.0050%", never a
// bare 0 when positive; exactly 0 is "0%". An amount with three significant digits.
std::string format_percent(double p);
std::string format_amount(double x);
// "value [lower, upper]" from a summary.json figure and its _ci95 pair (null: "unbounded").
std::string format_estimate(double value, const nlohmann::ordered_json& interval, bool percent);

// summary.json's "intervals": the confidence level, the key convention and the methods.
nlohmann::ordered_json summary_intervals_json();

// Writes `files` (name, content) into `directory` atomically (staging directory
// then rename), with a manifest.json of their SHA-256 and of the input.
void write_directory(const OutputInfo& info, const std::vector<std::pair<std::string, std::string>>& files);

// A text field of a CSV output: quoted as RFC 4180 says when it holds a comma,
// a double quote, CR or LF. A field that begins with = + - @, a tab or CR gets a
// leading single quote, so that a spreadsheet does not run it as a formula
// (the CSV files only: summary.json and Python have the text as it is).
std::string csv_field(const std::string& s);

// Hex SHA-256 of a byte string.
std::string sha256_hex(std::string_view bytes);

}  // namespace ccpnet
