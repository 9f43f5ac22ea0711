#include "sim/figures.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <set>
#include <string>

namespace ccpnet {

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace figures {

// ---------------------------------------------------------------------------
// Numbers for people.

// "12.3m": three significant digits, k / m / bn / tn.
std::string money(double x) {
  if (!std::isfinite(x)) return kDash;
  const double a = std::abs(x);
  if (a < 0.005) return "0";  // rounds to zero cents
  struct Scale {
    double scale;
    const char* suffix;
  };
  static constexpr Scale kScales[] = {{1e12, "tn"}, {1e9, "bn"}, {1e6, "m"}, {1e3, "k"}, {1.0, ""}};
  for (const Scale& u : kScales) {
    if (a < u.scale * 0.9995 && u.scale > 1.0) continue;
    const double v = a / u.scale;
    const int decimals = v >= 99.95 ? 0 : v >= 9.995 ? 1 : 2;
    return fmt::format("{}{:.{}f}{}", x < 0 ? kMinus : "", v, decimals, u.suffix);
  }
  return kDash;
}

std::string usd(double x) { return "USD " + money(x); }

// Signed amount for differences: "+1.2m", "−350k".
std::string signed_money(double x) {
  if (!std::isfinite(x)) return kDash;
  const std::string m = money(x);
  return (x > 0 && m != "0") ? "+" + m : m;
}

// Axis tick: "2.5m" rather than "2.50m".
std::string money_tick(double x) {
  if (x != 0.0 && std::abs(x) < 0.005) return fmt::format("{:g}", x);
  std::string s = money(x);
  const auto dot = s.find('.');
  if (dot == std::string::npos) return s;
  std::size_t end = dot;
  while (end < s.size() && (std::isdigit(static_cast<unsigned char>(s[end])) || s[end] == '.')) ++end;
  std::size_t cut = end;
  while (cut > dot + 1 && s[cut - 1] == '0') --cut;
  if (cut == dot + 1) cut = dot;
  return s.substr(0, cut) + s.substr(end);
}

// A probability as a percentage with two or three significant digits.
std::string pct(double p) {
  if (!std::isfinite(p)) return kDash;
  if (p == 0.0) return "0%";
  const double v = 100.0 * p;
  const double a = std::abs(v);
  if (a >= 99.995 && a <= 100.0) return fmt::format("{}100%", v < 0 ? kMinus : "");
  int decimals = 1;
  if (a < 9.995) decimals = 2;
  if (a < 0.9995) decimals = std::clamp(static_cast<int>(std::ceil(-std::log10(a))) + 1, 2, 8);
  return fmt::format("{}{:.{}f}%", v < 0 ? kMinus : "", a, decimals);
}

// Percentage points, signed (differences of probabilities).
std::string signed_pp(double p) {
  if (!std::isfinite(p)) return kDash;
  if (p == 0.0) return "0 pp";
  std::string s = pct(p);
  s.pop_back();  // '%'
  return (p > 0 ? "+" : "") + s + " pp";
}

std::string grouped(std::int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (n < 0 ? std::string(kMinus) : std::string()) + out;
}

// "1 link", "3 links", "1,700 members".
std::string plural(std::size_t n, const char* noun) {
  return fmt::format("{} {}{}", grouped(static_cast<std::int64_t>(n)), noun, n == 1 ? "" : "s");
}

// A plain number with `sig` significant digits (no exponent).
std::string plain(double x, int sig) {
  if (!std::isfinite(x)) return kDash;
  if (x == 0.0) return "0";
  const double a = std::abs(x);
  const int magnitude = static_cast<int>(std::floor(std::log10(a)));
  const int decimals = std::clamp(sig - 1 - magnitude, 0, 8);
  if (a >= 1e4) return (x < 0 ? std::string(kMinus) : std::string()) + grouped(std::llround(a));
  return fmt::format("{}{:.{}f}", x < 0 ? kMinus : "", a, decimals);
}

std::string signed_plain(double x, int sig) {
  if (!std::isfinite(x)) return kDash;
  const std::string s = plain(x, sig);
  return (x > 0 && s != "0") ? "+" + s : s;
}

std::string value_text(double x, Unit unit) {
  switch (unit) {
    case Unit::kUsd: return money(x);
    case Unit::kCount: return plain(x, 4);
    case Unit::kProbability: return pct(x);
  }
  return kDash;
}

std::string difference_text(double x, Unit unit) {
  switch (unit) {
    case Unit::kUsd: return signed_money(x);
    case Unit::kCount: return signed_plain(x, 3);
    case Unit::kProbability: return signed_pp(x);
  }
  return kDash;
}

// ---------------------------------------------------------------------------
// Colours.

const std::array<const char*, models::kLayerCount + 1> kLayerColour = {
    "#1f4e79",  // defaulter_im
    "#5b9bd5",  // defaulter_df
    "#1b7f79",  // sitg
    "#7fc8bd",  // sitg2
    "#e69f00",  // mutualized_df
    "#b35806",  // assessments
    "#f0d35b",  // vmgh
    "#7b5ea7",  // insurance_fund
    "#c3a6dc",  // adl
    "#8c5a3c",  // lender_haircut
    "#6e6e6e",  // ccp_equity
    "#c62828",  // uncovered
};
const std::array<const char*, models::kLayerCount + 1> kLayerLabel = {
    "Defaulter IM", "Defaulter DF",     "SITG",           "Second SITG",       "Mutualised DF",
    "Assessments",  "VM gains haircut", "Insurance fund", "Auto-deleveraging", "Lender haircut",
    "CCP equity",   "Uncovered"};

const std::array<const char*, 6> kRiskColour = {"#f4f4f4", "#ffeda0", "#fed976", "#fd8d3c", "#e31a1c", "#800026"};
const std::array<const char*, 6> kRiskLabel = {"0", "under 0.1%", "0.1% to 1%", "1% to 5%", "5% to 25%", "25% or more"};

std::size_t risk_class(double p) {
  if (!(p > 0.0)) return 0;
  if (p < 0.001) return 1;
  if (p < 0.01) return 2;
  if (p < 0.05) return 3;
  if (p < 0.25) return 4;
  return 5;
}

std::string Ids::operator()(const char* kind) { return fmt::format("{}{}-{}", prefix_, kind, ++next_); }

namespace {

// SVG coordinate.
std::string c1(double x) { return fmt::format("{:.1f}", std::isfinite(x) ? x : 0.0); }

// ---------------------------------------------------------------------------
// Axes.

struct Frame {
  double x, y, w, h;  // plot area: left, top, width, height
};

// Ticks at 1, 2 or 5 x 10^k covering [lo, hi]; lo and hi are widened to them.
std::vector<double> nice_ticks(double& lo, double& hi, int target = 5) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0.0, hi = 1.0;
  if (hi - lo <= 0.0) {
    const double pad = lo == 0.0 ? 1.0 : std::abs(lo) * 0.5;
    lo -= lo == 0.0 ? 0.0 : pad;
    hi += pad;
  }
  const double raw = (hi - lo) / target;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double r = raw / magnitude;
  const double step = (r < 1.5 ? 1.0 : r < 3.0 ? 2.0 : r < 7.0 ? 5.0 : 10.0) * magnitude;
  lo = std::floor(lo / step + 1e-9) * step;
  hi = std::ceil(hi / step - 1e-9) * step;
  std::vector<double> ticks;
  for (int i = 0; i <= 100; ++i) {
    double t = lo + step * i;
    if (t > hi + step * 1e-6) break;
    if (std::abs(t) < step * 1e-9) t = 0.0;
    ticks.push_back(t);
  }
  return ticks;
}

std::string pct_tick(double share_percent) {
  std::string s = fmt::format("{:.6g}", share_percent);
  return s + "%";
}

// Powers of ten as a share: 100%, 10%, 1%, 0.1%, ...
std::string decade_pct(int k) {
  if (k >= 0) return fmt::format("{:.0f}%", 100.0 * std::pow(10.0, k));
  const int decimals = std::max(0, -k - 2);
  return fmt::format("{:.{}f}%", 100.0 * std::pow(10.0, k), decimals);
}

std::string svg_open(double w, double h, const std::string& title, const std::string& id) {
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" role=\"img\" aria-labelledby=\"{}\">"
      "<title id=\"{}\">{}</title>\n",
      c1(w), c1(h), id, id, title);
}

Svg finished(double w, double h, std::string markup) { return {w, h, std::move(markup) + "</svg>\n"}; }

std::string y_axis(const Frame& f, double lo, double hi, const std::vector<double>& ticks, std::string (*label)(double),
                   const std::string& title) {
  std::string out;
  for (double t : ticks) {
    const double y = f.y + f.h - (t - lo) / (hi - lo) * f.h;
    out += fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"#e6e9ed\"/>", c1(f.x), c1(f.x + f.w),
                       c1(y), c1(y));
    out += fmt::format("<text class=\"ax\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", c1(f.x - 6), c1(y + 4),
                       label(t));
  }
  out +=
      fmt::format("<text class=\"axt\" transform=\"translate({},{}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
                  c1(f.x - 48), c1(f.y + f.h / 2), title);
  return out;
}

// A log-scale x axis over [10^lo, 10^hi] with money labels.
std::string log_x_axis(const Frame& f, int lo, int hi, const std::string& title) {
  std::string out;
  const int decades = hi - lo;
  const int every = decades > 8 ? 2 : 1;
  out += fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"#56606b\"/>", c1(f.x), c1(f.x + f.w),
                     c1(f.y + f.h), c1(f.y + f.h));
  for (int k = lo; k <= hi; ++k) {
    const double x = f.x + static_cast<double>(k - lo) / decades * f.w;
    out += fmt::format("<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#56606b\"/>", c1(x), c1(f.y + f.h),
                       c1(f.y + f.h + 6));
    if ((k - lo) % every == 0)
      out += fmt::format("<text class=\"ax\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>", c1(x),
                         c1(f.y + f.h + 19), money_tick(std::pow(10.0, k)));
    if (k < hi && decades <= 6)
      for (int m = 2; m <= 9; ++m) {
        const double xm = x + std::log10(m) / decades * f.w;
        out += fmt::format("<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#9aa3ad\"/>", c1(xm),
                           c1(f.y + f.h), c1(f.y + f.h + 3));
      }
  }
  out += fmt::format("<text class=\"axt\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", c1(f.x + f.w / 2),
                     c1(f.y + f.h + 40), title);
  return out;
}

// ---------------------------------------------------------------------------
// The loss distribution.

std::string level_text(double level) { return fmt::format("{:g}%", 100.0 * level); }

// The decades [10^lo, 10^hi] that hold the values and the marks.
std::pair<int, int> log_range(const LossDistribution& d) {
  double vmin = d.values.front(), vmax = d.values.back();
  for (double m : {d.var, d.es})
    if (m > 0.0 && std::isfinite(m)) vmin = std::min(vmin, m), vmax = std::max(vmax, m);
  const int lo = static_cast<int>(std::floor(std::log10(vmin)));
  const int hi = static_cast<int>(std::ceil(std::log10(vmax)));
  return {lo, hi <= lo ? lo + 1 : hi};
}

// Vertical marker lines (VaR dashed, ES dotted red) with labels staggered so they do not overlap.
std::string value_marks(const Frame& f, int lo, int hi, const LossDistribution& d) {
  std::string out;
  struct Mark {
    double value;
    std::string name;
    const char* colour;
    const char* dash;
  };
  const Mark list[] = {{d.var, "VaR " + level_text(d.level), "#1b1f24", "6 4"},
                       {d.es, "ES " + level_text(d.level), "#b2182b", "2 3"}};
  int row = 0;
  for (const Mark& m : list) {
    if (!(m.value > 0.0) || !std::isfinite(m.value)) continue;
    const double x = f.x + (std::log10(m.value) - lo) / (hi - lo) * f.w;
    const double label_y = f.y - 22 + 14 * row++;
    out += fmt::format(
        "<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"{3}\" stroke-width=\"1.6\" "
        "stroke-dasharray=\"{4}\"/>",
        c1(x), c1(label_y + 3), c1(f.y + f.h), m.colour, m.dash);
    const bool right = x > f.x + f.w * 0.62;
    out += fmt::format(
        "<text class=\"lbl halo\" x=\"{}\" y=\"{}\" text-anchor=\"{}\" fill=\"{}\" font-weight=\"600\">{} "
        "{}</text>\n",
        c1(right ? x - 4 : x + 4), c1(label_y), right ? "end" : "start", m.colour, m.name, money(m.value));
  }
  return out;
}

constexpr double kLossWidth = 560, kLossHeight = 330;
constexpr Frame kLossFrame{66, 48, 470, 222};

}  // namespace

std::int64_t LossDistribution::positive() const {
  if (weights.empty()) return static_cast<std::int64_t>(values.size());
  std::int64_t n = 0;
  for (std::int64_t w : weights) n += w;
  return n;
}

Svg loss_histogram(const LossDistribution& d, Ids& ids) {
  const Frame& f = kLossFrame;
  const auto [lo, hi] = log_range(d);
  const int decades = hi - lo;
  const int per_decade = std::clamp(36 / decades, 2, 12);
  const int bins = decades * per_decade;
  std::vector<std::int64_t> counts(static_cast<std::size_t>(bins), 0);
  for (std::size_t i = 0; i < d.values.size(); ++i) {
    const int b = static_cast<int>(std::floor((std::log10(d.values[i]) - lo) * per_decade));
    counts[static_cast<std::size_t>(std::clamp(b, 0, bins - 1))] += d.weight(i);
  }
  const double total = static_cast<double>(d.scenarios);
  double ymax = 0.0;
  for (auto c : counts) ymax = std::max(ymax, 100.0 * static_cast<double>(c) / total);
  double ylo = 0.0, yhi = ymax;
  const auto ticks = nice_ticks(ylo, yhi, 4);
  std::string svg = svg_open(kLossWidth, kLossHeight,
                             fmt::format("Histogram of the non-zero values of the {}, log scale", d.name), ids("hist"));
  svg += y_axis(f, ylo, yhi, ticks, &pct_tick, "share of all scenarios");
  for (int b = 0; b < bins; ++b) {
    const auto count = counts[static_cast<std::size_t>(b)];
    if (count == 0) continue;
    const double share = 100.0 * static_cast<double>(count) / total;
    const double x0 = f.x + static_cast<double>(b) / bins * f.w;
    const double bw = f.w / bins;
    const double bh = std::max(0.8, share / (yhi - ylo) * f.h);
    const double from = std::pow(10.0, lo + static_cast<double>(b) / per_decade);
    const double to = std::pow(10.0, lo + static_cast<double>(b + 1) / per_decade);
    svg += fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#4a7fb5\"><title>{} to {}: {} scenarios "
        "({})</title></rect>\n",
        c1(x0 + 0.5), c1(f.y + f.h - bh), c1(std::max(0.5, bw - 1.0)), c1(bh), money(from), money(to), grouped(count),
        pct(static_cast<double>(count) / total));
  }
  svg += log_x_axis(f, lo, hi, d.axis + " (USD, log scale)");
  svg += value_marks(f, lo, hi, d);
  return finished(kLossWidth, kLossHeight, std::move(svg));
}

Svg exceedance_curve(const LossDistribution& d, Ids& ids) {
  const Frame& f = kLossFrame;
  const auto range = log_range(d);
  const int lo = range.first, hi = range.second;
  const double total = static_cast<double>(d.scenarios);
  const std::int64_t positive = d.positive();
  const double p_any = static_cast<double>(positive) / total;
  const int ytop = p_any > 0.1 ? 0 : static_cast<int>(std::ceil(std::log10(p_any)));
  int ybottom = static_cast<int>(std::floor(std::log10(1.0 / total)));
  if (ybottom >= ytop) ybottom = ytop - 1;
  const auto xpos = [&](double v) { return f.x + (std::log10(v) - lo) / (hi - lo) * f.w; };
  const auto ypos = [&](double p) { return f.y + (ytop - std::log10(p)) / (ytop - ybottom) * f.h; };
  std::string svg = svg_open(kLossWidth, kLossHeight,
                             fmt::format("Probability that the {} exceeds a level, log-log", d.name), ids("exc"));
  for (int k = ybottom; k <= ytop; ++k) {
    const double y = ypos(std::pow(10.0, k));
    svg += fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"#e6e9ed\"/>", c1(f.x), c1(f.x + f.w),
                       c1(y), c1(y));
    svg += fmt::format("<text class=\"ax\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", c1(f.x - 6), c1(y + 4),
                       decade_pct(k));
  }
  svg += fmt::format(
      "<text class=\"axt\" transform=\"translate({},{}) rotate(-90)\" text-anchor=\"middle\">P({} &#8805; "
      "x)</text>\n",
      c1(f.x - 50), c1(f.y + f.h / 2), d.name);
  // The tail probability of the VaR as a reference line (the curve crosses it at the VaR).
  const double tail = 1.0 - d.level;
  if (tail > 0.0 && std::log10(tail) >= ybottom && std::log10(tail) <= ytop) {
    const double y = ypos(tail);
    svg += fmt::format(
        "<line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"#1b1f24\" stroke-width=\"1\" "
        "stroke-dasharray=\"2 3\"/>",
        c1(f.x), c1(f.x + f.w), c1(y), c1(y));
  }
  // Step curve, thinned to about 1,200 points (the tail kept in full).
  const std::size_t m = d.values.size();
  const std::size_t stride = std::max<std::size_t>(1, m / 1000);
  std::string points;
  std::int64_t at_least = positive;  // scenarios with a loss >= values[i]
  for (std::size_t i = 0; i < m; at_least -= d.weight(i), ++i) {
    if (i % stride != 0 && i + 200 < m) continue;
    const double p = static_cast<double>(at_least) / total;
    points += fmt::format("{},{} ", c1(xpos(d.values[i])), c1(ypos(p)));
  }
  svg += fmt::format(
      "<polyline points=\"{}\" fill=\"none\" stroke=\"#4a7fb5\" stroke-width=\"2\" stroke-linejoin=\"round\"/>\n",
      points);
  svg += log_x_axis(f, lo, hi, d.axis + ", x (USD, log scale)");
  svg += value_marks(f, lo, hi, d);
  return finished(kLossWidth, kLossHeight, std::move(svg));
}

// ---------------------------------------------------------------------------
// Stacked bars.

const std::vector<BarSeries>& layer_series() {
  static const std::vector<BarSeries> series = [] {
    std::vector<BarSeries> s;
    for (std::size_t l = 0; l <= kUncovered; ++l)
      s.push_back({kLayerColour[l], kLayerLabel[l], l == kUncovered, l == 3 || l == 4 || l == 6 || l == 8});
    return s;
  }();
  return series;
}

Svg stacked_bars(const BarChart& chart, Ids& ids) {
  const auto& rows = chart.rows;
  const auto& series = chart.series;
  const double width = 1000;
  const double label_w = 190, right_pad = 90, top = 14, row_h = 44, bar_h = 24;
  std::set<std::size_t> used;
  double vmax = 0.0;
  for (const auto& r : rows) {
    double sum = 0.0;
    for (const auto& [k, amount] : r.segments) {
      if (amount > 0.0) used.insert(k);  // the legend lists the series that carry an amount
      sum += std::max(0.0, amount);
    }
    vmax = std::max(vmax, sum);
  }
  const Frame f{label_w, top, width - label_w - right_pad, row_h * static_cast<double>(rows.size())};
  const std::string hatch = ids("hatch");
  const auto fill = [&](std::size_t k) {
    return series[k].hatched ? "url(#" + hatch + ")" : std::string(series[k].colour);
  };
  // Legend: the series that appear, in series order, wrapped.
  std::string legend;
  double lx = label_w, ly = f.y + f.h + 58;
  for (std::size_t k : used) {
    const double item_w = 28 + 7.2 * static_cast<double>(std::string_view(series[k].label).size());
    if (lx + item_w > width - 10) lx = label_w, ly += 20;
    legend += fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"13\" height=\"13\" rx=\"2\" fill=\"{}\" "
        "stroke=\"rgba(0,0,0,.3)\"/>",
        c1(lx), c1(ly - 11), fill(k));
    legend += fmt::format("<text class=\"lbl\" x=\"{}\" y=\"{}\">{}</text>", c1(lx + 18), c1(ly), series[k].label);
    lx += item_w + 14;
  }
  const double height = ly + 14;
  std::string svg = svg_open(width, height, chart.title, ids("bars"));
  const auto hatched = std::find_if(series.begin(), series.end(), [](const BarSeries& s) { return s.hatched; });
  if (hatched != series.end())
    svg += fmt::format(
        "<defs><pattern id=\"{}\" width=\"7\" height=\"7\" patternUnits=\"userSpaceOnUse\" "
        "patternTransform=\"rotate(45)\"><rect width=\"7\" height=\"7\" fill=\"{}\"/><line x1=\"0\" y1=\"0\" "
        "x2=\"0\" y2=\"7\" stroke=\"#fff\" stroke-width=\"2.5\"/></pattern></defs>\n",
        hatch, hatched->colour);
  double lo = 0.0, hi = vmax > 0.0 ? vmax : 1.0;
  const auto ticks = nice_ticks(lo, hi, 6);
  for (double t : ticks) {
    const double x = f.x + (t - lo) / (hi - lo) * f.w;
    svg += fmt::format("<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#e6e9ed\"/>", c1(x), c1(f.y),
                       c1(f.y + f.h));
    svg += fmt::format("<text class=\"ax\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>", c1(x),
                       c1(f.y + f.h + 17), money_tick(t));
  }
  svg += fmt::format("<text class=\"axt\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", c1(f.x + f.w / 2),
                     c1(f.y + f.h + 38), chart.axis);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const BarRow& r = rows[i];
    const double y = f.y + row_h * static_cast<double>(i) + (row_h - bar_h) / 2;
    if (r.highlight)
      svg += fmt::format("<rect x=\"2\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#fdecec\" rx=\"4\"/>",
                         c1(y - (row_h - bar_h) / 2 + 2), c1(width - 4), c1(row_h - 4));
    svg += fmt::format("<text class=\"lbl\" x=\"{}\" y=\"{}\" text-anchor=\"end\" font-weight=\"600\">{}</text>",
                       c1(f.x - 10), c1(y + 10), r.label);
    svg += fmt::format("<text class=\"ax\" x=\"{}\" y=\"{}\" text-anchor=\"end\"{}>{}</text>\n", c1(f.x - 10),
                       c1(y + 24), r.highlight || r.alert ? " style=\"fill:#b2182b;font-weight:600\"" : "", r.sublabel);
    double x = f.x, sum = 0.0;
    for (const auto& [k, amount] : r.segments) sum += std::max(0.0, amount);
    for (const auto& [k, amount] : r.segments) {
      if (!(amount > 0.0)) continue;
      const double w = amount / (hi - lo) * f.w;
      svg += fmt::format(
          "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"{}><title>{}: {} ({} of {})</title>"
          "</rect>",
          c1(x), c1(y), c1(std::max(0.6, w)), c1(bar_h), fill(k),
          series[k].hatched ? " stroke=\"#7a1010\" stroke-width=\"1.5\"" : "", series[k].label, usd(amount),
          pct(amount / sum), chart.whole);
      const double share = amount / sum;
      const std::string label = share >= 0.995 ? "100%" : fmt::format("{:.0f}%", 100.0 * share);
      if (chart.shares && w >= 34 && !series[k].hatched) {
        const bool light = series[k].dark_text;
        svg += fmt::format(
            "<text class=\"lbl\" x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\" "
            "style=\"fill:{}\">{}</text>",
            c1(x + w / 2), c1(y + 16.5), light ? "#1b1f24" : "#fff", light ? "#1b1f24" : "#fff", label);
      }
      x += w;
    }
    svg += fmt::format("<text class=\"lbl\" x=\"{}\" y=\"{}\" font-weight=\"600\">{}</text>\n", c1(x + 6), c1(y + 16.5),
                       sum > 0.0 ? money(sum) : chart.empty);
  }
  svg += fmt::format("<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#56606b\"/>", c1(f.x), c1(f.y),
                     c1(f.y + f.h));
  svg += legend;
  return finished(width, height, std::move(svg));
}

// ---------------------------------------------------------------------------
// The network.

namespace {

using Point = std::pair<double, double>;

// Where the nodes go: CCPs on an inner circle, members evenly spaced on an
// outer ring, each as near as possible to the CCPs it clears at.
struct NetLayout {
  double cx = 0.0, cy = 0.0, rc = 0.0, rm = 0.0;
  std::vector<double> ccp_angle, ccp_r, member_angle, member_r;
  std::vector<Point> ccp_pos, member_pos;
  double top = 0.0, bottom = 0.0;  // vertical extent of the nodes and their labels
};

constexpr double kNetWidth = 1000;

// The angle on the ring a member would like: the mean direction of its CCPs.
std::vector<double> member_targets(const Network& net, const std::vector<double>& ccp_angle) {
  constexpr double kPi = std::numbers::pi;
  const std::size_t nm = net.members.size();
  std::vector<double> target(nm);
  for (std::size_t j = 0; j < nm; ++j) {
    const auto& ccps = net.members[j].ccps;
    double sx = 0.0, sy = 0.0;
    for (int c : ccps) {
      sx += std::cos(ccp_angle[static_cast<std::size_t>(c)]);
      sy += std::sin(ccp_angle[static_cast<std::size_t>(c)]);
    }
    if (ccps.empty()) {
      target[j] = 2 * kPi * static_cast<double>(j) / static_cast<double>(nm);
    } else if (std::hypot(sx, sy) < 0.2 * static_cast<double>(ccps.size())) {
      target[j] = ccp_angle[static_cast<std::size_t>(ccps.front())] + kPi / 2;  // balanced: off to a side
    } else {
      target[j] = std::atan2(sy, sx);
    }
    target[j] = std::fmod(target[j] + 4 * kPi, 2 * kPi);
  }
  return target;
}

NetLayout network_layout(const Network& net) {
  constexpr double kPi = std::numbers::pi;
  const std::size_t nc = net.ccps.size();
  const std::size_t nm = net.members.size();
  NetLayout g;
  g.rc = nc <= 1 ? 0.0 : std::clamp(26.0 * static_cast<double>(nc), 110.0, 190.0);
  g.rm = g.rc + (nc <= 1 ? 40.0 : 0.0) + (nm <= 8 ? 95.0 : 120.0);
  g.cx = kNetWidth / 2, g.cy = g.rm + 64;
  const double start = nc == 2 ? kPi : -kPi / 2;
  g.ccp_angle.resize(nc), g.ccp_r.resize(nc), g.ccp_pos.resize(nc);
  for (std::size_t i = 0; i < nc; ++i) {
    g.ccp_angle[i] = start + 2 * kPi * static_cast<double>(i) / static_cast<double>(nc);
    g.ccp_pos[i] = {g.cx + g.rc * std::cos(g.ccp_angle[i]), g.cy + g.rc * std::sin(g.ccp_angle[i])};
    g.ccp_r[i] = 13.0 + 15.0 * std::clamp(net.ccps[i].size, 0.0, 1.0);
  }
  // Members in the order of their targets, evenly spaced, rotated to stay as
  // close as possible to the targets.
  const std::vector<double> target = member_targets(net, g.ccp_angle);
  std::vector<std::size_t> order(nm);
  for (std::size_t j = 0; j < nm; ++j) order[j] = j;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return target[a] < target[b]; });
  double ox = 0.0, oy = 0.0;
  for (std::size_t k = 0; k < nm; ++k) {
    const double slot = 2 * kPi * static_cast<double>(k) / static_cast<double>(nm);
    ox += std::cos(target[order[k]] - slot);
    oy += std::sin(target[order[k]] - slot);
  }
  const double offset = nm > 0 ? std::atan2(oy, ox) : 0.0;
  g.member_angle.resize(nm), g.member_r.resize(nm), g.member_pos.resize(nm);
  for (std::size_t k = 0; k < nm; ++k) {
    const std::size_t j = order[k];
    g.member_angle[j] = offset + 2 * kPi * static_cast<double>(k) / static_cast<double>(nm);
    g.member_pos[j] = {g.cx + g.rm * std::cos(g.member_angle[j]), g.cy + g.rm * std::sin(g.member_angle[j])};
    g.member_r[j] = 4.5 + 9.0 * std::clamp(net.members[j].node.size, 0.0, 1.0);
  }
  g.top = g.bottom = g.cy;
  for (std::size_t i = 0; i < nc; ++i) {
    g.top = std::min(g.top, g.ccp_pos[i].second - g.ccp_r[i] - 40);
    g.bottom = std::max(g.bottom, g.ccp_pos[i].second + g.ccp_r[i] + 40);
  }
  for (std::size_t j = 0; j < nm; ++j) {
    g.top = std::min(g.top, g.member_pos[j].second - g.member_r[j] - 40);
    g.bottom = std::max(g.bottom, g.member_pos[j].second + g.member_r[j] + 40);
  }
  return g;
}

// The glyph of one legend item at (x, y).
std::string legend_glyph(const LegendItem& item, double x, double y, const std::string& arrow_id) {
  switch (item.kind) {
    case LegendItem::kText:
    case LegendItem::kBreak: return {};
    case LegendItem::kFill:
      return fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"7\" fill=\"{}\" stroke=\"#56606b\"/>", c1(x + 8), c1(y),
                         item.colour);
    case LegendItem::kCircle:
    case LegendItem::kDashedCircle:
      return fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"6\" fill=\"{}\" stroke=\"#56606b\"{}/>", c1(x + 8), c1(y),
                         item.colour, item.kind == LegendItem::kDashedCircle ? " stroke-dasharray=\"3 2\"" : "");
    case LegendItem::kLine:
    case LegendItem::kDashedLine:
      return fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"{}\"{}/>",
                         c1(x - 2), c1(x + 20), c1(y), c1(y), item.colour,
                         item.colour == kMembershipColour ? "1.2" : "4",
                         item.kind == LegendItem::kDashedLine ? " stroke-dasharray=\"7 4\"" : "");
    case LegendItem::kArrow:
    case LegendItem::kHotArrow:
      return fmt::format(
          "<line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"{}\" "
          "marker-end=\"url(#{}-{})\"/>",
          c1(x - 2), c1(x + 16), c1(y), c1(y), item.colour, item.kind == LegendItem::kHotArrow ? "3.5" : "2.2",
          arrow_id, item.kind == LegendItem::kHotArrow ? "link" : "member");
  }
  return {};
}

// The legend below the drawing from `y`, wrapped; `y` ends below its last line.
std::string network_legend(const std::vector<LegendItem>& legend, const std::string& arrow_id, double& y) {
  std::string out;
  const double left = 30;
  double lx = left;
  for (const auto& item : legend) {
    if (item.kind == LegendItem::kBreak) {
      lx = left, y += 24;
      continue;
    }
    const double text_w = 6.9 * static_cast<double>(item.label.size());
    const double item_w = (item.kind == LegendItem::kText ? 0 : 26) + text_w;
    if (lx + item_w > kNetWidth - 20) lx = left, y += 24;
    out += legend_glyph(item, lx, y - 4, arrow_id);
    if (item.kind == LegendItem::kText) {
      out +=
          fmt::format("<text class=\"lbl\" x=\"{}\" y=\"{}\" font-weight=\"600\">{}</text>", c1(lx), c1(y), item.label);
    } else {
      out += fmt::format("<text class=\"lbl\" x=\"{}\" y=\"{}\">{}</text>", c1(lx + 24), c1(y), item.label);
    }
    lx += item_w + 16;
  }
  return out;
}

// The segment from a to b, shortened by ra at a and rb at b (the circles' radii).
std::array<double, 4> shorten(Point a, Point b, double ra, double rb) {
  const double dx = b.first - a.first, dy = b.second - a.second;
  const double d = std::max(1e-9, std::hypot(dx, dy));
  return {a.first + dx / d * ra, a.second + dy / d * ra, b.first - dx / d * rb, b.second - dy / d * rb};
}

// Membership edges (grey lines, then the contagion paths as arrows over them) and links.
std::string network_edges(const Network& net, const NetLayout& g, const std::string& arrow_id) {
  std::string out, hot_edges;
  for (std::size_t j = 0; j < net.members.size(); ++j)
    for (int c : net.members[j].ccps) {
      const auto ci = static_cast<std::size_t>(c);
      const auto& hot_ccps = net.members[j].hot_ccps;
      const bool hot = std::find(hot_ccps.begin(), hot_ccps.end(), c) != hot_ccps.end();
      const auto p = shorten(g.member_pos[j], g.ccp_pos[ci], g.member_r[j], g.ccp_r[ci] + (hot ? 2.0 : 0.0));
      if (hot) {
        hot_edges += fmt::format(
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2.2\" "
            "marker-end=\"url(#{}-member)\"/>",
            c1(p[0]), c1(p[1]), c1(p[2]), c1(p[3]), kHotMember, arrow_id);
      } else {
        out += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"1\"/>", c1(p[0]),
                           c1(p[1]), c1(p[2]), c1(p[3]), kMembershipColour);
      }
    }
  out += "\n" + hot_edges + "\n";
  const double link_width = net.links.size() > 12 ? 2.2 : 4.0;  // a dense mesh in thinner lines
  for (const auto& l : net.links) {
    const auto a = static_cast<std::size_t>(l.a), b = static_cast<std::size_t>(l.b);
    const auto p =
        shorten(g.ccp_pos[a], g.ccp_pos[b], g.ccp_r[a] + (l.both_ways ? 3.0 : 0.0), g.ccp_r[b] + (l.hot ? 3.0 : 0.0));
    out += fmt::format(
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"{}\"{}{}{}><title>{}</title>"
        "</line>\n",
        c1(p[0]), c1(p[1]), c1(p[2]), c1(p[3]), l.hot ? kHotLink : kLinkColour, l.hot ? 5.0 : link_width,
        l.dashed ? " stroke-dasharray=\"9 5\"" : "",
        l.hot ? fmt::format(" marker-end=\"url(#{}-link)\"", arrow_id) : "",
        l.hot && l.both_ways ? fmt::format(" marker-start=\"url(#{}-link)\"", arrow_id) : "", l.tooltip);
  }
  return out;
}

// A member's circle, its label outside the ring (above the top nodes, below
// the bottom ones, beside the others) and its sublabel.
std::string member_node(const NetNode& node, Point at, double r, double angle) {
  const auto [x, y] = at;
  std::string out = fmt::format(
      "<g><title>{}</title><circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{}\" stroke=\"{}\" stroke-width=\"{}\"{}/>",
      node.tooltip, c1(x), c1(y), c1(r), node.fill, node.stroke, node.emphasis && !node.dashed ? "2.5" : "1.2",
      node.dashed ? " stroke-dasharray=\"3 2\"" : "");
  const double ca = std::cos(angle), sa = std::sin(angle);
  const bool sub = !node.sublabel.empty();
  double tx = x, ty = y, sy = y;
  const char* anchor = "middle";
  if (sa < -0.8) {
    ty = y - r - (sub ? 19 : 5);
    sy = y - r - 5;
  } else if (sa > 0.8) {
    ty = y + r + 13;
    sy = ty + 14;
  } else {
    anchor = ca > 0 ? "start" : "end";
    tx = x + (ca > 0 ? 1 : -1) * (r + 5);
    ty = y + (sub ? -1 : 4);
    sy = y + 13;
  }
  out += fmt::format("<text class=\"lbl halo\" x=\"{}\" y=\"{}\" text-anchor=\"{}\"{}>{}</text>", c1(tx), c1(ty),
                     anchor, node.emphasis ? " font-weight=\"600\"" : "", node.label);
  if (sub)
    out += fmt::format("<text class=\"ax halo\" x=\"{}\" y=\"{}\" text-anchor=\"{}\">{}</text>", c1(tx), c1(sy), anchor,
                       node.sublabel);
  return out + "</g>\n";
}

// A CCP's circle with its id on it and its sublabel outside the ring (below a single CCP).
std::string ccp_node(const NetNode& node, Point at, double r, double angle, bool alone) {
  const auto [x, y] = at;
  std::string out = fmt::format(
      "<g><title>{}</title><circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{}\" stroke=\"{}\" stroke-width=\"{}\"/>",
      node.tooltip, c1(x), c1(y), c1(r), node.fill, node.stroke, node.emphasis ? "3.5" : "2");
  out += fmt::format(
      "<text class=\"lbl halo\" x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-weight=\"700\" "
      "font-size=\"12.5\">{}</text>",
      c1(x), c1(y + 4.5), node.label);
  if (!node.sublabel.empty()) {
    const double ca = alone ? 0.0 : std::cos(angle), sa = alone ? 1.0 : std::sin(angle);
    const double d = r + 5;
    const char* anchor = ca > 0.35 ? "start" : ca < -0.35 ? "end" : "middle";
    const double sy = y + d * sa + (sa > 0.35 ? 10 : sa < -0.35 ? -2 : 4);
    out += fmt::format("<text class=\"ax halo\" x=\"{}\" y=\"{}\" text-anchor=\"{}\">{}</text>", c1(x + d * ca), c1(sy),
                       anchor, node.sublabel);
  }
  return out + "</g>\n";
}

}  // namespace

Svg network(const Network& net, Ids& ids) {
  const NetLayout g = network_layout(net);
  const double shift = 10 - g.top;  // moves the drawing to the top of the figure
  const std::string arrow_id = ids("arrow");
  double legend_y = g.bottom + shift + 24;
  const std::string legend = network_legend(net.legend, arrow_id, legend_y);
  const double height = legend_y + 14;

  std::string svg = svg_open(kNetWidth, height, net.title, ids("net"));
  svg += fmt::format(
      "<defs><marker id=\"{0}-link\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"4.5\" "
      "markerHeight=\"4.5\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{1}\"/></marker>"
      "<marker id=\"{0}-member\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"5\" markerHeight=\"5\" "
      "orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{2}\"/></marker></defs>\n",
      arrow_id, kHotLink, kHotMember);
  svg += fmt::format("<g transform=\"translate(0,{})\">\n", c1(shift));
  if (net.ccps.size() > 2)
    svg += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"none\" stroke=\"#eef1f4\" stroke-width=\"1\"/>",
                       c1(g.cx), c1(g.cy), c1(g.rc));
  svg += network_edges(net, g, arrow_id);
  for (std::size_t j = 0; j < net.members.size(); ++j)
    svg += member_node(net.members[j].node, g.member_pos[j], g.member_r[j], g.member_angle[j]);
  for (std::size_t i = 0; i < net.ccps.size(); ++i)
    svg += ccp_node(net.ccps[i], g.ccp_pos[i], g.ccp_r[i], g.ccp_angle[i], net.ccps.size() <= 1);
  svg += "</g>\n" + legend;
  return finished(kNetWidth, height, std::move(svg));
}

// ---------------------------------------------------------------------------
// Dot and whisker.

namespace {

std::string tick_text(double x, Unit unit) {
  switch (unit) {
    case Unit::kUsd: return x < 0 ? std::string(kMinus) + money_tick(-x) : money_tick(x);
    case Unit::kCount: return fmt::format("{:.6g}", x);
    case Unit::kProbability: return fmt::format("{:.6g}", 100.0 * x);
  }
  return kDash;
}

}  // namespace

Svg dot_whisker(const DotWhisker& data, Ids& ids) {
  const std::size_t nv = data.rows.size();
  const double width = 1000, label_w = 210, right = 30, top = 12, row_h = 34;
  const Frame f{label_w, top, width - label_w - right, row_h * static_cast<double>(nv)};
  double lo = 0.0, hi = 0.0;
  for (const DotRow& d : data.rows)
    for (double x : {d.lo, d.hi, d.mean})
      if (std::isfinite(x)) lo = std::min(lo, x), hi = std::max(hi, x);
  if (hi - lo <= 0.0) hi = lo + (data.unit == Unit::kProbability ? 0.01 : data.unit == Unit::kUsd ? 1000.0 : 1.0);
  const double pad = 0.05 * (hi - lo);
  lo -= lo < 0.0 ? pad : 0.0;
  hi += hi > 0.0 ? pad : 0.0;
  const auto ticks = nice_ticks(lo, hi, 6);
  const double height = f.y + f.h + 46;
  const auto xpos = [&](double x) { return f.x + (x - lo) / (hi - lo) * f.w; };
  std::string svg = svg_open(width, height, data.title, ids("dw"));
  for (std::size_t v = 0; v < nv; ++v)
    if (v % 2 == 1)
      svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#f5f7f9\"/>", c1(f.x),
                         c1(f.y + row_h * static_cast<double>(v)), c1(f.w), c1(row_h));
  for (double t : ticks) {
    const double x = xpos(t);
    svg += fmt::format("<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#e6e9ed\"/>", c1(x), c1(f.y),
                       c1(f.y + f.h));
    svg += fmt::format("<text class=\"ax\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>", c1(x),
                       c1(f.y + f.h + 16), tick_text(t, data.unit));
  }
  svg += fmt::format("<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#1b1f24\" stroke-width=\"1.4\"/>",
                     c1(xpos(0.0)), c1(f.y - 4), c1(f.y + f.h));
  svg += fmt::format("<text class=\"axt\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", c1(f.x + f.w / 2),
                     c1(f.y + f.h + 36), data.axis);
  for (std::size_t v = 0; v < nv; ++v) {
    const DotRow& d = data.rows[v];
    const double y = f.y + row_h * (static_cast<double>(v) + 0.5);
    const char* colour = d.lo > 0.0 ? "#b2182b" : d.hi < 0.0 ? "#1f4e79" : "#56606b";
    svg += fmt::format("<text class=\"lbl\" x=\"{}\" y=\"{}\" text-anchor=\"end\" font-weight=\"600\">{}</text>",
                       c1(f.x - 10), c1(y + 4), d.label);
    svg += fmt::format(
        "<g><title>{}: {} [{}, {}]</title><line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"{}\" "
        "stroke-width=\"2\"/>",
        d.label, difference_text(d.mean, data.unit), difference_text(d.lo, data.unit), difference_text(d.hi, data.unit),
        c1(xpos(d.lo)), c1(xpos(d.hi)), c1(y), c1(y), colour);
    for (double x : {d.lo, d.hi})
      svg += fmt::format("<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"{3}\" stroke-width=\"2\"/>",
                         c1(xpos(x)), c1(y - 6), c1(y + 6), colour);
    svg += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"5.5\" fill=\"{}\"/></g>", c1(xpos(d.mean)), c1(y), colour);
    const bool left = xpos(d.hi) > f.x + f.w - 120;
    svg += fmt::format("<text class=\"ax halo\" x=\"{}\" y=\"{}\" text-anchor=\"{}\">{}</text>\n",
                       c1(left ? xpos(d.lo) - 8 : xpos(d.hi) + 8), c1(y + 4), left ? "end" : "start",
                       difference_text(d.mean, data.unit));
  }
  return finished(width, height, std::move(svg));
}

// ---------------------------------------------------------------------------
// Probabilities through time.

Svg time_curves(const TimeCurves& data, Ids& ids) {
  const double width = 700, height = 330 + 18.0 * static_cast<double>(data.series.size());
  const Frame f{70, 20, 600, 240};
  double dlo = data.days.empty() ? 0.0 : data.days.front(), dhi = data.days.empty() ? 1.0 : data.days.back();
  const auto xticks = nice_ticks(dlo, dhi, std::min<int>(10, std::max<int>(1, static_cast<int>(data.days.size()))));
  double plo = 0.0, phi = 0.0;
  for (const TimeSeries& s : data.series)
    for (double x : s.upper)
      if (std::isfinite(x)) phi = std::max(phi, x);
  std::vector<double> yticks = nice_ticks(plo, phi, 5);
  for (double& t : yticks) t *= 100.0;  // percent
  const auto xpos = [&](double d) { return f.x + (d - dlo) / (dhi - dlo) * f.w; };
  const auto ypos = [&](double p) { return f.y + f.h - (p - plo) / (phi - plo) * f.h; };
  std::string svg = svg_open(width, height, data.title, ids("time"));
  svg += y_axis(f, 100.0 * plo, 100.0 * phi, yticks, &pct_tick, data.axis);
  for (double t : xticks)
    svg += fmt::format("<text class=\"ax\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>", c1(xpos(t)),
                       c1(f.y + f.h + 16), fmt::format("{:.6g}", t));
  svg += fmt::format("<text class=\"axt\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">day</text>\n", c1(f.x + f.w / 2),
                     c1(f.y + f.h + 36));
  double legend_y = f.y + f.h + 62;
  for (const TimeSeries& s : data.series) {
    std::string band, line;
    for (std::size_t i = 0; i < data.days.size(); ++i) {
      band += fmt::format("{},{} ", c1(xpos(data.days[i])), c1(ypos(s.upper[i])));
      line += fmt::format("{},{} ", c1(xpos(data.days[i])), c1(ypos(s.value[i])));
    }
    for (std::size_t i = data.days.size(); i-- > 0;)
      band += fmt::format("{},{} ", c1(xpos(data.days[i])), c1(ypos(s.lower[i])));
    svg += fmt::format("<polygon points=\"{}\" fill=\"{}\" fill-opacity=\"0.18\" stroke=\"none\"/>\n", band, s.colour);
    svg += fmt::format(
        "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\" stroke-linejoin=\"round\"/>\n", line,
        s.colour);
    for (std::size_t i = 0; i < data.days.size(); ++i)
      svg +=
          fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"{}\"><title>{}, day {}: {} [{}, {}]</title></circle>",
                      c1(xpos(data.days[i])), c1(ypos(s.value[i])), s.colour, s.label,
                      fmt::format("{:.6g}", data.days[i]), pct(s.value[i]), pct(s.lower[i]), pct(s.upper[i]));
    svg += fmt::format(
        "\n<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"{3}\" stroke-width=\"2.5\"/><text "
        "class=\"lbl\" x=\"{4}\" y=\"{5}\">{6} (shaded: its 95% interval)</text>\n",
        c1(f.x), c1(f.x + 24), c1(legend_y), s.colour, c1(f.x + 32), c1(legend_y + 4), s.label);
    legend_y += 18;
  }
  return finished(width, height, std::move(svg));
}

// ---------------------------------------------------------------------------
// Layout and style.

const char* const kSvgCss =
    "svg .ax{font-size:12px;fill:#56606b}\n"
    "svg .axt{font-size:12.5px;fill:#33404d}\n"
    "svg .lbl{font-size:12px;fill:#1b1f24}\n"
    "svg .halo{paint-order:stroke;stroke:#fff;stroke-width:3.5px;stroke-linejoin:round}\n";

std::string standalone(const Svg& svg) {
  const auto end = svg.markup.find('>') + 1;  // after the opening tag
  return svg.markup.substr(0, end) +
         "<style>\nsvg text{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,Arial,sans-serif}\n" + kSvgCss +
         "</style>" + svg.markup.substr(end);
}

Svg arrange(const std::vector<Svg>& figures, std::size_t columns) {
  columns = std::max<std::size_t>(1, std::min(columns, figures.size()));
  double width = 0.0, height = 0.0;
  std::string inner;
  for (std::size_t start = 0; start < figures.size(); start += columns) {
    double x = 0.0, row_h = 0.0;
    for (std::size_t i = start; i < std::min(figures.size(), start + columns); ++i) {
      const Svg& f = figures[i];
      const std::string& m = f.markup;
      const auto open = m.find("<svg ") + 5;  // a figure's own <svg>, placed at (x, height)
      inner +=
          m.substr(0, open) +
          fmt::format("x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" ", c1(x), c1(height), c1(f.width), c1(f.height)) +
          m.substr(open);
      x += f.width;
      row_h = std::max(row_h, f.height);
    }
    width = std::max(width, x);
    height += row_h;
  }
  return {width, height,
          fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\">\n{}</svg>\n", c1(width),
                      c1(height), inner)};
}

}  // namespace figures
}  // namespace ccpnet
