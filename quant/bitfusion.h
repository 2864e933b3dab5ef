// BitFusion (Sharma et al., ISCA 2018) numerics: BitBrick decomposition of a product and the W{2,4,8}A8 GEMM oracle.
#pragma once

#include <cstdint>
#include <vector>

#include "quant/activations.h"
#include "quant/gemm_fast.h"
#include "quant/weights.h"

namespace mixpe::quant {

// BitBricks in one fusion unit; a product of w-bit by a-bit operands takes (w/2)(a/2) of them.
inline constexpr int kBitBricksPerFusionUnit = 16;

// Products one fusion unit completes per cycle with w-bit weights and a-bit activations:
// (8 / wbits) * (8 / abits). Throws std::invalid_argument naming both widths unless each is 2, 4
// or 8.
int bitfusion_products_per_cycle(int wbits, int abits);

// One BitBrick: a 2-bit by 2-bit multiplier whose operands are each sign-extended to 3 bits when
// their sign flag is set (the top 2-bit piece of a signed operand) and zero-extended otherwise.
constexpr std::int64_t bitbrick_product(int a, bool a_signed, int b, bool b_signed) {
  const int av = (a_signed && (a & 2)) ? (a & 3) - 4 : (a & 3);
  const int bv = (b_signed && (b & 2)) ? (b & 3) - 4 : (b & 3);
  return static_cast<std::int64_t>(av) * bv;
}

// The fused product of a w-bit and an a-bit two's complement operand (the low bits of w and x):
// sum over 2-bit pieces u of w and v of x of bitbrick(w_u, u top, x_v, v top) << 2(u + v).
// Equals w * x for every operand in range (tested exhaustively).
constexpr std::int64_t bitfusion_product(int w, int wbits, int x, int abits) {
  std::int64_t sum = 0;
  for (int u = 0; u < wbits / 2; ++u)
    for (int v = 0; v < abits / 2; ++v)
      sum += bitbrick_product(w >> (2 * u), u == wbits / 2 - 1, x >> (2 * v), v == abits / 2 - 1) *
             (std::int64_t{1} << (2 * (u + v)));
  return sum;
}

// W{2,4,8}A8 GEMM as BitFusion computes it: int32 acc = sum_k bitfusion_product(q, x8), then
// y = fp32(fp32(fp32(acc) * s_w) * s_x), the order of gemm_int8_ref. Weights must be symmetric
// per-channel with 2, 4 or 8 bits and no group minimums; otherwise std::invalid_argument names
// what is wrong. Bit-equal to gemm_int8_ref (the brick decomposition is exact).
std::vector<float> gemm_bitfusion_ref(const Int8Activations& x, const QuantizedWeights& w);

// The fast kernel: the INT8 kernel (gemm_int8) on weights prepared with PreparedWeights::for_mixpe,
// after checking that the width is one BitFusion supports. Bit-equal to gemm_bitfusion_ref.
std::vector<float> gemm_bitfusion(const Int8Activations& x, const PreparedWeights& w, unsigned threads = 0);

}  // namespace mixpe::quant
