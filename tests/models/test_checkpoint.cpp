// Sharded safetensors checkpoints, config.json detection, Hugging Face name mapping.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "models/io/checkpoint.h"
#include "test_util.h"
#include "tiny_checkpoint.h"

namespace mixpe::models {
namespace {

using testing::expect_format_error;
using testing::TempDir;

// Splits the tiny model over two shards and writes the index.
void write_sharded(const TempDir& dir, const std::string& extra_index_entry = "") {
  const auto tensors = testing::tiny_llama_tensors();
  const std::size_t half = tensors.size() / 2;
  testing::write_tiny_llama(dir.file("model-00001-of-00002.safetensors"), {tensors.begin(), tensors.begin() + half});
  testing::write_tiny_llama(dir.file("model-00002-of-00002.safetensors"), {tensors.begin() + half, tensors.end()});
  std::ofstream idx(dir.file("model.safetensors.index.json"));
  idx << R"({"metadata": {"total_size": 12345}, "weight_map": {)";
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    idx << (i ? "," : "") << "\"" << tensors[i].name << "\": \"model-0000" << (i < half ? 1 : 2) << "-of-00002.safetensors\"";
  }
  idx << extra_index_entry << "}}";
}

TEST(Checkpoint, ShardedCheckpointListsEveryTensorOnce) {
  TempDir dir;
  write_sharded(dir);
  testing::write_llama_config(dir.path().string());
  const auto expected = testing::tiny_llama_tensors();
  for (const std::string& path : {dir.path().string(), dir.file("model.safetensors.index.json")}) {
    const SafetensorsCheckpoint c = SafetensorsCheckpoint::open(path);
    EXPECT_EQ(c.shards().size(), 2u);
    ASSERT_EQ(c.tensors().size(), expected.size());
    for (const auto& t : expected) {
      const SafetensorsTensor* got = c.find(t.name);
      ASSERT_NE(got, nullptr) << t.name;
      EXPECT_EQ(got->shape, t.shape);
      EXPECT_TRUE(std::equal(got->data.begin(), got->data.end(), t.bytes.begin(), t.bytes.end())) << t.name;
    }
    EXPECT_EQ(c.metadata().at("total_size"), "12345");
    EXPECT_EQ(c.metadata().at("format"), "pt");
    ASSERT_TRUE(c.config().has_value());
    EXPECT_EQ(detect_naming(*c.config()), TensorNaming::kLlama);
  }
}

TEST(Checkpoint, InconsistentIndexesAreRejected) {
  {
    TempDir dir;
    write_sharded(dir, R"(, "ghost.weight": "model-00001-of-00002.safetensors")");
    expect_format_error([&] { SafetensorsCheckpoint::open(dir.path().string()); },
                        {"model.safetensors.index.json", "weight_map.ghost.weight", "no such tensor"});
  }
  {
    TempDir dir;
    write_sharded(dir, R"(, "x": "../secret.safetensors")");
    expect_format_error([&] { SafetensorsCheckpoint::open(dir.path().string()); }, {"weight_map.x", "not a file name"});
  }
  {
    TempDir dir;
    write_sharded(dir, R"(, "x": "model-00003-of-00002.safetensors")");
    expect_format_error([&] { SafetensorsCheckpoint::open(dir.path().string()); }, {"model-00003-of-00002.safetensors", "open"});
  }
  {
    TempDir dir;
    std::ofstream(dir.file("model.safetensors.index.json")) << R"({"weight_map": 3})";
    expect_format_error([&] { SafetensorsCheckpoint::open(dir.path().string()); }, {"weight_map", "not an object"});
  }
  {
    TempDir dir;
    expect_format_error([&] { SafetensorsCheckpoint::open(dir.path().string()); }, {"neither"});
  }
}

TEST(Checkpoint, LlamaAndOptNamesMapToNeutralAndGguf) {
  const auto q = map_hf_name(TensorNaming::kLlama, "model.layers.7.self_attn.q_proj.weight");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->neutral, "layers.7.attn.q.weight");
  EXPECT_EQ(q->gguf, "blk.7.attn_q.weight");
  EXPECT_EQ(map_hf_name(TensorNaming::kLlama, "model.layers.0.mlp.down_proj.weight")->gguf, "blk.0.ffn_down.weight");
  EXPECT_EQ(map_hf_name(TensorNaming::kLlama, "model.layers.0.post_attention_layernorm.weight")->gguf, "blk.0.ffn_norm.weight");
  EXPECT_EQ(map_hf_name(TensorNaming::kLlama, "model.embed_tokens.weight")->gguf, "token_embd.weight");
  EXPECT_EQ(map_hf_name(TensorNaming::kLlama, "model.norm.weight")->gguf, "output_norm.weight");
  EXPECT_EQ(map_hf_name(TensorNaming::kLlama, "lm_head.weight")->gguf, "output.weight");
  EXPECT_FALSE(map_hf_name(TensorNaming::kLlama, "model.layers.0.self_attn.rotary_emb.inv_freq"));
  EXPECT_EQ(map_hf_name(TensorNaming::kOpt, "model.decoder.layers.3.fc1.bias")->gguf, "blk.3.ffn_up.bias");
  EXPECT_EQ(map_hf_name(TensorNaming::kOpt, "model.decoder.layers.3.self_attn.out_proj.weight")->neutral, "layers.3.attn.o.weight");
  EXPECT_EQ(map_hf_name(TensorNaming::kOpt, "model.decoder.embed_positions.weight")->gguf, "position_embd.weight");
  EXPECT_FALSE(map_hf_name(TensorNaming::kOpt, "model.layers.0.self_attn.q_proj.weight"));

  // Every tensor of the tiny LLaMA maps, to distinct names.
  std::set<std::string> names;
  for (const auto& t : testing::tiny_llama_tensors()) {
    const auto m = map_hf_name(TensorNaming::kLlama, t.name);
    ASSERT_TRUE(m) << t.name;
    EXPECT_TRUE(names.insert(m->gguf).second) << m->gguf;
  }
  EXPECT_EQ(detect_naming(nlohmann::json{{"architectures", {"MistralForCausalLM"}}}), TensorNaming::kLlama);
  EXPECT_EQ(detect_naming(nlohmann::json{{"model_type", "opt"}}), TensorNaming::kOpt);
  EXPECT_FALSE(detect_naming(nlohmann::json{{"model_type", "bert"}}));
}

}  // namespace
}  // namespace mixpe::models
