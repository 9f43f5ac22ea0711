#include "sim/cli/cli.hpp"

#include <fmt/format.h>
#include <oneapi/tbb/global_control.h>
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
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sim/calibrate.hpp"
#include "sim/compare.hpp"
#include "sim/config/load.hpp"
#include "sim/contributions.hpp"
#include "sim/distributed.hpp"
#include "sim/errors.hpp"
#include "sim/graph.hpp"
#include "sim/model.hpp"
#include "sim/output.hpp"
#include "sim/output_dir.hpp"
#include "sim/report.hpp"
#include "sim/reverse.hpp"
#include "sim/runner.hpp"
#include "sim/session.hpp"
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
constexpr const char* kContributionsDirectory = "ccpnet-contributions";
constexpr const char* kReverseDirectory = "ccpnet-reverse";
constexpr const char* kSweepDirectory = "ccpnet-sweep";

// `--layer NAME`: a waterfall layer by its name in the scenario files.
models::Layer layer_option(const std::string& name) {
  std::vector<std::string> names;
  for (std::size_t l = 0; l < models::kLayerCount; ++l) {
    const auto layer = static_cast<models::Layer>(l);
    if (models::layer_name(layer) == name) return layer;
    names.emplace_back(models::layer_name(layer));
  }
  throw InputError(fmt::format("--layer {}: no such layer (expected one of: {})", name, fmt::join(names, ", ")));
}

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

namespace {

// Every value the command line takes, filled by CLI11.
struct Args {
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
  bool report = false;
  std::vector<std::string> grid;
  bool sweep_variants = false, sweep_resume = false;
  std::string reverse_ccp, reverse_direction, reverse_layer;
  double reverse_max = 20.0;
  bool reverse_search = false;
  ReverseSearchOptions search_options;
  std::string disclosures, calibrated_file, update_file;
  std::vector<std::string> contribution_members;
  std::vector<int> contribution_links;
  bool contribution_no_links = false;
  int contribution_top = 10;
  std::string contribution_metric = "total_loss";
};

struct Commands {
  CLI::App *validate, *graph, *run, *stress, *compare, *contributions, *sweep, *reverse, *calibrate, *schema;
};

// A whole number from 0 to 2^64 - 1 (--seed).
CLI::Validator uint64_text() {
  return CLI::Validator(
      [](const std::string& text) {
        std::uint64_t value = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        return ec == std::errc{} && end == text.data() + text.size() && !text.empty()
                   ? std::string()
                   : std::string("expected a whole number from 0 to 18446744073709551615 (2^64 - 1)");
      },
      "UINT64");
}

CLI::Validator finite_number() {
  return CLI::Validator(
      [](const std::string& text) {
        double x = 0.0;
        return CLI::detail::lexical_cast(text, x) && std::isfinite(x) ? std::string()
                                                                      : std::string("expected a finite number");
      },
      "FINITE");
}

Commands add_commands(CLI::App& app, Args& a) {
  const auto add_json = [&](CLI::App* cmd, const std::string& what) {
    cmd->add_flag("--json", a.as_json, "print " + what + " as JSON on stdout instead of the table");
  };
  const auto add_file = [&](CLI::App* cmd) {
    cmd->add_option("FILE", a.file, "scenario file (YAML)")->required();
    cmd->add_option("--set", a.sets, "override a key: --set simulation.scenarios=5000 (repeatable)");
    cmd->add_flag("--allow-outside-data", a.outside_data,
                  "read data files (market.history.file, trades_file) outside the scenario file's directory too");
  };
  const auto add_report = [&](CLI::App* cmd, const char* directory) {
    cmd->add_flag("--report", a.report, std::string("also write report.html (into --out, default ") + directory + ")");
  };
  Commands c{};
  c.validate = app.add_subcommand("validate", "check a scenario file; exit 0, or 2 with every error");
  add_file(c.validate);
  c.graph = app.add_subcommand("graph", "print the system graph in Graphviz DOT");
  add_file(c.graph);

  c.run = app.add_subcommand("run", "Monte Carlo run: prints a summary, writes the output directory");
  add_file(c.run);
  c.run->add_option("-n,--scenarios", a.scenarios, "number of scenarios (overrides simulation.scenarios)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1'000'000'000'000}));
  c.run->add_option("--seed", a.seed, "master seed, 0 to 18446744073709551615 (overrides seed)")->check(uint64_text());
  c.run->add_option("--threads", a.threads, "worker threads, 0 = all cores (overrides simulation.threads)")
      ->check(CLI::Range(0, 1024));
  c.run->add_option("--batch", a.batch, "scenarios per batch (overrides simulation.batch)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{65536}));
  c.run->add_option("--out", a.out_dir, std::string("output directory (default: ") + kRunDirectory + ")");
  c.run->add_flag("--quiet", a.quiet, "no progress bar");
  c.run->add_flag("--report", a.report, "also write report.html (self-contained: tables and figures)");
  add_json(c.run, "summary.json");

  c.stress = app.add_subcommand("stress", "the file's deterministic stress scenarios, layer by layer");
  add_file(c.stress);
  c.stress->add_option("--out", a.out_dir, "also write stress.json and stress_layers.csv to this directory");
  add_json(c.stress, "stress.json");
  add_report(c.stress, kStressDirectory);

  c.compare = app.add_subcommand("compare", "run the file's variants on common random numbers, paired differences");
  add_file(c.compare);
  c.compare->add_option("-n,--scenarios", a.scenarios, "scenarios per variant")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1'000'000'000}));
  c.compare->add_option("--threads", a.threads, "worker threads, 0 = all cores")->check(CLI::Range(0, 1024));
  c.compare->add_option("--out", a.out_dir, "also write compare.json and compare.csv to this directory");
  add_json(c.compare, "compare.json");
  c.compare->add_flag("--quiet", a.quiet, "no progress bar");
  add_report(c.compare, kCompareDirectory);

  c.contributions = app.add_subcommand(
      "contributions",
      "each member's and link's contribution to a system metric: leave-one-out on common random numbers");
  add_file(c.contributions);
  c.contributions->add_option("--member", a.contribution_members,
                              "a member whose interbank exposures are left out (repeatable; default: the --top "
                              "largest by capital when the file has an interbank network)");
  c.contributions->add_option("--top", a.contribution_top, "how many members by default")->check(CLI::Range(0, 10000));
  c.contributions->add_option("--link", a.contribution_links,
                              "a link (its position in links) left out (repeatable; "
                              "default: every link)");
  c.contributions->add_flag("--no-links", a.contribution_no_links, "leave out no link");
  c.contributions->add_option("--metric", a.contribution_metric, "the compared metric (default total_loss)");
  c.contributions->add_option("-n,--scenarios", a.scenarios, "scenarios per variant")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1'000'000'000}));
  c.contributions->add_option("--threads", a.threads, "worker threads, 0 = all cores")->check(CLI::Range(0, 1024));
  c.contributions->add_option("--out", a.out_dir,
                              "also write contributions.csv and contributions.json to this directory");
  add_json(c.contributions, "contributions.json");
  c.contributions->add_flag("--quiet", a.quiet, "no progress bar");
  add_report(c.contributions, kContributionsDirectory);

  c.sweep = app.add_subcommand(
      "sweep", "run a grid of key values on common random numbers: every estimate with its interval, as a tidy CSV");
  add_file(c.sweep);
  c.sweep
      ->add_option("--grid", a.grid,
                   "an axis of the grid: --grid market.assets.BTC.volatility=0.4,0.6,0.8 (repeatable)")
      ->required();
  c.sweep->add_flag("--variants", a.sweep_variants, "also run the file's variants at every point");
  c.sweep->add_flag("--resume", a.sweep_resume,
                    "go on with the sweep interrupted (Ctrl-C) into --out: its finished points are kept");
  c.sweep->add_option("-n,--scenarios", a.scenarios, "scenarios per point")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1'000'000'000}));
  c.sweep->add_option("--threads", a.threads, "worker threads, 0 = all cores")->check(CLI::Range(0, 1024));
  c.sweep->add_option("--out", a.out_dir, std::string("write sweep.csv here (default: ") + kSweepDirectory + ")");
  add_json(c.sweep, "sweep.json (every point's summary)");
  c.sweep->add_flag("--quiet", a.quiet, "no progress bar");

  c.reverse = app.add_subcommand("reverse", "reverse stress test: the smallest shock multiple that fails a CCP");
  add_file(c.reverse);
  c.reverse->add_option("--ccp", a.reverse_ccp, "the CCP (id)")->required();
  add_json(c.reverse, "the thresholds");
  c.reverse->add_option("--direction", a.reverse_direction,
                        "stress scenario giving the direction (default: the first)");
  c.reverse->add_option("--max-multiple", a.reverse_max, "largest multiple searched")
      ->check(finite_number())
      ->check(CLI::Range(1e-6, 1e6));
  c.reverse->add_flag("--search", a.reverse_search,
                      "multi-dimensional: the most plausible move (in standard deviations, over many directions) "
                      "that fails the CCP");
  c.reverse->add_option("--layer", a.reverse_layer, "with --search: the move that exhausts this layer instead");
  c.reverse->add_option("--max-sigma", a.search_options.max_radius, "with --search: standard deviations searched")
      ->check(CLI::Range(1e-3, 1e3));
  c.reverse->add_option("--refine", a.search_options.refine, "with --search: pattern-search iterations (0: none)")
      ->check(CLI::Range(0, 1000));
  add_report(c.reverse, kReverseDirectory);
  c.reverse->add_option("--out", a.out_dir, "write reverse.json (and report.html) into this directory");

  c.calibrate =
      app.add_subcommand("calibrate", "a scenario skeleton from public quantitative disclosures (CCP12 layout, CSV)");
  c.calibrate->add_option("DISCLOSURES", a.disclosures, "disclosure file (CSV, one row per figure)")->required();
  c.calibrate->add_option("-o,--output", a.calibrated_file, "write the scenario to this file instead of printing it");

  c.schema = app.add_subcommand("schema", "print the reference of every scenario key (Markdown)");
  c.schema->add_option("--update", a.update_file, "rewrite the generated key reference inside this Markdown file");
  return c;
}

// The files a command writes into its output directory, with the input's manifest.
void write_outputs(const Args& a, const config::LoadedScenario& loaded, const std::string& resolved,
                   const std::vector<std::pair<std::string, std::string>>& files) {
  write_directory(OutputInfo{a.file, loaded.text, resolved, a.out_dir, loaded.data.inputs}, files);
  if (!a.as_json) std::cout << fmt::format("outputs: {}\n", as_directory(a.out_dir));
}

int sweep_command(Args a, const std::vector<config::Override>& overrides, config::DataAccess access) {
  std::vector<SweepAxis> axes;
  for (const auto& g : a.grid) axes.push_back(parse_sweep_axis(g));
  if (a.out_dir.empty()) a.out_dir = kSweepDirectory;
  check_output_directory(a.out_dir);  // before the work, not after
  RunOptions options;
  options.progress = !a.quiet;
  options.threads = a.threads;
  options.stop = &g_stop;
  const config::LoadedScenario base = config::load_scenario_file(a.file, overrides, access);
  const std::string resolved = config::to_yaml(base.scenario);
  std::optional<Sweep> previous;
  if (a.sweep_resume) previous = read_sweep_state(read_sweep_state_file(a.out_dir), resolved, axes, a.sweep_variants);
  const Interruptible guard(g_stop);
  const Sweep s = run_sweep(base, overrides, axes, a.sweep_variants, options, previous ? &*previous : nullptr);
  print_warnings(s.warnings);
  write_directory(OutputInfo{a.file, base.text, resolved, a.out_dir, base.data.inputs}, sweep_files(s, resolved));
  if (s.partial()) {
    std::cerr << fmt::format(
        "ccpnet: sweep interrupted after {} of {} grid points: {} holds them; the same command with --resume goes "
        "on from there\n",
        s.done, s.grid_points, as_directory(a.out_dir));
    return SignalWatcher::exit_code();
  }
  if (a.as_json) {
    std::cout << sweep_json(s).dump(2) << '\n';
  } else {
    std::cout << format_sweep(s);
    std::cout << fmt::format("outputs: {}sweep.csv\n", as_directory(a.out_dir));
  }
  return kExitOk;
}

int compare_command(Args a, const std::vector<config::Override>& overrides, config::DataAccess access) {
  if (a.report && a.out_dir.empty()) a.out_dir = kCompareDirectory;
  if (!a.out_dir.empty()) check_output_directory(a.out_dir);  // before the work, not after
  RunOptions options;
  options.progress = !a.quiet;
  options.threads = a.threads;
  const config::LoadedScenario base = config::load_scenario_file(a.file, overrides, access);
  const Comparison c = run_compare(base, overrides, options);
  print_warnings(c.warnings);
  std::cout << (a.as_json ? comparison_json(c).dump(2) + "\n" : format_comparison(c));
  if (a.out_dir.empty()) return kExitOk;
  std::vector<std::pair<std::string, std::string>> files{{"compare.json", comparison_json(c).dump(2) + "\n"},
                                                         {"compare.csv", comparison_table(c).to_csv()}};
  if (a.report) files.emplace_back("report.html", compare_report(c));
  write_outputs(a, base, config::to_yaml(base.scenario), files);
  return kExitOk;
}

int contributions_command(Args a, const std::vector<config::Override>& overrides, config::DataAccess access) {
  if (a.report && a.out_dir.empty()) a.out_dir = kContributionsDirectory;
  if (!a.out_dir.empty()) check_output_directory(a.out_dir);
  RunOptions options;
  options.progress = !a.quiet;
  options.threads = a.threads;
  ContributionRequest request;
  if (!a.contribution_members.empty()) request.members = a.contribution_members;
  if (a.contribution_no_links)
    request.links = std::vector<int>{};
  else if (!a.contribution_links.empty())
    request.links = a.contribution_links;
  request.top = a.contribution_top;
  request.metric = a.contribution_metric;
  const config::LoadedScenario base = config::load_scenario_file(a.file, overrides, access);
  const Contributions c = run_contributions(base, overrides, request, options);
  print_warnings(c.warnings);
  std::cout << (a.as_json ? contributions_json(c).dump(2) + "\n" : format_contributions(c));
  if (a.out_dir.empty()) return kExitOk;
  std::vector<std::pair<std::string, std::string>> files{{"contributions.json", contributions_json(c).dump(2) + "\n"},
                                                         {"contributions.csv", contributions_table(c).to_csv()}};
  if (a.report) files.emplace_back("report.html", contributions_report(c));
  write_outputs(a, base, config::to_yaml(base.scenario), files);
  return kExitOk;
}

int reverse_command(Args a, const Session& session) {
  const Model& model = session.model();
  int c = -1;
  for (std::size_t i = 0; i < model.ccps.size(); ++i)
    if (model.ccps[i].id == a.reverse_ccp) c = static_cast<int>(i);
  if (c < 0) throw InputError(fmt::format("--ccp {}: no such CCP in {}", a.reverse_ccp, a.file));
  if (a.report && a.out_dir.empty()) a.out_dir = kReverseDirectory;
  if (!a.out_dir.empty()) check_output_directory(a.out_dir);
  nlohmann::ordered_json document;
  std::string text, page;
  const std::string& resolved = session.resolved_yaml();
  if (a.reverse_search) {
    if (!a.reverse_layer.empty()) a.search_options.layer = layer_option(a.reverse_layer);
    const ReverseSearchResult r = reverse_search(model, c, a.search_options);
    document = reverse_search_json(model, r);
    text = format_reverse_search(model, r);
    if (a.report) page = reverse_search_report(model, r, a.file, resolved);
  } else {
    if (!a.reverse_layer.empty()) throw InputError("--layer: only with --search");
    const ReverseResult r = reverse_stress(model, c, a.reverse_direction, a.reverse_max);
    document = reverse_json(model, r);
    text = format_reverse(model, r);
    if (a.report) page = reverse_report(model, r, a.file, resolved);
  }
  std::cout << (a.as_json ? document.dump(2) + "\n" : text);
  if (a.out_dir.empty()) return kExitOk;
  std::vector<std::pair<std::string, std::string>> files{{"reverse.json", document.dump(2) + "\n"},
                                                         {"scenario.resolved.yaml", resolved}};
  if (a.report) files.emplace_back("report.html", page);
  write_outputs(a, session.loaded(), resolved, files);
  return kExitOk;
}

int stress_command(Args a, const Session& session) {
  const Model& model = session.model();
  if (a.report && a.out_dir.empty()) a.out_dir = kStressDirectory;
  if (!a.out_dir.empty()) check_output_directory(a.out_dir);
  const auto outcomes = run_stress(model);
  std::cout << (a.as_json ? stress_json(model, outcomes).dump(2) + "\n" : format_stress(model, outcomes));
  if (a.out_dir.empty()) return kExitOk;
  const std::string& resolved = session.resolved_yaml();
  std::vector<std::pair<std::string, std::string>> files{{"stress.json", stress_json(model, outcomes).dump(2) + "\n"},
                                                         {"stress_layers.csv", stress_layers_csv(model, outcomes)},
                                                         {"scenario.resolved.yaml", resolved}};
  if (a.report) files.emplace_back("report.html", stress_report(model, outcomes, a.file, resolved));
  write_outputs(a, session.loaded(), resolved, files);
  return kExitOk;
}

int run_command(const Args& a, const Session& session, const Distributed& mpi) {
  const std::string directory = a.out_dir.empty() ? kRunDirectory : a.out_dir;
  RunRequest request;
  request.threads = a.threads;
  request.batch = a.batch;
  request.progress = !a.quiet;
  request.stop = &g_stop;
  const Interruptible guard(g_stop);
  const RunResult result = session.run(request, {directory, a.report}, mpi);
  if (!mpi.root()) return result.interrupted ? SignalWatcher::exit_code() : kExitOk;
  if (a.as_json) {
    std::cout << summary_json(session.model(), result).dump(2) << '\n';
  } else {
    std::cout << format_summary(session.model(), result);
    if (mpi.size() > 1) std::cout << fmt::format("({} MPI ranks)\n", mpi.size());
    std::cout << fmt::format("outputs: {}\n", as_directory(directory));
  }
  return result.interrupted || SignalWatcher::received() ? SignalWatcher::exit_code() : kExitOk;
}

int validate_command(const Args& a, const Session& session, const std::vector<config::Override>& overrides) {
  const Model& model = session.model();
  check_variant_models(session.loaded(), overrides);
  const SystemGraph g(model);
  std::cout << fmt::format("{}: ok: {} assets, {} CCPs, {} members, {} memberships, {} links\n", a.file,
                           model.assets.size(), model.ccps.size(), model.members.size(), g.membership_count(),
                           model.links.size());
  return kExitOk;
}

// The commands that read no scenario.
int schema_command(const Args& a) {
  if (a.update_file.empty()) {
    std::cout << config::schema_markdown();
  } else {
    update_schema_reference(a.update_file);
  }
  return kExitOk;
}

int calibrate_command(const Args& a) {
  const std::string yaml = calibrated_scenario(read_disclosures(a.disclosures), a.disclosures);
  if (a.calibrated_file.empty()) {
    std::cout << yaml;
  } else {
    write_output_file(a.calibrated_file, yaml);
  }
  return kExitOk;
}

int dispatch(const Args& a, const Commands& c, const Distributed& mpi) {
  // --threads N bounds the whole command, the model's start-up (its default
  // funds are sized in parallel) as well as the scenarios.
  std::optional<tbb::global_control> threads;
  if (a.threads > 0) threads.emplace(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(a.threads));
  if (c.schema->parsed()) return schema_command(a);
  if (c.calibrate->parsed()) return calibrate_command(a);
  std::vector<config::Override> overrides = parse_overrides(a.sets);
  const config::DataAccess access =
      a.outside_data ? config::DataAccess::kAnywhere : config::DataAccess::kBesideScenario;
  if (c.run->parsed() || c.compare->parsed() || c.contributions->parsed() || c.sweep->parsed()) {
    if (a.scenarios > 0) overrides.push_back({"simulation.scenarios", std::to_string(a.scenarios)});
    if (c.run->count("--seed")) overrides.push_back({"seed", a.seed});
  }
  if (c.sweep->parsed()) return sweep_command(a, overrides, access);
  if (c.compare->parsed()) return compare_command(a, overrides, access);
  if (c.contributions->parsed()) return contributions_command(a, overrides, access);
  config::LoadedScenario scenario = config::load_scenario_file(a.file, overrides, access);
  print_warnings(scenario.warnings);
  const Session session(std::move(scenario));
  if (c.validate->parsed()) return validate_command(a, session, overrides);
  if (c.graph->parsed()) {
    std::cout << SystemGraph(session.model()).to_dot(session.model());
    return kExitOk;
  }
  if (c.reverse->parsed()) return reverse_command(a, session);
  if (c.stress->parsed()) return stress_command(a, session);
  if (c.run->parsed()) return run_command(a, session, mpi);
  return kExitInternal;
}

}  // namespace

int main(int argc, char** argv) {
  const Distributed mpi(&argc, &argv);
  const SignalWatcher signals;
  CLI::App app{"ccpnet: contagion across interoperable central counterparties"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("ccpnet ") + CCPNET_VERSION);
  Args args;
  const Commands commands = add_commands(app, args);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitInvalidInput;
  }

  try {
    return dispatch(args, commands, mpi);
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
