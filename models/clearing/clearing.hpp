// Types shared by the clearing building blocks of SPEC 3.10: the
// Eisenberg-Noe and Rogers-Veraart clearing vectors and their results.
//
// Conventions, for every function in models/clearing:
//   L(i, j)  nominal liability of bank i to bank j (what i owes j), L(i, i) = 0;
//   e(i)     external (outside the network) assets of bank i;
//   d(i)     external debt of bank i (owed outside the network), optional;
//   pbar(i)  total obligations of bank i: sum_j L(i, j) + d(i);
//   Pi(i, j) relative liabilities: L(i, j) / pbar(i) (0 when pbar(i) = 0);
//   p(i)     clearing payment: what bank i actually pays, in total.
#pragma once

#include <Eigen/Core>

namespace ccpnet::models {

// A read-only view of any dense double matrix, row- or column-major, without a copy.
using DenseMatrixRef = Eigen::Ref<const Eigen::MatrixXd, 0, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>>;
// A read-only view of a vector of doubles.
using VectorRef = Eigen::Ref<const Eigen::VectorXd>;

// How external debt ranks against interbank debt when a bank defaults.
enum class DebtPriority {
  kPariPassu,  // external and interbank creditors share pro rata
  kSenior,     // external creditors are paid in full before interbank creditors get anything
};

// Outcome of clearing one network under one vector of external assets.
struct ClearingResult {
  Eigen::VectorXd payments;                         // p: total paid by each bank (interbank + external)
  Eigen::VectorXd equity;                           // max(0, e + receipts - pbar): what is left to shareholders
  Eigen::Array<bool, Eigen::Dynamic, 1> defaulted;  // the default set: p(i) < pbar(i)
  int iterations = 0;                               // rounds of the algorithm
  bool converged = false;                           // false only if max_iterations was reached
};

// Outcome of clearing one network under many vectors of external assets (one per column).
struct BatchClearingResult {
  Eigen::MatrixXd payments;    // n x S: column s is the clearing vector of scenario s
  Eigen::VectorXi iterations;  // per scenario
  bool converged = false;      // every scenario converged
};

}  // namespace ccpnet::models
