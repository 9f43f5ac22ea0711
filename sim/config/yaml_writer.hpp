// Config struct -> YAML (the resolved scenario written beside each run), and
// config struct -> Markdown key reference. Both walk the same field lists as
// the reader.
#pragma once

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <functional>
#include <set>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "sim/config/field.hpp"

namespace ccpnet::config {

// Shortest text that reads back to the same double.
std::string format_number(double value);

class YamlWriter {
 public:
  explicit YamlWriter(YAML::Emitter& out) : out_(out) {}

  template <class T>
  void operator()(std::string_view name, const T& value, const Field& /*field*/) {
    if constexpr (is_optional<T>::value) {
      if (!value) return;  // absent stays absent
    }
    out_ << YAML::Key << std::string(name) << YAML::Value;
    write(out_, value);
  }

  template <class... Alts>
  void tagged(std::string_view key, const std::variant<Alts...>& value, const Field& /*field*/) {
    std::visit(
        [&](const auto& alt) {
          out_ << YAML::Key << std::string(key) << YAML::Value << std::string(std::decay_t<decltype(alt)>::kTag);
          const_cast<std::decay_t<decltype(alt)>&>(alt).serialize(*this);
        },
        value);
  }

  template <class T>
  static void write(YAML::Emitter& out, const T& value) {
    if constexpr (is_optional<T>::value) {
      if (value) {
        write(out, *value);
      } else {
        out << YAML::Null;
      }
    } else if constexpr (std::is_same_v<T, bool>) {
      out << (value ? "true" : "false");
    } else if constexpr (std::is_integral_v<T>) {
      out << fmt::format("{}", value);
    } else if constexpr (std::is_floating_point_v<T>) {
      out << format_number(static_cast<double>(value));
    } else if constexpr (std::is_same_v<T, std::string>) {
      out << YAML::DoubleQuoted << value;
    } else if constexpr (NamedEnum<T>) {
      out << std::string(enum_name(value));
    } else if constexpr (is_ordered_map<T>::value) {
      out << YAML::BeginMap;
      for (const auto& [k, v] : value) {
        out << YAML::Key << k << YAML::Value;
        write(out, v);
      }
      out << YAML::EndMap;
    } else if constexpr (is_vector<T>::value) {
      using E = typename T::value_type;
      const bool flat = std::is_arithmetic_v<E> || std::is_same_v<E, std::string> || NamedEnum<E>;
      if (flat) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const auto& v : value) write(out, v);
      out << YAML::EndSeq;
    } else {
      out << YAML::BeginMap;
      YamlWriter w(out);
      const_cast<T&>(value).serialize(w);
      out << YAML::EndMap;
    }
  }

 private:
  YAML::Emitter& out_;
};

// Markdown reference: one table per struct type, in the order first met.
class DocWriter {
 public:
  explicit DocWriter(std::string& out) : out_(out) {}

  template <class T>
  void document(const std::string& section, const T& defaults) {
    rows_.clear();
    pending_.clear();
    const_cast<T&>(defaults).serialize(*this);
    out_ += "### `" + (section.empty() ? std::string("(top level)") : section) + "`\n\n";
    out_ += "| key | type | unit | default | description |\n|---|---|---|---|---|\n";
    out_ += rows_;
    out_ += "\n";
    auto pending = std::move(pending_);
    for (auto& p : pending) p(*this);
  }

  template <class T>
  void operator()(std::string_view name, const T& value, const Field& field) {
    const std::string path = std::string(name);
    rows_ += fmt::format("| `{}` | {} | {} | {} | {}{} |\n", path, cell(type_name<T>()), cell(field.unit),
                         field.required ? "required" : cell(default_text(value)), cell(field.doc),
                         cell(constraint_text<T>(field)));
    queue_children<T>(path, value);
  }

  template <class... Alts>
  void tagged(std::string_view key, const std::variant<Alts...>& value, const Field& field) {
    std::string tags;
    ((tags += (tags.empty() ? "" : ", ") + std::string("`") + std::string(Alts::kTag) + "`"), ...);
    const std::string def =
        std::visit([](const auto& alt) { return std::string(std::decay_t<decltype(alt)>::kTag); }, value);
    rows_ +=
        fmt::format("| `{}` | one of {} | | `{}` | {}; the keys of each model follow |\n", key, tags, def, field.doc);
    const std::string prefix = current_section_;
    (pending_.push_back([prefix, key = std::string(key)](DocWriter& w) {
      w.current_section_ = prefix;
      w.document(prefix + (prefix.empty() ? "" : " ") + "(" + key + ": " + std::string(Alts::kTag) + ")", Alts{});
    }),
     ...);
  }

  std::string current_section_;

 private:
  template <class T>
  void queue_children(const std::string& name, const T& value) {
    if constexpr (is_optional<T>::value) {
      queue_children<typename T::value_type>(name, typename T::value_type{});
    } else if constexpr (is_ordered_map<T>::value || std::is_arithmetic_v<T> || std::is_same_v<T, std::string> ||
                         NamedEnum<T>) {
    } else if constexpr (is_vector<T>::value) {
      using E = typename T::value_type;
      if constexpr (!std::is_arithmetic_v<E> && !std::is_same_v<E, std::string> && !NamedEnum<E> &&
                    !is_vector<E>::value) {
        queue_children<E>(name + "[]", E{});
      }
    } else {
      const std::string section = current_section_.empty() ? name : current_section_ + "." + name;
      pending_.push_back([section, value](DocWriter& w) {
        w.current_section_ = section;
        w.document(section, value);
      });
    }
  }

  template <class T>
  static std::string type_name() {
    if constexpr (is_optional<T>::value) {
      return type_name<typename T::value_type>() + " (optional)";
    } else if constexpr (std::is_same_v<T, bool>) {
      return "bool";
    } else if constexpr (std::is_integral_v<T>) {
      return "integer";
    } else if constexpr (std::is_floating_point_v<T>) {
      return "number";
    } else if constexpr (std::is_same_v<T, std::string>) {
      return "string";
    } else if constexpr (NamedEnum<T>) {
      std::string out = "one of ";
      bool first = true;
      for (const auto& [v, n] : EnumNames<T>::values) {
        out += std::string(first ? "" : ", ") + "`" + std::string(n) + "`";
        first = false;
      }
      return out;
    } else if constexpr (is_ordered_map<T>::value) {
      return "map of " + type_name<typename T::value_type::second_type>();
    } else if constexpr (is_vector<T>::value) {
      return "list of " + type_name<typename T::value_type>();
    } else {
      return "mapping";
    }
  }

  template <class T>
  static std::string default_text(const T& value) {
    if constexpr (is_optional<T>::value) {
      return value ? default_text(*value) : "absent";
    } else if constexpr (std::is_same_v<T, bool>) {
      return value ? "`true`" : "`false`";
    } else if constexpr (std::is_integral_v<T>) {
      return fmt::format("`{}`", value);
    } else if constexpr (std::is_floating_point_v<T>) {
      return "`" + format_number(value) + "`";
    } else if constexpr (std::is_same_v<T, std::string>) {
      return value.empty() ? "empty" : "`" + value + "`";
    } else if constexpr (NamedEnum<T>) {
      return "`" + std::string(enum_name(value)) + "`";
    } else if constexpr (is_vector<T>::value) {
      return value.empty() ? "empty" : "see description";
    } else {
      return "see below";
    }
  }

  template <class T>
  static std::string constraint_text(const Field& f) {
    std::string out;
    if (f.min || f.max) {
      if (f.min && f.max) {
        out = fmt::format("{}{}, {}{}", f.exclusive_min ? "(" : "[", format_number(*f.min), format_number(*f.max),
                          f.exclusive_max ? ")" : "]");
      } else if (f.min) {
        out = fmt::format("{} {}", f.exclusive_min ? ">" : ">=", format_number(*f.min));
      } else {
        out = fmt::format("{} {}", f.exclusive_max ? "<" : "<=", format_number(*f.max));
      }
    }
    if (f.min_size || f.max_size) {
      if (!out.empty()) out += "; ";
      if (f.min_size && f.max_size && *f.min_size == *f.max_size) {
        out += fmt::format("exactly {} elements", *f.min_size);
      } else if (f.min_size) {
        out += fmt::format("at least {} element{}", *f.min_size, *f.min_size == 1 ? "" : "s");
      } else {
        out += fmt::format("at most {} elements", *f.max_size);
      }
    }
    return out.empty() ? "" : ". Allowed: " + out;
  }

  // Markdown table cells cannot contain a bare '|'.
  static std::string cell(std::string_view text) {
    std::string out;
    for (char c : text) {
      if (c == '|') out += '\\';
      out += c;
    }
    return out;
  }

  std::string& out_;
  std::string rows_;
  std::vector<std::function<void(DocWriter&)>> pending_;
};

}  // namespace ccpnet::config
