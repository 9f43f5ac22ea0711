// The default-fund stress set of RTS 153/2013 (Commission Delegated Regulation
// 153/2013) art. 30: historical and hypothetical scenarios, the latter with
// correlation breaks (models/default_fund/stress_set.hpp), on moves worked by
// hand.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "models/default_fund/stress_set.hpp"

namespace ccpnet::models {
namespace test_stress_set {

// Two assets of daily volatility 0.02 and 0.03, k = 5 standard deviations over
// h = 4 days: stress moves m = 5 x sqrt(4) x (0.02, 0.03) = (0.2, 0.3).
// Directional: (0.2, 0.3), (-0.2, -0.3). Single asset: (0.2, 0), (-0.2, 0),
// (0, 0.3), (0, -0.3). Spread, rho* = 0, s = sqrt(1/2): asset 0 up and asset
// 1 down (0.141421, -0.212132), then asset 1 up and asset 0 down.
TEST(StressSet, HypotheticalMovesRts153Art30) {
  const Eigen::Vector2d vol(0.02, 0.03);
  const StressMoves set = hypothetical_stress_moves(vol, {.sigmas = 5.0, .horizon_days = 4.0});
  ASSERT_EQ(set.log_moves.cols(), 8);
  ASSERT_EQ(set.info.size(), 8u);
  const double s = std::sqrt(0.5);
  const double expected[8][2] = {{0.2, 0.3}, {-0.2, -0.3}, {0.2, 0.0},          {-0.2, 0.0},
                                 {0.0, 0.3}, {0.0, -0.3},  {0.2 * s, -0.3 * s}, {-0.2 * s, 0.3 * s}};
  for (int k = 0; k < 8; ++k)
    for (int a = 0; a < 2; ++a) EXPECT_NEAR(set.log_moves(a, k), expected[k][a], 1e-15) << "move " << k;
  EXPECT_EQ(set.info[0].family, StressFamily::kDirectional);
  EXPECT_EQ(set.info[0].direction, 1);
  EXPECT_EQ(set.info[1].direction, -1);
  EXPECT_EQ(set.info[3].family, StressFamily::kSingleAsset);
  EXPECT_EQ(set.info[3].down, 0);
  EXPECT_EQ(set.info[3].up, -1);
  EXPECT_EQ(set.info[7].family, StressFamily::kSpread);
  EXPECT_EQ(set.info[7].up, 1);
  EXPECT_EQ(set.info[7].down, 0);
}

// The spread move lies on the pair's k-sigma ellipse under the stressed
// correlation: with u = (x / sigma_0, y / sigma_1) per unit of sqrt(h),
// u' C*^-1 u = k^2. rho* = -1 moves each leg its full stress move (s = 1);
// rho* = 0.5 gives s = 1/2.
TEST(StressSet, SpreadMovesLieOnTheStressedEllipse) {
  const Eigen::Vector2d vol(0.02, 0.03);
  for (const double rho : {-0.3, 0.0, 0.5}) {
    const StressMoves set = hypothetical_stress_moves(
        vol, {.sigmas = 5.0, .horizon_days = 4.0, .single_asset = false, .stressed_correlation = rho});
    ASSERT_EQ(set.log_moves.cols(), 4);
    const double x = set.log_moves(0, 2) / (0.02 * 2.0), y = set.log_moves(1, 2) / (0.03 * 2.0);
    EXPECT_NEAR((x * x - 2.0 * rho * x * y + y * y) / (1.0 - rho * rho), 25.0, 1e-12) << rho;
  }
  const StressMoves full =
      hypothetical_stress_moves(vol, {.sigmas = 5.0, .horizon_days = 4.0, .stressed_correlation = -1.0});
  EXPECT_NEAR(full.log_moves(0, 6), 0.2, 1e-15);
  EXPECT_NEAR(full.log_moves(1, 6), -0.3, 1e-15);
  const StressMoves half =
      hypothetical_stress_moves(vol, {.sigmas = 5.0, .horizon_days = 4.0, .stressed_correlation = 0.5});
  EXPECT_NEAR(half.log_moves(0, 6), 0.1, 1e-15);
}

TEST(StressSet, WithoutSingleAssetAndSpreadMovesOnlyTheDirectionalRemain) {
  const StressMoves set = hypothetical_stress_moves(Eigen::Vector3d(0.01, 0.02, 0.03),
                                                    {.sigmas = 3.0, .single_asset = false, .spreads = false});
  EXPECT_EQ(set.log_moves.cols(), 2);
  // Three assets with both families: 2 + 2 x 3 + 3 x 2 = 14 moves.
  EXPECT_EQ(hypothetical_stress_moves(Eigen::Vector3d(0.01, 0.02, 0.03), {}).log_moves.cols(), 14);
}

TEST(StressSet, RefusesACorrelationOutsideMinusOneOne) {
  EXPECT_THROW(hypothetical_stress_moves(Eigen::Vector2d(0.01, 0.02), {.stressed_correlation = 1.5}),
               std::invalid_argument);
  EXPECT_THROW(hypothetical_stress_moves(Eigen::Vector2d(0.01, -0.02), {}), std::invalid_argument);
}

// Five daily log-returns of two assets; windows of ceil(1.5) = 2 days: the
// sums of rows (0, 1), (1, 2), (2, 3), (3, 4). A horizon of 6 days leaves no
// window.
TEST(StressSet, HistoricalWindowsAreTheJointMovesOverWholeDays) {
  Eigen::MatrixXd r(5, 2);
  r << 0.1, -0.2, 0.05, 0.3, -0.4, 0.0, 0.2, 0.1, -0.1, -0.1;
  const StressMoves set = historical_stress_moves(r, 1.5);
  ASSERT_EQ(set.log_moves.cols(), 4);
  const double expected[4][2] = {{0.15, 0.1}, {-0.35, 0.3}, {-0.2, 0.1}, {0.1, 0.0}};
  for (int t = 0; t < 4; ++t) {
    EXPECT_EQ(set.info[static_cast<std::size_t>(t)].first_day, t);
    EXPECT_EQ(set.info[static_cast<std::size_t>(t)].family, StressFamily::kHistorical);
    for (int a = 0; a < 2; ++a) EXPECT_NEAR(set.log_moves(a, t), expected[t][a], 1e-15);
  }
  EXPECT_EQ(historical_stress_moves(r, 6.0).log_moves.cols(), 0);
  EXPECT_EQ(historical_stress_moves(r, 1.0).log_moves.cols(), 5);
}

}  // namespace test_stress_set
}  // namespace ccpnet::models
