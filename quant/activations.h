// Activation formats: INT8 per-token symmetric, and FP16/BF16 pre-aligned to block floating point.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "quant/float16.h"

namespace mixpe::quant {

// x[m][k] ~= scale[m] * code[m][k], codes in [-127, 127].
struct Int8Activations {
  int m = 0;
  int k = 0;
  std::vector<std::int8_t> codes;  // [m][k]
  std::vector<float> scales;       // [m]
  int code(int row, int col) const { return codes[static_cast<std::size_t>(row) * k + col]; }
};

// Per-token symmetric quantization: scale = fp32(absmax / 127), code = clamp(rne(fp32(x / scale)), -127, 127).
// An all-zero token gets scale 0 and zero codes. Non-finite inputs throw std::invalid_argument.
Int8Activations quantize_activations_int8(std::span<const float> x, int m, int k);

// Number of fraction bits below the group's shared exponent in the aligned format.
inline constexpr int kAlignFracBits = 13;
// Aligned mantissas satisfy |mant| <= 2^(kAlignFracBits + 1); they are 16-bit two's complement.
inline constexpr int kAlignedActBits = kAlignFracBits + 3;

// Block floating point per (token, group): x[m][k] ~= mant[m][k] * 2^shift[m][k / group_size].
// shift = E - kAlignFracBits where E is the largest effective exponent in the group (the
// unbiased exponent of a normal number; the minimum normal exponent for zeros and subnormals).
struct AlignedActivations {
  int m = 0;
  int k = 0;
  int group_size = 0;
  std::vector<std::int16_t> mants;   // [m][k]
  std::vector<std::int16_t> shifts;  // [m][k / group_size]
  int groups() const { return k / group_size; }
  int mant(int row, int col) const { return mants[static_cast<std::size_t>(row) * k + col]; }
  int shift(int row, int group) const { return shifts[static_cast<std::size_t>(row) * groups() + group]; }
  double value(int row, int col) const;
};

// mant = round-half-even(x * 2^-shift). Throws std::invalid_argument on non-finite inputs or a
// group size that does not divide k.
AlignedActivations align_activations_fp16(std::span<const Half> x, int m, int k, int group_size);
AlignedActivations align_activations_bf16(std::span<const BFloat16> x, int m, int k, int group_size);

// Round float activations to the 16-bit formats (round to nearest even).
std::vector<Half> to_half(std::span<const float> x);
std::vector<BFloat16> to_bfloat16(std::span<const float> x);

}  // namespace mixpe::quant
