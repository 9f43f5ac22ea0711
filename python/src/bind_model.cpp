// Bindings of scenario loading and the built model: ccpnet.load,
// ccpnet.Model (from a file, a dict or text; its ids, margins and funds).
#include <fmt/format.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "sim/cascade.hpp"
#include "sim/config/yaml_reader.hpp"
#include "sim/output.hpp"
#include "sim/runner.hpp"

namespace py = pybind11;

namespace ccpnet::python {

namespace {

// ---- building ------------------------------------------------------------------

ModelPtr finish_handle(config::LoadedScenario loaded, std::vector<config::Override> overrides) {
  auto handle = std::make_shared<ModelHandle>();
  handle->loaded = std::move(loaded);
  handle->overrides = std::move(overrides);
  handle->model = build_model(handle->loaded);
  handle->resolved_yaml = config::to_yaml(handle->loaded.scenario);
  handle->resolved_sha256 = sha256_hex(handle->resolved_yaml);
  return handle;
}

ModelPtr load_model_file(const std::string& path, std::vector<config::Override> overrides, config::DataAccess access) {
  py::gil_scoped_release release;
  auto loaded = config::load_scenario_file(path, overrides, access);
  return finish_handle(std::move(loaded), std::move(overrides));
}

// The Python helper that writes plain data as scenario text (JSON is YAML).
py::object text_helper(const char* name) { return py::module_::import("ccpnet._text").attr(name); }

// The text of a scenario given as plain data, as UTF-8 bytes. A lone surrogate
// stays in them (encoded as it is), so that the loader refuses it at its line
// and column as invalid UTF-8; data no text can hold (a cycle, nesting too
// deep) is a ScenarioError of <dict> too.
std::string dict_text(const py::object& data) {
  py::object text;
  try {
    text = text_helper("scenario_text")(data);
  } catch (py::error_already_set& e) {
    if (!e.matches(py::module_::import("ccpnet._text").attr("UnwritableError"))) throw;
    config::Diagnostics d("<dict>");
    d.error(config::Location{1, 1, {}}, e.value().attr("path").cast<std::string>(),
            e.value().attr("message").cast<std::string>());
    throw config::ScenarioError(std::move(d));
  }
  return text.attr("encode")("utf-8", "surrogatepass").cast<std::string>();
}

// ---- resolved scenario -> plain Python data ------------------------------------

bool is_integer_text(const std::string& s) {
  std::size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

py::object to_python(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null: return py::none();
    case YAML::NodeType::Scalar: {
      const std::string& s = node.Scalar();
      if (node.Tag() == "!") return py::str(s);  // quoted: a string
      if (s == "true") return py::bool_(true);
      if (s == "false") return py::bool_(false);
      if (s == "null" || s == "~") return py::none();
      if (is_integer_text(s)) return py::reinterpret_steal<py::object>(PyLong_FromString(s.c_str(), nullptr, 10));
      if (auto d = config::parse_double(s)) return py::float_(*d);
      return py::str(s);  // names: enum values, layer names
    }
    case YAML::NodeType::Sequence: {
      py::list out;
      for (const auto& item : node) out.append(to_python(item));
      return out;
    }
    case YAML::NodeType::Map: {
      py::dict out;
      for (auto it = node.begin(); it != node.end(); ++it) out[py::str(it->first.Scalar())] = to_python(it->second);
      return out;
    }
  }
  return py::none();
}

// ---- arrays ----------------------------------------------------------------------

const char* account_kind_name(AccountKind kind) {
  switch (kind) {
    case AccountKind::kMember: return "member";
    case AccountKind::kLink: return "link";
    case AccountKind::kRestOfMarket: return "rest_of_market";
    case AccountKind::kClient: return "client";
  }
  return "?";
}

std::string account_owner(const Model& m, const Account& a) {
  switch (a.kind) {
    case AccountKind::kMember: return m.members[static_cast<std::size_t>(a.owner)].id;
    case AccountKind::kLink: return m.ccps[static_cast<std::size_t>(a.owner)].id;
    case AccountKind::kRestOfMarket: return "";
    case AccountKind::kClient: return m.clients[static_cast<std::size_t>(a.owner)].id;
  }
  return "";
}

double ccp_initial_margin(const Model& m, const CcpModel& ccp) {
  double im = 0.0;  // summed as in summary.json
  for (int a : ccp.accounts) im += m.accounts[static_cast<std::size_t>(a)].initial_margin;
  return im;
}

template <class T>
std::vector<std::string> ids(const std::vector<T>& items) {
  std::vector<std::string> out;
  out.reserve(items.size());
  for (const auto& x : items) out.push_back(x.id);
  return out;
}

// One scenario, for inspection.
py::dict scenario_dict(const Model& m, const ScenarioResult& r) {
  py::dict out;
  out["scenario"] = r.index;
  out["market_factor"] = r.market_factor;
  out["cascade_rounds"] = r.rounds;
  out["closeout_loss"] = r.closeout_loss;
  out["total_loss"] = r.total_loss;
  out["uncovered_loss"] = r.uncovered;
  py::dict ccps;
  for (std::size_t c = 0; c < m.ccps.size(); ++c) {
    const CcpModel& ccp = m.ccps[c];
    py::dict e;
    e["loss"] = r.ccp_loss(c);
    e["uncovered_loss"] = r.ccp_uncovered[c];
    e["df_used"] = r.ccp_df_used[c];
    e["failed_round"] = r.ccp_fail_round[c] >= 0 ? py::object(py::int_(r.ccp_fail_round[c])) : py::object(py::none());
    e["failed_day"] = r.ccp_fail_day[c] >= 0.0 ? py::object(py::float_(r.ccp_fail_day[c])) : py::object(py::none());
    py::dict layers;
    for (const auto layer : ccp.waterfall) {
      const auto l = static_cast<std::size_t>(layer);
      layers[py::str(std::string(models::layer_name(layer)))] = r.ccp_layers[c * models::kLayerCount + l];
    }
    e["layer_losses"] = layers;
    ccps[py::str(ccp.id)] = e;
  }
  out["ccps"] = ccps;
  py::list defaults;
  for (const auto& d : r.defaults) {
    py::dict e;
    e["member"] = m.members[static_cast<std::size_t>(d.member)].id;
    e["round"] = d.round;
    e["day"] = d.day;
    e["cause"] = cause_name(d.cause);
    defaults.append(e);
  }
  out["defaults"] = defaults;
  return out;
}

constexpr const char* kOverridesDoc =
    "overrides : list of str or dict, optional\n"
    "    Changes applied to the scenario before it is validated, like ``ccpnet run --set``:\n"
    "    ``[\"simulation.scenarios=5000\", \"ccps.CCP_A.capital=3e8\"]`` or\n"
    "    ``{\"simulation.scenarios\": 5000, \"ccps.CCP_A.capital\": 3e8}``. A path names keys,\n"
    "    ``[i]`` indices, or the id of an element of a list (``ccps.CCP_A``). In a dict,\n"
    "    str values are YAML text; other values are written as data.\n";

constexpr const char* kOutsideDataDoc =
    "allow_outside_data : bool, default False\n"
    "    Read data files (``market.history.file``, ``trades_file``) anywhere, like\n"
    "    ``ccpnet run --allow-outside-data``. By default they must lie in the scenario\n"
    "    file's directory or below it, and absolute paths are refused. Derived models\n"
    "    (:meth:`Model.with_overrides`, variants, pickles) keep the choice.\n";

config::DataAccess data_access(bool anywhere) {
  return anywhere ? config::DataAccess::kAnywhere : config::DataAccess::kBesideScenario;
}

}  // namespace

// ---- shared with bind_run ------------------------------------------------------------

ModelPtr load_model(std::string text, const std::string& source_name, std::vector<config::Override> overrides,
                    config::DataAccess access) {
  py::gil_scoped_release release;
  auto loaded = config::load_scenario_text(text, source_name, overrides, access);
  return finish_handle(std::move(loaded), std::move(overrides));
}

ModelPtr derive_model(const ModelPtr& base, const std::vector<config::Override>& extra) {
  if (extra.empty()) return base;
  std::vector<config::Override> all = base->overrides;
  all.insert(all.end(), extra.begin(), extra.end());
  return load_model(base->loaded.text, base->loaded.source_name, std::move(all), base->loaded.data_access);
}

namespace {
// A count or a seed as the text of an override; True and False stay booleans,
// which the loader refuses where an integer is expected, as in a file.
std::string int_text(const py::object& value) {
  if (py::isinstance<py::bool_>(value)) return value.cast<bool>() ? "true" : "false";
  return py::str(py::module_::import("operator").attr("index")(value)).cast<std::string>();
}
}  // namespace

std::vector<config::Override> seed_and_scenarios(const ModelPtr& base, const py::object& seed,
                                                 const py::object& scenarios) {
  std::vector<config::Override> extra;
  if (!seed.is_none() && int_text(seed) != std::to_string(base->model.seed)) extra.push_back({"seed", int_text(seed)});
  if (!scenarios.is_none() && int_text(scenarios) != std::to_string(base->model.scenarios))
    extra.push_back({"simulation.scenarios", int_text(scenarios)});
  return extra;
}

std::vector<config::Override> to_overrides(const py::handle& overrides) {
  std::vector<config::Override> out;
  if (overrides.is_none()) return out;
  if (py::isinstance<py::str>(overrides))
    throw py::type_error("overrides: expected a list of 'key.path=value' strings or a dict, found one str");
  if (py::isinstance<py::dict>(overrides) || py::hasattr(overrides, "items")) {
    const py::object value_text = text_helper("value_text");
    for (const auto item : overrides.attr("items")()) {
      const auto pair = item.cast<py::tuple>();
      if (!py::isinstance<py::str>(pair[0]))
        throw py::type_error(
            fmt::format("overrides: keys are key paths (str), found {}", py::repr(pair[0]).cast<std::string>()));
      const py::handle v = pair[1];
      out.push_back({pair[0].cast<std::string>(),
                     py::isinstance<py::str>(v) ? v.cast<std::string>() : value_text(v).cast<std::string>()});
    }
    return out;
  }
  for (const auto item : overrides) {
    if (!py::isinstance<py::str>(item))
      throw py::type_error(
          fmt::format("overrides: expected 'key.path=value' strings, found {}", py::repr(item).cast<std::string>()));
    out.push_back(config::Override::parse(item.cast<std::string>()));
  }
  return out;
}

void bind_model(py::module_& m) {
  py::class_<ModelHandle, ModelPtr> model(m, "Model", R"doc(
A validated scenario and the system built from it, ready to run.

Build one with :func:`ccpnet.load` (a YAML file), :meth:`Model.from_dict` (plain
Python data with the keys of a scenario file) or :meth:`Model.from_text`. The same
checks and messages as ``ccpnet validate`` apply; bad input raises
:class:`ccpnet.ScenarioError`. A model never changes once built: use
:meth:`with_overrides` for a variant. Models are independent of each other and can
be pickled (the scenario text and overrides travel; the model is rebuilt).

Example
-------
>>> m = ccpnet.load("scenarios/two_ccp_peer.yaml")
>>> m.ccp_ids
['CCP_A', 'CCP_B']
>>> ccpnet.run(m, scenarios=10_000).summary["system"]["p_any_ccp_fail"]  # doctest: +SKIP
)doc");

  m.def(
      "load",
      [](const py::object& path, const py::object& overrides, bool allow_outside_data) {
        const std::string p = py::module_::import("os").attr("fspath")(path).cast<std::string>();
        std::error_code ec;
        if (!std::filesystem::exists(p, ec) && !ec) {  // as open() says it: errno, strerror, file name
          PyErr_SetObject(PyExc_FileNotFoundError, py::make_tuple(ENOENT, std::strerror(ENOENT), p).ptr());
          throw py::error_already_set();
        }
        return load_model_file(p, to_overrides(overrides), data_access(allow_outside_data));
      },
      py::arg("path"), py::arg("overrides") = py::none(), py::kw_only(), py::arg("allow_outside_data") = false,
      (std::string(R"doc(Load a scenario file (YAML) and build its model.

Parameters
----------
path : str or os.PathLike
    The scenario file.
)doc") +
       kOverridesDoc + kOutsideDataDoc +
       R"doc(
Returns
-------
Model

Raises
------
FileNotFoundError
    There is no file at ``path``.
ScenarioError
    The file cannot be read or is not a valid scenario; every problem is listed,
    located as ``FILE:LINE:COL: key.path: message``.
)doc")
          .c_str());

  model
      .def_static(
          "from_text",
          [](const std::string& text, const std::string& source_name, const py::object& overrides,
             bool allow_outside_data) {
            return load_model(text, source_name, to_overrides(overrides), data_access(allow_outside_data));
          },
          py::arg("text"), py::arg("source_name") = "<text>", py::arg("overrides") = py::none(), py::kw_only(),
          py::arg("allow_outside_data") = false,
          (std::string(R"doc(Build a model from scenario text (YAML or JSON).

Parameters
----------
text : str
    The scenario, as in a scenario file.
source_name : str
    The name used in error messages instead of a file name; data files are looked
    for beside it.
)doc") + kOverridesDoc +
           kOutsideDataDoc)
              .c_str())
      .def_static(
          "from_dict",
          [](const py::object& data, const py::object& overrides) {
            if (!py::isinstance<py::dict>(data) && !py::hasattr(data, "items"))
              throw py::type_error("Model.from_dict: expected a dict with the keys of a scenario file, found " +
                                   py::str(py::type::handle_of(data).attr("__name__")).cast<std::string>());
            return load_model(dict_text(data), "<dict>", to_overrides(overrides));
          },
          py::arg("data"), py::arg("overrides") = py::none(),
          (std::string(R"doc(Build a model from plain Python data with the keys of a scenario file.

The data is written as JSON text (JSON is YAML; ``float('inf')`` becomes ``.inf``,
numpy scalars and arrays are accepted) and loaded under the name ``<dict>``, so
validation and messages are those of a file: an unknown key gives
``<dict>:LINE:COL: ccps[0].capitl: unknown key 'capitl' (did you mean 'capital'?)``,
the line being that of the JSON text (see :func:`ccpnet.scenario_text`).

Parameters
----------
data : dict
    The scenario, e.g. :meth:`to_dict` of a model. A str is a string (``"1e8"`` is not
    a number), as a quoted value in a file: PyYAML's ``yaml.safe_load`` reads ``2.0e8`` as a
    str (YAML 1.1); load files with :func:`ccpnet.load`. Data no file can hold (control
    characters, lone surrogates, a dict containing itself) raises ScenarioError too.
)doc") + kOverridesDoc)
              .c_str())
      .def(
          "with_overrides",
          [](const ModelPtr& self, const py::object& overrides, const py::object& seed, const py::object& scenarios) {
            std::vector<config::Override> extra = to_overrides(overrides);
            for (auto& o : seed_and_scenarios(self, seed, scenarios)) extra.push_back(std::move(o));
            return derive_model(self, extra);
          },
          py::arg("overrides") = py::none(), py::kw_only(), py::arg("seed") = py::none(),
          py::arg("scenarios") = py::none(),
          (std::string(R"doc(The same scenario with more overrides: a new, validated model.

Parameters
----------
)doc") + kOverridesDoc +
           R"doc(seed : int, optional
    Master seed (the ``seed`` key).
scenarios : int, optional
    Number of scenarios (``simulation.scenarios``).
)doc")
              .c_str())
      .def(
          "to_dict", [](const ModelHandle& h) { return to_python(YAML::Load(h.resolved_yaml)); },
          R"doc(The resolved scenario as plain data: every key, defaults and overrides applied.

``Model.from_dict(m.to_dict())`` builds the same model. Numbers are int or float,
unbounded values ``float('inf')``.
)doc")
      .def(
          "to_yaml", [](const ModelHandle& h) { return h.resolved_yaml; },
          "The resolved scenario as YAML text (what ``ccpnet run`` writes as scenario.resolved.yaml).")
      .def(
          "scenario",
          [](const ModelHandle& h, std::int64_t index) {
            if (index < 0) throw py::value_error("scenario index must be >= 0");
            ScenarioResult r;
            {
              py::gil_scoped_release release;
              r = run_scenario(h.model, index);
            }
            return scenario_dict(h.model, r);
          },
          py::arg("index"), R"doc(Run one scenario on its own and return what happened in it.

The numbers are those of scenario ``index`` inside any run with this seed.

Returns
-------
dict
    ``scenario``, ``market_factor``, ``cascade_rounds``, ``closeout_loss``,
    ``total_loss``, ``uncovered_loss``, ``ccps`` ({id: loss, uncovered_loss, df_used,
    failed_round (None: survived), layer_losses {layer: amount}}) and ``defaults``
    (list of {member, round, cause}).
)doc")
      .def_property_readonly(
          "name", [](const ModelHandle& h) { return h.model.name; }, "Name of the scenario.")
      .def_property_readonly(
          "description", [](const ModelHandle& h) { return h.loaded.scenario.description; },
          "What the scenario stresses and why.")
      .def_property_readonly(
          "seed", [](const ModelHandle& h) { return h.model.seed; }, "Master seed of every random draw.")
      .def_property_readonly(
          "scenarios", [](const ModelHandle& h) { return h.model.scenarios; },
          "Number of scenarios of a run (simulation.scenarios).")
      .def_property_readonly(
          "batch", [](const ModelHandle& h) { return h.model.batch; }, "Scenarios per batch (simulation.batch).")
      .def_property_readonly(
          "threads", [](const ModelHandle& h) { return h.model.threads; },
          "Worker threads of a run (simulation.threads; 0: all cores).")
      .def_property_readonly(
          "source_name", [](const ModelHandle& h) { return h.loaded.source_name; },
          "Where the scenario came from: the file name, '<dict>' or '<text>'.")
      .def_property_readonly(
          "source_text", [](const ModelHandle& h) { return h.loaded.text; },
          "The scenario text as read (before overrides).")
      .def_property_readonly(
          "overrides",
          [](const ModelHandle& h) {
            std::vector<std::string> out;
            for (const auto& o : h.overrides) out.push_back(o.path + "=" + o.value);
            return out;
          },
          "The overrides applied on top of the source text, as 'key.path=value'.")
      .def_property_readonly(
          "sha256", [](const ModelHandle& h) { return h.resolved_sha256; },
          "SHA-256 of the resolved scenario (manifest.json's resolved_scenario_sha256).")
      .def_property_readonly(
          "warnings", [](const ModelHandle& h) { return h.loaded.warnings; },
          "Warnings of loading (e.g. a repaired correlation matrix).")
      .def_property_readonly(
          "asset_ids", [](const ModelHandle& h) { return ids(h.model.assets); }, "Asset ids, in model order.")
      .def_property_readonly(
          "ccp_ids", [](const ModelHandle& h) { return ids(h.model.ccps); }, "CCP ids, in model order.")
      .def_property_readonly(
          "member_ids", [](const ModelHandle& h) { return ids(h.model.members); }, "Member ids, in model order.")
      .def_property_readonly(
          "group_ids", [](const ModelHandle& h) { return h.model.group_ids; },
          "Default-group ids (members of a group default together).")
      .def_property_readonly(
          "member_group",
          [](const ModelHandle& h) {
            return column<std::int64_t>(h.model.members.size(),
                                        [&](std::size_t i) { return h.model.members[i].group; });
          },
          "Group of each member: index into group_ids (int64 array).")
      .def_property_readonly(
          "member_capital",
          [](const ModelHandle& h) {
            return column<double>(h.model.members.size(), [&](std::size_t i) { return h.model.members[i].capital; });
          },
          "Capital of each member (USD).")
      .def_property_readonly(
          "member_liquidity",
          [](const ModelHandle& h) {
            return column<double>(h.model.members.size(), [&](std::size_t i) { return h.model.members[i].liquidity; });
          },
          "Liquid resources of each member (USD).")
      .def_property_readonly(
          "ccp_capital",
          [](const ModelHandle& h) {
            return column<double>(h.model.ccps.size(), [&](std::size_t i) { return h.model.ccps[i].capital; });
          },
          "Capital of each CCP (USD).")
      .def_property_readonly(
          "ccp_default_fund",
          [](const ModelHandle& h) {
            return column<double>(h.model.ccps.size(), [&](std::size_t i) { return h.model.ccps[i].default_fund; });
          },
          "Prefunded default fund of each CCP (USD).")
      .def_property_readonly(
          "ccp_initial_margin",
          [](const ModelHandle& h) {
            return column<double>(h.model.ccps.size(),
                                  [&](std::size_t i) { return ccp_initial_margin(h.model, h.model.ccps[i]); });
          },
          "Initial margin held by each CCP, all accounts (USD).")
      .def_property_readonly(
          "links",
          [](const ModelHandle& h) {
            py::array_t<std::int64_t> out({static_cast<py::ssize_t>(h.model.links.size()), py::ssize_t{2}});
            auto w = out.mutable_unchecked<2>();
            for (std::size_t l = 0; l < h.model.links.size(); ++l) {
              w(static_cast<py::ssize_t>(l), 0) = h.model.links[l].first;
              w(static_cast<py::ssize_t>(l), 1) = h.model.links[l].second;
            }
            return out;
          },
          "Interoperability links: (n, 2) int64 array of CCP indices.")
      .def_property_readonly(
          "account_kind",
          [](const ModelHandle& h) {
            std::vector<std::string> out;
            for (const auto& a : h.model.accounts) out.emplace_back(account_kind_name(a.kind));
            return out;
          },
          "Kind of each position account: 'member', 'link' (a linked CCP) or 'rest_of_market'.")
      .def_property_readonly(
          "account_ccp",
          [](const ModelHandle& h) {
            return column<std::int64_t>(h.model.accounts.size(),
                                        [&](std::size_t i) { return h.model.accounts[i].ccp; });
          },
          "CCP of each account: index into ccp_ids (int64 array).")
      .def_property_readonly(
          "account_owner",
          [](const ModelHandle& h) {
            return column<std::int64_t>(h.model.accounts.size(),
                                        [&](std::size_t i) { return h.model.accounts[i].owner; });
          },
          "Owner of each account: member index (member), CCP index (link), -1 (rest of market).")
      .def_property_readonly(
          "initial_margin",
          [](const ModelHandle& h) {
            return column<double>(h.model.accounts.size(),
                                  [&](std::size_t i) { return h.model.accounts[i].initial_margin; });
          },
          "Initial margin of each account (USD, float64 array).")
      .def_property_readonly(
          "default_fund",
          [](const ModelHandle& h) {
            return column<double>(h.model.accounts.size(),
                                  [&](std::size_t i) { return h.model.accounts[i].default_fund; });
          },
          "Default-fund contribution of each account (USD, float64 array).")
      .def_property_readonly(
          "accounts",
          [](const ModelHandle& h) {
            const Model& md = h.model;
            std::vector<std::string> kind, ccp, owner;
            for (const auto& a : md.accounts) {
              kind.emplace_back(account_kind_name(a.kind));
              ccp.push_back(md.ccps[static_cast<std::size_t>(a.ccp)].id);
              owner.push_back(account_owner(md, a));
            }
            py::dict cols;
            cols["kind"] = kind;
            cols["ccp"] = ccp;
            cols["owner"] = owner;
            const std::size_t n = md.accounts.size();
            cols["initial_margin"] = column<double>(n, [&](std::size_t i) { return md.accounts[i].initial_margin; });
            cols["default_fund"] = column<double>(n, [&](std::size_t i) { return md.accounts[i].default_fund; });
            cols["notional"] = column<double>(n, [&](std::size_t i) { return md.accounts[i].notional; });
            cols["liquidation_cost"] =
                column<double>(n, [&](std::size_t i) { return md.accounts[i].liquidation_cost; });
            return py::module_::import("pandas").attr("DataFrame")(cols);
          },
          "Position accounts as a pandas DataFrame: kind, ccp, owner, initial_margin, default_fund,\n"
          "notional, liquidation_cost (USD).")
      .def("__repr__",
           [](const ModelHandle& h) {
             return fmt::format("<ccpnet.Model '{}': {} assets, {} CCPs, {} members, {} links, seed {}>", h.model.name,
                                h.model.assets.size(), h.model.ccps.size(), h.model.members.size(),
                                h.model.links.size(), h.model.seed);
           })
      .def(py::pickle(
          [](const ModelHandle& h) {
            py::list overrides;
            for (const auto& o : h.overrides) overrides.append(py::make_tuple(o.path, o.value));
            return py::make_tuple(2, h.loaded.text, h.loaded.source_name, overrides,
                                  h.loaded.data_access == config::DataAccess::kAnywhere);
          },
          [](const py::tuple& state) {
            // Version 1 had no data-access flag: data files beside the scenario.
            const bool v1 = state.size() == 4 && state[0].cast<int>() == 1;
            const bool v2 = state.size() == 5 && state[0].cast<int>() == 2;
            if (!v1 && !v2) throw std::runtime_error("bad ccpnet.Model pickle");
            std::vector<config::Override> overrides;
            for (const auto item : state[3].cast<py::list>()) {
              const auto t = item.cast<py::tuple>();
              overrides.push_back({t[0].cast<std::string>(), t[1].cast<std::string>()});
            }
            return load_model(state[1].cast<std::string>(), state[2].cast<std::string>(), std::move(overrides),
                              data_access(v2 && state[4].cast<bool>()));
          }));
}

}  // namespace ccpnet::python
