// Bit packing of weight codes, scales and zero points.
#include "quant/packed.h"

#include <stdexcept>

#include <fmt/format.h>

namespace mixpe::quant {

PackedWeights pack_weights(const QuantizedWeights& q) {
  validate_quantized_weights(q, "pack_weights");
  PackedWeights p;
  p.n = q.n;
  p.k = q.k;
  p.bits = q.bits;
  p.group_size = q.group_size;
  p.symmetric = q.symmetric;
  const std::size_t stride = p.row_stride_bytes();
  p.codes.assign(stride * q.n, 0);
  const unsigned mask = (1u << q.bits) - 1u;
  for (int row = 0; row < q.n; ++row) {
    std::uint8_t* out = p.codes.data() + stride * row;
    for (int col = 0; col < q.k; ++col) {
      const unsigned field = static_cast<unsigned>(q.code(row, col)) & mask;
      for (int b = 0; b < q.bits; ++b) {
        const std::size_t bit = static_cast<std::size_t>(col) * q.bits + b;
        out[bit / 8] |= static_cast<std::uint8_t>(((field >> b) & 1u) << (bit % 8));
      }
    }
  }
  p.scales.reserve(q.scales.size());
  for (Half s : q.scales) p.scales.push_back(s.bits());
  p.zeros = q.zeros;
  for (Half m : q.mins) p.mins.push_back(m.bits());
  return p;
}

QuantizedWeights unpack_weights(const PackedWeights& p) {
  WeightQuantConfig{p.bits, p.group_size, p.symmetric}.validate(p.k, "packed weights");
  const std::size_t groups = static_cast<std::size_t>(p.n) * (p.k / p.group_size);
  if (p.n <= 0 || p.codes.size() != p.row_stride_bytes() * p.n || p.scales.size() != groups ||
      p.zeros.size() != groups) {
    throw std::invalid_argument(fmt::format(
        "packed weights [{}, {}] {}-bit g = {}: expected {} code bytes, {} scales, {} zeros; got {}, {}, {}", p.n, p.k,
        p.bits, p.group_size, p.row_stride_bytes() * p.n, groups, groups, p.codes.size(), p.scales.size(),
        p.zeros.size()));
  }
  QuantizedWeights q;
  q.n = p.n;
  q.k = p.k;
  q.bits = p.bits;
  q.group_size = p.group_size;
  q.symmetric = p.symmetric;
  q.codes.resize(static_cast<std::size_t>(p.n) * p.k);
  const std::size_t stride = p.row_stride_bytes();
  for (int row = 0; row < p.n; ++row) {
    const std::uint8_t* in = p.codes.data() + stride * row;
    for (int col = 0; col < p.k; ++col) {
      unsigned field = 0;
      for (int b = 0; b < p.bits; ++b) {
        const std::size_t bit = static_cast<std::size_t>(col) * p.bits + b;
        field |= static_cast<unsigned>((in[bit / 8] >> (bit % 8)) & 1u) << b;
      }
      int code = static_cast<int>(field);
      if (p.symmetric && (field >> (p.bits - 1)) & 1u) code -= 1 << p.bits;  // sign-extend
      q.codes[static_cast<std::size_t>(row) * p.k + col] = static_cast<std::int16_t>(code);
    }
  }
  q.scales.reserve(p.scales.size());
  for (std::uint16_t s : p.scales) q.scales.push_back(Half::from_bits(s));
  q.zeros = p.zeros;
  for (std::uint16_t m : p.mins) q.mins.push_back(Half::from_bits(m));
  validate_quantized_weights(q, "packed weights");
  return q;
}

}  // namespace mixpe::quant
