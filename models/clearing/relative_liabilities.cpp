#include "models/clearing/relative_liabilities.hpp"

#include <Eigen/IterativeLinearSolvers>
#include <Eigen/LU>
#include <Eigen/SparseLU>
#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>

namespace ccpnet::models::detail {
namespace {

std::string number(double x) {
  std::ostringstream out;
  out << x;
  return out.str();
}

void check_square(Eigen::Index rows, Eigen::Index cols) {
  if (rows != cols)
    throw std::invalid_argument("liability matrix must be square (one row and one column per bank), got " +
                                std::to_string(rows) + " x " + std::to_string(cols));
}

void check_liability(Eigen::Index debtor, Eigen::Index creditor, double amount) {
  if (!std::isfinite(amount))
    throw std::invalid_argument("liability of bank " + std::to_string(debtor) + " to bank " + std::to_string(creditor) +
                                " is not a finite number");
  if (amount < 0.0)
    throw std::invalid_argument("bank " + std::to_string(debtor) + " owes bank " + std::to_string(creditor) +
                                " a negative amount (" + number(amount) + ")");
  if (debtor == creditor && amount != 0.0)
    throw std::invalid_argument("bank " + std::to_string(debtor) + " owes itself " + number(amount) +
                                " (the diagonal of the liability matrix must be zero)");
}

template <int kOrder>
Eigen::VectorXd sparse_row_sums(const Eigen::SparseMatrix<double, kOrder>& liabilities) {
  check_square(liabilities.rows(), liabilities.cols());
  Eigen::VectorXd sums = Eigen::VectorXd::Zero(liabilities.rows());
  for (Eigen::Index k = 0; k < liabilities.outerSize(); ++k)
    for (typename Eigen::SparseMatrix<double, kOrder>::InnerIterator it(liabilities, k); it; ++it) {
      check_liability(it.row(), it.col(), it.value());
      sums[it.row()] += it.value();
    }
  return sums;
}

Eigen::VectorXd inverse_or_zero(const Eigen::VectorXd& denominator) {
  return denominator.unaryExpr([](double x) { return x > 0.0 ? 1.0 / x : 0.0; });
}

// Pi' = (diag(1 / denominator) L)' as compressed sparse columns.
template <int kOrder>
Eigen::SparseMatrix<double> sparse_transposed(const Eigen::SparseMatrix<double, kOrder>& liabilities,
                                              const Eigen::VectorXd& denominator) {
  const Eigen::SparseMatrix<double, kOrder> scaled = inverse_or_zero(denominator).asDiagonal() * liabilities;
  Eigen::SparseMatrix<double> pi_t = scaled.transpose();
  pi_t.prune(0.0);
  pi_t.makeCompressed();
  return pi_t;
}

}  // namespace

Eigen::VectorXd interbank_obligations(const DenseMatrixRef& liabilities) {
  check_square(liabilities.rows(), liabilities.cols());
  for (Eigen::Index j = 0; j < liabilities.cols(); ++j)
    for (Eigen::Index i = 0; i < liabilities.rows(); ++i) check_liability(i, j, liabilities(i, j));
  return liabilities.rowwise().sum();
}

Eigen::VectorXd interbank_obligations(const Eigen::SparseMatrix<double>& liabilities) {
  return sparse_row_sums(liabilities);
}

Eigen::VectorXd interbank_obligations(const Eigen::SparseMatrix<double, Eigen::RowMajor>& liabilities) {
  return sparse_row_sums(liabilities);
}

void check_per_bank(const VectorRef& v, Eigen::Index banks, std::string_view what, bool non_negative) {
  if (v.size() != banks)
    throw std::invalid_argument(std::string(what) + " must have one entry per bank: got " + std::to_string(v.size()) +
                                ", expected " + std::to_string(banks));
  for (Eigen::Index i = 0; i < banks; ++i) {
    if (!std::isfinite(v[i]))
      throw std::invalid_argument(std::string(what) + " of bank " + std::to_string(i) + " is not a finite number");
    if (non_negative && v[i] < 0.0)
      throw std::invalid_argument(std::string(what) + " of bank " + std::to_string(i) + " is negative (" +
                                  number(v[i]) + ")");
  }
}

Eigen::VectorXd external_debt_or_zero(const VectorRef& external_debt, Eigen::Index banks) {
  if (external_debt.size() == 0) return Eigen::VectorXd::Zero(banks);
  check_per_bank(external_debt, banks, "external debt", true);
  return external_debt;
}

void check_fraction(double value, std::string_view what) {
  if (!(value >= 0.0 && value <= 1.0))
    throw std::invalid_argument(std::string(what) + " must be in [0, 1], got " + number(value));
}

DenseRelativeLiabilities::DenseRelativeLiabilities(const DenseMatrixRef& liabilities,
                                                   const Eigen::VectorXd& denominator)
    : pi_t_((inverse_or_zero(denominator).asDiagonal() * liabilities).transpose()) {}

bool DenseRelativeLiabilities::solve(const std::vector<Eigen::Index>& banks, double beta, const Eigen::VectorXd& rhs,
                                     Eigen::VectorXd& x) const {
  const auto m = static_cast<Eigen::Index>(banks.size());
  Eigen::MatrixXd system = -beta * pi_t_(banks, banks);
  system.diagonal().array() += 1.0;
  const Eigen::PartialPivLU<Eigen::MatrixXd> lu(system);
  if (!(lu.rcond() > 1e-13)) return false;
  x = lu.solve(rhs);
  return x.size() == m && x.allFinite();
}

SparseRelativeLiabilities::SparseRelativeLiabilities(const Eigen::SparseMatrix<double>& liabilities,
                                                     const Eigen::VectorXd& denominator)
    : pi_t_(sparse_transposed(liabilities, denominator)) {}

SparseRelativeLiabilities::SparseRelativeLiabilities(const Eigen::SparseMatrix<double, Eigen::RowMajor>& liabilities,
                                                     const Eigen::VectorXd& denominator)
    : pi_t_(sparse_transposed(liabilities, denominator)) {}

bool SparseRelativeLiabilities::solve(const std::vector<Eigen::Index>& banks, double beta, const Eigen::VectorXd& rhs,
                                      Eigen::VectorXd& x) const {
  const auto m = static_cast<Eigen::Index>(banks.size());
  std::vector<Eigen::Index> local(static_cast<std::size_t>(pi_t_.rows()), -1);
  for (Eigen::Index k = 0; k < m; ++k) local[static_cast<std::size_t>(banks[static_cast<std::size_t>(k)])] = k;
  std::vector<Eigen::Triplet<double>> entries;
  entries.reserve(static_cast<std::size_t>(m));
  for (Eigen::Index c = 0; c < m; ++c) {
    entries.emplace_back(c, c, 1.0);
    for (Eigen::SparseMatrix<double>::InnerIterator it(pi_t_, banks[static_cast<std::size_t>(c)]); it; ++it) {
      const Eigen::Index r = local[static_cast<std::size_t>(it.row())];
      if (r >= 0) entries.emplace_back(r, c, -beta * it.value());
    }
  }
  Eigen::SparseMatrix<double> system(m, m);
  system.setFromTriplets(entries.begin(), entries.end());
  const auto accurate = [&](const Eigen::VectorXd& solution) {
    if (!solution.allFinite()) return false;
    const double residual = (system * solution - rhs).lpNorm<Eigen::Infinity>();
    return residual <= 1e-12 * (rhs.lpNorm<Eigen::Infinity>() + solution.lpNorm<Eigen::Infinity>());
  };
  // I - beta Pi'_BB is a column diagonally dominant M-matrix: a Krylov method converges in a few dozen
  // products, where a sparse LU of a random network fills in. The LU remains the fall-back.
  Eigen::BiCGSTAB<Eigen::SparseMatrix<double>> krylov;
  krylov.setTolerance(1e-15);
  krylov.setMaxIterations(std::max<Eigen::Index>(100, 2 * m));
  krylov.compute(system);
  x = krylov.solve(rhs);
  if (accurate(x)) return true;
  Eigen::SparseLU<Eigen::SparseMatrix<double>> lu;
  lu.compute(system);
  if (lu.info() != Eigen::Success) return false;
  x = lu.solve(rhs);
  // SparseLU does not always flag a singular system: the residual does.
  return lu.info() == Eigen::Success && accurate(x);
}

}  // namespace ccpnet::models::detail
