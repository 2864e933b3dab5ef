// Writes a tiny LLaMA-style Hugging Face checkpoint (safetensors + config.json) for tests.
#pragma once

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "models/io/dtype.h"
#include "models/io/safetensors.h"
#include "models/synthetic.h"

namespace mixpe::models::testing {

struct TinyTensor {
  std::string name;
  std::vector<std::int64_t> shape;
  std::vector<std::uint8_t> bytes;
};

// Two decoder layers, hidden 64, MLP 128, vocabulary 96; weights in `dtype` (a float type).
inline std::vector<TinyTensor> tiny_llama_tensors(Dtype dtype = Dtype::kBF16, int hidden = 64, int mlp = 128) {
  std::vector<TinyTensor> out;
  std::uint64_t seed = 1;
  auto add = [&](const std::string& name, std::vector<std::int64_t> shape) {
    const int n = static_cast<int>(shape[0]);
    const int k = shape.size() > 1 ? static_cast<int>(shape[1]) : 1;
    out.push_back({name, shape, from_float32(dtype, synthetic_weights(n, k, seed++))});
  };
  add("model.embed_tokens.weight", {96, hidden});
  for (int l = 0; l < 2; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    add(p + "self_attn.q_proj.weight", {hidden, hidden});
    add(p + "self_attn.k_proj.weight", {hidden, hidden});
    add(p + "self_attn.v_proj.weight", {hidden, hidden});
    add(p + "self_attn.o_proj.weight", {hidden, hidden});
    add(p + "mlp.gate_proj.weight", {mlp, hidden});
    add(p + "mlp.up_proj.weight", {mlp, hidden});
    add(p + "mlp.down_proj.weight", {hidden, mlp});
    add(p + "input_layernorm.weight", {hidden});
    add(p + "post_attention_layernorm.weight", {hidden});
  }
  add("model.norm.weight", {hidden});
  add("lm_head.weight", {96, hidden});
  return out;
}

inline void write_tiny_llama(const std::string& path, const std::vector<TinyTensor>& tensors, Dtype dtype = Dtype::kBF16) {
  std::vector<SafetensorsTensor> st;
  for (const TinyTensor& t : tensors) st.push_back({t.name, dtype, t.shape, t.bytes});
  write_safetensors(path, st, {{"format", "pt"}});
}

inline void write_llama_config(const std::string& dir) {
  std::ofstream(dir + "/config.json") << R"({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64,
  "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 96,
  "max_position_embeddings": 64, "hidden_act": "silu"})";
}

}  // namespace mixpe::models::testing
