// Waterfall layers against hand-computed examples (SPEC 3.6).
//
// The traditional example: one CCP, four members A, B, C, D; A and B default.
//   IM:  A 100, B 80          DF: A 20, B 20, C 40, D 20 (fund 100)
//   SITG 40, assessments 1x DF (caps C 40, D 20), VM gains owed C 100, D 40,
//   CCP equity beyond SITG 50.
// Each case below works the layers out by hand in its comment.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <stdexcept>

#include "models/waterfall/waterfall.hpp"

namespace ccpnet::models {
namespace test_waterfall {

const std::vector<Layer> kTraditional{Layer::kDefaulterIm, Layer::kDefaulterDf, Layer::kSitg,     Layer::kMutualizedDf,
                                      Layer::kAssessments, Layer::kVmgh,        Layer::kCcpEquity};

double at(const WaterfallOutcome& o, Layer l) { return o.by_layer[static_cast<std::size_t>(l)]; }

struct Example {
  std::vector<Defaulter> defaulters;
  std::vector<Survivor> survivors;
  CcpResources ccp{.sitg = 40, .sitg2 = 0, .insurance_fund = 0, .equity = 50};

  Example(double loss_a, double loss_b, double cash_d = 1e9) {
    defaulters = {{.loss = loss_a, .im = 100, .df = 20}, {.loss = loss_b, .im = 80, .df = 20}};
    survivors.resize(2);
    survivors[0].df = 40;  // C
    survivors[0].assessment_cap = 40;
    survivors[0].cash = 1e9;
    survivors[0].vm_gain = 100;
    survivors[1].df = 20;  // D
    survivors[1].assessment_cap = 20;
    survivors[1].cash = cash_d;
    survivors[1].vm_gain = 40;
  }
  WaterfallOutcome run() { return run_waterfall(kTraditional, defaulters, survivors, ccp); }
};

void expect_conserved(const WaterfallOutcome& o) {
  double absorbed = o.uncovered;
  for (double x : o.by_layer) absorbed += x;
  EXPECT_NEAR(absorbed, o.loss, 1e-9 * std::max(1.0, o.loss));
}

TEST(Waterfall, StopsInSitg) {
  // A: 150 - IM 100 = 50 - DF 20 = 30.  B: 90 - IM 80 = 10 - DF 10 = 0 (DF 10 back to B's estate).
  // SITG pays 30 of its 40.
  Example ex(150, 90);
  const auto o = ex.run();
  EXPECT_DOUBLE_EQ(at(o, Layer::kDefaulterIm), 180);
  EXPECT_DOUBLE_EQ(at(o, Layer::kDefaulterDf), 30);
  EXPECT_DOUBLE_EQ(at(o, Layer::kSitg), 30);
  EXPECT_DOUBLE_EQ(at(o, Layer::kMutualizedDf), 0);
  EXPECT_DOUBLE_EQ(o.uncovered, 0);
  EXPECT_DOUBLE_EQ(ex.ccp.sitg, 10);
  EXPECT_DOUBLE_EQ(ex.defaulters[0].estate_return, 0);
  EXPECT_DOUBLE_EQ(ex.defaulters[1].estate_return, 10);  // B's unused DF
  expect_conserved(o);
}

TEST(Waterfall, StopsInMutualizedFund) {
  // A: 170 - 100 - 20 = 50; B: 90 -> 0. SITG 40 -> 10 left; the fund of the
  // survivors (C 40, D 20) pays 10 pro rata: C 6.667, D 3.333.
  Example ex(170, 90);
  const auto o = ex.run();
  EXPECT_DOUBLE_EQ(at(o, Layer::kSitg), 40);
  EXPECT_DOUBLE_EQ(at(o, Layer::kMutualizedDf), 10);
  EXPECT_NEAR(ex.survivors[0].df_charged, 10.0 * 40 / 60, 1e-12);
  EXPECT_NEAR(ex.survivors[1].df_charged, 10.0 * 20 / 60, 1e-12);
  EXPECT_NEAR(ex.survivors[0].df, 40 - 10.0 * 40 / 60, 1e-12);
  EXPECT_DOUBLE_EQ(at(o, Layer::kAssessments), 0);
  expect_conserved(o);
}

TEST(Waterfall, AssessmentsCappedAndUnpaidCallIsALiquidityDefault) {
  // A: 250 - 100 - 20 = 130; SITG 40 -> 90; fund 60 -> 30 for assessments.
  // Calls pro rata to the caps (C 40, D 20): rate 30/60 = 0.5 -> C 20, D 10.
  // D has only 4 in cash: pays 4, 6 unpaid stays uncovered and D missed a call.
  // VMGH then takes the 6: gains 140, rate 6/140 -> C 4.2857, D 1.7143.
  Example ex(250, 90, /*cash_d=*/4);
  const auto o = ex.run();
  EXPECT_DOUBLE_EQ(at(o, Layer::kMutualizedDf), 60);
  EXPECT_DOUBLE_EQ(at(o, Layer::kAssessments), 24);
  EXPECT_DOUBLE_EQ(ex.survivors[0].assessment_paid, 20);
  EXPECT_DOUBLE_EQ(ex.survivors[1].assessment_paid, 4);
  EXPECT_DOUBLE_EQ(ex.survivors[1].assessment_unpaid, 6);
  EXPECT_TRUE(ex.survivors[1].missed_call);
  EXPECT_FALSE(ex.survivors[0].missed_call);
  EXPECT_NEAR(at(o, Layer::kVmgh), 6, 1e-12);
  EXPECT_NEAR(ex.survivors[0].vmgh_charged, 6.0 * 100 / 140, 1e-12);
  EXPECT_NEAR(ex.survivors[1].vmgh_charged, 6.0 * 40 / 140, 1e-12);
  EXPECT_DOUBLE_EQ(o.uncovered, 0);
  expect_conserved(o);
}

TEST(Waterfall, StopsInVmghWithHaircutRate) {
  // A: 350 - 120 = 230; SITG 40 -> 190; fund 60 -> 130; assessments 60 (caps
  // exhausted) -> 70; VMGH on gains 140 at rate 70/140 = 50%: C 50, D 20.
  Example ex(350, 90);
  const auto o = ex.run();
  EXPECT_DOUBLE_EQ(at(o, Layer::kAssessments), 60);
  EXPECT_DOUBLE_EQ(at(o, Layer::kVmgh), 70);
  EXPECT_DOUBLE_EQ(ex.survivors[0].vmgh_charged, 50);
  EXPECT_DOUBLE_EQ(ex.survivors[1].vmgh_charged, 20);
  EXPECT_DOUBLE_EQ(ex.survivors[0].assessment_cap, 0);
  EXPECT_DOUBLE_EQ(at(o, Layer::kCcpEquity), 0);
  EXPECT_DOUBLE_EQ(o.uncovered, 0);
  expect_conserved(o);
}

TEST(Waterfall, CcpFailsWhenEveryLayerIsExhausted) {
  // A: 500 - 120 = 380; SITG 40 -> 340; fund 60 -> 280; assessments 60 -> 220;
  // VMGH 140 (all gains) -> 80; equity 50 -> 30 uncovered: the CCP fails.
  Example ex(500, 90);
  const auto o = ex.run();
  EXPECT_DOUBLE_EQ(at(o, Layer::kVmgh), 140);
  EXPECT_DOUBLE_EQ(at(o, Layer::kCcpEquity), 50);
  EXPECT_DOUBLE_EQ(o.uncovered, 30);
  EXPECT_DOUBLE_EQ(ex.ccp.equity, 0);
  EXPECT_DOUBLE_EQ(ex.defaulters[0].residual, 30);
  EXPECT_DOUBLE_EQ(ex.defaulters[1].residual, 0);
  expect_conserved(o);
}

TEST(Waterfall, SecondRoundMeetsADepletedWaterfall) {
  // Round 1 (StopsInSitg) leaves SITG 10. Round 2: C defaults with loss 120,
  // IM 60, DF left 40: 120 - 60 - 40 = 20; SITG 10 -> 10 from the fund of D (20).
  Example ex(150, 90);
  ex.run();
  std::vector<Defaulter> round2{{.loss = 120, .im = 60, .df = ex.survivors[0].df}};
  std::vector<Survivor> rest{ex.survivors[1]};
  const auto o = run_waterfall(kTraditional, round2, rest, ex.ccp);
  EXPECT_DOUBLE_EQ(at(o, Layer::kSitg), 10);
  EXPECT_DOUBLE_EQ(at(o, Layer::kMutualizedDf), 10);
  EXPECT_DOUBLE_EQ(rest[0].df, 10);
  expect_conserved(o);
}

TEST(Waterfall, GainOnCloseOutGoesToTheEstate) {
  // A defaulter whose book gained 15 on close-out: nothing to absorb; its IM
  // and DF and the gain go back to its estate.
  std::vector<Defaulter> d{{.loss = -15, .im = 100, .df = 20}};
  std::vector<Survivor> s;
  CcpResources r{.sitg = 40};
  const auto o = run_waterfall(kTraditional, d, s, r);
  EXPECT_DOUBLE_EQ(o.loss, 0);
  EXPECT_DOUBLE_EQ(d[0].estate_return, 135);
  EXPECT_DOUBLE_EQ(r.sitg, 40);
}

TEST(Waterfall, CryptoVenueInsuranceFundThenRankedAdl) {
  // Loss 130, IM 40 -> 90; insurance fund 30 -> 60 for ADL. Ranks (BitMEX:
  // PnL% x effective leverage, PnL% = pnl / margin, leverage = notional / (margin + pnl)):
  //   C: pnl 30, margin 10, notional 100 -> 3 x 100/40 = 7.5
  //   D: pnl 50, margin 50, notional 400 -> 1 x 400/100 = 4
  //   E: pnl 20, margin 5, notional 200  -> 4 x 200/25 = 32
  // ADL order E, C, D: E gives 20, C 30, D 10.
  EXPECT_DOUBLE_EQ(adl_rank(30, 10, 100), 7.5);
  EXPECT_DOUBLE_EQ(adl_rank(50, 50, 400), 4);
  EXPECT_DOUBLE_EQ(adl_rank(20, 5, 200), 32);
  const std::vector<Layer> layers{Layer::kDefaulterIm, Layer::kInsuranceFund, Layer::kAdl};
  std::vector<Defaulter> d{{.loss = 130, .im = 40}};
  std::vector<Survivor> s(3);
  const double pnl[] = {30, 50, 20}, margin[] = {10, 50, 5}, notional[] = {100, 400, 200};
  for (int i = 0; i < 3; ++i) {
    s[i].adl_gain = pnl[i];
    s[i].adl_rank = adl_rank(pnl[i], margin[i], notional[i]);
  }
  CcpResources r{.insurance_fund = 30};
  const auto o = run_waterfall(layers, d, s, r);
  EXPECT_DOUBLE_EQ(at(o, Layer::kInsuranceFund), 30);
  EXPECT_DOUBLE_EQ(at(o, Layer::kAdl), 60);
  EXPECT_DOUBLE_EQ(s[2].adl_charged, 20);
  EXPECT_DOUBLE_EQ(s[0].adl_charged, 30);
  EXPECT_DOUBLE_EQ(s[1].adl_charged, 10);
  EXPECT_DOUBLE_EQ(o.uncovered, 0);
  expect_conserved(o);
}

TEST(Waterfall, AdlRankForALosingPositionDividesByLeverage) {
  // pnl -5, margin 10, notional 100: PnL% = -0.5, leverage = 100 / 5 = 20 -> -0.025.
  EXPECT_DOUBLE_EQ(adl_rank(-5, 10, 100), -0.5 / 20);
}

TEST(Waterfall, ConservationOnRandomInputs) {
  std::mt19937_64 gen(12345);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const std::vector<Layer> all{Layer::kDefaulterIm,  Layer::kDefaulterDf,   Layer::kSitg,     Layer::kSitg2,
                               Layer::kMutualizedDf, Layer::kAssessments,   Layer::kVmgh,     Layer::kInsuranceFund,
                               Layer::kAdl,          Layer::kLenderHaircut, Layer::kCcpEquity};
  for (int trial = 0; trial < 2000; ++trial) {
    std::vector<Layer> layers;
    for (Layer l : all)
      if (u(gen) < 0.7) layers.push_back(l);
    std::vector<Defaulter> d(1 + trial % 4);
    for (auto& x : d) x = {.loss = 1000 * (u(gen) - 0.2), .im = 300 * u(gen), .df = 100 * u(gen)};
    std::vector<Survivor> s(trial % 5);
    for (auto& x : s) {
      x.df = 100 * u(gen);
      x.assessment_cap = x.df;
      x.cash = 150 * u(gen);
      x.vm_gain = 100 * u(gen);
      x.adl_gain = 100 * u(gen);
      x.adl_rank = u(gen);
      x.lender_balance = 100 * u(gen);
    }
    CcpResources r{100 * u(gen), 50 * u(gen), 100 * u(gen), 100 * u(gen)};
    VmghCaps caps;
    if (trial % 3 == 0) caps = {.max_rate = u(gen), .per_call = 100 * u(gen), .total_left = 100 * u(gen)};
    const auto o = run_waterfall(layers, d, s, r, caps);
    expect_conserved(o);
    double residual = 0.0;
    for (const auto& x : d) {
      EXPECT_GE(x.residual, -1e-9);
      EXPECT_GE(x.estate_return, -1e-9);
      residual += x.residual;
    }
    EXPECT_NEAR(residual, o.uncovered, 1e-9);
    for (const auto& x : s) {
      EXPECT_GE(x.df, -1e-9);
      EXPECT_GE(x.cash, -1e-9);
    }
  }
}

// The survivors as columns (SurvivorColumns): the pro-rata layers a CCP
// without ADL, lender haircuts or juniorisation runs.
struct Columns {
  std::vector<double> df, df_charged, assessment_cap, cash, assessment_paid, assessment_unpaid, vm_gain, vmgh_charged;
  std::vector<std::uint8_t> missed_call;
  explicit Columns(const std::vector<Survivor>& rows) {
    for (const Survivor& s : rows) {
      df.push_back(s.df);
      assessment_cap.push_back(s.assessment_cap);
      cash.push_back(s.cash);
      vm_gain.push_back(s.vm_gain);
    }
    for (auto* charged : {&df_charged, &assessment_paid, &assessment_unpaid, &vmgh_charged})
      charged->assign(rows.size(), 0.0);
    missed_call.assign(rows.size(), 0);
  }
  SurvivorColumns view() {
    return {df,      df_charged,   assessment_cap, cash, assessment_paid, assessment_unpaid,
            vm_gain, vmgh_charged, missed_call};
  }
};

TEST(Waterfall, ColumnsRunTheHandExampleOfAnUnpaidCall) {
  // AssessmentsCappedAndUnpaidCallIsALiquidityDefault on columns: A 250 -
  // 120 = 130; SITG 40 -> 90; the fund 60 (C 40, D 20) -> 30; calls at 0.5 of
  // the caps: C 20, D 10 of which D pays its 4 in cash (6 unpaid, a missed
  // call); VMGH takes the 6 on gains of 140: C 6 x 100/140, D 6 x 40/140.
  Example ex(250, 90, /*cash_d=*/4);
  Columns cols(ex.survivors);
  VmghCaps caps;
  const auto o = run_waterfall(kTraditional, ex.defaulters, cols.view(), ex.ccp, caps);
  EXPECT_DOUBLE_EQ(at(o, Layer::kMutualizedDf), 60);
  EXPECT_NEAR(cols.df_charged[0], 40, 1e-12);
  EXPECT_NEAR(cols.df_charged[1], 20, 1e-12);
  EXPECT_DOUBLE_EQ(at(o, Layer::kAssessments), 24);
  EXPECT_DOUBLE_EQ(cols.assessment_paid[0], 20);
  EXPECT_DOUBLE_EQ(cols.assessment_paid[1], 4);
  EXPECT_DOUBLE_EQ(cols.assessment_unpaid[1], 6);
  EXPECT_EQ(cols.missed_call[0], 0);
  EXPECT_EQ(cols.missed_call[1], 1);
  EXPECT_NEAR(cols.vmgh_charged[0], 6.0 * 100 / 140, 1e-12);
  EXPECT_NEAR(cols.vmgh_charged[1], 6.0 * 40 / 140, 1e-12);
  EXPECT_DOUBLE_EQ(o.uncovered, 0);
  expect_conserved(o);
}

TEST(Waterfall, ColumnsGiveTheRowsNumbersBitForBit) {
  // The same layers on the same survivors, as rows and as columns: every
  // outcome, charge, balance left and resource left equal to the bit, over
  // random inputs (hundreds of survivors: sums long enough for the order of
  // additions to show).
  std::mt19937_64 gen(2718);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const std::vector<Layer> pro_rata{Layer::kDefaulterIm, Layer::kDefaulterDf,   Layer::kSitg,
                                    Layer::kSitg2,       Layer::kMutualizedDf,  Layer::kAssessments,
                                    Layer::kVmgh,        Layer::kInsuranceFund, Layer::kCcpEquity};
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<Layer> layers;
    for (Layer l : pro_rata)
      if (u(gen) < 0.7) layers.push_back(l);
    std::vector<Defaulter> d(1 + trial % 4);
    for (auto& x : d) x = {.loss = 1e5 * (u(gen) - 0.1), .im = 3e3 * u(gen), .df = 1e3 * u(gen)};
    std::vector<Survivor> rows(static_cast<std::size_t>(trial % 7 == 0 ? 0 : 1 + (trial * 37) % 400));
    for (auto& x : rows) {
      x.df = 100 * u(gen);
      x.assessment_cap = 2 * x.df * u(gen);
      x.cash = 150 * u(gen);
      x.vm_gain = 100 * (u(gen) - 0.2);
    }
    Columns cols(rows);
    CcpResources r_rows{1e3 * u(gen), 5e2 * u(gen), 1e3 * u(gen), 1e3 * u(gen)};
    CcpResources r_cols = r_rows;
    VmghCaps caps_rows;
    if (trial % 3 == 0) caps_rows = {.max_rate = u(gen), .per_call = 1e4 * u(gen), .total_left = 1e4 * u(gen)};
    VmghCaps caps_cols = caps_rows;
    std::vector<Defaulter> d_cols = d;
    const auto a = run_waterfall(layers, d, rows, r_rows, caps_rows);
    const auto b = run_waterfall(layers, d_cols, cols.view(), r_cols, caps_cols);
    for (std::size_t l = 0; l < kLayerCount; ++l) EXPECT_EQ(a.by_layer[l], b.by_layer[l]) << trial << " " << l;
    EXPECT_EQ(a.uncovered, b.uncovered);
    EXPECT_EQ(a.loss, b.loss);
    for (std::size_t i = 0; i < d.size(); ++i) {
      EXPECT_EQ(d[i].residual, d_cols[i].residual);
      EXPECT_EQ(d[i].estate_return, d_cols[i].estate_return);
    }
    for (std::size_t i = 0; i < rows.size(); ++i) {
      EXPECT_EQ(rows[i].df, cols.df[i]);
      EXPECT_EQ(rows[i].df_charged, cols.df_charged[i]);
      EXPECT_EQ(rows[i].assessment_cap, cols.assessment_cap[i]);
      EXPECT_EQ(rows[i].cash, cols.cash[i]);
      EXPECT_EQ(rows[i].assessment_paid, cols.assessment_paid[i]);
      EXPECT_EQ(rows[i].assessment_unpaid, cols.assessment_unpaid[i]);
      EXPECT_EQ(rows[i].vm_gain, cols.vm_gain[i]);
      EXPECT_EQ(rows[i].vmgh_charged, cols.vmgh_charged[i]);
      EXPECT_EQ(rows[i].missed_call, cols.missed_call[i] != 0);
    }
    EXPECT_EQ(r_rows.sitg, r_cols.sitg);
    EXPECT_EQ(r_rows.sitg2, r_cols.sitg2);
    EXPECT_EQ(r_rows.insurance_fund, r_cols.insurance_fund);
    EXPECT_EQ(r_rows.equity, r_cols.equity);
    EXPECT_EQ(caps_rows.total_left, caps_cols.total_left);
    EXPECT_EQ(caps_rows.step_left, caps_cols.step_left);
    expect_conserved(b);
  }
}

TEST(Waterfall, ColumnsRefuseTheLayersThatNeedWholeRows) {
  Example ex(500, 90);
  Columns cols(ex.survivors);
  VmghCaps caps;
  for (const Layer layer : {Layer::kAdl, Layer::kLenderHaircut}) {
    EXPECT_FALSE(supports_columns(layer));
    const std::vector<Layer> layers{Layer::kDefaulterIm, Layer::kSitg, layer};
    EXPECT_THROW(run_waterfall(layers, ex.defaulters, cols.view(), ex.ccp, caps), std::invalid_argument);
    // refused before any layer ran: A's IM and the SITG untouched
    EXPECT_DOUBLE_EQ(ex.defaulters[0].im_used, 0);
    EXPECT_DOUBLE_EQ(ex.ccp.sitg, 40);
  }
  EXPECT_TRUE(supports_columns(Layer::kMutualizedDf));
  cols.cash.pop_back();
  EXPECT_THROW(run_waterfall(kTraditional, ex.defaulters, cols.view(), ex.ccp, caps), std::invalid_argument);
  EXPECT_DOUBLE_EQ(ex.ccp.sitg, 40);  // refused before any layer ran
}

// VMGH with caps: survivors with VM gains 100 and 300 (400 in all), a loss
// of 300 beyond the defaulter's IM 0, layers vmgh then CCP equity (1000).
struct VmghCase {
  std::vector<Defaulter> d{{.loss = 300}};
  std::vector<Survivor> s = std::vector<Survivor>(2);
  CcpResources r{.equity = 1000};
  VmghCase() {
    s[0].vm_gain = 100;
    s[1].vm_gain = 300;
  }
  WaterfallOutcome run(VmghCaps& caps) {
    const std::vector<Layer> layers{Layer::kVmgh, Layer::kCcpEquity};
    return run_waterfall(layers, d, s, r, caps);
  }
};

TEST(Waterfall, VmghUncappedByDefault) {
  // 300 of 400: rate 0.75 -> 75 and 225, nothing to equity.
  VmghCase c;
  VmghCaps caps;
  const auto o = c.run(caps);
  EXPECT_DOUBLE_EQ(at(o, Layer::kVmgh), 300);
  EXPECT_DOUBLE_EQ(c.s[0].vmgh_charged, 75);
  EXPECT_DOUBLE_EQ(c.s[1].vmgh_charged, 225);
  EXPECT_DOUBLE_EQ(at(o, Layer::kCcpEquity), 0);
}

TEST(Waterfall, VmghMaxRateLeavesTheRestToTheNextLayer) {
  // max_rate 0.5: at most 0.5 x 400 = 200, pro rata 50 and 150; equity takes 100.
  VmghCase c;
  VmghCaps caps{.max_rate = 0.5};
  const auto o = c.run(caps);
  EXPECT_DOUBLE_EQ(at(o, Layer::kVmgh), 200);
  EXPECT_DOUBLE_EQ(c.s[0].vmgh_charged, 50);
  EXPECT_DOUBLE_EQ(c.s[1].vmgh_charged, 150);
  EXPECT_DOUBLE_EQ(c.s[1].vm_gain, 150);
  EXPECT_DOUBLE_EQ(at(o, Layer::kCcpEquity), 100);
  expect_conserved(o);
}

TEST(Waterfall, VmghPerCallCap) {
  // per_call 120: rate 120 / 400 = 0.3, 30 and 90; equity 180.
  VmghCase c;
  VmghCaps caps{.per_call = 120};
  const auto o = c.run(caps);
  EXPECT_DOUBLE_EQ(at(o, Layer::kVmgh), 120);
  EXPECT_DOUBLE_EQ(c.s[0].vmgh_charged, 30);
  EXPECT_DOUBLE_EQ(c.s[1].vmgh_charged, 90);
  EXPECT_DOUBLE_EQ(at(o, Layer::kCcpEquity), 180);
}

TEST(Waterfall, VmghTotalCapOverTwoCalls) {
  // Total cap 150 over the scenario. Round 1, loss 100: 25 and 75, 50 of the
  // cap left. Round 2, loss 100 against fresh gains 100 and 300: only 50,
  // pro rata 12.5 and 37.5; equity takes 50; nothing of the cap left.
  VmghCaps caps{.total_left = 150};
  VmghCase one;
  one.d[0].loss = 100;
  auto o = one.run(caps);
  EXPECT_DOUBLE_EQ(at(o, Layer::kVmgh), 100);
  EXPECT_DOUBLE_EQ(caps.total_left, 50);
  VmghCase two;
  two.d[0].loss = 100;
  o = two.run(caps);
  EXPECT_DOUBLE_EQ(at(o, Layer::kVmgh), 50);
  EXPECT_DOUBLE_EQ(two.s[0].vmgh_charged, 12.5);
  EXPECT_DOUBLE_EQ(two.s[1].vmgh_charged, 37.5);
  EXPECT_DOUBLE_EQ(at(o, Layer::kCcpEquity), 50);
  EXPECT_DOUBLE_EQ(caps.total_left, 0);
  VmghCaps bad{.max_rate = 1.5};
  EXPECT_THROW(two.run(bad), std::invalid_argument);
}

TEST(Waterfall, AdlWithoutQuantitiesKeepsTheWholeGainRule) {
  // A survivor with a quantity is charged by contracts, one without by gain:
  // need 50; rank 2 (quantity 5, mark 100, bankruptcy 104: up to 20) gives
  // 20 for its 5 contracts, rank 1 (gain 100) the other 30.
  std::vector<Defaulter> d{{.loss = 50}};
  std::vector<Survivor> s(2);
  s[0].adl_gain = 100;
  s[0].adl_rank = 1;
  s[1].adl_quantity = 5;
  s[1].adl_mark_price = 100;
  s[1].adl_bankruptcy_price = 104;
  s[1].adl_rank = 2;
  CcpResources r;
  const std::vector<Layer> layers{Layer::kAdl};
  const auto o = run_waterfall(layers, d, s, r);
  EXPECT_DOUBLE_EQ(at(o, Layer::kAdl), 50);
  EXPECT_DOUBLE_EQ(s[1].adl_charged, 20);
  EXPECT_DOUBLE_EQ(s[1].adl_closed, 5);
  EXPECT_DOUBLE_EQ(s[1].adl_quantity, 0);
  EXPECT_DOUBLE_EQ(s[0].adl_charged, 30);
  EXPECT_DOUBLE_EQ(s[0].adl_gain, 70);
}

TEST(Waterfall, AdlContractsAreNotSoldSoTheirCloseOutCostIsNotALoss) {
  // A long of 10 contracts, bankruptcy price 95, liquidated at the mark 90:
  // 50 below its margin at the mark plus a square-root impact cost of 30,
  // a shortfall of 80, 8 a contract; the fund pays 40. The contracts the fund
  // cannot pay for, 10 x 40 / 80 = 5, are closed against the top-ranked short
  // at the bankruptcy price (BitMEX, "Auto-Deleveraging";
  // models::liquidate_venue_position): the short gives up 5 x (95 - 90) = 25
  // against the mark, and the 5 x 3 = 15 of impact those contracts would have
  // cost in the market is never incurred. Loss 80 - 15 = 65 = fund 40 + ADL 25.
  std::vector<Defaulter> d{{.loss = 80}};
  std::vector<Survivor> s(2);
  for (auto& x : s) {
    x.adl_quantity = 4;
    x.adl_mark_price = 90;
    x.adl_bankruptcy_price = 95;
    x.adl_loss_per_contract = 8;
  }
  s[0].adl_rank = 2;  // deleveraged first: all its 4 contracts
  s[1].adl_rank = 1;  // then 1 of its 4
  CcpResources r{.insurance_fund = 40};
  const std::vector<Layer> layers{Layer::kInsuranceFund, Layer::kAdl};
  const auto o = run_waterfall(layers, d, s, r);
  EXPECT_DOUBLE_EQ(at(o, Layer::kInsuranceFund), 40);
  EXPECT_DOUBLE_EQ(at(o, Layer::kAdl), 25);
  EXPECT_DOUBLE_EQ(o.adl_cost_avoided, 15);
  EXPECT_DOUBLE_EQ(o.loss, 65);
  EXPECT_DOUBLE_EQ(o.uncovered, 0);
  EXPECT_DOUBLE_EQ(s[0].adl_closed, 4);
  EXPECT_DOUBLE_EQ(s[0].adl_charged, 20);
  EXPECT_DOUBLE_EQ(s[1].adl_closed, 1);
  EXPECT_DOUBLE_EQ(s[1].adl_charged, 5);
  expect_conserved(o);
}

}  // namespace test_waterfall
}  // namespace ccpnet::models
