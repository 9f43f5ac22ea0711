// Clearing building blocks at the size of the reference interbank test: 1,000
// banks with ~15 creditors each (sparse) or everyone owing everyone (dense),
// 1,000 shock scenarios; balance sheets with interbank assets ~40% of total
// assets, 4% equity, the rest external debt (pari passu); each scenario takes
// a common loss U(0, 4%) plus an idiosyncratic loss U(0, 6%) on every bank's
// external assets (tests/bench/clearing_vs_numpy.py builds the same kind of
// system for the comparison with numpy).
#include <benchmark/benchmark.h>

#include <Eigen/Dense>
#include <Eigen/SparseCore>
#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "models/clearing/debtrank.hpp"
#include "models/clearing/eisenberg_noe.hpp"
#include "models/clearing/rogers_veraart.hpp"

namespace {

using ccpnet::models::DebtPriority;
using ccpnet::models::EisenbergNoeOptions;

constexpr Eigen::Index kBanks = 1000;
constexpr Eigen::Index kScenarios = 1000;

struct System {
  Eigen::SparseMatrix<double> liabilities;
  Eigen::VectorXd external_assets;
  Eigen::VectorXd external_debt;
  Eigen::MatrixXd shocked;  // kBanks x kScenarios
};

System make_system(bool dense, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::lognormal_distribution<double> size(0.0, 1.0);
  std::vector<Eigen::Triplet<double>> entries;
  const double link = 15.0 / (kBanks - 1);
  for (Eigen::Index i = 0; i < kBanks; ++i)
    for (Eigen::Index j = 0; j < kBanks; ++j)
      if (i != j && (dense || unit(rng) < link)) entries.emplace_back(i, j, dense ? unit(rng) : size(rng));
  System s;
  s.liabilities.resize(kBanks, kBanks);
  s.liabilities.setFromTriplets(entries.begin(), entries.end());
  const Eigen::MatrixXd l(s.liabilities);
  const Eigen::VectorXd owed = l.rowwise().sum();
  const Eigen::VectorXd owed_to = l.colwise().sum().transpose();
  s.external_assets = 1.5 * (owed_to.array() + owed_to.mean()).matrix();
  s.external_debt = 0.96 * (s.external_assets + owed_to) - owed;
  for (Eigen::Index i = 0; i < kBanks; ++i)
    if (s.external_debt[i] < 0) {
      s.external_assets[i] -= s.external_debt[i];
      s.external_debt[i] = 0;
    }
  s.shocked.resize(kBanks, kScenarios);
  for (Eigen::Index k = 0; k < kScenarios; ++k) {
    const double common = 0.04 * unit(rng);
    for (Eigen::Index i = 0; i < kBanks; ++i)
      s.shocked(i, k) = s.external_assets[i] * (1.0 - common - 0.06 * unit(rng));
  }
  return s;
}

const System& sparse_system() {
  static const System s = make_system(false, 7);
  return s;
}

const System& dense_system() {
  static const System s = make_system(true, 8);
  return s;
}

void report(benchmark::State& state, Eigen::Index scenarios) {
  state.counters["scenario/s"] =
      benchmark::Counter(static_cast<double>(scenarios), benchmark::Counter::kIsIterationInvariantRate);
}

// Mean Jacobi iterations and defaults per scenario, to read the timings against.
void report_batch(benchmark::State& state, const ccpnet::models::BatchClearingResult& r, const System& s) {
  const Eigen::VectorXd pbar = Eigen::MatrixXd(s.liabilities).rowwise().sum() + s.external_debt;
  Eigen::Index defaults = 0;
  for (Eigen::Index k = 0; k < r.payments.cols(); ++k)
    defaults += (r.payments.col(k).array() < pbar.array() * (1 - 1e-12)).count();
  state.counters["iterations"] = r.iterations.cast<double>().mean();
  state.counters["defaults"] = static_cast<double>(defaults) / static_cast<double>(r.payments.cols());
  report(state, r.payments.cols());
}

// The batched greatest clearing vectors of 1,000 scenarios on the sparse network.
void BM_EisenbergNoeBatch_Sparse1000x1000(benchmark::State& state) {
  const System& s = sparse_system();
  ccpnet::models::BatchClearingResult r;
  for (auto _ : state) {
    r = ccpnet::models::eisenberg_noe_batch(s.liabilities, s.shocked, s.external_debt);
    benchmark::DoNotOptimize(r.payments.data());
  }
  report_batch(state, r, s);
}
BENCHMARK(BM_EisenbergNoeBatch_Sparse1000x1000)->Unit(benchmark::kMillisecond);

void BM_EisenbergNoeBatch_SparseSenior1000x1000(benchmark::State& state) {
  const System& s = sparse_system();
  EisenbergNoeOptions options;
  options.external_debt_priority = DebtPriority::kSenior;
  ccpnet::models::BatchClearingResult r;
  for (auto _ : state) {
    r = ccpnet::models::eisenberg_noe_batch(s.liabilities, s.shocked, s.external_debt, options);
    benchmark::DoNotOptimize(r.payments.data());
  }
  report_batch(state, r, s);
}
BENCHMARK(BM_EisenbergNoeBatch_SparseSenior1000x1000)->Unit(benchmark::kMillisecond);

void BM_EisenbergNoeBatch_Dense1000x1000(benchmark::State& state) {
  const System& s = dense_system();
  const Eigen::MatrixXd l(s.liabilities);
  ccpnet::models::BatchClearingResult r;
  for (auto _ : state) {
    r = ccpnet::models::eisenberg_noe_batch(l, s.shocked, s.external_debt);
    benchmark::DoNotOptimize(r.payments.data());
  }
  report_batch(state, r, s);
}
BENCHMARK(BM_EisenbergNoeBatch_Dense1000x1000)->Unit(benchmark::kMillisecond);

// One scenario at a time by fictitious default (exact, with sparse LU solves), for comparison with the batch.
void BM_EisenbergNoe_SparseOneScenario(benchmark::State& state) {
  const System& s = sparse_system();
  Eigen::Index k = 0;
  for (auto _ : state) {
    const Eigen::VectorXd e = s.shocked.col(k);
    auto r = ccpnet::models::eisenberg_noe(s.liabilities, e, s.external_debt);
    benchmark::DoNotOptimize(r.payments.data());
    k = (k + 1) % kScenarios;
  }
  report(state, 1);
}
BENCHMARK(BM_EisenbergNoe_SparseOneScenario)->Unit(benchmark::kMicrosecond);

void BM_RogersVeraart_SparseOneScenario(benchmark::State& state) {
  const System& s = sparse_system();
  Eigen::Index k = 0;
  for (auto _ : state) {
    const Eigen::VectorXd e = s.shocked.col(k);
    auto r = ccpnet::models::rogers_veraart(s.liabilities, e, 0.9, 0.95, s.external_debt);
    benchmark::DoNotOptimize(r.payments.data());
    k = (k + 1) % kScenarios;
  }
  report(state, 1);
}
BENCHMARK(BM_RogersVeraart_SparseOneScenario)->Unit(benchmark::kMicrosecond);

// DebtRank of the default of bank 0 on the sparse network: W(i, j) = min(1, L(j, i) / equity(j)).
void BM_DebtRank(benchmark::State& state) {
  const System& s = sparse_system();
  const Eigen::MatrixXd l(s.liabilities);
  const Eigen::VectorXd owed_to = l.colwise().sum().transpose();
  const Eigen::VectorXd equity =
      s.external_assets + owed_to - l.rowwise().sum() - s.external_debt + Eigen::VectorXd::Constant(kBanks, 1e-9);
  const Eigen::MatrixXd impact = (l.transpose().array().rowwise() / equity.transpose().array()).cwiseMin(1.0);
  Eigen::VectorXd h0 = Eigen::VectorXd::Zero(kBanks);
  h0[0] = 1.0;
  ccpnet::models::DebtRankOptions options;
  options.variant =
      state.range(0) != 0 ? ccpnet::models::DebtRankVariant::kLinear : ccpnet::models::DebtRankVariant::kSingleHit;
  for (auto _ : state) {
    auto r = ccpnet::models::debtrank(impact, h0, Eigen::VectorXd(), options);
    benchmark::DoNotOptimize(r.debtrank);
  }
}
BENCHMARK(BM_DebtRank)->Arg(0)->Arg(1)->ArgName("linear")->Unit(benchmark::kMicrosecond);

// DebtRank on a network of 1,000 banks with ~5 links each (directed Erdos-Renyi, log-normal exposures); each
// bank's equity is a quarter of its interbank assets (equity 10% and interbank assets 40% of total assets), so
// W(i, j) = min(1, exposure of j to i / equity of j) and column j of W sums to at most 4. Shock s is the default
// of bank s (h0 = e_s): S shocks give the DebtRank of banks 0 .. S-1. tests/bench/debtrank_vs_numpy.py
// builds the same kind of network for the comparison with numpy/scipy.sparse.
struct DebtRankNetwork {
  Eigen::SparseMatrix<double, Eigen::RowMajor> impact;
  Eigen::MatrixXd dense_impact;
};

DebtRankNetwork make_debtrank_network(unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::lognormal_distribution<double> size(0.0, 1.0);
  std::vector<Eigen::Triplet<double>> exposures;  // (i, j, exposure of j to i)
  for (Eigen::Index i = 0; i < kBanks; ++i)
    for (Eigen::Index j = 0; j < kBanks; ++j)
      if (i != j && unit(rng) < 5.0 / (kBanks - 1)) exposures.emplace_back(i, j, size(rng));
  Eigen::SparseMatrix<double, Eigen::RowMajor> exposure(kBanks, kBanks);
  exposure.setFromTriplets(exposures.begin(), exposures.end());
  const Eigen::VectorXd equity = 0.25 * (Eigen::RowVectorXd::Ones(kBanks) * exposure).transpose();
  DebtRankNetwork net;
  net.impact = exposure;
  for (Eigen::Index i = 0; i < kBanks; ++i)
    for (Eigen::SparseMatrix<double, Eigen::RowMajor>::InnerIterator it(net.impact, i); it; ++it)
      it.valueRef() = std::min(1.0, it.value() / equity[it.col()]);
  net.dense_impact = Eigen::MatrixXd(net.impact);
  return net;
}

const DebtRankNetwork& debtrank_network() {
  static const DebtRankNetwork net = make_debtrank_network(11);
  return net;
}

ccpnet::models::DebtRankOptions debtrank_variant(int64_t linear) {
  ccpnet::models::DebtRankOptions options;
  options.variant =
      linear != 0 ? ccpnet::models::DebtRankVariant::kLinear : ccpnet::models::DebtRankVariant::kSingleHit;
  return options;
}

// The defaults of banks 0 .. S-1 one call each, with the dense matrix (the only form the first version took).
void BM_DebtRankDenseOneByOne(benchmark::State& state) {
  const DebtRankNetwork& net = debtrank_network();
  const Eigen::Index shocks = state.range(0);
  const auto options = debtrank_variant(state.range(1));
  for (auto _ : state) {
    for (Eigen::Index s = 0; s < shocks; ++s) {
      const Eigen::VectorXd h0 = Eigen::VectorXd::Unit(kBanks, s);
      auto r = ccpnet::models::debtrank(net.dense_impact, h0, Eigen::VectorXd(), options);
      benchmark::DoNotOptimize(r.debtrank);
    }
  }
  state.counters["shock/s"] =
      benchmark::Counter(static_cast<double>(shocks), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_DebtRankDenseOneByOne)
    ->ArgsProduct({{1, 64}, {0, 1}})
    ->ArgNames({"shocks", "linear"})
    ->Unit(benchmark::kMicrosecond);

// The same shocks in one call on the sparse matrix (n x S initial distress, propagated side by side).
void BM_DebtRankSparseBatch(benchmark::State& state) {
  const DebtRankNetwork& net = debtrank_network();
  const Eigen::Index shocks = state.range(0);
  const auto options = debtrank_variant(state.range(1));
  const Eigen::MatrixXd h0 = Eigen::MatrixXd::Identity(kBanks, shocks);
  ccpnet::models::BatchDebtRankResult r;
  for (auto _ : state) {
    r = ccpnet::models::debtrank_batch(net.impact, h0, Eigen::VectorXd(), options);
    benchmark::DoNotOptimize(r.debtrank.data());
  }
  state.counters["shock/s"] =
      benchmark::Counter(static_cast<double>(shocks), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["rounds"] = r.iterations.cast<double>().mean();
  state.counters["debtrank"] = r.debtrank.mean();
}
BENCHMARK(BM_DebtRankSparseBatch)
    ->ArgsProduct({{1, 64, kBanks}, {0, 1}})
    ->ArgNames({"shocks", "linear"})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
