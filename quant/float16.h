// IEEE binary16 (Half) and bfloat16 (BFloat16) storage types with round-to-nearest-even conversions.
#pragma once

#include <cstdint>

namespace mixpe::quant {

// A binary floating-point format with 1 sign bit, `exp_bits` exponent bits and `frac_bits`
// stored fraction bits, IEEE-754 style (bias 2^(exp_bits-1)-1, subnormals, inf, NaN).
struct SmallFloatFormat {
  int exp_bits;
  int frac_bits;
  constexpr int bias() const { return (1 << (exp_bits - 1)) - 1; }
  constexpr int min_normal_exp() const { return 1 - bias(); }
  constexpr int max_exp() const { return bias(); }
};

inline constexpr SmallFloatFormat kHalfFormat{5, 10};
inline constexpr SmallFloatFormat kBFloat16Format{8, 7};

// Rounds `value` to the format with a single round-to-nearest-even step (overflow goes to
// ±inf, NaN becomes the canonical quiet NaN with the input's sign) and returns the bit pattern.
std::uint16_t encode_small_float(double value, SmallFloatFormat fmt);
// Exact value of a bit pattern of the format.
double decode_small_float(std::uint16_t bits, SmallFloatFormat fmt);

class Half {
 public:
  constexpr Half() = default;
  static constexpr Half from_bits(std::uint16_t bits) { Half h; h.bits_ = bits; return h; }
  static Half from_double(double v) { return from_bits(encode_small_float(v, kHalfFormat)); }
  // float -> double is exact, so this is a single rounding too.
  static Half from_float(float v) { return from_double(static_cast<double>(v)); }

  constexpr std::uint16_t bits() const { return bits_; }
  double to_double() const { return decode_small_float(bits_, kHalfFormat); }
  // Every binary16 value is exactly representable in binary32.
  float to_float() const { return static_cast<float>(to_double()); }

  bool is_nan() const { return (bits_ & 0x7C00u) == 0x7C00u && (bits_ & 0x03FFu) != 0; }
  bool is_inf() const { return (bits_ & 0x7FFFu) == 0x7C00u; }
  bool is_finite() const { return (bits_ & 0x7C00u) != 0x7C00u; }

  friend constexpr bool operator==(Half a, Half b) { return a.bits_ == b.bits_; }

 private:
  std::uint16_t bits_ = 0;
};

class BFloat16 {
 public:
  constexpr BFloat16() = default;
  static constexpr BFloat16 from_bits(std::uint16_t bits) { BFloat16 b; b.bits_ = bits; return b; }
  static BFloat16 from_double(double v) { return from_bits(encode_small_float(v, kBFloat16Format)); }
  static BFloat16 from_float(float v) { return from_double(static_cast<double>(v)); }

  constexpr std::uint16_t bits() const { return bits_; }
  double to_double() const { return decode_small_float(bits_, kBFloat16Format); }
  float to_float() const { return static_cast<float>(to_double()); }

  bool is_nan() const { return (bits_ & 0x7F80u) == 0x7F80u && (bits_ & 0x007Fu) != 0; }
  bool is_inf() const { return (bits_ & 0x7FFFu) == 0x7F80u; }
  bool is_finite() const { return (bits_ & 0x7F80u) != 0x7F80u; }

  friend constexpr bool operator==(BFloat16 a, BFloat16 b) { return a.bits_ == b.bits_; }

 private:
  std::uint16_t bits_ = 0;
};

static_assert(sizeof(Half) == 2, "Half must be a plain 16-bit pattern");
static_assert(sizeof(BFloat16) == 2, "BFloat16 must be a plain 16-bit pattern");

}  // namespace mixpe::quant
