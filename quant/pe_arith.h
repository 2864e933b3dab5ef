// The scalar definition of every PE's arithmetic: the one place RTL, SystemC and fast kernels copy.
#pragma once

#include <cmath>
#include <cstdint>

#include "quant/float16.h"

namespace mixpe::quant {

// MixPE's multiplier-free product: the activation shifted by each set bit of the b-bit weight
// code and summed. For signed (two's complement) codes the top bit weighs -2^(b-1), so its
// shifted activation is subtracted. Equals code * x for every code in range.
constexpr std::int64_t shift_add_product(int code, int bits, bool signed_code, std::int64_t x) {
  const unsigned field = static_cast<unsigned>(code) & ((1u << bits) - 1u);
  std::int64_t sum = 0;
  for (int i = 0; i < bits; ++i) {
    if ((field >> i) & 1u) {
      const std::int64_t term = x * (std::int64_t{1} << i);  // a wire shift in hardware
      sum += (signed_code && i == bits - 1) ? -term : term;
    }
  }
  return sum;
}

// The dequantization unit: d = fp32( fp32(G) * fp32(s) * 2^shift ), one round-to-nearest-even
// step after the int -> fp32 conversion of the group sum G = P - z*A. The product of two fp32
// values is exact in double and a power-of-two scale stays exact for every operand range the
// contract allows, so the cast to float below is the single rounding.
inline float dequantize_group(std::int64_t group_sum, Half scale, int shift) {
  const float g32 = static_cast<float>(group_sum);  // RNE for |G| > 2^24
  const double exact = static_cast<double>(g32) * static_cast<double>(scale.to_float()) * std::ldexp(1.0, shift);
  return static_cast<float>(exact);
}

// FP16 baseline weight dequantization: w16 = fp16((q - z) * s), the product exact in double.
inline Half dequantize_weight_fp16(int code, int zero, Half scale) {
  return Half::from_double(static_cast<double>(code - zero) * scale.to_double());
}
// With a float group minimum: w16 = fp16(s * q + min), the sum formed in double first.
inline Half dequantize_weight_fp16_min(int code, Half scale, Half min) {
  return Half::from_double(scale.to_double() * code + min.to_double());
}

// One group's contribution to the MixPE accumulator, in the order the dequantization unit
// applies it: acc + d(P - zA), or with a float minimum (acc + d(P)) + d_min(A).
inline float accumulate_group(float acc, std::int64_t p, std::int64_t a, int zero, Half scale, const Half* min, int shift) {
  if (min == nullptr) return acc + dequantize_group(p - static_cast<std::int64_t>(zero) * a, scale, shift);
  acc += dequantize_group(p, scale, shift);
  return acc + dequantize_group(a, *min, shift);
}

}  // namespace mixpe::quant
