#include "sim/reverse.hpp"

#include <fmt/format.h>
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <numeric>

#include "sim/errors.hpp"
#include "sim/model.hpp"
#include "sim/runner.hpp"

namespace ccpnet {

namespace {

// Smallest k in (0, hi] with pred(k), assuming pred is monotone; nullopt if pred(hi) is false.
std::optional<double> bisect(const std::function<bool(double)>& pred, double hi, double tolerance) {
  if (!pred(hi)) return std::nullopt;
  double lo = 0.0;
  if (pred(lo)) return 0.0;
  while (hi - lo > tolerance * std::max(1.0, hi)) {
    const double mid = 0.5 * (lo + hi);
    (pred(mid) ? hi : lo) = mid;
  }
  return hi;
}

}  // namespace

ReverseResult reverse_stress(const Model& model, int ccp, const std::string& direction, double max_multiple,
                             double tolerance) {
  ReverseResult out;
  out.ccp = ccp;
  out.max_multiple = max_multiple;
  out.tolerance = tolerance;
  const StressScenario* chosen = nullptr;
  for (const auto& s : model.stress_scenarios)
    if (!s.overlay && (direction.empty() || s.name == direction)) {
      chosen = &s;
      break;
    }
  if (!direction.empty() && !chosen) {
    std::vector<std::string> names;
    for (const auto& s : model.stress_scenarios) names.push_back(s.name);
    throw InputError(fmt::format("--direction '{}': no such stress scenario in the file (it has: {})", direction,
                                 names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", "))));
  }
  if (chosen) {
    out.direction = *chosen;
  } else {
    out.direction.name = "every asset down 10%";
    out.direction.days = model.horizons.empty() ? 1.0 : model.horizons.back();
    for (const auto& a : model.assets) out.direction.moves.emplace_back(a.id, -0.10);
  }
  const auto c = static_cast<std::size_t>(ccp);
  // The direction's implied-vol moves scale with k like its price moves, in logs.
  const auto scaled = [&](double k) {
    StressScenario s = out.direction;
    for (auto& [id, v] : s.vol_moves) v = std::expm1(std::log1p(v) * k);
    return s;
  };
  const auto evaluate = [&](double k) {
    const StressScenario s = scaled(k);
    return run_move(model, stress_move(model, out.direction, k), nullptr, &s);
  };
  const auto layer_amount = [&](const ScenarioResult& r, models::Layer l) {
    return r.ccp_layers[c * models::kLayerCount + static_cast<std::size_t>(l)];
  };
  constexpr double kMinLoss = 1e-6;  // USD
  const auto& layers = model.ccps[c].waterfall;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    LayerThreshold t{layers[i], std::nullopt, std::nullopt};
    t.first_used =
        bisect([&](double k) { return layer_amount(evaluate(k), layers[i]) > kMinLoss; }, max_multiple, tolerance);
    // Exhausted once anything below it in the waterfall takes a loss.
    t.exhausted = bisect(
        [&](double k) {
          const ScenarioResult r = evaluate(k);
          if (r.ccp_uncovered[c] > kMinLoss) return true;
          for (std::size_t j = i + 1; j < layers.size(); ++j)
            if (layer_amount(r, layers[j]) > kMinLoss) return true;
          return false;
        },
        max_multiple, tolerance);
    out.layers.push_back(t);
  }
  out.failure = bisect([&](double k) { return evaluate(k).ccp_fail_round[c] >= 0; }, max_multiple, tolerance);
  if (out.failure) {
    StressOutcome o;
    o.stress = scaled(*out.failure);
    o.stress.name = fmt::format("{} x {:.4f}", out.direction.name, *out.failure);
    for (auto& [id, m] : o.stress.moves) m = std::expm1(std::log1p(m) * *out.failure);
    for (auto& day : o.stress.path)
      for (auto& [id, m] : day) m = std::expm1(std::log1p(m) * *out.failure);
    o.result = run_move(model, stress_move(model, out.direction, *out.failure), &o.trace, &o.stress);
    out.at_failure = std::move(o);
  }
  return out;
}

namespace {
// Which layer's exhaustion failed CCP c: the last layer of the waterfall that
// ran out (its own, or the layers that take its link losses) that paid
// anything, and whose losses it ran out on.
std::string exhausted_layer_text(const Model& model, const StressOutcome& o, std::size_t c) {
  const CcpModel& ccp = model.ccps[c];
  for (auto e = o.trace.events.rbegin(); e != o.trace.events.rend(); ++e) {
    if (static_cast<std::size_t>(e->ccp) != c || e->uncovered <= 0.0) continue;
    const auto layers = e->link_losses ? link_loss_layers(ccp) : ccp.waterfall;
    std::string last = "none of its layers held anything";
    for (const auto layer : layers)
      if (e->by_layer[static_cast<std::size_t>(layer)] > 0.0)
        last = fmt::format("its last layer to pay, {}, is exhausted", models::layer_name(layer));
    return fmt::format("{} in round {} by {}, leaving {:.6g} USD to its creditors", last, e->round,
                       e->link_losses ? "losses over its links" : "its members' close-outs", e->uncovered);
  }
  return "its waterfall ran out";
}
}  // namespace

nlohmann::ordered_json reverse_json(const Model& model, const ReverseResult& r) {
  using json = nlohmann::ordered_json;
  const auto multiple = [](const std::optional<double>& k) { return k ? json(*k) : json(); };
  json moves = json::object(), vol_moves = json::object();
  for (const auto& [id, m] : r.direction.total_moves()) moves[id] = m;
  for (const auto& [id, v] : r.direction.vol_moves) vol_moves[id] = v;
  json layers = json::array();
  for (const auto& t : r.layers)
    layers.push_back({{"layer", models::layer_name(t.layer)},
                      {"first_used", multiple(t.first_used)},
                      {"exhausted", multiple(t.exhausted)}});
  return json{
      {"ccpnet_version", CCPNET_VERSION},
      {"ccp", model.ccps[static_cast<std::size_t>(r.ccp)].id},
      {"direction",
       {{"name", r.direction.name}, {"days", r.direction.length_days()}, {"moves", moves}, {"vol_moves", vol_moves}}},
      {"max_multiple", r.max_multiple},
      {"tolerance", r.tolerance},
      {"layers", layers},
      {"failure", multiple(r.failure)}};
}

std::string format_reverse(const Model& model, const ReverseResult& r) {
  const auto& ccp = model.ccps[static_cast<std::size_t>(r.ccp)];
  std::vector<std::string> moves;
  for (const auto& [id, m] : r.direction.total_moves()) moves.push_back(fmt::format("{} {:+.1f}%", id, 100.0 * m));
  for (const auto& [id, v] : r.direction.vol_moves)
    moves.push_back(fmt::format("{} implied vol {:+.1f}%", id, 100.0 * v));
  std::string out = fmt::format(
      "reverse stress test of {}: direction '{}' ({} over {} days), multiples of its log-moves in (0, {}], "
      "bisection tolerance {} (relative)\n\n",
      ccp.id, r.direction.name, fmt::join(moves, ", "), r.direction.length_days(), r.max_multiple, r.tolerance);
  const auto fmt_k = [&](const std::optional<double>& k) {
    if (!k) return fmt::format("> {}", r.max_multiple);
    std::string worst;
    double w = 0.0;
    for (const auto& [id, m] : r.direction.total_moves()) {
      const double move = std::expm1(std::log1p(m) * *k);
      if (std::abs(move) >= std::abs(w)) {
        w = move;
        worst = id;
      }
    }
    return fmt::format("{:.4f} ({} {:+.1f}%)", *k, worst, 100.0 * w);
  };
  out += fmt::format("  {:<16} {:<28} {:<28}\n", "layer", "first used at", "exhausted at");
  for (const auto& t : r.layers)
    out +=
        fmt::format("  {:<16} {:<28} {:<28}\n", models::layer_name(t.layer), fmt_k(t.first_used), fmt_k(t.exhausted));
  if (r.failure) {
    out += fmt::format("\n{} FAILS at multiple {}: {}.\n\n", ccp.id, fmt_k(r.failure),
                       exhausted_layer_text(model, *r.at_failure, static_cast<std::size_t>(r.ccp)));
    out += format_stress(model, {*r.at_failure}, false);
  } else {
    out += fmt::format("\n{} does not fail up to multiple {}.\n", ccp.id, r.max_multiple);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Multi-dimensional reverse stress.

namespace {

constexpr double kMinLoss = 1e-6;  // USD

// sqrt(h) sigma per asset: one standard deviation of each asset's log-return
// over the CCP's MPOR of h days, as the scenarios draw it.
Eigen::VectorXd move_scale(const Model& model, double days) {
  Eigen::VectorXd s(static_cast<Eigen::Index>(model.assets.size()));
  for (std::size_t a = 0; a < model.assets.size(); ++a)
    s(static_cast<Eigen::Index>(a)) = std::sqrt(days) * model.assets[a].daily_vol * model.shocks.volatility_multiplier;
  return s;
}

// The unit vector in standard units of a log-move direction x: L^+ (x / s),
// with L^+ the pseudo-inverse of the correlation factor (its inverse when the
// correlation is positive definite; the least-norm solution when it is only
// semi-definite and L comes from its eigenvectors).
using Factor = Eigen::CompleteOrthogonalDecomposition<Eigen::MatrixXd>;
std::optional<Eigen::VectorXd> standard_direction(const Factor& factor, const Eigen::VectorXd& scale,
                                                  const Eigen::VectorXd& x) {
  const Eigen::VectorXd y = factor.solve((x.array() / scale.array()).matrix());
  const double norm = y.norm();
  if (!(norm > 0.0) || !std::isfinite(norm)) return std::nullopt;
  return y / norm;
}

StressScenario move_scenario(const Model& model, const Eigen::VectorXd& log_move, double days, std::string name) {
  StressScenario s;
  s.name = std::move(name);
  s.days = days;
  for (std::size_t a = 0; a < model.assets.size(); ++a)
    s.moves.emplace_back(model.assets[a].id, std::expm1(log_move(static_cast<Eigen::Index>(a))));
  return s;
}

// Is the target reached in this scenario: CCP c failed, or `layer` exhausted
// (a later layer of its waterfall, or nothing, had to pay).
bool target_reached(const Model& model, std::size_t c, const std::optional<models::Layer>& layer,
                    const ScenarioResult& r) {
  if (!layer) return r.ccp_fail_round[c] >= 0;
  if (r.ccp_uncovered[c] > kMinLoss) return true;
  const auto& layers = model.ccps[c].waterfall;
  const auto at = std::find(layers.begin(), layers.end(), *layer);
  for (auto l = at == layers.end() ? at : at + 1; l != layers.end(); ++l)
    if (r.ccp_layers[c * models::kLayerCount + static_cast<std::size_t>(*l)] > kMinLoss) return true;
  return false;
}

// The position values at CCP c of each default group and of each linked CCP
// (its account there), the largest `count` by the standard deviation of their
// P&L over the MPOR, largest first.
struct Book {
  std::string name;
  Eigen::VectorXd values;  // position values at the CCP
  Eigen::VectorXd u;       // the direction most likely to hurt it
  double sd = 0.0;         // of its P&L over the MPOR
};
std::vector<Book> largest_books(const Model& model, std::size_t c, const Eigen::VectorXd& scale, int count) {
  const auto n = static_cast<Eigen::Index>(model.assets.size());
  std::vector<Eigen::VectorXd> values(model.groups.size(), Eigen::VectorXd::Zero(n));
  std::vector<Book> books;
  for (int a : model.ccps[c].accounts) {
    const Account& acc = model.accounts[static_cast<std::size_t>(a)];
    if (acc.kind == AccountKind::kMember) {
      values[static_cast<std::size_t>(model.members[static_cast<std::size_t>(acc.owner)].group)] +=
          account_delta_values(model, acc);
    } else if (acc.kind == AccountKind::kLink) {
      books.push_back(
          {"link:" + model.ccps[static_cast<std::size_t>(acc.owner)].id, account_delta_values(model, acc), {}, 0.0});
    }
  }
  for (std::size_t g = 0; g < values.size(); ++g) books.push_back({model.group_ids[g], values[g], {}, 0.0});
  // The book's P&L over the MPOR is v'x = v' diag(s) L u: its gradient in u is w = L' (s v).
  for (Book& b : books) {
    const Eigen::VectorXd w = model.correlation_factor.transpose() * (scale.array() * b.values.array()).matrix();
    b.sd = w.norm();
    b.u = b.sd > 0.0 ? Eigen::VectorXd(-w / b.sd) : Eigen::VectorXd();
  }
  std::erase_if(books, [](const Book& b) { return !(b.sd > 0.0); });
  std::stable_sort(books.begin(), books.end(), [](const Book& x, const Book& y) { return x.sd > y.sd; });
  if (books.size() > static_cast<std::size_t>(count)) books.resize(static_cast<std::size_t>(count));
  return books;
}

std::vector<SearchDirection> initial_directions(const Model& model, std::size_t c, const Eigen::VectorXd& scale,
                                                int groups) {
  std::vector<SearchDirection> out;
  const auto n = static_cast<Eigen::Index>(model.assets.size());
  const Factor factor(model.correlation_factor);
  for (const auto& s : model.stress_scenarios) {
    if (s.overlay) continue;
    Eigen::VectorXd x = Eigen::VectorXd::Zero(n);
    for (const auto& [id, m] : s.total_moves())
      for (Eigen::Index a = 0; a < n; ++a)
        if (model.assets[static_cast<std::size_t>(a)].id == id) x(a) = std::log1p(m);
    if (auto u = standard_direction(factor, scale, x)) out.push_back({s.name, "stress scenario", *u, std::nullopt});
  }
  for (Eigen::Index a = 0; a < n; ++a)
    for (const double sign : {-1.0, 1.0}) {
      Eigen::VectorXd x = Eigen::VectorXd::Zero(n);
      x(a) = sign;
      if (auto u = standard_direction(factor, scale, x))
        out.push_back({fmt::format("{} {}", model.assets[static_cast<std::size_t>(a)].id, sign < 0 ? "down" : "up"),
                       "single asset", *u, std::nullopt});
    }
  const std::vector<Book> books = largest_books(model, c, scale, groups);
  for (const Book& b : books) out.push_back({"against " + b.name, "book", b.u, std::nullopt});
  const std::size_t pairs = std::min<std::size_t>(books.size(), 4);
  for (std::size_t i = 0; i < pairs; ++i)
    for (std::size_t j = i + 1; j < pairs; ++j) {
      const Eigen::VectorXd sum = books[i].u + books[j].u;
      if (sum.norm() > 1e-9)
        out.push_back({fmt::format("against {} and {}", books[i].name, books[j].name), "two books", sum / sum.norm(),
                       std::nullopt});
    }
  return out;
}

class Searcher {
 public:
  Searcher(const Model& model, std::size_t c, const ReverseSearchOptions& options)
      : model_(model), c_(c), options_(options), days_(model.ccps[c].mpor_days), scale_(move_scale(model, days_)) {}

  bool reached(const Eigen::VectorXd& u, double radius) const {
    ++evaluations_;
    const StressScenario s = move_scenario(model_, log_move(u, radius), days_, "search");
    return target_reached(model_, c_, options_.layer, run_move(model_, stress_move(model_, s), nullptr, &s));
  }
  Eigen::VectorXd log_move(const Eigen::VectorXd& u, double radius) const {
    return radius * (scale_.array() * (model_.correlation_factor * u).array()).matrix();
  }
  // The smallest radius in (0, hi] that reaches the target, to a tolerance
  // relative to the radius itself (not to hi).
  std::optional<double> radius(const Eigen::VectorXd& u, double hi) const {
    if (!reached(u, hi)) return std::nullopt;
    if (reached(u, 0.0)) return 0.0;
    double lo = 0.0;
    while (hi - lo > options_.tolerance * hi) {
      const double mid = 0.5 * (lo + hi);
      (reached(u, mid) ? hi : lo) = mid;
    }
    return hi;
  }
  // Every direction's radius, in parallel (each is independent: the same for any thread count).
  void measure(std::vector<SearchDirection>& directions) const {
    tbb::parallel_for(std::size_t{0}, directions.size(),
                      [&](std::size_t i) { directions[i].radius = radius(directions[i].u, options_.max_radius); });
  }
  // Pattern search on the sphere from `best`: each coordinate moved by +-step.
  SearchDirection refine(const SearchDirection& best) const {
    SearchDirection cur = best;
    const auto n = cur.u.size();
    double step = 0.25;
    for (int it = 0; it < options_.refine && step > 1.0 / 256; ++it) {
      std::vector<std::optional<double>> found(static_cast<std::size_t>(2 * n));
      const double r = *cur.radius;
      tbb::parallel_for(Eigen::Index{0}, 2 * n, [&](Eigen::Index k) {
        const Eigen::VectorXd u = candidate(cur.u, k, step);
        if (reached(u, r * (1.0 - 10.0 * options_.tolerance))) found[static_cast<std::size_t>(k)] = radius(u, r);
      });
      std::optional<Eigen::Index> pick;
      for (Eigen::Index k = 0; k < 2 * n; ++k) {
        const auto& f = found[static_cast<std::size_t>(k)];
        if (f && *f < r * (1.0 - options_.tolerance) && (!pick || *f < *found[static_cast<std::size_t>(*pick)]))
          pick = k;
      }
      if (!pick) {
        step /= 2.0;
        continue;
      }
      cur.u = candidate(cur.u, *pick, step);
      cur.radius = found[static_cast<std::size_t>(*pick)];
    }
    cur.name = "refined from " + best.name;
    cur.family = "refined";
    return cur;
  }
  int evaluations() const { return evaluations_.load(); }
  double days() const { return days_; }

 private:
  static Eigen::VectorXd candidate(const Eigen::VectorXd& u, Eigen::Index k, double step) {
    Eigen::VectorXd v = u;
    v(k / 2) += k % 2 == 0 ? -step : step;
    return v / v.norm();
  }

  const Model& model_;
  std::size_t c_;
  ReverseSearchOptions options_;
  double days_;
  Eigen::VectorXd scale_;
  mutable std::atomic<int> evaluations_{0};
};

}  // namespace

Eigen::VectorXd search_log_move(const Model& model, int ccp, const Eigen::VectorXd& u, double radius) {
  const double days = model.ccps[static_cast<std::size_t>(ccp)].mpor_days;
  return radius * (move_scale(model, days).array() * (model.correlation_factor * u).array()).matrix();
}

ReverseSearchResult reverse_search(const Model& model, int ccp, const ReverseSearchOptions& options) {
  const auto c = static_cast<std::size_t>(ccp);
  if (options.layer) {
    const auto& layers = model.ccps[c].waterfall;
    if (std::find(layers.begin(), layers.end(), *options.layer) == layers.end())
      throw InputError(fmt::format("--layer {}: not a layer of {}'s waterfall", models::layer_name(*options.layer),
                                   model.ccps[c].id));
  }
  ReverseSearchResult out;
  out.ccp = ccp;
  out.options = options;
  const Searcher searcher(model, c, options);
  out.days = searcher.days();
  out.directions = initial_directions(model, c, move_scale(model, out.days), options.groups);
  searcher.measure(out.directions);
  const auto closer = [](const SearchDirection& a, const SearchDirection& b) {
    return a.radius && (!b.radius || *a.radius < *b.radius);
  };
  std::stable_sort(out.directions.begin(), out.directions.end(), closer);
  if (!out.directions.empty() && out.directions.front().radius && *out.directions.front().radius > 0.0 &&
      options.refine > 0) {
    SearchDirection refined = searcher.refine(out.directions.front());
    if (*refined.radius < *out.directions.front().radius) out.directions.insert(out.directions.begin(), refined);
  }
  if (!out.directions.empty() && out.directions.front().radius) {
    const SearchDirection& best = out.directions.front();
    StressOutcome o;
    o.stress =
        move_scenario(model, search_log_move(model, ccp, best.u, *best.radius), out.days,
                      fmt::format("most plausible move: {:.3f} standard deviations ({})", *best.radius, best.name));
    o.result = run_move(model, stress_move(model, o.stress), &o.trace, &o.stress);
    out.at_design_point = std::move(o);
  }
  out.evaluations = searcher.evaluations();
  return out;
}

namespace {

double form_probability(double radius) { return 0.5 * std::erfc(radius / std::sqrt(2.0)); }

std::string target_text(const Model& model, const ReverseSearchResult& r) {
  const std::string& id = model.ccps[static_cast<std::size_t>(r.ccp)].id;
  return r.options.layer ? fmt::format("exhausts the {} layer of {}", models::layer_name(*r.options.layer), id)
                         : fmt::format("makes {} fail", id);
}

// The largest moves of a direction at `radius`, as "BTC -23.4%, ETH -30.1%".
std::string largest_moves(const Model& model, const ReverseSearchResult& r, const SearchDirection& d, double radius,
                          std::size_t shown) {
  const Eigen::VectorXd x = search_log_move(model, r.ccp, d.u, radius);
  std::vector<Eigen::Index> order(static_cast<std::size_t>(x.size()));
  std::iota(order.begin(), order.end(), Eigen::Index{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](Eigen::Index a, Eigen::Index b) { return std::abs(x(a)) > std::abs(x(b)); });
  std::vector<std::string> parts;
  for (std::size_t k = 0; k < std::min(shown, order.size()); ++k)
    parts.push_back(fmt::format("{} {:+.1f}%", model.assets[static_cast<std::size_t>(order[k])].id,
                                100.0 * std::expm1(x(order[k]))));
  return fmt::format("{}", fmt::join(parts, ", "));
}

}  // namespace

std::string format_reverse_search(const Model& model, const ReverseSearchResult& r) {
  std::string out = fmt::format(
      "multi-dimensional reverse stress test: the most plausible market move that {}\n"
      "norm: standard deviations of the move over the MPOR of {} days (Mahalanobis: the scenarios' volatilities and "
      "correlation); FORM Phi(-r) reads it as a probability under Gaussian moves\n"
      "searched: {} directions up to {} standard deviations, then up to {} pattern-search iterations; {} scenarios "
      "run\n\n",
      target_text(model, r), r.days, r.directions.size(), r.options.max_radius, r.options.refine, r.evaluations);
  out += fmt::format("  {:<4} {:<44} {:<16} {:>10} {:>11}  {}\n", "rank", "direction", "family", "radius", "FORM",
                     "largest moves at the radius");
  std::size_t shown = 0, unreached = 0;
  for (const auto& d : r.directions) {
    if (!d.radius) {
      ++unreached;
      continue;
    }
    if (++shown > 15) continue;
    out += fmt::format("  {:<4} {:<44} {:<16} {:>10.4f} {:>11.3g}  {}\n", shown, d.name.substr(0, 44), d.family,
                       *d.radius, form_probability(*d.radius), largest_moves(model, r, d, *d.radius, 4));
  }
  if (shown > 15) out += fmt::format("  ... {} more directions reach it (in --json)\n", shown - 15);
  if (unreached > 0)
    out +=
        fmt::format("  {} directions do not reach it within {} standard deviations\n", unreached, r.options.max_radius);
  if (!r.at_design_point) {
    out += fmt::format("\nNo direction searched {} within {} standard deviations.\n", target_text(model, r),
                       r.options.max_radius);
    return out;
  }
  const SearchDirection& best = r.directions.front();
  out += fmt::format("\nThe most plausible move found ({}) {} at {:.4f} standard deviations (FORM {:.3g}): {}.\n\n",
                     best.name, target_text(model, r), *best.radius, form_probability(*best.radius),
                     largest_moves(model, r, best, *best.radius, model.assets.size()));
  out += format_stress(model, {*r.at_design_point}, false);
  return out;
}

nlohmann::ordered_json reverse_search_json(const Model& model, const ReverseSearchResult& r) {
  using json = nlohmann::ordered_json;
  json directions = json::array();
  for (const auto& d : r.directions) {
    json moves = json::object();
    if (d.radius) {
      const Eigen::VectorXd x = search_log_move(model, r.ccp, d.u, *d.radius);
      for (std::size_t a = 0; a < model.assets.size(); ++a)
        moves[model.assets[a].id] = std::expm1(x(static_cast<Eigen::Index>(a)));
    }
    directions.push_back({{"name", d.name},
                          {"family", d.family},
                          {"radius", d.radius ? json(*d.radius) : json()},
                          {"form_probability", d.radius ? json(form_probability(*d.radius)) : json()},
                          {"moves", moves}});
  }
  return json{{"ccpnet_version", CCPNET_VERSION},
              {"ccp", model.ccps[static_cast<std::size_t>(r.ccp)].id},
              {"target", r.options.layer ? std::string(models::layer_name(*r.options.layer)) : "failure"},
              {"days", r.days},
              {"norm", "standard deviations of the log-move over the MPOR (Mahalanobis)"},
              {"max_radius", r.options.max_radius},
              {"refine", r.options.refine},
              {"tolerance", r.options.tolerance},
              {"evaluations", r.evaluations},
              {"directions", directions},
              {"design_point", r.at_design_point ? directions.front() : json()}};
}

}  // namespace ccpnet
