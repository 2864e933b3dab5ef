// Half and BFloat16: exhaustive decode/encode checks against independent implementations.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "models/synthetic.h"
#include "quant/float16.h"

namespace mixpe::quant {
namespace {

// The classic bit-trick float -> bfloat16 with round-to-nearest-even (non-NaN inputs).
std::uint16_t bit_trick_bf16(float f) {
  const std::uint32_t u = std::bit_cast<std::uint32_t>(f);
  return static_cast<std::uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

// The compiler's binary16 (g++ 12, x86-64) is the independent implementation for Half. clang 14
// (the sanitizer build's compiler) has no _Float16 on x86: there these checks are skipped.
#if defined(__FLT16_MAX__)
std::uint16_t compiler_half_bits(_Float16 h) {
  std::uint16_t b;
  std::memcpy(&b, &h, sizeof b);
  return b;
}
_Float16 compiler_half(std::uint16_t bits) {
  _Float16 h;
  std::memcpy(&h, &bits, sizeof h);
  return h;
}

TEST(Half, EveryPatternDecodesLikeTheCompilerAndRoundTrips) {
  for (std::uint32_t b = 0; b <= 0xFFFF; ++b) {
    const Half h = Half::from_bits(static_cast<std::uint16_t>(b));
    const float ours = h.to_float();
    const float theirs = static_cast<float>(compiler_half(static_cast<std::uint16_t>(b)));
    if (std::isnan(theirs)) {
      ASSERT_TRUE(std::isnan(ours)) << std::hex << b;
      ASSERT_TRUE(h.is_nan());
      ASSERT_TRUE(Half::from_float(ours).is_nan());
      continue;
    }
    ASSERT_EQ(std::bit_cast<std::uint32_t>(ours), std::bit_cast<std::uint32_t>(theirs)) << std::hex << b;
    ASSERT_EQ(Half::from_float(ours).bits(), b) << std::hex << b;
    ASSERT_EQ(Half::from_double(h.to_double()).bits(), b) << std::hex << b;
  }
}

TEST(Half, FloatToHalfMatchesCompilerAtTiesAndNeighbours) {
  // For every pair of adjacent non-negative finite halves: the midpoint (a tie), and the floats
  // one ulp either side of it, with both signs.
  int checked = 0;
  for (std::uint32_t b = 0; b < 0x7C00; ++b) {
    const float lo = Half::from_bits(static_cast<std::uint16_t>(b)).to_float();
    const float hi = Half::from_bits(static_cast<std::uint16_t>(b + 1)).to_float();  // b+1 = 0x7C00 is +inf
    const float mid = b + 1 == 0x7C00 ? 65520.0f : (lo + hi) / 2;  // 65520 = max + half ulp: rounds to inf
    for (float f : {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, INFINITY)}) {
      for (float s : {f, -f}) {
        ASSERT_EQ(Half::from_float(s).bits(), compiler_half_bits(static_cast<_Float16>(s))) << s;
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 0x7C00 * 6);
}

TEST(Half, RandomFloatsAndDoublesMatchCompiler) {
  models::Rng rng(42);
  for (int i = 0; i < 200000; ++i) {
    // Random bit patterns cover every float exponent, including those far outside half's range.
    const float f = std::bit_cast<float>(static_cast<std::uint32_t>(rng.next_u64()));
    if (std::isnan(f)) continue;
    ASSERT_EQ(Half::from_float(f).bits(), compiler_half_bits(static_cast<_Float16>(f))) << f;
    // Doubles near half's range: converting directly must not double-round through float.
    const double d = std::ldexp(rng.uniform() * 2.0 - 1.0, static_cast<int>(rng.next_u64() % 48) - 30);
    ASSERT_EQ(Half::from_double(d).bits(), compiler_half_bits(static_cast<_Float16>(d))) << d;
  }
}

#else
TEST(Half, CompilerCrossChecks) { GTEST_SKIP() << "this compiler has no _Float16 (clang before 15 on x86)"; }
#endif

TEST(Half, DoubleConversionIsASingleRounding) {
  // 1 + 2^-11 is a tie (rounds to even, 1.0); a hair above must round up, although the same
  // value rounded to float first would become the tie.
  EXPECT_EQ(Half::from_double(1.0 + 0x1p-11).bits(), 0x3C00);
  EXPECT_EQ(Half::from_double(1.0 + 0x1p-11 + 0x1p-40).bits(), 0x3C01);
  EXPECT_EQ(Half::from_float(static_cast<float>(1.0 + 0x1p-11 + 0x1p-40)).bits(), 0x3C00);
}

TEST(Half, SpecialValues) {
  EXPECT_EQ(Half::from_float(65504.0f).bits(), 0x7BFF);
  EXPECT_EQ(Half::from_float(65519.99f).bits(), 0x7BFF);
  EXPECT_EQ(Half::from_float(65520.0f).bits(), 0x7C00);  // a tie whose even neighbour is 2^16: overflows to inf
  EXPECT_EQ(Half::from_float(-INFINITY).bits(), 0xFC00);
  EXPECT_EQ(Half::from_float(-0.0f).bits(), 0x8000);
  EXPECT_EQ(Half::from_double(0x1p-24).bits(), 0x0001);      // smallest subnormal
  EXPECT_EQ(Half::from_double(0x1p-25).bits(), 0x0000);      // tie with zero: to even
  EXPECT_EQ(Half::from_double(0x1.8p-25).bits(), 0x0001);
  EXPECT_EQ(Half::from_double(0x1.ff8p-15).bits(), 0x03FF);  // largest subnormal
  EXPECT_EQ(Half::from_double(0x1.ffcp-15).bits(), 0x0400);  // tie: to even, the smallest normal
  EXPECT_TRUE(Half::from_float(NAN).is_nan());
  EXPECT_TRUE(Half::from_bits(0x7C00).is_inf());
  EXPECT_FALSE(Half::from_bits(0x7C00).is_finite());
  EXPECT_TRUE(Half::from_bits(0x7BFF).is_finite());
}

TEST(BFloat16, EveryPatternDecodesAsTheUpperHalfOfAFloat) {
  for (std::uint32_t b = 0; b <= 0xFFFF; ++b) {
    const BFloat16 v = BFloat16::from_bits(static_cast<std::uint16_t>(b));
    const float expected = std::bit_cast<float>(b << 16);
    if (std::isnan(expected)) {
      ASSERT_TRUE(v.is_nan());
      ASSERT_TRUE(std::isnan(v.to_float()));
      continue;
    }
    ASSERT_EQ(std::bit_cast<std::uint32_t>(v.to_float()), b << 16) << std::hex << b;
    ASSERT_EQ(BFloat16::from_float(expected).bits(), b) << std::hex << b;
  }
}

TEST(BFloat16, FloatToBFloat16MatchesBitTrickAcrossAllExponents) {
  // Every upper half with lower halves at and around the tie point and a few random ones.
  models::Rng rng(7);
  for (std::uint32_t hi = 0; hi <= 0xFFFF; ++hi) {
    for (std::uint32_t lo : {0x0000u, 0x0001u, 0x7FFFu, 0x8000u, 0x8001u, 0xFFFFu,
                             static_cast<std::uint32_t>(rng.next_u64() & 0xFFFF)}) {
      const float f = std::bit_cast<float>((hi << 16) | lo);
      if (std::isnan(f)) {
        ASSERT_TRUE(BFloat16::from_float(f).is_nan());
        continue;
      }
      ASSERT_EQ(BFloat16::from_float(f).bits(), bit_trick_bf16(f)) << std::hex << ((hi << 16) | lo);
    }
  }
}

}  // namespace
}  // namespace mixpe::quant
