// Strict YAML -> config struct reading (STYLE habits 1, 2, 4).
//
// A struct lists its fields once in `serialize(Archive&)`; this archive walks
// that list over a YAML mapping. Every problem becomes a located Diagnostic and
// reading continues, so one pass reports all errors of a file: missing required
// keys, unknown keys (with a did-you-mean), duplicate keys, wrong types,
// non-finite numbers and out-of-range values.
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "sim/config/diagnostics.hpp"
#include "sim/config/field.hpp"

namespace ccpnet::config {

// Values read from one file at most, aliases expanded: a YAML alias is read
// once per use, so a small file can name billions of values (an alias bomb).
// A backstop: loading already refuses a text whose values, aliases expanded,
// exceed kMaxYamlNodes (load.hpp); overrides add a few more.
inline constexpr std::size_t kMaxValuesRead = 2'000'000;

// Shared state of one read: where errors go, where keys were found, and a node
// budget that bounds the work on hostile input (alias expansion).
struct ReadContext {
  Diagnostics* diagnostics = nullptr;
  SourceMap* source_map = nullptr;
  std::size_t node_budget = kMaxValuesRead;
  bool budget_exhausted = false;
  // Key paths of values that could not be read although no error names them
  // (a required key whose misspelling was reported): later checks skip them.
  std::vector<std::string> unread;
};

Location location_of(const YAML::Node& node);
std::string describe_node(const YAML::Node& node);  // "a mapping", "'abc'", "the quoted string '7'", ...

// A scalar written in quotes or tagged !!str: text, never a number or a bool.
bool is_string_scalar(const YAML::Node& node);

// Scalar conversions; nullopt when the text is not of the type. Numbers accept
// YAML's spellings: 1_000_000, 1.5e6, .inf, .nan; integers also 0x1F and 0o17.
std::optional<double> parse_double(const std::string& text);
std::optional<std::int64_t> parse_integer(const std::string& text);
std::optional<std::uint64_t> parse_unsigned(const std::string& text);
bool is_integral_number(const std::string& text);  // an integer of any size: -1, 1e30, 2^64
std::optional<bool> parse_bool(const std::string& text);

class YamlReader {
 public:
  YamlReader(ReadContext& ctx, const YAML::Node& map, std::string path)
      : ctx_(ctx), map_(map), path_(std::move(path)) {}

  // Read a whole struct from `node` at `path`; the entry point.
  template <class T>
  static void read_root(ReadContext& ctx, const YAML::Node& node, T& value) {
    read_value(ctx, node, value, "", Field{});
  }

  // Declares one field (called from a struct's serialize()).
  template <class T>
  void operator()(std::string_view name, T& value, const Field& field) {
    known_.emplace_back(name);
    const std::optional<YAML::Node> child = find(name);
    if (!child) {
      if (field.required) missing_.emplace_back(name, "missing required key");
      return;
    }
    read_value(ctx_, *child, value, join(name), field);
  }

  // Declares a tagged variant: `key` names the alternative (its kTag), the
  // alternative's own fields are read from the same mapping.
  template <class... Alts>
  void tagged(std::string_view key, std::variant<Alts...>& value, const Field& field) {
    known_.emplace_back(key);
    const std::optional<YAML::Node> child = find(key);
    if (!child) {
      if (field.required) {
        missing_.emplace_back(key, "missing required key (one of " + tag_list<Alts...>() + ")");
        return;
      }
      // Default alternative: read its fields from this mapping.
      std::visit([&](auto& alt) { alt.serialize(*this); }, value);
      return;
    }
    std::string tag;
    if (!read_scalar_string(*child, join(key), tag)) return;
    bool matched = false;
    (try_alternative<Alts>(tag, value, matched), ...);
    if (!matched) {
      std::vector<std::string> names{std::string(Alts::kTag)...};
      std::string msg = "expected one of " + tag_list<Alts...>() + ", found '" + excerpt(tag) + "'";
      if (auto guess = closest_match(tag, names); !guess.empty()) msg += " (did you mean '" + guess + "'?)";
      error(location_of(*child), join(key), msg);
      // The other keys of the mapping belong to a model we do not know: one
      // error for the one mistake, no unknown-key errors after it.
      unknown_tag_ = true;
    }
  }

  // After serialize(): any key not declared is an error with a suggestion, and
  // each missing required key is an error unless a misspelling of it was the
  // suggestion (one mistake, one error).
  void finish();

  const std::string& path() const { return path_; }

 private:
  template <class Alt, class V>
  void try_alternative(const std::string& tag, V& value, bool& matched) {
    if (matched || tag != Alt::kTag) return;
    matched = true;
    if (!std::holds_alternative<Alt>(value)) value = Alt{};
    std::get<Alt>(value).serialize(*this);
  }

  template <class... Alts>
  static std::string tag_list() {
    std::string out;
    ((out += (out.empty() ? "" : ", ") + std::string(Alts::kTag)), ...);
    return out;
  }

  std::optional<YAML::Node> find(std::string_view name) const;
  std::string join(std::string_view name) const {
    return path_.empty() ? std::string(name) : path_ + "." + std::string(name);
  }
  void error(const Location& where, std::string path, std::string message) {
    ctx_.diagnostics->error(where, std::move(path), std::move(message));
  }
  bool read_scalar_string(const YAML::Node& node, const std::string& path, std::string& out);

  // ---- value readers, dispatched on the C++ type ---------------------------
  static bool spend(ReadContext& ctx, const YAML::Node& node, const std::string& path);
  static void type_error(ReadContext& ctx, const YAML::Node& node, const std::string& path, std::string_view expected);
  // False, with a located error, when an escape in a quoted scalar ("\0",
  // "\x07") put into `text` a control character the raw file may not hold.
  static bool check_characters(ReadContext& ctx, const YAML::Node& node, const std::string& path,
                               const std::string& text);
  static void check_range(ReadContext& ctx, const YAML::Node& node, const std::string& path, double value,
                          const Field& field, std::string_view what);
  static bool check_duplicate_keys(ReadContext& ctx, const YAML::Node& node, const std::string& path);
  // Only YAML's own tags (!!str, !!int, ...) are meaningful here; others are errors.
  static bool check_tag(ReadContext& ctx, const YAML::Node& node, const std::string& path);

 public:
  template <class T>
  static void read_value(ReadContext& ctx, const YAML::Node& node, T& value, const std::string& path,
                         const Field& field) {
    if (!spend(ctx, node, path)) return;
    ctx.source_map->record(path, location_of(node));
    if (!check_tag(ctx, node, path)) return;
    if constexpr (is_optional<T>::value) {
      if (node.IsNull()) {
        value.reset();
        return;
      }
      typename T::value_type inner{};
      if (value) inner = *value;
      const std::size_t before = ctx.diagnostics->size();
      read_value(ctx, node, inner, path, field);
      if (ctx.diagnostics->size() == before) value = std::move(inner);
    } else if constexpr (std::is_same_v<T, bool>) {
      if (!node.IsScalar() || is_string_scalar(node)) return type_error(ctx, node, path, "true or false");
      if (auto b = parse_bool(node.Scalar())) {
        value = *b;
      } else {
        type_error(ctx, node, path, "true or false");
      }
    } else if constexpr (std::is_integral_v<T>) {
      if (!node.IsScalar() || is_string_scalar(node)) return type_error(ctx, node, path, "an integer");
      const std::string& text = node.Scalar();
      std::optional<T> v;
      if constexpr (std::is_signed_v<T>) {
        const auto i = parse_integer(text);
        if (i && *i >= static_cast<std::int64_t>(std::numeric_limits<T>::min()) &&
            *i <= static_cast<std::int64_t>(std::numeric_limits<T>::max()))
          v = static_cast<T>(*i);
      } else {
        const auto u = parse_unsigned(text);
        if (u && *u <= static_cast<std::uint64_t>(std::numeric_limits<T>::max())) v = static_cast<T>(*u);
      }
      if (!v && is_integral_number(text)) {
        return type_error(ctx, node, path,
                          "an integer in [" + std::to_string(std::numeric_limits<T>::min()) + ", " +
                              std::to_string(std::numeric_limits<T>::max()) + "]");
      }
      if (!v) return type_error(ctx, node, path, "an integer");
      check_range(ctx, node, path, static_cast<double>(*v), field, "value");
      value = *v;
    } else if constexpr (std::is_floating_point_v<T>) {
      if (!node.IsScalar() || is_string_scalar(node)) return type_error(ctx, node, path, "a number");
      auto v = parse_double(node.Scalar());
      if (!v) return type_error(ctx, node, path, "a number");
      if (std::isnan(*v)) return type_error(ctx, node, path, "a finite number");
      if (std::isinf(*v) && !field.allow_infinite) return type_error(ctx, node, path, "a finite number");
      check_range(ctx, node, path, *v, field, "value");
      value = static_cast<T>(*v);
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (!node.IsScalar()) return type_error(ctx, node, path, "a string");
      if (!check_characters(ctx, node, path, node.Scalar())) return;
      value = node.Scalar();
      if (field.required && value.empty()) type_error(ctx, node, path, "a non-empty string");
    } else if constexpr (NamedEnum<T>) {
      if (!node.IsScalar()) return type_error(ctx, node, path, "one of " + enum_list<T>());
      const std::string& text = node.Scalar();
      if (auto e = enum_from_name<T>(text)) {
        value = *e;
      } else if (!ctx.diagnostics->full()) {
        std::vector<std::string> names;
        for (const auto& [v, n] : EnumNames<T>::values) names.emplace_back(n);
        std::string msg = "expected one of " + enum_list<T>() + ", found '" + excerpt(text) + "'";
        if (auto guess = closest_match(text, names); !guess.empty()) msg += " (did you mean '" + guess + "'?)";
        ctx.diagnostics->error(location_of(node), path, msg);
      }
    } else if constexpr (is_ordered_map<T>::value) {
      if (!node.IsMap()) return type_error(ctx, node, path, "a mapping");
      check_duplicate_keys(ctx, node, path);
      check_size(ctx, node, path, field);
      value.clear();
      for (auto it = node.begin(); it != node.end() && !ctx.budget_exhausted; ++it) {
        if (!it->first.IsScalar()) {
          type_error(ctx, it->first, path, "a string key");
          continue;
        }
        const std::string key = it->first.Scalar();
        const std::string child_path = path + "." + key;
        ctx.source_map->record(child_path, location_of(it->first));
        typename T::value_type::second_type item{};
        read_value(ctx, it->second, item, child_path, element_field(field));
        value.emplace_back(key, std::move(item));
      }
    } else if constexpr (is_vector<T>::value) {
      if (!node.IsSequence()) return type_error(ctx, node, path, "a list");
      check_size(ctx, node, path, field);
      value.clear();
      // Not node.size(): a list of a million aliases must not allocate a
      // million records before the node budget stops the read.
      value.reserve(std::min<std::size_t>(node.size(), 1024));
      std::size_t i = 0;
      for (const auto& item_node : node) {
        typename T::value_type item{};
        read_value(ctx, item_node, item, path + "[" + std::to_string(i) + "]", element_field(field));
        value.push_back(std::move(item));
        ++i;
        if (ctx.budget_exhausted) return;
      }
    } else if constexpr (SerializableWith<T, YamlReader>) {
      if constexpr (requires { T::kShorthand; }) {
        if (!node.IsMap() && !node.IsNull()) {
          // A non-mapping value is shorthand for {kShorthand: value}.
          YamlReader sub(ctx, node, path);
          sub.read_shorthand(node, value, T::kShorthand);
          return;
        }
      }
      if (!node.IsMap()) return type_error(ctx, node, path, "a mapping");
      check_duplicate_keys(ctx, node, path);
      YamlReader sub(ctx, node, path);
      value.serialize(sub);
      sub.finish();
    } else {
      static_assert(sizeof(T) == 0, "no YAML reader for this type");
    }
  }

 private:
  template <class T>
  void read_shorthand(const YAML::Node& node, T& value, std::string_view field_name) {
    shorthand_name_ = field_name;
    shorthand_node_ = node;
    value.serialize(*this);
    finish();
  }

  static Field element_field(const Field& f) {
    // Elements of a list or map keep the value constraints, not the size ones.
    Field e = f;
    e.min_size.reset();
    e.max_size.reset();
    e.required = false;
    return e;
  }

  static void check_size(ReadContext& ctx, const YAML::Node& node, const std::string& path, const Field& field);

  template <class E>
  static std::string enum_list() {
    std::string out;
    for (const auto& [v, n] : EnumNames<E>::values) {
      if (!out.empty()) out += ", ";
      out += n;
    }
    return out;
  }

  ReadContext& ctx_;
  YAML::Node map_;
  std::string path_;
  std::vector<std::string> known_;
  std::string_view shorthand_name_;
  YAML::Node shorthand_node_;
  bool unknown_tag_ = false;
  std::vector<std::pair<std::string_view, std::string>> missing_;  // required keys not found: {key, message}
};

}  // namespace ccpnet::config
