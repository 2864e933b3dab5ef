// The functional executor's GEMM engine: Y = X W^T computed the way a design's array computes it —
// its PE numerics, its weight format (K zero-padded to whole groups), activation quantization as
// its own step, and the mapper's K chunks accumulated in FP32 in chunk order.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "quant/activations.h"
#include "quant/gemm_fast.h"
#include "quant/weights.h"
#include "sim/config.h"

namespace mixpe::runtime {

enum class PePath { kFloat, kMixpeInt8, kMixpeFp16, kMixpeBf16, kFp16, kInt8, kBitFusion, kAnt };

const char* to_string(PePath p);
// Throws std::invalid_argument listing the known names.
PePath parse_pe_path(const std::string& name);
// The numerics a design's array runs (pe_type x act_type).
PePath pe_path_of(const sim::AcceleratorConfig& hw);
// The paper design whose array runs `path` (mixpe-int8: mixpe_w4a8_64x64, mixpe-fp16/bf16:
// mixpe_w4a16_32x32, fp16: fp16_32x28, int8: int8_32x32, bitfusion: bitfusion_32x40, ant:
// ant_32x32), with the weight format overridden by `weights` (bits, group, signedness; only the
// bits for bitfusion, which is symmetric per-channel; none for int8 and ant). Not defined for kFloat.
sim::AcceleratorConfig design_for(PePath path, const quant::WeightQuantConfig& weights);

// A weight operand in the design's format. `q.k` is K padded up to whole groups; `k` the logical K.
struct GemmOperand {
  std::string name;
  int n = 0, k = 0;
  quant::QuantizedWeights q;
  int stored_bits = 0;  // code width in memory when it differs from q.bits (ANT: 4-bit codes, q the decoded values)
  int bits() const { return stored_bits > 0 ? stored_bits : q.bits; }  // the code width in memory
  std::vector<float> w;  // float path only: the float weights, N x K

  // Per K chunk: the weights of columns [k0, k0 + tk) prepared for the kernels (built on first use).
  struct Chunk {
    int k0 = 0;
    quant::QuantizedWeights q;
    quant::PreparedWeights prepared;
  };
  const std::vector<std::unique_ptr<Chunk>>& chunks(int tk, PePath path) const;

 private:
  mutable std::mutex mu_;
  mutable std::map<int, std::vector<std::unique_ptr<Chunk>>> chunks_;
};

// One GEMM as the engine ran it, for cross-checks against the cycle-level model.
struct GemmCall {
  std::string name;
  int m = 0;
  quant::QuantizedWeights w;  // a copy: operands made during a forward (the KV cache) do not outlive it
  int stored_bits = 0;        // GemmOperand::stored_bits (ANT's 4-bit types: w holds the decoded values)
  int bits() const { return stored_bits > 0 ? stored_bits : w.bits; }  // the code width in memory
  int group = 0;  // the instruction group: the weights' group, or -1 per-channel
  int tk = 0;     // K chunk of the mapping
  // The activations as the array receives them (one of them, by path), K padded.
  std::optional<quant::Int8Activations> x8;
  std::vector<quant::Half> x16;    // fp16 and mixpe-fp16 paths
  std::vector<quant::BFloat16> xbf;  // mixpe-bf16 path
  std::vector<float> y;  // [m][n], the engine's result (before any bias)
};

class GemmEngine {
 public:
  // The float reference: W in FP32, Eigen GEMM.
  GemmEngine() = default;
  // A design: numerics from its PE and activation types, weight format from its weight keys,
  // K chunks from mapping each GEMM onto it.
  explicit GemmEngine(const sim::AcceleratorConfig& hw, bool clip_search = false);

  PePath path() const { return path_; }
  const quant::WeightQuantConfig& weight_config() const { return wq_; }
  const sim::AcceleratorConfig* design() const { return hw_ ? &*hw_ : nullptr; }

  // Quantizes N x K float weights for this design (RTN, K zero-padded to whole groups; ANT: its type
  // and clip search, quant::quantize_ant); `bits` > 0 gives the operand a code width of its own
  // (the design's otherwise; 8 on ANT: its int8 type, RTN).
  std::shared_ptr<GemmOperand> quantize(std::span<const float> w, int n, int k, const std::string& name, int bits = 0) const;
  // Adopts weights quantized elsewhere (GPTQ, AWQ, a model file); checks they suit the path.
  std::shared_ptr<GemmOperand> adopt(quant::QuantizedWeights q, const std::string& name) const;
  // Empty when adopt() takes `q`; otherwise why not (ANT quantizes to its own types only).
  std::string adopt_refusal(const quant::QuantizedWeights& q) const;

  // Y[m][n] = X[m][k] W^T as the design computes it. Throws std::invalid_argument on a shape mismatch.
  std::vector<float> run(const GemmOperand& w, std::span<const float> x, int m) const;

  // Called after every run() (not thread-safe: set before running).
  void set_observer(std::function<void(const GemmCall&)> f) { observer_ = std::move(f); }

 private:
  int instruction_group(int k_padded) const;
  bool per_channel() const;  // the PE reduces per-channel weights (int8, bitfusion, ant)
  int k_chunk(const GemmOperand& w, int m) const;

  PePath path_ = PePath::kFloat;
  quant::WeightQuantConfig wq_{};
  bool clip_search_ = false;
  std::optional<sim::AcceleratorConfig> hw_;
  std::function<void(const GemmCall&)> observer_;
  // (m, n, k, group, weight bits) -> the mapper's K chunk; shared by copies of the engine (same design).
  struct TkCache {
    std::mutex mu;
    std::map<std::tuple<int, int, int, int, int>, int> tk;
  };
  std::shared_ptr<TkCache> tk_cache_ = std::make_shared<TkCache>();
};

// Columns [k0, k0 + tk) of quantized weights / activations (tk a multiple of the group size, or
// the whole K of a per-channel operand, whose scales then apply to the slice).
quant::QuantizedWeights slice_weights(const quant::QuantizedWeights& w, int k0, int tk);
quant::Int8Activations slice_activations(const quant::Int8Activations& x, int k0, int tk);
template <typename T>
std::vector<T> slice_columns(std::span<const T> x, int m, int k, int k0, int tk) {
  std::vector<T> out(static_cast<std::size_t>(m) * tk);
  for (int r = 0; r < m; ++r)
    for (int j = 0; j < tk; ++j) out[static_cast<std::size_t>(r) * tk + j] = x[static_cast<std::size_t>(r) * k + k0 + j];
  return out;
}

}  // namespace mixpe::runtime
