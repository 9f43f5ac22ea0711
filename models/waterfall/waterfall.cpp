#include "models/waterfall/waterfall.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <vector>

namespace ccpnet::models {

std::string_view layer_name(Layer layer) {
  switch (layer) {
    case Layer::kDefaulterIm: return "defaulter_im";
    case Layer::kDefaulterDf: return "defaulter_df";
    case Layer::kSitg: return "sitg";
    case Layer::kSitg2: return "sitg2";
    case Layer::kMutualizedDf: return "mutualized_df";
    case Layer::kAssessments: return "assessments";
    case Layer::kVmgh: return "vmgh";
    case Layer::kInsuranceFund: return "insurance_fund";
    case Layer::kAdl: return "adl";
    case Layer::kLenderHaircut: return "lender_haircut";
    case Layer::kCcpEquity: return "ccp_equity";
  }
  return "?";
}

namespace {

double total_residual(std::span<const Defaulter> defaulters) {
  double sum = 0.0;
  for (const auto& d : defaulters) sum += d.residual;
  return sum;
}

// Reduce the defaulters' residuals pro rata by `absorbed` (<= total).
void absorb(std::span<Defaulter> defaulters, double absorbed, double total) {
  if (absorbed <= 0.0 || total <= 0.0) return;
  // Within rounding of the whole need (pro-rata sums), the loss is covered:
  // leave no 1e-24 crumbs for the next layers.
  if (absorbed >= total * (1.0 - 1e-12)) {
    for (auto& d : defaulters) d.residual = 0.0;
    return;
  }
  const double keep = 1.0 - absorbed / total;
  for (auto& d : defaulters) d.residual *= keep;
}

// A single pool (SITG, insurance fund, equity).
double take_pool(double& pool, double need) {
  const double used = std::min(pool, need);
  pool -= used;
  return used;
}

// Pro-rata take from one field of every survivor, each up to its balance.
template <class Balance, class Charge>
double take_pro_rata(std::span<Survivor> survivors, double need, Balance balance, Charge charge) {
  double available = 0.0;
  for (auto& s : survivors) available += balance(s);
  if (available <= 0.0 || need <= 0.0) return 0.0;
  const double rate = std::min(1.0, need / available);
  double taken = 0.0;
  for (auto& s : survivors) {
    const double amount = balance(s) * rate;
    balance(s) -= amount;
    charge(s) += amount;
    taken += amount;
  }
  return taken;
}

}  // namespace

WaterfallOutcome run_waterfall(std::span<const Layer> layers, std::span<Defaulter> defaulters,
                               std::span<Survivor> survivors, CcpResources& ccp) {
  VmghCaps uncapped;
  return run_waterfall(layers, defaulters, survivors, ccp, uncapped);
}

WaterfallOutcome run_waterfall(std::span<const Layer> layers, std::span<Defaulter> defaulters,
                               std::span<Survivor> survivors, CcpResources& ccp, VmghCaps& vmgh) {
  if (!(vmgh.max_rate >= 0.0 && vmgh.max_rate <= 1.0) || !(vmgh.per_call >= 0.0) || !(vmgh.total_left >= 0.0) ||
      !(vmgh.step_left >= 0.0))
    throw std::invalid_argument(
        "VMGH caps: max_rate must be in [0, 1], per_call, total_left and step_left non-negative");
  WaterfallOutcome out;
  for (auto& d : defaulters) {
    d.residual = std::max(0.0, d.loss);
    d.im_used = 0.0;
    d.df_used = 0.0;
    out.loss += d.residual;
  }
  bool own_im_used = false, own_df_used = false;
  for (const Layer layer : layers) {
    const double need = total_residual(defaulters);
    double& absorbed = out.by_layer[static_cast<std::size_t>(layer)];
    switch (layer) {
      case Layer::kDefaulterIm:
        own_im_used = true;
        for (auto& d : defaulters) {
          d.im_used = std::min(d.im, d.residual);
          d.residual -= d.im_used;
          absorbed += d.im_used;
        }
        continue;
      case Layer::kDefaulterDf:
        own_df_used = true;
        for (auto& d : defaulters) {
          d.df_used = std::min(d.df, d.residual);
          d.residual -= d.df_used;
          absorbed += d.df_used;
        }
        continue;
      default: break;
    }
    if (need <= 0.0) continue;
    double used = 0.0;     // residual loss the layer took off the defaulters
    double avoided = 0.0;  // of which close-out cost not incurred (ADL): nobody pays it
    switch (layer) {
      case Layer::kSitg: used = take_pool(ccp.sitg, need); break;
      case Layer::kSitg2: used = take_pool(ccp.sitg2, need); break;
      case Layer::kInsuranceFund: used = take_pool(ccp.insurance_fund, need); break;
      case Layer::kCcpEquity: used = take_pool(ccp.equity, need); break;
      case Layer::kMutualizedDf: {
        // Juniorisation: the juniors' contributions first, pro rata among
        // them; then every survivor's (juniors' left included), pro rata.
        double junior = 0.0;
        if (std::any_of(survivors.begin(), survivors.end(), [](const Survivor& s) { return s.junior; })) {
          double none = 0.0;
          junior = take_pro_rata(
              survivors, need, [&none](Survivor& s) -> double& { return s.junior ? s.df : (none = 0.0); },
              [&none](Survivor& s) -> double& { return s.junior ? s.df_charged : (none = 0.0); });
        }
        const double rest = need - junior;
        used = junior + (rest > need * 1e-12 ? take_pro_rata(
                                                   survivors, rest, [](Survivor& s) -> double& { return s.df; },
                                                   [](Survivor& s) -> double& { return s.df_charged; })
                                             : 0.0);
        break;
      }
      case Layer::kVmgh: {
        // One rate on every gain: the need, capped by max_rate, the per-call
        // cap and what the total and per-step caps leave.
        double gains = 0.0;
        for (const auto& s : survivors) gains += std::max(0.0, s.vm_gain);
        if (gains <= 0.0) break;
        const double cap = std::min({need, vmgh.per_call, vmgh.total_left, vmgh.step_left, vmgh.max_rate * gains});
        if (cap <= 0.0) break;
        used = take_pro_rata(
            survivors, cap, [](Survivor& s) -> double& { return s.vm_gain; },
            [](Survivor& s) -> double& { return s.vmgh_charged; });
        vmgh.total_left = std::max(0.0, vmgh.total_left - used);
        vmgh.step_left = std::max(0.0, vmgh.step_left - used);
        break;
      }
      case Layer::kLenderHaircut:
        used = take_pro_rata(
            survivors, need, [](Survivor& s) -> double& { return s.lender_balance; },
            [](Survivor& s) -> double& { return s.lender_charged; });
        break;
      case Layer::kAssessments:
        used = call_on_caps(survivors, need, &Survivor::assessment_cap, &Survivor::assessment_paid,
                            &Survivor::assessment_unpaid);
        break;
      case Layer::kAdl: {
        // Deleverage the highest-ranked positions first. By quantity (the
        // venues' rule, adl.hpp): each closed contract takes its loss per
        // contract off the defaulted position and costs the account
        // |mark - bankruptcy price|, up to its quantity (without a close-out
        // cost the same as deleverage() closing need / gap contracts at one
        // bankruptcy price). Without quantities: each up to its whole gain.
        const auto gap = [](const Survivor& s) { return std::abs(s.adl_mark_price - s.adl_bankruptcy_price); };
        const auto per_contract = [&](const Survivor& s) { return std::max(gap(s), s.adl_loss_per_contract); };
        const auto by_quantity = [](const Survivor& s) { return s.adl_quantity > 0.0; };
        const auto capacity = [&](const Survivor& s) {
          return by_quantity(s) ? s.adl_quantity * per_contract(s) : std::max(0.0, s.adl_gain);
        };
        std::vector<std::size_t> order;
        for (std::size_t i = 0; i < survivors.size(); ++i)
          if (capacity(survivors[i]) > 0.0) order.push_back(i);
        std::stable_sort(order.begin(), order.end(),
                         [&](std::size_t a, std::size_t b) { return survivors[a].adl_rank > survivors[b].adl_rank; });
        double left = need;
        for (std::size_t i : order) {
          if (left <= 0.0) break;
          Survivor& s = survivors[i];
          const double cap = capacity(s);
          const double take = std::min(left, cap);
          double charge = take;
          if (by_quantity(s)) {
            const double closed = take < cap ? take / per_contract(s) : s.adl_quantity;
            s.adl_quantity -= closed;
            s.adl_closed += closed;
            charge = std::min(take, closed * gap(s));
          } else {
            s.adl_gain -= take;
          }
          s.adl_charged += charge;
          avoided += take - charge;
          left -= take;
          used += take;
        }
        break;
      }
      default: break;
    }
    absorbed += used - avoided;
    out.loss -= avoided;
    out.adl_cost_avoided += avoided;
    absorb(defaulters, used, need);
  }
  // The defaulter layers that are listed return any surplus to the estate;
  // a negative loss (a gain on close-out) is owed to the estate too.
  for (auto& d : defaulters) {
    const double im_left = own_im_used ? d.im - d.im_used : d.im;
    const double df_left = own_df_used ? d.df - d.df_used : d.df;
    d.estate_return = im_left + df_left + std::max(0.0, -d.loss);
  }
  out.uncovered = total_residual(defaulters);
  return out;
}

double call_on_caps(std::span<Survivor> survivors, double need, double Survivor::*cap, double Survivor::*paid,
                    double Survivor::*unpaid) {
  double capacity = 0.0;
  for (const auto& s : survivors) capacity += s.*cap;
  if (capacity <= 0.0 || need <= 0.0) return 0.0;
  const double rate = std::min(1.0, need / capacity);
  double paid_all = 0.0;
  for (auto& s : survivors) {
    const double call = s.*cap * rate;
    if (call <= 0.0) continue;
    s.*cap -= call;
    const double pays = std::min(call, std::max(0.0, s.cash));
    s.cash -= pays;
    s.*paid += pays;
    if (pays < call) {
      s.*unpaid += call - pays;
      s.missed_call = true;
    }
    paid_all += pays;
  }
  return paid_all;
}

double adl_rank(double pnl, double margin, double notional) {
  if (margin <= 0.0) return pnl > 0.0 ? std::numeric_limits<double>::max() : 0.0;
  const double pnl_pct = pnl / margin;
  const double equity = margin + pnl;
  const double leverage = equity > 0.0 ? notional / equity : std::numeric_limits<double>::max();
  return pnl >= 0.0 ? pnl_pct * leverage : pnl_pct / leverage;
}

}  // namespace ccpnet::models
