// A decoder-only transformer (LLaMA/Mistral/OPT families) as plain weights plus a straight-line
// forward pass whose linear layers are delegated to a backend (float reference or a PE path).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "models/llm/model_config.h"

namespace mixpe::models {

// A linear layer's float weights, N x K row-major (PyTorch nn.Linear layout), optional bias.
struct Linear {
  std::string name;
  int n = 0, k = 0;
  std::vector<float> w;
  std::vector<float> bias;  // empty or n values
};

struct LayerWeights {
  std::vector<float> input_norm, input_norm_bias;  // bias only for LayerNorm
  Linear q, k, v, o;
  std::vector<float> post_norm, post_norm_bias;
  Linear gate, up, down;  // gated MLP (SwiGLU); fc1 = up, fc2 = down otherwise
};

struct LlmWeights {
  ModelConfig config;
  std::vector<float> embed;      // [vocab][hidden]
  std::vector<float> positions;  // OPT learned positions [max_positions][hidden]
  std::vector<LayerWeights> layers;
  std::vector<float> final_norm, final_norm_bias;
  Linear lm_head;

  std::vector<const Linear*> linears() const;  // every linear layer except the LM head
};

// Names and shapes of every layer, no values (loaders fill them).
LlmWeights llm_skeleton(const ModelConfig& config);

// Random weights with trained-model-like statistics: linear weights as synthetic_weights
// (normal, sigma = 1/sqrt(K), 0.1% outliers); norm gains 1 + N(0, 0.05); embeddings N(0, 1).
// Refuses configs over `max_params` linear parameters (whole 7B models take ~27 GB as float).
LlmWeights synthetic_llm_weights(const ModelConfig& config, std::uint64_t seed, long long max_params = 50'000'000);

// Y[m][n] = X[m][k] W^T (+ bias) for one named linear layer.
using LinearBackend = std::function<std::vector<float>(const Linear& layer, const std::vector<float>& x, int m)>;

// The float32 reference backend (Eigen GEMM).
std::vector<float> linear_float(const Linear& layer, const std::vector<float>& x, int m);

// Prefill forward of one sequence: logits [tokens][vocab]. Norms, rotary, softmax and the
// attention products run in FP32 (Eigen); every linear layer goes through `backend`.
std::vector<float> llm_forward(const LlmWeights& weights, const std::vector<int>& tokens, const LinearBackend& backend);

}  // namespace mixpe::models
