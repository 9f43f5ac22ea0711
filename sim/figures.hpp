// The figures of ccpnet, drawn as inline SVG text: each figure is a function of
// its data (plain structs of numbers and labels, no Model, no results) that
// returns a complete <svg> element. The report pages (sim/report*.cpp) choose
// which figures to show and fill their data; the Python package
// (ccpnet.plot) draws the same figures through the bindings.
//
// The SVG is self-contained (no scripts, no external files, no fonts) and the
// same data gives the same bytes. Labels are inserted as they are given:
// callers escape text that comes from a scenario file (html_escape).
//
// Also here: numbers for people (money, percentages), shared by the figures,
// the report pages and Python, so that a figure and a table round alike.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "models/waterfall/waterfall.hpp"

namespace ccpnet {

// Text made safe for HTML and SVG element content and attribute values.
std::string html_escape(std::string_view text);

namespace figures {

// ---------------------------------------------------------------------------
// Numbers for people. None of them ever prints "nan" or "inf": a value that is
// not a finite number is an en dash.

inline constexpr const char* kMinus = "\u2212";
inline constexpr const char* kDash = "\u2013";

std::string money(double x);                          // "12.3m": three significant digits, k / m / bn / tn
std::string usd(double x);                            // "USD 12.3m"
std::string signed_money(double x);                   // "+1.2m", "−350k"
std::string money_tick(double x);                     // an axis tick: "2.5m" rather than "2.50m"
std::string pct(double p);                            // a probability as a percentage, two or three significant digits
std::string signed_pp(double p);                      // a difference of probabilities in percentage points: "+0.12 pp"
std::string grouped(std::int64_t n);                  // "1,700"
std::string plural(std::size_t n, const char* noun);  // "1 link", "1,700 members"
std::string plain(double x, int sig = 3);             // a plain number, `sig` significant digits, no exponent
std::string signed_plain(double x, int sig = 3);

// How the numbers of a quantity read: money, a count, or a probability.
enum class Unit { kUsd, kCount, kProbability };
std::string value_text(double x, Unit unit);       // money, plain(x, 4) or pct
std::string difference_text(double x, Unit unit);  // signed_money, signed_plain or signed_pp

// ---------------------------------------------------------------------------
// Colours: accessible to colour-blind readers (no red/green pair carries
// meaning on its own; every colour is also named in a legend or a label).

// The waterfall layers, in models::Layer order, then "uncovered".
inline constexpr std::size_t kUncovered = models::kLayerCount;
extern const std::array<const char*, models::kLayerCount + 1> kLayerColour;
extern const std::array<const char*, models::kLayerCount + 1> kLayerLabel;

// Probability classes of nodes (ColorBrewer YlOrRd, 5 classes after "never").
extern const std::array<const char*, 6> kRiskColour;
extern const std::array<const char*, 6> kRiskLabel;
std::size_t risk_class(double p);

inline constexpr const char* kLinkColour = "#1f4e79";
inline constexpr const char* kHotLink = "#c62828";
inline constexpr const char* kHotMember = "#d97a00";
inline constexpr const char* kMembershipColour = "#b8bfc7";

// ---------------------------------------------------------------------------
// A drawn figure: the <svg> element and its size in its own units.
struct Svg {
  double width = 0.0, height = 0.0;
  std::string markup;  // "<svg ...>...</svg>"
};

// Ids of SVG elements (titles, patterns, markers), unique within a page:
// "<prefix>hist-1", "<prefix>bars-2", ... A page draws all its figures with
// one Ids; figures shown side by side in one notebook take distinct prefixes.
class Ids {
 public:
  explicit Ids(std::string prefix = {}) : prefix_(std::move(prefix)) {}
  std::string operator()(const char* kind);

 private:
  std::string prefix_;
  int next_ = 0;
};

// Figures laid out in a grid of `columns` (row by row) as one SVG.
Svg arrange(const std::vector<Svg>& figures, std::size_t columns);

// The style of the figures' text (classes ax, axt, lbl, halo): part of the
// report pages' style sheet, and of a figure shown on its own.
extern const char* const kSvgCss;
// The figure with its style inside: an .svg file, a notebook cell.
std::string standalone(const Svg& svg);

// ---------------------------------------------------------------------------
// The distribution of a loss over the scenarios, on a log scale.
struct LossDistribution {
  std::vector<double> values;         // the positive losses, sorted ascending
  std::vector<std::int64_t> weights;  // scenarios each value stands for (a sketch bucket's); empty: one each
  std::int64_t weight(std::size_t i) const { return weights.empty() ? 1 : weights[i]; }
  std::int64_t positive() const;  // scenarios with a positive loss
  std::int64_t scenarios = 0;     // every scenario, those without a loss included
  double var = 0.0, es = 0.0;     // value at risk and expected shortfall at `level`
  double level = 0.99;
  std::string name = "total loss";                          // escaped: "P(name ≥ x)"
  std::string axis = "total loss borne by non-defaulters";  // escaped: the x axis, "(USD, log scale)" follows
};
// Share of all scenarios with a loss in each bin (equal widths on the log
// scale), VaR and ES marked. Needs at least one value.
Svg loss_histogram(const LossDistribution& data, Ids& ids);
// P(loss ≥ x), log-log, the 1 - level probability as a reference line.
Svg exceedance_curve(const LossDistribution& data, Ids& ids);

// ---------------------------------------------------------------------------
// Horizontal stacked bars, one row per item (a CCP, or a CCP and a quantity),
// segments in the order of a list of series.

// One kind of segment: its colour and legend label; a hatched series is drawn
// with a red outline (what no layer covered); dark_text: labels inside the
// segment in dark ink (a light colour).
struct BarSeries {
  const char* colour;
  const char* label;
  bool hatched = false;
  bool dark_text = false;
};
// The waterfall layers in models::Layer order, then "uncovered" (hatched).
const std::vector<BarSeries>& layer_series();

struct BarRow {
  std::string label;                                     // escaped
  std::string sublabel;                                  // escaped
  bool highlight = false;                                // shaded row (a failure)
  bool alert = false;                                    // sublabel in red
  std::vector<std::pair<std::size_t, double>> segments;  // series index, amount (USD)
};

struct BarChart {
  std::vector<BarSeries> series;
  std::vector<BarRow> rows;
  std::string title;               // escaped: the SVG's accessible title
  std::string axis;                // escaped: the x axis
  std::string empty = "no loss";   // after a bar with nothing in it
  std::string whole = "the loss";  // what the shares in the tooltips are shares of
  bool shares = true;              // each segment's share of its bar written on it
};
Svg stacked_bars(const BarChart& chart, Ids& ids);

// ---------------------------------------------------------------------------
// The network: CCPs on an inner circle, members (or groups of members with
// the same set of CCPs) on an outer ring next to their CCPs, links between
// CCPs, a legend below.

struct NetNode {
  std::string label;     // escaped
  std::string sublabel;  // escaped
  std::string tooltip;   // escaped
  std::string fill = "#f4f4f4";
  std::string stroke = "#56606b";
  double size = 0.5;  // 0..1: radius between the kind's minimum and maximum
  bool emphasis = false;
  bool dashed = false;
};
struct NetMember {
  NetNode node;
  std::vector<int> ccps;      // indices into Network::ccps
  std::vector<int> hot_ccps;  // membership edges on a contagion path (drawn as arrows into the CCP)
};
struct NetLink {
  int a = -1, b = -1;
  bool dashed = false;
  bool hot = false;  // a contagion path: a's failure closed out at b (arrow a -> b)
  bool both_ways = false;
  std::string tooltip;  // escaped
};
struct LegendItem {
  enum Kind { kFill, kLine, kDashedLine, kArrow, kHotArrow, kCircle, kDashedCircle, kText, kBreak } kind = kFill;
  std::string colour;
  std::string label;  // escaped
};
struct Network {
  std::vector<NetNode> ccps;
  std::vector<NetMember> members;
  std::vector<NetLink> links;
  std::vector<LegendItem> legend;
  std::string title;  // escaped
};
Svg network(const Network& net, Ids& ids);

// ---------------------------------------------------------------------------
// Dot and whisker: one row per item (a variant), its estimate and 95%
// interval, coloured by whether the interval lies above 0 (red), below
// (blue) or across it (grey).
struct DotRow {
  std::string label;  // escaped
  double mean = 0.0, lo = 0.0, hi = 0.0;
};
struct DotWhisker {
  std::vector<DotRow> rows;
  Unit unit = Unit::kUsd;
  std::string title;  // escaped
  std::string axis;   // escaped: the x axis
};
Svg dot_whisker(const DotWhisker& data, Ids& ids);

// ---------------------------------------------------------------------------
// Probabilities through time: one line per series over the days (x), its 95%
// interval shaded, a legend below.
struct TimeSeries {
  std::string label;                        // escaped
  std::string colour;                       // the line's; its interval in the same colour, light
  std::vector<double> value, lower, upper;  // one per day
};
struct TimeCurves {
  std::vector<double> days;  // ascending
  std::vector<TimeSeries> series;
  std::string title;  // escaped
  std::string axis;   // escaped: the y axis (probabilities)
};
Svg time_curves(const TimeCurves& data, Ids& ids);

}  // namespace figures
}  // namespace ccpnet
