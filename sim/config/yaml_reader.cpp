#include "sim/config/yaml_reader.hpp"

#include <fmt/format.h>

#include <charconv>
#include <set>

namespace ccpnet::config {

Location location_of(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null() || mark.line < 0) return Location{0, 0, {}};
  // yaml-cpp marks are 0-based; editors count from 1.
  return Location{mark.line + 1, mark.column + 1, {}};
}

std::string describe_node(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null: return "nothing (null)";
    case YAML::NodeType::Sequence:
      return fmt::format("a list of {} element{}", node.size(), node.size() == 1 ? "" : "s");
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Scalar: {
      std::string text = node.Scalar();
      if (text.size() > 40) text = text.substr(0, 37) + "...";
      return fmt::format("'{}'", text);
    }
  }
  return "an unknown node";
}

std::optional<double> parse_double(const std::string& raw) {
  std::string text;
  text.reserve(raw.size());
  for (char c : raw) {
    if (c != '_') text += c;  // YAML 1.1 digit separators: 1_000_000
  }
  if (text == ".inf" || text == ".Inf" || text == ".INF" || text == "+.inf" || text == "+.Inf")
    return std::numeric_limits<double>::infinity();
  if (text == "-.inf" || text == "-.Inf" || text == "-.INF") return -std::numeric_limits<double>::infinity();
  if (text == ".nan" || text == ".NaN" || text == ".NAN") return std::numeric_limits<double>::quiet_NaN();
  if (text.empty()) return std::nullopt;
  const char* first = text.data();
  if (*first == '+') ++first;
  double value = 0;
  auto [ptr, ec] = std::from_chars(first, text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range) return std::numeric_limits<double>::infinity();
  if (ec != std::errc{} || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::int64_t> parse_integer(const std::string& text) {
  std::int64_t value = 0;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (first != last && *first == '+') ++first;
  auto [ptr, ec] = std::from_chars(first, last, value);
  if (ec == std::errc{} && ptr == last) return value;
  // Accept integral values written as floats, e.g. 1e6 or 5000.0.
  auto d = parse_double(text);
  if (d && std::isfinite(*d) && std::floor(*d) == *d && std::fabs(*d) < 9.0e18) return static_cast<std::int64_t>(*d);
  return std::nullopt;
}

std::optional<bool> parse_bool(const std::string& text) {
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  return std::nullopt;
}

std::optional<YAML::Node> YamlReader::find(std::string_view name) const {
  if (!shorthand_name_.empty()) {
    if (name == shorthand_name_) return shorthand_node_;
    return std::nullopt;
  }
  if (!map_.IsMap()) return std::nullopt;
  for (auto it = map_.begin(); it != map_.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == name) return it->second;
  }
  return std::nullopt;
}

void YamlReader::check_unknown_keys() {
  if (!shorthand_name_.empty() || !map_.IsMap()) return;
  for (auto it = map_.begin(); it != map_.end(); ++it) {
    if (!it->first.IsScalar()) {
      error(location_of(it->first), path_, "expected a string key, found " + describe_node(it->first));
      continue;
    }
    const std::string& key = it->first.Scalar();
    bool known = false;
    for (const auto& k : known_) known = known || k == key;
    if (known) continue;
    std::string msg = fmt::format("unknown key '{}'", key);
    if (auto guess = closest_match(key, known_); !guess.empty()) {
      msg += fmt::format(" (did you mean '{}'?)", guess);
    } else {
      std::set<std::string> sorted(known_.begin(), known_.end());
      msg += fmt::format("; expected one of: {}", fmt::join(sorted, ", "));
    }
    error(location_of(it->first), join(key), msg);
  }
}

bool YamlReader::read_scalar_string(const YAML::Node& node, const std::string& path, std::string& out) {
  if (!spend(ctx_, node, path)) return false;
  ctx_.source_map->record(path, location_of(node));
  if (!node.IsScalar()) {
    type_error(ctx_, node, path, "a name");
    return false;
  }
  out = node.Scalar();
  return true;
}

bool YamlReader::spend(ReadContext& ctx, const YAML::Node& node, const std::string& path) {
  if (ctx.budget_exhausted) return false;
  if (ctx.node_budget == 0) {
    ctx.budget_exhausted = true;
    ctx.diagnostics->error(location_of(node), path,
                           "document too large: more than 2,000,000 values after alias expansion "
                           "(an alias bomb?)");
    return false;
  }
  --ctx.node_budget;
  return true;
}

void YamlReader::type_error(ReadContext& ctx, const YAML::Node& node, const std::string& path,
                            std::string_view expected) {
  ctx.diagnostics->error(location_of(node), path, fmt::format("expected {}, found {}", expected, describe_node(node)));
}

void YamlReader::check_range(ReadContext& ctx, const YAML::Node& node, const std::string& path, double value,
                             const Field& field, std::string_view what) {
  const bool below = field.min && (field.exclusive_min ? !(value > *field.min) : !(value >= *field.min));
  const bool above = field.max && (field.exclusive_max ? !(value < *field.max) : !(value <= *field.max));
  if (!below && !above) return;
  std::string range;
  const auto bound = [](double b) { return fmt::format("{}", b); };
  if (field.min && field.max) {
    range = fmt::format("in {}{}, {}{}", field.exclusive_min ? "(" : "[", bound(*field.min), bound(*field.max),
                        field.exclusive_max ? ")" : "]");
  } else if (field.min) {
    range = fmt::format("{} {}", field.exclusive_min ? ">" : ">=", bound(*field.min));
  } else {
    range = fmt::format("{} {}", field.exclusive_max ? "<" : "<=", bound(*field.max));
  }
  ctx.diagnostics->error(location_of(node), path,
                         fmt::format("expected a {} {}{}, found {}", what, range,
                                     field.unit.empty() ? "" : fmt::format(" ({})", field.unit), node.Scalar()));
}

void YamlReader::check_size(ReadContext& ctx, const YAML::Node& node, const std::string& path, const Field& field) {
  const std::size_t n = node.size();
  const bool small = field.min_size && n < *field.min_size;
  const bool large = field.max_size && n > *field.max_size;
  if (!small && !large) return;
  std::string expected;
  if (field.min_size && field.max_size && *field.min_size == *field.max_size) {
    expected = fmt::format("exactly {}", *field.min_size);
  } else if (small) {
    expected = fmt::format("at least {}", *field.min_size);
  } else {
    expected = fmt::format("at most {}", *field.max_size);
  }
  ctx.diagnostics->error(location_of(node), path,
                         fmt::format("expected {} element{}, found {}", expected,
                                     (field.min_size.value_or(2) == 1 && !large) ? "" : "s", n));
}

bool YamlReader::check_duplicate_keys(ReadContext& ctx, const YAML::Node& node, const std::string& path) {
  std::set<std::string> seen;
  bool ok = true;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar()) continue;
    if (!seen.insert(it->first.Scalar()).second) {
      const std::string key = it->first.Scalar();
      ctx.diagnostics->error(location_of(it->first), path.empty() ? key : path + "." + key,
                             fmt::format("duplicate key '{}'", key));
      ok = false;
    }
  }
  return ok;
}

}  // namespace ccpnet::config
