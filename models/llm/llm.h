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

// Y[m][n] = X[m][k] W[n][k]^T where W is itself an activation (the KV cache): the attention score
// (X = one head's queries, W = its cached keys) and value (X = probabilities, W = cached values
// transposed) products. `name` is "layers.L.attn_score" or "layers.L.attn_value".
using ActivationGemm = std::function<std::vector<float>(const std::string& name, const std::vector<float>& x, int m,
                                                        const std::vector<float>& w, int n, int k)>;

// The key/value cache of one sequence: per layer [positions][kv_heads * head_dim] FP32 rows.
struct KvCache {
  int length = 0;
  std::vector<std::vector<float>> k, v;
};

// Runs `tokens` at positions cache.length, cache.length + 1, ... appending their keys and values
// to `cache`: a prefill when the cache is empty, a decode step for one token. Returns the logits of
// every new token ([tokens][vocab]) or, with `last_logits_only`, of the last one. Norms, rotary and
// softmax run in FP32; every linear layer goes through `linear`; the attention products through
// `attention` (FP32 when empty). Throws std::invalid_argument on tokens outside the vocabulary or
// a context beyond max_position_embeddings.
std::vector<float> llm_forward_step(const LlmWeights& weights, KvCache& cache, const std::vector<int>& tokens,
                                    const LinearBackend& linear, const ActivationGemm& attention = nullptr,
                                    bool last_logits_only = false);

// Prefill of one sequence from an empty cache: logits [tokens][vocab].
std::vector<float> llm_forward(const LlmWeights& weights, const std::vector<int>& tokens, const LinearBackend& backend,
                               const ActivationGemm& attention = nullptr);

}  // namespace mixpe::models
