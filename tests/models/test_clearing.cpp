// Clearing building blocks (SPEC 3.10): Eisenberg-Noe, Rogers-Veraart, DebtRank.
// Expected numbers are worked out by hand in the comments, or taken from a
// published source named next to them; the remaining tests check properties
// that hold for any network (fixed point, greatest, monotone, dense = sparse,
// batch = one by one).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <Eigen/SparseCore>
#include <algorithm>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/clearing/debtrank.hpp"
#include "models/clearing/eisenberg_noe.hpp"
#include "models/clearing/rogers_veraart.hpp"

namespace ccpnet::models {
namespace test_clearing {

using ::testing::HasSubstr;

// Expects `call` to throw std::invalid_argument whose message contains `text`.
template <class Call>
void expect_invalid(Call&& call, const std::string& text) {
  try {
    call();
    ADD_FAILURE() << "expected std::invalid_argument containing \"" << text << "\"";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr(text));
  }
}

std::vector<bool> as_vector(const Eigen::Array<bool, Eigen::Dynamic, 1>& a) {
  return std::vector<bool>(a.data(), a.data() + a.size());
}

// The three-bank network of the NEVA course exercises (Barucca et al., "Network valuation in financial
// systems", Mathematical Finance 2020; github.com/paolobarucca/neva, Exercise2.m): bank 0 owes bank 1 4,
// bank 1 owes bank 2 3, bank 2 owes bank 0 2; external assets (20, 20, 10), external liabilities (17, 18, 8).
Eigen::MatrixXd neva_liabilities() {
  Eigen::MatrixXd l(3, 3);
  l << 0, 4, 0,  //
      0, 0, 3,   //
      2, 0, 0;
  return l;
}
Eigen::VectorXd neva_external_debt() { return Eigen::Vector3d(17, 18, 8); }

// ---------------------------------------------------------------- Eisenberg-Noe, worked examples

TEST(EisenbergNoe, NevaNetworkUnshockedEveryBankPaysInFull) {
  // pbar = interbank + external = (4 + 17, 3 + 18, 2 + 8) = (21, 21, 10). At p = pbar each bank receives
  // Pi' pbar = (2, 4, 3), so e + Pi' pbar = (22, 24, 13) >= pbar: p = pbar, equity = (1, 3, 3).
  const auto r = eisenberg_noe(neva_liabilities(), Eigen::Vector3d(20, 20, 10), neva_external_debt());
  EXPECT_TRUE(r.converged);
  EXPECT_EQ(r.iterations, 1);
  EXPECT_DOUBLE_EQ(r.payments[0], 21);
  EXPECT_DOUBLE_EQ(r.payments[1], 21);
  EXPECT_DOUBLE_EQ(r.payments[2], 10);
  EXPECT_NEAR(r.equity[0], 1, 1e-12);
  EXPECT_NEAR(r.equity[1], 3, 1e-12);
  EXPECT_NEAR(r.equity[2], 3, 1e-12);
  EXPECT_EQ(as_vector(r.defaulted), (std::vector<bool>{false, false, false}));
}

TEST(EisenbergNoe, NevaNetworkShockedPariPassu) {
  // e = (18, 17.5, 9); pbar = (21, 21, 10); Pi(0,1) = 4/21, Pi(1,2) = 3/21, Pi(2,0) = 2/10.
  // Round 1 at p = pbar: e + Pi' p = (18 + 2, 17.5 + 4, 9 + 3) = (20, 21.5, 12): bank 0 alone falls short.
  //   Solve p0 = 18 + 0.2 * p2 with p2 = 10: p0 = 20.
  // Round 2 at p = (20, 21, 10): bank 1 receives 4/21 * 20 = 3.8095 and 17.5 + 3.8095 = 21.3095 >= 21, bank 2
  //   receives 3: the clearing vector is p = (20, 21, 10), confirmed in this round.
  // Equity: bank 1: 17.5 + 80/21 - 21 = 6.5/21; bank 2: 9 + 3 - 10 = 2.
  const auto r = eisenberg_noe(neva_liabilities(), Eigen::Vector3d(18, 17.5, 9), neva_external_debt());
  EXPECT_EQ(r.iterations, 2);
  EXPECT_NEAR(r.payments[0], 20, 1e-12);
  EXPECT_DOUBLE_EQ(r.payments[1], 21);
  EXPECT_DOUBLE_EQ(r.payments[2], 10);
  EXPECT_NEAR(r.equity[0], 0, 1e-12);
  EXPECT_NEAR(r.equity[1], 6.5 / 21, 1e-12);
  EXPECT_NEAR(r.equity[2], 2, 1e-12);
  EXPECT_EQ(as_vector(r.defaulted), (std::vector<bool>{true, false, false}));
}

TEST(EisenbergNoe, NevaNetworkShockedSeniorExternalDebt) {
  // Same shock, external debt senior. Interbank payments q solve q = min(Lbar, max(0, e - d + Pi_L' q)) with
  // Lbar = (4, 3, 2), e - d = (1, -0.5, 1) and Pi_L a cycle 0 -> 1 -> 2 -> 0 with weight 1:
  //   q0 = min(4, 1 + q2), q1 = min(3, max(0, -0.5 + q0)), q2 = min(2, 1 + q1).
  // Round 1 at q = Lbar: (1 + 2, -0.5 + 4, 1 + 3) = (3, 3.5, 4): bank 0 short; q0 = 1 + 2 = 3.
  // Round 2 at q = (3, 3, 2): bank 1 gets 3 < 3.5 = 0.5 + 3: short; q1 = -0.5 + 3 = 2.5, q2 = 2 (1 + 2.5 >= 2).
  // Round 3 confirms q = (3, 2.5, 2). Totals p = min(d, max(0, e + Pi_L' q)) + q:
  //   bank 0: min(17, 18 + 2) + 3 = 20; bank 1: min(18, 17.5 + 3) + 2.5 = 20.5; bank 2: min(8, 9 + 2.5) + 2 = 10.
  // Bank 1 now defaults too (it survives when external debt is pari passu), and bank 2 keeps 9 + 2.5 - 10 = 1.5.
  EisenbergNoeOptions senior;
  senior.external_debt_priority = DebtPriority::kSenior;
  const auto r = eisenberg_noe(neva_liabilities(), Eigen::Vector3d(18, 17.5, 9), neva_external_debt(), senior);
  EXPECT_EQ(r.iterations, 3);
  EXPECT_NEAR(r.payments[0], 20, 1e-12);
  EXPECT_NEAR(r.payments[1], 20.5, 1e-12);
  EXPECT_DOUBLE_EQ(r.payments[2], 10);
  EXPECT_NEAR(r.equity[2], 1.5, 1e-12);
  EXPECT_EQ(as_vector(r.defaulted), (std::vector<bool>{true, true, false}));
}

// A network prepared once clears each shock as the one-call solver does, to the
// bit, pari passu and senior: the NEVA network's worked shock (bank 0 pays 20,
// as above) among random ones.
TEST(EisenbergNoe, PreparedNetworkEqualsOneCallForEveryShock) {
  const Eigen::SparseMatrix<double, Eigen::RowMajor> sparse = neva_liabilities().sparseView();
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> assets(-2.0, 25.0);
  for (const DebtPriority priority : {DebtPriority::kPariPassu, DebtPriority::kSenior}) {
    EisenbergNoeOptions options;
    options.external_debt_priority = priority;
    const EisenbergNoeNetwork network(sparse, neva_external_debt(), options);
    std::vector<Eigen::VectorXd> shocks{Eigen::Vector3d(18, 17.5, 9)};
    for (int k = 0; k < 50; ++k) shocks.emplace_back(Eigen::Vector3d(assets(rng), assets(rng), assets(rng)));
    for (const Eigen::VectorXd& e : shocks) {
      const auto once = eisenberg_noe(sparse, e, neva_external_debt(), options);
      const auto prepared = network.clear(e);
      EXPECT_EQ(prepared.payments, once.payments);
      EXPECT_EQ(prepared.equity, once.equity);
      EXPECT_EQ(as_vector(prepared.defaulted), as_vector(once.defaulted));
      EXPECT_EQ(prepared.iterations, once.iterations);
    }
    EXPECT_NEAR(network.clear(Eigen::Vector3d(18, 17.5, 9)).payments[0], 20, 1e-12);
  }
  const EisenbergNoeNetwork network(sparse, neva_external_debt());
  expect_invalid([&] { network.clear(Eigen::Vector2d(1, 1)); }, "external assets");
}

TEST(EisenbergNoe, TwoDefaultersOnACycleSolvedTogether) {
  // No external debt. L rows: bank 0 owes (0, 6, 4), bank 1 owes (5, 0, 5), bank 2 owes (2, 2, 0);
  // pbar = (10, 10, 4); Pi rows (0, .6, .4), (.5, 0, .5), (.5, .5, 0); e = (1, 1.5, 6).
  // At p = pbar: e + Pi' p = (1 + 5 + 2, 1.5 + 6 + 2, 6 + 4 + 5) = (8, 9.5, 15): banks 0 and 1 are short.
  // Solve p0 = 1 + .5 p1 + .5 * 4 and p1 = 1.5 + .6 p0 + .5 * 4: p0 = 3 + .5 (3.5 + .6 p0), so .7 p0 = 4.75,
  // p0 = 95/14 and p1 = 3.5 + .6 * 95/14 = 53/7. Bank 2 receives .4 * 95/14 + .5 * 53/7 = 6.5: 6 + 6.5 >= 4,
  // solvent with equity 8.5.
  Eigen::MatrixXd l(3, 3);
  l << 0, 6, 4,  //
      5, 0, 5,   //
      2, 2, 0;
  const auto r = eisenberg_noe(l, Eigen::Vector3d(1, 1.5, 6));
  EXPECT_NEAR(r.payments[0], 95.0 / 14, 1e-12);
  EXPECT_NEAR(r.payments[1], 53.0 / 7, 1e-12);
  EXPECT_DOUBLE_EQ(r.payments[2], 4);
  EXPECT_NEAR(r.equity[2], 8.5, 1e-12);
  EXPECT_EQ(as_vector(r.defaulted), (std::vector<bool>{true, true, false}));
  EXPECT_EQ(r.iterations, 2);
}

TEST(EisenbergNoe, PicksTheGreatestOfManyClearingVectors) {
  // Two banks owing each other 1 with no outside assets: every p = (t, t), t in [0, 1], clears;
  // the greatest is (1, 1) (Eisenberg and Noe 2001, the non-uniqueness example of Sec. 2).
  Eigen::MatrixXd l(2, 2);
  l << 0, 1,  //
      1, 0;
  const auto r = eisenberg_noe(l, Eigen::Vector2d(0, 0));
  EXPECT_DOUBLE_EQ(r.payments[0], 1);
  EXPECT_DOUBLE_EQ(r.payments[1], 1);
  EXPECT_FALSE(r.defaulted.any());
}

TEST(EisenbergNoe, NegativeExternalAssetsAreFlooredAtZero) {
  // Same pair, bank 0 with outside losses: e = (-0.5, 0). p0 = max(0, -0.5 + p1) and p1 = p0 force
  // p0 = max(0, p0 - 0.5), so the only clearing vector is (0, 0).
  Eigen::MatrixXd l(2, 2);
  l << 0, 1,  //
      1, 0;
  // On the way the pair is short together with no money leaving it: I - Pi'_DD is singular and the
  // algorithm must step down by plain iteration until bank 0 pays nothing.
  const Eigen::SparseMatrix<double> sparse = l.sparseView();
  for (const auto& r : {eisenberg_noe(l, Eigen::Vector2d(-0.5, 0)), eisenberg_noe(sparse, Eigen::Vector2d(-0.5, 0))}) {
    EXPECT_TRUE(r.converged);
    EXPECT_DOUBLE_EQ(r.payments[0], 0);
    EXPECT_DOUBLE_EQ(r.payments[1], 0);
    EXPECT_TRUE(r.defaulted.all());
    EXPECT_DOUBLE_EQ(r.equity[0], 0);
  }
}

// ---------------------------------------------------------------- properties on random networks

struct RandomNetwork {
  Eigen::SparseMatrix<double> sparse;
  Eigen::MatrixXd dense;
  Eigen::VectorXd external_assets;
  Eigen::VectorXd external_debt;
};

// Directed Erdos-Renyi network, about `degree` creditors per bank, uniform liabilities, thin capital.
RandomNetwork random_network(int n, double degree, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<Eigen::Triplet<double>> entries;
  const double link = degree / (n - 1);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      if (i != j && unit(rng) < link) entries.emplace_back(i, j, 1.0 + 9.0 * unit(rng));
  RandomNetwork net;
  net.sparse.resize(n, n);
  net.sparse.setFromTriplets(entries.begin(), entries.end());
  net.dense = Eigen::MatrixXd(net.sparse);
  const Eigen::VectorXd owed = net.dense.rowwise().sum();
  const Eigen::VectorXd owed_to = net.dense.colwise().sum().transpose();
  net.external_debt.resize(n);
  net.external_assets.resize(n);
  for (int i = 0; i < n; ++i) {
    net.external_debt[i] = 20.0 * unit(rng);
    // Balance sheet: assets = liabilities + a thin capital buffer, then a shock of up to 30% of outside assets.
    const double outside = std::max(1.0, owed[i] + net.external_debt[i] - owed_to[i] + 5.0 * unit(rng));
    net.external_assets[i] = outside * (1.0 - 0.3 * unit(rng));
  }
  return net;
}

Eigen::VectorXd interbank_receipts(const Eigen::MatrixXd& l, const Eigen::VectorXd& interbank_payments) {
  const Eigen::VectorXd owed = l.rowwise().sum();
  const Eigen::VectorXd fraction = (owed.array() > 0).select(interbank_payments.cwiseQuotient(owed), 0.0);
  return l.transpose() * fraction;
}

TEST(EisenbergNoe, ResultIsAFixedPointUnderEitherPriority) {
  for (unsigned seed = 1; seed <= 5; ++seed) {
    auto net = random_network(60, 4.0, seed);
    net.external_assets[0] = -3.0;  // a bank with outside losses: the floor matters
    const Eigen::VectorXd owed = net.dense.rowwise().sum();
    const Eigen::VectorXd pbar = owed + net.external_debt;
    const Eigen::VectorXd& e = net.external_assets;
    const Eigen::VectorXd& d = net.external_debt;

    const auto pari = eisenberg_noe(net.dense, e, d);
    ASSERT_TRUE(pari.converged);
    // p = min(pbar, max(0, e + Pi' p)) with Pi = L / pbar: interbank payments are p * owed / pbar.
    const Eigen::VectorXd pari_interbank = pari.payments.cwiseProduct(owed).cwiseQuotient(pbar);
    const Eigen::VectorXd pari_phi = (e + interbank_receipts(net.dense, pari_interbank)).cwiseMax(0.0).cwiseMin(pbar);
    for (int i = 0; i < pbar.size(); ++i) EXPECT_NEAR(pari.payments[i], pari_phi[i], 1e-10 * pbar[i]) << i;

    EisenbergNoeOptions options;
    options.external_debt_priority = DebtPriority::kSenior;
    const auto senior = eisenberg_noe(net.dense, e, d, options);
    ASSERT_TRUE(senior.converged);
    // q = max(0, p - d) solves q = min(owed, max(0, e - d + Pi_L' q)) and p = min(d, max(0, e + Pi_L' q)) + q.
    const Eigen::VectorXd q = (senior.payments - d).cwiseMax(0.0);
    const Eigen::VectorXd received = interbank_receipts(net.dense, q);
    const Eigen::VectorXd q_phi = (e - d + received).cwiseMax(0.0).cwiseMin(owed);
    const Eigen::VectorXd p_phi = (e + received).cwiseMax(0.0).cwiseMin(d) + q;
    for (int i = 0; i < pbar.size(); ++i) {
      EXPECT_NEAR(q[i], q_phi[i], 1e-10 * pbar[i]) << i;
      EXPECT_NEAR(senior.payments[i], p_phi[i], 1e-10 * pbar[i]) << i;
    }
  }
}

TEST(EisenbergNoe, EqualsTheLimitOfTheDecreasingIterationFromPbar) {
  // The iteration p <- min(pbar, max(0, e + Pi' p)) from pbar decreases to the greatest clearing vector.
  const auto net = random_network(80, 5.0, 11);
  const Eigen::VectorXd pbar = net.dense.rowwise().sum();
  const Eigen::VectorXd fraction = pbar.unaryExpr([](double x) { return x > 0 ? 1.0 / x : 0.0; });
  const Eigen::MatrixXd pi_t = (fraction.asDiagonal() * net.dense).transpose();
  Eigen::VectorXd p = pbar;
  for (int k = 0; k < 20000; ++k) p = (net.external_assets + pi_t * p).cwiseMax(0.0).cwiseMin(pbar);
  const auto r = eisenberg_noe(net.sparse, net.external_assets);
  ASSERT_GT(r.defaulted.count(), 0);
  for (int i = 0; i < p.size(); ++i) EXPECT_NEAR(r.payments[i], p[i], 1e-9 * pbar[i]) << i;
}

TEST(EisenbergNoe, MonotoneInExternalAssets) {
  const auto net = random_network(70, 5.0, 21);
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  Eigen::VectorXd richer = net.external_assets;
  for (int i = 0; i < richer.size(); ++i) richer[i] += 3.0 * unit(rng);
  for (const auto priority : {DebtPriority::kPariPassu, DebtPriority::kSenior}) {
    EisenbergNoeOptions options;
    options.external_debt_priority = priority;
    const auto poor = eisenberg_noe(net.sparse, net.external_assets, net.external_debt, options);
    const auto rich = eisenberg_noe(net.sparse, richer, net.external_debt, options);
    ASSERT_GT(poor.defaulted.count(), rich.defaulted.count());
    for (int i = 0; i < richer.size(); ++i) {
      EXPECT_GE(rich.payments[i], poor.payments[i] - 1e-12) << i;
      EXPECT_GE(rich.equity[i], poor.equity[i] - 1e-12) << i;
      EXPECT_TRUE(!rich.defaulted[i] || poor.defaulted[i]) << i;
    }
  }
}

TEST(EisenbergNoe, SeniorExternalDebtMovesLossesOntoInterbankCreditors) {
  // Senior external debt lowers every defaulter's interbank payment for given receipts (with A = e + r < pbar:
  // A - d <= A * Lbar / pbar), so interbank receipts, equity and solvency can only fall; without external debt
  // the switch changes nothing.
  for (unsigned seed = 31; seed <= 35; ++seed) {
    const auto net = random_network(60, 4.0, seed);
    EisenbergNoeOptions senior_options;
    senior_options.external_debt_priority = DebtPriority::kSenior;
    const auto pari = eisenberg_noe(net.sparse, net.external_assets, net.external_debt);
    const auto senior = eisenberg_noe(net.sparse, net.external_assets, net.external_debt, senior_options);
    const Eigen::VectorXd owed = net.dense.rowwise().sum();
    const Eigen::VectorXd pbar = owed + net.external_debt;
    const Eigen::VectorXd pari_received =
        interbank_receipts(net.dense, pari.payments.cwiseProduct(owed).cwiseQuotient(pbar));
    const Eigen::VectorXd senior_received =
        interbank_receipts(net.dense, (senior.payments - net.external_debt).cwiseMax(0.0));
    for (int i = 0; i < owed.size(); ++i) {
      EXPECT_LE(senior_received[i], pari_received[i] + 1e-10) << i;
      EXPECT_LE(senior.equity[i], pari.equity[i] + 1e-10) << i;
      EXPECT_TRUE(!pari.defaulted[i] || senior.defaulted[i]) << i;
    }

    const auto pari_no_debt = eisenberg_noe(net.sparse, net.external_assets);
    const auto senior_no_debt = eisenberg_noe(net.sparse, net.external_assets, Eigen::VectorXd(), senior_options);
    EXPECT_TRUE(pari_no_debt.payments.isApprox(senior_no_debt.payments, 1e-14));
  }
}

TEST(EisenbergNoe, DenseAndSparseAgree) {
  for (unsigned seed = 41; seed <= 44; ++seed) {
    const auto net = random_network(100, 6.0, seed);
    const Eigen::SparseMatrix<double, Eigen::RowMajor> csr = net.sparse;
    for (const auto priority : {DebtPriority::kPariPassu, DebtPriority::kSenior}) {
      EisenbergNoeOptions options;
      options.external_debt_priority = priority;
      const auto dense = eisenberg_noe(net.dense, net.external_assets, net.external_debt, options);
      const auto csc_result = eisenberg_noe(net.sparse, net.external_assets, net.external_debt, options);
      const auto csr_result = eisenberg_noe(csr, net.external_assets, net.external_debt, options);
      EXPECT_EQ(as_vector(dense.defaulted), as_vector(csc_result.defaulted));
      EXPECT_EQ(as_vector(dense.defaulted), as_vector(csr_result.defaulted));
      EXPECT_EQ(dense.iterations, csc_result.iterations);
      for (int i = 0; i < dense.payments.size(); ++i) {
        EXPECT_NEAR(dense.payments[i], csc_result.payments[i], 1e-12 * (1 + dense.payments[i])) << i;
        EXPECT_NEAR(dense.payments[i], csr_result.payments[i], 1e-12 * (1 + dense.payments[i])) << i;
        EXPECT_NEAR(dense.equity[i], csc_result.equity[i], 1e-10) << i;
      }
    }
  }
}

TEST(EisenbergNoe, BatchEqualsOneByOne) {
  const auto net = random_network(120, 8.0, 51);
  const int scenarios = 40;
  std::mt19937_64 rng(52);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  Eigen::MatrixXd shocks(net.external_assets.size(), scenarios);
  for (int s = 0; s < scenarios; ++s)
    for (int i = 0; i < shocks.rows(); ++i) shocks(i, s) = net.external_assets[i] * (1.1 - 0.5 * unit(rng)) - 0.5;
  // A row-major copy: the memory layout of the scenarios must not matter.
  const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> shocks_rm = shocks;
  for (const auto priority : {DebtPriority::kPariPassu, DebtPriority::kSenior}) {
    EisenbergNoeOptions options;
    options.external_debt_priority = priority;
    const auto sparse = eisenberg_noe_batch(net.sparse, shocks, net.external_debt, options);
    const auto dense = eisenberg_noe_batch(net.dense, shocks_rm, net.external_debt, options);
    ASSERT_TRUE(sparse.converged);
    ASSERT_TRUE(dense.converged);
    ASSERT_EQ(sparse.payments.cols(), scenarios);
    int defaults = 0;
    for (int s = 0; s < scenarios; ++s) {
      const Eigen::VectorXd e = shocks.col(s);
      const auto one = eisenberg_noe(net.sparse, e, net.external_debt, options);
      defaults += static_cast<int>(one.defaulted.count());
      const Eigen::VectorXd pbar = net.dense.rowwise().sum() + net.external_debt;
      for (int i = 0; i < e.size(); ++i) {
        EXPECT_NEAR(sparse.payments(i, s), one.payments[i], 1e-9 * pbar[i]) << i << " " << s;
        EXPECT_NEAR(dense.payments(i, s), one.payments[i], 1e-9 * pbar[i]) << i << " " << s;
      }
      EXPECT_EQ(sparse.iterations[s], dense.iterations[s]);
    }
    EXPECT_GT(defaults, scenarios);  // the shocks do cause defaults
  }
}

TEST(EisenbergNoe, BatchOfNoScenarios) {
  const auto net = random_network(10, 3.0, 61);
  const auto r = eisenberg_noe_batch(net.sparse, Eigen::MatrixXd(10, 0));
  EXPECT_EQ(r.payments.rows(), 10);
  EXPECT_EQ(r.payments.cols(), 0);
  EXPECT_TRUE(r.converged);
}

TEST(EisenbergNoe, RejectsBadInput) {
  const Eigen::MatrixXd l = neva_liabilities();
  const Eigen::Vector3d e(20, 20, 10);
  expect_invalid([&] { eisenberg_noe(Eigen::MatrixXd(3, 4), e); }, "liability matrix must be square");
  Eigen::MatrixXd negative = l;
  negative(2, 0) = -1.5;
  expect_invalid([&] { eisenberg_noe(negative, e); }, "bank 2 owes bank 0 a negative amount (-1.5)");
  Eigen::MatrixXd self = l;
  self(1, 1) = 2;
  expect_invalid([&] { eisenberg_noe(self, e); }, "bank 1 owes itself 2");
  Eigen::MatrixXd nan = l;
  nan(0, 1) = std::numeric_limits<double>::quiet_NaN();
  expect_invalid([&] { eisenberg_noe(nan, e); }, "liability of bank 0 to bank 1 is not a finite number");
  expect_invalid([&] { eisenberg_noe(l, Eigen::Vector2d(1, 2)); },
                 "external assets must have one entry per bank: got 2, expected 3");
  expect_invalid([&] { eisenberg_noe(l, e, Eigen::Vector3d(1, -3, 0)); }, "external debt of bank 1 is negative (-3)");
  Eigen::SparseMatrix<double> sparse_negative = negative.sparseView();
  expect_invalid([&] { eisenberg_noe(sparse_negative, e); }, "bank 2 owes bank 0 a negative amount");
  expect_invalid([&] { eisenberg_noe_batch(l, Eigen::MatrixXd::Ones(2, 5)); },
                 "external assets must have one row per bank (one column per scenario): got 2 rows, expected 3");
  Eigen::MatrixXd shocks = Eigen::MatrixXd::Ones(3, 12);
  shocks(1, 10) = std::numeric_limits<double>::infinity();
  expect_invalid([&] { eisenberg_noe_batch(l, shocks); },
                 "external assets of bank 1 in scenario 10 is not a finite number");
  EisenbergNoeOptions bad;
  bad.max_iterations = 0;
  expect_invalid([&] { eisenberg_noe(l, e, Eigen::VectorXd(), bad); }, "max_iterations must be >= 1");
}

// ---------------------------------------------------------------- Rogers-Veraart

TEST(RogersVeraart, DefaultCostsSpreadTheDefault) {
  // NEVA network (see above), e = (18, 17.5, 9), pari passu external debt, alpha = 0.5, beta = 0.8.
  // Round 1 at p = pbar = (21, 21, 10): e + Pi' p = (20, 21.5, 12): insolvent {0}.
  //   p0 = alpha * 18 + beta * 0.2 * p2 = 9 + 0.16 * 10 = 10.6.
  // Round 2 at p = (10.6, 21, 10): bank 1 gets 4/21 * 10.6 = 2.019 and 17.5 + 2.019 < 21: insolvent {0, 1}.
  //   p0 = 10.6 as before; p1 = 0.5 * 17.5 + 0.8 * 4/21 * 10.6 = 8.75 + 33.92/21 = 10.3652...
  // Round 3: bank 2 gets 3/21 * 10.3652 = 1.4807 and 9 + 1.4807 >= 10: the insolvent set is unchanged, stop.
  // Without default costs (Eisenberg-Noe) the clearing vector is (20, 21, 10) and bank 1 survives: the costs
  // of bank 0's default bring bank 1 down.
  const auto r = rogers_veraart(neva_liabilities(), Eigen::Vector3d(18, 17.5, 9), 0.5, 0.8, neva_external_debt());
  EXPECT_TRUE(r.converged);
  EXPECT_EQ(r.iterations, 3);
  EXPECT_NEAR(r.payments[0], 10.6, 1e-12);
  EXPECT_NEAR(r.payments[1], 8.75 + 33.92 / 21, 1e-12);
  EXPECT_DOUBLE_EQ(r.payments[2], 10);
  EXPECT_NEAR(r.equity[2], 9 + 3.0 / 21 * (8.75 + 33.92 / 21) - 10, 1e-12);
  EXPECT_EQ(as_vector(r.defaulted), (std::vector<bool>{true, true, false}));

  const auto en = eisenberg_noe(neva_liabilities(), Eigen::Vector3d(18, 17.5, 9), neva_external_debt());
  EXPECT_LT(r.payments[0], en.payments[0]);
  EXPECT_LT(r.payments[1], en.payments[1]);
  EXPECT_EQ(as_vector(en.defaulted), (std::vector<bool>{true, false, false}));
}

TEST(RogersVeraart, NoDefaultCostsIsEisenbergNoe) {
  for (unsigned seed = 71; seed <= 74; ++seed) {
    const auto net = random_network(80, 5.0, seed);
    const auto rv = rogers_veraart(net.sparse, net.external_assets, 1.0, 1.0, net.external_debt);
    const auto en = eisenberg_noe(net.sparse, net.external_assets, net.external_debt);
    EXPECT_EQ(as_vector(rv.defaulted), as_vector(en.defaulted));
    for (int i = 0; i < rv.payments.size(); ++i) EXPECT_NEAR(rv.payments[i], en.payments[i], 1e-9) << i;
  }
}

TEST(RogersVeraart, ClearsWithCostsAndNeverPaysMoreThanEisenbergNoe) {
  for (unsigned seed = 81; seed <= 84; ++seed) {
    const auto net = random_network(80, 5.0, seed);
    const double alpha = 0.6;
    const double beta = 0.9;
    const auto rv = rogers_veraart(net.dense, net.external_assets, alpha, beta, net.external_debt);
    const auto rv_sparse = rogers_veraart(net.sparse, net.external_assets, alpha, beta, net.external_debt);
    const auto en = eisenberg_noe(net.dense, net.external_assets, net.external_debt);
    const Eigen::VectorXd owed = net.dense.rowwise().sum();
    const Eigen::VectorXd pbar = owed + net.external_debt;
    const Eigen::VectorXd received = interbank_receipts(net.dense, rv.payments.cwiseProduct(owed).cwiseQuotient(pbar));
    for (int i = 0; i < pbar.size(); ++i) {
      const double value = net.external_assets[i] + received[i];
      // The Rogers-Veraart clearing condition.
      if (value >= pbar[i]) {
        EXPECT_FALSE(rv.defaulted[i]) << i;
        EXPECT_DOUBLE_EQ(rv.payments[i], pbar[i]) << i;
      } else {
        EXPECT_TRUE(rv.defaulted[i]) << i;
        EXPECT_NEAR(rv.payments[i], alpha * net.external_assets[i] + beta * received[i], 1e-10 * pbar[i]) << i;
      }
      EXPECT_LE(rv.payments[i], en.payments[i] + 1e-10) << i;
      EXPECT_NEAR(rv_sparse.payments[i], rv.payments[i], 1e-10 * pbar[i]) << i;
      EXPECT_TRUE(!en.defaulted[i] || rv.defaulted[i]) << i;
    }
  }
}

TEST(RogersVeraart, RejectsBadInput) {
  const Eigen::MatrixXd l = neva_liabilities();
  expect_invalid([&] { rogers_veraart(l, Eigen::Vector3d(1, 1, 1), 1.5, 0.5); },
                 "alpha (the share of external assets realised in default) must be in [0, 1], got 1.5");
  expect_invalid([&] { rogers_veraart(l, Eigen::Vector3d(1, 1, 1), 0.5, -0.1); }, "beta");
  expect_invalid([&] { rogers_veraart(l, Eigen::Vector3d(1, -1, 1), 0.5, 0.5); },
                 "external assets of bank 1 is negative (-1)");
}

// ---------------------------------------------------------------- DebtRank

// The example of the NetworkRiskMeasures R package (Cinelli and Silva; README and ?debt_rank): assets
// matrix rows a: (0, 1, 0), b: (10, 0, 3), c: (3, 2, 0) (row holds a claim on column), capital buffers
// (2, 5, 2), sizes (10, 100, 30). Impact W(i, j) = min(1, claim of j on i / buffer of j):
// W(a, b) = min(1, 10/5) = 1, W(a, c) = min(1, 3/2) = 1, W(b, a) = 1/2, W(b, c) = 2/2 = 1, W(c, b) = 3/5.
Eigen::MatrixXd nrm_impact() {
  Eigen::MatrixXd w(3, 3);
  w << 0, 1, 1,   //
      0.5, 0, 1,  //
      0, 0.6, 0;
  return w;
}
Eigen::VectorXd nrm_sizes() { return Eigen::Vector3d(10, 100, 30); }

TEST(DebtRank, SingleHitMatchesNetworkRiskMeasuresExample) {
  // Published "Additional Stress" per stressed vertex: a 0.9285714, c 0.6642857, b 0.25 (README of
  // carloscinelli/NetworkRiskMeasures, debt_rank(assets_matrix, buffer, weights)). By hand, for c:
  //   t1: c distressed (1): h_b = 0.6. t2: b distressed: h_a = 0.5 * 0.6 = 0.3, h_c stays 1.
  //   t3: a distressed: h_b = 0.6 + 1 * 0.3 = 0.9 (b already spent its turn). R = (0.3 * 10 + 0.9 * 100) / 140.
  const auto a = debtrank(nrm_impact(), Eigen::Vector3d(1, 0, 0), nrm_sizes());
  EXPECT_NEAR(a.debtrank, 0.9285714, 5e-8);
  EXPECT_EQ(a.distress, Eigen::Vector3d(1, 1, 1));
  const auto b = debtrank(nrm_impact(), Eigen::Vector3d(0, 1, 0), nrm_sizes());
  EXPECT_NEAR(b.debtrank, 0.25, 1e-15);
  EXPECT_TRUE(b.distress.isApprox(Eigen::Vector3d(0.5, 1, 1)));
  const auto c = debtrank(nrm_impact(), Eigen::Vector3d(0, 0, 1), nrm_sizes());
  EXPECT_NEAR(c.debtrank, (0.3 * 10 + 0.9 * 100) / 140, 1e-15);
  EXPECT_NEAR(c.debtrank, 0.6642857, 5e-8);
  EXPECT_NEAR(c.distress[0], 0.3, 1e-15);
  EXPECT_NEAR(c.distress[1], 0.9, 1e-15);
  EXPECT_EQ(c.iterations, 3);
  EXPECT_TRUE(c.converged);
}

TEST(DebtRank, SingleHitTenPercentShockMatchesNetworkRiskMeasures) {
  // Same README, debt_rank_shock with 10% on every bank: final stress (0.15, 0.26, 0.30), additional stress
  // 16.07%. By hand, all three propagate once: h_a = 0.1 + 0.5 * 0.1, h_b = 0.1 + 1 * 0.1 + 0.6 * 0.1,
  // h_c = 0.1 + 0.1 + 0.1; R = (0.05 * 10 + 0.16 * 100 + 0.2 * 30) / 140 = 22.5 / 140.
  const auto r = debtrank(nrm_impact(), Eigen::Vector3d(0.1, 0.1, 0.1), nrm_sizes());
  EXPECT_NEAR(r.distress[0], 0.15, 1e-15);
  EXPECT_NEAR(r.distress[1], 0.26, 1e-15);
  EXPECT_NEAR(r.distress[2], 0.30, 1e-15);
  EXPECT_NEAR(r.debtrank, 22.5 / 140, 1e-15);
  EXPECT_EQ(r.iterations, 1);
}

TEST(DebtRank, CycleSingleHitAndLinearByHand) {
  // Cycle a -> b -> c -> a with impact 0.5, h0 = (0.2, 0, 0), equal weights.
  // Single hit: t1 h_b = 0.1; t2 h_c = 0.05; t3 h_a = 0.2 + 0.025 = 0.225 (a already spent its turn): stop.
  //   R = (0.025 + 0.1 + 0.05) / 3.
  // Linear: no cap is reached, so h = sum_k (W')^k h0 = (I - W')^-1 h0; around the cycle (W')^3 = 0.125 I,
  //   h_a = 0.2 / (1 - 0.125) = 8/35, h_b = h_a / 2, h_c = h_a / 4; R = (h_a + h_b + h_c - 0.2) / 3 = 0.2 / 3.
  Eigen::MatrixXd w = Eigen::MatrixXd::Zero(3, 3);
  w(0, 1) = w(1, 2) = w(2, 0) = 0.5;
  const Eigen::Vector3d h0(0.2, 0, 0);
  const auto single = debtrank(w, h0);
  EXPECT_NEAR(single.distress[0], 0.225, 1e-15);
  EXPECT_NEAR(single.distress[1], 0.1, 1e-15);
  EXPECT_NEAR(single.distress[2], 0.05, 1e-15);
  EXPECT_NEAR(single.debtrank, 0.175 / 3, 1e-15);
  EXPECT_EQ(single.iterations, 3);

  DebtRankOptions linear;
  linear.variant = DebtRankVariant::kLinear;
  const auto lin = debtrank(w, h0, Eigen::VectorXd(), linear);
  EXPECT_TRUE(lin.converged);
  EXPECT_NEAR(lin.distress[0], 8.0 / 35, 1e-13);
  EXPECT_NEAR(lin.distress[1], 4.0 / 35, 1e-13);
  EXPECT_NEAR(lin.distress[2], 2.0 / 35, 1e-13);
  EXPECT_NEAR(lin.debtrank, 0.2 / 3, 1e-13);
}

TEST(DebtRank, ChainIsTheSameForBothVariantsAndCapsAtOne) {
  // Chain a -> b -> c, W(a, b) = 0.5, W(b, c) = 0.4, h0 = (0.6, 0, 0): each bank is hit once, so both variants
  // give h = (0.6, 0.3, 0.12); with sizes (1, 2, 1): R = (0.3 * 2 + 0.12 * 1) / 4 = 0.18.
  Eigen::MatrixXd w = Eigen::MatrixXd::Zero(3, 3);
  w(0, 1) = 0.5;
  w(1, 2) = 0.4;
  DebtRankOptions linear;
  linear.variant = DebtRankVariant::kLinear;
  for (const auto& options : {DebtRankOptions{}, linear}) {
    const auto r = debtrank(w, Eigen::Vector3d(0.6, 0, 0), Eigen::Vector3d(1, 2, 1), options);
    EXPECT_NEAR(r.distress[1], 0.3, 1e-15);
    EXPECT_NEAR(r.distress[2], 0.12, 1e-15);
    EXPECT_NEAR(r.debtrank, 0.18, 1e-15);
  }
  // An impact above 1 (linear DebtRank does not cap W): 2 * 0.8 caps at 1, and c gets 0.4 * 1.
  w(0, 1) = 2.0;
  const auto capped = debtrank(w, Eigen::Vector3d(0.8, 0, 0), Eigen::VectorXd(), linear);
  EXPECT_DOUBLE_EQ(capped.distress[1], 1.0);
  EXPECT_NEAR(capped.distress[2], 0.4, 1e-15);
}

TEST(DebtRank, LinearPropagatesAtLeastAsMuchAsSingleHit) {
  // Single hit passes on h(i) at the round i first becomes distressed; linear passes on every later increase.
  DebtRankOptions linear;
  linear.variant = DebtRankVariant::kLinear;
  for (int shocked = 0; shocked < 3; ++shocked) {
    Eigen::Vector3d h0 = Eigen::Vector3d::Zero();
    h0[shocked] = 0.3;
    const auto single = debtrank(nrm_impact(), h0, nrm_sizes());
    const auto lin = debtrank(nrm_impact(), h0, nrm_sizes(), linear);
    EXPECT_GE(lin.debtrank, single.debtrank - 1e-15);
    for (int i = 0; i < 3; ++i) EXPECT_GE(lin.distress[i], single.distress[i] - 1e-15);
  }
}

TEST(DebtRank, RejectsBadInput) {
  expect_invalid([&] { debtrank(Eigen::MatrixXd::Zero(2, 3), Eigen::Vector2d(0, 0)); }, "impact matrix must be square");
  Eigen::MatrixXd w = Eigen::MatrixXd::Zero(2, 2);
  w(1, 0) = -0.1;
  expect_invalid([&] { debtrank(w, Eigen::Vector2d(0, 0)); }, "impact of bank 1 on bank 0 must be a non-negative");
  expect_invalid([&] { debtrank(Eigen::MatrixXd::Zero(2, 2), Eigen::Vector2d(1.5, 0)); },
                 "initial distress of bank 0 is 1.5");
  expect_invalid([&] { debtrank(Eigen::MatrixXd::Zero(2, 2), Eigen::Vector3d(0, 0, 0)); },
                 "initial distress must have one entry per bank: got 3, expected 2");
  expect_invalid([&] { debtrank(Eigen::MatrixXd::Zero(2, 2), Eigen::Vector2d(0, 0), Eigen::Vector2d(0, 0)); },
                 "economic values must not all be zero");
}

TEST(DebtRank, ThreeBanksByHandFromTheDefinition) {
  // Battiston, Puliga, Kaushik, Tasca, Caldarelli, "DebtRank: Too Central to Fail? Financial Networks, the FED
  // and Systemic Risk", Sci. Rep. 2:541 (2012), Methods: the impact of i on j is min(1, exposure of j to i /
  // equity of j); h_j(t) = min(1, h_j(t-1) + sum over the banks i distressed (D) at t-1 of W_ij h_i(t-1)); a bank
  // is D in the round after its distress first appears and inactive from then on; R = sum_j v_j (h_j(T) - h_j(1))
  // with v the relative economic value (share of total assets).
  // Banks a, b, c with equity (10, 4, 5) and total assets (100, 60, 40), so v = (0.5, 0.3, 0.2). Exposures:
  // b to a 6, c to a 2, c to b 3, a to c 4. W(a, b) = min(1, 6/4) = 1, W(a, c) = 2/5, W(b, c) = 3/5, W(c, a) = 4/10.
  Eigen::MatrixXd w = Eigen::MatrixXd::Zero(3, 3);
  w(0, 1) = std::min(1.0, 6.0 / 4);
  w(0, 2) = 2.0 / 5;
  w(1, 2) = 3.0 / 5;
  w(2, 0) = 4.0 / 10;
  const Eigen::Vector3d value(100, 60, 40);
  // h(1) = (0.2, 0, 0.1), a and c distressed.
  // t2: h_a = 0.2 + 0.4 * 0.1 = 0.24, h_b = 0 + 1 * 0.2 = 0.2, h_c = 0.1 + 0.4 * 0.2 = 0.18; b becomes D.
  // t3: b passes on 0.2: h_c = 0.18 + 0.6 * 0.2 = 0.30 (c already spent its turn); nobody is D: stop.
  // R = 0.5 * 0.04 + 0.3 * 0.2 + 0.2 * 0.2 = 0.12, after 2 rounds.
  const Eigen::Vector3d h0(0.2, 0, 0.1);
  const auto single = debtrank(w, h0, value);
  EXPECT_NEAR(single.distress[0], 0.24, 1e-15);
  EXPECT_NEAR(single.distress[1], 0.2, 1e-15);
  EXPECT_NEAR(single.distress[2], 0.30, 1e-15);
  EXPECT_NEAR(single.debtrank, 0.12, 1e-15);
  EXPECT_EQ(single.iterations, 2);
  // Default of a, h(1) = (1, 0, 0). t2: h_b = 1, h_c = 0.4; t3: b and c pass on 1 and 0.4: h_c = 0.4 + 0.6 = 1,
  // h_a = min(1, 1 + 0.4 * 0.4) = 1. R = 0.3 * 1 + 0.2 * 1 = 0.5.
  const auto failure = debtrank(w, Eigen::Vector3d(1, 0, 0), value);
  EXPECT_NEAR(failure.distress[2], 1.0, 1e-15);
  EXPECT_NEAR(failure.debtrank, 0.5, 1e-15);
  // Linear DebtRank (Bardoscia, Battiston, Caccioli, Caldarelli 2015, PLoS ONE 10(6):e0130406): every increase
  // propagates; while no bank reaches 1 the limit solves h = h0 + W' h: h_a = 0.2 + 0.4 h_c, h_b = h_a,
  // h_c = 0.1 + 0.4 h_a + 0.6 h_b = 0.1 + h_a, so 0.6 h_a = 0.24: h = (0.4, 0.4, 0.5) (below 1: the cap never
  // binds on the increasing iterates). R = 0.5 * 0.2 + 0.3 * 0.4 + 0.2 * 0.4 = 0.30.
  DebtRankOptions linear;
  linear.variant = DebtRankVariant::kLinear;
  const auto lin = debtrank(w, h0, value, linear);
  EXPECT_TRUE(lin.converged);
  EXPECT_NEAR(lin.distress[0], 0.4, 1e-13);
  EXPECT_NEAR(lin.distress[1], 0.4, 1e-13);
  EXPECT_NEAR(lin.distress[2], 0.5, 1e-13);
  EXPECT_NEAR(lin.debtrank, 0.30, 1e-13);
}

// A random impact matrix with ~`degree` links per bank, impacts U(0, max_impact) (above 1 allowed: the linear
// variant does not cap W), and `shocks` columns of initial distress: a few banks hit U(0, 1) each, one column
// with a single default and one with no distress at all.
struct RandomDebtRankCase {
  Eigen::SparseMatrix<double> impact;
  Eigen::MatrixXd h0;
  Eigen::VectorXd value;
};

RandomDebtRankCase random_debtrank_case(Eigen::Index n, double degree, double max_impact, Eigen::Index shocks,
                                        unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<Eigen::Triplet<double>> links;
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < n; ++j)
      if (i != j && unit(rng) < degree / static_cast<double>(n - 1)) links.emplace_back(i, j, max_impact * unit(rng));
  RandomDebtRankCase c;
  c.impact.resize(n, n);
  c.impact.setFromTriplets(links.begin(), links.end());
  c.h0 = Eigen::MatrixXd::Zero(n, shocks);
  for (Eigen::Index s = 0; s < shocks; ++s)
    for (Eigen::Index i = 0; i < n; ++i)
      if (unit(rng) < 0.05) c.h0(i, s) = unit(rng);
  c.h0.col(0).setZero();
  c.h0(static_cast<Eigen::Index>(seed) % n, 1) = 1.0;
  c.value = (Eigen::ArrayXd::Random(n) + 1.5).matrix();
  return c;
}

DebtRankOptions variant(bool linear) {
  DebtRankOptions options;
  options.variant = linear ? DebtRankVariant::kLinear : DebtRankVariant::kSingleHit;
  return options;
}

TEST(DebtRank, SparseEqualsDenseOnRandomNetworks) {
  for (unsigned seed = 1; seed <= 6; ++seed) {
    const auto c = random_debtrank_case(80, 5.0, seed % 2 == 0 ? 1.2 : 0.5, 5, seed);
    const Eigen::MatrixXd dense(c.impact);
    const Eigen::SparseMatrix<double, Eigen::RowMajor> rows(c.impact);
    for (const bool linear : {false, true}) {
      for (Eigen::Index s = 0; s < c.h0.cols(); ++s) {
        const Eigen::VectorXd h0 = c.h0.col(s);
        const auto d = debtrank(dense, h0, c.value, variant(linear));
        const auto by_column = debtrank(c.impact, h0, c.value, variant(linear));
        const auto by_row = debtrank(rows, h0, c.value, variant(linear));
        for (const auto* r : {&by_column, &by_row}) {
          EXPECT_LE((r->distress - d.distress).cwiseAbs().maxCoeff(), 1e-12) << seed << " " << s;
          EXPECT_NEAR(r->debtrank, d.debtrank, 1e-12) << seed << " " << s;
          EXPECT_EQ(r->iterations, d.iterations) << seed << " " << s;
          EXPECT_TRUE(r->converged);
        }
        if (s == 0) {
          EXPECT_EQ(d.debtrank, 0.0);  // no distress
        } else if (s == 1) {
          EXPECT_GT(d.debtrank, 0.0);  // a default spreads
        }
      }
    }
  }
}

TEST(DebtRank, BatchEqualsOneShockAtATime) {
  // 21 shocks: more than the lanes that run side by side and not a multiple of them, so lanes take new shocks
  // while others are still running. Each column is exactly the one-shock result.
  const auto c = random_debtrank_case(120, 5.0, 0.9, 21, 11);
  for (const bool linear : {false, true}) {
    const auto batch = debtrank_batch(c.impact, c.h0, c.value, variant(linear));
    ASSERT_EQ(batch.distress.rows(), 120);
    ASSERT_EQ(batch.distress.cols(), 21);
    EXPECT_TRUE(batch.converged);
    const auto dense = debtrank_batch(Eigen::MatrixXd(c.impact), c.h0, c.value, variant(linear));
    EXPECT_EQ(dense.distress, batch.distress);
    for (Eigen::Index s = 0; s < c.h0.cols(); ++s) {
      const auto one = debtrank(c.impact, Eigen::VectorXd(c.h0.col(s)), c.value, variant(linear));
      EXPECT_EQ(batch.distress.col(s), one.distress) << s;
      EXPECT_EQ(batch.debtrank[s], one.debtrank) << s;
      EXPECT_EQ(batch.iterations[s], one.iterations) << s;
    }
    EXPECT_EQ(batch.iterations[0], linear ? 1 : 0);  // no distress: nothing to propagate
    EXPECT_EQ(batch.debtrank[0], 0.0);
  }
}

TEST(DebtRank, BatchReportsTheIterationLimitPerShock) {
  // Chain 0 -> 1 -> 2 -> 3, single hit: a shock on bank 0 distresses banks 1, 2, 3 in rounds 1, 2, 3 and
  // ends in round 4 (bank 3 passes on nothing); a shock on bank 2 ends in round 2. With at most 3 rounds the
  // first stops with bank 3 still to spread (not converged), the second converges.
  Eigen::MatrixXd w = Eigen::MatrixXd::Zero(4, 4);
  w(0, 1) = w(1, 2) = w(2, 3) = 0.5;
  Eigen::MatrixXd h0 = Eigen::MatrixXd::Zero(4, 2);
  h0(0, 0) = h0(2, 1) = 1.0;
  DebtRankOptions options;
  options.max_iterations = 3;
  const auto capped = debtrank_batch(w, h0, Eigen::VectorXd(), options);
  EXPECT_FALSE(capped.converged);
  EXPECT_EQ(capped.iterations, Eigen::Vector2i(3, 2));
  EXPECT_EQ(capped.distress.col(0), Eigen::Vector4d(1, 0.5, 0.25, 0.125));
  EXPECT_EQ(capped.distress.col(1), Eigen::Vector4d(0, 0, 1, 0.5));
  const auto full = debtrank_batch(w, h0);
  EXPECT_TRUE(full.converged);
  EXPECT_EQ(full.iterations, Eigen::Vector2i(4, 2));
  EXPECT_EQ(full.distress, capped.distress);
  EXPECT_FALSE(debtrank(w, Eigen::Vector4d(1, 0, 0, 0), Eigen::VectorXd(), options).converged);
  EXPECT_TRUE(debtrank(w, Eigen::Vector4d(0, 0, 1, 0), Eigen::VectorXd(), options).converged);
}

TEST(DebtRank, BatchRejectsBadInput) {
  const Eigen::MatrixXd w = Eigen::MatrixXd::Zero(2, 2);
  expect_invalid([&] { debtrank_batch(w, Eigen::MatrixXd::Zero(3, 4)); },
                 "initial distress must have one row per bank (one column per shock): got 3 rows, expected 2");
  Eigen::MatrixXd h0 = Eigen::MatrixXd::Zero(2, 3);
  h0(1, 2) = 1.25;
  expect_invalid([&] { debtrank_batch(w, h0); }, "initial distress of bank 1 in shock 2 is 1.25");
  h0(1, 2) = std::numeric_limits<double>::quiet_NaN();
  expect_invalid([&] { debtrank_batch(w, h0); }, "initial distress of bank 1 in shock 2 is not a finite number");
  Eigen::SparseMatrix<double> negative(2, 2);
  negative.insert(0, 1) = -0.5;
  expect_invalid([&] { debtrank_batch(negative, Eigen::MatrixXd::Zero(2, 1)); },
                 "impact of bank 0 on bank 1 must be a non-negative number, got -0.5");
  expect_invalid([&] { debtrank(Eigen::SparseMatrix<double>(2, 3), Eigen::Vector2d(0, 0)); },
                 "impact matrix must be square");
}

}  // namespace test_clearing
}  // namespace ccpnet::models
