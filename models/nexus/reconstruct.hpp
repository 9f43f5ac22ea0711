// Bilateral exposures reconstructed from each bank's totals (SPEC 3.10, the
// CCP-bank nexus). Convention: X(i, j) is bank i's claim on bank j (what j
// owes i): row sums are the interbank assets a(i), column sums the interbank
// liabilities l(j), the diagonal is zero (no bank lends to itself). The
// liability matrix of models/clearing is L = X'.
//
// Maximum entropy (Upper and Worms 2004; Upper 2011, J. Financial Stability
// 7(3)): the matrix closest to the prior Q in relative entropy with the given
// row and column sums, where Q(i, j) = a(i) l(j) / total off the diagonal and
// 0 on it, found by the RAS (iterative proportional fitting) algorithm. With
// the diagonal allowed, the answer is Q itself, a(i) l(j) / total, in closed
// form; a zero diagonal breaks the product form and RAS finds the scaling
// r(i) s(j) Q(i, j) that meets both sums.
//
// Minimum density (Anand, Craig and von Peter 2015, "Filling in the blanks:
// network structure and interbank contagion", Quantitative Finance 15(4)):
// real interbank networks are sparse, so links are placed one at a time, each
// carrying the most it can, min(a left of i, l left of j), which exhausts a
// row or a column with every link: at most (banks lending) + (banks
// borrowing) - 1 links, plus two per rerouting when only a bank's own diagonal
// is left. The next link is drawn at random with weight (a left of i) x (l
// left of j), seeded, so one seed gives one network. This is the greedy
// allocation at the heart of their heuristic, not their full objective with a
// cost per link.
#pragma once

#include <Eigen/Core>
#include <cstdint>

namespace ccpnet::models {

struct MaxEntropyOptions {
  bool zero_diagonal = true;
  double tolerance = 1e-12;  // stop when every row and column sum is within tolerance * total
  int max_iterations = 100'000;
};

struct Reconstruction {
  Eigen::MatrixXd exposures;  // X(i, j): i's claim on j
  int iterations = 0;         // RAS sweeps (max entropy); links placed (minimum density)
  bool converged = false;
};

// Throws std::invalid_argument unless `assets` and `liabilities` have one
// finite non-negative entry per bank and equal totals (to 1e-9 relative), and
// (zero diagonal) no bank holds more than the others owe in all, or owes more
// than the others hold in all.
Reconstruction max_entropy(const Eigen::VectorXd& assets, const Eigen::VectorXd& liabilities,
                           const MaxEntropyOptions& options = {});

// The minimum-density network of `assets` and `liabilities` (zero diagonal),
// drawn from `seed`.
Reconstruction min_density(const Eigen::VectorXd& assets, const Eigen::VectorXd& liabilities, std::uint64_t seed);

}  // namespace ccpnet::models
