// Waterfall layers, checked against hand-computed examples.
#include <gtest/gtest.h>

#include "models/waterfall/waterfall.hpp"

namespace ccpnet::models {
namespace {

TEST(Waterfall, StopsInSitg) {
  // One defaulter: loss 100, IM 60, DF 10 -> 30 left for SITG (50): SITG pays 30.
  std::vector<Layer> layers{Layer::kDefaulterIm, Layer::kDefaulterDf, Layer::kSitg, Layer::kMutualizedDf};
  std::vector<Defaulter> d{{.loss = 100, .im = 60, .df = 10}};
  std::vector<Survivor> s(2);
  s[0].df = 20;
  s[1].df = 20;
  CcpResources r{.sitg = 50};
  const auto out = run_waterfall(layers, d, s, r);
  EXPECT_DOUBLE_EQ(out.by_layer[static_cast<int>(Layer::kDefaulterIm)], 60);
  EXPECT_DOUBLE_EQ(out.by_layer[static_cast<int>(Layer::kDefaulterDf)], 10);
  EXPECT_DOUBLE_EQ(out.by_layer[static_cast<int>(Layer::kSitg)], 30);
  EXPECT_DOUBLE_EQ(out.by_layer[static_cast<int>(Layer::kMutualizedDf)], 0);
  EXPECT_DOUBLE_EQ(out.uncovered, 0);
  EXPECT_DOUBLE_EQ(r.sitg, 20);
}

}  // namespace
}  // namespace ccpnet::models
