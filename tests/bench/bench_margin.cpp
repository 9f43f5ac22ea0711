// Margin kernels at the size of the reference network (2,000 member accounts,
// 50 assets): parametric IM, a batch P&L as one matrix product, and the
// machine's dense matrix-multiply rate for comparison.
#include <benchmark/benchmark.h>

#include <Eigen/Dense>
#include <cmath>

#include "models/instruments/black76.hpp"
#include "models/margin/historical.hpp"
#include "models/margin/parametric.hpp"
#include "models/market/correlation.hpp"

namespace {

using ccpnet::models::correlation_factor;

constexpr Eigen::Index kMembers = 2000;
constexpr Eigen::Index kAssets = 50;
constexpr Eigen::Index kScenarios = 1024;

// Deterministic pseudo-random matrix (Eigen's Random uses std::rand).
Eigen::MatrixXd filled(Eigen::Index rows, Eigen::Index cols, double scale) {
  Eigen::MatrixXd m(rows, cols);
  for (Eigen::Index j = 0; j < cols; ++j)
    for (Eigen::Index i = 0; i < rows; ++i)
      m(i, j) = scale * std::sin(0.7 * static_cast<double>(i) + 1.3 * static_cast<double>(j) + 0.1);
  return m;
}

Eigen::MatrixXd cov_factor() {
  Eigen::MatrixXd r = Eigen::MatrixXd::Constant(kAssets, kAssets, 0.4);
  r.diagonal().setOnes();
  Eigen::VectorXd daily_vol(kAssets);
  for (Eigen::Index a = 0; a < kAssets; ++a) daily_vol(a) = (0.5 + 0.01 * static_cast<double>(a)) / std::sqrt(365.0);
  return daily_vol.asDiagonal() * correlation_factor(r);
}

// IM = q sqrt(h) ||v_i' F|| for every member: a 2000x50 by 50x50 product and
// row norms.
void BM_ParametricIm_2000x50(benchmark::State& state) {
  const Eigen::MatrixXd values = filled(kMembers, kAssets, 1.0e6);
  const Eigen::MatrixXd factor = cov_factor();
  for (auto _ : state) {
    Eigen::VectorXd im = ccpnet::models::parametric_im_rows(values, factor, 2.0, 2.326347874);
    benchmark::DoNotOptimize(im.data());
    benchmark::ClobberMemory();
  }
  const double flops = 2.0 * kMembers * kAssets * kAssets + 2.0 * kMembers * kAssets;
  state.counters["flop/s"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_ParametricIm_2000x50)->Unit(benchmark::kMicrosecond);

// P&L of a batch: (1024 scenarios x 50 assets) returns times (50 x 2000)
// position values = 1024 x 2000 P&L, 2 * 1024 * 50 * 2000 = 204.8 Mflop.
void BM_BatchPnl_1024x2000x50(benchmark::State& state) {
  const Eigen::MatrixXd returns = filled(kScenarios, kAssets, 0.05);
  const Eigen::MatrixXd values = filled(kMembers, kAssets, 1.0e6);
  Eigen::MatrixXd pnl(kScenarios, kMembers);
  for (auto _ : state) {
    pnl.noalias() = returns * values.transpose();
    benchmark::DoNotOptimize(pnl.data());
    benchmark::ClobberMemory();
  }
  const double flops = 2.0 * kScenarios * kAssets * kMembers;
  state.counters["flop/s"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_BatchPnl_1024x2000x50)->Unit(benchmark::kMillisecond);

// Reference: the machine's dense GEMM rate, square N x N times N x N (Eigen,
// one thread).
void BM_SquareGemm(benchmark::State& state) {
  const auto n = static_cast<Eigen::Index>(state.range(0));
  const Eigen::MatrixXd a = filled(n, n, 1.0);
  const Eigen::MatrixXd b = filled(n, n, 1.0).transpose();
  Eigen::MatrixXd c(n, n);
  for (auto _ : state) {
    c.noalias() = a * b;
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  const double flops = 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
  state.counters["flop/s"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_SquareGemm)->Arg(512)->Arg(1024)->Unit(benchmark::kMillisecond);

// Historical VaR of 2,000 members over 500 overlapping returns of 50 assets.
void BM_HistoricalIm_2000x50x500(benchmark::State& state) {
  const Eigen::MatrixXd returns = filled(500, kAssets, 0.05);
  const Eigen::MatrixXd values = filled(kMembers, kAssets, 1.0e6);
  for (auto _ : state) {
    Eigen::VectorXd im =
        ccpnet::models::historical_im_rows(values, returns, 0.99, ccpnet::models::RiskMeasure::kExpectedShortfall);
    benchmark::DoNotOptimize(im.data());
  }
}
BENCHMARK(BM_HistoricalIm_2000x50x500)->Unit(benchmark::kMillisecond);

// Black-76 full revaluation of one option over 1,024 scenarios.
void BM_Black76Pnl_1024(benchmark::State& state) {
  const ccpnet::models::OptionPosition option{.type = ccpnet::models::OptionType::kCall,
                                              .strike = 65000.0,
                                              .expiry_years = 0.25,
                                              .implied_vol = 0.6,
                                              .quantity = -10.0};
  const Eigen::ArrayXd x = filled(kScenarios, 1, 0.1).array();
  const Eigen::ArrayXd dv = filled(kScenarios, 1, 0.05).array();
  for (auto _ : state) {
    Eigen::ArrayXd pnl = ccpnet::models::black76_pnl(option, 60000.0, 0.04, x, dv);
    benchmark::DoNotOptimize(pnl.data());
  }
  state.SetItemsProcessed(state.iterations() * kScenarios);
}
BENCHMARK(BM_Black76Pnl_1024)->Unit(benchmark::kMicrosecond);

}  // namespace
