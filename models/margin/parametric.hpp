// Parametric (variance-covariance) initial margin, SPEC 3.4:
//   IM = q_alpha * sqrt(h) * sqrt(v' Sigma_d v)
// v: position values per asset (USD), Sigma_d: daily covariance of log-returns,
// h: margin period of risk in days, q_alpha: the quantile of the scaled
// distribution (normal_quantile or unit_student_t_quantile of alpha).
#pragma once

#include <Eigen/Dense>

namespace ccpnet::models {

// One portfolio.
double parametric_im(const Eigen::VectorXd& values, const Eigen::MatrixXd& daily_cov, double mpor_days,
                     double quantile);

// Many portfolios at once: `values` has one row per account, `cov_factor` is a
// matrix F with F F' = Sigma_d (e.g. diag(sigma_d) * L). Returns one IM per row:
// q * sqrt(h) * || v' F ||.
Eigen::VectorXd parametric_im_rows(const Eigen::MatrixXd& values, const Eigen::MatrixXd& cov_factor, double mpor_days,
                                   double quantile);
// The same into `im`, with `projected` (rows x factors) as scratch: no
// allocation once both have their sizes.
void parametric_im_rows_into(const Eigen::MatrixXd& values, const Eigen::MatrixXd& cov_factor, double mpor_days,
                             double quantile, Eigen::MatrixXd& projected, Eigen::VectorXd& im);

}  // namespace ccpnet::models
