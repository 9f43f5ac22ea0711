#include "sim/output.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "sim/model.hpp"

namespace ccpnet {

namespace fs = std::filesystem;

namespace {

void write_file(const fs::path& p, std::string_view text) {
  std::ofstream out(p, std::ios::binary);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) throw std::runtime_error(fmt::format("cannot write {}", p.string()));
}

// Numbers in CSV and JSON: shortest text that reads back to the same double.
std::string num(double x) { return fmt::format("{}", x); }

}  // namespace

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

namespace {
fs::path prepare_staging(const fs::path& target) {
  if (fs::exists(target)) {
    if (!fs::is_directory(target))
      throw InputError(fmt::format("--out {}: exists and is not a directory", target.string()));
    if (!fs::is_empty(target) && !fs::exists(target / "manifest.json"))
      throw InputError(fmt::format(
          "--out {}: the directory is not empty and is not a ccpnet output; refusing to replace it", target.string()));
  }
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  fs::create_directories(parent);
  const fs::path staging = parent / fmt::format(".{}.partial-{}", target.filename().string(), getpid());
  fs::remove_all(staging);
  fs::create_directories(staging);
  return staging;
}

void commit_staging(const fs::path& staging, const fs::path& target) {
  if (fs::exists(target)) fs::remove_all(target);
  fs::rename(staging, target);
}

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
  const fs::path target(info.directory);
  const fs::path staging = prepare_staging(target);
  try {
    auto manifest = manifest_head(info);
    nlohmann::ordered_json outputs = nlohmann::ordered_json::object();
    for (const auto& [name, text] : files) {
      write_file(staging / name, text);
      outputs[name] = sha256_hex(text);
    }
    manifest["outputs"] = outputs;
    write_file(staging / "manifest.json", manifest.dump(2) + "\n");
    commit_staging(staging, target);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(staging, ec);
    throw;
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

OutputWriter::OutputWriter(const Model& model, OutputInfo info) : model_(model), info_(std::move(info)) {
  staging_ = prepare_staging(fs::path(info_.directory));
  scenarios_ = std::fopen((staging_ / "scenarios.csv").c_str(), "wb");
  if (!scenarios_) throw std::runtime_error("cannot create scenarios.csv");
  std::string header =
      "scenario,market_factor,member_defaults,ccp_failures,cascade_rounds,closeout_loss,total_loss,uncovered_loss";
  for (const auto& c : model_.ccps) header += fmt::format(",loss_{0},failed_{0}", c.id);
  header += '\n';
  std::fputs(header.c_str(), scenarios_);
}

OutputWriter::OutputWriter(const Model& model, std::filesystem::path staging, int rank)
    : model_(model), staging_(std::move(staging)), part_(true) {
  done_ = true;  // the root owns (and cleans) the staging directory
  scenarios_ = std::fopen((staging_ / fmt::format("scenarios.part-{}", rank)).c_str(), "wb");
  if (!scenarios_) throw std::runtime_error("cannot create a part of scenarios.csv");
}

void OutputWriter::add_file(const std::string& name, const std::string& text) {
  write_file(staging_ / name, text);
  extra_files_.push_back(name);
}

void OutputWriter::close_part() {
  if (scenarios_) std::fclose(scenarios_);
  scenarios_ = nullptr;
}

void OutputWriter::append_parts(int ranks) {
  std::fflush(scenarios_);
  std::vector<char> buffer(1 << 20);
  for (int r = 1; r < ranks; ++r) {
    const fs::path part = staging_ / fmt::format("scenarios.part-{}", r);
    std::FILE* in = std::fopen(part.c_str(), "rb");
    if (!in) throw std::runtime_error(fmt::format("missing part {} of scenarios.csv", r));
    std::size_t n = 0;
    while ((n = std::fread(buffer.data(), 1, buffer.size(), in)) > 0) std::fwrite(buffer.data(), 1, n, scenarios_);
    std::fclose(in);
    fs::remove(part);
  }
}

OutputWriter::~OutputWriter() {
  if (scenarios_) std::fclose(scenarios_);
  if (!done_) {
    std::error_code ec;
    fs::remove_all(staging_, ec);
  }
}

void OutputWriter::scenario(const ScenarioResult& r) {
  buffer_.clear();
  fmt::format_to(std::back_inserter(buffer_), "{},{},{},{},{},{},{},{}", r.index, num(r.market_factor),
                 r.defaults.size(), r.ccp_failures(), r.rounds, num(r.closeout_loss), num(r.total_loss),
                 num(r.uncovered));
  for (std::size_t c = 0; c < model_.ccps.size(); ++c)
    fmt::format_to(std::back_inserter(buffer_), ",{},{}", num(r.ccp_loss(c)), r.ccp_fail_round[c] >= 0 ? 1 : 0);
  buffer_ += '\n';
  std::fwrite(buffer_.data(), 1, buffer_.size(), scenarios_);
}

nlohmann::ordered_json summary_json(const Model& model, const RunResult& result) {
  using json = nlohmann::ordered_json;
  const Aggregate& agg = result.aggregate;
  const ChunkSums& t = agg.totals();
  const double n = std::max<double>(1.0, static_cast<double>(t.count));
  json j;
  j["ccpnet_version"] = CCPNET_VERSION;
  j["scenario"] = model.name;
  j["seed"] = model.seed;
  j["scenarios"] = t.count;
  j["first_scenario"] = result.first;
  j["requested_scenarios"] = result.requested;
  j["partial"] = result.interrupted;
  json ccps = json::object();
  for (std::size_t c = 0; c < model.ccps.size(); ++c) {
    const CcpModel& ccp = model.ccps[c];
    json e;
    e["p_fail"] = static_cast<double>(t.ccp_fails[c]) / n;
    e["expected_loss"] = t.ccp_loss[c] / n;
    e["expected_uncovered_loss"] = t.ccp_uncovered[c] / n;
    e["p_df_exhausted"] = static_cast<double>(t.ccp_df_exhausted[c]) / n;
    e["df_depletion"] = {{"mean", t.ccp_depletion[c] / n}, {"p99", agg.depletion_quantile(c, 0.99)}};
    json layers = json::object();
    for (const auto layer : ccp.waterfall) {
      const auto l = static_cast<std::size_t>(layer);
      layers[std::string(models::layer_name(layer))] = t.ccp_layers[c * models::kLayerCount + l] / n;
    }
    e["layer_losses"] = layers;
    e["default_fund"] = ccp.default_fund;
    double im = 0.0;
    for (int a : ccp.accounts) im += model.accounts[static_cast<std::size_t>(a)].initial_margin;
    e["initial_margin"] = im;
    ccps[ccp.id] = e;
  }
  j["ccps"] = ccps;
  json sys;
  sys["p_any_ccp_fail"] = static_cast<double>(t.any_ccp_fail) / n;
  sys["p_any_member_default"] = static_cast<double>(t.any_default) / n;
  sys["mean_member_defaults"] = t.member_defaults / n;
  sys["mean_ccp_failures"] = t.ccp_failures / n;
  sys["expected_total_loss"] = t.total_loss / n;
  sys["p99_total_loss"] = agg.total_loss_quantile(0.99);
  sys["p999_total_loss"] = agg.total_loss_quantile(0.999);
  sys["es99_total_loss"] = agg.total_loss_expected_shortfall(0.99);
  sys["mean_cascade_rounds"] = t.rounds / n;
  json at_least = json::object();
  for (std::size_t k : {1, 2, 3, 5, 10}) at_least[std::to_string(k)] = agg.p_at_least_defaults(k);
  sys["p_member_defaults_at_least"] = at_least;
  j["system"] = sys;
  return j;
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
  out += fmt::format("{:<16} {:>14} {:>14} {:>9} {:>15} {:>10} {:>10}\n", "CCP", "initial margin", "default fund",
                     "P(fail)", "E[loss] USD", "DF used", "DF p99");
  for (const auto& ccp : model.ccps) {
    const auto& e = j["ccps"][ccp.id];
    out += fmt::format("{:<16} {:>14.4g} {:>14.4g} {:>9.4f} {:>15.4g} {:>9.2f}% {:>9.2f}%\n", ccp.id,
                       e["initial_margin"].get<double>(), e["default_fund"].get<double>(), e["p_fail"].get<double>(),
                       e["expected_loss"].get<double>(), 100.0 * e["df_depletion"]["mean"].get<double>(),
                       100.0 * e["df_depletion"]["p99"].get<double>());
  }
  out += "\n";
  out += fmt::format("P(any CCP fails)         {:.6f}\n", sys["p_any_ccp_fail"].get<double>());
  out += fmt::format("P(any member defaults)   {:.6f}\n", sys["p_any_member_default"].get<double>());
  out += fmt::format("mean member defaults     {:.4f}\n", sys["mean_member_defaults"].get<double>());
  out += fmt::format("mean cascade rounds      {:.4f}\n", sys["mean_cascade_rounds"].get<double>());
  out += fmt::format("total loss: mean {:.4g}  p99 {:.4g}  p99.9 {:.4g}  ES99 {:.4g} USD\n",
                     sys["expected_total_loss"].get<double>(), sys["p99_total_loss"].get<double>(),
                     sys["p999_total_loss"].get<double>(), sys["es99_total_loss"].get<double>());
  out += "(total loss: borne by others than the defaulters: mutualised layers, CCP capital, haircuts, uncovered)\n";
  return out;
}

std::size_t Table::rows() const {
  if (columns.empty()) return 0;
  return std::visit([](const auto& v) { return v.size(); }, columns.front().second);
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
      {"expected_loss", numbers([&](std::size_t c) { return t.ccp_loss[c] / n; })},
      {"df_depletion_mean", numbers([&](std::size_t c) { return t.ccp_depletion[c] / n; })},
      {"df_depletion_p99", numbers([&](std::size_t c) { return agg.depletion_quantile(c, 0.99); })},
      {"p_df_exhausted", numbers([&](std::size_t c) { return static_cast<double>(t.ccp_df_exhausted[c]) / n; })},
  };
  for (std::size_t l = 0; l < models::kLayerCount; ++l)
    table.columns.emplace_back("loss_" + std::string(models::layer_name(static_cast<models::Layer>(l))),
                               numbers([&](std::size_t c) { return t.ccp_layers[c * models::kLayerCount + l] / n; }));
  return table;
}

Table member_table(const Model& model, const Aggregate& agg) {
  const ChunkSums& t = agg.totals();
  const double n = std::max<double>(1.0, static_cast<double>(t.count));
  constexpr DefaultCause kCauses[] = {DefaultCause::kExogenous, DefaultCause::kLatent, DefaultCause::kSolvency,
                                      DefaultCause::kLiquidity, DefaultCause::kGroup};
  std::vector<std::string> member, group, ccp;
  std::vector<double> im, df, notional, capital, liquidity, p_all;
  std::vector<std::vector<double>> p_cause(std::size(kCauses));
  for (std::size_t m = 0; m < model.members.size(); ++m) {
    const MemberModel& mem = model.members[m];
    double all = 0.0;
    std::vector<double> p;
    for (const DefaultCause cause : kCauses) {
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
  for (std::size_t k = 0; k < std::size(kCauses); ++k)
    table.columns.emplace_back("p_default_" + std::string(cause_name(kCauses[k])), std::move(p_cause[k]));
  return table;
}

void OutputWriter::finish(const RunResult& result) {
  using json = nlohmann::ordered_json;
  std::fclose(scenarios_);
  scenarios_ = nullptr;
  const Aggregate& agg = result.aggregate;
  const ChunkSums& t = agg.totals();

  write_file(staging_ / "summary.json", summary_json(model_, result).dump(2) + "\n");

  write_file(staging_ / "ccps.csv", ccp_table(model_, agg).to_csv());
  write_file(staging_ / "members.csv", member_table(model_, agg).to_csv());
  write_file(staging_ / "scenario.resolved.yaml", info_.resolved_yaml);

  // manifest.json: who made this, from what, and the hash of every file.
  json manifest = manifest_head(info_);
  manifest["seed"] = model_.seed;
  manifest["scenarios"] = t.count;
  manifest["partial"] = result.interrupted;
  json outputs = json::object();
  for (const char* name : {"summary.json", "scenarios.csv", "ccps.csv", "members.csv", "scenario.resolved.yaml"})
    outputs[name] = sha256_file(staging_ / name);
  for (const auto& name : extra_files_) outputs[name] = sha256_file(staging_ / name);
  manifest["outputs"] = outputs;
  write_file(staging_ / "manifest.json", manifest.dump(2) + "\n");

  // run.json: how this run went (threads, timing). It varies from run to run,
  // so it is not part of the manifest's reproducible outputs.
  json run;
  run["threads"] = result.threads;
  run["batch"] = result.batch;
  run["seconds"] = result.seconds;
  run["scenarios_per_second"] = result.seconds > 0 ? static_cast<double>(result.completed) / result.seconds : 0.0;
  write_file(staging_ / "run.json", run.dump(2) + "\n");

  commit_staging(staging_, fs::path(info_.directory));
  done_ = true;
}

}  // namespace ccpnet
