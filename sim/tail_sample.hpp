// The distribution of a per-scenario quantity >= 0 (the total loss, a CCP's
// default-fund depletion) in memory that does not grow with the scenario
// count, with its upper tail exact.
//
// The guarantee. The scenario count n is planned before the run; the sample
// keeps exactly the capacity(n) largest positive values, where capacity(n)
// covers every rank that a figure at a level p >= kExactFrom (0.99) reads:
// the two order statistics the p-quantile interpolates, the ceil(n (1 - p))
// largest values of the expected shortfall, and the ranks of the
// distribution-free interval of the p-quantile at any confidence up to
// kExactConfidence (0.999). Those figures are therefore the figures of the
// full sorted sample, bit for bit. Zeros are counted, not kept (calm
// scenarios cost nothing). Every positive value also goes into a
// relative-accuracy sketch (LossSketch, DDSketch): a rank below the kept
// ones (a quantile below 0.99, the histogram of the report) reads the value
// of its sketch bucket, within 1% of the exact order statistic. When no more
// positive values arrive than the capacity, every figure is exact.
//
// Determinism. The capacity largest values of a union are the capacity
// largest of the parts' own largest, and sketch counts add: any split of the
// scenarios over threads, batches, MPI ranks or processes gives the same
// state, hence byte-identical figures.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "models/stats/intervals.hpp"

namespace ccpnet {

class TailSample {
 public:
  static constexpr double kExactFrom = 0.99;         // p_min: figures at p >= this are exact
  static constexpr double kExactConfidence = 0.999;  // ... and their quantile intervals up to this confidence
  static constexpr std::int64_t kUnbounded = INT64_MAX;

  // The values kept for a planned count of n scenarios (kUnbounded for n <= 0: keep all).
  static std::int64_t capacity(std::int64_t n);

  explicit TailSample(std::int64_t capacity = kUnbounded) : capacity_(capacity) {}

  void add(double x);  // x > 0 (zeros are the scenarios not added)
  void merge(const TailSample& other);
  // Keeps the capacity largest and sorts them; call once before reading.
  void finish();

  std::int64_t positive() const { return positive_; }      // values added (all > 0)
  const std::vector<double>& top() const { return top_; }  // the largest, ascending (after finish)
  bool all_exact() const { return positive_ == static_cast<std::int64_t>(top_.size()); }
  // The value of 0-based rank i (ascending) of a sample of n >= positive() values, the
  // rest zeros: exact when i < n - positive() or i >= n - top().size(), else its sketch bucket's.
  double at(std::int64_t n, std::int64_t i) const;
  // Whether at(n, i) is exact.
  bool exact(std::int64_t n, std::int64_t i) const;

  // The p-quantile (linear interpolation between order statistics, Hyndman-Fan type 7),
  // its distribution-free interval, the expected shortfall (mean of the ceil(n (1 - p)) largest).
  double quantile(std::int64_t n, double p) const;
  models::stats::Interval quantile_interval(std::int64_t n, double p, double confidence) const;
  double expected_shortfall(std::int64_t n, double p) const;

  // The positive values as (value, scenarios) in increasing order: the kept
  // values one by one, below them the sketch's buckets (for a histogram).
  std::vector<std::pair<double, std::int64_t>> distribution() const;

  // The state as JSON (carried as CBOR between processes), and back.
  nlohmann::json to_json() const;
  static TailSample from_json(const nlohmann::json& j);

 private:
  std::int64_t capacity_;
  std::int64_t positive_ = 0;
  std::vector<double> top_;           // the capacity largest so far (a min-heap once full; ascending after finish)
  std::vector<std::int64_t> sketch_;  // per LossSketch bucket, every positive value; empty until one arrives
  void keep(double x);                // into top_ if among the capacity largest
  std::int64_t& bucket_count(std::uint32_t bucket);
};

}  // namespace ccpnet
