// The functional executor: a model's linear layers quantized once and run through one PE type's
// bit-exact fast kernel, everything else in FP32.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "models/llm/llm.h"
#include "quant/gemm_fast.h"
#include "quant/weights.h"

namespace mixpe::runtime {

enum class PePath { kFloat, kMixpeInt8, kMixpeFp16, kMixpeBf16, kFp16, kInt8 };

const char* to_string(PePath p);
// Throws std::invalid_argument listing the known names.
PePath parse_pe_path(const std::string& name);

// Every linear layer of a model, quantized for one PE path. The INT8 baseline always uses its
// own 8-bit symmetric per-channel weights; the other paths use `config`.
class QuantizedLinears {
 public:
  // `stored`: layers a model file already holds quantized (models::LoadedLlm::quantized); those
  // run with their stored codes unless the INT8 baseline cannot take them (it needs symmetric
  // per-channel weights of at most 8 bits and then quantizes the float values its own way).
  QuantizedLinears(const models::LlmWeights& model, PePath path, const quant::WeightQuantConfig& config,
                   bool quantize_lm_head = false, const std::map<std::string, quant::QuantizedWeights>* stored = nullptr);

  // The backend for models::llm_forward; unknown layers (e.g. a float LM head) run in FP32.
  models::LinearBackend backend() const;
  PePath path() const { return path_; }
  const quant::QuantizedWeights* weights(const std::string& name) const;

  // Y = X W^T through this path's kernel (activation quantization included), plus the bias in FP32.
  std::vector<float> run(const models::Linear& layer, const std::vector<float>& x, int m) const;

 private:
  struct Entry {
    quant::QuantizedWeights weights;
    quant::PreparedWeights prepared;
  };
  PePath path_;
  std::map<std::string, std::unique_ptr<Entry>> layers_;  // stable addresses: prepared points at weights
};

}  // namespace mixpe::runtime
