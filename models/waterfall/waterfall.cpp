#include "models/waterfall/waterfall.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
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

// The survivors' rows as the layers read and charge them: whole structs
// (every layer) or the columns of the pro-rata layers (SurvivorColumns).
struct StructRows {
  std::span<Survivor> rows;
  std::size_t size() const { return rows.size(); }
  double& df(std::size_t i) const { return rows[i].df; }
  double& df_charged(std::size_t i) const { return rows[i].df_charged; }
  bool junior(std::size_t i) const { return rows[i].junior; }
  bool any_junior() const {
    return std::any_of(rows.begin(), rows.end(), [](const Survivor& s) { return s.junior; });
  }
  double& vm_gain(std::size_t i) const { return rows[i].vm_gain; }
  double& vmgh_charged(std::size_t i) const { return rows[i].vmgh_charged; }
  double& assessment_cap(std::size_t i) const { return rows[i].assessment_cap; }
  double& assessment_paid(std::size_t i) const { return rows[i].assessment_paid; }
  double& assessment_unpaid(std::size_t i) const { return rows[i].assessment_unpaid; }
  double& cash(std::size_t i) const { return rows[i].cash; }
  void miss_call(std::size_t i) const { rows[i].missed_call = true; }
};

struct ColumnRows {
  const SurvivorColumns& columns;
  std::size_t size() const { return columns.df.size(); }
  double& df(std::size_t i) const { return columns.df[i]; }
  double& df_charged(std::size_t i) const { return columns.df_charged[i]; }
  static bool junior(std::size_t) { return false; }
  static bool any_junior() { return false; }
  double& vm_gain(std::size_t i) const { return columns.vm_gain[i]; }
  double& vmgh_charged(std::size_t i) const { return columns.vmgh_charged[i]; }
  double& assessment_cap(std::size_t i) const { return columns.assessment_cap[i]; }
  double& assessment_paid(std::size_t i) const { return columns.assessment_paid[i]; }
  double& assessment_unpaid(std::size_t i) const { return columns.assessment_unpaid[i]; }
  double& cash(std::size_t i) const { return columns.cash[i]; }
  void miss_call(std::size_t i) const { columns.missed_call[i] = 1; }
};

// Pro-rata take from one field of every survivor, each up to its balance.
template <class Balance, class Charge>
double take_pro_rata(std::size_t n, double need, Balance balance, Charge charge) {
  double available = 0.0;
  for (std::size_t i = 0; i < n; ++i) available += balance(i);
  if (available <= 0.0 || need <= 0.0) return 0.0;
  const double rate = std::min(1.0, need / available);
  double taken = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double amount = balance(i) * rate;
    balance(i) -= amount;
    charge(i) += amount;
    taken += amount;
  }
  return taken;
}

// Calls pro rata to each survivor's cap (call_on_caps), on accessors by row.
template <class Cap, class Cash, class Paid, class Unpaid, class Miss>
double call_pro_rata(std::size_t n, double need, Cap cap, Cash cash, Paid paid, Unpaid unpaid, Miss miss) {
  double capacity = 0.0;
  for (std::size_t i = 0; i < n; ++i) capacity += cap(i);
  if (capacity <= 0.0 || need <= 0.0) return 0.0;
  const double rate = std::min(1.0, need / capacity);
  double paid_all = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double call = cap(i) * rate;
    if (call <= 0.0) continue;
    cap(i) -= call;
    const double pays = std::min(call, std::max(0.0, cash(i)));
    cash(i) -= pays;
    paid(i) += pays;
    if (pays < call) {
      unpaid(i) += call - pays;
      miss(i);
    }
    paid_all += pays;
  }
  return paid_all;
}

// Juniorisation: the juniors' contributions first, pro rata among them;
// then every survivor's (juniors' left included), pro rata.
template <class Rows>
double take_mutual_fund(const Rows& rows, double need) {
  double junior = 0.0;
  if (rows.any_junior()) {
    double none = 0.0;
    junior = take_pro_rata(
        rows.size(), need, [&](std::size_t i) -> double& { return rows.junior(i) ? rows.df(i) : (none = 0.0); },
        [&](std::size_t i) -> double& { return rows.junior(i) ? rows.df_charged(i) : (none = 0.0); });
  }
  const double rest = need - junior;
  return junior + (rest > need * 1e-12 ? take_pro_rata(
                                             rows.size(), rest, [&](std::size_t i) -> double& { return rows.df(i); },
                                             [&](std::size_t i) -> double& { return rows.df_charged(i); })
                                       : 0.0);
}

// One rate on every gain: the need, capped by max_rate, the per-call cap and
// what the total and per-step caps leave.
template <class Rows>
double take_vm_gains(const Rows& rows, double need, VmghCaps& vmgh) {
  double gains = 0.0;
  for (std::size_t i = 0; i < rows.size(); ++i) gains += std::max(0.0, rows.vm_gain(i));
  if (gains <= 0.0) return 0.0;
  const double cap = std::min({need, vmgh.per_call, vmgh.total_left, vmgh.step_left, vmgh.max_rate * gains});
  if (cap <= 0.0) return 0.0;
  const double used = take_pro_rata(
      rows.size(), cap, [&](std::size_t i) -> double& { return rows.vm_gain(i); },
      [&](std::size_t i) -> double& { return rows.vmgh_charged(i); });
  vmgh.total_left = std::max(0.0, vmgh.total_left - used);
  vmgh.step_left = std::max(0.0, vmgh.step_left - used);
  return used;
}

template <class Rows>
double call_assessments(const Rows& rows, double need) {
  return call_pro_rata(
      rows.size(), need, [&](std::size_t i) -> double& { return rows.assessment_cap(i); },
      [&](std::size_t i) -> double& { return rows.cash(i); },
      [&](std::size_t i) -> double& { return rows.assessment_paid(i); },
      [&](std::size_t i) -> double& { return rows.assessment_unpaid(i); }, [&](std::size_t i) { rows.miss_call(i); });
}

// Deleverage the highest-ranked positions first. By quantity (the venues'
// rule, adl.hpp): each closed contract takes its loss per contract off the
// defaulted position and costs the account |mark - bankruptcy price|, up to
// its quantity (without a close-out cost the same as deleverage() closing
// need / gap contracts at one bankruptcy price). Without quantities: each up
// to its whole gain. Returns what it took off the loss; `avoided`: of which
// close-out cost not incurred.
double deleverage_layer(std::span<Survivor> survivors, double need, double& avoided) {
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
  double left = need, used = 0.0;
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
  return used;
}

// The layers a table of rows can run: ADL and lender haircuts need whole
// structs (the columns carry neither ranks nor lent balances).
double deleverage_layer(const StructRows& rows, double need, double& avoided) {
  return deleverage_layer(rows.rows, need, avoided);
}
double haircut_lenders(const StructRows& rows, double need) {
  return take_pro_rata(
      rows.size(), need, [&](std::size_t i) -> double& { return rows.rows[i].lender_balance; },
      [&](std::size_t i) -> double& { return rows.rows[i].lender_charged; });
}
double deleverage_layer(const ColumnRows&, double, double&) {
  throw std::invalid_argument("run_waterfall: the adl layer needs whole survivor rows, not SurvivorColumns");
}
double haircut_lenders(const ColumnRows&, double) {
  throw std::invalid_argument("run_waterfall: the lender_haircut layer needs whole survivor rows, not SurvivorColumns");
}

template <class Rows>
WaterfallOutcome run_layers(std::span<const Layer> layers, std::span<Defaulter> defaulters, const Rows& rows,
                            CcpResources& ccp, VmghCaps& vmgh) {
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
      case Layer::kMutualizedDf: used = take_mutual_fund(rows, need); break;
      case Layer::kVmgh: used = take_vm_gains(rows, need, vmgh); break;
      case Layer::kLenderHaircut: used = haircut_lenders(rows, need); break;
      case Layer::kAssessments: used = call_assessments(rows, need); break;
      case Layer::kAdl: used = deleverage_layer(rows, need, avoided); break;
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

}  // namespace

WaterfallOutcome run_waterfall(std::span<const Layer> layers, std::span<Defaulter> defaulters,
                               std::span<Survivor> survivors, CcpResources& ccp) {
  VmghCaps uncapped;
  return run_waterfall(layers, defaulters, survivors, ccp, uncapped);
}

WaterfallOutcome run_waterfall(std::span<const Layer> layers, std::span<Defaulter> defaulters,
                               std::span<Survivor> survivors, CcpResources& ccp, VmghCaps& vmgh) {
  return run_layers(layers, defaulters, StructRows{survivors}, ccp, vmgh);
}

WaterfallOutcome run_waterfall(std::span<const Layer> layers, std::span<Defaulter> defaulters,
                               const SurvivorColumns& survivors, CcpResources& ccp, VmghCaps& vmgh) {
  for (const Layer layer : layers)
    if (!supports_columns(layer))
      throw std::invalid_argument("run_waterfall: the " + std::string(layer_name(layer)) +
                                  " layer needs whole survivor rows, not SurvivorColumns");
  const std::size_t n = survivors.df.size();
  for (const auto size : {survivors.df_charged.size(), survivors.assessment_cap.size(), survivors.cash.size(),
                          survivors.assessment_paid.size(), survivors.assessment_unpaid.size(),
                          survivors.vm_gain.size(), survivors.vmgh_charged.size(), survivors.missed_call.size()})
    if (size != n) throw std::invalid_argument("run_waterfall: SurvivorColumns of different lengths");
  return run_layers(layers, defaulters, ColumnRows{survivors}, ccp, vmgh);
}

bool supports_columns(Layer layer) { return layer != Layer::kAdl && layer != Layer::kLenderHaircut; }

double call_on_caps(std::span<Survivor> survivors, double need, double Survivor::*cap, double Survivor::*paid,
                    double Survivor::*unpaid) {
  return call_pro_rata(
      survivors.size(), need, [&](std::size_t i) -> double& { return survivors[i].*cap; },
      [&](std::size_t i) -> double& { return survivors[i].cash; },
      [&](std::size_t i) -> double& { return survivors[i].*paid; },
      [&](std::size_t i) -> double& { return survivors[i].*unpaid; },
      [&](std::size_t i) { survivors[i].missed_call = true; });
}

double adl_rank(double pnl, double margin, double notional) {
  if (margin <= 0.0) return pnl > 0.0 ? std::numeric_limits<double>::max() : 0.0;
  const double pnl_pct = pnl / margin;
  const double equity = margin + pnl;
  const double leverage = equity > 0.0 ? notional / equity : std::numeric_limits<double>::max();
  return pnl >= 0.0 ? pnl_pct * leverage : pnl_pct / leverage;
}

}  // namespace ccpnet::models
