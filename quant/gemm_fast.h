// Fast CPU kernels for every PE type: SIMD (AVX-512 or AVX2, chosen at run time), multithreaded on
// a persistent pool, and bit-exact with the *_ref oracles (same integer sums, same floating-point
// operations in the same order).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "quant/activations.h"
#include "quant/float16.h"
#include "quant/weights.h"

namespace mixpe::quant {

// Weights re-laid out once for the kernels (docs/numerics.md, "Kernel weight layout"). `source`
// must outlive the prepared weights: the portable kernels and shapes without a packed form read
// its codes directly.
struct PreparedWeights {
  enum class Kind { kNone, kMixpe, kFp16 };
  const QuantizedWeights* source = nullptr;
  Kind kind = Kind::kNone;

  // MixPE and INT8 paths: blocks of 16 output columns, codes interleaved so a 32-bit lane holds
  // four consecutive k of one column. Empty when the group size has no packed form (then the
  // portable kernel runs).
  int code_bits = 0;                        // storage bits per code: 2, 4 (for 3- and 4-bit) or 8
  std::vector<std::uint8_t> packed_codes;   // [N/16][groups][g/4 / (8/code_bits)][64]
  std::vector<std::uint16_t> packed_scales; // [N/16][groups][16] FP16 bits
  std::vector<std::uint8_t> packed_zeros;   // [N/16][groups][16] z, or 2^(b-1) for symmetric codes
  std::vector<std::uint16_t> packed_mins;   // [N/16][groups][16] FP16 bits, only with group minimums
  // FP16 baseline: the dequantized FP16 weights, [N/16][K][16].
  std::vector<std::uint16_t> w16;

  static PreparedWeights for_mixpe(const QuantizedWeights& w);
  static PreparedWeights for_fp16(const QuantizedWeights& w);
  // Bytes of packed weights one GEMM streams (codes and per-group metadata, or FP16 weights).
  std::size_t streamed_bytes() const;
};

// Same contracts and argument checks as gemm_mixpe_int8_ref, gemm_mixpe_aligned_ref,
// gemm_fp16_ref and gemm_int8_ref. `threads` = 0 uses every hardware thread.
std::vector<float> gemm_mixpe_int8(const Int8Activations& x, const PreparedWeights& w, unsigned threads = 0);
std::vector<float> gemm_mixpe_aligned(const AlignedActivations& x, const PreparedWeights& w, unsigned threads = 0);
std::vector<float> gemm_fp16(std::span<const Half> x, int m, const PreparedWeights& w, unsigned threads = 0);
std::vector<float> gemm_int8(const Int8Activations& x, const PreparedWeights& w, unsigned threads = 0);

// Kernel variants: "portable" (plain C++), "avx2" (AVX2 + F16C + AVX-VNNI) and "avx512"
// (AVX-512 F/BW/VL/DQ/VNNI). On first use the best one this CPU supports is chosen, unless the
// environment variable MIXPE_KERNELS names one.
std::string active_kernel_variant();
// The variants this build and CPU can run, "portable" first.
std::vector<std::string> supported_kernel_variants();
// Switches every later call to `name`; throws std::invalid_argument naming the variant, what it
// needs and what this CPU supports if it is unknown or unsupported.
void set_kernel_variant(std::string_view name);
// Re-reads MIXPE_KERNELS (unset or empty: the best supported variant); throws as set_kernel_variant,
// naming the variable.
void select_kernel_variant_from_environment();

}  // namespace mixpe::quant
