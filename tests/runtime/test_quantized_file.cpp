// A model quantized by `mixpe quantize` (mixpe and GGUF formats) runs on the functional executor
// with its stored codes, bit-exact with the oracles on those codes.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "models/llm/llm_loader.h"
#include "models/io/model_file.h"
#include "models/io/quantize_model.h"
#include "quant/gemm_ref.h"
#include "quant/metrics.h"
#include "runtime/functional.h"
#include "tests/models/test_util.h"
#include "tests/models/tiny_checkpoint.h"

namespace mixpe::runtime {
namespace {

models::ModelConfig tiny_config(const std::string& dir) {
  models::ModelConfig c = models::load_model_config(dir + "/config.json");
  return c;
}

TEST(QuantizedFile, QuantizedCheckpointRunsOnTheFunctionalExecutor) {
  models::testing::TempDir dir;
  const std::string src = dir.file("model.safetensors");
  models::testing::write_tiny_llama(src, models::testing::tiny_llama_tensors());
  std::ofstream(dir.file("config.json")) << R"({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64,
  "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 96,
  "max_position_embeddings": 64, "hidden_act": "silu"})";
  const models::ModelConfig config = tiny_config(dir.path().string());

  for (const auto& [format, wcfg] : {std::pair{models::OutputFormat::kMixpe, quant::WeightQuantConfig{4, 32, false}},
                                     std::pair{models::OutputFormat::kGguf, quant::WeightQuantConfig{4, 32, true}}}) {
    models::QuantizeOptions opt;
    opt.input = src;
    opt.output = dir.file(format == models::OutputFormat::kMixpe ? "q.mixpe" : "q.gguf");
    opt.weights = wcfg;
    opt.format = format;
    models::quantize_model(opt);

    const models::Model file = models::Model::open(opt.output);
    const models::LoadedLlm loaded = models::load_llm(file, config);
    ASSERT_EQ(loaded.quantized.size(), 14u) << "every linear layer of the 2 layers is stored quantized";
    const QuantizedLinears q(loaded.weights, PePath::kMixpeInt8, {8, 32, false}, false, &loaded.quantized);
    // The executor runs the stored codes, not a requantization with its own (8-bit) config.
    const quant::QuantizedWeights* used = q.weights("layers.1.down_proj");
    ASSERT_NE(used, nullptr);
    EXPECT_EQ(used->bits, 4);
    EXPECT_EQ(used->codes, loaded.quantized.at("layers.1.down_proj").codes);
    // ... bit-exact with the oracle on those codes,
    std::vector<float> x(3 * 128);
    models::Rng rng(5);
    for (float& v : x) v = static_cast<float>(rng.normal());
    const std::vector<float> y = q.run(loaded.weights.layers[1].down, x, 3);
    const std::vector<float> ref = quant::gemm_mixpe_int8_ref(quant::quantize_activations_int8(x, 3, 128), *used);
    for (std::size_t i = 0; i < y.size(); ++i) ASSERT_EQ(std::bit_cast<std::uint32_t>(y[i]), std::bit_cast<std::uint32_t>(ref[i]));
    // ... and the whole forward pass tracks the float model of the same (dequantized) weights:
    // only the INT8 activation quantization differs (~40 dB for 8-bit codes, several layers deep).
    const std::vector<int> tokens = {1, 7, 42, 3, 95, 0, 11};
    const std::vector<float> fl = models::llm_forward(loaded.weights, tokens, models::linear_float);
    const std::vector<float> qy = models::llm_forward(loaded.weights, tokens, q.backend());
    const std::vector<double> fl64(fl.begin(), fl.end());
    EXPECT_GT(quant::compare(fl64, qy).sqnr_db, 25.0);
  }
}

TEST(QuantizedFile, MissingTensorNamesTheFileAndTensor) {
  models::testing::TempDir dir;
  auto tensors = models::testing::tiny_llama_tensors();
  tensors.erase(tensors.begin() + 3);  // layers.0 v_proj
  models::testing::write_tiny_llama(dir.file("model.safetensors"), tensors);
  models::ModelConfig config = models::load_model_config("tiny");
  config.hidden = 64;
  config.intermediate = 128;
  config.heads = 4;
  config.kv_heads = 4;
  config.head_dim = 16;
  config.vocab = 96;
  try {
    models::load_llm(models::Model::open(dir.file("model.safetensors")), config);
    FAIL() << "a missing tensor was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("layers.0.attn.v.weight"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace mixpe::runtime
