// Weights with float group minimums (GGUF Q4_1: w = d q + m): oracles within their derived bound,
// fast kernels bit-exact, packing and validation.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "models/synthetic.h"
#include "quant/gemm_fast.h"
#include "quant/gemm_ref.h"
#include "quant/packed.h"

namespace mixpe::quant {
namespace {

// Random Q4_1-style weights: codes 0..15, scales ~ 0.01, minimums ~ -0.08.
QuantizedWeights random_q41(int n, int k, int g, std::uint64_t seed) {
  models::Rng rng(seed);
  QuantizedWeights w;
  w.n = n;
  w.k = k;
  w.bits = 4;
  w.group_size = g;
  w.codes.resize(static_cast<std::size_t>(n) * k);
  for (auto& c : w.codes) c = static_cast<std::int16_t>(rng.next_u64() % 16);
  for (int i = 0; i < n * (k / g); ++i) {
    w.scales.push_back(Half::from_double(0.01 * (0.5 + rng.uniform())));
    w.mins.push_back(Half::from_double(-0.08 * (0.5 + rng.uniform())));
    w.zeros.push_back(0);
  }
  validate_quantized_weights(w, "q41");
  return w;
}

TEST(GroupMin, MixpeInt8WithinDerivedBoundAndFastKernelsBitExact) {
  const int m = 5, n = 7, k = 256, g = 32;
  const QuantizedWeights w = random_q41(n, k, g, 3);
  const Int8Activations x = quantize_activations_int8(models::synthetic_activations(m, k, 3), m, k);
  const std::vector<float> y = gemm_mixpe_int8_ref(x, w);
  const std::vector<double> exact = gemm_f64_ref(int8_values(x), m, dequantize_weights_f64(w), n, k);
  const std::vector<std::int32_t> xi(x.codes.begin(), x.codes.end());
  const GroupSums sums = mixpe_group_sums_ref(xi, m, w);
  constexpr double u = 0x1p-24;
  for (int row = 0; row < m; ++row) {
    for (int col = 0; col < n; ++col) {
      // Per group two terms of <= 2 roundings each, 2 nG - 1 additions, then * sx:
      // |err| <= gamma_{2 nG + 2} * sx * sum_G (|s P| + |min A|).
      double mag = 0;
      for (int G = 0; G < w.groups(); ++G)
        mag += std::fabs(w.scale(col, G).to_double() * sums.P(row, col, G)) + std::fabs(w.min(col, G).to_double() * sums.A(row, G));
      mag *= x.scales[row];
      const int terms = 2 * w.groups() + 2;
      const double bound = terms * u / (1 - terms * u) * mag + (k + 2) * 0x1p-53 * mag;
      const std::size_t i = static_cast<std::size_t>(row) * n + col;
      ASSERT_LE(std::fabs(y[i] - exact[i]), bound) << row << "," << col;
    }
  }
  auto same_bits = [](const std::vector<float>& a, const std::vector<float>& b) {
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) ASSERT_EQ(std::bit_cast<std::uint32_t>(a[i]), std::bit_cast<std::uint32_t>(b[i])) << i;
  };
  const PreparedWeights pm = PreparedWeights::for_mixpe(w), pf = PreparedWeights::for_fp16(w);
  same_bits(gemm_mixpe_int8(x, pm, 2), y);
  const std::vector<Half> xh = to_half(models::synthetic_activations(m, k, 4));
  const AlignedActivations a = align_activations_fp16(xh, m, k, g);
  same_bits(gemm_mixpe_aligned(a, pm, 2), gemm_mixpe_aligned_ref(a, w));
  same_bits(gemm_fp16(xh, m, pf, 2), gemm_fp16_ref(xh, m, w));
  EXPECT_THROW(gemm_int8_ref(x, w), std::invalid_argument);
}

TEST(GroupMin, PackRoundTripAndValidation) {
  QuantizedWeights w = random_q41(3, 64, 32, 9);
  const QuantizedWeights u = unpack_weights(pack_weights(w));
  ASSERT_EQ(u.mins.size(), w.mins.size());
  for (std::size_t i = 0; i < w.mins.size(); ++i) EXPECT_EQ(u.mins[i].bits(), w.mins[i].bits());
  EXPECT_EQ(u.codes, w.codes);
  w.zeros[1] = 3;  // a zero point and a minimum at once is ambiguous
  EXPECT_THROW(validate_quantized_weights(w, "q41"), std::invalid_argument);
  w.zeros[1] = 0;
  w.mins.pop_back();
  EXPECT_THROW(validate_quantized_weights(w, "q41"), std::invalid_argument);
}

}  // namespace
}  // namespace mixpe::quant
