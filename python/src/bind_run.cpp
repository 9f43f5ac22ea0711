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
#include "sim/runner.hpp"

namespace py = pybind11;

namespace ccpnet::python {

namespace {

// ---- per-scenario columns (the rows of scenarios.csv) ---------------------------------

struct ScenarioColumns {
  std::vector<std::int64_t> scenario;
  std::vector<double> market_factor;
  std::vector<std::int32_t> member_defaults, ccp_failures, cascade_rounds;
  std::vector<double> closeout_loss, total_loss, uncovered_loss;
  std::vector<std::vector<double>> ccp_loss;         // per CCP
  std::vector<std::vector<std::int8_t>> ccp_failed;  // per CCP, 0 or 1

  explicit ScenarioColumns(std::size_t ccps) : ccp_loss(ccps), ccp_failed(ccps) {}

  void reserve(std::size_t n) {
    scenario.reserve(n);
    market_factor.reserve(n);
    member_defaults.reserve(n);
    ccp_failures.reserve(n);
    cascade_rounds.reserve(n);
    closeout_loss.reserve(n);
    total_loss.reserve(n);
    uncovered_loss.reserve(n);
    for (auto& v : ccp_loss) v.reserve(n);
    for (auto& v : ccp_failed) v.reserve(n);
  }

  // The same values as OutputWriter::scenario().
  void append(const ScenarioResult& r) {
    scenario.push_back(r.index);
    market_factor.push_back(r.market_factor);
    member_defaults.push_back(static_cast<std::int32_t>(r.defaults.size()));
    ccp_failures.push_back(static_cast<std::int32_t>(r.ccp_failures()));
    cascade_rounds.push_back(static_cast<std::int32_t>(r.rounds));
    closeout_loss.push_back(r.closeout_loss);
    total_loss.push_back(r.total_loss);
    uncovered_loss.push_back(r.uncovered);
    for (std::size_t c = 0; c < ccp_loss.size(); ++c) {
      ccp_loss[c].push_back(r.ccp_loss(c));
      ccp_failed[c].push_back(r.ccp_fail_round[c] >= 0 ? 1 : 0);
    }
  }

  std::size_t size() const { return scenario.size(); }
};

// A numpy array over a column, without a copy: the capsule keeps the columns alive.
template <class T>
py::array_t<T> view(const std::shared_ptr<ScenarioColumns>& owner, std::vector<T>& data) {
  auto* keep = new std::shared_ptr<ScenarioColumns>(owner);
  py::capsule base(keep, [](void* p) { delete static_cast<std::shared_ptr<ScenarioColumns>*>(p); });
  return py::array_t<T>({static_cast<py::ssize_t>(data.size())}, {static_cast<py::ssize_t>(sizeof(T))}, data.data(),
                        base);
}

// The column names of scenarios.csv, in order.
std::vector<std::string> scenario_column_names(const Model& m) {
  std::vector<std::string> names{"scenario",       "market_factor", "member_defaults", "ccp_failures",
                                 "cascade_rounds", "closeout_loss", "total_loss",      "uncovered_loss"};
  for (const auto& c : m.ccps) {
    names.push_back("loss_" + c.id);
    names.push_back("failed_" + c.id);
  }
  return names;
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
  const auto names = scenario_column_names(d.model->model);
  out[py::str(names[0])] = view(c, c->scenario);
  out[py::str(names[1])] = view(c, c->market_factor);
  out[py::str(names[2])] = view(c, c->member_defaults);
  out[py::str(names[3])] = view(c, c->ccp_failures);
  out[py::str(names[4])] = view(c, c->cascade_rounds);
  out[py::str(names[5])] = view(c, c->closeout_loss);
  out[py::str(names[6])] = view(c, c->total_loss);
  out[py::str(names[7])] = view(c, c->uncovered_loss);
  for (std::size_t k = 0; k < c->ccp_loss.size(); ++k) {
    out[py::str(names[8 + 2 * k])] = view(c, c->ccp_loss[k]);
    out[py::str(names[9 + 2 * k])] = view(c, c->ccp_failed[k]);
  }
  return out;
}

// A sim Table as a dict: lists of str for text columns, numpy arrays for numbers.
py::dict table_columns(const Table& table) {
  py::dict out;
  for (const auto& [name, column] : table.columns) {
    std::visit(
        [&](const auto& v) {
          if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::vector<double>>) {
            out[py::str(name)] = py::array_t<double>(static_cast<py::ssize_t>(v.size()), v.data());
          } else {
            out[py::str(name)] = v;
          }
        },
        column);
  }
  return out;
}

// The columns of ccps.csv and members.csv (the same tables the files are written from).
py::dict ccp_columns(const RunData& d) { return table_columns(ccp_table(d.model->model, d.run.aggregate)); }
py::dict member_columns(const RunData& d) { return table_columns(member_table(d.model->model, d.run.aggregate)); }

// ---- mergeable state ---------------------------------------------------------------------

constexpr int kStateVersion = 1;

template <class T>
py::array_t<T> copy_of(const std::vector<T>& v) {
  return py::array_t<T>(static_cast<py::ssize_t>(v.size()), v.data());
}

// Chunk sums stacked over chunks: one row per chunk.
template <class T, class F>
py::array_t<T> stack(const std::vector<ChunkSums>& chunks, std::size_t width, F&& row) {
  py::array_t<T> out({static_cast<py::ssize_t>(chunks.size()), static_cast<py::ssize_t>(width)});
  auto w = out.template mutable_unchecked<2>();
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const std::vector<T>& v = row(chunks[i]);
    for (std::size_t j = 0; j < width; ++j) w(static_cast<py::ssize_t>(i), static_cast<py::ssize_t>(j)) = v[j];
  }
  return out;
}

py::dict to_state(RunData& d) {
  const Model& m = d.model->model;
  Aggregate& agg = d.run.aggregate;
  const auto& chunks = agg.chunks();
  const std::size_t nc = m.ccps.size(), L = models::kLayerCount, nm = m.members.size();
  py::dict chunk;
  chunk["first"] = column<std::int64_t>(chunks.size(), [&](std::size_t i) { return chunks[i].first; });
  chunk["count"] = column<std::int64_t>(chunks.size(), [&](std::size_t i) { return chunks[i].count; });
  chunk["member_defaults"] = column<double>(chunks.size(), [&](std::size_t i) { return chunks[i].member_defaults; });
  chunk["ccp_failures"] = column<double>(chunks.size(), [&](std::size_t i) { return chunks[i].ccp_failures; });
  chunk["rounds"] = column<double>(chunks.size(), [&](std::size_t i) { return chunks[i].rounds; });
  chunk["total_loss"] = column<double>(chunks.size(), [&](std::size_t i) { return chunks[i].total_loss; });
  chunk["closeout_loss"] = column<double>(chunks.size(), [&](std::size_t i) { return chunks[i].closeout_loss; });
  chunk["uncovered"] = column<double>(chunks.size(), [&](std::size_t i) { return chunks[i].uncovered; });
  chunk["any_ccp_fail"] = column<std::int64_t>(chunks.size(), [&](std::size_t i) { return chunks[i].any_ccp_fail; });
  chunk["any_default"] = column<std::int64_t>(chunks.size(), [&](std::size_t i) { return chunks[i].any_default; });
  chunk["ccp_layers"] = stack<double>(
      chunks, nc * L, [](const ChunkSums& c) -> const auto& { return c.ccp_layers; });
  chunk["ccp_uncovered"] = stack<double>(
      chunks, nc, [](const ChunkSums& c) -> const auto& { return c.ccp_uncovered; });
  chunk["ccp_loss"] = stack<double>(
      chunks, nc, [](const ChunkSums& c) -> const auto& { return c.ccp_loss; });
  chunk["ccp_depletion"] = stack<double>(
      chunks, nc, [](const ChunkSums& c) -> const auto& { return c.ccp_depletion; });
  chunk["ccp_fails"] = stack<std::int64_t>(
      chunks, nc, [](const ChunkSums& c) -> const auto& { return c.ccp_fails; });
  chunk["ccp_df_exhausted"] = stack<std::int64_t>(
      chunks, nc, [](const ChunkSums& c) -> const auto& { return c.ccp_df_exhausted; });
  chunk["member_defaults_by_cause"] = stack<std::int64_t>(
      chunks, nm * kDefaultCauseCount, [](const ChunkSums& c) -> const auto& { return c.member_defaults_by_cause; });

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
  state["chunks"] = chunk;
  state["total_loss_values"] = copy_of(agg.total_loss_values());
  py::list depletion;
  for (const auto& v : agg.depletion_values()) depletion.append(copy_of(v));
  state["depletion_values"] = depletion;
  state["default_histogram"] = copy_of(agg.default_count_histogram());
  state["scenarios"] = d.columns ? py::object(scenario_columns(d)) : py::object(py::none());
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

// Row i of a (chunks x width) array.
template <class T>
std::vector<T> row_of(const carray<T>& a, std::size_t i, std::size_t width) {
  const T* p = a.data() + i * width;
  return std::vector<T>(p, p + width);
}

template <class T>
carray<T> matrix_of(const py::dict& chunk, const char* key, std::size_t rows, std::size_t width) {
  auto a = chunk[key].cast<carray<T>>();
  if (a.ndim() != 2 || static_cast<std::size_t>(a.shape(0)) != rows || static_cast<std::size_t>(a.shape(1)) != width)
    throw py::value_error(fmt::format("run state: '{}' has the wrong shape for this model", key));
  return a;
}

struct Part {
  std::int64_t first = 0, requested = 0, completed = 0, batch = 0;
  bool interrupted = false;
  int threads = 1;
  double seconds = 0.0;
  py::dict state;
};

// Rebuilds the aggregate of one state (a chunk-aligned range) into `agg`.
void restore_aggregate(const Model& m, const py::dict& state, Aggregate& agg) {
  const py::dict chunk = state["chunks"].cast<py::dict>();
  const std::size_t nc = m.ccps.size(), L = models::kLayerCount, nm = m.members.size();
  const auto first = vector_of<std::int64_t>(chunk["first"], std::nullopt, "first");
  const std::size_t n = first.size();
  const auto count = vector_of<std::int64_t>(chunk["count"], n, "count");
  const auto member_defaults = vector_of<double>(chunk["member_defaults"], n, "member_defaults");
  const auto ccp_failures = vector_of<double>(chunk["ccp_failures"], n, "ccp_failures");
  const auto rounds = vector_of<double>(chunk["rounds"], n, "rounds");
  const auto total_loss = vector_of<double>(chunk["total_loss"], n, "total_loss");
  const auto closeout_loss = vector_of<double>(chunk["closeout_loss"], n, "closeout_loss");
  const auto uncovered = vector_of<double>(chunk["uncovered"], n, "uncovered");
  const auto any_ccp_fail = vector_of<std::int64_t>(chunk["any_ccp_fail"], n, "any_ccp_fail");
  const auto any_default = vector_of<std::int64_t>(chunk["any_default"], n, "any_default");
  const auto layers = matrix_of<double>(chunk, "ccp_layers", n, nc * L);
  const auto ccp_uncovered = matrix_of<double>(chunk, "ccp_uncovered", n, nc);
  const auto ccp_loss = matrix_of<double>(chunk, "ccp_loss", n, nc);
  const auto ccp_depletion = matrix_of<double>(chunk, "ccp_depletion", n, nc);
  const auto ccp_fails = matrix_of<std::int64_t>(chunk, "ccp_fails", n, nc);
  const auto ccp_df_exhausted = matrix_of<std::int64_t>(chunk, "ccp_df_exhausted", n, nc);
  const auto by_cause = matrix_of<std::int64_t>(chunk, "member_defaults_by_cause", n, nm * kDefaultCauseCount);
  for (std::size_t i = 0; i < n; ++i) {
    ChunkSums c;
    c.init(m, first[i]);
    c.count = count[i];
    c.member_defaults = member_defaults[i];
    c.ccp_failures = ccp_failures[i];
    c.rounds = rounds[i];
    c.total_loss = total_loss[i];
    c.closeout_loss = closeout_loss[i];
    c.uncovered = uncovered[i];
    c.any_ccp_fail = any_ccp_fail[i];
    c.any_default = any_default[i];
    c.ccp_layers = row_of(layers, i, nc * L);
    c.ccp_uncovered = row_of(ccp_uncovered, i, nc);
    c.ccp_loss = row_of(ccp_loss, i, nc);
    c.ccp_depletion = row_of(ccp_depletion, i, nc);
    c.ccp_fails = row_of(ccp_fails, i, nc);
    c.ccp_df_exhausted = row_of(ccp_df_exhausted, i, nc);
    c.member_defaults_by_cause = row_of(by_cause, i, nm * kDefaultCauseCount);
    agg.chunks().push_back(std::move(c));
  }
  agg.total_loss_values() = vector_of<double>(state["total_loss_values"], std::nullopt, "total_loss_values");
  const auto depletion = state["depletion_values"].cast<py::list>();
  if (depletion.size() != nc) throw py::value_error("run state: 'depletion_values' does not match this model");
  for (std::size_t c = 0; c < nc; ++c)
    agg.depletion_values()[c] = vector_of<double>(depletion[c], std::nullopt, "depletion_values");
  agg.default_count_histogram() =
      vector_of<std::int64_t>(state["default_histogram"], std::nullopt, "default_histogram");
}

template <class T>
void extend(std::vector<T>& out, const py::handle& h, const char* what) {
  const auto v = vector_of<T>(h, std::nullopt, what);
  out.insert(out.end(), v.begin(), v.end());
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
  std::vector<std::unique_ptr<Aggregate>> aggregates;
  for (const Part& p : parts) {
    aggregates.push_back(std::make_unique<Aggregate>(m));
    restore_aggregate(m, p.state, *aggregates.back());
  }
  if (keep) {
    auto cols = std::make_shared<ScenarioColumns>(m.ccps.size());
    const auto names = scenario_column_names(m);
    for (const Part& p : parts) {
      const py::dict s = p.state["scenarios"].cast<py::dict>();
      extend(cols->scenario, s[py::str(names[0])], "scenario");
      extend(cols->market_factor, s[py::str(names[1])], "market_factor");
      extend(cols->member_defaults, s[py::str(names[2])], "member_defaults");
      extend(cols->ccp_failures, s[py::str(names[3])], "ccp_failures");
      extend(cols->cascade_rounds, s[py::str(names[4])], "cascade_rounds");
      extend(cols->closeout_loss, s[py::str(names[5])], "closeout_loss");
      extend(cols->total_loss, s[py::str(names[6])], "total_loss");
      extend(cols->uncovered_loss, s[py::str(names[7])], "uncovered_loss");
      for (std::size_t c = 0; c < m.ccps.size(); ++c) {
        extend(cols->ccp_loss[c], s[py::str(names[8 + 2 * c])], "loss");
        extend(cols->ccp_failed[c], s[py::str(names[9 + 2 * c])], "failed");
      }
    }
    out->columns = std::move(cols);
  }
  {
    py::gil_scoped_release release;
    for (const auto& a : aggregates) r.aggregate.merge(*a);
    r.aggregate.finish();
  }
  return out;
}

// ---- running --------------------------------------------------------------------------------

// The decimal text of a Python integer (operator.index: no floats, no strings).
std::string int_text(const py::object& value) {
  return py::str(py::module_::import("operator").attr("index")(value)).cast<std::string>();
}

std::int64_t checked(const py::object& value, std::int64_t lo, std::int64_t hi, const char* what) {
  const auto v = value.cast<std::int64_t>();
  if (v < lo || v > hi)
    throw py::value_error(fmt::format("{}: expected a value in [{}, {}], found {}", what, lo, hi, v));
  return v;
}

RunPtr run(const ModelPtr& base, const py::object& scenarios, const py::object& seed, const py::object& threads,
           const py::object& batch, std::int64_t first, const py::object& count, bool keep_scenarios, bool progress,
           const std::string& interrupt) {
  if (interrupt != "raise" && interrupt != "partial")
    throw py::value_error("interrupt: expected 'raise' or 'partial', found '" + interrupt + "'");
  // Seed and scenario count are keys of the scenario: set them as overrides, so
  // they are validated like the file and appear in the resolved scenario.
  std::vector<config::Override> extra;
  if (!seed.is_none() && int_text(seed) != std::to_string(base->model.seed)) extra.push_back({"seed", int_text(seed)});
  if (!scenarios.is_none() && int_text(scenarios) != std::to_string(base->model.scenarios))
    extra.push_back({"simulation.scenarios", int_text(scenarios)});
  const ModelPtr model = derive_model(base, extra);

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
    kept = std::make_shared<ScenarioColumns>(model->model.ccps.size());
    kept->reserve(static_cast<std::size_t>(std::min<std::int64_t>(options.count, std::int64_t{1} << 20)));
  }

  // Ctrl-C: the GIL is released while the engine runs; once per chunk of
  // scenarios the callback takes it back to let Python see a pending signal,
  // and asks the runner to stop after the current window.
  std::atomic<bool> stop{false};
  std::optional<py::error_already_set> signal_error;
  std::int64_t since_check = 0;
  ScenarioColumns* cols = kept.get();
  options.stop = &stop;
  options.on_scenario = [&](const ScenarioResult& r) {
    if (cols) cols->append(r);
    if (++since_check < kChunk || signal_error) return;
    since_check = 0;
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) {
      signal_error.emplace();  // takes the pending exception (KeyboardInterrupt)
      stop = true;
    }
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
      throw SimulationFailure(fmt::format("the run of '{}' failed: {}", model->model.name, e.what()));
    }
  }
  if (out_of_memory) {
    PyErr_SetString(PyExc_MemoryError, keep_scenarios ? "out of memory during the run; run with keep_scenarios=False "
                                                        "(the summary and tables need no per-scenario memory)"
                                                      : "out of memory during the run");
    throw py::error_already_set();
  }
  if (signal_error && interrupt == "raise") throw *signal_error;
  auto out = std::make_shared<RunData>(model, std::move(*result));
  out->columns = std::move(kept);
  return out;
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
      .def("ccp_columns", &ccp_columns, "The columns of ccps.csv: dict of str lists and numpy arrays.")
      .def("member_columns", &member_columns, "The columns of members.csv: dict of str lists and numpy arrays.")
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

}  // namespace ccpnet::python
