#include "sim/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <numbers>
#include <set>
#include <stdexcept>
#include <variant>

#include "sim/compare.hpp"
#include "sim/config/field.hpp"
#include "sim/config/schema.hpp"
#include "sim/graph.hpp"
#include "sim/metrics.hpp"
#include "sim/model.hpp"
#include "sim/output.hpp"
#include "sim/reverse.hpp"
#include "sim/runner.hpp"
#include "sim/stress.hpp"

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

namespace {

using models::kLayerCount;
using models::Layer;

std::string esc(std::string_view s) { return html_escape(s); }

// ---------------------------------------------------------------------------
// Numbers for people. Nothing here ever prints "nan" or "inf".

constexpr const char* kMinus = "\u2212";
constexpr const char* kDash = "\u2013";  // shown for a value that is not a finite number

// "12.3m": three significant digits, k / m / bn / tn.
std::string money(double x) {
  if (!std::isfinite(x)) return kDash;
  const double a = std::abs(x);
  if (a < 0.005) return "0";  // rounds to zero cents
  struct Unit {
    double scale;
    const char* suffix;
  };
  static constexpr Unit kUnits[] = {{1e12, "tn"}, {1e9, "bn"}, {1e6, "m"}, {1e3, "k"}, {1.0, ""}};
  for (const Unit& u : kUnits) {
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
std::string plain(double x, int sig = 3) {
  if (!std::isfinite(x)) return kDash;
  if (x == 0.0) return "0";
  const double a = std::abs(x);
  const int magnitude = static_cast<int>(std::floor(std::log10(a)));
  const int decimals = std::clamp(sig - 1 - magnitude, 0, 8);
  if (a >= 1e4) return (x < 0 ? std::string(kMinus) : std::string()) + grouped(std::llround(a));
  return fmt::format("{}{:.{}f}", x < 0 ? kMinus : "", a, decimals);
}

std::string signed_plain(double x, int sig = 3) {
  if (!std::isfinite(x)) return kDash;
  const std::string s = plain(x, sig);
  return (x > 0 && s != "0") ? "+" + s : s;
}

// SVG coordinate.
std::string c1(double x) { return fmt::format("{:.1f}", std::isfinite(x) ? x : 0.0); }

// ---------------------------------------------------------------------------
// Colours: accessible to colour-blind readers (no red/green pair carries
// meaning on its own; every colour is also named in a legend or a label).

// The waterfall layers, in models::Layer order, then "uncovered".
constexpr std::size_t kUncovered = kLayerCount;
constexpr std::array<const char*, kLayerCount + 1> kLayerColour = {
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
constexpr std::array<const char*, kLayerCount + 1> kLayerLabel = {
    "Defaulter IM", "Defaulter DF",     "SITG",           "Second SITG",       "Mutualised DF",
    "Assessments",  "VM gains haircut", "Insurance fund", "Auto-deleveraging", "Lender haircut",
    "CCP equity",   "Uncovered"};

// Probability classes for nodes (ColorBrewer YlOrRd, 5 classes after "never").
constexpr std::array<const char*, 6> kRiskColour = {"#f4f4f4", "#ffeda0", "#fed976", "#fd8d3c", "#e31a1c", "#800026"};
constexpr std::array<const char*, 6> kRiskLabel = {"0", "< 0.1%", "0.1% to 1%", "1% to 5%", "5% to 25%", "25% or more"};
std::size_t risk_class(double p) {
  if (!(p > 0.0)) return 0;
  if (p < 0.001) return 1;
  if (p < 0.01) return 2;
  if (p < 0.05) return 3;
  if (p < 0.25) return 4;
  return 5;
}

// ---------------------------------------------------------------------------
// Page frame.

constexpr const char* kCss = R"css(
:root{--ink:#1b1f24;--muted:#56606b;--rule:#d9dee4;--panel:#f5f7f9;--accent:#1f4e79;--bad:#b2182b;--warn:#8a5300}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:#fff}
header.top{background:#1f2a37;color:#fff;padding:22px 0 18px}
header.top .wrap{max-width:1160px;margin:0 auto;padding:0 32px}
header.top h1{margin:0 0 2px;font-size:25px;font-weight:650;letter-spacing:.1px}
header.top .sub{color:#c9d3de;font-size:15px}
main{max-width:1160px;margin:0 auto;padding:4px 32px 48px}
nav.toc{font-size:14px;margin:14px 0 4px;color:var(--muted)}
nav.toc a{color:var(--accent);margin-right:14px;text-decoration:none}
nav.toc a:hover{text-decoration:underline}
h2{font-size:20px;font-weight:650;border-bottom:2px solid var(--rule);padding-bottom:5px;margin:38px 0 12px}
h3{font-size:16px;font-weight:650;margin:22px 0 8px}
p{margin:8px 0}
.muted{color:var(--muted)}
.meta{display:grid;grid-template-columns:max-content 1fr;gap:3px 18px;font-size:14px;margin:12px 0}
.meta dt{color:var(--muted)}
.meta dd{margin:0;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
.banner{border-radius:6px;padding:10px 14px;margin:14px 0;font-size:14.5px}
.banner.partial{background:#fff4e0;border:1px solid #e3a33b;color:#5c3a00}
.banner.fail{background:#fdecec;border:1px solid #e08b8b;color:#7a1010}
.banner.ok{background:#eef6ee;border:1px solid #9cc79c;color:#1d4d1d}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(240px,1fr));gap:12px;margin:12px 0 8px}
.card{border:1px solid var(--rule);border-radius:8px;padding:10px 14px;background:var(--panel)}
.card .v{font-size:22px;font-weight:650;font-variant-numeric:tabular-nums;line-height:1.25}
.card .k{font-size:13px;color:var(--muted)}
.card .n{font-size:12px;color:var(--muted);margin-top:2px}
.card.bad{border-color:#e08b8b;background:#fdf0f0}
.card.bad .v{color:var(--bad)}
.tablewrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:14px;margin:6px 0 14px}
th,td{padding:6px 10px;border-bottom:1px solid var(--rule);text-align:left;vertical-align:top}
thead th{background:var(--panel);font-weight:600;border-bottom:2px solid var(--rule);vertical-align:bottom}
th.num,td.num{text-align:right;font-variant-numeric:tabular-nums}
td.num{white-space:nowrap}
table.narrow{width:auto;min-width:60%}
tr.failrow td{background:#fdf0f0}
tr.total td{font-weight:600;border-top:2px solid var(--rule)}
td.na{color:#a0a8b0;text-align:right}
.fail{color:var(--bad);font-weight:650}
.ci{font-size:12px;color:var(--muted);font-weight:400}
.swatch{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:6px;vertical-align:-1px;border:1px solid rgba(0,0,0,.25)}
.badge{display:inline-block;padding:0 8px;border-radius:10px;font-size:12px;font-weight:600;line-height:20px;white-space:nowrap}
.badge.bad{background:#b2182b;color:#fff}
.badge.warn{background:#fbe3c0;color:#5c3a00}
.badge.neutral{background:#e8ecf0;color:#33404d}
.badge.better{background:#dbe9f6;color:#0d3b66}
.badge.worse{background:#f9dcd6;color:#7a1d0c}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:16px}
@media (max-width:900px){.grid2{grid-template-columns:1fr}}
figure{margin:14px 0 20px;border:1px solid var(--rule);border-radius:8px;padding:12px 16px 10px;background:#fff}
figure h3{margin:0 0 6px}
figure svg{width:100%;height:auto;display:block}
figcaption{font-size:13.5px;color:var(--muted);margin-top:6px}
svg text{font-family:inherit}
svg .ax{font-size:12px;fill:#56606b}
svg .axt{font-size:12.5px;fill:#33404d}
svg .lbl{font-size:12px;fill:#1b1f24}
svg .halo{paint-order:stroke;stroke:#fff;stroke-width:3.5px;stroke-linejoin:round}
details{margin:10px 0}
details summary{cursor:pointer;font-weight:600;color:var(--accent)}
details pre{max-height:520px;overflow:auto;background:var(--panel);border:1px solid var(--rule);border-radius:6px;padding:12px 14px;font-size:12.5px;line-height:1.45}
ul.defaults{margin:4px 0;padding-left:18px}
footer{max-width:1160px;margin:0 auto;padding:14px 32px 40px;color:var(--muted);font-size:13px;border-top:1px solid var(--rule)}
@media print{
@page{size:A4 landscape;margin:12mm}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{font-size:10.5pt}
header.top{padding:8px 0}
main,footer,header.top .wrap{max-width:none;padding-left:0;padding-right:0}
nav.toc{display:none}
.tablewrap{overflow:visible}
table{font-size:8.5pt;page-break-inside:auto}
thead{display:table-header-group}
tr,.card,.banner{break-inside:avoid;page-break-inside:avoid}
th,td{padding:3px 5px}
td.num{white-space:normal}
figure,svg{break-inside:avoid;page-break-inside:avoid}
h2,h3{break-after:avoid;page-break-after:avoid}
section{break-before:auto}
details pre{max-height:none;overflow:visible;white-space:pre-wrap}
.grid2{grid-template-columns:1fr 1fr}
}
)css";

std::string page_begin(const std::string& title, const std::string& heading, const std::string& subtitle) {
  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<meta name=\"generator\" content=\"ccpnet " CCPNET_VERSION "\">\n";
  out += "<link rel=\"icon\" href=\"data:,\">\n";
  out += fmt::format("<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n", title, kCss);
  out +=
      fmt::format("<header class=\"top\"><div class=\"wrap\"><h1>{}</h1><div class=\"sub\">{}</div></div></header>\n",
                  heading, subtitle);
  out += "<main>\n";
  return out;
}

std::string page_end(const std::string& note) {
  return fmt::format(
      "</main>\n<footer>Generated by ccpnet {}. {} Self-contained page: figures are inline SVG, nothing is "
      "loaded from elsewhere.</footer>\n</body>\n</html>\n",
      CCPNET_VERSION, note);
}

// The exact value of a number shown rounded, kept beside it for readers and
// tests that want every digit (the same text as in the CSV files).
std::string exact_attr(double x) { return std::isfinite(x) ? fmt::format(" data-value=\"{}\"", x) : std::string(); }

// `exact`: the unrounded value, kept in a data-value attribute (none when NaN).
std::string card(const std::string& value, const std::string& label, bool bad = false, const std::string& note = {},
                 double exact = std::numeric_limits<double>::quiet_NaN()) {
  return fmt::format("<div class=\"card{}\"><div class=\"v\"{}>{}</div><div class=\"k\">{}</div>{}</div>\n",
                     bad ? " bad" : "", exact_attr(exact), value, label,
                     note.empty() ? "" : fmt::format("<div class=\"n\">{}</div>", note));
}

std::string swatch(const char* colour) {
  return fmt::format("<span class=\"swatch\" style=\"background:{}\"></span>", colour);
}

// A 95% interval as text: "[0.00088%, 0.028%]" or "[1.2m, 3.4m]"; an end no
// order statistic bounds (too few scenarios in that tail) is "&#8734;".
std::string interval_text(const models::stats::Interval& iv, bool percent) {
  const auto end = [percent](double x) {
    if (std::isinf(x)) return std::string(x > 0 ? "&#8734;" : "&#8722;&#8734;");
    return percent ? pct(x) : money(x);
  };
  return fmt::format("[{}, {}]", end(iv.lower), end(iv.upper));
}

// A table cell's estimate with its 95% interval on the line below.
std::string with_interval(const std::string& value, const models::stats::Interval& iv, bool percent) {
  return fmt::format("{}<br><span class=\"ci\">{}</span>", value, interval_text(iv, percent));
}

std::string resolved_block(const std::string& resolved_yaml) {
  return fmt::format(
      "<details id=\"resolved\"><summary>Resolved scenario (YAML, defaults and overrides applied)</summary>"
      "<pre>{}</pre></details>\n",
      esc(resolved_yaml));
}

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

std::string figure(const std::string& title, const std::string& svg, const std::string& caption,
                   const std::string& id = {}) {
  return fmt::format("<figure{}><h3>{}</h3>\n{}</svg>\n<figcaption>{}</figcaption></figure>\n",
                     id.empty() ? "" : fmt::format(" id=\"{}\"", id), title, svg, caption);
}

struct Ids {
  int next = 0;
  std::string operator()(const char* prefix) { return fmt::format("{}-{}", prefix, ++next); }
};

// Gridlines and labels of a linear y axis.
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
// Figure: the loss distribution.

struct LossMarks {
  double var99 = 0.0, es99 = 0.0;
};

void log_range(const std::vector<double>& values, const LossMarks& marks, int& lo, int& hi) {
  double vmin = values.front(), vmax = values.back();
  for (double m : {marks.var99, marks.es99})
    if (m > 0.0 && std::isfinite(m)) vmin = std::min(vmin, m), vmax = std::max(vmax, m);
  lo = static_cast<int>(std::floor(std::log10(vmin)));
  hi = static_cast<int>(std::ceil(std::log10(vmax)));
  if (hi <= lo) hi = lo + 1;
}

// Vertical marker lines with labels staggered so they do not overlap.
std::string value_marks(const Frame& f, int lo, int hi, const LossMarks& marks) {
  std::string out;
  struct Mark {
    double value;
    const char* name;
    const char* colour;
    const char* dash;
  };
  const Mark list[] = {{marks.var99, "VaR 99%", "#1b1f24", "6 4"}, {marks.es99, "ES 99%", "#b2182b", "2 3"}};
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

std::string loss_histogram(const std::vector<double>& values, std::int64_t n, const LossMarks& marks, Ids& ids) {
  const double width = 560, height = 330;
  const Frame f{66, 48, 470, 222};
  int lo = 0, hi = 1;
  log_range(values, marks, lo, hi);
  const int decades = hi - lo;
  const int per_decade = std::clamp(36 / decades, 2, 12);
  const int bins = decades * per_decade;
  std::vector<std::int64_t> counts(static_cast<std::size_t>(bins), 0);
  for (double v : values) {
    const int b = static_cast<int>(std::floor((std::log10(v) - lo) * per_decade));
    ++counts[static_cast<std::size_t>(std::clamp(b, 0, bins - 1))];
  }
  const double total = static_cast<double>(n);
  double ymax = 0.0;
  for (auto c : counts) ymax = std::max(ymax, 100.0 * static_cast<double>(c) / total);
  double ylo = 0.0, yhi = ymax;
  const auto ticks = nice_ticks(ylo, yhi, 4);
  std::string svg = svg_open(width, height, "Histogram of the non-zero total losses, log scale", ids("hist"));
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
  svg += log_x_axis(f, lo, hi, "total loss borne by non-defaulters (USD, log scale)");
  svg += value_marks(f, lo, hi, marks);
  return svg;
}

std::string exceedance_curve(const std::vector<double>& values, std::int64_t n, const LossMarks& marks, Ids& ids) {
  const double width = 560, height = 330;
  const Frame f{66, 48, 470, 222};
  int lo = 0, hi = 1;
  log_range(values, marks, lo, hi);
  const double total = static_cast<double>(n);
  const double p_any = static_cast<double>(values.size()) / total;
  const int ytop = p_any > 0.1 ? 0 : static_cast<int>(std::ceil(std::log10(p_any)));
  int ybottom = static_cast<int>(std::floor(std::log10(1.0 / total)));
  if (ybottom >= ytop) ybottom = ytop - 1;
  const auto xpos = [&](double v) { return f.x + (std::log10(v) - lo) / (hi - lo) * f.w; };
  const auto ypos = [&](double p) { return f.y + (ytop - std::log10(p)) / (ytop - ybottom) * f.h; };
  std::string svg = svg_open(width, height, "Probability that the total loss exceeds a level, log-log", ids("exc"));
  for (int k = ybottom; k <= ytop; ++k) {
    const double y = ypos(std::pow(10.0, k));
    svg += fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"#e6e9ed\"/>", c1(f.x), c1(f.x + f.w),
                       c1(y), c1(y));
    svg += fmt::format("<text class=\"ax\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", c1(f.x - 6), c1(y + 4),
                       decade_pct(k));
  }
  svg += fmt::format(
      "<text class=\"axt\" transform=\"translate({},{}) rotate(-90)\" text-anchor=\"middle\">P(total loss &#8805; "
      "x)</text>\n",
      c1(f.x - 50), c1(f.y + f.h / 2));
  // The 1% level (VaR 99%) as a reference line.
  if (-2 >= ybottom && -2 <= ytop) {
    const double y = ypos(0.01);
    svg += fmt::format(
        "<line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"#1b1f24\" stroke-width=\"1\" "
        "stroke-dasharray=\"2 3\"/>",
        c1(f.x), c1(f.x + f.w), c1(y), c1(y));
  }
  // Step curve, thinned to about 1,200 points (the tail kept in full).
  const std::size_t m = values.size();
  const std::size_t stride = std::max<std::size_t>(1, m / 1000);
  std::string points;
  for (std::size_t i = 0; i < m; ++i) {
    if (i % stride != 0 && i + 200 < m) continue;
    const double p = static_cast<double>(m - i) / total;
    points += fmt::format("{},{} ", c1(xpos(values[i])), c1(ypos(p)));
  }
  svg += fmt::format(
      "<polyline points=\"{}\" fill=\"none\" stroke=\"#4a7fb5\" stroke-width=\"2\" stroke-linejoin=\"round\"/>\n",
      points);
  svg += log_x_axis(f, lo, hi, "total loss borne by non-defaulters, x (USD, log scale)");
  svg += value_marks(f, lo, hi, marks);
  return svg;
}

// ---------------------------------------------------------------------------
// Figure: horizontal stacked bars, one row per CCP (or per CCP and quantity),
// segments in the order of a list of series (the waterfall layers, or the
// settlement amounts).

// One kind of segment: its colour and legend label; a hatched series is drawn
// with a red outline (what no layer covered); dark_text: labels inside the
// segment in dark ink (a light colour).
struct BarSeries {
  const char* colour;
  const char* label;
  bool hatched = false;
  bool dark_text = false;
};

// The waterfall layers in models::Layer order, then "uncovered".
const std::vector<BarSeries>& layer_series() {
  static const std::vector<BarSeries> series = [] {
    std::vector<BarSeries> s;
    for (std::size_t l = 0; l <= kLayerCount; ++l)
      s.push_back({kLayerColour[l], kLayerLabel[l], l == kUncovered, l == 3 || l == 4 || l == 6 || l == 8});
    return s;
  }();
  return series;
}

struct BarRow {
  std::string label;                                     // escaped
  std::string sublabel;                                  // escaped
  bool highlight = false;                                // shaded row (a failure)
  bool alert = false;                                    // sublabel in red
  std::vector<std::pair<std::size_t, double>> segments;  // series index, amount
};

struct BarText {
  const char* empty = "no loss";   // after a bar with nothing in it
  const char* whole = "the loss";  // what the shares in the tooltips are shares of
  bool shares = true;              // each segment's share of its bar written on it
};

std::string stacked_bars(const std::vector<BarRow>& rows, const std::vector<BarSeries>& series,
                         const std::string& title, const std::string& axis_title, Ids& ids, const BarText& text = {}) {
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
  std::string svg = svg_open(width, height, title, ids("bars"));
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
                     c1(f.y + f.h + 38), axis_title);
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
          pct(amount / sum), text.whole);
      const double share = amount / sum;
      const std::string label = share >= 0.995 ? "100%" : fmt::format("{:.0f}%", 100.0 * share);
      if (text.shares && w >= 34 && !series[k].hatched) {
        const bool light = series[k].dark_text;
        svg += fmt::format(
            "<text class=\"lbl\" x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\" "
            "style=\"fill:{}\">{}</text>",
            c1(x + w / 2), c1(y + 16.5), light ? "#1b1f24" : "#fff", light ? "#1b1f24" : "#fff", label);
      }
      x += w;
    }
    svg += fmt::format("<text class=\"lbl\" x=\"{}\" y=\"{}\" font-weight=\"600\">{}</text>\n", c1(x + 6), c1(y + 16.5),
                       sum > 0.0 ? money(sum) : text.empty);
  }
  svg += fmt::format("<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#56606b\"/>", c1(f.x), c1(f.y),
                     c1(f.y + f.h));
  svg += legend;
  return svg;
}

// ---------------------------------------------------------------------------
// Figure: the network. CCPs on an inner circle, members (or groups of members
// with the same set of CCPs) on an outer ring next to their CCPs.

struct NetNode {
  std::string label;     // escaped
  std::string sublabel;  // escaped
  std::string tooltip;   // escaped
  std::string fill = "#f4f4f4";
  std::string stroke = "#56606b";
  double size = 0.5;  // 0..1: radius between the kind's minimum and maximum
  bool emphasis = false;
  bool dashed = false;
  bool light_text = false;
};
struct NetMember {
  NetNode node;
  std::vector<int> ccps;
  std::vector<int> hot_ccps;  // membership edges on a contagion path (drawn as arrows into the CCP)
};
struct NetLink {
  int a = -1, b = -1;
  bool dashed = false;
  bool hot = false;  // a contagion path: a's failure closed out at b (arrow a -> b)
  bool both_ways = false;
  std::string tooltip;
};
struct LegendItem {
  enum Kind { kFill, kLine, kDashedLine, kArrow, kHotArrow, kCircle, kDashedCircle, kText, kBreak } kind = kFill;
  std::string colour;
  std::string label;
};

constexpr const char* kLinkColour = "#1f4e79";
constexpr const char* kHotLink = "#c62828";
constexpr const char* kHotMember = "#d97a00";
constexpr const char* kMembershipColour = "#b8bfc7";

std::string network_svg(const std::vector<NetNode>& ccps, const std::vector<NetMember>& members,
                        const std::vector<NetLink>& links, const std::vector<LegendItem>& legend,
                        const std::string& title, Ids& ids) {
  constexpr double kPi = std::numbers::pi;
  const double width = 1000;
  const std::size_t nc = ccps.size();
  const std::size_t nm = members.size();
  const double rc = nc <= 1 ? 0.0 : std::clamp(26.0 * static_cast<double>(nc), 110.0, 190.0);
  const double rm = rc + (nc <= 1 ? 40.0 : 0.0) + (nm <= 8 ? 95.0 : 120.0);
  const double cx = width / 2, cy = rm + 64;
  const double start = nc == 2 ? kPi : -kPi / 2;
  std::vector<double> ccp_angle(nc), ccp_r(nc);
  std::vector<std::pair<double, double>> ccp_pos(nc);
  for (std::size_t i = 0; i < nc; ++i) {
    ccp_angle[i] = start + 2 * kPi * static_cast<double>(i) / static_cast<double>(nc);
    ccp_pos[i] = {cx + rc * std::cos(ccp_angle[i]), cy + rc * std::sin(ccp_angle[i])};
    ccp_r[i] = 13.0 + 15.0 * std::clamp(ccps[i].size, 0.0, 1.0);
  }
  // Members: a target angle near their CCPs, then evenly spaced in that order,
  // rotated to stay as close as possible to the targets.
  std::vector<double> target(nm);
  for (std::size_t j = 0; j < nm; ++j) {
    double sx = 0.0, sy = 0.0;
    for (int c : members[j].ccps) {
      sx += std::cos(ccp_angle[static_cast<std::size_t>(c)]);
      sy += std::sin(ccp_angle[static_cast<std::size_t>(c)]);
    }
    if (members[j].ccps.empty()) {
      target[j] = 2 * kPi * static_cast<double>(j) / static_cast<double>(nm);
    } else if (std::hypot(sx, sy) < 0.2 * static_cast<double>(members[j].ccps.size())) {
      target[j] = ccp_angle[static_cast<std::size_t>(members[j].ccps.front())] + kPi / 2;  // balanced: off to a side
    } else {
      target[j] = std::atan2(sy, sx);
    }
    target[j] = std::fmod(target[j] + 4 * kPi, 2 * kPi);
  }
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
  std::vector<double> member_angle(nm), member_r(nm);
  std::vector<std::pair<double, double>> member_pos(nm);
  for (std::size_t k = 0; k < nm; ++k) {
    const std::size_t j = order[k];
    member_angle[j] = offset + 2 * kPi * static_cast<double>(k) / static_cast<double>(nm);
    member_pos[j] = {cx + rm * std::cos(member_angle[j]), cy + rm * std::sin(member_angle[j])};
    member_r[j] = 4.5 + 9.0 * std::clamp(members[j].node.size, 0.0, 1.0);
  }

  // The drawing's vertical extent (nodes and their labels); the legend follows it.
  double top = cy, bottom = cy;
  for (std::size_t i = 0; i < nc; ++i) {
    top = std::min(top, ccp_pos[i].second - ccp_r[i] - 40);
    bottom = std::max(bottom, ccp_pos[i].second + ccp_r[i] + 40);
  }
  for (std::size_t j = 0; j < nm; ++j) {
    top = std::min(top, member_pos[j].second - member_r[j] - 40);
    bottom = std::max(bottom, member_pos[j].second + member_r[j] + 40);
  }
  const double shift = 10 - top;  // moves the drawing to the top of the figure

  const std::string arrow_id = ids("arrow");
  // Legend below the drawing, wrapped.
  std::string legend_svg;
  const double left = 30;
  double lx = left, ly = bottom + shift + 24;
  for (const auto& item : legend) {
    if (item.kind == LegendItem::kBreak) {
      lx = left, ly += 24;
      continue;
    }
    const double text_w = 6.9 * static_cast<double>(item.label.size());
    const double item_w = (item.kind == LegendItem::kText ? 0 : 26) + text_w;
    if (lx + item_w > width - 20) lx = left, ly += 24;
    const double gy = ly - 4;
    switch (item.kind) {
      case LegendItem::kText:
      case LegendItem::kBreak: break;
      case LegendItem::kFill:
        legend_svg += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"7\" fill=\"{}\" stroke=\"#56606b\"/>", c1(lx + 8),
                                  c1(gy), item.colour);
        break;
      case LegendItem::kCircle:
      case LegendItem::kDashedCircle:
        legend_svg +=
            fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"6\" fill=\"{}\" stroke=\"#56606b\"{}/>", c1(lx + 8), c1(gy),
                        item.colour, item.kind == LegendItem::kDashedCircle ? " stroke-dasharray=\"3 2\"" : "");
        break;
      case LegendItem::kLine:
      case LegendItem::kDashedLine:
        legend_svg += fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"{}\"{}/>",
                                  c1(lx - 2), c1(lx + 20), c1(gy), c1(gy), item.colour,
                                  item.colour == kMembershipColour ? "1.2" : "4",
                                  item.kind == LegendItem::kDashedLine ? " stroke-dasharray=\"7 4\"" : "");
        break;
      case LegendItem::kArrow:
      case LegendItem::kHotArrow:
        legend_svg += fmt::format(
            "<line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"{}\" "
            "marker-end=\"url(#{}-{})\"/>",
            c1(lx - 2), c1(lx + 16), c1(gy), c1(gy), item.colour, item.kind == LegendItem::kHotArrow ? "3.5" : "2.2",
            arrow_id, item.kind == LegendItem::kHotArrow ? "link" : "member");
        break;
    }
    if (item.kind == LegendItem::kText) {
      legend_svg += fmt::format("<text class=\"lbl\" x=\"{}\" y=\"{}\" font-weight=\"600\">{}</text>", c1(lx), c1(ly),
                                item.label);
    } else {
      legend_svg += fmt::format("<text class=\"lbl\" x=\"{}\" y=\"{}\">{}</text>", c1(lx + 24), c1(ly), item.label);
    }
    lx += item_w + 16;
  }
  const double height = ly + 14;

  std::string svg = svg_open(width, height, title, ids("net"));
  svg += fmt::format(
      "<defs><marker id=\"{0}-link\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"4.5\" "
      "markerHeight=\"4.5\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{1}\"/></marker>"
      "<marker id=\"{0}-member\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"5\" markerHeight=\"5\" "
      "orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{2}\"/></marker></defs>\n",
      arrow_id, kHotLink, kHotMember);
  svg += fmt::format("<g transform=\"translate(0,{})\">\n", c1(shift));
  if (nc > 2)
    svg += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"none\" stroke=\"#eef1f4\" stroke-width=\"1\"/>",
                       c1(cx), c1(cy), c1(rc));

  // Membership edges, then links, then nodes.
  const auto shorten = [](std::pair<double, double> a, std::pair<double, double> b, double ra, double rb) {
    const double dx = b.first - a.first, dy = b.second - a.second;
    const double d = std::max(1e-9, std::hypot(dx, dy));
    return std::array<double, 4>{a.first + dx / d * ra, a.second + dy / d * ra, b.first - dx / d * rb,
                                 b.second - dy / d * rb};
  };
  std::string hot_edges;
  for (std::size_t j = 0; j < nm; ++j)
    for (int c : members[j].ccps) {
      const auto ci = static_cast<std::size_t>(c);
      const bool hot =
          std::find(members[j].hot_ccps.begin(), members[j].hot_ccps.end(), c) != members[j].hot_ccps.end();
      const auto p = shorten(member_pos[j], ccp_pos[ci], member_r[j], ccp_r[ci] + (hot ? 2.0 : 0.0));
      if (hot) {
        hot_edges += fmt::format(
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2.2\" "
            "marker-end=\"url(#{}-member)\"/>",
            c1(p[0]), c1(p[1]), c1(p[2]), c1(p[3]), kHotMember, arrow_id);
      } else {
        svg += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"1\"/>", c1(p[0]),
                           c1(p[1]), c1(p[2]), c1(p[3]), kMembershipColour);
      }
    }
  svg += "\n" + hot_edges + "\n";
  const double link_width = links.size() > 12 ? 2.2 : 4.0;  // a dense mesh in thinner lines
  for (const auto& l : links) {
    const auto a = static_cast<std::size_t>(l.a), b = static_cast<std::size_t>(l.b);
    const auto p =
        shorten(ccp_pos[a], ccp_pos[b], ccp_r[a] + (l.both_ways ? 3.0 : 0.0), ccp_r[b] + (l.hot ? 3.0 : 0.0));
    svg += fmt::format(
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"{}\"{}{}{}><title>{}</title>"
        "</line>\n",
        c1(p[0]), c1(p[1]), c1(p[2]), c1(p[3]), l.hot ? kHotLink : kLinkColour, l.hot ? 5.0 : link_width,
        l.dashed ? " stroke-dasharray=\"9 5\"" : "",
        l.hot ? fmt::format(" marker-end=\"url(#{}-link)\"", arrow_id) : "",
        l.hot && l.both_ways ? fmt::format(" marker-start=\"url(#{}-link)\"", arrow_id) : "", l.tooltip);
  }
  for (std::size_t j = 0; j < nm; ++j) {
    const NetNode& node = members[j].node;
    const auto [x, y] = member_pos[j];
    const double r = member_r[j];
    svg += fmt::format(
        "<g><title>{}</title><circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{}\" stroke=\"{}\" stroke-width=\"{}\"{}/>",
        node.tooltip, c1(x), c1(y), c1(r), node.fill, node.stroke, node.emphasis && !node.dashed ? "2.5" : "1.2",
        node.dashed ? " stroke-dasharray=\"3 2\"" : "");
    // Labels outside the ring: above the top nodes, below the bottom ones, beside the others.
    const double ca = std::cos(member_angle[j]), sa = std::sin(member_angle[j]);
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
    svg += fmt::format("<text class=\"lbl halo\" x=\"{}\" y=\"{}\" text-anchor=\"{}\"{}>{}</text>", c1(tx), c1(ty),
                       anchor, node.emphasis ? " font-weight=\"600\"" : "", node.label);
    if (sub)
      svg += fmt::format("<text class=\"ax halo\" x=\"{}\" y=\"{}\" text-anchor=\"{}\">{}</text>", c1(tx), c1(sy),
                         anchor, node.sublabel);
    svg += "</g>\n";
  }
  for (std::size_t i = 0; i < nc; ++i) {
    const NetNode& node = ccps[i];
    const auto [x, y] = ccp_pos[i];
    svg += fmt::format(
        "<g><title>{}</title><circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{}\" stroke=\"{}\" stroke-width=\"{}\"/>",
        node.tooltip, c1(x), c1(y), c1(ccp_r[i]), node.fill, node.stroke, node.emphasis ? "3.5" : "2");
    // The id on the node, the sublabel outside the ring (below a single CCP).
    svg += fmt::format(
        "<text class=\"lbl halo\" x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-weight=\"700\" "
        "font-size=\"12.5\">{}</text>",
        c1(x), c1(y + 4.5), node.label);
    if (!node.sublabel.empty()) {
      const double ca = nc <= 1 ? 0.0 : std::cos(ccp_angle[i]), sa = nc <= 1 ? 1.0 : std::sin(ccp_angle[i]);
      const double d = ccp_r[i] + 5;
      const char* anchor = ca > 0.35 ? "start" : ca < -0.35 ? "end" : "middle";
      const double sy = y + d * sa + (sa > 0.35 ? 10 : sa < -0.35 ? -2 : 4);
      svg += fmt::format("<text class=\"ax halo\" x=\"{}\" y=\"{}\" text-anchor=\"{}\">{}</text>", c1(x + d * ca),
                         c1(sy), anchor, node.sublabel);
    }
    svg += "</g>\n";
  }
  svg += "</g>\n" + legend_svg;
  return svg;
}

// Members drawn one by one up to this many; beyond, one node per set of CCPs.
constexpr std::size_t kMaxMembersDrawn = 60;
constexpr std::size_t kMaxGroupsDrawn = 30;

struct MemberGroup {
  std::vector<int> ccps;
  std::vector<int> members;
  double capital = 0.0;
  std::size_t sets = 1;  // sets of CCPs merged into the group
};

// Members grouped by the set of CCPs they clear at, largest groups first; the
// rest (beyond kMaxGroupsDrawn) are returned in `rest`.
std::vector<MemberGroup> group_members(const Model& model, const SystemGraph& graph, MemberGroup& rest) {
  std::map<std::vector<int>, MemberGroup> by_set;
  for (std::size_t m = 0; m < model.members.size(); ++m) {
    auto ccps = graph.ccps_of(static_cast<int>(m));
    auto& g = by_set[ccps];
    g.ccps = ccps;
    g.members.push_back(static_cast<int>(m));
    g.capital += model.members[m].capital;
  }
  std::vector<MemberGroup> groups;
  for (auto& [key, g] : by_set) groups.push_back(std::move(g));
  std::stable_sort(groups.begin(), groups.end(),
                   [](const MemberGroup& a, const MemberGroup& b) { return a.members.size() > b.members.size(); });
  rest = MemberGroup{};
  rest.sets = 0;
  if (groups.size() > kMaxGroupsDrawn) {
    for (std::size_t i = kMaxGroupsDrawn; i < groups.size(); ++i) {
      rest.members.insert(rest.members.end(), groups[i].members.begin(), groups[i].members.end());
      rest.capital += groups[i].capital;
    }
    rest.sets = groups.size() - kMaxGroupsDrawn;
    groups.resize(kMaxGroupsDrawn);
  }
  return groups;
}

std::string ccp_list(const Model& model, const std::vector<int>& ccps) {
  std::string out;
  for (int c : ccps) out += (out.empty() ? "" : ", ") + esc(model.ccps[static_cast<std::size_t>(c)].id);
  return out;
}

std::string link_tooltip(const Model& model, const LinkModel& l) {
  return fmt::format("{} link {} &#8211; {}{}", l.model == config::LinkModel::kPeer ? "peer" : "participant",
                     esc(model.ccps[static_cast<std::size_t>(l.first)].id),
                     esc(model.ccps[static_cast<std::size_t>(l.second)].id),
                     l.segregated ? ", segregated margin" : ", margin not segregated");
}

double sqrt_share(double x, double max) { return max > 0.0 && x > 0.0 ? std::sqrt(x / max) : 0.0; }

void link_legend(const Model& model, std::vector<LegendItem>& items) {
  bool peer = false, participant = false;
  for (const auto& l : model.links) (l.model == config::LinkModel::kPeer ? peer : participant) = true;
  if (peer) items.push_back({LegendItem::kLine, kLinkColour, "peer link"});
  if (participant) items.push_back({LegendItem::kDashedLine, kLinkColour, "participant link"});
  items.push_back({LegendItem::kLine, kMembershipColour, "membership"});
}

// ---------------------------------------------------------------------------
// Layer helpers.

std::vector<std::size_t> layer_union(const Model& model) {
  std::set<std::size_t> used;
  for (const auto& c : model.ccps)
    for (auto layer : ledger_layers(c)) used.insert(static_cast<std::size_t>(layer));
  return {used.begin(), used.end()};
}

bool in_waterfall(const CcpModel& ccp, std::size_t layer) {
  const auto layers = ledger_layers(ccp);
  return std::find(layers.begin(), layers.end(), static_cast<Layer>(layer)) != layers.end();
}

double ccp_initial_margin(const Model& model, const CcpModel& ccp) {
  double im = 0.0;
  for (int a : ccp.accounts) im += model.accounts[static_cast<std::size_t>(a)].initial_margin;
  return im;
}

// ---------------------------------------------------------------------------
// Settlement (SPEC 3.8): numbers read from the tables and the summary that
// ccps.csv, chains.csv, bridges.csv and summary.json are written from.

std::string num_cell(const std::string& text, double exact) {
  return fmt::format("<td class=\"num\"{}>{}</td>", exact_attr(exact), text);
}

const Table::Column& table_column(const Table& table, std::string_view name) {
  for (const auto& [column, values] : table.columns)
    if (column == name) return values;
  throw std::logic_error(fmt::format("report: no column '{}' in the table", name));
}
const std::vector<double>& numbers_of(const Table& table, std::string_view name) {
  return std::get<std::vector<double>>(table_column(table, name));
}
const std::vector<std::string>& text_of(const Table& table, std::string_view name) {
  return std::get<std::vector<std::string>>(table_column(table, name));
}

// "0.213 h", "6 h", "156 h": three significant digits, no trailing zeros.
std::string hours(double h) {
  std::string s = plain(h, 3);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s + " h";
}

// Settlement modes and custody in words (the file's names in the tooltip).
std::string mode_words(config::SettlementMode mode) {
  switch (mode) {
    case config::SettlementMode::kInstant: return "instant";
    case config::SettlementMode::kAtomic: return "atomic swap";
    case config::SettlementMode::kFreeOfPayment: return "free of payment";
    case config::SettlementMode::kBridge: return "cross-chain";
    case config::SettlementMode::kL2Optimistic: return "optimistic rollup";
  }
  return kDash;
}
std::string custody_words(config::Custody custody) {
  switch (custody) {
    case config::Custody::kCcp: return "the CCP";
    case config::Custody::kSmartContract: return "smart contract";
    case config::Custody::kCustodian: return "custodian";
    case config::Custody::kBridge: return "bridge";
  }
  return kDash;
}

// Where a CCP's VM settles: its mode, and the chain and bridge it uses.
std::string settlement_route(const Model& model, const CcpModel& ccp) {
  const CcpSettlement& s = ccp.settlement;
  std::string out =
      fmt::format("<span title=\"mode: {}\">{}</span>", esc(config::enum_name(s.mode)), mode_words(s.mode));
  if (s.chain >= 0) out += " on " + esc(model.chains[static_cast<std::size_t>(s.chain)].id);
  if (s.bridge >= 0) out += " via " + esc(model.bridges[static_cast<std::size_t>(s.bridge)].id);
  return out;
}

std::string custody_text(const Model& model, const CcpModel& ccp) {
  const CcpSettlement& s = ccp.settlement;
  std::string out =
      fmt::format("<span title=\"custody: {}\">{}</span>", esc(config::enum_name(s.custody)), custody_words(s.custody));
  if (s.custody_bridge >= 0) out += ": " + esc(model.bridges[static_cast<std::size_t>(s.custody_bridge)].id);
  return out;
}

// The settlement amounts per CCP, for the bars.
const std::vector<BarSeries>& settlement_series() {
  static const std::vector<BarSeries> series = {
      {"#8c2d04", "Principal lost", false, false},
      {"#e69f00", "Replacement cost", false, true},
      {"#4a7fb5", "VM gains settled late", false, false},
  };
  return series;
}

std::string run_settlement_section(const Model& model, const RunResult& result, Ids& ids) {
  const Aggregate& agg = result.aggregate;
  const auto summary = summary_json(model, result);
  const auto& st = summary["settlement"];
  const Table chains = chain_table(model, agg);
  const Table bridges = bridge_table(model, agg);
  const Table ccps = ccp_table(model, agg);
  const auto value = [](const nlohmann::ordered_json& j, const char* key) { return j[key].get<double>(); };

  std::string h = "<section id=\"settlement\"><h2>Settlement</h2>\n";
  h += "<p>Payments and deliveries settle on chains whose time to finality is random, stretched when the market "
       "falls far enough (congestion) and by halts; bridges between chains can be exploited. Variation margin a "
       "member receives counts toward its liquidity only when it is final before the member's earliest payment "
       "deadline: a member that would have met its calls with it defaults for liquidity. Fails cost the principal "
       "in flight (free of payment, bridges, collateral held through a bridge) or the replacement of the "
       "deliveries of an aborted swap (atomic).</p>\n<div class=\"cards\">\n";
  const double delay_defaults = value(st, "mean_settlement_defaults");
  const double shortfall = value(summary["system"], "mean_liquidity_shortfall");
  h += card(plain(delay_defaults), "liquidity defaults caused by settlement delay, mean per scenario",
            delay_defaults > 0.0, "members that VM gains settled in time would have kept solvent in cash",
            delay_defaults);
  h += card(usd(shortfall), "liquidity shortfall, mean per scenario", false,
            "cash missing of the members that defaulted for liquidity, whatever the cause", shortfall);
  h += card(plain(value(st, "mean_fails")), "settlement fails, mean per scenario", false, {}, value(st, "mean_fails"));
  h += card(usd(value(st, "mean_principal_lost")), "principal lost, mean per scenario", false, {},
            value(st, "mean_principal_lost"));
  h += card(usd(value(st, "mean_replacement_cost")), "replacement cost, mean per scenario", false, {},
            value(st, "mean_replacement_cost"));
  h += card(usd(value(st, "mean_late_inflows")), "VM gains settled late, mean per scenario", false,
            "paid, but after the receiver's deadline: a liquidity drain, not a loss", value(st, "mean_late_inflows"));
  h += card(usd(value(st, "mean_margin_calls")), "margin called in the scenario, mean", false,
            "IM raised on the updated volatility (margin spiral), collateral top-ups, re-posted collateral",
            value(st, "mean_margin_calls"));
  h += "</div>\n";

  // Chains.
  if (!model.chains.empty()) {
    const auto& calm = numbers_of(chains, "calm_mean_hours");
    const auto& challenge = numbers_of(chains, "challenge_hours");
    const auto& realised = numbers_of(chains, "mean_finality_hours");
    const auto& congested = numbers_of(chains, "p_congested");
    const auto& halted = numbers_of(chains, "p_halted");
    const auto& fails = numbers_of(chains, "mean_fails");
    const auto& loss = numbers_of(chains, "mean_loss");
    const auto& late = numbers_of(chains, "mean_late_inflows");
    const auto& family = text_of(chains, "distribution");
    const bool any_challenge = std::any_of(challenge.begin(), challenge.end(), [](double x) { return x > 0.0; });
    h += "<h3>Chains</h3>\n<div class=\"tablewrap\"><table>\n<thead><tr><th>chain</th>"
         "<th class=\"num\">calibrated mean finality</th>";
    if (any_challenge) h += "<th class=\"num\">challenge period</th>";
    h += "<th class=\"num\">realised mean finality</th><th class=\"num\">P(congested)</th>"
         "<th class=\"num\">P(halted)</th><th class=\"num\">fails, mean</th><th class=\"num\">loss, mean (USD)</th>"
         "<th class=\"num\">VM gains late, mean (USD)</th></tr></thead>\n<tbody>\n";
    for (std::size_t k = 0; k < model.chains.size(); ++k) {
      const ChainModel& chain = model.chains[k];
      std::string stress;
      if (chain.congests)
        stress += fmt::format("&#215;{:g} when its assets fall {:g}% or more", chain.congestion_multiplier,
                              100.0 * chain.congestion_drop);
      if (chain.halt_probability > 0.0)
        stress += fmt::format("{}halts in {} of scenarios, for {}", stress.empty() ? "" : "; ",
                              pct(chain.halt_probability), hours(chain.halt_hours));
      h += fmt::format("<tr><td><strong>{}</strong><br><span class=\"muted\">{}{}{}</span></td>{}", esc(chain.id),
                       esc(family[k]), stress.empty() ? "" : "; ", stress, num_cell(hours(calm[k]), calm[k]));
      if (any_challenge) h += num_cell(challenge[k] > 0.0 ? hours(challenge[k]) : kDash, challenge[k]);
      h += num_cell(hours(realised[k]), realised[k]) + num_cell(pct(congested[k]), congested[k]) +
           num_cell(pct(halted[k]), halted[k]) + num_cell(plain(fails[k]), fails[k]) +
           num_cell(money(loss[k]), loss[k]) + num_cell(money(late[k]), late[k]) + "</tr>\n";
    }
    h += "</tbody></table></div>\n<p class=\"muted\">Calibrated: the mean time to finality of the chain's "
         "distribution in a calm market. Realised: the mean over the scenarios, congestion and halts included. "
         "Fails and losses: the deliveries and payments on the chain that failed, and what they cost (principal "
         "lost and replacement costs). VM gains late: variation margin paid on the chain after the receiver's "
         "deadline.</p>\n";
  }

  // Bridges.
  if (!model.bridges.empty()) {
    const auto& p = numbers_of(bridges, "exploit_probability");
    const auto& realised = numbers_of(bridges, "p_exploited");
    const auto& loss = numbers_of(bridges, "mean_loss");
    h += "<h3>Bridges</h3>\n<div class=\"tablewrap\"><table>\n<thead><tr><th>bridge</th><th>used by</th>"
         "<th class=\"num\">recovery</th><th class=\"num\">delay</th><th class=\"num\">exploit probability</th>"
         "<th class=\"num\">realised P(exploited)</th><th class=\"num\">loss, mean (USD)</th></tr></thead>\n"
         "<tbody>\n";
    for (std::size_t b = 0; b < model.bridges.size(); ++b) {
      const BridgeModel& bridge = model.bridges[b];
      std::string users;
      for (const auto& ccp : model.ccps) {
        const bool vm = ccp.settlement.bridge == static_cast<int>(b);
        const bool custody = ccp.settlement.custody_bridge == static_cast<int>(b);
        if (!vm && !custody) continue;
        users += fmt::format("{}{} ({})", users.empty() ? "" : ", ", esc(ccp.id),
                             vm && custody ? "settlement and custody"
                             : vm          ? "settlement"
                                           : "custody");
      }
      h += fmt::format("<tr><td><strong>{}</strong></td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>",
                       esc(bridge.id), users.empty() ? kDash : users, pct(bridge.recovery_rate),
                       hours(bridge.delay_hours));
      h += num_cell(pct(p[b]), p[b]) + num_cell(pct(realised[b]), realised[b]) + num_cell(money(loss[b]), loss[b]) +
           "</tr>\n";
    }
    h += "</tbody></table></div>\n<p class=\"muted\">Exploit probability: per scenario, as calibrated; realised: "
         "the share of scenarios where the bridge was exploited. Loss: what its users lost through it (VM gains and "
         "deliveries in flight, collateral held through it), less the recovery.</p>\n";
  }

  // CCPs.
  const auto& fails = numbers_of(ccps, "mean_settlement_fails");
  const auto& principal = numbers_of(ccps, "mean_principal_lost");
  const auto& replacement = numbers_of(ccps, "mean_replacement_cost");
  const auto& late = numbers_of(ccps, "mean_late_inflows");
  const auto& calls = numbers_of(ccps, "mean_margin_calls");
  h += "<h3>CCPs</h3>\n<div class=\"tablewrap\"><table>\n<thead><tr><th>CCP</th><th>settlement</th>"
       "<th>custody of collateral</th><th class=\"num\">VM deadline</th><th class=\"num\">fails, mean</th>"
       "<th class=\"num\">principal lost, mean (USD)</th><th class=\"num\">replacement cost, mean (USD)</th>"
       "<th class=\"num\">VM gains late, mean (USD)</th><th class=\"num\">margin called, mean (USD)</th>"
       "</tr></thead>\n<tbody>\n";
  std::vector<BarRow> rows;
  for (std::size_t c = 0; c < model.ccps.size(); ++c) {
    const CcpModel& ccp = model.ccps[c];
    h += fmt::format("<tr><td><strong>{}</strong></td><td>{}</td><td>{}</td><td class=\"num\">{}</td>", esc(ccp.id),
                     settlement_route(model, ccp), custody_text(model, ccp), hours(ccp.settlement.deadline_hours));
    h += num_cell(plain(fails[c]), fails[c]) + num_cell(money(principal[c]), principal[c]) +
         num_cell(money(replacement[c]), replacement[c]) + num_cell(money(late[c]), late[c]) +
         num_cell(money(calls[c]), calls[c]) + "</tr>\n";
    if (ccp.settlement.mode == config::SettlementMode::kInstant && ccp.settlement.custody_bridge < 0) continue;
    BarRow losses;
    losses.label = esc(ccp.id);
    losses.sublabel = "settlement losses";
    losses.segments = {{0, principal[c]}, {1, replacement[c]}};
    BarRow inflows;
    inflows.sublabel = "VM gains settled late";
    inflows.segments = {{2, late[c]}};
    rows.push_back(std::move(losses));
    rows.push_back(std::move(inflows));
  }
  h += "</tbody></table></div>\n<p class=\"muted\">Settlement: how the CCP's variation margin and deliveries "
       "settle (instant, atomic swap, free of payment, cross-chain through a bridge, optimistic rollup) and on which "
       "chain. "
       "Custody: where the members' margin and fund contributions are held. VM deadline: when the CCP's calls are "
       "due. Principal lost includes collateral lost through a custody bridge. Margin called: IM called in the "
       "scenario (a margin spiral on updated volatility, top-ups of collateral posted in a falling asset, collateral "
       "re-posted after a custody loss), due in cash.</p>\n";
  if (!rows.empty())
    h += figure("Settlement losses and late VM gains per CCP",
                stacked_bars(rows, settlement_series(),
                             "Mean settlement losses and mean VM gains settled late per scenario, per CCP",
                             "mean per scenario (USD)", ids, {"none", "the bar", false}),
                "For each CCP that does not settle instantly (or holds collateral through a bridge): the mean "
                "principal lost and replacement cost of settlement fails per scenario, and below it the mean VM "
                "gains its members received after their deadline. Late VM gains are paid in the end: they are "
                "not a loss, but they were missing when the members' calls were due.",
                "fig-settlement");
  h += "</section>\n";
  return h;
}

// The methodology of a run, generated from the model: what ccpnet computed
// with which formula and which inputs, and what it does not model, in words a
// risk committee can read.
std::string methodology_section(const Model& model) {
  std::string h = "<section id=\"methodology\"><h2>Methodology</h2>\n";
  std::string market;
  if (model.history_mode) {
    market = fmt::format(
        "Market moves {} the price history of the scenario ({} daily returns), cumulated over each "
        "CCP's margin period of risk (MPOR).",
        *model.history_mode == config::HistoryMode::kReplay ? "replay windows of" : "resample days (bootstrap) of",
        model.history_log_returns.rows());
  } else {
    market = fmt::format(
        "Market moves: daily log-returns r = &#963; (L z){} over {} asset{}, L the Cholesky factor of their "
        "correlation, {}volatilities scaled by {}; returns add up over each CCP's margin period of risk (MPOR).",
        model.shocks.student_t
            ? fmt::format(
                  " &#8730;((&#957;-2)/W), a Student-t with &#957; = {} degrees of freedom, W ~ &#967;&#178;(&#957;)",
                  plain(model.shocks.dof))
            : " with z standard normal",
        model.assets.size(), model.assets.size() == 1 ? "" : "s",
        model.shocks.jumps ? "market-wide jumps (Poisson count, normal size) added, " : "",
        plain(model.shocks.volatility_multiplier));
  }
  h += "<p>" + market + "</p>\n";
  h += "<div class=\"tablewrap\"><table>\n<thead><tr><th>CCP</th><th>initial margin</th><th>default fund</th>"
       "<th>fund set by</th><th>skin in the game</th><th>waterfall, in order</th></tr></thead>\n<tbody>\n";
  for (const CcpModel& ccp : model.ccps) {
    int moves = 0;
    std::vector<std::string> families;
    for (const auto& [family, count] : ccp.stress_families) {
      moves += count;
      if (count > 0) families.push_back(fmt::format("{} {}", count, family));
    }
    std::vector<std::string> layers;
    for (const auto layer : ccp.waterfall) layers.push_back(esc(models::layer_name(layer)));
    const bool has_fund = in_waterfall(ccp, static_cast<std::size_t>(models::Layer::kDefaulterDf)) ||
                          in_waterfall(ccp, static_cast<std::size_t>(models::Layer::kMutualizedDf));
    h += fmt::format(
        "<tr><td><strong>{}</strong></td><td>{}, MPOR {} day{}</td><td class=\"num\">{}</td>"
        "<td>{}{} required over {} stress moves ({}): {}{}</td><td>{}: {}</td><td>{}{}</td></tr>\n",
        esc(ccp.id), esc(ccp.margin_model), plain(ccp.mpor_days), ccp.mpor_days == 1.0 ? "" : "s",
        money(ccp.default_fund), has_fund ? "" : "no default fund in its waterfall; ", usd(ccp.stress_fund), moves,
        esc(fmt::format("{}", fmt::join(families, ", "))), esc(ccp.stress_scenario),
        ccp.stress_groups.empty() ? std::string()
                                  : esc(fmt::format(" (groups {})", fmt::join(ccp.stress_groups, ", "))),
        money(ccp.sitg), esc(ccp.sitg_rule), fmt::format("{}", fmt::join(layers, " &#8594; ")),
        ccp.link_losses == config::LinkLossRule::kOwnCapital
            ? "; link losses: the link's margin and fund, SITG and capital only"
            : "");
  }
  h += "</tbody></table></div>\n";
  h += "<h3>Formulas</h3>\n<ul class=\"defaults\">\n"
       "<li>Parametric initial margin: IM = q<sub>&#945;</sub> &#8730;h &#8730;(v&#8242; &#931;<sub>d</sub> v), v the "
       "position values, &#931;<sub>d</sub> the daily covariance, h the MPOR in days.</li>\n"
       "<li>Default fund, Cover-2 (EMIR art. 42(3), 43(2)): the largest over the stress set of max(U<sub>1</sub>, "
       "U<sub>2</sub> + U<sub>3</sub>, U<sub>1</sub> + U<sub>2</sub> &#8722; SITG), U<sub>k</sub> the k-th largest "
       "uncovered stress loss (stress loss plus liquidation cost minus IM, floored at 0) of a default group; the Bank "
       "of England variant where chosen.</li>\n"
       "<li>Stress set (RTS 153/2013 art. 30): every asset up and down by k daily standard deviations &#215; "
       "&#8730;h; the file's named moves; each asset alone up and down; spread moves, each pair of assets apart by k "
       "standard deviations under a broken correlation; every window of the price history when there is one.</li>\n"
       "<li>Skin in the game: as given, or 25% of the minimum capital (RTS 153/2013 art. 35).</li>\n"
       "<li>Close-out loss of a defaulter: minus its P&amp;L over the MPOR plus the liquidation cost k |x| "
       "&#8730;(|x| / ADV) per asset; the waterfall layers absorb it in the order above, and a loss left after "
       "the last layer fails the CCP.</li>\n"
       "<li>Cascade: rounds of close-outs, waterfalls, CCP failures over links and member solvency and liquidity "
       "checks until nothing changes.</li>\n</ul>\n";
  h += "<h3>Not modelled</h3>\n<ul class=\"defaults\">\n"
       "<li>The CCPs' operational, legal, investment and business risks (capital enters only as loss-absorbing "
       "layers).</li>\n<li>Currencies: every amount is in one reporting currency (USD).</li>\n"
       "<li>Trading during the MPOR: positions are those of the scenario file until closed out.</li>\n"
       "<li>What the scenario file does not state (for a scenario built by <code>ccpnet calibrate</code>: the "
       "assumptions listed in its comments).</li>\n</ul>\n</section>\n";
  return h;
}

// Default management (ccps[].auction, ccps[].recovery): per CCP that runs
// it, what its auctions cost and left unplaced and what each recovery tool
// covered, mean per scenario with its 95% interval, and how often (Wilson).
std::string default_management_section(const Model& model, const Aggregate& agg) {
  if (!model.default_management) return {};
  const ChunkSums& t = agg.totals();
  const std::int64_t count = t.count;
  const double n = std::max<double>(1.0, static_cast<double>(count));
  std::string h =
      "<h3>Default management and recovery tools</h3>\n<div class=\"tablewrap\"><table>\n<thead><tr><th>CCP</th>"
      "<th>item</th><th class=\"num\">mean per scenario</th><th class=\"num\">P(used)</th></tr></thead>\n<tbody>\n";
  for (std::size_t c = 0; c < model.ccps.size(); ++c) {
    const CcpModel& ccp = model.ccps[c];
    if (!ccp.auction && ccp.recovery.empty()) continue;
    for (std::size_t i = 0; i < kDefaultManagementItems; ++i) {
      const bool tool = i < models::kRecoveryToolCount;
      if (tool && std::find(ccp.recovery.begin(), ccp.recovery.end(), static_cast<models::RecoveryTool>(i)) ==
                      ccp.recovery.end())
        continue;
      if (!tool && !ccp.auction) continue;
      const std::size_t k = c * kDefaultManagementItems + i;
      const std::int64_t used = t.ccp_recovery_used[k];
      h += fmt::format(
          "<tr><td><strong>{}</strong></td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
          esc(ccp.id), esc(default_management_item_name(i)),
          with_interval(money(t.ccp_recovery[k] / n), metric_estimate(t, "ccp_recovery", k).interval, false),
          with_interval(pct(static_cast<double>(used) / n), models::stats::wilson(used, count), true));
    }
  }
  return h +
         "</tbody></table></div>\n<p class=\"muted\">Amounts in USD. auction_cost: the hedging and auction "
         "discount of the defaulters' portfolios (in place of the square-root liquidation cost); unplaced_value: "
         "what the auctions did not sell at the reserve price; cash_call, tear_up, forced_allocation: what each "
         "recovery tool covered after the CCP's last layer, in the rulebook's order. A CCP fails only when its "
         "tools are exhausted.</p>\n";
}

// Members shown in each table of the largest contributors.
constexpr std::size_t kContributorsShown = 20;

struct MemberFigures {
  std::size_t member = 0;
  std::int64_t defaults = 0;    // scenarios in which it defaulted
  double loss = 0.0;            // expected loss borne as a survivor or creditor (all its CCPs)
  double own_collateral = 0.0;  // expected own IM and DF used for its close-outs
};

std::vector<MemberFigures> member_figures(const Model& model, const Aggregate& agg, double n) {
  const ChunkSums& t = agg.totals();
  std::vector<MemberFigures> out(model.members.size());
  for (std::size_t m = 0; m < model.members.size(); ++m) {
    MemberFigures& f = out[m];
    f.member = m;
    for (int cause = 1; cause < kDefaultCauseCount; ++cause)
      f.defaults += t.member_defaults_by_cause[m * kDefaultCauseCount + static_cast<std::size_t>(cause)];
    for (int a : model.members[m].accounts)
      for (int k = 0; k < kLossChannelCount; ++k) {
        const auto channel = static_cast<LossChannel>(k);
        const double v = agg.account_loss(static_cast<std::size_t>(a), channel) / n;
        (channel == LossChannel::kOwnIm || channel == LossChannel::kOwnDf ? f.own_collateral : f.loss) += v;
      }
  }
  return out;
}

// The members who bear the most loss and those most likely to default, at
// any size of the system (members.csv has every membership), and what
// crossed each link.
std::string contributors_section(const Model& model, const Aggregate& agg, const SystemGraph& graph) {
  if (model.members.empty()) return {};
  const ChunkSums& t = agg.totals();
  const std::int64_t count = t.count;
  const double n = std::max<double>(1.0, static_cast<double>(count));
  std::vector<MemberFigures> figures = member_figures(model, agg, n);
  const std::size_t shown = std::min(kContributorsShown, figures.size());
  const std::string scope = shown < figures.size()
                                ? fmt::format("The {} largest of {} members; members.csv lists every membership.",
                                              shown, grouped(static_cast<std::int64_t>(figures.size())))
                                : fmt::format("All {}.", plural(figures.size(), "member"));
  const auto member_row = [&](const MemberFigures& f) {
    const MemberModel& mem = model.members[f.member];
    return fmt::format(
        "<tr><td><strong>{}</strong></td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
        "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
        esc(mem.id), ccp_list(model, graph.ccps_of(static_cast<int>(f.member))), money(mem.capital), money(f.loss),
        t.total_loss > 0.0 ? pct(f.loss * n / t.total_loss) : kDash,
        with_interval(pct(static_cast<double>(f.defaults) / n), models::stats::wilson(f.defaults, count), true),
        money(f.own_collateral));
  };
  const std::string head =
      "<div class=\"tablewrap\"><table>\n<thead><tr><th>member</th><th>clears at</th><th class=\"num\">capital</th>"
      "<th class=\"num\">expected loss borne</th><th class=\"num\">share of total loss</th>"
      "<th class=\"num\">P(default)</th><th class=\"num\">own collateral used, mean</th></tr></thead>\n<tbody>\n";
  std::string h = "<section id=\"members\"><h2>Largest contributors</h2>\n";
  // Ties broken by member index, so that the page is the same for any run order.
  std::stable_sort(figures.begin(), figures.end(),
                   [](const MemberFigures& a, const MemberFigures& b) { return a.loss > b.loss; });
  h += "<h3>Members bearing the most loss</h3>\n" + head;
  for (std::size_t i = 0; i < shown; ++i) h += member_row(figures[i]);
  h += "</tbody></table></div>\n";
  std::stable_sort(figures.begin(), figures.end(),
                   [](const MemberFigures& a, const MemberFigures& b) { return a.defaults > b.defaults; });
  h += "<h3>Members most likely to default</h3>\n" + head;
  for (std::size_t i = 0; i < shown; ++i) h += member_row(figures[i]);
  h += "</tbody></table></div>\n";
  h += fmt::format(
      "<p class=\"muted\">{} Amounts in USD, means per scenario. Loss borne: what the member lost as a survivor "
      "(default-fund contributions consumed, assessments, VM gains haircut, gains taken by ADL, lent balances "
      "written down) and as a creditor of a failed CCP (VM not paid, margin and fund lost), at all its CCPs; its "
      "share of the expected total loss. Own collateral used: its initial margin and fund contribution spent on its "
      "own close-outs when it defaulted. P(default) with its 95% Wilson interval; the expected losses are exact "
      "sums over the scenarios (no interval: the run keeps no per-member second moments).</p>\n",
      scope);
  if (!model.links.empty()) {
    h += "<h3>Links</h3>\n<div class=\"tablewrap\"><table>\n<thead><tr><th>link</th><th>model</th>"
         "<th class=\"num\">margin held by the first</th><th class=\"num\">margin held by the second</th>"
         "<th class=\"num\">link fund</th></tr></thead>\n<tbody>\n";
    for (const LinkModel& l : model.links) {
      const auto im = [&](int account) {
        return account >= 0 ? money(model.accounts[static_cast<std::size_t>(account)].initial_margin)
                            : std::string(kDash);
      };
      h += fmt::format(
          "<tr><td>{} &#8596; {}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
          "<td class=\"num\">{}</td></tr>\n",
          esc(model.ccps[static_cast<std::size_t>(l.first)].id), esc(model.ccps[static_cast<std::size_t>(l.second)].id),
          esc(config::enum_name(l.model)), im(l.account_at_first), im(l.account_at_second), money(l.link_fund));
    }
    h += "</tbody></table></div>\n<p class=\"muted\">Margin each CCP holds from the other on the link (the "
         "participant model: the host holds the participant's margin; the participant holds none). What crossed "
         "the links in the run, per CCP, is the column \"link losses received\" of the CCP table.</p>\n";
  }
  return h + "</section>\n";
}

// The inputs a committee checks the run against: the market, each CCP's
// resources and the members, as the model holds them (after defaults and
// sizing).
std::string inputs_section(const Model& model) {
  std::string h = "<section id=\"inputs\"><h2>Inputs</h2>\n";
  h += fmt::format(
      "<dl class=\"meta\"><dt>Scenarios</dt><dd>{}</dd><dt>Seed</dt><dd>{}</dd><dt>Margin periods of risk</dt>"
      "<dd>{} days</dd><dt>Time steps</dt><dd>{}</dd></dl>\n",
      grouped(model.scenarios), model.seed, fmt::format("{}", fmt::join(model.horizons, ", ")),
      model.steps.count > 0 ? fmt::format("{} steps of {} days{}", model.steps.count, plain(model.steps.days),
                                          model.fire_sales ? ", fire sales" : "")
                            : std::string("one period (each CCP's MPOR)"));
  h += "<h3>Market</h3>\n<div class=\"tablewrap\"><table>\n<thead><tr><th>asset</th><th class=\"num\">price</th>"
       "<th class=\"num\">daily volatility</th><th class=\"num\">average daily volume</th>"
       "<th class=\"num\">liquidation cost k</th></tr></thead>\n<tbody>\n";
  for (const AssetModel& a : model.assets)
    h += fmt::format(
        "<tr><td>{}</td><td class=\"num\"{}>{}</td><td class=\"num\"{}>{}</td><td class=\"num\">{}</td>"
        "<td class=\"num\">{}</td></tr>\n",
        esc(a.id), exact_attr(a.price), plain(a.price, 4), exact_attr(a.daily_vol), pct(a.daily_vol), money(a.adv),
        plain(a.liquidation_k));
  h += "</tbody></table></div>\n";
  h += "<h3>CCPs</h3>\n<div class=\"tablewrap\"><table>\n<thead><tr><th>CCP</th><th>kind</th>"
       "<th class=\"num\">members</th><th class=\"num\">initial margin</th><th class=\"num\">default fund</th>"
       "<th class=\"num\">skin in the game</th><th class=\"num\">capital</th><th class=\"num\">insurance fund</th>"
       "<th class=\"num\">assessments</th><th>initial margin</th></tr></thead>\n<tbody>\n";
  for (const CcpModel& ccp : model.ccps) {
    std::size_t members = 0;
    for (int a : ccp.accounts)
      members += model.accounts[static_cast<std::size_t>(a)].kind == AccountKind::kMember ? 1 : 0;
    h += fmt::format(
        "<tr><td><strong>{}</strong></td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
        "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
        "<td class=\"num\">{} &#215; DF</td><td>{}{}</td></tr>\n",
        esc(ccp.id), esc(config::enum_name(ccp.kind)), grouped(static_cast<std::int64_t>(members)),
        money(ccp_initial_margin(model, ccp)), money(ccp.default_fund), money(ccp.sitg), money(ccp.capital),
        money(ccp.insurance_fund), plain(ccp.assessment_multiple), ccp.im_segregated ? "segregated" : "not segregated",
        ccp.im_segregated ? std::string() : fmt::format(", recovery rate {}", pct(ccp.im_recovery_rate)));
  }
  h += "</tbody></table></div>\n";
  double capital = 0.0, liquidity = 0.0;
  for (const MemberModel& m : model.members) {
    capital += m.capital;
    liquidity += m.liquidity;
  }
  h += fmt::format("<h3>Members</h3>\n<p>{} in {}; capital {} in total, liquid resources {} in total{}.</p>\n",
                   plural(model.members.size(), "member"), plural(model.groups.size(), "default group"), usd(capital),
                   usd(liquidity),
                   model.exogenous_groups.empty() ? std::string()
                                                  : fmt::format("; {} default at the start of every scenario",
                                                                plural(model.exogenous_groups.size(), "group")));
  h += "<p class=\"muted\">Amounts in USD, as the run used them: computed margins and default funds, or the "
       "observed ones where the scenario gives them. Each CCP's margin model, MPOR, fund sizing and waterfall are in "
       "the methodology below; the resolved scenario at the end has every input.</p>\n</section>\n";
  return h;
}

}  // namespace

// ===========================================================================
// run_report

std::string run_report(const Model& model, const RunResult& result, const std::string& scenario_file,
                       const std::string& resolved_yaml) {
  const Aggregate& agg = result.aggregate;
  const ChunkSums& t = agg.totals();
  const std::int64_t count = t.count;
  const double n = std::max<double>(1.0, static_cast<double>(count));
  const std::vector<double>& losses = agg.total_loss_values();  // the non-zero total losses, sorted
  const SystemGraph graph(model);
  Ids ids;

  LossMarks marks;
  marks.var99 = agg.total_loss_quantile(0.99);
  marks.es99 = agg.total_loss_expected_shortfall(0.99);
  const double var999 = agg.total_loss_quantile(0.999);
  const double p_any_fail = static_cast<double>(t.any_ccp_fail) / n;
  const auto of_count = [&](std::int64_t k) { return fmt::format("{} of {} scenarios", grouped(k), grouped(count)); };
  // Every probability and mean with its 95% interval (metric_estimate: Wilson
  // for a probability, the central limit theorem for a mean), every quantile
  // with its order-statistic interval.
  const auto ci = [&](std::string_view metric, std::size_t index = 0) {
    return metric_estimate(t, metric, index).interval;
  };
  const auto ci_note = [&](const models::stats::Interval& iv, bool percent) {
    return "95% interval " + interval_text(iv, percent);
  };

  std::string h = page_begin(fmt::format("ccpnet run report: {}", esc(model.name)),
                             fmt::format("Monte Carlo run: {}", esc(model.name)),
                             fmt::format("{} scenarios &#183; seed {} &#183; {} &#183; {} &#183; {}", grouped(count),
                                         model.seed, plural(model.ccps.size(), "CCP"),
                                         plural(model.members.size(), "member"), plural(model.links.size(), "link")));
  h += "<nav class=\"toc\"><a href=\"#summary\">Summary</a><a href=\"#losses\">Loss distribution</a>"
       "<a href=\"#ccps\">CCPs and waterfalls</a>";
  if (model.settlement_active) h += "<a href=\"#settlement\">Settlement</a>";
  h += "<a href=\"#network\">Network</a><a href=\"#system\">System</a>";
  if (!model.members.empty()) h += "<a href=\"#members\">Largest contributors</a>";
  h += "<a href=\"#inputs\">Inputs</a><a href=\"#methodology\">Methodology</a><a href=\"#scenario\">Scenario</a>"
       "</nav>\n";
  if (result.interrupted)
    h += fmt::format(
        "<div class=\"banner partial\"><strong>Partial result.</strong> The run was interrupted after {} of {} "
        "scenarios; every number and figure below covers the completed scenarios only.</div>\n",
        grouped(result.completed), grouped(result.requested));

  // Summary: metadata and the headline numbers.
  h += "<section id=\"summary\"><h2>Summary</h2>\n<dl class=\"meta\">";
  h += fmt::format("<dt>Scenario</dt><dd>{}</dd>", esc(model.name));
  h += fmt::format("<dt>Scenario file</dt><dd>{}</dd>", esc(scenario_file));
  h += fmt::format("<dt>ccpnet version</dt><dd>{}</dd>", CCPNET_VERSION);
  h += fmt::format("<dt>Seed</dt><dd>{}</dd>", model.seed);
  h += fmt::format(
      "<dt>Scenarios</dt><dd>{} completed of {} requested{}</dd>", grouped(count), grouped(result.requested),
      count > 0 ? fmt::format(" (scenario indices {} to {})", grouped(result.first), grouped(result.first + count - 1))
                : std::string());
  h += fmt::format("<dt>Status</dt><dd>{}</dd>", result.interrupted
                                                     ? "<span class=\"badge warn\">partial: interrupted</span>"
                                                     : "<span class=\"badge neutral\">complete</span>");
  h += "</dl>\n<div class=\"cards\">\n";
  h += card(pct(p_any_fail), "P(any CCP fails)", p_any_fail > 0.0,
            of_count(t.any_ccp_fail) + "<br>" + ci_note(ci("any_ccp_fail"), true));
  h += card(pct(static_cast<double>(t.any_default) / n), "P(any member defaults)", false,
            of_count(t.any_default) + "<br>" + ci_note(ci("any_member_default"), true));
  h += card(
      plain(static_cast<double>(t.member_defaults) / n), "mean member defaults per scenario", false,
      fmt::format("95% interval [{}, {}]", plain(ci("member_defaults").lower), plain(ci("member_defaults").upper)));
  h += card(usd(t.total_loss / n), "expected total loss", false, ci_note(ci("total_loss"), false));
  h += card(usd(marks.var99), "total loss, VaR 99%", false, ci_note(agg.total_loss_quantile_interval(0.99), false));
  h += card(usd(var999), "total loss, VaR 99.9%", false, ci_note(agg.total_loss_quantile_interval(0.999), false));
  h += card(usd(marks.es99), "total loss, ES 99%");
  h += "</div>\n<p class=\"muted\">Total loss: in a scenario, the loss borne by others than the defaulters (every "
       "waterfall layer beyond the defaulters' own margin and default-fund contributions, plus what no layer "
       "covered). VaR: quantile over all scenarios; ES 99%: mean of the worst 1% of scenarios. 95% intervals of the "
       "Monte Carlo estimates: Wilson score intervals for probabilities, mean &#177; 1.96 standard errors for means "
       "(central limit theorem), order statistics at exact binomial ranks for quantiles (&#8734;: too few scenarios "
       "in the tail to bound it); the expected shortfall has none.</p>\n</section>\n";

  // Loss distribution.
  const double zero_share = 1.0 - static_cast<double>(losses.size()) / n;
  h += "<section id=\"losses\"><h2>Loss distribution</h2>\n";
  if (losses.empty()) {
    h += fmt::format(
        "<figure><h3>Loss distribution</h3><p><strong>No scenario had a loss borne by non-defaulters</strong> ({} "
        "with zero loss): there is nothing to plot.</p></figure>\n",
        of_count(count));
  } else {
    const std::string zero_text = fmt::format(
        "<strong>{} of the scenarios ({}) have no loss</strong> borne by non-defaulters and cannot be shown on a log "
        "scale.",
        pct(zero_share), of_count(count - static_cast<std::int64_t>(losses.size())));
    const std::string var_text =
        marks.var99 > 0.0
            ? fmt::format("VaR 99% = {} (dashed), ES 99% = {} (dotted, red).", usd(marks.var99), usd(marks.es99))
            : fmt::format("VaR 99% is 0: more than 99% of the scenarios have no loss. ES 99% = {} (dotted, red).",
                          usd(marks.es99));
    h += "<div class=\"grid2\">\n";
    h += figure("Loss distribution: histogram", loss_histogram(losses, count, marks, ids),
                fmt::format("Share of all {} scenarios with a total loss in each bin (bins of equal width on the log "
                            "scale). {} {}",
                            grouped(count), zero_text, var_text));
    h += figure("Loss distribution: exceedance curve", exceedance_curve(losses, count, marks, ids),
                fmt::format("Probability that the total loss is at least x. The dotted horizontal line is the 1% "
                            "level: the curve crosses it at VaR 99%.{}",
                            marks.var99 > 0.0 ? "" : " Here VaR 99% is 0."));
    h += "</div>\n";
  }
  h += "</section>\n";

  // Per CCP: the table, then the waterfall figures and the layer table.
  h += "<section id=\"ccps\"><h2>CCPs and waterfalls</h2>\n<div class=\"tablewrap\"><table>\n<thead><tr><th>CCP</th>"
       "<th>kind</th><th>margin model</th><th class=\"num\">initial margin</th><th class=\"num\">default fund</th>"
       "<th class=\"num\">P(fail)</th><th class=\"num\">expected loss</th><th class=\"num\">expected uncovered</th>"
       "<th class=\"num\">P(DF exhausted)</th><th class=\"num\">DF depletion, mean</th><th class=\"num\">DF "
       "depletion, p99</th><th class=\"num\">link losses received, mean</th></tr></thead>\n<tbody>\n";
  for (std::size_t c = 0; c < model.ccps.size(); ++c) {
    const CcpModel& ccp = model.ccps[c];
    const double p_fail = static_cast<double>(t.ccp_fails[c]) / n;
    const std::size_t link_in = c * kLedgerColumns + static_cast<std::size_t>(LedgerColumn::kLinkIn);
    h += fmt::format(
        "<tr{}><td><strong>{}</strong></td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
        "<td class=\"num\" title=\"{}\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
        "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
        "</tr>\n",
        "", esc(ccp.id), esc(config::enum_name(ccp.kind)), esc(ccp.margin_model), money(ccp_initial_margin(model, ccp)),
        money(ccp.default_fund), of_count(t.ccp_fails[c]),
        with_interval(p_fail > 0.0 ? "<span class=\"fail\">" + pct(p_fail) + "</span>" : pct(p_fail),
                      ci("ccp_fails", c), true),
        with_interval(money(t.ccp_loss[c] / n), ci("ccp_loss", c), false),
        with_interval(money(t.ccp_uncovered[c] / n), ci("ccp_uncovered_loss", c), false),
        with_interval(pct(static_cast<double>(t.ccp_df_exhausted[c]) / n), ci("ccp_df_exhausted", c), true),
        with_interval(pct(t.ccp_depletion[c] / n), ci("ccp_df_depletion", c), true),
        with_interval(pct(agg.depletion_quantile(c, 0.99)), agg.depletion_quantile_interval(c, 0.99), true),
        with_interval(money(t.ccp_ledger[link_in] / n), ci("ccp_ledger", link_in), false));
  }
  h += "</tbody></table></div>\n";
  h += "<p class=\"muted\">Amounts in USD. Initial margin: posted by every account at the CCP (members and linked "
       "CCPs). Expected loss: mean loss per scenario at the CCP beyond the defaulters' own resources. DF depletion: "
       "share of the prefunded default fund used in a scenario (mean and 99th percentile). Link losses received: "
       "what reached the CCP over its links (a failed peer's unpaid obligations, charges by a peer's "
       "waterfall), mean per scenario; it runs through the CCP's own layers (or its capital only, link_losses: "
       "own_capital) and a CCP fails only when those run out.</p>\n";

  h += default_management_section(model, agg);

  // Waterfall depletion: the whole loss, then the part that reaches beyond the defaulters.
  std::vector<BarRow> all_rows, mutual_rows;
  bool any_mutual = false;
  for (std::size_t c = 0; c < model.ccps.size(); ++c) {
    const CcpModel& ccp = model.ccps[c];
    BarRow r;
    r.label = esc(ccp.id);
    const double p_fail = static_cast<double>(t.ccp_fails[c]) / n;
    r.alert = p_fail > 0.0;
    r.sublabel = fmt::format("P(fail) {}", pct(p_fail));
    BarRow m = r;
    for (auto layer : ledger_layers(ccp)) {
      const auto l = static_cast<std::size_t>(layer);
      const double v = t.ccp_layers[c * kLayerCount + l] / n;
      r.segments.emplace_back(l, v);
      if (layer != Layer::kDefaulterIm && layer != Layer::kDefaulterDf) {
        m.segments.emplace_back(l, v);
        any_mutual = any_mutual || v > 0.0;
      }
    }
    r.segments.emplace_back(kUncovered, t.ccp_uncovered[c] / n);
    m.segments.emplace_back(kUncovered, t.ccp_uncovered[c] / n);
    any_mutual = any_mutual || t.ccp_uncovered[c] > 0.0;
    all_rows.push_back(std::move(r));
    mutual_rows.push_back(std::move(m));
  }
  h += figure("Waterfall depletion per CCP",
              stacked_bars(all_rows, layer_series(), "Mean loss per scenario absorbed by each waterfall layer, per CCP",
                           "mean loss per scenario (USD)", ids),
              "Mean loss per scenario absorbed by each layer of the CCP's default waterfall, in the order the layers "
              "are used (left to right); a hatched red segment is loss no layer covered. P(fail) in red: the CCP fails "
              "in some scenario. Percentages: share of the CCP's bar.",
              "fig-waterfalls");
  if (any_mutual) {
    h += figure("Waterfall depletion beyond the defaulters' own resources",
                stacked_bars(mutual_rows, layer_series(),
                             "Mean loss per scenario beyond the defaulters' margin and fund contributions",
                             "mean loss per scenario (USD)", ids),
                "The same bars without the defaulters' own initial margin and default-fund contribution: the part of "
                "the loss that reaches the CCP's capital, the surviving members and, at the end, the uncovered loss.");
  } else {
    h += "<p><strong>No loss reached beyond the defaulters' own resources</strong> at any CCP: their initial margin "
         "and default-fund contributions covered every close-out.</p>\n";
  }

  // Mean loss per layer: layers in rows (waterfall order of the first CCP that has them), CCPs in columns.
  const auto layers = layer_union(model);
  h += fmt::format(
      "<h3>Mean loss per waterfall layer (USD per scenario)</h3>\n<div class=\"tablewrap\"><table{}>\n"
      "<thead><tr>",
      model.ccps.size() <= 4 ? " class=\"narrow\"" : "");
  h += ""
       "<th>layer</th>";
  for (const auto& ccp : model.ccps) h += fmt::format("<th class=\"num\">{}</th>", esc(ccp.id));
  h += "</tr></thead>\n<tbody>\n";
  for (std::size_t l : layers) {
    h += fmt::format("<tr><td title=\"{}\">{}{}</td>", models::layer_name(static_cast<Layer>(l)),
                     swatch(kLayerColour[l]), kLayerLabel[l]);
    for (std::size_t c = 0; c < model.ccps.size(); ++c)
      h += in_waterfall(model.ccps[c], l)
               ? fmt::format("<td class=\"num\">{}</td>", money(t.ccp_layers[c * kLayerCount + l] / n))
               : std::string("<td class=\"na\" title=\"not in this CCP's waterfall\">&#183;</td>");
    h += "</tr>\n";
  }
  h += fmt::format("<tr><td>{}{}</td>", swatch(kLayerColour[kUncovered]), kLayerLabel[kUncovered]);
  for (std::size_t c = 0; c < model.ccps.size(); ++c)
    h += fmt::format("<td class=\"num{}\">{}</td>", t.ccp_uncovered[c] / n >= 0.005 ? " fail" : "",
                     money(t.ccp_uncovered[c] / n));
  h += "</tr>\n<tr class=\"total\"><td>total</td>";
  for (std::size_t c = 0; c < model.ccps.size(); ++c) {
    double sum = t.ccp_uncovered[c];
    for (std::size_t l : layers) sum += t.ccp_layers[c * kLayerCount + l];
    h += fmt::format("<td class=\"num\">{}</td>", money(sum / n));
  }
  h += "</tr>\n</tbody></table></div>\n<p class=\"muted\">IM: initial margin; DF: default fund; SITG: the CCP's own "
       "capital committed to the waterfall (skin in the game). A dot: the layer is not in that CCP's waterfall."
       "</p>\n</section>\n";

  if (model.settlement_active) h += run_settlement_section(model, result, ids);

  // Network.
  h += "<section id=\"network\"><h2>Network</h2>\n";
  {
    double max_ccp_capital = 0.0;
    for (const auto& c : model.ccps) max_ccp_capital = std::max(max_ccp_capital, c.capital);
    std::vector<NetNode> ccp_nodes;
    for (std::size_t c = 0; c < model.ccps.size(); ++c) {
      const CcpModel& ccp = model.ccps[c];
      const double p_fail = static_cast<double>(t.ccp_fails[c]) / n;
      NetNode node;
      node.label = esc(ccp.id);
      node.sublabel = fmt::format("P(fail) {}", pct(p_fail));
      node.tooltip = fmt::format("{}: capital {}, default fund {}, P(fail) {}", esc(ccp.id), usd(ccp.capital),
                                 usd(ccp.default_fund), pct(p_fail));
      node.fill = kRiskColour[risk_class(p_fail)];
      node.stroke = "#1b1f24";
      node.size = sqrt_share(ccp.capital, max_ccp_capital);
      node.emphasis = p_fail > 0.0;
      ccp_nodes.push_back(node);
    }
    const auto p_default = [&](std::size_t m) {
      std::int64_t k = 0;
      for (int cause = 0; cause < kDefaultCauseCount; ++cause)
        k += t.member_defaults_by_cause[m * kDefaultCauseCount + static_cast<std::size_t>(cause)];
      return static_cast<double>(k) / n;
    };
    std::vector<NetMember> member_nodes;
    std::string note;
    if (model.members.size() <= kMaxMembersDrawn) {
      double max_cap = 0.0;
      for (const auto& m : model.members) max_cap = std::max(max_cap, m.capital);
      for (std::size_t m = 0; m < model.members.size(); ++m) {
        const MemberModel& mem = model.members[m];
        NetMember nm;
        nm.ccps = graph.ccps_of(static_cast<int>(m));
        const double p = p_default(m);
        nm.node.label = esc(mem.id);
        if (model.members.size() <= 16) nm.node.sublabel = fmt::format("P(default) {}", pct(p));
        nm.node.tooltip = fmt::format("{}: capital {}, clears at {}; P(default) {}", esc(mem.id), usd(mem.capital),
                                      ccp_list(model, nm.ccps), pct(p));
        nm.node.fill = kRiskColour[risk_class(p)];
        nm.node.size = sqrt_share(mem.capital, max_cap);
        member_nodes.push_back(std::move(nm));
      }
    } else {
      MemberGroup rest;
      const auto groups = group_members(model, graph, rest);
      double max_cap = 0.0;
      for (const auto& g : groups) max_cap = std::max(max_cap, g.capital);
      for (const auto& g : groups) {
        double expected = 0.0;
        for (int m : g.members) expected += p_default(static_cast<std::size_t>(m));
        const double p = expected / static_cast<double>(g.members.size());
        NetMember nm;
        nm.ccps = g.ccps;
        nm.node.label = grouped(static_cast<std::int64_t>(g.members.size()));
        nm.node.tooltip =
            fmt::format("{} clearing at {}: capital {}, mean P(default) {}", plural(g.members.size(), "member"),
                        ccp_list(model, g.ccps), usd(g.capital), pct(p));
        nm.node.fill = kRiskColour[risk_class(p)];
        nm.node.size = sqrt_share(g.capital, max_cap);
        nm.node.dashed = true;
        member_nodes.push_back(std::move(nm));
      }
      note = fmt::format(
          " {} members are too many to draw one by one: each dashed circle is the group of members clearing at the "
          "same set of CCPs, labelled with its number of members (area: their total capital; colour: their mean "
          "P(default)).",
          grouped(static_cast<std::int64_t>(model.members.size())));
      if (!rest.members.empty()) {
        double expected = 0.0;
        for (int m : rest.members) expected += p_default(static_cast<std::size_t>(m));
        const double p = expected / static_cast<double>(rest.members.size());
        NetMember nm;
        nm.node.label = fmt::format("{} in {} more sets", grouped(static_cast<std::int64_t>(rest.members.size())),
                                    grouped(static_cast<std::int64_t>(rest.sets)));
        nm.node.tooltip = fmt::format("{} in the {} smallest groups: capital {}, mean P(default) {}",
                                      plural(rest.members.size(), "member"),
                                      grouped(static_cast<std::int64_t>(rest.sets)), usd(rest.capital), pct(p));
        nm.node.fill = kRiskColour[risk_class(p)];
        nm.node.size = sqrt_share(rest.capital, std::max(max_cap, rest.capital));
        nm.node.dashed = true;
        member_nodes.push_back(std::move(nm));
        note += fmt::format(
            " The {} smallest groups ({}, capital {}) are drawn as one circle without their memberships.",
            grouped(static_cast<std::int64_t>(rest.sets)), plural(rest.members.size(), "member"), usd(rest.capital));
      }
    }
    std::vector<NetLink> net_links;
    for (const auto& l : model.links)
      net_links.push_back(
          {l.first, l.second, l.model == config::LinkModel::kParticipant, false, false, link_tooltip(model, l)});
    std::vector<LegendItem> legend = {{LegendItem::kText, "", "Colour: P(fail) of a CCP, P(default) of a member"}};
    for (std::size_t k = 0; k < kRiskColour.size(); ++k)
      legend.push_back({LegendItem::kFill, kRiskColour[k], kRiskLabel[k]});
    legend.push_back({LegendItem::kBreak, "", ""});
    link_legend(model, legend);
    if (model.members.size() > kMaxMembersDrawn)
      legend.push_back({LegendItem::kDashedCircle, "#ffffff", "group of members (number of members)"});
    legend.push_back({LegendItem::kText, "", "circle area: capital"});
    h += figure("Network: CCPs, links and members",
                network_svg(ccp_nodes, member_nodes, net_links, legend,
                            "The system: CCPs on the inner circle, members around them, links between CCPs", ids),
                "CCPs on the inner circle, coloured by their probability of failure; members on the outer ring next "
                "to the CCPs they clear at, coloured by their probability of default. Thick lines: links between "
                "CCPs, the paths by which one CCP's failure reaches another. Circle area grows with capital (CCPs "
                "and members on separate scales)." +
                    note,
                "fig-network");
  }
  h += "</section>\n";

  // System.
  h += "<section id=\"system\"><h2>System</h2>\n<div class=\"tablewrap\"><table class=\"narrow\">\n<thead><tr>"
       "<th>measure</th><th class=\"num\">value</th><th class=\"num\">95% interval</th></tr></thead>\n<tbody>\n";
  const auto row = [&](const std::string& k, const std::string& v, const std::string& interval) {
    h += fmt::format("<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n", k, v, interval);
  };
  const auto plain_interval = [](const models::stats::Interval& iv) {
    return fmt::format("[{}, {}]", plain(iv.lower), plain(iv.upper));
  };
  row("P(any CCP fails)", pct(p_any_fail), interval_text(ci("any_ccp_fail"), true));
  row("P(any member defaults)", pct(static_cast<double>(t.any_default) / n),
      interval_text(ci("any_member_default"), true));
  for (std::size_t k : {2, 3, 5, 10})
    row(fmt::format("P(at least {} member defaults)", k), pct(agg.p_at_least_defaults(k)),
        interval_text(models::stats::wilson(agg.scenarios_with_at_least_defaults(k), count), true));
  row("mean member defaults per scenario", plain(static_cast<double>(t.member_defaults) / n),
      plain_interval(ci("member_defaults")));
  row("mean CCP failures per scenario", plain(static_cast<double>(t.ccp_failures) / n),
      plain_interval(ci("ccp_failures")));
  row("mean cascade rounds", plain(static_cast<double>(t.rounds) / n), plain_interval(ci("cascade_rounds")));
  row("expected close-out loss of the defaulters", usd(t.closeout_loss / n), interval_text(ci("closeout_loss"), false));
  row("expected total loss borne by non-defaulters", usd(t.total_loss / n), interval_text(ci("total_loss"), false));
  row("expected uncovered loss", usd(t.uncovered / n), interval_text(ci("uncovered_loss"), false));
  row("total loss, VaR 99%", usd(marks.var99), interval_text(agg.total_loss_quantile_interval(0.99), false));
  row("total loss, VaR 99.9%", usd(var999), interval_text(agg.total_loss_quantile_interval(0.999), false));
  row("total loss, ES 99%", usd(marks.es99), kDash);
  h += "</tbody></table></div>\n</section>\n";

  h += contributors_section(model, agg, graph);
  h += inputs_section(model);
  h += methodology_section(model);
  h += "<section id=\"scenario\"><h2>Scenario</h2>\n" + resolved_block(resolved_yaml) + "</section>\n";
  h += page_end(fmt::format("Seed {}, {} scenarios: the same input and seed reproduce this page exactly.", model.seed,
                            grouped(count)));
  return h;
}

// ===========================================================================
// stress_report

namespace {

std::string moves_text(const StressScenario& s) {
  std::string moves;
  for (const auto& [id, m] : s.total_moves())
    moves +=
        fmt::format("{}{} {}{:.1f}%", moves.empty() ? "" : ", ", esc(id), m < 0 ? kMinus : "+", std::abs(100.0 * m));
  for (const auto& [id, v] : s.vol_moves)
    moves += fmt::format("{}{} implied vol {}{:.1f}%", moves.empty() ? "" : ", ", esc(id), v < 0 ? kMinus : "+",
                         std::abs(100.0 * v));
  if (moves.empty()) moves = "no price move";
  return fmt::format("{} over {:g} day{}{}", moves, s.length_days(), s.length_days() == 1.0 ? "" : "s",
                     s.path.empty() ? "" : ", day by day");
}

// Member default causes, indexed by DefaultCause.
const char* cause_colour(DefaultCause cause) {
  static constexpr const char* kColours[] = {"#9aa3ad", "#1b1f24", "#7b5ea7", "#b2182b", "#d97a00", "#2c7fb8"};
  const auto i = static_cast<std::size_t>(cause);
  return i < std::size(kColours) ? kColours[i] : "#9aa3ad";
}

// What a CCP whose layers ran out on losses over its links received over them,
// from its entry in stress.json (0 when it did not fail that way).
double link_shortfall(const nlohmann::ordered_json& stress, const std::string& ccp) {
  const auto& e = stress["ccps"][ccp];
  if (!e.contains("fail_cause") || e["fail_cause"] != "links") return 0.0;
  return e["ledger"]["link_in"].get<double>();
}

std::string link_shortfall_text(double amount) {
  return fmt::format("its layers ran out on {} of losses over its links", usd(amount));
}

// One stress scenario's settlement, as in `ccpnet stress`: when each chain was
// final, which bridges were exploited, what failed and what was late per CCP,
// and the liquidity defaults that settlement delay caused (from stress.json).
std::string stress_settlement(const Model& model, const nlohmann::ordered_json& stress) {
  const auto& st = stress["settlement"];
  std::string h = "<h3>Settlement</h3>\n";
  std::string chains;
  for (const auto& chain : model.chains) {
    const auto& e = st["chains"][chain.id];
    const double finality = e["finality_hours"].get<double>();
    chains += fmt::format("{}<strong>{}</strong> <span{}>{}</span>{}{}", chains.empty() ? "" : ", ", esc(chain.id),
                          exact_attr(finality), hours(finality),
                          e["congested"].get<bool>() ? " <span class=\"badge warn\">congested</span>" : "",
                          e["halted"].get<bool>() ? " <span class=\"badge bad\">halted</span>" : "");
  }
  std::string bridges;
  for (const auto& b : st["exploited_bridges"])
    bridges += (bridges.empty() ? "" : ", ") + fmt::format("<strong>{}</strong>", esc(b.get<std::string>()));
  h += "<p>";
  if (!chains.empty()) h += "Final after: " + chains + ". ";
  if (!model.bridges.empty())
    h += bridges.empty() ? std::string("No bridge exploited.")
                         : "<span class=\"badge bad\">exploited</span> " + bridges + ".";
  h += "</p>\n";

  std::string rows;
  for (std::size_t c = 0; c < model.ccps.size(); ++c) {
    const auto& e = st["ccps"][model.ccps[c].id];
    const double fails = e["fails"].get<double>(), principal = e["principal_lost"].get<double>();
    const double replacement = e["replacement_cost"].get<double>(), late = e["late_inflows"].get<double>();
    if (fails == 0.0 && principal == 0.0 && replacement == 0.0 && late == 0.0) continue;
    rows += fmt::format("<tr><td><strong>{}</strong></td><td>{}</td>", esc(model.ccps[c].id),
                        settlement_route(model, model.ccps[c]));
    rows += num_cell(fmt::format("{:g}", fails), fails) + num_cell(money(principal), principal) +
            num_cell(money(replacement), replacement) + num_cell(money(late), late) + "</tr>\n";
  }
  if (rows.empty()) {
    h += "<p>No settlement fails, losses or late VM gains at any CCP.</p>\n";
  } else {
    h += "<div class=\"tablewrap\"><table>\n<thead><tr><th>CCP</th><th>settlement</th><th class=\"num\">fails</th>"
         "<th class=\"num\">principal lost (USD)</th><th class=\"num\">replacement cost (USD)</th>"
         "<th class=\"num\">VM gains late (USD)</th></tr></thead>\n<tbody>\n" +
         rows + "</tbody></table></div>\n";
  }
  const int delay_defaults = st["settlement_defaults"].get<int>();
  const double shortfall = stress["liquidity_shortfall"].get<double>();
  h += fmt::format(
      "<p><strong{}>Liquidity defaults caused by settlement delay: <span data-value=\"{}\">{}</span></strong> "
      "(members whose VM gains, settled in time, would have met their calls); liquidity shortfall of the members "
      "that defaulted for liquidity: <span{}>{}</span>.</p>\n",
      delay_defaults > 0 ? " class=\"fail\"" : "", delay_defaults, delay_defaults, exact_attr(shortfall),
      usd(shortfall));
  return h;
}

std::string stress_network(const Model& model, const SystemGraph& graph, const StressOutcome& o,
                           const nlohmann::ordered_json& stress, Ids& ids) {
  const ScenarioResult& r = o.result;
  std::vector<int> member_round(model.members.size(), -1);
  std::vector<DefaultCause> member_cause(model.members.size(), DefaultCause::kNone);
  for (const auto& d : r.defaults) {
    member_round[static_cast<std::size_t>(d.member)] = d.round;
    member_cause[static_cast<std::size_t>(d.member)] = d.cause;
  }
  // Contagion paths from the trace: a defaulter's account closed out at a CCP.
  std::set<std::pair<int, int>> member_hits;  // (member, ccp)
  std::set<std::pair<int, int>> link_hits;    // (failed CCP, CCP closing out its link)
  std::vector<bool> touched(model.ccps.size(), false);
  for (const auto& e : o.trace.events) {
    touched[static_cast<std::size_t>(e.ccp)] = true;
    for (const auto& d : e.defaulters) {
      const Account& acc = model.accounts[static_cast<std::size_t>(d.account)];
      if (acc.kind == AccountKind::kMember) member_hits.insert({acc.owner, e.ccp});
      if (acc.kind == AccountKind::kLink) link_hits.insert({acc.owner, e.ccp});
    }
  }
  double max_ccp_capital = 0.0;
  for (const auto& c : model.ccps) max_ccp_capital = std::max(max_ccp_capital, c.capital);
  std::vector<NetNode> ccp_nodes;
  for (std::size_t c = 0; c < model.ccps.size(); ++c) {
    const CcpModel& ccp = model.ccps[c];
    NetNode node;
    node.label = esc(ccp.id);
    const bool failed = r.ccp_fail_round[c] >= 0;
    node.sublabel = failed ? fmt::format("FAILS in round {}", r.ccp_fail_round[c]) : touched[c] ? "waterfall used" : "";
    const double shortfall = link_shortfall(stress, ccp.id);
    node.tooltip = fmt::format("{}: {}{}", esc(ccp.id),
                               failed       ? node.sublabel
                               : touched[c] ? std::string("uses its waterfall and survives")
                                            : std::string("not touched"),
                               shortfall > 0.0 ? "; " + link_shortfall_text(shortfall) : "");
    node.fill = failed ? "#c62828" : touched[c] ? "#fdb863" : "#f4f4f4";
    node.stroke = failed ? "#5c0a0a" : "#1b1f24";
    node.emphasis = failed;
    node.size = sqrt_share(ccp.capital, max_ccp_capital);
    ccp_nodes.push_back(node);
  }
  std::vector<NetMember> member_nodes;
  std::string note;
  if (model.members.size() <= kMaxMembersDrawn) {
    double max_cap = 0.0;
    for (const auto& m : model.members) max_cap = std::max(max_cap, m.capital);
    for (std::size_t m = 0; m < model.members.size(); ++m) {
      NetMember nm;
      nm.ccps = graph.ccps_of(static_cast<int>(m));
      for (int c : nm.ccps)
        if (member_hits.count({static_cast<int>(m), c})) nm.hot_ccps.push_back(c);
      const bool defaulted = member_round[m] >= 0;
      nm.node.label = esc(model.members[m].id);
      if (defaulted) nm.node.sublabel = fmt::format("round {}, {}", member_round[m], cause_name(member_cause[m]));
      nm.node.tooltip =
          fmt::format("{}: {}", esc(model.members[m].id),
                      defaulted ? fmt::format("defaults in round {} ({})", member_round[m], cause_name(member_cause[m]))
                                : std::string("survives"));
      nm.node.fill = defaulted ? cause_colour(member_cause[m]) : "#ffffff";
      nm.node.emphasis = defaulted;
      nm.node.size = sqrt_share(model.members[m].capital, max_cap);
      member_nodes.push_back(std::move(nm));
    }
  } else {
    MemberGroup rest;
    const auto groups = group_members(model, graph, rest);
    double max_cap = 0.0;
    for (const auto& g : groups) max_cap = std::max(max_cap, g.capital);
    for (const auto& g : groups) {
      NetMember nm;
      nm.ccps = g.ccps;
      int defaulted = 0;
      for (int m : g.members) {
        if (member_round[static_cast<std::size_t>(m)] >= 0) ++defaulted;
        for (int c : g.ccps)
          if (member_hits.count({m, c}) && std::find(nm.hot_ccps.begin(), nm.hot_ccps.end(), c) == nm.hot_ccps.end())
            nm.hot_ccps.push_back(c);
      }
      nm.node.label = grouped(static_cast<std::int64_t>(g.members.size()));
      if (defaulted > 0) nm.node.sublabel = fmt::format("{} defaulted", defaulted);
      nm.node.tooltip =
          fmt::format("{} members clearing at {}: {} default", grouped(static_cast<std::int64_t>(g.members.size())),
                      ccp_list(model, g.ccps), defaulted);
      nm.node.fill = defaulted > 0 ? "#b2182b" : "#ffffff";
      nm.node.dashed = true;
      nm.node.emphasis = defaulted > 0;
      nm.node.size = sqrt_share(g.capital, max_cap);
      member_nodes.push_back(std::move(nm));
    }
    if (!rest.members.empty()) {
      int defaulted = 0;
      for (int m : rest.members)
        if (member_round[static_cast<std::size_t>(m)] >= 0) ++defaulted;
      NetMember nm;
      nm.node.label = fmt::format("{} in {} more sets", grouped(static_cast<std::int64_t>(rest.members.size())),
                                  grouped(static_cast<std::int64_t>(rest.sets)));
      if (defaulted > 0) nm.node.sublabel = fmt::format("{} defaulted", defaulted);
      nm.node.tooltip =
          fmt::format("{} in the {} smallest groups, memberships not drawn: {} default",
                      plural(rest.members.size(), "member"), grouped(static_cast<std::int64_t>(rest.sets)), defaulted);
      nm.node.fill = defaulted > 0 ? "#b2182b" : "#ffffff";
      nm.node.dashed = true;
      nm.node.emphasis = defaulted > 0;
      nm.node.size = sqrt_share(rest.capital, std::max(max_cap, rest.capital));
      member_nodes.push_back(std::move(nm));
    }
  }
  std::vector<NetLink> net_links;
  for (const auto& l : model.links) {
    const bool ab = link_hits.count({l.first, l.second}) > 0, ba = link_hits.count({l.second, l.first}) > 0;
    NetLink nl{ab || !ba ? l.first : l.second,
               ab || !ba ? l.second : l.first,
               l.model == config::LinkModel::kParticipant,
               ab || ba,
               ab && ba,
               link_tooltip(model, l)};
    net_links.push_back(nl);
  }
  std::vector<LegendItem> legend = {{LegendItem::kFill, "#c62828", "CCP fails"},
                                    {LegendItem::kFill, "#fdb863", "CCP uses its waterfall, survives"},
                                    {LegendItem::kFill, "#f4f4f4", "CCP not touched"},
                                    {LegendItem::kBreak, "", ""}};
  if (model.members.size() <= kMaxMembersDrawn) {
    std::set<DefaultCause> causes;
    for (const auto& d : r.defaults) causes.insert(d.cause);
    for (const auto cause : causes)
      legend.push_back(
          {LegendItem::kCircle, cause_colour(cause), fmt::format("member defaults: {}", cause_name(cause))});
    legend.push_back({LegendItem::kCircle, "#ffffff", "member survives"});
  } else {
    legend.push_back({LegendItem::kDashedCircle, "#b2182b", "group of members with defaults"});
    legend.push_back({LegendItem::kDashedCircle, "#ffffff", "group without defaults"});
  }
  if (!member_hits.empty()) legend.push_back({LegendItem::kArrow, kHotMember, "defaulter closed out at a CCP"});
  if (!link_hits.empty()) legend.push_back({LegendItem::kHotArrow, kHotLink, "failed CCP closed out over a link"});
  link_legend(model, legend);
  return network_svg(ccp_nodes, member_nodes, net_links, legend,
                     fmt::format("Contagion paths in stress scenario {}", esc(o.stress.name)), ids);
}

}  // namespace

namespace {

// A number of stress.json shown with three significant digits (a price, a
// quantity or a health factor), "&#8734;" for a health factor with no debt.
std::string json_plain(const nlohmann::ordered_json& x) {
  if (x.is_null()) return "&#8734;";
  return plain(x.get<double>(), 4);
}

// What the crypto venues and lending protocols did in one stress scenario
// (stress.json's venue_liquidations, waterfalls[].adl and lending): accounts
// their liquidation engines closed, the insurance fund round by round, the
// accounts auto-deleveraged in rank order, and the borrowers a protocol
// liquidated. Empty when none of it happened.
std::string venue_and_lending_blocks(const nlohmann::ordered_json& stress) {
  std::string h;
  const auto& venue = stress["venue_liquidations"];
  if (!venue.empty()) {
    h += "<h3>Liquidation engines</h3>\n<div class=\"tablewrap\"><table>\n<thead><tr><th>account</th><th>venue</th>"
         "<th class=\"num\">margin</th><th class=\"num\">P&amp;L</th><th class=\"num\">maintenance margin</th>"
         "<th class=\"num\">impact cost</th><th class=\"num\">to the insurance fund</th>"
         "<th class=\"num\">shortfall</th><th class=\"num\">bankruptcy price</th>"
         "<th class=\"num\">execution price</th></tr></thead>\n<tbody>\n";
    for (const auto& l : venue) {
      const auto price = [](const nlohmann::ordered_json& x) {
        return x.get<double>() > 0.0 ? plain(x.get<double>(), 5) : std::string(kDash);
      };
      h += fmt::format(
          "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
          "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
          "<td class=\"num\">{}</td></tr>\n",
          esc(l["account"].get<std::string>()), esc(l["ccp"].get<std::string>()), money(l["margin"].get<double>()),
          money(l["pnl"].get<double>()), money(l["maintenance_margin"].get<double>()),
          money(l["impact_cost"].get<double>()), money(l["surplus"].get<double>()), money(l["shortfall"].get<double>()),
          price(l["bankruptcy_price"]), price(l["execution_price"]));
    }
    h +=
        "</tbody></table></div>\n<p class=\"muted\">Accounts whose equity fell below their maintenance margin, closed "
        "in the market by the venue's liquidation engine: the trader loses its margin; what the close leaves above the "
        "bankruptcy price goes to the insurance fund, a shortfall below it is the fund's, then auto-deleveraging's. "
        "Prices for single-contract accounts.</p>\n";
  }
  std::string funds, adl;
  for (const auto& e : stress["waterfalls"]) {
    const auto& fund = e["insurance_fund"];
    if (fund["start"].get<double>() != 0.0 || fund["surpluses"].get<double>() != 0.0 ||
        fund["end"].get<double>() != 0.0)
      funds += fmt::format(
          "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
          "<td class=\"num\">{}</td></tr>\n",
          esc(e["ccp"].get<std::string>()), e["round"].get<int>(), money(fund["start"].get<double>()),
          money(fund["surpluses"].get<double>()), money(fund["end"].get<double>()));
    std::vector<nlohmann::ordered_json> ranked(e["adl"].begin(), e["adl"].end());
    std::stable_sort(ranked.begin(), ranked.end(), [](const auto& x, const auto& y) {
      return x["rank"].template get<int>() < y["rank"].template get<int>();
    });
    for (const auto& a : ranked) {
      const bool by_quantity = a["contracts"].get<double>() != 0.0;
      adl += fmt::format(
          "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td>"
          "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
          esc(e["ccp"].get<std::string>()), e["round"].get<int>(), a["rank"].get<int>(),
          esc(a["account"].get<std::string>()), plain(a["priority"].get<double>()),
          by_quantity ? plain(a["contracts"].get<double>(), 5) : std::string(kDash),
          by_quantity ? plain(a["price"].get<double>(), 5) : std::string("whole gain"),
          money(a["loss_vs_mark"].get<double>()));
    }
  }
  if (!funds.empty())
    h += "<h3>Insurance funds</h3>\n<div class=\"tablewrap\"><table class=\"narrow\">\n<thead><tr><th>venue</th>"
         "<th class=\"num\">round</th><th class=\"num\">before</th><th class=\"num\">liquidation surpluses</th>"
         "<th class=\"num\">after</th></tr></thead>\n<tbody>\n" +
         funds + "</tbody></table></div>\n";
  if (!adl.empty())
    h += "<h3>Auto-deleveraging</h3>\n<div class=\"tablewrap\"><table>\n<thead><tr><th>venue</th>"
         "<th class=\"num\">round</th><th class=\"num\">rank</th><th>account</th><th class=\"num\">ranking score"
         "</th><th class=\"num\">contracts closed</th><th class=\"num\">at price</th>"
         "<th class=\"num\">given up against the mark</th></tr></thead>\n<tbody>\n" +
         adl +
         "</tbody></table></div>\n<p class=\"muted\">Opposite positions closed when the insurance fund ran out, in "
         "rank order (ccps[].adl.ranking), each up to its size, at the bankruptcy price of the position they offset; "
         "a cross-margined account gives up its whole gain.</p>\n";
  std::string lending;
  for (const auto& l : stress["lending"])
    if (l["calls"].get<int>() > 0 || l["bad_debt"].get<double>() > 0.0 || l["closing_bad_debt"].get<double>() > 0.0)
      lending += fmt::format(
          "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
          "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
          "</tr>\n",
          esc(l["account"].get<std::string>()), esc(l["ccp"].get<std::string>()), l["calls"].get<int>(),
          json_plain(l["health_factor_start"]), json_plain(l["health_factor_after"]),
          money(l["collateral_seized"].get<double>()), money(l["debt_repaid"].get<double>()),
          money(l["bad_debt"].get<double>()), money(l["closing_bad_debt"].get<double>()));
  if (!lending.empty())
    h += "<h3>Lending protocols</h3>\n<div class=\"tablewrap\"><table>\n<thead><tr><th>borrower</th>"
         "<th>protocol</th><th class=\"num\">liquidation calls</th><th class=\"num\">health factor before</th>"
         "<th class=\"num\">after</th><th class=\"num\">collateral seized</th><th class=\"num\">debt repaid</th>"
         "<th class=\"num\">bad debt</th><th class=\"num\">bad debt if closed</th></tr></thead>\n<tbody>\n" +
         lending +
         "</tbody></table></div>\n<p class=\"muted\">Borrowers the protocol liquidated along the scenario's path (each "
         "call up to the close factor, collateral seized with the liquidation bonus, values at execution), and the bad "
         "debt written off; the last column is what closing the rest would write off if the owner defaulted.</p>\n";
  return h;
}

// A page that tells stress scenarios' stories; `preface` (a section with id
// "reverse", or empty) comes first.
struct StressPage {
  std::string title, heading;
  std::string preface;
};

std::string stress_page(const Model& model, const std::vector<StressOutcome>& outcomes,
                        const std::string& scenario_file, const std::string& resolved_yaml, const StressPage& page) {
  const SystemGraph graph(model);
  const auto json = stress_json(model, outcomes);
  const auto& stresses = json["stress_scenarios"];
  Ids ids;
  std::string h =
      page_begin(page.title, page.heading,
                 fmt::format("{} &#183; {} &#183; {} &#183; {}",
                             plural(outcomes.size(), "deterministic stress scenario"), plural(model.ccps.size(), "CCP"),
                             plural(model.members.size(), "member"), plural(model.links.size(), "link")));
  h += "<nav class=\"toc\">";
  if (!page.preface.empty()) h += "<a href=\"#reverse\">Reverse stress</a>";
  h += "<a href=\"#overview\">Overview</a>";
  for (std::size_t i = 0; i < outcomes.size(); ++i)
    h += fmt::format("<a href=\"#stress-{}\">{}</a>", i + 1, esc(outcomes[i].stress.name));
  h += "<a href=\"#scenario\">Scenario</a></nav>\n";

  h += page.preface;
  h += "<section id=\"overview\"><h2>Overview</h2>\n<dl class=\"meta\">";
  h += fmt::format("<dt>Scenario</dt><dd>{}</dd><dt>Scenario file</dt><dd>{}</dd><dt>ccpnet version</dt><dd>{}</dd>",
                   esc(model.name), esc(scenario_file), CCPNET_VERSION);
  h += "</dl>\n<div class=\"tablewrap\"><table>\n<thead><tr><th>stress scenario</th><th>market move</th>"
       "<th class=\"num\">member defaults</th><th>CCP failures</th><th class=\"num\">cascade rounds</th>"
       "<th class=\"num\">close-out loss (USD)</th><th class=\"num\">borne by non-defaulters (USD)</th>"
       "<th class=\"num\">uncovered (USD)</th>";
  if (model.settlement_active) h += "<th class=\"num\">defaults from settlement delay</th>";
  h += "</tr></thead>\n<tbody>\n";
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const auto& o = outcomes[i];
    const ScenarioResult& r = o.result;
    std::string failed;
    for (std::size_t c = 0; c < model.ccps.size(); ++c)
      if (r.ccp_fail_round[c] >= 0) {
        const double shortfall = link_shortfall(stresses[i], model.ccps[c].id);
        failed += (failed.empty() ? "" : ", ") + esc(model.ccps[c].id) +
                  (shortfall > 0.0 ? fmt::format(" ({})", link_shortfall_text(shortfall)) : "");
      }
    h += fmt::format(
        "<tr{}><td><a href=\"#stress-{}\"><strong>{}</strong></a></td><td>{}</td><td class=\"num\">{}</td>"
        "<td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
        "<td class=\"num\">{}</td>{}</tr>\n",
        failed.empty() ? "" : " class=\"failrow\"", i + 1, esc(o.stress.name), moves_text(o.stress), r.defaults.size(),
        failed.empty() ? "none" : "<span class=\"fail\">" + failed + "</span>", r.rounds, money(r.closeout_loss),
        money(r.total_loss), money(r.uncovered),
        model.settlement_active
            ? fmt::format("<td class=\"num\">{}</td>", stresses[i]["settlement"]["settlement_defaults"].get<int>())
            : "");
  }
  h += "</tbody></table></div>\n</section>\n";

  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const auto& o = outcomes[i];
    const ScenarioResult& r = o.result;
    const int failures = r.ccp_failures();
    h += fmt::format("<section id=\"stress-{}\"><h2>Stress scenario {}: {}</h2>\n<p>{}</p>\n", i + 1, i + 1,
                     esc(o.stress.name), moves_text(o.stress));
    if (failures > 0) {
      std::string failed;
      for (std::size_t c = 0; c < model.ccps.size(); ++c)
        if (r.ccp_fail_round[c] >= 0) {
          const double shortfall = link_shortfall(stresses[i], model.ccps[c].id);
          failed += fmt::format("{}{} (round {}{})", failed.empty() ? "" : ", ", esc(model.ccps[c].id),
                                r.ccp_fail_round[c], shortfall > 0.0 ? ": " + link_shortfall_text(shortfall) : "");
        }
      h += fmt::format("<div class=\"banner fail\"><strong>{} CCP{} fail{}:</strong> {}.</div>\n", failures,
                       failures == 1 ? "" : "s", failures == 1 ? "s" : "", failed);
    }
    h += "<div class=\"cards\">\n";
    h += card(grouped(static_cast<std::int64_t>(r.defaults.size())), "member defaults");
    h += card(std::to_string(failures), "CCP failures", failures > 0);
    h += card(std::to_string(r.rounds), "cascade rounds");
    h += card(usd(r.closeout_loss), "close-out loss of the defaulters");
    h += card(usd(r.total_loss), "borne by non-defaulters");
    h += card(usd(r.uncovered), "uncovered", r.uncovered >= 0.005);
    if (model.settlement_active) {
      const int delay_defaults = stresses[i]["settlement"]["settlement_defaults"].get<int>();
      h += card(std::to_string(delay_defaults), "liquidity defaults caused by settlement delay", delay_defaults > 0);
    }
    h += "</div>\n";

    // Defaults by round and cause.
    h += "<h3>Defaults by round and cause</h3>\n<div class=\"tablewrap\"><table>\n<thead><tr>"
         "<th class=\"num\">round</th>";
    for (int cause = 1; cause < kDefaultCauseCount; ++cause)
      h += fmt::format("<th class=\"num\">{}</th>", cause_name(static_cast<DefaultCause>(cause)));
    h += "<th>members defaulting</th><th>CCPs failing</th></tr></thead>\n<tbody>\n";
    bool any_row = false;
    for (int round = 0; round <= r.rounds; ++round) {
      std::array<int, kDefaultCauseCount> by_cause{};
      std::string names;
      int listed = 0, in_round = 0;
      for (const auto& d : r.defaults) {
        if (d.round != round) continue;
        ++by_cause[static_cast<std::size_t>(d.cause)];
        ++in_round;
        if (listed++ < 40)
          names += fmt::format("{}{} <span class=\"muted\">({})</span>", names.empty() ? "" : ", ",
                               esc(model.members[static_cast<std::size_t>(d.member)].id), cause_name(d.cause));
      }
      if (listed > 40) names += fmt::format(" and {} more", listed - 40);
      std::string failed;
      for (std::size_t c = 0; c < model.ccps.size(); ++c)
        if (r.ccp_fail_round[c] == round) failed += (failed.empty() ? "" : ", ") + esc(model.ccps[c].id);
      if (in_round == 0 && failed.empty()) continue;
      any_row = true;
      std::string cells;
      for (std::size_t cause = 1; cause < by_cause.size(); ++cause)
        cells += fmt::format("<td class=\"num\">{}</td>", by_cause[cause]);
      h += fmt::format("<tr{}><td class=\"num\">{}</td>{}<td>{}</td><td>{}</td></tr>\n",
                       failed.empty() ? "" : " class=\"failrow\"", round, cells, names.empty() ? "&#8211;" : names,
                       failed.empty() ? "&#8211;" : "<span class=\"fail\">" + failed + "</span>");
    }
    if (!any_row)
      h += fmt::format("<tr><td colspan=\"{}\">No member defaults and no CCP failures.</td></tr>\n",
                       kDefaultCauseCount + 2);
    h += "</tbody></table></div>\n";

    if (model.settlement_active) h += stress_settlement(model, stresses[i]);

    // Stacked bars per CCP: the layers used over all rounds.
    std::vector<BarRow> rows;
    bool through_links = false;
    for (std::size_t c = 0; c < model.ccps.size(); ++c) {
      const CcpModel& ccp = model.ccps[c];
      BarRow row;
      row.label = esc(ccp.id);
      row.highlight = r.ccp_fail_round[c] >= 0;
      const bool links = link_shortfall(stresses[i], ccp.id) > 0.0;
      through_links = through_links || links;
      row.sublabel =
          row.highlight ? fmt::format("FAILS in round {}{}", r.ccp_fail_round[c], links ? " (links)" : "") : "survives";
      for (auto layer : ledger_layers(ccp)) {
        const auto l = static_cast<std::size_t>(layer);
        row.segments.emplace_back(l, r.ccp_layers[c * kLayerCount + l]);
      }
      row.segments.emplace_back(kUncovered, r.ccp_uncovered[c]);
      rows.push_back(std::move(row));
    }
    h += figure(fmt::format("Waterfalls in stress scenario {}", i + 1),
                stacked_bars(rows, layer_series(),
                             fmt::format("Loss absorbed by each waterfall layer per CCP, stress scenario {}",
                                         esc(o.stress.name)),
                             "loss absorbed (USD)", ids),
                std::string("Loss absorbed by each layer of each CCP's waterfall over all rounds, in waterfall "
                            "order; the hatched red segment is what no layer covered (the CCP fails). Failed CCPs are "
                            "shaded red.") +
                    (through_links ? " A CCP marked (links) failed because its layers ran out on losses that came "
                                     "over its links (a failed peer's unpaid obligations, or charges by a peer's "
                                     "waterfall); what its layers left falls on its creditors."
                                   : ""));

    // Layer-by-layer tables, one per waterfall call.
    if (!o.trace.events.empty()) {
      h += "<h3>Waterfalls layer by layer</h3>\n";
      if (o.trace.events.size() > 4)
        h += "<p class=\"muted\">One waterfall per CCP and round; open one to read it layer by layer (those of "
             "failing CCPs are open).</p>\n";
      for (const auto& e : o.trace.events) {
        const CcpModel& ccp = model.ccps[static_cast<std::size_t>(e.ccp)];
        double total = e.uncovered;
        for (double x : e.by_layer) total += x;
        // The failure is labelled on the waterfall whose layers ran out (an
        // uncovered loss in the CCP's failure round), by what ran them out:
        // its members' close-outs or losses over its links (as failure_text).
        const bool fails_here = r.ccp_fail_round[static_cast<std::size_t>(e.ccp)] == e.round && e.uncovered > 0.0;
        const std::string fail_label =
            e.link_losses ? "uncovered loss over its links: the CCP fails" : "uncovered loss: the CCP fails";
        h += fmt::format("<details{}><summary>{}, round {}{}{}</summary>\n",
                         fails_here || o.trace.events.size() <= 4 ? " open" : "", esc(ccp.id), e.round,
                         e.link_losses ? " (losses over its links)" : "",
                         fails_here ? " <span class=\"badge bad\">" + fail_label + "</span>" : "");
        h += "<div class=\"grid2\"><div class=\"tablewrap\"><table>\n<thead><tr><th>layer</th>"
             "<th class=\"num\">absorbed (USD)</th><th class=\"num\">share</th><th class=\"num\">cumulative</th>"
             "</tr></thead>\n<tbody>\n";
        double cumulative = 0.0;
        for (auto layer : e.link_losses ? link_loss_layers(ccp) : ccp.waterfall) {
          const auto l = static_cast<std::size_t>(layer);
          const double x = e.by_layer[l];
          cumulative += x;
          h += fmt::format(
              "<tr><td title=\"{}\">{}{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td "
              "class=\"num\">{}</td>"
              "</tr>\n",
              models::layer_name(layer), swatch(kLayerColour[l]), kLayerLabel[l], money(x),
              total > 0.0 ? pct(x / total) : "&#8211;", money(cumulative));
        }
        h += fmt::format(
            "<tr class=\"{}\"><td>{}{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
            "</tr>\n",
            fails_here ? "failrow total" : "total", swatch(kLayerColour[kUncovered]),
            fails_here ? "<span class=\"fail\">Uncovered: the CCP fails</span>" : "Uncovered", money(e.uncovered),
            total > 0.0 ? pct(e.uncovered / total) : "&#8211;", money(total));
        h += "</tbody></table></div>\n<div class=\"tablewrap\"><table>\n<thead><tr><th>defaulter</th>"
             "<th class=\"num\">close-out loss</th><th class=\"num\">own IM used</th><th class=\"num\">own DF used"
             "</th><th class=\"num\">left to mutual layers</th><th class=\"num\">returned to its estate</th></tr>"
             "</thead>\n<tbody>\n";
        for (const auto& d : e.defaulters)
          h += fmt::format(
              "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
              "<td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
              esc(account_name(model, d.account)), money(d.loss), money(d.im_used), money(d.df_used), money(d.residual),
              money(d.estate_return));
        h += "</tbody></table></div></div>\n</details>\n";
      }
    }

    h += venue_and_lending_blocks(stresses[i]);
    h += figure(fmt::format("Contagion network in stress scenario {}", i + 1),
                stress_network(model, graph, o, stresses[i], ids),
                "Who defaults and how it spreads: defaulting members coloured by cause; an orange arrow shows a "
                "defaulter's book closed out at a CCP, a red arrow a failed CCP's link account closed out by a linked "
                "CCP. CCPs: red fails, orange used its waterfall and survived. Circle area grows with capital.");
    h += "</section>\n";
  }
  h += "<section id=\"scenario\"><h2>Scenario</h2>\n" + resolved_block(resolved_yaml) + "</section>\n";
  h += page_end("Deterministic stress scenarios: no random numbers are drawn.");
  return h;
}

}  // namespace

std::string stress_report(const Model& model, const std::vector<StressOutcome>& outcomes,
                          const std::string& scenario_file, const std::string& resolved_yaml) {
  return stress_page(model, outcomes, scenario_file, resolved_yaml,
                     {fmt::format("ccpnet stress report: {}", esc(model.name)),
                      fmt::format("Stress scenarios: {}", esc(model.name)),
                      {}});
}

namespace {

// A multiple or a radius, or "not reached" beyond the searched range.
std::string reached_text(const std::optional<double>& x, double beyond) {
  return x ? fmt::format("{:.4f}", *x) : fmt::format("&gt; {}", plain(beyond));
}

}  // namespace

std::string reverse_report(const Model& model, const ReverseResult& r, const std::string& scenario_file,
                           const std::string& resolved_yaml) {
  const CcpModel& ccp = model.ccps[static_cast<std::size_t>(r.ccp)];
  std::string h = fmt::format(
      "<section id=\"reverse\"><h2>Reverse stress of {}</h2>\n<p>Multiples k of the direction '{}' ({}): each "
      "asset's log-move times k. Bisection to a relative tolerance of {}, assuming losses grow with k; searched up to "
      "k = {}.</p>\n<div class=\"tablewrap\"><table class=\"narrow\">\n<thead><tr><th>layer</th>"
      "<th class=\"num\">first used at k</th><th class=\"num\">exhausted at k</th></tr></thead>\n<tbody>\n",
      esc(ccp.id), esc(r.direction.name), moves_text(r.direction), plain(r.tolerance), plain(r.max_multiple));
  for (const auto& t : r.layers)
    h += fmt::format("<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
                     esc(models::layer_name(t.layer)), reached_text(t.first_used, r.max_multiple),
                     reached_text(t.exhausted, r.max_multiple));
  h += fmt::format("</tbody></table></div>\n<p><strong>{}</strong></p>\n</section>\n",
                   r.failure ? fmt::format("{} fails at k = {:.4f}: the stress scenario below is that move.",
                                           esc(ccp.id), *r.failure)
                             : fmt::format("{} does not fail up to k = {}.", esc(ccp.id), plain(r.max_multiple)));
  std::vector<StressOutcome> outcomes;
  if (r.at_failure) outcomes.push_back(*r.at_failure);
  return stress_page(model, outcomes, scenario_file, resolved_yaml,
                     {fmt::format("ccpnet reverse stress report: {}", esc(ccp.id)),
                      fmt::format("Reverse stress: {} ({})", esc(ccp.id), esc(model.name)), h});
}

std::string reverse_search_report(const Model& model, const ReverseSearchResult& r, const std::string& scenario_file,
                                  const std::string& resolved_yaml) {
  const auto json = reverse_search_json(model, r);
  const CcpModel& ccp = model.ccps[static_cast<std::size_t>(r.ccp)];
  const std::string target = r.options.layer ? fmt::format("exhausts the {} layer of {}",
                                                           esc(models::layer_name(*r.options.layer)), esc(ccp.id))
                                             : fmt::format("makes {} fail", esc(ccp.id));
  std::string h = fmt::format(
      "<section id=\"reverse\"><h2>The most plausible move that {}</h2>\n<p>Plausibility is the size of the move "
      "in standard deviations of the scenarios' log-returns over the MPOR of {} days (the Mahalanobis norm, with the "
      "scenarios' volatilities and correlation): the reliability index of Hasofer and Lind (1974), as Breuer et al. "
      "(2009) use it for stress scenarios. FORM &#934;(&#8722;r) reads a radius r as a first-order probability under "
      "Gaussian moves, not an estimate. Searched: {} directions (stress scenarios, each asset alone, the moves most "
      "likely to hurt the largest books and pairs of them) up to {} standard deviations, then a pattern search from "
      "the closest; {} scenarios run. Along each direction the radius is found by bisection, assuming losses grow "
      "with it.</p>\n<div class=\"tablewrap\"><table>\n<thead><tr><th>direction</th><th>family</th>"
      "<th class=\"num\">radius (sd)</th><th class=\"num\">FORM</th><th>largest moves at the radius</th></tr>"
      "</thead>\n<tbody>\n",
      target, plain(r.days), grouped(static_cast<std::int64_t>(r.directions.size())), plain(r.options.max_radius),
      grouped(r.evaluations));
  for (const auto& d : json["directions"]) {
    if (d["radius"].is_null()) continue;
    std::vector<std::pair<double, std::string>> moves;
    for (const auto& [id, m] : d["moves"].items()) moves.emplace_back(m.get<double>(), id);
    std::stable_sort(moves.begin(), moves.end(),
                     [](const auto& a, const auto& b) { return std::abs(a.first) > std::abs(b.first); });
    std::vector<std::string> shown;
    for (std::size_t k = 0; k < std::min<std::size_t>(moves.size(), 4); ++k)
      shown.push_back(
          fmt::format("{} {}{}", esc(moves[k].second), moves[k].first > 0.0 ? "+" : "", pct(moves[k].first)));
    h += fmt::format(
        "<tr><td>{}</td><td>{}</td><td class=\"num\">{:.4f}</td><td class=\"num\">{:.3g}</td><td>{}</td></tr>\n",
        esc(d["name"].get<std::string>()), esc(d["family"].get<std::string>()), d["radius"].get<double>(),
        d["form_probability"].get<double>(), fmt::join(shown, ", "));
  }
  h += "</tbody></table></div>\n";
  std::size_t unreached = 0;
  for (const auto& d : r.directions) unreached += d.radius ? 0 : 1;
  if (unreached > 0)
    h += fmt::format("<p class=\"muted\">{} not reaching it within {} standard deviations are not listed.</p>\n",
                     plural(unreached, "direction"), plain(r.options.max_radius));
  h += r.at_design_point ? std::string("<p>The stress scenario below is the move of the first row.</p>\n")
                         : fmt::format(
                               "<p><strong>No direction searched {} within {} standard deviations.</strong>"
                               "</p>\n",
                               target, plain(r.options.max_radius));
  h += "</section>\n";
  std::vector<StressOutcome> outcomes;
  if (r.at_design_point) outcomes.push_back(*r.at_design_point);
  return stress_page(model, outcomes, scenario_file, resolved_yaml,
                     {fmt::format("ccpnet reverse stress report: {}", esc(ccp.id)),
                      fmt::format("Reverse stress: {} ({})", esc(ccp.id), esc(model.name)), h});
}

// ===========================================================================
// compare_report

namespace {

enum class Unit { kUsd, kCount, kProbability };

// A compared metric as the report shows it: its name and title (from its
// declaration) and how its numbers read.
struct ShownMetric {
  std::string_view name;
  std::string_view title;
  Unit unit;
  bool optional;
};

ShownMetric shown_metric(const MetricInfo& info) {
  const Unit unit = info.unit == MetricUnit::kUsd         ? Unit::kUsd
                    : info.unit == MetricUnit::kScenarios ? Unit::kProbability
                                                          : Unit::kCount;
  return {info.name, info.title, unit, info.optional};
}

// The metrics of the comparison: the headline ones in this order, then every
// other compared metric (an optional one where some variant has it).
std::vector<ShownMetric> shown_metrics(const Comparison& c) {
  constexpr std::string_view kHeadline[] = {"any_ccp_fail", "member_defaults", "total_loss", "closeout_loss",
                                            "uncovered_loss"};
  std::vector<ShownMetric> shown;
  for (std::string_view name : kHeadline) shown.push_back(shown_metric(compare_metrics()[compare_metric_index(name)]));
  for (const MetricInfo& m : compare_metrics())
    if (std::find(std::begin(kHeadline), std::end(kHeadline), m.name) == std::end(kHeadline) && c.shows(m.name))
      shown.push_back(shown_metric(m));
  return shown;
}

std::string fmt_value(double x, Unit u) {
  switch (u) {
    case Unit::kUsd: return money(x);
    case Unit::kCount: return plain(x, 4);
    case Unit::kProbability: return pct(x);
  }
  return kDash;
}
std::string fmt_diff(double x, Unit u) {
  switch (u) {
    case Unit::kUsd: return signed_money(x);
    case Unit::kCount: return signed_plain(x, 3);
    case Unit::kProbability: return signed_pp(x);
  }
  return kDash;
}
std::string tick_for(Unit u, double x) {
  switch (u) {
    case Unit::kUsd: return x < 0 ? std::string(kMinus) + money_tick(-x) : money_tick(x);
    case Unit::kCount: return fmt::format("{:.6g}", x);
    case Unit::kProbability: return fmt::format("{:.6g}", 100.0 * x);
  }
  return kDash;
}

// The verdict on a paired difference: every metric here is "lower is better".
std::string verdict(const PairedDifference& d) {
  if (d.lo > 0.0) return "<span class=\"badge worse\">&#9650; higher</span>";
  if (d.hi < 0.0) return "<span class=\"badge better\">&#9660; lower</span>";
  if (d.lo == 0.0 && d.hi == 0.0) return "<span class=\"badge neutral\">identical in every scenario</span>";
  return "<span class=\"badge neutral\">interval includes 0</span>";
}

std::string dot_whisker(const Comparison& c, const ShownMetric& metric, Ids& ids) {
  const std::size_t nv = c.variants.size() - 1;
  const double width = 1000, label_w = 210, right = 30, top = 12, row_h = 34;
  const Frame f{label_w, top, width - label_w - right, row_h * static_cast<double>(nv)};
  double lo = 0.0, hi = 0.0;
  for (std::size_t v = 1; v < c.variants.size(); ++v) {
    const auto d = c.difference(v, metric.name);
    for (double x : {d.lo, d.hi, d.mean})
      if (std::isfinite(x)) lo = std::min(lo, x), hi = std::max(hi, x);
  }
  if (hi - lo <= 0.0) hi = lo + (metric.unit == Unit::kProbability ? 0.01 : metric.unit == Unit::kUsd ? 1000.0 : 1.0);
  const double pad = 0.05 * (hi - lo);
  lo -= lo < 0.0 ? pad : 0.0;
  hi += hi > 0.0 ? pad : 0.0;
  const auto ticks = nice_ticks(lo, hi, 6);
  const double height = f.y + f.h + 46;
  const auto xpos = [&](double x) { return f.x + (x - lo) / (hi - lo) * f.w; };
  std::string svg = svg_open(width, height, fmt::format("Paired difference to base: {}", metric.title), ids("dw"));
  for (std::size_t v = 0; v < nv; ++v)
    if (v % 2 == 1)
      svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#f5f7f9\"/>", c1(f.x),
                         c1(f.y + row_h * static_cast<double>(v)), c1(f.w), c1(row_h));
  for (double t : ticks) {
    const double x = xpos(t);
    svg += fmt::format("<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#e6e9ed\"/>", c1(x), c1(f.y),
                       c1(f.y + f.h));
    svg += fmt::format("<text class=\"ax\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>", c1(x),
                       c1(f.y + f.h + 16), tick_for(metric.unit, t));
  }
  const double x0 = xpos(0.0);
  svg += fmt::format("<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#1b1f24\" stroke-width=\"1.4\"/>",
                     c1(x0), c1(f.y - 4), c1(f.y + f.h));
  const char* unit_text = metric.unit == Unit::kUsd           ? "USD"
                          : metric.unit == Unit::kProbability ? "percentage points"
                                                              : "defaults per scenario";
  svg += fmt::format("<text class=\"axt\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">variant minus base ({})</text>\n",
                     c1(f.x + f.w / 2), c1(f.y + f.h + 36), unit_text);
  for (std::size_t v = 1; v < c.variants.size(); ++v) {
    const auto d = c.difference(v, metric.name);
    const double y = f.y + row_h * (static_cast<double>(v - 1) + 0.5);
    const char* colour = d.lo > 0.0 ? "#b2182b" : d.hi < 0.0 ? "#1f4e79" : "#56606b";
    svg += fmt::format("<text class=\"lbl\" x=\"{}\" y=\"{}\" text-anchor=\"end\" font-weight=\"600\">{}</text>",
                       c1(f.x - 10), c1(y + 4), esc(c.variants[v].name));
    svg += fmt::format(
        "<g><title>{}: {} [{}, {}]</title><line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"{}\" "
        "stroke-width=\"2\"/>",
        esc(c.variants[v].name), fmt_diff(d.mean, metric.unit), fmt_diff(d.lo, metric.unit),
        fmt_diff(d.hi, metric.unit), c1(xpos(d.lo)), c1(xpos(d.hi)), c1(y), c1(y), colour);
    for (double x : {d.lo, d.hi})
      svg += fmt::format("<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"{3}\" stroke-width=\"2\"/>",
                         c1(xpos(x)), c1(y - 6), c1(y + 6), colour);
    svg += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"5.5\" fill=\"{}\"/></g>", c1(xpos(d.mean)), c1(y), colour);
    const bool left = xpos(d.hi) > f.x + f.w - 120;
    svg += fmt::format("<text class=\"ax halo\" x=\"{}\" y=\"{}\" text-anchor=\"{}\">{}</text>\n",
                       c1(left ? xpos(d.lo) - 8 : xpos(d.hi) + 8), c1(y + 4), left ? "end" : "start",
                       fmt_diff(d.mean, metric.unit));
  }
  return svg;
}

}  // namespace

std::string compare_report(const Comparison& c) {
  Ids ids;
  const std::vector<ShownMetric> metrics = shown_metrics(c);
  const Model* base = c.variants.empty() ? nullptr : c.variants.front().model.get();
  const std::string name = base ? esc(base->name) : std::string("(no variants)");
  std::string h = page_begin(fmt::format("ccpnet comparison report: {}", name), fmt::format("Comparison: {}", name),
                             fmt::format("{} variant{} &#183; {} scenarios each, common random numbers",
                                         c.variants.size(), c.variants.size() == 1 ? "" : "s", grouped(c.scenarios)));
  h += "<nav class=\"toc\"><a href=\"#variants\">Variants</a><a href=\"#differences\">Paired differences</a>"
       "<a href=\"#figures\">Figures</a></nav>\n";
  h += "<section id=\"variants\"><h2>Variants side by side</h2>\n<dl class=\"meta\">";
  if (base)
    h += fmt::format("<dt>Scenario</dt><dd>{}</dd><dt>Scenario file</dt><dd>{}</dd><dt>Seed</dt><dd>{}</dd>",
                     esc(base->name), esc(base->source_name), base->seed);
  h += fmt::format("<dt>ccpnet version</dt><dd>{}</dd><dt>Scenarios per variant</dt><dd>{}</dd></dl>\n", CCPNET_VERSION,
                   grouped(c.scenarios));
  h += "<p>Every variant is run on the same random scenarios, so each difference to the base is paired scenario by "
       "scenario and its 95% interval is much tighter than a comparison of two independent runs.</p>\n";
  if (!c.warnings.empty()) {
    h += "<div class=\"banner partial\"><strong>Warnings</strong><ul class=\"defaults\">";
    for (const auto& w : c.warnings) h += "<li>" + esc(w) + "</li>";
    h += "</ul></div>\n";
  }
  h += "<div class=\"tablewrap\"><table>\n<thead><tr><th>variant</th><th class=\"num\">total IM (USD)</th>"
       "<th class=\"num\">inter-CCP IM (USD)</th><th class=\"num\">default funds (USD)</th>";
  for (const auto& m : metrics)
    h += fmt::format("<th class=\"num\">{}{}</th>", m.unit == Unit::kProbability ? "" : "mean ", m.title);
  h += "</tr></thead>\n<tbody>\n";
  for (std::size_t v = 0; v < c.variants.size(); ++v) {
    const auto& x = c.variants[v];
    h += fmt::format(
        "<tr><td><strong>{}</strong>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
        "<td class=\"num\">{}</td>",
        esc(x.name), v == 0 ? " <span class=\"badge neutral\">base</span>" : "", money(x.total_im),
        money(x.inter_ccp_margin), money(x.default_funds));
    for (const auto& m : metrics) h += fmt::format("<td class=\"num\">{}</td>", fmt_value(c.mean(v, m.name), m.unit));
    h += "</tr>\n";
  }
  h += "</tbody></table></div>\n</section>\n";

  h += "<section id=\"differences\"><h2>Paired differences to the base (95% intervals)</h2>\n";
  if (c.variants.size() < 2) {
    h += "<p>Only the base was run: the scenario file has no variants to compare.</p>\n";
  } else {
    h += "<div class=\"tablewrap\"><table>\n<thead><tr><th>variant</th><th>metric</th><th class=\"num\">base</th>"
         "<th class=\"num\">variant</th><th class=\"num\">difference</th><th class=\"num\">95% interval</th>"
         "<th>reading</th></tr></thead>\n<tbody>\n";
    for (std::size_t v = 1; v < c.variants.size(); ++v)
      for (std::size_t k = 0; k < metrics.size(); ++k) {
        const auto& m = metrics[k];
        const auto d = c.difference(v, m.name);
        h += fmt::format(
            "<tr>{}<td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\"><strong>{}</strong>"
            "</td><td class=\"num\">[{}, {}]</td><td>{}</td></tr>\n",
            k == 0 ? fmt::format("<td rowspan=\"{}\"><strong>{}</strong></td>", metrics.size(), esc(c.variants[v].name))
                   : "",
            m.title, fmt_value(c.mean(0, m.name), m.unit), fmt_value(c.mean(v, m.name), m.unit),
            fmt_diff(d.mean, m.unit), fmt_diff(d.lo, m.unit), fmt_diff(d.hi, m.unit), verdict(d));
      }
    h += "</tbody></table></div>\n<p class=\"muted\">Difference: variant minus base, mean over the paired scenarios; "
         "interval: mean &#177; 1.96 standard errors of the paired differences. Lower is safer for every metric "
         "here. pp: percentage points.";
    if (std::any_of(metrics.begin(), metrics.end(), [](const ShownMetric& m) { return m.optional; }))
      h += " Liquidity shortfall: cash missing of the members that defaulted for liquidity. Settlement loss: "
           "principal lost and replacement costs of settlement fails. Both are shown when some variant has them.";
    h += "</p>\n";
  }
  h += "</section>\n";

  h += "<section id=\"figures\"><h2>Figures</h2>\n";
  if (c.variants.size() >= 2) {
    for (const auto& m : metrics) {
      bool any = false;
      for (std::size_t v = 1; v < c.variants.size(); ++v) {
        const auto d = c.difference(v, m.name);
        any = any || d.lo != 0.0 || d.hi != 0.0;
      }
      const std::string title = fmt::format("Difference to base: {}", m.title);
      if (!any) {
        h += fmt::format(
            "<figure><h3>{}</h3><p>Every variant gives the same {} as the base in every scenario: nothing to "
            "plot.</p></figure>\n",
            title, m.title);
        continue;
      }
      h += figure(title, dot_whisker(c, m, ids),
                  "Dot: mean paired difference (variant minus base); whiskers: 95% interval. Blue: the whole interval "
                  "is below 0 (lower than the base); red: above 0 (higher); grey: the interval includes 0.");
    }
  } else {
    h += "<p>No figures: there is nothing to compare the base with.</p>\n";
  }
  h += "</section>\n";
  h += page_end("Variants run on common random numbers.");
  return h;
}

}  // namespace ccpnet
