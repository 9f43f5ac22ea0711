#include "sim/tail_sample.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <stdexcept>

#include "sim/loss_sketch.hpp"

namespace ccpnet {

namespace {

constexpr std::size_t kBuckets = 16384;  // LossSketch::bucket's range
constexpr std::int64_t kSlack = 16;      // ranks kept beyond those the guarantee needs

}  // namespace

std::int64_t TailSample::capacity(std::int64_t n) {
  if (n <= 0) return kUnbounded;
  const double p = kExactFrom;
  // The lowest 0-based rank a figure at p >= kExactFrom reads: the quantile's
  // lower order statistic, the interval's lower rank, the expected shortfall's smallest value.
  std::int64_t first = static_cast<std::int64_t>(std::floor(static_cast<double>(n - 1) * p));
  const models::stats::RankInterval ranks = models::stats::quantile_rank_interval(n, p, kExactConfidence);
  first = std::min(first, std::max<std::int64_t>(0, ranks.lower - 1));
  const auto es = static_cast<std::int64_t>(std::ceil(static_cast<double>(n) * (1.0 - p) - 1e-9));
  first = std::min(first, n - std::max<std::int64_t>(1, es));
  return std::min(n, n - first + kSlack);
}

std::int64_t& TailSample::bucket_count(std::uint32_t bucket) {
  if (sketch_.empty()) sketch_.assign(kBuckets, 0);
  return sketch_[bucket];
}

// Until the capacity is reached every value is kept; from then on top_ is a
// min-heap of the capacity largest (an ascending array is one), and a value
// enters only above its smallest: memory is the capacity exactly, and a value
// costs one comparison unless it enters (O(log capacity)). Growing the array
// by doubling leaves each smaller one behind as a hole in the heap, so past a
// few thousand values a bounded array goes straight to its capacity when that
// is at most 1 MiB or 4 times what it holds: the reservation never exceeds
// either (a capacity planned for a whole run may be far more than one MPI
// rank's or one compared block's sample ever holds).
void TailSample::keep(double x) {
  constexpr std::size_t kDoubleUpTo = 4096;
  constexpr std::uint64_t kAtOnce = (std::uint64_t{1} << 20) / sizeof(double);
  const auto full = static_cast<std::uint64_t>(capacity_);
  if (top_.size() < full) {
    if (top_.size() == top_.capacity()) {
      const std::uint64_t size = top_.size();
      const bool to_capacity = capacity_ != kUnbounded && size >= kDoubleUpTo && (full <= kAtOnce || full <= 4 * size);
      top_.reserve(to_capacity ? full : std::min<std::uint64_t>(full, std::max<std::uint64_t>(16, 2 * size)));
    }
    top_.push_back(x);
    if (top_.size() == full) std::make_heap(top_.begin(), top_.end(), std::greater<>());
  } else if (x > top_.front()) {
    std::pop_heap(top_.begin(), top_.end(), std::greater<>());
    top_.back() = x;
    std::push_heap(top_.begin(), top_.end(), std::greater<>());
  }
}

void TailSample::add(double x) {
  ++positive_;
  ++bucket_count(LossSketch::bucket(x));
  keep(x);
}

void TailSample::merge(const TailSample& other) {
  positive_ += other.positive_;
  if (!other.sketch_.empty())
    for (std::size_t b = 0; b < kBuckets; ++b) bucket_count(static_cast<std::uint32_t>(b)) += other.sketch_[b];
  for (double x : other.top_) keep(x);
}

void TailSample::finish() { std::sort(top_.begin(), top_.end()); }

bool TailSample::exact(std::int64_t n, std::int64_t i) const {
  return i < n - positive_ || i >= n - static_cast<std::int64_t>(top_.size());
}

double TailSample::at(std::int64_t n, std::int64_t i) const {
  const std::int64_t zeros = n - positive_, below = n - static_cast<std::int64_t>(top_.size());
  if (i < zeros) return 0.0;
  if (i >= below) return top_[static_cast<std::size_t>(i - below)];
  // Below the kept values: the sketch bucket of positive rank j, never above the smallest kept value.
  const std::int64_t j = i - zeros;
  std::int64_t seen = 0;
  for (std::size_t b = 0; b < sketch_.size(); ++b) {
    seen += sketch_[b];
    if (j < seen) {
      const double v = LossSketch::value(static_cast<std::uint32_t>(b));
      return top_.empty() ? v : std::min(v, top_.front());
    }
  }
  return top_.empty() ? 0.0 : top_.front();
}

double TailSample::quantile(std::int64_t n, double p) const {
  if (n <= 0) return 0.0;
  // Linear interpolation between order statistics (numpy's default, Hyndman-Fan type 7).
  const double h = static_cast<double>(n - 1) * p;
  const auto lo = static_cast<std::int64_t>(std::floor(h));
  const auto hi = std::min<std::int64_t>(lo + 1, n - 1);
  return at(n, lo) + (h - static_cast<double>(lo)) * (at(n, hi) - at(n, lo));
}

models::stats::Interval TailSample::quantile_interval(std::int64_t n, double p, double confidence) const {
  if (n <= 0) return {0.0, 0.0};
  // The 1-based order statistic r (values >= 0: rank 0 is bounded by 0, rank n + 1 by nothing).
  const auto rank = [&](std::int64_t r) {
    if (r <= 0) return 0.0;
    if (r > n) return std::numeric_limits<double>::infinity();
    return at(n, r - 1);
  };
  const models::stats::RankInterval ranks = models::stats::quantile_rank_interval(n, p, confidence);
  return {rank(ranks.lower), rank(ranks.upper)};
}

double TailSample::expected_shortfall(std::int64_t n, double p) const {
  if (n <= 0) return 0.0;
  const auto k =
      std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(static_cast<double>(n) * (1.0 - p) - 1e-9)));
  // The k largest: the kept values from the largest down, then (beyond them) the sketch's buckets.
  double sum = 0.0;
  std::int64_t taken = 0;
  for (auto it = top_.rbegin(); it != top_.rend() && taken < k; ++it, ++taken) sum += *it;
  const std::int64_t from = std::max<std::int64_t>(0, positive_ - k), to = positive_ - taken;
  if (from < to) {
    const double ceiling = top_.empty() ? std::numeric_limits<double>::infinity() : top_.front();
    std::int64_t seen = 0;
    for (std::size_t b = 0; b < sketch_.size() && seen < to; ++b) {
      const std::int64_t next = seen + sketch_[b];
      const std::int64_t overlap = std::min(next, to) - std::max(seen, from);
      if (overlap > 0)
        sum += static_cast<double>(overlap) * std::min(ceiling, LossSketch::value(static_cast<std::uint32_t>(b)));
      seen = next;
    }
  }
  return sum / static_cast<double>(k);
}

std::vector<std::pair<double, std::int64_t>> TailSample::distribution() const {
  std::vector<std::pair<double, std::int64_t>> out;
  const std::int64_t below = positive_ - static_cast<std::int64_t>(top_.size());
  std::int64_t seen = 0;
  for (std::size_t b = 0; b < sketch_.size() && seen < below; ++b) {
    const std::int64_t count = std::min(sketch_[b], below - seen);
    if (count > 0) {
      const double v = LossSketch::value(static_cast<std::uint32_t>(b));
      out.emplace_back(top_.empty() ? v : std::min(v, top_.front()), count);
    }
    seen += sketch_[b];
  }
  for (double v : top_) out.emplace_back(v, 1);
  return out;
}

namespace {

// The kept values as one CBOR byte string of little-endian IEEE doubles (8
// bytes a value, where an array of numbers costs a JSON node of 16 bytes and
// 9 bytes of CBOR each: the state crosses MPI ranks, and 1% of a run of 10^7
// scenarios is 10^5 values a sample).
std::uint64_t little_endian(std::uint64_t bits) {
  return std::endian::native == std::endian::little ? bits : __builtin_bswap64(bits);
}

nlohmann::json::binary_t pack_values(const std::vector<double>& values) {
  std::vector<std::uint8_t> bytes(values.size() * sizeof(double));
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::uint64_t bits = little_endian(std::bit_cast<std::uint64_t>(values[i]));
    std::memcpy(bytes.data() + i * sizeof bits, &bits, sizeof bits);
  }
  return nlohmann::json::binary_t(std::move(bytes));
}

std::vector<double> unpack_values(const nlohmann::json::binary_t& bytes) {
  if (bytes.size() % sizeof(double) != 0) throw std::runtime_error("truncated aggregate (tail sample)");
  std::vector<double> values(bytes.size() / sizeof(double));
  for (std::size_t i = 0; i < values.size(); ++i) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, bytes.data() + i * sizeof bits, sizeof bits);
    values[i] = std::bit_cast<double>(little_endian(bits));
  }
  return values;
}

}  // namespace

nlohmann::json TailSample::to_json() const {
  std::vector<double> kept = top_;
  std::sort(kept.begin(), kept.end());  // the same values in the same order, however they arrived (finish)
  nlohmann::json buckets = nlohmann::json::array(), counts = nlohmann::json::array();
  for (std::size_t b = 0; b < sketch_.size(); ++b)
    if (sketch_[b] != 0) {
      buckets.push_back(b);
      counts.push_back(sketch_[b]);
    }
  return {{"capacity", capacity_},
          {"positive", positive_},
          {"top", nlohmann::json::binary(pack_values(kept))},
          {"buckets", buckets},
          {"counts", counts}};
}

TailSample TailSample::from_json(const nlohmann::json& j) {
  TailSample s(j.at("capacity").get<std::int64_t>());
  j.at("positive").get_to(s.positive_);
  s.top_ = unpack_values(j.at("top").get_binary());
  // Kept values are positive, finite and ascending (finish's order).
  const auto bad = [](double x) { return !(x > 0.0) || !std::isfinite(x); };
  if (std::any_of(s.top_.begin(), s.top_.end(), bad) || !std::is_sorted(s.top_.begin(), s.top_.end()))
    throw std::runtime_error("truncated aggregate (tail sample)");
  const auto buckets = j.at("buckets").get<std::vector<std::size_t>>();
  const auto counts = j.at("counts").get<std::vector<std::int64_t>>();
  if (buckets.size() != counts.size() || s.capacity_ < 1 || s.top_.size() > static_cast<std::uint64_t>(s.capacity_) ||
      static_cast<std::int64_t>(s.top_.size()) > s.positive_)
    throw std::runtime_error("truncated aggregate (tail sample)");
  std::int64_t total = 0;
  for (std::size_t k = 0; k < buckets.size(); ++k) {
    if (buckets[k] >= kBuckets) throw std::runtime_error("truncated aggregate (tail sample)");
    s.bucket_count(static_cast<std::uint32_t>(buckets[k])) = counts[k];
    total += counts[k];
  }
  if (total != s.positive_) throw std::runtime_error("truncated aggregate (tail sample)");
  return s;
}

}  // namespace ccpnet
