// Perplexity with a sliding window on the functional executor.
#include "runtime/eval.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace mixpe::runtime {

double token_nll(const float* logits, int vocab, int target) {
  double mx = logits[0];
  for (int i = 1; i < vocab; ++i) mx = std::max(mx, static_cast<double>(logits[i]));
  double sum = 0.0;
  for (int i = 0; i < vocab; ++i) sum += std::exp(static_cast<double>(logits[i]) - mx);
  return mx + std::log(sum) - static_cast<double>(logits[target]);
}

PerplexityResult evaluate_perplexity(const models::LlmWeights& model, const QuantizedLinears& linears,
                                     const std::vector<int>& tokens_in, const PerplexityOptions& opts, const EvalProgress& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  const models::ModelConfig& c = model.config;
  PerplexityResult r;
  r.ctx = opts.ctx > 0 ? opts.ctx : c.max_positions;
  r.stride = opts.stride > 0 ? opts.stride : r.ctx;
  if (r.ctx > c.max_positions) {
    throw std::invalid_argument(fmt::format("--ctx = {} exceeds the model's context (max_position_embeddings = {})", r.ctx, c.max_positions));
  }
  if (r.ctx < 2) throw std::invalid_argument(fmt::format("--ctx = {} must be at least 2", r.ctx));
  if (r.stride > r.ctx) throw std::invalid_argument(fmt::format("--stride = {} exceeds --ctx = {}", r.stride, r.ctx));
  r.tokens = tokens_in;
  if (opts.max_tokens > 0 && static_cast<std::int64_t>(r.tokens.size()) > opts.max_tokens) r.tokens.resize(opts.max_tokens);
  const int n = static_cast<int>(r.tokens.size());
  if (n < 2) throw std::invalid_argument(fmt::format("the text has {} tokens; perplexity needs at least 2", n));

  std::vector<int> starts;
  for (int s = 0;; s += r.stride) {
    starts.push_back(s);
    if (s + r.ctx >= n) break;
  }
  r.windows = static_cast<int>(starts.size());
  const models::LinearBackend linear = linears.backend();
  const models::ActivationGemm attention = opts.hardware_attention ? linears.attention() : nullptr;
  int scored_until = 1;  // positions below this already have an NLL (position 0 has no context)
  for (std::size_t w = 0; w < starts.size(); ++w) {
    const int s = starts[w], e = std::min(n, s + r.ctx);
    const std::vector<int> window(r.tokens.begin() + s, r.tokens.begin() + e);
    models::KvCache cache;
    const std::vector<float> logits = models::llm_forward_step(model, cache, window, linear, attention);
    for (int p = std::max(scored_until, s + 1); p < e; ++p) {
      r.scored.push_back(p);
      r.nll.push_back(token_nll(logits.data() + static_cast<std::size_t>(p - 1 - s) * c.vocab, c.vocab, r.tokens[p]));
    }
    scored_until = std::max(scored_until, e);
    if (progress) progress(static_cast<std::int64_t>(w + 1), static_cast<std::int64_t>(starts.size()));
  }
  double sum = 0.0;
  for (double v : r.nll) sum += v;
  r.mean_nll = sum / static_cast<double>(r.nll.size());
  r.perplexity = std::exp(r.mean_nll);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

nlohmann::json perplexity_json(const PerplexityResult& r, bool with_tokens) {
  nlohmann::json j = {{"perplexity", r.perplexity}, {"mean_nll", r.mean_nll},   {"scored_tokens", r.nll.size()},
                      {"text_tokens", r.tokens.size()}, {"ctx", r.ctx},         {"stride", r.stride},
                      {"windows", r.windows},         {"seconds", r.seconds}};
  if (with_tokens) {
    j["token_ids"] = r.tokens;
    j["scored_positions"] = r.scored;
    j["nll"] = r.nll;
  }
  return j;
}

}  // namespace mixpe::runtime
