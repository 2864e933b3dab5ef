// ANT: value tables and decoding, nearest-value encoding, the per-tensor type search, and the GEMM oracle and kernel.
#include <gtest/gtest.h>

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "models/synthetic.h"
#include "quant/ant.h"
#include "quant/gemm_fast.h"
#include "quant/gemm_ref.h"
#include "tests/quant/bits_equal.h"

namespace mixpe::quant {
namespace {

TEST(Ant, ValueTables) {
  const std::array<int, 16> want_int = {0, 1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4, -3, -2, -1};
  const std::array<int, 16> want_flint = {0, 1, 2, 3, 4, 6, 8, 16, 0, -1, -2, -3, -4, -6, -8, -16};
  const std::array<int, 16> want_pot = {0, 1, 2, 4, 8, 16, 32, 64, 0, -1, -2, -4, -8, -16, -32, -64};
  EXPECT_EQ(ant_value_table(AntType::kInt), want_int);
  EXPECT_EQ(ant_value_table(AntType::kFlint), want_flint);
  EXPECT_EQ(ant_value_table(AntType::kPot), want_pot);
  EXPECT_EQ(ant_grid(AntType::kFlint), (std::vector<int>{-16, -8, -6, -4, -3, -2, -1, 0, 1, 2, 3, 4, 6, 8, 16}));
  EXPECT_EQ(ant_grid(AntType::kInt).size(), 16u);
  EXPECT_EQ(ant_grid(AntType::kPot).size(), 15u);
  EXPECT_EQ(ant_max_value(AntType::kInt), 7);
  EXPECT_EQ(ant_max_value(AntType::kFlint), 16);
  EXPECT_EQ(ant_max_value(AntType::kPot), 64);
}

// ANT's published flint grid (quant_modules.py, flint_value, 3 value bits plus sign) is
// {0, 0.25, 0.5, 0.75, 1, 1.5, 2, 4} in magnitude; ours is that times 4.
TEST(Ant, FlintMatchesThePublishedGrid) {
  const std::array<double, 8> ant_magnitudes = {0, 0.25, 0.5, 0.75, 1, 1.5, 2, 4};
  for (int m = 0; m < 8; ++m) {
    EXPECT_EQ(ant_value(AntType::kFlint, m), ant_magnitudes[m] * 4) << m;
    EXPECT_EQ(ant_value(AntType::kFlint, 8 | m), -ant_magnitudes[m] * 4) << m;
  }
}

// The decoder's (mantissa, shift) stays within what the PE's multiplier and shifter take.
TEST(Ant, DecodedMantissaAndShiftRanges) {
  for (int c = 0; c < 16; ++c) {
    const AntDecoded i = ant_decode(AntType::kInt, c), f = ant_decode(AntType::kFlint, c), p = ant_decode(AntType::kPot, c);
    EXPECT_EQ(i.shift, 0);
    EXPECT_LE(std::abs(f.mant), 3) << c;
    EXPECT_LE(f.shift, 3) << c;
    EXPECT_LE(std::abs(p.mant), 1) << c;
    EXPECT_LE(p.shift, 6) << c;
    EXPECT_EQ(ant_decode(AntType::kPot, c).value(), ant_value(AntType::kPot, c));
  }
  EXPECT_EQ(ant_decode(AntType::kFlint, 5).mant, 3);  // 6 = 3 << 1
  EXPECT_EQ(ant_decode(AntType::kFlint, 5).shift, 1);
  EXPECT_EQ(ant_decode(AntType::kFlint, 15).mant, -2);  // -16 = -2 << 3
  EXPECT_EQ(ant_decode(AntType::kFlint, 15).shift, 3);
  EXPECT_EQ(ant_decode(AntType::kPot, 7).shift, 6);
}

TEST(Ant, NearestCodeTiesGoToTheLargerValue) {
  auto v = [](AntType t, double x) { return ant_value(t, ant_nearest_code(t, x)); };
  EXPECT_EQ(v(AntType::kInt, 0.5), 1);
  EXPECT_EQ(v(AntType::kInt, -0.5), 0);
  EXPECT_EQ(v(AntType::kInt, -7.5), -7);
  EXPECT_EQ(v(AntType::kInt, 100), 7);
  EXPECT_EQ(v(AntType::kInt, -100), -8);
  EXPECT_EQ(v(AntType::kFlint, 5.0), 6);
  EXPECT_EQ(v(AntType::kFlint, 4.99), 4);
  EXPECT_EQ(v(AntType::kFlint, 12.0), 16);
  EXPECT_EQ(v(AntType::kFlint, -12.0), -8);
  EXPECT_EQ(v(AntType::kFlint, -40.0), -16);
  EXPECT_EQ(v(AntType::kPot, 3.0), 4);
  EXPECT_EQ(v(AntType::kPot, -3.0), -2);
  EXPECT_EQ(v(AntType::kPot, 47.9), 32);
  EXPECT_EQ(v(AntType::kPot, 0.49), 0);
  EXPECT_EQ(ant_nearest_code(AntType::kPot, 0.0), 0);
  EXPECT_EQ(ant_nearest_code(AntType::kFlint, -0.1), 0);  // zero is code 0, not -0
  for (AntType t : kAntTypes)
    for (int c = 0; c < 16; ++c) EXPECT_EQ(v(t, ant_value(t, c)), ant_value(t, c)) << ant_type_name(t) << " " << c;
}

TEST(Ant, TypeNames) {
  for (AntType t : kAntTypes) EXPECT_EQ(ant_type_from_name(ant_type_name(t)), t);
  EXPECT_THROW(ant_type_from_name("float"), std::invalid_argument);
}

enum class Dist { kUniform, kGaussian, kLaplace, kPowersOfTwo };

std::vector<float> sample(Dist d, int n, int k, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<float> w(static_cast<std::size_t>(n) * k);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> uni(-1.0, 1.0);
  std::exponential_distribution<double> expo(1.0);
  for (float& v : w) {
    switch (d) {
      case Dist::kUniform: v = static_cast<float>(uni(rng)); break;
      case Dist::kGaussian: v = static_cast<float>(normal(rng)); break;
      case Dist::kLaplace: v = static_cast<float>((rng() & 1 ? 1 : -1) * expo(rng)); break;
      // +-2^-e, e = 0..6 (each row holds +-1): exactly PoT's grid at scale 1/64, and no other type's.
      case Dist::kPowersOfTwo: v = static_cast<float>((rng() & 1 ? 1 : -1) * std::exp2(-static_cast<int>(rng() % 7))); break;
    }
  }
  return w;
}

// Mean squared error of the chosen type recomputed from the codes.
double recomputed_mse(const AntWeights& q, const std::vector<float>& w) {
  const std::vector<double> d = dequantize_ant_f64(q);
  double sse = 0.0;
  for (std::size_t i = 0; i < w.size(); ++i) sse += (w[i] - d[i]) * (w[i] - d[i]);
  return sse / static_cast<double>(w.size());
}

AntType chosen_type(Dist d, AntWeights* out = nullptr) {
  const int n = 16, k = 1024;
  std::vector<float> w = sample(d, n, k, 42 + static_cast<int>(d));
  if (d == Dist::kPowersOfTwo)
    for (int row = 0; row < n; ++row) w[static_cast<std::size_t>(row) * k] = 1.0f;
  AntWeights q = quantize_ant(w, n, k);
  EXPECT_NEAR(recomputed_mse(q, w), q.type_mse[static_cast<int>(q.type)], 1e-12 * q.type_mse[static_cast<int>(q.type)]);
  for (AntType t : kAntTypes) EXPECT_LE(q.type_mse[static_cast<int>(q.type)], q.type_mse[static_cast<int>(t)]);
  std::printf("%-10s int %.6g flint %.6g pot %.6g -> %s\n",
              d == Dist::kUniform ? "uniform" : d == Dist::kGaussian ? "gaussian" : d == Dist::kLaplace ? "laplace" : "pow2",
              q.type_mse[0], q.type_mse[1], q.type_mse[2], std::string(ant_type_name(q.type)).c_str());
  if (out != nullptr) *out = q;
  return q.type;
}

// Measured with the default search (printed): uniform int 0.00146 / flint 0.00673 / PoT 0.00836;
// Gaussian int 0.0128 / flint 0.0146 / PoT 0.0365; Laplace int 0.0528 / flint 0.0381 /
// PoT 0.0677. Uniform: int's even grid is optimal for a flat density. Gaussian: at 4 signed bits
// int's 16 even levels beat flint's 15 (whose 8 -> 16 gap wastes a level on the tail) by ~12%.
// Laplace: the density's exponential decay favours flint's finer steps near 0. Powers of two:
// PoT represents every value exactly (error 0), int and flint cannot (2^-5, 2^-6 fall between
// their levels), so PoT must win outright.
TEST(AntQuantizer, PicksTheTypeTheDistributionCallsFor) {
  EXPECT_EQ(chosen_type(Dist::kUniform), AntType::kInt);
  EXPECT_EQ(chosen_type(Dist::kGaussian), AntType::kInt);
  EXPECT_EQ(chosen_type(Dist::kLaplace), AntType::kFlint);
  AntWeights pow2;
  EXPECT_EQ(chosen_type(Dist::kPowersOfTwo, &pow2), AntType::kPot);
  EXPECT_EQ(pow2.type_mse[static_cast<int>(AntType::kPot)], 0.0);
  EXPECT_GT(pow2.type_mse[static_cast<int>(AntType::kInt)], 0.0);
  EXPECT_GT(pow2.type_mse[static_cast<int>(AntType::kFlint)], 0.0);
}

TEST(AntQuantizer, SingleTypeSearchAndMaxAbsScale) {
  const int n = 8, k = 256;
  const std::vector<float> w = sample(Dist::kGaussian, n, k, 7);
  for (AntType t : kAntTypes) {
    AntQuantConfig cfg;
    cfg.types = {t};
    const AntWeights q = quantize_ant(w, n, k, cfg);
    EXPECT_EQ(q.type, t);
    EXPECT_NEAR(recomputed_mse(q, w), q.type_mse[static_cast<int>(t)], 1e-12 * q.type_mse[static_cast<int>(t)]);
    for (AntType other : kAntTypes) {
      if (other != t) {
        EXPECT_TRUE(std::isnan(q.type_mse[static_cast<int>(other)]));
      }
    }
    // Only p = 100: the max-abs scale, and the largest weight lands on the grid's maximum.
    AntQuantConfig plain = cfg;
    plain.clip_min_percent = 100;
    plain.clip_max_percent = 101;
    const AntWeights qp = quantize_ant(w, n, k, plain);
    for (int row = 0; row < n; ++row) {
      double max_abs = 0.0;
      for (int col = 0; col < k; ++col) max_abs = std::max(max_abs, std::fabs(static_cast<double>(w[row * k + col])));
      EXPECT_EQ(qp.scales[row].bits(), Half::from_double(max_abs / ant_max_value(t)).bits()) << row;
      int max_code_abs = 0;
      for (int col = 0; col < k; ++col) max_code_abs = std::max(max_code_abs, std::abs(qp.value(row, col)));
      EXPECT_GE(max_code_abs, ant_max_value(t)) << row;
    }
    // The clip search never loses to max-abs scaling.
    EXPECT_LE(q.type_mse[static_cast<int>(t)], qp.type_mse[static_cast<int>(t)]);
  }
}

TEST(AntQuantizer, ZeroChannelsAndErrors) {
  const int n = 3, k = 64;
  std::vector<float> w = sample(Dist::kUniform, n, k, 9);
  std::fill(w.begin() + k, w.begin() + 2 * k, 0.0f);  // row 1 all zero
  const AntWeights q = quantize_ant(w, n, k);
  EXPECT_EQ(q.scales[1].bits(), 0);
  for (int col = 0; col < k; ++col) EXPECT_EQ(q.code(1, col), 0);
  EXPECT_NO_THROW(validate_ant_weights(q, "w"));
  // An all-zero tensor: every type has error 0 and the first candidate wins.
  const AntWeights z = quantize_ant(std::vector<float>(n * k, 0.0f), n, k);
  EXPECT_EQ(z.type, AntType::kInt);
  EXPECT_EQ(z.type_mse[0], 0.0);

  w[5] = std::numeric_limits<float>::quiet_NaN();
  try {
    quantize_ant(w, n, k, {}, "layers.0.wq");
    FAIL() << "NaN accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("layers.0.wq"), std::string::npos) << e.what();
  }
  w[5] = 1e9f;  // max-abs scale 1e9 / 7 overflows FP16
  EXPECT_THROW(quantize_ant(w, n, k), std::invalid_argument);
  w[5] = 0.0f;
  EXPECT_THROW(quantize_ant(w, n, k + 1), std::invalid_argument);
  AntQuantConfig bad;
  bad.types = {AntType::kInt, AntType::kInt};
  EXPECT_THROW(quantize_ant(w, n, k, bad), std::invalid_argument);
  bad = {};
  bad.clip_max_percent = 50;
  EXPECT_THROW(quantize_ant(w, n, k, bad), std::invalid_argument);
  AntWeights broken = q;
  broken.codes[3] = 16;
  EXPECT_THROW(validate_ant_weights(broken, "w"), std::invalid_argument);
}

struct GemmShape { int m, n, k; };

// Random shapes, each type forced and the searched choice: the kernel equals the oracle bit for
// bit under every kernel variant and several thread counts.
TEST(AntGemm, KernelEqualsOracle) {
  const std::vector<GemmShape> shapes = {{1, 16, 64}, {3, 17, 128}, {5, 33, 96}, {2, 48, 256}, {4, 7, 40}, {1, 64, 512}};
  int seed = 300;
  for (const GemmShape& s : shapes) {
    const std::vector<float> wf = models::synthetic_weights(s.n, s.k, ++seed);
    const Int8Activations x = quantize_activations_int8(models::synthetic_activations(s.m, s.k, seed + 1), s.m, s.k);
    std::vector<AntQuantConfig> cfgs(4);
    for (int t = 0; t < kAntTypeCount; ++t) cfgs[t].types = {kAntTypes[t]};
    for (const AntQuantConfig& cfg : cfgs) {
      const AntWeights w = quantize_ant(wf, s.n, s.k, cfg);
      const std::string tag = fmt::format("M{}N{}K{} {}", s.m, s.n, s.k, ant_type_name(w.type));
      const std::vector<float> ref = gemm_ant_ref(x, w);
      int nonzero = 0;
      for (float v : ref) nonzero += v != 0.0f;
      EXPECT_GT(nonzero, static_cast<int>(ref.size()) / 2) << tag;
      const PreparedAntWeights pw(w);
      for (const std::string& variant : supported_kernel_variants()) {
        set_kernel_variant(variant);
        for (unsigned threads : {1u, 3u}) expect_bits_equal(gemm_ant(x, pw, threads), ref, tag + " " + variant);
      }
      select_kernel_variant_from_environment();
      expect_bits_equal(gemm_ant(x, w), ref, tag + " convenience");
    }
  }
}

// Exact integer sum, then three roundings: |y - y_exact| <= gamma_3 |y_exact| against float64
// of the dequantized weights and the INT8 activation values. Extreme codes included.
TEST(AntGemm, OracleWithinThreeRoundings) {
  const int m = 3, n = 9, k = 200;
  const Int8Activations x = quantize_activations_int8(models::synthetic_activations(m, k, 77), m, k);
  std::mt19937_64 rng(78);
  for (AntType t : kAntTypes) {
    AntWeights w;
    w.n = n;
    w.k = k;
    w.type = t;
    w.codes.resize(static_cast<std::size_t>(n) * k);
    for (auto& c : w.codes) c = static_cast<std::uint8_t>(rng() % 16);
    for (int col = 0; col < k; ++col) w.codes[col] = 15;  // row 0: the most negative value everywhere
    for (int row = 0; row < n; ++row) w.scales.push_back(Half::from_double(std::ldexp(1.0 + (rng() % 1000) / 1000.0, -8)));
    const std::vector<float> y = gemm_ant_ref(x, w);
    const std::vector<double> exact = gemm_f64_ref(int8_values(x), m, dequantize_ant_f64(w), n, k);
    const double g3 = 3 * 0x1p-24 / (1 - 3 * 0x1p-24);
    for (std::size_t i = 0; i < y.size(); ++i) {
      const double slack = (k + 2) * 0x1p-53 * std::fabs(exact[i]);
      ASSERT_LE(std::fabs(y[i] - exact[i]), g3 * std::fabs(exact[i]) + slack) << ant_type_name(t) << " output " << i;
    }
    // A single wrong code moves some output beyond the bound.
    AntWeights off = w;
    off.codes[1] = static_cast<std::uint8_t>(off.codes[1] == 1 ? 2 : 1);
    off.codes[1] = static_cast<std::uint8_t>(ant_value(t, off.codes[1]) == ant_value(t, w.codes[1]) ? 3 : off.codes[1]);
    const std::vector<float> y_off = gemm_ant_ref(x, off);
    bool broke = false;
    for (std::size_t i = 0; i < y.size(); ++i)
      broke |= std::fabs(y_off[i] - exact[i]) > g3 * std::fabs(exact[i]) + (k + 2) * 0x1p-53 * std::fabs(exact[i]);
    EXPECT_TRUE(broke) << ant_type_name(t);
  }
  const Int8Activations x_short = quantize_activations_int8(models::synthetic_activations(1, 10, 1), 1, 10);
  AntWeights w = quantize_ant(models::synthetic_weights(2, 20, 1), 2, 20);
  EXPECT_THROW(gemm_ant_ref(x_short, w), std::invalid_argument);
  EXPECT_THROW(gemm_ant(x_short, w), std::invalid_argument);
}

}  // namespace
}  // namespace mixpe::quant
