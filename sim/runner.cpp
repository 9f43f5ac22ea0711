#include "sim/runner.hpp"

#include <fmt/format.h>
#include <oneapi/tbb/enumerable_thread_specific.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <map>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include "models/margin/addons.hpp"
#include "models/margin/quantile.hpp"
#include "models/margin/tiered.hpp"
#include "models/market/fire_sale.hpp"
#include "models/waterfall/venue_liquidation.hpp"
#include "sim/loss_sketch.hpp"
#include "sim/margin_path.hpp"
#include "sim/model.hpp"
#include "sim/path_screen.hpp"
#include "sim/progress.hpp"
#include "sim/revalue.hpp"
#include "sim/shocks.hpp"

namespace ccpnet {

namespace {

// Members of the latent default model that share a PD: one class each.
struct LatentClass {
  double threshold;          // Phi^-1(PD)
  std::vector<int> members;  // ascending
};

// Everything one thread needs to simulate tiles; allocated once per thread.
class TileWorker {
 public:
  explicit TileWorker(const Model& model, const ShockGenerator& shocks, bool screening = true)
      : model_(model),
        shocks_(shocks),
        defaults_rng_(model.seed, rng::Stream::kDefaults),
        cascade_(model),
        margins_(model),
        cumulative_(static_cast<Eigen::Index>(model.assets.size()),
                    static_cast<Eigen::Index>(move_points(model).size())),
        member_pnl_(static_cast<Eigen::Index>(model.members.size()), kTile),
        account_pnl_(model.accounts.size()),
        member_column_(model.members.size()),
        member_capital_(model.members.size()),
        member_cash_(model.members.size()),
        first_returns_(model.assets.size()),
        settlement_(model),
        scenario_returns_(static_cast<Eigen::Index>(model.assets.size()),
                          static_cast<Eigen::Index>(model.horizons.size())),
        initial_(model.members.size(), DefaultCause::kNone),
        member_loss_(model.members.size(), 0.0) {
    for (WindowLosses& w : windows_) {
      w.sums.resize(model.accounts.size() * kLossChannelCount);
      w.touched.assign(model.accounts.size() * kLossChannelCount, 0);
    }
    slot_of_.assign(model.accounts.size(), 0);
    for (const auto& ccp : model.ccps)
      for (int a : ccp.accounts) {
        slot_of_[static_cast<std::size_t>(a)] = static_cast<int>(account_of_slot_.size());
        account_of_slot_.push_back(a);
      }
    const auto n_assets = static_cast<Eigen::Index>(model.assets.size());
    for (std::size_t h = 0; h < model.horizons.size(); ++h) {
      returns_.emplace_back(n_assets, kTile);
      pnl_.emplace_back(static_cast<Eigen::Index>(model.horizon_accounts[h].size()), kTile);
      revaluation_.emplace_back(model.horizon_values[h]);
      row_owner_.emplace_back();
      for (int a : model.horizon_accounts[h]) {
        const Account& acc = model.accounts[static_cast<std::size_t>(a)];
        row_owner_.back().push_back(acc.kind == AccountKind::kMember ? acc.owner : -1);
      }
      pnl_t_.emplace_back(static_cast<Eigen::Index>(model.horizon_accounts[h].size()), kTile);
    }
    std::map<double, std::vector<int>> by_pd;
    for (std::size_t m = 0; m < model.members.size(); ++m)
      if (model.latent_defaults && model.members[m].pd > 0.0) by_pd[model.members[m].pd].push_back(static_cast<int>(m));
    for (auto& [pd, members] : by_pd) {
      latent_members_.insert(latent_members_.end(), members.begin(), members.end());
      latent_.push_back({pd >= 1.0 ? INFINITY : models::normal_quantile(pd), std::move(members)});
    }
    std::sort(latent_members_.begin(), latent_members_.end());
    exogenous_.assign(model.members.size(), 0);
    for (int g : model.exogenous_groups)
      for (int m : model.groups[static_cast<std::size_t>(g)]) exogenous_[static_cast<std::size_t>(m)] = 1;
    any_exogenous_ = !model.exogenous_groups.empty();
    for (std::size_t m = 0; m < model.members.size(); ++m)
      if (model.groups[static_cast<std::size_t>(model.members[m].group)].size() > 1)
        grouped_.push_back(static_cast<int>(m));
    // A member defaults on the market move alone when its P&L is below
    // -min(capital, liquidity): one comparison per member and scenario.
    for (const auto& m : model.members) cushion_.push_back(std::min(m.capital, m.liquidity));
    // Option positions per horizon: the options held there (each revalued
    // once per scenario) and the rows that hold them.
    vol_factor_ = Eigen::MatrixXd::Ones(n_assets, static_cast<Eigen::Index>(move_points(model).size()));
    option_rows_.resize(model.horizons.size());
    horizon_options_.resize(model.horizons.size());
    for (std::size_t h = 0; h < model.horizons.size(); ++h) {
      const auto& ids = model.horizon_accounts[h];
      std::vector<int> slot(model.options.size(), -1);
      for (std::size_t i = 0; i < ids.size(); ++i)
        for (const OptionHolding& o : model.accounts[static_cast<std::size_t>(ids[i])].options) {
          int& k = slot[static_cast<std::size_t>(o.option)];
          if (k < 0) {
            k = static_cast<int>(horizon_options_[h].size());
            horizon_options_[h].push_back(o.option);
          }
          option_rows_[h].push_back({static_cast<Eigen::Index>(i), k, o.quantity});
        }
    }
    option_dv_.resize(model.options.size());
    // Member accounts at lending protocols with debt (accounts without are
    // never liquidated): long positions are collateral, short positions debt.
    prices_.resize(n_assets);
    for (Eigen::Index i = 0; i < n_assets; ++i) prices_(i) = model.assets[static_cast<std::size_t>(i)].price;
    log_moves_.resize(n_assets);
    for (std::size_t a = 0; a < model.accounts.size(); ++a) {
      const Account& acc = model.accounts[a];
      const CcpModel& ccp = model.ccps[static_cast<std::size_t>(acc.ccp)];
      if (acc.kind != AccountKind::kMember || !ccp.lending || !(acc.quantity.minCoeff() < 0.0)) continue;
      LendingAccount l{static_cast<int>(a), acc.ccp, ccp.horizon, {}};
      for (Eigen::Index i = 0; i < n_assets; ++i) {
        l.units.collateral.push_back(std::max(0.0, acc.quantity(i)));
        l.units.debt.push_back(std::max(0.0, -acc.quantity(i)));
      }
      l.units.emode_category = ccp.lending->member_emode[static_cast<std::size_t>(acc.owner)];
      lending_.push_back(std::move(l));
    }
    for (const LendingAccount& l : lending_) lending_units_.push_back(l.units);
    lending_liquidated_.assign(lending_.size(), 0);
    collect_venue_accounts();
    tile_cumulatives_.resize(static_cast<std::size_t>(kTile));
    path_members_.resize(static_cast<std::size_t>(kTile));
    for (std::size_t m = 0; m < model.members.size(); ++m) all_members_.push_back(static_cast<int>(m));
    if (model.fire_sales) prepare_fire_sales();
    for (const Account& acc : model.accounts)
      account_horizon_.push_back(model.ccps[static_cast<std::size_t>(acc.ccp)].horizon);
    row_in_horizon_.assign(model.accounts.size(), 0);
    for (const auto& ids : model.horizon_accounts)
      for (std::size_t i = 0; i < ids.size(); ++i)
        row_in_horizon_[static_cast<std::size_t>(ids[i])] = static_cast<Eigen::Index>(i);
    has_liquidations_ = !lending_.empty() || !venue_.empty();
    funds_.assign(model.ccps.size(), 0.0);
    fund_log_price_.assign(model.ccps.size(), 0.0);
    liquidated_step_.assign(model.accounts.size(), -1);
    for (const auto& ccp : model.ccps) funds_move_ = funds_move_ || ccp.insurance_fund_asset >= 0;
    if (screening) prepare_screening();
  }

  // Member-level screening (screen()): whether the model allows it, and per
  // member and horizon the sums of its long and of its short position values
  // (net over its accounts there, asset by asset), per member its gross value.
  // Screening needs only the members' P&L of the calm scenarios; it is off
  // when something reads more of every scenario (the own-book latent factor,
  // settlement, liquidations, exogenous defaults, liquidity needs), with
  // options (revalued per account) or a dense revaluation.
  void prepare_screening() {
    screening_ = !model_.latent_own_book && !settlement_.active() && !has_liquidations_ && !any_exogenous_ &&
                 !model_.liquidity_needs;
    for (std::size_t h = 0; h < revaluation_.size(); ++h)
      screening_ = screening_ && revaluation_[h].sparse() && option_rows_[h].empty();
    if (!screening_) return;
    const auto n_members = static_cast<Eigen::Index>(model_.members.size());
    const auto n_horizons = static_cast<Eigen::Index>(revaluation_.size());
    screen_gross_.assign(model_.members.size(), 0.0);
    screen_long_.setZero(n_members, n_horizons);
    screen_short_.setZero(n_members, n_horizons);
    for (Eigen::Index h = 0; h < n_horizons; ++h) {
      const Eigen::MatrixXd& values = model_.horizon_values[static_cast<std::size_t>(h)];
      Eigen::MatrixXd net = Eigen::MatrixXd::Zero(n_members, values.cols());
      const auto& ids = model_.horizon_accounts[static_cast<std::size_t>(h)];
      for (std::size_t i = 0; i < ids.size(); ++i) {
        const Account& acc = model_.accounts[static_cast<std::size_t>(ids[i])];
        if (acc.kind != AccountKind::kMember) continue;
        net.row(acc.owner) += values.row(static_cast<Eigen::Index>(i));
        screen_gross_[static_cast<std::size_t>(acc.owner)] += values.row(static_cast<Eigen::Index>(i)).cwiseAbs().sum();
      }
      screen_long_.col(h) = net.cwiseMax(0.0).rowwise().sum();
      screen_short_.col(h) = (-net).cwiseMax(0.0).rowwise().sum();
    }
    screen_fall_.setZero(n_horizons, kTile);
    screen_rise_.setZero(n_horizons, kTile);
    if (model_.steps.count == 0) return;
    path_screen_ = PathScreen(model_);
    member_rows_.resize(row_owner_.size() * model_.members.size());
    for (std::size_t h = 0; h < row_owner_.size(); ++h)
      for (std::size_t i = 0; i < row_owner_[h].size(); ++i)
        if (row_owner_[h][i] >= 0)
          member_rows_[h * model_.members.size() + static_cast<std::size_t>(row_owner_[h][i])].push_back(
              static_cast<int>(i));
  }

  // A member account at a crypto venue with maintenance rates: its position
  // values today (options by their delta) and its row in its horizon's P&L.
  struct VenueAccount {
    int account;
    int ccp;
    int horizon;
    Eigen::Index row;
    double margin;
    bool single;              // one contract, no options
    double maintenance_rate;  // observed maintenance over notional; < 0: tiered mm
    double held = 1.0;        // the share of its positions it still holds (Cascade::held)
  };

  // A venue account's position values today (Account::values).
  const std::vector<AssetValue>& values(const VenueAccount& v) const {
    return model_.accounts[static_cast<std::size_t>(v.account)].values;
  }

  void prepare_fire_sales() {
    const auto n_assets = static_cast<Eigen::Index>(model_.assets.size());
    adv_.resize(n_assets);
    impact_k_.resize(n_assets);
    for (Eigen::Index i = 0; i < n_assets; ++i) {
      adv_(i) = model_.assets[static_cast<std::size_t>(i)].adv;
      impact_k_(i) = model_.assets[static_cast<std::size_t>(i)].liquidation_k;
    }
    flow_.resize(n_assets);
    alt_returns_ = returns_;
    alt_pnl_ = pnl_;
    alt_member_pnl_ = member_pnl_;
  }

  // Member accounts at crypto venues with maintenance rates, for their
  // liquidation engine.
  void collect_venue_accounts() {
    std::vector<Eigen::Index> row(model_.accounts.size(), -1);
    for (const auto& ids : model_.horizon_accounts)
      for (std::size_t i = 0; i < ids.size(); ++i) row[static_cast<std::size_t>(ids[i])] = static_cast<Eigen::Index>(i);
    for (std::size_t a = 0; a < model_.accounts.size(); ++a) {
      const Account& acc = model_.accounts[a];
      const CcpModel& ccp = model_.ccps[static_cast<std::size_t>(acc.ccp)];
      if (acc.kind != AccountKind::kMember || (ccp.maintenance.empty() && acc.maintenance_margin < 0.0)) continue;
      if (acc.values.empty()) continue;
      VenueAccount v{static_cast<int>(a), acc.ccp, ccp.horizon, row[a], acc.initial_margin, false, -1.0};
      // Observed maintenance: a rate on the account's notional today.
      if (acc.maintenance_margin >= 0.0) v.maintenance_rate = acc.maintenance_margin / acc.notional;
      v.single = acc.values.size() == 1 && acc.options.empty();
      venue_.push_back(std::move(v));
    }
  }

  // Scenarios [first, first + count), count <= kTile, into out[0..count).
  void simulate_tile(std::int64_t first, std::int64_t count, ScenarioResult* out) {
    if (model_.steps.count > 0) return simulate_paths(first, count, out);
    std::array<double, kTile> factor{};
    const auto n = static_cast<std::size_t>(count);
    shocks_.generate_tile(static_cast<std::uint64_t>(first), std::span(tile_cumulatives_).first(n),
                          std::span(factor).first(n));
    for (std::int64_t j = 0; j < kTile; ++j) {
      if (j < count)
        set_returns(j, tile_cumulatives_[static_cast<std::size_t>(j)]);
      else
        for (auto& r : returns_) r.col(j).setZero();  // padding: always full tiles
    }
    const std::uint64_t stressed = revalue_tile(first, count, factor);
    // A few evaluations read their column straight from the row-major tile;
    // past that, one column-major copy of the tile makes the rest contiguous.
    transposed_ = false;
    int evaluated = 0;
    for (std::int64_t j = 0; j < count; ++j) {
      const double f = factor[static_cast<std::size_t>(j)];
      const Eigen::Index c = column_[static_cast<std::size_t>(j)];  // j's column in the tile, -1: none (calm)
      ScenarioResult& r = out[j];
      r.reset(model_, first + j);
      r.market_factor = f;
      const bool latent =
          draw_latent(first + j, f, [&](std::size_t m) { return member_pnl_(static_cast<Eigen::Index>(m), c); });
      const bool market = c >= 0 && ((stressed >> c) & 1u);
      bool settling = false;
      if (settlement_.active()) {
        for (Eigen::Index a = 0; a < returns_[0].rows(); ++a)
          first_returns_[static_cast<std::size_t>(a)] = returns_[0](a, c);
        settlement_.draw(static_cast<std::uint64_t>(first + j), first_returns_, settle_state_, r.settlement);
        settling = settle_state_.eventful;
      }
      // A lending account whose health factor crosses 1 is liquidated.
      const bool lending = has_liquidations_ && collect_liquidations(c);
      if (latent || market || any_exogenous_ || settling || lending) {
        if (c < 0) throw std::logic_error("screening passed over a scenario to evaluate");
        if (!transposed_ && ++evaluated > 4) transpose_tile();
        std::swap(r.account_losses, scratch_losses_);  // the cascade appends to a buffer that keeps its capacity
        evaluate(first + j, c, r, nullptr, true);
        std::swap(r.account_losses, scratch_losses_);
        fold_losses();
      } else {
        r.quiet = !settlement_.active();  // calm: nobody defaults and nothing fails to settle
      }
    }
  }

  // The scenarios simulated from now on belong to window 0 or 1 of the run:
  // their member losses are summed apart until that window is handed over.
  void start_window(int window) { window_ = window; }

  // The evaluated scenario's member losses (scratch_losses_) into the current
  // window's sums by account and channel, and each member's loss into its
  // sketch.
  void fold_losses() {
    WindowLosses& w = windows_[window_];
    for (const AccountLoss& l : scratch_losses_) {
      // Channel-major over the accounts in CCP order: a CCP's survivors are
      // charged in that order, so the sums stream through memory.
      const auto key = static_cast<std::size_t>(l.channel) * slot_of_.size() +
                       static_cast<std::size_t>(slot_of_[static_cast<std::size_t>(l.account)]);
      if (!w.touched[key]) {
        w.touched[key] = 1;
        w.keys.push_back(key);
      }
      w.sums[key].add(l.amount);
      if (model_.member_quantiles && l.channel != LossChannel::kOwnIm && l.channel != LossChannel::kOwnDf) {
        const auto m = static_cast<std::size_t>(model_.accounts[static_cast<std::size_t>(l.account)].owner);
        if (member_loss_[m] == 0.0) lossy_members_.push_back(static_cast<int>(m));
        member_loss_[m] += l.amount;
      }
    }
    scratch_losses_.clear();
    // Each member's loss in this scenario, into the window's sketch.
    for (int m : lossy_members_) {
      const double x = member_loss_[static_cast<std::size_t>(m)];
      if (x > 0.0) ++w.sketch[static_cast<std::uint64_t>(m) << 16 | LossSketch::bucket(x)];
      member_loss_[static_cast<std::size_t>(m)] = 0.0;
    }
    lossy_members_.clear();
  }

  // The member losses of window `window` into `aggregate`, and the window's
  // sums emptied for its next use. The sums are exact and the counts
  // integers, so the workers may hand over in any order.
  void hand_over_losses(int window, Aggregate& aggregate) {
    WindowLosses& w = windows_[window];
    const std::size_t n = slot_of_.size();
    for (const std::size_t key : w.keys) {
      const auto account = static_cast<std::size_t>(account_of_slot_[key % n]);
      aggregate.add_account_loss(account * kLossChannelCount + key / n, w.sums[key]);
      w.sums[key] = ExactSum{};
      w.touched[key] = 0;
    }
    w.keys.clear();
    for (const auto& [key, count] : w.sketch) aggregate.add_member_loss_count(key, count);
    w.sketch.clear();
  }

  // One deterministic move (cumulative log-returns and implied-vol
  // multipliers, assets x horizons); no latent draws.
  void simulate_move(const Eigen::MatrixXd& cumulative, const Eigen::MatrixXd& vol_factor, ScenarioResult& out,
                     CascadeTrace* trace, std::span<const int> halted_chains, std::span<const int> exploited_bridges,
                     int exploit_step = 0) {
    if (model_.steps.count > 0) {
      // A deterministic move: mean finality times, the listed chains halted
      // on its first step, the listed bridges exploited in `exploit_step`.
      stress_path_ = true;
      stress_halted_.assign(halted_chains.begin(), halted_chains.end());
      stress_exploited_.assign(exploited_bridges.begin(), exploited_bridges.end());
      stress_exploit_step_ = exploit_step;
      vol_factor_ = vol_factor;
      out.reset(model_, 0);
      latent_defaults_.clear();
      cumulative_ = cumulative;
      path_slot_ = 0;
      margins_.compute(cumulative_, 0);
      revalue_path();
      vol_factor_.setOnes();
      first_market_defaults(1);
      run_path(any_exogenous_, first_step_[0], out, trace);
      if (model_.liquidity_needs) liquidity_needs(out);
      return;
    }
    set_returns(0, cumulative);
    for (auto& r : returns_) r.rightCols(kTile - 1).setZero();
    vol_factor_ = vol_factor;
    revalue(1);
    vol_factor_.setOnes();
    transpose_tile();
    latent_defaults_.clear();
    out.reset(model_, 0);
    if (settlement_.active()) {
      for (Eigen::Index a = 0; a < returns_[0].rows(); ++a)
        first_returns_[static_cast<std::size_t>(a)] = returns_[0](a, 0);
      settlement_.draw_stress(first_returns_, halted_chains, exploited_bridges, settle_state_, out.settlement);
    }
    evaluate(0, 0, out, trace);
  }

 private:
  void set_returns(std::int64_t j, const Eigen::MatrixXd& cumulative) {
    for (std::size_t h = 0; h < returns_.size(); ++h)
      returns_[h].col(j) = cumulative.col(static_cast<Eigen::Index>(h)).array().exp() - 1.0;
  }

  // P&L of every account of the tile: one matrix product per horizon, the
  // options of the first `columns` scenarios; members' sums.
  void revalue(std::int64_t columns) {
    exact_ = kAllColumns;
    member_pnl_.setZero();
    for (std::size_t h = 0; h < returns_.size(); ++h) {
      if (option_rows_[h].empty()) {  // the members' sums with the kernel, in the same order
        revaluation_[h].apply(returns_[h], pnl_[h], row_owner_[h], &member_pnl_);
        continue;
      }
      revaluation_[h].apply(returns_[h], pnl_[h]);
      add_option_pnl(h, columns);
      for (std::size_t i = 0; i < row_owner_[h].size(); ++i)
        if (row_owner_[h][i] >= 0) member_pnl_.row(row_owner_[h][i]) += pnl_[h].row(static_cast<Eigen::Index>(i));
    }
  }

  // The P&L of the tile's first `columns` scenarios (scenario j of the tile
  // at column column_[j], -1: none) and the mask of the columns in which
  // some member defaults on the market move alone (market_defaults_mask).
  // Screened (screening_): the scenarios that may have a default (screen())
  // or have a latent one move to the first columns, and only those are
  // revalued; every column when they are many (and the next kScreenBackoff
  // tiles without screening).
  std::uint64_t revalue_tile(std::int64_t first, std::int64_t columns, const std::array<double, kTile>& factor) {
    if (screen_wait_ > 0) {
      --screen_wait_;
    } else if (screening_) {
      std::uint64_t maybe = screen(columns);
      for (std::int64_t j = 0; j < columns; ++j)
        if (draw_latent(first + j, factor[static_cast<std::size_t>(j)], [](std::size_t) { return 0.0; }))
          maybe |= std::uint64_t{1} << j;
      const int n = std::popcount(maybe);
      if (n <= kExactColumns) {
        column_.fill(-1);
        Eigen::Index c = 0;
        // Column j to column c <= j: in ascending order no column still to move is overwritten.
        for (std::uint64_t bits = maybe; bits != 0; bits &= bits - 1, ++c) {
          const int j = std::countr_zero(bits);
          column_[static_cast<std::size_t>(j)] = c;
          for (auto& r : returns_) r.col(c) = r.col(j);
        }
        exact_ = 0;
        if (n == 0) return 0;
        exact_columns(0, n);
        std::uint64_t mask = 0;
        for (Eigen::Index m = 0; m < member_pnl_.rows(); ++m)
          for (Eigen::Index k = 0; k < n; ++k)
            mask |= static_cast<std::uint64_t>(cushion_[static_cast<std::size_t>(m)] + member_pnl_(m, k) < 0.0) << k;
        return mask;
      }
      screen_wait_ = kScreenBackoff;
    }
    for (std::size_t j = 0; j < column_.size(); ++j) column_[j] = static_cast<Eigen::Index>(j);
    revalue(columns);
    return market_defaults_mask();
  }

  // Member-level screening of the tile's first `columns` columns, without
  // revaluing: a member's P&L over its positions (net over its accounts at a
  // horizon) is at least minus its loss bound, the sum over the horizons of
  // its long values x the largest fall of any asset + its short values x the
  // largest rise, less the slack left for rounding (screen_margin). Returns
  // the columns in which some member's cushion does not cover that: bit j
  // set when column j may have a default on the market move alone.
  std::uint64_t screen(std::int64_t columns) {
    const auto n_horizons = static_cast<Eigen::Index>(returns_.size());
    screen_fall_.setZero();
    screen_rise_.setZero();
    for (Eigen::Index h = 0; h < n_horizons; ++h) {
      const RowMatrix& r = returns_[static_cast<std::size_t>(h)];
      double* fall = screen_fall_.row(h).data();
      double* rise = screen_rise_.row(h).data();
      for (Eigen::Index a = 0; a < r.rows(); ++a) {
        const double* row = r.row(a).data();
        for (Eigen::Index j = 0; j < kTile; ++j) {
          fall[j] = std::max(fall[j], -row[j]);
          rise[j] = std::max(rise[j], row[j]);
        }
      }
    }
    std::array<double, kTile> move{}, loss{};
    for (Eigen::Index h = 0; h < n_horizons; ++h)
      for (Eigen::Index j = 0; j < kTile; ++j) move[j] = std::max({move[j], screen_fall_(h, j), screen_rise_(h, j)});
    std::uint64_t maybe = 0;
    for (Eigen::Index m = 0; m < screen_long_.rows(); ++m) {
      const auto mi = static_cast<std::size_t>(m);
      loss.fill(0.0);
      for (Eigen::Index h = 0; h < n_horizons; ++h) {
        const double longs = screen_long_(m, h), shorts = screen_short_(m, h);
        const double* fall = screen_fall_.row(h).data();
        const double* rise = screen_rise_.row(h).data();
        for (Eigen::Index j = 0; j < kTile; ++j) loss[j] += longs * fall[j] + shorts * rise[j];
      }
      const double cushion = cushion_[mi], gross = screen_gross_[mi];
      std::uint64_t bits = 0;
      for (Eigen::Index j = 0; j < kTile; ++j) {
        const double head = cushion - loss[j] - screen_margin(cushion, gross * move[j] + loss[j]);
        bits |= static_cast<std::uint64_t>(head < 0.0) << j;
      }
      maybe |= bits;
    }
    return columns < kTile ? maybe & ((std::uint64_t{1} << columns) - 1) : maybe;
  }

  // Columns [first, last) of the tile exact: every account's P&L by the
  // kernel (Revaluation::apply_columns, the same numbers as over the whole
  // tile: the same sequence of operations per element) and the members' sums
  // in revalue()'s order. With `transposed`, the accounts' P&L goes there
  // instead of the tile (its rows [first, last): columns x accounts,
  // Revaluation::apply_columns_to).
  void exact_columns(Eigen::Index first, Eigen::Index last, RowMatrix* transposed = nullptr) {
    member_pnl_.middleCols(first, last - first).setZero();
    if (transposed) transposed->resize(kTile, static_cast<Eigen::Index>(model_.accounts.size()));
    for (std::size_t h = 0; h < returns_.size(); ++h) {
      if (transposed)
        revaluation_[h].apply_columns_to(returns_[h], first, last, *transposed, model_.horizon_accounts[h],
                                         row_owner_[h], &member_pnl_);
      else
        revaluation_[h].apply_columns(returns_[h], first, last, pnl_[h], row_owner_[h], &member_pnl_);
    }
    for (Eigen::Index j = first; j < last; ++j) exact_ |= std::uint64_t{1} << j;
  }

  // Full revaluation of the options (SPEC 3.2): per scenario column, each
  // option held at horizon h once by Black-76 after the move of its
  // underlying (F' = F (1 + R), vol by vol_beta and the stress's vol move,
  // h days of time decay), then q x dV added to each holding row in a fixed
  // order, so a column's numbers do not depend on the tile around it.
  // On a path (path_chunk_ >= 0) column j is point path_chunk_ + j: its
  // days of decay and its vol column.
  void add_option_pnl(std::size_t h, std::int64_t columns) {
    const auto& used = horizon_options_[h];
    for (Eigen::Index j = 0; j < columns; ++j) {
      const Eigen::Index hi = path_chunk_ >= 0
                                  ? (path_chunk_ + j) % static_cast<Eigen::Index>(model_.steps.points.size())
                                  : static_cast<Eigen::Index>(h);
      const double elapsed =
          (path_chunk_ >= 0 ? model_.steps.points[static_cast<std::size_t>(hi)] : model_.horizons[h]) / 365.0;
      for (std::size_t k = 0; k < used.size(); ++k) {
        const OptionModel& o = model_.options[static_cast<std::size_t>(used[k])];
        const auto a = static_cast<Eigen::Index>(o.underlying);
        const double price = model_.assets[static_cast<std::size_t>(o.underlying)].price;
        option_dv_[k] =
            models::black76_value_after(o.contract, price, returns_[h](a, j), vol_factor_(a, hi), elapsed) - o.value;
      }
      for (const OptionRow& r : option_rows_[h])
        pnl_[h](r.row, j) += r.quantity * option_dv_[static_cast<std::size_t>(r.slot)];
    }
  }

  // Column-major copies of the tile's P&L: one scenario's column is then
  // contiguous for the cascade's gathers.
  void transpose_tile() {
    transpose_block(member_pnl_, member_pnl_t_);
    for (std::size_t h = 0; h < pnl_.size(); ++h) transpose_block(pnl_[h], pnl_t_[h]);
    transposed_ = true;
  }

  // dst = src in blocks of 8 rows: each row of the block is read
  // whole and each column's 8 values are one cache line written, where an
  // element-wise copy reads every row once per column.
  static void transpose_block(const RowMatrix& src, Eigen::MatrixXd& dst) {
    constexpr Eigen::Index kBlock = 8;
    const Eigen::Index rows = src.rows(), cols = src.cols();
    dst.resize(rows, cols);
    const double* in = src.data();
    double* out = dst.data();
    for (Eigen::Index i0 = 0; i0 < rows; i0 += kBlock) {
      const Eigen::Index i1 = std::min(rows, i0 + kBlock);
      for (Eigen::Index j = 0; j < cols; ++j)
        for (Eigen::Index i = i0; i < i1; ++i) out[j * rows + i] = in[i * cols + j];
    }
  }

  // Bit j set: some member defaults on the market move of column j alone.
  std::uint64_t market_defaults_mask() const {
    std::uint64_t mask = 0;
    for (Eigen::Index m = 0; m < member_pnl_.rows(); ++m) {
      const double* row = member_pnl_.row(m).data();
      const double cushion = cushion_[static_cast<std::size_t>(m)];
      std::uint64_t bits = 0;
      for (int j = 0; j < kTile; ++j) bits |= static_cast<std::uint64_t>(cushion + row[j] < 0.0) << j;
      mask |= bits;
    }
    return mask;
  }

  // The latent factor model: member m defaults when
  //   beta F + sqrt(1 - beta^2) eps_m < Phi^-1(PD_m),
  // i.e. with probability q = Phi((Phi^-1(PD) - beta F) / sqrt(1 - beta^2))
  // given F, independently across members. Within a class of equal PD the
  // defaulters are drawn exactly by geometric skips between them (one uniform
  // per default instead of one per member).
  // With the own-book factor (defaults.latent.factor), member m loads on
  // F_m = its P&L (member_pnl(m)) / book_sd instead of F: see draw_own_book.
  template <class MemberPnl>
  bool draw_latent(std::int64_t index, double factor, const MemberPnl& member_pnl) {
    latent_defaults_.clear();
    if (latent_.empty()) return false;
    if (model_.latent_own_book) return draw_own_book(index, member_pnl);
    const double beta = model_.latent_beta, idio = std::sqrt(std::max(0.0, 1.0 - beta * beta));
    for (std::size_t k = 0; k < latent_.size(); ++k) {
      const LatentClass& c = latent_[k];
      const double x = c.threshold - beta * factor;
      const double q = idio > 0.0 ? models::normal_cdf(x / idio) : (x > 0.0 ? 1.0 : 0.0);
      if (q <= 0.0) continue;
      const auto n = static_cast<std::int64_t>(c.members.size());
      if (q >= 1.0) {
        latent_defaults_.insert(latent_defaults_.end(), c.members.begin(), c.members.end());
        continue;
      }
      rng::Draws draws(defaults_rng_, static_cast<std::uint64_t>(index), k);
      const double log_keep = std::log1p(-q);
      std::int64_t i = -1;
      while (true) {
        const double skip = std::floor(std::log(draws.uniform()) / log_keep);
        if (skip >= static_cast<double>(n)) break;
        i += static_cast<std::int64_t>(skip) + 1;
        if (i >= n) break;
        latent_defaults_.push_back(c.members[static_cast<std::size_t>(i)]);
      }
    }
    return !latent_defaults_.empty();
  }

  // The own-book latent factor: member m (PD > 0, ascending) defaults when
  //   beta F_m + sqrt(1 - beta^2) eps_m < Phi^-1(PD_m),  F_m = P&L_m / sd_m,
  // with probability q_m = Phi((Phi^-1(PD_m) - beta F_m) / sqrt(1 - beta^2))
  // given its P&L; one uniform per member (stream kDefaults, substream
  // kOwnBookSubstream). A member without positions (sd 0) defaults with its PD.
  template <class MemberPnl>
  bool draw_own_book(std::int64_t index, const MemberPnl& member_pnl) {
    const double beta = model_.latent_beta, idio = std::sqrt(std::max(0.0, 1.0 - beta * beta));
    rng::Draws draws(defaults_rng_, static_cast<std::uint64_t>(index), kOwnBookSubstream);
    for (int m : latent_members_) {
      const MemberModel& member = model_.members[static_cast<std::size_t>(m)];
      const double u = draws.uniform();
      double q = member.pd;
      if (member.book_sd > 0.0 && member.pd < 1.0) {
        const double x =
            models::normal_quantile(member.pd) - beta * member_pnl(static_cast<std::size_t>(m)) / member.book_sd;
        q = idio > 0.0 ? models::normal_cdf(x / idio) : (x > 0.0 ? 1.0 : 0.0);
      }
      if (u < q) latent_defaults_.push_back(m);
    }
    return !latent_defaults_.empty();
  }

  // The accounts liquidated in column j: at lending protocols and at crypto
  // venues with maintenance rates. True when there are.
  bool collect_liquidations(std::int64_t j) {
    liquidations_.clear();
    const bool lending = collect_lending(j);
    const bool venues = collect_venues(j);
    return lending || venues;
  }

  // The borrowers' accounts at lending protocols in column j (SPEC 3.6): each
  // account's collateral and debt follow the log-linear path of the
  // scenario's moves over its protocol's MPOR, liquidated by the protocol's
  // close factor each time its health factor falls below 1
  // (models::liquidate_on_log_path). The protocol loses the bad debt written
  // off on the path, and that of closing what is left at the end of the
  // period if the owner defaults.
  bool collect_lending(std::int64_t j) {
    lending_lines_.clear();
    bool any = false;
    for (const LendingAccount& l : lending_) {
      const LendingRules& rules = *model_.ccps[static_cast<std::size_t>(l.ccp)].lending;
      const auto& r = returns_[static_cast<std::size_t>(l.horizon)];
      for (Eigen::Index a = 0; a < log_moves_.size(); ++a) log_moves_(a) = std::log1p(r(a, j));
      models::LendingAccount left = l.units;
      const double delay = rules.oracle_delay_hours / (24.0 * model_.horizons[static_cast<std::size_t>(l.horizon)]);
      const models::LendingPathOutcome o =
          models::liquidate_on_log_path(rules.market, left, prices_, log_moves_, delay);
      const bool liquidated = !o.calls.empty();
      liquidations_.push_back({l.account, o.bad_debt, liquidated, o.closing_bad_debt});
      // The owner ends the period with what the liquidations left: its P&L
      // moves by the end value of the units it no longer holds or owes.
      double kept = 0.0;
      for (std::size_t a = 0; a < left.debt.size() && liquidated; ++a)
        kept += ((left.collateral[a] - l.units.collateral[a]) - (left.debt[a] - l.units.debt[a])) *
                prices_(static_cast<Eigen::Index>(a)) * (1.0 + r(static_cast<Eigen::Index>(a), j));
      lending_lines_.push_back(
          {{l.account, static_cast<int>(o.calls.size()), o.health_factor_start, o.health_factor_end,
            o.collateral_seized_value, o.debt_repaid_value, o.bad_debt, o.closing_bad_debt},
           kept});
      any = any || liquidated;
    }
    return any;
  }

  // The member accounts of crypto venues with maintenance rates in column j
  // (models/waterfall/venue_liquidation.hpp): equity = IM + P&L over the
  // venue's MPOR, maintenance margin = the tiered maintenance rates on the
  // positions' values at the mark; below it, the account is closed in the
  // market at the square-root impact cost of its mark values.
  bool collect_venues(std::int64_t j) {
    venue_lines_.clear();
    for (const VenueAccount& v : venue_) {
      const auto& r = returns_[static_cast<std::size_t>(v.horizon)];
      const auto ret = [&r, j](Eigen::Index a) { return r(a, j); };
      const double pnl = pnl_[static_cast<std::size_t>(v.horizon)](v.row, j);
      const double maintenance = venue_maintenance(v, ret);
      if (v.margin + pnl < maintenance) add_venue_line(v, pnl, maintenance, ret, -1.0, 0.0);
    }
    return !venue_lines_.empty();
  }

  // The maintenance margin of venue account v at the mark: the tiered
  // maintenance rates (or its observed rate) on its positions' values moved
  // by ret(asset), each asset's simple return from today to the mark.
  template <class Return>
  double venue_maintenance(const VenueAccount& v, const Return& ret) const {
    const CcpModel& ccp = model_.ccps[static_cast<std::size_t>(v.ccp)];
    double maintenance = 0.0;
    for (const auto& [a, x] : values(v)) {
      const double mark = std::abs(v.held * x * (1.0 + ret(a)));
      maintenance +=
          v.maintenance_rate >= 0.0 ? v.maintenance_rate * mark : models::tiered_margin(mark, ccp.maintenance);
    }
    return maintenance;
  }

  // Venue account v closed at its mark (P&L `pnl` from today, returns ret):
  // its line (venue_lines_, closed on `day`) and its liquidation for the
  // cascade (liquidations_): loss -P&L + the impact cost, its margin behind it.
  // `cost` < 0: the square-root cost of its own close; otherwise that cost.
  template <class Return>
  void add_venue_line(const VenueAccount& v, double pnl, double maintenance, const Return& ret, double cost,
                      double day) {
    VenueLine line = venue_close_out(v, pnl, maintenance, ret, cost);
    line.day = day;
    liquidations_.push_back({v.account, 0.0, true, 0.0, line.impact_cost - pnl, v.margin, pnl});
    venue_lines_.push_back(line);
  }

  // One venue account's close: a single contract through models::venue_close_out
  // (its bankruptcy and execution prices), several through
  // venue_account_close_out with models::liquidation_cost on the mark values
  // (or `cost` when >= 0).
  template <class Return>
  VenueLine venue_close_out(const VenueAccount& v, double pnl, double maintenance, const Return& ret,
                            double cost) const {
    models::VenueLiquidation c;
    if (v.single) {
      const auto [a, x] = values(v)[0];
      const AssetModel& asset = model_.assets[static_cast<std::size_t>(a)];
      const models::VenuePosition p{x > 0.0 ? models::Side::kLong : models::Side::kShort,
                                    v.held * std::abs(x) / asset.price,
                                    asset.price,
                                    asset.price * (1.0 + ret(a)),
                                    v.margin,
                                    maintenance};
      c = cost < 0.0 ? models::venue_close_out(p, {asset.adv, asset.liquidation_k}) : models::venue_close_out(p, cost);
    } else {
      if (cost < 0.0) {
        const std::vector<AssetValue>& held = values(v);
        Eigen::VectorXd mark(static_cast<Eigen::Index>(held.size())), adv(mark.size()), k(mark.size());
        for (std::size_t i = 0; i < held.size(); ++i) {
          const auto [a, x] = held[i];
          const AssetModel& asset = model_.assets[static_cast<std::size_t>(a)];
          mark(static_cast<Eigen::Index>(i)) = std::abs(v.held * x * (1.0 + ret(a)));
          adv(static_cast<Eigen::Index>(i)) = asset.adv;
          k(static_cast<Eigen::Index>(i)) = asset.liquidation_k;
        }
        cost = models::liquidation_cost(mark, adv, k);
      }
      c = models::venue_account_close_out(v.margin, pnl, maintenance, cost);
    }
    return {v.account,          v.margin,         pnl, maintenance, c.impact_cost, c.surplus, c.shortfall,
            c.bankruptcy_price, c.execution_price};
  }

  // The liquidations of column j (collected already or not): counted, traced,
  // and what they change in their owners' P&L applied: a borrower's is that of
  // what it holds and owes at the end; a venue account's owner loses its
  // margin (not its P&L) and pays no variation margin on it. True when there are.
  bool apply_liquidations(std::int64_t j, bool collected, ScenarioResult& out, CascadeTrace* trace) {
    if (!has_liquidations_) return false;
    const bool liquidating = collected ? any_liquidated() : collect_liquidations(j);
    out.liquidations = static_cast<int>(
        std::count_if(lending_lines_.begin(), lending_lines_.end(), [](const auto& l) { return l.first.calls > 0; }));
    out.venue_liquidations = static_cast<int>(venue_lines_.size());
    for (const auto& [line, kept] : lending_lines_) {
      const auto m = static_cast<std::size_t>(model_.accounts[static_cast<std::size_t>(line.account)].owner);
      member_capital_[m] += kept;
      member_cash_[m] += kept;
      if (trace) trace->lending.push_back(line);
    }
    for (const VenueLine& line : venue_lines_) {
      const auto m = static_cast<std::size_t>(model_.accounts[static_cast<std::size_t>(line.account)].owner);
      member_capital_[m] -= line.margin + line.pnl;
      member_cash_[m] -= line.pnl;
      if (trace) trace->venue.push_back(line);
    }
    return liquidating;
  }

  // Each CCP's insurance fund in column j: a fund held in a crypto asset
  // moves with the asset's return over the CCP's MPOR.
  std::span<const double> insurance_funds(std::int64_t j) {
    if (!funds_move_) return {};
    for (std::size_t c = 0; c < model_.ccps.size(); ++c) {
      const CcpModel& ccp = model_.ccps[c];
      funds_[c] = ccp.insurance_fund;
      if (ccp.insurance_fund_asset >= 0)
        funds_[c] *= 1.0 + returns_[static_cast<std::size_t>(ccp.horizon)](ccp.insurance_fund_asset, j);
    }
    return funds_;
  }

  // Column j of the revalued tile is scenario `index` (its result reset):
  // settlement effects, initial defaults, then the cascade.
  // `collected`: collect_liquidations(j) ran for this scenario already.
  void evaluate(std::int64_t index, std::int64_t j, ScenarioResult& out, CascadeTrace* trace = nullptr,
                bool collected = false) {
    const std::size_t n_members = model_.members.size();
    const std::span<const double> column = member_column(j);
    // What the scenario adds to each member's capital and cash: its P&L,
    // less what settlement and liquidations change (then copies).
    std::span<const double> capital = column, cash = column, accounts;
    const SettlementState* settled = nullptr;
    if (settlement_.active()) {
      accounts = account_column(j);
      for (std::size_t h = 0; h < returns_.size(); ++h)
        scenario_returns_.col(static_cast<Eigen::Index>(h)) = returns_[h].col(j);
      settlement_.apply(static_cast<std::uint64_t>(index), accounts, scenario_returns_, settle_state_, out.settlement);
      settled = &settle_state_;
      for (std::size_t m = 0; m < n_members; ++m) {
        member_capital_[m] = column[m] - settle_state_.capital_charge[m];
        member_cash_[m] = column[m] - settle_state_.cash_charge[m] - settle_state_.late_inflow[m];
      }
    } else if (has_liquidations_) {
      std::copy(column.begin(), column.end(), member_capital_.begin());
      std::copy(column.begin(), column.end(), member_cash_.begin());
    }
    if (settled || has_liquidations_) {
      capital = member_capital_;
      cash = member_cash_;
    }
    const bool liquidating = apply_liquidations(j, collected, out, trace);
    // With capital and cash both the P&L, a member whose cushion covers its
    // loss passes both tests (test_member: capital + P&L and liquidity + P&L
    // both >= 0 exactly when min(capital, liquidity) + P&L is).
    const bool cushioned = capital.data() == cash.data();
    bool any = false;
    for (std::size_t m = 0; m < n_members; ++m)
      initial_[m] = exogenous_[m] ? DefaultCause::kExogenous : DefaultCause::kNone;
    for (int m : latent_defaults_)
      if (initial_[static_cast<std::size_t>(m)] == DefaultCause::kNone)
        initial_[static_cast<std::size_t>(m)] = DefaultCause::kLatent;
    for (std::size_t m = 0; m < n_members; ++m) {
      DefaultCause& cause = initial_[m];
      if (cause == DefaultCause::kNone && !(cushioned && cushion_[m] + capital[m] >= 0.0)) {
        const MemberModel& mem = model_.members[m];
        cause = test_member(mem.capital + capital[m], mem.liquidity + cash[m], false,
                            settled ? &settle_state_.late_inflow[m] : nullptr, out);
      }
      any = any || cause != DefaultCause::kNone;
    }
    if (!any && !liquidating) return;
    propagate_groups();
    if (!settled) accounts = account_column(j);
    cascade_.run(accounts, capital, cash, initial_, out, trace, settled, liquidations_, insurance_funds(j));
  }

  // Column j's P&L of every member: the transposed tile's column, or
  // gathered from the row-major tile.
  std::span<const double> member_column(std::int64_t j) {
    if (transposed_) return {member_pnl_t_.col(j).data(), model_.members.size()};
    for (std::size_t m = 0; m < model_.members.size(); ++m)
      member_column_[m] = member_pnl_(static_cast<Eigen::Index>(m), j);
    return member_column_;
  }

  // Column j's P&L of every account: the transposed tile's column itself when
  // its one horizon lists every account (ascending), otherwise gathered.
  std::span<const double> account_column(std::int64_t j) {
    if (transposed_ && pnl_.size() == 1 && model_.horizon_accounts[0].size() == model_.accounts.size())
      return {pnl_t_[0].col(j).data(), model_.accounts.size()};
    for (std::size_t h = 0; h < pnl_.size(); ++h) {
      const auto& ids = model_.horizon_accounts[h];
      for (std::size_t i = 0; i < ids.size(); ++i)
        account_pnl_[static_cast<std::size_t>(ids[i])] =
            transposed_ ? pnl_t_[h](static_cast<Eigen::Index>(i), j) : pnl_[h](static_cast<Eigen::Index>(i), j);
    }
    return account_pnl_;
  }

  // Members of one group default together (at the start too).
  void propagate_groups() {
    for (const int g : grouped_) {
      const auto m = static_cast<std::size_t>(g);
      if (initial_[m] == DefaultCause::kNone || initial_[m] == DefaultCause::kGroup) continue;
      for (int other : model_.groups[static_cast<std::size_t>(model_.members[m].group)])
        if (initial_[static_cast<std::size_t>(other)] == DefaultCause::kNone)
          initial_[static_cast<std::size_t>(other)] = DefaultCause::kGroup;
    }
  }

  // ---- time steps (Model::steps)

  // Scenarios [first, first + count) along their paths of steps. When a
  // path's points fit in a tile, kTile / points scenarios share one
  // revaluation (column i x points + p: the i-th scenario at point p); a
  // longer path is revalued alone, in chunks of points.
  void simulate_paths(std::int64_t first, std::int64_t count, ScenarioResult* out) {
    const auto n_points = static_cast<std::int64_t>(model_.steps.points.size());
    const bool shared = n_points <= kTile;
    const std::int64_t per = shared ? kTile / n_points : 1;
    std::array<double, kTile> factor{};
    if (shared)
      shocks_.generate_tile(static_cast<std::uint64_t>(first),
                            std::span(tile_cumulatives_).first(static_cast<std::size_t>(count)),
                            std::span(factor).first(static_cast<std::size_t>(count)));
    for (std::int64_t j0 = 0; j0 < count; j0 += per) {
      const std::int64_t n = std::min(per, count - j0);
      if (shared) {
        for (auto& r : returns_) r.setZero();
        for (std::int64_t i = 0; i < n; ++i) {
          const Eigen::MatrixXd& path = tile_cumulatives_[static_cast<std::size_t>(j0 + i)];
          set_path_returns(i * n_points, path);
          margins_.compute(path, static_cast<int>(i));
        }
        revalue_paths(n);
      }
      for (std::int64_t i = 0; i < n; ++i) {
        const std::int64_t index = first + j0 + i;
        if (!shared) {
          shocks_.generate(static_cast<std::uint64_t>(index), cumulative_, factor[0]);
          margins_.compute(cumulative_, 0);
          revalue_path();
          first_market_defaults(1);
        }
        path_offset_ = shared ? static_cast<Eigen::Index>(i * n_points) : 0;
        path_slot_ = shared ? static_cast<int>(i) : 0;
        path_in_tile_ = shared || n_points <= kTile;
        path_compact_ = shared && tile_compact_;
        if (shared) cumulative_ = tile_cumulatives_[static_cast<std::size_t>(j0 + i)];
        ScenarioResult& r = out[j0 + i];
        r.reset(model_, index);  // before the swap: reset frees a list far larger than its contents
        std::swap(r.account_losses, scratch_losses_);
        r.market_factor = factor[static_cast<std::size_t>(shared ? j0 + i : 0)];
        const bool latent = draw_latent(index, r.market_factor, [&](std::size_t m) { return first_window_pnl(m); });
        const bool ran =
            run_path(latent || any_exogenous_, first_step_[static_cast<std::size_t>(shared ? i : 0)], r, nullptr);
        if (model_.liquidity_needs) liquidity_needs(r);
        std::swap(r.account_losses, scratch_losses_);
        fold_losses();
        r.quiet = !ran && !model_.liquidity_needs;
      }
    }
  }

  // The n paths of a shared revaluation (path i at columns [i x points,
  // (i + 1) x points)) and each one's first market default (first_step_).
  // Screened (screening_): a path on which no member may miss a call by
  // PathScreen needs no revaluation, a flagged one its candidates' P&L
  // (flagged_path_default); when many paths need every account's P&L (many
  // candidates, or a default), the next kPathScreenBackoff tiles are not
  // screened. Where the kernel of
  // exact_columns applies (screening_), each path's P&L goes straight into
  // exact_tile_; otherwise the tile is revalued. The results are the same
  // either way, only the time differs.
  void revalue_paths(std::int64_t n) {
    const auto n_points = static_cast<std::int64_t>(model_.steps.points.size());
    path_in_tile_ = true;
    tile_compact_ = screening_;
    exact_ = 0;
    if (screen_wait_ > 0) {
      --screen_wait_;
    } else if (screening_) {
      first_step_.assign(static_cast<std::size_t>(n), -1);  // the paths not flagged have no market default
      std::int64_t revalued = 0;
      for (std::int64_t i = 0; i < n; ++i) {
        if (!path_screen_.may_default(returns_[0], i * n_points, model_.steps.end, cushion_, margins_.active(),
                                      [this, i](std::size_t m, int k) { return im_call(m, k, i); }))
          continue;
        const std::span<const int> near = path_screen_.candidates();
        path_members_[static_cast<std::size_t>(i)].assign(near.begin(), near.end());
        const int first = flagged_path_default(i);
        first_step_[static_cast<std::size_t>(i)] = first;
        revalued += static_cast<std::int64_t>(first >= 0 || ((exact_ >> (i * n_points)) & 1u) != 0);
      }
      if (revalued * n_points > kExactPathColumns) screen_wait_ = kPathScreenBackoff;
      return;
    }
    if (screening_) {
      exact_columns(0, n * n_points, &exact_tile_);
    } else {
      path_chunk_ = 0;
      revalue(n * n_points);
      path_chunk_ = -1;
    }
    first_market_defaults(n);
  }

  // The first market default on flagged path i of a screened tile (-1: none),
  // only its candidates (path_members_[i]) able to default: their P&L first
  // (candidate_pnl); every account's is computed by run_path when the path
  // runs through the steps. Many candidates: every account at once.
  int flagged_path_default(std::int64_t i) {
    const std::vector<int>& members = path_members_[static_cast<std::size_t>(i)];
    if (members.size() * 2 > model_.members.size()) exact_columns_of_path(i);
    if (((exact_ >> (i * static_cast<std::int64_t>(model_.steps.points.size()))) & 1u) == 0) candidate_pnl(i);
    return first_market_default(i, members);
  }

  // The P&L of path i's candidates alone, into their rows of the tile's
  // member sums: their accounts' rows by the kernel of exact_columns, added
  // in its order (Revaluation::add_row_sums), so the numbers are the same.
  void candidate_pnl(std::int64_t i) {
    const auto n_points = static_cast<Eigen::Index>(model_.steps.points.size());
    const Eigen::Index first = i * n_points;
    const std::vector<int>& members = path_members_[static_cast<std::size_t>(i)];
    for (int m : members) member_pnl_.row(m).segment(first, n_points).setZero();
    for (std::size_t h = 0; h < returns_.size(); ++h) {
      candidate_rows_.clear();
      for (int m : members) {
        const std::vector<int>& rows = member_rows_[h * model_.members.size() + static_cast<std::size_t>(m)];
        candidate_rows_.insert(candidate_rows_.end(), rows.begin(), rows.end());
      }
      revaluation_[h].add_row_sums(returns_[h], first, first + n_points, candidate_rows_, row_owner_[h], member_pnl_);
    }
  }

  // The columns of path i of a shared revaluation exact from its point
  // `from` on: its accounts' P&L into its rows of exact_tile_ (points x
  // accounts), its members' in the tile. A path's exact columns are always a
  // suffix of its points (a path run from step k reads no point before the
  // step's start): only the columns before that suffix are computed. Each
  // column's numbers are its own (Revaluation: one accumulation per element),
  // so a path made exact in pieces has those of one pass.
  void exact_columns_of_path(std::int64_t i, Eigen::Index from = 0) {
    const auto n_points = static_cast<Eigen::Index>(model_.steps.points.size());
    const Eigen::Index first = i * n_points + from;
    Eigen::Index last = (i + 1) * n_points;
    while (last > first && ((exact_ >> (last - 1)) & 1u) != 0) --last;
    if (last > first) exact_columns(first, last, &exact_tile_);
  }

  // Columns [column, column + points) of the tile's returns: the path
  // `cumulative` (simple returns from today at each point).
  void set_path_returns(std::int64_t column, const Eigen::MatrixXd& cumulative) {
    const auto n_points = static_cast<Eigen::Index>(model_.steps.points.size());
    for (auto& r : returns_)
      for (Eigen::Index p = 0; p < n_points; ++p)
        r.col(static_cast<Eigen::Index>(column) + p) = cumulative.col(p).array().exp() - 1.0;
  }

  // One path (cumulative_) revalued: in the tile when its points fit,
  // otherwise chunk by chunk into path_pnl_ (accounts x points) and
  // path_member_ (members x points).
  // `alone`: into path_pnl_ and path_member_ whatever the path's length,
  // through the second set of buffers, so that the tile (the other paths of
  // a shared revaluation) stays as it is.
  void revalue_path(bool alone = false) {
    const auto n_points = static_cast<Eigen::Index>(model_.steps.points.size());
    path_offset_ = 0;
    step_pnl_ready_ = step_member_ready_ = false;
    path_compact_ = false;
    if (alone) swap_buffers();
    if (n_points <= kTile && !alone) {
      for (auto& r : returns_) r.setZero();
      set_path_returns(0, cumulative_);
      path_chunk_ = 0;
      revalue(n_points);
      path_chunk_ = -1;
      path_in_tile_ = true;
      return;
    }
    path_pnl_.resize(static_cast<Eigen::Index>(model_.accounts.size()), n_points);
    path_member_.resize(static_cast<Eigen::Index>(model_.members.size()), n_points);
    for (Eigen::Index p0 = 0; p0 < n_points; p0 += kTile) {
      const Eigen::Index columns = std::min<Eigen::Index>(kTile, n_points - p0);
      for (auto& r : returns_) {
        r.setZero();
        for (Eigen::Index j = 0; j < columns; ++j) r.col(j) = cumulative_.col(p0 + j).array().exp() - 1.0;
      }
      path_chunk_ = p0;
      revalue(columns);
      path_chunk_ = -1;
      for (std::size_t h = 0; h < pnl_.size(); ++h) {
        const auto& ids = model_.horizon_accounts[h];
        for (std::size_t i = 0; i < ids.size(); ++i)
          path_pnl_.row(ids[i]).segment(p0, columns) = pnl_[h].row(static_cast<Eigen::Index>(i)).head(columns);
      }
      path_member_.middleCols(p0, columns) = member_pnl_.leftCols(columns);
    }
    path_in_tile_ = false;
    if (alone) swap_buffers();
  }

  void swap_buffers() {
    std::swap(returns_, alt_returns_);
    std::swap(pnl_, alt_pnl_);
    std::swap(member_pnl_, alt_member_pnl_);
    std::swap(exact_, alt_exact_);
  }

  // ---- fire sales (models/market/fire_sale.hpp)

  // The net value (USD at today's prices) that closing the accounts of
  // `members` trades in each asset, into flow_: a CCP sells a defaulter's
  // longs and buys back its shorts (options by their delta). Accounts at a
  // CCP that failed before `day` were torn up with it, not liquidated; those
  // a venue closed were sold then, and the venue accounts of the step
  // (step_venue_) are sold with them.
  // Members in `from_end` are closed out from the step's end (they paid its
  // variation margin: Cascade::closeout_from_end) and trade at its prices.
  template <class Members>
  void closing_flow(const Members& members, double day, const ScenarioResult& out,
                    const std::vector<bool>* from_end = nullptr) {
    flow_.setZero();
    for (std::size_t i = 0; i < members.size(); ++i) {
      const bool at_end = from_end && (*from_end)[i];
      for (int a : model_.members[static_cast<std::size_t>(members[i])].accounts) {
        const double failed =
            out.ccp_fail_day[static_cast<std::size_t>(model_.accounts[static_cast<std::size_t>(a)].ccp)];
        if ((failed >= 0.0 && failed < day - 1e-9) || liquidated_step_[static_cast<std::size_t>(a)] >= 0) continue;
        add_closing_flow(a, at_end ? end_prices_ : close_out_prices_);
      }
    }
    // The venue accounts closed in the step sell into the same market, and
    // the lending liquidators sell the collateral they seized in it.
    for (const StepVenue& b : step_venue_) add_closing_flow(venue_[b.index].account, close_out_prices_);
    if (!lending_.empty()) flow_ += lending_flow_;  // lending_step ran for every step the cascade runs
  }

  // What closing account `a` trades, at `prices` (over today's; empty:
  // today's), into flow_: the positions it still holds, less those ADL
  // closed against the survivors (Cascade::sold).
  void add_closing_flow(int a, const std::vector<double>& prices) {
    add_closing_flow(a, prices, cascade_.sold(static_cast<std::size_t>(a)));
  }
  // The same for the share `sold` of its positions.
  void add_closing_flow(int a, const std::vector<double>& prices, double sold) {
    for (const auto [asset, value] : model_.accounts[static_cast<std::size_t>(a)].values)
      flow_(asset) -= sold * value * (prices.empty() ? 1.0 : prices[static_cast<std::size_t>(asset)]);
  }

  // What a tear-up closed of account `a`, which held `held` of its book: in
  // each asset the share `torn` gives of its positions opposite the unplaced
  // book (Cascade::torn_shares), at `prices`, into flow_.
  void add_torn_flow(int a, const std::vector<double>& prices, double held, std::span<const double> torn) {
    for (const auto [asset, value] : model_.accounts[static_cast<std::size_t>(a)].values) {
      const double r = torn[static_cast<std::size_t>(asset)];
      if (value * r > 0.0)
        flow_(asset) -= held * std::abs(r) * value * (prices.empty() ? 1.0 : prices[static_cast<std::size_t>(asset)]);
    }
  }

  // Step k's close-outs trade at the prices of the last variation margin
  // their defaulters paid (the MPOR runs from the last margin collected: RTS
  // 153/2013 art. 26), not at today's: their liquidation cost, auction and
  // fire-sale flow (Cascade::set_close_out_prices). Those of its start
  // (close_out_prices_; a step from today leaves today's) for the step's
  // first defaulters; those of its end (end_prices_) for what is closed out
  // from there, when the path has the window (not the horizon's last step).
  void set_close_out_prices(int k) {
    const TimeSteps& steps = model_.steps;
    const auto ks = static_cast<std::size_t>(k);
    const auto ratios = [this](int point, std::vector<double>& prices) {
      prices.resize(model_.assets.size());
      for (std::size_t i = 0; i < prices.size(); ++i)
        prices[i] = std::exp(cumulative_(static_cast<Eigen::Index>(i), point));
    };
    if (steps.start[ks] < 0)
      close_out_prices_.clear();
    else
      ratios(steps.start[ks], close_out_prices_);
    if (k + 1 < steps.count)
      ratios(steps.end[ks], end_prices_);
    else
      end_prices_ = close_out_prices_;
    cascade_.set_close_out_prices(close_out_prices_, end_prices_);
  }

  // Before step k's rounds: its new defaulters' close-outs together move
  // each price by models::fire_sale_moves, and every account closed in the
  // step executes at the moved prices: cost -sum_a x_a s_a
  // (Cascade::set_fire_sale_moves, fire_sale_cost).
  void set_fire_sale_costs(int k, const ScenarioResult& out) {
    new_defaulters_.clear();
    for (std::size_t m = 0; m < model_.members.size(); ++m)
      if (initial_[m] != DefaultCause::kNone && !cascade_.defaulted(m)) new_defaulters_.push_back(static_cast<int>(m));
    closing_flow(new_defaulters_, (k + 1) * model_.steps.days, out);
    step_moves_ = models::fire_sale_moves(flow_, adv_, impact_k_);
    cascade_.set_fire_sale_moves(std::span<const double>(step_moves_.data(), step_moves_.size()));
  }

  // After step k's rounds: the close-outs of the members that defaulted in
  // the step (defaults from `first_default` on) move prices for everyone from
  // the step's end: the log-move is added to the path at every later point,
  // and the path is revalued.
  void move_prices(int k, std::size_t first_default, ScenarioResult& out) {
    new_defaulters_.clear();
    from_end_.clear();
    for (std::size_t i = first_default; i < out.defaults.size(); ++i) {
      const int m = out.defaults[i].member;
      new_defaulters_.push_back(m);
      from_end_.push_back(cascade_.closed_out_from_end(static_cast<std::size_t>(m)));
    }
    const double day = (k + 1) * model_.steps.days;
    closing_flow(new_defaulters_, day, out, &from_end_);
    // Their clients' accounts closed out with them are sold in the same
    // market (each paid its own square-root cost: the move before the rounds
    // cannot know which clients port).
    for (const auto& [a, at_end] : cascade_.closed_clients())
      add_closing_flow(a, at_end ? end_prices_ : close_out_prices_);
    // What the CCPs closed of the survivors' books (ADL, tear-up) they took
    // over: they trade it net of the defaulters' books.
    for (const Cascade::ClosedShare& closed : cascade_.closed_against()) {
      const std::vector<double>& prices = closed.at_end ? end_prices_ : close_out_prices_;
      if (closed.torn < 0)
        add_closing_flow(closed.account, prices, closed.share);
      else
        add_torn_flow(closed.account, prices, closed.share, cascade_.torn_shares(closed));
    }
    // The linked CCPs replacing the positions of peers that failed in the step
    // trade them in the same market (Cascade::link_replacement), from its end.
    for (int a : cascade_.replaced_links()) add_closing_flow(a, end_prices_);
    const Eigen::VectorXd moves = models::fire_sale_moves(flow_, adv_, impact_k_);
    if (moves.isZero(0.0) || k + 1 == model_.steps.count) {
      for (Eigen::Index a = 0; a < moves.size(); ++a)
        out.price_impact[static_cast<std::size_t>(a)] += std::log1p(moves(a));
      return;
    }
    const auto& points = model_.steps.points;
    for (Eigen::Index a = 0; a < moves.size(); ++a) {
      const double log_move = std::log1p(moves(a));
      out.price_impact[static_cast<std::size_t>(a)] += log_move;
      for (std::size_t p = 0; p < points.size(); ++p)
        if (points[p] > day + 1e-9) cumulative_(a, static_cast<Eigen::Index>(p)) += log_move;
    }
    margins_.compute(cumulative_, path_slot_);
    revalue_path(true);
  }

  // Member m's P&L over the close-out windows of the path's first step, each
  // of its accounts from today to its CCP's window end: what it would leave
  // its CCPs to close out if it defaulted at the start (the own-book latent
  // factor's P&L, whose standard deviation is MemberModel::book_sd).
  double first_window_pnl(std::size_t m) const {
    double pnl = 0.0;
    for (const int a : model_.members[m].accounts) {
      const auto ai = static_cast<std::size_t>(a);
      pnl += path_pnl(ai, model_.steps.window[0][static_cast<std::size_t>(account_horizon_[ai])]);
    }
    return pnl;
  }

  // P&L from today to point p of the current path: a member's, an account's.
  double path_member(std::size_t m, int p) const {
    const auto mi = static_cast<Eigen::Index>(m);
    return path_in_tile_ ? member_pnl_(mi, path_offset_ + p) : path_member_(mi, p);
  }
  double path_pnl(std::size_t a, int p) const {
    if (path_compact_) return exact_tile_(path_offset_ + p, static_cast<Eigen::Index>(a));
    if (!path_in_tile_) return path_pnl_(static_cast<Eigen::Index>(a), p);
    const auto h = static_cast<std::size_t>(model_.ccps[static_cast<std::size_t>(model_.accounts[a].ccp)].horizon);
    return pnl_[h](row_in_horizon_[a], path_offset_ + p);
  }

  // The IM member m is called for at the end of step k of the tile's path i.
  double im_call(std::size_t m, int k, std::int64_t i) const {
    return margins_.active() ? std::max(0.0, margins_.increase(m, k, static_cast<int>(i))) : 0.0;
  }

  // For each of the n paths in the tile (one when the path is not in the
  // tile), the first step at whose end some member's capital or cash does not
  // cover the variation margin paid so far: -1 for none.
  void first_market_defaults(std::int64_t n) {
    first_step_.assign(static_cast<std::size_t>(n), -1);
    for (std::int64_t i = 0; i < n; ++i)
      first_step_[static_cast<std::size_t>(i)] = first_market_default(i, all_members_);
  }

  // The same for path i over `members` alone (the others cannot default on it).
  int first_market_default(std::int64_t i, std::span<const int> members) const {
    const TimeSteps& steps = model_.steps;
    const auto n_points = static_cast<std::int64_t>(steps.points.size());
    int first = -1;
    for (const int mi : members) {
      const auto m = static_cast<std::size_t>(mi);
      const double* row = path_in_tile_ ? member_pnl_.row(mi).data() + i * n_points : nullptr;
      const int limit = first < 0 ? steps.count : first;
      for (int k = 0; k < limit; ++k) {
        const int p = steps.end[static_cast<std::size_t>(k)];
        if (cushion_[m] + (row ? row[p] : path_member_(mi, p)) - im_call(m, k, i) < 0.0) {
          first = k;
          break;
        }
      }
    }
    return first;
  }

  // The steps of a revalued path: each step's defaults (the start's
  // exogenous and latent ones in the first; a member that cannot pay the
  // variation margin of a step, or is insolvent after it, at its end) are
  // closed out over their CCP's MPOR from the step's start, and the cascade
  // carries funds, charges and failures to the next step. Before the first
  // default nothing is charged: those steps are skipped.
  // `market_first`: the first step at whose end a member cannot meet the
  // variation margin (first_market_defaults), -1 for none. Returns whether
  // any step ran (false: the path is calm, `out` untouched).
  // A crypto venue's liquidation engine closes an account at the end of the
  // first step whose mark breaches its maintenance margin (collect_step_venues):
  // the path starts at the first such step when it comes before the first default.
  bool run_path(bool start_defaults, int market_first, ScenarioResult& out, CascadeTrace* trace) {
    const TimeSteps& steps = model_.steps;
    forget_path_liquidations();
    step_pnl_ready_ = step_member_ready_ = false;
    // With a settlement layer every step is drawn and may charge or delay.
    int first = start_defaults || settlement_.active() ? 0 : market_first;
    if (settlement_.active()) settle_charged_.assign(2 * model_.members.size(), 0.0);
    if (!venue_.empty() && first != 0) {
      const int breach = first_venue_breach();
      if (breach >= 0 && (first < 0 || breach < first)) first = breach;
    }
    if (!lending_.empty() && first != 0) {
      const int called = first_lending_call(first < 0 ? steps.count : first, out);
      if (called >= 0) first = called;
    }
    if (first < 0) return false;  // calm: no member misses a call, no venue or protocol liquidates
    // A screened path's accounts are revalued from the first step's start on
    // (no settlement, venue or protocol reads an earlier point there).
    if (path_compact_) exact_columns_of_path(path_slot_, std::max(0, steps.start[static_cast<std::size_t>(first)]));
    for (int k = first; k < steps.count; ++k) {
      if (!lending_.empty() && lending_done_ < k) lending_step(k, out);
      if (!venue_.empty()) collect_step_venues(k, out);
      feed_step(k, first, out);
      set_close_out_prices(k);
      step_causes(k, out);
      const std::size_t defaults_before = out.defaults.size();
      if (model_.fire_sales) set_fire_sale_costs(k, out);
      step_liquidations(k, out, trace);
      cascade_.step(initial_, (k + 1) * steps.days, out, trace, liquidations_);
      if (model_.fire_sales) move_prices(k, defaults_before, out);
    }
    cascade_.finish(out);
    return true;
  }

  // Step k's inputs into the cascade: begin() at the path's first step,
  // advance() after (an insurance fund held in a crypto asset revalued at the
  // step's price); the IM held and the ADL marks.
  void feed_step(int k, int first, ScenarioResult& out) {
    const auto b = static_cast<std::size_t>(k & 1);
    std::vector<double>& paid = step_paid_[b];
    const AccountPnl window = step_inputs(k, out, paid);
    std::span<const double> capital = liquidated_inputs(k, paid);
    std::vector<double>& cash_buffer = margins_.active() ? step_cash_[b] : paid;
    if (margins_.active()) step_margins(k, out, paid, cash_buffer);
    std::span<const double> cash = cash_buffer;
    if (settlement_.active()) settle_step(k, out, capital, cash);
    if (k == first) {
      cascade_.begin(window, capital, cash, path_insurance_funds(k));
    } else {
      cascade_.advance(window, capital, cash);
      if (model_.liquidity_needs)
        for (const int a : cascade_.partly_closed())
          held_steps_.push_back({a, k, cascade_.held(static_cast<std::size_t>(a), true)});
      // The accounts met in earlier steps keep this step's share of their
      // default-fund contributions (a custody bridge exploited); those met
      // from now on start from the share kept so far (df_kept).
      if (settlement_.active()) cascade_.keep_default_funds(settle_state_.df_step_kept);
      if (funds_move_) cascade_.revalue_insurance_funds(insurance_fund_growth(k));
    }
    if (settlement_.active()) cascade_.set_settlement(&settle_state_);
    if (margins_.active()) cascade_.set_initial_margins(step_im_[b][0], step_im_[b][1]);
  }

  // The settlement layer of step k (sim/settlement.hpp, time steps): the
  // step's chains drawn and applied to the step's VM (each account's P&L over
  // the step) at the step's end prices; what it charges stays charged from
  // step to step (settle_charged_: capital, then cash, per member), the VM
  // gains late in the step are missing from that step's cash only. capital
  // and cash become the step's inputs net of both, as one period's evaluate().
  void settle_step(int k, ScenarioResult& out, std::span<const double>& capital, std::span<const double>& cash) {
    const TimeSteps& steps = model_.steps;
    const auto ks = static_cast<std::size_t>(k);
    const int end = steps.end[ks], before = k == 0 ? -1 : steps.end[ks - 1];
    for (Eigen::Index i = 0; i < cumulative_.rows(); ++i) {
      const double at_end = cumulative_(i, end);
      first_returns_[static_cast<std::size_t>(i)] =
          std::exp(at_end - (before < 0 ? 0.0 : cumulative_(i, before))) - 1.0;
      scenario_returns_.row(i).setConstant(std::exp(at_end) - 1.0);
    }
    if (stress_path_) {
      const auto listed = [k](const std::vector<int>& ids) {
        return k == 0 ? std::span<const int>(ids) : std::span<const int>();
      };
      settlement_.draw_stress(first_returns_, listed(stress_halted_), listed(stress_exploited_), settle_state_,
                              out.settlement, k, stress_exploit_step_);
      settle_state_.in_steps = true;
      record_settlement_day(k, out);
    } else {
      settlement_.draw_step(static_cast<std::uint64_t>(out.index), k, steps.count, first_returns_, settle_state_,
                            out.settlement);
    }
    // Members closed out in an earlier step settle nothing more.
    settle_state_.defaulted.assign(out.defaults.empty() ? 0 : model_.members.size(), 0);
    for (const MemberDefault& d : out.defaults) settle_state_.defaulted[static_cast<std::size_t>(d.member)] = 1;
    step_vm_.resize(model_.accounts.size());
    for (std::size_t a = 0; a < model_.accounts.size(); ++a)
      step_vm_[a] = path_pnl(a, end) - (before < 0 ? 0.0 : path_pnl(a, before));
    for (const int a : cascade_.partly_closed())  // on what it held at the step's start (Cascade::held)
      step_vm_[static_cast<std::size_t>(a)] *= cascade_.held(static_cast<std::size_t>(a));
    settle_state_.margins = margins_.active() ? &margins_ : nullptr;  // the spiral's calls, for the metrics
    settle_state_.margin_slot = path_slot_;
    settlement_.apply(static_cast<std::uint64_t>(out.index), step_vm_, scenario_returns_, settle_state_,
                      out.settlement);
    const std::size_t n = model_.members.size();
    auto& [settled_capital, settled_cash] = settle_inputs_[ks & 1];
    settled_capital.resize(n);
    settled_cash.resize(n);
    for (std::size_t m = 0; m < n; ++m) {
      settle_charged_[m] += settle_state_.capital_charge[m];
      settle_charged_[n + m] += settle_state_.cash_charge[m];
      settled_capital[m] = capital[m] - settle_charged_[m];
      settled_cash[m] = cash[m] - settle_charged_[n + m] - settle_state_.late_inflow[m];
    }
    capital = settled_capital;
    cash = settled_cash;
  }

  // A deterministic path (ccpnet stress) records, at the start of step k,
  // every CCP's VM gains late and fails so far, and each bridge's exploit step.
  void record_settlement_day(int k, ScenarioResult& out) {
    SettlementOutcome& o = out.settlement;
    if (k == 0) o.exploit_step = settle_state_.exploit_step;
    for (std::size_t c = 0; c < model_.ccps.size(); ++c) {
      o.daily.push_back(o.get(c, CcpSettleMetric::kLateInflows));
      o.daily.push_back(o.get(c, CcpSettleMetric::kFails));
    }
  }

  // Step k's defaults before its rounds: at the start, exogenous and latent
  // ones; then the members' test, groups pulled in.
  void step_causes(int k, ScenarioResult& out) {
    for (std::size_t m = 0; m < model_.members.size(); ++m)
      initial_[m] = k == 0 && exogenous_[m] ? DefaultCause::kExogenous : DefaultCause::kNone;
    if (k == 0)
      for (int m : latent_defaults_)
        if (initial_[static_cast<std::size_t>(m)] == DefaultCause::kNone)
          initial_[static_cast<std::size_t>(m)] = DefaultCause::kLatent;
    cascade_.test_standing(initial_, out);
    propagate_groups();
  }

  // ---- crypto venues' liquidation engines through the steps
  //
  // A venue marks to market continuously and unrealised P&L is part of the
  // margin balance (BitMEX, Binance, dYdX): at the end of every step an open
  // account's equity is its IM + its P&L from today to the step's end, against
  // the maintenance margin at the step's mark. The first step it breaches, it
  // is closed at that step's mark (models::venue_close_out); its owner loses
  // its margin and no longer gains or loses on it; its insurance fund carries
  // from step to step in the cascade, so shortfalls are paid in time order.

  // Forget the accounts the previous path's venues closed and the borrowers'
  // units its protocols liquidated.
  void forget_path_liquidations() {
    held_steps_.clear();
    for (int a : path_liquidated_) liquidated_step_[static_cast<std::size_t>(a)] = -1;
    path_liquidated_.clear();
    step_venue_.clear();
    liquidations_.clear();
    for (std::size_t i : lending_called_) {
      lending_units_[i] = lending_[i].units;
      lending_liquidated_[i] = 0;
    }
    lending_called_.clear();
    lending_done_ = -1;
  }

  // Venue account v at the end of step k of the current path: its P&L from
  // today and its maintenance margin at the step's mark. True when its equity
  // is below it.
  bool venue_breached(const VenueAccount& v, int k, double& pnl, double& maintenance) const {
    const int end = model_.steps.end[static_cast<std::size_t>(k)];
    pnl = v.held * path_pnl(static_cast<std::size_t>(v.account), end);
    maintenance = venue_maintenance(v, [this, end](Eigen::Index a) { return std::exp(cumulative_(a, end)) - 1.0; });
    return v.margin + pnl < maintenance;
  }

  // The first step at whose end some venue account breaches, on the path as
  // it stands before any default: -1 for none.
  int first_venue_breach() const {
    int first = -1;
    double pnl = 0.0, maintenance = 0.0;
    for (const VenueAccount& v : venue_) {
      const int limit = first < 0 ? model_.steps.count : first;
      for (int k = 0; k < limit; ++k)
        if (venue_breached(v, k, pnl, maintenance)) {
          first = k;
          break;
        }
    }
    return first;
  }

  // The venue accounts that breach at the end of step k (step_venue_): open,
  // their owner not in default from an earlier step, their venue standing,
  // on the positions they still hold (auto-deleveraging closed the rest:
  // Cascade::held; its proceeds went to their owners with the ADL charge, and
  // the margin stays behind what is left).
  void collect_step_venues(int k, const ScenarioResult& out) {
    step_venue_.clear();
    for (std::size_t i = 0; i < venue_.size(); ++i) {
      VenueAccount v = venue_[i];
      const auto a = static_cast<std::size_t>(v.account);
      if (liquidated_step_[a] >= 0 || out.ccp_fail_day[static_cast<std::size_t>(v.ccp)] >= 0.0) continue;
      const int owner = model_.accounts[a].owner;
      if (std::any_of(out.defaults.begin(), out.defaults.end(),
                      [owner](const MemberDefault& d) { return d.member == owner; }))
        continue;
      v.held = cascade_.held(a);
      if (!(v.held > 0.0)) continue;  // nothing left to liquidate
      StepVenue breach{i, 0.0, 0.0, v.held};
      if (!venue_breached(v, k, breach.pnl, breach.maintenance)) continue;
      liquidated_step_[a] = k;
      path_liquidated_.push_back(v.account);
      step_venue_.push_back(breach);
    }
  }

  // The owners of the accounts liquidated up to step k. A borrower's gains or
  // loses from the step's end on what the liquidations changed in its units
  // (`paid`: its P&L and cash). A venue account's P&L to the step's end on the
  // positions it held when closed is no longer in what its owner was paid
  // (`paid`; Cascade::advance takes off what ADL closed before), and its
  // margin is lost (the capital returned; `paid` itself when no venue closed
  // an account).
  std::span<const double> liquidated_inputs(int k, std::vector<double>& paid) {
    if (!lending_called_.empty()) lending_kept(k, paid);
    if (path_liquidated_.empty()) return paid;
    const int end = model_.steps.end[static_cast<std::size_t>(k)];
    std::vector<double>& capital = step_capital_[static_cast<std::size_t>(k & 1)];
    for (int a : path_liquidated_) {
      const auto ai = static_cast<std::size_t>(a);
      paid[static_cast<std::size_t>(model_.accounts[ai].owner)] -= cascade_.held(ai) * path_pnl(ai, end);
    }
    capital.assign(paid.begin(), paid.end());
    for (int a : path_liquidated_) {
      const Account& acc = model_.accounts[static_cast<std::size_t>(a)];
      capital[static_cast<std::size_t>(acc.owner)] -= acc.initial_margin;
    }
    return capital;
  }

  // Step k's liquidations for the cascade (liquidations_): the borrowers'
  // (lending_step), then the venue accounts closed at the step's mark (with
  // fire sales at the cost of the step's joint flow, set_fire_sale_costs),
  // counted and traced.
  void step_liquidations(int k, ScenarioResult& out, CascadeTrace* trace) {
    liquidations_.clear();
    venue_lines_.clear();
    if (!lending_.empty()) add_lending_step(out, trace);
    const int end = model_.steps.end[static_cast<std::size_t>(k)];
    const auto ret = [this, end](Eigen::Index a) { return std::exp(cumulative_(a, end)) - 1.0; };
    for (const StepVenue& b : step_venue_) {
      VenueAccount v = venue_[b.index];
      v.held = b.held;
      const double cost = model_.fire_sales
                              ? fire_sale_cost(model_.accounts[static_cast<std::size_t>(v.account)], close_out_prices_,
                                               std::span<const double>(step_moves_.data(), step_moves_.size()), v.held)
                              : -1.0;
      add_venue_line(v, b.pnl, b.maintenance, ret, cost, (k + 1) * model_.steps.days);
    }
    out.venue_liquidations += static_cast<int>(venue_lines_.size());
    if (trace) trace->venue.insert(trace->venue.end(), venue_lines_.begin(), venue_lines_.end());
  }

  // ---- lending protocols through the steps
  //
  // At each step the protocol's liquidators act on the path of the step
  // (models::liquidate_on_log_path from the step's start prices, the oracle
  // delay a fraction of the step): the health factor of each borrower is
  // checked along the step with Aave v3's close factor and bonus, and its
  // units carry to the next step, so an account is liquidated again each
  // step its health factor falls below 1. Bad debt is written off in the
  // step it appears; an owner that defaults has what is left closed at the
  // end of that step (closing_bad_debt).

  // Steps [0, limit) of the borrowers until the first with a liquidation
  // call: that step (its results kept for it), or -1.
  int first_lending_call(int limit, const ScenarioResult& out) {
    for (int k = 0; k < limit; ++k)
      if (lending_step(k, out)) return k;
    return -1;
  }

  // Step k of every borrower whose owner and protocol stand: its calls,
  // written-off debt and closing bad debt (lending_step_), its units updated,
  // the collateral sold and debt bought back into lending_flow_ (values at
  // today's prices). True when some account was liquidated.
  bool lending_step(int k, const ScenarioResult& out) {
    const TimeSteps& steps = model_.steps;
    const auto ks = static_cast<std::size_t>(k);
    const int start = steps.start[ks], end = steps.end[ks];
    const auto log_price = [this](Eigen::Index a, int p) {
      return p < 0 ? 0.0 : std::log1p(std::exp(cumulative_(a, p)) - 1.0);
    };
    Eigen::VectorXd& at_start = lending_prices_;
    at_start.resize(prices_.size());
    for (Eigen::Index a = 0; a < prices_.size(); ++a) {
      at_start(a) = prices_(a) * std::exp(log_price(a, start));
      log_moves_(a) = log_price(a, end) - log_price(a, start);
    }
    lending_done_ = k;
    lending_step_.clear();
    if (lending_flow_.size() != prices_.size()) lending_flow_.resize(prices_.size());
    lending_flow_.setZero();
    bool any = false;
    for (std::size_t i = 0; i < lending_.size(); ++i) {
      const LendingAccount& l = lending_[i];
      const int owner = model_.accounts[static_cast<std::size_t>(l.account)].owner;
      if (out.ccp_fail_day[static_cast<std::size_t>(l.ccp)] >= 0.0 ||
          std::any_of(out.defaults.begin(), out.defaults.end(),
                      [owner](const MemberDefault& d) { return d.member == owner; }))
        continue;
      const LendingRules& rules = *model_.ccps[static_cast<std::size_t>(l.ccp)].lending;
      const double before = models::health_factor(rules.market, lending_units_[i], at_start);
      const models::LendingPathOutcome o = models::liquidate_on_log_path(
          rules.market, lending_units_[i], at_start, log_moves_, rules.oracle_delay_hours / (24.0 * steps.days));
      for (const models::LendingLiquidation& c : o.calls) {
        lending_flow_(static_cast<Eigen::Index>(c.collateral_asset)) -=
            c.collateral_seized * prices_(static_cast<Eigen::Index>(c.collateral_asset));
        lending_flow_(static_cast<Eigen::Index>(c.debt_asset)) +=
            c.debt_repaid * prices_(static_cast<Eigen::Index>(c.debt_asset));
      }
      if (!o.calls.empty() && !lending_liquidated_[i]) lending_called_.push_back(i);
      lending_liquidated_[i] = lending_liquidated_[i] || !o.calls.empty();
      lending_step_.push_back({i, o, before});
      any = any || !o.calls.empty();
    }
    return any;
  }

  // Step k's borrowers into liquidations_ (every one in the step: its closing
  // bad debt is the protocol's if its owner defaults now), and the lines of
  // those liquidated into the trace, on the step's day.
  void add_lending_step(ScenarioResult& out, CascadeTrace* trace) {
    const double day = (lending_done_ + 1) * model_.steps.days;
    for (const LendingStepOutcome& s : lending_step_) {
      const LendingAccount& l = lending_[s.index];
      const models::LendingPathOutcome& o = s.outcome;
      const bool liquidated = !o.calls.empty();
      liquidations_.push_back({l.account, o.bad_debt, liquidated, o.closing_bad_debt});
      if (!liquidated || !trace) continue;
      trace->lending.push_back({l.account, static_cast<int>(o.calls.size()), s.health_factor_start, o.health_factor_end,
                                o.collateral_seized_value, o.debt_repaid_value, o.bad_debt, o.closing_bad_debt, day});
    }
    out.liquidations = static_cast<int>(lending_called_.size());
  }

  // What the liquidations so far changed in the borrowers' units, at step k's
  // end prices, added to their owners' P&L and cash (`paid`).
  void lending_kept(int k, std::vector<double>& paid) const {
    const int end = model_.steps.end[static_cast<std::size_t>(k)];
    for (std::size_t i : lending_called_) {
      const LendingAccount& l = lending_[i];
      const models::LendingAccount& now = lending_units_[i];
      double kept = 0.0;
      for (std::size_t a = 0; a < now.debt.size(); ++a) {
        const auto ai = static_cast<Eigen::Index>(a);
        kept += ((now.collateral[a] - l.units.collateral[a]) - (now.debt[a] - l.units.debt[a])) * prices_(ai) *
                (1.0 + (std::exp(cumulative_(ai, end)) - 1.0));
      }
      paid[static_cast<std::size_t>(model_.accounts[static_cast<std::size_t>(l.account)].owner)] += kept;
    }
  }

  // The growth of each CCP's insurance fund held in a crypto asset from the
  // price of the previous step's close-out to this one's (1 for a USD fund).
  std::span<const double> insurance_fund_growth(int k) {
    const auto ks = static_cast<std::size_t>(k);
    for (std::size_t c = 0; c < model_.ccps.size(); ++c) {
      const CcpModel& ccp = model_.ccps[c];
      funds_[c] = 1.0;
      if (ccp.insurance_fund_asset < 0) continue;
      const double at =
          cumulative_(ccp.insurance_fund_asset, model_.steps.window[ks][static_cast<std::size_t>(ccp.horizon)]);
      funds_[c] = std::exp(at - fund_log_price_[c]);
      fund_log_price_[c] = at;
    }
    return funds_;
  }

  // Step k's inputs: every account's P&L over its CCP's MPOR from the step's
  // start (returned: read in place from the path's P&L, which stays as it is
  // until the path is revalued or the next path starts), and each member's
  // variation margin paid from today to the step's end (`paid`): at a CCP
  // that failed in an earlier step its positions were torn up at the end of
  // that step, and pay no more (those it still held: Cascade::advance takes
  // off what ADL or tear-up closed before). Accounts a venue closed are no
  // longer at a failed CCP's tear-up.
  AccountPnl step_inputs(int k, const ScenarioResult& out, std::vector<double>& paid) {
    const TimeSteps& steps = model_.steps;
    const auto ks = static_cast<std::size_t>(k);
    const int start = steps.start[ks], end = steps.end[ks];
    const std::size_t n_accounts = model_.accounts.size();
    if (!path_compact_ && !step_pnl_ready_) gather_step_pnl(std::max(0, start));
    // The path's points x accounts: its rows of exact_tile_, or step_pnl_.
    const double* pnl = path_compact_ ? exact_tile_.row(path_offset_).data() : step_pnl_.data();
    const double* from = start < 0 ? nullptr : pnl + static_cast<std::size_t>(start) * n_accounts;
    if (!step_member_ready_) gather_step_members(end);
    const double* at_end = step_member_.row(end).data();
    paid.assign(at_end, at_end + model_.members.size());
    for (std::size_t c = 0; c < model_.ccps.size(); ++c) {
      if (out.ccp_fail_day[c] < 0.0) continue;
      const int torn = steps.end[static_cast<std::size_t>(std::lround(out.ccp_fail_day[c] / steps.days)) - 1];
      for (int a : model_.ccps[c].accounts) {
        const Account& acc = model_.accounts[static_cast<std::size_t>(a)];
        const auto ai = static_cast<std::size_t>(a);
        if (acc.kind == AccountKind::kMember && liquidated_step_[ai] < 0)
          paid[static_cast<std::size_t>(acc.owner)] -= cascade_.held(ai) * (path_pnl(ai, end) - path_pnl(ai, torn));
      }
    }
    set_after_points(k);
    return AccountPnl(pnl, n_accounts, steps.window[ks].data(), account_horizon_.data(), from,
                      pnl + static_cast<std::size_t>(end) * n_accounts, after_points_.data(), k + 1 < steps.count);
  }

  // Per horizon, the end of the close-out window that starts at step k's end
  // (AccountPnl::after_step): the next step's window; in the last step, its
  // own window when that ends after the step, none otherwise.
  void set_after_points(int k) {
    const TimeSteps& steps = model_.steps;
    const auto ks = static_cast<std::size_t>(k);
    after_points_.resize(model_.horizons.size());
    for (std::size_t h = 0; h < after_points_.size(); ++h) {
      if (k + 1 < steps.count)
        after_points_[h] = steps.window[ks + 1][h];
      else
        after_points_[h] = steps.window[ks][h] > steps.end[ks] ? steps.window[ks][h] : -1;
    }
  }

  // The current path's P&L into step_pnl_ (points x accounts): each point's
  // row contiguous for step_inputs, read from the tile once per path instead
  // of once per step; the points from `from` on (the steps go forward: a
  // step reads none before its start).
  void gather_step_pnl(Eigen::Index from) {
    const auto n_points = static_cast<Eigen::Index>(model_.steps.points.size());
    step_pnl_.resize(n_points, static_cast<Eigen::Index>(model_.accounts.size()));
    if (path_in_tile_) {
      for (std::size_t h = 0; h < pnl_.size(); ++h) {
        const auto& ids = model_.horizon_accounts[h];
        for (std::size_t i = 0; i < ids.size(); ++i) {
          const double* row = pnl_[h].data() + static_cast<Eigen::Index>(i) * pnl_[h].cols() + path_offset_;
          for (Eigen::Index p = from; p < n_points; ++p) step_pnl_(p, ids[i]) = row[p];
        }
      }
    } else {
      step_pnl_.bottomRows(n_points - from) = path_pnl_.rightCols(n_points - from).transpose();
    }
    step_pnl_ready_ = true;
  }

  // The current path's member P&L into step_member_ (points x members), read
  // once per path instead of a column of the tile per step; the points from
  // `from` on (a step reads its end's).
  void gather_step_members(int from) {
    const auto n_points = static_cast<Eigen::Index>(model_.steps.points.size());
    step_member_.resize(n_points, static_cast<Eigen::Index>(model_.members.size()));
    for (std::size_t m = 0; m < model_.members.size(); ++m)
      for (Eigen::Index p = from; p < n_points; ++p)
        step_member_(p, static_cast<Eigen::Index>(m)) = path_member(m, static_cast<int>(p));
    step_member_ready_ = true;
  }

  // The liquidity each step calls (ScenarioResult::peak_liquidity_need), on
  // the path as the cascade left it (fire sales moved): per member account
  // standing at the step's start, at a CCP standing then, its variation margin
  // loss over the step on the positions it held at the step's start (ADL and
  // tear-up close the rest: held_steps_) and the margin it is called in
  // cash, the spiral's on those positions: with a settlement
  // layer the step's calls counted in its CCP's margin calls (collateral
  // top-ups, the spiral's rise less the collateral credited beyond the IM,
  // re-posted custody losses: SettlementState::cash_called), else the IM
  // increase of the spiral. The largest step per CCP, per member and over
  // the system.
  void liquidity_needs(ScenarioResult& out) {
    const TimeSteps& steps = model_.steps;
    std::sort(held_steps_.begin(), held_steps_.end());  // by account, then step
    const auto n = static_cast<std::size_t>(steps.count);
    // The steps a member (a CCP) is called in: those that start before its default (failure).
    const auto called = [&](double day) {
      return day < 0.0 ? n : std::min(n, static_cast<std::size_t>(std::max(0.0, std::ceil(day / steps.days - 1e-9))));
    };
    stop_step_.assign(model_.members.size(), n);
    for (const MemberDefault& d : out.defaults) stop_step_[static_cast<std::size_t>(d.member)] = called(d.day);
    member_need_.assign(model_.members.size() * n, 0.0);
    ccp_need_.assign(model_.ccps.size() * n, 0.0);
    const std::vector<double>& cash_called = settle_state_.cash_called;  // per account x step (settlement layer)
    // Account by account along its row of the path (contiguous in the tile).
    for (std::size_t c = 0; c < model_.ccps.size(); ++c) {
      const std::size_t ccp_steps = called(out.ccp_fail_day[c]);
      for (int ai : model_.ccps[c].accounts) {
        const auto a = static_cast<std::size_t>(ai);
        const Account& acc = model_.accounts[a];
        if (acc.kind != AccountKind::kMember) continue;
        const auto m = static_cast<std::size_t>(acc.owner);
        std::size_t limit = std::min(ccp_steps, stop_step_[m]);
        if (liquidated_step_[a] >= 0) limit = std::min(limit, static_cast<std::size_t>(liquidated_step_[a]) + 1);
        double before = 0.0;
        auto closes = std::lower_bound(held_steps_.begin(), held_steps_.end(), HeldStep{ai, -1, 0.0});
        double held = 1.0;  // of its positions: ADL and tear-up close the rest (Cascade::held)
        for (std::size_t k = 0; k < limit; ++k) {
          for (; closes != held_steps_.end() && closes->account == ai && closes->step <= static_cast<int>(k); ++closes)
            held = closes->held;
          const double now = path_pnl(a, steps.end[k]);
          double call = held * std::max(0.0, before - now);
          before = now;
          if (!cash_called.empty()) {
            call += cash_called[a * n + k];
          } else if (margins_.active()) {
            const int ki = static_cast<int>(k);
            call += held * std::max(0.0, margins_.held(a, ki, path_slot_) - margins_.held(a, ki - 1, path_slot_));
          }
          ccp_need_[c * n + k] += call;
          member_need_[m * n + k] += call;
        }
      }
    }
    for (std::size_t k = 0; k < n; ++k) {
      double total = 0.0;
      for (std::size_t c = 0; c < model_.ccps.size(); ++c) {
        out.ccp_peak_liquidity_need[c] = std::max(out.ccp_peak_liquidity_need[c], ccp_need_[c * n + k]);
        total += ccp_need_[c * n + k];
      }
      out.peak_liquidity_need = std::max(out.peak_liquidity_need, total);
    }
    for (std::size_t m = 0; m < model_.members.size(); ++m)
      for (std::size_t k = 0; k < n; ++k)
        out.member_peak_liquidity_need[m] = std::max(out.member_peak_liquidity_need[m], member_need_[m * n + k]);
  }

  // IM recomputed through the steps (sim/margin_path.hpp): each member's cash
  // after step k is its variation margin paid less the IM it posted beyond
  // today's; the IM each account holds after step k - 1 (what the CCP keeps
  // of a member defaulting in step k) and after step k. At a CCP that failed
  // in an earlier step the IM stays as it was then. On the share of its
  // positions ADL or tear-up closed (Cascade::held) an account keeps today's
  // IM: the CCP neither calls nor returns margin on them.
  void step_margins(int k, const ScenarioResult& out, const std::vector<double>& paid, std::vector<double>& cash) {
    const int slot = path_slot_;
    cash.resize(paid.size());
    for (std::size_t m = 0; m < paid.size(); ++m) cash[m] = paid[m] - margins_.increase(m, k, slot);
    auto& [at_start, at_end] = step_im_[static_cast<std::size_t>(k & 1)];
    at_start.resize(model_.accounts.size());
    at_end.resize(model_.accounts.size());
    for (std::size_t c = 0; c < model_.ccps.size(); ++c) {
      const double failed = out.ccp_fail_day[c];
      const int last = failed < 0.0 ? k : static_cast<int>(std::lround(failed / model_.steps.days)) - 1;
      for (int ai : model_.ccps[c].accounts) {
        const auto a = static_cast<std::size_t>(ai);
        at_start[a] = margins_.held(a, std::min(k - 1, last), slot);
        at_end[a] = margins_.held(a, last, slot);
        const Account& acc = model_.accounts[a];
        if (last < k && acc.kind == AccountKind::kMember)
          cash[static_cast<std::size_t>(acc.owner)] += margins_.held(a, k, slot) - at_end[a];
      }
    }
    for (const int ai : cascade_.partly_closed()) {
      const auto a = static_cast<std::size_t>(ai);
      const double closed = 1.0 - cascade_.held(a), today = margins_.held(a, -1, slot);
      const Account& acc = model_.accounts[a];
      if (acc.kind == AccountKind::kMember)  // what it did not post on them (at a failed CCP: since it failed)
        cash[static_cast<std::size_t>(acc.owner)] += closed * (at_end[a] - today);
      at_start[a] -= closed * (at_start[a] - today);
      at_end[a] -= closed * (at_end[a] - today);
    }
  }

  // Each CCP's insurance fund on a path at its first step with a default: a
  // fund held in a crypto asset is worth its units at the asset's price at the
  // end of the step's close-out window (then revalued step by step,
  // insurance_fund_growth).
  std::span<const double> path_insurance_funds(int k) {
    if (!funds_move_) return {};
    const auto ks = static_cast<std::size_t>(k);
    for (std::size_t c = 0; c < model_.ccps.size(); ++c) {
      const CcpModel& ccp = model_.ccps[c];
      funds_[c] = ccp.insurance_fund;
      if (ccp.insurance_fund_asset < 0) continue;
      const double at =
          cumulative_(ccp.insurance_fund_asset, model_.steps.window[ks][static_cast<std::size_t>(ccp.horizon)]);
      funds_[c] *= 1.0 + (std::exp(at) - 1.0);
      fund_log_price_[c] = at;
    }
    return funds_;
  }

  // An option position of row `row` of a horizon's P&L: `slot` indexes the
  // horizon's options (horizon_options_).
  struct OptionRow {
    Eigen::Index row;
    int slot;
    double quantity;
  };

  const Model& model_;
  const ShockGenerator& shocks_;
  rng::Philox defaults_rng_;
  Cascade cascade_;
  MarginPath margins_;  // IM recomputed through the steps
  Eigen::MatrixXd cumulative_;
  std::vector<RowMatrix> returns_;
  std::vector<RowMatrix> pnl_;
  std::vector<Revaluation> revaluation_;
  std::vector<std::vector<int>> row_owner_;  // per horizon and row of its P&L: the owning member, -1: not a member's
  RowMatrix member_pnl_;
  Eigen::MatrixXd member_pnl_t_;
  std::vector<Eigen::MatrixXd> pnl_t_;
  std::vector<double> account_pnl_, member_column_, member_capital_, member_cash_, first_returns_, cushion_;
  Settlement settlement_;
  SettlementState settle_state_;
  // The settlement layer through the steps: per member its charges so far
  // (capital, then cash), per step the inputs net of them (two sets, as the
  // step inputs), each account's VM of the step; a stress path's halted chains.
  std::vector<double> settle_charged_, step_vm_;
  std::array<std::array<std::vector<double>, 2>, 2> settle_inputs_;
  std::vector<int> stress_halted_, stress_exploited_;
  int stress_exploit_step_ = 0;
  bool stress_path_ = false;
  Eigen::MatrixXd scenario_returns_;  // simple returns of the evaluated scenario, assets x horizons
  std::vector<DefaultCause> initial_;
  bool any_liquidated() const {
    return std::any_of(liquidations_.begin(), liquidations_.end(), [](const Liquidation& l) { return l.liquidated; });
  }

  // A member account at a lending protocol with debt: its units today.
  struct LendingAccount {
    int account;
    int ccp;
    int horizon;
    models::LendingAccount units;
  };
  std::vector<LendingAccount> lending_;
  std::vector<Liquidation> liquidations_;
  // The path of each of lending_ in the current scenario, and what it adds to
  // its owner's P&L.
  std::vector<std::pair<LendingLine, double>> lending_lines_;
  std::vector<VenueAccount> venue_;
  std::vector<VenueLine> venue_lines_;  // the accounts venues liquidate in the current scenario
  bool has_liquidations_ = false;       // lending_ or venue_ is not empty
  bool funds_move_ = false;             // some CCP's insurance fund is held in a crypto asset
  std::vector<double> funds_;
  Eigen::VectorXd prices_, log_moves_;          // per asset: today's price; the scenario's log-move
  std::vector<AccountLoss> scratch_losses_;     // the evaluated scenario's member losses
  std::vector<int> slot_of_, account_of_slot_;  // accounts in the order of their CCPs' account lists
  // Member losses of the scenarios of one window of the run, until the run
  // folds that window: two, as a window is computed while the last is folded.
  struct WindowLosses {
    std::vector<ExactSum> sums;  // by channel x accounts + slot
    std::vector<std::uint8_t> touched;
    std::vector<std::size_t> keys;                           // the touched sums, in the order first touched
    std::unordered_map<std::uint64_t, std::int64_t> sketch;  // (member << 16 | bucket) -> scenarios
  };
  std::array<WindowLosses, 2> windows_;
  int window_ = 0;
  std::vector<double> member_loss_;  // the evaluated scenario's loss per member (as survivor, creditor)
  std::vector<int> lossy_members_;
  std::vector<LatentClass> latent_;
  std::vector<int> latent_defaults_;
  std::vector<int> latent_members_;  // members with a latent PD > 0, ascending
  static constexpr std::uint64_t kOwnBookSubstream = 0xFFFF'FFFF;
  std::vector<std::uint8_t> exogenous_;
  std::vector<int> grouped_;  // the members whose default group has other members, ascending
  bool any_exogenous_ = false;
  bool transposed_ = false;  // the column-major copies hold the current tile
  // Member-level screening (prepare_screening, screen): per member and
  // horizon its long and short position values; per member its gross value;
  // per horizon and column the largest fall and rise of any asset; each
  // scenario's column in the tile; the columns of the tile that are exact.
  static constexpr std::uint64_t kAllColumns = ~std::uint64_t{0};
  static constexpr int kExactColumns = 24;      // more scenarios to evaluate: the whole tile revalued
  static constexpr int kExactPathColumns = 33;  // paths: more columns revalued, the screen did not pay
  static constexpr int kScreenBackoff = 16;     // tiles unscreened after a screen that did not pay
  static constexpr int kPathScreenBackoff = 4;  // the same for paths (PathScreen rarely fails in calm)
  bool screening_ = false;
  int screen_wait_ = 0;  // tiles still to revalue without screening
  Eigen::MatrixXd screen_long_, screen_short_;
  RowMatrix screen_fall_, screen_rise_;
  PathScreen path_screen_;  // paths of time steps
  std::vector<double> screen_gross_;
  std::array<Eigen::Index, kTile> column_{};
  std::uint64_t exact_ = kAllColumns, alt_exact_ = kAllColumns;  // alt_: of the second set of buffers

  std::vector<std::vector<OptionRow>> option_rows_;  // per horizon
  std::vector<std::vector<int>> horizon_options_;    // per horizon: options held there
  std::vector<double> option_dv_;                    // per slot: value change of one option in a column
  Eigen::MatrixXd vol_factor_;                       // implied-vol multipliers (assets x move points) of a stress move
  // Time steps: the P&L from today to each point of the path (accounts x points; members x points), the
  // chunk of points being revalued (-1: not a path), and each step's inputs
  // (two sets: the cascade reads the previous step's while advancing).
  Eigen::MatrixXd path_pnl_, path_member_;
  Eigen::Index path_chunk_ = -1;
  std::vector<int> first_step_;                    // per path of the tile: first_market_defaults
  std::vector<int> all_members_;                   // 0, 1, ..., members - 1
  std::vector<std::vector<int>> path_members_;     // per path of a screened tile: the members it may not clear
  std::vector<Eigen::MatrixXd> tile_cumulatives_;  // per scenario of the tile: its cumulative log-returns
  // Fire sales: per account the values its close-out trades (asset, USD);
  // each asset's ADV and impact coefficient; the second set of buffers
  // (revalue_path(true)); the flow, the step's new defaulters and the costs.
  std::vector<int> after_points_;         // per horizon (set_after_points)
  std::vector<double> close_out_prices_;  // at the step's start, per asset, over today's; empty: today's
  std::vector<double> end_prices_;        // at its end (set_close_out_prices)
  std::vector<bool> from_end_;            // of new_defaulters_ (move_prices)
  Eigen::VectorXd step_moves_;            // the fire sale's of the step's first defaulters
  Eigen::VectorXd adv_, impact_k_, flow_;
  std::vector<RowMatrix> alt_returns_, alt_pnl_;
  RowMatrix alt_member_pnl_;
  std::vector<int> new_defaulters_;
  Eigen::Index path_offset_ = 0;              // the current path's first column in the tile
  bool path_in_tile_ = false;                 // the current path is read from the tile, not path_pnl_
  std::vector<Eigen::Index> row_in_horizon_;  // per account: its row in its horizon's P&L
  std::array<std::vector<double>, 2> step_paid_, step_cash_;
  RowMatrix step_pnl_;    // the current path's P&L, points x accounts (gather_step_pnl)
  RowMatrix exact_tile_;  // the tile's paths revalued by columns: columns x accounts (path i's from row i x points)
  bool tile_compact_ = false;  // the tile's paths revalued are in exact_tile_ (screened, or all by columns)
  std::vector<std::vector<int>> member_rows_;  // per horizon x member: its rows of the horizon's P&L, ascending
  std::vector<int> candidate_rows_;            // candidate_pnl: the rows of a horizon it revalues
  bool path_compact_ = false;                  // the current path is read from exact_tile_
  bool step_pnl_ready_ = false;                // step_pnl_ holds the current path as revalued
  RowMatrix step_member_;                      // the current path's member P&L, points x members
  bool step_member_ready_ = false;             // step_member_ holds the current path as revalued
  std::vector<int> account_horizon_;           // per account: its CCP's horizon
  // IM recomputed through the steps: per path of the tile; the current
  // path's slot; per step (two sets, as above) each account's IM after the
  // previous step and after this one.
  int path_slot_ = 0;
  // liquidity_needs: per member the steps it is called in; calls per member x step and CCP x step.
  std::vector<std::size_t> stop_step_;
  std::vector<double> member_need_, ccp_need_;
  std::array<std::array<std::vector<double>, 2>, 2> step_im_;
  // Venues' liquidation engines through the steps: per account the step a
  // venue closed it on the current path (-1: open), the accounts closed, the
  // breaches of the current step; per step the capital inputs and the ADL
  // marks (two sets, as above); per CCP the log-price its crypto insurance
  // fund was last valued at.
  // Time steps, with liquidity needs: the share of its positions an account
  // held through each step from the first ADL or tear-up closed part of.
  struct HeldStep {
    int account, step;
    double held;
    auto operator<=>(const HeldStep&) const = default;
  };
  std::vector<HeldStep> held_steps_;
  struct StepVenue {
    std::size_t index;  // into venue_
    double pnl, maintenance;
    double held;  // VenueAccount::held
  };
  std::vector<int> liquidated_step_, path_liquidated_;
  std::vector<StepVenue> step_venue_;
  std::array<std::vector<double>, 2> step_capital_;
  std::vector<double> fund_log_price_;
  // Lending protocols through the steps: per borrower (lending_) its units
  // on the current path and whether it was liquidated; those liquidated; the
  // last step computed, its outcome per borrower and the net value its
  // liquidators traded per asset.
  struct LendingStepOutcome {
    std::size_t index;  // into lending_
    models::LendingPathOutcome outcome;
    double health_factor_start;  // at the step's start
  };
  std::vector<models::LendingAccount> lending_units_;
  std::vector<std::uint8_t> lending_liquidated_;
  std::vector<std::size_t> lending_called_;
  int lending_done_ = -1;
  std::vector<LendingStepOutcome> lending_step_;
  Eigen::VectorXd lending_flow_, lending_prices_;  // the step's flow; prices at its start
};

}  // namespace

RunResult run_monte_carlo(const Model& model, const RunOptions& options) {
  RunResult result(model);
  const std::int64_t total = options.count >= 0 ? options.count : model.scenarios;
  const int requested_threads = options.threads >= 0 ? options.threads : model.threads;
  const int threads = requested_threads > 0 ? requested_threads : tbb::info::default_concurrency();
  const std::int64_t requested_batch = options.batch > 0 ? options.batch : model.batch;
  const std::int64_t batch = (std::max<std::int64_t>(requested_batch, 1) + kTile - 1) / kTile * kTile;
  result.first = options.first;
  result.requested = total;
  result.threads = threads;
  result.batch = batch;

  const ShockGenerator shocks(model);
  tbb::task_arena arena(threads);
  tbb::enumerable_thread_specific<std::unique_ptr<TileWorker>> workers;
  // Each thread's worker, listed for handing over its windows' member losses
  // (declared before the task group: it outlives any task, even when an
  // exception leaves the run while a window computes).
  std::mutex workers_mutex;
  std::vector<TileWorker*> all_workers;
  // Scenarios run window by window; a window is folded (and written) in order
  // on this thread while the arena's workers compute the next one, and this
  // thread then joins them: memory stays at two windows, and folding and
  // writing overlap the computation. Callbacks run on the calling thread.
  // The last window's folding overlaps nothing, so the last two windows' worth
  // of scenarios go in halving windows down to two tiles a thread: what is
  // folded alone at the end is a few tiles a thread, in a run of any size.
  const auto tiles = [](std::int64_t n) { return (n + kTile - 1) / kTile * kTile; };
  const std::int64_t window = (batch * threads * 8 + kChunk - 1) / kChunk * kChunk;
  const std::int64_t end = options.first + total;
  const auto window_end = [&](std::int64_t w0) {
    const std::int64_t left = end - w0;
    if (left > 2 * window) return w0 + window;
    return w0 + std::min(left, std::max(2 * kTile * threads, tiles((left + 1) / 2)));
  };
  // The first window is the largest (the halving ones come after).
  const auto buffer_size = static_cast<std::size_t>(total > 0 ? window_end(options.first) - options.first : 1);
  std::vector<ScenarioResult> computing(buffer_size), ready(buffer_size);
  ScenarioResult quiet;  // what every quiet scenario holds but its index and market factor
  quiet.reset(model, 0);
  quiet.quiet = true;
  ProgressBar progress(options.progress, total);
  // A thread takes a batch at a time, or less when a window has fewer than
  // four batches a thread (a small run, or the last windows): in the stressed
  // regimes a scenario costs from microseconds to milliseconds, and a thread
  // left with a window's one slow batch kept the other idle. Tiles whole; the
  // sums are exact, so any split gives the same outputs.
  const auto work_unit = [&](std::int64_t n) {
    return std::min(batch, std::max(kTile, tiles((n + 4 * threads - 1) / (4 * threads))));
  };
  tbb::task_group group;
  const auto launch = [&](std::int64_t w0, std::int64_t w1, std::vector<ScenarioResult>& results, int parity) {
    ScenarioResult* out = results.data();
    arena.execute([&, w0, w1, out, parity] {
      group.run([&, w0, w1, out, parity] {
        const std::int64_t unit = work_unit(w1 - w0);
        const std::int64_t n_units = (w1 - w0 + unit - 1) / unit;
        tbb::parallel_for(tbb::blocked_range<std::int64_t>(0, n_units, 1),
                          [&, w0, w1, out, parity](const tbb::blocked_range<std::int64_t>& r) {
                            auto& worker = workers.local();
                            if (!worker) {
                              worker = std::make_unique<TileWorker>(model, shocks, options.screening);
                              const std::lock_guard lock(workers_mutex);
                              all_workers.push_back(worker.get());
                            }
                            worker->start_window(parity);
                            for (std::int64_t b = r.begin(); b != r.end(); ++b) {
                              const std::int64_t b0 = w0 + b * unit, b1 = std::min(w1, b0 + unit);
                              for (std::int64_t t0 = b0; t0 < b1; t0 += kTile)
                                worker->simulate_tile(t0, std::min(kTile, b1 - t0), out + (t0 - w0));
                            }
                          });
      });
    });
  };
  const auto wait = [&] { arena.execute([&] { group.wait(); }); };
  if (options.first < end) {
    launch(options.first, window_end(options.first), computing, 0);
    wait();
  }
  int parity = 0;  // of the window being folded; the one being computed has the other
  for (std::int64_t w0 = options.first, w1 = 0; w0 < end; w0 = w1, parity ^= 1) {
    w1 = window_end(w0);
    std::swap(computing, ready);
    const bool more = w1 < end;
    if (more) launch(w1, window_end(w1), computing, parity ^ 1);
    for (std::int64_t i = 0; i < w1 - w0; ++i) {
      const ScenarioResult& computed = ready[static_cast<std::size_t>(i)];
      // A quiet scenario is read from one result that stays in the cache,
      // not from its own (its fields, each a block of the heap, are all empty).
      if (computed.quiet) {
        quiet.index = computed.index;
        quiet.market_factor = computed.market_factor;
      }
      const ScenarioResult& r = computed.quiet ? quiet : computed;
      result.aggregate.add(r);
      if (options.on_scenario) options.on_scenario(r);
    }
    {
      const std::lock_guard lock(workers_mutex);  // a thread may join the next window meanwhile
      for (TileWorker* worker : all_workers) worker->hand_over_losses(parity, result.aggregate);
    }
    result.completed = w1 - options.first;
    progress.update(result.completed);
    if (more) wait();  // joins the workers on the next window
    if (options.stop && options.stop->load() && more) {
      result.interrupted = true;  // the window computed meanwhile is dropped, with its losses
      break;
    }
  }
  progress.finish();
  result.aggregate.finish();
  result.seconds = progress.seconds();
  return result;
}

ScenarioResult run_scenario(const Model& model, std::int64_t index) {
  const ShockGenerator shocks(model);
  TileWorker worker(model, shocks);
  ScenarioResult out;
  worker.simulate_tile(index, 1, &out);
  return out;
}

ScenarioResult run_move(const Model& model, const Eigen::MatrixXd& cumulative, CascadeTrace* trace,
                        const StressScenario* stress) {
  const ShockGenerator shocks(model);
  TileWorker worker(model, shocks);
  std::vector<int> halted, exploited;
  if (stress) {
    const auto index = [](const auto& items, const std::string& id) {
      for (std::size_t i = 0; i < items.size(); ++i)
        if (items[i].id == id) return static_cast<int>(i);
      throw std::invalid_argument("unknown chain or bridge '" + id + "'");  // the loader checks the names
    };
    for (const auto& id : stress->halted_chains) halted.push_back(index(model.chains, id));
    for (const auto& id : stress->exploited_bridges) exploited.push_back(index(model.bridges, id));
  }
  ScenarioResult out;
  const Eigen::MatrixXd vol_factor = stress ? stress_vol_factor(model, *stress)
                                            : Eigen::MatrixXd::Ones(static_cast<Eigen::Index>(model.assets.size()),
                                                                    static_cast<Eigen::Index>(model.horizons.size()));
  int exploit_step = 0;  // time steps: the step that contains the stress scenario's exploit_day
  if (stress && stress->exploit_day && model.steps.count > 0)
    exploit_step = std::clamp(static_cast<int>(std::ceil(*stress->exploit_day / model.steps.days - 1e-9)) - 1, 0,
                              model.steps.count - 1);
  worker.simulate_move(cumulative, vol_factor, out, trace, halted, exploited, exploit_step);
  return out;
}

}  // namespace ccpnet
