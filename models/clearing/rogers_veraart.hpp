// Rogers-Veraart (2013) clearing with default costs. A bank that cannot pay
// its obligations in full realises only a fraction alpha of its external
// assets and beta of its interbank receivables:
//   p(i) = pbar(i)                       if e(i) + (Pi' p)(i) >= pbar(i),
//   p(i) = alpha e(i) + beta (Pi' p)(i)  otherwise,
// with the notation of clearing.hpp (external debt, when given, ranks pari
// passu with interbank debt). alpha = beta = 1 is Eisenberg-Noe. Default
// costs make the clearing map discontinuous: there may be several clearing
// vectors, and this computes the greatest.
#pragma once

#include <Eigen/Core>
#include <Eigen/SparseCore>

#include "models/clearing/clearing.hpp"

namespace ccpnet::models {

struct RogersVeraartOptions {
  // Only used if a linear system is singular (beta = 1 on a closed set of insolvent banks): the fall-back
  // iteration stops when no payment moves by more than tolerance * pbar(i).
  double tolerance = 1e-12;
  int max_iterations = 10'000;
};

// Greatest clearing vector of Rogers and Veraart (2013, Management Science 59(4), Greatest Clearing Vector
// Algorithm): from p = pbar, repeatedly take the insolvent set I = {i : e(i) + (Pi' p)(i) < pbar(i)} and solve
// p_I = alpha e_I + beta Pi'_I p with p = pbar off I, until I stops growing; requires e >= 0 and alpha, beta in
// [0, 1].
ClearingResult rogers_veraart(const DenseMatrixRef& liabilities, const VectorRef& external_assets, double alpha,
                              double beta, const VectorRef& external_debt = Eigen::VectorXd(),
                              const RogersVeraartOptions& options = {});
// Same on a sparse liability matrix (either storage order); identical results.
ClearingResult rogers_veraart(const Eigen::SparseMatrix<double>& liabilities, const VectorRef& external_assets,
                              double alpha, double beta, const VectorRef& external_debt = Eigen::VectorXd(),
                              const RogersVeraartOptions& options = {});
ClearingResult rogers_veraart(const Eigen::SparseMatrix<double, Eigen::RowMajor>& liabilities,
                              const VectorRef& external_assets, double alpha, double beta,
                              const VectorRef& external_debt = Eigen::VectorXd(),
                              const RogersVeraartOptions& options = {});

}  // namespace ccpnet::models
