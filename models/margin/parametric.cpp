#include "models/margin/parametric.hpp"

#include <cmath>

namespace ccpnet::models {

double parametric_im(const Eigen::VectorXd& values, const Eigen::MatrixXd& daily_cov, double mpor_days,
                     double quantile) {
  const double variance = values.dot(daily_cov * values);
  return quantile * std::sqrt(mpor_days) * std::sqrt(std::max(0.0, variance));
}

Eigen::VectorXd parametric_im_rows(const Eigen::MatrixXd& values, const Eigen::MatrixXd& cov_factor, double mpor_days,
                                   double quantile) {
  const Eigen::MatrixXd projected = values * cov_factor;
  return (quantile * std::sqrt(mpor_days)) * projected.rowwise().norm();
}

}  // namespace ccpnet::models
