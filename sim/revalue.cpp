#include "sim/revalue.hpp"

#include <array>
#include <cstring>

namespace ccpnet {

// Columns [first, last) of row i of the product into out: one accumulation
// per element over the row's entries in their order.
inline void Revaluation::row_product(const RowMatrix& returns, Eigen::Index i, Eigen::Index first, Eigen::Index last,
                                     double* out) const {
  const Eigen::Index cols = returns.cols();
  const double* r = returns.data();
  const int* outer = csr_.outerIndexPtr();
  const int* inner = csr_.innerIndexPtr();
  const double* value = csr_.valuePtr();
  for (Eigen::Index j = first; j < last; ++j) out[j] = 0.0;
  for (int k = outer[i]; k < outer[i + 1]; ++k) {
    const double v = value[k];
    const double* row = r + static_cast<Eigen::Index>(inner[k]) * cols;
    for (Eigen::Index j = first; j < last; ++j) out[j] += v * row[j];
  }
}

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

// Row i of the product over a tile of kLanes x kVectors columns into out:
// the sums of row_product, each element by the same sequence of operations,
// kept in vector registers while the row's entries are added.
void Revaluation::tile_row_product(const RowMatrix& returns, Eigen::Index i, double* out) const {
  using Vector = double __attribute__((vector_size(kLanes * sizeof(double))));
  constexpr Eigen::Index cols = kLanes * kVectors;
  const double* r = returns.data();
  const int* inner = csr_.innerIndexPtr();
  const double* value = csr_.valuePtr();
  std::array<Vector, kVectors> sum{};
  for (int k = csr_.outerIndexPtr()[i]; k < csr_.outerIndexPtr()[i + 1]; ++k) {
    const double v = value[k];
    const double* row = r + static_cast<Eigen::Index>(inner[k]) * cols;
    for (std::size_t c = 0; c < kVectors; ++c) {
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
  for (Eigen::Index i = 0; i < csr_.rows(); ++i) {
    double* out = pnl.data() + i * cols;
    if (cols == static_cast<Eigen::Index>(kLanes * kVectors))
      tile_row_product(returns, i, out);
    else
      row_product(returns, i, 0, cols, out);
    // The row's sum while it is in the cache.
    if (sums && owner[static_cast<std::size_t>(i)] >= 0) {
      double* sum = sums->data() + static_cast<Eigen::Index>(owner[static_cast<std::size_t>(i)]) * cols;
      for (Eigen::Index j = 0; j < cols; ++j) sum[j] += out[j];
    }
  }
}

void Revaluation::apply_columns(const RowMatrix& returns, Eigen::Index first, Eigen::Index last, RowMatrix& pnl) const {
  for (Eigen::Index i = 0; i < csr_.rows(); ++i) row_product(returns, i, first, last, pnl.data() + i * returns.cols());
}

}  // namespace ccpnet
