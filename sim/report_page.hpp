// The frame and the building blocks of the report pages (sim/report*.cpp):
// the style sheet, the header and footer, cards, intervals, figures with
// their captions, and words shared by the run and stress pages (and by the
// figures' data, sim/report_figures.cpp). Internal to the report.
#pragma once

#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "models/stats/intervals.hpp"
#include "sim/figures.hpp"

namespace ccpnet {

struct Model;
struct CcpModel;

namespace page {

using figures::grouped;
using figures::kDash;
using figures::kMinus;
using figures::money;
using figures::pct;
using figures::plain;
using figures::plural;
using figures::usd;

inline std::string esc(std::string_view s) { return html_escape(s); }

// <!DOCTYPE html> to <main>: the style sheet, the title and the header band.
std::string begin(const std::string& title, const std::string& heading, const std::string& subtitle);
// </main>, the footer with `note`, </html>.
std::string end(const std::string& note);

// The exact value of a number shown rounded, kept beside it for readers and
// tests that want every digit (the same text as in the CSV files); none when NaN.
std::string exact_attr(double x);
// A headline number; `exact`: the unrounded value (data-value attribute).
std::string card(const std::string& value, const std::string& label, bool bad = false, const std::string& note = {},
                 double exact = std::numeric_limits<double>::quiet_NaN());
std::string swatch(const char* colour);
// A table cell with a number and its exact value.
std::string num_cell(const std::string& text, double exact);

// A 95% interval as text: "[0.00088%, 0.028%]" or "[1.2m, 3.4m]"; an end no
// order statistic bounds (too few scenarios in that tail) is "&#8734;".
std::string interval_text(const models::stats::Interval& iv, bool percent);
// A table cell's estimate with its 95% interval on the line below.
std::string with_interval(const std::string& value, const models::stats::Interval& iv, bool percent);

// The resolved scenario, collapsible.
std::string resolved_block(const std::string& resolved_yaml);

// A figure with its heading and caption.
std::string figure(const std::string& title, const figures::Svg& svg, const std::string& caption,
                   const std::string& id = {});

// The ids of CCPs (indices into model.ccps), escaped, comma-separated.
std::string ccp_list(const Model& model, const std::vector<int>& ccps);

// "0.213 h", "6 h", "156 h": three significant digits, no trailing zeros.
std::string hours(double h);
// Where a CCP's VM settles (its mode, the chain and bridge it uses), and where
// its collateral is held, in words (the file's names in a tooltip).
std::string settlement_route(const Model& model, const CcpModel& ccp);
std::string custody_text(const Model& model, const CcpModel& ccp);

}  // namespace page
}  // namespace ccpnet
