#include "models/waterfall/recovery.hpp"

#include <algorithm>

namespace ccpnet::models {

std::string_view recovery_tool_name(RecoveryTool tool) {
  switch (tool) {
    case RecoveryTool::kCashCall: return "cash_call";
    case RecoveryTool::kTearUp: return "tear_up";
    case RecoveryTool::kForcedAllocation: return "forced_allocation";
  }
  return "?";
}

namespace {

// The gains on the torn-up positions (within the VM gains left), pro rata.
double tear_up(std::span<Survivor> survivors, double need) {
  const auto gain = [](const Survivor& s) { return std::clamp(s.tear_up_gain, 0.0, std::max(0.0, s.vm_gain)); };
  double gains = 0.0;
  for (const auto& s : survivors) gains += gain(s);
  if (gains <= 0.0 || need <= 0.0) return 0.0;
  const double rate = std::min(1.0, need / gains);
  double taken = 0.0;
  for (auto& s : survivors) {
    const double amount = gain(s) * rate;
    s.vm_gain -= amount;
    s.tear_up_gain -= amount;
    s.tear_up_charged += amount;
    taken += amount;
  }
  return taken;
}

// The unplaced book's discount, pro rata to the allocation weights.
double forced_allocation(std::span<Survivor> survivors, double need) {
  double weights = 0.0;
  for (const auto& s : survivors) weights += std::max(0.0, s.allocation_weight);
  if (weights <= 0.0 || need <= 0.0) return 0.0;
  double taken = 0.0;
  for (auto& s : survivors) {
    const double amount = need * std::max(0.0, s.allocation_weight) / weights;
    s.allocation_charged += amount;
    taken += amount;
  }
  return taken;
}

}  // namespace

RecoveryOutcome run_recovery(std::span<const RecoveryTool> tools, double residual, double unplaced,
                             std::span<Survivor> survivors) {
  RecoveryOutcome out;
  double left = std::max(0.0, residual);
  double book = std::max(0.0, unplaced);  // the unplaced book's loss not yet placed or torn up
  for (const RecoveryTool tool : tools) {
    if (left <= 0.0) break;
    double used = 0.0;
    switch (tool) {
      case RecoveryTool::kCashCall:
        used = call_on_caps(survivors, left, &Survivor::cash_call_cap, &Survivor::cash_call_paid,
                            &Survivor::cash_call_unpaid);
        break;
      case RecoveryTool::kTearUp: used = tear_up(survivors, std::min(left, book)); break;
      case RecoveryTool::kForcedAllocation: used = forced_allocation(survivors, std::min(left, book)); break;
    }
    if (tool != RecoveryTool::kCashCall) book -= used;
    // Within rounding of what was left, it is covered (pro-rata sums).
    if (used >= left * (1.0 - 1e-12)) used = left;
    out.by_tool[static_cast<std::size_t>(tool)] += used;
    left -= used;
  }
  out.uncovered = left;
  return out;
}

}  // namespace ccpnet::models
