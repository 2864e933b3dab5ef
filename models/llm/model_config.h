// Transformer model configurations read from Hugging Face config.json files or preset names.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace mixpe::models {

enum class ModelFamily { kLlama, kMistral, kOpt, kVit };
enum class NormKind { kRmsNorm, kLayerNorm };
enum class ActivationKind { kSilu, kGelu, kRelu };

struct ModelConfig {
  std::string name;  // preset name or the config file's path
  ModelFamily family = ModelFamily::kLlama;
  int hidden = 0;
  int intermediate = 0;
  int layers = 0;
  int heads = 0;
  int kv_heads = 0;  // grouped-query attention: heads share kv_heads K/V heads
  int head_dim = 0;
  int vocab = 0;
  int max_positions = 0;
  int sliding_window = 0;  // 0: full attention
  bool gated_mlp = true;   // SwiGLU (gate, up, down) instead of fc1 / fc2
  bool rotary = true;      // rotary position embedding on Q and K
  bool linear_bias = false;
  NormKind norm = NormKind::kRmsNorm;
  ActivationKind activation = ActivationKind::kSilu;
  double norm_eps = 1e-5;       // rms_norm_eps / layer_norm_epsilon
  double rope_theta = 10000.0;  // rotary base frequency
  // Vision transformers.
  int image_size = 0;
  int patch_size = 0;
  int channels = 0;
  int num_labels = 0;

  bool is_decoder() const { return family != ModelFamily::kVit; }
  int num_patches() const { return patch_size > 0 ? (image_size / patch_size) * (image_size / patch_size) : 0; }
  // Parameters in the linear (quantizable) layers, embeddings and head excluded.
  long long linear_params() const;
};

// Preset names shipped in configs/models (opt-6.7b, llama-2-7b, ...).
std::vector<std::string> model_presets();
// A preset name or a path to a config.json. Throws std::invalid_argument naming it if it is neither,
// std::runtime_error naming the file and key on unreadable files, malformed JSON, missing or invalid
// keys and unsupported model types.
ModelConfig load_model_config(const std::string& preset_or_path);
ModelConfig parse_hf_config(const nlohmann::json& j, const std::string& source);

const char* to_string(ModelFamily f);
const char* to_string(NormKind n);
const char* to_string(ActivationKind a);

}  // namespace mixpe::models
