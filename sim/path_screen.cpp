#include "sim/path_screen.hpp"

#include <algorithm>
#include <cstring>
#include <map>

#include "sim/model.hpp"

namespace ccpnet {

// Per member: its net value per asset over its member accounts at every
// horizon (the rows the runner sums into the member's P&L), its gross value
// (sum of |v| over those rows), and the scaled sums W and ||w||_2.
PathScreen::PathScreen(const Model& model) {
  const std::size_t n_members = model.members.size();
  const auto n_assets = static_cast<Eigen::Index>(model.assets.size());
  inverse_scale_.resize(model.assets.size());
  std::vector<double> scale(model.assets.size());
  for (std::size_t a = 0; a < scale.size(); ++a) {
    scale[a] = model.assets[a].daily_vol > 0.0 ? model.assets[a].daily_vol : 1.0;
    inverse_scale_[a] = 1.0 / scale[a];
  }
  Eigen::MatrixXd net = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(n_members), n_assets);
  gross_.assign(n_members, 0.0);
  for (std::size_t h = 0; h < model.horizon_accounts.size(); ++h) {
    const Eigen::MatrixXd& values = model.horizon_values[h];
    const auto& ids = model.horizon_accounts[h];
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const Account& acc = model.accounts[static_cast<std::size_t>(ids[i])];
      if (acc.kind != AccountKind::kMember) continue;
      net.row(acc.owner) += values.row(static_cast<Eigen::Index>(i));
      gross_[static_cast<std::size_t>(acc.owner)] += values.row(static_cast<Eigen::Index>(i)).cwiseAbs().sum();
    }
  }
  weight_sum_.assign(n_members, 0.0);
  weight_norm_.assign(n_members, 0.0);
  for (std::size_t m = 0; m < n_members; ++m) {
    offset_.push_back(static_cast<int>(net_.size()));
    for (Eigen::Index a = 0; a < n_assets; ++a) {
      const double v = net(static_cast<Eigen::Index>(m), a);
      if (v == 0.0) continue;
      net_.emplace_back(a, v);
      const double w = v * scale[static_cast<std::size_t>(a)];
      weight_sum_[m] += w;
      weight_norm_[m] += w * w;
    }
    weight_norm_[m] = std::sqrt(weight_norm_[m]);
  }
  offset_.push_back(static_cast<int>(net_.size()));
}

// Each step end's column of the path: the mean f and the spread ||z - f|| of
// the scaled returns, the largest |r|, the returns into packed_; the path's
// extremes.
void PathScreen::step_columns(const RowMatrix& returns, Eigen::Index first, std::span<const int> ends) {
  const Eigen::Index n_assets = returns.rows(), cols = returns.cols();
  columns_.resize(ends.size());
  largest_.assign((ends.size() + kWidth - 1) / kWidth * kWidth, 0.0);
  chunk_ = static_cast<std::size_t>(n_assets) * kWidth;
  packed_.assign((ends.size() + kWidth - 1) / kWidth * chunk_, 0.0);
  lo_ = {INFINITY, 0.0, 0.0};
  hi_ = {-INFINITY, 0.0, 0.0};
  for (std::size_t k = 0; k < ends.size(); ++k) {
    const double* r = returns.data() + first + ends[k];
    double* packed = packed_.data() + (k / kWidth) * chunk_ + k % kWidth;
    double sum = 0.0, largest = 0.0;
    for (Eigen::Index a = 0; a < n_assets; ++a) {
      packed[static_cast<std::size_t>(a) * kWidth] = r[a * cols];
      sum += r[a * cols] * inverse_scale_[static_cast<std::size_t>(a)];
      largest = std::max(largest, std::abs(r[a * cols]));
    }
    const double mean = n_assets > 0 ? sum / static_cast<double>(n_assets) : 0.0;
    double squares = 0.0;
    for (Eigen::Index a = 0; a < n_assets; ++a) {
      const double e = r[a * cols] * inverse_scale_[static_cast<std::size_t>(a)] - mean;
      squares += e * e;
    }
    Column& col = columns_[k];
    col = {mean, std::sqrt(squares), largest};
    largest_[k] = largest;
    // A NaN return makes the bounds NaN, and a NaN flags (the tests are !(x >= margin)).
    if (std::isnan(sum)) col = {NAN, NAN, NAN};
    lo_.mean = std::min(lo_.mean, col.mean);
    hi_.mean = std::max(hi_.mean, col.mean);
    hi_.spread = std::max(hi_.spread, col.spread);
    hi_.largest = std::max(hi_.largest, col.largest);
    if (std::isnan(col.mean)) lo_ = hi_ = col;
  }
}

void PathScreen::path_candidates(std::span<const double> cushion) {
  const double f_lo = lo_.mean, f_hi = hi_.mean, e_hi = hi_.spread, r_hi = hi_.largest;
  const double f_abs = std::max(std::abs(f_lo), std::abs(f_hi));
  const std::size_t n = weight_sum_.size();
  bound_.resize(n);
  // One branch-free pass (vectorised), then the members left.
  for (std::size_t m = 0; m < n; ++m) {
    const double w = weight_sum_[m], spread_term = weight_norm_[m] * e_hi, im = im_most_[m];
    const double lower = std::min(w * f_lo, w * f_hi) - spread_term;
    const double spread = std::abs(w) * f_abs + spread_term + gross_[m] * r_hi + im;
    bound_[m] = cushion[m] + lower - im - screen_margin(cushion[m], spread);
  }
  candidates_.resize(n);
  std::size_t count = 0;
  for (std::size_t m = 0; m < n; ++m) {  // without a branch: which members pass is unpredictable
    candidates_[count] = static_cast<int>(m);
    count += !(bound_[m] >= 0.0);
  }
  candidates_.resize(count);
}

// Member m's exact sums N . r at the step ends [k0, k0 + kWidth), two
// accumulations over its positions (even, odd: independent chains), then
// the test of each step end: its cushion plus its P&L less the IM called
// must clear the margin.
bool PathScreen::short_in(std::size_t m, std::size_t k0, double cushion) const {
  using Vector = double __attribute__((vector_size(kLanes * sizeof(double))));
  static_assert(kWidth == 2 * kLanes);
  const double* packed = packed_.data() + (k0 / kWidth) * chunk_;
  // Adds position i's lanes c into `sum` (by reference: a vector returned by
  // value changes ABI with the instruction set, -Wpsabi).
  const auto add = [&](Vector& sum, std::size_t i, std::size_t c) {
    Vector x;
    std::memcpy(&x, packed + static_cast<std::size_t>(net_[i].first) * kWidth + c * kLanes, sizeof(Vector));
    sum += net_[i].second * x;
  };
  Vector even0{}, even1{}, odd0{}, odd1{};
  auto i = static_cast<std::size_t>(offset_[m]);
  const auto end = static_cast<std::size_t>(offset_[m + 1]);
  for (; i + 1 < end; i += 2) {
    add(even0, i, 0);
    add(even1, i, 1);
    add(odd0, i + 1, 0);
    add(odd1, i + 1, 1);
  }
  if (i < end) {
    add(even0, i, 0);
    add(even1, i, 1);
  }
  const std::array<Vector, 2> sum{even0 + odd0, even1 + odd1};
  const std::size_t count = std::min(kWidth, columns_.size() - k0);
  const double gross = gross_[m], magnitude = std::abs(cushion);
  bool any = false;
  for (std::size_t c = 0; c < sum.size(); ++c) {
    Vector largest, im;
    std::memcpy(&largest, largest_.data() + k0 + c * kLanes, sizeof(Vector));
    std::memcpy(&im, im_.data() + c * kLanes, sizeof(Vector));
    const auto ok = cushion + sum[c] - im >= kScreenRelative * (gross * largest + im + magnitude);  // screen_margin
    for (std::size_t j = 0; j < kLanes; ++j) any |= (c * kLanes + j < count) && ok[j] == 0;
  }
  return any;
}

}  // namespace ccpnet
