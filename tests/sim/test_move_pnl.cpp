// The linear P&L of accounts under stress moves that shift one or two assets
// (the single-asset and spread moves of the default-fund stress set; RTS
// 153/2013 art. 30: hypothetical scenarios including breaks in correlation
// between products usually hedged against each other), read from the columns
// of those assets rather than by the dense product over every asset.
#include <gtest/gtest.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/task_arena.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>
#include <tuple>
#include <vector>

#include "sim/compile/steps.hpp"
#include "sim/config/load.hpp"
#include "sim/model.hpp"

namespace ccpnet {
namespace test_move_pnl {

using compile::TwoAssetMove;

// By hand: an account long asset 0 (value 100) and short asset 1 (value -50).
// Spread move "0 up 10%, 1 down 10%": 100 * 0.1 + (-50) * (-0.1) = 15, a gain
// on both legs; "1 up 10%, 0 down 10%": -10 - 5 = -15, a loss on both legs,
// which the directional moves (all up: 10 - 5 = 5) do not show. Single move
// "1 up 10%": -5.
TEST(MovePnl, AHedgedBookLosesOnBothLegsOfASpreadMoveRts153Art30) {
  Eigen::MatrixXd values(1, 2);
  values << 100.0, -50.0;
  Eigen::MatrixXd moves(2, 4);
  moves << 0.1, 0.1, -0.1, 0.0,  //
      0.1, -0.1, 0.1, 0.1;
  const std::vector<TwoAssetMove> two_asset{{}, {0, 1}, {0, 1}, {1, -1}};
  std::vector<double> scratch;
  Eigen::MatrixXd pnl(1, 4);
  compile::stress_move_pnl(values, moves, two_asset, 0, 4, true, scratch, pnl);
  EXPECT_NEAR(pnl(0, 0), 5.0, 1e-12);
  EXPECT_NEAR(pnl(0, 1), 15.0, 1e-12);
  EXPECT_NEAR(pnl(0, 2), -15.0, 1e-12);
  EXPECT_NEAR(pnl(0, 3), -5.0, 1e-12);
}

// A stress set as the default-fund step builds it (2 directional moves, then
// single-asset and spread moves, then `history` dense historical moves) for
// random books of `per_account` assets each.
struct RandomSet {
  Eigen::MatrixXd values, moves;
  std::vector<TwoAssetMove> two_asset;
};

RandomSet random_set(Eigen::Index accounts, int assets, int per_account, Eigen::Index history, unsigned seed) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> value(-1e7, 1e7), move(-0.3, 0.3);
  std::uniform_int_distribution<int> asset(0, assets - 1);
  RandomSet s;
  s.values = Eigen::MatrixXd::Zero(accounts, assets);
  for (Eigen::Index i = 0; i < accounts; ++i)
    for (int k = 0; k < per_account; ++k) s.values(i, asset(gen)) = value(gen);
  std::vector<Eigen::VectorXd> cols;
  for (int d = 0; d < 2; ++d) {
    cols.push_back(Eigen::VectorXd::NullaryExpr(assets, [&] { return move(gen); }));
    s.two_asset.emplace_back();
  }
  for (int a = 0; a < assets; ++a)
    for (int sign : {1, -1}) {
      cols.push_back(Eigen::VectorXd::Zero(assets));
      cols.back()(a) = sign * std::abs(move(gen));
      s.two_asset.push_back({a, -1});
    }
  for (int i = 0; i < assets; ++i)
    for (int j = 0; j < assets; ++j) {
      if (i == j) continue;
      cols.push_back(Eigen::VectorXd::Zero(assets));
      cols.back()(i) = std::abs(move(gen));
      cols.back()(j) = -std::abs(move(gen));
      s.two_asset.push_back({std::min(i, j), std::max(i, j)});
    }
  for (Eigen::Index h = 0; h < history; ++h) {
    cols.push_back(Eigen::VectorXd::NullaryExpr(assets, [&] { return move(gen); }));
    s.two_asset.emplace_back();
  }
  s.moves.resize(assets, static_cast<Eigen::Index>(cols.size()));
  for (std::size_t k = 0; k < cols.size(); ++k) s.moves.col(static_cast<Eigen::Index>(k)) = cols[k];
  return s;
}

// The P&L equals the dense product to the bit, block by block, whatever the
// number of accounts (every kind of row panel of the product: 3, 2 and 1
// packets and single rows), the block width (dense moves in the first and last
// blocks) and the number of assets; with FMA instructions (-march=native) or
// without (a portable build, the sanitizers'): the multiply-add follows
// Eigen's, fused or not. The 200-asset shape (39,800 two-asset moves) has 415
// accounts, 7 past a multiple of 24 rows (three 8-lane packets) as 1,711 had:
// the same row panels at a quarter of the work under the sanitizers.
TEST(MovePnl, TwoAssetMovesGiveTheDenseProductToTheBit) {
  const std::vector<std::tuple<Eigen::Index, int, Eigen::Index>> shapes{
      {1, 3, 5},       {7, 4, 9},       {9, 30, 256},    {23, 7, 21},      {40, 10, 33},
      {57, 12, 64},    {100, 20, 97},   {401, 50, 256},  {1003, 60, 1024}, {130, 90, 2000},
      {3992, 50, 524}, {4001, 50, 524}, {415, 200, 1200}};
  unsigned seed = 1;
  for (const auto& [accounts, assets, width] : shapes) {
    const RandomSet s = random_set(accounts, assets, std::min(assets, 5), 37, seed++);
    std::vector<double> scratch;
    for (Eigen::Index b0 = 0; b0 < s.moves.cols(); b0 += width) {
      const Eigen::Index nb = std::min(width, s.moves.cols() - b0);
      Eigen::MatrixXd dense(accounts, nb), pnl(accounts, nb);
      dense.noalias() = s.values * s.moves.middleCols(b0, nb);
      compile::stress_move_pnl(s.values, s.moves, s.two_asset, b0, nb, true, scratch, pnl);
      ASSERT_EQ(0, std::memcmp(dense.data(), pnl.data(), sizeof(double) * static_cast<std::size_t>(dense.size())))
          << accounts << " accounts, " << assets << " assets, moves from " << b0;
    }
  }
}

// A non-finite value (an inf position value) takes the dense product: 0 * inf
// is NaN there, which the stress sizing refuses as a non-finite loss.
TEST(MovePnl, ANonFiniteValueKeepsTheDenseProductsNaN) {
  RandomSet s = random_set(100, 6, 2, 0, 99);
  s.values(50, 3) = std::numeric_limits<double>::infinity();
  std::vector<double> scratch;
  Eigen::MatrixXd pnl(100, s.moves.cols());
  compile::stress_move_pnl(s.values, s.moves, s.two_asset, 0, s.moves.cols(), false, scratch, pnl);
  EXPECT_FALSE(pnl.row(50).allFinite());
}

// The CCPs' funds are sized in parallel and applied in CCP order: the model
// is the same to the bit on 1 and on 4 threads (reference network: 10 CCPs,
// peer links whose posted funds are sized by stress).
TEST(DefaultFundSizing, TheSameToTheBitOnAnyNumberOfThreads) {
  const auto build = [](const std::string& threads) {
    return build_model(config::load_scenario_file(std::string(CCPNET_SOURCE_DIR) + "/scenarios/reference_network.yaml",
                                                  {{"simulation.threads", threads}}));
  };
  const Model one = build("1"), four = build("4");
  ASSERT_EQ(one.accounts.size(), four.accounts.size());
  for (std::size_t a = 0; a < one.accounts.size(); ++a)
    ASSERT_EQ(0, std::memcmp(&one.accounts[a].default_fund, &four.accounts[a].default_fund, sizeof(double))) << a;
  for (std::size_t c = 0; c < one.ccps.size(); ++c) {
    EXPECT_EQ(0, std::memcmp(&one.ccps[c].stress_fund, &four.ccps[c].stress_fund, sizeof(double)));
    EXPECT_EQ(0, std::memcmp(&one.ccps[c].default_fund, &four.ccps[c].default_fund, sizeof(double)));
    EXPECT_EQ(one.ccps[c].stress_scenario, four.ccps[c].stress_scenario);
    EXPECT_EQ(one.ccps[c].stress_groups, four.ccps[c].stress_groups);
    EXPECT_GT(one.ccps[c].default_fund, 0.0);
  }
}

#ifdef __linux__
// The process's threads now (Linux: one entry per thread in /proc/self/task).
std::size_t process_threads() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

// A build called from an arena of one thread sizes the funds on that thread
// alone, even when the file says all cores (simulation.threads: 0): the
// Python calls build a run's models in an arena of the threads they are
// given, as the CLI's --threads bounds a whole command. Checked in a fresh
// process (no worker started before): after the build it has one thread; it
// has two when the sizing takes all cores (this machine has at least two).
TEST(DefaultFundSizingDeathTest, KeepsToTheThreadsOfTheCallersArena) {
  if (tbb::info::default_concurrency() < 2) GTEST_SKIP() << "one core: no bound to check";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const auto build_in_one_thread = [] {
    tbb::task_arena one(1);
    const Model model = one.execute([] {
      return build_model(config::load_scenario_file(
          std::string(CCPNET_SOURCE_DIR) + "/scenarios/reference_network.yaml", {{"simulation.threads", "0"}}));
    });
    std::exit(model.ccps.size() == 10 && process_threads() == 1 ? 0 : 1);
  };
  EXPECT_EXIT(build_in_one_thread(), ::testing::ExitedWithCode(0), "");
}
#endif

}  // namespace test_move_pnl
}  // namespace ccpnet
