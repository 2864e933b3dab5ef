// BitFusion: BitBrick decomposition is exact, products per cycle, and the GEMM oracle equals the INT8 oracle and kernel.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "models/synthetic.h"
#include "quant/bitfusion.h"
#include "quant/gemm_fast.h"
#include "quant/gemm_ref.h"
#include "tests/quant/bits_equal.h"

namespace mixpe::quant {
namespace {

int sext(int v, int bits) { return (v & ((1 << bits) - 1)) - ((v >> (bits - 1) & 1) << bits); }

TEST(BitFusion, ProductsPerCycle) {
  EXPECT_EQ(bitfusion_products_per_cycle(8, 8), 1);
  EXPECT_EQ(bitfusion_products_per_cycle(4, 8), 2);
  EXPECT_EQ(bitfusion_products_per_cycle(2, 8), 4);
  EXPECT_EQ(bitfusion_products_per_cycle(8, 4), 2);
  EXPECT_EQ(bitfusion_products_per_cycle(4, 4), 4);
  EXPECT_EQ(bitfusion_products_per_cycle(2, 2), 16);
  // Every mode keeps all 16 BitBricks busy: products * (w/2) * (a/2) = 16.
  for (int w : {2, 4, 8})
    for (int a : {2, 4, 8}) EXPECT_EQ(bitfusion_products_per_cycle(w, a) * (w / 2) * (a / 2), kBitBricksPerFusionUnit);
  try {
    bitfusion_products_per_cycle(3, 8);
    FAIL() << "W3A8 accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("W3A8"), std::string::npos) << e.what();
  }
  EXPECT_THROW(bitfusion_products_per_cycle(4, 16), std::invalid_argument);
  EXPECT_THROW(bitfusion_products_per_cycle(0, 8), std::invalid_argument);
}

TEST(BitFusion, BitBrickExhaustive) {
  for (int a = 0; a < 4; ++a)
    for (int b = 0; b < 4; ++b)
      for (bool as : {false, true})
        for (bool bs : {false, true}) {
          const int av = as ? sext(a, 2) : a, bv = bs ? sext(b, 2) : b;
          EXPECT_EQ(bitbrick_product(a, as, b, bs), av * bv) << a << (as ? "s" : "u") << " * " << b << (bs ? "s" : "u");
        }
  // The extremes a 3-bit x 3-bit brick must hold: 3 * 3 and -2 * 3.
  EXPECT_EQ(bitbrick_product(3, false, 3, false), 9);
  EXPECT_EQ(bitbrick_product(2, true, 3, false), -6);
  EXPECT_EQ(bitbrick_product(2, true, 2, true), 4);
}

TEST(BitFusion, FusedProductIsExactForEveryOperandPair) {
  for (int wb : {2, 4, 8})
    for (int ab : {2, 4, 8})
      for (int w = -(1 << (wb - 1)); w < (1 << (wb - 1)); ++w)
        for (int x = -(1 << (ab - 1)); x < (1 << (ab - 1)); ++x)
          ASSERT_EQ(bitfusion_product(w, wb, x, ab), w * x) << "W" << wb << "A" << ab << ": " << w << " * " << x;
}

// The oracle is bit-equal to gemm_int8_ref and to the INT8 fast kernel (every variant, several
// thread counts) for 2-, 4- and 8-bit symmetric per-channel weights.
TEST(BitFusion, GemmEqualsInt8OracleAndKernel) {
  struct Shape { int m, n, k; };
  const std::vector<Shape> shapes = {{1, 16, 64}, {3, 17, 128}, {5, 33, 96}, {2, 48, 256}, {4, 7, 40}, {1, 64, 512}};
  int seed = 100;
  for (const Shape& s : shapes) {
    for (int bits : {2, 4, 8}) {
      ++seed;
      WeightQuantConfig cfg;
      cfg.bits = bits;
      cfg.group_size = -1;
      cfg.symmetric = true;
      const QuantizedWeights w = quantize_weights_rtn(models::synthetic_weights(s.n, s.k, seed), s.n, s.k, cfg);
      const Int8Activations x = quantize_activations_int8(models::synthetic_activations(s.m, s.k, seed + 7), s.m, s.k);
      const std::string tag = fmt::format("M{}N{}K{} W{}", s.m, s.n, s.k, bits);
      const std::vector<float> ref = gemm_bitfusion_ref(x, w);
      expect_bits_equal(ref, gemm_int8_ref(x, w), tag + " vs int8 oracle");
      // The outputs are not trivially zero.
      int nonzero = 0;
      for (float v : ref) nonzero += v != 0.0f;
      EXPECT_GT(nonzero, static_cast<int>(ref.size()) / 2) << tag;
      const PreparedWeights pw = PreparedWeights::for_mixpe(w);
      for (const std::string& variant : supported_kernel_variants()) {
        set_kernel_variant(variant);
        for (unsigned threads : {1u, 3u}) {
          expect_bits_equal(gemm_int8(x, pw, threads), ref, tag + " int8 kernel " + variant);
          expect_bits_equal(gemm_bitfusion(x, pw, threads), ref, tag + " bitfusion kernel " + variant);
        }
      }
      select_kernel_variant_from_environment();
    }
  }
}

TEST(BitFusion, RejectsWeightsItCannotRun) {
  const int n = 4, k = 64;
  const std::vector<float> wf = models::synthetic_weights(n, k, 3);
  const Int8Activations x = quantize_activations_int8(models::synthetic_activations(2, k, 4), 2, k);
  WeightQuantConfig cfg;
  cfg.bits = 3;
  cfg.group_size = -1;
  cfg.symmetric = true;
  const QuantizedWeights w3 = quantize_weights_rtn(wf, n, k, cfg);
  try {
    gemm_bitfusion_ref(x, w3);
    FAIL() << "3-bit weights accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("3-bit"), std::string::npos) << e.what();
  }
  EXPECT_THROW(gemm_bitfusion(x, PreparedWeights::for_mixpe(w3)), std::invalid_argument);
  cfg.bits = 4;
  cfg.symmetric = false;
  EXPECT_THROW(gemm_bitfusion_ref(x, quantize_weights_rtn(wf, n, k, cfg)), std::invalid_argument);
  cfg.symmetric = true;
  cfg.group_size = 32;
  EXPECT_THROW(gemm_bitfusion_ref(x, quantize_weights_rtn(wf, n, k, cfg)), std::invalid_argument);
  cfg.group_size = -1;
  const Int8Activations x_short = quantize_activations_int8(models::synthetic_activations(2, 32, 4), 2, 32);
  EXPECT_THROW(gemm_bitfusion_ref(x_short, quantize_weights_rtn(wf, n, k, cfg)), std::invalid_argument);
}

}  // namespace
}  // namespace mixpe::quant
