// Round-to-nearest-even encoding of doubles into small binary floating-point formats.
#include "quant/float16.h"

#include <cassert>
#include <cmath>

namespace mixpe::quant {

std::uint16_t encode_small_float(double value, SmallFloatFormat fmt) {
  const std::uint16_t sign = std::signbit(value) ? std::uint16_t(1u << (fmt.exp_bits + fmt.frac_bits)) : 0;
  const std::uint16_t exp_all_ones = std::uint16_t(((1u << fmt.exp_bits) - 1) << fmt.frac_bits);
  if (std::isnan(value)) {
    return sign | exp_all_ones | std::uint16_t(1u << (fmt.frac_bits - 1));
  }
  const double mag = std::fabs(value);
  if (std::isinf(mag)) return sign | exp_all_ones;
  if (mag == 0.0) return sign;

  const int e = std::ilogb(mag);  // floor(log2(mag)), exact for doubles
  if (e > fmt.max_exp()) return sign | exp_all_ones;
  // The spacing of representable values around `mag` is 2^quantum_exp; subnormals share the
  // spacing of the smallest normal binade.
  const int quantum_exp = (e < fmt.min_normal_exp() ? fmt.min_normal_exp() : e) - fmt.frac_bits;
  // Scaling by a power of two is exact in double here, and nearbyint rounds half to even in
  // the default rounding mode, so this is the single correctly rounded step.
  const double units = std::nearbyint(std::ldexp(mag, -quantum_exp));
  const double rounded = std::ldexp(units, quantum_exp);
  if (rounded == 0.0) return sign;

  const int re = std::ilogb(rounded);
  if (re > fmt.max_exp()) return sign | exp_all_ones;
  if (re < fmt.min_normal_exp()) {
    // Subnormal: the stored fraction is the number of quanta.
    return sign | static_cast<std::uint16_t>(units);
  }
  const auto frac = static_cast<std::uint32_t>(std::ldexp(rounded, fmt.frac_bits - re)) - (1u << fmt.frac_bits);
  assert(frac < (1u << fmt.frac_bits) && "fraction must fit its field");
  const auto biased = static_cast<std::uint32_t>(re + fmt.bias());
  return sign | static_cast<std::uint16_t>((biased << fmt.frac_bits) | frac);
}

double decode_small_float(std::uint16_t bits, SmallFloatFormat fmt) {
  const bool negative = (bits >> (fmt.exp_bits + fmt.frac_bits)) & 1u;
  const std::uint32_t exp_field = (bits >> fmt.frac_bits) & ((1u << fmt.exp_bits) - 1);
  const std::uint32_t frac = bits & ((1u << fmt.frac_bits) - 1);
  double mag;
  if (exp_field == (1u << fmt.exp_bits) - 1) {
    mag = frac == 0 ? INFINITY : NAN;
  } else if (exp_field == 0) {
    mag = std::ldexp(static_cast<double>(frac), fmt.min_normal_exp() - fmt.frac_bits);
  } else {
    mag = std::ldexp(static_cast<double>(frac | (1u << fmt.frac_bits)),
                     static_cast<int>(exp_field) - fmt.bias() - fmt.frac_bits);
  }
  return negative ? -mag : mag;
}

}  // namespace mixpe::quant
