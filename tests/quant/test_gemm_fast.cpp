// Fast kernels equal the oracles bit for bit on random shapes, bit widths, group sizes, thread
// counts and every kernel variant this CPU supports; variant selection and the thread pool.
#include <gtest/gtest.h>

#include <atomic>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "models/synthetic.h"
#include "quant/gemm_fast.h"
#include "quant/gemm_ref.h"
#include "quant/thread_pool.h"
#include "tests/quant/bits_equal.h"

namespace mixpe::quant {
namespace {

// Restores the automatically selected variant when a test ends.
class FastKernels : public ::testing::Test {
 protected:
  void TearDown() override { select_kernel_variant_from_environment(); }
};

// Every path against its oracle under every variant and thread count.
void check_all_paths(const QuantizedWeights& w, const std::vector<float>& xf, int m, const std::string& what) {
  const PreparedWeights pm = PreparedWeights::for_mixpe(w);
  const PreparedWeights pf = PreparedWeights::for_fp16(w);
  const Int8Activations x8 = quantize_activations_int8(xf, m, w.k);
  const std::vector<Half> xh = to_half(xf);
  const AlignedActivations ah = align_activations_fp16(xh, m, w.k, w.group_size);
  const AlignedActivations ab = align_activations_bf16(to_bfloat16(xf), m, w.k, w.group_size);
  const std::vector<float> r_int8 = gemm_mixpe_int8_ref(x8, w), r_fp16 = gemm_mixpe_aligned_ref(ah, w),
                           r_bf16 = gemm_mixpe_aligned_ref(ab, w), r_base = gemm_fp16_ref(xh, m, w);
  const bool int8_ok = w.symmetric && w.group_size == w.k && !w.has_mins();
  const std::vector<float> r_w8a8 = int8_ok ? gemm_int8_ref(x8, w) : std::vector<float>{};
  for (const std::string& variant : supported_kernel_variants()) {
    set_kernel_variant(variant);
    for (unsigned threads : {1u, 2u, 3u}) {
      const std::string tag = fmt::format("{} [{} x{}]", what, variant, threads);
      expect_bits_equal(gemm_mixpe_int8(x8, pm, threads), r_int8, tag + " mixpe-int8");
      expect_bits_equal(gemm_mixpe_aligned(ah, pm, threads), r_fp16, tag + " mixpe-fp16");
      expect_bits_equal(gemm_mixpe_aligned(ab, pm, threads), r_bf16, tag + " mixpe-bf16");
      expect_bits_equal(gemm_fp16(xh, m, pf, threads), r_base, tag + " fp16");
      if (int8_ok) expect_bits_equal(gemm_int8(x8, pm, threads), r_w8a8, tag + " int8");
    }
  }
}

TEST_F(FastKernels, SeveralVariantsAreAvailable) {
  const std::vector<std::string> v = supported_kernel_variants();
  ASSERT_FALSE(v.empty());
  EXPECT_EQ(v.front(), "portable");
  EXPECT_NE(std::find(v.begin(), v.end(), active_kernel_variant()), v.end());
}

TEST_F(FastKernels, BitExactWithOraclesOnRandomShapes) {
  models::Rng rng(2024);
  int cases = 0;
  for (int bits : {2, 3, 4, 8}) {
    // 12 and 20 have no packed form for some widths: the portable fallback must take over.
    for (int group : {32, 64, 128, 256, -1, 12, 20}) {
      for (bool sym : {false, true}) {
        const int k = group == -1 ? 96 * (1 + static_cast<int>(rng.next_u64() % 8)) : group * (1 + static_cast<int>(rng.next_u64() % 3));
        // M = 1 (GEMV) and M > 1 tiles with remainders; N with a partial 16-column block.
        const int m = cases % 3 == 0 ? 1 : 2 + static_cast<int>(rng.next_u64() % 11);
        const int n = 1 + static_cast<int>(rng.next_u64() % 53);
        const std::uint64_t seed = rng.next_u64();
        const QuantizedWeights w = quantize_weights_rtn(models::synthetic_weights(n, k, seed), n, k, {bits, group, sym});
        check_all_paths(w, models::synthetic_activations(m, k, seed), m,
                        fmt::format("W{} g{} {} M{} N{} K{}", bits, group, sym ? "sym" : "asym", m, n, k));
        ++cases;
      }
    }
  }
  EXPECT_EQ(cases, 56);
}

// Q4_1-style weights with float group minimums (unsigned codes, zero points 0).
QuantizedWeights random_with_mins(int bits, int n, int k, int g, std::uint64_t seed) {
  models::Rng rng(seed);
  QuantizedWeights w;
  w.n = n;
  w.k = k;
  w.bits = bits;
  w.group_size = g;
  w.codes.resize(static_cast<std::size_t>(n) * k);
  for (auto& c : w.codes) c = static_cast<std::int16_t>(rng.next_u64() % (1u << bits));
  for (int i = 0; i < n * (k / g); ++i) {
    w.scales.push_back(Half::from_double(0.01 * (0.5 + rng.uniform())));
    w.mins.push_back(Half::from_double(-0.08 * (0.5 + rng.uniform())));
    w.zeros.push_back(0);
  }
  validate_quantized_weights(w, "mins");
  return w;
}

TEST_F(FastKernels, BitExactWithGroupMinimums) {
  int cases = 0;
  for (int bits : {2, 4, 8}) {
    for (int m : {1, 5, 9}) {
      const int n = 7 + 13 * cases % 40, k = 256;
      const QuantizedWeights w = random_with_mins(bits, n, k, 32, 100 + cases);
      check_all_paths(w, models::synthetic_activations(m, k, 7 + cases), m, fmt::format("mins W{} M{} N{}", bits, m, n));
      ++cases;
    }
  }
  EXPECT_EQ(cases, 9);
}

TEST_F(FastKernels, LongGroupsUseWideAccumulation) {
  // Per-channel 8-bit weights with K = 4096 and aligned activations: |P| reaches 2^14 * 255 *
  // 4096 > 2^31, which the SIMD kernels carry in int32 segments of 256 k added in int64.
  const int m = 2, n = 3, k = 4096;
  std::vector<float> xf(static_cast<std::size_t>(m) * k, 1.9990234f);  // FP16 0x3FFF: mantissa 16376
  std::vector<float> wf(static_cast<std::size_t>(n) * k, 1.0f);
  const QuantizedWeights w = quantize_weights_rtn(wf, n, k, {8, -1, false});
  const AlignedActivations a = align_activations_fp16(to_half(xf), m, k, k);
  const PreparedWeights pw = PreparedWeights::for_mixpe(w);
  for (const std::string& variant : supported_kernel_variants()) {
    set_kernel_variant(variant);
    expect_bits_equal(gemm_mixpe_aligned(a, pw, 2), gemm_mixpe_aligned_ref(a, w), "wide " + variant);
  }
  // Random data on the wide path: several long groups, group minimums, and INT8 activations over
  // an asymmetric 8-bit group of 69,632 (69,632 * 255 * 127 > 2^31).
  check_all_paths(quantize_weights_rtn(models::synthetic_weights(21, 4096, 5), 21, 4096, {8, 2048, true}),
                  models::synthetic_activations(3, 4096, 5), 3, "wide g2048");
  check_all_paths(quantize_weights_rtn(models::synthetic_weights(18, 20480, 6), 18, 20480, {4, -1, false}),
                  models::synthetic_activations(1, 20480, 6), 1, "wide W4 per-channel");
  check_all_paths(random_with_mins(8, 17, 4096, 2048, 9), models::synthetic_activations(2, 4096, 9), 2, "wide mins");
  check_all_paths(quantize_weights_rtn(models::synthetic_weights(2, 69632, 10), 2, 69632, {8, -1, false}),
                  models::synthetic_activations(1, 69632, 10), 1, "wide int8");
}

TEST_F(FastKernels, WrappedInt32SumsStayExact) {
  // Symmetric 8-bit codes are stored as q + 128: with q = 127 and mantissas 16376 over K = 768 the
  // stored-code sum P' = 767 * 255 * 16376 exceeds 2^31 and wraps, while Gs = P' - 128 A fits.
  const int m = 1, n = 17, k = 768;
  std::vector<float> wf(static_cast<std::size_t>(n) * k, 1.0f);
  for (int col = 0; col < n; ++col) wf[static_cast<std::size_t>(col) * k] = -1.0f;  // the extreme maps to -128
  const QuantizedWeights w = quantize_weights_rtn(wf, n, k, {8, -1, true});
  ASSERT_EQ(w.code(0, 1), 127);
  const std::vector<float> xf(static_cast<std::size_t>(m) * k, 1.9990234f);
  const AlignedActivations a = align_activations_fp16(to_half(xf), m, k, k);
  ASSERT_EQ(a.mant(0, 0), 16376);
  const PreparedWeights pw = PreparedWeights::for_mixpe(w);
  for (const std::string& variant : supported_kernel_variants()) {
    set_kernel_variant(variant);
    expect_bits_equal(gemm_mixpe_aligned(a, pw, 1), gemm_mixpe_aligned_ref(a, w), "wrap " + variant);
  }
}

TEST_F(FastKernels, ForcingAnUnknownOrUnsupportedVariantIsAClearError) {
  try {
    set_kernel_variant("avx1024");
    FAIL() << "an unknown variant was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("unknown kernel variant 'avx1024'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("portable"), std::string::npos) << e.what();
  }
  // Variants this CPU lacks (none on an AVX-512 machine) must be refused, naming what is missing.
  const std::vector<std::string> supported = supported_kernel_variants();
  for (const char* name : {"avx2", "avx512"}) {
    if (std::find(supported.begin(), supported.end(), name) != supported.end()) continue;
    EXPECT_THROW(set_kernel_variant(name), std::invalid_argument) << name;
  }
  ::setenv("MIXPE_KERNELS", "bogus", 1);
  try {
    select_kernel_variant_from_environment();
    ::unsetenv("MIXPE_KERNELS");
    FAIL() << "MIXPE_KERNELS=bogus was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("MIXPE_KERNELS=bogus"), std::string::npos) << e.what();
  }
  ::setenv("MIXPE_KERNELS", "portable", 1);
  select_kernel_variant_from_environment();
  EXPECT_EQ(active_kernel_variant(), "portable");
  ::unsetenv("MIXPE_KERNELS");
  select_kernel_variant_from_environment();
  EXPECT_EQ(active_kernel_variant(), supported.back());
}

TEST(ThreadPool, RunsEveryTaskOnceAcrossManyCalls) {
  ThreadPool& pool = ThreadPool::instance();
  for (unsigned threads : {1u, 2u, 3u, 4u}) {
    for (unsigned tasks : {1u, 2u, 5u, 16u}) {
      for (int call = 0; call < 100; ++call) {
        std::vector<std::atomic<int>> hits(tasks);
        pool.run(tasks, threads, [&](unsigned t) { hits[t].fetch_add(1); });
        for (unsigned t = 0; t < tasks; ++t)
          ASSERT_EQ(hits[t].load(), 1) << threads << " threads, " << tasks << " tasks, call " << call << ", task " << t;
      }
    }
  }
  // After a pause longer than the spin the workers sleep on the futex and must still be woken.
  for (int call = 0; call < 3; ++call) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::atomic<int> sum{0};
    pool.run(8, 2, [&](unsigned t) { sum.fetch_add(static_cast<int>(t) + 1); });
    EXPECT_EQ(sum.load(), 36) << "call " << call;
  }
}

TEST(FastKernelsArgs, RejectUnpreparedWeights) {
  const QuantizedWeights w = quantize_weights_rtn(models::synthetic_weights(2, 64, 1), 2, 64, {4, 32, false});
  const Int8Activations x = quantize_activations_int8(models::synthetic_activations(1, 64, 1), 1, 64);
  EXPECT_THROW(gemm_mixpe_int8(x, PreparedWeights::for_fp16(w)), std::invalid_argument);
  EXPECT_THROW(gemm_fp16(to_half(models::synthetic_activations(1, 64, 1)), 1, PreparedWeights::for_mixpe(w)), std::invalid_argument);
}

}  // namespace
}  // namespace mixpe::quant
