// DebtRank: distress propagation on an impact matrix.
//   W(i, j)  impact of bank i on bank j: the fraction of j's equity lost when i
//            defaults, usually min(1, exposure of j to i / equity of j);
//   h(i)     relative distress of bank i, the fraction of its equity lost, in [0, 1];
//   v(i)     economic value of bank i (e.g. total assets), normalised to sum 1.
// The DebtRank of a shock is the value-weighted equity loss it causes beyond
// the initial distress: R = sum_i v(i) (h_final(i) - h0(i)).
#pragma once

#include <Eigen/Core>
#include <Eigen/SparseCore>

#include "models/clearing/clearing.hpp"

namespace ccpnet::models {

enum class DebtRankVariant {
  kSingleHit,  // Battiston et al. (2012): each bank propagates its distress once, in the round after it appears
  kLinear,     // Bardoscia et al. (2015): every increase of distress propagates, until nothing moves
};

struct DebtRankOptions {
  DebtRankVariant variant = DebtRankVariant::kSingleHit;
  double tolerance = 1e-14;  // linear variant: stop when no h(i) moves by more than this
  int max_iterations = 100'000;
};

struct DebtRankResult {
  Eigen::VectorXd distress;  // h at the end
  double debtrank = 0.0;     // R = sum_i v(i) (h(i) - h0(i))
  int iterations = 0;        // propagation rounds
  bool converged = false;    // false only if max_iterations was reached
};

// Outcome of many shocks on one network (one column per shock).
struct BatchDebtRankResult {
  Eigen::MatrixXd distress;    // n x S: column s is h at the end of shock s
  Eigen::VectorXd debtrank;    // per shock: sum_i v(i) (h(i) - h0(i))
  Eigen::VectorXi iterations;  // per shock: propagation rounds
  bool converged = false;      // every shock converged
};

// DebtRank of the initial distress h0 on the impact matrix W (v uniform when `economic_value` is empty).
// Single-hit (Battiston, Puliga, Kaushik, Tasca, Caldarelli 2012, Sci. Rep. 2:541):
//   h(t) = min(1, h(t-1) + W' (h(t-1) on the banks distressed at t-1)), each bank distressed for one round only;
// linear (Bardoscia, Battiston, Caccioli, Caldarelli 2015, PLoS ONE 10(6):e0130406):
//   h(t+1) = min(1, h(t) + W' (h(t) - h(t-1))) with h(0) = 0 and h(1) = h0.
// Every round pushes only what changed: the distress of the banks that spread it, along their rows of W (kept
// compressed by row), so a round costs the links of those banks, not n^2. The dense and sparse forms give
// identical results (a dense W is compressed first, its zeros dropped).
DebtRankResult debtrank(const DenseMatrixRef& impact, const VectorRef& initial_distress,
                        const VectorRef& economic_value = Eigen::VectorXd(), const DebtRankOptions& options = {});
DebtRankResult debtrank(const Eigen::SparseMatrix<double>& impact, const VectorRef& initial_distress,
                        const VectorRef& economic_value = Eigen::VectorXd(), const DebtRankOptions& options = {});
DebtRankResult debtrank(const Eigen::SparseMatrix<double, Eigen::RowMajor>& impact, const VectorRef& initial_distress,
                        const VectorRef& economic_value = Eigen::VectorXd(), const DebtRankOptions& options = {});

// DebtRank of every column h0_s of the n x S matrix of initial distress, on the same network and with the same
// recursion as `debtrank`. W is compressed once; shocks run side by side in SIMD lanes, up to 32 at a time. Column s
// is exactly what `debtrank` gives for h0_s alone.
BatchDebtRankResult debtrank_batch(const DenseMatrixRef& impact, const DenseMatrixRef& initial_distress,
                                   const VectorRef& economic_value = Eigen::VectorXd(),
                                   const DebtRankOptions& options = {});
BatchDebtRankResult debtrank_batch(const Eigen::SparseMatrix<double>& impact, const DenseMatrixRef& initial_distress,
                                   const VectorRef& economic_value = Eigen::VectorXd(),
                                   const DebtRankOptions& options = {});
BatchDebtRankResult debtrank_batch(const Eigen::SparseMatrix<double, Eigen::RowMajor>& impact,
                                   const DenseMatrixRef& initial_distress,
                                   const VectorRef& economic_value = Eigen::VectorXd(),
                                   const DebtRankOptions& options = {});

}  // namespace ccpnet::models
