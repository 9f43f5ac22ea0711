// Quantiles of the distributions margin models scale by.
#pragma once

namespace ccpnet::models {

// Standard normal quantile Phi^-1(p), p in (0, 1).
double normal_quantile(double p);

// Standard normal CDF Phi(x).
double normal_cdf(double x);

// Quantile of a Student-t with `dof` > 2 degrees of freedom, scaled to unit
// variance: t_dof^-1(p) * sqrt((dof - 2) / dof). Throws unless dof > 2.
double unit_student_t_quantile(double p, double dof);

}  // namespace ccpnet::models
