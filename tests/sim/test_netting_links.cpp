// Netting across two linked CCPs against two unlinked ones, in the setting of
// Duffie & Zhu (2011), "Does a central clearing counterparty reduce
// counterparty risk?", Review of Asset Pricing Studies 1(1), extended to
// interoperable CCPs as in Cox, Garvin & Kelly (2013), "Central counterparty
// links and clearing system exposures", Reserve Bank of Australia RDP 2013-12.
// The exposures are measured on the positions the engine novates (build_model:
// members' accounts per CCP and the inter-CCP link accounts), over seeded
// draws of the trades, and compared with closed forms derived below.
//
// Setting. N = N_A + N_B members; K asset classes (assets of price 1, so a
// position's value is its quantity). Between every two members i < j, in every
// class k, one trade of size X_ij^k, independent N(0, sigma^2): i buys X_ij^k
// from j (sells when negative). Write X_ji^k = -X_ij^k.
//
// Linked: members of A and B clear every class at their home CCP, and A and B
// are linked. A trade between i at A and j at B is novated at both CCPs and
// carried over the link. Member i's position value in class k is
// S_ik = sum_{j != i} X_ij^k ~ N(0, (N - 1) sigma^2), independent over k, so
// its exposure to its CCP, max(sum_k S_ik, 0), has expectation
//   E_member = sigma sqrt(K (N - 1)) / sqrt(2 pi)
// (Duffie-Zhu's multilateral netting over all N - 1 counterparties and all K
// classes). The link account of B at A holds, per class, the sum of the
// cross trades, L_k = -sum_{i in A, j in B} X_ij^k ~ N(0, N_A N_B sigma^2); the
// CCPs' exposures to each other, max(sum_k L_k, 0) + max(-sum_k L_k, 0), have
// expectation 2 sigma sqrt(K N_A N_B) / sqrt(2 pi). In all:
//   members:  N sigma sqrt(K (N - 1)) / sqrt(2 pi)
//   CCPs:     2 sigma sqrt(K N_A N_B) / sqrt(2 pi)
//
// Unlinked: no link, so every member joins both CCPs and each class is cleared
// at one CCP only: classes 0 .. K_A - 1 at A, the other K_B at B (the
// Duffie-Zhu case of one CCP per class, several CCPs). Member i's exposure at A
// nets K_A classes over its N - 1 counterparties, and likewise at B:
//   members:  N sigma sqrt(N - 1) (sqrt(K_A) + sqrt(K_B)) / sqrt(2 pi)
//   CCPs:     0
// With K_A = K_B = 1 this is equation Y_U = (sigma_1 + sigma_2) N sqrt(N - 1) /
// sqrt(2 pi) of Cox, Garvin & Kelly (2013).
//
// So the members of linked CCPs face sqrt(K) / (sqrt(K_A) + sqrt(K_B)) of the
// unlinked exposure (1 / sqrt 2 for K_A = K_B), at the price of the inter-CCP
// exposure.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "models/netting/netting.hpp"
#include "sim/config/load.hpp"
#include "sim/model.hpp"

namespace ccpnet {
namespace test_netting_links {

struct Design {
  int members_a = 0, members_b = 0, classes = 0, classes_at_a = 0;
  int members() const { return members_a + members_b; }
};

struct Trade {
  int buyer, seller, asset;
  double quantity;
};

// One draw of the bilateral trades, buyer first (quantity > 0).
std::vector<Trade> draw_trades(const Design& d, std::mt19937_64& rng) {
  std::normal_distribution<double> normal;  // sigma = 1
  std::vector<Trade> out;
  for (int i = 0; i < d.members(); ++i)
    for (int j = i + 1; j < d.members(); ++j)
      for (int k = 0; k < d.classes; ++k) {
        const double x = normal(rng);
        if (x > 0) out.push_back({i, j, k, x});
        if (x < 0) out.push_back({j, i, k, -x});
      }
  return out;
}

std::string member_id(int i) { return fmt::format("M{}", i); }

// The scenario text: linked (home CCPs, one link) or unlinked (class -> CCP).
std::string scenario(const Design& d, const std::vector<Trade>& trades, bool linked) {
  std::string s = "name: netting\nmarket:\n  assets:\n";
  for (int k = 0; k < d.classes; ++k) s += fmt::format("    - {{id: C{}, price: 1, volatility: 0.5}}\n", k);
  s += "ccps:\n  - {id: A, capital: 1.0e6}\n  - {id: B, capital: 1.0e6}\nmembers:\n";
  for (int i = 0; i < d.members(); ++i) s += fmt::format("  - {{id: {}, capital: 1.0e6}}\n", member_id(i));
  const auto home = [&](int i) { return i < d.members_a ? "A" : "B"; };
  s += "trades:\n";
  for (const Trade& t : trades) {
    const char* buyer_ccp = linked ? home(t.buyer) : (t.asset < d.classes_at_a ? "A" : "B");
    const char* seller_ccp = linked ? home(t.seller) : buyer_ccp;
    s += fmt::format("  - {{buyer: {}, seller: {}, asset: C{}, quantity: {:.17g}, buyer_ccp: {}, seller_ccp: {}}}\n",
                     member_id(t.buyer), member_id(t.seller), t.asset, t.quantity, buyer_ccp, seller_ccp);
  }
  if (linked) s += "links: [{between: [A, B], model: peer}]\n";
  return s;
}

// Exposures read off the novated positions: members' to their CCPs, and the
// CCPs' to each other (link accounts).
struct Exposures {
  double members = 0.0, ccps = 0.0;
};

Exposures exposures(const Model& m) {
  Exposures e;
  for (const auto& acc : m.accounts) {
    double value = 0.0;
    for (Eigen::Index a = 0; a < acc.quantity.size(); ++a)
      value += acc.quantity(a) * m.assets[static_cast<std::size_t>(a)].price;
    if (acc.kind == AccountKind::kMember) e.members += std::max(value, 0.0);
    if (acc.kind == AccountKind::kLink) e.ccps += std::max(value, 0.0);
  }
  return e;
}

struct Mean {
  double sum = 0.0, squares = 0.0;
  int n = 0;
  void add(double x) {
    sum += x;
    squares += x * x;
    ++n;
  }
  double mean() const { return sum / n; }
  double standard_error() const {
    const double var = (squares - sum * sum / n) / (n - 1);
    return std::sqrt(std::max(var, 0.0) / n);
  }
};

class LinkedAgainstUnlinked : public ::testing::TestWithParam<Design> {};

TEST_P(LinkedAgainstUnlinked, ExposuresOfTheNovatedPositionsMatchTheClosedForms) {
  const Design d = GetParam();
  const int n = d.members();
  const double phi0 = models::expected_positive_part(1.0);  // 1 / sqrt(2 pi)
  const double linked_members = n * std::sqrt(d.classes * (n - 1.0)) * phi0;
  const double linked_ccps = 2.0 * std::sqrt(static_cast<double>(d.classes) * d.members_a * d.members_b) * phi0;
  const double unlinked_members =
      n * std::sqrt(n - 1.0) * (std::sqrt(d.classes_at_a) + std::sqrt(d.classes - d.classes_at_a)) * phi0;
  // The per-member forms are those of models/netting (all classes at one CCP).
  EXPECT_NEAR(linked_members, n * models::all_cleared_exposure(n, Eigen::VectorXd::Ones(d.classes)), 1e-12);

  std::mt19937_64 rng(20130912 + static_cast<std::uint64_t>(n * 100 + d.classes));
  Mean linked, link, unlinked, difference;
  constexpr int kDraws = 250;  // each draw builds two models
  for (int draw = 0; draw < kDraws; ++draw) {
    const auto trades = draw_trades(d, rng);
    const Exposures l = exposures(build_model(config::load_scenario_text(scenario(d, trades, true), "linked.yaml")));
    const Exposures u = exposures(build_model(config::load_scenario_text(scenario(d, trades, false), "unlinked.yaml")));
    EXPECT_EQ(u.ccps, 0.0);
    linked.add(l.members);
    link.add(l.ccps);
    unlinked.add(u.members);
    difference.add(l.members - u.members);  // paired on the same trades
  }
  // 4 standard errors of the Monte Carlo mean.
  EXPECT_NEAR(linked.mean(), linked_members, 4.0 * linked.standard_error());
  EXPECT_NEAR(link.mean(), linked_ccps, 4.0 * link.standard_error());
  EXPECT_NEAR(unlinked.mean(), unlinked_members, 4.0 * unlinked.standard_error());
  EXPECT_NEAR(difference.mean(), linked_members - unlinked_members, 4.0 * difference.standard_error());
  // The saving of the members is measured, not noise: far beyond its error.
  EXPECT_LT(difference.mean() + 6.0 * difference.standard_error(), 0.0);
}

// (N_A, N_B, K, K_A): K = 2 with one class per CCP is the case of Cox, Garvin &
// Kelly (2013); K = 4 splits two and two; unequal sizes for the link term.
INSTANTIATE_TEST_SUITE_P(Sizes, LinkedAgainstUnlinked,
                         ::testing::Values(Design{2, 2, 2, 1}, Design{3, 5, 2, 1}, Design{5, 5, 2, 1},
                                           Design{3, 4, 4, 2}),
                         [](const auto& param_info) {
                           const Design& d = param_info.param;
                           return fmt::format("A{}_B{}_K{}_at_A{}", d.members_a, d.members_b, d.classes,
                                              d.classes_at_a);
                         });

TEST(LinkedAgainstUnlinked, OneDrawByHand) {
  // Three members, one class, M0 at A, M1 and M2 at B. M0 buys 2 from M1,
  // M1 buys 3 from M2, M0 buys 1 from M2. Linked: M0 +3 at A, M1 -2 + 3 = +1
  // and M2 -4 at B; B's account at A -3, A's account at B +3.
  const Design d{1, 2, 1, 1};
  const std::vector<Trade> trades{{0, 1, 0, 2.0}, {1, 2, 0, 3.0}, {0, 2, 0, 1.0}};
  const Model linked = build_model(config::load_scenario_text(scenario(d, trades, true), "linked.yaml"));
  const Exposures l = exposures(linked);
  EXPECT_NEAR(l.members, 3.0 + 1.0, 1e-12);
  EXPECT_NEAR(l.ccps, 3.0, 1e-12);
  // Unlinked, the one class is cleared at A by all three: the same member
  // positions, no link.
  const Exposures u = exposures(build_model(config::load_scenario_text(scenario(d, trades, false), "unlinked.yaml")));
  EXPECT_NEAR(u.members, 4.0, 1e-12);
  EXPECT_EQ(u.ccps, 0.0);
}

}  // namespace test_netting_links
}  // namespace ccpnet
