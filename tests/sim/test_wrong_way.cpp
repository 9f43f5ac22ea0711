// Wrong-way risk tied to each member's own book (defaults.latent.factor:
// own_book). In the one-factor model of Vasicek (1987, 2002, "The
// distribution of loan portfolio value") member m defaults when
//   beta F + sqrt(1 - beta^2) eps_m < Phi^-1(PD_m);
// with the market factor every member loads on the same F, so shorts
// default in a fall as often as longs; with its own book F_m is the member's
// P&L over the period over its standard deviation (the general wrong-way
// risk of Basel CRE53 tied to the exposure itself), so a member defaults
// more when its own positions lose, and its unconditional PD is PD_m when
// F_m is standard normal (E[Phi((t - beta F) / sqrt(1 - beta^2))] = Phi(t)).
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <string>

#include "sim/config/load.hpp"
#include "sim/model.hpp"
#include "sim/runner.hpp"

namespace ccpnet {
namespace test_wrong_way {

// One asset X (price 100, volatility 80% a year over 365 days), MPOR 2 days,
// Gaussian moves. L1..L4 long 10 X, S1..S4 short 10 X, capital far beyond
// any move: only the latent model defaults them.
std::string book_file(double beta, const std::string& factor) {
  std::string yaml = R"(name: wrong-way risk of the own book
market:
  assets: [{id: X, price: 100, volatility: 0.8}]
ccps:
  - {id: A, capital: 1e9, margin: {model: parametric, mpor_days: 2}, default_fund: {sizing: fixed, amount: 1e6}}
members:
)";
  for (int i = 1; i <= 4; ++i) {
    yaml += "  - {id: L" + std::to_string(i) + ", capital: 1e9, liquidity: 1e9, positions: {A: {X: 10}}}\n";
    yaml += "  - {id: S" + std::to_string(i) + ", capital: 1e9, liquidity: 1e9, positions: {A: {X: -10}}}\n";
  }
  yaml += "defaults: {latent: {pd: 0.05, beta: " + std::to_string(beta) + ", factor: " + factor + "}}\n";
  return yaml;
}

Model model_of(const std::string& yaml) { return build_model(config::load_scenario_text(yaml, "t.yaml")); }

bool is_long(const Model& model, int member) { return model.members[static_cast<std::size_t>(member)].id[0] == 'L'; }

TEST(WrongWay, TheBookSdIsTheDeltaNormalSdOverTheMpor) {
  // 10 X x 100 x 0.8 / sqrt(365) x sqrt(2) = 59.2196...
  const Model model = model_of(book_file(0.5, "own_book"));
  EXPECT_NEAR(model.members[0].book_sd, 1000.0 * 0.8 / std::sqrt(365.0) * std::sqrt(2.0), 1e-9);
  EXPECT_TRUE(model.latent_own_book);
}

TEST(WrongWay, WithBetaOneAMemberDefaultsExactlyWhenItsOwnBookLosesBeyondItsQuantile) {
  // beta = 1: no idiosyncratic part, member m defaults iff F_m < Phi^-1(0.05)
  // = -1.6449. The market factor of a one-asset Gaussian scenario is the
  // standardised sum of the two days' normal drivers, so X's log-return over
  // the MPOR is r = sigma_day sqrt(2) F, the long's P&L 1000 (e^r - 1) and
  // the short's its negative: the long defaults iff 1000 (e^r - 1) / sd <
  // -1.6449, the short iff -1000 (e^r - 1) / sd < -1.6449.
  const Model model = model_of(book_file(1.0, "own_book"));
  const double sigma = 0.8 / std::sqrt(365.0), sd = 1000.0 * sigma * std::sqrt(2.0), t = -1.6448536269514729;
  int long_defaults = 0, short_defaults = 0;
  for (std::int64_t i = 0; i < 3000; ++i) {
    const ScenarioResult r = run_scenario(model, i);
    const double pnl_long = 1000.0 * std::expm1(sigma * std::sqrt(2.0) * r.market_factor);
    const bool long_expected = pnl_long / sd < t, short_expected = -pnl_long / sd < t;
    int longs = 0, shorts = 0;
    for (const MemberDefault& d : r.defaults) (is_long(model, d.member) ? longs : shorts) += 1;
    ASSERT_EQ(longs, long_expected ? 4 : 0) << "scenario " << i << ", F " << r.market_factor;
    ASSERT_EQ(shorts, short_expected ? 4 : 0) << "scenario " << i << ", F " << r.market_factor;
    long_defaults += longs;
    short_defaults += shorts;
  }
  EXPECT_GT(long_defaults, 0);
  EXPECT_GT(short_defaults, 0);
}

TEST(WrongWay, OwnBookKeepsThePdAndPutsTheDefaultsOnTheLosingSide) {
  // beta 0.8 over 8,000 scenarios. Unconditional default rate: 5% (the
  // mixture integrates to the PD; the P&L is e^r - 1, nearly normal at a 6%
  // sd). In the scenarios where X falls, the longs default far more than the
  // shorts with the own book; with the market factor both sides alike.
  const auto rates = [](const std::string& factor) {
    const Model model = model_of(book_file(0.8, factor));
    double all = 0, long_fall = 0, short_fall = 0, falls = 0;
    const int n = 8000;
    for (std::int64_t i = 0; i < n; ++i) {
      const ScenarioResult r = run_scenario(model, i);
      const bool fall = r.market_factor < 0.0;
      falls += fall;
      for (const MemberDefault& d : r.defaults) {
        all += 1;
        if (fall) (is_long(model, d.member) ? long_fall : short_fall) += 1;
      }
    }
    return std::array<double, 3>{all / (8.0 * n), long_fall / (4.0 * falls), short_fall / (4.0 * falls)};
  };
  const auto own = rates("own_book");
  EXPECT_NEAR(own[0], 0.05, 0.012);
  EXPECT_GT(own[1], 4.0 * own[2]);  // in falls the longs default, not the shorts
  const auto market = rates("market");
  EXPECT_NEAR(market[0], 0.05, 0.012);
  EXPECT_NEAR(market[1] / market[2], 1.0, 0.2);  // the market factor does not see the side
}

}  // namespace test_wrong_way
}  // namespace ccpnet
