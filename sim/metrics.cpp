#include "sim/metrics.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "sim/loss_sketch.hpp"
#include "sim/model.hpp"

namespace ccpnet {

void ChunkSums::init(const Model& model, std::int64_t first_index) {
  *this = ChunkSums{};
  first = first_index;
  const std::size_t n = model.ccps.size();
  ccp_layers.assign(n * models::kLayerCount, 0.0);
  ccp_uncovered.assign(n, 0.0);
  ccp_loss.assign(n, 0.0);
  ccp_depletion.assign(n, 0.0);
  ccp_ledger.assign(n * kLedgerColumns, 0.0);
  ccp_fails.assign(n, 0);
  ccp_fails_via_links.assign(n, 0);
  ccp_df_exhausted.assign(n, 0);
  member_defaults_by_cause.assign(model.members.size() * kDefaultCauseCount, 0);
  if (model.settlement_active) {
    ccp_settle.assign(n * kCcpSettleMetrics, 0.0);
    chain_settle.assign(model.chains.size() * kChainMetrics, 0.0);
    bridge_settle.assign(model.bridges.size() * kBridgeMetrics, 0.0);
  }
}

void ChunkSums::add(const Model& model, const ScenarioResult& r) {
  ++count;
  member_defaults += static_cast<double>(r.defaults.size());
  const int failures = r.ccp_failures();
  ccp_failures += failures;
  rounds += r.rounds;
  total_loss += r.total_loss;
  closeout_loss += r.closeout_loss;
  uncovered += r.uncovered;
  any_ccp_fail += failures > 0 ? 1 : 0;
  any_default += r.defaults.empty() ? 0 : 1;
  liquidity_shortfall += r.liquidity_shortfall;
  settlement_defaults += r.settlement_defaults;
  failure_principal += r.failure_principal;
  ledger_error = std::max(ledger_error, std::abs(r.closeout_loss - r.ledger_total()) / std::max(1.0, r.closeout_loss));
  const auto add_to = [](std::vector<double>& sum, const std::vector<double>& x) {
    for (std::size_t i = 0; i < x.size(); ++i) sum[i] += x[i];
  };
  add_to(ccp_settle, r.settlement.ccp);
  add_to(chain_settle, r.settlement.chain);
  add_to(bridge_settle, r.settlement.bridge);
  if (r.defaults.empty() && failures == 0) return;  // calm: every other sum is 0
  for (std::size_t i = 0; i < ccp_layers.size(); ++i) ccp_layers[i] += r.ccp_layers[i];
  for (std::size_t c = 0; c < model.ccps.size(); ++c) {
    ccp_uncovered[c] += r.ccp_uncovered[c];
    ccp_loss[c] += r.ccp_loss(c);
    const double fund = model.ccps[c].default_fund;
    const double depletion = fund > 0.0 ? std::min(1.0, r.ccp_df_used[c] / fund) : 0.0;
    ccp_depletion[c] += depletion;
    for (std::size_t k = 0; k < kLedgerColumns; ++k)
      ccp_ledger[c * kLedgerColumns + k] += ledger_value(r, c, static_cast<LedgerColumn>(k));
    ccp_fails[c] += r.ccp_fail_round[c] >= 0 ? 1 : 0;
    ccp_fails_via_links[c] += r.ccp_fail_cause[c] == FailureCause::kLinks ? 1 : 0;
    ccp_df_exhausted[c] += (fund > 0.0 && r.ccp_df_used[c] >= fund * (1.0 - 1e-12)) ? 1 : 0;
  }
  for (const auto& d : r.defaults)
    ++member_defaults_by_cause[static_cast<std::size_t>(d.member) * kDefaultCauseCount +
                               static_cast<std::size_t>(d.cause)];
}

void ChunkSums::fold_into(ChunkSums& t) const {
  t.count += count;
  t.member_defaults += member_defaults;
  t.ccp_failures += ccp_failures;
  t.rounds += rounds;
  t.total_loss += total_loss;
  t.closeout_loss += closeout_loss;
  t.uncovered += uncovered;
  t.any_ccp_fail += any_ccp_fail;
  t.any_default += any_default;
  for (std::size_t i = 0; i < ccp_layers.size(); ++i) t.ccp_layers[i] += ccp_layers[i];
  for (std::size_t i = 0; i < ccp_ledger.size(); ++i) t.ccp_ledger[i] += ccp_ledger[i];
  t.failure_principal += failure_principal;
  t.ledger_error = std::max(t.ledger_error, ledger_error);
  for (std::size_t c = 0; c < ccp_loss.size(); ++c) {
    t.ccp_uncovered[c] += ccp_uncovered[c];
    t.ccp_loss[c] += ccp_loss[c];
    t.ccp_depletion[c] += ccp_depletion[c];
    t.ccp_fails[c] += ccp_fails[c];
    t.ccp_fails_via_links[c] += ccp_fails_via_links[c];
    t.ccp_df_exhausted[c] += ccp_df_exhausted[c];
  }
  for (std::size_t i = 0; i < member_defaults_by_cause.size(); ++i)  // empty once handed to the aggregate
    t.member_defaults_by_cause[i] += member_defaults_by_cause[i];
  t.liquidity_shortfall += liquidity_shortfall;
  t.settlement_defaults += settlement_defaults;
  for (std::size_t i = 0; i < ccp_settle.size(); ++i) t.ccp_settle[i] += ccp_settle[i];
  for (std::size_t i = 0; i < chain_settle.size(); ++i) t.chain_settle[i] += chain_settle[i];
  for (std::size_t i = 0; i < bridge_settle.size(); ++i) t.bridge_settle[i] += bridge_settle[i];
}

Aggregate::Aggregate(const Model& model) : model_(&model) {
  totals_.init(model, 0);
  depletion_values_.assign(model.ccps.size(), {});
  by_cause_.assign(model.members.size() * kDefaultCauseCount, 0);
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

void Aggregate::close_chunk(ChunkSums&& chunk) {
  const auto& counts = chunk.member_defaults_by_cause;
  for (std::size_t i = 0; i < counts.size(); ++i) by_cause_[i] += counts[i];
  // Release the memory (`= {}` would keep the capacity): 48 bytes per member per chunk otherwise.
  std::vector<std::int64_t>().swap(chunk.member_defaults_by_cause);
  chunks_.push_back(std::move(chunk));
}

void Aggregate::add(const ScenarioResult& r) {
  if (!open_ || r.index >= current_.first + kChunk) {
    if (open_) close_chunk(std::move(current_));
    current_.init(*model_, r.index - r.index % kChunk);
    open_ = true;
  }
  current_.add(*model_, r);
  for (const AccountLoss& l : r.account_losses)
    account_loss_sum(static_cast<std::size_t>(l.account) * kLossChannelCount + static_cast<std::size_t>(l.channel))
        .add(l.amount);
  for (const auto& [key, sum] : r.tile_losses) account_loss_sum(key).add(sum);
  for (const auto& [key, count] : r.member_loss_counts) member_loss_counts_[key] += count;
  if (r.total_loss > 0.0) total_loss_values_.push_back(r.total_loss);
  for (std::size_t c = 0; c < model_->ccps.size(); ++c) {
    const double fund = model_->ccps[c].default_fund;
    if (fund > 0.0 && r.ccp_df_used[c] > 0.0) depletion_values_[c].push_back(std::min(1.0, r.ccp_df_used[c] / fund));
  }
  const std::size_t k = r.defaults.size();
  if (default_histogram_.size() <= k) default_histogram_.resize(k + 1, 0);
  ++default_histogram_[k];
}

void Aggregate::merge(const Aggregate& later) {
  if (open_) {
    close_chunk(std::move(current_));
    open_ = false;
  }
  for (const auto& c : later.chunks_) close_chunk(ChunkSums(c));
  if (later.open_) close_chunk(ChunkSums(later.current_));
  for (std::size_t i = 0; i < by_cause_.size(); ++i) by_cause_[i] += later.by_cause_[i];
  for (std::size_t key = 0; key < later.account_losses_.size(); ++key)
    account_loss_sum(key).add(later.account_losses_[key]);
  for (const auto& [key, count] : later.member_loss_counts_) member_loss_counts_[key] += count;
  total_loss_values_.insert(total_loss_values_.end(), later.total_loss_values_.begin(), later.total_loss_values_.end());
  for (std::size_t c = 0; c < depletion_values_.size(); ++c)
    depletion_values_[c].insert(depletion_values_[c].end(), later.depletion_values_[c].begin(),
                                later.depletion_values_[c].end());
  if (default_histogram_.size() < later.default_histogram_.size())
    default_histogram_.resize(later.default_histogram_.size(), 0);
  for (std::size_t k = 0; k < later.default_histogram_.size(); ++k)
    default_histogram_[k] += later.default_histogram_[k];
}

void Aggregate::finish() {
  if (open_) {
    close_chunk(std::move(current_));
    open_ = false;
  }
  // Chunks may arrive from several sources: fold them in index order.
  std::stable_sort(chunks_.begin(), chunks_.end(),
                   [](const ChunkSums& a, const ChunkSums& b) { return a.first < b.first; });
  totals_.init(*model_, 0);
  for (const auto& c : chunks_) c.fold_into(totals_);
  totals_.member_defaults_by_cause = by_cause_;
  std::sort(total_loss_values_.begin(), total_loss_values_.end());
  for (auto& v : depletion_values_) std::sort(v.begin(), v.end());
  finished_ = true;
}

namespace {

class ByteWriter {
 public:
  template <class T>
  void put(const T& v) {
    const char* p = reinterpret_cast<const char*>(&v);
    out.insert(out.end(), p, p + sizeof(T));
  }
  template <class T>
  void put_vector(const std::vector<T>& v) {
    put(static_cast<std::uint64_t>(v.size()));
    const char* p = reinterpret_cast<const char*>(v.data());
    out.insert(out.end(), p, p + sizeof(T) * v.size());
  }
  std::vector<char> out;
};

class ByteReader {
 public:
  explicit ByteReader(const std::vector<char>& in) : in_(in) {}
  template <class T>
  T get() {
    if (at_ + sizeof(T) > in_.size()) throw std::runtime_error("truncated aggregate");
    T v;
    std::memcpy(&v, in_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return v;
  }
  template <class T>
  std::vector<T> get_vector() {
    const auto n = get<std::uint64_t>();
    if (at_ + sizeof(T) * n > in_.size()) throw std::runtime_error("truncated aggregate");
    std::vector<T> v(n);
    std::memcpy(v.data(), in_.data() + at_, sizeof(T) * n);
    at_ += sizeof(T) * n;
    return v;
  }

 private:
  const std::vector<char>& in_;
  std::size_t at_ = 0;
};

void put_chunk(ByteWriter& w, const ChunkSums& c) {
  w.put(c.first);
  w.put(c.count);
  for (double x : {c.member_defaults, c.ccp_failures, c.rounds, c.total_loss, c.closeout_loss, c.uncovered}) w.put(x);
  w.put(c.any_ccp_fail);
  w.put(c.any_default);
  w.put_vector(c.ccp_layers);
  w.put_vector(c.ccp_uncovered);
  w.put_vector(c.ccp_loss);
  w.put_vector(c.ccp_depletion);
  w.put_vector(c.ccp_ledger);
  w.put_vector(c.ccp_fails);
  w.put_vector(c.ccp_fails_via_links);
  w.put(c.failure_principal);
  w.put(c.ledger_error);
  w.put_vector(c.ccp_df_exhausted);
  w.put_vector(std::vector<std::int64_t>{});  // counts travel in the aggregate's by-cause totals
  w.put(c.liquidity_shortfall);
  w.put(c.settlement_defaults);
  w.put_vector(c.ccp_settle);
  w.put_vector(c.chain_settle);
  w.put_vector(c.bridge_settle);
}

ChunkSums get_chunk(ByteReader& r) {
  ChunkSums c;
  c.first = r.get<std::int64_t>();
  c.count = r.get<std::int64_t>();
  for (double* x : {&c.member_defaults, &c.ccp_failures, &c.rounds, &c.total_loss, &c.closeout_loss, &c.uncovered})
    *x = r.get<double>();
  c.any_ccp_fail = r.get<std::int64_t>();
  c.any_default = r.get<std::int64_t>();
  c.ccp_layers = r.get_vector<double>();
  c.ccp_uncovered = r.get_vector<double>();
  c.ccp_loss = r.get_vector<double>();
  c.ccp_depletion = r.get_vector<double>();
  c.ccp_ledger = r.get_vector<double>();
  c.ccp_fails = r.get_vector<std::int64_t>();
  c.ccp_fails_via_links = r.get_vector<std::int64_t>();
  c.failure_principal = r.get<double>();
  c.ledger_error = r.get<double>();
  c.ccp_df_exhausted = r.get_vector<std::int64_t>();
  c.member_defaults_by_cause = r.get_vector<std::int64_t>();
  c.liquidity_shortfall = r.get<double>();
  c.settlement_defaults = r.get<double>();
  c.ccp_settle = r.get_vector<double>();
  c.chain_settle = r.get_vector<double>();
  c.bridge_settle = r.get_vector<double>();
  return c;
}

}  // namespace

std::vector<char> Aggregate::serialize() const {
  ByteWriter w;
  std::vector<const ChunkSums*> chunks;
  for (const auto& c : chunks_) chunks.push_back(&c);
  if (open_) chunks.push_back(&current_);
  w.put(static_cast<std::uint64_t>(chunks.size()));
  for (const auto* c : chunks) put_chunk(w, *c);
  w.put_vector(total_loss_values_);
  w.put(static_cast<std::uint64_t>(depletion_values_.size()));
  for (const auto& v : depletion_values_) w.put_vector(v);
  w.put_vector(default_histogram_);
  std::vector<std::int64_t> by_cause = by_cause_;  // the open chunk's counts too
  if (open_)
    for (std::size_t i = 0; i < by_cause.size(); ++i) by_cause[i] += current_.member_defaults_by_cause[i];
  w.put_vector(by_cause);
  w.put_vector(account_losses_);
  std::vector<std::pair<std::uint64_t, std::int64_t>> counts(member_loss_counts_.begin(), member_loss_counts_.end());
  std::sort(counts.begin(), counts.end());
  std::vector<std::uint64_t> keys;
  std::vector<std::int64_t> values;
  for (const auto& [key, count] : counts) {
    keys.push_back(key);
    values.push_back(count);
  }
  w.put_vector(keys);
  w.put_vector(values);
  return std::move(w.out);
}

Aggregate Aggregate::deserialize(const Model& model, const std::vector<char>& bytes) {
  Aggregate a(model);
  ByteReader r(bytes);
  const auto n = r.get<std::uint64_t>();
  for (std::uint64_t i = 0; i < n; ++i) a.chunks_.push_back(get_chunk(r));
  a.total_loss_values_ = r.get_vector<double>();
  const auto ccps = r.get<std::uint64_t>();
  if (ccps != a.depletion_values_.size()) throw std::runtime_error("aggregate of another model");
  for (auto& v : a.depletion_values_) v = r.get_vector<double>();
  a.default_histogram_ = r.get_vector<std::int64_t>();
  a.by_cause_ = r.get_vector<std::int64_t>();
  if (a.by_cause_.size() != model.members.size() * kDefaultCauseCount)
    throw std::runtime_error("aggregate of another model");
  a.account_losses_ = r.get_vector<ExactSum>();
  if (!a.account_losses_.empty() && a.account_losses_.size() != model.accounts.size() * kLossChannelCount)
    throw std::runtime_error("aggregate of another model");
  const auto keys = r.get_vector<std::uint64_t>();
  const auto values = r.get_vector<std::int64_t>();
  if (keys.size() != values.size()) throw std::runtime_error("truncated aggregate");
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if ((keys[i] >> 16) >= model.members.size()) throw std::runtime_error("aggregate of another model");
    a.member_loss_counts_[keys[i]] += values[i];
  }
  return a;
}

double sparse_quantile(std::vector<double> nonzero, std::int64_t n, double p) {
  if (n <= 0) return 0.0;
  std::sort(nonzero.begin(), nonzero.end());
  const auto zeros = n - static_cast<std::int64_t>(nonzero.size());
  const auto at = [&](std::int64_t i) { return i < zeros ? 0.0 : nonzero[static_cast<std::size_t>(i - zeros)]; };
  // Linear interpolation between order statistics (numpy's default, Hyndman-Fan type 7).
  const double h = static_cast<double>(n - 1) * p;
  const auto lo = static_cast<std::int64_t>(std::floor(h));
  const auto hi = std::min<std::int64_t>(lo + 1, n - 1);
  return at(lo) + (h - static_cast<double>(lo)) * (at(hi) - at(lo));
}

double sparse_expected_shortfall(std::vector<double> nonzero, std::int64_t n, double p) {
  // Mean of the ceil(n (1 - p)) largest values.
  if (n <= 0) return 0.0;
  std::sort(nonzero.begin(), nonzero.end());
  const auto k =
      std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(static_cast<double>(n) * (1.0 - p) - 1e-9)));
  double sum = 0.0;
  std::int64_t taken = 0;
  for (auto it = nonzero.rbegin(); it != nonzero.rend() && taken < k; ++it, ++taken) sum += *it;
  return sum / static_cast<double>(k);
}

double Aggregate::total_loss_quantile(double p) const { return sparse_quantile(total_loss_values_, totals_.count, p); }
double Aggregate::total_loss_expected_shortfall(double p) const {
  return sparse_expected_shortfall(total_loss_values_, totals_.count, p);
}
double Aggregate::depletion_quantile(std::size_t ccp, double p) const {
  return sparse_quantile(depletion_values_[ccp], totals_.count, p);
}
double Aggregate::p_at_least_defaults(std::size_t k) const {
  if (totals_.count == 0) return 0.0;
  std::int64_t n = 0;
  for (std::size_t i = k; i < default_histogram_.size(); ++i) n += default_histogram_[i];
  return static_cast<double>(n) / static_cast<double>(totals_.count);
}

}  // namespace ccpnet
