// SQNR, relative Frobenius and max-abs error.
#include "quant/metrics.h"

#include <cassert>
#include <cmath>
#include <limits>
#include <vector>

namespace mixpe::quant {

ErrorMetrics compare(std::span<const double> ref, std::span<const double> test) {
  assert(ref.size() == test.size() && "compared vectors must have equal length");
  double signal = 0.0, noise = 0.0, max_abs = 0.0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    const double d = ref[i] - test[i];
    signal += ref[i] * ref[i];
    noise += d * d;
    max_abs = std::max(max_abs, std::fabs(d));
  }
  ErrorMetrics m;
  m.max_abs = max_abs;
  m.rel_frobenius = signal > 0.0 ? std::sqrt(noise / signal) : (noise > 0.0 ? std::numeric_limits<double>::infinity() : 0.0);
  m.sqnr_db = noise > 0.0 ? 10.0 * std::log10(signal / noise) : std::numeric_limits<double>::infinity();
  return m;
}

ErrorMetrics compare(std::span<const double> ref, std::span<const float> test) {
  const std::vector<double> t(test.begin(), test.end());
  return compare(ref, std::span<const double>(t));
}

}  // namespace mixpe::quant
