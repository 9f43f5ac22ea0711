#include "models/clearing/debtrank.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "models/clearing/relative_liabilities.hpp"

namespace ccpnet::models {
namespace {

void check_impact(const DenseMatrixRef& impact) {
  if (impact.rows() != impact.cols())
    throw std::invalid_argument("impact matrix must be square (one row and one column per bank), got " +
                                std::to_string(impact.rows()) + " x " + std::to_string(impact.cols()));
  for (Eigen::Index j = 0; j < impact.cols(); ++j)
    for (Eigen::Index i = 0; i < impact.rows(); ++i) {
      const double w = impact(i, j);
      if (!std::isfinite(w) || w < 0.0) {
        std::ostringstream message;
        message << "impact of bank " << i << " on bank " << j << " must be a non-negative number, got " << w;
        throw std::invalid_argument(message.str());
      }
    }
}

void check_distress(const VectorRef& h0, Eigen::Index banks) {
  detail::check_per_bank(h0, banks, "initial distress", true);
  for (Eigen::Index i = 0; i < banks; ++i)
    if (h0[i] > 1.0) {
      std::ostringstream message;
      message << "initial distress of bank " << i << " is " << h0[i]
              << ": relative distress is a fraction of equity, in [0, 1]";
      throw std::invalid_argument(message.str());
    }
}

Eigen::VectorXd weights(const VectorRef& economic_value, Eigen::Index banks) {
  if (economic_value.size() == 0)
    return Eigen::VectorXd::Constant(banks, banks > 0 ? 1.0 / static_cast<double>(banks) : 0.0);
  detail::check_per_bank(economic_value, banks, "economic value", true);
  const double total = economic_value.sum();
  if (!(total > 0.0)) throw std::invalid_argument("economic values must not all be zero");
  return economic_value / total;
}

enum class State : unsigned char { kUndistressed, kDistressed, kInactive };

void single_hit(const DenseMatrixRef& impact, const DebtRankOptions& options, DebtRankResult& result) {
  Eigen::VectorXd& h = result.distress;
  const Eigen::Index n = h.size();
  std::vector<State> state(static_cast<std::size_t>(n));
  Eigen::VectorXd spreading(n);
  bool any_distressed = false;
  for (Eigen::Index i = 0; i < n; ++i) {
    state[static_cast<std::size_t>(i)] = h[i] > 0.0 ? State::kDistressed : State::kUndistressed;
    any_distressed = any_distressed || h[i] > 0.0;
  }
  result.iterations = 0;
  while (any_distressed) {
    if (result.iterations == options.max_iterations) return;  // cannot happen before n + 1 rounds
    ++result.iterations;
    for (Eigen::Index i = 0; i < n; ++i)
      spreading[i] = state[static_cast<std::size_t>(i)] == State::kDistressed ? h[i] : 0.0;
    h = (h + impact.transpose() * spreading).cwiseMin(1.0);
    any_distressed = false;
    for (Eigen::Index i = 0; i < n; ++i) {
      State& s = state[static_cast<std::size_t>(i)];
      if (s == State::kDistressed) {
        s = State::kInactive;
      } else if (s == State::kUndistressed && h[i] > 0.0) {
        s = State::kDistressed;
        any_distressed = true;
      }
    }
  }
  result.converged = true;
}

void linear(const DenseMatrixRef& impact, const DebtRankOptions& options, DebtRankResult& result) {
  Eigen::VectorXd& h = result.distress;
  Eigen::VectorXd previous = Eigen::VectorXd::Zero(h.size());
  result.iterations = 0;
  if (h.size() == 0) {
    result.converged = true;
    return;
  }
  while (result.iterations < options.max_iterations) {
    ++result.iterations;
    Eigen::VectorXd next = (h + impact.transpose() * (h - previous)).cwiseMin(1.0);
    previous = std::move(h);
    h = std::move(next);
    if ((h - previous).cwiseAbs().maxCoeff() <= options.tolerance) {
      result.converged = true;
      return;
    }
  }
}

}  // namespace

DebtRankResult debtrank(const DenseMatrixRef& impact, const VectorRef& initial_distress,
                        const VectorRef& economic_value, const DebtRankOptions& options) {
  check_impact(impact);
  const Eigen::Index n = impact.rows();
  check_distress(initial_distress, n);
  const Eigen::VectorXd v = weights(economic_value, n);
  if (!(options.tolerance >= 0.0)) throw std::invalid_argument("DebtRank tolerance must be >= 0");
  if (options.max_iterations < 1)
    throw std::invalid_argument("DebtRank max_iterations must be >= 1, got " + std::to_string(options.max_iterations));

  DebtRankResult result;
  result.distress = initial_distress;
  if (options.variant == DebtRankVariant::kSingleHit)
    single_hit(impact, options, result);
  else
    linear(impact, options, result);
  result.debtrank = v.dot(result.distress - initial_distress);
  return result;
}

}  // namespace ccpnet::models
