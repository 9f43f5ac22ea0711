// PathScreen (sim/path_screen.hpp): the screen of paths of time steps must
// never pass a path on which some member's cushion plus its P&L (less the IM
// it is called for) is negative at a step's end, and must pass every path
// where that headroom is positive beyond its rounding margin (1e-9 of the
// magnitudes compared). The default test is the one of the time-step engine
// (SPEC 3.4: a member that cannot meet the variation margin of a step, or
// the IM called at its end, from min(capital, liquidity) defaults at the
// step's end); the bound behind the screen is Cauchy-Schwarz on the member's
// net positions, exact where it decides nothing.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "sim/model.hpp"
#include "sim/path_screen.hpp"

namespace ccpnet {
namespace test_path_screen {

// A model of `n_assets` assets (daily vols 2%, 4%, ...) and member accounts
// with the given position values (rows), one horizon, owners as given.
Model accounts_model(int n_members, const Eigen::MatrixXd& values, const std::vector<int>& owner) {
  Model model;
  for (Eigen::Index a = 0; a < values.cols(); ++a) model.assets.push_back({"A", 1.0, 0.02 * double(a + 1), 0, 0, ""});
  model.members.resize(static_cast<std::size_t>(n_members));
  model.horizon_accounts.emplace_back();
  for (std::size_t i = 0; i < owner.size(); ++i) {
    Account acc;
    acc.owner = owner[i];
    acc.ccp = 0;
    model.accounts.push_back(acc);
    model.horizon_accounts[0].push_back(static_cast<int>(i));
  }
  model.horizon_values.push_back(values);
  return model;
}

const auto no_call = [](std::size_t, int) { return 0.0; };

// One member, two accounts: values (100, 0) and (50, -200), net (150, -200),
// gross 350. Step ends at points 0 and 1 with returns (-10%, +5%) and
// (+2%, -1%): P&L 150 x -0.10 - 200 x 0.05 = -25, then 3 + 2 = +5. It
// defaults at the first step's end when its cushion is below 25.
PathScreen hand_screen() {
  Eigen::MatrixXd values(2, 2);
  values << 100.0, 0.0, 50.0, -200.0;
  return PathScreen(accounts_model(1, values, {0, 0}));
}

// The hand case's two step ends at columns first and first + 1.
RowMatrix hand_returns(Eigen::Index first) {
  RowMatrix returns = RowMatrix::Zero(2, 16);
  returns(0, first) = -0.10;
  returns(1, first) = 0.05;
  returns(0, first + 1) = 0.02;
  returns(1, first + 1) = -0.01;
  return returns;
}

TEST(PathScreen, HandCaseFlagsTheMemberShortOfItsLoss) {
  PathScreen screen = hand_screen();
  const RowMatrix returns = hand_returns(3);
  const std::vector<int> ends{0, 1};
  const auto may = [&](double cushion) {
    const std::vector<double> c{cushion};
    return screen.may_default(returns, 3, ends, c, false, no_call);
  };
  // The margin: 1e-9 x (350 x 0.10 + 25) = 6e-8; 1e-6 clears it either way.
  EXPECT_FALSE(may(25.0 + 1e-6));
  EXPECT_TRUE(may(25.0 - 1e-6));
  EXPECT_TRUE(may(25.0));  // within the margin: flagged, the exact revaluation decides
  EXPECT_FALSE(may(1e6));
}

// The IM called at a step's end counts against the cushion (cushion 30,
// P&L -25 at step 0: a call of 6 there defaults, 4 does not; a call at step
// 1, where the P&L is +5, would need more than 35).
TEST(PathScreen, CountsTheImCalledAtEachStep) {
  PathScreen screen = hand_screen();
  const RowMatrix returns = hand_returns(0);
  const std::vector<int> ends{0, 1};
  const std::vector<double> cushion{30.0};
  const auto with = [&](int step, double im) {
    return screen.may_default(returns, 0, ends, cushion, true,
                              [&](std::size_t, int k) { return k == step ? im : 0.0; });
  };
  EXPECT_TRUE(with(0, 6.0));
  EXPECT_FALSE(with(0, 4.0));
  EXPECT_FALSE(with(1, 34.0));
  EXPECT_TRUE(with(1, 36.0));
}

// A NaN return flags the path (the exact revaluation then decides).
TEST(PathScreen, NanReturnFlags) {
  Eigen::MatrixXd values(1, 2);
  values << 100.0, 0.0;
  PathScreen screen(accounts_model(1, values, {0}));
  RowMatrix returns = RowMatrix::Zero(2, 16);
  returns(0, 0) = NAN;
  const std::vector<int> ends{0};
  const std::vector<double> cushion{1e9};
  EXPECT_TRUE(screen.may_default(returns, 0, ends, cushion, false, no_call));
}

// Property, both ways: random books (a few positions per account, members
// with several accounts, client-free) and random paths of 12 steps (more
// than one pass of 16 step ends is not needed; 20 steps checks two): with
// each member's cushion a hair (1e-6 of its gross value x largest return)
// above or below its worst P&L, the screen flags exactly the paths where
// some member is below.
TEST(PathScreen, FlagsExactlyThePathsWithAMemberShortBeyondTheMargin) {
  std::mt19937_64 gen(7);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_int_distribution<int> asset(0, 19), member(0, 29);
  const int n_accounts = 80;
  Eigen::MatrixXd values = Eigen::MatrixXd::Zero(n_accounts, 20);
  std::vector<int> owner;
  for (int i = 0; i < n_accounts; ++i) {
    owner.push_back(i < 30 ? i : member(gen));
    for (int k = 0; k < 4; ++k) values(i, asset(gen)) = normal(gen) * 1e6;
  }
  const Model model = accounts_model(30, values, owner);
  PathScreen screen(model);
  for (const int n_steps : {12, 20}) {
    std::vector<int> ends;
    for (int k = 0; k < n_steps; ++k) ends.push_back(k);
    int flagged = 0;
    for (int trial = 0; trial < 200; ++trial) {
      RowMatrix returns(20, 64);
      for (Eigen::Index a = 0; a < 20; ++a)
        for (Eigen::Index j = 0; j < 64; ++j) returns(a, j) = std::expm1(0.05 * normal(gen));
      // Each member's worst P&L over the steps, its gross value, the largest |r|.
      std::vector<double> worst(30, INFINITY), gross(30, 0.0);
      double largest = 0.0;
      for (int k = 0; k < n_steps; ++k) {
        std::vector<double> pnl(30, 0.0);
        for (int i = 0; i < n_accounts; ++i)
          for (Eigen::Index a = 0; a < 20; ++a) pnl[owner[i]] += values(i, a) * returns(a, k);
        for (int m = 0; m < 30; ++m) worst[m] = std::min(worst[m], pnl[m]);
        for (Eigen::Index a = 0; a < 20; ++a) largest = std::max(largest, std::abs(returns(a, k)));
      }
      for (int i = 0; i < n_accounts; ++i) gross[owner[i]] += values.row(i).cwiseAbs().sum();
      std::vector<double> cushion(30);
      const int short_member = trial % 2 == 0 ? trial / 2 % 30 : -1;  // even trials: one member short
      for (int m = 0; m < 30; ++m) {
        const double hair = 1e-6 * gross[m] * largest;
        cushion[m] = -worst[m] + (m == short_member ? -hair : hair);
      }
      const bool expected = short_member >= 0;
      const bool screened = screen.may_default(returns, 0, ends, cushion, false, no_call);
      EXPECT_EQ(screened, expected) << "trial " << trial << ", steps " << n_steps;
      flagged += screened;
    }
    EXPECT_GT(flagged, 50);
  }
}

}  // namespace test_path_screen
}  // namespace ccpnet
