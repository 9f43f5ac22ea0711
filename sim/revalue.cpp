#include "sim/revalue.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

namespace ccpnet {
namespace {

constexpr std::size_t kLanes = 8, kVectors = 8;  // a tile of 64 columns as 8 vectors of 8
constexpr std::size_t kNarrow = 2;               // apply_columns: chunks of 16 columns
constexpr std::size_t kRows = 4;                 // apply_columns: rows interleaved
using Vector = double __attribute__((vector_size(kLanes * sizeof(double))));
using Bits = std::int64_t __attribute__((vector_size(kLanes * sizeof(double))));
using Quad = double __attribute__((vector_size(kRows * sizeof(double))));  // a column of kRows rows
template <std::size_t vectors>
using Lanes = std::array<Vector, vectors>;  // one row's values over a chunk's columns
template <std::size_t vectors>
using Block = std::array<Lanes<vectors>, kRows>;  // kRows rows' values over a chunk's columns
constexpr auto kLaneCount = static_cast<Eigen::Index>(kLanes);

// The compressed rows of the position values.
struct Rows {
  const int* outer;
  const int* inner;
  const double* value;
};

// (Vectors go by reference: a build without AVX-512 passes them differently.)
[[gnu::always_inline]] inline void load(Vector& x, const double* from) { std::memcpy(&x, from, sizeof(Vector)); }

[[gnu::always_inline]] inline void store(double* to, const Vector& x) { std::memcpy(to, &x, sizeof(Vector)); }

// Row i of the product over kLanes x `vectors` columns of `returns` (a row of
// `stride` values per asset): one accumulation per element over the row's
// entries in their order, kept in vector registers. Every width adds the
// same products in the same order to each element, so the numbers do not
// depend on the width.
template <std::size_t vectors>
[[gnu::always_inline]] inline Lanes<vectors> row_lanes(const Rows& v, const double* returns, Eigen::Index stride,
                                                       Eigen::Index i) {
  Lanes<vectors> sum{};
  for (int k = v.outer[i]; k < v.outer[i + 1]; ++k) {
    const double value = v.value[k];
    const double* row = returns + static_cast<Eigen::Index>(v.inner[k]) * stride;
    for (std::size_t c = 0; c < vectors; ++c) {
      Vector x;
      load(x, row + c * kLanes);
      sum[c] += value * x;
    }
  }
  return sum;
}

// Rows [i, i + kRows) of the product over kLanes x `vectors` columns of
// `returns` (a narrow chunk, packed), interleaved: each row's accumulation
// is row_lanes' (its entries in their order), the rows' chains side by side
// so that they overlap instead of waiting on one another.
template <std::size_t vectors>
[[gnu::always_inline]] inline Block<vectors> rows_lanes(const Rows& v, const double* returns, Eigen::Index i) {
  constexpr auto width = static_cast<Eigen::Index>(kLanes * vectors);
  Block<vectors> sum{};
  const auto add = [&](std::size_t r, int k) {
    const double value = v.value[k];
    const double* row = returns + static_cast<Eigen::Index>(v.inner[k]) * width;
    for (std::size_t c = 0; c < vectors; ++c) {
      Vector x;
      load(x, row + c * kLanes);
      sum[r][c] += value * x;
    }
  };
  int shared = v.outer[i + 1] - v.outer[i];
  for (Eigen::Index r = i + 1; r < i + static_cast<Eigen::Index>(kRows); ++r)
    shared = std::min(shared, v.outer[r + 1] - v.outer[r]);
  for (int t = 0; t < shared; ++t)
    for (std::size_t r = 0; r < kRows; ++r) add(r, v.outer[i + static_cast<Eigen::Index>(r)] + t);
  for (std::size_t r = 0; r < kRows; ++r) {
    const auto row = i + static_cast<Eigen::Index>(r);
    for (int k = v.outer[row] + shared; k < v.outer[row + 1]; ++k) add(r, k);
  }
  return sum;
}

// The lanes [0, n) of `fresh` into `to`, its others as they were, bit for bit.
[[gnu::always_inline]] inline void first_lanes(Vector& to, Eigen::Index n, const Vector& fresh) {
  const Bits lane{0, 1, 2, 3, 4, 5, 6, 7};
  const Bits keep = lane < Bits{} + n;  // all ones where lane < n
  to = (Vector)(((Bits)fresh & keep) | ((Bits)to & ~keep));
}

// to[j] = x[j] (put) or to[j] += x[j] (add) for j < n, nothing else changed;
// `room` values from `to` on lie in its row: where they hold a vector, it is
// read and the lanes beyond n are written back as they were.
[[gnu::always_inline]] inline void put(double* to, Eigen::Index n, Eigen::Index room, const Vector& x) {
  if (n >= kLaneCount) {
    store(to, x);
  } else if (room >= kLaneCount) {
    Vector old;
    load(old, to);
    first_lanes(old, n, x);
    store(to, old);
  } else {
    for (Eigen::Index j = 0; j < n; ++j) to[j] = x[j];
  }
}

[[gnu::always_inline]] inline void add(double* to, Eigen::Index n, Eigen::Index room, const Vector& x) {
  Vector sum;
  if (n >= kLaneCount) {
    load(sum, to);
    sum += x;
    store(to, sum);
  } else if (room >= kLaneCount) {
    load(sum, to);
    first_lanes(sum, n, sum + x);
    store(to, sum);
  } else {
    for (Eigen::Index j = 0; j < n; ++j) to[j] += x[j];
  }
}

// Columns [c0, c0 + n) of a row-major matrix, the row's values in vectors.
template <std::size_t vectors, class Put>
[[gnu::always_inline]] inline void row_into(RowMatrix& m, Eigen::Index row, Eigen::Index c0, Eigen::Index n,
                                            const Lanes<vectors>& x, const Put& put_vector) {
  double* to = m.data() + row * m.cols() + c0;
  for (std::size_t c = 0; c < vectors; ++c) {
    const auto at = static_cast<Eigen::Index>(c * kLanes);
    if (at < n) put_vector(to + at, n - at, m.cols() - c0 - at, x[c]);
  }
}

// The members' sums: row owner[i] of sums += row i, for rows with an owner.
struct MemberSums {
  std::span<const int> owner;
  RowMatrix* sums;

  template <std::size_t vectors>
  void add_row(Eigen::Index i, Eigen::Index c0, Eigen::Index n, const Lanes<vectors>& x) const {
    if (!sums || owner[static_cast<std::size_t>(i)] < 0) return;
    row_into(*sums, owner[static_cast<std::size_t>(i)], c0, n, x, add);
  }
};

// apply_columns: the P&L into row i of pnl (accounts x tile), then the sums.
struct RowStore {
  RowMatrix& pnl;
  MemberSums sums;

  template <std::size_t vectors>
  void row(Eigen::Index i, Eigen::Index c0, Eigen::Index n, const Lanes<vectors>& x) const {
    row_into(pnl, i, c0, n, x, put);
    sums.add_row(i, c0, n, x);
  }
  template <std::size_t vectors>
  void rows(Eigen::Index i, Eigen::Index c0, Eigen::Index n, const Block<vectors>& x) const {
    for (std::size_t r = 0; r < kRows; ++r) row(i + static_cast<Eigen::Index>(r), c0, n, x[r]);
  }
};

// Lane l of a, b, c, d (kRows rows' values at one column) as quad l.
[[gnu::always_inline]] inline void transpose(const Vector& a, const Vector& b, const Vector& c, const Vector& d,
                                             std::array<Quad, kLanes>& quads) {
  const Vector ab0 = __builtin_shufflevector(a, b, 0, 8, 2, 10, 4, 12, 6, 14);  // a0 b0 a2 b2 ...
  const Vector ab1 = __builtin_shufflevector(a, b, 1, 9, 3, 11, 5, 13, 7, 15);  // a1 b1 a3 b3 ...
  const Vector cd0 = __builtin_shufflevector(c, d, 0, 8, 2, 10, 4, 12, 6, 14);
  const Vector cd1 = __builtin_shufflevector(c, d, 1, 9, 3, 11, 5, 13, 7, 15);
  const Vector q04 = __builtin_shufflevector(ab0, cd0, 0, 1, 8, 9, 4, 5, 12, 13);  // lanes 0 and 4
  const Vector q26 = __builtin_shufflevector(ab0, cd0, 2, 3, 10, 11, 6, 7, 14, 15);
  const Vector q15 = __builtin_shufflevector(ab1, cd1, 0, 1, 8, 9, 4, 5, 12, 13);
  const Vector q37 = __builtin_shufflevector(ab1, cd1, 2, 3, 10, 11, 6, 7, 14, 15);
  quads = {__builtin_shufflevector(q04, q04, 0, 1, 2, 3), __builtin_shufflevector(q15, q15, 0, 1, 2, 3),
           __builtin_shufflevector(q26, q26, 0, 1, 2, 3), __builtin_shufflevector(q37, q37, 0, 1, 2, 3),
           __builtin_shufflevector(q04, q04, 4, 5, 6, 7), __builtin_shufflevector(q15, q15, 4, 5, 6, 7),
           __builtin_shufflevector(q26, q26, 4, 5, 6, 7), __builtin_shufflevector(q37, q37, 4, 5, 6, 7)};
}

// apply_columns_to: element (i, j) into pnl(j, column[i]) (columns x
// accounts), then the sums. Rows of adjacent columns go a block at a time:
// each column's kRows values transposed into one quad and stored together.
struct TransposedStore {
  RowMatrix& pnl;
  std::span<const int> column;
  MemberSums sums;

  template <std::size_t vectors>
  void row(Eigen::Index i, Eigen::Index c0, Eigen::Index n, const Lanes<vectors>& x) const {
    double* to = pnl.data() + c0 * pnl.cols() + column[static_cast<std::size_t>(i)];
    for (Eigen::Index j = 0; j < n; ++j) to[j * pnl.cols()] = x[static_cast<std::size_t>(j) / kLanes][j % kLaneCount];
    sums.add_row(i, c0, n, x);
  }
  template <std::size_t vectors>
  void rows(Eigen::Index i, Eigen::Index c0, Eigen::Index n, const Block<vectors>& x) const {
    const int* at = column.data() + i;
    if (at[1] != at[0] + 1 || at[2] != at[0] + 2 || at[3] != at[0] + 3) {
      for (std::size_t r = 0; r < kRows; ++r) row(i + static_cast<Eigen::Index>(r), c0, n, x[r]);
      return;
    }
    static_assert(kRows == 4);
    for (std::size_t c = 0; c < vectors; ++c) {
      std::array<Quad, kLanes> quads;
      transpose(x[0][c], x[1][c], x[2][c], x[3][c], quads);
      for (std::size_t l = 0; l < kLanes; ++l) {
        const auto j = static_cast<Eigen::Index>(c * kLanes + l);
        if (j < n) std::memcpy(pnl.data() + (c0 + j) * pnl.cols() + at[0], &quads[l], sizeof(Quad));
      }
    }
    for (std::size_t r = 0; r < kRows; ++r) sums.add_row(i + static_cast<Eigen::Index>(r), c0, n, x[r]);
  }
};

}  // namespace

Revaluation::Revaluation(const Eigen::MatrixXd& values) {
  const double nnz = static_cast<double>((values.array() != 0.0).count());
  const double size = static_cast<double>(values.size());
  // Compressed rows pay off below about a third of the entries; above, the
  // blocked dense product is faster.
  sparse_ = size == 0.0 || nnz < size / 3.0;
  if (sparse_) {
    csr_ = values.sparseView();
    csr_.makeCompressed();
    flops_per_column_ = 2.0 * nnz;
  } else {
    dense_ = values;
    flops_per_column_ = 2.0 * size;
  }
}

void Revaluation::apply(const RowMatrix& returns, RowMatrix& pnl, std::span<const int> owner, RowMatrix* sums) const {
  const Eigen::Index cols = returns.cols();
  if (!sparse_) {
    pnl.noalias() = dense_ * returns;
    if (sums)
      for (Eigen::Index i = 0; i < pnl.rows(); ++i)
        if (owner[static_cast<std::size_t>(i)] >= 0) sums->row(owner[static_cast<std::size_t>(i)]) += pnl.row(i);
    return;
  }
  if (cols != static_cast<Eigen::Index>(kLanes * kVectors)) {
    apply_columns(returns, 0, cols, pnl);
    if (sums)
      for (Eigen::Index i = 0; i < pnl.rows(); ++i)
        if (owner[static_cast<std::size_t>(i)] >= 0) sums->row(owner[static_cast<std::size_t>(i)]) += pnl.row(i);
    return;
  }
  const Rows v{csr_.outerIndexPtr(), csr_.innerIndexPtr(), csr_.valuePtr()};
  for (Eigen::Index i = 0; i < csr_.rows(); ++i) {
    double* out = pnl.data() + i * cols;
    const Lanes<kVectors> row = row_lanes<kVectors>(v, returns.data(), cols, i);
    std::memcpy(out, row.data(), sizeof(row));
    // The row's sum while it is in the cache.
    if (sums && owner[static_cast<std::size_t>(i)] >= 0) {
      double* sum = sums->data() + static_cast<Eigen::Index>(owner[static_cast<std::size_t>(i)]) * cols;
      for (Eigen::Index j = 0; j < cols; ++j) sum[j] += out[j];
    }
  }
}

void Revaluation::pack(const RowMatrix& returns, Eigen::Index c0, Eigen::Index n, Eigen::Index width) const {
  const Eigen::Index n_assets = returns.rows(), cols = returns.cols();
  packed_.assign(static_cast<std::size_t>(n_assets * width), 0.0);
  for (Eigen::Index a = 0; a < n_assets; ++a)
    std::copy_n(returns.data() + a * cols + c0, n, packed_.data() + a * width);
}

// One chunk of n <= kLanes x `vectors` columns from c0 on, copied
// (zero-padded) into packed_ first, through the same accumulation as the
// whole tile: kRows rows at a time into sink.rows, the rows left one by one
// into sink.row, the values in vector registers.
template <std::size_t vectors, class Sink>
void Revaluation::chunk_product(const RowMatrix& returns, Eigen::Index c0, Eigen::Index n, const Sink& sink) const {
  constexpr auto width = static_cast<Eigen::Index>(kLanes * vectors);
  const Rows v{csr_.outerIndexPtr(), csr_.innerIndexPtr(), csr_.valuePtr()};
  pack(returns, c0, n, width);
  Eigen::Index i = 0;
  constexpr auto rows = static_cast<Eigen::Index>(kRows);
  for (; i + rows <= csr_.rows(); i += rows) sink.rows(i, c0, n, rows_lanes<vectors>(v, packed_.data(), i));
  for (; i < csr_.rows(); ++i) sink.row(i, c0, n, row_lanes<vectors>(v, packed_.data(), width, i));
}

// Chunks of kLanes x kNarrow columns (a last chunk of at most kLanes columns
// by one vector: every element's accumulation is the same whatever the
// chunk's width, so the numbers are too).
template <class Sink>
void Revaluation::columns_product(const RowMatrix& returns, Eigen::Index first, Eigen::Index last,
                                  const Sink& sink) const {
  constexpr auto width = static_cast<Eigen::Index>(kLanes * kNarrow);
  for (Eigen::Index c0 = first; c0 < last; c0 += width) {
    const Eigen::Index n = std::min(width, last - c0);
    if (n <= kLaneCount)
      chunk_product<1>(returns, c0, n, sink);
    else
      chunk_product<kNarrow>(returns, c0, n, sink);
  }
}

void Revaluation::apply_columns(const RowMatrix& returns, Eigen::Index first, Eigen::Index last, RowMatrix& pnl,
                                std::span<const int> owner, RowMatrix* sums) const {
  columns_product(returns, first, last, RowStore{pnl, {owner, sums}});
}

// Most of a whole tile (from its first column on): each row over the whole
// tile by apply's row_lanes, which costs less than the narrow chunks (their
// index and broadcast per entry are shared by 8 vectors, not 2).
void Revaluation::apply_columns_to(const RowMatrix& returns, Eigen::Index first, Eigen::Index last, RowMatrix& pnl,
                                   std::span<const int> row_column, std::span<const int> owner, RowMatrix* sums) const {
  const TransposedStore store{pnl, row_column, {owner, sums}};
  constexpr auto tile = static_cast<Eigen::Index>(kLanes * kVectors);
  if (first == 0 && last > tile / 2 && returns.cols() == tile) {
    const Rows v{csr_.outerIndexPtr(), csr_.innerIndexPtr(), csr_.valuePtr()};
    constexpr auto rows = static_cast<Eigen::Index>(kRows);
    Eigen::Index i = 0;
    for (; i + rows <= csr_.rows(); i += rows) {  // a row at a time, stored a block at a time
      Block<kVectors> block;
      for (std::size_t r = 0; r < kRows; ++r)
        block[r] = row_lanes<kVectors>(v, returns.data(), tile, i + static_cast<Eigen::Index>(r));
      store.rows(i, 0, last, block);
    }
    for (; i < csr_.rows(); ++i) store.row(i, 0, last, row_lanes<kVectors>(v, returns.data(), tile, i));
    return;
  }
  columns_product(returns, first, last, store);
}

void Revaluation::add_row_sums(const RowMatrix& returns, Eigen::Index first, Eigen::Index last,
                               std::span<const int> rows, std::span<const int> owner, RowMatrix& sums) const {
  constexpr auto width = static_cast<Eigen::Index>(kLanes * kNarrow);
  const Rows v{csr_.outerIndexPtr(), csr_.innerIndexPtr(), csr_.valuePtr()};
  const MemberSums members{owner, &sums};
  for (Eigen::Index c0 = first; c0 < last; c0 += width) {
    const Eigen::Index n = std::min(width, last - c0);
    pack(returns, c0, n, width);
    for (const int i : rows) members.add_row(i, c0, n, row_lanes<kNarrow>(v, packed_.data(), width, i));
  }
}

}  // namespace ccpnet
