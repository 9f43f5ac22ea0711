// The nearest correlation matrix (models::nearest_correlation).
#include <gtest/gtest.h>

#include <random>

#include "models/market/correlation.hpp"

namespace ccpnet::models {
namespace test_correlation {

// Higham (2002), "Computing the nearest correlation matrix - a problem from
// finance", IMA J. Numer. Anal. 22, section 4: the nearest correlation matrix
// to the tridiagonal A = tridiag(-1, 2, -1) of order 4 is printed to four
// places as
//    1      -0.8084  0.1916  0.1068
//   -0.8084  1      -0.6562  0.1916
//    0.1916 -0.6562  1      -0.8084
//    0.1068  0.1916 -0.8084  1
// An independent numpy run of the same projections (numpy.linalg.eigh) gives
// -0.808412, 0.191588, 0.106775, -0.656233 and a Frobenius distance of 2.133729.
TEST(NearestCorrelation, HighamsTridiagonalExample) {
  Eigen::MatrixXd a(4, 4);
  a << 2, -1, 0, 0, -1, 2, -1, 0, 0, -1, 2, -1, 0, 0, -1, 2;
  const Eigen::MatrixXd x = nearest_correlation(a);
  Eigen::MatrixXd published(4, 4);
  published << 1, -0.8084, 0.1916, 0.1068, -0.8084, 1, -0.6562, 0.1916, 0.1916, -0.6562, 1, -0.8084, 0.1068, 0.1916,
      -0.8084, 1;
  for (Eigen::Index i = 0; i < 4; ++i)
    for (Eigen::Index j = 0; j < 4; ++j) EXPECT_NEAR(x(i, j), published(i, j), 0.5e-4) << i << "," << j;
  EXPECT_NEAR(x(0, 1), -0.808412, 1e-6);
  EXPECT_NEAR(x(0, 3), 0.106775, 1e-6);
  EXPECT_NEAR((x - a).norm(), 2.133729, 1e-6);
  EXPECT_TRUE(is_correlation_matrix(x));
}

// The result is exactly symmetric, bit for bit, with an exact unit diagonal:
// a scenario file written with it (resolved.yaml) must load again, and the
// loader demands symmetry. Random symmetric "correlations" with entries in
// [-1, 1], most of them not positive semi-definite.
TEST(NearestCorrelation, TheResultIsExactlySymmetric) {
  std::mt19937_64 rng(20261207);
  std::uniform_real_distribution<double> entry(-1.0, 1.0);
  int repaired = 0;
  for (const int n : {3, 5, 8, 13, 21, 34, 50}) {
    for (int trial = 0; trial < 4; ++trial) {
      Eigen::MatrixXd a = Eigen::MatrixXd::Identity(n, n);
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < i; ++j) a(i, j) = a(j, i) = entry(rng);
      repaired += static_cast<int>(min_eigenvalue(a) < 0.0);
      const Eigen::MatrixXd x = nearest_correlation(a);
      for (int i = 0; i < n; ++i) {
        EXPECT_EQ(x(i, i), 1.0);
        for (int j = 0; j < i; ++j) ASSERT_EQ(x(i, j), x(j, i)) << "n " << n << " (" << i << ", " << j << ")";
      }
      EXPECT_GE(min_eigenvalue(x), -1e-10) << n;
    }
  }
  EXPECT_GE(repaired, 20);  // the check is about matrices the repair changes
}

}  // namespace test_correlation
}  // namespace ccpnet::models
