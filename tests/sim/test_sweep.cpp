// `--grid KEY=V1,V2,...` (sim/sweep.hpp): values split at top-level commas only.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/errors.hpp"
#include "sim/sweep.hpp"

namespace ccpnet {
namespace {

TEST(SweepAxis, SplitsAtTopLevelCommas) {
  SweepAxis a = parse_sweep_axis("market.assets.BTC.volatility=0.4, 0.6,0.8");
  EXPECT_EQ(a.key, "market.assets.BTC.volatility");
  EXPECT_EQ(a.values, (std::vector<std::string>{"0.4", "0.6", "0.8"}));
  a = parse_sweep_axis("ccps.A.waterfall=[defaulter_im, ccp_equity],[defaulter_im, sitg, ccp_equity]");
  EXPECT_EQ(a.values, (std::vector<std::string>{"[defaulter_im, ccp_equity]", "[defaulter_im, sitg, ccp_equity]"}));
  a = parse_sweep_axis("name='a, b',c");
  EXPECT_EQ(a.values, (std::vector<std::string>{"'a, b'", "c"}));
  a = parse_sweep_axis("topology=none,mesh");
  EXPECT_EQ(a.values.size(), 2u);
}

TEST(SweepAxis, RefusesWhatIsNotAGrid) {
  EXPECT_THROW(parse_sweep_axis("volatility"), InputError);
  EXPECT_THROW(parse_sweep_axis("=1,2"), InputError);
  EXPECT_THROW(parse_sweep_axis("seed=1,,2"), InputError);
  EXPECT_THROW(parse_sweep_axis("seed="), InputError);
  EXPECT_THROW(parse_sweep_axis("topology=none,star"), InputError);
}

}  // namespace
}  // namespace ccpnet
