#include "sim/compare.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <stdexcept>

#include "sim/generator.hpp"
#include "sim/output.hpp"
#include "sim/progress.hpp"

namespace ccpnet {

void apply_topology(config::Scenario& s, config::Topology topology, std::vector<std::string>& warnings) {
  using config::Topology;
  const auto link = [](const std::string& a, const std::string& b) {
    config::LinkConfig l;
    l.between = {a, b};
    return l;
  };
  switch (topology) {
    case Topology::kAsIs: return;
    case Topology::kNone:
      s.links.clear();
      for (auto& c : s.ccps) c.imbalance = config::ImbalancePolicy::kDirectMembership;
      return;
    case Topology::kPeer:
      s.links.clear();
      for (std::size_t i = 1; i < s.ccps.size(); ++i) s.links.push_back(link(s.ccps[i - 1].id, s.ccps[i].id));
      return;
    case Topology::kHub:
      s.links.clear();
      for (std::size_t i = 1; i < s.ccps.size(); ++i) s.links.push_back(link(s.ccps[0].id, s.ccps[i].id));
      return;
    case Topology::kMesh:
      s.links.clear();
      for (std::size_t i = 0; i < s.ccps.size(); ++i)
        for (std::size_t j = i + 1; j < s.ccps.size(); ++j) s.links.push_back(link(s.ccps[i].id, s.ccps[j].id));
      return;
    case Topology::kSingle: {
      config::CcpConfig global = s.ccps.front();
      global.id = "single_ccp";
      double capital = 0, sitg = 0, fund = 0, insurance = 0;
      bool fixed = true;
      for (const auto& c : s.ccps) {
        capital += c.capital;
        sitg += c.sitg.value_or(0.25 * c.capital);
        insurance += c.insurance_fund;
        fixed = fixed && c.default_fund.sizing == config::DefaultFundSizing::kFixed;
        fund += c.default_fund.amount.value_or(0.0);
      }
      global.capital = capital;
      global.sitg = sitg;
      global.insurance_fund = insurance;
      if (fixed) global.default_fund.amount = fund;
      for (auto& m : s.members) {
        config::OrderedMap<double> merged;
        for (const auto& [ccp, book] : m.positions)
          for (const auto& position : book) {
            // The lambda captures `position`: clang 14 cannot capture a structured binding.
            const auto& [asset, qty] = position;
            auto it =
                std::find_if(merged.begin(), merged.end(), [&](const auto& e) { return e.first == position.first; });
            if (it == merged.end()) {
              merged.emplace_back(asset, qty);
            } else {
              it->second += qty;
            }
          }
        m.positions.clear();
        if (!merged.empty()) m.positions.emplace_back(global.id, std::move(merged));
        if (!m.initial_margin.empty() || !m.default_fund.empty())
          warnings.push_back(fmt::format("single CCP: observed IM and DF of member '{}' dropped (recomputed)", m.id));
        m.initial_margin.clear();
        m.default_fund.clear();
      }
      warnings.push_back(fmt::format("single CCP: the rulebook of '{}' applies to all clearing", s.ccps.front().id));
      s.ccps = {global};
      s.links.clear();
      return;
    }
  }
}

const std::vector<MetricInfo>& compare_metrics() {
  static const std::vector<MetricInfo> metrics = [] {
    std::vector<MetricInfo> out;
    for (const MetricInfo& info : metric_infos())
      if (info.compare) out.push_back(info);
    return out;
  }();
  return metrics;
}

std::size_t compare_metric_index(std::string_view name) {
  const auto& metrics = compare_metrics();
  for (std::size_t k = 0; k < metrics.size(); ++k)
    if (metrics[k].name == name) return k;
  std::vector<std::string> names;
  for (const auto& m : metrics) names.push_back("'" + std::string(m.name) + "'");
  throw std::invalid_argument(
      fmt::format("no compared metric '{}'; the compared metrics are {}", name, fmt::join(names, ", ")));
}

void PairedSums::add(double x, double y) {
  const double d = y - x;
  ++n;
  sum_x += x;
  sum_y += y;
  sum_d += d;
  const double dd = d - mean_d, dy = y - mean_y;
  mean_d += dd / static_cast<double>(n);
  mean_y += dy / static_cast<double>(n);
  m_dd += dd * (d - mean_d);
  m_dy += dd * (y - mean_y);
  m_yy += dy * (y - mean_y);
}

const std::vector<double>& Comparison::values(std::size_t variant, std::string_view metric) const {
  const auto& columns = variants.at(variant).per_scenario;
  if (columns.empty())
    throw std::logic_error("the comparison did not keep its per-scenario values (run it with keep_per_scenario)");
  return columns[compare_metric_index(metric)];
}

double Comparison::mean(std::size_t variant, std::string_view metric) const {
  const PairedSums& s = variants.at(variant).paired[compare_metric_index(metric)];
  return s.n == 0 ? 0.0 : s.sum_y / static_cast<double>(s.n);
}

bool Comparison::shows(std::string_view metric) const {
  if (!compare_metrics()[compare_metric_index(metric)].optional) return true;
  for (std::size_t v = 0; v < variants.size(); ++v)
    if (mean(v, metric) != 0.0) return true;
  return false;
}

namespace {

constexpr double kZ95 = 1.959963984540054;

}  // namespace

PairedDifference Comparison::difference(std::size_t variant, std::string_view metric) const {
  const PairedSums& s = variants.at(variant).paired[compare_metric_index(metric)];
  if (s.n == 0) return {};
  const auto n = static_cast<double>(s.n);
  const double mean = s.sum_d / n;
  const double se = s.n > 1 ? std::sqrt(std::max(0.0, s.m_dd) / (n - 1.0) / n) : 0.0;
  return {mean, mean - kZ95 * se, mean + kZ95 * se};
}

PairedDifference Comparison::ratio(std::size_t variant, std::string_view metric) const {
  const PairedSums& s = variants.at(variant).paired[compare_metric_index(metric)];
  if (s.n < 2 || s.sum_y == 0.0) return {};
  const auto n = static_cast<double>(s.n);
  const double r = s.sum_x / s.sum_y, mean_y = s.sum_y / n;
  // z = x - r y = (1 - r) y - d has mean 0: its sum of squares from the co-moments.
  const double a = 1.0 - r;
  const double ss = std::max(0.0, a * a * s.m_yy - 2.0 * a * s.m_dy + s.m_dd);
  const double se = std::sqrt(ss / (n - 1.0) / n) / std::abs(mean_y);
  return {r, r - kZ95 * se, r + kZ95 * se};
}

namespace {

// A variant before its run: its model and its margins.
VariantOutcome prepare_variant(const std::string& name, const config::LoadedScenario& loaded) {
  VariantOutcome v;
  v.name = name;
  auto model = std::make_shared<const Model>(build_model(loaded));
  v.model = model;
  for (const auto& acc : model->accounts) {
    if (acc.kind == AccountKind::kMember || acc.kind == AccountKind::kClient) v.total_im += acc.initial_margin;
    if (acc.kind == AccountKind::kLink) v.inter_ccp_margin += acc.initial_margin;
  }
  for (const auto& c : model->ccps) v.default_funds += c.default_fund;
  v.paired.assign(compare_metrics().size(), {});
  return v;
}

// Each compared metric's value in a scenario, as the declaration extracts it.
void compared_values(const MetricInput& x, std::vector<double>& out) {
  out.clear();
  ChunkSums::visit([&](auto, const MetricInfo& info, const auto& extract) {
    if (!info.compare) return;
    double value = 0.0;
    extract(x, [&](std::size_t, auto scenario_value) { value = static_cast<double>(scenario_value); });
    out.push_back(value);
  });
}

// The variants run block by block on the same scenarios: the base's values
// of the block are kept until every variant has paired its own with them.
class BlockedComparison {
 public:
  BlockedComparison(std::vector<VariantOutcome>& variants, const RunOptions& options, bool keep)
      : variants_(variants), options_(options), keep_(keep) {
    for (const auto& v : variants_) results_.emplace_back(*v.model);
    const std::int64_t n = options.count >= 0 ? options.count : variants_[0].model->scenarios;
    first_ = options.first;
    end_ = first_ + n;
    base_.assign(compare_metrics().size(), std::vector<double>(static_cast<std::size_t>(std::min(kCompareBlock, n))));
    if (keep_)
      for (auto& v : variants_) v.per_scenario.assign(compare_metrics().size(), {});
  }

  void run() {
    ProgressBar progress(options_.progress, (end_ - first_) * static_cast<std::int64_t>(variants_.size()));
    std::int64_t done = 0;
    for (std::int64_t b0 = first_; b0 < end_; b0 += kCompareBlock) {
      const std::int64_t b1 = std::min(end_, b0 + kCompareBlock);
      for (std::size_t v = 0; v < variants_.size(); ++v) {
        const bool stopped = run_block(v, b0, b1);
        done += b1 - b0;
        progress.update(done);
        if (stopped) {
          progress.finish();
          return;
        }
      }
    }
    progress.finish();
  }

  void finish() {
    for (std::size_t v = 0; v < variants_.size(); ++v) {
      RunResult& r = results_[v];
      r.aggregate.finish();
      r.first = first_;
      r.requested = end_ - first_;
      variants_[v].scenarios = r.completed;
      variants_[v].summary = summary_json(*variants_[v].model, r);
      variants_[v].metrics = metric_table(*variants_[v].model, r.aggregate);
    }
  }

 private:
  std::vector<VariantOutcome>& variants_;
  const RunOptions& options_;
  bool keep_;
  std::vector<RunResult> results_;
  std::int64_t first_ = 0, end_ = 0;
  std::vector<std::vector<double>> base_;  // compare_metrics() x scenario of the block
  std::vector<double> values_;

  // Runs variant v on [b0, b1) and folds its scenarios; true when the run was stopped.
  bool run_block(std::size_t v, std::int64_t b0, std::int64_t b1) {
    VariantOutcome& out = variants_[v];
    std::vector<double> funds;
    for (const auto& c : out.model->ccps) funds.push_back(c.default_fund);
    RunOptions o = options_;
    o.first = b0;
    o.count = b1 - b0;
    o.progress = false;
    o.on_scenario = [&](const ScenarioResult& r) {
      compared_values(MetricInput(r, funds), values_);
      const auto i = static_cast<std::size_t>(r.index - b0);
      for (std::size_t k = 0; k < values_.size(); ++k) {
        if (v == 0) base_[k][i] = values_[k];
        out.paired[k].add(base_[k][i], values_[k]);
        if (keep_) out.per_scenario[k].push_back(values_[k]);
      }
      if (options_.on_scenario) options_.on_scenario(r);
    };
    const RunResult part = run_monte_carlo(*out.model, o);
    RunResult& total = results_[v];
    total.aggregate.merge(part.aggregate);
    total.completed += part.completed;
    total.interrupted = total.interrupted || part.interrupted;
    total.threads = part.threads;
    total.batch = part.batch;
    total.seconds += part.seconds;
    const bool stopped = part.interrupted || (options_.stop && options_.stop->load());
    if (stopped)
      for (RunResult& r : results_) r.interrupted = true;
    return stopped;
  }
};

}  // namespace

Comparison run_compare(const std::string& file, const std::vector<config::Override>& overrides,
                       const RunOptions& options, bool keep_per_scenario) {
  return run_compare(config::load_scenario_file(file, overrides), overrides, options, keep_per_scenario);
}

Comparison run_compare(const config::LoadedScenario& base, const std::vector<config::Override>& overrides,
                       const RunOptions& options, bool keep_per_scenario) {
  Comparison c;
  c.warnings = base.warnings;
  c.variants.push_back(prepare_variant("base", base));
  for (std::size_t i = 0; i < base.scenario.variants.size(); ++i) {
    const auto& variant = base.scenario.variants[i];
    config::LoadedScenario loaded = config::load_variant(base, i, overrides);
    // Generated members are drawn once, as the variant's own links see them,
    // then rewired: every topology clears the same members and positions.
    if (loaded.scenario.generator) {
      for (auto& m : generate_members(loaded.scenario)) loaded.scenario.members.push_back(std::move(m));
      loaded.scenario.generator.reset();
    }
    apply_topology(loaded.scenario, variant.topology, c.warnings);
    c.variants.push_back(prepare_variant(variant.name, loaded));
  }
  BlockedComparison run(c.variants, options, keep_per_scenario);
  run.run();
  run.finish();
  c.scenarios = c.variants[0].scenarios;
  return c;
}

std::string format_difference(const MetricInfo& metric, const PairedDifference& d) {
  // A probability in percentage points, an amount in USD, a count as it is; signed.
  const auto number = [&](double x) {
    if (x == 0.0) return std::string(metric.unit == MetricUnit::kScenarios ? "0 pp" : "0");
    if (metric.unit == MetricUnit::kScenarios) return fmt::format("{:+.2g} pp", 100.0 * x);
    return fmt::format("{:+.3g}", x);
  };
  const std::string unit = metric.unit == MetricUnit::kUsd ? " USD" : "";
  return fmt::format("{} [{}, {}]{}", number(d.mean), number(d.lo), number(d.hi), unit);
}

std::string difference_reading(const PairedDifference& d) {
  if (d.lo > 0.0) return "higher than base";
  if (d.hi < 0.0) return "lower than base";
  if (d.lo == 0.0 && d.hi == 0.0) return "no difference";
  return "no significant difference";
}

std::string format_comparison(const Comparison& c) {
  std::string out = fmt::format(
      "{} scenarios per variant, common random numbers (paired differences to 'base', 95% intervals)\n\n", c.scenarios);
  std::size_t width = 22;
  for (const auto& x : c.variants) width = std::max(width, x.name.size());
  out += fmt::format("{:<{}} {:>12} {:>14} {:>12}  {:<26} {:<22} {}\n", "variant", width, "total IM", "inter-CCP IM",
                     "default fund", "P(any CCP fails)", "E[defaults]", "E[total loss] USD");
  for (std::size_t v = 0; v < c.variants.size(); ++v) {
    const auto& x = c.variants[v];
    // Each variant's own estimates with their 95% intervals (its summary.json).
    const auto& sys = x.summary.at("system");
    const auto estimate = [&](const char* key, bool percent) {
      return format_estimate(sys.at(key).get<double>(), sys.at(std::string(key) + "_ci95"), percent);
    };
    out += fmt::format("{:<{}} {:>12.4g} {:>14.4g} {:>12.4g}  {:<26} {:<22} {}\n", x.name, width, x.total_im,
                       x.inter_ccp_margin, x.default_funds, estimate("p_any_ccp_fail", true),
                       estimate("mean_member_defaults", false), estimate("expected_total_loss", false));
  }
  if (c.variants.size() > 1) {
    std::vector<std::string_view> shown;
    for (std::string_view m : {"any_ccp_fail", "member_defaults", "total_loss", "uncovered_loss"}) shown.push_back(m);
    for (const MetricInfo& m : compare_metrics())
      if (m.optional && c.shows(m.name)) shown.push_back(m.name);
    out += "\npaired difference to base: variant - base, per scenario (mean [95% interval]) and its reading\n";
    for (std::size_t v = 1; v < c.variants.size(); ++v) {
      out += fmt::format("  {}\n", c.variants[v].name);
      for (std::string_view m : shown) {
        const MetricInfo& info = compare_metrics()[compare_metric_index(m)];
        const auto d = c.difference(v, m);
        out += fmt::format("    {:<36} {:<44} {}\n", info.title.empty() ? std::string(m) : std::string(info.title),
                           format_difference(info, d), difference_reading(d));
      }
      if (const PairedDifference r = c.ratio(v, "total_loss"); r.mean > 0.0)
        out += fmt::format("    {:<36} {:.4g} [{:.4g}, {:.4g}]\n", "total loss, base / variant", r.mean, r.lo, r.hi);
    }
  }
  return out;
}

Table comparison_table(const Comparison& c) {
  std::vector<std::string> variant, metric, unit;
  std::vector<double> mean, difference, lower, upper;
  for (std::size_t v = 0; v < c.variants.size(); ++v)
    for (const MetricInfo& m : compare_metrics()) {
      variant.push_back(c.variants[v].name);
      metric.emplace_back(m.name);
      unit.emplace_back(m.unit == MetricUnit::kScenarios ? "probability" : metric_unit_name(m.unit));
      mean.push_back(c.mean(v, m.name));
      const PairedDifference d = v > 0 ? c.difference(v, m.name) : PairedDifference{};
      difference.push_back(d.mean);
      lower.push_back(d.lo);
      upper.push_back(d.hi);
    }
  Table table;
  table.columns = {{"variant", std::move(variant)},
                   {"metric", std::move(metric)},
                   {"unit", std::move(unit)},
                   {"mean", std::move(mean)},
                   {"difference", std::move(difference)},
                   {"difference_lower", std::move(lower)},
                   {"difference_upper", std::move(upper)}};
  return table;
}

nlohmann::ordered_json comparison_json(const Comparison& c) {
  using json = nlohmann::ordered_json;
  json variants = json::array();
  for (std::size_t v = 0; v < c.variants.size(); ++v) {
    const auto& x = c.variants[v];
    json e;
    e["name"] = x.name;
    e["total_initial_margin"] = x.total_im;
    e["inter_ccp_margin"] = x.inter_ccp_margin;
    e["default_funds"] = x.default_funds;
    json means = json::object(), diffs = json::object();
    for (const MetricInfo& m : compare_metrics()) {
      const std::string name(m.name);
      means[name] = c.mean(v, m.name);
      if (v > 0) {
        const auto d = c.difference(v, m.name);
        diffs[name] = {{"mean", d.mean}, {"lo95", d.lo}, {"hi95", d.hi}};
      }
    }
    e["means"] = means;
    if (v > 0) {
      e["difference_to_base"] = diffs;
      const PairedDifference r = c.ratio(v, "total_loss");
      e["total_loss_base_over_variant"] = {{"mean", r.mean}, {"lo95", r.lo}, {"hi95", r.hi}};
    }
    e["summary"] = x.summary;
    variants.push_back(e);
  }
  return json{{"ccpnet_version", CCPNET_VERSION}, {"scenarios", c.scenarios}, {"variants", variants}};
}

}  // namespace ccpnet
