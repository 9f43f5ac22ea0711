// Bindings of the margin building blocks (models/margin) on numpy arrays:
// ccpnet.margin. Positions are values in USD (quantity x price), one row per
// account and one column per asset where a function takes many accounts.
#include <fmt/format.h>
#include <pybind11/eigen.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "models/margin/addons.hpp"
#include "models/margin/historical.hpp"
#include "models/margin/parametric.hpp"
#include "models/margin/quantile.hpp"
#include "models/margin/scenario_grid.hpp"
#include "models/margin/tiered.hpp"

namespace py = pybind11;

namespace ccpnet::python {

namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

int ndim(const py::handle& x) { return py::module_::import("numpy").attr("ndim")(x).cast<int>(); }

// A function of two margins (or of a margin and a floor) applied to scalars
// or, elementwise, to 1-D arrays.
template <class Scalar, class Vector>
py::object scalar_or_vector(const py::object& a, const py::object& b, Scalar&& scalar, Vector&& vector) {
  if (ndim(a) == 0 && ndim(b) == 0) return py::float_(scalar(a.cast<double>(), b.cast<double>()));
  return py::cast(vector(a.cast<VectorXd>(), b.cast<VectorXd>()));
}

// Tiers as [(up_to, rate), ...]: bounds increasing, rates not negative.
std::vector<models::Tier> tiers_of(const std::vector<std::pair<double, double>>& tiers) {
  if (tiers.empty()) throw py::value_error("tiers: expected at least one (up_to, rate) tier");
  std::vector<models::Tier> out;
  double previous = 0.0;
  for (std::size_t i = 0; i < tiers.size(); ++i) {
    const auto [up_to, rate] = tiers[i];
    if (!(up_to > previous))
      throw py::value_error(
          fmt::format("tiers[{}]: the bound up_to must exceed the previous one ({}), found {}", i, previous, up_to));
    if (!(rate >= 0.0) || !std::isfinite(rate))
      throw py::value_error(fmt::format("tiers[{}]: the rate must be finite and not negative, found {}", i, rate));
    out.push_back({up_to, rate});
    previous = up_to;
  }
  return out;
}

models::RiskMeasure measure_of(const std::string& measure) {
  if (measure == "var") return models::RiskMeasure::kVar;
  if (measure == "es") return models::RiskMeasure::kExpectedShortfall;
  throw py::value_error("measure: expected 'var' or 'es', found '" + measure + "'");
}

}  // namespace

void bind_margin(py::module_& m) {
  // ---- quantiles --------------------------------------------------------------
  m.def("normal_quantile", &models::normal_quantile, py::arg("p"), "Standard normal quantile Phi^-1(p), p in (0, 1).");
  m.def("normal_cdf", &models::normal_cdf, py::arg("x"), "Standard normal CDF Phi(x).");
  m.def("unit_student_t_quantile", &models::unit_student_t_quantile, py::arg("p"), py::arg("dof"),
        "Quantile of a Student-t with dof > 2 scaled to unit variance: t_dof^-1(p) sqrt((dof - 2) / dof).");

  // ---- parametric ---------------------------------------------------------------
  m.def("parametric_im", &models::parametric_im, py::arg("values"), py::arg("daily_cov"), py::arg("mpor_days"),
        py::arg("quantile"), R"doc(Parametric (variance-covariance) initial margin of one portfolio.

IM = quantile * sqrt(mpor_days) * sqrt(v' Sigma_d v), v the position values per
asset (USD), Sigma_d the daily covariance of log-returns, quantile e.g.
normal_quantile(0.99).
)doc");
  m.def("parametric_im_rows", &models::parametric_im_rows, py::arg("values"), py::arg("cov_factor"),
        py::arg("mpor_days"), py::arg("quantile"), R"doc(Parametric initial margin of many accounts at once.

values: accounts x assets; cov_factor: a matrix F with F F' = Sigma_d (e.g.
diag(sigma_d) @ cholesky(correlation)). Returns quantile * sqrt(mpor_days) * ||v_i' F||
per account.
)doc");

  // ---- historical ---------------------------------------------------------------
  m.def("overlapping_log_returns", &models::overlapping_log_returns, py::arg("prices"), py::arg("horizon_days"),
        R"doc(Overlapping h-day log-returns of a price history.

prices: days x assets, oldest first, positive. Row t of the result is
ln(P[t + h] / P[t]), t = 0 .. days - h - 1.
)doc");
  m.def("tail_count", &models::tail_count, py::arg("observations"), py::arg("alpha"),
        "Number of tail observations k = max(1, ceil(n (1 - alpha))) used by historical VaR and ES.");
  m.def("historical_var", &models::historical_var, py::arg("pnl"), py::arg("alpha"),
        "Historical VaR at alpha of a P&L sample: the k-th worst loss (k = tail_count), no interpolation.");
  m.def("historical_es", &models::historical_es, py::arg("pnl"), py::arg("alpha"),
        "Historical expected shortfall at alpha of a P&L sample: the mean of the k worst losses.");
  m.def("historical_pnl", &models::historical_pnl, py::arg("log_returns"), py::arg("values"),
        "P&L of position values v under each row of log-returns, revalued in full: sum_a v_a (exp(R_ta) - 1).");
  m.def(
      "historical_risk",
      [](const MatrixXd& prices, const VectorXd& values, double alpha, int horizon_days) {
        const auto r = models::historical_risk(prices, values, alpha, horizon_days);
        py::dict out;
        out["var"] = r.var;
        out["expected_shortfall"] = r.expected_shortfall;
        out["observations"] = static_cast<std::int64_t>(r.observations);
        return out;
      },
      py::arg("prices"), py::arg("values"), py::arg("alpha"), py::arg("horizon_days"),
      R"doc(VaR and ES at alpha of the portfolio `values` over the overlapping horizon_days
returns of `prices` (days x assets). Returns {'var', 'expected_shortfall', 'observations'}.
)doc");
  m.def(
      "historical_im_rows",
      [](const MatrixXd& values, const MatrixXd& log_returns, double alpha, const std::string& measure) {
        return models::historical_im_rows(values, log_returns, alpha, measure_of(measure));
      },
      py::arg("values"), py::arg("log_returns"), py::arg("alpha"), py::arg("measure") = "var",
      R"doc(Historical-simulation initial margin of many accounts.

values: accounts x assets; log_returns: observations x assets. IM_i = max(0, VaR or
ES at alpha of the P&L (exp(R) - 1) v_i'); measure 'var' or 'es'.
)doc");

  // ---- tiered -------------------------------------------------------------------
  m.def(
      "tiered_margin",
      [](double notional, const std::vector<std::pair<double, double>>& tiers) {
        return models::tiered_margin(notional, tiers_of(tiers));
      },
      py::arg("notional"), py::arg("tiers"), R"doc(Tiered margin of one notional (crypto venues).

tiers: [(up_to, rate), ...] with increasing bounds (the last may be inf). Each
rate applies to the part of the notional inside its tier:
sum_t rate_t (min(N, up_to_t) - up_to_{t-1})^+; beyond the last bound, its rate.
)doc");
  m.def(
      "tiered_margin_rows",
      [](const MatrixXd& values, const std::vector<std::pair<double, double>>& tiers) {
        return models::tiered_margin_rows(values, tiers_of(tiers));
      },
      py::arg("values"), py::arg("tiers"),
      "Tiered margin of many accounts: per row of `values` (accounts x assets), the sum over positions of "
      "tiered_margin(|v_a|, tiers).");

  // ---- scenario grid ------------------------------------------------------------
  m.def("scenario_grid_linear_rows", &models::scenario_grid_linear_rows, py::arg("values"), py::arg("horizon_vol"),
        py::arg("scan_sigmas") = 3.0, R"doc(Scenario-grid (SPAN-like) margin of linear positions.

values: accounts x assets; horizon_vol: the h-day log-return standard deviation per
asset. The worst grid point of a linear book is an end of the scan range,
m_a = scan_sigmas * horizon_vol_a: IM_i = sum_a max(v_ia (1 - e^{-m_a}), -v_ia (e^{m_a} - 1), 0).
)doc");

  // ---- anti-procyclicality --------------------------------------------------------
  m.def(
      "apc_buffer_margin",
      [](const py::object& model_im, const py::object& reference_im, double buffer_rate) {
        return scalar_or_vector(
            model_im, reference_im, [&](double a, double b) { return models::apc_buffer_margin(a, b, buffer_rate); },
            [&](const VectorXd& a, const VectorXd& b) { return models::apc_buffer_margin(a, b, buffer_rate); });
      },
      py::arg("model_im"), py::arg("reference_im"), py::arg("buffer_rate") = 0.25,
      R"doc(Anti-procyclicality buffer (EMIR RTS 153/2013 art. 28(1)(a)).

IM = max(m, (1 + b) min(m, m_ref)): m the model margin, m_ref the margin at the
last calm reference date, b the buffer rate. Scalars or 1-D arrays (elementwise).
)doc");
  m.def("apc_weighted_vol", &models::apc_weighted_vol, py::arg("current_vol"), py::arg("stressed_vol"),
        py::arg("stressed_weight") = 0.25,
        "Anti-procyclicality option (b): sqrt((1 - w) sigma_now^2 + w sigma_stressed^2), w in [0, 1].");
  m.def(
      "apc_floor_margin",
      [](const py::object& model_im, const py::object& floor_im) {
        return scalar_or_vector(
            model_im, floor_im, [](double a, double b) { return models::apc_floor_margin(a, b); },
            [](const VectorXd& a, const VectorXd& b) { return models::apc_floor_margin(a, b); });
      },
      py::arg("model_im"), py::arg("floor_im"),
      "Anti-procyclicality option (c), a floor: max(m, m_floor). Scalars or 1-D arrays (elementwise).");

  // ---- concentration ---------------------------------------------------------------
  m.def("liquidation_cost", &models::liquidation_cost_rows, py::arg("values"), py::arg("adv"), py::arg("impact"),
        R"doc(Liquidation cost of positions large against market depth (square-root impact law).

values: accounts x assets (USD); adv: average daily volume per asset (USD, > 0);
impact: coefficient per asset. Per account: sum_a k_a |v_a| sqrt(|v_a| / ADV_a).
)doc");
  m.def("liquidation_horizon_days", &models::liquidation_horizon_days, py::arg("value"), py::arg("adv"),
        py::arg("participation_rate"), py::arg("mpor_days"),
        "Days to unwind a position at a participation rate p of ADV, never less than the MPOR: max(h, |v| / (p ADV)).");
  m.def("concentration_addon_rows", &models::concentration_addon_rows, py::arg("values"), py::arg("daily_vol"),
        py::arg("adv"), py::arg("mpor_days"), py::arg("quantile"), py::arg("participation_rate"),
        R"doc(Concentration add-on by square-root extension of the liquidation horizon.

Per account (rows of values, accounts x assets): sum_a q sigma_d,a |v_a| (sqrt(H_a) - sqrt(h)),
H_a = liquidation_horizon_days(v_a, ADV_a, participation_rate, h).
)doc");

  // ---- collateral ------------------------------------------------------------------
  m.def("collateral_value", &models::collateral_value, py::arg("market_values"), py::arg("haircuts"),
        "Value credited for posted collateral: sum_c m_c (1 - h_c), haircuts in [0, 1).");
  m.def("shocked_collateral_rows", &models::shocked_collateral_rows, py::arg("market_values"), py::arg("haircuts"),
        py::arg("log_returns"),
        "Collateral value of many members after one move: market_values is members x collateral assets, "
        "log_returns one move per asset; per member sum_c m_c e^{x_c} (1 - h_c).");
  m.def("collateral_haircut", &models::collateral_haircut, py::arg("daily_vol"), py::arg("liquidation_days"),
        py::arg("quantile"),
        "Haircut covering the collateral's fall over its liquidation period: 1 - exp(-q sigma_d sqrt(days)).");
}

}  // namespace ccpnet::python
