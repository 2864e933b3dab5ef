// The FP32 transformer forward pass: causal, deterministic, and its GEMM matches a plain loop.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "models/io/model_file.h"
#include "models/io/safetensors.h"
#include "models/llm/llm.h"
#include "models/llm/llm_loader.h"
#include "models/llm/model_config.h"
#include "models/synthetic.h"

namespace mixpe::models {
namespace {

TEST(Llm, LinearFloatMatchesAPlainDoubleLoop) {
  Rng rng(3);
  Linear l;
  l.name = "probe";
  l.n = 7;
  l.k = 33;
  l.w = synthetic_weights(l.n, l.k, 3);
  l.bias.assign(l.n, 0.5f);
  std::vector<float> x(5 * 33);
  for (float& v : x) v = static_cast<float>(rng.normal());
  const std::vector<float> y = linear_float(l, x, 5);
  for (int r = 0; r < 5; ++r) {
    for (int c = 0; c < l.n; ++c) {
      double ref = 0.5, mag = 0.5;
      for (int j = 0; j < l.k; ++j) {
        ref += static_cast<double>(x[r * l.k + j]) * l.w[c * l.k + j];
        mag += std::fabs(static_cast<double>(x[r * l.k + j]) * l.w[c * l.k + j]);
      }
      // Any FP32 summation order: |err| <= gamma_{K+1} * sum |terms| (Higham 3.1).
      const double u = 0x1p-24, bound = (l.k + 1) * u / (1 - (l.k + 1) * u) * mag;
      EXPECT_LE(std::fabs(y[r * l.n + c] - ref), bound) << r << "," << c;
    }
  }
  EXPECT_THROW(linear_float(l, std::vector<float>(10), 1), std::invalid_argument);
}

TEST(Llm, ForwardIsCausal) {
  // Logits at position t depend on tokens 0..t only, for every family the forward supports.
  for (const char* name : {"tiny"}) {
    const LlmWeights w = synthetic_llm_weights(load_model_config(name), 1);
    const std::vector<int> a = {1, 5, 9, 200, 3, 77, 12, 0};
    std::vector<int> b = a;
    b[5] = 400;
    b[7] = 401;
    const std::vector<float> la = llm_forward(w, a, linear_float), lb = llm_forward(w, b, linear_float);
    const int vocab = w.config.vocab;
    for (int t = 0; t < 8; ++t) {
      double diff = 0.0;
      for (int v = 0; v < vocab; ++v) diff += std::fabs(la[t * vocab + v] - lb[t * vocab + v]);
      if (t < 5) {
        EXPECT_EQ(diff, 0.0) << "position " << t << " saw a later token";
      } else {
        EXPECT_GT(diff, 0.0) << "position " << t << " ignored its own token";
      }
    }
  }
}

TEST(Llm, OptFamilyRunsWithLayerNormBiasesAndLearnedPositions) {
  ModelConfig c = load_model_config("tiny");
  c.family = ModelFamily::kOpt;
  c.gated_mlp = false;
  c.rotary = false;
  c.linear_bias = true;
  c.norm = NormKind::kLayerNorm;
  c.activation = ActivationKind::kRelu;
  c.kv_heads = c.heads;
  const LlmWeights w = synthetic_llm_weights(c, 2);
  EXPECT_FALSE(w.positions.empty());
  EXPECT_EQ(w.linears().size(), static_cast<std::size_t>(6 * c.layers));
  const std::vector<float> logits = llm_forward(w, {3, 1, 4, 1, 5}, linear_float);
  ASSERT_EQ(logits.size(), static_cast<std::size_t>(5 * c.vocab));
  for (float v : logits) ASSERT_TRUE(std::isfinite(v));
}

TEST(Llm, RejectsBadTokensAndHugeModels) {
  const LlmWeights w = synthetic_llm_weights(load_model_config("tiny"), 1);
  EXPECT_THROW(llm_forward(w, {1, 99999}, linear_float), std::invalid_argument);
  EXPECT_THROW(llm_forward(w, {}, linear_float), std::invalid_argument);
  EXPECT_THROW(synthetic_llm_weights(load_model_config("llama-2-7b"), 1), std::invalid_argument);
}

}  // namespace
}  // namespace mixpe::models

// The trained zoo model: our FP32 forward pass (weights from model.safetensors, config from
// config.json) reproduces the logits PyTorch computed in float64 for the first 64 held-out tokens.
namespace mixpe::models {
namespace {

TEST(LlmZoo, ForwardMatchesStoredPyTorchLogits) {
  const std::string dir = std::string(MIXPE_TEST_ZOO_DIR) + "/llama-kjv";
  const ModelConfig config = load_model_config(dir + "/config.json");
  EXPECT_LT(config.kv_heads, config.heads) << "the zoo model uses grouped-query attention";
  const LlmWeights w = load_llm(Model::open(dir), config).weights;
  const SafetensorsFile ref = SafetensorsFile::open(dir + "/reference.safetensors");
  const SafetensorsTensor* tokens_t = ref.find("tokens");
  const SafetensorsTensor* logits_t = ref.find("logits_f64");
  ASSERT_NE(tokens_t, nullptr);
  ASSERT_NE(logits_t, nullptr);
  ASSERT_EQ(tokens_t->dtype, Dtype::kI32);
  ASSERT_EQ(logits_t->dtype, Dtype::kF64);
  std::vector<int> tokens(tokens_t->data.size() / 4);
  std::memcpy(tokens.data(), tokens_t->data.data(), tokens_t->data.size());
  std::vector<double> expected(logits_t->data.size() / 8);
  std::memcpy(expected.data(), logits_t->data.data(), logits_t->data.size());
  const std::vector<float> logits = llm_forward(w, tokens, linear_float);
  ASSERT_EQ(logits.size(), expected.size());
  double num = 0.0, den = 0.0;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    num += (logits[i] - expected[i]) * (logits[i] - expected[i]);
    den += expected[i] * expected[i];
  }
  EXPECT_LE(std::sqrt(num / den), 1e-4) << "relative L2 error of the logits";
  EXPECT_GT(den, 0.0);
}

}  // namespace
}  // namespace mixpe::models
