// Box-Muller's transcendental functions, written so that a value does not
// depend on how it is computed: every multiply-add is an explicit fma, this
// file is compiled without floating-point contraction (sim/CMakeLists.txt),
// and the loop has no branch, so the compiler's vector code and its scalar
// code perform the same correctly rounded operations on each element and
// give the same bits, on any x86-64 (and a build without FMA instructions
// rounds fma once all the same, in software).
#include "sim/rng.hpp"

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <utility>

namespace ccpnet::rng {

namespace {

// log(x) for a normal x > 0 (the uniforms are in [2^-53, 1)): x = 2^k m with
// m in [sqrt(1/2), sqrt(2)), f = m - 1 (exact), s = f / (2 + f), and
// log(1 + f) = f - s (f - R(s^2))... as fdlibm's e_log.c (Sun Microsystems,
// 1993): log(1+f) = f - hfsq + s (hfsq + R), hfsq = f^2 / 2, R a minimax
// polynomial in s^2 of degree 7 (error below 2^-58.45), k ln 2 in two parts.
// Within 1 ulp of log(x).
inline double log_normal(double x) {
  constexpr double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;
  constexpr double kLg1 = 6.666666666666735130e-01, kLg2 = 3.999999999940941908e-01, kLg3 = 2.857142874366239149e-01,
                   kLg4 = 2.222219843214978396e-01, kLg5 = 1.818357216161805012e-01, kLg6 = 1.531383769920937332e-01,
                   kLg7 = 1.479819860511658591e-01;
  const auto bits = std::bit_cast<std::uint64_t>(x);
  // The biased exponent as an exact double (2^52 + e - 2^52), without an integer conversion.
  const double biased = std::bit_cast<double>(0x4330000000000000ULL | (bits >> 52)) - 0x1p52;
  double m = std::bit_cast<double>((bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL);  // [1, 2)
  const bool high = m > std::numbers::sqrt2;
  m = high ? 0.5 * m : m;
  const double k = biased - (high ? 1022.0 : 1023.0);
  const double f = m - 1.0;
  const double s = f / (2.0 + f);
  const double z = s * s;
  double r = std::fma(z, kLg7, kLg6);
  r = std::fma(z, r, kLg5);
  r = std::fma(z, r, kLg4);
  r = std::fma(z, r, kLg3);
  r = std::fma(z, r, kLg2);
  r = std::fma(z, r, kLg1);
  r = z * r;
  const double hfsq = 0.5 * f * f;
  const double inner = std::fma(s, hfsq + r, k * kLn2Lo);
  return std::fma(k, kLn2Hi, -((hfsq - inner) - f));
}

// The Taylor coefficients of sin(pi/2 r) and cos(pi/2 r) in r^2, rounded
// from long double: on |r| <= 1/2 (|angle| <= pi/4) the terms left out
// (degree 19 and 18) are below 3e-18.
constexpr int kTerms = 9;
struct Quarter {
  double sin[kTerms], cos[kTerms];
};
constexpr Quarter quarter_coefficients() {
  Quarter q{};
  constexpr long double a = 1.570796326794896619231321691639751442L;  // pi / 2
  long double term = a;                                               // a^(2i+1) / (2i+1)!, signed
  for (int i = 0; i < kTerms; ++i) {
    q.sin[i] = static_cast<double>(term);
    term *= -a * a / static_cast<long double>((2 * i + 2) * (2 * i + 3));
  }
  term = 1.0L;  // a^(2i) / (2i)!, signed
  for (int i = 0; i < kTerms; ++i) {
    q.cos[i] = static_cast<double>(term);
    term *= -a * a / static_cast<long double>((2 * i + 1) * (2 * i + 2));
  }
  return q;
}
constexpr Quarter kQuarter = quarter_coefficients();

// c[0] + x (c[1] + x (... + x c[kTerms - 1])) by fma, unrolled (a loop
// would keep the caller's loop from vectorising).
inline double horner(double x, const double (&c)[kTerms]) {
  return [&]<std::size_t... i>(std::index_sequence<i...>) {
    double p = c[kTerms - 1];
    ((p = std::fma(x, p, c[kTerms - 2 - i])), ...);
    return p;
  }
  (std::make_index_sequence<kTerms - 1>{});
}

// cos(2 pi u) and sin(2 pi u) for u in [0, 1]: 4u = q + r exactly (q the
// nearest integer, |r| <= 1/2), the quarter-turn r by its polynomials, then
// the quadrant q by symmetry. No rounding of 2 pi u: the angle is exact.
inline void cos_sin_turn(double u, double& c, double& s) {
  constexpr double kRound = 0x1.8p52;  // adding and subtracting it rounds to the nearest integer
  const double t = 4.0 * u;
  const double q = (t + kRound) - kRound;
  const double r = t - q;
  const double r2 = r * r;
  const double sin_r = r * horner(r2, kQuarter.sin), cos_r = horner(r2, kQuarter.cos);
  // q mod 4: 0 (or 4) as is; 1 a quarter turn on; 2 a half turn; 3 three quarters.
  const bool q1 = q == 1.0, q2 = q == 2.0, q3 = q == 3.0;
  c = q1 ? -sin_r : q2 ? -cos_r : q3 ? sin_r : cos_r;
  s = q1 ? cos_r : q2 ? -sin_r : q3 ? -cos_r : sin_r;
}

}  // namespace

double log_unit(double x) { return log_normal(x); }

void cos_sin_2pi(double u, double& c, double& s) { cos_sin_turn(u, c, s); }

namespace {

inline void box_muller_loop(const double* u1, const double* u2, double* z0, double* z1, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const double radius = std::sqrt(-2.0 * log_normal(u1[i]));
    double c, s;
    cos_sin_turn(u2[i], c, s);
    z0[i] = radius * c;
    z1[i] = radius * s;
  }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__FMA__)
// A build for any x86-64 (no -march=native) would round each fma in
// software, several times slower: where the processor has FMA and AVX2 (all
// since 2013), the same loop compiled for them. fma is exact either way, so
// both give the same bits.
__attribute__((target("avx2,fma"))) void box_muller_fma(const double* u1, const double* u2, double* z0, double* z1,
                                                        std::size_t n) {
  box_muller_loop(u1, u2, z0, z1, n);
}
const bool kHasFma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif

}  // namespace

void box_muller(const double* u1, const double* u2, double* z0, double* z1, std::size_t n) {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__FMA__)
  if (kHasFma) return box_muller_fma(u1, u2, z0, z1, n);
#endif
  box_muller_loop(u1, u2, z0, z1, n);
}

}  // namespace ccpnet::rng
