// Reference oracles (*_ref): plain scalar mpGEMM for every PE type, following docs/numerics.md.
//
// Shapes: activations X are M x K, weights W are N x K (output channel major), Y = X W^T is
// M x N; all row-major. FP32 results are bit-exact definitions; the float64 GEMM is the yardstick.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "quant/activations.h"
#include "quant/float16.h"
#include "quant/weights.h"

namespace mixpe::quant {

// Integer group sums of the MixPE array: P[m][n][G] = sum_j q*x, A[m][G] = sum_j x.
struct GroupSums {
  int m = 0, n = 0, groups = 0;
  std::vector<std::int64_t> p;  // [m][n][groups]
  std::vector<std::int64_t> a;  // [m][groups]
  std::int64_t P(int row, int col, int g) const {
    return p[(static_cast<std::size_t>(row) * n + col) * groups + g];
  }
  std::int64_t A(int row, int g) const { return a[static_cast<std::size_t>(row) * groups + g]; }
};

// Integer activations of any width (INT8 codes or aligned mantissas) as an M x K matrix.
GroupSums mixpe_group_sums_ref(std::span<const std::int32_t> x, int m, const QuantizedWeights& w);

// MixPE, INT8 activations: y = fp32( (sum_G dequantize_group(P - zA, s, 0)) * s_x ).
std::vector<float> gemm_mixpe_int8_ref(const Int8Activations& x, const QuantizedWeights& w);
// MixPE, pre-aligned activations: y = sum_G dequantize_group(P - zA, s, shift).
// The alignment group size must equal the weight group size.
std::vector<float> gemm_mixpe_aligned_ref(const AlignedActivations& x, const QuantizedWeights& w);
std::vector<float> gemm_mixpe_fp16_ref(std::span<const Half> x, int m, const QuantizedWeights& w);
std::vector<float> gemm_mixpe_bf16_ref(std::span<const BFloat16> x, int m, const QuantizedWeights& w);

// FP16 baseline: w16 = fp16((q - z) s); acc += fp32(x16) * fp32(w16) in ascending k (exact
// products, FP32 additions).
std::vector<float> gemm_fp16_ref(std::span<const Half> x, int m, const QuantizedWeights& w);

// INT8 baseline (W8A8): int32 acc = sum q*x; y = fp32(fp32(acc) * s_w) * s_x. Needs symmetric
// per-channel weights of at most 8 bits.
std::vector<float> gemm_int8_ref(const Int8Activations& x, const QuantizedWeights& w);

// float64 GEMM, the accuracy yardstick: x is M x K, w is N x K.
std::vector<double> gemm_f64_ref(std::span<const double> x, int m, std::span<const double> w, int n, int k);

// Activations as the exact values each path consumes, as doubles (for the yardstick).
std::vector<double> int8_values(const Int8Activations& x);
std::vector<double> aligned_values(const AlignedActivations& x);

}  // namespace mixpe::quant
