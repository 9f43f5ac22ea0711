// Member-level screening (sim/runner.cpp): the calm scenarios of a tile are
// recognised from the members' P&L alone (one members x assets product) and
// only the scenarios that may have a default are revalued account by
// account. The screen must never miss a default and never change a number:
// a run with screening gives the same results, to the bit, as one that
// revalues every account of every scenario.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <random>
#include <string>

#include "sim/config/load.hpp"
#include "sim/model.hpp"
#include "sim/output.hpp"
#include "sim/revalue.hpp"
#include "sim/runner.hpp"

namespace ccpnet {
namespace test_screening {

// The kernel over a range of columns is the kernel over all of them, element
// for element: a sparse matrix with a few entries per row, random returns.
TEST(Screening, KernelOverColumnRangesEqualsTheWholeTile) {
  std::mt19937_64 gen(11);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_int_distribution<int> pick(0, 29);
  Eigen::MatrixXd values = Eigen::MatrixXd::Zero(200, 30);
  for (Eigen::Index i = 0; i < values.rows(); ++i)
    for (int k = 0; k < 4; ++k) values(i, pick(gen)) = normal(gen) * 1e6;
  const Revaluation kernel(values);
  ASSERT_TRUE(kernel.sparse());
  RowMatrix returns(30, kTile);
  for (Eigen::Index a = 0; a < returns.rows(); ++a)
    for (Eigen::Index j = 0; j < kTile; ++j) returns(a, j) = std::expm1(0.05 * normal(gen));
  RowMatrix whole(200, kTile), parts(200, kTile);
  kernel.apply(returns, whole);
  parts.setConstant(-1.0);
  for (const auto& [first, last] : {std::pair<Eigen::Index, Eigen::Index>{0, 1}, {1, 11}, {11, 12}, {12, 40}, {40, 64}})
    kernel.apply_columns(returns, first, last, parts);
  for (Eigen::Index i = 0; i < whole.rows(); ++i)
    for (Eigen::Index j = 0; j < kTile; ++j) ASSERT_EQ(whole(i, j), parts(i, j)) << i << ", " << j;
  // Transposed (columns x accounts, rows in reverse order) over 11 columns,
  // with the owners' sums (rows i and i + 100 to owner i % 100): the same
  // numbers, the sums in row order as apply's.
  std::vector<int> owner(200), reverse(200);
  for (int i = 0; i < 200; ++i)
    owner[static_cast<std::size_t>(i)] = i % 100, reverse[static_cast<std::size_t>(i)] = 199 - i;
  RowMatrix sums = RowMatrix::Zero(100, kTile), expected_sums = RowMatrix::Zero(100, kTile), transposed(41, 200);
  kernel.apply(returns, whole, owner, &expected_sums);
  kernel.apply_columns_to(returns, 30, 41, transposed, reverse, owner, &sums);
  for (Eigen::Index i = 0; i < whole.rows(); ++i)
    for (Eigen::Index j = 0; j < 11; ++j) ASSERT_EQ(whole(i, 30 + j), transposed(30 + j, 199 - i)) << i << ", " << j;
  for (Eigen::Index m = 0; m < 100; ++m)
    for (Eigen::Index j = 30; j < 41; ++j) ASSERT_EQ(sums(m, j), expected_sums(m, j)) << m << ", " << j;
  // The sums of a few owners alone (7, 42, 99: rows 7, 107, 42, 142, 99,
  // 199), over columns 19 to 37 (two chunks): the owners' sums as apply's,
  // the other owners' rows untouched.
  RowMatrix some = RowMatrix::Constant(100, kTile, 5.0);
  for (const Eigen::Index m : {7, 42, 99}) some.row(m).segment(19, 18).setZero();
  const std::vector<int> rows{7, 107, 42, 142, 99, 199};
  kernel.add_row_sums(returns, 19, 37, rows, owner, some);
  for (Eigen::Index m = 0; m < 100; ++m)
    for (Eigen::Index j = 0; j < kTile; ++j) {
      const bool listed = (m == 7 || m == 42 || m == 99) && j >= 19 && j < 37;
      ASSERT_EQ(some(m, j), listed ? expected_sums(m, j) : 5.0) << m << ", " << j;
    }
}

// The bits of a double: -0.0 and +0.0 differ.
std::uint64_t bits(double x) { return std::bit_cast<std::uint64_t>(x); }

// A path's chunk of any width (1 to 16 columns, one or two vectors, the
// lanes beyond the width masked), anywhere in the tile (up to its last
// column, where a vector would run past a row's end), over 203 rows (not a
// multiple of the 4 rows computed together): every element the whole tile's
// to the bit, transposed into adjacent columns (kept a block of 4 rows at a
// time) or not, row-major, and the members' sums; every element outside the
// chunk untouched, -0.0 included (-0.0 + 0.0 would give +0.0).
TEST(Screening, NarrowChunksEqualTheWholeTileToTheBit) {
  std::mt19937_64 gen(23);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_int_distribution<int> pick(0, 29);
  const Eigen::Index n_rows = 203;
  Eigen::MatrixXd values = Eigen::MatrixXd::Zero(n_rows, 30);
  for (Eigen::Index i = 0; i < n_rows; ++i)
    for (int k = 0; k < 1 + static_cast<int>(i % 7); ++k) values(i, pick(gen)) = normal(gen) * 1e6;
  const Revaluation kernel(values);
  ASSERT_TRUE(kernel.sparse());
  RowMatrix returns(30, kTile);
  for (Eigen::Index a = 0; a < returns.rows(); ++a)
    for (Eigen::Index j = 0; j < kTile; ++j) returns(a, j) = std::expm1(0.05 * normal(gen));
  // Owners: rows i to i % 40 (runs of one owner's rows interleaved), every 9th row none.
  std::vector<int> owner(static_cast<std::size_t>(n_rows)), adjacent(owner.size()), spread(owner.size());
  for (int i = 0; i < static_cast<int>(n_rows); ++i) {
    owner[static_cast<std::size_t>(i)] = i % 9 == 8 ? -1 : i % 40;
    adjacent[static_cast<std::size_t>(i)] = 5 + i;
    spread[static_cast<std::size_t>(i)] = i + i / 3;  // gaps every 3 rows: never 4 adjacent columns
  }
  RowMatrix whole(n_rows, kTile), expected_sums = RowMatrix::Zero(40, kTile);
  kernel.apply(returns, whole, owner, &expected_sums);
  // (first column, width): the narrow chunks, and most of the tile (revalued row by row over all of it).
  std::vector<std::pair<Eigen::Index, Eigen::Index>> chunks{{0, 50}, {0, kTile}};
  for (Eigen::Index n = 1; n <= 16; ++n)
    for (const Eigen::Index c0 : {Eigen::Index{0}, Eigen::Index{21}, kTile - 16, kTile - n}) chunks.emplace_back(c0, n);
  for (const auto& chunk : chunks) {
    // Named copies: clang 14 does not let a lambda capture a structured binding.
    const Eigen::Index c0 = chunk.first, n = chunk.second;
    const auto inside = [&](Eigen::Index j) { return j >= c0 && j < c0 + n; };
    // Outside the chunk: -0.0; inside, the sums start from +0.0.
    RowMatrix sums = RowMatrix::Constant(40, kTile, -0.0), rows = RowMatrix::Constant(n_rows, kTile, -0.0);
    sums.middleCols(c0, n).setZero();
    kernel.apply_columns(returns, c0, c0 + n, rows, owner, &sums);
    for (Eigen::Index i = 0; i < n_rows; ++i)
      for (Eigen::Index j = 0; j < kTile; ++j)
        ASSERT_EQ(bits(rows(i, j)), bits(inside(j) ? whole(i, j) : -0.0)) << n << " " << c0 << ": " << i << ", " << j;
    for (Eigen::Index m = 0; m < 40; ++m)
      for (Eigen::Index j = 0; j < kTile; ++j)
        ASSERT_EQ(bits(sums(m, j)), bits(inside(j) ? expected_sums(m, j) : -0.0)) << n << " " << c0 << ": " << m;
    for (const std::vector<int>* column : {&adjacent, &spread}) {
      RowMatrix transposed = RowMatrix::Constant(kTile, 300, -0.0);
      sums = RowMatrix::Constant(40, kTile, -0.0);
      sums.middleCols(c0, n).setZero();
      kernel.apply_columns_to(returns, c0, c0 + n, transposed, *column, owner, &sums);
      RowMatrix expected = RowMatrix::Constant(kTile, 300, -0.0);
      for (Eigen::Index i = 0; i < n_rows; ++i)
        expected.col((*column)[static_cast<std::size_t>(i)]).segment(c0, n) = whole.row(i).segment(c0, n).transpose();
      for (Eigen::Index j = 0; j < kTile; ++j)
        for (Eigen::Index a = 0; a < 300; ++a)
          ASSERT_EQ(bits(transposed(j, a)), bits(expected(j, a))) << n << " " << c0 << ": " << j << ", " << a;
      for (Eigen::Index m = 0; m < 40; ++m)
        for (Eigen::Index j = 0; j < kTile; ++j)
          ASSERT_EQ(bits(sums(m, j)), bits(inside(j) ? expected_sums(m, j) : -0.0)) << n << " " << c0 << ": " << m;
    }
  }
}

// The reference network with fewer members, in a regime and over one period
// or ten daily steps.
Model network(const std::string& volatility, const std::string& pd, bool days) {
  std::vector<config::Override> o{{"generator.members", "300"},
                                  {"simulation.scenarios", "3000"},
                                  {"market.shocks.volatility_multiplier", volatility},
                                  {"defaults.latent.pd", pd}};
  if (days) {
    o.push_back({"simulation.horizon_days", "10"});
    o.push_back({"simulation.step_days", "1"});
  }
  return build_model(
      config::load_scenario_file(std::string(CCPNET_SOURCE_DIR) + "/scenarios/reference_network.yaml", o));
}

// Every scenario's defaults, losses and layers, and the summary, as text.
std::string run_text(const Model& model, bool screening, int threads) {
  std::string rows;
  RunOptions options;
  options.threads = threads;
  options.screening = screening;
  options.on_scenario = [&](const ScenarioResult& r) {
    rows += fmt::format("{} {} {} {} {}", r.index, r.market_factor, r.rounds, r.total_loss, r.closeout_loss);
    for (const MemberDefault& d : r.defaults) rows += fmt::format(" d{}@{}", d.member, d.day);
    for (double x : r.ccp_layers) rows += fmt::format(" {}", x);
    for (const AccountLoss& l : r.account_losses) rows += fmt::format(" l{}:{}", l.account, l.amount);
    rows += '\n';
  };
  const RunResult result = run_monte_carlo(model, options);
  return rows + summary_json(model, result).dump(1);
}

// Calm (a few defaults), stressed and extreme (defaults in most scenarios):
// the screened run equals the unscreened one, on 1 and 2 threads.
TEST(Screening, SameResultsAsRevaluingEveryAccountOverOnePeriod) {
  for (const auto& [volatility, pd] :
       {std::pair<std::string, std::string>{"1", "1.0e-5"}, {"3", "0.001"}, {"6", "0.02"}}) {
    const Model model = network(volatility, pd, false);
    const std::string reference = run_text(model, false, 1);
    EXPECT_NE(reference.find(" d"), std::string::npos) << "some scenario has a default";
    EXPECT_EQ(run_text(model, true, 1), reference) << "volatility x" << volatility;
    EXPECT_EQ(run_text(model, true, 2), reference) << "volatility x" << volatility;
  }
}

// The same over ten daily steps: a path is screened at the end of every step.
TEST(Screening, SameResultsAsRevaluingEveryAccountOverTenDays) {
  for (const auto& [volatility, pd] : {std::pair<std::string, std::string>{"1", "1.0e-5"}, {"3", "0.001"}}) {
    const Model model = network(volatility, pd, true);
    const std::string reference = run_text(model, false, 1);
    EXPECT_NE(reference.find(" d"), std::string::npos) << "some scenario has a default";
    EXPECT_EQ(run_text(model, true, 2), reference) << "volatility x" << volatility;
  }
}

}  // namespace test_screening
}  // namespace ccpnet
