#include "sim/shocks.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
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

// The days the market factor covers: the move over which a member that
// defaults at the start is closed out, from today over the longest margin
// period of risk. One period: the whole path, which ends there. Time steps:
// the first step's close-out window, not the later days of the path, which a
// default at the start cannot foresee and which would dilute its wrong-way
// risk (exposure that rises as the participant's credit worsens; CPMI-IOSCO
// PFMI, Principles 4 and 6).
int market_factor_days(const Model& model, int days) {
  if (model.steps.count == 0) return days;
  double mpor = 0.0;
  for (const auto& ccp : model.ccps) mpor = std::max(mpor, ccp.mpor_days);
  return std::clamp(static_cast<int>(std::ceil(mpor - 1e-12)), 1, days);
}

// A day's log-returns within kMaxDailyLogMove.
void bound_day(Eigen::VectorXd& day) { day = day.cwiseMax(-kMaxDailyLogMove).cwiseMin(kMaxDailyLogMove); }

// Scenarios of a tile side by side: kLanes per vector, at most kTileWidth.
constexpr std::size_t kLanes = 8, kTileWidth = 64;
using Lanes = double __attribute__((vector_size(kLanes * sizeof(double))));

// One thread's state of a tile of scenarios (sized once, reused): each
// scenario's three streams and where its path stands, a day's normals and
// correlated normals (assets x kTileWidth), one scenario's day.
struct TileState {
  std::vector<rng::Draws> normals, mixing, jumps;
  std::vector<Eigen::VectorXd> running;
  std::vector<std::size_t> next_horizon;
  std::vector<double> z, x;
  std::vector<double> drawn;  // one scenario's normals of a day
  Eigen::VectorXd correlated, day;
};

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
  for (Eigen::Index i = 0; i < model.correlation_factor.rows(); ++i) {
    factor_start_.push_back(static_cast<int>(factor_value_.size()));
    for (Eigen::Index j = 0; j < model.correlation_factor.cols(); ++j)
      if (model.correlation_factor(i, j) != 0.0) {
        factor_column_.push_back(static_cast<int>(j));
        factor_value_.push_back(model.correlation_factor(i, j));
      }
  }
  factor_start_.push_back(static_cast<int>(factor_value_.size()));
  factor_scale_ = 1.0 / std::sqrt(std::max(1e-300, market_factor_days(model, days_) * model.correlation.sum()));
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
  thread_local std::array<Eigen::MatrixXd, 1> one;
  model_tile<1>(scenario, one, {&market_factor, 1});
  cumulative = one[0];
}

void ShockGenerator::generate_tile(std::uint64_t first, std::span<Eigen::MatrixXd> cumulative,
                                   std::span<double> market_factor) const {
  for (std::size_t i0 = 0; i0 < cumulative.size(); i0 += kTileWidth) {
    const std::size_t count = std::min(kTileWidth, cumulative.size() - i0);
    const auto tile = cumulative.subspan(i0, count);
    const auto factor = market_factor.subspan(i0, count);
    if (model_.history_mode) {
      for (std::size_t i = 0; i < count; ++i) {
        tile[i].resize(daily_vol_.size(), static_cast<Eigen::Index>(points_.size()));
        historical(first + i0 + i, tile[i], factor[i]);
      }
      continue;
    }
    switch (std::bit_ceil((count + kLanes - 1) / kLanes)) {
      case 1: model_tile<1>(first + i0, tile, factor); break;
      case 2: model_tile<2>(first + i0, tile, factor); break;
      case 4: model_tile<4>(first + i0, tile, factor); break;
      default: model_tile<8>(first + i0, tile, factor); break;
    }
  }
}

// Row i of x = L z over the tile's lanes: one multiply-add chain per
// scenario over the row's nonzero entries in column order, kept in
// registers. This is the order of Eigen's column-major product for the rows
// it sums in vectors (its zero entries add nothing): every row of an even
// number of assets; the last row of an odd number Eigen sums in scalar code,
// which can differ from the chain here in the last bit.
template <std::size_t vectors>
void ShockGenerator::correlate(const double* z, double* x) const {
  const auto n = static_cast<std::size_t>(daily_vol_.size());
  for (std::size_t i = 0; i < n; ++i) {
    std::array<Lanes, vectors> sum{};
    for (int k = factor_start_[i]; k < factor_start_[i + 1]; ++k) {
      const double v = factor_value_[static_cast<std::size_t>(k)];
      const double* row = z + static_cast<std::size_t>(factor_column_[static_cast<std::size_t>(k)]) * kTileWidth;
      for (std::size_t c = 0; c < vectors; ++c) {
        Lanes lanes;
        std::memcpy(&lanes, row + c * kLanes, sizeof(Lanes));
        sum[c] += v * lanes;
      }
    }
    std::memcpy(x + i * kTileWidth, sum.data(), sizeof(sum));
  }
}

// The model's draws for the tile, day by day: every scenario's normals of
// the day (in the order generate() draws them), one product for their
// correlation, then each scenario's volatility mixing, jumps, bounds and
// horizons from its own streams.
template <std::size_t vectors>
void ShockGenerator::model_tile(std::uint64_t first, std::span<Eigen::MatrixXd> cumulative,
                                std::span<double> market_factor) const {
  const auto n = static_cast<Eigen::Index>(daily_vol_.size());
  const auto points = static_cast<Eigen::Index>(points_.size());
  const std::size_t count = cumulative.size();
  const auto& jump_cfg = model_.shocks.jumps;
  // Per-thread state: the generator is shared by the workers.
  thread_local TileState t;
  t.normals.clear();
  t.mixing.clear();
  t.jumps.clear();
  for (std::size_t i = 0; i < count; ++i) {
    t.normals.emplace_back(market_, first + i, 0);
    t.mixing.emplace_back(market_, first + i, 1);
    t.jumps.emplace_back(jumps_, first + i, 0);
  }
  t.running.resize(count);
  for (auto& r : t.running) r.setZero(n);
  t.next_horizon.assign(count, 0);
  t.z.assign(static_cast<std::size_t>(n) * kTileWidth, 0.0);
  t.x.resize(t.z.size());
  t.drawn.resize(static_cast<std::size_t>(n));
  t.correlated.resize(n);
  t.day.resize(n);
  std::fill(market_factor.begin(), market_factor.end(), 0.0);
  const int factor_days = market_factor_days(model_, days_);
  for (auto& c : cumulative) c.resize(n, points);
  for (int d = 0; d < days_; ++d) {
    for (std::size_t i = 0; i < count; ++i) {
      t.normals[i].normals(t.drawn.data(), t.drawn.size());
      for (Eigen::Index a = 0; a < n; ++a)
        t.z[static_cast<std::size_t>(a) * kTileWidth + i] = t.drawn[static_cast<std::size_t>(a)];
    }
    correlate<vectors>(t.z.data(), t.x.data());
    for (std::size_t i = 0; i < count; ++i) {
      for (Eigen::Index a = 0; a < n; ++a) t.correlated(a) = t.x[static_cast<std::size_t>(a) * kTileWidth + i];
      if (d < factor_days) market_factor[i] += t.correlated.sum();
      double scale = 1.0;
      if (student_t_) scale = std::sqrt((dof_ - 2.0) / t.mixing[i].chi_square(dof_));
      t.day = daily_vol_.cwiseProduct(t.correlated) * scale;
      if (jump_cfg && jump_cfg->intensity > 0.0) {
        const int jumps = t.jumps[i].poisson(jump_cfg->intensity);
        double size = 0.0;
        for (int k = 0; k < jumps; ++k) size += jump_cfg->mean + jump_cfg->stdev * t.jumps[i].normal();
        if (jumps > 0) t.day += jump_beta_ * size;
      }
      bound_day(t.day);
      add_day(points_, d, t.day, overlay_, t.running[i], t.next_horizon[i], cumulative[i]);
    }
  }
  for (double& f : market_factor) f *= factor_scale_;
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
  const int factor_days = market_factor_days(model_, days_);
  for (int d = 0; d < days_; ++d) {
    Eigen::Index row = start + d;
    if (!replay)
      row = std::min(static_cast<Eigen::Index>(draws.uniform() * static_cast<double>(r.rows())), r.rows() - 1);
    day = r.row(row).transpose();
    bound_day(day);
    if (d < factor_days) market += day.mean();
    add_day(points_, d, day, overlay_, running, next_horizon, cumulative);
  }
  // The equally weighted move over the factor's days, standardised by its history.
  market_factor = history_factor_sd_ > 0.0 ? (market - factor_days * history_factor_mean_) /
                                                 (std::sqrt(static_cast<double>(factor_days)) * history_factor_sd_)
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
