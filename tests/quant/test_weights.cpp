// Weight quantizer properties over bits x group sizes x symmetric/asymmetric, and its errors.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <ostream>
#include <string>
#include <vector>

#include "models/synthetic.h"
#include "quant/packed.h"
#include "quant/weights.h"

namespace mixpe::quant {
namespace {

struct Case {
  int bits;
  int group;
  bool symmetric;
};

std::string describe(const Case& c) {
  return "W" + std::to_string(c.bits) + "_g" + (c.group == -1 ? std::string("pc") : std::to_string(c.group)) +
         (c.symmetric ? "_sym" : "_asym");
}
std::string name(const testing::TestParamInfo<Case>& info) { return describe(info.param); }
// Stable, readable parameters in test listings (not the struct's bytes).
void PrintTo(const Case& c, std::ostream* os) { *os << describe(c); }

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (int bits : {2, 3, 4, 8})
    for (int group : {32, 64, 128, 256, -1})
      for (bool sym : {false, true}) cases.push_back({bits, group, sym});
  return cases;
}

class QuantizerProperties : public testing::TestWithParam<Case> {};

TEST_P(QuantizerProperties, EveryWeightWithinHalfAStepAndCodesInRange) {
  const Case c = GetParam();
  const int n = 12, k = 512;
  std::vector<float> w = models::synthetic_weights(n, k, 3);
  // Make row 0's first group all zero and row 1's first group constant.
  const int g = c.group == -1 ? k : c.group;
  for (int j = 0; j < g; ++j) {
    w[j] = 0.0f;
    w[k + j] = -0.75f;
  }
  const WeightQuantConfig cfg{c.bits, c.group, c.symmetric};
  const QuantizedWeights q = quantize_weights_rtn(w, n, k, cfg, "test");
  ASSERT_EQ(q.group_size, g);
  ASSERT_EQ(q.groups(), k / g);
  EXPECT_NO_THROW(validate_quantized_weights(q, "test"));

  for (int row = 0; row < n; ++row) {
    for (int col = 0; col < k; ++col) {
      const int code = q.code(row, col);
      ASSERT_GE(code, cfg.code_min());
      ASSERT_LE(code, cfg.code_max());
      const double s = std::fabs(q.scale(row, col / g).to_double());
      // The scale is rounded up to FP16 so the grid covers every value of the group: the
      // rounding error of w / s (one double rounding) is the only slack beyond s / 2.
      // Symmetric codes map the extreme to -2^(b-1) with the nearest FP16 scale; values of the
      // other sign can reach +2^(b-1) (1 + 2^-11) and clamp to 2^(b-1) - 1, about one step away.
      const double err = std::fabs(q.dequantized(row, col) - w[static_cast<std::size_t>(row) * k + col]);
      const bool clamped_top = c.symmetric && code == cfg.code_max();
      ASSERT_LE(err, (clamped_top ? s * (1 + 0x1p-8) : s / 2) * (1 + 0x1p-50)) << "row " << row << " col " << col << " s " << s;
    }
  }
  for (int j = 0; j < g; ++j) EXPECT_EQ(q.dequantized(0, j), 0.0) << "zero group must be exact";
  if (c.symmetric) {
    for (std::uint8_t z : q.zeros) EXPECT_EQ(z, 0);
  }
}

TEST_P(QuantizerProperties, PackUnpackRoundTrip) {
  const Case c = GetParam();
  const int n = 5, k = 256;
  const QuantizedWeights q = quantize_weights_rtn(models::synthetic_weights(n, k, 9), n, k, {c.bits, c.group, c.symmetric});
  const PackedWeights p = pack_weights(q);
  EXPECT_EQ(p.codes.size(), static_cast<std::size_t>(n) * k * c.bits / 8);
  const QuantizedWeights u = unpack_weights(p);
  EXPECT_EQ(u.codes, q.codes);
  EXPECT_EQ(u.zeros, q.zeros);
  ASSERT_EQ(u.scales.size(), q.scales.size());
  for (std::size_t i = 0; i < q.scales.size(); ++i) EXPECT_EQ(u.scales[i].bits(), q.scales[i].bits());
}

INSTANTIATE_TEST_SUITE_P(AllFormats, QuantizerProperties, testing::ValuesIn(all_cases()), name);

TEST(Quantizer, ConstantGroupIsRepresentedWithinHalfAStep) {
  const std::vector<float> w(32, 3.25f);
  const QuantizedWeights q = quantize_weights_rtn(w, 1, 32, {4, 32, false});
  for (int j = 0; j < 32; ++j) EXPECT_NEAR(q.dequantized(0, j), 3.25, q.scale(0, 0).to_double() / 2);
}

TEST(Quantizer, PackedLayoutIsLittleEndianBitstream) {
  // Four 3-bit codes 1, 2, 3, 4 -> bits 001 010 011 100 from bit 0: 0b1'011'010'001 = 0x0D1.
  QuantizedWeights q;
  q.n = 1;
  q.k = 8;
  q.bits = 3;
  q.group_size = 8;
  q.codes = {1, 2, 3, 4, 0, 0, 0, 7};
  q.scales = {Half::from_float(1.0f)};
  q.zeros = {0};
  const PackedWeights p = pack_weights(q);
  ASSERT_EQ(p.codes.size(), 3u);
  EXPECT_EQ(p.codes[0], 0xD1);
  EXPECT_EQ(p.codes[1], 0x08);  // code 4 (100) at bits 9..11
  EXPECT_EQ(p.codes[2], 0xE0);  // code 7 occupies bits 21..23
}

TEST(Quantizer, RejectsBadInputWithNamedErrors) {
  const std::vector<float> w(64, 0.5f);
  auto message = [&](const std::vector<float>& v, int n, int k, WeightQuantConfig cfg) {
    try {
      quantize_weights_rtn(v, n, k, cfg, "layers.0.q_proj");
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  {
    const std::string m = message(w, 1, 64, {5, 32, false});
    EXPECT_NE(m.find("layers.0.q_proj"), std::string::npos) << m;
    EXPECT_NE(m.find("bits = 5"), std::string::npos) << m;
  }
  {
    const std::string m = message(w, 1, 64, {4, 48, false});
    EXPECT_NE(m.find("group size = 48"), std::string::npos) << m;
    EXPECT_NE(m.find("K = 64"), std::string::npos) << m;
  }
  {
    std::vector<float> bad = w;
    bad[37] = NAN;
    const std::string m = message(bad, 2, 32, {4, 32, false});
    EXPECT_NE(m.find("[1, 5]"), std::string::npos) << m;
    EXPECT_NE(m.find("nan"), std::string::npos) << m;
  }
  {
    std::vector<float> big(32, 1e9f);
    const std::string m = message(big, 1, 32, {4, 32, true});
    EXPECT_NE(m.find("FP16 range"), std::string::npos) << m;
  }
  EXPECT_NE(message(w, 2, 64, {4, 32, false}).find("has 64 values"), std::string::npos);
}

TEST(Quantizer, UnpackRejectsInconsistentBuffers) {
  PackedWeights p = pack_weights(quantize_weights_rtn(models::synthetic_weights(2, 64, 1), 2, 64, {4, 32, false}));
  p.codes.pop_back();
  EXPECT_THROW(unpack_weights(p), std::invalid_argument);
}

}  // namespace
}  // namespace mixpe::quant
