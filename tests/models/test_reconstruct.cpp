// Interbank networks reconstructed from each bank's totals (models/nexus).
// Expected numbers: the closed form of maximum entropy with the diagonal
// allowed (worked by hand below), and the maximum-entropy matrix of Anand,
// Craig and von Peter (2015, p. 628)'s seven banks as NetworkRiskMeasures
// prints it (README, matrix_estimation(method = "me"), to two decimals).
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <stdexcept>

#include "models/nexus/reconstruct.hpp"

namespace ccpnet::models {
namespace test_reconstruct {

void expect_sums(const Eigen::MatrixXd& x, const Eigen::VectorXd& assets, const Eigen::VectorXd& liabilities,
                 double tolerance) {
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    EXPECT_NEAR(x.row(i).sum(), assets(i), tolerance) << "row " << i;
    EXPECT_NEAR(x.col(i).sum(), liabilities(i), tolerance) << "column " << i;
    EXPECT_EQ(x(i, i), 0.0) << "diagonal " << i;
    EXPECT_GE(x.row(i).minCoeff(), 0.0) << "row " << i;
  }
}

// Anand, Craig and von Peter (2015, p. 628): banks a..g, interbank assets
// (rows) and liabilities (columns).
Eigen::VectorXd anand_assets() { return (Eigen::VectorXd(7) << 7, 5, 3, 1, 3, 0, 1).finished(); }
Eigen::VectorXd anand_liabilities() { return (Eigen::VectorXd(7) << 4, 5, 5, 0, 0, 2, 4).finished(); }

TEST(MaxEntropy, WithTheDiagonalIsTheProductOfTheTotals) {
  // a = (6, 3, 1), l = (2, 4, 4), total 10: X(i, j) = a(i) l(j) / 10, e.g. X(0, 1) = 6 * 4 / 10 = 2.4,
  // X(2, 0) = 1 * 2 / 10 = 0.2; RAS has nothing to do (no sweep).
  const Eigen::Vector3d a(6, 3, 1), l(2, 4, 4);
  MaxEntropyOptions with_diagonal;
  with_diagonal.zero_diagonal = false;
  const Reconstruction r = max_entropy(a, l, with_diagonal);
  EXPECT_TRUE(r.converged);
  EXPECT_EQ(r.iterations, 0);
  EXPECT_NEAR(r.exposures(0, 1), 2.4, 1e-15);
  EXPECT_NEAR(r.exposures(2, 0), 0.2, 1e-15);
  EXPECT_NEAR(r.exposures(1, 1), 1.2, 1e-15);
  EXPECT_NEAR((r.exposures - a * l.transpose() / 10.0).cwiseAbs().maxCoeff(), 0.0, 1e-15);
}

TEST(MaxEntropy, ZeroDiagonalOnTwoBanksIsForced) {
  // Two banks with a zero diagonal: X(0, 1) = a(0) = l(1) and X(1, 0) = a(1) = l(0); the product form would
  // put 3 * 3 / 5 = 1.8 on X(0, 1), not 3.
  const Reconstruction r = max_entropy(Eigen::Vector2d(3, 2), Eigen::Vector2d(2, 3));
  EXPECT_TRUE(r.converged);
  EXPECT_NEAR(r.exposures(0, 1), 3, 1e-12);
  EXPECT_NEAR(r.exposures(1, 0), 2, 1e-12);
}

TEST(MaxEntropy, MatchesNetworkRiskMeasuresOnAnandCraigVonPeter) {
  // NetworkRiskMeasures README (zero diagonal, printed to two decimals; it stops at an absolute error of
  // 3e-4): row a = (0, 2.53, 2.18, 0, 0, 0.74, 1.55), row b = (1.72, 0, 1.60, 0, 0, 0.54, 1.14),
  // row c = (0.98, 1.06, 0, 0, 0, 0.31, 0.65), row d = (0.25, 0.27, 0.23, 0, 0, 0.08, 0.17),
  // row e = (0.75, 0.81, 0.70, 0, 0, 0.24, 0.50), row f = 0, row g = (0.30, 0.32, 0.28, 0, 0, 0.09, 0).
  Eigen::MatrixXd expected(7, 7);
  expected << 0, 2.53, 2.18, 0, 0, 0.74, 1.55,  //
      1.72, 0, 1.60, 0, 0, 0.54, 1.14,          //
      0.98, 1.06, 0, 0, 0, 0.31, 0.65,          //
      0.25, 0.27, 0.23, 0, 0, 0.08, 0.17,       //
      0.75, 0.81, 0.70, 0, 0, 0.24, 0.50,       //
      0, 0, 0, 0, 0, 0, 0,                      //
      0.30, 0.32, 0.28, 0, 0, 0.09, 0;
  const Reconstruction r = max_entropy(anand_assets(), anand_liabilities());
  ASSERT_TRUE(r.converged);
  expect_sums(r.exposures, anand_assets(), anand_liabilities(), 1e-10);
  EXPECT_LE((r.exposures - expected).cwiseAbs().maxCoeff(), 0.006);
}

TEST(MinDensity, ReproducesTheTotalsWithFewLinks) {
  const Reconstruction r = min_density(anand_assets(), anand_liabilities(), 192);
  ASSERT_TRUE(r.converged);
  expect_sums(r.exposures, anand_assets(), anand_liabilities(), 1e-12);
  // Six banks lend and five borrow: every link exhausts a row or a column, so at most 6 + 5 - 1 = 10 links
  // (plus two per reroute around a diagonal); maximum entropy uses 26.
  const auto links = (r.exposures.array() > 0.0).count();
  EXPECT_LE(links, 12);
  EXPECT_EQ((max_entropy(anand_assets(), anand_liabilities()).exposures.array() > 0.0).count(), 26);
}

TEST(MinDensity, SameSeedSameNetworkOtherSeedAnother) {
  Eigen::VectorXd a(30), l(30);
  for (int i = 0; i < 30; ++i) {
    a(i) = 1.0 + (i * 37 % 11);
    l(i) = 1.0 + (i * 17 % 13);
  }
  l *= a.sum() / l.sum();
  const Reconstruction one = min_density(a, l, 7), again = min_density(a, l, 7), other = min_density(a, l, 8);
  EXPECT_EQ(one.exposures, again.exposures);
  EXPECT_NE(one.exposures, other.exposures);
  expect_sums(one.exposures, a, l, 1e-9);
  expect_sums(other.exposures, a, l, 1e-9);
  EXPECT_LE((one.exposures.array() > 0.0).count(), 2 * 30 + 8);
}

TEST(MinDensity, ReroutesAroundTheLastBanksOwnDiagonal) {
  // a = l = (2, 1, 1): when the draws first give 1 and 2 to each other, all that is left is bank 0's own
  // diagonal (2 to itself); the reroute through a link clear of it still meets every sum, whatever the seed.
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    const Reconstruction r = min_density(Eigen::Vector3d(2, 1, 1), Eigen::Vector3d(2, 1, 1), seed);
    ASSERT_TRUE(r.converged) << seed;
    expect_sums(r.exposures, Eigen::Vector3d(2, 1, 1), Eigen::Vector3d(2, 1, 1), 1e-12);
  }
}

TEST(InterbankReconstruction, RejectsTotalsThatCannotMeet) {
  EXPECT_THROW(max_entropy(Eigen::Vector2d(1, 1), Eigen::Vector2d(1, 2)), std::invalid_argument);
  EXPECT_THROW(min_density(Eigen::Vector2d(-1, 1), Eigen::Vector2d(0, 0), 1), std::invalid_argument);
  // Bank 0 lends 3 but the others borrow 1 in all.
  EXPECT_THROW(max_entropy(Eigen::Vector2d(3, 0), Eigen::Vector2d(2, 1)), std::invalid_argument);
}

}  // namespace test_reconstruct
}  // namespace ccpnet::models
