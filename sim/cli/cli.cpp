#include "sim/cli/cli.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <charconv>
#include <cmath>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "sim/calibrate.hpp"
#include "sim/compare.hpp"
#include "sim/config/load.hpp"
#include "sim/distributed.hpp"
#include "sim/errors.hpp"
#include "sim/graph.hpp"
#include "sim/model.hpp"
#include "sim/output.hpp"
#include "sim/output_dir.hpp"
#include "sim/report.hpp"
#include "sim/reverse.hpp"
#include "sim/runner.hpp"
#include "sim/signals.hpp"
#include "sim/stress.hpp"
#include "sim/sweep.hpp"

namespace ccpnet::cli {

namespace {

// Ctrl-C (or SIGTERM, SIGHUP) during a run: stop after the current window and
// write a valid, partial output (summary.json says "partial": true). A second
// signal abandons the output (sim/signals.hpp).
std::atomic<bool> g_stop{false};

// Default output directories, one per command, so that one command's output
// does not replace another's.
constexpr const char* kRunDirectory = "ccpnet-run";
constexpr const char* kStressDirectory = "ccpnet-stress";
constexpr const char* kCompareDirectory = "ccpnet-compare";
constexpr const char* kSweepDirectory = "ccpnet-sweep";

// A directory as printed: with one trailing '/'.
std::string as_directory(const std::string& dir) { return dir.ends_with('/') ? dir : dir + "/"; }

// `schema --update FILE`: the file with its generated key reference replaced,
// written next to it and renamed over it (a failure leaves it as it was).
void update_schema_reference(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw InputError(path + ": it is a directory, expected a Markdown file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(io_error(path, "cannot open the file", errno));
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw InputError(io_error(path, "cannot read the file", errno));
  if (text.find(config::kSchemaBegin) == std::string::npos || text.find(config::kSchemaEnd) == std::string::npos ||
      text.find(config::kSchemaEnd) < text.find(config::kSchemaBegin)) {
    throw InputError(fmt::format("{}: no generated key reference to update: expected a line {} and, after it, {}", path,
                                 config::kSchemaBegin, config::kSchemaEnd));
  }
  const std::string updated = config::with_schema_reference(text);
  if (updated == text) return;
  const fs::path temporary = fs::path(path).parent_path() /
                             fmt::format(".{}.ccpnet-update.{}", fs::path(path).filename().string(), ::getpid());
  try {
    write_output_file(temporary, updated);
  } catch (...) {
    fs::remove(temporary, ec);
    throw;
  }
  fs::permissions(temporary, fs::status(path, ec).permissions(), ec);
  fs::rename(temporary, path, ec);
  if (ec) {
    const int err = ec.value();
    fs::remove(temporary, ec);
    throw InputError(io_error(path, "cannot replace the file", err));
  }
}

std::vector<config::Override> parse_overrides(const std::vector<std::string>& sets) {
  std::vector<config::Override> out;
  for (const auto& s : sets) out.push_back(config::Override::parse(s));
  return out;
}

void print_warnings(const std::vector<std::string>& warnings) {
  for (const auto& w : warnings) std::cerr << "warning: " << w << '\n';
}

}  // namespace

int main(int argc, char** argv) {
  const Distributed mpi(&argc, &argv);
  const SignalWatcher signals;
  CLI::App app{"ccpnet: contagion across interoperable central counterparties"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("ccpnet ") + CCPNET_VERSION);

  std::string file;
  std::vector<std::string> sets;
  std::string out_dir;
  std::int64_t scenarios = 0;
  std::string seed;  // decimal, every 64-bit value
  int threads = -1;
  std::int64_t batch = 0;
  bool quiet = false;

  bool outside_data = false;
  bool as_json = false;  // --json: the command's JSON document on stdout instead of its table
  const auto add_json = [&](CLI::App* cmd, const std::string& what) {
    cmd->add_flag("--json", as_json, "print " + what + " as JSON on stdout instead of the table");
  };
  auto add_file = [&](CLI::App* cmd) {
    cmd->add_option("FILE", file, "scenario file (YAML)")->required();
    cmd->add_option("--set", sets, "override a key: --set simulation.scenarios=5000 (repeatable)");
    cmd->add_flag("--allow-outside-data", outside_data,
                  "read data files (market.history.file, trades_file) outside the scenario file's directory too");
  };

  auto* validate = app.add_subcommand("validate", "check a scenario file; exit 0, or 2 with every error");
  add_file(validate);

  auto* graph = app.add_subcommand("graph", "print the system graph in Graphviz DOT");
  add_file(graph);

  auto* run = app.add_subcommand("run", "Monte Carlo run: prints a summary, writes the output directory");
  add_file(run);
  run->add_option("-n,--scenarios", scenarios, "number of scenarios (overrides simulation.scenarios)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1'000'000'000'000}));
  run->add_option("--seed", seed, "master seed, 0 to 18446744073709551615 (overrides seed)")
      ->check(CLI::Validator(
          [](const std::string& text) {
            std::uint64_t value = 0;
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
            return ec == std::errc{} && end == text.data() + text.size() && !text.empty()
                       ? std::string()
                       : std::string("expected a whole number from 0 to 18446744073709551615 (2^64 - 1)");
          },
          "UINT64"));
  run->add_option("--threads", threads, "worker threads, 0 = all cores (overrides simulation.threads)")
      ->check(CLI::Range(0, 1024));
  run->add_option("--batch", batch, "scenarios per batch (overrides simulation.batch)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{65536}));
  run->add_option("--out", out_dir, std::string("output directory (default: ") + kRunDirectory + ")");
  run->add_flag("--quiet", quiet, "no progress bar");
  bool report = false;
  run->add_flag("--report", report, "also write report.html (self-contained: tables and figures)");
  add_json(run, "summary.json");

  auto* stress = app.add_subcommand("stress", "the file's deterministic stress scenarios, layer by layer");
  add_file(stress);
  stress->add_option("--out", out_dir, "also write stress.json and stress_layers.csv to this directory");
  add_json(stress, "stress.json");
  stress->add_flag("--report", report,
                   std::string("also write report.html (into --out, default ") + kStressDirectory + ")");

  auto* compare = app.add_subcommand("compare", "run the file's variants on common random numbers, paired differences");
  add_file(compare);
  compare->add_option("-n,--scenarios", scenarios, "scenarios per variant")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1'000'000'000}));
  compare->add_option("--threads", threads, "worker threads, 0 = all cores")->check(CLI::Range(0, 1024));
  compare->add_option("--out", out_dir, "also write compare.json and compare.csv to this directory");
  add_json(compare, "compare.json");
  compare->add_flag("--quiet", quiet, "no progress bar");
  compare->add_flag("--report", report,
                    std::string("also write report.html (into --out, default ") + kCompareDirectory + ")");

  auto* sweep = app.add_subcommand(
      "sweep", "run a grid of key values on common random numbers: every estimate with its interval, as a tidy CSV");
  add_file(sweep);
  std::vector<std::string> grid;
  bool sweep_variants = false;
  sweep->add_option("--grid", grid, "an axis of the grid: --grid market.assets.BTC.volatility=0.4,0.6,0.8 (repeatable)")
      ->required();
  sweep->add_flag("--variants", sweep_variants, "also run the file's variants at every point");
  sweep->add_option("-n,--scenarios", scenarios, "scenarios per point")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1'000'000'000}));
  sweep->add_option("--threads", threads, "worker threads, 0 = all cores")->check(CLI::Range(0, 1024));
  sweep->add_option("--out", out_dir, std::string("write sweep.csv here (default: ") + kSweepDirectory + ")");
  add_json(sweep, "sweep.json (every point's summary)");
  sweep->add_flag("--quiet", quiet, "no progress bar");

  auto* reverse = app.add_subcommand("reverse", "reverse stress test: the smallest shock multiple that fails a CCP");
  add_file(reverse);
  std::string reverse_ccp, reverse_direction;
  double reverse_max = 20.0;
  reverse->add_option("--ccp", reverse_ccp, "the CCP (id)")->required();
  add_json(reverse, "the thresholds");
  reverse->add_option("--direction", reverse_direction, "stress scenario giving the direction (default: the first)");
  reverse->add_option("--max-multiple", reverse_max, "largest multiple searched")
      ->check(CLI::Validator(
          [](const std::string& text) {
            double x = 0.0;
            return CLI::detail::lexical_cast(text, x) && std::isfinite(x) ? std::string()
                                                                          : std::string("expected a finite number");
          },
          "FINITE"))
      ->check(CLI::Range(1e-6, 1e6));

  auto* calibrate =
      app.add_subcommand("calibrate", "a scenario skeleton from public quantitative disclosures (CCP12 layout, CSV)");
  std::string disclosures, calibrated_file;
  calibrate->add_option("DISCLOSURES", disclosures, "disclosure file (CSV, one row per figure)")->required();
  calibrate->add_option("-o,--output", calibrated_file, "write the scenario to this file instead of printing it");

  auto* schema = app.add_subcommand("schema", "print the reference of every scenario key (Markdown)");
  std::string update_file;
  schema->add_option("--update", update_file, "rewrite the generated key reference inside this Markdown file");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitInvalidInput;
  }

  try {
    if (schema->parsed()) {
      if (update_file.empty()) {
        std::cout << config::schema_markdown();
        return kExitOk;
      }
      update_schema_reference(update_file);
      return kExitOk;
    }
    if (calibrate->parsed()) {
      const std::string yaml = calibrated_scenario(read_disclosures(disclosures), disclosures);
      if (calibrated_file.empty()) {
        std::cout << yaml;
      } else {
        write_output_file(calibrated_file, yaml);
      }
      return kExitOk;
    }
    std::vector<config::Override> overrides = parse_overrides(sets);
    const config::DataAccess access =
        outside_data ? config::DataAccess::kAnywhere : config::DataAccess::kBesideScenario;
    if (run->parsed() || compare->parsed() || sweep->parsed()) {
      if (scenarios > 0) overrides.push_back({"simulation.scenarios", std::to_string(scenarios)});
      if (run->count("--seed")) overrides.push_back({"seed", seed});
    }
    if (sweep->parsed()) {
      std::vector<SweepAxis> axes;
      for (const auto& g : grid) axes.push_back(parse_sweep_axis(g));
      if (out_dir.empty()) out_dir = kSweepDirectory;
      check_output_directory(out_dir);  // before the work, not after
      RunOptions options;
      options.progress = !quiet;
      options.threads = threads;
      options.stop = &g_stop;
      const config::LoadedScenario base = config::load_scenario_file(file, overrides, access);
      const Interruptible guard(g_stop);
      const Sweep s = run_sweep(base, overrides, axes, sweep_variants, options);
      print_warnings(s.warnings);
      if (g_stop.load()) {
        std::cerr << "ccpnet: sweep interrupted: nothing written\n";
        return SignalWatcher::exit_code();
      }
      write_directory(OutputInfo{file, base.text, config::to_yaml(base.scenario), out_dir, base.data.inputs},
                      {{"sweep.csv", sweep_table(s).to_csv()}, {"sweep.json", sweep_json(s).dump(2) + "\n"}});
      if (as_json) {
        std::cout << sweep_json(s).dump(2) << '\n';
      } else {
        std::cout << format_sweep(s);
        std::cout << fmt::format("outputs: {}sweep.csv\n", as_directory(out_dir));
      }
      return kExitOk;
    }
    if (compare->parsed()) {
      if (report && out_dir.empty()) out_dir = kCompareDirectory;
      if (!out_dir.empty()) check_output_directory(out_dir);  // before the work, not after
      RunOptions options;
      options.progress = !quiet;
      options.threads = threads;
      const Comparison c = run_compare(config::load_scenario_file(file, overrides, access), overrides, options);
      print_warnings(c.warnings);
      std::cout << (as_json ? comparison_json(c).dump(2) + "\n" : format_comparison(c));
      if (!out_dir.empty()) {
        const config::LoadedScenario base = config::load_scenario_file(file, overrides, access);
        std::vector<std::pair<std::string, std::string>> files{{"compare.json", comparison_json(c).dump(2) + "\n"},
                                                               {"compare.csv", comparison_table(c).to_csv()}};
        if (report) files.emplace_back("report.html", compare_report(c));
        write_directory(OutputInfo{file, base.text, config::to_yaml(base.scenario), out_dir, base.data.inputs}, files);
        if (!as_json) std::cout << fmt::format("outputs: {}\n", as_directory(out_dir));
      }
      return kExitOk;
    }
    const config::LoadedScenario loaded = config::load_scenario_file(file, overrides, access);
    print_warnings(loaded.warnings);
    const Model model = build_model(loaded);

    if (validate->parsed()) {
      check_variant_models(loaded, overrides);
      const SystemGraph g(model);
      std::cout << fmt::format("{}: ok: {} assets, {} CCPs, {} members, {} memberships, {} links\n", file,
                               model.assets.size(), model.ccps.size(), model.members.size(), g.membership_count(),
                               model.links.size());
      return kExitOk;
    }
    if (graph->parsed()) {
      std::cout << SystemGraph(model).to_dot(model);
      return kExitOk;
    }
    if (reverse->parsed()) {
      int c = -1;
      for (std::size_t i = 0; i < model.ccps.size(); ++i)
        if (model.ccps[i].id == reverse_ccp) c = static_cast<int>(i);
      if (c < 0) throw InputError(fmt::format("--ccp {}: no such CCP in {}", reverse_ccp, file));
      const ReverseResult r = reverse_stress(model, c, reverse_direction, reverse_max);
      std::cout << (as_json ? reverse_json(model, r).dump(2) + "\n" : format_reverse(model, r));
      return kExitOk;
    }
    if (stress->parsed()) {
      if (report && out_dir.empty()) out_dir = kStressDirectory;
      if (!out_dir.empty()) check_output_directory(out_dir);
      const auto outcomes = run_stress(model);
      std::cout << (as_json ? stress_json(model, outcomes).dump(2) + "\n" : format_stress(model, outcomes));
      if (!out_dir.empty()) {
        const std::string resolved = config::to_yaml(loaded.scenario);
        std::vector<std::pair<std::string, std::string>> files{
            {"stress.json", stress_json(model, outcomes).dump(2) + "\n"},
            {"stress_layers.csv", stress_layers_csv(model, outcomes)},
            {"scenario.resolved.yaml", resolved}};
        if (report) files.emplace_back("report.html", stress_report(model, outcomes, file, resolved));
        write_directory(OutputInfo{file, loaded.text, resolved, out_dir, loaded.data.inputs}, files);
        if (!as_json) std::cout << fmt::format("outputs: {}\n", as_directory(out_dir));
      }
      return kExitOk;
    }
    if (run->parsed()) {
      OutputInfo info{file, loaded.text, config::to_yaml(loaded.scenario), out_dir.empty() ? kRunDirectory : out_dir,
                      loaded.data.inputs};
      // The root prepares the output; other ranks (if any) write parts into its staging directory.
      std::unique_ptr<OutputWriter> writer;
      std::string staging, error;
      if (mpi.root()) {
        try {
          writer = std::make_unique<OutputWriter>(model, info);
          staging = writer->staging().string();
        } catch (const InputError& e) {
          error = e.what();
        } catch (const std::filesystem::filesystem_error& e) {
          error = std::string("ccpnet: ") + e.what();
        }
      }
      staging = mpi.broadcast(staging);
      if (staging.empty()) {
        if (mpi.root()) std::cerr << error << '\n';
        return kExitInvalidInput;
      }
      if (!mpi.root()) writer = std::make_unique<OutputWriter>(model, staging, mpi.rank());
      const auto [first, count] = mpi.range(model.scenarios, kChunk);
      RunOptions options;
      options.progress = !quiet && mpi.root();
      options.threads = threads;
      options.batch = batch;
      options.first = first;
      options.count = count;
      options.stop = &g_stop;
      options.on_scenario = [&](const ScenarioResult& r) { writer->scenario(r); };
      const Interruptible guard(g_stop);
      RunResult result = run_monte_carlo(model, options);
      if (!mpi.root()) writer->close_part();
      const auto parts = mpi.gather(result.aggregate.serialize());
      const bool interrupted = mpi.max(result.interrupted ? 1 : 0) > 0;
      if (!mpi.root()) return interrupted ? SignalWatcher::exit_code() : kExitOk;
      if (mpi.size() > 1) {
        // Merge the ranks' aggregates in rank order: the same chunks, folded in
        // the same order, as a single process.
        RunResult merged(model);
        merged.aggregate = Aggregate::deserialize(model, parts[0]);
        for (std::size_t r = 1; r < parts.size(); ++r) merged.aggregate.merge(Aggregate::deserialize(model, parts[r]));
        merged.aggregate.finish();
        merged.first = 0;
        merged.requested = model.scenarios;
        merged.completed = merged.aggregate.scenarios();
        merged.interrupted = interrupted;
        merged.threads = result.threads;
        merged.batch = result.batch;
        merged.seconds = result.seconds;
        result = std::move(merged);
        writer->append_parts(mpi.size());
      }
      if (report) writer->add_file("report.html", run_report(model, result, file, info.resolved_yaml));
      writer->finish(result);
      if (as_json) {
        std::cout << summary_json(model, result).dump(2) << '\n';
      } else {
        std::cout << format_summary(model, result);
        if (mpi.size() > 1) std::cout << fmt::format("({} MPI ranks)\n", mpi.size());
        std::cout << fmt::format("outputs: {}\n", as_directory(info.directory));
      }
      return result.interrupted || SignalWatcher::received() ? SignalWatcher::exit_code() : kExitOk;
    }
  } catch (const config::ScenarioError& e) {
    if (mpi.root()) std::cerr << e.what();
    return kExitInvalidInput;
  } catch (const InputError& e) {
    if (mpi.root()) std::cerr << e.what() << '\n';
    return kExitInvalidInput;
  } catch (const std::filesystem::filesystem_error& e) {
    // The file system said no (permissions, a full disk): the path and the OS's reason.
    std::cerr << "ccpnet: " << e.what() << '\n';
    return kExitInvalidInput;
  } catch (const SimulationError& e) {
    std::cerr << "ccpnet: the simulation failed (a defect of ccpnet, not of the input): " << e.what() << '\n';
    return kExitInternal;
  } catch (const std::exception& e) {
    std::cerr << "ccpnet: internal error: " << e.what() << '\n';
    return kExitInternal;
  }
  return kExitInternal;
}

}  // namespace ccpnet::cli
