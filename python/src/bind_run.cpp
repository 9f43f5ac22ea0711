// Bindings of Monte Carlo runs: ccpnet._core.run, the RunResult behind
// ccpnet.Result (summary, per-scenario columns without copies, per-CCP and
// per-member tables) and merge() of the results of sub-ranges (Dask).
#include <fmt/format.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "sim/cascade.hpp"
#include "sim/config/field.hpp"
#include "sim/metrics.hpp"
#include "sim/output.hpp"
#include "sim/output_dir.hpp"
#include "sim/report.hpp"
#include "sim/report_figures.hpp"
#include "sim/runner.hpp"

namespace py = pybind11;

namespace ccpnet::python {

// A sim Table as a dict: lists of str for text columns, numpy arrays for numbers.
py::dict table_columns(const Table& table) {
  py::dict out;
  for (const auto& entry : table.columns) {
    // Not a structured binding: clang 14 cannot capture one in the lambda.
    const std::string& name = entry.first;
    std::visit(
        [&](const auto& v) {
          if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::vector<double>>) {
            out[py::str(name)] = py::array_t<double>(static_cast<py::ssize_t>(v.size()), v.data());
          } else {
            out[py::str(name)] = v;
          }
        },
        entry.second);
  }
  return out;
}

namespace {

// ---- per-scenario columns (the rows of scenarios.csv) ---------------------------------

// The columns of scenarios.csv (sim's scenario_columns), kept as they arrive:
// int64 for indices, counts and flags, float64 for amounts.
struct ScenarioColumns {
  explicit ScenarioColumns(const Model& m)
      : model(&m), spec(scenario_columns(m)), real(spec.size()), integer(spec.size()) {}

  void reserve(std::size_t n) {
    for (std::size_t i = 0; i < spec.size(); ++i) spec[i].integer ? integer[i].reserve(n) : real[i].reserve(n);
  }

  // The same values as OutputWriter::scenario(), and the rows of defaults.csv.
  void append(const ScenarioResult& r) {
    default_events(r, scenario_events);
    events.insert(events.end(), scenario_events.begin(), scenario_events.end());
    scenario_values(*model, r, row);
    for (std::size_t i = 0; i < spec.size(); ++i) {
      if (spec[i].integer) {
        integer[i].push_back(static_cast<std::int64_t>(row[i]));
      } else {
        real[i].push_back(row[i]);
      }
    }
  }

  std::size_t size() const { return spec.front().integer ? integer.front().size() : real.front().size(); }

  const Model* model;
  std::vector<ScenarioColumn> spec;
  std::vector<std::vector<double>> real;           // per column; empty for integer columns
  std::vector<std::vector<std::int64_t>> integer;  // per column; empty for real columns
  std::vector<double> row;
  std::vector<DefaultEvent> events;  // the rows of defaults.csv, in scenario order
  std::vector<DefaultEvent> scenario_events;
};

// The kept rows of defaults.csv as columns (numbers as numpy arrays, text as
// str lists), in the file's order. With `names` (Result.defaults): the file's
// columns, who defaulted as kind, id and group and the cause as text. Without
// (a run state, read back by extend_events): who and why as codes, the
// columns ccp (1: a CCP's failure), index and cause.
py::dict default_columns(const std::vector<DefaultEvent>& events, const Model* names) {
  const auto n = static_cast<py::ssize_t>(events.size()), coded = names ? 0 : n;
  py::array_t<std::int64_t> scenario(n), round(n), ccp(coded), index(coded), cause(coded);
  py::array_t<double> day(n);
  std::vector<std::string> kind, id, group, cause_text;
  for (py::ssize_t i = 0; i < n; ++i) {
    const DefaultEvent& e = events[static_cast<std::size_t>(i)];
    scenario.mutable_at(i) = e.scenario;
    day.mutable_at(i) = e.day;
    round.mutable_at(i) = e.round;
    if (!names) {
      ccp.mutable_at(i) = e.ccp ? 1 : 0;
      index.mutable_at(i) = e.index;
      cause.mutable_at(i) = e.cause;
      continue;
    }
    const auto k = static_cast<std::size_t>(e.index);
    kind.emplace_back(e.ccp ? "ccp" : "member");
    id.push_back(e.ccp ? names->ccps[k].id : names->members[k].id);
    group.push_back(e.ccp ? std::string() : names->group_ids[static_cast<std::size_t>(names->members[k].group)]);
    cause_text.emplace_back(default_cause_text(e));
  }
  py::dict out;
  out["scenario"] = scenario;
  if (names) {
    out["kind"] = kind;
    out["id"] = id;
    out["group"] = group;
  } else {
    out["ccp"] = ccp;
    out["index"] = index;
  }
  out["day"] = day;
  out["round"] = round;
  out["cause"] = names ? py::object(py::cast(cause_text)) : py::object(cause);
  return out;
}

// A numpy array over a column, without a copy: the capsule keeps the columns alive.
template <class T>
py::array_t<T> view(const std::shared_ptr<ScenarioColumns>& owner, std::vector<T>& data) {
  auto* keep = new std::shared_ptr<ScenarioColumns>(owner);
  py::capsule base(keep, [](void* p) { delete static_cast<std::shared_ptr<ScenarioColumns>*>(p); });
  return py::array_t<T>({static_cast<py::ssize_t>(data.size())}, {static_cast<py::ssize_t>(sizeof(T))}, data.data(),
                        base);
}

// ---- a run and its result --------------------------------------------------------------

struct RunData {
  explicit RunData(ModelPtr m) : model(std::move(m)), run(model->model) {}
  RunData(ModelPtr m, RunResult r) : model(std::move(m)), run(std::move(r)) {}
  ModelPtr model;  // first: `run.aggregate` refers to model->model
  RunResult run;
  std::shared_ptr<ScenarioColumns> columns;  // null when the rows were not kept
};
using RunPtr = std::shared_ptr<RunData>;

py::dict scenario_columns(const RunData& d) {
  if (!d.columns) throw py::value_error("the run did not keep its scenarios (keep_scenarios=False)");
  py::dict out;
  const auto& c = d.columns;
  for (std::size_t i = 0; i < c->spec.size(); ++i)
    out[py::str(c->spec[i].name)] =
        c->spec[i].integer ? py::object(view(c, c->integer[i])) : py::object(view(c, c->real[i]));
  return out;
}

// Result.defaults: the rows of defaults.csv with names.
py::dict defaults_columns(const RunData& d) {
  if (!d.columns) throw py::value_error("the run did not keep its scenarios (keep_scenarios=False)");
  return default_columns(d.columns->events, &d.model->model);
}
// The term structure, ccps.csv, members.csv and the other tables (the same Tables the files are written from).
py::dict term_structure_columns(const RunData& d) {
  return table_columns(term_structure_table(d.model->model, d.run.aggregate));
}
py::dict ccp_columns(const RunData& d) { return table_columns(ccp_table(d.model->model, d.run.aggregate)); }
py::dict member_columns(const RunData& d) { return table_columns(member_table(d.model->model, d.run.aggregate)); }
py::dict chain_columns(const RunData& d) { return table_columns(chain_table(d.model->model, d.run.aggregate)); }
py::dict client_columns(const RunData& d) { return table_columns(client_table(d.model->model, d.run.aggregate)); }
py::dict bridge_columns(const RunData& d) { return table_columns(bridge_table(d.model->model, d.run.aggregate)); }
py::dict metric_columns(const RunData& d) { return table_columns(metric_table(d.model->model, d.run.aggregate)); }

// The declared metrics (ChunkSums::visit) as a list of dicts, in their order.
py::list metric_declarations() {
  py::list out;
  for (const MetricInfo& m : metric_infos()) {
    py::dict e;
    e["name"] = std::string(m.name);
    e["unit"] = std::string(metric_unit_name(m.unit));
    e["level"] = std::string(metric_level_name(m.level));
    e["aggregation"] = std::string(aggregation_name(m.aggregation));
    e["compare"] = m.compare;
    e["optional"] = m.optional;
    e["title"] = std::string(m.title);
    e["doc"] = std::string(m.doc);
    out.append(e);
  }
  return out;
}

// ---- mergeable state ---------------------------------------------------------------------

// 4: with the rows of defaults.csv; 3: the aggregate as Aggregate::serialize CBOR (2: hand-packed bytes)
constexpr int kStateVersion = 4;

py::dict to_state(RunData& d) {
  py::dict state;
  state["version"] = kStateVersion;
  state["model_sha256"] = d.model->resolved_sha256;
  state["first"] = d.run.first;
  state["requested"] = d.run.requested;
  state["completed"] = d.run.completed;
  state["interrupted"] = d.run.interrupted;
  state["threads"] = d.run.threads;
  state["batch"] = d.run.batch;
  state["seconds"] = d.run.seconds;
  // The mergeable sums, in the engine's own format (what MPI ranks exchange).
  const std::vector<char> bytes = d.run.aggregate.serialize();
  state["aggregate"] = py::bytes(bytes.data(), bytes.size());
  state["scenarios"] = d.columns ? py::object(scenario_columns(d)) : py::object(py::none());
  state["defaults"] = d.columns ? py::object(default_columns(d.columns->events, nullptr)) : py::object(py::none());
  return state;
}

template <class T>
using carray = py::array_t<T, py::array::c_style | py::array::forcecast>;

template <class T>
std::vector<T> vector_of(const py::handle& h, std::optional<std::size_t> size, const char* what) {
  const auto a = h.cast<carray<T>>();
  if (a.ndim() != 1 || (size && static_cast<std::size_t>(a.shape(0)) != *size))
    throw py::value_error(fmt::format("run state: '{}' has the wrong shape for this model", what));
  return std::vector<T>(a.data(), a.data() + a.shape(0));
}

struct Part {
  std::int64_t first = 0, requested = 0, completed = 0, batch = 0;
  bool interrupted = false;
  int threads = 1;
  double seconds = 0.0;
  py::dict state;
};

// The aggregate of one state (a chunk-aligned range).
Aggregate restore_aggregate(const Model& m, const py::dict& state) {
  const std::string bytes = state["aggregate"].cast<std::string>();
  try {
    return Aggregate::deserialize(m, std::vector<char>(bytes.begin(), bytes.end()));
  } catch (const std::runtime_error& e) {
    throw py::value_error(fmt::format("run state: the aggregate does not match this model ({})", e.what()));
  }
}

template <class T>
void extend(std::vector<T>& out, const py::handle& h, const char* what) {
  const auto v = vector_of<T>(h, std::nullopt, what);
  out.insert(out.end(), v.begin(), v.end());
}

// The rows of defaults.csv of one state (default_columns without names) appended to `out`.
void extend_events(std::vector<DefaultEvent>& out, const py::dict& state) {
  const auto scenario = vector_of<std::int64_t>(state["scenario"], std::nullopt, "defaults.scenario");
  const std::size_t n = scenario.size();
  const auto ccp = vector_of<std::int64_t>(state["ccp"], n, "defaults.ccp");
  const auto index = vector_of<std::int64_t>(state["index"], n, "defaults.index");
  const auto day = vector_of<double>(state["day"], n, "defaults.day");
  const auto round = vector_of<std::int64_t>(state["round"], n, "defaults.round");
  const auto cause = vector_of<std::int64_t>(state["cause"], n, "defaults.cause");
  for (std::size_t i = 0; i < n; ++i)
    out.push_back({scenario[i], ccp[i] != 0, static_cast<int>(index[i]), day[i], static_cast<int>(round[i]),
                   static_cast<int>(cause[i])});
}

RunPtr merge_states(const ModelPtr& model, const py::iterable& states) {
  std::vector<Part> parts;
  for (const auto item : states) {
    Part p;
    p.state = item.cast<py::dict>();
    if (!p.state.contains("version") || p.state["version"].cast<int>() != kStateVersion)
      throw py::value_error("merge: not a ccpnet run state (RunResult.to_state())");
    if (p.state["model_sha256"].cast<std::string>() != model->resolved_sha256)
      throw py::value_error(
          "merge: a state comes from a different scenario (its resolved scenario differs: seed, scenario count, "
          "overrides?)");
    p.first = p.state["first"].cast<std::int64_t>();
    p.requested = p.state["requested"].cast<std::int64_t>();
    p.completed = p.state["completed"].cast<std::int64_t>();
    p.interrupted = p.state["interrupted"].cast<bool>();
    p.threads = p.state["threads"].cast<int>();
    p.batch = p.state["batch"].cast<std::int64_t>();
    p.seconds = p.state["seconds"].cast<double>();
    parts.push_back(std::move(p));
  }
  if (parts.empty()) throw py::value_error("merge: no states to merge");
  std::stable_sort(parts.begin(), parts.end(), [](const Part& a, const Part& b) { return a.first < b.first; });
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    const Part& a = parts[i];
    const Part& b = parts[i + 1];
    if (a.first + a.requested > b.first)
      throw py::value_error(fmt::format("merge: scenario ranges overlap: [{}, {}) and [{}, {})", a.first,
                                        a.first + a.requested, b.first, b.first + b.requested));
    if (a.first % kChunk != 0 || (a.first + a.completed) % kChunk != 0 || b.first % kChunk != 0)
      throw py::value_error(
          fmt::format("merge: scenario ranges must start and end on multiples of {} (SCENARIO_CHUNK) to merge exactly; "
                      "found [{}, {}) before [{}, ...)",
                      kChunk, a.first, a.first + a.completed, b.first));
  }

  auto out = std::make_shared<RunData>(model);
  const Model& m = model->model;
  RunResult& r = out->run;
  r.first = parts.front().first;
  r.batch = parts.front().batch;
  r.requested = 0;
  r.completed = 0;
  r.threads = 1;
  r.seconds = 0.0;
  bool keep = true;
  for (const Part& p : parts) {
    r.requested += p.requested;
    r.completed += p.completed;
    r.interrupted = r.interrupted || p.interrupted;
    r.threads = std::max(r.threads, p.threads);
    r.seconds += p.seconds;
    keep = keep && !p.state["scenarios"].is_none();
  }
  std::vector<Aggregate> aggregates;
  for (const Part& p : parts) aggregates.push_back(restore_aggregate(m, p.state));
  if (keep) {
    auto cols = std::make_shared<ScenarioColumns>(m);
    for (const Part& p : parts) {
      const py::dict s = p.state["scenarios"].cast<py::dict>();
      for (std::size_t i = 0; i < cols->spec.size(); ++i) {
        const auto& column = cols->spec[i];
        if (!s.contains(column.name))
          throw py::value_error(fmt::format("run state: scenario column '{}' is missing", column.name));
        if (column.integer) {
          extend(cols->integer[i], s[py::str(column.name)], column.name.c_str());
        } else {
          extend(cols->real[i], s[py::str(column.name)], column.name.c_str());
        }
      }
      extend_events(cols->events, p.state["defaults"].cast<py::dict>());
    }
    out->columns = std::move(cols);
  }
  {
    py::gil_scoped_release release;
    for (const auto& a : aggregates) r.aggregate.merge(a);
    r.aggregate.finish();
  }
  return out;
}

// ---- writing the output directory ------------------------------------------------------

// The directory `ccpnet run --out` writes, from a kept run: the same files,
// byte for byte (run.json has this result's threads and timing).
std::string write_directory(const RunData& d, const std::string& directory, bool report) {
  if (!d.columns)
    throw py::value_error(
        "the run did not keep its scenarios (keep_scenarios=False): scenarios.csv "
        "cannot be written; run with keep_scenarios=True");
  const Model& model = d.model->model;
  const config::LoadedScenario& loaded = d.model->loaded;
  {
    py::gil_scoped_release release;
    check_output_directory(directory);
    OutputWriter writer(
        model, OutputInfo{loaded.source_name, loaded.text, d.model->resolved_yaml, directory, loaded.data.inputs});
    const ScenarioColumns& c = *d.columns;
    std::vector<double> values(c.spec.size());
    for (std::size_t row = 0; row < c.size(); ++row) {
      for (std::size_t i = 0; i < c.spec.size(); ++i)
        values[i] = c.spec[i].integer ? static_cast<double>(c.integer[i][row]) : c.real[i][row];
      writer.row(values);
    }
    if (model.default_rows) writer.default_rows(c.events);
    if (report) writer.add_file("report.html", run_report(model, d.run, loaded.source_name, d.model->resolved_yaml));
    writer.finish(d.run);
  }
  return directory;
}

// ---- running --------------------------------------------------------------------------------

RunPtr run(const ModelPtr& base, const py::object& scenarios, const py::object& seed, const py::object& threads,
           const py::object& batch, std::int64_t first, const py::object& count, bool keep_scenarios, bool progress,
           const std::string& interrupt) {
  if (interrupt != "raise" && interrupt != "partial")
    throw py::value_error("interrupt: expected 'raise' or 'partial', found '" + interrupt + "'");
  const ModelPtr model = on_threads(threads, base->model.threads,
                                    [&] { return derive_model(base, seed_and_scenarios(base, seed, scenarios)); });

  RunOptions options;
  options.progress = progress;
  if (!threads.is_none()) options.threads = static_cast<int>(checked(threads, 0, 1024, "threads"));
  if (!batch.is_none()) options.batch = checked(batch, 1, 65536, "batch");
  const std::int64_t total = model->model.scenarios;
  if (first < 0 || first > total)
    throw py::value_error(fmt::format("first: expected a scenario index in [0, {}], found {}", total, first));
  options.first = first;
  options.count = count.is_none() ? total - first : count.cast<std::int64_t>();
  if (options.count < 0 || first + options.count > total)
    throw py::value_error(fmt::format("count: the range [{}, {} + {}) goes beyond the {} scenarios of the run", first,
                                      first, options.count, total));

  std::shared_ptr<ScenarioColumns> kept;
  if (keep_scenarios) {
    kept = std::make_shared<ScenarioColumns>(model->model);
    kept->reserve(static_cast<std::size_t>(std::min<std::int64_t>(options.count, std::int64_t{1} << 20)));
  }

  InterruptCheck interrupt_check;  // Ctrl-C
  ScenarioColumns* cols = kept.get();
  options.stop = &interrupt_check.stop;
  options.on_scenario = [&](const ScenarioResult& r) {
    if (cols) cols->append(r);
    interrupt_check.check();
  };
  std::optional<RunResult> result;
  bool out_of_memory = false;
  {
    py::gil_scoped_release release;
    try {
      result.emplace(run_monte_carlo(model->model, options));
    } catch (const std::bad_alloc&) {
      out_of_memory = true;  // raised below, with the GIL
    } catch (const std::exception& e) {
      throw SimulationError(fmt::format("the run of '{}' failed: {}", model->model.name, e.what()));
    }
  }
  if (out_of_memory) {
    PyErr_SetString(PyExc_MemoryError, keep_scenarios ? "out of memory during the run; run with keep_scenarios=False "
                                                        "(the summary and tables need no per-scenario memory)"
                                                      : "out of memory during the run");
    throw py::error_already_set();
  }
  if (interrupt_check.error && interrupt == "raise") throw *interrupt_check.error;
  auto out = std::make_shared<RunData>(model, std::move(*result));
  out->columns = std::move(kept);
  return out;
}

// ---- the report and its figures --------------------------------------------------------

std::string run_report_html(const RunData& d) {
  return run_report(d.model->model, d.run, d.model->loaded.source_name, d.model->resolved_yaml);
}

// A figure of the run's report, on its own (its style inside); `prefix` keeps
// the ids of its elements apart from other figures on the same page.
std::string run_figure(const RunData& d, const std::string& name, const std::string& prefix) {
  const Model& model = d.model->model;
  figures::Ids ids(prefix);
  if (name == "loss_distribution") {
    const figures::LossDistribution data = run_loss_distribution(d.run.aggregate);
    if (data.values.empty()) throw py::value_error("no scenario of the run has a total loss: nothing to draw");
    return figures::standalone(
        figures::arrange({figures::loss_histogram(data, ids), figures::exceedance_curve(data, ids)}, 2));
  }
  if (name == "waterfall_depletion" || name == "waterfall_depletion_beyond_defaulters")
    return figures::standalone(
        figures::stacked_bars(run_waterfalls(model, d.run.aggregate.totals(), name != "waterfall_depletion"), ids));
  if (name == "network")
    return figures::standalone(figures::network(run_network(model, &d.run.aggregate.totals()), ids));
  if (name == "term_structure") {
    if (model.steps.count == 0) throw py::value_error("the run is one period: no term structure to draw");
    return figures::standalone(figures::time_curves(run_term_structure(model, d.run.aggregate), ids));
  }
  throw py::value_error(
      fmt::format("no figure '{}' of a run; the figures are loss_distribution, "
                  "waterfall_depletion, waterfall_depletion_beyond_defaulters, network, term_structure",
                  name));
}

}  // namespace

void bind_run(py::module_& m) {
  py::class_<RunData, RunPtr>(m, "RunResult", R"doc(
The outcome of a run, as computed by the engine. Wrapped by :class:`ccpnet.Result`,
which adds pandas tables; use that one.
)doc")
      .def_property_readonly(
          "model", [](const RunData& d) { return d.model; },
          "The model that ran (with the run's seed and scenario count).")
      .def_property_readonly(
          "summary_json", [](const RunData& d) { return summary_json(d.model->model, d.run).dump(); },
          "summary.json of the run, as JSON text.")
      .def_property_readonly(
          "partial", [](const RunData& d) { return d.run.interrupted; },
          "True when the run was interrupted (Ctrl-C) and covers only the first scenarios.")
      .def_property_readonly(
          "first", [](const RunData& d) { return d.run.first; }, "Index of the first scenario of the run.")
      .def_property_readonly(
          "requested", [](const RunData& d) { return d.run.requested; }, "Number of scenarios asked for.")
      .def_property_readonly(
          "completed", [](const RunData& d) { return d.run.completed; }, "Number of scenarios run.")
      .def_property_readonly(
          "threads", [](const RunData& d) { return d.run.threads; }, "Worker threads used.")
      .def_property_readonly(
          "batch", [](const RunData& d) { return d.run.batch; }, "Scenarios per batch (a multiple of SCENARIO_TILE).")
      .def_property_readonly(
          "seconds", [](const RunData& d) { return d.run.seconds; },
          "Wall time of the run in seconds (merged results: the sum over the parts).")
      .def_property_readonly(
          "has_scenarios", [](const RunData& d) { return static_cast<bool>(d.columns); },
          "Whether the per-scenario rows were kept.")
      .def("scenario_columns", &scenario_columns, R"doc(The columns of scenarios.csv as numpy arrays, without copies.

The arrays share memory with the result (and keep it alive). Raises ValueError when
the run did not keep the rows (``keep_scenarios=False``).
)doc")
      .def("default_columns", &defaults_columns,
           R"doc(The rows of defaults.csv: one per member default and per CCP failure.

Columns scenario, kind (member or ccp), id, group, day, round and cause, as numpy
arrays and str lists; kept for every run that keeps its scenarios, whether or not the
output directory has the file (``outputs.defaults``). Raises ValueError when the run
did not keep them (``keep_scenarios=False``).
)doc")
      .def("term_structure_columns", &term_structure_columns, R"doc(The term structure of a run in time steps.

One row per day a step ends on (day 0, the start, first): ``p_member_default_by_day``,
``p_ccp_failure_by_day`` (Wilson intervals) and ``mean_member_defaults_on_day`` (CLT),
each with ``_lower`` and ``_upper``: its 95% interval. Empty in one period.
)doc")
      .def("ccp_columns", &ccp_columns, "The columns of ccps.csv: dict of str lists and numpy arrays.")
      .def("member_columns", &member_columns, "The columns of members.csv: dict of str lists and numpy arrays.")
      .def("chain_columns", &chain_columns, "The columns of chains.csv (settlement chains).")
      .def("client_columns", &client_columns, "The columns of clients.csv (members' client accounts).")
      .def("bridge_columns", &bridge_columns, "The columns of bridges.csv (settlement bridges).")
      .def("metric_columns", &metric_columns, R"doc(Every declared metric, one row per value (see metric_declarations).

Columns: metric, level, item, unit, aggregation (str lists), total and value (numpy
arrays): the sum, count or maximum over the scenarios, and per scenario (a mean, a
probability for a 0/1 flag, or the maximum); standard_error, lower and upper (the 95%
interval) and interval (the method: "wilson", "clt" or "" for a maximum).
)doc")
      .def("report", &run_report_html, R"doc(report.html of the run, as ``ccpnet run --report`` writes it (HTML text).
)doc")
      .def("figure", &run_figure, py::arg("name"), py::arg("prefix") = "",
           R"doc(A figure of the run's report as SVG text (engine level; see ccpnet.plot).

``name``: loss_distribution, waterfall_depletion, waterfall_depletion_beyond_defaulters,
network or term_structure (time steps). ``prefix`` starts the ids of the SVG's elements (distinct figures on one page).
)doc")
      .def("write", &write_directory, py::arg("directory"), py::arg("report") = false,
           R"doc(Write the output directory ``ccpnet run --out`` writes (engine level; see Result.write).
)doc")
      .def("to_state", &to_state, R"doc(Everything needed to merge this result with others, as plain data.

A dict of numbers and numpy arrays (picklable: what Dask workers send back). See
:func:`merge`.
)doc")
      .def(py::pickle([](RunData& d) { return py::make_tuple(d.model, to_state(d)); },
                      [](const py::tuple& t) {
                        if (t.size() != 2) throw std::runtime_error("bad ccpnet RunResult pickle");
                        return merge_states(t[0].cast<ModelPtr>(), py::make_tuple(t[1]));
                      }))
      .def("__repr__", [](const RunData& d) {
        return fmt::format("<ccpnet RunResult '{}': {} of {} scenarios from {}{}>", d.model->model.name,
                           d.run.completed, d.run.requested, d.run.first, d.run.interrupted ? ", partial" : "");
      });

  m.def("run", &run, py::arg("model"), py::arg("scenarios") = py::none(), py::arg("seed") = py::none(),
        py::arg("threads") = py::none(), py::arg("batch") = py::none(), py::kw_only(), py::arg("first") = 0,
        py::arg("count") = py::none(), py::arg("keep_scenarios") = true, py::arg("progress") = false,
        py::arg("interrupt") = "raise", R"doc(Run the Monte Carlo simulation of a model (engine level; see ccpnet.run).

Parameters
----------
model : Model
scenarios : int, optional
    Number of scenarios of the run (``simulation.scenarios``), validated as an override.
seed : int, optional
    Master seed (``seed``), validated as an override.
threads : int, optional
    Worker threads; 0: all cores. Default: the model's ``simulation.threads``.
batch : int, optional
    Scenarios per batch. Default: the model's ``simulation.batch``.
first, count : int
    Run only scenarios ``[first, first + count)`` of the run (for splitting a run;
    start on a multiple of SCENARIO_CHUNK to merge exactly).
keep_scenarios : bool
    Keep the per-scenario rows (about 60 + 9 x CCPs bytes per scenario).
progress : bool
    Progress bar on stderr when it is a terminal.
interrupt : {'raise', 'partial'}
    On Ctrl-C, stop after the current window of scenarios and raise KeyboardInterrupt,
    or return the partial result (``partial`` is True).

The GIL is released while the engine runs; results do not depend on threads or batch.
)doc");

  m.def("metric_declarations", &metric_declarations, R"doc(The metrics of a run, declared once in the engine.

A list of dicts in declaration order: name, unit, level, aggregation (sum, count or
max: how per-scenario values combine), compare (compared between variants), optional,
title and doc.
)doc");

  m.def("merge", &merge_states, py::arg("model"), py::arg("states"),
        R"doc(Merge results of disjoint scenario ranges of one run.

Parameters
----------
model : Model
    The model that ran (same resolved scenario as every state).
states : iterable of dict
    ``RunResult.to_state()`` of each part. Ranges must not overlap and must start
    and end on multiples of SCENARIO_CHUNK (the last may end anywhere); the order
    does not matter.

Returns
-------
RunResult
    Bit for bit the result of one run over the union of the ranges.
)doc");
}

std::int64_t checked(const py::object& value, std::int64_t lo, std::int64_t hi, const char* what) {
  const auto v = value.cast<std::int64_t>();
  if (v < lo || v > hi)
    throw py::value_error(fmt::format("{}: expected a value in [{}, {}], found {}", what, lo, hi, v));
  return v;
}

}  // namespace ccpnet::python
