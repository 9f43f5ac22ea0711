// Eisenberg-Noe (2001) clearing: the greatest clearing vector, the greatest
// fixed point of
//   p = min(pbar, max(0, e + Pi' p)),
// where pbar are the total obligations and Pi the relative liabilities (see
// clearing.hpp for the notation). The external assets e may be negative (a
// bank whose outside losses exceed its outside assets); the max(0, .) floor
// then keeps payments non-negative.
//
// External debt d is optional. Pari passu: it joins pbar and every creditor of a
// defaulting bank, inside or outside the network, recovers the same fraction.
// Senior: external creditors are paid first, so the interbank payments q solve
// q = min(Lbar, max(0, e - d + Pi_L' q)) with Lbar the interbank row sums and
// Pi_L = L / Lbar, and the total payment is p = min(d, max(0, e + Pi_L' q)) + q.
#pragma once

#include <Eigen/Core>
#include <Eigen/SparseCore>
#include <memory>

#include "models/clearing/clearing.hpp"

namespace ccpnet::models {

struct EisenbergNoeOptions {
  DebtPriority external_debt_priority = DebtPriority::kPariPassu;
  double tolerance = 1e-12;  // converged when |p_k+1(i) - p_k(i)| <= tolerance * pbar(i) for every bank
  int max_iterations = 10'000;
};

// Greatest clearing vector of Eisenberg and Noe (2001, Management Science 47(2)) by their fictitious-default
// algorithm: from p = pbar, solve p_D = e_D + Pi'_D p on the banks D that cannot pay in full, until D stops growing.
ClearingResult eisenberg_noe(const DenseMatrixRef& liabilities, const VectorRef& external_assets,
                             const VectorRef& external_debt = Eigen::VectorXd(),
                             const EisenbergNoeOptions& options = {});
// Same on a sparse liability matrix (either storage order); identical results.
ClearingResult eisenberg_noe(const Eigen::SparseMatrix<double>& liabilities, const VectorRef& external_assets,
                             const VectorRef& external_debt = Eigen::VectorXd(),
                             const EisenbergNoeOptions& options = {});
ClearingResult eisenberg_noe(const Eigen::SparseMatrix<double, Eigen::RowMajor>& liabilities,
                             const VectorRef& external_assets, const VectorRef& external_debt = Eigen::VectorXd(),
                             const EisenbergNoeOptions& options = {});

// Greatest clearing vectors p_s = min(pbar, max(0, E_s + Pi' p_s)) for every column E_s of the n x S matrix of
// external assets, by the monotone decreasing (Jacobi) iteration from pbar (Eisenberg and Noe 2001, Sec. 3),
// stopped when no payment moves by more than options.tolerance * pbar(i): Pi is built once, scenarios run side
// by side in SIMD lanes, and only the changes of the payments are propagated to the creditors at each step.
BatchClearingResult eisenberg_noe_batch(const DenseMatrixRef& liabilities, const DenseMatrixRef& external_assets,
                                        const VectorRef& external_debt = Eigen::VectorXd(),
                                        const EisenbergNoeOptions& options = {});
BatchClearingResult eisenberg_noe_batch(const Eigen::SparseMatrix<double>& liabilities,
                                        const DenseMatrixRef& external_assets,
                                        const VectorRef& external_debt = Eigen::VectorXd(),
                                        const EisenbergNoeOptions& options = {});
BatchClearingResult eisenberg_noe_batch(const Eigen::SparseMatrix<double, Eigen::RowMajor>& liabilities,
                                        const DenseMatrixRef& external_assets,
                                        const VectorRef& external_debt = Eigen::VectorXd(),
                                        const EisenbergNoeOptions& options = {});

// One network cleared many times (each scenario's external assets): the
// network is checked and its relative liabilities built once. clear(e) equals
// eisenberg_noe(liabilities, e, external_debt, options) to the bit. Copies
// share the prepared network; clear may be called from several threads.
class EisenbergNoeNetwork {
 public:
  EisenbergNoeNetwork(const Eigen::SparseMatrix<double, Eigen::RowMajor>& liabilities,
                      const VectorRef& external_debt = Eigen::VectorXd(), const EisenbergNoeOptions& options = {});
  ClearingResult clear(const VectorRef& external_assets) const;

 private:
  struct Prepared;
  std::shared_ptr<const Prepared> prepared_;
};

}  // namespace ccpnet::models
