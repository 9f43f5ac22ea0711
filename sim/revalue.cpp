#include "sim/revalue.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace ccpnet {

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

// Row i of the product over kLanes x vectors columns of `returns` (a row of
// `stride` values per asset) into out: one accumulation per element over the
// row's entries in their order, kept in vector registers. Every width adds
// the same products in the same order to each element, so the numbers do not
// depend on the width.
template <std::size_t vectors>
[[gnu::always_inline]] inline void Revaluation::row_product(const double* returns, Eigen::Index stride, Eigen::Index i,
                                                            double* out) const {
  using Vector = double __attribute__((vector_size(kLanes * sizeof(double))));
  const int* inner = csr_.innerIndexPtr();
  const double* value = csr_.valuePtr();
  std::array<Vector, vectors> sum{};
  for (int k = csr_.outerIndexPtr()[i]; k < csr_.outerIndexPtr()[i + 1]; ++k) {
    const double v = value[k];
    const double* row = returns + static_cast<Eigen::Index>(inner[k]) * stride;
    for (std::size_t c = 0; c < vectors; ++c) {
      Vector x;
      std::memcpy(&x, row + c * kLanes, sizeof(Vector));
      sum[c] += v * x;
    }
  }
  std::memcpy(out, sum.data(), sizeof(sum));
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
  for (Eigen::Index i = 0; i < csr_.rows(); ++i) {
    double* out = pnl.data() + i * cols;
    row_product<kVectors>(returns.data(), cols, i, out);
    // The row's sum while it is in the cache.
    if (sums && owner[static_cast<std::size_t>(i)] >= 0) {
      double* sum = sums->data() + static_cast<Eigen::Index>(owner[static_cast<std::size_t>(i)]) * cols;
      for (Eigen::Index j = 0; j < cols; ++j) sum[j] += out[j];
    }
  }
}

// Rows [i, i + kRows) of the product over kLanes x `vectors` columns of
// packed_ (the narrow chunks), interleaved: each row's accumulation is
// row_product's (its entries in their order), the rows' chains side by side
// so that they overlap instead of waiting on one another.
template <std::size_t vectors>
[[gnu::always_inline]] inline void Revaluation::rows_product(const double* returns, Eigen::Index i,
                                                             NarrowRows* outs) const {
  using Vector = double __attribute__((vector_size(kLanes * sizeof(double))));
  constexpr auto width = static_cast<Eigen::Index>(kLanes * vectors);
  const int* outer = csr_.outerIndexPtr();
  const int* inner = csr_.innerIndexPtr();
  const double* value = csr_.valuePtr();
  std::array<std::array<Vector, vectors>, kRows> sum{};
  const auto add = [&](std::size_t r, int k) {
    const double* row = returns + static_cast<Eigen::Index>(inner[k]) * width;
    for (std::size_t c = 0; c < vectors; ++c) {
      Vector x;
      std::memcpy(&x, row + c * kLanes, sizeof(Vector));
      sum[r][c] += value[k] * x;
    }
  };
  int shared = outer[i + 1] - outer[i];
  for (Eigen::Index r = i + 1; r < i + static_cast<Eigen::Index>(kRows); ++r)
    shared = std::min(shared, outer[r + 1] - outer[r]);
  for (int t = 0; t < shared; ++t)
    for (std::size_t r = 0; r < kRows; ++r) add(r, outer[i + static_cast<Eigen::Index>(r)] + t);
  for (std::size_t r = 0; r < kRows; ++r) {
    const auto row = i + static_cast<Eigen::Index>(r);
    for (int k = outer[row] + shared; k < outer[row + 1]; ++k) add(r, k);
    std::memcpy((*outs)[r].data(), sum[r].data(), sizeof(sum[r]));
  }
}

// Row i's n values from column c0 on (out, `width` values) into its owner's row of sums.
template <std::size_t width>
[[gnu::always_inline]] inline void Revaluation::add_to_sums(std::span<const int> owner, RowMatrix* sums, Eigen::Index i,
                                                            Eigen::Index c0, Eigen::Index n, const double* out) {
  if (!sums || owner[static_cast<std::size_t>(i)] < 0) return;
  double* sum = sums->data() + static_cast<Eigen::Index>(owner[static_cast<std::size_t>(i)]) * sums->cols() + c0;
  for (Eigen::Index j = 0; j < static_cast<Eigen::Index>(width); ++j)
    if (j < n) sum[j] += out[j];
}

void Revaluation::pack(const RowMatrix& returns, Eigen::Index c0, Eigen::Index n, Eigen::Index width) const {
  const Eigen::Index n_assets = returns.rows(), cols = returns.cols();
  packed_.assign(static_cast<std::size_t>(n_assets * width), 0.0);
  for (Eigen::Index a = 0; a < n_assets; ++a)
    std::copy_n(returns.data() + a * cols + c0, n, packed_.data() + a * width);
}

// One chunk of n <= kLanes x `vectors` columns from c0 on, copied
// (zero-padded) into packed_ first, through the same accumulation as the
// whole tile: store(i, c0, n, out) gets row i's n values.
template <std::size_t vectors, class Store>
void Revaluation::chunk_product(const RowMatrix& returns, Eigen::Index c0, Eigen::Index n, const Store& store) const {
  constexpr auto width = static_cast<Eigen::Index>(kLanes * vectors);
  std::array<double, kLanes * kNarrow> out{};
  NarrowRows outs{};
  pack(returns, c0, n, width);
  Eigen::Index i = 0;
  constexpr auto rows = static_cast<Eigen::Index>(kRows);
  for (; i + rows <= csr_.rows(); i += rows) {
    rows_product<vectors>(packed_.data(), i, &outs);
    for (std::size_t r = 0; r < kRows; ++r) store(i + static_cast<Eigen::Index>(r), c0, n, outs[r].data());
  }
  for (; i < csr_.rows(); ++i) {
    row_product<vectors>(packed_.data(), width, i, out.data());
    store(i, c0, n, out.data());
  }
}

// Chunks of kLanes x kNarrow columns (a last chunk of at most kLanes columns
// by one vector: every element's accumulation is the same whatever the
// chunk's width, so the numbers are too).
template <class Store>
void Revaluation::columns_product(const RowMatrix& returns, Eigen::Index first, Eigen::Index last,
                                  const Store& store) const {
  constexpr auto width = static_cast<Eigen::Index>(kLanes * kNarrow);
  for (Eigen::Index c0 = first; c0 < last; c0 += width) {
    const Eigen::Index n = std::min(width, last - c0);
    if (n <= static_cast<Eigen::Index>(kLanes))
      chunk_product<1>(returns, c0, n, store);
    else
      chunk_product<kNarrow>(returns, c0, n, store);
  }
}

void Revaluation::apply_columns(const RowMatrix& returns, Eigen::Index first, Eigen::Index last, RowMatrix& pnl,
                                std::span<const int> owner, RowMatrix* sums) const {
  constexpr auto width = static_cast<Eigen::Index>(kLanes * kNarrow);
  columns_product(returns, first, last, [&](Eigen::Index i, Eigen::Index c0, Eigen::Index n, const double* out) {
    double* to = pnl.data() + i * pnl.cols() + c0;
    for (Eigen::Index j = 0; j < width; ++j)  // a fixed trip count: no call to memmove per row
      if (j < n) to[j] = out[j];
    add_to_sums<kLanes * kNarrow>(owner, sums, i, c0, n, out);
  });
}

// Most of a whole tile (from its first column on): each row over the whole
// tile by apply's row_product, which costs less than the narrow chunks
// (their index and broadcast per entry are shared by 8 vectors, not 2).
void Revaluation::apply_columns_to(const RowMatrix& returns, Eigen::Index first, Eigen::Index last, RowMatrix& pnl,
                                   std::span<const int> row_column, std::span<const int> owner, RowMatrix* sums) const {
  const auto store = [&](Eigen::Index i, Eigen::Index c0, Eigen::Index n, const double* out) {
    double* to = pnl.data() + c0 * pnl.cols() + row_column[static_cast<std::size_t>(i)];
    for (Eigen::Index j = 0; j < n; ++j) to[j * pnl.cols()] = out[j];
  };
  constexpr auto tile = static_cast<Eigen::Index>(kLanes * kVectors);
  if (first == 0 && last > tile / 2 && returns.cols() == tile) {
    std::array<double, kLanes * kVectors> out{};
    for (Eigen::Index i = 0; i < csr_.rows(); ++i) {
      row_product<kVectors>(returns.data(), tile, i, out.data());
      store(i, 0, last, out.data());
      add_to_sums<kLanes * kVectors>(owner, sums, i, 0, last, out.data());
    }
    return;
  }
  columns_product(returns, first, last, [&](Eigen::Index i, Eigen::Index c0, Eigen::Index n, const double* out) {
    store(i, c0, n, out);
    add_to_sums<kLanes * kNarrow>(owner, sums, i, c0, n, out);
  });
}

void Revaluation::add_row_sums(const RowMatrix& returns, Eigen::Index first, Eigen::Index last,
                               std::span<const int> rows, std::span<const int> owner, RowMatrix& sums) const {
  constexpr auto width = static_cast<Eigen::Index>(kLanes * kNarrow);
  std::array<double, kLanes * kNarrow> out{};
  for (Eigen::Index c0 = first; c0 < last; c0 += width) {
    const Eigen::Index n = std::min(width, last - c0);
    pack(returns, c0, n, width);
    for (const int i : rows) {
      row_product<kNarrow>(packed_.data(), width, i, out.data());
      add_to_sums<kLanes * kNarrow>(owner, &sums, i, c0, n, out.data());
    }
  }
}

}  // namespace ccpnet
