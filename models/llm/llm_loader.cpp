// Tensor-by-tensor mapping of model files onto LlmWeights.
#include "models/llm/llm_loader.h"

#include <stdexcept>

#include <fmt/format.h>

#include "models/io/checkpoint.h"
#include "models/io/gguf.h"
#include "quant/packed.h"

namespace mixpe::models {
namespace {

// Our layer names for the neutral linear names of models/io/checkpoint.h.
std::string layer_name(int layer, const std::string& neutral, bool gated) {
  const std::string p = fmt::format("layers.{}.", layer);
  if (neutral == "attn.q") return p + "q_proj";
  if (neutral == "attn.k") return p + "k_proj";
  if (neutral == "attn.v") return p + "v_proj";
  if (neutral == "attn.o") return p + "o_proj";
  if (neutral == "mlp.gate") return p + "gate_proj";
  if (neutral == "mlp.up") return p + (gated ? "up_proj" : "fc1");
  if (neutral == "mlp.down") return p + (gated ? "down_proj" : "fc2");
  return "";
}

}  // namespace

LoadedLlm load_llm(const Model& file, const ModelConfig& config) {
  if (!config.is_decoder()) throw std::runtime_error(fmt::format("{}: only decoder LLMs can be loaded", file.path()));
  LoadedLlm out;
  LlmWeights& w = out.weights;
  w = llm_skeleton(config);  // names and shapes; every value comes from the file
  const TensorNaming naming = config.family == ModelFamily::kOpt ? TensorNaming::kOpt : TensorNaming::kLlama;
  std::map<std::string, const ModelTensor*> by_neutral;
  for (const ModelTensor& t : file.tensors()) {
    if (const auto n = neutral_tensor_name(naming, t.name)) by_neutral[*n] = &t;
  }
  auto fetch = [&](const std::string& neutral, std::vector<float>& dst, std::size_t expected, bool optional = false) -> const ModelTensor* {
    const auto it = by_neutral.find(neutral);
    if (it == by_neutral.end()) {
      if (optional) return nullptr;
      throw std::runtime_error(fmt::format("{}: no tensor for {} (by Hugging Face or GGUF name)", file.path(), neutral));
    }
    std::vector<float> v = file.values(*it->second);
    if (v.size() != expected) {
      throw std::runtime_error(fmt::format("{}: tensor {} has {} values, the config needs {}", file.path(), it->second->name,
                                           v.size(), expected));
    }
    dst = std::move(v);
    return it->second;
  };
  const std::size_t h = static_cast<std::size_t>(config.hidden);
  fetch("embed.weight", w.embed, static_cast<std::size_t>(config.vocab) * h);
  if (config.family == ModelFamily::kOpt) {
    // OPT's learned positions carry two extra leading rows (an offset of 2 in the HF code).
    std::vector<float> pos;
    const auto it = by_neutral.find("pos_embed.weight");
    if (it == by_neutral.end()) throw std::runtime_error(fmt::format("{}: no tensor for pos_embed.weight", file.path()));
    pos = file.values(*it->second);
    const std::size_t rows = pos.size() / h;
    if (pos.size() % h != 0 || rows < static_cast<std::size_t>(config.max_positions)) {
      throw std::runtime_error(fmt::format("{}: {} has {} values, not [>= {}, {}]", file.path(), it->second->name, pos.size(),
                                           config.max_positions, h));
    }
    w.positions.assign(pos.begin() + static_cast<std::ptrdiff_t>((rows - config.max_positions) * h), pos.end());
  }
  const bool ln = config.norm == NormKind::kLayerNorm;
  fetch("final_norm.weight", w.final_norm, h);
  if (ln) fetch("final_norm.bias", w.final_norm_bias, h);
  if (!fetch("lm_head.weight", w.lm_head.w, static_cast<std::size_t>(config.vocab) * h, true)) w.lm_head.w = w.embed;  // tied

  for (int l = 0; l < config.layers; ++l) {
    LayerWeights& lw = w.layers[static_cast<std::size_t>(l)];
    const std::string p = fmt::format("layers.{}.", l);
    fetch(p + "attn_norm.weight", lw.input_norm, h);
    fetch(p + "mlp_norm.weight", lw.post_norm, h);
    if (ln) fetch(p + "attn_norm.bias", lw.input_norm_bias, h);
    if (ln) fetch(p + "mlp_norm.bias", lw.post_norm_bias, h);
    std::vector<std::pair<std::string, Linear*>> linears = {{"attn.q", &lw.q}, {"attn.k", &lw.k}, {"attn.v", &lw.v},
                                                            {"attn.o", &lw.o}, {"mlp.up", &lw.up}, {"mlp.down", &lw.down}};
    if (config.gated_mlp) linears.push_back({"mlp.gate", &lw.gate});
    for (auto& [neutral, lin] : linears) {
      const ModelTensor* t = fetch(p + neutral + ".weight", lin->w, static_cast<std::size_t>(lin->n) * lin->k);
      if (config.linear_bias) fetch(p + neutral + ".bias", lin->bias, static_cast<std::size_t>(lin->n));
      const std::string name = layer_name(l, neutral, config.gated_mlp);
      // Keep the stored codes where the file has them: exactly what the hardware would run.
      if (t->mixpe != nullptr && t->mixpe->kind == MixpeTensorKind::kQuantized) {
        out.quantized.emplace(name, quant::unpack_weights(t->mixpe->packed()));
      } else if (t->gguf != nullptr && (t->gguf->type == GgmlType::kQ4_0 || t->gguf->type == GgmlType::kQ4_1 ||
                                        t->gguf->type == GgmlType::kQ8_0)) {
        out.quantized.emplace(name, gguf_to_quantized(*t->gguf, file.path()));
      }
    }
  }
  return out;
}

}  // namespace mixpe::models
