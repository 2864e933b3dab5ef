// Model-level calibration on a tiny random LLaMA: AWQ folds keep the float function, every method
// quantizes every linear layer, and calibrated methods beat RTN on held-out tokens.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "models/llm/calibrate.h"
#include "models/llm/llm.h"
#include "models/llm/model_config.h"
#include "models/synthetic.h"

namespace mixpe::models {
namespace {

// The tiny preset with a few activation outlier channels (norm gains and embedding columns
// boosted), so AWQ has something to find.
LlmWeights tiny_model(int kv_heads) {
  ModelConfig c = load_model_config("tiny");
  c.kv_heads = kv_heads;
  LlmWeights w = synthetic_llm_weights(c, 11);
  for (int ch : {7, 50, 99}) {
    for (LayerWeights& l : w.layers) {
      l.input_norm[ch] *= 8.0f;
      l.post_norm[ch] *= 8.0f;
    }
    for (int t = 0; t < c.vocab; ++t) w.embed[static_cast<std::size_t>(t) * c.hidden + ch] *= 4.0f;
  }
  return w;
}

std::vector<std::vector<int>> sequences(int count, int length, std::uint64_t seed, int vocab) {
  Rng rng(seed);
  std::vector<std::vector<int>> out(count, std::vector<int>(length));
  for (auto& s : out)
    for (int& t : s) t = static_cast<int>(rng.next_u64() % vocab);
  return out;
}

double rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double num = 0.0, den = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    num += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    den += static_cast<double>(a[i]) * a[i];
  }
  return std::sqrt(num / den);
}

// Logits with every quantized layer run on its dequantized weights (float elsewhere).
std::vector<float> quantized_logits(const LlmWeights& w, const QuantizedLlm& q, const std::vector<int>& tokens) {
  std::map<std::string, Linear> deq;
  for (const auto& [name, qw] : q.layers) deq[name].w = quant::dequantize_weights_f32(qw);
  return llm_forward(w, tokens, [&](const Linear& l, const std::vector<float>& x, int m) {
    auto it = deq.find(l.name);
    if (it == deq.end()) return linear_float(l, x, m);
    Linear copy = l;
    copy.w = it->second.w;
    return linear_float(copy, x, m);
  });
}

TEST(Calibrate, AwqFoldsKeepTheFloatModelOutputs) {
  for (int kv_heads : {2, 4}) {
    LlmWeights w = tiny_model(kv_heads);
    const LlmWeights original = w;
    const auto calib = sequences(4, 48, 1, w.config.vocab);
    const QuantizedLlm q = quantize_llm(w, QuantMethod::kAwq, {4, 128, false}, calib);
    // The scales are not trivial...
    double max_dev = 0.0;
    for (const auto& [name, s] : q.awq_scales)
      for (float v : s) max_dev = std::max(max_dev, std::fabs(std::log(static_cast<double>(v))));
    EXPECT_GT(max_dev, std::log(1.5));
    // ...and the folded float model computes the same logits.
    const std::vector<int> probe = sequences(1, 40, 99, w.config.vocab)[0];
    const double d = rel_diff(llm_forward(original, probe, linear_float), llm_forward(w, probe, linear_float));
    EXPECT_LT(d, 1e-5) << "kv_heads " << kv_heads;
    const bool o_scaled = q.awq_scales.contains("layers.0.o_proj");
    EXPECT_EQ(o_scaled, kv_heads == w.config.heads);
    EXPECT_TRUE(q.awq_scales.contains("layers.1.down_proj"));
    EXPECT_EQ(q.awq_scales.at("layers.0.q_proj"), q.awq_scales.at("layers.0.v_proj"));
  }
}

TEST(Calibrate, EveryMethodQuantizesEveryLinearAndCalibratedOnesBeatRtn) {
  const quant::WeightQuantConfig cfg{3, 128, false};
  const LlmWeights base = tiny_model(2);
  const auto calib = sequences(6, 64, 2, base.config.vocab);
  const auto held_out = sequences(3, 64, 3, base.config.vocab);
  std::map<std::string, double> err;
  for (QuantMethod m : {QuantMethod::kRtn, QuantMethod::kGptq, QuantMethod::kAwq}) {
    LlmWeights w = base;
    int calls = 0, last_done = 0, last_total = -1;
    const QuantizedLlm q = quantize_llm(w, m, cfg, calib, {}, [&](const std::string&, int done, int total) {
      ++calls;
      last_done = done;
      last_total = total;
    });
    EXPECT_GT(calls, 0);
    EXPECT_EQ(last_done, last_total);
    ASSERT_EQ(q.layers.size(), base.linears().size()) << to_string(m);
    for (const Linear* l : base.linears()) {
      ASSERT_TRUE(q.layers.contains(l->name)) << l->name;
      const quant::QuantizedWeights& qw = q.layers.at(l->name);
      EXPECT_EQ(qw.n, l->n);
      EXPECT_EQ(qw.k, l->k);
      EXPECT_NO_THROW(quant::validate_quantized_weights(qw, l->name));
    }
    EXPECT_FALSE(q.layers.contains(base.lm_head.name));
    double e = 0.0;
    for (const auto& seq : held_out) e += rel_diff(llm_forward(base, seq, linear_float), quantized_logits(w, q, seq));
    err[to_string(m)] = e / held_out.size();
  }
  // Measured (W3 g128): see docs/quantization-methods.md; demand a 10% lower logit error.
  EXPECT_LT(err["gptq"], 0.9 * err["rtn"]) << err["gptq"] << " vs " << err["rtn"];
  EXPECT_LT(err["awq"], 0.9 * err["rtn"]) << err["awq"] << " vs " << err["rtn"];
  std::printf("held-out logit rel error W3 g128: rtn %.4f gptq %.4f awq %.4f\n", err["rtn"], err["gptq"], err["awq"]);
}

TEST(Calibrate, OptionsAndErrors) {
  LlmWeights w = tiny_model(2);
  const auto calib = sequences(2, 16, 4, w.config.vocab);
  CalibrateOptions opts;
  opts.quantize_lm_head = true;
  opts.sequential = false;
  opts.max_rows = 20;
  const QuantizedLlm q = quantize_llm(w, QuantMethod::kGptq, {4, 128, true}, calib, opts);
  EXPECT_TRUE(q.layers.contains(w.lm_head.name));
  EXPECT_THROW(quantize_llm(w, QuantMethod::kGptq, {4, 128, false}, {}), std::invalid_argument);
  EXPECT_THROW(quantize_llm(w, QuantMethod::kAwq, {4, 128, false}, {{1, 2, w.config.vocab}}), std::invalid_argument);
  EXPECT_EQ(parse_quant_method("awq"), QuantMethod::kAwq);
  EXPECT_THROW(parse_quant_method("smoothquant"), std::invalid_argument);
}

}  // namespace
}  // namespace mixpe::models
