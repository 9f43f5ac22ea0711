#include "sim/shocks.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "sim/model.hpp"

namespace ccpnet {

namespace {

// Adds the move of day `d` (0-based): the horizons (points in time) ending
// inside the day take `running` plus the square-root share of the day (and
// the overlay), then the day joins `running`.
void add_day(const std::vector<double>& horizons, int d, const Eigen::VectorXd& day, const Eigen::MatrixXd& overlay,
             Eigen::VectorXd& running, std::size_t& next_horizon, Eigen::Ref<Eigen::MatrixXd> cumulative) {
  while (next_horizon < horizons.size() && horizons[next_horizon] <= d + 1 + 1e-12) {
    const double part = horizons[next_horizon] - d;
    const auto h = static_cast<Eigen::Index>(next_horizon);
    cumulative.col(h) = running + std::sqrt(std::min(1.0, part)) * day + overlay.col(h);
    cumulative.col(h) = cumulative.col(h).cwiseMax(-kMaxHorizonLogMove).cwiseMin(kMaxHorizonLogMove);
    ++next_horizon;
  }
  running += day;
}

// A day's log-returns within kMaxDailyLogMove.
void bound_day(Eigen::VectorXd& day) { day = day.cwiseMax(-kMaxDailyLogMove).cwiseMin(kMaxDailyLogMove); }

}  // namespace

ShockGenerator::ShockGenerator(const Model& model) : ShockGenerator(model, move_points(model)) {}

ShockGenerator::ShockGenerator(const Model& model, const std::vector<double>& points)
    : model_(model),
      points_(points),
      market_(model.seed, rng::Stream::kMarket),
      jumps_(model.seed, rng::Stream::kJumps),
      history_(model.seed, rng::Stream::kHistory) {
  const auto n = static_cast<Eigen::Index>(model.assets.size());
  days_ = 1;
  for (double h : points_) days_ = std::max(days_, static_cast<int>(std::ceil(h - 1e-12)));
  student_t_ = model.shocks.student_t;
  dof_ = model.shocks.dof;
  daily_vol_.resize(n);
  for (Eigen::Index a = 0; a < n; ++a)
    daily_vol_(a) = model.assets[static_cast<std::size_t>(a)].daily_vol * model.shocks.volatility_multiplier;
  jump_beta_ = Eigen::VectorXd::Ones(n);
  if (model.shocks.jumps) jump_beta_ = model.shocks.jumps->beta;
  overlay_ = Eigen::MatrixXd::Zero(n, static_cast<Eigen::Index>(points_.size()));
  for (const auto& st : model.stress_scenarios)
    if (st.overlay) overlay_ += stress_move_at(model, st, points_);
  factor_scale_ = 1.0 / std::sqrt(std::max(1e-300, static_cast<double>(days_) * model.correlation.sum()));
  if (model.history_mode) {
    const Eigen::MatrixXd& r = model.history_log_returns;
    windows_ = std::max<std::int64_t>(0, static_cast<std::int64_t>(r.rows()) - days_ + 1);
    if (r.rows() < days_ || n == 0)
      throw std::logic_error("price history shorter than the scenario horizon (checked when loading)");
    const Eigen::VectorXd market = r.rowwise().mean();
    history_factor_mean_ = market.mean();
    history_factor_sd_ = std::sqrt((market.array() - history_factor_mean_).square().sum() /
                                   static_cast<double>(std::max<Eigen::Index>(1, market.size() - 1)));
  }
}

void ShockGenerator::generate(std::uint64_t scenario, Eigen::Ref<Eigen::MatrixXd> cumulative,
                              double& market_factor) const {
  if (model_.history_mode) return historical(scenario, cumulative, market_factor);
  const auto n = static_cast<Eigen::Index>(daily_vol_.size());
  rng::Draws normals(market_, scenario, 0);
  rng::Draws mixing(market_, scenario, 1);
  rng::Draws jumps(jumps_, scenario, 0);
  const auto& jump_cfg = model_.shocks.jumps;
  // Per-thread scratch: generate() runs once per scenario on every worker, and
  // the generator is shared, so its buffers are the thread's, sized once.
  thread_local Eigen::VectorXd z, x, day, running;
  z.resize(n);
  x.resize(n);
  day.resize(n);
  running.setZero(n);
  double factor = 0.0;
  std::size_t next_horizon = 0;
  for (int d = 0; d < days_; ++d) {
    for (Eigen::Index a = 0; a < n; ++a) z(a) = normals.normal();
    x.noalias() = model_.correlation_factor * z;
    factor += x.sum();
    double scale = 1.0;
    if (student_t_) scale = std::sqrt((dof_ - 2.0) / mixing.chi_square(dof_));
    day = daily_vol_.cwiseProduct(x) * scale;
    if (jump_cfg && jump_cfg->intensity > 0.0) {
      const int count = jumps.poisson(jump_cfg->intensity);
      double size = 0.0;
      for (int k = 0; k < count; ++k) size += jump_cfg->mean + jump_cfg->stdev * jumps.normal();
      if (count > 0) day += jump_beta_ * size;
    }
    bound_day(day);
    add_day(points_, d, day, overlay_, running, next_horizon, cumulative);
  }
  market_factor = factor * factor_scale_;
}

void ShockGenerator::historical(std::uint64_t scenario, Eigen::Ref<Eigen::MatrixXd> cumulative,
                                double& market_factor) const {
  const Eigen::MatrixXd& r = model_.history_log_returns;
  const bool replay = *model_.history_mode == HistoryMode::kReplay;
  const auto start = replay ? static_cast<Eigen::Index>(scenario % static_cast<std::uint64_t>(windows_)) : 0;
  rng::Draws draws(history_, scenario, 1);
  Eigen::VectorXd running = Eigen::VectorXd::Zero(r.cols()), day(r.cols());
  double market = 0.0;
  std::size_t next_horizon = 0;
  for (int d = 0; d < days_; ++d) {
    Eigen::Index row = start + d;
    if (!replay)
      row = std::min(static_cast<Eigen::Index>(draws.uniform() * static_cast<double>(r.rows())), r.rows() - 1);
    day = r.row(row).transpose();
    bound_day(day);
    market += day.mean();
    add_day(points_, d, day, overlay_, running, next_horizon, cumulative);
  }
  // The equally weighted move over the days, standardised by its history.
  market_factor = history_factor_sd_ > 0.0 ? (market - days_ * history_factor_mean_) /
                                                 (std::sqrt(static_cast<double>(days_)) * history_factor_sd_)
                                           : 0.0;
}

const std::vector<double>& move_points(const Model& model) {
  return model.steps.count > 0 ? model.steps.points : model.horizons;
}

Eigen::MatrixXd stress_move(const Model& model, const StressScenario& stress, double multiple) {
  return stress_move_at(model, stress, move_points(model), multiple);
}

Eigen::MatrixXd stress_move_at(const Model& model, const StressScenario& stress, const std::vector<double>& points,
                               double multiple) {
  const auto n = static_cast<Eigen::Index>(model.assets.size());
  Eigen::MatrixXd cumulative = Eigen::MatrixXd::Zero(n, static_cast<Eigen::Index>(points.size()));
  // Realised linearly in log terms over its days, or day by day along its
  // path; a price cannot fall below zero, so the log-move is taken on log(1 + m).
  for (const auto& [id, move] : stress.total_moves())
    for (Eigen::Index a = 0; a < n; ++a) {
      if (model.assets[static_cast<std::size_t>(a)].id != id) continue;
      for (std::size_t h = 0; h < points.size(); ++h)
        cumulative(a, static_cast<Eigen::Index>(h)) = stress.log_move(id, points[h], multiple);
    }
  return cumulative;
}

Eigen::MatrixXd stress_vol_factor(const Model& model, const StressScenario& stress) {
  const auto n = static_cast<Eigen::Index>(model.assets.size());
  const std::vector<double>& points = move_points(model);
  Eigen::MatrixXd factor = Eigen::MatrixXd::Ones(n, static_cast<Eigen::Index>(points.size()));
  for (const auto& [id, move] : stress.vol_moves)
    for (Eigen::Index a = 0; a < n; ++a) {
      if (model.assets[static_cast<std::size_t>(a)].id != id) continue;
      for (std::size_t h = 0; h < points.size(); ++h)
        factor(a, static_cast<Eigen::Index>(h)) =
            std::exp(std::log1p(move) * std::min(1.0, points[h] / stress.length_days()));
    }
  return factor;
}

}  // namespace ccpnet
