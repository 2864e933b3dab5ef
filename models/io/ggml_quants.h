// ggml block formats Q4_0, Q4_1, Q8_0: plain block structs, quantize/dequantize routines, and the
// exact mappings of Q4_0, Q4_1 and Q8_0 onto quant::QuantizedWeights.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "quant/weights.h"

namespace mixpe::models {

inline constexpr int kGgmlBlock = 32;  // weights per Q4_0 / Q4_1 / Q8_0 block

// Q4_0: w = d * (q - 8), q an unsigned nibble; byte j holds element j (low nibble) and j + 16 (high).
struct BlockQ4_0 {
  std::uint16_t d;  // FP16 bits
  std::uint8_t qs[kGgmlBlock / 2];
};
static_assert(sizeof(BlockQ4_0) == 18, "Q4_0 block is 2 + 16 bytes");

// Q4_1: w = d * q + m, nibbles packed as in Q4_0.
struct BlockQ4_1 {
  std::uint16_t d;  // FP16 bits
  std::uint16_t m;  // FP16 bits
  std::uint8_t qs[kGgmlBlock / 2];
};
static_assert(sizeof(BlockQ4_1) == 20, "Q4_1 block is 2 + 2 + 16 bytes");

// Q8_0: w = d * q, q a signed byte.
struct BlockQ8_0 {
  std::uint16_t d;  // FP16 bits
  std::int8_t qs[kGgmlBlock];
};
static_assert(sizeof(BlockQ8_0) == 34, "Q8_0 block is 2 + 32 bytes");

// Quantize `x` (a multiple of 32 values, all finite; throws std::invalid_argument otherwise) the
// way ggml's reference quantizers do, so the codes match llama.cpp's for the same input:
//   Q4_0: d = (value of largest magnitude) / -8, q = min(15, trunc(x / d + 8.5));
//   Q4_1: d = (max - min) / 15, m = min, q = min(15, trunc((x - min) / d + 0.5));
//   Q8_0: d = max|x| / 127, q = round-half-away(x / d).
// d and m are stored as FP16 (round-to-nearest-even); codes use the unrounded float d.
std::vector<BlockQ4_0> quantize_q4_0(std::span<const float> x);
std::vector<BlockQ4_1> quantize_q4_1(std::span<const float> x);
std::vector<BlockQ8_0> quantize_q8_0(std::span<const float> x);

// Exact dequantization to float (each value is exactly representable in binary32).
std::vector<float> dequantize_q4_0(std::span<const BlockQ4_0> blocks);
std::vector<float> dequantize_q4_1(std::span<const BlockQ4_1> blocks);
std::vector<float> dequantize_q8_0(std::span<const BlockQ8_0> blocks);

// Q4_0 is our asymmetric 4-bit format with g = 32, s = d and every zero point 8; Q8_0 is our
// symmetric 8-bit format with g = 32, s = d. Blocks run row-major over an n x k matrix.
quant::QuantizedWeights q4_0_to_quantized(std::span<const BlockQ4_0> blocks, int n, int k);
quant::QuantizedWeights q8_0_to_quantized(std::span<const BlockQ8_0> blocks, int n, int k);
// Q4_1 is our 4-bit g = 32 format with float group minimums: s = d, min = m, zero points 0.
quant::QuantizedWeights q4_1_to_quantized(std::span<const BlockQ4_1> blocks, int n, int k);
// Accepts 4-bit g = 32 weights with group minimums.
std::vector<BlockQ4_1> quantized_to_q4_1(const quant::QuantizedWeights& q, const std::string& tensor_name);
// Accepts 4-bit g = 32 weights that are symmetric (q = code + 8) or asymmetric with every zero
// point 8; anything else throws std::invalid_argument naming the tensor and the first misfit.
std::vector<BlockQ4_0> quantized_to_q4_0(const quant::QuantizedWeights& q, const std::string& tensor_name);
// Accepts 8-bit g = 32 symmetric weights.
std::vector<BlockQ8_0> quantized_to_q8_0(const quant::QuantizedWeights& q, const std::string& tensor_name);

// Blocks reinterpreted from raw bytes (copied, so the source needs no alignment).
template <typename Block>
std::vector<Block> blocks_from_bytes(std::span<const std::uint8_t> bytes);
template <typename Block>
std::span<const std::uint8_t> bytes_of(std::span<const Block> blocks) {
  return {reinterpret_cast<const std::uint8_t*>(blocks.data()), blocks.size_bytes()};
}

}  // namespace mixpe::models
