// Engine benchmarks on the reference network (scenarios/reference_network.yaml:
// 10 CCPs in a mesh, ~1,700 members at ~3 CCPs each, 50 assets): scenarios per
// second for a calm, a stressed and an extreme calibration at 1 and 2 threads,
// and the revaluation kernel's rate against a dense matrix product.
#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <string>

#include "sim/config/load.hpp"
#include "sim/model.hpp"
#include "sim/revalue.hpp"
#include "sim/runner.hpp"
#include "sim/shocks.hpp"

namespace ccpnet {
namespace {

const char* kReference = CCPNET_SOURCE_DIR "/scenarios/reference_network.yaml";

// calm: ~2-5% of scenarios with a default; stressed: most; extreme: CCP failures
// (the calibrations of tests/bench/run_benchmarks.py).
const Model& reference(const std::string& calibration) {
  static std::map<std::string, std::unique_ptr<Model>> cache;
  auto& slot = cache[calibration];
  if (!slot) {
    std::vector<config::Override> o;
    if (calibration == "stressed") {
      o = {{"market.shocks.volatility_multiplier", "3"}, {"defaults.latent.pd", "0.001"}};
    } else if (calibration == "extreme") {
      o = {{"market.shocks.volatility_multiplier", "6"}, {"defaults.latent.pd", "0.02"}};
    }
    slot = std::make_unique<Model>(build_model(config::load_scenario_file(kReference, o)));
  }
  return *slot;
}

void run_reference(benchmark::State& state, const std::string& calibration) {
  const Model& model = reference(calibration);
  RunOptions options;
  options.threads = static_cast<int>(state.range(0));
  options.count = 16384;
  double defaults = 0, failures = 0;
  for (auto _ : state) {
    const RunResult r = run_monte_carlo(model, options);
    defaults = static_cast<double>(r.aggregate.totals().any_default) / static_cast<double>(options.count);
    failures = static_cast<double>(r.aggregate.totals().any_ccp_fail) / static_cast<double>(options.count);
  }
  state.SetItemsProcessed(state.iterations() * options.count);
  state.counters["scenarios_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * options.count), benchmark::Counter::kIsRate);
  // Time over millions of scenarios (kIsRate divides by the time, kInvert
  // turns it over when the benchmark reports): microseconds per scenario.
  state.counters["us_per_scenario"] = benchmark::Counter(static_cast<double>(state.iterations() * options.count) / 1e6,
                                                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["p_default"] = defaults;
  state.counters["p_ccp_fail"] = failures;
}

void BM_ReferenceCalm(benchmark::State& s) { run_reference(s, "calm"); }
void BM_ReferenceStressed(benchmark::State& s) { run_reference(s, "stressed"); }
void BM_ReferenceExtreme(benchmark::State& s) { run_reference(s, "extreme"); }
BENCHMARK(BM_ReferenceCalm)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ReferenceStressed)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ReferenceExtreme)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// The revaluation kernel of one tile (64 scenarios) of the reference network,
// in useful GFLOP/s (2 x non-zero positions x scenarios), next to a dense GEMM
// of the same shape (the machine's matrix-multiply rate).
void BM_RevaluationKernel(benchmark::State& state) {
  const Model& model = reference("calm");
  const Revaluation kernel(model.horizon_values[0]);
  RowMatrix returns = RowMatrix::Random(static_cast<Eigen::Index>(model.assets.size()), kTile) * 0.01;
  RowMatrix pnl(model.horizon_values[0].rows(), kTile);
  for (auto _ : state) {
    kernel.apply(returns, pnl);
    benchmark::DoNotOptimize(pnl.data());
  }
  // GFLOP over all iterations, divided by the time by kIsRate: GFLOP/s.
  state.counters["GFLOPs"] = benchmark::Counter(
      kernel.flops_per_column() * kTile * static_cast<double>(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
  state.counters["sparse"] = kernel.sparse() ? 1 : 0;
}
BENCHMARK(BM_RevaluationKernel);

void BM_DenseGemmSameShape(benchmark::State& state) {
  const Model& model = reference("calm");
  const Eigen::MatrixXd v = model.horizon_values[0];
  const Eigen::MatrixXd r = Eigen::MatrixXd::Random(v.cols(), kTile);
  Eigen::MatrixXd out(v.rows(), kTile);
  for (auto _ : state) {
    out.noalias() = v * r;
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["GFLOPs"] =
      benchmark::Counter(2.0 * static_cast<double>(v.size()) * kTile * static_cast<double>(state.iterations()) / 1e9,
                         benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DenseGemmSameShape);

// The shocks of the reference network over 10 daily points (50 assets,
// Student-t(4)): a tile of 64 scenarios at once (Arg 1) or scenario by
// scenario (Arg 0); scenarios per second (items_per_second).
void BM_ShockTile(benchmark::State& state) {
  const Model& model = reference("calm");
  const std::vector<double> points{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  const ShockGenerator shocks(model, points);
  std::vector<Eigen::MatrixXd> tile(static_cast<std::size_t>(kTile));
  std::vector<double> factors(tile.size());
  std::uint64_t first = 0;
  for (auto _ : state) {
    if (state.range(0) == 1) {
      shocks.generate_tile(first, tile, factors);
    } else {
      for (std::size_t i = 0; i < tile.size(); ++i) {
        tile[i].resize(static_cast<Eigen::Index>(model.assets.size()), static_cast<Eigen::Index>(points.size()));
        shocks.generate(first + i, tile[i], factors[i]);
      }
    }
    benchmark::DoNotOptimize(factors.data());
    first += tile.size();
  }
  state.SetItemsProcessed(state.iterations() * kTile);  // items_per_second: scenarios per second
}
BENCHMARK(BM_ShockTile)->Arg(0)->Arg(1);

}  // namespace
}  // namespace ccpnet
