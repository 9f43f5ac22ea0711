// The no-link counterfactual's transport between CCPs, worked by hand.
#include <gtest/gtest.h>

#include "models/links/flow.hpp"
#include "models/links/route.hpp"

namespace ccpnet::models {
namespace test_flow {

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

// What a book leaves: a net of 1e-10 against a gross of 10 is rounding (the
// bound is 1e-9 x max(1, gross)), 0.5 is not; a small net with no gross is
// judged against 1.
TEST(Unbalanced, DropsRoundingAgainstTheGrossPositions) {
  const Eigen::VectorXd net = (Eigen::VectorXd(3) << 1e-10, 0.5, 2e-9).finished();
  const Eigen::VectorXd gross = (Eigen::VectorXd(3) << 10.0, 10.0, 0.0).finished();
  const Eigen::VectorXd left = unbalanced(net, gross);
  EXPECT_EQ(left(0), 0.0);
  EXPECT_EQ(left(1), 0.5);
  EXPECT_EQ(left(2), 2e-9);
}

// A trade bought at CCP 0 and sold at CCP 2 over links (0, 1) and (2, 1):
// on the hop 0 -> 1 the link (0, 1) is crossed forward, so CCP 1 is short at
// CCP 0 (-1); on the hop 1 -> 2 the link (2, 1) is crossed backward (+1).
TEST(RouteLinkFlows, SignsEachHopByTheLinksDirection) {
  const std::vector<std::pair<int, int>> links{{0, 1}, {2, 1}};
  const auto flows = route_link_flows(links, {0, 1, 2});
  ASSERT_EQ(flows.size(), 2u);
  EXPECT_EQ(flows[0], (std::pair<std::size_t, double>{0, -1.0}));
  EXPECT_EQ(flows[1], (std::pair<std::size_t, double>{1, 1.0}));
  EXPECT_TRUE(route_link_flows(links, {1}).empty());  // buyer and seller at one CCP
}

}  // namespace test_flow
}  // namespace ccpnet::models
