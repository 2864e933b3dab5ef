// The functional executor: each path's linear layers equal the oracles bit for bit, and a whole
// quantized forward pass tracks the float model, better with more bits.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

#include "models/llm/llm.h"
#include "models/synthetic.h"
#include "quant/ant.h"
#include "quant/bitfusion.h"
#include "quant/gemm_ref.h"
#include "quant/metrics.h"
#include "runtime/functional.h"

namespace mixpe::runtime {
namespace {

std::vector<float> oracle(PePath path, const quant::QuantizedWeights& w, const std::vector<float>& x, int m) {
  switch (path) {
    case PePath::kMixpeInt8: return quant::gemm_mixpe_int8_ref(quant::quantize_activations_int8(x, m, w.k), w);
    case PePath::kMixpeFp16: return quant::gemm_mixpe_fp16_ref(quant::to_half(x), m, w);
    case PePath::kMixpeBf16: return quant::gemm_mixpe_bf16_ref(quant::to_bfloat16(x), m, w);
    case PePath::kFp16: return quant::gemm_fp16_ref(quant::to_half(x), m, w);
    case PePath::kInt8: return quant::gemm_int8_ref(quant::quantize_activations_int8(x, m, w.k), w);
    case PePath::kBitFusion: return quant::gemm_bitfusion_ref(quant::quantize_activations_int8(x, m, w.k), w);
    case PePath::kAnt:  // the engine keeps the decoded weights; the oracle re-quantizes the float layer (below)
    case PePath::kFloat: break;
  }
  return {};
}

TEST(Functional, EveryLinearLayerIsBitExactWithItsOracle) {
  const models::LlmWeights model = models::synthetic_llm_weights(models::load_model_config("tiny"), 4);
  const int m = 6;
  models::Rng rng(8);
  for (PePath path : {PePath::kMixpeInt8, PePath::kMixpeFp16, PePath::kMixpeBf16, PePath::kFp16, PePath::kInt8, PePath::kBitFusion,
                      PePath::kAnt}) {
    const QuantizedLinears q(model, path, {4, 64, false});
    for (const models::Linear* layer : model.linears()) {
      std::vector<float> x(static_cast<std::size_t>(m) * layer->k);
      for (float& v : x) v = static_cast<float>(rng.normal());
      const quant::QuantizedWeights* w = q.weights(layer->name);
      ASSERT_NE(w, nullptr) << layer->name;
      const std::vector<float> y = q.run(*layer, x, m),
                               ref = path == PePath::kAnt ? quant::gemm_ant_ref(quant::quantize_activations_int8(x, m, layer->k),
                                                                                quant::quantize_ant(layer->w, layer->n, layer->k))
                                                          : oracle(path, *w, x, m);
      ASSERT_EQ(y.size(), ref.size());
      for (std::size_t i = 0; i < y.size(); ++i)
        ASSERT_EQ(std::bit_cast<std::uint32_t>(y[i]), std::bit_cast<std::uint32_t>(ref[i])) << to_string(path) << " " << layer->name;
    }
    EXPECT_EQ(q.weights("lm_head"), nullptr) << "the LM head stays in float by default";
  }
}

TEST(Functional, QuantizedForwardTracksFloatAndImprovesWithBits) {
  const models::LlmWeights model = models::synthetic_llm_weights(models::load_model_config("tiny"), 5);
  std::vector<int> tokens;
  for (int t = 0; t < 24; ++t) tokens.push_back((t * 37 + 11) % model.config.vocab);
  const std::vector<float> ref = models::llm_forward(model, tokens, models::linear_float);
  const std::vector<double> ref64(ref.begin(), ref.end());
  double last = -1e9;
  for (int bits : {2, 4, 8}) {
    const QuantizedLinears q(model, PePath::kMixpeFp16, {bits, 32, false});
    const std::vector<float> y = models::llm_forward(model, tokens, q.backend());
    const double sqnr = quant::compare(ref64, y).sqnr_db;
    EXPECT_GT(sqnr, last) << bits;
    last = sqnr;
  }
  // 8-bit weights (weight SQNR ~45 dB) with FP activations stay far above 20 dB after 2 layers.
  EXPECT_GT(last, 20.0);
}

TEST(Functional, UnknownPathNamesTheKnownOnes) {
  try {
    parse_pe_path("mixpe-int4");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("mixpe-fp16"), std::string::npos);
  }
  EXPECT_EQ(parse_pe_path("int8"), PePath::kInt8);
}

}  // namespace
}  // namespace mixpe::runtime
