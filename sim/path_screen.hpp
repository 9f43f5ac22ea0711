// Member-level screen of the paths of time steps (Model::steps): whether
// some member may miss a variation-margin call at the end of some step of a
// path, from the members' net positions alone, before any account is
// revalued. A path the screen passes has no market default on it; the runner
// revalues account by account only the paths it flags, and the numbers are
// those of revaluing every path (the screen decides what is computed, never
// what a number is).
//
// A member defaults at the end of step k when its cushion (min(capital,
// liquidity)) plus its P&L from today, less the IM it is called for, is
// negative. Its P&L at a point is P = sum_a N_a r_a, N_a its net value in asset
// a over its member accounts (all horizons: a path moves every horizon's
// returns alike), r_a the simple return from today. With any scale s_a > 0
// (the asset's daily volatility), z_a = r_a / s_a, w_a = N_a s_a, f the mean
// of z over the assets and e = z - f:
//   P = f sum_a w_a + sum_a w_a e_a >= f W - ||w||_2 ||e||_2      (Cauchy-Schwarz)
// Over a path's steps, P at step k's end >= min(W f_lo, W f_hi) - ||w|| E_hi,
// f_lo, f_hi the smallest and largest f and E_hi the largest ||e|| of its step
// ends: one test per member and path. A member that fails it has its exact
// sum N . r computed at every step end (16 step ends per vector pass).
//
// Rounding: the runner's P&L (Revaluation, summed account by account) differs
// from the exact sum by less than n eps times sum |v r| over the member's
// positions (n terms, eps = 1.1e-16), at most its gross value G times the
// largest |r| of the column; the bound's own rounding is below a few eps
// times the magnitudes it adds. screen_margin leaves 1e-9 times all of them,
// which covers n up to millions of terms: a member is passed only when its
// headroom exceeds the margin. A NaN anywhere flags the path.
#pragma once

#include <Eigen/Dense>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <span>
#include <utility>
#include <vector>

#include "sim/revalue.hpp"

namespace ccpnet {

struct Model;

// The slack a screen leaves for rounding: relative to the magnitudes compared
// (`spread` bounds the P&L's and the bound's terms, `cushion` the other side).
inline constexpr double kScreenRelative = 1e-9;
inline double screen_margin(double cushion, double spread) { return kScreenRelative * (spread + std::abs(cushion)); }

class PathScreen {
 public:
  PathScreen() = default;
  explicit PathScreen(const Model& model);

  // Whether some member may default at the end of some step of the path whose
  // simple returns from today are columns [first, first + points) of `returns`
  // (assets x tile), the step ends at `ends` (indices of points). cushion[m]:
  // the member's min(capital, liquidity); im_call(m, k): the IM it is called
  // for at step k's end (>= 0), read only when `calls` (some CCP recomputes IM).
  template <class ImCall>
  bool may_default(const RowMatrix& returns, Eigen::Index first, std::span<const int> ends,
                   std::span<const double> cushion, bool calls, const ImCall& im_call);
  // The members the last may_default could not clear by its bound: on that
  // path no other member can default.
  std::span<const int> candidates() const { return candidates_; }

 private:
  static constexpr std::size_t kWidth = 16, kLanes = 8;  // step ends per pass of the exact sums, per vector
  struct Column {
    double mean, spread, largest;  // f, ||z - f||_2, max |r|
  };
  void step_columns(const RowMatrix& returns, Eigen::Index first, std::span<const int> ends);
  // Members whose path bound does not clear their cushion less the largest
  // IM call of the path (im_most_) into candidates_.
  void path_candidates(std::span<const double> cushion);
  // Whether member m's P&L at some step end of [k0, k0 + kWidth) may leave
  // its cushion short of the IM called then (im_, per lane).
  bool short_in(std::size_t m, std::size_t k0, double cushion) const;

  std::vector<double> weight_sum_, weight_norm_, gross_;  // per member: W, ||w||_2, sum |v| over its positions
  std::vector<int> offset_;                               // per member: its net positions in net_
  std::vector<std::pair<Eigen::Index, double>> net_;      // (asset, N_a), nonzero, ascending by asset
  std::vector<double> inverse_scale_;                     // per asset: 1 / s_a
  std::vector<Column> columns_;                           // per step end of the current path
  std::vector<double> largest_;                           // per step end (padded to kWidth): max |r|
  std::vector<double> packed_;                            // its returns: per kWidth step ends, assets x kWidth
  std::size_t chunk_ = 0;                                 // assets x kWidth
  std::array<double, kWidth> im_{};
  Column lo_{}, hi_{};                   // the path's f_lo in lo_; f_hi, E_hi, max |r| in hi_
  std::vector<double> im_most_, bound_;  // per member: the path's largest IM call; its headroom less the margin
  std::vector<int> candidates_;
};

template <class ImCall>
bool PathScreen::may_default(const RowMatrix& returns, Eigen::Index first, std::span<const int> ends,
                             std::span<const double> cushion, bool calls, const ImCall& im_call) {
  const auto call = [&](std::size_t m, std::size_t k) { return calls ? im_call(m, static_cast<int>(k)) : 0.0; };
  step_columns(returns, first, ends);
  im_most_.assign(cushion.size(), 0.0);
  for (std::size_t m = 0; calls && m < cushion.size(); ++m)
    for (std::size_t k = 0; k < ends.size(); ++k) im_most_[m] = std::max(im_most_[m], call(m, k));
  path_candidates(cushion);
  im_.fill(0.0);
  for (int mi : candidates_) {
    const auto m = static_cast<std::size_t>(mi);
    for (std::size_t k0 = 0; k0 < ends.size(); k0 += kWidth) {
      for (std::size_t k = k0; calls && k < std::min(ends.size(), k0 + kWidth); ++k) im_[k - k0] = call(m, k);
      if (short_in(m, k0, cushion[m])) return true;
    }
  }
  return false;
}

}  // namespace ccpnet
