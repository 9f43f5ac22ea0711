#include "models/settlement/finality.hpp"

#include <boost/math/special_functions/gamma.hpp>
#include <cmath>
#include <stdexcept>

#include "models/margin/quantile.hpp"

namespace ccpnet::models {

namespace {
void check(const Finality& f) {
  if (!(f.mean_hours >= 0.0) || !std::isfinite(f.mean_hours))
    throw std::invalid_argument("finality: the mean must be a finite number >= 0");
  if (f.family == FinalityFamily::kGamma && !(f.shape > 0.0))
    throw std::invalid_argument("finality: the gamma shape must be > 0");
  if (f.family == FinalityFamily::kLognormal && !(f.sigma > 0.0))
    throw std::invalid_argument("finality: the lognormal sigma must be > 0");
}
}  // namespace

double finality_cdf(const Finality& f, double hours) {
  check(f);
  if (hours < 0.0) return 0.0;
  if (f.mean_hours == 0.0) return 1.0;
  switch (f.family) {
    case FinalityFamily::kFixed: return hours >= f.mean_hours ? 1.0 : 0.0;
    case FinalityFamily::kExponential: return -std::expm1(-hours / f.mean_hours);
    case FinalityFamily::kGamma: return boost::math::gamma_p(f.shape, hours * f.shape / f.mean_hours);
    case FinalityFamily::kLognormal: {
      if (hours == 0.0) return 0.0;
      const double mu = std::log(f.mean_hours) - 0.5 * f.sigma * f.sigma;
      return normal_cdf((std::log(hours) - mu) / f.sigma);
    }
  }
  return 1.0;
}

double finality_quantile(const Finality& f, double u) {
  check(f);
  if (!(u > 0.0 && u < 1.0)) throw std::invalid_argument("finality: the uniform must be in (0, 1)");
  if (f.mean_hours == 0.0) return 0.0;
  switch (f.family) {
    case FinalityFamily::kFixed: return f.mean_hours;
    case FinalityFamily::kExponential: return -f.mean_hours * std::log1p(-u);
    case FinalityFamily::kGamma: return f.mean_hours / f.shape * boost::math::gamma_p_inv(f.shape, u);
    case FinalityFamily::kLognormal: {
      const double mu = std::log(f.mean_hours) - 0.5 * f.sigma * f.sigma;
      return std::exp(mu + f.sigma * normal_quantile(u));
    }
  }
  return f.mean_hours;
}

double htlc_abort_probability(const Finality& a, const Finality& b, double lock_hours) {
  return 1.0 - finality_cdf(a, lock_hours) * finality_cdf(b, lock_hours);
}

double replacement_cost(double value, double log_move) { return std::max(0.0, value * std::expm1(log_move)); }

}  // namespace ccpnet::models
