// Model-level weight quantization with calibration data: RTN, GPTQ or AWQ for every linear layer
// of an LLM, with activations collected by running the float forward pass.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "models/llm/llm.h"
#include "quant/awq.h"
#include "quant/gptq.h"
#include "quant/weights.h"

namespace mixpe::models {

enum class QuantMethod { kRtn, kGptq, kAwq };

const char* to_string(QuantMethod m);
// "rtn", "gptq" or "awq"; throws std::invalid_argument listing them.
QuantMethod parse_quant_method(const std::string& name);

struct CalibrateOptions {
  quant::GptqOptions gptq;
  quant::AwqOptions awq;
  // Each layer's calibration inputs come from the model whose earlier layers are already
  // quantized (GPTQ: every sub-layer group, q/k/v -> o -> gate/up -> down, sees the quantized
  // outputs of the groups before it; AWQ: every decoder layer sees the quantized earlier decoder
  // layers). false: every layer sees the float model's activations.
  bool sequential = true;
  bool quantize_lm_head = false;
  long long max_rows = 8192;  // calibration rows (tokens) accumulated per layer; <= 0: no cap
};

// Called after each calibration stage: what was done, stages done, stages in total.
using CalibrateProgress = std::function<void(const std::string& stage, int done, int total)>;

struct QuantizedLlm {
  std::map<std::string, quant::QuantizedWeights> layers;   // every linear (and the LM head if asked)
  std::map<std::string, std::vector<float>> awq_scales;    // AWQ: per scaled layer, its input scales s
  std::vector<std::string> awq_unscaled;                   // AWQ: layers left unscaled (no foldable op before them)
};

// Quantizes every linear layer of `weights` with `method` and `cfg`. RTN ignores the calibration
// sequences; GPTQ and AWQ need at least one (token ids within the vocabulary).
//
// AWQ modifies `weights` in place: every scaled layer's columns are multiplied by s and 1/s is
// folded into the op before it, so the float model computes the same function:
//   q/k/v (shared s)   -> input norm gain (and LayerNorm bias)
//   gate/up (shared s) -> post-attention norm gain (and bias)
//   down               -> up's output rows (and bias); only for gated MLPs or ReLU (1/s commutes)
//   o                  -> v's output rows; only when kv_heads == heads (with grouped-query
//                         attention one v row feeds several o inputs, so o stays unscaled)
//   LM head (if asked) -> final norm gain
// GPTQ and RTN leave `weights` unchanged.
QuantizedLlm quantize_llm(LlmWeights& weights, QuantMethod method, const quant::WeightQuantConfig& cfg,
                          const std::vector<std::vector<int>>& calib_sequences, const CalibrateOptions& opts = {},
                          const CalibrateProgress& progress = {});

}  // namespace mixpe::models
