#include "sim/output.hpp"

#include <fmt/compile.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "sim/config/schema.hpp"
#include "sim/errors.hpp"
#include "sim/model.hpp"
#include "sim/output_dir.hpp"
#include "sim/stress.hpp"

namespace ccpnet {

namespace fs = std::filesystem;

namespace {

void write_file(const fs::path& p, std::string_view text) { write_output_file(p, text); }

// The term structure's figures (time steps): name in the outputs, metric.
constexpr std::pair<const char*, const char*> kTermStructure[] = {
    {"p_member_default_by_day", "member_default_by_day"},
    {"p_ccp_failure_by_day", "ccp_failure_by_day"},
    {"mean_member_defaults_on_day", "member_defaults_on_day"}};

// The days steps end on, day 0 (the start) first (empty in one period).
std::vector<double> step_end_days(const Model& model) {
  std::vector<double> days(level_size(model, MetricLevel::kStepDays));
  for (std::size_t i = 0; i < days.size(); ++i) days[i] = static_cast<double>(i) * model.steps.days;
  return days;
}

// Numbers in CSV and JSON: shortest text that reads back to the same double.
std::string num(double x) { return fmt::format("{}", x); }

}  // namespace

std::string csv_field(const std::string& s) {
  std::string text = s;
  // A spreadsheet reads a cell that begins with one of these as a formula.
  if (!text.empty() && std::string_view("=+-@\t\r").find(text.front()) != std::string_view::npos)
    text.insert(0, 1, '\'');
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

namespace {
nlohmann::ordered_json manifest_head(const OutputInfo& info) {
  nlohmann::ordered_json manifest;
  manifest["ccpnet_version"] = CCPNET_VERSION;
  manifest["build"] = {{"type", CCPNET_BUILD_TYPE}, {"compiler", fmt::format("gcc {}", __VERSION__)}};
  manifest["inputs"] = nlohmann::ordered_json::array(
      {nlohmann::ordered_json{{"path", info.scenario_file}, {"sha256", sha256_hex(info.scenario_text)}}});
  for (const auto& f : info.data_files)
    manifest["inputs"].push_back(nlohmann::ordered_json{{"path", f.path}, {"sha256", sha256_hex(f.text)}});
  manifest["resolved_scenario_sha256"] = sha256_hex(info.resolved_yaml);
  return manifest;
}
}  // namespace

void write_directory(const OutputInfo& info, const std::vector<std::pair<std::string, std::string>>& files) {
  OutputDirectory directory(info.directory);
  const fs::path& staging = directory.staging();
  try {
    auto manifest = manifest_head(info);
    nlohmann::ordered_json outputs = nlohmann::ordered_json::object();
    for (const auto& [name, text] : files) {
      write_file(staging / name, text);
      outputs[name] = sha256_hex(text);
    }
    manifest["outputs"] = outputs;
    write_file(staging / "manifest.json", manifest.dump(2) + "\n");
    directory.commit();
  } catch (const InputError& e) {
    throw InputError(directory.failure(e.what()));
  }
}

// SHA-256 of a file, streamed (scenarios.csv can be gigabytes).
std::string sha256_file(const fs::path& path) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  std::ifstream in(path, std::ios::binary);
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    EVP_DigestUpdate(ctx, buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx, digest, &length);
  EVP_MD_CTX_free(ctx);
  std::string out;
  for (unsigned int i = 0; i < length; ++i) out += fmt::format("{:02x}", digest[i]);
  return out;
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  std::string out;
  for (unsigned int i = 0; i < length; ++i) out += fmt::format("{:02x}", digest[i]);
  return out;
}

void OutputWriter::Stream::open(fs::path p, const std::string& header) {
  path = std::move(p);
  file = std::fopen(path.c_str(), "wb");
  if (!file) throw InputError(io_error(path, "cannot create the file", errno));
  if (!header.empty()) write(header);
}

void OutputWriter::Stream::write(const std::string& text) {
  if (std::fwrite(text.data(), 1, text.size(), file) != text.size() && !write_errno) write_errno = errno;
}

void OutputWriter::Stream::close() {
  if (!file) return;
  const bool flushed = std::fflush(file) == 0;
  if (!flushed && !write_errno) write_errno = errno;
  if (std::ferror(file) && !write_errno) write_errno = EIO;
  if (std::fclose(file) != 0 && !write_errno) write_errno = errno;
  file = nullptr;
  if (write_errno) throw InputError(io_error(path, "cannot write", write_errno));
}

void OutputWriter::Stream::append_parts(const fs::path& staging, const std::string& name, int ranks) {
  std::fflush(file);
  std::vector<char> buffer(1 << 20);
  for (int r = 1; r < ranks; ++r) {
    const fs::path part = staging / fmt::format("{}.part-{}", name, r);
    std::FILE* in = std::fopen(part.c_str(), "rb");
    if (!in) throw InputError(io_error(part, fmt::format("cannot read part {} of {}.csv", r, name), errno));
    std::size_t n = 0;
    while ((n = std::fread(buffer.data(), 1, buffer.size(), in)) > 0)
      if (std::fwrite(buffer.data(), 1, n, file) != n && !write_errno) write_errno = errno;
    std::fclose(in);
    fs::remove(part);
  }
}

namespace {
std::string csv_header(const std::vector<std::string>& names) {
  std::string header;
  for (const auto& name : names) header += (header.empty() ? "" : ",") + csv_field(name);
  return header + '\n';
}
}  // namespace

OutputWriter::OutputWriter(const Model& model, OutputInfo info) : model_(model), info_(std::move(info)) {
  directory_ = std::make_unique<OutputDirectory>(info_.directory);
  staging_ = directory_->staging();
  std::vector<std::string> names;
  for (const auto& column : scenario_columns(model_)) names.push_back(column.name);
  scenarios_.open(staging_ / "scenarios.csv", csv_header(names));
  if (model_.default_rows) defaults_.open(staging_ / "defaults.csv", csv_header(default_column_names()));
}

OutputWriter::OutputWriter(const Model& model, std::filesystem::path staging, int rank)
    : model_(model), staging_(std::move(staging)) {
  // The root owns (and cleans) the staging directory.
  scenarios_.open(staging_ / fmt::format("scenarios.part-{}", rank), "");
  if (model_.default_rows) defaults_.open(staging_ / fmt::format("defaults.part-{}", rank), "");
}

void OutputWriter::add_file(const std::string& name, const std::string& text) {
  try {
    write_file(staging_ / name, text);
  } catch (const InputError& e) {
    if (!directory_) throw;
    throw InputError(directory_->failure(e.what()));
  }
  extra_files_.push_back(name);
}

void OutputWriter::close_part() { close_streams(); }

void OutputWriter::close_streams() {
  scenarios_.close();
  defaults_.close();
}

void OutputWriter::append_parts(int ranks) {
  scenarios_.append_parts(staging_, "scenarios", ranks);
  if (model_.default_rows) defaults_.append_parts(staging_, "defaults", ranks);
}

OutputWriter::~OutputWriter() {
  // The staging directory goes with directory_.
  for (Stream* s : {&scenarios_, &defaults_})
    if (s->file) std::fclose(s->file);
}

std::vector<ScenarioColumn> scenario_columns(const Model& model) {
  std::vector<ScenarioColumn> columns{
      {"scenario", true},     {"market_factor", false},  {"member_defaults", true},
      {"ccp_failures", true}, {"cascade_rounds", true},  {"closeout_loss", false},
      {"total_loss", false},  {"uncovered_loss", false}, {"liquidity_shortfall", false}};
  if (model.settlement_active)
    for (const char* name : {"settlement_fails", "principal_lost", "replacement_cost", "late_inflows", "margin_calls"})
      columns.push_back({name, false});
  if (model.settlement_active) columns.push_back({"settlement_defaults", true});
  for (const auto& c : model.ccps) {
    columns.push_back({"loss_" + c.id, false});
    columns.push_back({"failed_" + c.id, true});
  }
  columns.push_back({"failure_principal", false});
  if (model.steps.count > 0) {
    columns.push_back({"first_default_day", false});
    columns.push_back({"first_ccp_failure_day", false});
  }
  if (model.liquidity_needs) {
    columns.push_back({"peak_liquidity_need", false});
    for (const auto& c : model.ccps) columns.push_back({"peak_liquidity_need_" + c.id, false});
  }
  for (const auto& a : model.assets)
    if (model.fire_sales) columns.push_back({"price_impact_" + a.id, false});
  // Default management: each CCP's auction cost and unplaced value (its recovery tools are with the ledger's layers).
  for (const auto& c : model.ccps)
    if (c.auction)
      for (const char* name : {"auction_cost_", "unplaced_value_"}) columns.push_back({name + c.id, false});
  if (!model.ledger_columns) return columns;
  for (const auto& c : model.ccps) {
    for (const models::Layer l : ledger_layers(c))
      columns.push_back({std::string(models::layer_name(l)) + "_" + c.id, false});
    for (const models::RecoveryTool tool : c.recovery)
      columns.push_back({std::string(models::recovery_tool_name(tool)) + "_" + c.id, false});
    for (std::size_t k = 0; k < kLedgerColumns; ++k)
      columns.push_back({std::string(ledger_column_name(static_cast<LedgerColumn>(k))) + "_" + c.id, false});
  }
  return columns;
}

void scenario_values(const Model& model, const ScenarioResult& r, std::vector<double>& out) {
  out.clear();
  out.insert(out.end(), {static_cast<double>(r.index), r.market_factor, static_cast<double>(r.defaults.size()),
                         static_cast<double>(r.ccp_failures()), static_cast<double>(r.rounds), r.closeout_loss,
                         r.total_loss, r.uncovered, r.liquidity_shortfall});
  if (model.settlement_active) {
    const SettlementOutcome& st = r.settlement;
    out.insert(out.end(), {st.total(CcpSettleMetric::kFails), st.total(CcpSettleMetric::kPrincipalLost),
                           st.total(CcpSettleMetric::kReplacementCost), st.total(CcpSettleMetric::kLateInflows),
                           st.total(CcpSettleMetric::kMarginCalls), static_cast<double>(r.settlement_defaults)});
  }
  for (std::size_t c = 0; c < model.ccps.size(); ++c) {
    out.push_back(r.ccp_loss(c));
    out.push_back(r.ccp_fail_round[c] >= 0 ? 1.0 : 0.0);
  }
  out.push_back(r.failure_principal);
  if (model.steps.count > 0) {
    // Time steps: the day of the first default and of the first CCP failure (-1: none).
    out.push_back(first_default_day(r));
    out.push_back(first_ccp_failure_day(r));
  }
  if (model.liquidity_needs) {
    out.push_back(r.peak_liquidity_need);
    out.insert(out.end(), r.ccp_peak_liquidity_need.begin(), r.ccp_peak_liquidity_need.end());
  }
  out.insert(out.end(), r.price_impact.begin(), r.price_impact.end());
  for (std::size_t c = 0; c < model.ccps.size(); ++c)
    if (model.ccps[c].auction) out.insert(out.end(), {r.ccp_auction_cost[c], r.ccp_unplaced[c]});
  if (!model.ledger_columns) return;
  for (std::size_t c = 0; c < model.ccps.size(); ++c) {
    for (const models::Layer l : model.ccps[c].ledger_layers)
      out.push_back(r.ccp_layers[c * models::kLayerCount + static_cast<std::size_t>(l)]);
    for (const models::RecoveryTool tool : model.ccps[c].recovery)
      out.push_back(r.ccp_recovery[c * models::kRecoveryToolCount + static_cast<std::size_t>(tool)]);
    for (std::size_t k = 0; k < kLedgerColumns; ++k) out.push_back(ledger_value(r, c, static_cast<LedgerColumn>(k)));
  }
}

void OutputWriter::scenario(const ScenarioResult& r) {
  if (r.quiet) return quiet_row(r);  // no default rows either
  scenario_values(model_, r, row_);
  row(row_);
  if (!model_.default_rows) return;
  default_events(r, events_);
  default_rows(events_);
}

void OutputWriter::default_rows(std::span<const DefaultEvent> events) {
  if (events.empty()) return;
  buffer_.clear();
  if (!row_text_) row_text_ = std::make_unique<DefaultRowText>(model_);
  for (const DefaultEvent& e : events) row_text_->append(e, buffer_);
  defaults_.write(buffer_);
}

const std::vector<std::string>& default_column_names() {
  static const std::vector<std::string> names{"scenario", "kind", "id", "group", "day", "round", "cause"};
  return names;
}

void default_events(const ScenarioResult& r, std::vector<DefaultEvent>& out) {
  out.clear();
  for (const MemberDefault& d : r.defaults)
    out.push_back({r.index, false, d.member, d.day, d.round, static_cast<int>(d.cause)});
  for (std::size_t c = 0; c < r.ccp_fail_round.size(); ++c)
    if (r.ccp_fail_round[c] >= 0)
      out.push_back({r.index, true, static_cast<int>(c), std::max(0.0, r.ccp_fail_day[c]), r.ccp_fail_round[c],
                     static_cast<int>(r.ccp_fail_cause[c])});
  std::stable_sort(out.begin(), out.end(), [](const DefaultEvent& a, const DefaultEvent& b) {
    if (a.day != b.day) return a.day < b.day;
    if (a.round != b.round) return a.round < b.round;
    if (a.ccp != b.ccp) return b.ccp;
    return a.index < b.index;
  });
}

std::string_view default_cause_text(const DefaultEvent& e) {
  if (!e.ccp) return cause_name(static_cast<DefaultCause>(e.cause));
  return static_cast<FailureCause>(e.cause) == FailureCause::kLinks ? "links" : "members";
}

namespace {

// The columns of a default row that depend on who defaulted alone: "kind,id,group,".
std::string default_row_middle(const Model& model, bool ccp, std::size_t i) {
  const std::string& id = ccp ? model.ccps[i].id : model.members[i].id;
  const std::string group = ccp ? std::string() : model.group_ids[static_cast<std::size_t>(model.members[i].group)];
  return fmt::format("{},{},{},", ccp ? "ccp" : "member", csv_field(id), csv_field(group));
}

void append_default_row(const DefaultEvent& e, std::string_view middle, std::string& out) {
  fmt::format_to(std::back_inserter(out), FMT_COMPILE("{},{}{},{},{}\n"), e.scenario, middle, e.day, e.round,
                 default_cause_text(e));
}

}  // namespace

void append_default_row(const Model& model, const DefaultEvent& e, std::string& out) {
  append_default_row(e, default_row_middle(model, e.ccp, static_cast<std::size_t>(e.index)), out);
}

// A stressed run writes a hundred rows a scenario: their constant middles once.
DefaultRowText::DefaultRowText(const Model& model) {
  for (std::size_t m = 0; m < model.members.size(); ++m) members_.push_back(default_row_middle(model, false, m));
  for (std::size_t c = 0; c < model.ccps.size(); ++c) ccps_.push_back(default_row_middle(model, true, c));
}

void DefaultRowText::append(const DefaultEvent& e, std::string& out) const {
  const auto i = static_cast<std::size_t>(e.index);
  append_default_row(e, e.ccp ? ccps_[i] : members_[i], out);
}

void OutputWriter::row(const std::vector<double>& values) {
  buffer_.clear();
  append_cells(values, 0);
  buffer_ += '\n';
  scenarios_.write(buffer_);
}

void OutputWriter::append_cells(const std::vector<double>& values, std::size_t first) {
  if (integer_columns_.empty())
    for (const auto& column : scenario_columns(model_)) integer_columns_.push_back(column.integer);
  for (std::size_t i = first; i < values.size(); ++i) {
    if (i) buffer_ += ',';
    if (values[i] == 0.0) {  // most cells of a calm scenario: no formatting
      buffer_ += '0';
    } else if (integer_columns_[i]) {
      fmt::format_to(std::back_inserter(buffer_), "{}", static_cast<std::int64_t>(values[i]));
    } else {
      fmt::format_to(std::back_inserter(buffer_), "{}", values[i]);  // as num(): shortest exact text
    }
  }
}

// The first two columns are the scenario's index and market factor
// (scenario_columns); a quiet scenario's other cells are those of any other.
void OutputWriter::quiet_row(const ScenarioResult& r) {
  if (quiet_tail_.empty()) {
    const std::vector<ScenarioColumn> columns = scenario_columns(model_);
    if (columns.size() < 2 || columns[0].name != "scenario" || columns[1].name != "market_factor")
      throw std::logic_error("scenarios.csv no longer starts with the index and the market factor");
    scenario_values(model_, r, row_);
    buffer_.clear();
    append_cells(row_, 2);
    buffer_ += '\n';
    quiet_tail_ = buffer_;
  }
  row_.assign({static_cast<double>(r.index), r.market_factor});
  buffer_.clear();
  append_cells(row_, 0);
  buffer_ += quiet_tail_;
  scenarios_.write(buffer_);
}

namespace {

// An interval in JSON: [lower, upper], an unbounded end (a quantile with too
// few scenarios beyond it) as null.
nlohmann::ordered_json interval_json(const models::stats::Interval& i) {
  const auto end = [](double x) { return std::isfinite(x) ? nlohmann::ordered_json(x) : nlohmann::ordered_json(); };
  return nlohmann::ordered_json::array({end(i.lower), end(i.upper)});
}

// Next to the figure `key` of `e`: `key_se` (its standard error) and
// `key_ci95` (its 95% interval), from the metric that declares it.
void add_interval(nlohmann::ordered_json& e, const std::string& key, const Estimate& x) {
  e[key + "_se"] = x.standard_error;
  e[key + "_ci95"] = interval_json(x.interval);
}

// A CCP's default management in the summary: per recovery tool (and its
// auctions' cost and unplaced value) the expected amount and how often.
nlohmann::ordered_json default_management_summary(const Model& model, const ChunkSums& t, std::size_t c) {
  const double n = std::max<double>(1.0, static_cast<double>(t.count));
  nlohmann::ordered_json e = nlohmann::ordered_json::object();
  const CcpModel& ccp = model.ccps[c];
  for (std::size_t i = 0; i < kDefaultManagementItems; ++i) {
    const bool tool = i < models::kRecoveryToolCount;
    if (tool &&
        std::find(ccp.recovery.begin(), ccp.recovery.end(), static_cast<models::RecoveryTool>(i)) == ccp.recovery.end())
      continue;
    if (!tool && !ccp.auction) continue;
    const std::size_t k = c * kDefaultManagementItems + i;
    nlohmann::ordered_json x;
    x["expected"] = t.ccp_recovery[k] / n;
    add_interval(x, "expected", metric_estimate(t, "ccp_recovery", k));
    x["p_used"] = static_cast<double>(t.ccp_recovery_used[k]) / n;
    e[std::string(default_management_item_name(i))] = x;
  }
  return e;
}

}  // namespace

nlohmann::ordered_json summary_intervals_json() {
  using json = nlohmann::ordered_json;
  json j;
  j["confidence"] = models::stats::kConfidence;
  j["keys"] =
      "a figure X that is estimated from the scenarios has X_se (standard error) and X_ci95 ([lower, upper]) next "
      "to it; for a map of figures M (layer_losses, ledger, p_member_defaults_at_least) they are the maps M_se and "
      "M_ci95; quantiles (p99, p999) have X_ci95 only, and null for an end that no scenario bounds";
  j["probabilities"] = models::stats::kProportionMethod;
  j["means"] = models::stats::kMeanMethod;
  j["quantiles"] = models::stats::kQuantileMethod;
  j["without_interval"] =
      "es99_total_loss, ledger_max_relative_error, and the system-wide and per-chain and per-bridge settlement "
      "figures (per-CCP settlement figures have theirs)";
  return j;
}

namespace {

// summary.json's entry of CCP c.
nlohmann::ordered_json ccp_summary_json(const Model& model, const Aggregate& agg, std::size_t c) {
  using json = nlohmann::ordered_json;
  const ChunkSums& t = agg.totals();
  const double n = std::max<double>(1.0, static_cast<double>(t.count));
  const CcpModel& ccp = model.ccps[c];
  json e;
  e["p_fail"] = static_cast<double>(t.ccp_fails[c]) / n;
  add_interval(e, "p_fail", metric_estimate(t, "ccp_fails", c));
  e["expected_loss"] = t.ccp_loss[c] / n;
  add_interval(e, "expected_loss", metric_estimate(t, "ccp_loss", c));
  e["expected_uncovered_loss"] = t.ccp_uncovered[c] / n;
  add_interval(e, "expected_uncovered_loss", metric_estimate(t, "ccp_uncovered_loss", c));
  e["p_fail_via_links"] = static_cast<double>(t.ccp_fails_via_links[c]) / n;
  add_interval(e, "p_fail_via_links", metric_estimate(t, "ccp_fails_via_links", c));
  json ledger = json::object(), ledger_se = json::object(), ledger_ci = json::object();
  for (std::size_t k = 0; k < kLedgerColumns; ++k) {
    const char* name = ledger_column_name(static_cast<LedgerColumn>(k));
    ledger[name] = t.ccp_ledger[c * kLedgerColumns + k] / n;
    const Estimate x = metric_estimate(t, "ccp_ledger", c * kLedgerColumns + k);
    ledger_se[name] = x.standard_error;
    ledger_ci[name] = interval_json(x.interval);
  }
  e["ledger"] = ledger;
  e["ledger_se"] = ledger_se;
  e["ledger_ci95"] = ledger_ci;
  e["p_df_exhausted"] = static_cast<double>(t.ccp_df_exhausted[c]) / n;
  add_interval(e, "p_df_exhausted", metric_estimate(t, "ccp_df_exhausted", c));
  e["df_depletion"] = {{"mean", t.ccp_depletion[c] / n}, {"p99", agg.depletion_quantile(c, 0.99)}};
  add_interval(e["df_depletion"], "mean", metric_estimate(t, "ccp_df_depletion", c));
  e["df_depletion"]["p99_ci95"] = interval_json(agg.depletion_quantile_interval(c, 0.99));
  json layers = json::object(), layers_se = json::object(), layers_ci = json::object();
  for (const auto layer : ccp.waterfall) {
    const auto l = static_cast<std::size_t>(layer);
    const std::string name(models::layer_name(layer));
    layers[name] = t.ccp_layers[c * models::kLayerCount + l] / n;
    const Estimate x = metric_estimate(t, "ccp_layer_loss", c * models::kLayerCount + l);
    layers_se[name] = x.standard_error;
    layers_ci[name] = interval_json(x.interval);
  }
  e["layer_losses"] = layers;
  e["layer_losses_se"] = layers_se;
  e["layer_losses_ci95"] = layers_ci;
  e["default_fund"] = ccp.default_fund;
  e["default_fund_sizing"] = fund_sizing_json(ccp);
  double im = 0.0;
  for (int a : ccp.accounts) im += model.accounts[static_cast<std::size_t>(a)].initial_margin;
  e["initial_margin"] = im;
  if (model.settlement_active) {
    const auto mean = [&](CcpSettleMetric m) {
      return t.ccp_settle[c * kCcpSettleMetrics + static_cast<std::size_t>(m)] / n;
    };
    e["settlement"] = {{"mode", config::enum_name(ccp.settlement.mode)},
                       {"custody", config::enum_name(ccp.settlement.custody)},
                       {"mean_fails", mean(CcpSettleMetric::kFails)},
                       {"mean_principal_lost", mean(CcpSettleMetric::kPrincipalLost)},
                       {"mean_replacement_cost", mean(CcpSettleMetric::kReplacementCost)},
                       {"mean_late_inflows", mean(CcpSettleMetric::kLateInflows)},
                       {"mean_margin_calls", mean(CcpSettleMetric::kMarginCalls)}};
    const std::pair<const char*, CcpSettleMetric> settle[] = {
        {"mean_fails", CcpSettleMetric::kFails},
        {"mean_principal_lost", CcpSettleMetric::kPrincipalLost},
        {"mean_replacement_cost", CcpSettleMetric::kReplacementCost},
        {"mean_late_inflows", CcpSettleMetric::kLateInflows},
        {"mean_margin_calls", CcpSettleMetric::kMarginCalls}};
    for (const auto& [key, m] : settle)
      add_interval(e["settlement"], key,
                   metric_estimate(t, "ccp_settlement", c * kCcpSettleMetrics + static_cast<std::size_t>(m)));
  }
  if (ccp.auction || !ccp.recovery.empty()) e["default_management"] = default_management_summary(model, t, c);
  return e;
}

// summary.json's system-wide figures.
nlohmann::ordered_json system_summary_json(const Model& model, const Aggregate& agg) {
  using json = nlohmann::ordered_json;
  const ChunkSums& t = agg.totals();
  const double n = std::max<double>(1.0, static_cast<double>(t.count));
  json sys;
  const auto system_interval = [&](const char* key, std::string_view metric) {
    add_interval(sys, key, metric_estimate(t, metric, 0));
  };
  sys["p_any_ccp_fail"] = static_cast<double>(t.any_ccp_fail) / n;
  system_interval("p_any_ccp_fail", "any_ccp_fail");
  sys["p_any_member_default"] = static_cast<double>(t.any_default) / n;
  system_interval("p_any_member_default", "any_member_default");
  sys["mean_member_defaults"] = static_cast<double>(t.member_defaults) / n;
  system_interval("mean_member_defaults", "member_defaults");
  sys["mean_ccp_failures"] = static_cast<double>(t.ccp_failures) / n;
  system_interval("mean_ccp_failures", "ccp_failures");
  sys["expected_total_loss"] = t.total_loss / n;
  system_interval("expected_total_loss", "total_loss");
  sys["expected_closeout_loss"] = t.closeout_loss / n;
  system_interval("expected_closeout_loss", "closeout_loss");
  sys["expected_failure_principal"] = t.failure_principal / n;
  system_interval("expected_failure_principal", "failure_principal");
  if (model.interbank) {
    sys["expected_interbank_loss"] = t.interbank_loss / n;
    system_interval("expected_interbank_loss", "interbank_loss");
  }
  if (!model.clients.empty()) {
    sys["expected_client_loss"] = t.client_loss / n;
    system_interval("expected_client_loss", "client_loss");
    sys["mean_client_accounts_ported"] = static_cast<double>(t.clients_ported) / n;
    system_interval("mean_client_accounts_ported", "client_accounts_ported");
    sys["mean_client_accounts_closed_out"] = static_cast<double>(t.clients_closed_out) / n;
    system_interval("mean_client_accounts_closed_out", "client_accounts_closed_out");
  }
  sys["ledger_max_relative_error"] = t.ledger_error;
  sys["p99_total_loss"] = agg.total_loss_quantile(0.99);
  sys["p99_total_loss_ci95"] = interval_json(agg.total_loss_quantile_interval(0.99));
  sys["p999_total_loss"] = agg.total_loss_quantile(0.999);
  sys["p999_total_loss_ci95"] = interval_json(agg.total_loss_quantile_interval(0.999));
  sys["es99_total_loss"] = agg.total_loss_expected_shortfall(0.99);
  sys["mean_cascade_rounds"] = static_cast<double>(t.rounds) / n;
  system_interval("mean_cascade_rounds", "cascade_rounds");
  sys["mean_liquidity_shortfall"] = t.liquidity_shortfall / n;
  system_interval("mean_liquidity_shortfall", "liquidity_shortfall");
  if (model.liquidity_needs) {  // time steps: the largest one-step call over the system, averaged over scenarios
    sys["mean_peak_liquidity_need"] = metric_estimate(t, "peak_liquidity_need", 0).value;
    system_interval("mean_peak_liquidity_need", "peak_liquidity_need");
  }
  json at_least = json::object(), at_least_se = json::object(), at_least_ci = json::object();
  for (std::size_t k : {1, 2, 3, 5, 10}) {
    at_least[std::to_string(k)] = agg.p_at_least_defaults(k);
    const std::int64_t hits = agg.scenarios_with_at_least_defaults(k);
    at_least_se[std::to_string(k)] = models::stats::proportion_standard_error(hits, t.count);
    at_least_ci[std::to_string(k)] = interval_json(models::stats::wilson(hits, t.count));
  }
  sys["p_member_defaults_at_least"] = at_least;
  sys["p_member_defaults_at_least_se"] = at_least_se;
  sys["p_member_defaults_at_least_ci95"] = at_least_ci;
  return sys;
}

// summary.json's settlement: system-wide means, then chains.csv and bridges.csv keyed by id.
nlohmann::ordered_json settlement_summary_json(const Model& model, const Aggregate& agg) {
  using json = nlohmann::ordered_json;
  const ChunkSums& t = agg.totals();
  const double n = std::max<double>(1.0, static_cast<double>(t.count));
  json st;
  const auto total = [&](CcpSettleMetric m) {
    double sum = 0.0;
    for (std::size_t c = 0; c < model.ccps.size(); ++c)
      sum += t.ccp_settle[c * kCcpSettleMetrics + static_cast<std::size_t>(m)];
    return sum / n;
  };
  st["mean_fails"] = total(CcpSettleMetric::kFails);
  st["mean_principal_lost"] = total(CcpSettleMetric::kPrincipalLost);
  st["mean_replacement_cost"] = total(CcpSettleMetric::kReplacementCost);
  st["mean_late_inflows"] = total(CcpSettleMetric::kLateInflows);
  st["mean_margin_calls"] = total(CcpSettleMetric::kMarginCalls);
  st["mean_settlement_defaults"] = static_cast<double>(t.settlement_defaults) / n;
  // The rows of chains.csv and bridges.csv, keyed by their first column.
  const auto by_id = [](const Table& table) {
    json out = json::object();
    const auto& ids = std::get<std::vector<std::string>>(table.columns.front().second);
    for (std::size_t r = 0; r < ids.size(); ++r) {
      json e;
      for (std::size_t col = 1; col < table.columns.size(); ++col)
        std::visit([&](const auto& v) { e[table.columns[col].first] = v[r]; }, table.columns[col].second);
      out[ids[r]] = e;
    }
    return out;
  };
  st["chains"] = by_id(chain_table(model, agg));
  st["bridges"] = by_id(bridge_table(model, agg));
  return st;
}

// summary.json's term structure (time steps): per day a step ends on, the
// figures of term_structure_table, each X with X_se and X_ci95 as elsewhere.
nlohmann::ordered_json term_structure_json(const Model& model, const Aggregate& agg) {
  using json = nlohmann::ordered_json;
  const ChunkSums& t = agg.totals();
  const std::size_t days = level_size(model, MetricLevel::kStepDays);
  json ts;
  ts["days"] = step_end_days(model);
  for (const auto& [name, metric] : kTermStructure) {
    json value = json::array(), se = json::array(), ci = json::array();
    for (std::size_t i = 0; i < days; ++i) {
      const Estimate e = metric_estimate(t, metric, i);
      value.push_back(e.value);
      se.push_back(e.standard_error);
      ci.push_back(interval_json(e.interval));
    }
    ts[name] = value;
    ts[std::string(name) + "_se"] = se;
    ts[std::string(name) + "_ci95"] = ci;
  }
  return ts;
}

}  // namespace

nlohmann::ordered_json summary_json(const Model& model, const RunResult& result) {
  using json = nlohmann::ordered_json;
  const Aggregate& agg = result.aggregate;
  const ChunkSums& t = agg.totals();
  json j;
  j["ccpnet_version"] = CCPNET_VERSION;
  j["scenario"] = model.name;
  j["seed"] = model.seed;
  j["scenarios"] = t.count;
  j["first_scenario"] = result.first;
  j["requested_scenarios"] = result.requested;
  j["partial"] = result.interrupted;
  j["intervals"] = summary_intervals_json();
  json ccps = json::object();
  for (std::size_t c = 0; c < model.ccps.size(); ++c) ccps[model.ccps[c].id] = ccp_summary_json(model, agg, c);
  j["ccps"] = ccps;
  j["system"] = system_summary_json(model, agg);
  if (model.steps.count > 0) j["term_structure"] = term_structure_json(model, agg);
  if (model.settlement_active) j["settlement"] = settlement_summary_json(model, agg);
  return j;
}

std::string format_percent(double p) {
  if (p == 0.0) return "0%";
  if (!std::isfinite(p)) return "n/a";
  // Two significant digits of p, or of 1 - p above 50% (so that 0.99981 reads 99.981%, not 100%).
  const double shown = 100.0 * std::min(std::abs(p), std::abs(1.0 - p));
  const int decimals = shown > 0.0 ? std::clamp(1 - static_cast<int>(std::floor(std::log10(shown))), 0, 8) : 0;
  return fmt::format("{:.{}f}%", 100.0 * p, decimals);
}

std::string format_amount(double x) {
  if (!std::isfinite(x)) return x > 0 ? "inf" : "n/a";
  return fmt::format("{:.3g}", x);
}

std::string format_estimate(double value, const nlohmann::ordered_json& interval, bool percent) {
  const auto end = [&](const nlohmann::ordered_json& e) {
    if (e.is_null()) return std::string("unbounded");
    return percent ? format_percent(e.get<double>()) : format_amount(e.get<double>());
  };
  return fmt::format("{} [{}, {}]", percent ? format_percent(value) : format_amount(value), end(interval.at(0)),
                     end(interval.at(1)));
}

std::string format_summary(const Model& model, const RunResult& result) {
  const auto j = summary_json(model, result);
  const auto& sys = j["system"];
  std::string out;
  out += fmt::format("ccpnet {}: {}\n", CCPNET_VERSION, model.name);
  out += fmt::format("{} scenarios{} (seed {}, {} thread{}, {:.2f} s, {:.0f} scenarios/s)\n", result.completed,
                     result.interrupted ? fmt::format(" of {} (INTERRUPTED: partial result)", result.requested) : "",
                     model.seed, result.threads, result.threads == 1 ? "" : "s", result.seconds,
                     result.seconds > 0 ? static_cast<double>(result.completed) / result.seconds : 0.0);
  out += "\n";
  out += fmt::format("{:<16} {:>14} {:>14}  {:<28} {:<30} {:<24} {}\n", "CCP", "initial margin", "default fund",
                     "P(fail)", "E[loss] USD", "DF used (mean)", "DF used p99");
  for (const auto& ccp : model.ccps) {
    const auto& e = j["ccps"][ccp.id];
    const auto& df = e["df_depletion"];
    out +=
        fmt::format("{:<16} {:>14.4g} {:>14.4g}  {:<28} {:<30} {:<24} {}\n", ccp.id, e["initial_margin"].get<double>(),
                    e["default_fund"].get<double>(), format_estimate(e["p_fail"].get<double>(), e["p_fail_ci95"], true),
                    format_estimate(e["expected_loss"].get<double>(), e["expected_loss_ci95"], false),
                    format_estimate(df["mean"].get<double>(), df["mean_ci95"], true),
                    format_estimate(df["p99"].get<double>(), df["p99_ci95"], true));
  }
  out += "\n";
  const auto line = [&](const char* label, const char* key, bool percent) {
    out += fmt::format("{:<25}{}\n", label,
                       format_estimate(sys[key].get<double>(), sys[std::string(key) + "_ci95"], percent));
  };
  line("P(any CCP fails)", "p_any_ccp_fail", true);
  line("P(any member defaults)", "p_any_member_default", true);
  line("mean member defaults", "mean_member_defaults", false);
  line("mean cascade rounds", "mean_cascade_rounds", false);
  out += fmt::format("total loss USD: mean {}  p99 {}  p99.9 {}  ES99 {}\n",
                     format_estimate(sys["expected_total_loss"].get<double>(), sys["expected_total_loss_ci95"], false),
                     format_estimate(sys["p99_total_loss"].get<double>(), sys["p99_total_loss_ci95"], false),
                     format_estimate(sys["p999_total_loss"].get<double>(), sys["p999_total_loss_ci95"], false),
                     format_amount(sys["es99_total_loss"].get<double>()));
  out += "(total loss: borne by others than the defaulters: mutualised layers, CCP capital, haircuts, uncovered)\n";
  out +=
      "(in brackets: 95% intervals; Wilson for probabilities, mean +- 1.96 standard errors for means, order "
      "statistics for quantiles)\n";
  if (model.settlement_active) {
    const auto& st = j["settlement"];
    out += "\n";
    out += fmt::format("{:<16} {:>12} {:>11} {:>9} {:>11} {:>14} {:>14}\n", "chain", "finality h", "P(congest)",
                       "P(halt)", "fails", "loss USD", "late VM USD");
    for (const auto& chain : model.chains) {
      const auto& e = st["chains"][chain.id];
      out += fmt::format("{:<16} {:>12.4g} {:>11.4f} {:>9.4f} {:>11.4g} {:>14.4g} {:>14.4g}\n", chain.id,
                         e["mean_finality_hours"].get<double>(), e["p_congested"].get<double>(),
                         e["p_halted"].get<double>(), e["mean_fails"].get<double>(), e["mean_loss"].get<double>(),
                         e["mean_late_inflows"].get<double>());
    }
    for (const auto& bridge : model.bridges) {
      const auto& e = st["bridges"][bridge.id];
      out += fmt::format("bridge {:<9} P(exploit) {:.4f}  E[loss] {:.4g} USD\n", bridge.id,
                         e["p_exploited"].get<double>(), e["mean_loss"].get<double>());
    }
    out += fmt::format(
        "settlement per scenario: fails {:.4g}  principal lost {:.4g}  replacement {:.4g}  late VM {:.4g}  margin "
        "calls {:.4g} USD\n",
        st["mean_fails"].get<double>(), st["mean_principal_lost"].get<double>(),
        st["mean_replacement_cost"].get<double>(), st["mean_late_inflows"].get<double>(),
        st["mean_margin_calls"].get<double>());
    out += fmt::format("liquidity defaults caused by settlement delay: {:.4g} per scenario (shortfall {:.4g} USD)\n",
                       st["mean_settlement_defaults"].get<double>(), sys["mean_liquidity_shortfall"].get<double>());
  }
  return out;
}

std::size_t Table::rows() const {
  if (columns.empty()) return 0;
  return std::visit([](const auto& v) { return v.size(); }, columns.front().second);
}

const Table::Column& Table::column(std::string_view name) const {
  for (const auto& [column_name, values] : columns)
    if (column_name == name) return values;
  throw std::logic_error(fmt::format("no column '{}' in the table", name));
}

const std::vector<double>& Table::numbers(std::string_view name) const {
  return std::get<std::vector<double>>(column(name));
}

std::string Table::to_csv() const {
  std::string out;
  for (std::size_t c = 0; c < columns.size(); ++c) out += (c ? "," : "") + csv_field(columns[c].first);
  out += '\n';
  for (std::size_t r = 0; r < rows(); ++r) {
    for (std::size_t c = 0; c < columns.size(); ++c) {
      if (c) out += ',';
      std::visit(
          [&](const auto& v) {
            if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::vector<double>>) {
              out += num(v[r]);
            } else {
              out += csv_field(v[r]);
            }
          },
          columns[c].second);
    }
    out += '\n';
  }
  return out;
}

Table ccp_table(const Model& model, const Aggregate& agg) {
  const ChunkSums& t = agg.totals();
  const double n = std::max<double>(1.0, static_cast<double>(t.count));
  const std::size_t nc = model.ccps.size();
  const auto numbers = [&](auto value) {
    std::vector<double> v(nc);
    for (std::size_t c = 0; c < nc; ++c) v[c] = value(c);
    return v;
  };
  // The 95% interval of a per-CCP metric, its lower and upper ends (metric_estimate).
  const auto lower = [&](std::string_view metric) {
    return numbers([&](std::size_t c) { return metric_estimate(t, metric, c).interval.lower; });
  };
  const auto upper = [&](std::string_view metric) {
    return numbers([&](std::size_t c) { return metric_estimate(t, metric, c).interval.upper; });
  };
  std::vector<std::string> id, kind, margin;
  for (const auto& c : model.ccps) {
    id.push_back(c.id);
    kind.emplace_back(config::enum_name(c.kind));
    margin.push_back(c.margin_model);
  }
  Table table;
  table.columns = {
      {"ccp", id},
      {"kind", kind},
      {"margin_model", margin},
      {"mpor_days", numbers([&](std::size_t c) { return model.ccps[c].mpor_days; })},
      {"capital", numbers([&](std::size_t c) { return model.ccps[c].capital; })},
      {"sitg", numbers([&](std::size_t c) { return model.ccps[c].sitg; })},
      {"default_fund", numbers([&](std::size_t c) { return model.ccps[c].default_fund; })},
      {"initial_margin", numbers([&](std::size_t c) {
         double im = 0.0;
         for (int a : model.ccps[c].accounts) im += model.accounts[static_cast<std::size_t>(a)].initial_margin;
         return im;
       })},
      {"p_fail", numbers([&](std::size_t c) { return static_cast<double>(t.ccp_fails[c]) / n; })},
      {"p_fail_lower", lower("ccp_fails")},
      {"p_fail_upper", upper("ccp_fails")},
      {"expected_loss", numbers([&](std::size_t c) { return t.ccp_loss[c] / n; })},
      {"expected_loss_lower", lower("ccp_loss")},
      {"expected_loss_upper", upper("ccp_loss")},
      {"df_depletion_mean", numbers([&](std::size_t c) { return t.ccp_depletion[c] / n; })},
      {"df_depletion_mean_lower", lower("ccp_df_depletion")},
      {"df_depletion_mean_upper", upper("ccp_df_depletion")},
      {"df_depletion_p99", numbers([&](std::size_t c) { return agg.depletion_quantile(c, 0.99); })},
      {"df_depletion_p99_lower",
       numbers([&](std::size_t c) { return agg.depletion_quantile_interval(c, 0.99).lower; })},
      {"df_depletion_p99_upper",
       numbers([&](std::size_t c) { return agg.depletion_quantile_interval(c, 0.99).upper; })},
      {"p_df_exhausted", numbers([&](std::size_t c) { return static_cast<double>(t.ccp_df_exhausted[c]) / n; })},
      {"p_df_exhausted_lower", lower("ccp_df_exhausted")},
      {"p_df_exhausted_upper", upper("ccp_df_exhausted")},
      {"p_fail_via_links", numbers([&](std::size_t c) { return static_cast<double>(t.ccp_fails_via_links[c]) / n; })},
      {"p_fail_via_links_lower", lower("ccp_fails_via_links")},
      {"p_fail_via_links_upper", upper("ccp_fails_via_links")},
      {"expected_link_loss_in", numbers([&](std::size_t c) {
         return t.ccp_ledger[c * kLedgerColumns + static_cast<std::size_t>(LedgerColumn::kLinkIn)] / n;
       })},
      {"expected_link_loss_out", numbers([&](std::size_t c) {
         return t.ccp_ledger[c * kLedgerColumns + static_cast<std::size_t>(LedgerColumn::kLinkOut)] / n;
       })},
      {"expected_unallocated", numbers([&](std::size_t c) {
         return t.ccp_ledger[c * kLedgerColumns + static_cast<std::size_t>(LedgerColumn::kUnallocated)] / n;
       })},
  };
  if (model.liquidity_needs) {  // time steps: the CCP's largest one-step call on its members, mean over scenarios
    table.columns.emplace_back("mean_peak_liquidity_need", numbers([&](std::size_t c) {
                                 return metric_estimate(t, "ccp_peak_liquidity_need", c).value;
                               }));
    table.columns.emplace_back("mean_peak_liquidity_need_lower", lower("ccp_peak_liquidity_need"));
    table.columns.emplace_back("mean_peak_liquidity_need_upper", upper("ccp_peak_liquidity_need"));
  }
  for (std::size_t l = 0; l < models::kLayerCount; ++l)
    table.columns.emplace_back("loss_" + std::string(models::layer_name(static_cast<models::Layer>(l))),
                               numbers([&](std::size_t c) { return t.ccp_layers[c * models::kLayerCount + l] / n; }));
  if (model.settlement_active) {
    std::vector<std::string> mode, chain, custody;
    for (const auto& c : model.ccps) {
      mode.emplace_back(config::enum_name(c.settlement.mode));
      chain.push_back(c.settlement.chain >= 0 ? model.chains[static_cast<std::size_t>(c.settlement.chain)].id : "");
      custody.emplace_back(config::enum_name(c.settlement.custody));
    }
    const auto mean = [&](CcpSettleMetric m) {
      return numbers(
          [&](std::size_t c) { return t.ccp_settle[c * kCcpSettleMetrics + static_cast<std::size_t>(m)] / n; });
    };
    table.columns.emplace_back("settlement_mode", std::move(mode));
    table.columns.emplace_back("settlement_chain", std::move(chain));
    table.columns.emplace_back("custody", std::move(custody));
    table.columns.emplace_back("mean_settlement_fails", mean(CcpSettleMetric::kFails));
    table.columns.emplace_back("mean_principal_lost", mean(CcpSettleMetric::kPrincipalLost));
    table.columns.emplace_back("mean_replacement_cost", mean(CcpSettleMetric::kReplacementCost));
    table.columns.emplace_back("mean_late_inflows", mean(CcpSettleMetric::kLateInflows));
    table.columns.emplace_back("mean_margin_calls", mean(CcpSettleMetric::kMarginCalls));
  }
  if (model.default_management)
    for (std::size_t i = 0; i < kDefaultManagementItems; ++i) {
      const std::string name(default_management_item_name(i));
      const std::size_t items = kDefaultManagementItems;
      table.columns.emplace_back("expected_" + name,
                                 numbers([&](std::size_t c) { return t.ccp_recovery[c * items + i] / n; }));
      table.columns.emplace_back("p_" + name, numbers([&](std::size_t c) {
                                   return static_cast<double>(t.ccp_recovery_used[c * items + i]) / n;
                                 }));
    }
  return table;
}

Table metric_table(const Model& model, const Aggregate& agg) {
  const ChunkSums& t = agg.totals();
  const double n = std::max<double>(1.0, static_cast<double>(t.count));
  std::vector<std::string> metric, level, item, unit, aggregation, method;
  std::vector<double> total, value, standard_error, lower, upper;
  ChunkSums::visit([&](auto field, const MetricInfo& info, const auto&) {
    const auto row = [&](std::size_t i, double x) {
      metric.emplace_back(info.name);
      level.emplace_back(metric_level_name(info.level));
      item.push_back(level_label(model, info.level, i));
      unit.emplace_back(metric_unit_name(info.unit));
      aggregation.emplace_back(aggregation_name(info.aggregation));
      total.push_back(x);
      value.push_back(info.aggregation == Aggregation::kMax ? x : x / n);
      const Estimate e = metric_estimate(t, info.name, i);
      standard_error.push_back(e.standard_error);
      lower.push_back(e.interval.lower);
      upper.push_back(e.interval.upper);
      method.emplace_back(e.kind == IntervalKind::kProportion ? "wilson" : e.kind == IntervalKind::kMean ? "clt" : "");
    };
    const auto& sums = t.*field;
    if constexpr (std::is_arithmetic_v<std::decay_t<decltype(sums)>>) {
      row(0, static_cast<double>(sums));
    } else {
      for (std::size_t i = 0; i < sums.size(); ++i) row(i, static_cast<double>(sums[i]));
    }
  });
  Table table;
  table.columns = {{"metric", std::move(metric)},
                   {"level", std::move(level)},
                   {"item", std::move(item)},
                   {"unit", std::move(unit)},
                   {"aggregation", std::move(aggregation)},
                   {"total", std::move(total)},
                   {"value", std::move(value)},
                   {"standard_error", std::move(standard_error)},
                   {"lower", std::move(lower)},
                   {"upper", std::move(upper)},
                   {"interval", std::move(method)}};
  return table;
}

Table term_structure_table(const Model& model, const Aggregate& agg) {
  const ChunkSums& t = agg.totals();
  const std::size_t days = level_size(model, MetricLevel::kStepDays);
  Table table;
  table.columns.emplace_back("day", step_end_days(model));
  for (const auto& [name, metric] : kTermStructure) {
    std::vector<double> value(days), lower(days), upper(days);
    for (std::size_t i = 0; i < days; ++i) {
      const Estimate e = metric_estimate(t, metric, i);
      value[i] = e.value;
      lower[i] = e.interval.lower;
      upper[i] = e.interval.upper;
    }
    table.columns.emplace_back(name, std::move(value));
    table.columns.emplace_back(std::string(name) + "_lower", std::move(lower));
    table.columns.emplace_back(std::string(name) + "_upper", std::move(upper));
  }
  return table;
}

Table chain_table(const Model& model, const Aggregate& agg) {
  const ChunkSums& t = agg.totals();
  const double n = std::max<double>(1.0, static_cast<double>(t.count));
  std::vector<std::string> id, family;
  for (const auto& k : model.chains) {
    id.push_back(k.id);
    family.emplace_back(config::enum_name(k.finality.family));
  }
  const auto numbers = [&](auto value) {
    std::vector<double> v(model.chains.size());
    for (std::size_t k = 0; k < v.size(); ++k) v[k] = value(k);
    return v;
  };
  const auto mean = [&](ChainMetric m) {
    return numbers([&](std::size_t k) {
      return t.chain_settle.empty() ? 0.0 : t.chain_settle[k * kChainMetrics + static_cast<std::size_t>(m)] / n;
    });
  };
  Table table;
  table.columns = {{"chain", id},
                   {"distribution", family},
                   {"calm_mean_hours", numbers([&](std::size_t k) { return model.chains[k].finality.mean_hours; })},
                   {"challenge_hours", numbers([&](std::size_t k) { return model.chains[k].challenge_hours; })},
                   {"mean_finality_hours", mean(ChainMetric::kHours)},
                   {"p_congested", mean(ChainMetric::kCongested)},
                   {"p_halted", mean(ChainMetric::kHalted)},
                   {"mean_fails", mean(ChainMetric::kFails)},
                   {"mean_loss", mean(ChainMetric::kLoss)},
                   {"mean_late_inflows", mean(ChainMetric::kLateInflows)}};
  return table;
}

Table bridge_table(const Model& model, const Aggregate& agg) {
  const ChunkSums& t = agg.totals();
  const double n = std::max<double>(1.0, static_cast<double>(t.count));
  std::vector<std::string> id;
  std::vector<double> p, realised, loss;
  for (std::size_t b = 0; b < model.bridges.size(); ++b) {
    id.push_back(model.bridges[b].id);
    p.push_back(model.bridges[b].exploit_probability);
    const auto at = [&](BridgeMetric m) {
      return t.bridge_settle.empty() ? 0.0 : t.bridge_settle[b * kBridgeMetrics + static_cast<std::size_t>(m)] / n;
    };
    realised.push_back(at(BridgeMetric::kExploited));
    loss.push_back(at(BridgeMetric::kLoss));
  }
  Table table;
  table.columns = {{"bridge", id}, {"exploit_probability", p}, {"p_exploited", realised}, {"mean_loss", loss}};
  return table;
}

namespace {
// Time steps: per member account (members.csv's rows), its member's mean
// default day given a default (NaN when it never defaults).
std::vector<double> mean_default_days(const Model& model, const ChunkSums& t) {
  std::vector<double> out;
  for (std::size_t m = 0; m < model.members.size(); ++m) {
    std::int64_t defaults = 0;
    for (std::size_t k = 0; k < kDefaultCauseCount; ++k)
      defaults += t.member_defaults_by_cause[m * kDefaultCauseCount + k];
    const double mean = defaults > 0 ? t.member_default_day[m] / static_cast<double>(defaults)
                                     : std::numeric_limits<double>::quiet_NaN();
    out.insert(out.end(), model.members[m].accounts.size(), mean);
  }
  return out;
}
}  // namespace

Table member_table(const Model& model, const Aggregate& agg) {
  const ChunkSums& t = agg.totals();
  const double n = std::max<double>(1.0, static_cast<double>(t.count));
  // The interbank cause and loss channel only when the model has a network.
  std::vector<DefaultCause> causes = {DefaultCause::kExogenous, DefaultCause::kLatent, DefaultCause::kSolvency,
                                      DefaultCause::kLiquidity, DefaultCause::kGroup};
  if (model.interbank) causes.push_back(DefaultCause::kInterbank);
  std::vector<std::string> member, group, ccp;
  std::vector<double> im, df, notional, capital, liquidity, p_all;
  std::vector<std::vector<double>> p_cause(std::size(causes));
  for (std::size_t m = 0; m < model.members.size(); ++m) {
    const MemberModel& mem = model.members[m];
    double all = 0.0;
    std::vector<double> p;
    for (const DefaultCause cause : causes) {
      p.push_back(
          static_cast<double>(t.member_defaults_by_cause[m * kDefaultCauseCount + static_cast<std::size_t>(cause)]) /
          n);
      all += p.back();
    }
    for (int a : mem.accounts) {
      const Account& acc = model.accounts[static_cast<std::size_t>(a)];
      member.push_back(mem.id);
      group.push_back(model.group_ids[static_cast<std::size_t>(mem.group)]);
      ccp.push_back(model.ccps[static_cast<std::size_t>(acc.ccp)].id);
      im.push_back(acc.initial_margin);
      df.push_back(acc.default_fund);
      notional.push_back(acc.notional);
      capital.push_back(mem.capital);
      liquidity.push_back(mem.liquidity);
      p_all.push_back(all);
      for (std::size_t k = 0; k < p.size(); ++k) p_cause[k].push_back(p[k]);
    }
  }
  Table table;
  table.columns = {{"member", member},     {"group", group},         {"ccp", ccp},
                   {"initial_margin", im}, {"default_fund", df},     {"notional", notional},
                   {"capital", capital},   {"liquidity", liquidity}, {"p_default", p_all}};
  for (std::size_t k = 0; k < std::size(causes); ++k)
    table.columns.emplace_back("p_default_" + std::string(cause_name(causes[k])), std::move(p_cause[k]));
  // Expected losses of the membership by channel: as a survivor or creditor
  // (expected_loss sums these), and its own collateral used when it defaulted.
  std::vector<double> expected(member.size(), 0.0);
  std::vector<std::pair<std::string, std::vector<double>>> channels;
  for (int k = 0; k < kLossChannelCount; ++k) {
    const auto channel = static_cast<LossChannel>(k);
    if (recovery_channel(k) && !model.default_management) continue;
    if (channel == LossChannel::kInterbank && !model.interbank) continue;
    if (channel == LossChannel::kClientMargin) continue;  // a client's, in clients.csv
    std::vector<double> v;
    for (const auto& mem : model.members)
      for (int a : mem.accounts) v.push_back(agg.account_loss(static_cast<std::size_t>(a), channel) / n);
    if (channel != LossChannel::kOwnIm && channel != LossChannel::kOwnDf)
      for (std::size_t i = 0; i < v.size(); ++i) expected[i] += v[i];
    channels.emplace_back("loss_" + std::string(channel_name(channel)), std::move(v));
  }
  table.columns.emplace_back("expected_loss", std::move(expected));
  if (model.steps.count > 0) table.columns.emplace_back("mean_default_day", mean_default_days(model, t));
  // The member's (not the membership's) p99 loss per scenario over all its CCPs, from a sketch within 1%.
  if (model.member_quantiles) {
    const std::vector<double> p99 = agg.member_loss_quantiles(0.99);
    std::vector<double> member_p99;
    for (std::size_t m = 0; m < model.members.size(); ++m)
      for (std::size_t k = 0; k < model.members[m].accounts.size(); ++k) member_p99.push_back(p99[m]);
    table.columns.emplace_back("member_loss_p99", std::move(member_p99));
  }
  for (auto& c : channels) table.columns.emplace_back(std::move(c));
  return table;
}

// Per client account (members[].clients): its clearing member, its margin and
// its expected loss by channel (the margin used when its member's default
// closed it out, then as a survivor or a creditor of a failed CCP).
Table client_table(const Model& model, const Aggregate& agg) {
  const ChunkSums& t = agg.totals();
  const double n = std::max<double>(1.0, static_cast<double>(t.count));
  std::vector<std::string> client, member, ccp, segregation, backups;
  std::vector<double> im, notional;
  std::vector<int> accounts;
  for (const ClientModel& c : model.clients)
    for (int a : c.accounts) {
      const Account& acc = model.accounts[static_cast<std::size_t>(a)];
      client.push_back(c.id);
      member.push_back(model.members[static_cast<std::size_t>(c.member)].id);
      ccp.push_back(model.ccps[static_cast<std::size_t>(acc.ccp)].id);
      segregation.emplace_back(c.segregation == Segregation::kIndividual ? "individual" : "omnibus");
      std::string b;
      for (int m : c.backups) b += (b.empty() ? "" : " ") + model.members[static_cast<std::size_t>(m)].id;
      backups.push_back(b);
      im.push_back(acc.initial_margin);
      notional.push_back(acc.notional);
      accounts.push_back(a);
    }
  Table table;
  table.columns = {{"client", client},  {"member", member},     {"ccp", ccp},          {"segregation", segregation},
                   {"backup", backups}, {"initial_margin", im}, {"notional", notional}};
  std::vector<double> expected(client.size(), 0.0);
  std::vector<std::pair<std::string, std::vector<double>>> channels;
  for (const LossChannel channel : {LossChannel::kClientMargin, LossChannel::kVmgh, LossChannel::kTearUp,
                                    LossChannel::kUnpaidVm, LossChannel::kMarginLost}) {
    if (channel == LossChannel::kTearUp && !model.default_management) continue;
    std::vector<double> v;
    for (int a : accounts) v.push_back(agg.account_loss(static_cast<std::size_t>(a), channel) / n);
    for (std::size_t i = 0; i < v.size(); ++i) expected[i] += v[i];
    channels.emplace_back("loss_" + std::string(channel_name(channel)), std::move(v));
  }
  table.columns.emplace_back("expected_loss", std::move(expected));
  for (auto& c : channels) table.columns.emplace_back(std::move(c));
  return table;
}

void OutputWriter::finish(const RunResult& result) {
  try {
    write_rest(result);
    directory_->commit();
  } catch (const InputError& e) {
    throw InputError(directory_->failure(e.what()));
  }
}

void OutputWriter::write_rest(const RunResult& result) {
  using json = nlohmann::ordered_json;
  close_streams();
  const Aggregate& agg = result.aggregate;
  const ChunkSums& t = agg.totals();

  write_file(staging_ / "summary.json", summary_json(model_, result).dump(2) + "\n");

  write_file(staging_ / "ccps.csv", ccp_table(model_, agg).to_csv());
  write_file(staging_ / "members.csv", member_table(model_, agg).to_csv());
  if (!model_.clients.empty()) add_file("clients.csv", client_table(model_, agg).to_csv());
  if (model_.settlement_active) {
    add_file("chains.csv", chain_table(model_, agg).to_csv());
    add_file("bridges.csv", bridge_table(model_, agg).to_csv());
  }
  write_file(staging_ / "scenario.resolved.yaml", info_.resolved_yaml);

  // manifest.json: who made this, from what, and the hash of every file.
  json manifest = manifest_head(info_);
  manifest["seed"] = model_.seed;
  manifest["scenarios"] = t.count;
  manifest["partial"] = result.interrupted;
  json outputs = json::object();
  for (const char* name : {"summary.json", "scenarios.csv", "ccps.csv", "members.csv", "scenario.resolved.yaml"})
    outputs[name] = sha256_file(staging_ / name);
  if (model_.default_rows) outputs["defaults.csv"] = sha256_file(staging_ / "defaults.csv");
  for (const auto& name : extra_files_) outputs[name] = sha256_file(staging_ / name);
  manifest["outputs"] = outputs;
  manifest["unhashed_outputs"] = json::array({"run.json"});
  write_file(staging_ / "manifest.json", manifest.dump(2) + "\n");

  // run.json: how this run went (threads, timing). It varies from run to run,
  // so it is not part of the manifest's reproducible outputs.
  json run;
  run["threads"] = result.threads;
  run["batch"] = result.batch;
  run["seconds"] = result.seconds;
  run["scenarios_per_second"] = result.seconds > 0 ? static_cast<double>(result.completed) / result.seconds : 0.0;
  write_file(staging_ / "run.json", run.dump(2) + "\n");
}

}  // namespace ccpnet
