// Tensor-by-tensor mapping of model files onto LlmWeights.
#include "models/llm/llm_loader.h"

#include <cmath>
#include <optional>
#include <regex>
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

bool is_gguf_qk(const std::string& name) {
  static const std::regex kQk(R"(^blk\.\d+\.attn_(q|k)\.(weight|bias)$)");
  return std::regex_match(name, kQk);
}

}  // namespace

ModelConfig llm_config_from_gguf(const GgufFile& f) {
  const std::string& src = f.source();
  auto number = [&](const std::string& key, bool required) -> std::optional<double> {
    const GgufValue* v = f.find_metadata(key);
    if (v == nullptr) {
      if (required) throw_format_error(src, fmt::format("metadata '{}'", key), "missing (needed for the LLaMA config)");
      return std::nullopt;
    }
    return std::visit(
        [&](const auto& x) -> double {
          using T = std::decay_t<decltype(x)>;
          if constexpr ((std::is_arithmetic_v<T>) && !std::is_same_v<T, bool>) {
            return static_cast<double>(x);
          } else {
            throw_format_error(src, fmt::format("metadata '{}'", key), fmt::format("has type {}, expected a number", gguf_value_type_name(v->type())));
          }
        },
        v->value);
  };
  auto positive = [&](const std::string& key, bool required, int fallback) {
    const std::optional<double> v = number(key, required);
    if (!v) return fallback;
    if (!(*v >= 1 && *v <= (1 << 30)) || *v != static_cast<int>(*v)) {
      throw_format_error(src, fmt::format("metadata '{}'", key), fmt::format("{} is not a positive integer", *v));
    }
    return static_cast<int>(*v);
  };
  const GgufValue* arch = f.find_metadata("general.architecture");
  if (arch == nullptr || !std::holds_alternative<std::string>(arch->value) || std::get<std::string>(arch->value) != "llama") {
    throw_format_error(src, "metadata 'general.architecture'", fmt::format("{} is not \"llama\"", arch ? arch->to_string() : "missing"));
  }
  ModelConfig c;
  c.name = src;
  c.family = ModelFamily::kLlama;
  c.hidden = positive("llama.embedding_length", true, 0);
  c.layers = positive("llama.block_count", true, 0);
  c.intermediate = positive("llama.feed_forward_length", true, 0);
  c.heads = positive("llama.attention.head_count", true, 0);
  c.kv_heads = positive("llama.attention.head_count_kv", false, c.heads);
  c.max_positions = positive("llama.context_length", true, 0);
  if (c.hidden % c.heads != 0 || c.heads % c.kv_heads != 0) {
    throw_format_error(src, "metadata 'llama.attention.head_count'",
                       fmt::format("{} heads ({} KV) do not divide embedding_length {}", c.heads, c.kv_heads, c.hidden));
  }
  c.head_dim = c.hidden / c.heads;
  if (positive("llama.rope.dimension_count", false, c.head_dim) != c.head_dim) {
    throw_format_error(src, "metadata 'llama.rope.dimension_count'", fmt::format("partial rotary is not supported (head size {})", c.head_dim));
  }
  int vocab = positive("llama.vocab_size", false, 0);
  if (vocab == 0) {
    if (const GgufValue* t = f.find_metadata("tokenizer.ggml.tokens"); t != nullptr && std::holds_alternative<GgufArray>(t->value)) {
      vocab = static_cast<int>(std::get<GgufArray>(t->value).items.size());
    } else if (const GgufTensor* e = f.find("token_embd.weight"); e != nullptr && e->dims.size() == 2) {
      vocab = static_cast<int>(e->dims[1]);
    }
  }
  if (vocab <= 0) throw_format_error(src, "metadata 'llama.vocab_size'", "missing, and no tokenizer.ggml.tokens or token_embd.weight to count");
  c.vocab = vocab;
  for (const auto& [key, dst] : {std::pair{"llama.attention.layer_norm_rms_epsilon", &c.norm_eps}, std::pair{"llama.rope.freq_base", &c.rope_theta}}) {
    if (const std::optional<double> v = number(key, false)) {
      if (!(*v > 0.0) || !std::isfinite(*v)) throw_format_error(src, fmt::format("metadata '{}'", key), fmt::format("{} is not positive", *v));
      *dst = *v;
    }
  }
  return c;
}

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
  // llama.cpp's Q/K row order comes with GGUF names; the head count for Q is heads, for K kv_heads.
  auto qk_heads = [&](const ModelTensor& t) {
    if (!config.rotary || !is_gguf_qk(t.name)) return 0;
    return t.name.find(".attn_q.") != std::string::npos ? config.heads : config.kv_heads;
  };
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
    if (const int heads = qk_heads(*it->second); heads > 0) {
      const std::size_t rows = it->second->shape.empty() ? 1 : static_cast<std::size_t>(it->second->shape[0]);
      if (rows == 0 || v.size() % rows != 0 || rows % (2 * static_cast<std::size_t>(heads)) != 0) {
        throw std::runtime_error(fmt::format("{}: tensor {} has {} rows, not {} heads of an even size", file.path(), it->second->name, rows, heads));
      }
      v = permute_llama_qk_rows(std::span<const float>(v), static_cast<std::int64_t>(rows), heads, false);
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
      std::optional<quant::QuantizedWeights> q;
      if (t->mixpe != nullptr && t->mixpe->kind == MixpeTensorKind::kQuantized) {
        q = quant::unpack_weights(t->mixpe->packed());
      } else if (t->gguf != nullptr && (t->gguf->type == GgmlType::kQ4_0 || t->gguf->type == GgmlType::kQ4_1 ||
                                        t->gguf->type == GgmlType::kQ8_0)) {
        q = gguf_to_quantized(*t->gguf, file.path());
      }
      if (q) {
        // Whole rows of codes and per-row group tables move together with the float rows.
        if (const int heads = qk_heads(*t); heads > 0) q = permute_llama_qk_rows(*q, heads, false);
        out.quantized.emplace(name, std::move(*q));
      }
    }
  }
  return out;
}

}  // namespace mixpe::models
