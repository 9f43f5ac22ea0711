#include "models/clearing/rogers_veraart.hpp"

#include <stdexcept>
#include <string>
#include <vector>

#include "models/clearing/relative_liabilities.hpp"

namespace ccpnet::models {
namespace {

using detail::DenseRelativeLiabilities;
using detail::SparseRelativeLiabilities;

// Greatest solution below `x` of x = rhs_I + beta Pi'_II x, by the decreasing iteration from `x`: used only
// when the linear system is singular (beta = 1 and no money leaves the insolvent set I).
template <class Relative>
void solve_by_iteration(const Relative& pi, const std::vector<Eigen::Index>& insolvent, const Eigen::VectorXd& full,
                        const Eigen::VectorXd& alpha_e, double beta, const Eigen::VectorXd& pbar,
                        const RogersVeraartOptions& options, Eigen::VectorXd& x) {
  Eigen::VectorXd p = full;
  for (int k = 0; k < options.max_iterations; ++k) {
    p(insolvent) = x;
    const Eigen::VectorXd next = (alpha_e + beta * pi.receipts(p))(insolvent);
    const bool small = ((next - x).array().abs() <= options.tolerance * pbar(insolvent).array()).all();
    x = next;
    if (small) return;
  }
}

template <class Relative, class Liabilities>
ClearingResult clear(const Liabilities& liabilities, const VectorRef& external_assets, double alpha, double beta,
                     const VectorRef& external_debt, const RogersVeraartOptions& options) {
  detail::check_fraction(alpha, "alpha (the share of external assets realised in default)");
  detail::check_fraction(beta, "beta (the share of interbank receivables realised in default)");
  if (!(options.tolerance >= 0.0)) throw std::invalid_argument("Rogers-Veraart tolerance must be >= 0");
  if (options.max_iterations < 1)
    throw std::invalid_argument("Rogers-Veraart max_iterations must be >= 1, got " +
                                std::to_string(options.max_iterations));
  const Eigen::VectorXd interbank = detail::interbank_obligations(liabilities);
  const Eigen::Index n = interbank.size();
  const Eigen::VectorXd pbar = interbank + detail::external_debt_or_zero(external_debt, n);
  detail::check_per_bank(external_assets, n, "external assets", true);
  const Relative pi(liabilities, pbar);
  const Eigen::VectorXd alpha_e = alpha * external_assets;

  ClearingResult result;
  result.defaulted = Eigen::Array<bool, Eigen::Dynamic, 1>::Constant(n, false);
  Eigen::VectorXd p = pbar;
  Eigen::VectorXd full(n);
  std::vector<Eigen::Index> insolvent;
  for (int iteration = 1; iteration <= options.max_iterations; ++iteration) {
    result.iterations = iteration;
    const Eigen::VectorXd value = external_assets + pi.receipts(p);
    // The insolvent set only grows along the algorithm; taking the union guards against rounding.
    bool grew = false;
    for (Eigen::Index i = 0; i < n; ++i)
      if (!result.defaulted[i] && value[i] < pbar[i]) {
        result.defaulted[i] = true;
        grew = true;
      }
    if (!grew) {
      result.converged = true;
      break;
    }
    insolvent.clear();
    for (Eigen::Index i = 0; i < n; ++i) {
      full[i] = result.defaulted[i] ? 0.0 : pbar[i];
      if (result.defaulted[i]) insolvent.push_back(i);
    }
    const Eigen::VectorXd rhs = (alpha_e + beta * pi.receipts(full))(insolvent);
    Eigen::VectorXd x;
    if (!pi.solve(insolvent, beta, rhs, x)) {
      x = p(insolvent);
      solve_by_iteration(pi, insolvent, full, alpha_e, beta, pbar, options, x);
    }
    p = full;
    p(insolvent) = x;
  }
  result.payments = p;
  result.equity = (external_assets + pi.receipts(p) - pbar).cwiseMax(0.0);
  return result;
}

}  // namespace

ClearingResult rogers_veraart(const DenseMatrixRef& liabilities, const VectorRef& external_assets, double alpha,
                              double beta, const VectorRef& external_debt, const RogersVeraartOptions& options) {
  return clear<DenseRelativeLiabilities>(liabilities, external_assets, alpha, beta, external_debt, options);
}

ClearingResult rogers_veraart(const Eigen::SparseMatrix<double>& liabilities, const VectorRef& external_assets,
                              double alpha, double beta, const VectorRef& external_debt,
                              const RogersVeraartOptions& options) {
  return clear<SparseRelativeLiabilities>(liabilities, external_assets, alpha, beta, external_debt, options);
}

ClearingResult rogers_veraart(const Eigen::SparseMatrix<double, Eigen::RowMajor>& liabilities,
                              const VectorRef& external_assets, double alpha, double beta,
                              const VectorRef& external_debt, const RogersVeraartOptions& options) {
  return clear<SparseRelativeLiabilities>(liabilities, external_assets, alpha, beta, external_debt, options);
}

}  // namespace ccpnet::models
