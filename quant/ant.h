// ANT (Guo et al., MICRO 2022) 4-bit adaptive numeric types for weights: int, flint and PoT chosen per tensor by MSE.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "quant/activations.h"
#include "quant/float16.h"
#include "quant/gemm_fast.h"
#include "quant/weights.h"

namespace mixpe::quant {

// The 4-bit signed types (docs/numerics.md, "ANT"). The numeric values are the hardware's type
// select encoding (mixpe_ant_pe's type_i).
enum class AntType : std::uint8_t { kInt = 0, kFlint = 1, kPot = 2 };
inline constexpr int kAntTypeCount = 3;
inline constexpr std::array<AntType, kAntTypeCount> kAntTypes = {AntType::kInt, AntType::kFlint, AntType::kPot};

// "int", "flint", "pot".
std::string_view ant_type_name(AntType type);
// Inverse of ant_type_name; throws std::invalid_argument naming the string.
AntType ant_type_from_name(std::string_view name);

// A decoded code: value = mant * 2^shift, the integer mantissa the PE multiplies and the left
// shift it applies to the product. int: mant in [-8, 7], shift 0; flint: |mant| in {0..3},
// shift 0..3; PoT: |mant| in {0, 1}, shift 0..6.
struct AntDecoded {
  int mant = 0;
  int shift = 0;
  int value() const { return mant * (1 << shift); }
};

// Decodes a 4-bit code (0..15; higher bits ignored).
//   int:   two's complement, values -8..7.
//   flint: bit 3 is the sign, bits 2..0 the magnitude m in first-one encoding: m < 4 is the
//          integer m (0..3); 10x is (2 + x) << 1 (4, 6); 110 is 8; 111 is 16.
//   PoT:   bit 3 is the sign, bits 2..0 the exponent field e: e = 0 is 0, else 2^(e - 1) (1..64).
// Codes 1000 of flint and PoT are -0 = 0.
AntDecoded ant_decode(AntType type, int code);
inline int ant_value(AntType type, int code) { return ant_decode(type, code).value(); }
// ant_value of codes 0..15.
std::array<int, 16> ant_value_table(AntType type);
// The distinct representable values in ascending order (the quantization grid).
std::vector<int> ant_grid(AntType type);
// The largest positive value (int 7, flint 16, PoT 64): the scale maps the clip value to it.
int ant_max_value(AntType type);
// The code of the grid value nearest to t; ties go to the larger value (as ANT's quantization
// kernel does), 0 encodes as code 0, values beyond the grid clamp to its ends.
int ant_nearest_code(AntType type, double t);

// How quantize_ant searches. Per output channel and type, the clip value alpha = max|w| * p / 100
// for p = clip_min_percent, + clip_step_percent, ... < clip_max_percent (ANT's defaults, w_low
// 75 and w_up 150), scale = fp16(alpha / ant_max_value(type)) rounded to nearest, the candidate
// of least squared error kept (ties: the smaller p). The type whose summed best errors over the
// tensor is least wins (ties: the earlier in `types`).
struct AntQuantConfig {
  std::vector<AntType> types = {AntType::kInt, AntType::kFlint, AntType::kPot};
  int clip_min_percent = 75;
  int clip_max_percent = 150;
  int clip_step_percent = 1;
  unsigned threads = 0;  // 0: every hardware thread

  // Throws std::invalid_argument naming the field and value.
  void validate() const;
};

// An ANT-quantized N x K weight matrix (row n = output channel): one type for the tensor, an FP16
// scale per output channel: w[n][k] ~= scale[n] * ant_value(type, code[n][k]).
struct AntWeights {
  int n = 0;
  int k = 0;
  AntType type = AntType::kInt;
  std::vector<std::uint8_t> codes;  // [n][k], 4-bit codes 0..15 (one per byte; packing is the loader's business)
  std::vector<Half> scales;         // [n]
  // Mean squared error over the tensor of each type with its best per-channel scales, in
  // kAntTypes order; NaN for a type the search did not try.
  std::array<double, kAntTypeCount> type_mse{};

  int code(int row, int col) const { return codes[static_cast<std::size_t>(row) * k + col]; }
  int value(int row, int col) const { return ant_value(type, code(row, col)); }
  double dequantized(int row, int col) const { return scales[row].to_double() * value(row, col); }
};

// ANT's weight quantizer (see AntQuantConfig). All-zero channels get scale 0 and code 0. NaN/Inf
// weights or a max-abs scale that overflows FP16 throw std::invalid_argument naming the tensor,
// row and value.
AntWeights quantize_ant(std::span<const float> w, int n, int k, const AntQuantConfig& cfg = {},
                        const std::string& tensor_name = "weight");

// The N x K dequantized matrix, exact in double.
std::vector<double> dequantize_ant_f64(const AntWeights& w);
// Sizes and code range; throws std::invalid_argument naming the tensor.
void validate_ant_weights(const AntWeights& w, const std::string& tensor_name);

// ANT PE GEMM, INT8 per-token activations: int32 acc = sum_k (mant * x8) << shift over the decoded
// weights, then y = fp32(fp32(fp32(acc) * s_w) * s_x), the order of gemm_int8_ref. Throws
// std::invalid_argument when K differs.
std::vector<float> gemm_ant_ref(const Int8Activations& x, const AntWeights& w);

// Weights decoded once for the fast kernel: the decoded integers (|v| <= 64) as symmetric 8-bit
// per-channel codes with the same scales, prepared for the INT8 kernel. Movable, not copyable.
class PreparedAntWeights {
 public:
  explicit PreparedAntWeights(const AntWeights& w);
  const QuantizedWeights& decoded() const { return *decoded_; }
  const PreparedWeights& prepared() const { return prepared_; }

 private:
  std::unique_ptr<QuantizedWeights> decoded_;  // a stable address: prepared_.source points here
  PreparedWeights prepared_;
};

// Fast ANT GEMM (SIMD, multithreaded): the INT8 kernel on the decoded weights; bit-equal to
// gemm_ant_ref. `threads` = 0 uses every hardware thread.
std::vector<float> gemm_ant(const Int8Activations& x, const PreparedAntWeights& w, unsigned threads = 0);
// Convenience: prepares the weights on every call.
std::vector<float> gemm_ant(const Int8Activations& x, const AntWeights& w, unsigned threads = 0);

}  // namespace mixpe::quant
