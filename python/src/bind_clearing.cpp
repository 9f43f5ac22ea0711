// Bindings of the clearing building blocks (models/clearing).
#include <pybind11/eigen.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <Eigen/SparseCore>
#include <optional>
#include <sstream>
#include <string>
#include <type_traits>

#include "bindings.hpp"
#include "models/clearing/debtrank.hpp"
#include "models/clearing/eisenberg_noe.hpp"
#include "models/clearing/rogers_veraart.hpp"

namespace py = pybind11;

namespace ccpnet::python {
namespace {

using models::DenseMatrixRef;
using models::VectorRef;
// scipy.sparse.csr_matrix arrives as compressed sparse rows, the layout of this type (also the one DebtRank
// propagates along: row i of W lists the banks hit by bank i).
using SparseLiabilities = Eigen::SparseMatrix<double, Eigen::RowMajor>;

constexpr double kTolerance = models::EisenbergNoeOptions{}.tolerance;
constexpr int kMaxIterations = models::EisenbergNoeOptions{}.max_iterations;

Eigen::VectorXd or_empty(const std::optional<Eigen::VectorXd>& v) { return v ? *v : Eigen::VectorXd(); }

models::EisenbergNoeOptions en_options(bool senior, double tolerance, int max_iterations) {
  models::EisenbergNoeOptions options;
  options.external_debt_priority = senior ? models::DebtPriority::kSenior : models::DebtPriority::kPariPassu;
  options.tolerance = tolerance;
  options.max_iterations = max_iterations;
  return options;
}

constexpr const char* kEisenbergNoeDoc = R"doc(
Greatest Eisenberg-Noe (2001) clearing vector: the greatest fixed point of
p = min(pbar, max(0, e + Pi' p)), by the fictitious-default algorithm.

L[i, j] is what bank i owes bank j (numpy array or scipy.sparse.csr_matrix),
e the external assets (may be negative), external_debt what each bank owes
outside the network (None: nothing), senior=True to pay external debt before
interbank debt (otherwise pari passu). Stops when no payment moves by more
than tolerance * pbar[i] in a round, or after max_iterations rounds.
Returns a ClearingResult.
)doc";

constexpr const char* kBatchDoc = R"doc(
Eisenberg-Noe clearing vectors for many scenarios at once: column s of the
n x S matrix E holds the external assets of scenario s. Monotone decreasing
(Jacobi) iteration from pbar with delta propagation, converged when no payment
moves by more than tolerance * pbar[i] (at most max_iterations steps).
external_debt and senior as for eisenberg_noe. Returns a BatchClearingResult
whose payments are n x S.
)doc";

constexpr const char* kRogersVeraartDoc = R"doc(
Greatest Rogers-Veraart (2013) clearing vector with default costs: a bank that
cannot pay in full pays alpha * e[i] + beta * (Pi' p)[i]. Greatest Clearing
Vector Algorithm. e must be non-negative and alpha, beta in [0, 1]; external
debt, when given, ranks pari passu. Returns a ClearingResult.
)doc";

constexpr const char* kDebtRankDoc = R"doc(
DebtRank of the initial relative distress h0 on the impact matrix W
(W[i, j]: fraction of j's equity lost when i defaults; numpy array or
scipy.sparse.csr_matrix). Single-hit (Battiston et al. 2012) by default,
linear=True for Bardoscia et al. (2015). value: economic value of each bank
(None: equal). Only the banks whose distress moved spread it, along their rows
of W. Returns a DebtRankResult.
)doc";

constexpr const char* kDebtRankBatchDoc = R"doc(
DebtRank of many shocks on one network: column s of the n x S matrix H0 is
the initial relative distress of shock s. W (numpy array or
scipy.sparse.csr_matrix), linear and value as for debtrank. W is compressed
once and shocks propagate side by side in SIMD lanes; column s of the result
is what debtrank gives for H0[:, s] alone. Returns a BatchDebtRankResult
whose distress is n x S.
)doc";

models::DebtRankOptions debtrank_options(bool linear) {
  models::DebtRankOptions options;
  options.variant = linear ? models::DebtRankVariant::kLinear : models::DebtRankVariant::kSingleHit;
  return options;
}

template <class Result>
std::string describe_clearing(const Result& r, const char* name) {
  std::ostringstream out;
  out << "<" << name << ": " << r.payments.rows() << " banks";
  if constexpr (std::is_same_v<Result, models::ClearingResult>) out << ", " << r.defaulted.count() << " defaulted";
  if constexpr (std::is_same_v<Result, models::BatchClearingResult>) out << ", " << r.payments.cols() << " scenarios";
  out << (r.converged ? "" : ", NOT converged") << ">";
  return out.str();
}

}  // namespace

void bind_clearing(py::module_& m) {
  py::class_<models::ClearingResult>(m, "ClearingResult", "Outcome of clearing one network under one shock.")
      .def_readonly("payments", &models::ClearingResult::payments,
                    "p: what each bank pays in total (interbank and external creditors).")
      .def_readonly("equity", &models::ClearingResult::equity,
                    "max(0, e + received - pbar): what is left to each bank's shareholders.")
      .def_readonly("defaulted", &models::ClearingResult::defaulted, "Boolean mask of the default set: p[i] < pbar[i].")
      .def_readonly("iterations", &models::ClearingResult::iterations, "Rounds of the algorithm.")
      .def_readonly("converged", &models::ClearingResult::converged, "False only if the iteration limit was reached.")
      .def("__repr__", [](const models::ClearingResult& r) { return describe_clearing(r, "ClearingResult"); });

  py::class_<models::BatchClearingResult>(m, "BatchClearingResult",
                                          "Outcome of clearing one network under many shocks.")
      .def_readonly("payments", &models::BatchClearingResult::payments,
                    "n x S: column s is the clearing vector of scenario s.")
      .def_readonly("iterations", &models::BatchClearingResult::iterations, "Iterations per scenario.")
      .def_readonly("converged", &models::BatchClearingResult::converged, "True if every scenario converged.")
      .def("__repr__",
           [](const models::BatchClearingResult& r) { return describe_clearing(r, "BatchClearingResult"); });

  py::class_<models::DebtRankResult>(m, "DebtRankResult", "Outcome of a DebtRank propagation.")
      .def_readonly("distress", &models::DebtRankResult::distress, "Final relative distress h of each bank.")
      .def_readonly("debtrank", &models::DebtRankResult::debtrank,
                    "Value-weighted equity loss beyond the initial shock: sum v (h - h0).")
      .def_readonly("iterations", &models::DebtRankResult::iterations, "Propagation rounds.")
      .def_readonly("converged", &models::DebtRankResult::converged, "False only if the iteration limit was reached.")
      .def("__repr__", [](const models::DebtRankResult& r) {
        std::ostringstream out;
        out << "<DebtRankResult: " << r.distress.size() << " banks, debtrank " << r.debtrank << ">";
        return out.str();
      });

  py::class_<models::BatchDebtRankResult>(m, "BatchDebtRankResult", "Outcome of DebtRank for many shocks.")
      .def_readonly("distress", &models::BatchDebtRankResult::distress,
                    "n x S: column s is the final relative distress h of shock s.")
      .def_readonly("debtrank", &models::BatchDebtRankResult::debtrank,
                    "Per shock: value-weighted equity loss beyond the initial shock, sum v (h - h0).")
      .def_readonly("iterations", &models::BatchDebtRankResult::iterations, "Propagation rounds per shock.")
      .def_readonly("converged", &models::BatchDebtRankResult::converged,
                    "True if no shock reached the iteration limit.")
      .def("__repr__", [](const models::BatchDebtRankResult& r) {
        std::ostringstream out;
        out << "<BatchDebtRankResult: " << r.distress.rows() << " banks, " << r.distress.cols() << " shocks"
            << (r.converged ? "" : ", NOT converged") << ">";
        return out.str();
      });

  // Dense overloads first: a numpy float64 array matches them without conversion; a scipy.sparse matrix does
  // not and falls through to the sparse overload.
  m.def(
      "eisenberg_noe",
      [](const DenseMatrixRef& L, const VectorRef& e, const std::optional<Eigen::VectorXd>& external_debt, bool senior,
         double tolerance, int max_iterations) {
        return models::eisenberg_noe(L, e, or_empty(external_debt), en_options(senior, tolerance, max_iterations));
      },
      py::arg("L"), py::arg("e"), py::arg("external_debt") = py::none(), py::arg("senior") = false,
      py::arg("tolerance") = kTolerance, py::arg("max_iterations") = kMaxIterations,
      py::call_guard<py::gil_scoped_release>(), kEisenbergNoeDoc);
  m.def(
      "eisenberg_noe",
      [](const SparseLiabilities& L, const VectorRef& e, const std::optional<Eigen::VectorXd>& external_debt,
         bool senior, double tolerance, int max_iterations) {
        return models::eisenberg_noe(L, e, or_empty(external_debt), en_options(senior, tolerance, max_iterations));
      },
      py::arg("L"), py::arg("e"), py::arg("external_debt") = py::none(), py::arg("senior") = false,
      py::arg("tolerance") = kTolerance, py::arg("max_iterations") = kMaxIterations,
      py::call_guard<py::gil_scoped_release>(), kEisenbergNoeDoc);

  m.def(
      "eisenberg_noe_batch",
      [](const DenseMatrixRef& L, const DenseMatrixRef& E, const std::optional<Eigen::VectorXd>& external_debt,
         bool senior, double tolerance, int max_iterations) {
        return models::eisenberg_noe_batch(L, E, or_empty(external_debt),
                                           en_options(senior, tolerance, max_iterations));
      },
      py::arg("L"), py::arg("E"), py::arg("external_debt") = py::none(), py::arg("senior") = false,
      py::arg("tolerance") = kTolerance, py::arg("max_iterations") = kMaxIterations,
      py::call_guard<py::gil_scoped_release>(), kBatchDoc);
  m.def(
      "eisenberg_noe_batch",
      [](const SparseLiabilities& L, const DenseMatrixRef& E, const std::optional<Eigen::VectorXd>& external_debt,
         bool senior, double tolerance, int max_iterations) {
        return models::eisenberg_noe_batch(L, E, or_empty(external_debt),
                                           en_options(senior, tolerance, max_iterations));
      },
      py::arg("L"), py::arg("E"), py::arg("external_debt") = py::none(), py::arg("senior") = false,
      py::arg("tolerance") = kTolerance, py::arg("max_iterations") = kMaxIterations,
      py::call_guard<py::gil_scoped_release>(), kBatchDoc);

  m.def(
      "rogers_veraart",
      [](const DenseMatrixRef& L, const VectorRef& e, double alpha, double beta,
         const std::optional<Eigen::VectorXd>& external_debt) {
        return models::rogers_veraart(L, e, alpha, beta, or_empty(external_debt));
      },
      py::arg("L"), py::arg("e"), py::arg("alpha"), py::arg("beta"), py::arg("external_debt") = py::none(),
      py::call_guard<py::gil_scoped_release>(), kRogersVeraartDoc);
  m.def(
      "rogers_veraart",
      [](const SparseLiabilities& L, const VectorRef& e, double alpha, double beta,
         const std::optional<Eigen::VectorXd>& external_debt) {
        return models::rogers_veraart(L, e, alpha, beta, or_empty(external_debt));
      },
      py::arg("L"), py::arg("e"), py::arg("alpha"), py::arg("beta"), py::arg("external_debt") = py::none(),
      py::call_guard<py::gil_scoped_release>(), kRogersVeraartDoc);

  m.def(
      "debtrank",
      [](const DenseMatrixRef& W, const VectorRef& h0, bool linear, const std::optional<Eigen::VectorXd>& value) {
        return models::debtrank(W, h0, or_empty(value), debtrank_options(linear));
      },
      py::arg("W"), py::arg("h0"), py::arg("linear") = false, py::arg("value") = py::none(),
      py::call_guard<py::gil_scoped_release>(), kDebtRankDoc);
  m.def(
      "debtrank",
      [](const SparseLiabilities& W, const VectorRef& h0, bool linear, const std::optional<Eigen::VectorXd>& value) {
        return models::debtrank(W, h0, or_empty(value), debtrank_options(linear));
      },
      py::arg("W"), py::arg("h0"), py::arg("linear") = false, py::arg("value") = py::none(),
      py::call_guard<py::gil_scoped_release>(), kDebtRankDoc);

  m.def(
      "debtrank_batch",
      [](const DenseMatrixRef& W, const DenseMatrixRef& H0, bool linear, const std::optional<Eigen::VectorXd>& value) {
        return models::debtrank_batch(W, H0, or_empty(value), debtrank_options(linear));
      },
      py::arg("W"), py::arg("H0"), py::arg("linear") = false, py::arg("value") = py::none(),
      py::call_guard<py::gil_scoped_release>(), kDebtRankBatchDoc);
  m.def(
      "debtrank_batch",
      [](const SparseLiabilities& W, const DenseMatrixRef& H0, bool linear,
         const std::optional<Eigen::VectorXd>& value) {
        return models::debtrank_batch(W, H0, or_empty(value), debtrank_options(linear));
      },
      py::arg("W"), py::arg("H0"), py::arg("linear") = false, py::arg("value") = py::none(),
      py::call_guard<py::gil_scoped_release>(), kDebtRankBatchDoc);
}

}  // namespace ccpnet::python
