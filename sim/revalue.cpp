#include "sim/revalue.hpp"

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

void Revaluation::apply(const RowMatrix& returns, RowMatrix& pnl) const {
  const Eigen::Index cols = returns.cols();
  if (!sparse_) {
    pnl.noalias() = dense_ * returns;
    return;
  }
  const double* r = returns.data();
  const int* outer = csr_.outerIndexPtr();
  const int* inner = csr_.innerIndexPtr();
  const double* value = csr_.valuePtr();
  for (Eigen::Index i = 0; i < csr_.rows(); ++i) {
    double* out = pnl.data() + i * cols;
    for (Eigen::Index j = 0; j < cols; ++j) out[j] = 0.0;
    for (int k = outer[i]; k < outer[i + 1]; ++k) {
      const double v = value[k];
      const double* row = r + static_cast<Eigen::Index>(inner[k]) * cols;
      for (Eigen::Index j = 0; j < cols; ++j) out[j] += v * row[j];
    }
  }
}

}  // namespace ccpnet
