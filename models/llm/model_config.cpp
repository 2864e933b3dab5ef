// Parsing and validation of Hugging Face config.json files for the supported families.
#include "models/llm/model_config.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace mixpe::models {
namespace {

namespace fs = std::filesystem;

fs::path config_dir() {
  if (const char* env = std::getenv("MIXPE_CONFIG_DIR")) return fs::path(env) / "models";
  return fs::path(MIXPE_SOURCE_CONFIG_DIR) / "models";
}

int get_int(const nlohmann::json& j, const std::string& key, const std::string& source) {
  if (!j.contains(key)) throw std::runtime_error(fmt::format("{}: missing key \"{}\"", source, key));
  const nlohmann::json& v = j.at(key);
  if (!v.is_number_integer() || v.get<long long>() <= 0 || v.get<long long>() > (1ll << 30)) {
    throw std::runtime_error(fmt::format("{}: key \"{}\" = {} must be a positive integer", source, key, v.dump()));
  }
  return v.get<int>();
}

int get_int_or(const nlohmann::json& j, const std::string& key, int fallback, const std::string& source) {
  if (!j.contains(key) || j.at(key).is_null()) return fallback;
  return get_int(j, key, source);
}

double get_positive_double(const nlohmann::json& j, const std::string& key, const std::string& source) {
  const nlohmann::json& v = j.at(key);
  if (!v.is_number() || !(v.get<double>() > 0.0) || !std::isfinite(v.get<double>())) {
    throw std::runtime_error(fmt::format("{}: key \"{}\" = {} must be a positive number", source, key, v.dump()));
  }
  return v.get<double>();
}

ActivationKind parse_activation(const nlohmann::json& j, const std::string& key, const std::string& source) {
  if (!j.contains(key)) throw std::runtime_error(fmt::format("{}: missing key \"{}\"", source, key));
  const nlohmann::json& v = j.at(key);
  const std::string s = v.is_string() ? v.get<std::string>() : v.dump();
  if (s == "silu" || s == "swish") return ActivationKind::kSilu;
  if (s == "gelu" || s == "gelu_new" || s == "gelu_pytorch_tanh") return ActivationKind::kGelu;
  if (s == "relu") return ActivationKind::kRelu;
  throw std::runtime_error(fmt::format("{}: key \"{}\" = {} is not a supported activation (silu, gelu, relu)", source, key, v.dump()));
}

}  // namespace

long long ModelConfig::linear_params() const {
  const long long attn = static_cast<long long>(hidden) * heads * head_dim * 2 +  // q, o
                         static_cast<long long>(hidden) * kv_heads * head_dim * 2;  // k, v
  const long long mlp = static_cast<long long>(hidden) * intermediate * (gated_mlp ? 3 : 2);
  return (attn + mlp) * layers;
}

std::vector<std::string> model_presets() {
  return {"opt-6.7b", "llama-2-7b", "llama-2-13b", "mistral-7b", "vit-b16", "vit-h14", "tiny"};
}

ModelConfig parse_hf_config(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) throw std::runtime_error(fmt::format("{}: top level must be a JSON object", source));
  if (!j.contains("model_type") || !j.at("model_type").is_string()) {
    throw std::runtime_error(fmt::format("{}: missing string key \"model_type\"", source));
  }
  const std::string type = j.at("model_type").get<std::string>();
  ModelConfig c;
  c.name = source;
  c.hidden = get_int(j, "hidden_size", source);
  c.layers = get_int(j, "num_hidden_layers", source);
  c.heads = get_int(j, "num_attention_heads", source);
  if (type == "llama" || type == "mistral") {
    c.family = type == "llama" ? ModelFamily::kLlama : ModelFamily::kMistral;
    c.intermediate = get_int(j, "intermediate_size", source);
    c.kv_heads = get_int_or(j, "num_key_value_heads", c.heads, source);
    c.vocab = get_int(j, "vocab_size", source);
    c.max_positions = get_int(j, "max_position_embeddings", source);
    c.sliding_window = get_int_or(j, "sliding_window", 0, source);
    c.activation = parse_activation(j, "hidden_act", source);
  } else if (type == "opt") {
    c.family = ModelFamily::kOpt;
    c.intermediate = get_int(j, "ffn_dim", source);
    c.kv_heads = c.heads;
    c.vocab = get_int(j, "vocab_size", source);
    c.max_positions = get_int(j, "max_position_embeddings", source);
    c.activation = parse_activation(j, "activation_function", source);
    c.gated_mlp = false;
    c.rotary = false;
    c.linear_bias = true;
    c.norm = NormKind::kLayerNorm;
    if (get_int_or(j, "word_embed_proj_dim", c.hidden, source) != c.hidden) {
      throw std::runtime_error(fmt::format("{}: word_embed_proj_dim != hidden_size (OPT-350m style projections) is not supported", source));
    }
  } else if (type == "vit") {
    c.family = ModelFamily::kVit;
    c.intermediate = get_int(j, "intermediate_size", source);
    c.kv_heads = c.heads;
    c.activation = parse_activation(j, "hidden_act", source);
    c.gated_mlp = false;
    c.rotary = false;
    c.linear_bias = true;
    c.norm = NormKind::kLayerNorm;
    c.image_size = get_int(j, "image_size", source);
    c.patch_size = get_int(j, "patch_size", source);
    c.channels = get_int_or(j, "num_channels", 3, source);
    c.num_labels = get_int_or(j, "num_labels", 1000, source);
    if (c.image_size % c.patch_size != 0) {
      throw std::runtime_error(fmt::format("{}: image_size = {} is not a multiple of patch_size = {}", source, c.image_size, c.patch_size));
    }
  } else {
    throw std::runtime_error(fmt::format("{}: model_type \"{}\" is not supported (llama, mistral, opt, vit)", source, type));
  }
  if (c.hidden % c.heads != 0) {
    throw std::runtime_error(fmt::format("{}: hidden_size = {} is not divisible by num_attention_heads = {}", source, c.hidden, c.heads));
  }
  if (c.heads % c.kv_heads != 0) {
    throw std::runtime_error(fmt::format("{}: num_attention_heads = {} is not a multiple of num_key_value_heads = {}", source, c.heads, c.kv_heads));
  }
  c.head_dim = c.hidden / c.heads;
  for (const char* key : {"rms_norm_eps", "layer_norm_epsilon", "layer_norm_eps"}) {
    if (j.contains(key) && !j.at(key).is_null()) c.norm_eps = get_positive_double(j, key, source);
  }
  if (j.contains("rope_theta") && !j.at("rope_theta").is_null()) c.rope_theta = get_positive_double(j, "rope_theta", source);
  return c;
}

ModelConfig load_model_config(const std::string& preset_or_path) {
  fs::path path(preset_or_path);
  std::string name = preset_or_path;
  for (const std::string& preset : model_presets()) {
    if (preset == preset_or_path) path = config_dir() / (preset + ".json");
  }
  if (!fs::exists(path)) {
    std::string presets;
    for (const std::string& p : model_presets()) presets += (presets.empty() ? "" : ", ") + p;
    throw std::invalid_argument(fmt::format("model \"{}\" is neither a preset ({}) nor an existing config.json path", preset_or_path, presets));
  }
  std::ifstream in(path);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open for reading", path.string()));
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(fmt::format("{}: malformed JSON: {}", path.string(), e.what()));
  }
  ModelConfig c = parse_hf_config(j, path.string());
  c.name = name;
  return c;
}

const char* to_string(ModelFamily f) {
  switch (f) {
    case ModelFamily::kLlama: return "llama";
    case ModelFamily::kMistral: return "mistral";
    case ModelFamily::kOpt: return "opt";
    case ModelFamily::kVit: return "vit";
  }
  return "?";
}

const char* to_string(NormKind n) { return n == NormKind::kRmsNorm ? "rmsnorm" : "layernorm"; }

const char* to_string(ActivationKind a) {
  switch (a) {
    case ActivationKind::kSilu: return "silu";
    case ActivationKind::kGelu: return "gelu";
    case ActivationKind::kRelu: return "relu";
  }
  return "?";
}

}  // namespace mixpe::models
