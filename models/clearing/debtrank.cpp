#include "models/clearing/debtrank.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "models/clearing/relative_liabilities.hpp"

namespace ccpnet::models {
namespace {

// W compressed by row: row i lists the banks that bank i's distress reaches and the impact on each.
using ImpactRows = Eigen::SparseMatrix<double, Eigen::RowMajor>;

[[noreturn]] void bad_impact(Eigen::Index i, Eigen::Index j, double w) {
  std::ostringstream message;
  message << "impact of bank " << i << " on bank " << j << " must be a non-negative number, got " << w;
  throw std::invalid_argument(message.str());
}

void check_square(Eigen::Index rows, Eigen::Index cols) {
  if (rows != cols)
    throw std::invalid_argument("impact matrix must be square (one row and one column per bank), got " +
                                std::to_string(rows) + " x " + std::to_string(cols));
}

void check_impact(const DenseMatrixRef& impact) {
  check_square(impact.rows(), impact.cols());
  for (Eigen::Index j = 0; j < impact.cols(); ++j)
    for (Eigen::Index i = 0; i < impact.rows(); ++i)
      if (!std::isfinite(impact(i, j)) || impact(i, j) < 0.0) bad_impact(i, j, impact(i, j));
}

template <class Sparse>
void check_impact(const Sparse& impact) {
  check_square(impact.rows(), impact.cols());
  for (Eigen::Index k = 0; k < impact.outerSize(); ++k)
    for (typename Sparse::InnerIterator it(impact, k); it; ++it)
      if (!std::isfinite(it.value()) || it.value() < 0.0) bad_impact(it.row(), it.col(), it.value());
}

[[noreturn]] void bad_distress(Eigen::Index bank, Eigen::Index shock, Eigen::Index shocks, double h) {
  std::ostringstream message;
  message << "initial distress of bank " << bank;
  if (shocks > 1) message << " in shock " << shock;
  if (!std::isfinite(h)) {
    message << " is not a finite number";
  } else {
    message << " is " << h << ": relative distress is a fraction of equity, in [0, 1]";
  }
  throw std::invalid_argument(message.str());
}

void check_distress(const DenseMatrixRef& h0, Eigen::Index banks) {
  if (h0.rows() != banks)
    throw std::invalid_argument("initial distress must have one row per bank (one column per shock): got " +
                                std::to_string(h0.rows()) + " rows, expected " + std::to_string(banks));
  for (Eigen::Index s = 0; s < h0.cols(); ++s)
    for (Eigen::Index i = 0; i < banks; ++i)
      if (!(h0(i, s) >= 0.0 && h0(i, s) <= 1.0)) bad_distress(i, s, h0.cols(), h0(i, s));
}

Eigen::VectorXd weights(const VectorRef& economic_value, Eigen::Index banks) {
  if (economic_value.size() == 0)
    return Eigen::VectorXd::Constant(banks, banks > 0 ? 1.0 / static_cast<double>(banks) : 0.0);
  detail::check_per_bank(economic_value, banks, "economic value", true);
  const double total = economic_value.sum();
  if (!(total > 0.0)) throw std::invalid_argument("economic values must not all be zero");
  return economic_value / total;
}

void check_options(const DebtRankOptions& options) {
  if (!(options.tolerance >= 0.0)) throw std::invalid_argument("DebtRank tolerance must be >= 0");
  if (options.max_iterations < 1)
    throw std::invalid_argument("DebtRank max_iterations must be >= 1, got " + std::to_string(options.max_iterations));
}

// Shocks propagated side by side, one per SIMD lane: state is stored bank-major (row i holds bank i in every
// lane), so pushing one bank's distress along one link is a Lanes-wide multiply-add.
template <int Lanes>
using LaneMatrix = Eigen::Array<double, Eigen::Dynamic, Lanes, Eigen::RowMajor>;
template <int Lanes>
using LaneRow = Eigen::Array<double, 1, Lanes>;

// The rounds of both recursions, pushing only what spreads. spread(i, l) is what bank i passes on in the next
// round of lane l: single-hit, h(i) in the round after bank i first became distressed and 0 afterwards;
// linear, the last increase h(t) - h(t-1). A round adds W' spread to h along the rows of W of the banks that
// spread (in increasing bank order, so a lane's sums do not depend on the other lanes), caps h at 1, and
// derives the next spread on the banks that were reached: all the others have nothing new to pass on.
template <int Lanes>
class Propagation {
 public:
  Propagation(const ImpactRows& impact, DebtRankVariant variant)
      : impact_(impact),
        single_hit_(variant == DebtRankVariant::kSingleHit),
        h_(LaneMatrix<Lanes>::Zero(impact.rows(), Lanes)),
        spread_(LaneMatrix<Lanes>::Zero(impact.rows(), Lanes)),
        increase_(impact.rows(), Lanes),
        spreading_(static_cast<std::size_t>(impact.rows()), 0),
        reached_(static_cast<std::size_t>(impact.rows()), 0) {}

  // Lane l starts from h0: h(1) = h0 and every distressed bank spreads h0 (both recursions).
  template <class Column>
  void load(int l, const Column& h0) {
    h_.col(l) = h0.array();
    spread_.col(l) = h0.array();
    for (Eigen::Index i = 0; i < h0.size(); ++i)
      if (h0[i] > 0.0) mark_spreading(i);
  }

  // Lane l holds nothing: nothing moves in it.
  void park(int l) {
    h_.col(l).setZero();
    spread_.col(l).setZero();
  }

  // One round in every lane; returns the largest spread of each lane (0 when nothing is left to pass on).
  LaneRow<Lanes> round();
  auto distress(int l) const { return h_.col(l); }

 private:
  void mark_spreading(Eigen::Index i) {
    if (spreading_[static_cast<std::size_t>(i)]) return;
    spreading_[static_cast<std::size_t>(i)] = 1;
    spreaders_.push_back(i);
  }
  void in_bank_order();
  void push();
  LaneRow<Lanes> update(Eigen::Index j);

  const ImpactRows& impact_;
  bool single_hit_;
  LaneMatrix<Lanes> h_, spread_, increase_;
  std::vector<Eigen::Index> spreaders_, reached_banks_;
  std::vector<char> spreading_, reached_;  // per bank: listed in spreaders_, in reached_banks_
};

// Sorts the banks that spread: a few by sorting, many by reading the flags in order (cheaper than a sort).
template <int Lanes>
void Propagation<Lanes>::in_bank_order() {
  const auto n = spreading_.size();
  if (64 * spreaders_.size() < n) {
    std::sort(spreaders_.begin(), spreaders_.end());
    return;
  }
  spreaders_.clear();
  for (std::size_t i = 0; i < n; ++i)
    if (spreading_[i]) spreaders_.push_back(static_cast<Eigen::Index>(i));
}

// increase = W' spread, on the banks reached only.
template <int Lanes>
void Propagation<Lanes>::push() {
  in_bank_order();
  const int* outer = impact_.outerIndexPtr();
  const int* inner = impact_.innerIndexPtr();
  const double* values = impact_.valuePtr();
  reached_banks_.clear();
  for (const Eigen::Index i : spreaders_) {
    const LaneRow<Lanes> s = spread_.row(i);
    for (int k = outer[i]; k < outer[i + 1]; ++k) {
      const Eigen::Index j = inner[k];
      if (reached_[static_cast<std::size_t>(j)]) {
        increase_.row(j) += values[k] * s;
      } else {
        reached_[static_cast<std::size_t>(j)] = 1;
        reached_banks_.push_back(j);
        increase_.row(j) = values[k] * s;
      }
    }
  }
  for (const Eigen::Index i : spreaders_) {
    spread_.row(i).setZero();
    spreading_[static_cast<std::size_t>(i)] = 0;
  }
  spreaders_.clear();
}

// h(j) = min(1, h(j) + increase(j)) and what bank j spreads next. h never decreases, so single hit: bank j is
// newly distressed in a lane where it was at 0 before (then it spreads its new h, which is 0 if it was not hit).
template <int Lanes>
LaneRow<Lanes> Propagation<Lanes>::update(Eigen::Index j) {
  reached_[static_cast<std::size_t>(j)] = 0;
  const LaneRow<Lanes> before = h_.row(j);
  const LaneRow<Lanes> after = (before + increase_.row(j)).min(1.0);
  LaneRow<Lanes> next = after - before;
  if (single_hit_)
    for (int l = 0; l < Lanes; ++l) next[l] = before[l] > 0.0 ? 0.0 : after[l];  // a blend, not a branch
  h_.row(j) = after;
  spread_.row(j) = next;
  if (next.maxCoeff() > 0.0) mark_spreading(j);
  return next;
}

template <int Lanes>
LaneRow<Lanes> Propagation<Lanes>::round() {
  push();
  LaneRow<Lanes> largest = LaneRow<Lanes>::Zero();
  for (const Eigen::Index j : reached_banks_) largest = largest.max(update(j));
  return largest;
}

// Runs every column of h0 (checked) to its end, Lanes at a time: a group of shocks starts together and the next
// group once all have ended. Started together, the shocks of a group reach a bank in few distinct rounds
// (distances in a network are alike), so a bank's pushes carry distress in more lanes at once than with shocks
// started at random rounds (the price: a lane whose shock ended early idles until its group ends).
template <int Lanes>
class Batch {
 public:
  Batch(const ImpactRows& impact, const DenseMatrixRef& h0, Eigen::VectorXd v, const DebtRankOptions& options)
      : h0_(h0), v_(std::move(v)), options_(options), propagation_(impact, options.variant) {
    out_.distress.resize(h0.rows(), h0.cols());
    out_.debtrank.resize(h0.cols());
    out_.iterations.resize(h0.cols());
    out_.converged = true;
    shock_.fill(-1);
  }

  BatchDebtRankResult run();

 private:
  void load(int l);
  void finish(Eigen::Index s, bool converged);

  const DenseMatrixRef& h0_;
  const Eigen::VectorXd v_;
  const DebtRankOptions& options_;
  Propagation<Lanes> propagation_;
  BatchDebtRankResult out_;
  std::array<Eigen::Index, Lanes> shock_{};
  std::array<int, Lanes> iteration_{};
  Eigen::Index next_shock_ = 0;
  int busy_ = 0;
};

template <int Lanes>
void Batch<Lanes>::finish(Eigen::Index s, bool converged) {
  out_.debtrank[s] = v_.dot(out_.distress.col(s) - h0_.col(s));
  out_.converged = out_.converged && converged;
}

// Puts the next shock in lane l, or parks the lane. A single-hit shock that distresses nobody ends at once, after
// no round; a linear one runs its one round (nothing moves in it).
template <int Lanes>
void Batch<Lanes>::load(int l) {
  while (next_shock_ < h0_.cols()) {
    const Eigen::Index s = next_shock_++;
    if (options_.variant == DebtRankVariant::kSingleHit && !(h0_.col(s).array() > 0.0).any()) {
      out_.distress.col(s) = h0_.col(s);
      out_.iterations[s] = 0;
      finish(s, true);
      continue;
    }
    propagation_.load(l, h0_.col(s));
    shock_[static_cast<std::size_t>(l)] = s;
    iteration_[static_cast<std::size_t>(l)] = 0;
    ++busy_;
    return;
  }
  if (shock_[static_cast<std::size_t>(l)] >= 0) propagation_.park(l);  // a lane never loaded holds zeros
  shock_[static_cast<std::size_t>(l)] = -1;
}

template <int Lanes>
BatchDebtRankResult Batch<Lanes>::run() {
  if (h0_.rows() == 0) {  // no bank: nothing to propagate
    out_.debtrank.setZero();
    out_.iterations.setZero();
    return std::move(out_);
  }
  const double still = options_.variant == DebtRankVariant::kSingleHit ? 0.0 : options_.tolerance;
  for (int l = 0; l < Lanes; ++l) load(l);
  while (busy_ > 0) {
    const LaneRow<Lanes> largest = propagation_.round();
    for (int l = 0; l < Lanes; ++l) {
      const auto lane = static_cast<std::size_t>(l);
      if (shock_[lane] < 0) continue;
      const bool moving = largest[l] > still;
      if (++iteration_[lane] < options_.max_iterations && moving) continue;
      out_.distress.col(shock_[lane]) = propagation_.distress(l).matrix();
      out_.iterations[shock_[lane]] = iteration_[lane];
      finish(shock_[lane], !moving);
      --busy_;
      propagation_.park(l);
      shock_[lane] = -1;
    }
    if (busy_ == 0)
      for (int l = 0; l < Lanes; ++l) load(l);
  }
  return std::move(out_);
}

BatchDebtRankResult propagate(const ImpactRows& impact, const DenseMatrixRef& h0, const VectorRef& economic_value,
                              const DebtRankOptions& options) {
  check_distress(h0, impact.rows());
  Eigen::VectorXd v = weights(economic_value, impact.rows());
  check_options(options);
  // As many lanes as shocks, up to 32: a lane costs memory traffic in every push whether it holds a shock or
  // not, and wider groups wait longer for their slowest shock (32 was the fastest on 1,000 banks, 64 shocks).
  const Eigen::Index shocks = h0.cols();
  if (shocks <= 4) return Batch<4>(impact, h0, std::move(v), options).run();
  if (shocks <= 8) return Batch<8>(impact, h0, std::move(v), options).run();
  if (shocks <= 16) return Batch<16>(impact, h0, std::move(v), options).run();
  return Batch<32>(impact, h0, std::move(v), options).run();
}

// W checked and compressed by row; `storage` holds the copy when one is needed.
const ImpactRows& impact_rows(const DenseMatrixRef& impact, ImpactRows& storage) {
  check_impact(impact);
  storage = impact.sparseView();  // drops the zeros only
  return storage;
}

const ImpactRows& impact_rows(const Eigen::SparseMatrix<double>& impact, ImpactRows& storage) {
  check_impact(impact);
  storage = impact;
  return storage;
}

const ImpactRows& impact_rows(const ImpactRows& impact, ImpactRows& storage) {
  check_impact(impact);
  if (impact.isCompressed()) return impact;
  storage = impact;
  storage.makeCompressed();
  return storage;
}

template <class Impact>
DebtRankResult one_shock(const Impact& impact, const VectorRef& initial_distress, const VectorRef& economic_value,
                         const DebtRankOptions& options) {
  ImpactRows storage;
  const ImpactRows& rows = impact_rows(impact, storage);
  detail::check_per_bank(initial_distress, rows.rows(), "initial distress", true);
  const BatchDebtRankResult batch = propagate(rows, initial_distress, economic_value, options);
  DebtRankResult result;
  result.distress = batch.distress.col(0);
  result.debtrank = batch.debtrank[0];
  result.iterations = batch.iterations[0];
  result.converged = batch.converged;
  return result;
}

template <class Impact>
BatchDebtRankResult many_shocks(const Impact& impact, const DenseMatrixRef& initial_distress,
                                const VectorRef& economic_value, const DebtRankOptions& options) {
  ImpactRows storage;
  return propagate(impact_rows(impact, storage), initial_distress, economic_value, options);
}

}  // namespace

DebtRankResult debtrank(const DenseMatrixRef& impact, const VectorRef& initial_distress,
                        const VectorRef& economic_value, const DebtRankOptions& options) {
  return one_shock(impact, initial_distress, economic_value, options);
}

DebtRankResult debtrank(const Eigen::SparseMatrix<double>& impact, const VectorRef& initial_distress,
                        const VectorRef& economic_value, const DebtRankOptions& options) {
  return one_shock(impact, initial_distress, economic_value, options);
}

DebtRankResult debtrank(const Eigen::SparseMatrix<double, Eigen::RowMajor>& impact, const VectorRef& initial_distress,
                        const VectorRef& economic_value, const DebtRankOptions& options) {
  return one_shock(impact, initial_distress, economic_value, options);
}

BatchDebtRankResult debtrank_batch(const DenseMatrixRef& impact, const DenseMatrixRef& initial_distress,
                                   const VectorRef& economic_value, const DebtRankOptions& options) {
  return many_shocks(impact, initial_distress, economic_value, options);
}

BatchDebtRankResult debtrank_batch(const Eigen::SparseMatrix<double>& impact, const DenseMatrixRef& initial_distress,
                                   const VectorRef& economic_value, const DebtRankOptions& options) {
  return many_shocks(impact, initial_distress, economic_value, options);
}

BatchDebtRankResult debtrank_batch(const Eigen::SparseMatrix<double, Eigen::RowMajor>& impact,
                                   const DenseMatrixRef& initial_distress, const VectorRef& economic_value,
                                   const DebtRankOptions& options) {
  return many_shocks(impact, initial_distress, economic_value, options);
}

}  // namespace ccpnet::models
