#include "sim/reverse.hpp"

#include <fmt/format.h>

#include <cmath>
#include <functional>

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

}  // namespace ccpnet
