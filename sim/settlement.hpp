// The settlement layer of one scenario (SPEC 3.8).
//
// Drawn per scenario from the `settlement` stream (substream 0: one uniform per
// chain for its finality, one per chain for a halt, one per bridge for an
// exploit; substream 1: the price moves over swap time locks, one normal per
// asset), so settlement never shifts the market or default draws:
//  - each chain's time to finality, stretched by its congestion multiplier when
//    the market falls far enough, plus the halt time when it halts;
//  - each bridge exploited or not.
// What that does to the scenario, before the cascade starts, for every CCP c
// that does not settle instantly (VM paid on c's chain, taking
//   T_vm = finality + bridge delay (mode bridge) + challenge period (l2_optimistic);
// deliveries of asset a, a share `in_flight` of each position, on a's chain):
//  - liquidity timing: a member's VM gains at c count toward its liquidity only
//    when T_vm <= its earliest deadline among the CCPs where it pays VM;
//  - atomic: the DvP swap of asset a aborts when max(T_a, T_vm) exceeds the time
//    lock; every account's in-flight delivery is replaced at the price moved over
//    the lock: cost in_flight * max(0, v_a (e^x - 1)), x ~ N(0, sigma_d^2 lock/24);
//  - bridge: when exploited, the VM gains and deliveries in flight through it
//    are lost by their receivers, up to the recovery rate;
//  - custody bridge: when exploited, the members' IM and DF contributions held
//    through it are lost (up to the recovery rate); members re-post the IM (a
//    cash call), the fund stays depleted;
//  - margin calls (models::margin_call): IM posted in a collateral asset moves
//    with the scenario and is topped up in cash when its haircut-adjusted value
//    falls below IM; a CCP with a margin spiral recomputes IM after the move
//    (sim/margin_path.hpp, SpiralMargin: the positions at their new prices, on
//    the EWMA volatility updated with the move over the CCP's MPOR, an APC
//    buffer used first) and calls the increase in cash (releases a decrease),
//    as one time step over the MPOR does; collateral credited beyond today's
//    IM (the collateral asset risen, after its haircut) covers the increase
//    first: the call is max(0, IM1 - credited value) (EMIR RTS 153/2013 art.
//    40: collateral valued daily and credited after haircuts against the
//    requirement), the rise of the collateral itself is not released. A member that defaults at the start
//    has not paid its calls: its CCP holds what was posted, as it is now
//    worth; a member that paid and defaults later leaves the top-ups too;
//  - free_of_payment: nothing happens at the start; in the cascade the side that
//    performed first loses the principal in flight (in_flight * sum |v_a|) when
//    the other defaults: the CCP, added to the defaulter's close-out loss, or
//    the members, when the CCP fails.
// Link accounts and the rest-of-market account settle instantly.
//
// Time steps (simulation.horizon_days / step_days). Each day VM is called and
// paid with the settlement timing above (SPEC 3.8; the PFMI's Principle 8 on
// settlement finality and Principle 7 on liquidity: a payment counts toward a
// member's resources when it is final by the time it is due). Per step k:
//  - chains are drawn again for the step (substream 2k: finality, halt, and
//    the bridge uniforms, consumed as in one period; substream 2k + 1: the
//    price moves over swap time locks), so step 0 draws exactly what one
//    period draws and one step over the MPOR gives the one-period numbers; a
//    chain congests when the assets settling on it fall by the trigger over
//    the step itself (simple return from the step's start to its end); the
//    halt probability, per scenario in one period, is spread over the steps
//    (1 - (1 - p)^(1/steps) each), so that a halt somewhere in the horizon
//    keeps the file's chance; chain metrics are the worst step's;
//  - liquidity timing: the step's VM gain of an account (its P&L over the
//    step) counts toward its owner's cash of that step only when final by the
//    member's earliest deadline of the step; otherwise it is late, not lost:
//    it arrives the next step (the member may default for liquidity in step k
//    although solvent);
//  - atomic swaps: the deliveries in flight that step (a share in_flight of
//    the positions at the step's end prices) time out when the step's
//    finality exceeds the lock, replaced at the price moved over the lock; the
//    replacement cost is charged in that step and stays charged;
//  - free of payment: the principal in flight in the step a member (a CCP)
//    defaults (fails), at that step's end prices;
//  - a CCP's margin spiral is recomputed step by step by sim/margin_path.hpp
//    (IM increases charged there, not here, so never twice; counted here in
//    the CCP's margin calls, from state.margins); the part of the increase
//    so far that collateral credited beyond today's IM covers is credited
//    here, step by step (im_credited);
//  - bridges: each bridge's exploit is drawn once per scenario, with the step
//    it happens in: the bridge uniform u of step 0 (as in one period) says
//    whether it happens within the horizon (u < p, the file's probability),
//    and at which step, k = floor(steps ln(1 - u) / ln(1 - p)), so that the
//    chance of an exploit by the end of step k is 1 - (1 - p)^((k + 1) /
//    steps), the halts' constant hazard. In that step the VM gains and
//    deliveries in flight through it are lost (less recovery), and the IM
//    and DF held through it (custody bridge): the IM is re-called that step,
//    the fund stays depleted for the rest of the horizon. A bridge is paused
//    after an exploit (Ronin, Wormhole, Nomad all were): nothing more is lost
//    through it, later steps settle with its delay as drawn;
//  - IM posted in a collateral asset: each step the posted collateral is
//    valued at the step's end price and the shortfall of its haircut value
//    topped up in cash that step (EMIR RTS 153/2013 art. 40: collateral valued
//    daily; the haircut taken on the file's): the step's call is what one
//    period's call at the cumulative move exceeds the calls paid so far
//    (im_called), so a 10% fall on day 1 and 10% more on day 2 call 0.1 and
//    0.09 of the posted IM. The member's gain or loss on the collateral it
//    still owns is charged step by step (collateral_gain so far);
//  - with outputs.liquidity_needs, each account's cash margin call of the
//    step (the collateral top-up, the spiral's rise less the rise of the
//    credit, the re-posted custody loss: what the step adds to its CCP's
//    margin calls) is kept per step (cash_called) for the step's liquidity
//    need (PFMI Principle 7).
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <span>
#include <vector>

#include "sim/margin_path.hpp"
#include "sim/rng.hpp"

namespace ccpnet {

struct Model;
struct ScenarioResult;

// Per-CCP, per-chain and per-bridge settlement metrics of one scenario, flat.
enum class CcpSettleMetric : std::uint8_t {
  kFails,
  kPrincipalLost,
  kReplacementCost,
  kLateInflows,
  kMarginCalls,  // IM called in the scenario (spiral, collateral top-ups, re-posting exploited collateral)
  kCount
};
enum class ChainMetric : std::uint8_t { kHours, kCongested, kHalted, kFails, kLoss, kLateInflows, kCount };
enum class BridgeMetric : std::uint8_t { kExploited, kLoss, kCount };
inline constexpr std::size_t kCcpSettleMetrics = static_cast<std::size_t>(CcpSettleMetric::kCount);
inline constexpr std::size_t kChainMetrics = static_cast<std::size_t>(ChainMetric::kCount);
inline constexpr std::size_t kBridgeMetrics = static_cast<std::size_t>(BridgeMetric::kCount);

struct SettlementOutcome {
  std::vector<double> ccp;     // CCPs x kCcpSettleMetrics
  std::vector<double> chain;   // chains x kChainMetrics
  std::vector<double> bridge;  // bridges x kBridgeMetrics
  // Recorded by a deterministic path in time steps (ccpnet stress), else
  // empty: at the start of each step, every CCP's VM gains late and fails so
  // far (steps x CCPs x 2), and each bridge's exploit step (-1: none).
  std::vector<double> daily;
  std::vector<int> exploit_step;

  void reset(const Model& model);
  double& at(std::size_t c, CcpSettleMetric m) { return ccp[c * kCcpSettleMetrics + static_cast<std::size_t>(m)]; }
  double& at_chain(std::size_t k, ChainMetric m) { return chain[k * kChainMetrics + static_cast<std::size_t>(m)]; }
  double& at_bridge(std::size_t b, BridgeMetric m) { return bridge[b * kBridgeMetrics + static_cast<std::size_t>(m)]; }
  double get(std::size_t c, CcpSettleMetric m) const {
    return ccp.empty() ? 0.0 : ccp[c * kCcpSettleMetrics + static_cast<std::size_t>(m)];
  }
  double total(CcpSettleMetric m) const;
};

// The settlement state of one scenario: what was drawn, and its effects.
struct SettlementState {
  // Drawn
  std::vector<double> chain_hours;                                            // per chain
  std::vector<std::uint8_t> chain_congested, chain_halted, bridge_exploited;  // bridge: in this step
  std::vector<int> exploit_step;        // per bridge: the step of its exploit in the scenario, -1: none
  int step = 0;                         // the step drawn (0 in one period)
  std::vector<std::uint8_t> defaulted;  // time steps, per member: defaulted in an earlier step (empty: none)
  std::vector<double> vm_hours;         // per CCP: when its VM payments are final
  bool eventful = false;                // something is late, aborted or exploited
  bool stress = false;                  // deterministic: replacement moves one standard deviation adverse
  bool in_steps = false;                // a time step: the spiral is recomputed by the margin path, not here
  const MarginPath* margins = nullptr;  // time steps: the IM recomputed along the path (null: none)
  int margin_slot = 0;                  // the path's slot in `margins`
  std::uint64_t delay_substream = 1;    // the price moves over swap time locks of this period or step

  // Effects on the members and accounts, for the cascade
  std::vector<double> capital_charge, cash_charge, late_inflow;  // per member
  std::vector<double> principal;                                 // per account: in flight (free_of_payment)
  std::vector<double> df_kept;                                   // per CCP: share still held after custody losses
  std::vector<double> df_step_kept;        // per CCP: share of what it held kept through this step's custody losses
  std::vector<std::uint8_t> im_adjusted;   // per CCP: im_unpaid / im_paid hold its accounts' IM
  std::vector<double> im_unpaid, im_paid;  // per account: IM the CCP can liquidate if the owner defaults at the
                                           // start (calls unpaid) or later (calls paid)
  // Time steps, per account: collateral top-ups called so far, the owner's
  // gain on its posted collateral so far, and the rise of IM its collateral
  // beyond today's IM covers (not called in cash) at the last step's end.
  std::vector<double> im_called, collateral_gain, im_credited;
  // Time steps with outputs.liquidity_needs, per account x step (a * steps +
  // k): the margin the account was called in cash in the step, as counted in
  // its CCP's margin calls (top-up, spiral rise net of the credit, re-posted
  // custody losses); 0 where nothing was called (empty otherwise).
  std::vector<double> cash_called;
};

class Settlement {
 public:
  explicit Settlement(const Model& model);

  bool active() const { return active_; }

  // Draws scenario `index`'s chains and bridges; first_horizon_returns are the
  // simple returns of every asset over the shortest margin period (for congestion).
  void draw(std::uint64_t index, std::span<const double> first_horizon_returns, SettlementState& state,
            SettlementOutcome& out) const;

  // Draws step `step` of `steps` of scenario `index` (see the header);
  // step_returns are the simple returns of every asset over the step.
  void draw_step(std::uint64_t index, int step, int steps, std::span<const double> step_returns, SettlementState& state,
                 SettlementOutcome& out) const;

  // The deterministic state of a stress scenario: mean finality times
  // (congestion still applies), the listed chains halted and bridges exploited.
  // In time steps `step` is the step drawn; the bridges listed at step 0 are
  // exploited in step `exploit_step`.
  void draw_stress(std::span<const double> first_horizon_returns, std::span<const int> halted,
                   std::span<const int> exploited, SettlementState& state, SettlementOutcome& out, int step = 0,
                   int exploit_step = 0) const;

  // Effects of the drawn state given every account's P&L and the simple
  // returns at every horizon (assets x horizons).
  void apply(std::uint64_t index, std::span<const double> account_pnl, const Eigen::MatrixXd& returns,
             SettlementState& state, SettlementOutcome& out) const;

 private:
  void draw_chains(std::uint64_t index, int step, int steps, SettlementState& state) const;
  void finish_draw(std::span<const double> first_horizon_returns, SettlementState& state, SettlementOutcome& out) const;
  // apply()'s last stage: VM gains not final by the member's earliest deadline.
  void late_inflows(std::span<const double> account_pnl, SettlementState& state, SettlementOutcome& out) const;
  // apply()'s margin calls of account a at CCP c (collateral asset, spiral,
  // custody exploit), given the CCP's state.
  struct CcpCalls {
    bool custody_hit = false;  // its custody bridge exploited in this step
    double kept = 1.0;         // share of what was posted still held
    bool spiral = false;       // one period: IM recomputed on the move
    bool spiral_path = false;  // time steps: IM recomputed by state.margins (its change charged there)
    double collateral_return = 0.0;
  };
  void margin_calls(std::size_t c, std::size_t a, const CcpCalls& calls, SettlementState& state,
                    SettlementOutcome& out) const;

  const Model& model_;
  rng::Philox rng_;
  SpiralMargin spiral_;
  bool active_ = false;
  bool every_scenario_ = false;  // margin calls can matter in any scenario
  // Scratch of apply(); a Settlement belongs to one thread.
  mutable std::vector<double> delay_z_;
  mutable Eigen::MatrixXd spiral_move_, vol_ratio_;  // the spiral's move and volatility ratios, assets x 1
  mutable Eigen::VectorXd price_ratio_;
  mutable std::vector<std::uint8_t> vm_lost_;
  double min_deadline_ = 0.0;
};

}  // namespace ccpnet
