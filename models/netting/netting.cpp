#include "models/netting/netting.hpp"

#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

namespace ccpnet::models {

namespace {

void check(int members, const Eigen::VectorXd& class_sd) {
  if (members < 2) throw std::invalid_argument("netting: at least 2 members, got " + std::to_string(members));
  if (class_sd.size() == 0) throw std::invalid_argument("netting: no asset class");
  for (Eigen::Index k = 0; k < class_sd.size(); ++k)
    if (!(class_sd(k) >= 0.0) || !std::isfinite(class_sd(k)))
      throw std::invalid_argument("netting: the standard deviation of class " + std::to_string(k) +
                                  " must be finite and not negative");
}

}  // namespace

double expected_positive_part(double sd) { return sd / std::sqrt(2.0 * std::numbers::pi); }

double bilateral_exposure(int members, const Eigen::VectorXd& class_sd) {
  check(members, class_sd);
  return (members - 1) * expected_positive_part(class_sd.norm());
}

double one_ccp_exposure(int members, const Eigen::VectorXd& class_sd) {
  check(members, class_sd);
  const double to_ccp = expected_positive_part(class_sd(0) * std::sqrt(members - 1.0));
  const double bilateral = (members - 1) * expected_positive_part(class_sd.tail(class_sd.size() - 1).norm());
  return to_ccp + bilateral;
}

double all_cleared_exposure(int members, const Eigen::VectorXd& class_sd) {
  check(members, class_sd);
  return expected_positive_part(std::sqrt(members - 1.0) * class_sd.norm());
}

int break_even_members(int classes) {
  if (classes < 1) throw std::invalid_argument("netting: at least 1 asset class, got " + std::to_string(classes));
  const double root = std::sqrt(static_cast<double>(classes)) + std::sqrt(classes - 1.0);
  return static_cast<int>(std::floor(root * root)) + 2;  // N - 1 is the next integer above root^2
}

}  // namespace ccpnet::models
