// ggml block quantizers and their exact correspondence with quant::QuantizedWeights.
#include "models/io/ggml_quants.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace mixpe::models {
namespace {

using quant::Half;

void check_input(std::span<const float> x, const char* type) {
  if (x.size() % kGgmlBlock != 0) {
    throw std::invalid_argument(fmt::format("quantize_{}: {} values is not a multiple of the block size {}", type,
                                            x.size(), kGgmlBlock));
  }
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i])) throw std::invalid_argument(fmt::format("quantize_{}: value {} is {}", type, i, x[i]));
  }
}

std::uint16_t fp16_bits(float v) { return Half::from_float(v).bits(); }
float fp16_value(std::uint16_t bits) { return Half::from_bits(bits).to_float(); }

void check_matrix(std::size_t blocks, int n, int k, const char* type) {
  if (n <= 0 || k <= 0 || k % kGgmlBlock != 0) {
    throw std::invalid_argument(fmt::format("{}: shape [{}, {}] needs positive dimensions and K a multiple of {}", type,
                                            n, k, kGgmlBlock));
  }
  if (blocks != static_cast<std::size_t>(n) * (k / kGgmlBlock)) {
    throw std::invalid_argument(fmt::format("{}: {} blocks for shape [{}, {}], expected {}", type, blocks, n, k,
                                            static_cast<std::size_t>(n) * (k / kGgmlBlock)));
  }
}

void check_g32(const quant::QuantizedWeights& q, int bits, const std::string& name, const char* type) {
  quant::validate_quantized_weights(q, name);
  if (q.bits != bits || q.group_size != kGgmlBlock) {
    throw std::invalid_argument(fmt::format("{}: {}-bit weights with group size {} do not map onto {} ({}-bit, group 32)",
                                            name, q.bits, q.group_size, type, bits));
  }
}

}  // namespace

std::vector<BlockQ4_0> quantize_q4_0(std::span<const float> x) {
  check_input(x, "q4_0");
  std::vector<BlockQ4_0> out(x.size() / kGgmlBlock);
  for (std::size_t b = 0; b < out.size(); ++b) {
    const float* v = x.data() + b * kGgmlBlock;
    float amax = 0.0f, extreme = 0.0f;
    for (int j = 0; j < kGgmlBlock; ++j) {
      if (std::fabs(v[j]) > amax) {
        amax = std::fabs(v[j]);
        extreme = v[j];
      }
    }
    // Mapping the extreme to code 0 (not 15) uses all 16 levels on the side that needs them.
    const float d = extreme / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    out[b].d = fp16_bits(d);
    for (int j = 0; j < kGgmlBlock / 2; ++j) {
      const int lo = std::min(15, static_cast<int>(v[j] * id + 8.5f));
      const int hi = std::min(15, static_cast<int>(v[j + 16] * id + 8.5f));
      out[b].qs[j] = static_cast<std::uint8_t>(lo | (hi << 4));
    }
  }
  return out;
}

std::vector<BlockQ4_1> quantize_q4_1(std::span<const float> x) {
  check_input(x, "q4_1");
  std::vector<BlockQ4_1> out(x.size() / kGgmlBlock);
  for (std::size_t b = 0; b < out.size(); ++b) {
    const float* v = x.data() + b * kGgmlBlock;
    float lo = v[0], hi = v[0];
    for (int j = 1; j < kGgmlBlock; ++j) {
      lo = std::min(lo, v[j]);
      hi = std::max(hi, v[j]);
    }
    const float d = (hi - lo) / 15.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    out[b].d = fp16_bits(d);
    out[b].m = fp16_bits(lo);
    for (int j = 0; j < kGgmlBlock / 2; ++j) {
      const int q0 = std::min(15, static_cast<int>((v[j] - lo) * id + 0.5f));
      const int q1 = std::min(15, static_cast<int>((v[j + 16] - lo) * id + 0.5f));
      out[b].qs[j] = static_cast<std::uint8_t>(q0 | (q1 << 4));
    }
  }
  return out;
}

std::vector<BlockQ8_0> quantize_q8_0(std::span<const float> x) {
  check_input(x, "q8_0");
  std::vector<BlockQ8_0> out(x.size() / kGgmlBlock);
  for (std::size_t b = 0; b < out.size(); ++b) {
    const float* v = x.data() + b * kGgmlBlock;
    float amax = 0.0f;
    for (int j = 0; j < kGgmlBlock; ++j) amax = std::max(amax, std::fabs(v[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    out[b].d = fp16_bits(d);
    for (int j = 0; j < kGgmlBlock; ++j) out[b].qs[j] = static_cast<std::int8_t>(std::round(v[j] * id));
  }
  return out;
}

std::vector<float> dequantize_q4_0(std::span<const BlockQ4_0> blocks) {
  std::vector<float> out(blocks.size() * kGgmlBlock);
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    const float d = fp16_value(blocks[b].d);
    for (int j = 0; j < kGgmlBlock / 2; ++j) {
      out[b * kGgmlBlock + j] = d * static_cast<float>((blocks[b].qs[j] & 0x0F) - 8);
      out[b * kGgmlBlock + j + 16] = d * static_cast<float>((blocks[b].qs[j] >> 4) - 8);
    }
  }
  return out;
}

std::vector<float> dequantize_q4_1(std::span<const BlockQ4_1> blocks) {
  std::vector<float> out(blocks.size() * kGgmlBlock);
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    const float d = fp16_value(blocks[b].d);
    const float m = fp16_value(blocks[b].m);
    for (int j = 0; j < kGgmlBlock / 2; ++j) {
      out[b * kGgmlBlock + j] = d * static_cast<float>(blocks[b].qs[j] & 0x0F) + m;
      out[b * kGgmlBlock + j + 16] = d * static_cast<float>(blocks[b].qs[j] >> 4) + m;
    }
  }
  return out;
}

std::vector<float> dequantize_q8_0(std::span<const BlockQ8_0> blocks) {
  std::vector<float> out(blocks.size() * kGgmlBlock);
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    const float d = fp16_value(blocks[b].d);
    for (int j = 0; j < kGgmlBlock; ++j) out[b * kGgmlBlock + j] = d * static_cast<float>(blocks[b].qs[j]);
  }
  return out;
}

namespace {

// The g = 32 weight layout shared by the ggml block types: header fields and empty tables.
quant::QuantizedWeights g32_weights(int n, int k, int bits, bool symmetric, std::size_t blocks) {
  quant::QuantizedWeights q;
  q.n = n;
  q.k = k;
  q.bits = bits;
  q.group_size = kGgmlBlock;
  q.symmetric = symmetric;
  q.codes.resize(static_cast<std::size_t>(n) * k);
  q.scales.resize(blocks);
  q.zeros.assign(blocks, 0);
  return q;
}

// Q4 nibbles: byte j holds element j (low) and element j + 16 (high).
void unpack_q4(const std::uint8_t* qs, std::int16_t* codes) {
  for (int j = 0; j < kGgmlBlock / 2; ++j) {
    codes[j] = static_cast<std::int16_t>(qs[j] & 0x0F);
    codes[j + 16] = static_cast<std::int16_t>(qs[j] >> 4);
  }
}

}  // namespace

quant::QuantizedWeights q4_0_to_quantized(std::span<const BlockQ4_0> blocks, int n, int k) {
  check_matrix(blocks.size(), n, k, "Q4_0");
  quant::QuantizedWeights q = g32_weights(n, k, 4, false, blocks.size());
  q.zeros.assign(blocks.size(), 8);
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    q.scales[b] = Half::from_bits(blocks[b].d);
    unpack_q4(blocks[b].qs, q.codes.data() + b * kGgmlBlock);
  }
  return q;
}

quant::QuantizedWeights q4_1_to_quantized(std::span<const BlockQ4_1> blocks, int n, int k) {
  check_matrix(blocks.size(), n, k, "Q4_1");
  quant::QuantizedWeights q = g32_weights(n, k, 4, false, blocks.size());
  q.mins.resize(blocks.size());
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    q.scales[b] = Half::from_bits(blocks[b].d);
    q.mins[b] = Half::from_bits(blocks[b].m);
    unpack_q4(blocks[b].qs, q.codes.data() + b * kGgmlBlock);
  }
  return q;
}

std::vector<BlockQ4_1> quantized_to_q4_1(const quant::QuantizedWeights& q, const std::string& tensor_name) {
  check_g32(q, 4, tensor_name, "Q4_1");
  if (!q.has_mins()) {
    throw std::invalid_argument(fmt::format("{}: weights without group minimums do not map onto Q4_1 (w = d*q + m)", tensor_name));
  }
  std::vector<BlockQ4_1> out(q.scales.size());
  for (std::size_t b = 0; b < out.size(); ++b) {
    out[b].d = q.scales[b].bits();
    out[b].m = q.mins[b].bits();
    const std::int16_t* codes = q.codes.data() + b * kGgmlBlock;
    for (int j = 0; j < kGgmlBlock / 2; ++j) out[b].qs[j] = static_cast<std::uint8_t>(codes[j] | (codes[j + 16] << 4));
  }
  return out;
}

quant::QuantizedWeights q8_0_to_quantized(std::span<const BlockQ8_0> blocks, int n, int k) {
  check_matrix(blocks.size(), n, k, "Q8_0");
  quant::QuantizedWeights q = g32_weights(n, k, 8, true, blocks.size());
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    q.scales[b] = Half::from_bits(blocks[b].d);
    for (int j = 0; j < kGgmlBlock; ++j) q.codes[b * kGgmlBlock + j] = blocks[b].qs[j];
  }
  return q;
}

std::vector<BlockQ4_0> quantized_to_q4_0(const quant::QuantizedWeights& q, const std::string& tensor_name) {
  check_g32(q, 4, tensor_name, "Q4_0");
  if (q.has_mins()) throw std::invalid_argument(fmt::format("{}: weights with group minimums map onto Q4_1, not Q4_0", tensor_name));
  const std::size_t groups = q.scales.size();
  if (!q.symmetric) {
    for (std::size_t g = 0; g < groups; ++g) {
      if (q.zeros[g] != 8) {
        throw std::invalid_argument(fmt::format(
            "{}: row {} group {} has zero point {}; Q4_0 needs every zero point to be 8 (quantize with --sym)",
            tensor_name, g / q.groups(), g % q.groups(), q.zeros[g]));
      }
    }
  }
  const int offset = q.symmetric ? 8 : 0;
  std::vector<BlockQ4_0> out(groups);
  for (std::size_t b = 0; b < groups; ++b) {
    out[b].d = q.scales[b].bits();
    const std::int16_t* codes = q.codes.data() + b * kGgmlBlock;
    for (int j = 0; j < kGgmlBlock / 2; ++j) {
      out[b].qs[j] = static_cast<std::uint8_t>((codes[j] + offset) | ((codes[j + 16] + offset) << 4));
    }
  }
  return out;
}

std::vector<BlockQ8_0> quantized_to_q8_0(const quant::QuantizedWeights& q, const std::string& tensor_name) {
  check_g32(q, 8, tensor_name, "Q8_0");
  if (!q.symmetric) {
    throw std::invalid_argument(
        fmt::format("{}: asymmetric 8-bit weights do not map onto Q8_0 (symmetric); quantize with --sym", tensor_name));
  }
  std::vector<BlockQ8_0> out(q.scales.size());
  for (std::size_t b = 0; b < out.size(); ++b) {
    out[b].d = q.scales[b].bits();
    for (int j = 0; j < kGgmlBlock; ++j) out[b].qs[j] = static_cast<std::int8_t>(q.codes[b * kGgmlBlock + j]);
  }
  return out;
}

template <typename Block>
std::vector<Block> blocks_from_bytes(std::span<const std::uint8_t> bytes) {
  if (bytes.size() % sizeof(Block) != 0) {
    throw std::invalid_argument(fmt::format("{} bytes is not a whole number of {}-byte blocks", bytes.size(), sizeof(Block)));
  }
  std::vector<Block> out(bytes.size() / sizeof(Block));
  if (!bytes.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());
  return out;
}

template std::vector<BlockQ4_0> blocks_from_bytes<BlockQ4_0>(std::span<const std::uint8_t>);
template std::vector<BlockQ4_1> blocks_from_bytes<BlockQ4_1>(std::span<const std::uint8_t>);
template std::vector<BlockQ8_0> blocks_from_bytes<BlockQ8_0>(std::span<const std::uint8_t>);

}  // namespace mixpe::models
