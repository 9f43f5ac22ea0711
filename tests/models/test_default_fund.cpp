// Default-fund sizing (Cover-1, EMIR Cover-2, the Bank of England variant) and
// allocation, on a hand-worked example of four members in three default groups.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "models/default_fund/cover.hpp"

namespace ccpnet::models {
namespace test_default_fund {

// Members M1 and M2 form group G0; M3 is G1; M4 is G2.
// Initial margin: M1 30, M2 20, M3 50, M4 40 (G0 50, G1 50, G2 40).
// Stress losses in three stress scenarios:
//          S0 (down)  S1 (up)  S2 (idiosyncratic)
//   M1        90         0        70
//   M2        50        40        40
//   M3       110        20       110
//   M4        10       140        95
// Group uncovered loss = max(group loss - group IM, 0):
//   G0  140-50 = 90    40-50 -> 0     110-50 = 60
//   G1  110-50 = 60    20-50 -> 0     110-50 = 60
//   G2   10-40 -> 0   140-40 = 100     95-40 = 55
Eigen::MatrixXd group_uncovered() {
  Eigen::MatrixXd u(3, 3);
  u << 90, 0, 60,  //
      60, 0, 60,   //
      0, 100, 55;
  return u;
}

// Member-level uncovered loss (each member's loss minus its own IM, floored):
//   M1: 60, 0, 40;  M2: 30, 20, 20;  M3: 60, 0, 60;  M4: 0, 100, 55.
Eigen::MatrixXd member_uncovered() {
  Eigen::MatrixXd u(4, 3);
  u << 60, 0, 40,  //
      30, 20, 20,  //
      60, 0, 60,   //
      0, 100, 55;
  return u;
}

// EMIR checks on a sized fund: the fund alone covers the largest group, or the
// 2nd and 3rd together (art. 42(3)); fund + SITG cover the two largest (art. 43(2)).
void expect_emir(const Eigen::MatrixXd& u, double fund, double sitg) {
  for (Eigen::Index s = 0; s < u.cols(); ++s) {
    std::vector<double> col(u.col(s).begin(), u.col(s).end());
    std::sort(col.rbegin(), col.rend());
    EXPECT_GE(fund + 1e-9, std::max(col[0], col[1] + col[2])) << "scenario " << s;
    EXPECT_GE(fund + sitg + 1e-9, col[0] + col[1]) << "scenario " << s;
  }
}

TEST(DefaultFund, Cover1) {
  // Largest uncovered loss: max(90, 100, 60) = 100, G2 in S1.
  const CoverSizing c = size_cover(group_uncovered(), 1);
  EXPECT_DOUBLE_EQ(c.fund, 100.0);
  EXPECT_EQ(c.scenario, 1);
  EXPECT_EQ(c.groups, (std::vector<Eigen::Index>{2}));
}

TEST(DefaultFund, Cover2TwoLargestLessSitgBinds) {
  // SITG 30. Per scenario max(U1, U2 + U3, U1 + U2 - SITG):
  //   S0: max(90, 60, 120) = 120;  S1: max(100, 0, 70) = 100;  S2: max(60, 115, 90) = 115.
  const CoverSizing c = size_cover(group_uncovered(), 2, 30.0);
  EXPECT_DOUBLE_EQ(c.fund, 120.0);
  EXPECT_EQ(c.scenario, 0);
  EXPECT_EQ(c.groups, (std::vector<Eigen::Index>{0, 1}));
  expect_emir(group_uncovered(), c.fund, 30.0);
}

TEST(DefaultFund, Cover2SecondAndThirdBind) {
  // SITG 100: S0: max(90, 60, 50) = 90;  S1: 100;  S2: max(60, 115, 20) = 115.
  // The 2nd and 3rd largest of S2 (G1 60, G2 55) set the fund; the two largest
  // of S2 tie at 60, the lower index first.
  const CoverSizing c = size_cover(group_uncovered(), 2, 100.0);
  EXPECT_DOUBLE_EQ(c.fund, 115.0);
  EXPECT_EQ(c.scenario, 2);
  EXPECT_EQ(c.groups, (std::vector<Eigen::Index>{0, 1}));
  expect_emir(group_uncovered(), c.fund, 100.0);
}

TEST(DefaultFund, Cover2WithoutSitg) {
  // S0: 90 + 60 = 150.
  const CoverSizing c = size_cover(group_uncovered(), 2);
  EXPECT_DOUBLE_EQ(c.fund, 150.0);
  expect_emir(group_uncovered(), c.fund, 0.0);
  EXPECT_THROW(size_cover(group_uncovered(), 3), std::invalid_argument);
}

// Property: the sizing equals the definition worked directly, every column
// sorted largest first with ties to the lower group (a stable sort), on small
// integer losses where ties are the rule, for 1 to 6 groups and both covers.
TEST(DefaultFund, CoverSizingEqualsSortedDefinition) {
  std::uint64_t state = 12345;
  const auto next = [&state] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>((state >> 33) % 5) * 10.0 - 10.0;  // -10, 0, 10, 20, 30
  };
  for (Eigen::Index groups = 1; groups <= 6; ++groups) {
    Eigen::MatrixXd u(groups, 40);
    for (Eigen::Index s = 0; s < u.cols(); ++s)
      for (Eigen::Index g = 0; g < groups; ++g) u(g, s) = next();
    for (int cover : {1, 2}) {
      double fund = -1.0;
      Eigen::Index scenario = -1;
      std::vector<Eigen::Index> chosen;
      for (Eigen::Index s = 0; s < u.cols(); ++s) {
        std::vector<Eigen::Index> order;  // insertion after every entry not smaller: stable
        for (Eigen::Index g = 0; g < groups; ++g) {
          auto pos = order.begin();
          while (pos != order.end() && u(*pos, s) >= u(g, s)) ++pos;
          order.insert(pos, g);
        }
        const auto at = [&](std::size_t k) { return k < order.size() ? std::max(0.0, u(order[k], s)) : 0.0; };
        const double need = cover == 1 ? at(0) : std::max({at(0), at(1) + at(2), at(0) + at(1) - 15.0});
        if (need > fund) {
          fund = need;
          scenario = s;
          chosen.assign(order.begin(), order.begin() + std::min<Eigen::Index>(cover, groups));
        }
      }
      const CoverSizing c = size_cover(u, cover, cover == 1 ? 0.0 : 15.0);
      EXPECT_DOUBLE_EQ(c.fund, fund) << groups << " groups, cover " << cover;
      EXPECT_EQ(c.scenario, scenario) << groups << " groups, cover " << cover;
      EXPECT_EQ(c.groups, chosen) << groups << " groups, cover " << cover;
    }
  }
}

TEST(DefaultFund, AllocationProRataToIm) {
  // 120 over IM 30, 20, 50, 40 (sum 140).
  Eigen::VectorXd im(4);
  im << 30, 20, 50, 40;
  const Eigen::VectorXd df = allocate_pro_rata(im, 120.0);
  EXPECT_NEAR(df(0), 120.0 * 30 / 140, 1e-12);
  EXPECT_NEAR(df(1), 120.0 * 20 / 140, 1e-12);
  EXPECT_NEAR(df(2), 120.0 * 50 / 140, 1e-12);
  EXPECT_NEAR(df(3), 120.0 * 40 / 140, 1e-12);
  EXPECT_NEAR(df.sum(), 120.0, 1e-12);
  const Eigen::VectorXd equal = allocate_pro_rata(Eigen::VectorXd::Zero(4), 120.0);
  EXPECT_DOUBLE_EQ(equal(3), 30.0);
  im(1) = -1.0;
  EXPECT_THROW(allocate_pro_rata(im, 120.0), std::invalid_argument);
}

TEST(DefaultFund, AllocationProRataToUncoveredStressLoss) {
  // Each member's largest uncovered loss: M1 60, M2 30, M3 60, M4 100 (sum 250);
  // 120 shared: 28.8, 14.4, 28.8, 48.
  const Eigen::VectorXd w = uncovered_loss_weights(member_uncovered());
  EXPECT_EQ(w, (Eigen::VectorXd(4) << 60, 30, 60, 100).finished());
  const Eigen::VectorXd df = allocate_pro_rata_uncovered(member_uncovered(), 120.0);
  EXPECT_NEAR(df(0), 28.8, 1e-12);
  EXPECT_NEAR(df(1), 14.4, 1e-12);
  EXPECT_NEAR(df(2), 28.8, 1e-12);
  EXPECT_NEAR(df(3), 48.0, 1e-12);
}

TEST(DefaultFund, BankOfEnglandPairDiffersFromTheLargestExposures) {
  // Own contributions G0 80, G1 10, G2 10; mutualised loss r = max(U - c, 0):
  //   S0: 10, 50, 0 -> 60;   S1: 0, 0, 90 -> 90;   S2: 0, 50, 45 -> 95.
  // The Bank of England pair is G1 and G2 in S2 (95), whereas the two largest
  // uncovered losses are G0 and G1 in S0 (90 + 60). SITG 30 leaves 65 to survivors.
  Eigen::VectorXd c(3);
  c << 80, 10, 10;
  const MutualisedDepletion d = mutualised_depletion(group_uncovered(), c, 2, 30.0);
  EXPECT_DOUBLE_EQ(d.mutualised_loss, 95.0);
  EXPECT_DOUBLE_EQ(d.survivors_loss, 65.0);
  EXPECT_EQ(d.scenario, 2);
  EXPECT_EQ(d.groups, (std::vector<Eigen::Index>{1, 2}));
  // Cover-1 reading: the single largest r is G2's 90 in S1.
  const MutualisedDepletion one = mutualised_depletion(group_uncovered(), c, 1, 30.0);
  EXPECT_DOUBLE_EQ(one.mutualised_loss, 90.0);
  EXPECT_EQ(one.groups, (std::vector<Eigen::Index>{2}));
}

TEST(DefaultFund, BankOfEnglandSizingWithContributionsProRataToIm) {
  // Contributions pro rata to group IM 50, 50, 40; SITG 30. EMIR gives 120.
  // At F = 120, c = (42.86, 42.86, 34.29) and F + SITG = 150 >= the two largest
  // claims max(U_g, c_g) in every scenario: S0 90 + 60 = 150, S1 100 + 42.86,
  // S2 60 + 60. So F = 120. The pair depleting mutualised resources most at
  // that fund: S1, G2 (100 - 34.29 = 65.71) with G0 (nothing beyond its
  // contribution; ties broken by loss, then index).
  Eigen::VectorXd w(3);
  w << 50, 50, 40;
  const CoverSizing c = size_cover_boe(group_uncovered(), w, 30.0);
  EXPECT_NEAR(c.fund, 120.0, 1e-9);
  EXPECT_EQ(c.scenario, 1);
  EXPECT_EQ(c.groups, (std::vector<Eigen::Index>{2, 0}));
  expect_emir(group_uncovered(), c.fund, 30.0);
}

TEST(DefaultFund, BankOfEnglandSizingWithAConcentratedContributor) {
  // Contribution weights 120, 10, 10: shares 6/7, 1/14, 1/14; SITG 30.
  // A defaulter's surplus contribution does not cover the other defaulter, so
  // if G0 (no loss in S1) and G2 default in S1, only G1's share and the SITG
  // are left for G2's loss beyond its own contribution:
  //   F + 30 >= (6/7) F + 100  ->  F >= 490.
  // At 490, c = (420, 35, 35): S0 claims 420 + 60 = 480 <= 520, S1 420 + 100 =
  // 520 <= 520, S2 420 + 60 = 480 <= 520. The EMIR fund is 120.
  Eigen::VectorXd w(3);
  w << 120, 10, 10;
  const CoverSizing c = size_cover_boe(group_uncovered(), w, 30.0);
  EXPECT_NEAR(c.fund, 490.0, 1e-8);
  EXPECT_EQ(c.scenario, 1);
  EXPECT_EQ(c.groups, (std::vector<Eigen::Index>{2, 0}));
  // The survivors' contributions just cover that pair's mutualised loss.
  const Eigen::VectorXd contributions = w / w.sum() * c.fund;
  const MutualisedDepletion d = mutualised_depletion(group_uncovered(), contributions, 2, 30.0);
  EXPECT_NEAR(d.survivors_loss, c.fund - contributions(0) - contributions(2), 1e-8);
  // A single contributor cannot make the fund survive its own default with another group.
  w << 1, 0, 0;
  EXPECT_THROW(size_cover_boe(group_uncovered(), w, 30.0), std::invalid_argument);
}

// Uncovered losses of rows from accounts: M1 (90, 0, 70) and M2 (50, 40, 40)
// form group row 0, M3 (110, 20, 110) row 1, M4 (10, 140, 95) row 2 is left
// out (-1); liquidation costs 5, 5, 10, 0; resources (IMs) 50 and 50:
//   row 0: 90+50+10-50 = 100, 0+40+10-50 = 0, 70+40+10-50 = 70
//   row 1: 110+10-50 = 70, max(20+10-50, 0) = 0, 110+10-50 = 70
TEST(DefaultFund, UncoveredLossesSumARowsAccountsBeyondItsResources) {
  Eigen::MatrixXd loss(4, 3);
  loss << 90, 0, 70,  //
      50, 40, 40,     //
      110, 20, 110,   //
      10, 140, 95;
  const Eigen::VectorXd cost = (Eigen::VectorXd(4) << 5, 5, 10, 0).finished();
  const Eigen::VectorXd resources = (Eigen::VectorXd(2) << 50, 50).finished();
  const Eigen::MatrixXd u = uncovered_losses(-loss, cost, {0, 0, 1, -1}, resources);
  ASSERT_EQ(u.rows(), 2);
  EXPECT_DOUBLE_EQ(u(0, 0), 100.0);
  EXPECT_DOUBLE_EQ(u(0, 1), 0.0);
  EXPECT_DOUBLE_EQ(u(0, 2), 70.0);
  EXPECT_DOUBLE_EQ(u(1, 0), 70.0);
  EXPECT_DOUBLE_EQ(u(1, 1), 0.0);
  EXPECT_DOUBLE_EQ(u(1, 2), 70.0);
  EXPECT_THROW(uncovered_losses(-loss, cost, {0, 0, 1}, resources), std::invalid_argument);
  // Into a caller's buffer: the same figures, and a buffer of the wrong size refused.
  Eigen::MatrixXd into(u.rows(), u.cols());
  uncovered_losses_into(-loss, cost, {0, 0, 1, -1}, resources, into);
  EXPECT_EQ(into, u);
  Eigen::MatrixXd wrong(u.rows(), u.cols() + 1);
  EXPECT_THROW(uncovered_losses_into(-loss, cost, {0, 0, 1, -1}, resources, wrong), std::invalid_argument);
}

// Over blocks of moves the search finds what size_cover finds over the whole
// set: the example sized in one block, and in blocks of one move each.
TEST(DefaultFund, CoverSearchOverBlocksMatchesTheWholeSet) {
  const Eigen::MatrixXd u = group_uncovered();
  for (int cover : {1, 2}) {
    const CoverSizing whole = size_cover(u, cover, 30.0);
    CoverSearch blocks(cover, 30.0);
    for (Eigen::Index k = 0; k < u.cols(); ++k) blocks.add(u.middleCols(k, 1), k);
    EXPECT_DOUBLE_EQ(blocks.sizing().fund, whole.fund);
    EXPECT_EQ(blocks.sizing().scenario, whole.scenario);
    EXPECT_EQ(blocks.sizing().groups, whole.groups);
    ASSERT_EQ(blocks.sizing_column().size(), u.rows());
    EXPECT_TRUE(blocks.sizing_column().isApprox(u.col(whole.scenario)));
  }
}

// Ties between blocks go to the first move, as within one block.
TEST(DefaultFund, CoverSearchKeepsTheFirstOfEqualMoves) {
  Eigen::MatrixXd u(2, 2);
  u << 10, 10,  //
      5, 5;
  CoverSearch search(1, 0.0);
  search.add(u.leftCols(1), 0);
  search.add(u.rightCols(1), 1);
  EXPECT_EQ(search.sizing().scenario, 0);
  EXPECT_DOUBLE_EQ(search.sizing().fund, 10.0);
  EXPECT_EQ(CoverSearch(2, 0.0).sizing().scenario, -1);  // nothing added: no move sets it
}

}  // namespace test_default_fund
}  // namespace ccpnet::models
