// Kernel templates shared by the ISA translation units: one MixPE kernel and one FP16 kernel,
// written against a small `Isa` traits class (gemm_kernels_avx512.cpp, gemm_kernels_avx2.cpp).
//
// Include only from a translation unit compiled for its ISA, after defining the traits in an
// anonymous namespace: every function here is a template over that TU-local type, so no
// ISA-specific code can leak into another translation unit through the linker. For the same
// reason nothing here uses standard-library templates.
//
// The Isa traits provide, for a block of 16 output columns:
//   I                 16 int32 lanes (or the 64 code bytes they are unpacked from)
//   F                 16 fp32 lanes
//   kMaxRows          rows processed together by the MixPE kernel (register blocking)
//   kFp16Rows, kFp16Blocks   rows x column blocks processed together by the FP16 kernel
//   zero, load, unpack<kBits>(v, slot), add, dot8, dot16, group_sum, to_f, fset, bcast,
//   mul_scale, mul_scale_pow2, fadd, fmul, half, store, store_i, load_f.
#pragma once

#include <cstddef>
#include <cstdint>

#include "quant/gemm_kernels.h"

namespace mixpe::quant::kernels {

// GEMV tiles stream the codes once: prefetching this far ahead (the block's codes run on across
// groups, and into the next block) gave 5-20% more single-thread bandwidth than the hardware
// prefetcher alone in A/B runs on the shared (noisy) Zen 5 machine.
inline constexpr std::size_t kPrefetchBytes = 4096;

// One tile: R rows x one 16-column block, all groups, written to y. Per row and column: the exact
// integer group sum P' over stored (offset) codes, Gs = P' - z_eff * A, then d = dequantized Gs
// and acc += d in ascending group order (docs/numerics.md, section 4).
//
// Integer sums wrap modulo 2^32 (vpdpbusd/vpdpwssd do not saturate); the caller only takes this
// path when every |Gs| < 2^31, so the wrapped result is exact.
template <class Isa, int kBits, bool kAligned, int R>
void mixpe_tile(const MixpeJob& j, int block, int row0) {
  using I = typename Isa::I;
  using F = typename Isa::F;
  constexpr int kQuads = 8 / kBits;  // quads of k per 64-byte unit
  // Independent accumulators per row, so few-row tiles (GEMV) are not bound by the dot latency.
  constexpr int kChains = R >= 4 ? 1 : 4 / R;
  constexpr int kStep = kChains > kQuads ? kChains / kQuads : 1;  // units per unrolled step
  const int units = j.group_size / (4 * kQuads);
  const std::size_t group_bytes = static_cast<std::size_t>(units) * kUnitBytes;
  const std::uint8_t* codes = j.codes + static_cast<std::size_t>(block) * j.groups * group_bytes;
  const std::size_t meta0 = static_cast<std::size_t>(block) * j.groups * kBlockCols;

  const std::int8_t* x8[R];
  const std::int16_t* x16[R];
  F acc[R];
  for (int r = 0; r < R; ++r) {
    x8[r] = kAligned ? nullptr : j.x8 + static_cast<std::size_t>(row0 + r) * j.k;
    x16[r] = kAligned ? j.x16 + static_cast<std::size_t>(row0 + r) * j.k : nullptr;
    acc[r] = Isa::fset(j.acc_init);
  }

  for (int G = 0; G < j.groups; ++G) {
    I p[R][kChains];
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < kChains; ++c) p[r][c] = Isa::zero();
    const std::uint8_t* c = codes + G * group_bytes;
    const int kg = G * j.group_size;

    // Quad t of a step (k = kk .. kk+3 of every column) goes to chain t % kChains.
    auto quad = [&](I cq, int kk, int chain) {
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        if constexpr (kAligned) {
          p[r][chain] = Isa::dot16(p[r][chain], cq, x16[r] + kk);
        } else {
          p[r][chain] = Isa::dot8(p[r][chain], cq, x8[r] + kk);
        }
      }
    };
    int u = 0;
    for (; u + kStep <= units; u += kStep) {
#pragma GCC unroll 4
      for (int s = 0; s < kStep; ++s) {
        if constexpr (R <= 2) __builtin_prefetch(c + static_cast<std::size_t>(u + s) * kUnitBytes + kPrefetchBytes, 0, 3);
        const I v = Isa::load(c + static_cast<std::size_t>(u + s) * kUnitBytes);
#pragma GCC unroll 4
        for (int q = 0; q < kQuads; ++q)
          quad(Isa::template unpack<kBits>(v, q), kg + 4 * ((u + s) * kQuads + q), (s * kQuads + q) % kChains);
      }
    }
    for (; u < units; ++u) {
      const I v = Isa::load(c + static_cast<std::size_t>(u) * kUnitBytes);
#pragma GCC unroll 4
      for (int q = 0; q < kQuads; ++q) quad(Isa::template unpack<kBits>(v, q), kg + 4 * (u * kQuads + q), q % kChains);
    }

    const std::size_t meta = meta0 + static_cast<std::size_t>(G) * kBlockCols;
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      I sum = p[r][0];
      for (int ch = 1; ch < kChains; ++ch) sum = Isa::add(sum, p[r][ch]);
      const std::size_t ag = static_cast<std::size_t>(row0 + r) * j.groups + G;
      const F g32 = Isa::to_f(Isa::group_sum(sum, j.zeros + meta, j.a[ag]));
      if constexpr (kAligned) {
        acc[r] = Isa::fadd(acc[r], Isa::mul_scale_pow2(g32, j.scales + meta, j.pow2[ag]));
        if (j.mins != nullptr) acc[r] = Isa::fadd(acc[r], Isa::mul_scale_pow2(Isa::bcast(j.a_f[ag]), j.mins + meta, j.pow2[ag]));
      } else {
        acc[r] = Isa::fadd(acc[r], Isa::mul_scale(g32, j.scales + meta));
        if (j.mins != nullptr) acc[r] = Isa::fadd(acc[r], Isa::mul_scale(Isa::bcast(j.a_f[ag]), j.mins + meta));
      }
    }
  }

  const int col0 = block * kBlockCols;
  const int cols = j.n - col0 < kBlockCols ? j.n - col0 : kBlockCols;
  for (int r = 0; r < R; ++r) {
    const F out = j.row_scales != nullptr ? Isa::fmul(acc[r], Isa::bcast(j.row_scales[row0 + r])) : acc[r];
    Isa::store(j.y + static_cast<std::size_t>(row0 + r) * j.n + col0, out, cols);
  }
}

// Long groups (g * max|q - z| * max|x| >= 2^31), one row x one block: int32 partial sums over
// segments of 256 k (256 * 255 * 2^15 < 2^31 for any stored code and 16-bit activation), added in
// int64, then each column's group finalized in scalar code with exactly dequantize_group's steps.
// Such groups are long, so the scalar finalize is rare.
template <class Isa, int kBits, bool kAligned>
void mixpe_tile_wide(const MixpeJob& j, int block, int row) {
  using I = typename Isa::I;
  using F = typename Isa::F;
  constexpr int kQuads = 8 / kBits;
  constexpr int kSegUnits = 256 / (4 * kQuads);
  const int units = j.group_size / (4 * kQuads);
  const std::size_t group_bytes = static_cast<std::size_t>(units) * kUnitBytes;
  const std::uint8_t* codes = j.codes + static_cast<std::size_t>(block) * j.groups * group_bytes;
  const std::int8_t* x8 = kAligned ? nullptr : j.x8 + static_cast<std::size_t>(row) * j.k;
  const std::int16_t* x16 = kAligned ? j.x16 + static_cast<std::size_t>(row) * j.k : nullptr;
  float acc[kBlockCols];
  for (int c = 0; c < kBlockCols; ++c) acc[c] = j.acc_init;
  for (int G = 0; G < j.groups; ++G) {
    std::int64_t p64[kBlockCols] = {};
    const std::uint8_t* cg = codes + G * group_bytes;
    const int kg = G * j.group_size;
    for (int u0 = 0; u0 < units; u0 += kSegUnits) {
      I p = Isa::zero();
      const int u1 = u0 + kSegUnits < units ? u0 + kSegUnits : units;
      for (int u = u0; u < u1; ++u) {
        const I v = Isa::load(cg + static_cast<std::size_t>(u) * kUnitBytes);
        for (int q = 0; q < kQuads; ++q) {
          const I cq = Isa::template unpack<kBits>(v, q);
          const int kk = kg + 4 * (u * kQuads + q);
          if constexpr (kAligned) {
            p = Isa::dot16(p, cq, x16 + kk);
          } else {
            p = Isa::dot8(p, cq, x8 + kk);
          }
        }
      }
      std::int32_t lanes[kBlockCols];
      Isa::store_i(lanes, p);
      for (int c = 0; c < kBlockCols; ++c) p64[c] += lanes[c];
    }
    const std::size_t meta = (static_cast<std::size_t>(block) * j.groups + G) * kBlockCols;
    const std::size_t ag = static_cast<std::size_t>(row) * j.groups + G;
    const double pow2 = kAligned ? j.pow2[ag] : 1.0;
    float scale[kBlockCols], min[kBlockCols];
    Isa::store(scale, Isa::half(j.scales + meta), kBlockCols);
    if (j.mins != nullptr) Isa::store(min, Isa::half(j.mins + meta), kBlockCols);
    for (int c = 0; c < kBlockCols; ++c) {
      const float g32 = static_cast<float>(p64[c] - static_cast<std::int64_t>(j.zeros[meta + c]) * j.a64[ag]);
      acc[c] += static_cast<float>(static_cast<double>(g32) * static_cast<double>(scale[c]) * pow2);
      if (j.mins != nullptr) acc[c] += static_cast<float>(static_cast<double>(j.a_f[ag]) * static_cast<double>(min[c]) * pow2);
    }
  }
  const int col0 = block * kBlockCols;
  const int cols = j.n - col0 < kBlockCols ? j.n - col0 : kBlockCols;
  F out = Isa::load_f(acc);
  if (j.row_scales != nullptr) out = Isa::fmul(out, Isa::bcast(j.row_scales[row]));
  Isa::store(j.y + static_cast<std::size_t>(row) * j.n + col0, out, cols);
}

// Rows [row0, row0 + rows) with rows <= R, through the largest tile that fits.
template <class Isa, int kBits, bool kAligned, int R>
void mixpe_rows(const MixpeJob& j, int block, int row0, int rows) {
  if constexpr (R > 1) {
    if (rows < R) {
      mixpe_rows<Isa, kBits, kAligned, R - 1>(j, block, row0, rows);
      return;
    }
  }
  mixpe_tile<Isa, kBits, kAligned, R>(j, block, row0);
}

// Block-outer order: a block's codes (e.g. 32 KiB for K = 4096, 4-bit) stay in L1/L2 while every
// row tile of the GEMM passes over them.
template <class Isa, int kBits, bool kAligned>
void mixpe_blocks(const MixpeJob& j, int block_begin, int block_end) {
  if (j.wide) {
    for (int block = block_begin; block < block_end; ++block)
      for (int row = 0; row < j.m; ++row) mixpe_tile_wide<Isa, kBits, kAligned>(j, block, row);
    return;
  }
  for (int block = block_begin; block < block_end; ++block)
    for (int row = 0; row < j.m; row += Isa::kMaxRows)
      mixpe_rows<Isa, kBits, kAligned, Isa::kMaxRows>(j, block, row, j.m - row < Isa::kMaxRows ? j.m - row : Isa::kMaxRows);
}

template <class Isa>
void mixpe_kernel(const MixpeJob& j, int block_begin, int block_end) {
  const bool aligned = j.x16 != nullptr;
  switch (j.code_bits) {
    case 2: return aligned ? mixpe_blocks<Isa, 2, true>(j, block_begin, block_end) : mixpe_blocks<Isa, 2, false>(j, block_begin, block_end);
    case 4: return aligned ? mixpe_blocks<Isa, 4, true>(j, block_begin, block_end) : mixpe_blocks<Isa, 4, false>(j, block_begin, block_end);
    case 8: return aligned ? mixpe_blocks<Isa, 8, true>(j, block_begin, block_end) : mixpe_blocks<Isa, 8, false>(j, block_begin, block_end);
    default: break;  // gemm_fast.cpp never packs other widths
  }
}

// FP16 baseline tile: R rows x CB column blocks. Every column keeps its own ascending-k chain of
// FP32 additions of exact products; the CB blocks give independent chains to hide add latency.
template <class Isa, int R, int CB>
void fp16_tile(const Fp16Job& j, int block, int row0) {
  using F = typename Isa::F;
  const std::uint16_t* w[CB];
  for (int b = 0; b < CB; ++b) w[b] = j.w16 + static_cast<std::size_t>(block + b) * j.k * kBlockCols;
  const float* x[R];
  F acc[R][CB];
  for (int r = 0; r < R; ++r) {
    x[r] = j.x + static_cast<std::size_t>(row0 + r) * j.k;
    for (int b = 0; b < CB; ++b) acc[r][b] = Isa::fset(0.0f);
  }
  for (int kk = 0; kk < j.k; ++kk) {
    F wv[CB];
    for (int b = 0; b < CB; ++b) wv[b] = Isa::half(w[b] + static_cast<std::size_t>(kk) * kBlockCols);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const F xv = Isa::bcast(x[r][kk]);
      for (int b = 0; b < CB; ++b) acc[r][b] = Isa::fadd(acc[r][b], Isa::fmul(xv, wv[b]));
    }
  }
  for (int b = 0; b < CB; ++b) {
    const int col0 = (block + b) * kBlockCols;
    const int cols = j.n - col0 < kBlockCols ? j.n - col0 : kBlockCols;
    for (int r = 0; r < R; ++r) Isa::store(j.y + static_cast<std::size_t>(row0 + r) * j.n + col0, acc[r][b], cols);
  }
}

template <class Isa, int R, int CB>
void fp16_rows(const Fp16Job& j, int block, int row0, int rows) {
  if constexpr (R > 1) {
    if (rows < R) {
      fp16_rows<Isa, R - 1, CB>(j, block, row0, rows);
      return;
    }
  }
  fp16_tile<Isa, R, CB>(j, block, row0);
}

template <class Isa>
void fp16_kernel(const Fp16Job& j, int block_begin, int block_end) {
  constexpr int kRows = Isa::kFp16Rows, kBlocks = Isa::kFp16Blocks;
  int block = block_begin;
  for (; block + kBlocks <= block_end; block += kBlocks)
    for (int row = 0; row < j.m; row += kRows) fp16_rows<Isa, kRows, kBlocks>(j, block, row, j.m - row < kRows ? j.m - row : kRows);
  for (; block < block_end; ++block)
    for (int row = 0; row < j.m; row += kRows) fp16_rows<Isa, kRows, 1>(j, block, row, j.m - row < kRows ? j.m - row : kRows);
}

template <class Isa>
void half_to_float(const std::uint16_t* in, float* out, std::size_t count) {
  std::size_t i = 0;
  for (; i + kBlockCols <= count; i += kBlockCols) Isa::store(out + i, Isa::half(in + i), kBlockCols);
  if (i < count) {
    std::uint16_t tail[kBlockCols] = {};
    for (std::size_t t = 0; i + t < count; ++t) tail[t] = in[i + t];
    Isa::store(out + i, Isa::half(tail), static_cast<int>(count - i));
  }
}

}  // namespace mixpe::quant::kernels
