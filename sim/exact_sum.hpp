// Exact sums of money that do not depend on the order of the terms.
#pragma once

#include <cmath>
#include <cstdint>

namespace ccpnet {

__extension__ using Int128 = __int128;  // GCC and Clang; __extension__: not ISO C++

// Exact, order-independent sums of money: fixed point with 2^-20 USD
// resolution in 128 bits (room for 10^7 scenarios of 10^15 USD each), so
// that any split of the scenarios over threads and ranks adds up to the same
// bits.
class ExactSum {
 public:
  // Rounded to the nearest unit; a double below 2^127 converts exactly (x
  // 2^20 is exact, as ldexp; below 2^62 units through a 64-bit integer, in
  // one instruction where the 128-bit conversion is a library call).
  void add(double x) {
    const double units = std::nearbyint(x * 1048576.0);
    if (std::abs(units) < 0x1p62)
      units_ += static_cast<std::int64_t>(units);
    else
      units_ += static_cast<Int128>(units);
  }
  void add(const ExactSum& o) { units_ += o.units_; }
  double value() const { return std::ldexp(static_cast<double>(units_), -20); }
  // The sum in units of 2^-20 USD, exactly (to carry it to another process).
  Int128 units() const { return units_; }
  static ExactSum from_units(Int128 units) {
    ExactSum s;
    s.units_ = units;
    return s;
  }

 private:
  Int128 units_ = 0;
};

}  // namespace ccpnet
