// Internal machinery shared by the clearing algorithms: input checks and the
// relative liability matrix Pi in the two forms the solvers use. Pi is stored
// transposed (Pi'(j, i) = L(i, j) / pbar(i)) and column-major, so that
//   - receipts e + Pi' p are one matrix-vector product, and
//   - column i lists the creditors of bank i, which is what delta propagation
//     pushes a change of p(i) to.
#pragma once

#include <Eigen/Core>
#include <Eigen/SparseCore>
#include <string_view>
#include <vector>

#include "models/clearing/clearing.hpp"

namespace ccpnet::models::detail {

// Row sums of L after checking it: square, finite, non-negative, zero diagonal.
Eigen::VectorXd interbank_obligations(const DenseMatrixRef& liabilities);
Eigen::VectorXd interbank_obligations(const Eigen::SparseMatrix<double>& liabilities);
Eigen::VectorXd interbank_obligations(const Eigen::SparseMatrix<double, Eigen::RowMajor>& liabilities);

// Throws unless `v` has one finite entry per bank (and none negative when `non_negative`).
void check_per_bank(const VectorRef& v, Eigen::Index banks, std::string_view what, bool non_negative);

// `external_debt` checked, or zeros when it is empty (no external debt).
Eigen::VectorXd external_debt_or_zero(const VectorRef& external_debt, Eigen::Index banks);

// Throws unless `value` lies in [0, 1].
void check_fraction(double value, std::string_view what);

// Pi' as a dense matrix.
class DenseRelativeLiabilities {
 public:
  // Pi'(j, i) = L(i, j) / denominator(i), and 0 where denominator(i) = 0.
  DenseRelativeLiabilities(const DenseMatrixRef& liabilities, const Eigen::VectorXd& denominator);

  Eigen::Index size() const { return pi_t_.rows(); }
  // Pi' p: what each bank receives from the others when they pay p.
  Eigen::VectorXd receipts(const Eigen::VectorXd& payments) const { return pi_t_ * payments; }
  // Solves (I - beta Pi'_BB) x = rhs on the banks B; false if the system is (numerically) singular.
  bool solve(const std::vector<Eigen::Index>& banks, double beta, const Eigen::VectorXd& rhs, Eigen::VectorXd& x) const;
  const Eigen::MatrixXd& transposed() const { return pi_t_; }

 private:
  Eigen::MatrixXd pi_t_;
};

// Pi' as a compressed sparse column matrix.
class SparseRelativeLiabilities {
 public:
  // Pi'(j, i) = L(i, j) / denominator(i), and 0 where denominator(i) = 0.
  SparseRelativeLiabilities(const Eigen::SparseMatrix<double>& liabilities, const Eigen::VectorXd& denominator);
  SparseRelativeLiabilities(const Eigen::SparseMatrix<double, Eigen::RowMajor>& liabilities,
                            const Eigen::VectorXd& denominator);

  Eigen::Index size() const { return pi_t_.rows(); }
  Eigen::VectorXd receipts(const Eigen::VectorXd& payments) const { return pi_t_ * payments; }
  bool solve(const std::vector<Eigen::Index>& banks, double beta, const Eigen::VectorXd& rhs, Eigen::VectorXd& x) const;
  const Eigen::SparseMatrix<double>& transposed() const { return pi_t_; }

 private:
  Eigen::SparseMatrix<double> pi_t_;
};

}  // namespace ccpnet::models::detail
