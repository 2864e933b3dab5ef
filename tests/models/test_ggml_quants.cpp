// ggml blocks: hand-computed golden bytes, dequantization, error bounds, QuantizedWeights mappings.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "models/io/ggml_quants.h"
#include "models/synthetic.h"

namespace mixpe::models {
namespace {

std::vector<std::uint8_t> bytes_of_block(const void* p, std::size_t n) {
  const auto* b = static_cast<const std::uint8_t*>(p);
  return {b, b + n};
}

TEST(GgmlQuants, Q4_0GoldenBlock) {
  // x = -8..7 then sixteen zeros: the extreme is -8, so d = -8 / -8 = 1 (FP16 0x3C00, bytes 00 3C);
  // q = trunc(x + 8.5) = x + 8, so the low nibbles are 0..15 and every high nibble is q(0) = 8.
  std::vector<float> x(32, 0.0f);
  for (int j = 0; j < 16; ++j) x[j] = static_cast<float>(j - 8);
  const std::vector<BlockQ4_0> b = quantize_q4_0(x);
  ASSERT_EQ(b.size(), 1u);
  std::vector<std::uint8_t> expected = {0x00, 0x3C};
  for (int j = 0; j < 16; ++j) expected.push_back(static_cast<std::uint8_t>(0x80 | j));
  EXPECT_EQ(bytes_of_block(b.data(), 18), expected);
  EXPECT_EQ(dequantize_q4_0(b), x);
}

TEST(GgmlQuants, Q4_0NegativeScaleWhenExtremeIsPositive) {
  // Extreme +4 -> d = 4 / -8 = -0.5 (FP16 0xB800, bytes 00 B8); x = 4 -> q = trunc(-8 + 8.5) = 0;
  // x = -1 -> trunc(2 + 8.5) = 10; x = 0 -> 8. Element 16 (high nibble of byte 0) is -1.
  std::vector<float> x(32, 0.0f);
  x[0] = 4.0f;
  x[16] = -1.0f;
  const std::vector<BlockQ4_0> b = quantize_q4_0(x);
  EXPECT_EQ(b[0].d, 0xB800);
  EXPECT_EQ(b[0].qs[0], 0xA0);
  for (int j = 1; j < 16; ++j) EXPECT_EQ(b[0].qs[j], 0x88) << j;
  EXPECT_EQ(dequantize_q4_0(b), x);
}

TEST(GgmlQuants, Q4_1GoldenBlock) {
  // x = (j % 16) + 1: min 1, max 16, d = 15 / 15 = 1, m = 1 (both 0x3C00); q = x - 1 = j % 16, so
  // byte j = j | j << 4.
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j % 16 + 1);
  const std::vector<BlockQ4_1> b = quantize_q4_1(x);
  std::vector<std::uint8_t> expected = {0x00, 0x3C, 0x00, 0x3C};
  for (int j = 0; j < 16; ++j) expected.push_back(static_cast<std::uint8_t>(j | (j << 4)));
  EXPECT_EQ(bytes_of_block(b.data(), 20), expected);
  EXPECT_EQ(dequantize_q4_1(b), x);
}

TEST(GgmlQuants, Q8_0GoldenBlock) {
  // max |x| = 127 -> d = 1 (00 3C); codes are x itself as two's complement bytes.
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j - 16);
  x[31] = 127.0f;
  const std::vector<BlockQ8_0> b = quantize_q8_0(x);
  std::vector<std::uint8_t> expected = {0x00, 0x3C};
  for (int j = 0; j < 31; ++j) expected.push_back(static_cast<std::uint8_t>(static_cast<std::int8_t>(j - 16)));
  expected.push_back(0x7F);
  EXPECT_EQ(bytes_of_block(b.data(), 34), expected);
  EXPECT_EQ(dequantize_q8_0(b), x);
}

TEST(GgmlQuants, Q8_0RoundsScaleToFp16AndCodesHalfAway) {
  // x = j - 16: d = 16/127 = 0.1259843; FP16: 2^-3 * (1 + m/1024), m = round(8.06) = 8 -> 0x3008.
  // Codes use the float d: x = 1 -> round(127/16 = 7.9375) = 8; x = -16 -> -127.
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j - 16);
  const std::vector<BlockQ8_0> b = quantize_q8_0(x);
  EXPECT_EQ(b[0].d, 0x3008);
  EXPECT_EQ(b[0].qs[0], -127);
  EXPECT_EQ(b[0].qs[17], 8);
  EXPECT_EQ(b[0].qs[16], 0);
  // Half-away rounding: x = 0.5 d exactly rounds to 1 (not to even 0).
  std::vector<float> y(32, 0.0f);
  y[0] = 127.0f;
  y[1] = 0.5f;
  y[2] = -0.5f;
  const std::vector<BlockQ8_0> c = quantize_q8_0(y);
  EXPECT_EQ(c[0].qs[1], 1);
  EXPECT_EQ(c[0].qs[2], -1);
}

TEST(GgmlQuants, DequantizeHandWrittenBytes) {
  // Q4_1 d = 0.5 (0x3800), m = -1 (0xBC00), byte 0 = 0x3F: element 0 = 0.5*15 - 1 = 6.5, element 16 = 0.5*3 - 1 = 0.5.
  BlockQ4_1 b{};
  b.d = 0x3800;
  b.m = 0xBC00;
  b.qs[0] = 0x3F;
  const std::vector<float> v = dequantize_q4_1({&b, 1});
  EXPECT_EQ(v[0], 6.5f);
  EXPECT_EQ(v[16], 0.5f);
  EXPECT_EQ(v[1], -1.0f);
}

TEST(GgmlQuants, ZeroBlocksAndErrorBounds) {
  const std::vector<float> zeros(64, 0.0f);
  EXPECT_EQ(dequantize_q4_0(quantize_q4_0(zeros)), zeros);
  EXPECT_EQ(dequantize_q4_1(quantize_q4_1(zeros)), zeros);
  EXPECT_EQ(dequantize_q8_0(quantize_q8_0(zeros)), zeros);

  const std::vector<float> w = synthetic_weights(16, 256, 11);
  const auto q8 = quantize_q8_0(w);
  const auto q4 = quantize_q4_0(w);
  const auto q41 = quantize_q4_1(w);
  const auto d8 = dequantize_q8_0(q8), d4 = dequantize_q4_0(q4), d41 = dequantize_q4_1(q41);
  for (std::size_t i = 0; i < w.size(); ++i) {
    const std::size_t blk = i / 32;
    // Codes are computed with the unrounded d; FP16 rounding of d adds |q| * 2^-11 |d| at most.
    const double s8 = std::fabs(quant::Half::from_bits(q8[blk].d).to_double());
    EXPECT_LE(std::fabs(d8[i] - w[i]), s8 * (0.5 + 127.0 / 2048) + 1e-12) << i;
    const double s4 = std::fabs(quant::Half::from_bits(q4[blk].d).to_double());
    EXPECT_LE(std::fabs(d4[i] - w[i]), s4 * (1.0 + 8.0 / 2048) + 1e-12) << i;  // the clamp at 15 costs up to 1 step
    const double s41 = quant::Half::from_bits(q41[blk].d).to_double();
    const double m_err = std::fabs(quant::Half::from_bits(q41[blk].m).to_double());
    EXPECT_LE(std::fabs(d41[i] - w[i]), s41 * (0.5 + 15.0 / 2048) + m_err / 1024 + 1e-12) << i;
  }
}

TEST(GgmlQuants, RejectsPartialBlocksAndNonFinite) {
  EXPECT_THROW(quantize_q4_0(std::vector<float>(48)), std::invalid_argument);
  std::vector<float> x(32, 0.0f);
  x[3] = NAN;
  EXPECT_THROW(quantize_q8_0(x), std::invalid_argument);
}

TEST(GgmlQuants, Q4_0IsAsymmetricWithZeroPointEight) {
  const int n = 4, k = 64;
  const std::vector<float> w = synthetic_weights(n, k, 2);
  const std::vector<BlockQ4_0> blocks = quantize_q4_0(w);
  const quant::QuantizedWeights q = q4_0_to_quantized(blocks, n, k);
  EXPECT_EQ(q.bits, 4);
  EXPECT_EQ(q.group_size, 32);
  EXPECT_FALSE(q.symmetric);
  for (std::uint8_t z : q.zeros) EXPECT_EQ(z, 8);
  EXPECT_EQ(quant::dequantize_weights_f32(q), dequantize_q4_0(blocks));
  const std::vector<BlockQ4_0> back = quantized_to_q4_0(q, "w");
  ASSERT_EQ(back.size(), blocks.size());
  EXPECT_EQ(std::memcmp(back.data(), blocks.data(), blocks.size() * sizeof(BlockQ4_0)), 0);
}

TEST(GgmlQuants, SymmetricFourBitMapsOntoQ4_0Exactly) {
  const int n = 3, k = 96;
  const std::vector<float> w = synthetic_weights(n, k, 4);
  const quant::QuantizedWeights q = quant::quantize_weights_rtn(w, n, k, {4, 32, true});
  const std::vector<BlockQ4_0> blocks = quantized_to_q4_0(q, "w");
  EXPECT_EQ(dequantize_q4_0(blocks), quant::dequantize_weights_f32(q));
  // A code of -8 (the most negative) becomes nibble 0 and 7 becomes 15.
  EXPECT_EQ(blocks[0].qs[0] & 0x0F, q.codes[0] + 8);
}

TEST(GgmlQuants, Q8_0IsSymmetricEightBit) {
  const int n = 2, k = 64;
  const std::vector<float> w = synthetic_weights(n, k, 6);
  const std::vector<BlockQ8_0> blocks = quantize_q8_0(w);
  const quant::QuantizedWeights q = q8_0_to_quantized(blocks, n, k);
  EXPECT_TRUE(q.symmetric);
  EXPECT_EQ(q.bits, 8);
  EXPECT_EQ(quant::dequantize_weights_f32(q), dequantize_q8_0(blocks));
  const std::vector<BlockQ8_0> back = quantized_to_q8_0(q, "w");
  EXPECT_EQ(std::memcmp(back.data(), blocks.data(), blocks.size() * sizeof(BlockQ8_0)), 0);
  // Our own symmetric 8-bit g32 quantizer's output maps onto Q8_0 exactly too.
  const quant::QuantizedWeights ours = quant::quantize_weights_rtn(w, n, k, {8, 32, true});
  EXPECT_EQ(dequantize_q8_0(quantized_to_q8_0(ours, "w")), quant::dequantize_weights_f32(ours));
}

TEST(GgmlQuants, Q4_1IsFourBitWithGroupMinimums) {
  const int n = 3, k = 64;
  const std::vector<float> w = synthetic_weights(n, k, 12);
  const std::vector<BlockQ4_1> blocks = quantize_q4_1(w);
  const quant::QuantizedWeights q = q4_1_to_quantized(blocks, n, k);
  EXPECT_TRUE(q.has_mins());
  EXPECT_FALSE(q.symmetric);
  for (std::uint8_t z : q.zeros) EXPECT_EQ(z, 0);
  // ggml's float d*q + m and the oracle's exact s*q + min rounded once agree bit for bit.
  EXPECT_EQ(quant::dequantize_weights_f32(q), dequantize_q4_1(blocks));
  const std::vector<BlockQ4_1> back = quantized_to_q4_1(q, "w");
  EXPECT_EQ(std::memcmp(back.data(), blocks.data(), blocks.size() * sizeof(BlockQ4_1)), 0);
  EXPECT_THROW(quantized_to_q4_0(q, "w"), std::invalid_argument);
  EXPECT_THROW(quantized_to_q4_1(quant::quantize_weights_rtn(w, n, k, {4, 32, false}), "w"), std::invalid_argument);
}

TEST(GgmlQuants, NonMappableWeightsAreRejected) {
  const std::vector<float> w = synthetic_weights(2, 64, 8);
  const quant::QuantizedWeights asym = quant::quantize_weights_rtn(w, 2, 64, {4, 32, false});
  try {
    quantized_to_q4_0(asym, "layer.w");
    FAIL() << "asymmetric zero points accepted as Q4_0";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("layer.w"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("zero point"), std::string::npos);
  }
  EXPECT_THROW(quantized_to_q4_0(quant::quantize_weights_rtn(w, 2, 64, {4, 64, true}), "w"), std::invalid_argument);
  EXPECT_THROW(quantized_to_q8_0(quant::quantize_weights_rtn(w, 2, 64, {8, 32, false}), "w"), std::invalid_argument);
  EXPECT_THROW(quantized_to_q8_0(quant::quantize_weights_rtn(w, 2, 64, {4, 32, true}), "w"), std::invalid_argument);
  EXPECT_THROW(q4_0_to_quantized(std::vector<BlockQ4_0>(3), 2, 64), std::invalid_argument);
  EXPECT_THROW(q8_0_to_quantized(std::vector<BlockQ8_0>(3), 3, 48), std::invalid_argument);
}

}  // namespace
}  // namespace mixpe::models
