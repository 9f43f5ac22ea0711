// The no-link counterfactual's transport between CCPs, worked by hand.
#include <gtest/gtest.h>

#include "models/links/flow.hpp"

namespace ccpnet::models {
namespace {

TEST(ProportionalTransport, SharesEachShortCcpsExcessOverTheLongCcpsInProportion) {
  // Net per CCP: A +6, B -4, C +2, D -4. Longs 8, shorts 8: B sends 4 x 6/8 = 3
  // to A and 4 x 2/8 = 1 to C; D the same.
  Eigen::VectorXd net(4);
  net << 6, -4, 2, -4;
  const Eigen::MatrixXd t = proportional_transport(net);
  EXPECT_DOUBLE_EQ(t(1, 0), 3.0);
  EXPECT_DOUBLE_EQ(t(1, 2), 1.0);
  EXPECT_DOUBLE_EQ(t(3, 0), 3.0);
  EXPECT_DOUBLE_EQ(t(3, 2), 1.0);
  EXPECT_DOUBLE_EQ(t.row(0).sum() + t.row(2).sum(), 0.0);  // long CCPs send nothing
  // After the moves every book nets to zero: a CCP that receives shorts falls
  // by what it receives, a sender rises by what it sends.
  const Eigen::VectorXd balance = net - t.colwise().sum().transpose() + t.rowwise().sum();
  EXPECT_NEAR(balance.cwiseAbs().maxCoeff(), 0.0, 1e-12);
}

TEST(ProportionalTransport, AnUnbalancedSystemMovesOnlyWhatCanBeMatched) {
  // Longs 10, shorts 4: the 4 go pro rata (A 2.4, C 1.6); 6 stay unmatched.
  Eigen::VectorXd net(3);
  net << 6, -4, 4;
  const Eigen::MatrixXd t = proportional_transport(net);
  EXPECT_DOUBLE_EQ(t(1, 0), 4.0 * 6.0 / 10.0);
  EXPECT_DOUBLE_EQ(t(1, 2), 4.0 * 4.0 / 10.0);
  EXPECT_DOUBLE_EQ(t.sum(), 4.0);
}

}  // namespace
}  // namespace ccpnet::models
