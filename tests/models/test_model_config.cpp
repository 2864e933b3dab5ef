// Model configs: presets parse to the published architectures; bad files give named errors.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "models/llm/model_config.h"

namespace mixpe::models {
namespace {

// Total parameters of a LLaMA-style model: linear layers, input embedding and LM head, two
// RMSNorms per layer and the final norm.
long long llama_total_params(const ModelConfig& c) {
  return c.linear_params() + 2ll * c.vocab * c.hidden + (2ll * c.layers + 1) * c.hidden;
}

TEST(ModelConfig, PresetsMatchPublishedParameterCounts) {
  // Published totals: Llama-2-7b-hf 6,738,415,616; Llama-2-13b-hf 13,015,864,320;
  // Mistral-7B-v0.1 7,241,732,096.
  EXPECT_EQ(llama_total_params(load_model_config("llama-2-7b")), 6738415616ll);
  EXPECT_EQ(llama_total_params(load_model_config("llama-2-13b")), 13015864320ll);
  const ModelConfig mistral = load_model_config("mistral-7b");
  EXPECT_EQ(llama_total_params(mistral), 7241732096ll);
  EXPECT_EQ(mistral.kv_heads, 8);
  EXPECT_EQ(mistral.sliding_window, 4096);
}

TEST(ModelConfig, EveryPresetLoads) {
  for (const std::string& name : model_presets()) {
    const ModelConfig c = load_model_config(name);
    EXPECT_EQ(c.name, name);
    EXPECT_EQ(c.head_dim * c.heads, c.hidden) << name;
  }
  const ModelConfig opt = load_model_config("opt-6.7b");
  EXPECT_EQ(opt.family, ModelFamily::kOpt);
  EXPECT_FALSE(opt.gated_mlp);
  EXPECT_EQ(opt.intermediate, 16384);
  EXPECT_EQ(opt.activation, ActivationKind::kRelu);
  const ModelConfig vit = load_model_config("vit-h14");
  EXPECT_EQ(vit.num_patches(), 256);
  EXPECT_FALSE(vit.is_decoder());
}

class BadConfig : public testing::Test {
 protected:
  std::string write(const std::string& text) {
    path_ = std::filesystem::temp_directory_path() / ("mixpe_cfg_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                                                     "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".json");
    std::ofstream(path_) << text;
    return path_.string();
  }
  std::string error_of(const std::string& text) {
    const std::string p = write(text);
    try {
      load_model_config(p);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "no error";
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::filesystem::path path_;
};

TEST_F(BadConfig, MalformedJsonNamesTheFile) {
  const std::string m = error_of("{\"model_type\": \"llama\",");
  EXPECT_NE(m.find(path_.string()), std::string::npos) << m;
  EXPECT_NE(m.find("malformed JSON"), std::string::npos) << m;
}

TEST_F(BadConfig, MissingAndInvalidKeysAreNamed) {
  nlohmann::json j = nlohmann::json::parse(R"({"model_type": "llama", "hidden_size": 64, "intermediate_size": 128,
    "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 100, "max_position_embeddings": 64, "hidden_act": "silu"})");
  EXPECT_EQ(error_of(j.dump()), "no error");
  nlohmann::json missing = j;
  missing.erase("vocab_size");
  EXPECT_NE(error_of(missing.dump()).find("missing key \"vocab_size\""), std::string::npos);
  nlohmann::json negative = j;
  negative["hidden_size"] = -4;
  EXPECT_NE(error_of(negative.dump()).find("\"hidden_size\" = -4"), std::string::npos);
  nlohmann::json heads = j;
  heads["num_attention_heads"] = 5;
  EXPECT_NE(error_of(heads.dump()).find("not divisible by num_attention_heads = 5"), std::string::npos);
  nlohmann::json act = j;
  act["hidden_act"] = "mish";
  EXPECT_NE(error_of(act.dump()).find("\"mish\""), std::string::npos);
  nlohmann::json type = j;
  type["model_type"] = "bert";
  EXPECT_NE(error_of(type.dump()).find("\"bert\" is not supported"), std::string::npos);
}

TEST(ModelConfig, UnknownPresetListsTheKnownOnes) {
  try {
    load_model_config("llama-3-8b");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("llama-2-7b"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace mixpe::models
