#include "models/margin/parametric.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace ccpnet::models {

double parametric_im(const Eigen::VectorXd& values, const Eigen::MatrixXd& daily_cov, double mpor_days,
                     double quantile) {
  if (daily_cov.rows() != values.size() || daily_cov.cols() != values.size())
    throw std::invalid_argument("parametric margin: " + std::to_string(values.size()) + " positions but a " +
                                std::to_string(daily_cov.rows()) + "x" + std::to_string(daily_cov.cols()) +
                                " covariance matrix");
  const double variance = values.dot(daily_cov * values);
  return quantile * std::sqrt(mpor_days) * std::sqrt(std::max(0.0, variance));
}

Eigen::VectorXd parametric_im_rows(const Eigen::MatrixXd& values, const Eigen::MatrixXd& cov_factor, double mpor_days,
                                   double quantile) {
  Eigen::MatrixXd projected;
  Eigen::VectorXd im;
  parametric_im_rows_into(values, cov_factor, mpor_days, quantile, projected, im);
  return im;
}

void parametric_im_rows_into(const Eigen::MatrixXd& values, const Eigen::MatrixXd& cov_factor, double mpor_days,
                             double quantile, Eigen::MatrixXd& projected, Eigen::VectorXd& im) {
  if (cov_factor.rows() != values.cols())
    throw std::invalid_argument("parametric margin: " + std::to_string(values.cols()) +
                                " assets in the positions but a covariance factor with " +
                                std::to_string(cov_factor.rows()) + " rows");
  projected.noalias() = values * cov_factor;
  im = (quantile * std::sqrt(mpor_days)) * projected.rowwise().norm();
}

}  // namespace ccpnet::models
