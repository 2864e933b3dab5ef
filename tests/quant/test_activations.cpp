// INT8 per-token quantization and FP16/BF16 block-floating-point pre-alignment.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "models/synthetic.h"
#include "quant/activations.h"

namespace mixpe::quant {
namespace {

TEST(Int8Activations, CodesInRangeAndWithinHalfAStep) {
  const int m = 9, k = 300;
  std::vector<float> x = models::synthetic_activations(m, k, 5);
  std::fill(x.begin() + 4 * k, x.begin() + 5 * k, 0.0f);  // an all-zero token
  const Int8Activations a = quantize_activations_int8(x, m, k);
  for (int row = 0; row < m; ++row) {
    float absmax = 0.0f;
    for (int j = 0; j < k; ++j) absmax = std::max(absmax, std::fabs(x[static_cast<std::size_t>(row) * k + j]));
    EXPECT_EQ(a.scales[row], absmax / 127.0f);
    int max_code = 0;
    for (int j = 0; j < k; ++j) {
      const int c = a.code(row, j);
      ASSERT_GE(c, -127);
      ASSERT_LE(c, 127);
      max_code = std::max(max_code, std::abs(c));
      const double err = std::fabs(static_cast<double>(c) * a.scales[row] - x[static_cast<std::size_t>(row) * k + j]);
      // Half a step, plus the FP32 rounding of x / scale (at most half an ulp of a value <= 127.5).
      ASSERT_LE(err, a.scales[row] * (0.5 + 127.5 * 0x1p-24)) << row << "," << j;
    }
    EXPECT_EQ(max_code, row == 4 ? 0 : 127);
  }
}

TEST(Int8Activations, RejectsNonFinite) {
  std::vector<float> x(8, 1.0f);
  x[3] = INFINITY;
  EXPECT_THROW(quantize_activations_int8(x, 1, 8), std::invalid_argument);
}

// The largest effective exponent, from the FP16 bit fields (independent of the implementation's
// use of ilogb): biased exponent - 15, and -14 for zeros and subnormals.
int max_field_exponent_fp16(const std::vector<Half>& x, std::size_t base, int g) {
  int e = -14;
  for (int j = 0; j < g; ++j) {
    const int field = (x[base + j].bits() >> 10) & 0x1F;
    e = std::max(e, field == 0 ? -14 : field - 15);
  }
  return e;
}

TEST(AlignedActivations, Fp16MantissasBoundedAndErrorWithinHalfAQuantum) {
  for (int g : {32, 64, 128}) {
    const int m = 6, k = 256;
    std::vector<float> xf = models::synthetic_activations(m, k, 11);
    for (int j = 0; j < 32; ++j) xf[j] = std::ldexp(xf[j], -20);        // subnormal FP16 group
    for (int j = 32; j < 64; ++j) xf[static_cast<std::size_t>(k) + j] = 0;  // zero group (g = 32)
    const std::vector<Half> x = to_half(xf);
    const AlignedActivations a = align_activations_fp16(x, m, k, g);
    for (int row = 0; row < m; ++row) {
      for (int grp = 0; grp < k / g; ++grp) {
        const std::size_t base = static_cast<std::size_t>(row) * k + static_cast<std::size_t>(grp) * g;
        const int e = max_field_exponent_fp16(x, base, g);
        ASSERT_EQ(a.shift(row, grp), e - kAlignFracBits);
        for (int j = 0; j < g; ++j) {
          const int col = grp * g + j;
          ASSERT_LE(std::abs(a.mant(row, col)), 1 << (kAlignFracBits + 1));
          const double err = std::fabs(a.value(row, col) - x[base + j].to_double());
          ASSERT_LE(err, std::ldexp(0.5, a.shift(row, grp))) << row << "," << col;
          // Elements within 3 binades of the group's maximum keep all 11 significant bits.
          const int field = (x[base + j].bits() >> 10) & 0x1F;
          if (field != 0 && field - 15 >= e - (kAlignFracBits - 10)) {
            ASSERT_EQ(err, 0.0);
          }
        }
      }
    }
  }
}

TEST(AlignedActivations, Bf16AndTiesRoundToEven) {
  // One group: max 1.0 (E = 0, quantum 2^-13); 3 * 2^-15 = 0.75 quanta -> 1; 2^-14 = 0.5 quanta
  // -> 0 (tie to even); 3 * 2^-14 = 1.5 quanta -> 2 (tie to even).
  const std::vector<float> xf = {1.0f, 0x1.8p-14f, 0x1p-14f, 0x1.8p-13f, -0x1p-14f, 0.0f, -1.5f, 0x1p-13f};
  const AlignedActivations a = align_activations_bf16(to_bfloat16(xf), 1, 8, 8);
  EXPECT_EQ(a.shift(0, 0), 0 - kAlignFracBits);
  const std::vector<int> expected = {8192, 1, 0, 2, 0, 0, -12288, 1};
  for (int j = 0; j < 8; ++j) EXPECT_EQ(a.mant(0, j), expected[j]) << j;
}

TEST(AlignedActivations, LargestMagnitudeRoundingUpStillFits) {
  // 1.9999 in FP16 is 0x3FFF = 2 - 2^-10: exact at 13 fraction bits, mantissa 16376.
  const std::vector<Half> x = {Half::from_bits(0x3FFF), Half::from_bits(0xBFFF)};
  const AlignedActivations a = align_activations_fp16(x, 1, 2, 2);
  EXPECT_EQ(a.mant(0, 0), 16376);
  EXPECT_EQ(a.mant(0, 1), -16376);
}

TEST(AlignedActivations, RejectsNonFiniteAndBadGroups) {
  std::vector<Half> x(8, Half::from_float(1.0f));
  EXPECT_THROW(align_activations_fp16(x, 1, 8, 3), std::invalid_argument);
  x[5] = Half::from_bits(0x7E00);
  try {
    align_activations_fp16(x, 1, 8, 8);
    FAIL() << "NaN accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("[0, 5]"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace mixpe::quant
