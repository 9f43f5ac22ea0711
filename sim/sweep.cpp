#include "sim/sweep.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <variant>

#include "sim/compare.hpp"
#include "sim/errors.hpp"
#include "sim/generator.hpp"

namespace ccpnet {

namespace {

// The next grid point in row-major order (the last axis fastest).
void next_point(const std::vector<SweepAxis>& axes, std::vector<std::size_t>& at) {
  for (std::size_t a = axes.size(); a-- > 0;) {
    if (++at[a] < axes[a].values.size()) break;
    at[a] = 0;
  }
}

std::string trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return "";
  const auto last = s.find_last_not_of(" \t");
  return std::string(s.substr(first, last - first + 1));
}

config::Topology topology_named(const std::string& name) {
  std::vector<std::string> names;
  for (const auto& [value, text] : config::EnumNames<config::Topology>::values) {
    if (name == text) return value;
    names.emplace_back(text);
  }
  throw InputError(
      fmt::format("--grid topology={}: no topology '{}'; expected one of {}", name, name, fmt::join(names, ", ")));
}

}  // namespace

SweepAxis parse_sweep_axis(std::string_view text) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos || trim(text.substr(0, eq)).empty())
    throw InputError(
        fmt::format("--grid {}: expected KEY.PATH=V1,V2,..., e.g. market.assets.BTC.volatility=0.4,0.6", text));
  SweepAxis axis;
  axis.key = trim(text.substr(0, eq));
  const std::string_view values = text.substr(eq + 1);
  int depth = 0;
  char quote = 0;
  std::string current;
  const auto push = [&] {
    const std::string value = trim(current);
    if (value.empty())
      throw InputError(fmt::format("--grid {}: an empty value (values are separated by single commas)", text));
    axis.values.push_back(value);
    current.clear();
  };
  for (const char c : values) {
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if (c == ']' || c == '}') {
      --depth;
    } else if (c == ',' && depth == 0) {
      push();
      continue;
    }
    current += c;
  }
  push();
  if (axis.key == kTopologyAxis)
    for (const auto& v : axis.values) (void)topology_named(v);
  return axis;
}

Sweep run_sweep(const config::LoadedScenario& base, const std::vector<config::Override>& overrides,
                const std::vector<SweepAxis>& axes, bool variants, const RunOptions& options, const Sweep* previous) {
  Sweep sweep;
  sweep.axes = axes;
  sweep.variants = variants;
  sweep.seed = base.scenario.seed;
  sweep.scenarios = base.scenario.simulation.scenarios;
  for (std::size_t a = 0; a < axes.size(); ++a) {
    if (axes[a].values.empty()) throw InputError(fmt::format("--grid {}: no values", axes[a].key));
    for (std::size_t b = 0; b < a; ++b)
      if (axes[b].key == axes[a].key) throw InputError(fmt::format("--grid {}: the key is given twice", axes[a].key));
    if (axes[a].key == "seed" || axes[a].key == "simulation.scenarios")
      throw InputError(fmt::format(
          "--grid {}: every point runs on the same seed and scenarios (common random numbers); set them with --set "
          "{}=... (or -n) instead",
          axes[a].key, axes[a].key));
    if (variants && axes[a].key == kTopologyAxis && !base.scenario.variants.empty())
      throw InputError(
          "--grid topology with --variants: the file's variants set their own links; sweep the topology without "
          "--variants, or give the variants a topology each");
  }
  const auto warn = [&](const std::string& w) {
    if (std::find(sweep.warnings.begin(), sweep.warnings.end(), w) == sweep.warnings.end()) sweep.warnings.push_back(w);
  };
  std::size_t points = 1;
  for (const auto& axis : axes) points *= axis.values.size();
  sweep.grid_points = points;
  if (previous) {
    sweep.points = previous->points;
    sweep.done = previous->done;
    for (const auto& w : previous->warnings) warn(w);
  }
  std::vector<std::size_t> at(axes.size(), 0);  // the point's value per axis, the last axis fastest
  for (std::size_t p = 0; p < points; ++p) {
    if (p < sweep.done) {  // run before the sweep was resumed
      next_point(axes, at);
      continue;
    }
    if (options.stop && options.stop->load()) break;
    std::vector<config::Override> o = overrides;
    std::vector<std::string> values;
    config::Topology topology = config::Topology::kAsIs;
    for (std::size_t a = 0; a < axes.size(); ++a) {
      const std::string& value = axes[a].values[at[a]];
      values.push_back(value);
      if (axes[a].key == kTopologyAxis) {
        topology = topology_named(value);
      } else {
        o.push_back({axes[a].key, value});
      }
    }
    // Common random numbers: every point on the base's seed and scenario count.
    o.push_back({"seed", std::to_string(base.scenario.seed)});
    o.push_back({"simulation.scenarios", std::to_string(base.scenario.simulation.scenarios)});
    config::LoadedScenario loaded = config::load_scenario_text(base.text, base.source_name, o, base.data_access);
    for (const auto& w : loaded.warnings) warn(w);
    if (!variants) loaded.scenario.variants.clear();
    if (topology != config::Topology::kAsIs) {
      // As `compare` does for a variant: generated members drawn once, then the CCPs rewired.
      if (loaded.scenario.generator) {
        for (auto& m : generate_members(loaded.scenario)) loaded.scenario.members.push_back(std::move(m));
        loaded.scenario.generator.reset();
      }
      std::vector<std::string> rewired;
      apply_topology(loaded.scenario, topology, rewired);
      for (const auto& w : rewired) warn(w);
    }
    Comparison c = run_compare(loaded, o, options);
    if (options.stop && options.stop->load()) break;  // the point may be partial: dropped
    for (const auto& w : c.warnings) warn(w);
    for (auto& v : c.variants)
      sweep.points.push_back(SweepPoint{values, v.name, std::move(v.summary), std::move(v.metrics)});
    ++sweep.done;
    next_point(axes, at);
  }
  return sweep;
}

namespace {

using State = nlohmann::json;  // the resume state (CBOR)

State axes_json(const std::vector<SweepAxis>& axes) {
  State out = State::array();
  for (const auto& a : axes) out.push_back({{"key", a.key}, {"values", a.values}});
  return out;
}

// A table's columns: text as arrays of strings, numbers as their bytes.
State table_state(const Table& table) {
  State columns = State::array();
  for (const auto& [name, column] : table.columns) {
    if (const auto* numbers = std::get_if<std::vector<double>>(&column)) {
      std::vector<std::uint8_t> bytes(numbers->size() * sizeof(double));
      std::memcpy(bytes.data(), numbers->data(), bytes.size());
      columns.push_back({{"name", name}, {"numbers", State::binary(std::move(bytes))}});
    } else {
      columns.push_back({{"name", name}, {"text", std::get<std::vector<std::string>>(column)}});
    }
  }
  return columns;
}

Table read_table_state(const State& columns) {
  Table table;
  for (const auto& c : columns) {
    if (c.contains("numbers")) {
      const auto& bytes = c.at("numbers").get_binary();
      if (bytes.size() % sizeof(double) != 0) throw std::invalid_argument("a column's bytes are not doubles");
      std::vector<double> numbers(bytes.size() / sizeof(double));
      std::memcpy(numbers.data(), bytes.data(), bytes.size());
      table.columns.emplace_back(c.at("name").get<std::string>(), std::move(numbers));
    } else {
      table.columns.emplace_back(c.at("name").get<std::string>(), c.at("text").get<std::vector<std::string>>());
    }
  }
  return table;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> sweep_files(const Sweep& sweep, const std::string& resolved_yaml) {
  std::vector<std::pair<std::string, std::string>> files{{"sweep.csv", sweep_table(sweep).to_csv()},
                                                         {"sweep.json", sweep_json(sweep).dump(2) + "\n"}};
  if (sweep.partial()) files.emplace_back(kSweepStateFile, sweep_state(sweep, resolved_yaml));
  return files;
}

std::string read_sweep_state_file(const std::string& directory) {
  const std::filesystem::path path = std::filesystem::path(directory) / kSweepStateFile;
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw InputError(
        fmt::format("--resume: {} has no partial sweep to go on with (no {})", directory, kSweepStateFile));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

std::string sweep_state(const Sweep& sweep, const std::string& resolved_yaml) {
  State points = State::array();
  for (const auto& p : sweep.points)
    points.push_back({{"values", p.values},
                      {"variant", p.variant},
                      {"summary", State::binary(nlohmann::ordered_json::to_cbor(p.summary))},
                      {"metrics", table_state(p.metrics)}});
  const State state{{"format", "ccpnet sweep state"},
                    {"version", 1},
                    {"ccpnet_version", CCPNET_VERSION},
                    {"scenario_sha256", sha256_hex(resolved_yaml)},
                    {"axes", axes_json(sweep.axes)},
                    {"variants", sweep.variants},
                    {"seed", sweep.seed},
                    {"scenarios", sweep.scenarios},
                    {"done", sweep.done},
                    {"warnings", sweep.warnings},
                    {"points", points}};
  const std::vector<std::uint8_t> bytes = State::to_cbor(state);
  return {bytes.begin(), bytes.end()};
}

Sweep read_sweep_state(const std::string& bytes, const std::string& resolved_yaml, const std::vector<SweepAxis>& axes,
                       bool variants) {
  State state;
  try {
    state = State::from_cbor(bytes);
  } catch (const State::exception&) {
    throw InputError("the sweep state is damaged: not the CBOR a partial ccpnet sweep writes");
  }
  const auto differs = [](const std::string& what) {
    throw InputError(fmt::format("the sweep to resume was run with another {}: rerun it without --resume", what));
  };
  try {
    if (state.value("format", "") != "ccpnet sweep state" || state.at("version").get<int>() != 1)
      throw InputError("the sweep state is not one ccpnet can read");
    if (state.at("ccpnet_version").get<std::string>() != CCPNET_VERSION) differs("version of ccpnet");
    if (state.at("scenario_sha256").get<std::string>() != sha256_hex(resolved_yaml))
      differs("scenario (its file, --set, -n or --seed)");
    if (state.at("axes") != axes_json(axes)) differs("grid (--grid)");
    if (state.at("variants").get<bool>() != variants) differs("--variants");
    Sweep sweep;
    sweep.axes = axes;
    sweep.variants = variants;
    sweep.seed = state.at("seed").get<std::uint64_t>();
    sweep.scenarios = state.at("scenarios").get<std::int64_t>();
    sweep.done = state.at("done").get<std::size_t>();
    sweep.warnings = state.at("warnings").get<std::vector<std::string>>();
    for (const auto& p : state.at("points"))
      sweep.points.push_back(SweepPoint{
          p.at("values").get<std::vector<std::string>>(), p.at("variant").get<std::string>(),
          nlohmann::ordered_json::from_cbor(p.at("summary").get_binary()), read_table_state(p.at("metrics"))});
    return sweep;
  } catch (const State::exception& e) {
    throw InputError(fmt::format("the sweep state is damaged: {}", e.what()));
  } catch (const std::invalid_argument& e) {
    throw InputError(fmt::format("the sweep state is damaged: {}", e.what()));
  }
}

Table sweep_table(const Sweep& sweep) {
  std::vector<std::vector<std::string>> axis_values(sweep.axes.size());
  std::vector<std::string> variant, metric, level, item, unit, interval;
  std::vector<double> value, standard_error, lower, upper;
  for (const SweepPoint& p : sweep.points) {
    const auto text = [&](std::size_t c) -> const std::vector<std::string>& {
      return std::get<std::vector<std::string>>(p.metrics.columns[c].second);
    };
    const auto number = [&](std::size_t c) -> const std::vector<double>& {
      return std::get<std::vector<double>>(p.metrics.columns[c].second);
    };
    const auto column = [&](std::string_view name) {
      for (std::size_t c = 0; c < p.metrics.columns.size(); ++c)
        if (p.metrics.columns[c].first == name) return c;
      throw std::logic_error(fmt::format("metric table without a column {}", name));
    };
    const std::size_t rows = p.metrics.rows();
    const auto add = [&](const std::string& m, const std::string& lv, const std::string& it, const std::string& u,
                         double x, double se, double lo, double hi, const std::string& method) {
      for (std::size_t a = 0; a < sweep.axes.size(); ++a) axis_values[a].push_back(p.values[a]);
      variant.push_back(p.variant);
      metric.push_back(m);
      level.push_back(lv);
      item.push_back(it);
      unit.push_back(u);
      value.push_back(x);
      standard_error.push_back(se);
      lower.push_back(lo);
      upper.push_back(hi);
      interval.push_back(method);
    };
    const auto &names = text(column("metric")), &levels = text(column("level")), &items = text(column("item")),
               &units = text(column("unit")), &methods = text(column("interval"));
    const auto &values = number(column("value")), &errors = number(column("standard_error")),
               &lows = number(column("lower")), &highs = number(column("upper"));
    for (std::size_t r = 0; r < rows; ++r)
      add(names[r], levels[r], items[r], units[r], values[r], errors[r], lows[r], highs[r], methods[r]);
    // The quantiles of the total loss, with their order-statistic intervals.
    const auto& sys = p.summary.at("system");
    for (const char* q : {"p99", "p999"}) {
      const std::string key = std::string(q) + "_total_loss";
      const auto& ci = sys.at(key + "_ci95");
      const auto end = [](const nlohmann::ordered_json& e) {
        return e.is_null() ? std::numeric_limits<double>::infinity() : e.get<double>();
      };
      add("total_loss_" + std::string(q), "system", "", "USD", sys.at(key).get<double>(),
          std::numeric_limits<double>::quiet_NaN(), end(ci.at(0)), end(ci.at(1)), "order_statistics");
    }
  }
  Table table;
  for (std::size_t a = 0; a < sweep.axes.size(); ++a)
    table.columns.emplace_back(sweep.axes[a].key, std::move(axis_values[a]));
  table.columns.emplace_back("variant", std::move(variant));
  table.columns.emplace_back("metric", std::move(metric));
  table.columns.emplace_back("level", std::move(level));
  table.columns.emplace_back("item", std::move(item));
  table.columns.emplace_back("unit", std::move(unit));
  table.columns.emplace_back("value", std::move(value));
  table.columns.emplace_back("standard_error", std::move(standard_error));
  table.columns.emplace_back("lower", std::move(lower));
  table.columns.emplace_back("upper", std::move(upper));
  table.columns.emplace_back("interval", std::move(interval));
  return table;
}

std::string format_sweep(const Sweep& sweep) {
  std::size_t grid = 1;
  for (const auto& axis : sweep.axes) grid *= axis.values.size();
  std::string out =
      fmt::format("{} grid points{}, {} scenarios each, seed {} (common random numbers; 95% intervals)\n\n", grid,
                  sweep.variants ? " x variants" : "", sweep.scenarios, sweep.seed);
  std::vector<std::size_t> width;
  for (std::size_t a = 0; a < sweep.axes.size(); ++a) {
    std::size_t w = sweep.axes[a].key.size();
    for (const auto& v : sweep.axes[a].values) w = std::max(w, v.size());
    width.push_back(w);
    out += fmt::format("{:<{}}  ", sweep.axes[a].key, w);
  }
  std::size_t variant_width = 7;
  for (const auto& p : sweep.points) variant_width = std::max(variant_width, p.variant.size());
  out += fmt::format("{:<{}}  {:<28} {:<34} {}\n", "variant", variant_width, "P(any CCP fails)", "E[total loss] USD",
                     "mean member defaults");
  for (const auto& p : sweep.points) {
    for (std::size_t a = 0; a < sweep.axes.size(); ++a) out += fmt::format("{:<{}}  ", p.values[a], width[a]);
    const auto& sys = p.summary.at("system");
    const auto estimate = [&](const char* key, bool percent) {
      return format_estimate(sys.at(key).get<double>(), sys.at(std::string(key) + "_ci95"), percent);
    };
    out += fmt::format("{:<{}}  {:<28} {:<34} {}\n", p.variant, variant_width, estimate("p_any_ccp_fail", true),
                       estimate("expected_total_loss", false), estimate("mean_member_defaults", false));
  }
  return out;
}

nlohmann::ordered_json sweep_json(const Sweep& sweep) {
  using json = nlohmann::ordered_json;
  json axes = json::array();
  for (const auto& a : sweep.axes) axes.push_back({{"key", a.key}, {"values", a.values}});
  json points = json::array();
  for (const auto& p : sweep.points) {
    json values = json::object();
    for (std::size_t a = 0; a < sweep.axes.size(); ++a) values[sweep.axes[a].key] = p.values[a];
    points.push_back({{"values", values}, {"variant", p.variant}, {"summary", p.summary}});
  }
  return json{{"ccpnet_version", CCPNET_VERSION}, {"seed", sweep.seed},         {"scenarios", sweep.scenarios},
              {"variants", sweep.variants},       {"axes", std::move(axes)},    {"grid_points", sweep.grid_points},
              {"done_grid_points", sweep.done},   {"partial", sweep.partial()}, {"points", std::move(points)}};
}

}  // namespace ccpnet
