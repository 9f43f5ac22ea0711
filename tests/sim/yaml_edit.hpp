// Variants of a test's YAML case, edited in place.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace ccpnet::test_cases {

// `yaml` with its first `from` replaced by `to`; a test failure when `from`
// is not in it.
inline void replace_in(std::string& yaml, std::string_view from, std::string_view to) {
  const auto at = yaml.find(from);
  if (at == std::string::npos) {
    ADD_FAILURE() << "not in the case: " << from;
    return;
  }
  yaml.replace(at, from.size(), to);
}

}  // namespace ccpnet::test_cases
