#include "sim/config/yaml_reader.hpp"

#include <fmt/format.h>

#include <algorithm>
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
    case YAML::NodeType::Scalar:
      if (node.Tag() == "!") return fmt::format("the quoted string '{}'", excerpt(node.Scalar()));
      if (is_string_scalar(node)) return fmt::format("the string '{}'", excerpt(node.Scalar()));
      return fmt::format("'{}'", excerpt(node.Scalar()));
  }
  return "an unknown node";
}

bool is_string_scalar(const YAML::Node& node) {
  // yaml-cpp tags a plain scalar "?" and a quoted one "!".
  return node.IsScalar() && (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str");
}

namespace {

std::string without_separators(const std::string& raw) {
  std::string text;
  text.reserve(raw.size());
  for (char c : raw) {
    if (c != '_') text += c;  // YAML 1.1 digit separators: 1_000_000
  }
  return text;
}

// std::from_chars reports overflow and underflow alike as out of range; a
// decimal number overflows when its first significant digit is at 10^k, k >= 0.
bool magnitude_overflows(std::string_view text) {
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) text.remove_prefix(1);
  const auto e = text.find_first_of("eE");
  const std::string_view mantissa = text.substr(0, e);
  long long exponent = 0;
  if (e != std::string_view::npos) {
    std::string_view digits = text.substr(e + 1);
    const bool negative = !digits.empty() && digits[0] == '-';
    if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) digits.remove_prefix(1);
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), exponent);
    if (ec == std::errc::result_out_of_range) exponent = std::numeric_limits<long long>::max() / 2;
    if (negative) exponent = -exponent;
  }
  auto dot = mantissa.find('.');
  if (dot == std::string_view::npos) dot = mantissa.size();
  const auto first = mantissa.find_first_of("123456789");
  if (first == std::string_view::npos) return false;  // zero
  const long long position =
      first < dot ? static_cast<long long>(dot - first) - 1 : -static_cast<long long>(first - dot);
  return position + exponent >= 0;
}

// Digits of an integer in base 10, or 16 / 8 after YAML 1.2's 0x / 0o.
template <class I>
std::optional<I> parse_digits(std::string_view text) {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'o')) {
    base = text[1] == 'x' ? 16 : 8;
    text.remove_prefix(2);
  }
  I value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc{} || ptr != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

}  // namespace

std::optional<double> parse_double(const std::string& raw) {
  const std::string text = without_separators(raw);
  if (text == ".inf" || text == ".Inf" || text == ".INF" || text == "+.inf" || text == "+.Inf")
    return std::numeric_limits<double>::infinity();
  if (text == "-.inf" || text == "-.Inf" || text == "-.INF") return -std::numeric_limits<double>::infinity();
  if (text == ".nan" || text == ".NaN" || text == ".NAN") return std::numeric_limits<double>::quiet_NaN();
  if (text.empty()) return std::nullopt;
  const char* first = text.data();
  if (*first == '+') ++first;
  double value = 0;
  auto [ptr, ec] = std::from_chars(first, text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range && ptr == text.data() + text.size()) {
    const double sign = text[0] == '-' ? -1.0 : 1.0;
    return magnitude_overflows(text) ? sign * std::numeric_limits<double>::infinity() : sign * 0.0;
  }
  if (ec != std::errc{} || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::int64_t> parse_integer(const std::string& raw) {
  const std::string text = without_separators(raw);
  std::string_view digits = text;
  const bool negative = !digits.empty() && digits[0] == '-';
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) digits.remove_prefix(1);
  if (const auto magnitude = parse_digits<std::uint64_t>(digits)) {
    if (!negative && *magnitude <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return static_cast<std::int64_t>(*magnitude);
    if (negative && *magnitude <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1u)
      return static_cast<std::int64_t>(0u - *magnitude);
    return std::nullopt;
  }
  // Integral values written as floats, e.g. 1e6 or 5000.0.
  const auto d = parse_double(text);
  if (d && std::isfinite(*d) && std::floor(*d) == *d && *d >= -9.2e18 && *d <= 9.2e18)
    return static_cast<std::int64_t>(*d);
  return std::nullopt;
}

std::optional<std::uint64_t> parse_unsigned(const std::string& raw) {
  const std::string text = without_separators(raw);
  std::string_view digits = text;
  if (!digits.empty() && digits[0] == '+') digits.remove_prefix(1);
  if (const auto value = parse_digits<std::uint64_t>(digits)) return value;
  if (!digits.empty() && digits[0] == '-') {
    // -0 is zero; any other negative number is not unsigned.
    if (const auto d = parse_double(text); d && *d == 0.0) return 0u;
    return std::nullopt;
  }
  const auto d = parse_double(text);
  if (d && std::isfinite(*d) && std::floor(*d) == *d && *d >= 0.0 && *d < 1.8e19) return static_cast<std::uint64_t>(*d);
  return std::nullopt;
}

bool is_integral_number(const std::string& text) {
  if (parse_integer(text) || parse_unsigned(text)) return true;
  const auto d = parse_double(text);
  return d && std::isfinite(*d) && std::floor(*d) == *d;
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

void YamlReader::finish() {
  std::vector<std::string> suggested;  // known keys offered for a misspelling
  if (shorthand_name_.empty() && map_.IsMap() && !unknown_tag_) {
    for (auto it = map_.begin(); it != map_.end(); ++it) {
      if (!it->first.IsScalar()) {
        if (!ctx_.diagnostics->full())
          error(location_of(it->first), path_, "expected a string key, found " + describe_node(it->first));
        continue;
      }
      const std::string& key = it->first.Scalar();
      bool known = false;
      for (const auto& k : known_) known = known || k == key;
      if (known || ctx_.diagnostics->full()) continue;
      std::string msg = fmt::format("unknown key '{}'", excerpt(key));
      if (key == "<<") {
        msg += " (YAML merge keys are not supported: write the keys out)";
      } else if (auto guess = closest_match(key, known_); !guess.empty()) {
        msg += fmt::format(" (did you mean '{}'?)", guess);
        suggested.push_back(std::move(guess));
      } else {
        std::set<std::string> sorted(known_.begin(), known_.end());
        msg += fmt::format("; expected one of: {}", fmt::join(sorted, ", "));
      }
      error(location_of(it->first), join(excerpt(key)), msg);
    }
  }
  for (auto& [key, message] : missing_) {
    if (std::find(suggested.begin(), suggested.end(), key) != suggested.end()) {
      ctx_.unread.push_back(join(key));
      continue;
    }
    if (!ctx_.diagnostics->full()) error(location_of(map_), join(key), std::move(message));
  }
  missing_.clear();
}

bool YamlReader::read_scalar_string(const YAML::Node& node, const std::string& path, std::string& out) {
  if (!spend(ctx_, node, path)) return false;
  ctx_.source_map->record(path, location_of(node));
  if (!node.IsScalar()) {
    type_error(ctx_, node, path, "a name");
    return false;
  }
  out = node.Scalar();
  return check_characters(ctx_, node, path, out);
}

bool YamlReader::spend(ReadContext& ctx, const YAML::Node& node, const std::string& path) {
  if (ctx.budget_exhausted) return false;
  if (ctx.node_budget == 0) {
    ctx.budget_exhausted = true;
    ctx.diagnostics->error(location_of(node), path,
                           fmt::format("document too large: more than {} values to read with aliases expanded "
                                       "(an alias bomb?); reading stopped here",
                                       kMaxValuesRead));
    return false;
  }
  --ctx.node_budget;
  return true;
}

bool YamlReader::check_characters(ReadContext& ctx, const YAML::Node& node, const std::string& path,
                                  const std::string& text) {
  const auto bad = std::find_if(text.begin(), text.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F;
  });
  if (bad == text.end()) return true;
  if (!ctx.diagnostics->full()) {
    ctx.diagnostics->error(location_of(node), path,
                           fmt::format("expected a string without control characters, found {} (an escape such as "
                                       "\"\\0\" in a quoted string?)",
                                       *bad == 0 ? "a NUL character" : "a control character"));
  }
  return false;
}

void YamlReader::type_error(ReadContext& ctx, const YAML::Node& node, const std::string& path,
                            std::string_view expected) {
  if (ctx.diagnostics->full()) return;
  ctx.diagnostics->error(location_of(node), path, fmt::format("expected {}, found {}", expected, describe_node(node)));
}

void YamlReader::check_range(ReadContext& ctx, const YAML::Node& node, const std::string& path, double value,
                             const Field& field, std::string_view what) {
  const bool below = field.min && (field.exclusive_min ? !(value > *field.min) : !(value >= *field.min));
  const bool above = field.max && (field.exclusive_max ? !(value < *field.max) : !(value <= *field.max));
  if ((!below && !above) || ctx.diagnostics->full()) return;
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
  ctx.diagnostics->error(
      location_of(node), path,
      fmt::format("expected a {} {}{}, found {}", what, range,
                  field.unit.empty() ? "" : fmt::format(" ({})", field.unit), excerpt(node.Scalar())));
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
      const std::string key = excerpt(it->first.Scalar());
      ctx.diagnostics->error(location_of(it->first), path.empty() ? key : path + "." + key,
                             fmt::format("duplicate key '{}'", key));
      ok = false;
    }
  }
  return ok;
}

bool YamlReader::check_tag(ReadContext& ctx, const YAML::Node& node, const std::string& path) {
  const std::string& tag = node.Tag();
  if (tag.empty() || tag == "?" || tag == "!" || tag.rfind("tag:yaml.org,2002:", 0) == 0) return true;
  ctx.diagnostics->error(location_of(node), path,
                         fmt::format("unsupported YAML tag '{}': expected a plain value", excerpt(tag)));
  return false;
}

}  // namespace ccpnet::config
