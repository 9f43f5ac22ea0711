#include "models/margin/quantile.hpp"

#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <stdexcept>
#include <string>

namespace ccpnet::models {

double normal_quantile(double p) { return boost::math::quantile(boost::math::normal_distribution<double>(), p); }

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

double unit_student_t_quantile(double p, double dof) {
  if (!(dof > 2.0))
    throw std::invalid_argument("Student-t margin: degrees of freedom must exceed 2 for a finite variance, got " +
                                std::to_string(dof));
  return boost::math::quantile(boost::math::students_t_distribution<double>(dof), p) * std::sqrt((dof - 2.0) / dof);
}

}  // namespace ccpnet::models
