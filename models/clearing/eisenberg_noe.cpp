#include "models/clearing/eisenberg_noe.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "models/clearing/relative_liabilities.hpp"

namespace ccpnet::models {
namespace {

using detail::DenseRelativeLiabilities;
using detail::SparseRelativeLiabilities;

void check_options(const EisenbergNoeOptions& options) {
  if (!(options.tolerance >= 0.0)) {
    std::ostringstream message;
    message << "Eisenberg-Noe tolerance must be >= 0, got " << options.tolerance;
    throw std::invalid_argument(message.str());
  }
  if (options.max_iterations < 1)
    throw std::invalid_argument("Eisenberg-Noe max_iterations must be >= 1, got " +
                                std::to_string(options.max_iterations));
}

// The network as the solvers see it: x = min(cap, max(0, assets + Pi' x)), where x and cap are the total
// payments and obligations (pari passu), or the interbank payments and obligations (senior external debt,
// then assets = e - d and Pi = L / interbank obligations).
template <class Relative>
struct Network {
  Relative pi;
  Eigen::VectorXd pbar;      // total obligations: interbank + external
  Eigen::VectorXd external;  // d (zeros when there is none)
  Eigen::VectorXd cap;
  bool senior = false;
};

template <class Relative, class Liabilities>
Network<Relative> make_network(const Liabilities& liabilities, const VectorRef& external_debt, DebtPriority priority) {
  Eigen::VectorXd interbank = detail::interbank_obligations(liabilities);
  Eigen::VectorXd external = detail::external_debt_or_zero(external_debt, interbank.size());
  const bool senior = priority == DebtPriority::kSenior;
  Eigen::VectorXd pbar = interbank + external;
  Eigen::VectorXd cap = senior ? std::move(interbank) : pbar;
  Relative pi(liabilities, cap);
  return Network<Relative>{std::move(pi), std::move(pbar), std::move(external), std::move(cap), senior};
}

// Fictitious default (Eisenberg and Noe 2001, Sec. 3) made safe for negative assets. Every iterate p is an
// upper bound of the greatest fixed point p* and Phi(p) <= p, with Phi(p) = min(cap, max(0, assets + Pi' p)):
// each round takes Phi(p), classifies the banks at p into those paying in full (F), nothing (Z) and a part (D),
// and solves p_D = assets_D + Pi'_D (cap_F, 0_Z, p_D). When that solution is non-negative it is again an
// upper bound of p* (with D, F, Z read at an upper bound), so the next iterate is the smaller of the two; when
// the states read at p are those of p*, the solution is p* itself and the next round confirms it. Without
// the floor (assets >= 0) this is exactly the fictitious default algorithm and ends in at most n + 1 rounds.
template <class Relative>
int greatest_fixed_point(const Relative& pi, const Eigen::VectorXd& cap, const Eigen::VectorXd& assets,
                         const EisenbergNoeOptions& options, Eigen::VectorXd& p, bool& converged) {
  const Eigen::Index n = cap.size();
  const Eigen::ArrayXd threshold = options.tolerance * cap.array();
  p = cap;
  converged = false;
  std::vector<Eigen::Index> partial;
  Eigen::VectorXd full(n);
  for (int iteration = 1; iteration <= options.max_iterations; ++iteration) {
    const Eigen::VectorXd value = assets + pi.receipts(p);
    Eigen::VectorXd next = value.cwiseMax(0.0).cwiseMin(cap);
    if (((p - next).array().abs() <= threshold).all()) {
      p = std::move(next);
      converged = true;
      return iteration;
    }
    partial.clear();
    for (Eigen::Index i = 0; i < n; ++i) {
      if (value[i] >= cap[i]) {
        full[i] = cap[i];
      } else {
        full[i] = 0.0;
        if (value[i] > 0.0) partial.push_back(i);
      }
    }
    if (!partial.empty()) {
      const Eigen::VectorXd rhs = (assets + pi.receipts(full))(partial);
      Eigen::VectorXd x;
      if (pi.solve(partial, 1.0, rhs, x) && (x.array() >= -threshold(partial)).all()) {
        for (std::size_t k = 0; k < partial.size(); ++k) {
          const Eigen::Index i = partial[k];
          next[i] = std::min(next[i], std::max(0.0, x[static_cast<Eigen::Index>(k)]));
        }
      }
    }
    p = std::move(next);
  }
  return options.max_iterations;
}

// Total payments from the solver's x (see Network).
template <class Relative>
Eigen::VectorXd total_payments(const Network<Relative>& net, const VectorRef& external_assets, const Eigen::VectorXd& x,
                               const Eigen::VectorXd& receipts) {
  if (!net.senior) return x;
  return (external_assets + receipts).cwiseMax(0.0).cwiseMin(net.external) + x;
}

template <class Relative>
ClearingResult clear_network(const Network<Relative>& net, const VectorRef& external_assets,
                             const EisenbergNoeOptions& options) {
  detail::check_per_bank(external_assets, net.cap.size(), "external assets", false);
  Eigen::VectorXd assets = external_assets;
  if (net.senior) assets -= net.external;

  ClearingResult result;
  Eigen::VectorXd x;
  result.iterations = greatest_fixed_point(net.pi, net.cap, assets, options, x, result.converged);
  const Eigen::VectorXd receipts = net.pi.receipts(x);
  result.payments = total_payments(net, external_assets, x, receipts);
  result.equity = (external_assets + receipts - net.pbar).cwiseMax(0.0);
  result.defaulted = result.payments.array() < net.pbar.array();
  return result;
}

template <class Relative, class Liabilities>
ClearingResult clear_one(const Liabilities& liabilities, const VectorRef& external_assets,
                         const VectorRef& external_debt, const EisenbergNoeOptions& options) {
  check_options(options);
  return clear_network(make_network<Relative>(liabilities, external_debt, options.external_debt_priority),
                       external_assets, options);
}

// Scenarios iterated side by side, one per SIMD lane: state is stored bank-major (row i holds bank i in every
// lane), so each step below is a kLanes-wide vector operation.
constexpr int kLanes = 8;
using LaneMatrix = Eigen::Array<double, Eigen::Dynamic, kLanes, Eigen::RowMajor>;
using LaneRow = Eigen::Array<double, 1, kLanes>;

// Receipts r = Pi' x kept up to date as payments change: r(j, :) += Pi'(j, i) dx(i, :). Sparse: when few banks
// changed, their changes are scattered to their creditors (columns of Pi', stored compressed by column); when
// many changed, each creditor gathers from its debtors along its row of Pi' (a compressed-row copy), which
// costs one pass over Pi' but only loads and no scattered stores.
class SparseReceipts {
 public:
  explicit SparseReceipts(const SparseRelativeLiabilities& pi)
      : by_debtor_(pi.transposed()), by_creditor_(pi.transposed()) {}

  void update(const std::vector<Eigen::Index>& changed, const LaneMatrix& dx, LaneMatrix& r) const {
    const int* outer = by_debtor_.outerIndexPtr();
    std::size_t touched = 0;
    for (const Eigen::Index i : changed) touched += static_cast<std::size_t>(outer[i + 1] - outer[i]);
    if (3 * touched < static_cast<std::size_t>(by_debtor_.nonZeros()))
      scatter(changed, dx, r);
    else
      gather(dx, r);
  }

 private:
  void scatter(const std::vector<Eigen::Index>& changed, const LaneMatrix& dx, LaneMatrix& r) const {
    const int* outer = by_debtor_.outerIndexPtr();
    const int* inner = by_debtor_.innerIndexPtr();
    const double* values = by_debtor_.valuePtr();
    for (const Eigen::Index i : changed) {
      const LaneRow d = dx.row(i);
      for (int k = outer[i]; k < outer[i + 1]; ++k) r.row(inner[k]) += values[k] * d;
    }
  }

  // dx is zero for the banks that did not change, so summing over every debtor is exact.
  void gather(const LaneMatrix& dx, LaneMatrix& r) const {
    const int* outer = by_creditor_.outerIndexPtr();
    const int* inner = by_creditor_.innerIndexPtr();
    const double* values = by_creditor_.valuePtr();
    for (Eigen::Index j = 0; j < by_creditor_.rows(); ++j) {
      if (outer[j] == outer[j + 1]) continue;
      LaneRow sum = LaneRow::Zero();
      for (int k = outer[j]; k < outer[j + 1]; ++k) sum += values[k] * dx.row(inner[k]);
      r.row(j) += sum;
    }
  }

  const Eigen::SparseMatrix<double>& by_debtor_;              // Pi', compressed columns
  Eigen::SparseMatrix<double, Eigen::RowMajor> by_creditor_;  // Pi', compressed rows
};

// Dense: scatter the changed banks, four at a time (four FMAs per load and store of r(j, :)).
class DenseReceipts {
 public:
  explicit DenseReceipts(const DenseRelativeLiabilities& pi) : pi_t_(pi.transposed()) {}

  void update(const std::vector<Eigen::Index>& changed, const LaneMatrix& dx, LaneMatrix& r) const {
    const Eigen::Index n = pi_t_.rows();
    std::size_t k = 0;
    for (; k + 4 <= changed.size(); k += 4) {
      const double* w0 = pi_t_.col(changed[k]).data();
      const double* w1 = pi_t_.col(changed[k + 1]).data();
      const double* w2 = pi_t_.col(changed[k + 2]).data();
      const double* w3 = pi_t_.col(changed[k + 3]).data();
      const LaneRow d0 = dx.row(changed[k]);
      const LaneRow d1 = dx.row(changed[k + 1]);
      const LaneRow d2 = dx.row(changed[k + 2]);
      const LaneRow d3 = dx.row(changed[k + 3]);
      for (Eigen::Index j = 0; j < n; ++j) r.row(j) += w0[j] * d0 + w1[j] * d1 + w2[j] * d2 + w3[j] * d3;
    }
    for (; k < changed.size(); ++k) {
      const double* w = pi_t_.col(changed[k]).data();
      const LaneRow d = dx.row(changed[k]);
      for (Eigen::Index j = 0; j < n; ++j) r.row(j) += w[j] * d;
    }
  }

 private:
  const Eigen::MatrixXd& pi_t_;
};

template <class Relative>
using ReceiptsOf =
    std::conditional_t<std::is_same_v<Relative, SparseRelativeLiabilities>, SparseReceipts, DenseReceipts>;

// Jacobi iteration x_k+1 = min(cap, max(0, assets + Pi' x_k)) from x_0 = cap for every scenario, stopped when
// no payment moves by more than tolerance * cap. kLanes scenarios run side by side; a lane whose scenario has
// converged takes the next scenario at once. Pi' x_0 is computed once for all; afterwards the receipts
// r = Pi' x are updated with the changes of the payments only (see SparseReceipts). Each lane follows the
// iterates of the plain Jacobi iteration of its scenario (up to the rounding of the updates of r).
template <class Relative>
BatchClearingResult clear_batch(const Network<Relative>& net, const DenseMatrixRef& external_assets,
                                const EisenbergNoeOptions& options) {
  const Eigen::Index n = net.cap.size();
  if (external_assets.rows() != n)
    throw std::invalid_argument("external assets must have one row per bank (one column per scenario): got " +
                                std::to_string(external_assets.rows()) + " rows, expected " + std::to_string(n));
  const Eigen::Index scenarios = external_assets.cols();

  BatchClearingResult out;
  out.payments.resize(n, scenarios);
  out.iterations.resize(scenarios);
  out.converged = true;

  const Eigen::VectorXd& cap = net.cap;
  const Eigen::VectorXd threshold = options.tolerance * cap;
  const Eigen::VectorXd receipts_at_cap = net.pi.receipts(cap);
  const ReceiptsOf<Relative> receipts(net.pi);

  LaneMatrix x(n, kLanes), r(n, kLanes), assets(n, kLanes), dx(n, kLanes);
  std::array<Eigen::Index, kLanes> scenario{};
  std::array<int, kLanes> iteration{};
  Eigen::Index next_scenario = 0;
  int busy = 0;

  // Puts the next scenario in lane l, or parks the lane (assets = cap: its payments never move).
  const auto load = [&](int l) {
    x.col(l) = cap.array();
    r.col(l) = receipts_at_cap.array();
    if (next_scenario < scenarios) {
      scenario[l] = next_scenario;
      iteration[l] = 0;
      assets.col(l) = external_assets.col(next_scenario).array();
      if (!assets.col(l).allFinite()) {
        Eigen::Index i = 0;
        while (std::isfinite(assets(i, l))) ++i;
        throw std::invalid_argument("external assets of bank " + std::to_string(i) + " in scenario " +
                                    std::to_string(next_scenario) + " is not a finite number");
      }
      if (net.senior) assets.col(l) -= net.external.array();
      ++next_scenario;
      ++busy;
    } else {
      scenario[l] = -1;
      assets.col(l) = cap.array();
    }
  };
  for (int l = 0; l < kLanes; ++l) load(l);

  std::vector<Eigen::Index> changed;
  changed.reserve(static_cast<std::size_t>(n));
  while (busy > 0) {
    LaneRow excess = LaneRow::Constant(-1.0);  // max over banks of |dx| - threshold: a lane moves while > 0
    changed.clear();
    for (Eigen::Index i = 0; i < n; ++i) {
      const LaneRow next = (assets.row(i) + r.row(i)).max(0.0).min(cap[i]);
      const LaneRow d = next - x.row(i);
      x.row(i) = next;
      dx.row(i) = d;
      const LaneRow size = d.abs();
      excess = excess.max(size - threshold[i]);
      if (size.maxCoeff() > 0.0) changed.push_back(i);
    }
    receipts.update(changed, dx, r);  // r = Pi' x again, also for the lanes about to finish
    for (int l = 0; l < kLanes; ++l) {
      const Eigen::Index s = scenario[l];
      if (s < 0) continue;
      int& k = iteration[l];
      ++k;
      const bool moving = excess[l] > 0.0;
      if (moving && k < options.max_iterations) continue;
      if (net.senior) {
        out.payments.col(s) =
            (external_assets.col(s) + r.col(l).matrix()).cwiseMax(0.0).cwiseMin(net.external) + x.col(l).matrix();
      } else {
        out.payments.col(s) = x.col(l).matrix();
      }
      out.iterations[s] = k;
      out.converged = out.converged && !moving;
      --busy;
      load(l);
    }
  }
  return out;
}

template <class Relative, class Liabilities>
BatchClearingResult clear_many(const Liabilities& liabilities, const DenseMatrixRef& external_assets,
                               const VectorRef& external_debt, const EisenbergNoeOptions& options) {
  check_options(options);
  const auto net = make_network<Relative>(liabilities, external_debt, options.external_debt_priority);
  return clear_batch(net, external_assets, options);
}

}  // namespace

ClearingResult eisenberg_noe(const DenseMatrixRef& liabilities, const VectorRef& external_assets,
                             const VectorRef& external_debt, const EisenbergNoeOptions& options) {
  return clear_one<DenseRelativeLiabilities>(liabilities, external_assets, external_debt, options);
}

ClearingResult eisenberg_noe(const Eigen::SparseMatrix<double>& liabilities, const VectorRef& external_assets,
                             const VectorRef& external_debt, const EisenbergNoeOptions& options) {
  return clear_one<SparseRelativeLiabilities>(liabilities, external_assets, external_debt, options);
}

ClearingResult eisenberg_noe(const Eigen::SparseMatrix<double, Eigen::RowMajor>& liabilities,
                             const VectorRef& external_assets, const VectorRef& external_debt,
                             const EisenbergNoeOptions& options) {
  return clear_one<SparseRelativeLiabilities>(liabilities, external_assets, external_debt, options);
}

BatchClearingResult eisenberg_noe_batch(const DenseMatrixRef& liabilities, const DenseMatrixRef& external_assets,
                                        const VectorRef& external_debt, const EisenbergNoeOptions& options) {
  return clear_many<DenseRelativeLiabilities>(liabilities, external_assets, external_debt, options);
}

BatchClearingResult eisenberg_noe_batch(const Eigen::SparseMatrix<double>& liabilities,
                                        const DenseMatrixRef& external_assets, const VectorRef& external_debt,
                                        const EisenbergNoeOptions& options) {
  return clear_many<SparseRelativeLiabilities>(liabilities, external_assets, external_debt, options);
}

BatchClearingResult eisenberg_noe_batch(const Eigen::SparseMatrix<double, Eigen::RowMajor>& liabilities,
                                        const DenseMatrixRef& external_assets, const VectorRef& external_debt,
                                        const EisenbergNoeOptions& options) {
  return clear_many<SparseRelativeLiabilities>(liabilities, external_assets, external_debt, options);
}

struct EisenbergNoeNetwork::Prepared {
  Network<SparseRelativeLiabilities> net;
  EisenbergNoeOptions options;
};

EisenbergNoeNetwork::EisenbergNoeNetwork(const Eigen::SparseMatrix<double, Eigen::RowMajor>& liabilities,
                                         const VectorRef& external_debt, const EisenbergNoeOptions& options) {
  check_options(options);
  prepared_ = std::make_shared<const Prepared>(Prepared{
      make_network<SparseRelativeLiabilities>(liabilities, external_debt, options.external_debt_priority), options});
}

ClearingResult EisenbergNoeNetwork::clear(const VectorRef& external_assets) const {
  return clear_network(prepared_->net, external_assets, prepared_->options);
}

}  // namespace ccpnet::models
