// The revaluation kernel: P&L of every account of a tile of scenarios for
// linear positions, P = V R, with V the accounts x assets position values and
// R the assets x tile simple returns.
//
// Positions are sparse (an account holds a few of the assets), so V is kept in
// compressed rows when that saves work, and each row of P accumulates
// v_ia * R_a over the account's assets in a fixed order. Every element of P is
// computed by the same sequence of operations whatever its column, so a
// scenario's P&L does not depend on where it sits in a tile.
#pragma once

#include <Eigen/Dense>
#include <Eigen/SparseCore>
#include <array>
#include <span>
#include <vector>

namespace ccpnet {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

class Revaluation {
 public:
  Revaluation() = default;
  explicit Revaluation(const Eigen::MatrixXd& values);

  // pnl (accounts x tile, row-major) = values * returns (assets x tile, row-major).
  // With `sums`: then row owner[i] of sums += row i of pnl for every row i
  // with owner[i] >= 0, in the order of the rows (members' sums of their
  // accounts), each row while it is at hand.
  void apply(const RowMatrix& returns, RowMatrix& pnl, std::span<const int> owner = {},
             RowMatrix* sums = nullptr) const;
  // Columns [first, last) of the same product alone (compressed rows only),
  // with the same sums over those columns: apply() adds the same products in
  // the same order, so the numbers are the same.
  void apply_columns(const RowMatrix& returns, Eigen::Index first, Eigen::Index last, RowMatrix& pnl,
                     std::span<const int> owner = {}, RowMatrix* sums = nullptr) const;
  // The same with the P&L transposed: element (i, j) into pnl(j,
  // row_column[i]) (columns x accounts, each column's row contiguous; pnl
  // has at least `last` rows).
  void apply_columns_to(const RowMatrix& returns, Eigen::Index first, Eigen::Index last, RowMatrix& pnl,
                        std::span<const int> row_column, std::span<const int> owner = {},
                        RowMatrix* sums = nullptr) const;
  // The sums alone of the rows `rows` over columns [first, last) (compressed
  // rows only): row i by the kernel of apply_columns, added to row owner[i]
  // of sums in the order of `rows`, so that an owner whose rows are all
  // listed, in ascending order, gets the numbers of apply_columns' sums.
  void add_row_sums(const RowMatrix& returns, Eigen::Index first, Eigen::Index last, std::span<const int> rows,
                    std::span<const int> owner, RowMatrix& sums) const;

  bool sparse() const { return sparse_; }
  double flops_per_column() const { return flops_per_column_; }

 private:
  // One chunk of n columns from c0 on (n <= 8 x `vectors`): its rows into `sink`.
  template <std::size_t vectors, class Sink>
  void chunk_product(const RowMatrix& returns, Eigen::Index c0, Eigen::Index n, const Sink& sink) const;
  template <class Sink>
  void columns_product(const RowMatrix& returns, Eigen::Index first, Eigen::Index last, const Sink& sink) const;
  // Columns [c0, c0 + n) of the returns, zero-padded to `width` columns, into packed_.
  void pack(const RowMatrix& returns, Eigen::Index c0, Eigen::Index n, Eigen::Index width) const;

  bool sparse_ = true;
  Eigen::SparseMatrix<double, Eigen::RowMajor> csr_;
  RowMatrix dense_;
  double flops_per_column_ = 0.0;
  mutable std::vector<double> packed_;  // apply_columns: a chunk of the returns, assets x 8 or 16
};

}  // namespace ccpnet
