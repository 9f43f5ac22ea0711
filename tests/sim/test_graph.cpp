// The system graph and its Graphviz DOT text (`ccpnet graph FILE | dot -Tpng`).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "sim/config/load.hpp"
#include "sim/graph.hpp"
#include "sim/model.hpp"

namespace ccpnet {
namespace test_graph {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kTwoCcps = R"(name: a "quoted" name
market:
  assets: [{id: X, price: 100, volatility: 0.5}]
ccps:
  - {id: A, capital: 2.0e8}
  - {id: 'B\q', capital: 1.0e8}
members:
  - {id: M1, capital: 5.0e8, positions: {A: {X: 10}}}
  - {id: M2, capital: 3.0e8, positions: {A: {X: -10}, 'B\q': {X: 5}}}
  - {id: M3, capital: 2.0e8, positions: {'B\q': {X: -5}}}
links: [{between: [A, 'B\q']}]
)";

Model two_ccps() { return build_model(config::load_scenario_text(kTwoCcps, "g.yaml")); }

TEST(SystemGraph, MembershipsAndCcpsOfEachMember) {
  const Model model = two_ccps();
  const SystemGraph g(model);
  EXPECT_EQ(g.membership_count(), 4u);
  EXPECT_EQ(g.ccps_of(1), (std::vector<int>{0, 1}));
  EXPECT_EQ(g.ccps_of(2), (std::vector<int>{1}));
}

// DOT (graphviz.org/doc/info/lang.html): in a quoted string only \" is an
// escape of the language; "\n" in a label is Graphviz's line break, so label
// lines are joined by a single backslash-n, while a backslash or quote in an
// id is escaped.
TEST(SystemGraph, DotLabelsBreakLinesAndEscapeIds) {
  const Model model = two_ccps();
  const std::string dot = SystemGraph(model).to_dot(model);
  EXPECT_THAT(dot, HasSubstr(R"(label="A\ncapital 200.0m\nDF )"));
  EXPECT_THAT(dot, HasSubstr(R"(label="M1\ncapital 500.0m"])"));
  EXPECT_THAT(dot, Not(HasSubstr(R"(\\n)")));           // no literal backslash-n in a label
  EXPECT_THAT(dot, HasSubstr(R"("B\\q" [shape=box)"));  // the id's backslash escaped
  EXPECT_THAT(dot, HasSubstr(R"(label="a \"quoted\" name")"));
  EXPECT_THAT(dot, HasSubstr(R"("A" -- "B\\q" [penwidth=3)"));
}

}  // namespace test_graph
}  // namespace ccpnet
