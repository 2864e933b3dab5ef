// Group-quantized weight matrices: round-to-nearest quantizer, dequantization, validation.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "quant/float16.h"

namespace mixpe::quant {

// How a weight matrix is quantized. Groups run along K (the input dimension).
struct WeightQuantConfig {
  int bits = 4;            // 2, 3, 4 or 8
  int group_size = 128;    // divides K; -1 means one group per output channel (g = K)
  bool symmetric = false;  // signed codes and z = 0 instead of unsigned codes and a zero point
  // Per group, search shrunken ranges/scales for the one with the smallest squared error
  // (the plain round-to-nearest choice is always a candidate, so never worse than plain RTN).
  bool clip_search = false;

  // Throws std::invalid_argument naming the offending field if bits or group size are unsupported
  // or the group size does not divide k.
  void validate(int k, const std::string& tensor_name) const;
  int effective_group(int k) const { return group_size == -1 ? k : group_size; }
  int code_min() const { return symmetric ? -(1 << (bits - 1)) : 0; }
  int code_max() const { return symmetric ? (1 << (bits - 1)) - 1 : (1 << bits) - 1; }
};

// A quantized N x K weight matrix (row n = output channel, PyTorch nn.Linear layout).
// w[n][k] ~= scale[n][G] * (code[n][k] - zero[n][G]) with G = k / group_size.
struct QuantizedWeights {
  int n = 0;
  int k = 0;
  int bits = 4;
  int group_size = 128;  // always the effective size (K for per-channel)
  bool symmetric = false;
  std::vector<std::int16_t> codes;  // [n][k]; unsigned in [0, 2^b-1] or signed in [-2^(b-1), 2^(b-1)-1]
  std::vector<Half> scales;         // [n][groups]
  std::vector<std::uint8_t> zeros;  // [n][groups]; all zero when symmetric
  // Optional float group offsets (GGUF Q4_1 style): when present, w = s * q + min with unsigned
  // codes, and every zero point is 0.
  std::vector<Half> mins;           // [n][groups] or empty

  int groups() const { return k / group_size; }
  bool has_mins() const { return !mins.empty(); }
  int code(int row, int col) const { return codes[static_cast<std::size_t>(row) * k + col]; }
  Half scale(int row, int group) const { return scales[static_cast<std::size_t>(row) * groups() + group]; }
  int zero(int row, int group) const { return zeros[static_cast<std::size_t>(row) * groups() + group]; }
  Half min(int row, int group) const { return mins[static_cast<std::size_t>(row) * groups() + group]; }
  // Dequantized value s * (q - z), or s * q + min: exact in double (an 11-bit significand times a
  // 9-bit integer; with a min, exact unless the two terms are more than 2^38 apart).
  double dequantized(int row, int col) const {
    const int g = col / group_size;
    if (has_mins()) return scale(row, g).to_double() * code(row, col) + min(row, g).to_double();
    return scale(row, g).to_double() * (code(row, col) - zero(row, g));
  }
};

// Round-to-nearest group quantization of an N x K row-major float matrix.
//
// Asymmetric: per group, lo = min(min w, 0), hi = max(max w, 0); scale = hi - lo over 2^b - 1,
// rounded *up* to FP16 so the grid covers [lo, hi]; z = round(-lo / s); q = clamp(round(w / s) + z).
// Symmetric (full signed range, as llama.cpp's Q4_0): the group's value of largest magnitude, e,
// maps to the code -2^(b-1): s = -e / 2^(b-1) rounded to the nearest FP16 (so s is *negative*
// when e > 0); q = clamp(round(w / s)). Values of the other sign reach at most 2^(b-1)(1 + 2^-11)
// and clamp to 2^(b-1) - 1, an error of at most |s| (1 + 2^-8); every other error is <= |s| / 2.
// With cfg.clip_search, each group takes the candidate (see choose_group_params) of least
// squared error instead.
// All-zero groups get scale 0 and codes equal to the zero point, so they dequantize exactly to 0.
// NaN/Inf weights, a scale that overflows FP16, unsupported bits or a group size that does
// not divide K throw std::invalid_argument naming the tensor, shape and value.
QuantizedWeights quantize_weights_rtn(std::span<const float> w, int n, int k, const WeightQuantConfig& cfg,
                                      const std::string& tensor_name = "weight");

// One group's quantization parameters: w ~= scale * (code - zero).
struct GroupQuantParams {
  Half scale = Half::from_bits(0);
  int zero = 0;
};

// The parameters quantize_weights_rtn uses for one group of values (plain rule, or the least
// squared error candidate when cfg.clip_search). Candidates: asymmetric, every (lo * a, hi * b)
// with a, b in {1, 0.95, ..., 0.5} (121 ranges); symmetric, magnitudes r * max|w| / 2^(b-1) with
// r in {1.15, 1.14, ..., 0.40} and both signs of the scale. Throws std::invalid_argument naming
// `where` if the plain scale overflows FP16. Values must be finite.
GroupQuantParams choose_group_params(std::span<const double> group, const WeightQuantConfig& cfg,
                                     const std::string& where);
// clamp(round(w / s) + z) with the config's code range (z for an all-zero scale).
int quantize_value(double w, const GroupQuantParams& p, const WeightQuantConfig& cfg);
// Sum of squared errors of one group quantized with p.
double group_squared_error(std::span<const double> group, const GroupQuantParams& p, const WeightQuantConfig& cfg);

// Dequantize to an N x K row-major matrix of doubles (exact) or floats (rounded to nearest).
std::vector<double> dequantize_weights_f64(const QuantizedWeights& q);
std::vector<float> dequantize_weights_f32(const QuantizedWeights& q);

// Checks every structural invariant (sizes, code ranges, zero ranges); throws on violation.
void validate_quantized_weights(const QuantizedWeights& q, const std::string& tensor_name);

}  // namespace mixpe::quant
