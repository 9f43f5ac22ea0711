// Field metadata and the small vocabulary every config struct uses to declare
// its fields once (STYLE habit 1). One `serialize(Archive&)` per struct drives
// YAML reading (strict), YAML writing (the resolved scenario) and the key
// reference in scenarios/README.md.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace ccpnet::config {

// What a reader needs to know about one field besides its C++ type.
struct Field {
  std::string_view doc;                      // one sentence, domain wording
  std::string_view unit = {};                // "USD", "days", "fraction", ...
  std::optional<double> min = {};            // inclusive lower bound of a number (each element of a list)
  std::optional<double> max = {};            // inclusive upper bound
  bool exclusive_min = false;                // `min` is exclusive (value must be > min)
  bool exclusive_max = false;                // `max` is exclusive (value must be < max)
  bool allow_infinite = false;               // `.inf` accepted (e.g. the last tier bound)
  std::optional<std::size_t> min_size = {};  // bounds on the number of list elements
  std::optional<std::size_t> max_size = {};
  bool required = false;  // missing key is an error
};
// Designated initialisers must follow the order above:
//   {.doc = "...", .unit = "USD", .min = 0.0, .required = true}

// An ordered string-keyed map, read from a YAML mapping and kept in file order
// (positions by CCP then by instrument).
template <class T>
using OrderedMap = std::vector<std::pair<std::string, T>>;

// Enumerations are read and written by name. Specialise for each enum:
//   template <> struct EnumNames<Shape> { static constexpr std::array values{
//       std::pair{Shape::kRound, "round"}, ...}; };
template <class E>
struct EnumNames;

template <class E>
concept NamedEnum = requires {
  EnumNames<E>::values;
};

template <class E>
requires NamedEnum<E>
constexpr std::string_view enum_name(E value) {
  for (const auto& [v, name] : EnumNames<E>::values) {
    if (v == value) return name;
  }
  return "?";
}

template <class E>
requires NamedEnum<E>
constexpr std::optional<E> enum_from_name(std::string_view name) {
  for (const auto& [v, n] : EnumNames<E>::values) {
    if (n == name) return v;
  }
  return std::nullopt;
}

// A config struct: has `template <class A> void serialize(A&)`.
template <class T, class A>
concept SerializableWith = requires(T& t, A& a) {
  t.serialize(a);
};

// Alternatives of a tagged variant carry `static constexpr std::string_view kTag`.
template <class T>
concept Tagged = requires {
  T::kTag;
};

template <class T>
struct is_variant : std::false_type {};
template <class... Ts>
struct is_variant<std::variant<Ts...>> : std::true_type {};

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

template <class T>
struct is_vector : std::false_type {};
template <class T, class A>
struct is_vector<std::vector<T, A>> : std::true_type {};

template <class T>
struct is_ordered_map : std::false_type {};
template <class T>
struct is_ordered_map<std::vector<std::pair<std::string, T>>> : std::true_type {};

}  // namespace ccpnet::config
