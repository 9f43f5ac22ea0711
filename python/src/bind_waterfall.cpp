// Bindings of the default waterfall and default-fund sizing (models/waterfall,
// models/default_fund) on numpy arrays: ccpnet.waterfall.
#include <fmt/format.h>
#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "models/default_fund/cover.hpp"
#include "models/waterfall/waterfall.hpp"

namespace py = pybind11;

namespace ccpnet::python {

namespace {

using Eigen::VectorXd;

struct WaterfallRun {
  std::vector<models::Layer> layers;
  std::vector<models::Defaulter> defaulters;
  std::vector<models::Survivor> survivors;
  models::CcpResources ccp;  // what is left
  models::WaterfallOutcome outcome;
};

models::Layer layer_of(const std::string& name) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < models::kLayerCount; ++i) {
    const auto layer = static_cast<models::Layer>(i);
    if (models::layer_name(layer) == name) return layer;
    names.emplace_back(models::layer_name(layer));
  }
  throw py::value_error(fmt::format("layers: unknown layer '{}'; expected one of {}", name, fmt::join(names, ", ")));
}

// One value per element, or zeros when not given; every given array has n elements.
std::vector<double> per_element(const std::optional<VectorXd>& v, std::size_t n, const char* what) {
  if (!v) return std::vector<double>(n, 0.0);
  if (static_cast<std::size_t>(v->size()) != n)
    throw py::value_error(fmt::format("{}: expected {} values, found {}", what, n, v->size()));
  return std::vector<double>(v->data(), v->data() + v->size());
}

std::size_t count_of(std::initializer_list<const std::optional<VectorXd>*> arrays) {
  for (const auto* a : arrays)
    if (*a) return static_cast<std::size_t>((*a)->size());
  return 0;
}

WaterfallRun run(const std::vector<std::string>& layer_names, const VectorXd& loss, const std::optional<VectorXd>& im,
                 const std::optional<VectorXd>& df, const std::optional<VectorXd>& survivor_df,
                 const std::optional<VectorXd>& assessment_cap, const std::optional<VectorXd>& cash,
                 const std::optional<VectorXd>& vm_gain, const std::optional<VectorXd>& adl_gain,
                 const std::optional<VectorXd>& adl_rank, const std::optional<VectorXd>& lender_balance, double sitg,
                 double sitg2, double insurance_fund, double equity) {
  WaterfallRun r;
  for (const auto& name : layer_names) {
    const auto layer = layer_of(name);
    for (const auto l : r.layers)
      if (l == layer) throw py::value_error(fmt::format("layers: '{}' is listed twice", name));
    r.layers.push_back(layer);
  }
  const auto n = static_cast<std::size_t>(loss.size());
  const auto ims = per_element(im, n, "im");
  const auto dfs = per_element(df, n, "df");
  for (std::size_t i = 0; i < n; ++i) {
    if (ims[i] < 0.0 || dfs[i] < 0.0)
      throw py::value_error(fmt::format("defaulter {}: negative initial margin or fund contribution", i));
    models::Defaulter d;
    d.loss = loss(static_cast<Eigen::Index>(i));
    d.im = ims[i];
    d.df = dfs[i];
    r.defaulters.push_back(d);
  }
  const std::size_t s =
      count_of({&survivor_df, &assessment_cap, &cash, &vm_gain, &adl_gain, &adl_rank, &lender_balance});
  const auto sdf = per_element(survivor_df, s, "survivor_df");
  const auto cap = per_element(assessment_cap, s, "assessment_cap");
  const auto money = per_element(cash, s, "cash");
  const auto vm = per_element(vm_gain, s, "vm_gain");
  const auto adl = per_element(adl_gain, s, "adl_gain");
  const auto rank = per_element(adl_rank, s, "adl_rank");
  const auto lent = per_element(lender_balance, s, "lender_balance");
  for (std::size_t i = 0; i < s; ++i) {
    if (sdf[i] < 0.0 || cap[i] < 0.0 || vm[i] < 0.0 || adl[i] < 0.0 || lent[i] < 0.0)
      throw py::value_error(fmt::format("survivor {}: resources must not be negative", i));
    models::Survivor v;
    v.df = sdf[i];
    v.assessment_cap = cap[i];
    v.cash = money[i];
    v.vm_gain = vm[i];
    v.adl_gain = adl[i];
    v.adl_rank = rank[i];
    v.lender_balance = lent[i];
    r.survivors.push_back(v);
  }
  if (sitg < 0.0 || sitg2 < 0.0 || insurance_fund < 0.0 || equity < 0.0)
    throw py::value_error("sitg, sitg2, insurance_fund and equity must not be negative");
  r.ccp = {sitg, sitg2, insurance_fund, equity};
  r.outcome = models::run_waterfall(r.layers, r.defaulters, r.survivors, r.ccp);
  return r;
}

template <class T, class F>
py::array_t<double> field(const std::vector<T>& items, F&& value) {
  return column<double>(items.size(), [&](std::size_t i) { return value(items[i]); });
}

constexpr const char* kRunDoc =
    R"doc(Run a CCP's default waterfall over the losses of the members defaulting in one round.

Parameters
----------
layers : list of str
    The layers in order: defaulter_im, defaulter_df, sitg, sitg2, mutualized_df,
    assessments, vmgh, insurance_fund, adl, lender_haircut, ccp_equity.
loss : array
    Close-out loss of each defaulter (USD; negative: a gain).
im, df : array, optional
    Each defaulter's initial margin and default-fund contribution (default 0).
survivor_df, assessment_cap, cash, vm_gain, adl_gain, adl_rank, lender_balance : array, optional
    Per surviving member (all of one length; missing ones are 0): fund contribution,
    what may still be called in assessments, cash to pay a call, VM gains owed to it,
    unrealised gain that auto-deleveraging may take, its ADL priority (higher first),
    balance lent to a lending protocol.
sitg, sitg2, insurance_fund, equity : float
    The CCP's skin in the game (two tranches), insurance fund and equity beyond SITG.

Per-defaulter layers cover only that defaulter's own loss; mutual layers absorb the
rest pro rata (mutualized_df, vmgh, lender_haircut pro rata to balances;
assessments pro rata to the caps, paid up to each member's cash; ADL by rank).
Conservation: sum of positive losses = sum of by_layer + uncovered.

Returns
-------
WaterfallResult
)doc";

}  // namespace

void bind_waterfall(py::module_& m) {
  py::class_<WaterfallRun>(m, "WaterfallResult", "The outcome of one run of a default waterfall (see run).")
      .def_property_readonly(
          "by_layer",
          [](const WaterfallRun& r) {
            py::dict out;
            for (const auto l : r.layers)
              out[py::str(std::string(models::layer_name(l)))] = r.outcome.by_layer[static_cast<std::size_t>(l)];
            return out;
          },
          "Amount each listed layer absorbed, {layer: USD}, in waterfall order.")
      .def_property_readonly(
          "loss", [](const WaterfallRun& r) { return r.outcome.loss; }, "Sum of the positive losses of the defaulters.")
      .def_property_readonly(
          "uncovered", [](const WaterfallRun& r) { return r.outcome.uncovered; },
          "Left after the last layer: the CCP fails when positive.")
      .def_property_readonly(
          "residual",
          [](const WaterfallRun& r) { return field(r.defaulters, [](const auto& d) { return d.residual; }); },
          "Per defaulter: its loss not absorbed by any layer.")
      .def_property_readonly(
          "im_used", [](const WaterfallRun& r) { return field(r.defaulters, [](const auto& d) { return d.im_used; }); },
          "Per defaulter: its own initial margin used.")
      .def_property_readonly(
          "df_used", [](const WaterfallRun& r) { return field(r.defaulters, [](const auto& d) { return d.df_used; }); },
          "Per defaulter: its own default-fund contribution used.")
      .def_property_readonly(
          "estate_return",
          [](const WaterfallRun& r) { return field(r.defaulters, [](const auto& d) { return d.estate_return; }); },
          "Per defaulter: IM and DF beyond its loss, and any close-out gain, returned to its estate.")
      .def_property_readonly(
          "df_charged",
          [](const WaterfallRun& r) { return field(r.survivors, [](const auto& s) { return s.df_charged; }); },
          "Per survivor: fund contribution used by mutualized_df.")
      .def_property_readonly(
          "assessment_paid",
          [](const WaterfallRun& r) { return field(r.survivors, [](const auto& s) { return s.assessment_paid; }); },
          "Per survivor: assessments paid.")
      .def_property_readonly(
          "assessment_unpaid",
          [](const WaterfallRun& r) { return field(r.survivors, [](const auto& s) { return s.assessment_unpaid; }); },
          "Per survivor: assessments called but not paid (not enough cash).")
      .def_property_readonly(
          "missed_call",
          [](const WaterfallRun& r) {
            return column<bool>(r.survivors.size(), [&](std::size_t i) { return r.survivors[i].missed_call; });
          },
          "Per survivor: could not pay an assessment in full (a liquidity default).")
      .def_property_readonly(
          "vmgh_charged",
          [](const WaterfallRun& r) { return field(r.survivors, [](const auto& s) { return s.vmgh_charged; }); },
          "Per survivor: VM gains haircut.")
      .def_property_readonly(
          "adl_charged",
          [](const WaterfallRun& r) { return field(r.survivors, [](const auto& s) { return s.adl_charged; }); },
          "Per survivor: gain taken by auto-deleveraging.")
      .def_property_readonly(
          "lender_charged",
          [](const WaterfallRun& r) { return field(r.survivors, [](const auto& s) { return s.lender_charged; }); },
          "Per survivor: lent balance haircut.")
      .def_property_readonly(
          "ccp_left",
          [](const WaterfallRun& r) {
            py::dict out;
            out["sitg"] = r.ccp.sitg;
            out["sitg2"] = r.ccp.sitg2;
            out["insurance_fund"] = r.ccp.insurance_fund;
            out["equity"] = r.ccp.equity;
            return out;
          },
          "The CCP's resources left: {sitg, sitg2, insurance_fund, equity}.")
      .def("__repr__", [](const WaterfallRun& r) {
        return fmt::format("<WaterfallResult: loss {:.6g}, uncovered {:.6g}>", r.outcome.loss, r.outcome.uncovered);
      });

  m.def("run", &run, py::arg("layers"), py::arg("loss"), py::arg("im") = py::none(), py::arg("df") = py::none(),
        py::kw_only(), py::arg("survivor_df") = py::none(), py::arg("assessment_cap") = py::none(),
        py::arg("cash") = py::none(), py::arg("vm_gain") = py::none(), py::arg("adl_gain") = py::none(),
        py::arg("adl_rank") = py::none(), py::arg("lender_balance") = py::none(), py::arg("sitg") = 0.0,
        py::arg("sitg2") = 0.0, py::arg("insurance_fund") = 0.0, py::arg("equity") = 0.0, kRunDoc);

  m.def(
      "layer_names",
      [] {
        std::vector<std::string> out;
        for (std::size_t i = 0; i < models::kLayerCount; ++i)
          out.emplace_back(models::layer_name(static_cast<models::Layer>(i)));
        return out;
      },
      "Every waterfall layer, in the engine's order.");

  m.def("adl_rank", &models::adl_rank, py::arg("pnl"), py::arg("margin"), py::arg("notional"),
        "ADL priority of a position (BitMEX ranking): PnL% x effective leverage for a gain, PnL% / effective "
        "leverage for a loss; PnL% = pnl / margin, effective leverage = notional / (margin + pnl).");

  m.def(
      "size_cover",
      [](const Eigen::MatrixXd& uncovered, int cover, double other_prefunded) {
        const auto s = models::size_cover(uncovered, cover, other_prefunded);
        py::dict out;
        out["fund"] = s.fund;
        out["scenario"] = static_cast<std::int64_t>(s.scenario);
        out["groups"] = std::vector<std::int64_t>(s.groups.begin(), s.groups.end());
        return out;
      },
      py::arg("uncovered"), py::arg("cover") = 2, py::arg("other_prefunded") = 0.0,
      R"doc(Default fund by Cover-1 or Cover-2 (EMIR art. 42(3), 43(2)).

uncovered: groups x stress scenarios, the stress loss of each group beyond its IM
(negative entries count as 0). Cover-1: max_s U(1)(s). Cover-2: max_s max(U(1),
U(2) + U(3), U(1) + U(2) - other_prefunded). Returns {'fund', 'scenario', 'groups'}
(the scenario that sets it and its largest groups, largest first).
)doc");
  m.def("allocate_pro_rata", &models::allocate_pro_rata, py::arg("weights"), py::arg("total"),
        "Split `total` pro rata to non-negative weights (all zero: equal shares).");
}

}  // namespace ccpnet::python
