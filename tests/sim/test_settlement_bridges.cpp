// Bridges and IM posted in a collateral asset in time steps (sim/settlement.hpp,
// "Time steps").
//
// Bridges. An exploit drains what the bridge holds at that moment, and the
// bridge is then paused: the Ronin bridge (March 2022, 173,600 ETH and 25.5m
// USDC) was frozen once the theft was found, six days after it; Wormhole
// (February 2022, 120,000 wETH minted without backing) and Nomad (August
// 2022, drained by copycats within hours) were halted the same day; Ronin
// again in August 2024 was paused 40 minutes after the first on-chain action.
// So in daily steps the exploit happens on one day: the VM gains and
// deliveries in flight through the bridge that day are lost (less the
// recovery rate), the gains of the days before had arrived; collateral held
// through it (IM and default-fund contributions) is lost that day, the IM
// called again (CPMI-IOSCO PFMI Principle 5: collateral must keep its value;
// Principle 16: custody risk), the fund stays depleted.
//
// Collateral assets. A CCP marks its non-cash collateral to market "on a near
// to real time basis" (EMIR RTS 153/2013 art. 40(2)) with haircuts (art. 41)
// and calls the shortfall (PFMI Principle 5, key consideration 2: haircuts
// and margin calls on daily valuation): IM of 1,000 posted half in cash, half
// in ETH at a 20% haircut (625 of ETH, credited 500) falls to 450 credited
// after ETH -10% (call 50), then to 405 after 10% more, of which 50 was topped
// up in cash: call 45.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <string>

#include "sim/config/load.hpp"
#include "sim/model.hpp"
#include "sim/output.hpp"
#include "sim/report.hpp"
#include "sim/runner.hpp"
#include "sim/settlement.hpp"
#include "sim/shocks.hpp"
#include "sim/stress.hpp"
#include "step_paths.hpp"

namespace ccpnet {
namespace test_settlement_bridges {

Model model_of(std::string_view yaml, std::vector<config::Override> overrides = {}) {
  return build_model(config::load_scenario_text(yaml, "t.yaml", std::move(overrides)));
}

// H long 10 BTC and S short 10 BTC at venue V, which pays VM over bridge wb
// (final after 0.1 + 0.2 hours: in time for the 1-hour deadline); H is also
// short 1 BTC at A, which settles instantly. BTC 100 -> 110 -> 121: H gains
// 100 on day 1 and 110 on day 2 at V, S pays them.
constexpr std::string_view kBridgeDays = R"(name: bridge exploit day by day
simulation: {horizon_days: 2, step_days: 1}
market:
  assets: [{id: BTC, price: 100, volatility: 0.5, chain: solana}]
  stress_scenarios:
    - {name: exploit on day 2, path: [{BTC: 0.1}, {BTC: 0.1}], exploited_bridges: [wb], exploit_day: 2}
    - {name: exploit on day 1, path: [{BTC: 0.1}, {BTC: 0.1}], exploited_bridges: [wb]}
    - {name: no exploit, path: [{BTC: 0.1}, {BTC: 0.1}]}
settlement:
  chains: [{id: solana, finality: {distribution: fixed, mean_hours: 0.1}}]
  bridges: [{id: wb, exploit_probability: 0.01, recovery_rate: 0.2, delay_hours: 0.2}]
ccps:
  - id: V
    capital: 1000
    margin: {model: parametric, mpor_days: 1}
    default_fund: {sizing: fixed, amount: 100}
    settlement: {mode: bridge, chain: solana, bridge: wb, deadline_hours: 1, in_flight: 0}
    imbalance: rest_of_market
  - id: A
    capital: 1000
    margin: {model: parametric, mpor_days: 1}
    default_fund: {sizing: fixed, amount: 0}
    settlement: {mode: instant, deadline_hours: 1}
    imbalance: rest_of_market
members:
  - {id: H, capital: 1000, liquidity: 1000, positions: {V: {BTC: 10}, A: {BTC: -1}}, initial_margin: {V: 50, A: 10},
     default_fund: {V: 50}}
  - {id: S, capital: 1000, liquidity: 230, positions: {V: {BTC: -10}}, initial_margin: {V: 50}, default_fund: {V: 50}}
)";

ScenarioResult stress_of(const Model& model, std::size_t s) {
  return run_move(model, stress_move(model, model.stress_scenarios[s]), nullptr, &model.stress_scenarios[s]);
}

double lost(const ScenarioResult& r) { return r.settlement.get(0, CcpSettleMetric::kPrincipalLost); }

TEST(SettlementBridges, AnExploitOnDayTwoLosesDayTwosGainInFlightNotDayOnes) {
  // Recovery 20%: day 2's gain of 110 in flight loses 88; on day 1 it would
  // have been 100 x 0.8 = 80 (day 2's then settles over the paused-and-back
  // bridge); no exploit, nothing. No collateral held through the bridge here.
  const Model model = model_of(kBridgeDays);
  ASSERT_EQ(model.steps.count, 2);
  const ScenarioResult day2 = stress_of(model, 0), day1 = stress_of(model, 1), none = stress_of(model, 2);
  EXPECT_NEAR(lost(day2), 88.0, 1e-9);
  EXPECT_NEAR(day2.settlement.bridge[static_cast<int>(BridgeMetric::kLoss)], 88.0, 1e-9);
  EXPECT_EQ(day2.settlement.get(0, CcpSettleMetric::kFails), 1.0);
  EXPECT_NEAR(lost(day1), 80.0, 1e-9);
  EXPECT_EQ(lost(none), 0.0);
  EXPECT_TRUE(day2.defaults.empty());  // S pays 100 then 110 out of 230
  // Deliveries in flight (1% of each position at the day's end price, 10 x
  // 121 x 1% = 12.1 each for H and S) are lost with the gain: (110 + 12.1 +
  // 12.1) x 0.8 = 107.36.
  const ScenarioResult flight = stress_of(model_of(kBridgeDays, {{"ccps[0].settlement.in_flight", "0.01"}}), 0);
  EXPECT_NEAR(lost(flight), 107.36, 1e-9);
  EXPECT_EQ(flight.settlement.get(0, CcpSettleMetric::kFails), 2.0);
  for (const ScenarioResult* r : {&day2, &day1, &none, &flight})
    EXPECT_NEAR(r->ledger_total(), r->closeout_loss, 1e-9 * std::max(1.0, r->closeout_loss));
}

TEST(SettlementBridges, CollateralHeldThroughABridgeIsLostAndRecalledOnTheExploitsDay) {
  // Custody through wb too. Day 2: each member loses (IM 50 + DF 50) x 0.8 =
  // 80 and re-posts 40 of IM in cash; H's gain of 110 loses 88: 248 lost.
  // S: cash 230 - 100 = 130 after day 1; day 2 calls VM 110 + IM 40 = 150:
  // S defaults for liquidity on day 2 (shortfall 20), where without the
  // exploit 130 >= 110 it pays. V closes S out from day-1 prices: 10 x (121 -
  // 110) = 110, against the IM it still holds (50 x 0.2 = 10: S did not
  // re-post) and S's contribution left (10).
  const Model model = model_of(kBridgeDays, {{"ccps[0].collateral", "{custody: bridge, bridge: wb}"}});
  const ScenarioResult r = stress_of(model, 0);
  EXPECT_NEAR(lost(r), 2 * 80.0 + 88.0, 1e-9);
  EXPECT_NEAR(r.settlement.get(0, CcpSettleMetric::kMarginCalls), 80.0, 1e-9);
  ASSERT_EQ(r.defaults.size(), 1u);
  EXPECT_EQ(r.defaults[0].member, 1);
  EXPECT_EQ(r.defaults[0].cause, DefaultCause::kLiquidity);
  EXPECT_EQ(r.defaults[0].day, 2.0);
  EXPECT_NEAR(r.liquidity_shortfall, 20.0, 1e-9);
  EXPECT_NEAR(r.closeout_loss, 110.0, 1e-9);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
  EXPECT_TRUE(stress_of(model, 2).defaults.empty());
  // Exploited on day 1 instead: the calls are 40 each on day 1 (S: cash 230
  // - 100 - 40 = 90 >= 0), and on day 2 S owes 110 > 90: it defaults then,
  // closed out against the 50 of IM it re-posted on day 1.
  const ScenarioResult early = stress_of(model, 1);
  EXPECT_NEAR(lost(early), 2 * 80.0 + 80.0, 1e-9);
  ASSERT_EQ(early.defaults.size(), 1u);
  EXPECT_EQ(early.defaults[0].day, 2.0);
  EXPECT_NEAR(early.liquidity_shortfall, 20.0, 1e-9);
  EXPECT_NEAR(early.ledger_total(), early.closeout_loss, 1e-9);
  // S short of cash on day 1 (50 < 100) is closed out then: on day 2 nothing
  // of it is held or in flight any more; H alone loses 80 + 88 and re-posts 40.
  const ScenarioResult gone = stress_of(
      model_of(kBridgeDays, {{"ccps[0].collateral", "{custody: bridge, bridge: wb}"}, {"members[1].liquidity", "50"}}),
      0);
  ASSERT_EQ(gone.defaults.size(), 1u);
  EXPECT_EQ(gone.defaults[0].day, 1.0);
  EXPECT_NEAR(lost(gone), 80.0 + 88.0, 1e-9);
  EXPECT_NEAR(gone.settlement.get(0, CcpSettleMetric::kMarginCalls), 40.0, 1e-9);
  EXPECT_NEAR(gone.ledger_total(), gone.closeout_loss, 1e-9);
}

TEST(SettlementBridges, StressShowsTheExploitsDayAndEachDaysLateGainsAndFails) {
  // VM final after 0.1 + 0.2 + 1.2 hours = 1.5 > the 1-hour deadline of the
  // VM H pays at A (10, then 11): H's gain at V is late on day 1 (100); on
  // day 2 it is lost in the exploit (one fail), not late.
  const Model model = model_of(kBridgeDays, {{"settlement.bridges[0].delay_hours", "1.2"}});
  const std::vector<StressOutcome> outcomes = run_stress(model);
  ASSERT_EQ(outcomes.size(), 3u);
  const auto j = stress_json(model, outcomes)["stress_scenarios"];
  const auto& st = j[0]["settlement"];
  EXPECT_EQ(st["exploit_days"]["wb"].get<double>(), 2.0);
  ASSERT_EQ(st["days"].size(), 2u);
  EXPECT_EQ(st["days"][0]["day"].get<double>(), 1.0);
  EXPECT_NEAR(st["days"][0]["late_inflows"]["V"].get<double>(), 100.0, 1e-9);
  EXPECT_EQ(st["days"][0]["fails"]["V"].get<double>(), 0.0);
  EXPECT_NEAR(st["days"][1]["late_inflows"]["V"].get<double>(), 0.0, 1e-9);
  EXPECT_EQ(st["days"][1]["fails"]["V"].get<double>(), 1.0);
  EXPECT_EQ(st["days"][1]["late_inflows"]["A"].get<double>(), 0.0);
  // No exploit: late both days, 100 then 110.
  EXPECT_NEAR(j[2]["settlement"]["days"][1]["late_inflows"]["V"].get<double>(), 110.0, 1e-9);
  EXPECT_EQ(j[1]["settlement"]["exploit_days"]["wb"].get<double>(), 1.0);
  EXPECT_EQ(j[2]["settlement"]["exploit_days"].size(), 0u);
  const std::string text = format_stress(model, outcomes, false);
  EXPECT_NE(text.find("EXPLOITED: wb on day 2"), std::string::npos) << text;
  EXPECT_NE(text.find("day by day:\n    day 1: V VM gains late 100.00, 0 fails\n    day 2: V VM gains late 0.00, 1 "
                      "fails\n"),
            std::string::npos)
      << text;
  const std::string html = stress_report(model, outcomes, "t.yaml", "");
  EXPECT_NE(html.find("<strong>wb</strong> on day 2"), std::string::npos);
  EXPECT_NE(html.find("<p>Day by day:</p>"), std::string::npos);
  EXPECT_NE(html.find("V: VM gains late (USD)</th>"), std::string::npos);
}

// M posts IM 1,000 at C, half in ETH at a 20% haircut; BTC flat (no VM).
constexpr std::string_view kCollateralDays = R"(name: IM in ETH topped up day by day
simulation: {horizon_days: 2, step_days: 1}
market:
  assets:
    - {id: BTC, price: 100, volatility: 0.5}
    - {id: ETH, price: 1000, volatility: 0.8}
  correlation: [[1, 0], [0, 1]]
  stress_scenarios:
    - {name: ETH -10% a day, path: [{ETH: -0.1}, {ETH: -0.1}]}
ccps:
  - id: C
    capital: 10000
    margin: {model: parametric, mpor_days: 1}
    default_fund: {sizing: fixed, amount: 0}
    collateral: {custody: smart_contract, asset: ETH, share: 0.5, haircut: 0.2}
    imbalance: rest_of_market
members:
  - {id: M, capital: 10000, liquidity: 70, positions: {C: {BTC: 10}}, initial_margin: {C: 1000}}
)";

TEST(SettlementBridges, ACollateralAssetFallingTwoDaysCallsTwoTopUpsAndTheSecondIsMissed) {
  // Calls 50 on day 1 and 45 on day 2 (header). Liquidity 70: 20 left after
  // day 1, 45 due on day 2: a liquidity default on day 2, shortfall 25.
  const Model model = model_of(kCollateralDays);
  const ScenarioResult r = stress_of(model, 0);
  EXPECT_NEAR(r.settlement.get(0, CcpSettleMetric::kMarginCalls), 95.0, 1e-9);
  ASSERT_EQ(r.defaults.size(), 1u);
  EXPECT_EQ(r.defaults[0].cause, DefaultCause::kLiquidity);
  EXPECT_EQ(r.defaults[0].day, 2.0);
  EXPECT_NEAR(r.liquidity_shortfall, 25.0, 1e-9);
  EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
  // Day 1 alone (a one-day horizon): the first call, 50, paid.
  const ScenarioResult one_day = stress_of(model_of(kCollateralDays, {{"simulation.horizon_days", "1"}}), 0);
  EXPECT_NEAR(one_day.settlement.get(0, CcpSettleMetric::kMarginCalls), 50.0, 1e-9);
  EXPECT_TRUE(one_day.defaults.empty());
  // Cash for both (95): no default. A haircut of 50% posts 1,000 of ETH
  // for the same 500 credited: the calls are the same 10% and 9% of it.
  EXPECT_TRUE(stress_of(model_of(kCollateralDays, {{"members[0].liquidity", "95"}}), 0).defaults.empty());
  const ScenarioResult wide =
      stress_of(model_of(kCollateralDays, {{"ccps[0].collateral.haircut", "0.5"}, {"members[0].liquidity", "95"}}), 0);
  EXPECT_NEAR(wide.settlement.get(0, CcpSettleMetric::kMarginCalls), 95.0, 1e-9);
  // A rise first is not paid back: ETH +10% then -10% (990): credited 495,
  // one call of 5, on day 2.
  Model up = model_of(kCollateralDays);
  up.stress_scenarios[0].path = {{{"ETH", 0.1}}, {{"ETH", -0.1}}};
  EXPECT_NEAR(stress_of(up, 0).settlement.get(0, CcpSettleMetric::kMarginCalls), 5.0, 1e-9);
}

TEST(SettlementBridges, AnExploitIsDrawnOnceWithinTheHorizonAtAConstantHazard) {
  // p = 0.3 over 4 steps: exploited by the end of step k with probability
  // 1 - 0.7^((k + 1) / 4), in all 0.3; every step drawn, the stream of one
  // period (step 0 draws what one period draws).
  const Model model =
      model_of(kBridgeDays, {{"settlement.bridges[0].exploit_probability", "0.3"}, {"simulation.horizon_days", "4"}});
  const Settlement settlement(model);
  SettlementState state, one;
  SettlementOutcome out;
  out.reset(model);
  const std::vector<double> flat(model.assets.size(), 0.0);
  const int n = 20000;
  std::array<int, 4> at{};
  int agree = 0;
  for (int i = 0; i < n; ++i) {
    settlement.draw(static_cast<std::uint64_t>(i), flat, one, out);
    int hits = 0;
    for (int k = 0; k < 4; ++k) {
      settlement.draw_step(static_cast<std::uint64_t>(i), k, 4, flat, state, out);
      hits += state.bridge_exploited[0];
    }
    ASSERT_LE(hits, 1);
    if (state.exploit_step[0] >= 0) ++at[static_cast<std::size_t>(state.exploit_step[0])];
    agree += (state.exploit_step[0] >= 0) == (one.bridge_exploited[0] != 0);
  }
  EXPECT_EQ(agree, n);
  double before = 0.0;
  for (int k = 0; k < 4; ++k) {
    const double p = (1.0 - std::pow(0.7, (k + 1) / 4.0)) - before;
    before += p;
    EXPECT_NEAR(at[static_cast<std::size_t>(k)] / double(n), p, 4.0 * std::sqrt(p * (1 - p) / n)) << "step " << k;
  }
}

const std::string kBridgeFile = std::string(CCPNET_SOURCE_DIR) + "/scenarios/bridge_exploit.yaml";
const std::string kSpiralFile = std::string(CCPNET_SOURCE_DIR) + "/scenarios/l2_margin_spiral.yaml";

double exploited(const ScenarioResult& r) {
  double n = 0.0;
  for (std::size_t b = 0; b < r.settlement.bridge.size(); b += kBridgeMetrics)
    n += r.settlement.bridge[b + static_cast<std::size_t>(BridgeMetric::kExploited)];
  return n;
}

TEST(SettlementBridges, OneStepOfTheMporIsTheOnePeriodEngine) {
  // bridge_exploit with every MPOR 1 day and exploits frequent; l2_margin_spiral
  // (MPOR 1 day, ETH collateral at both venues, the rollup's withdrawal
  // delay) in a crash regime, without its spiral: in steps the spiral is
  // sim/margin_path.hpp's, checked against one period there.
  std::vector<config::Override> bridge = {{"ccps.CCP_EU.margin.mpor_days", "1"},
                                          {"market.stress_scenarios[2].exploit_day", "1"},
                                          {"simulation", "{scenarios: 2000}"},
                                          {"settlement.bridges[0].exploit_probability", "0.2"},
                                          {"market.shocks.volatility_multiplier", "2.5"}};
  std::vector<config::Override> spiral = {{"market.shocks.volatility_multiplier", "2"},
                                          {"ccps.VENUE_L1.margin.spiral", "null"},
                                          {"ccps.VENUE_L2.margin.spiral", "null"}};
  for (const auto& [file, overrides] : {std::pair{kBridgeFile, bridge}, std::pair{kSpiralFile, spiral}}) {
    auto with_steps = overrides;
    with_steps.push_back({"simulation.horizon_days", "1"});
    const Model one = build_model(config::load_scenario_file(file, overrides));
    const Model steps = build_model(config::load_scenario_file(file, with_steps));
    ASSERT_EQ(one.steps.count, 0);
    ASSERT_EQ(steps.steps.count, 1);
    const auto calls = [](const ScenarioResult& r) {
      return static_cast<int>(exploited(r)) + 10 * (r.settlement.total(CcpSettleMetric::kMarginCalls) > 0.0);
    };
    const int eventful = test_paths::expect_steps_equal_one_period(one, steps, 300, calls);
    EXPECT_GT(eventful, 20) << file;
    for (std::int64_t i = 0; i < 100; ++i) {
      const ScenarioResult a = run_scenario(one, i), b = run_scenario(steps, i);
      for (std::size_t k = 0; k < a.settlement.ccp.size(); ++k)
        EXPECT_NEAR(a.settlement.ccp[k], b.settlement.ccp[k], 1e-9 * std::max(1.0, std::abs(a.settlement.ccp[k])))
            << file << " scenario " << i << " metric " << k;
    }
    for (std::size_t s = 0; s < one.stress_scenarios.size(); ++s) {
      const ScenarioResult a = stress_of(one, s), b = stress_of(steps, s);
      EXPECT_EQ(a.defaults.size(), b.defaults.size()) << file << " stress " << s;
      EXPECT_NEAR(a.total_loss, b.total_loss, 1e-9 * std::max(1.0, a.total_loss)) << file << " stress " << s;
      EXPECT_NEAR(lost(a), lost(b), 1e-9 * std::max(1.0, lost(a))) << file << " stress " << s;
    }
  }
}

TEST(SettlementBridges, DailyPathsConserve) {
  for (const auto& file : {kBridgeFile, kSpiralFile}) {
    std::vector<config::Override> overrides = {{"simulation.horizon_days", "4"},
                                               {"simulation.step_days", "1"},
                                               {"market.shocks.volatility_multiplier", "2.5"}};
    if (file == kBridgeFile) overrides.push_back({"settlement.bridges[0].exploit_probability", "0.3"});
    const Model model = build_model(config::load_scenario_file(file, overrides));
    int defaults = 0, later = 0;
    for (std::int64_t i = 0; i < 200; ++i) {
      const ScenarioResult r = run_scenario(model, i);
      ASSERT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9 * std::max(1.0, r.closeout_loss)) << file << " " << i;
      defaults += !r.defaults.empty();
      for (const MemberDefault& d : r.defaults) later += d.day > 1.0;
    }
    EXPECT_GT(defaults, 0) << file;
    EXPECT_GT(later, 0) << file;
  }
}

// Default-fund contributions held through an exploited bridge are lost with
// it (recovery 20%) on the exploit's day also for members already charged on
// an earlier day, and whichever CCP the file lists first. V holds IM and DF
// through wb; H, S and T clear at V (DF 100, 30, 100), H and T also at A.
// Day 1 (BTC 100 -> 110): S, short 10 with 50 of cash, cannot pay VM 100 and
// defaults; closed out over V's 1-day MPOR from 100: loss 100 = IM 50 + own
// DF 30 + 20 mutualised, 10 each from H and T (pro rata 100 : 100): their
// contributions left 90 each. Day 2 (110 -> 121), wb exploited: 90 x 0.2 = 18
// left each. T, short 5, paid VM 50 on day 1 (cash 100 -> 50), owes VM 55
// and re-posts 80% of its IM 25 (20): 75 > 50, it defaults; closed out from
// 110: 5 x 11 = 55 = its IM left 25 x 0.2 = 5 + own DF 18 + H's 18
// mutualised + 14 assessed (V's SITG 0). Summed over the days at V:
// defaulters' DF 30 + 18 = 48, mutualised 20 + 18 = 38, assessments 14; H is
// charged 10 + 18 of its contribution and 14 of assessment.
constexpr std::string_view kExploitAfterADefault = R"(name: custody exploit on day 2 after a default on day 1
simulation: {horizon_days: 2, step_days: 1}
market:
  assets: [{id: BTC, price: 100, volatility: 0.5, chain: solana}]
  stress_scenarios:
    - {name: exploit on day 2, path: [{BTC: 0.1}, {BTC: 0.1}], exploited_bridges: [wb], exploit_day: 2}
settlement:
  chains: [{id: solana, finality: {distribution: fixed, mean_hours: 0.1}}]
  bridges: [{id: wb, exploit_probability: 0.01, recovery_rate: 0.2, delay_hours: 0.2}]
ccps:
  - id: V
    capital: 1000
    sitg: 0
    margin: {model: parametric, mpor_days: 1}
    default_fund: {sizing: fixed, amount: 230}
    settlement: {mode: bridge, chain: solana, bridge: wb, deadline_hours: 1, in_flight: 0}
    collateral: {custody: bridge, bridge: wb}
    imbalance: rest_of_market
  - id: A
    capital: 1000
    margin: {model: parametric, mpor_days: 1}
    default_fund: {sizing: fixed, amount: 0}
    settlement: {mode: instant, deadline_hours: 1}
    imbalance: rest_of_market
members:
  - {id: H, capital: 1000, liquidity: 1000, positions: {V: {BTC: 10}, A: {BTC: -1}}, initial_margin: {V: 50, A: 10},
     default_fund: {V: 100}}
  - {id: S, capital: 1000, liquidity: 50, positions: {V: {BTC: -10}}, initial_margin: {V: 50}, default_fund: {V: 30}}
  - {id: T, capital: 1000, liquidity: 100, positions: {V: {BTC: -5}, A: {BTC: 1}}, initial_margin: {V: 25, A: 10},
     default_fund: {V: 100}}
)";

TEST(SettlementBridges, AnExploitScalesContributionsChargedOnEarlierDaysWhicheverCcpComesFirst) {
  std::string a_first(kExploitAfterADefault);
  const auto v_at = a_first.find("  - id: V"), a_at = a_first.find("  - id: A"), end = a_first.find("members:");
  a_first = a_first.substr(0, v_at) + a_first.substr(a_at, end - a_at) + a_first.substr(v_at, a_at - v_at) +
            a_first.substr(end);
  for (const std::string_view text : {kExploitAfterADefault, std::string_view(a_first)}) {
    const Model model = model_of(text);
    const ScenarioResult r = stress_of(model, 0);
    const std::size_t v = model.ccps[0].id == "V" ? 0 : 1;
    ASSERT_EQ(model.ccps[v].id, "V");
    const auto layer = [&](models::Layer l) {
      return r.ccp_layers[v * models::kLayerCount + static_cast<std::size_t>(l)];
    };
    ASSERT_EQ(r.defaults.size(), 2u) << model.ccps[0].id << " first";
    EXPECT_EQ(r.defaults[0].day, 1.0);
    EXPECT_EQ(r.defaults[1].day, 2.0);
    EXPECT_NEAR(layer(models::Layer::kDefaulterDf), 48.0, 1e-9) << model.ccps[0].id << " first";
    EXPECT_NEAR(layer(models::Layer::kMutualizedDf), 38.0, 1e-9) << model.ccps[0].id << " first";
    EXPECT_NEAR(layer(models::Layer::kAssessments), 14.0, 1e-9) << model.ccps[0].id << " first";
    double h_df = 0.0, h_assessed = 0.0;
    for (const AccountLoss& l : r.account_losses) {
      if (model.accounts[static_cast<std::size_t>(l.account)].owner != 0) continue;  // H
      if (l.channel == LossChannel::kMutualizedDf) h_df += l.amount;
      if (l.channel == LossChannel::kAssessment) h_assessed += l.amount;
    }
    EXPECT_NEAR(h_df, 28.0, 1e-9);
    EXPECT_NEAR(h_assessed, 14.0, 1e-9);
    EXPECT_NEAR(r.ledger_total(), r.closeout_loss, 1e-9);
  }
}

TEST(SettlementBridges, ExploitDayIsCheckedWithItsKey) {
  const auto error_of = [](std::vector<config::Override> overrides) {
    try {
      (void)model_of(kBridgeDays, std::move(overrides));
    } catch (const config::ScenarioError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  std::string late(kBridgeDays);
  late.replace(late.find("exploit_day: 2"), 14, "exploit_day: 3");
  std::string beyond;
  try {
    (void)model_of(late);
  } catch (const config::ScenarioError& e) {
    beyond = e.what();
  }
  EXPECT_NE(beyond.find("t.yaml:6:"), std::string::npos) << beyond;
  EXPECT_NE(beyond.find("market.stress_scenarios[0].exploit_day: expected a day within the horizon of 2 days, "
                        "found 3"),
            std::string::npos)
      << beyond;
  const std::string alone = error_of({{"market.stress_scenarios[2].exploit_day", "1"}});
  EXPECT_NE(alone.find("expected exploit_day only with exploited_bridges"), std::string::npos) << alone;
  // In one period the exploit is at the start: the day is accepted.
  EXPECT_EQ(error_of({{"simulation", "{scenarios: 10}"}}), "");
}

}  // namespace test_settlement_bridges
}  // namespace ccpnet
