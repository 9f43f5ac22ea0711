// Bindings of the default waterfall, auto-deleveraging, the venue liquidation
// engine and default-fund sizing (models/waterfall, models/default_fund) on
// numpy arrays: ccpnet.waterfall.
#include <fmt/format.h>
#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "models/default_fund/cover.hpp"
#include "models/waterfall/adl.hpp"
#include "models/waterfall/venue_liquidation.hpp"
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
  models::VmghCaps vmgh;     // what the total cap leaves
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
                 double sitg2, double insurance_fund, double equity, const std::optional<VectorXd>& adl_quantity,
                 const std::optional<VectorXd>& adl_mark_price, const std::optional<VectorXd>& adl_bankruptcy_price,
                 double vmgh_max_rate, const std::optional<double>& vmgh_per_call,
                 const std::optional<double>& vmgh_total_cap) {
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
  const std::size_t s = count_of({&survivor_df, &assessment_cap, &cash, &vm_gain, &adl_gain, &adl_rank, &lender_balance,
                                  &adl_quantity, &adl_mark_price, &adl_bankruptcy_price});
  const auto sdf = per_element(survivor_df, s, "survivor_df");
  const auto cap = per_element(assessment_cap, s, "assessment_cap");
  const auto money = per_element(cash, s, "cash");
  const auto vm = per_element(vm_gain, s, "vm_gain");
  const auto adl = per_element(adl_gain, s, "adl_gain");
  const auto rank = per_element(adl_rank, s, "adl_rank");
  const auto lent = per_element(lender_balance, s, "lender_balance");
  const auto qty = per_element(adl_quantity, s, "adl_quantity");
  const auto mark = per_element(adl_mark_price, s, "adl_mark_price");
  const auto bankrupt = per_element(adl_bankruptcy_price, s, "adl_bankruptcy_price");
  for (std::size_t i = 0; i < s; ++i) {
    if (sdf[i] < 0.0 || cap[i] < 0.0 || vm[i] < 0.0 || adl[i] < 0.0 || lent[i] < 0.0 || qty[i] < 0.0)
      throw py::value_error(fmt::format("survivor {}: resources must not be negative", i));
    models::Survivor v;
    v.df = sdf[i];
    v.assessment_cap = cap[i];
    v.cash = money[i];
    v.vm_gain = vm[i];
    v.adl_gain = adl[i];
    v.adl_rank = rank[i];
    v.lender_balance = lent[i];
    v.adl_quantity = qty[i];
    v.adl_mark_price = mark[i];
    v.adl_bankruptcy_price = bankrupt[i];
    r.survivors.push_back(v);
  }
  if (sitg < 0.0 || sitg2 < 0.0 || insurance_fund < 0.0 || equity < 0.0)
    throw py::value_error("sitg, sitg2, insurance_fund and equity must not be negative");
  r.ccp = {sitg, sitg2, insurance_fund, equity};
  constexpr double kNoCap = std::numeric_limits<double>::infinity();
  r.vmgh = {vmgh_max_rate, vmgh_per_call.value_or(kNoCap), vmgh_total_cap.value_or(kNoCap)};
  if (!(r.vmgh.max_rate >= 0.0 && r.vmgh.max_rate <= 1.0))
    throw py::value_error(fmt::format("vmgh_max_rate must be in [0, 1], got {}", vmgh_max_rate));
  if (!(r.vmgh.per_call >= 0.0) || !(r.vmgh.total_left >= 0.0))
    throw py::value_error("vmgh_per_call and vmgh_total_cap must not be negative");
  r.outcome = models::run_waterfall(r.layers, r.defaulters, r.survivors, r.ccp, r.vmgh);
  return r;
}

template <class T, class F>
py::array_t<double> field(const std::vector<T>& items, F&& value) {
  return column<double>(items.size(), [&](std::size_t i) { return value(items[i]); });
}

models::Side side_of(const std::string& name) {
  if (name == "long") return models::Side::kLong;
  if (name == "short") return models::Side::kShort;
  throw py::value_error(fmt::format("side: expected 'long' or 'short', got '{}'", name));
}

models::AdlRanking ranking_of(const std::string& name) {
  if (const auto r = models::adl_ranking_from_name(name)) return *r;
  throw py::value_error(fmt::format("ranking: expected bitmex, pnl or leverage, got '{}'", name));
}

std::vector<models::AdlAccount> adl_accounts(const VectorXd& quantity, const VectorXd& entry_price,
                                             const VectorXd& mark_price, const VectorXd& margin) {
  const auto n = quantity.size();
  if (entry_price.size() != n || mark_price.size() != n || margin.size() != n)
    throw py::value_error("quantity, entry_price, mark_price and margin need one value per account");
  std::vector<models::AdlAccount> out(static_cast<std::size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) {
    if (quantity(i) < 0.0) throw py::value_error(fmt::format("account {}: negative quantity", i));
    out[static_cast<std::size_t>(i)] = {quantity(i), entry_price(i), mark_price(i), margin(i)};
  }
  return out;
}

py::dict deleverage(const std::string& side, double quantity, double bankruptcy_price, const VectorXd& account_quantity,
                    const VectorXd& entry_price, const VectorXd& mark_price, const VectorXd& margin,
                    const std::string& ranking, const std::optional<VectorXd>& priority) {
  if (!(quantity >= 0.0)) throw py::value_error("quantity must not be negative");
  const auto accounts = adl_accounts(account_quantity, entry_price, mark_price, margin);
  const models::AdlPosition p{side_of(side), quantity, bankruptcy_price};
  models::AdlResult r;
  if (priority) {
    if (static_cast<std::size_t>(priority->size()) != accounts.size())
      throw py::value_error("priority needs one value per account");
    r = models::deleverage(p, accounts, std::span<const double>(priority->data(), accounts.size()));
  } else {
    r = models::deleverage(p, accounts, ranking_of(ranking));
  }
  const auto& f = r.fills;
  py::dict out;
  out["rank"] = column<std::int64_t>(f.size(), [&](std::size_t i) { return std::int64_t{f[i].rank}; });
  out["priority"] = field(f, [](const auto& x) { return x.priority; });
  out["quantity"] = field(f, [](const auto& x) { return x.quantity; });
  out["price"] = field(f, [](const auto& x) { return x.price; });
  out["loss_vs_mark"] = field(f, [](const auto& x) { return x.loss_vs_mark; });
  out["remaining"] = field(f, [](const auto& x) { return x.remaining; });
  out["closed"] = r.closed;
  out["unfilled"] = r.unfilled;
  out["total_loss_vs_mark"] = r.loss_vs_mark;
  return out;
}

py::dict liquidate_venue(const std::vector<std::string>& side, const VectorXd& quantity, const VectorXd& entry_price,
                         const VectorXd& mark_price, const VectorXd& margin, const VectorXd& maintenance_margin,
                         double adv, double impact, double insurance_fund, double fund_price,
                         const std::optional<VectorXd>& fund_asset_return) {
  const auto n = static_cast<std::size_t>(quantity.size());
  const auto ret = per_element(fund_asset_return, n, "fund_asset_return");
  if (side.size() != n || static_cast<std::size_t>(entry_price.size()) != n ||
      static_cast<std::size_t>(mark_price.size()) != n || static_cast<std::size_t>(margin.size()) != n ||
      static_cast<std::size_t>(maintenance_margin.size()) != n)
    throw py::value_error(
        "side, quantity, entry_price, mark_price, margin and maintenance_margin need one value "
        "per liquidation");
  if (!(adv > 0.0) && impact != 0.0) throw py::value_error("adv must be positive");
  if (!(fund_price > 0.0) || insurance_fund < 0.0)
    throw py::value_error("insurance_fund must not be negative and fund_price must be positive");
  std::vector<models::VenueLiquidationStep> steps(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto k = static_cast<Eigen::Index>(i);
    steps[i] = {{side_of(side[i]), quantity(k), entry_price(k), mark_price(k), margin(k), maintenance_margin(k)},
                ret[i]};
  }
  models::InsuranceFund fund{insurance_fund / fund_price, fund_price};
  models::VenueLiquidationSequence r;
  try {
    r = models::process_venue_liquidations(steps, {adv, impact}, fund);
  } catch (const std::invalid_argument& e) {
    throw py::value_error(e.what());
  }
  const auto& l = r.steps;
  py::dict out;
  out["liquidated"] = column<bool>(l.size(), [&](std::size_t i) { return l[i].liquidated; });
  out["equity"] = field(l, [](const auto& x) { return x.equity; });
  out["bankruptcy_price"] = field(l, [](const auto& x) { return x.bankruptcy_price; });
  out["impact_cost"] = field(l, [](const auto& x) { return x.impact_cost; });
  out["execution_price"] = field(l, [](const auto& x) { return x.execution_price; });
  out["surplus"] = field(l, [](const auto& x) { return x.surplus; });
  out["shortfall"] = field(l, [](const auto& x) { return x.shortfall; });
  out["fund_paid"] = field(l, [](const auto& x) { return x.fund_paid; });
  out["adl_quantity"] = field(l, [](const auto& x) { return x.adl_quantity; });
  out["uncovered"] = field(l, [](const auto& x) { return x.uncovered; });
  out["fund_after"] = field(l, [](const auto& x) { return x.fund_after; });
  out["fund_start"] = r.fund_start;
  out["fund_end"] = r.fund_end;
  out["revaluation"] = r.revaluation;
  return out;
}

constexpr const char* kDeleverageDoc =
    R"doc(Auto-deleveraging of a liquidated position by quantity at its bankruptcy price.

The opposite-side accounts are ranked (highest first) and closed in that order, each
up to its size, the last one partially, at the bankruptcy price (BitMEX ADL; Bybit,
OKX and Hyperliquid run variants).

Parameters
----------
side : str
    Side of the liquidated position, 'long' or 'short' (the accounts hold the other side).
quantity, bankruptcy_price : float
    Contracts left to deleverage and the price at which they are closed.
account_quantity, entry_price, mark_price, margin : array
    Per opposite account: contracts held, average entry price, mark price, margin.
ranking : str
    'bitmex' (default): PnL% x effective leverage for a gain, PnL% / effective leverage
    otherwise, PnL% = P&L / entry value, effective leverage = mark value / (margin + P&L);
    'pnl': PnL% alone; 'leverage': effective leverage alone.
priority : array, optional
    Scores to rank by instead of `ranking`.

Returns
-------
dict
    Per account (input order): 'rank' (1 first, 0 without contracts), 'priority',
    'quantity' closed, 'price', 'loss_vs_mark' (the gain given up against the mark),
    'remaining'; and 'closed', 'unfilled', 'total_loss_vs_mark'.
)doc";

constexpr const char* kLiquidateVenueDoc =
    R"doc(A venue's liquidation engine over a sequence of accounts, with its insurance fund.

An account whose equity (margin + P&L at the mark) is below its maintenance margin is
closed in the market at the mark moved by the square-root impact cost
k V sqrt(V / ADV) (V = quantity x mark). Against its bankruptcy price (equity zero) the
insurance fund receives the surplus or pays the shortfall; the contracts the fund
cannot pay for go to ADL at the bankruptcy price (see deleverage).

Parameters
----------
side : list of str
    'long' or 'short' per account, in the order they are liquidated.
quantity, entry_price, mark_price, margin, maintenance_margin : array
    Per account (maintenance margin in USD).
adv, impact : float
    Average daily volume (USD) and impact coefficient k of the market.
insurance_fund : float
    The fund's value before the first account (USD).
fund_price : float
    Price of the fund's asset (1: a USD fund).
fund_asset_return : array, optional
    Per account, the fund asset's return since the previous one (moves its value).

Returns
-------
dict
    Per account: 'liquidated', 'equity', 'bankruptcy_price', 'impact_cost',
    'execution_price', 'surplus', 'shortfall', 'fund_paid', 'adl_quantity',
    'uncovered', 'fund_after'; and 'fund_start', 'fund_end', 'revaluation'.
    fund_end - fund_start = sum(surplus) - sum(fund_paid) + revaluation.
)doc";

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
    unrealised gain that auto-deleveraging may take, its ADL priority (higher first,
    e.g. from adl_priority), balance lent to a lending protocol.
sitg, sitg2, insurance_fund, equity : float
    The CCP's skin in the game (two tranches), insurance fund and equity beyond SITG.
adl_quantity, adl_mark_price, adl_bankruptcy_price : array, optional
    ADL by quantity at the bankruptcy price (the venues' rule, see deleverage): a
    survivor with a quantity is closed by contracts at the bankruptcy price of the
    defaulted position and charged |mark - bankruptcy price| per contract, up to its
    quantity (adl_gain is then not used); without one, ADL takes up to its whole
    adl_gain.
vmgh_max_rate, vmgh_per_call, vmgh_total_cap : float, optional
    Caps on VMGH: the share of each VM gain that may be haircut (default 1), the most
    this call may take and the most in total (default: none). What the caps leave
    passes to the next layer.

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
          "Per survivor: what auto-deleveraging cost it (its gain given up against the mark).")
      .def_property_readonly(
          "adl_closed",
          [](const WaterfallRun& r) { return field(r.survivors, [](const auto& s) { return s.adl_closed; }); },
          "Per survivor: contracts closed by auto-deleveraging (ADL by quantity).")
      .def_property_readonly(
          "adl_quantity_left",
          [](const WaterfallRun& r) { return field(r.survivors, [](const auto& s) { return s.adl_quantity; }); },
          "Per survivor: contracts left after auto-deleveraging (ADL by quantity).")
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
        py::arg("sitg2") = 0.0, py::arg("insurance_fund") = 0.0, py::arg("equity") = 0.0,
        py::arg("adl_quantity") = py::none(), py::arg("adl_mark_price") = py::none(),
        py::arg("adl_bankruptcy_price") = py::none(), py::arg("vmgh_max_rate") = 1.0,
        py::arg("vmgh_per_call") = py::none(), py::arg("vmgh_total_cap") = py::none(), kRunDoc);

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

  m.def("deleverage", &deleverage, py::arg("side"), py::arg("quantity"), py::arg("bankruptcy_price"),
        py::arg("account_quantity"), py::arg("entry_price"), py::arg("mark_price"), py::arg("margin"), py::kw_only(),
        py::arg("ranking") = "bitmex", py::arg("priority") = py::none(), kDeleverageDoc);

  m.def(
      "adl_priority",
      [](const std::string& side, double quantity, double entry_price, double mark_price, double margin,
         const std::string& ranking) {
        return models::adl_priority(side_of(side), {quantity, entry_price, mark_price, margin}, ranking_of(ranking));
      },
      py::arg("side"), py::arg("quantity"), py::arg("entry_price"), py::arg("mark_price"), py::arg("margin"),
      py::arg("ranking") = "bitmex",
      "ADL ranking score of a position on `side` ('long' or 'short'), higher first. 'bitmex': PnL% x effective "
      "leverage for a gain, PnL% / effective leverage otherwise; PnL% = P&L / entry value, effective leverage = "
      "mark value / (margin + P&L); 'pnl' or 'leverage': either alone.");

  m.def("liquidate_venue", &liquidate_venue, py::arg("side"), py::arg("quantity"), py::arg("entry_price"),
        py::arg("mark_price"), py::arg("margin"), py::arg("maintenance_margin"), py::kw_only(), py::arg("adv"),
        py::arg("impact"), py::arg("insurance_fund") = 0.0, py::arg("fund_price") = 1.0,
        py::arg("fund_asset_return") = py::none(), kLiquidateVenueDoc);

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
