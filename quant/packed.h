// The packed in-memory layout of group-quantized weights (see docs/numerics.md, "Packed layout").
#pragma once

#include <cstdint>
#include <vector>

#include "quant/weights.h"

namespace mixpe::quant {

// codes: one little-endian bitstream per output row; code k of a row occupies bits
//        [k*b, (k+1)*b) of the row, bit i living in byte i/8 at position i%8; rows start on a
//        byte boundary (row stride = ceil(K*b/8) bytes); signed codes are b-bit two's complement.
// scales: FP16 bit patterns, [N][K/g] row-major.
// zeros:  one unsigned byte per group, [N][K/g] row-major (all zero for symmetric weights).
// mins:   optional FP16 group minimums, [N][K/g] row-major (empty unless the weights have them).
struct PackedWeights {
  int n = 0, k = 0, bits = 4, group_size = 128;
  bool symmetric = false;
  std::vector<std::uint8_t> codes;
  std::vector<std::uint16_t> scales;
  std::vector<std::uint8_t> zeros;
  std::vector<std::uint16_t> mins;

  std::size_t row_stride_bytes() const { return (static_cast<std::size_t>(k) * bits + 7) / 8; }
  std::size_t total_bytes() const { return codes.size() + 2 * scales.size() + zeros.size() + 2 * mins.size(); }
};

PackedWeights pack_weights(const QuantizedWeights& q);
// Throws std::invalid_argument if the buffers do not match the header fields.
QuantizedWeights unpack_weights(const PackedWeights& p);

}  // namespace mixpe::quant
