#include "models/market/fire_sale.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace ccpnet::models {

double fire_sale_move(double net_value, double adv, double k) {
  if (!(adv > 0.0) || !(k >= 0.0) || !std::isfinite(net_value))
    throw std::invalid_argument("fire_sale_move: expected adv > 0, k >= 0 and a finite flow");
  if (net_value == 0.0 || k == 0.0 || std::isinf(adv)) return 0.0;
  const double size = k * std::sqrt(std::abs(net_value) / adv);
  return net_value > 0.0 ? size : -std::min(size, kMaxFireSaleFall);
}

Eigen::VectorXd fire_sale_moves(const Eigen::VectorXd& net_values, const Eigen::VectorXd& adv,
                                const Eigen::VectorXd& k) {
  if (adv.size() != net_values.size() || k.size() != net_values.size())
    throw std::invalid_argument("fire_sale_moves: flows, adv and k differ in size");
  Eigen::VectorXd moves(net_values.size());
  for (Eigen::Index a = 0; a < net_values.size(); ++a) moves(a) = fire_sale_move(net_values(a), adv(a), k(a));
  return moves;
}

}  // namespace ccpnet::models
