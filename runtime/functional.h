// The functional executor for LLMs: every linear layer and attention product of a model through
// one design's GemmEngine (its numerics, weight format and K chunking), everything else in FP32.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "models/llm/llm.h"
#include "quant/weights.h"
#include "runtime/engine.h"

namespace mixpe::runtime {

class QuantizedLinears {
 public:
  // `stored`: layers already quantized elsewhere (a model file's stored codes, GPTQ, AWQ); those
  // run with their codes unless the path cannot take them (the INT8 baseline needs symmetric
  // per-channel weights of at most 8 bits and then quantizes the float values its own way).
  QuantizedLinears(const models::LlmWeights& model, GemmEngine engine, bool quantize_lm_head = false,
                   const std::map<std::string, quant::QuantizedWeights>* stored = nullptr);
  // The paper design that runs `path` (design_for), with `config` as its weight format.
  QuantizedLinears(const models::LlmWeights& model, PePath path, const quant::WeightQuantConfig& config,
                   bool quantize_lm_head = false, const std::map<std::string, quant::QuantizedWeights>* stored = nullptr);

  // The backend for models::llm_forward; unknown layers (e.g. a float LM head) run in FP32.
  models::LinearBackend backend() const;
  // Attention products on the array with the KV cache in the design's weight format (as the
  // simulator times them); empty (FP32 attention) on the float path.
  models::ActivationGemm attention() const;

  PePath path() const { return engine_.path(); }
  const GemmEngine& engine() const { return engine_; }
  GemmEngine& engine() { return engine_; }
  const quant::QuantizedWeights* weights(const std::string& name) const;

  // Y = X W^T through the engine, plus the bias in FP32.
  std::vector<float> run(const models::Linear& layer, const std::vector<float>& x, int m) const;

 private:
  GemmEngine engine_;
  std::map<std::string, std::shared_ptr<GemmOperand>> layers_;
};

}  // namespace mixpe::runtime
