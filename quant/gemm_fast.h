// Fast CPU kernels for every PE type: vectorizable, multithreaded, and bit-exact with the *_ref
// oracles (same integer sums, same floating-point operations in the same order).
#pragma once

#include <span>
#include <vector>

#include "quant/activations.h"
#include "quant/float16.h"
#include "quant/weights.h"

namespace mixpe::quant {

// Weights re-laid out once for the kernels: codes widened to int16 (row-major [N][K]) and the
// FP16 baseline's dequantized weights transposed to [K][N] floats.
struct PreparedWeights {
  const QuantizedWeights* source = nullptr;
  std::vector<std::int16_t> codes;  // [N][K]
  std::vector<float> w16_t;         // [K][N], only when prepared for the FP16 baseline

  static PreparedWeights for_mixpe(const QuantizedWeights& w);
  static PreparedWeights for_fp16(const QuantizedWeights& w);
};

// Same contracts and argument checks as gemm_mixpe_int8_ref, gemm_mixpe_aligned_ref,
// gemm_fp16_ref and gemm_int8_ref. `threads` = 0 uses every hardware thread.
std::vector<float> gemm_mixpe_int8(const Int8Activations& x, const PreparedWeights& w, unsigned threads = 0);
std::vector<float> gemm_mixpe_aligned(const AlignedActivations& x, const PreparedWeights& w, unsigned threads = 0);
std::vector<float> gemm_fp16(std::span<const Half> x, int m, const PreparedWeights& w, unsigned threads = 0);
std::vector<float> gemm_int8(const Int8Activations& x, const PreparedWeights& w, unsigned threads = 0);

}  // namespace mixpe::quant
