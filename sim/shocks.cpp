#include "sim/shocks.hpp"

#include <cmath>

#include "sim/model.hpp"

namespace ccpnet {

ShockGenerator::ShockGenerator(const Model& model)
    : model_(model), market_(model.seed, rng::Stream::kMarket), jumps_(model.seed, rng::Stream::kJumps) {
  const auto n = static_cast<Eigen::Index>(model.assets.size());
  days_ = 1;
  for (double h : model.horizons) days_ = std::max(days_, static_cast<int>(std::ceil(h - 1e-12)));
  student_t_ = model.shocks.model == config::ShockModel::kStudentT;
  dof_ = model.shocks.dof;
  daily_vol_.resize(n);
  for (Eigen::Index a = 0; a < n; ++a)
    daily_vol_(a) = model.assets[static_cast<std::size_t>(a)].daily_vol * model.shocks.volatility_multiplier;
  jump_beta_ = Eigen::VectorXd::Ones(n);
  if (model.shocks.jumps) {
    for (const auto& [id, beta] : model.shocks.jumps->beta)
      for (Eigen::Index a = 0; a < n; ++a)
        if (model.assets[static_cast<std::size_t>(a)].id == id) jump_beta_(a) = beta;
  }
  overlay_ = Eigen::MatrixXd::Zero(n, static_cast<Eigen::Index>(model.horizons.size()));
  for (const auto& st : model.stress_scenarios)
    if (st.overlay) overlay_ += stress_move(model, st);
  factor_scale_ = 1.0 / std::sqrt(std::max(1e-300, static_cast<double>(days_) * model.correlation.sum()));
}

void ShockGenerator::generate(std::uint64_t scenario, Eigen::Ref<Eigen::MatrixXd> cumulative,
                              double& market_factor) const {
  const auto n = static_cast<Eigen::Index>(daily_vol_.size());
  rng::Draws normals(market_, scenario, 0);
  rng::Draws mixing(market_, scenario, 1);
  rng::Draws jumps(jumps_, scenario, 0);
  const auto& jump_cfg = model_.shocks.jumps;
  Eigen::VectorXd z(n), x(n), running = Eigen::VectorXd::Zero(n);
  double factor = 0.0;
  std::size_t next_horizon = 0;
  for (int d = 0; d < days_; ++d) {
    for (Eigen::Index a = 0; a < n; ++a) z(a) = normals.normal();
    x.noalias() = model_.correlation_factor * z;
    factor += x.sum();
    double scale = 1.0;
    if (student_t_) scale = std::sqrt((dof_ - 2.0) / mixing.chi_square(dof_));
    Eigen::VectorXd day = daily_vol_.cwiseProduct(x) * scale;
    if (jump_cfg && jump_cfg->intensity > 0.0) {
      const int count = jumps.poisson(jump_cfg->intensity);
      double size = 0.0;
      for (int k = 0; k < count; ++k) size += jump_cfg->mean + jump_cfg->stdev * jumps.normal();
      if (count > 0) day += jump_beta_ * size;
    }
    // Horizons ending inside this day take the square-root share of it.
    while (next_horizon < model_.horizons.size() && model_.horizons[next_horizon] <= d + 1 + 1e-12) {
      const double part = model_.horizons[next_horizon] - d;
      cumulative.col(static_cast<Eigen::Index>(next_horizon)) =
          running + std::sqrt(std::min(1.0, part)) * day + overlay_.col(static_cast<Eigen::Index>(next_horizon));
      ++next_horizon;
    }
    running += day;
  }
  market_factor = factor * factor_scale_;
}

Eigen::MatrixXd stress_move(const Model& model, const config::StressScenarioConfig& stress, double multiple) {
  const auto n = static_cast<Eigen::Index>(model.assets.size());
  Eigen::MatrixXd cumulative = Eigen::MatrixXd::Zero(n, static_cast<Eigen::Index>(model.horizons.size()));
  for (const auto& [id, move] : stress.moves) {
    for (Eigen::Index a = 0; a < n; ++a) {
      if (model.assets[static_cast<std::size_t>(a)].id != id) continue;
      // The move is realised linearly in log terms over its days; a price
      // cannot fall below zero, so the scaled log-move is taken on log(1 + m).
      const double log_move = std::log1p(std::max(move, -1.0 + 1e-12)) * multiple;
      for (std::size_t h = 0; h < model.horizons.size(); ++h)
        cumulative(a, static_cast<Eigen::Index>(h)) = log_move * std::min(1.0, model.horizons[h] / stress.days);
    }
  }
  return cumulative;
}

}  // namespace ccpnet
