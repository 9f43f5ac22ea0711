#include "sim/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "sim/loss_sketch.hpp"
#include "sim/model.hpp"

namespace ccpnet {

namespace {

constexpr const char* kCcpSettleNames[] = {"fails", "principal_lost", "replacement_cost", "late_inflows",
                                           "margin_calls"};
constexpr const char* kChainNames[] = {"finality_hours", "congested", "halted", "fails", "loss", "late_inflows"};
constexpr const char* kBridgeNames[] = {"exploited", "loss"};
static_assert(std::size(kCcpSettleNames) == kCcpSettleMetrics && std::size(kChainNames) == kChainMetrics &&
              std::size(kBridgeNames) == kBridgeMetrics);

// Counts and maxima are exact in any order; float sums are not.
bool exact(Aggregation a) { return a != Aggregation::kSum; }

// A metric's value i: the scalar itself, or element i.
template <class T>
T& element(T& x, std::size_t /*i*/) {
  return x;
}
template <class T>
T& element(std::vector<T>& v, std::size_t i) {
  return v[i];
}

template <class T>
void fold(T& total, const T& x, Aggregation a) {
  total = a == Aggregation::kMax ? std::max(total, x) : total + x;
}
template <class T>
void fold(std::vector<T>& total, const std::vector<T>& x, Aggregation a) {
  for (std::size_t i = 0; i < x.size(); ++i) fold(total[i], x[i], a);  // x is empty once released
}

template <class T>
void release(T& x) {
  x = T{};
}
template <class T>
void release(std::vector<T>& v) {
  std::vector<T>().swap(v);  // `= {}` would keep the capacity
}

template <class T>
constexpr bool is_vector_v = false;
template <class T>
constexpr bool is_vector_v<std::vector<T>> = true;

}  // namespace

std::string_view metric_unit_name(MetricUnit unit) {
  switch (unit) {
    case MetricUnit::kUsd: return "USD";
    case MetricUnit::kCount: return "count";
    case MetricUnit::kScenarios: return "scenarios";
    case MetricUnit::kFraction: return "fraction";
    case MetricUnit::kMixed: return "mixed";
    case MetricUnit::kDays: return "days";
  }
  return "?";
}

std::string_view metric_level_name(MetricLevel level) {
  switch (level) {
    case MetricLevel::kSystem: return "system";
    case MetricLevel::kCcp: return "ccp";
    case MetricLevel::kCcpLayer: return "ccp_layer";
    case MetricLevel::kCcpLedger: return "ccp_ledger";
    case MetricLevel::kMemberCause: return "member_cause";
    case MetricLevel::kCcpSettlement: return "ccp_settlement";
    case MetricLevel::kChain: return "chain";
    case MetricLevel::kBridge: return "bridge";
    case MetricLevel::kCcpRecovery: return "ccp_recovery";
    case MetricLevel::kSteps: return "steps";
    case MetricLevel::kCcpSteps: return "ccp_steps";
    case MetricLevel::kMemberSteps: return "member_steps";
    case MetricLevel::kStepDays: return "step_days";
    case MetricLevel::kMemberDays: return "member_days";
  }
  return "?";
}

std::string_view aggregation_name(Aggregation aggregation) {
  switch (aggregation) {
    case Aggregation::kSum: return "sum";
    case Aggregation::kCount: return "count";
    case Aggregation::kMax: return "max";
  }
  return "?";
}

std::size_t level_size(const Model& model, MetricLevel level) {
  const std::size_t ccps = model.ccps.size();
  const bool settles = model.settlement_active;
  switch (level) {
    case MetricLevel::kSystem: return 1;
    case MetricLevel::kCcp: return ccps;
    case MetricLevel::kCcpLayer: return ccps * models::kLayerCount;
    case MetricLevel::kCcpLedger: return ccps * kLedgerColumns;
    case MetricLevel::kMemberCause: return model.members.size() * kDefaultCauseCount;
    case MetricLevel::kCcpSettlement: return settles ? ccps * kCcpSettleMetrics : 0;
    case MetricLevel::kChain: return settles ? model.chains.size() * kChainMetrics : 0;
    case MetricLevel::kBridge: return settles ? model.bridges.size() * kBridgeMetrics : 0;
    case MetricLevel::kCcpRecovery: return model.default_management ? ccps * kDefaultManagementItems : 0;
    case MetricLevel::kSteps: return model.liquidity_needs ? 1 : 0;
    case MetricLevel::kCcpSteps: return model.liquidity_needs ? ccps : 0;
    case MetricLevel::kMemberSteps: return model.liquidity_needs ? model.members.size() : 0;
    case MetricLevel::kStepDays: return model.steps.count > 0 ? static_cast<std::size_t>(model.steps.count) + 1 : 0;
    case MetricLevel::kMemberDays: return model.steps.count > 0 ? model.members.size() : 0;
  }
  return 0;
}

std::string level_label(const Model& model, MetricLevel level, std::size_t i) {
  const auto item = [](const std::string& id, std::string_view name) { return id + "/" + std::string(name); };
  switch (level) {
    case MetricLevel::kSystem: return "";
    case MetricLevel::kCcp: return model.ccps[i].id;
    case MetricLevel::kCcpLayer:
      return item(model.ccps[i / models::kLayerCount].id,
                  models::layer_name(static_cast<models::Layer>(i % models::kLayerCount)));
    case MetricLevel::kCcpLedger:
      return item(model.ccps[i / kLedgerColumns].id, ledger_column_name(static_cast<LedgerColumn>(i % kLedgerColumns)));
    case MetricLevel::kMemberCause:
      return item(model.members[i / kDefaultCauseCount].id,
                  cause_name(static_cast<DefaultCause>(i % kDefaultCauseCount)));
    case MetricLevel::kCcpSettlement:
      return item(model.ccps[i / kCcpSettleMetrics].id, kCcpSettleNames[i % kCcpSettleMetrics]);
    case MetricLevel::kChain: return item(model.chains[i / kChainMetrics].id, kChainNames[i % kChainMetrics]);
    case MetricLevel::kBridge: return item(model.bridges[i / kBridgeMetrics].id, kBridgeNames[i % kBridgeMetrics]);
    case MetricLevel::kCcpRecovery:
      return item(model.ccps[i / kDefaultManagementItems].id,
                  default_management_item_name(i % kDefaultManagementItems));
    case MetricLevel::kSteps: return "";
    case MetricLevel::kCcpSteps: return model.ccps[i].id;
    case MetricLevel::kMemberSteps: return model.members[i].id;
    case MetricLevel::kStepDays: return fmt::format("day {}", static_cast<double>(i) * model.steps.days);
    case MetricLevel::kMemberDays: return model.members[i].id;
  }
  return "?";
}

std::size_t step_day_index(double day, double step_days) {
  return static_cast<std::size_t>(std::lround(std::max(0.0, day) / step_days));
}

double first_default_day(const ScenarioResult& r) {
  double first = -1.0;
  for (const MemberDefault& d : r.defaults)
    if (first < 0.0 || d.day < first) first = d.day;
  return first;
}

double first_ccp_failure_day(const ScenarioResult& r) {
  double first = -1.0;
  for (double day : r.ccp_fail_day)
    if (day >= 0.0 && (first < 0.0 || day < first)) first = day;
  return first;
}

MetricInput::MetricInput(const ScenarioResult& result, std::span<const double> ccp_default_funds,
                         std::size_t step_count, double step_length)
    : r(result),
      default_funds(ccp_default_funds),
      steps(step_count),
      step_days(step_length),
      ccp_failures(result.ccp_failures()) {
  // A venue's or lending protocol's liquidations run through the waterfall
  // without a default: they are not calm when they lose anything.
  calm = r.defaults.empty() && ccp_failures == 0 && !(r.closeout_loss > 0.0) && !(r.total_loss > 0.0);
}

const std::vector<MetricInfo>& metric_infos() {
  static const std::vector<MetricInfo> infos = [] {
    std::vector<MetricInfo> out;
    ChunkSums::visit([&](auto, const MetricInfo& info, const auto&) { out.push_back(info); });
    return out;
  }();
  return infos;
}

const MetricInfo* find_metric(std::string_view name) {
  for (const MetricInfo& info : metric_infos())
    if (info.name == name) return &info;
  return nullptr;
}

std::string_view interval_method(IntervalKind kind) {
  switch (kind) {
    case IntervalKind::kNone: return "";
    case IntervalKind::kProportion: return models::stats::kProportionMethod;
    case IntervalKind::kMean: return models::stats::kMeanMethod;
  }
  return "";
}

Estimate metric_estimate(const ChunkSums& totals, std::string_view metric, std::size_t index, double confidence) {
  bool found = false;
  Estimate e;
  std::size_t m = 0;
  ChunkSums::visit([&](auto field, const MetricInfo& info, const auto&) {
    const std::size_t ordinal = m++;
    if (found || info.name != metric) return;
    found = true;
    const auto& sums = totals.*field;
    double total = 0.0;
    if constexpr (std::is_arithmetic_v<std::decay_t<decltype(sums)>>) {
      if (index != 0) throw std::out_of_range(fmt::format("metric {} has one value, not {}", metric, index + 1));
      total = static_cast<double>(sums);
    } else {
      total = static_cast<double>(sums.at(index));
    }
    e.kind = interval_kind(info);
    const std::int64_t n = totals.count;
    switch (e.kind) {
      case IntervalKind::kNone:
        e.value = total;
        e.interval = {total, total};
        break;
      case IntervalKind::kProportion: {
        const auto k = static_cast<std::int64_t>(total);
        e.value = n > 0 ? total / static_cast<double>(n) : 0.0;
        e.standard_error = models::stats::proportion_standard_error(k, n);
        e.interval = models::stats::wilson(k, n, confidence);
        break;
      }
      case IntervalKind::kMean: {
        const models::stats::MeanEstimate mean =
            models::stats::mean_estimate(total, totals.squares.at(ordinal).at(index), n, confidence);
        e.value = mean.mean;
        e.standard_error = mean.standard_error;
        e.interval = mean.interval;
        // The mean of values that cannot be negative (fractions: above 1) cannot be either:
        // the interval cut there covers the mean whenever the CLT one does.
        if (info.nonnegative) e.interval.lower = std::max(0.0, e.interval.lower);
        if (info.unit == MetricUnit::kFraction) e.interval.upper = std::min(1.0, e.interval.upper);
        break;
      }
    }
  });
  if (!found) throw std::out_of_range(fmt::format("no metric named {}", metric));
  return e;
}

void ChunkSums::init(const Model& model, std::int64_t first_index) {
  *this = ChunkSums{};
  first = first_index;
  squares.assign(metric_infos().size(), {});
  std::size_t m = 0;
  visit([&](auto field, const MetricInfo& info, const auto&) {
    auto& value = this->*field;
    if constexpr (is_vector_v<std::decay_t<decltype(value)>>) value.assign(level_size(model, info.level), 0);
    if (interval_kind(info) == IntervalKind::kMean) squares[m].assign(level_size(model, info.level), 0.0);
    ++m;
  });
}

void ChunkSums::add(const MetricInput& x) {
  ++count;
  std::size_t m = 0;
  visit([&](auto field, const MetricInfo& info, const auto& extract) {
    std::vector<double>& sq = squares[m++];
    if (info.stressed_only && x.calm) return;  // calm: every such sum is 0
    auto& sums = this->*field;
    const bool mean = interval_kind(info) == IntervalKind::kMean;
    extract(x, [&](std::size_t i, auto value) {
      auto& sum = element(sums, i);
      using T = std::decay_t<decltype(sum)>;
      fold(sum, static_cast<T>(value), info.aggregation);
      if (mean) {
        const auto v = static_cast<double>(value);
        sq[i] += v * v;
      }
    });
  });
}

void ChunkSums::fold_sums_into(ChunkSums& total) const {
  total.count += count;
  visit([&](auto field, const MetricInfo& info, const auto&) {
    if (!exact(info.aggregation)) fold(total.*field, this->*field, info.aggregation);
  });
  for (std::size_t m = 0; m < squares.size(); ++m) fold(total.squares[m], squares[m], Aggregation::kSum);
}

void ChunkSums::fold_exact_into(ChunkSums& total) const {
  visit([&](auto field, const MetricInfo& info, const auto&) {
    if (exact(info.aggregation)) fold(total.*field, this->*field, info.aggregation);
  });
}

void ChunkSums::move_exact_into(ChunkSums& total) {
  fold_exact_into(total);
  visit([&](auto field, const MetricInfo& info, const auto&) {
    if (exact(info.aggregation)) release(this->*field);
  });
}

nlohmann::json ChunkSums::to_json(bool counts) const {
  nlohmann::json j = nlohmann::json::object();
  if (!counts) {
    j["first"] = first;
    j["count"] = count;
    j["level"] = level;
  }
  nlohmann::json sq = nlohmann::json::object();
  std::size_t m = 0;
  visit([&](auto field, const MetricInfo& info, const auto&) {
    if (exact(info.aggregation) == counts) j[std::string(info.name)] = this->*field;
    if (!counts && interval_kind(info) == IntervalKind::kMean) sq[std::string(info.name)] = squares[m];
    ++m;
  });
  if (!counts) j["squares"] = std::move(sq);
  return j;
}

ChunkSums ChunkSums::from_json(const Model& model, const nlohmann::json& j, bool counts) {
  ChunkSums c;
  if (!counts) {
    j.at("first").get_to(c.first);
    j.at("count").get_to(c.count);
    j.at("level").get_to(c.level);
    if (c.level < 0 || c.level > 40) throw std::runtime_error("truncated aggregate (chunk level)");
  }
  c.squares.assign(metric_infos().size(), {});
  std::size_t m = 0;
  visit([&](auto field, const MetricInfo& info, const auto&) {
    std::vector<double>& sq = c.squares[m++];
    if (!counts && interval_kind(info) == IntervalKind::kMean) {
      j.at("squares").at(std::string(info.name)).get_to(sq);
      if (sq.size() != level_size(model, info.level))
        throw std::runtime_error(fmt::format("aggregate of another model ({} squares)", info.name));
    }
    if (exact(info.aggregation) != counts) return;
    auto& value = c.*field;
    j.at(std::string(info.name)).get_to(value);
    if constexpr (is_vector_v<std::decay_t<decltype(value)>>)
      if (value.size() != level_size(model, info.level))
        throw std::runtime_error(fmt::format("aggregate of another model ({})", info.name));
  });
  return c;
}

Aggregate::Aggregate(const Model& model) : model_(&model) {
  for (const auto& ccp : model.ccps) default_funds_.push_back(ccp.default_fund);
  totals_.init(model, 0);
  exact_.init(model, 0);
  // Quantile state bounded by the planned scenario count (TailSample's guarantee).
  const std::int64_t capacity = TailSample::capacity(model.scenarios);
  total_loss_sample_ = TailSample(capacity);
  depletion_samples_.assign(model.ccps.size(), TailSample(capacity));
}

std::vector<double> Aggregate::member_loss_quantiles(double p) const {
  std::vector<std::pair<std::uint64_t, std::int64_t>> all(member_loss_counts_.begin(), member_loss_counts_.end());
  std::sort(all.begin(), all.end());
  std::vector<double> out(model_->members.size(), 0.0);
  std::vector<std::pair<std::uint32_t, std::int64_t>> counts;
  for (std::size_t i = 0; i < all.size();) {
    const std::uint64_t member = all[i].first >> 16;
    counts.clear();
    for (; i < all.size() && (all[i].first >> 16) == member; ++i)
      counts.emplace_back(static_cast<std::uint32_t>(all[i].first & 0xffff), all[i].second);
    out[member] = LossSketch::quantile(counts, totals_.count, p);
  }
  return out;
}

ExactSum& Aggregate::account_loss_sum(std::size_t key) {
  if (account_losses_.empty()) account_losses_.resize(model_->accounts.size() * kLossChannelCount);
  return account_losses_[key];
}

const char* ledger_column_name(LedgerColumn column) {
  switch (column) {
    case LedgerColumn::kCloseout: return "closeout";
    case LedgerColumn::kLinkIn: return "link_in";
    case LedgerColumn::kLinkOut: return "link_out";
    case LedgerColumn::kResolutionMembers: return "resolution_members";
    case LedgerColumn::kResolutionLinks: return "resolution_links";
    case LedgerColumn::kUnallocated: return "unallocated";
  }
  return "?";
}

double ledger_value(const ScenarioResult& r, std::size_t c, LedgerColumn column) {
  switch (column) {
    case LedgerColumn::kCloseout: return r.ccp_closeout[c];
    case LedgerColumn::kLinkIn: return r.ccp_link_in[c];
    case LedgerColumn::kLinkOut: return r.ccp_link_out[c];
    case LedgerColumn::kResolutionMembers: return r.ccp_resolution_members[c];
    case LedgerColumn::kResolutionLinks: return r.ccp_resolution_links[c];
    case LedgerColumn::kUnallocated: return r.ccp_unallocated[c];
  }
  return 0.0;
}

std::string_view default_management_item_name(std::size_t item) {
  if (item < models::kRecoveryToolCount) return models::recovery_tool_name(static_cast<models::RecoveryTool>(item));
  return item == models::kRecoveryToolCount ? "auction_cost" : "unplaced_value";
}

double default_management_value(const ScenarioResult& r, std::size_t c, std::size_t item) {
  if (item < models::kRecoveryToolCount) return r.ccp_recovery[c * models::kRecoveryToolCount + item];
  return item == models::kRecoveryToolCount ? r.ccp_auction_cost[c] : r.ccp_unplaced[c];
}

void Aggregate::close_chunk(ChunkSums&& chunk) {
  chunk.move_exact_into(exact_);
  chunks_.push_back(std::move(chunk));
  combine_blocks();
}

void Aggregate::combine_blocks() {
  std::stable_sort(chunks_.begin(), chunks_.end(),
                   [](const ChunkSums& a, const ChunkSums& b) { return a.first < b.first; });
  // Two neighbours that are the left and right halves of an aligned block of
  // 2^(level + 1) chunks become that block: left + right, however the chunks arrived.
  for (std::size_t i = 0; i + 1 < chunks_.size();) {
    ChunkSums& left = chunks_[i];
    const ChunkSums& right = chunks_[i + 1];
    const std::int64_t span = kChunk << left.level;
    const bool halves = left.first % kChunk == 0 && left.level == right.level && left.first % (2 * span) == 0 &&
                        right.first == left.first + span;
    if (!halves) {
      ++i;
      continue;
    }
    right.fold_sums_into(left);
    ++left.level;
    chunks_.erase(chunks_.begin() + static_cast<std::ptrdiff_t>(i + 1));
    i = i > 0 ? i - 1 : 0;  // the grown block may complete a larger one with its left neighbour
  }
}

void Aggregate::add(const ScenarioResult& r) {
  if (!open_ || r.index >= current_.first + kChunk) {
    if (open_) close_chunk(std::move(current_));
    current_.init(*model_, r.index - r.index % kChunk);
    open_ = true;
  }
  current_.add(MetricInput(r, default_funds_, static_cast<std::size_t>(model_->steps.count), model_->steps.days));
  for (const AccountLoss& l : r.account_losses)
    account_loss_sum(static_cast<std::size_t>(l.account) * kLossChannelCount + static_cast<std::size_t>(l.channel))
        .add(l.amount);
  if (r.total_loss > 0.0) total_loss_sample_.add(r.total_loss);
  for (std::size_t c = 0; c < model_->ccps.size(); ++c) {
    const double fund = model_->ccps[c].default_fund;
    if (fund > 0.0 && r.ccp_df_used[c] > 0.0) depletion_samples_[c].add(std::min(1.0, r.ccp_df_used[c] / fund));
  }
  const std::size_t k = r.defaults.size();
  if (default_histogram_.size() <= k) default_histogram_.resize(k + 1, 0);
  ++default_histogram_[k];
}

namespace {

// How each part of the state (Aggregate::visit_state) merges with a later
// one's: samples for quantiles merge (TailSample), counts and exact sums add.
void merge_part(TailSample& sample, const TailSample& later) { sample.merge(later); }
void merge_part(std::vector<TailSample>& samples, const std::vector<TailSample>& later) {
  for (std::size_t i = 0; i < samples.size(); ++i) samples[i].merge(later[i]);
}
void merge_part(std::vector<std::int64_t>& histogram, const std::vector<std::int64_t>& later) {
  if (histogram.size() < later.size()) histogram.resize(later.size(), 0);
  for (std::size_t k = 0; k < later.size(); ++k) histogram[k] += later[k];
}
void merge_part(std::vector<ExactSum>& sums, const std::vector<ExactSum>& later) {
  if (later.empty()) return;
  if (sums.empty()) sums.resize(later.size());
  for (std::size_t i = 0; i < later.size(); ++i) sums[i].add(later[i]);
}
void merge_part(std::unordered_map<std::uint64_t, std::int64_t>& counts,
                const std::unordered_map<std::uint64_t, std::int64_t>& later) {
  for (const auto& [key, count] : later) counts[key] += count;
}

}  // namespace

void Aggregate::merge(const Aggregate& later) {
  if (open_) {
    close_chunk(std::move(current_));
    open_ = false;
  }
  chunks_.insert(chunks_.end(), later.chunks_.begin(), later.chunks_.end());
  combine_blocks();
  if (later.open_) close_chunk(ChunkSums(later.current_));
  later.exact_.fold_exact_into(exact_);
  visit_state([&](auto part, const char*) { merge_part(this->*part, later.*part); });
}

void Aggregate::finish() {
  if (open_) {
    close_chunk(std::move(current_));
    open_ = false;
  }
  // The blocks (sorted by combine_blocks) in index order.
  totals_.init(*model_, 0);
  for (const auto& c : chunks_) c.fold_sums_into(totals_);
  exact_.fold_exact_into(totals_);
  total_loss_sample_.finish();
  for (auto& sample : depletion_samples_) sample.finish();
}

namespace {

// Each part of the state as JSON (then CBOR), and back.
template <class T>
nlohmann::json part_to_json(const T& part) {
  return part;  // vectors of numbers, nested or not
}
nlohmann::json part_to_json(const std::vector<ExactSum>& sums) {
  // Exactly, and only the non-zero ones: index, then the 128-bit units as a
  // signed high and an unsigned low 64-bit word.
  nlohmann::json index = nlohmann::json::array(), high = nlohmann::json::array(), low = nlohmann::json::array();
  for (std::size_t i = 0; i < sums.size(); ++i) {
    const Int128 units = sums[i].units();
    if (units == 0) continue;
    index.push_back(i);
    high.push_back(static_cast<std::int64_t>(units >> 64));
    low.push_back(static_cast<std::uint64_t>(units));
  }
  return {{"size", sums.size()}, {"index", index}, {"high", high}, {"low", low}};
}
nlohmann::json part_to_json(const std::unordered_map<std::uint64_t, std::int64_t>& counts) {
  std::vector<std::pair<std::uint64_t, std::int64_t>> sorted(counts.begin(), counts.end());
  std::sort(sorted.begin(), sorted.end());
  nlohmann::json keys = nlohmann::json::array(), values = nlohmann::json::array();
  for (const auto& [key, count] : sorted) {
    keys.push_back(key);
    values.push_back(count);
  }
  return {{"keys", keys}, {"counts", values}};
}

nlohmann::json part_to_json(const TailSample& sample) { return sample.to_json(); }
nlohmann::json part_to_json(const std::vector<TailSample>& samples) {
  nlohmann::json out = nlohmann::json::array();
  for (const TailSample& sample : samples) out.push_back(sample.to_json());
  return out;
}

template <class T>
void part_from_json(const nlohmann::json& j, T& part) {
  j.get_to(part);
}
void part_from_json(const nlohmann::json& j, TailSample& sample) { sample = TailSample::from_json(j); }
void part_from_json(const nlohmann::json& j, std::vector<TailSample>& samples) {
  samples.clear();
  for (const auto& e : j) samples.push_back(TailSample::from_json(e));
}
void part_from_json(const nlohmann::json& j, std::vector<ExactSum>& sums) {
  const auto index = j.at("index").get<std::vector<std::size_t>>();
  const auto high = j.at("high").get<std::vector<std::int64_t>>();
  const auto low = j.at("low").get<std::vector<std::uint64_t>>();
  if (high.size() != index.size() || low.size() != index.size()) throw std::runtime_error("truncated aggregate");
  sums.assign(j.at("size").get<std::size_t>(), ExactSum{});
  for (std::size_t k = 0; k < index.size(); ++k) {
    if (index[k] >= sums.size()) throw std::runtime_error("truncated aggregate");
    const Int128 units = static_cast<Int128>(high[k]) * (static_cast<Int128>(1) << 64) + static_cast<Int128>(low[k]);
    sums[index[k]] = ExactSum::from_units(units);
  }
}
void part_from_json(const nlohmann::json& j, std::unordered_map<std::uint64_t, std::int64_t>& counts) {
  const auto keys = j.at("keys").get<std::vector<std::uint64_t>>();
  const auto values = j.at("counts").get<std::vector<std::int64_t>>();
  if (keys.size() != values.size()) throw std::runtime_error("truncated aggregate");
  for (std::size_t i = 0; i < keys.size(); ++i) counts[keys[i]] += values[i];
}

constexpr const char* kAggregateFormat = "ccpnet aggregate";
// 2: sums of squares (ChunkSums::squares); 3: bounded quantile samples (TailSample), chunk sums as a tree (level);
// 4: the samples' kept values as one byte string
constexpr int kAggregateVersion = 4;

}  // namespace

std::vector<char> Aggregate::serialize() const {
  nlohmann::json j;
  j["format"] = kAggregateFormat;
  j["version"] = kAggregateVersion;
  nlohmann::json chunks = nlohmann::json::array();
  for (const auto& c : chunks_) chunks.push_back(c.to_json(false));
  ChunkSums exact = exact_;
  if (open_) {  // the open chunk's float sums travel as a chunk, its counts with the others
    chunks.push_back(current_.to_json(false));
    current_.fold_exact_into(exact);
  }
  j["chunks"] = std::move(chunks);
  j["exact"] = exact.to_json(true);
  visit_state([&](auto part, const char* name) { j[name] = part_to_json(this->*part); });
  std::vector<char> out;
  nlohmann::json::to_cbor(j, out);
  return out;
}

Aggregate Aggregate::deserialize(const Model& model, const std::vector<char>& bytes) {
  Aggregate a(model);
  try {
    const nlohmann::json j = nlohmann::json::from_cbor(bytes);
    if (j.at("format") != kAggregateFormat || j.at("version") != kAggregateVersion)
      throw std::runtime_error("not a ccpnet aggregate of this version");
    for (const auto& c : j.at("chunks")) a.chunks_.push_back(ChunkSums::from_json(model, c, false));
    a.combine_blocks();
    a.exact_ = ChunkSums::from_json(model, j.at("exact"), true);
    visit_state([&](auto part, const char* name) { part_from_json(j.at(name), a.*part); });
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(fmt::format("not a ccpnet aggregate: {}", e.what()));
  }
  a.check_state(model);
  return a;
}

void Aggregate::check_state(const Model& model) const {
  const auto require = [](bool ok) {
    if (!ok) throw std::runtime_error("aggregate of another model");
  };
  require(depletion_samples_.size() == model.ccps.size());
  require(account_losses_.empty() || account_losses_.size() == model.accounts.size() * kLossChannelCount);
  for (const auto& [key, count] : member_loss_counts_) require((key >> 16) < model.members.size());
}

namespace {

TailSample whole_sample(const std::vector<double>& nonzero) {
  TailSample sample;  // without bound: every value kept
  for (double x : nonzero) sample.add(x);
  sample.finish();
  return sample;
}

}  // namespace

double sparse_quantile(const std::vector<double>& nonzero, std::int64_t n, double p) {
  return whole_sample(nonzero).quantile(n, p);
}

models::stats::Interval sparse_quantile_interval(const std::vector<double>& nonzero, std::int64_t n, double p,
                                                 double confidence) {
  return whole_sample(nonzero).quantile_interval(n, p, confidence);
}

double sparse_expected_shortfall(const std::vector<double>& nonzero, std::int64_t n, double p) {
  return whole_sample(nonzero).expected_shortfall(n, p);
}

double Aggregate::total_loss_quantile(double p) const { return total_loss_sample_.quantile(totals_.count, p); }
models::stats::Interval Aggregate::total_loss_quantile_interval(double p, double confidence) const {
  return total_loss_sample_.quantile_interval(totals_.count, p, confidence);
}
models::stats::Interval Aggregate::depletion_quantile_interval(std::size_t ccp, double p, double confidence) const {
  return depletion_samples_[ccp].quantile_interval(totals_.count, p, confidence);
}
std::int64_t Aggregate::scenarios_with_at_least_defaults(std::size_t k) const {
  std::int64_t n = 0;
  for (std::size_t i = k; i < default_histogram_.size(); ++i) n += default_histogram_[i];
  return n;
}
double Aggregate::total_loss_expected_shortfall(double p) const {
  return total_loss_sample_.expected_shortfall(totals_.count, p);
}
double Aggregate::depletion_quantile(std::size_t ccp, double p) const {
  return depletion_samples_[ccp].quantile(totals_.count, p);
}
double Aggregate::p_at_least_defaults(std::size_t k) const {
  if (totals_.count == 0) return 0.0;
  std::int64_t n = 0;
  for (std::size_t i = k; i < default_histogram_.size(); ++i) n += default_histogram_[i];
  return static_cast<double>(n) / static_cast<double>(totals_.count);
}

}  // namespace ccpnet
