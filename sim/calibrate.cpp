#include "sim/calibrate.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>
#include <tuple>

#include "models/calibration/population.hpp"
#include "models/margin/quantile.hpp"
#include "sim/config/csv.hpp"
#include "sim/config/diagnostics.hpp"

namespace ccpnet {
namespace {

constexpr const char* kKey = "disclosures";

// Fields read, with what they must be.
struct FieldRule {
  const char* name;
  bool required;
  bool share;  // a fraction in (0, 1]; otherwise an amount or count >= 0
};
constexpr FieldRule kFields[] = {
    {"initial_margin_required", true, false},
    {"prefunded_default_fund", true, false},
    {"capital", true, false},
    {"clearing_members", true, false},
    {"skin_in_the_game", false, false},
    {"minimum_capital", false, false},
    {"cover1_stress_loss", false, false},
    {"cover2_stress_loss", false, false},
    {"top5_im_share", false, true},
    {"top10_im_share", false, true},
};

const FieldRule* rule_of(const std::string& field) {
  for (const auto& r : kFields)
    if (field == r.name) return &r;
  return nullptr;
}

std::string number(double x) { return fmt::format("{:.17g}", x); }

// An id usable in YAML without quotes: letters, digits and _ kept, others _.
std::string plain_id(const std::string& text) {
  std::string out;
  for (char ch : text) out += std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' ? ch : '_';
  return out.empty() ? "X" : out;
}

}  // namespace

std::vector<Disclosure> read_disclosures(const std::string& path) {
  config::Diagnostics d(path);
  const auto table = config::read_csv(path, kKey, config::Location{0, 0, "calibrate " + path}, d);
  if (!table) throw config::ScenarioError(std::move(d));
  const auto column = [&](const char* name, bool required) {
    const int c = table->column(name);
    if (c < 0 && required)
      d.error(config::Location{1, 1, table->path}, kKey,
              fmt::format("expected a column '{}' in the header (the CCP12 long layout: ccp, clearing_service, "
                          "as_of_date, reference, field, currency, value)",
                          name));
    return c;
  };
  const int ccp = column("ccp", true), service = column("clearing_service", true), date = column("as_of_date", true),
            field = column("field", true), value = column("value", true), currency = column("currency", false);
  if (!d.empty()) throw config::ScenarioError(std::move(d));
  // Latest date per (ccp, service).
  std::map<std::pair<std::string, std::string>, std::string> latest;
  for (const auto& row : table->rows) {
    auto& l = latest[{row[static_cast<std::size_t>(ccp)].text, row[static_cast<std::size_t>(service)].text}];
    l = std::max(l, row[static_cast<std::size_t>(date)].text);
  }
  std::map<std::tuple<std::string, std::string>, Disclosure> by_service;
  std::vector<std::tuple<std::string, std::string>> order;
  std::map<std::tuple<std::string, std::string, std::string>, int> seen_line;
  for (const auto& row : table->rows) {
    const auto cell = [&](int c) -> const config::CsvCell& { return row[static_cast<std::size_t>(c)]; };
    if (cell(ccp).text.empty()) {
      d.error(table->at(cell(ccp)), kKey, "expected a CCP identifier, found an empty cell");
      continue;
    }
    if (cell(date).text.size() != 10 || cell(date).text[4] != '-' || cell(date).text[7] != '-')
      d.error(table->at(cell(date)), kKey,
              fmt::format("expected a date yyyy-mm-dd, found {}", config::describe_cell(cell(date))));
    if (cell(date).text != latest[{cell(ccp).text, cell(service).text}]) continue;
    const std::tuple<std::string, std::string> key{cell(ccp).text, cell(service).text};
    auto [it, inserted] = by_service.try_emplace(key);
    if (inserted) {
      order.push_back(key);
      it->second.ccp = cell(ccp).text;
      it->second.service = cell(service).text;
      it->second.date = cell(date).text;
    }
    const std::string& name = cell(field).text;
    const FieldRule* rule = rule_of(name);
    if (!rule) {
      if (std::find(it->second.unused.begin(), it->second.unused.end(), name) == it->second.unused.end())
        it->second.unused.push_back(name);
      continue;
    }
    if (currency >= 0 && !rule->share && name != "clearing_members" && cell(currency).text != "USD")
      d.error(table->at(cell(currency)), kKey,
              fmt::format("expected USD for {} (ccpnet works in one currency: convert the figure), found {}", name,
                          config::describe_cell(cell(currency))));
    const auto [previous, fresh] = seen_line.try_emplace({cell(ccp).text, cell(service).text, name}, cell(field).line);
    if (!fresh) {
      d.error(table->at(cell(field)), kKey,
              fmt::format("{} of {} / {} at {} is given twice (also line {})", name, cell(ccp).text, cell(service).text,
                          cell(date).text, previous->second));
      continue;
    }
    const auto x =
        config::csv_number(*table, cell(value), kKey, rule->share ? "a share in (0, 1]" : "a number >= 0", d);
    if (!x) continue;
    if (rule->share ? !(*x > 0.0 && *x <= 1.0) : !(*x >= 0.0)) {
      d.error(table->at(cell(value)), kKey,
              fmt::format("expected {} for {}, found {}", rule->share ? "a share in (0, 1]" : "a number >= 0", name,
                          config::describe_cell(cell(value))));
      continue;
    }
    if (name == "clearing_members" && (*x < 1.0 || *x != std::floor(*x) || *x > 100000.0)) {
      d.error(table->at(cell(value)), kKey,
              fmt::format("expected a whole number of clearing members from 1 to 100000, found {}",
                          config::describe_cell(cell(value))));
      continue;
    }
    it->second.values[name] = *x;
  }
  std::vector<Disclosure> out;
  for (const auto& key : order) {
    Disclosure& disclosure = by_service.at(key);
    for (const auto& r : kFields)
      if (r.required && !seen_line.count({disclosure.ccp, disclosure.service, r.name}))
        d.error(config::Location{1, 1, table->path}, kKey,
                fmt::format("{} / {} at {} does not disclose {}", disclosure.ccp, disclosure.service, disclosure.date,
                            r.name));
    out.push_back(std::move(disclosure));
  }
  if (out.empty() && d.empty()) d.error(config::Location{1, 1, table->path}, kKey, "expected disclosures, found none");
  if (!d.empty()) throw config::ScenarioError(std::move(d));
  return out;
}

std::string calibrated_scenario(const std::vector<Disclosure>& disclosures, const std::string& source) {
  std::map<std::string, int> services;
  for (const auto& x : disclosures) ++services[x.ccp];
  const double q = models::normal_quantile(0.99);
  constexpr double kPrice = 100.0, kVolatility = 0.6, kMpor = 2.0, kTradingDays = 365.0;
  // Value whose parametric IM (99%, 2 days) is 1 USD: IM = q sqrt(h) sigma_d |v|.
  const double value_per_im = 1.0 / (q * std::sqrt(kMpor) * kVolatility / std::sqrt(kTradingDays));

  std::string assets, ccps, members, notes;
  for (const auto& x : disclosures) {
    const std::string id = plain_id(services[x.ccp] > 1 ? x.ccp + "_" + x.service : x.ccp);
    const std::string asset = id + "_BOOK";
    const auto value = [&](const char* field) { return x.values.at(field); };
    const auto has = [&](const char* field) { return x.values.count(field) > 0; };
    const auto n = static_cast<Eigen::Index>(value("clearing_members"));
    std::vector<std::pair<Eigen::Index, double>> top;
    // The top k of fewer than k members are all of them: their share is the
    // whole IM, and it is checked as such (the top n hold 100%).
    for (const auto& [k, field] : {std::pair<Eigen::Index, const char*>{5, "top5_im_share"}, {10, "top10_im_share"}})
      if (has(field) && (top.empty() || top.back().first < std::min(k, n)))
        top.emplace_back(std::min(k, n), value(field));
    Eigen::VectorXd im;
    try {
      im = models::concentrated_sizes(n, value("initial_margin_required"), top);
    } catch (const std::invalid_argument& e) {
      config::Diagnostics d(source);
      d.error(config::Location{1, 1, source}, kKey,
              fmt::format("{} / {} at {}: {}", x.ccp, x.service, x.date, e.what()));
      throw config::ScenarioError(std::move(d));
    }
    assets += fmt::format("    - {{id: {}, price: {}, volatility: {}}}  # {} / {}: the asset mix is not disclosed\n",
                          asset, kPrice, kVolatility, x.ccp, x.service);
    ccps += fmt::format("  # {} / {} as of {}\n", x.ccp, x.service, x.date);
    ccps += fmt::format("  - id: {}\n    capital: {}\n", id, number(value("capital")));
    if (has("minimum_capital")) ccps += fmt::format("    minimum_capital: {}\n", number(value("minimum_capital")));
    if (has("skin_in_the_game")) ccps += fmt::format("    sitg: {}\n", number(value("skin_in_the_game")));
    ccps += fmt::format("    margin: {{model: parametric, confidence: 0.99, mpor_days: {}}}\n", kMpor);
    ccps += fmt::format("    default_fund: {{sizing: fixed, amount: {}}}\n", number(value("prefunded_default_fund")));
    ccps += "    imbalance: rest_of_market\n";
    if (has("cover1_stress_loss"))
      ccps += fmt::format("    # disclosed Cover-1 stress loss beyond IM: {}\n", number(value("cover1_stress_loss")));
    if (has("cover2_stress_loss"))
      ccps += fmt::format("    # disclosed Cover-2 stress loss beyond IM: {} (ccpnet's own figure: `ccpnet stress`)\n",
                          number(value("cover2_stress_loss")));
    if (!x.unused.empty())
      notes += fmt::format("#   {} / {}: {}\n", x.ccp, x.service, fmt::format("{}", fmt::join(x.unused, ", ")));
    const int width = static_cast<int>(std::to_string(n).size());
    for (Eigen::Index i = 0; i < n; ++i) {
      const double quantity = (i % 2 == 0 ? 1.0 : -1.0) * im(i) * value_per_im / kPrice;
      members += fmt::format(
          "  - {{id: {}_M{:0{}}, capital: {}, liquidity: {}, positions: {{{}: {{{}: {}}}}}, initial_margin: {{{}: "
          "{}}}}}\n",
          id, i + 1, width, number(10.0 * im(i)), number(im(i)), id, asset, number(quantity), id, number(im(i)));
    }
  }
  std::string out;
  out += fmt::format("# Generated by `ccpnet calibrate` from the public quantitative disclosures in {}.\n", source);
  out +=
      "# Observed: each CCP's capital, minimum capital, SITG, prefunded default fund (fixed, shared pro rata to\n"
      "# IM) and total initial margin; the number of members and the IM concentration (top 5 / top 10).\n"
      "# Assumed, as PQDs do not say (edit before use): one representative asset per CCP (price 100,\n"
      "# volatility 0.6); members equal within each disclosed concentration band, long and short in turn,\n"
      "# positions sized so that parametric IM (99%, 2 days) is their observed IM, the difference booked to\n"
      "# the rest of the market; members' capital 10 x and liquidity 1 x their IM; no links between CCPs\n"
      "# (PQDs do not disclose them); the two largest groups default at every CCP (defaults.rule: cover2).\n";
  if (!notes.empty()) out += "# Fields disclosed but not used:\n" + notes;
  out += fmt::format("name: calibrated from {}\n", source);
  out +=
      "description: >-\n  A skeleton calibrated from public quantitative disclosures: observed resources, a member "
      "population\n"
      "  consistent with the disclosed totals and concentration, assumed positions and no links.\n";
  out += "seed: 1\nsimulation: {scenarios: 10000}\nmarket:\n  assets:\n" + assets;
  out += "ccps:\n" + ccps;
  out += "members:\n" + members;
  out += "defaults: {rule: cover2}\n";
  return out;
}

}  // namespace ccpnet
