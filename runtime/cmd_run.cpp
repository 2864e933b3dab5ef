// `mixpe run`: text generation with a KV cache on the functional executor, greedy or sampled.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "runtime/commands.h"
#include "runtime/model_source.h"

namespace mixpe::runtime {
namespace {

struct RunOptions {
  std::string model = "llama-kjv";
  std::string prompt;
  int max_tokens = 64;
  double temperature = 0.0;  // 0: greedy
  int top_k = 0;
  std::uint64_t seed = 1;
  bool bos = true;
  bool float_attention = false;
  NumericsOptions num;
};

// Greedy argmax, or a sample from softmax(logits / T) restricted to the top k.
int pick(const float* logits, int vocab, const RunOptions& o, std::mt19937_64& rng) {
  int best = 0;
  for (int i = 1; i < vocab; ++i)
    if (logits[i] > logits[best]) best = i;
  if (o.temperature <= 0.0) return best;
  std::vector<int> ids(vocab);
  for (int i = 0; i < vocab; ++i) ids[i] = i;
  const int k = o.top_k > 0 && o.top_k < vocab ? o.top_k : vocab;
  std::partial_sort(ids.begin(), ids.begin() + k, ids.end(), [&](int a, int b) { return logits[a] > logits[b]; });
  std::vector<double> p(k);
  for (int i = 0; i < k; ++i) p[i] = std::exp((static_cast<double>(logits[ids[i]]) - logits[best]) / o.temperature);
  std::discrete_distribution<int> dist(p.begin(), p.end());
  return ids[dist(rng)];
}

}  // namespace

CommandAction add_run_command(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "Generate text with an LLM on the functional executor (any numerics)");
  cmd->add_option("--model", o->model, "Model directory, GGUF/mixpe file or zoo name")->capture_default_str();
  cmd->add_option("--prompt", o->prompt, "Text to continue")->required();
  cmd->add_option("--max-tokens", o->max_tokens, "Tokens to generate")->capture_default_str();
  cmd->add_option("--temperature", o->temperature, "Sampling temperature; 0 = greedy")->capture_default_str();
  cmd->add_option("--top-k", o->top_k, "Sample among the k most likely tokens (0: all)")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Sampling seed")->capture_default_str();
  cmd->add_flag("--float-attention", o->float_attention, "Attention products in FP32 instead of on the array");
  o->num.add_to(cmd);
  return [o]() {
    if (o->max_tokens <= 0) throw std::invalid_argument(fmt::format("--max-tokens = {} must be positive", o->max_tokens));
    if (o->temperature < 0.0) throw std::invalid_argument(fmt::format("--temperature = {} must be >= 0", o->temperature));
    LlmSource src = load_llm_source(o->model);
    if (!src.tokenizer) throw std::runtime_error(fmt::format("{}: no tokenizer (tokenizer.json or GGUF tokenizer metadata)", src.path));
    const models::ModelConfig& c = src.llm.weights.config;
    const GemmEngine engine = o->num.engine();
    const std::unique_ptr<QuantizedLinears> linears = quantize_llm_for(src, engine, o->num, true);
    std::vector<int> prompt;
    if (src.tokenizer->bos_id() >= 0) prompt.push_back(src.tokenizer->bos_id());
    for (int id : src.tokenizer->encode(o->prompt)) prompt.push_back(id);
    if (static_cast<int>(prompt.size()) >= c.max_positions) {
      throw std::invalid_argument(fmt::format("--prompt: {} tokens leave no room in the model's context of {}", prompt.size(), c.max_positions));
    }
    const int budget = std::min(o->max_tokens, c.max_positions - static_cast<int>(prompt.size()));
    fmt::print(stderr, "mixpe: {} with {}\n", src.path, o->num.describe(engine));
    std::mt19937_64 rng(o->seed);
    models::KvCache cache;
    const models::LinearBackend linear = linears->backend();
    const models::ActivationGemm attention = o->float_attention ? nullptr : linears->attention();
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<float> logits = models::llm_forward_step(src.llm.weights, cache, prompt, linear, attention, true);
    const auto t1 = std::chrono::steady_clock::now();
    fmt::print("{}", o->prompt);
    std::fflush(stdout);
    std::vector<int> out;
    for (int i = 0; i < budget; ++i) {
      const int next = pick(logits.data(), c.vocab, *o, rng);
      if (next == src.tokenizer->eos_id()) break;
      out.push_back(next);
      fmt::print("{}", src.tokenizer->decode(std::vector<int>{next}));
      std::fflush(stdout);
      if (i + 1 < budget) logits = models::llm_forward_step(src.llm.weights, cache, {next}, linear, attention, true);
    }
    const auto t2 = std::chrono::steady_clock::now();
    const double prefill = std::chrono::duration<double>(t1 - t0).count(), decode = std::chrono::duration<double>(t2 - t1).count();
    fmt::print("\n");
    fmt::print(stderr, "  prompt {} tokens in {:.3f} s ({:.1f} tokens/s); generated {} tokens in {:.3f} s ({:.1f} tokens/s)\n",
               prompt.size(), prefill, prompt.size() / prefill, out.size(), decode, out.empty() ? 0.0 : out.size() / decode);
    return 0;
  };
}

}  // namespace mixpe::runtime
