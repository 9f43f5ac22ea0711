// Correlation matrices: checks and the nearest valid correlation matrix.
#pragma once

#include <Eigen/Dense>

namespace ccpnet::models {

// Smallest eigenvalue of a symmetric matrix.
double min_eigenvalue(const Eigen::MatrixXd& symmetric);

// True when `m` is symmetric (to `tol`), has a unit diagonal and is positive
// semi-definite (smallest eigenvalue >= -tol).
bool is_correlation_matrix(const Eigen::MatrixXd& m, double tol = 1e-10);

// Nearest correlation matrix in the Frobenius norm (Higham 2002, "Computing the
// nearest correlation matrix", IMA J. Numer. Anal. 22: alternating projections
// with Dykstra's correction). The result is symmetric, PSD, with a unit diagonal.
Eigen::MatrixXd nearest_correlation(const Eigen::MatrixXd& a, double tol = 1e-12, int max_iterations = 1000);

// Lower Cholesky-like factor L with L L' = R, also for singular PSD R
// (eigen-decomposition fallback when the Cholesky factorisation fails).
Eigen::MatrixXd correlation_factor(const Eigen::MatrixXd& r);

}  // namespace ccpnet::models
