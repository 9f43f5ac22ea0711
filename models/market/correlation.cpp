#include "models/market/correlation.hpp"

#include <cmath>

namespace ccpnet::models {

double min_eigenvalue(const Eigen::MatrixXd& symmetric) {
  if (symmetric.size() == 0) return 0.0;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(symmetric, Eigen::EigenvaluesOnly);
  return solver.eigenvalues().minCoeff();
}

bool is_correlation_matrix(const Eigen::MatrixXd& m, double tol) {
  if (m.rows() != m.cols()) return false;
  if (!m.allFinite()) return false;
  if ((m - m.transpose()).cwiseAbs().maxCoeff() > tol) return false;
  if ((m.diagonal().array() - 1.0).abs().maxCoeff() > tol) return false;
  return min_eigenvalue(m) >= -tol;
}

namespace {
Eigen::MatrixXd project_psd(const Eigen::MatrixXd& a) {
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(0.5 * (a + a.transpose()));
  const Eigen::VectorXd clipped = solver.eigenvalues().cwiseMax(0.0);
  return solver.eigenvectors() * clipped.asDiagonal() * solver.eigenvectors().transpose();
}
}  // namespace

Eigen::MatrixXd nearest_correlation(const Eigen::MatrixXd& a, double tol, int max_iterations) {
  const Eigen::Index n = a.rows();
  Eigen::MatrixXd y = 0.5 * (a + a.transpose());
  Eigen::MatrixXd ds = Eigen::MatrixXd::Zero(n, n);
  Eigen::MatrixXd x = y;
  for (int k = 0; k < max_iterations; ++k) {
    const Eigen::MatrixXd r = y - ds;
    x = project_psd(r);
    ds = x - r;
    Eigen::MatrixXd y_next = x;
    y_next.diagonal().setOnes();
    const double change = (y_next - y).norm() / std::max(1.0, y.norm());
    y = y_next;
    if (change < tol) break;
  }
  // Tidy: exactly symmetric with a unit diagonal, and PSD up to rounding.
  // Into a new matrix: y = f(y, y^T) in place would read elements of y^T
  // already overwritten (Eigen's transpose aliasing), and the result would
  // not be symmetric.
  const Eigen::MatrixXd symmetric = 0.5 * (y + y.transpose());
  y = symmetric;
  y.diagonal().setOnes();
  return y;
}

Eigen::MatrixXd correlation_factor(const Eigen::MatrixXd& r) {
  Eigen::LLT<Eigen::MatrixXd> llt(r);
  if (llt.info() == Eigen::Success) return llt.matrixL();
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(r);
  const Eigen::VectorXd root = solver.eigenvalues().cwiseMax(0.0).cwiseSqrt();
  return solver.eigenvectors() * root.asDiagonal();
}

}  // namespace ccpnet::models
