#include "sim/report_page.hpp"

#include <fmt/format.h>

#include <cmath>

#include "sim/config/field.hpp"
#include "sim/config/schema.hpp"
#include "sim/model.hpp"

namespace ccpnet::page {

namespace {

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

}  // namespace

std::string begin(const std::string& title, const std::string& heading, const std::string& subtitle) {
  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<meta name=\"generator\" content=\"ccpnet " CCPNET_VERSION "\">\n";
  out += "<link rel=\"icon\" href=\"data:,\">\n";
  out += fmt::format("<title>{}</title>\n<style>{}svg text{{font-family:inherit}}\n{}</style>\n</head>\n<body>\n",
                     title, kCss, figures::kSvgCss);
  out +=
      fmt::format("<header class=\"top\"><div class=\"wrap\"><h1>{}</h1><div class=\"sub\">{}</div></div></header>\n",
                  heading, subtitle);
  out += "<main>\n";
  return out;
}

std::string end(const std::string& note) {
  return fmt::format(
      "</main>\n<footer>Generated by ccpnet {}. {} Self-contained page: figures are inline SVG, nothing is "
      "loaded from elsewhere.</footer>\n</body>\n</html>\n",
      CCPNET_VERSION, note);
}

// The exact value of a number shown rounded, kept beside it for readers and
// tests that want every digit (the same text as in the CSV files).
std::string exact_attr(double x) { return std::isfinite(x) ? fmt::format(" data-value=\"{}\"", x) : std::string(); }

// `exact`: the unrounded value, kept in a data-value attribute (none when NaN).
std::string card(const std::string& value, const std::string& label, bool bad, const std::string& note, double exact) {
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

std::string figure(const std::string& title, const figures::Svg& svg, const std::string& caption,
                   const std::string& id) {
  return fmt::format("<figure{}><h3>{}</h3>\n{}<figcaption>{}</figcaption></figure>\n",
                     id.empty() ? "" : fmt::format(" id=\"{}\"", id), title, svg.markup, caption);
}

std::string ccp_list(const Model& model, const std::vector<int>& ccps) {
  std::string out;
  for (int c : ccps) out += (out.empty() ? "" : ", ") + esc(model.ccps[static_cast<std::size_t>(c)].id);
  return out;
}

std::string num_cell(const std::string& text, double exact) {
  return fmt::format("<td class=\"num\"{}>{}</td>", exact_attr(exact), text);
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

namespace {

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

}  // namespace

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

}  // namespace ccpnet::page
