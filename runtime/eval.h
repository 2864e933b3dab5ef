// Model quality on the functional executor: LLM perplexity over a text and neural-operator
// relative L2 error over a dataset, for any design's numerics.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "models/llm/llm.h"
#include "runtime/functional.h"

namespace mixpe::runtime {

// Called as (done, total) while an evaluation runs.
using EvalProgress = std::function<void(std::int64_t done, std::int64_t total)>;

struct PerplexityOptions {
  int ctx = 0;      // window length in tokens; 0: the model's max_position_embeddings
  int stride = 0;   // window step; 0: ctx (non-overlapping windows)
  std::int64_t max_tokens = 0;  // evaluate at most this many tokens of the text; 0: all
  bool hardware_attention = true;  // attention products on the array (KV in the weight format)
};

struct PerplexityResult {
  double perplexity = 0.0;       // exp(mean NLL)
  double mean_nll = 0.0;         // nats per token
  std::vector<int> tokens;       // the evaluated text's token ids
  std::vector<int> scored;       // positions in `tokens` whose NLL was scored
  std::vector<double> nll;       // per scored position, nats
  int ctx = 0, stride = 0, windows = 0;
  double seconds = 0.0;
};

// Sliding-window perplexity: window w covers tokens [w*stride, w*stride + ctx); the first window
// scores every position after its first token, later windows only the positions no earlier window
// scored (each with the window's preceding tokens as context). Throws std::invalid_argument when
// the text has fewer than 2 tokens or ctx exceeds the model's context.
PerplexityResult evaluate_perplexity(const models::LlmWeights& model, const QuantizedLinears& linears,
                                     const std::vector<int>& tokens, const PerplexityOptions& opts,
                                     const EvalProgress& progress = nullptr);

// Negative log-likelihood of `target` under logits (log-softmax in double).
double token_nll(const float* logits, int vocab, int target);

nlohmann::json perplexity_json(const PerplexityResult& r, bool with_tokens);

}  // namespace mixpe::runtime
