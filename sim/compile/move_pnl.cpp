// The linear P&L of a CCP's accounts under a block of stress moves that each
// shift one or two assets (single-asset and spread moves, RTS 153/2013 art.
// 30): computed from the columns those assets take in the accounts' values,
// to the bit what the dense product `values * moves` gives.
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <vector>

#include "sim/compile/steps.hpp"

namespace ccpnet::compile {
namespace {

// Eigen's matrix product (its GEBP kernel) takes the rows of the left factor
// in panels of three packets, then of two, then of one, then row by row. In
// the panels of three and two packets each entry is one chain of fused
// multiply-adds over the assets in order from +0, so a move with entries s_lo,
// s_hi (lo < hi) and zeros elsewhere gives there exactly
// madd(v_hi, s_hi, madd(v_lo, s_lo, +0)) (madd below): a zero term x * 0 adds a zero, which
// leaves a finite sum as it is. The rows after those panels (a one-packet
// panel splits its chain by the parity of the asset; single rows sum packets
// of assets) are taken from the product over those rows and the panel of
// three packets before them: in it they fall in the same kinds of panel.
constexpr Eigen::Index kPacket = Eigen::internal::packet_traits<double>::size;

// Eigen's multiply-add (pmadd): fused on a target with FMA instructions, a
// product then a sum (two roundings) otherwise.
inline double madd(double a, double b, double c) {
#ifdef __FMA__
  return std::fma(a, b, c);
#else
  return a * b + c;
#endif
}

Eigen::Index chained_rows(Eigen::Index rows) {
  const Eigen::Index three = rows / (3 * kPacket) * (3 * kPacket);
  return three + (rows - three) / (2 * kPacket) * (2 * kPacket);
}

void chained_column(const Eigen::MatrixXd& values, const Eigen::MatrixXd& moves, const TwoAssetMove& m,
                    Eigen::Index move, Eigen::Index rows, double* out) {
  const double* lo = values.col(m.lo).data();
  const double s_lo = moves(m.lo, move);
  if (m.hi < 0) {
    for (Eigen::Index i = 0; i < rows; ++i) out[i] = madd(lo[i], s_lo, 0.0);
    return;
  }
  const double* hi = values.col(m.hi).data();
  const double s_hi = moves(m.hi, move);
  for (Eigen::Index i = 0; i < rows; ++i) out[i] = madd(hi[i], s_hi, madd(lo[i], s_lo, 0.0));
}

// The moves [b0, b0 + nb) from the first through the last that shifts more
// than two assets, rounded up to a multiple of the product's four-column
// panels: a product over them alone puts each of them in the same kind of
// panel as the product over the block.
Eigen::Index dense_prefix(const std::vector<TwoAssetMove>& two_asset, Eigen::Index b0, Eigen::Index nb) {
  Eigen::Index dense = 0;
  for (Eigen::Index k = 0; k < nb; ++k)
    if (two_asset[static_cast<std::size_t>(b0 + k)].lo < 0) dense = k + 1;
  return std::min(nb, (dense + 3) / 4 * 4);
}

}  // namespace

void stress_move_pnl(const Eigen::MatrixXd& values, const Eigen::MatrixXd& moves,
                     const std::vector<TwoAssetMove>& two_asset, Eigen::Index b0, Eigen::Index nb, bool finite_values,
                     std::vector<double>& tail_store, Eigen::Ref<Eigen::MatrixXd> pnl) {
  const Eigen::Index rows = values.rows(), chained = chained_rows(rows);
  const Eigen::Index first_tail = chained >= 3 * kPacket ? chained - 3 * kPacket : 0;
  const Eigen::Index dense = finite_values && first_tail > 0 ? dense_prefix(two_asset, b0, nb) : nb;
  if (dense > 0) pnl.leftCols(dense).noalias() = values * moves.middleCols(b0, dense);
  if (dense == nb) return;
  for (Eigen::Index k = dense; k < nb; ++k)
    chained_column(values, moves, two_asset[static_cast<std::size_t>(b0 + k)], b0 + k, chained, &pnl(0, k));
  // The product over the tail rows in slices of whole four-column panels
  // whose packed moves stay under 256 KiB: from the heap, not fresh pages.
  const Eigen::Index tail_rows = rows - first_tail;
  const Eigen::Index slice =
      std::max<Eigen::Index>(4, (Eigen::Index{1} << 15) / std::max(values.cols(), Eigen::Index{1}) / 4 * 4);
  if (tail_store.size() < static_cast<std::size_t>(tail_rows * slice))
    tail_store.resize(static_cast<std::size_t>(tail_rows * slice));
  for (Eigen::Index k = dense; k < nb; k += slice) {
    const Eigen::Index cols = std::min(slice, nb - k);
    Eigen::Map<Eigen::MatrixXd> tail(tail_store.data(), tail_rows, cols);
    tail.noalias() = values.bottomRows(tail_rows) * moves.middleCols(b0 + k, cols);
    pnl.block(chained, k, rows - chained, cols) = tail.bottomRows(rows - chained);
  }
}

}  // namespace ccpnet::compile
