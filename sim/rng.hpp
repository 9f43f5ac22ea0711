// Counter-based random numbers (STYLE habit 5). Every draw is a pure function
// of (master seed, named stream, scenario index, substream, position): no
// generator state is shared between scenarios, so results never depend on
// which thread, batch or MPI rank runs a scenario, and adding draws to one
// stream shifts nothing in another.
//
// The generator is Random123's Philox4x64-10 (Salmon et al., SC'11); it is the
// only place that names it, so it can be swapped here.
#pragma once

#include <Random123/philox.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace ccpnet::rng {

// Named streams. Values are part of the output's identity: never renumber.
enum class Stream : std::uint64_t {
  kMarket = 1,      // daily returns and volatility mixing of the shock model
  kJumps = 2,       // market-wide jumps
  kDefaults = 3,    // latent-factor idiosyncratic draws
  kSettlement = 4,  // finality times, bridge exploits
  kGenerator = 5,   // the synthetic market generator (once per model, not per scenario)
  kHistory = 6,     // the price history of historical margin models (substream 0, once per model);
                    // bootstrap draws of market.history (substream 1, per scenario)
};

using Block = std::array<std::uint64_t, 4>;

// The raw generator: 4 x 64 random bits per counter value.
class Philox {
 public:
  Philox(std::uint64_t seed, Stream stream) : key_{{seed, static_cast<std::uint64_t>(stream)}} {}

  Block operator()(std::uint64_t scenario, std::uint64_t substream, std::uint64_t position) const {
    const r123::Philox4x64::ctr_type ctr{{scenario, substream, position, 0}};
    const auto out = generator_(ctr, key_);
    return {out.v[0], out.v[1], out.v[2], out.v[3]};
  }

 private:
  r123::Philox4x64 generator_;
  r123::Philox4x64::key_type key_;
};

// A uniform double in the open interval (0, 1) from 64 random bits: the top 52
// bits k give (k + 1/2) / 2^52, exactly representable, never 0 nor 1.
inline double to_open_unit(std::uint64_t bits) { return (static_cast<double>(bits >> 12) + 0.5) * 0x1.0p-52; }

// Box-Muller on n pairs of uniforms in (0, 1): z0 = sqrt(-2 log u1) cos(2 pi u2),
// z1 = sqrt(-2 log u1) sin(2 pi u2) (sim/rng.cpp). Each element's value is the
// same whatever n and however the loop is vectorised: the bits of a draw
// depend on its uniforms alone.
void box_muller(const double* u1, const double* u2, double* z0, double* z1, std::size_t n);
// Its functions, for the tests: log(x) for a normal x > 0 (within 1 ulp), and
// cos(2 pi u), sin(2 pi u) for u in [0, 1] with the angle exact.
double log_unit(double x);
void cos_sin_2pi(double u, double& c, double& s);

// Sequential draws for one (stream, scenario, substream): the i-th draw is the
// same whatever else was drawn elsewhere.
class Draws {
 public:
  Draws(const Philox& philox, std::uint64_t scenario, std::uint64_t substream = 0)
      : philox_(philox), scenario_(scenario), substream_(substream) {}

  double uniform() {
    if (used_ == 4) refill();
    return to_open_unit(block_[used_++]);
  }

  // Standard normal by Box-Muller (both values of a pair are used: the
  // cosine's first, the sine's next).
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u1 = uniform(), u2 = uniform();
    double z0;
    box_muller(&u1, &u2, &z0, &spare_, 1);
    has_spare_ = true;
    return z0;
  }

  // The next `count` normals into out: the numbers of `count` calls of
  // normal(), the pairs' functions evaluated in one pass (box_muller).
  void normals(double* out, std::size_t count) {
    std::size_t i = 0;
    if (has_spare_ && count > 0) {
      out[i++] = spare_;
      has_spare_ = false;
    }
    while (i < count) {
      std::array<double, kBatch> u1, u2, z0, z1;
      const std::size_t pairs = std::min(kBatch, (count - i + 1) / 2);
      for (std::size_t p = 0; p < pairs; ++p) {
        u1[p] = uniform();
        u2[p] = uniform();
      }
      box_muller(u1.data(), u2.data(), z0.data(), z1.data(), pairs);
      for (std::size_t p = 0; p < pairs; ++p) {
        out[i++] = z0[p];
        if (i < count) {
          out[i++] = z1[p];
        } else {
          spare_ = z1[p];
          has_spare_ = true;
        }
      }
    }
  }

  // Gamma(shape, 1) by Marsaglia and Tsang (2000), shape > 0.
  double gamma(double shape) {
    if (shape < 1.0) {
      const double u = uniform();
      return gamma(shape + 1.0) * std::pow(u, 1.0 / shape);
    }
    const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
    while (true) {
      double x, v;
      do {
        x = normal();
        v = 1.0 + c * x;
      } while (v <= 0.0);
      v = v * v * v;
      const double u = uniform();
      if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
      if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
    }
  }

  // Chi-square with `dof` degrees of freedom.
  double chi_square(double dof) { return 2.0 * gamma(0.5 * dof); }

  // Poisson(lambda) by inversion (small lambda: jump counts per day).
  int poisson(double lambda) {
    const double u = uniform();
    double p = std::exp(-lambda), cdf = p;
    int k = 0;
    while (u > cdf && k < 1000) {
      ++k;
      p *= lambda / k;
      cdf += p;
    }
    return k;
  }

 private:
  void refill() {
    block_ = philox_(scenario_, substream_, position_++);
    used_ = 0;
  }

  static constexpr std::size_t kBatch = 32;  // pairs per pass of normals()
  const Philox& philox_;
  std::uint64_t scenario_, substream_;
  std::uint64_t position_ = 0;
  Block block_{};
  int used_ = 4;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace ccpnet::rng
