// Fire sales: liquidations of one asset in one step move its price for
// everyone (square-root impact law: Toth et al. 2011, "Anomalous price impact
// and the critical nature of liquidity in financial markets", Phys. Rev. X 1;
// Bouchaud, Bonart, Donier & Gould, "Trades, Quotes and Prices", 2018, ch. 12;
// for fire sales across institutions holding common assets: Cont & Schaanning
// 2017, "Fire sales, indirect contagion and systemic stress testing").
//
// X: the net value liquidators trade in the asset in the step (USD, > 0
// bought, < 0 sold), ADV its average daily volume (USD), k its impact
// coefficient (the liquidation_cost of the asset). The price moves by
//   s = sign(X) k sqrt(|X| / ADV)        (relative; a fall of at most 99%)
// and every liquidation of the step executes at the moved price: closing a
// position of value x (sold when long, bought back when short) costs -x s.
// Together the liquidators pay -X s = k |X| sqrt(|X| / ADV): the cost of one
// liquidation of the whole flow, more than the sum of the costs of its parts
// liquidated alone (k |x| sqrt(|x| / ADV) each) when they trade the same way.
#pragma once

#include <Eigen/Dense>

namespace ccpnet::models {

inline constexpr double kMaxFireSaleFall = 0.99;

// The relative price move s of a net flow X (0 when X = 0, ADV infinite or k 0).
double fire_sale_move(double net_value, double adv, double k);

// Per asset: the moves of net flows `net_values`.
Eigen::VectorXd fire_sale_moves(const Eigen::VectorXd& net_values, const Eigen::VectorXd& adv,
                                const Eigen::VectorXd& k);

}  // namespace ccpnet::models
