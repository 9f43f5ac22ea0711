// The figure module (sim/figures.hpp): numbers for people, and each figure
// drawn from plain data, checked on what it must show.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "sim/figures.hpp"

namespace ccpnet::figures {
namespace test_figures {

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(Figures, MoneyHasThreeSignificantDigitsAndAScale) {
  EXPECT_EQ(money(0.0), "0");
  EXPECT_EQ(money(0.004), "0");  // rounds to zero cents
  EXPECT_EQ(money(12.345), "12.3");
  EXPECT_EQ(money(1234.0), "1.23k");
  EXPECT_EQ(money(999.96), "1.00k");  // rounds up into the next scale
  EXPECT_EQ(money(-3.5e5), "\u2212350k");
  EXPECT_EQ(money(1.234e9), "1.23bn");
  EXPECT_EQ(money(2e13), "20.0tn");
  EXPECT_EQ(money(std::numeric_limits<double>::quiet_NaN()), kDash);
  EXPECT_EQ(usd(1.5e6), "USD 1.50m");
  EXPECT_EQ(signed_money(1.5e6), "+1.50m");
  EXPECT_EQ(money_tick(2.5e6), "2.5m");
}

TEST(Figures, PercentagesAndPlainNumbers) {
  EXPECT_EQ(pct(0.0), "0%");
  EXPECT_EQ(pct(0.0123), "1.23%");
  EXPECT_EQ(pct(0.5), "50.0%");
  EXPECT_EQ(pct(0.00012), "0.012%");
  EXPECT_EQ(signed_pp(0.01), "+1.00 pp");
  EXPECT_EQ(grouped(1234567), "1,234,567");
  EXPECT_EQ(plural(1, "link"), "1 link");
  EXPECT_EQ(plural(1700, "member"), "1,700 members");
  EXPECT_EQ(plain(0.012345), "0.0123");
  EXPECT_EQ(value_text(0.25, Unit::kProbability), "25.0%");
  EXPECT_EQ(difference_text(-2.0, Unit::kCount), "\u22122.00");
}

TEST(Figures, EscapesText) { EXPECT_EQ(html_escape("<a & 'b'>\""), "&lt;a &amp; &#39;b&#39;&gt;&quot;"); }

TEST(Figures, IdsAreNumberedWithTheirPrefix) {
  Ids ids("f3-");
  EXPECT_EQ(ids("hist"), "f3-hist-1");
  EXPECT_EQ(ids("bars"), "f3-bars-2");
}

TEST(Figures, ArrangePlacesFiguresRowByRow) {
  const Svg a{100, 50, "<svg viewBox=\"0 0 100 50\"></svg>\n"}, b{200, 80, "<svg viewBox=\"0 0 200 80\"></svg>\n"};
  const Svg row = arrange({a, b}, 2);
  EXPECT_EQ(row.width, 300);
  EXPECT_EQ(row.height, 80);
  EXPECT_NE(row.markup.find("<svg x=\"100.0\" y=\"0.0\" width=\"200.0\" height=\"80.0\" "), std::string::npos);
  const Svg column = arrange({a, b}, 1);
  EXPECT_EQ(column.width, 200);
  EXPECT_EQ(column.height, 130);
  EXPECT_NE(column.markup.find("<svg x=\"0.0\" y=\"50.0\" "), std::string::npos);
}

TEST(Figures, LossHistogramCountsEachBinAndMarksVarAndEs) {
  LossDistribution d;
  d.values = {10.0, 100.0, 1000.0};  // one per decade
  d.scenarios = 10;
  d.var = 100.0;
  d.es = 1000.0;
  Ids ids;
  const Svg svg = loss_histogram(d, ids);
  EXPECT_EQ(count(svg.markup, "fill=\"#4a7fb5\""), 3u);  // three bins with a loss
  EXPECT_EQ(count(svg.markup, ": 1 scenarios (10.0%)"), 3u);
  EXPECT_NE(svg.markup.find(">VaR 99% 100</text>"), std::string::npos);
  EXPECT_NE(svg.markup.find(">ES 99% 1.00k</text>"), std::string::npos);
  EXPECT_EQ(count(svg.markup, "<svg"), count(svg.markup, "</svg>"));
  // The exceedance curve starts at P(loss >= 10) = 30% and falls to 10%.
  const Svg curve = exceedance_curve(d, ids);
  EXPECT_NE(curve.markup.find("<polyline points="), std::string::npos);
  EXPECT_NE(curve.markup.find("P(total loss &#8805; x)"), std::string::npos);
}

TEST(Figures, StackedBarsShowEachRowsTotalAndOnlyTheSeriesUsed) {
  BarChart chart;
  chart.series = layer_series();
  chart.axis = "USD";
  BarRow a;
  a.label = "A";
  a.segments = {{0, 3e6}, {1, 1e6}, {kUncovered, 0.0}};
  BarRow b;
  b.label = "B";
  chart.rows = {a, b};
  Ids ids;
  const std::string svg = stacked_bars(chart, ids).markup;
  EXPECT_NE(svg.find(">4.00m</text>"), std::string::npos);    // A's total
  EXPECT_NE(svg.find(">no loss</text>"), std::string::npos);  // B has none
  EXPECT_NE(svg.find(">75%</text>"), std::string::npos);      // A's defaulter IM: 3 of 4
  EXPECT_NE(svg.find(">Defaulter IM</text>"), std::string::npos);
  EXPECT_EQ(svg.find(">Uncovered</text>"), std::string::npos);  // not in the legend: no amount
}

TEST(Figures, NetworkDrawsEveryNodeAndLink) {
  Network net;
  net.ccps.resize(2);
  net.ccps[0].label = "A";
  net.ccps[1].label = "B";
  NetMember m;
  m.node.label = "M1";
  m.ccps = {0, 1};
  m.hot_ccps = {1};
  net.members = {m};
  net.links = {NetLink{0, 1, false, true, false, "A-B"}};
  net.legend = {{LegendItem::kHotArrow, kHotLink, "failed CCP closed out over a link"}};
  Ids ids("n-");
  const std::string svg = network(net, ids).markup;
  EXPECT_EQ(count(svg, "<circle"), 3u);                                // 2 CCPs, 1 member (the legend shows an arrow)
  EXPECT_EQ(count(svg, "marker-end=\"url(#n-arrow-1-member)\""), 1u);  // M1 closed out at B
  EXPECT_EQ(count(svg, "marker-end=\"url(#n-arrow-1-link)\""), 2u);    // the hot link and its legend
  EXPECT_NE(svg.find(">M1</text>"), std::string::npos);
}

TEST(Figures, DotWhiskerColoursTheIntervalBySign) {
  DotWhisker data;
  data.unit = Unit::kUsd;
  data.rows = {{"higher", 2.0, 1.0, 3.0}, {"lower", -2.0, -3.0, -1.0}, {"across", 0.0, -1.0, 1.0}};
  Ids ids;
  const std::string svg = dot_whisker(data, ids).markup;
  EXPECT_EQ(count(svg, "fill=\"#b2182b\""), 1u);
  EXPECT_EQ(count(svg, "fill=\"#1f4e79\""), 1u);
  EXPECT_EQ(count(svg, "fill=\"#56606b\""), 1u);
}

}  // namespace test_figures
}  // namespace ccpnet::figures
