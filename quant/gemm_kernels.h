// Internal interface between gemm_fast.cpp and the ISA-specific kernel translation units.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mixpe::quant::kernels {

// The kernels work on blocks of 16 output columns (one 512-bit vector of int32/fp32 lanes) and
// read weights in the packed layout of docs/numerics.md ("Kernel weight layout").
inline constexpr int kBlockCols = 16;
inline constexpr int kUnitBytes = 64;  // one vector of codes: 16 columns x 4 consecutive k

// One MixPE GEMM (INT8 or aligned activations) over packed weights. Every pointer is row-major.
struct MixpeJob {
  int m = 0, n = 0, k = 0, groups = 0, group_size = 0;
  int code_bits = 0;                      // storage bits per code: 2, 4 or 8
  const std::uint8_t* codes = nullptr;    // [blocks][groups][units][64]
  const std::uint16_t* scales = nullptr;  // [blocks][groups][16] FP16 bits
  const std::uint8_t* zeros = nullptr;    // [blocks][groups][16] effective zero points
  const std::uint16_t* mins = nullptr;    // [blocks][groups][16] FP16 bits, or null
  const std::int8_t* x8 = nullptr;        // INT8 activation codes [m][k], or null
  const std::int16_t* x16 = nullptr;      // aligned mantissas [m][k], each quad stored x0 x2 x1 x3
  const std::int32_t* a = nullptr;        // [m][groups] activation group sums A (narrow path)
  const std::int64_t* a64 = nullptr;      // [m][groups] the same sums exactly (wide path)
  const float* a_f = nullptr;             // [m][groups] fp32(A), for group minimums
  const double* pow2 = nullptr;           // [m][groups] 2^shift (aligned activations), or null
  const float* row_scales = nullptr;      // [m] per-token scale applied last, or null
  float acc_init = 0.0f;                  // +0 (MixPE) or -0 (INT8 baseline: y = d, sign of zero kept)
  // Groups whose sums may exceed int32: int32 partial sums over 256 k, then int64 per group.
  bool wide = false;
  float* y = nullptr;                     // [m][n]
};

// The FP16 baseline over weights dequantized to FP16, laid out [blocks][k][16].
struct Fp16Job {
  int m = 0, n = 0, k = 0;
  const std::uint16_t* w16 = nullptr;
  const float* x = nullptr;  // [m][k] activations as FP32 (exact FP16 values)
  float* y = nullptr;        // [m][n]
};

// Each kernel computes the column blocks [block_begin, block_end) for every row.
using MixpeKernel = void (*)(const MixpeJob&, int block_begin, int block_end);
using Fp16Kernel = void (*)(const Fp16Job&, int block_begin, int block_end);
// FP16 bit patterns to FP32 (exact), `count` values.
using HalfToFloat = void (*)(const std::uint16_t* in, float* out, std::size_t count);

struct KernelSet {
  const char* name;
  MixpeKernel mixpe;
  Fp16Kernel fp16;
  HalfToFloat half_to_float;
};

#if defined(MIXPE_X86_KERNELS)
// AVX-512 F/BW/VL/DQ/VNNI.
extern const KernelSet kAvx512Kernels;
// AVX2 + F16C + AVX-VNNI (the VEX-encoded dot-product instructions).
extern const KernelSet kAvx2Kernels;
#endif

}  // namespace mixpe::quant::kernels
