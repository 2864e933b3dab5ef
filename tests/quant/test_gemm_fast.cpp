// Fast kernels equal the oracles bit for bit on random shapes, bit widths and group sizes.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "models/synthetic.h"
#include "quant/gemm_fast.h"
#include "quant/gemm_ref.h"

namespace mixpe::quant {
namespace {

void expect_bits_equal(const std::vector<float>& a, const std::vector<float>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (std::size_t i = 0; i < a.size(); ++i)
    ASSERT_EQ(std::bit_cast<std::uint32_t>(a[i]), std::bit_cast<std::uint32_t>(b[i])) << what << " element " << i;
}

TEST(FastKernels, BitExactWithOraclesOnRandomShapes) {
  models::Rng rng(2024);
  int cases = 0;
  for (int bits : {2, 3, 4, 8}) {
    for (int group : {32, 64, 128, 256, -1}) {
      for (bool sym : {false, true}) {
        const int k = group == -1 ? 96 * (1 + static_cast<int>(rng.next_u64() % 8)) : group * (1 + static_cast<int>(rng.next_u64() % 3));
        const int m = 1 + static_cast<int>(rng.next_u64() % 9), n = 1 + static_cast<int>(rng.next_u64() % 37);
        const std::uint64_t seed = rng.next_u64();
        const std::vector<float> xf = models::synthetic_activations(m, k, seed);
        const QuantizedWeights w = quantize_weights_rtn(models::synthetic_weights(n, k, seed), n, k, {bits, group, sym});
        const std::string what = fmt::format("W{} g{} {} M{} N{} K{}", bits, group, sym ? "sym" : "asym", m, n, k);
        const PreparedWeights pm = PreparedWeights::for_mixpe(w);
        const PreparedWeights pf = PreparedWeights::for_fp16(w);
        for (unsigned threads : {1u, 3u}) {
          const Int8Activations x8 = quantize_activations_int8(xf, m, k);
          expect_bits_equal(gemm_mixpe_int8(x8, pm, threads), gemm_mixpe_int8_ref(x8, w), what + " mixpe-int8");
          const std::vector<Half> xh = to_half(xf);
          const AlignedActivations ah = align_activations_fp16(xh, m, k, w.group_size);
          expect_bits_equal(gemm_mixpe_aligned(ah, pm, threads), gemm_mixpe_aligned_ref(ah, w), what + " mixpe-fp16");
          const AlignedActivations ab = align_activations_bf16(to_bfloat16(xf), m, k, w.group_size);
          expect_bits_equal(gemm_mixpe_aligned(ab, pm, threads), gemm_mixpe_aligned_ref(ab, w), what + " mixpe-bf16");
          expect_bits_equal(gemm_fp16(xh, m, pf, threads), gemm_fp16_ref(xh, m, w), what + " fp16");
          if (sym && group == -1) expect_bits_equal(gemm_int8(x8, pm, threads), gemm_int8_ref(x8, w), what + " int8");
        }
        ++cases;
      }
    }
  }
  EXPECT_EQ(cases, 40);
}

TEST(FastKernels, LongGroupsUseWideAccumulation) {
  // Per-channel 8-bit weights with K = 4096 and aligned activations: |P| reaches 2^14 * 255 *
  // 4096 > 2^31, which the chunked int32 + int64 accumulation must carry exactly.
  const int m = 2, n = 3, k = 4096;
  std::vector<float> xf(static_cast<std::size_t>(m) * k, 1.9990234f);  // FP16 0x3FFF: mantissa 16376
  std::vector<float> wf(static_cast<std::size_t>(n) * k, 1.0f);
  const QuantizedWeights w = quantize_weights_rtn(wf, n, k, {8, -1, false});
  const AlignedActivations a = align_activations_fp16(to_half(xf), m, k, k);
  expect_bits_equal(gemm_mixpe_aligned(a, PreparedWeights::for_mixpe(w), 2), gemm_mixpe_aligned_ref(a, w), "wide");
}

TEST(FastKernels, RejectUnpreparedWeights) {
  const QuantizedWeights w = quantize_weights_rtn(models::synthetic_weights(2, 64, 1), 2, 64, {4, 32, false});
  const Int8Activations x = quantize_activations_int8(models::synthetic_activations(1, 64, 1), 1, 64);
  EXPECT_THROW(gemm_mixpe_int8(x, PreparedWeights::for_fp16(w)), std::invalid_argument);
  EXPECT_THROW(gemm_fp16(to_half(models::synthetic_activations(1, 64, 1)), 1, PreparedWeights::for_mixpe(w)), std::invalid_argument);
}

}  // namespace
}  // namespace mixpe::quant
