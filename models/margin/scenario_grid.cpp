#include "models/margin/scenario_grid.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace ccpnet::models {

ScanGrid make_scan_grid(double horizon_vol, double scan_sigmas, int price_steps, double vol_scan,
                        double extreme_multiple, double extreme_weight) {
  if (price_steps < 2)
    throw std::invalid_argument("scenario grid: at least 2 price steps are needed, got " + std::to_string(price_steps));
  if (!(horizon_vol >= 0.0) || !(scan_sigmas >= 0.0))
    throw std::invalid_argument("scenario grid: the volatility and the price scan range must not be negative");
  if (!(extreme_weight >= 0.0 && extreme_weight <= 1.0))
    throw std::invalid_argument("scenario grid: the extreme-move loss weight must be in [0, 1]");
  ScanGrid grid;
  const double range = scan_sigmas * horizon_vol;
  const double half = 0.5 * static_cast<double>(price_steps - 1);
  grid.price_moves.reserve(static_cast<std::size_t>(price_steps));
  // Symmetric by construction: step i and step (steps - 1 - i) are exact negatives.
  for (int i = 0; i < price_steps; ++i) grid.price_moves.push_back(range * (static_cast<double>(i) - half) / half);
  grid.vol_moves = vol_scan > 0.0 ? std::vector<double>{-vol_scan, vol_scan} : std::vector<double>{0.0};
  if (extreme_multiple > 0.0) grid.extreme_moves = {-extreme_multiple * range, extreme_multiple * range};
  grid.extreme_weight = extreme_weight;
  return grid;
}

Eigen::VectorXd scan_risk_array(const UnderlyingBook& book, const ScanGrid& grid, double rate, double horizon_years) {
  if (!(book.forward > 0.0)) throw std::invalid_argument("scenario grid: the underlying price must be positive");
  if (grid.vol_moves.empty()) throw std::invalid_argument("scenario grid: no vol moves (use {0} for none)");
  const auto n_price = static_cast<Eigen::Index>(grid.price_moves.size());
  const auto n_vol = static_cast<Eigen::Index>(grid.vol_moves.size());
  const auto n_extreme = static_cast<Eigen::Index>(grid.extreme_moves.size());
  const Eigen::Index n = n_price * n_vol + n_extreme;
  Eigen::ArrayXd price_moves(n), vol_moves(n);
  for (Eigen::Index i = 0; i < n_price; ++i)
    for (Eigen::Index j = 0; j < n_vol; ++j) {
      price_moves(i * n_vol + j) = grid.price_moves[static_cast<std::size_t>(i)];
      vol_moves(i * n_vol + j) = grid.vol_moves[static_cast<std::size_t>(j)];
    }
  for (Eigen::Index e = 0; e < n_extreme; ++e) {
    price_moves(n_price * n_vol + e) = grid.extreme_moves[static_cast<std::size_t>(e)];
    vol_moves(n_price * n_vol + e) = 0.0;
  }
  Eigen::ArrayXd pnl = book.linear_quantity * book.forward * (price_moves.exp() - 1.0);
  for (const OptionPosition& option : book.options)
    pnl += black76_pnl(option, book.forward, rate, price_moves,
                       grid.relative_vol_moves ? (vol_moves * option.implied_vol).eval() : vol_moves, horizon_years);
  return pnl.matrix();
}

double scan_loss(const UnderlyingBook& book, const ScanGrid& grid, double rate, double horizon_years) {
  const Eigen::VectorXd pnl = scan_risk_array(book, grid, rate, horizon_years);
  const auto n_grid = static_cast<Eigen::Index>(grid.price_moves.size() * grid.vol_moves.size());
  double loss = 0.0;
  for (Eigen::Index s = 0; s < pnl.size(); ++s)
    loss = std::max(loss, -(s < n_grid ? 1.0 : grid.extreme_weight) * pnl(s));
  return loss;
}

double scenario_grid_im(const std::vector<UnderlyingBook>& books, const std::vector<ScanGrid>& grids, double rate,
                        double horizon_years) {
  if (books.size() != grids.size())
    throw std::invalid_argument("scenario grid: " + std::to_string(books.size()) + " books but " +
                                std::to_string(grids.size()) + " grids");
  double im = 0.0;
  for (std::size_t u = 0; u < books.size(); ++u) im += scan_loss(books[u], grids[u], rate, horizon_years);
  return im;
}

Eigen::VectorXd scenario_grid_linear_rows(const Eigen::MatrixXd& values, const Eigen::VectorXd& horizon_vol,
                                          double scan_sigmas) {
  if (values.cols() != horizon_vol.size())
    throw std::invalid_argument("scenario grid: " + std::to_string(values.cols()) + " assets in the positions but " +
                                std::to_string(horizon_vol.size()) + " volatilities");
  const Eigen::ArrayXd range = scan_sigmas * horizon_vol.array();
  const Eigen::VectorXd long_loss = (1.0 - (-range).exp()).matrix();  // per unit long, move -range
  const Eigen::VectorXd short_loss = (range.exp() - 1.0).matrix();    // per unit short, move +range
  return values.cwiseMax(0.0) * long_loss + (-values).cwiseMax(0.0) * short_loss;
}

}  // namespace ccpnet::models
