#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "sim/exact_sum.hpp"

namespace ccpnet {
namespace test_exact_sum {

// The definition: x in units of 2^-20 USD, rounded to the nearest unit (ties
// to even, the default rounding mode), as a 128-bit integer.
Int128 units_of(double x) { return static_cast<Int128>(std::nearbyint(std::ldexp(x, 20))); }

TEST(ExactSum, AddsEachAmountInUnitsOfTwoToTheMinus20) {
  // By hand: 1 USD is 2^20 units; 2^-21 USD is half a unit, a tie rounded to
  // the even 0; 3 x 2^-21 USD is 1.5 units, rounded to 2.
  ExactSum s;
  s.add(1.0);
  EXPECT_TRUE(s.units() == Int128{1} << 20);
  s.add(std::ldexp(1.0, -21));
  EXPECT_TRUE(s.units() == Int128{1} << 20);
  s.add(3.0 * std::ldexp(1.0, -21));
  EXPECT_TRUE(s.units() == (Int128{1} << 20) + 2);
  s.add(-1.0);
  EXPECT_TRUE(s.units() == 2);
  EXPECT_DOUBLE_EQ(s.value(), std::ldexp(1.0, -19));
}

TEST(ExactSum, AmountsAroundTheSixtyFourBitRangeConvertExactly) {
  // 2^62 units is 2^42 USD (4.4e12): amounts either side of it, and far
  // beyond (1e30 USD), convert to the same units as the 128-bit definition.
  const double edge = std::ldexp(1.0, 42);
  for (double x : {edge, std::nextafter(edge, 0.0), std::nextafter(edge, 1e300), 2 * edge, 1e15, 3.7e20, 1e30, -edge,
                   -std::nextafter(edge, 0.0), -1e30, 0.0, -0.0, 5e-324, 123456.789}) {
    ExactSum s;
    s.add(x);
    EXPECT_TRUE(s.units() == units_of(x)) << x;
  }
}

TEST(ExactSum, RandomAmountsMatchTheDefinitionInAnyOrder) {
  // Property: amounts of every magnitude from cents to 1e25 USD, either sign,
  // sum to the definition's units, and to the same bits shuffled.
  std::mt19937_64 gen(7);
  std::uniform_real_distribution<double> exponent(-3.0, 25.0), sign(-1.0, 1.0);
  std::vector<double> amounts;
  Int128 expected = 0;
  for (int i = 0; i < 20000; ++i) {
    const double x = std::copysign(std::pow(10.0, exponent(gen)), sign(gen));
    amounts.push_back(x);
    expected += units_of(x);
  }
  ExactSum forward, shuffled;
  for (double x : amounts) forward.add(x);
  std::shuffle(amounts.begin(), amounts.end(), gen);
  for (double x : amounts) shuffled.add(x);
  EXPECT_TRUE(forward.units() == expected);
  EXPECT_TRUE(shuffled.units() == expected);
}

}  // namespace test_exact_sum
}  // namespace ccpnet
