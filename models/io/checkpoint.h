// Hugging Face checkpoints: single or sharded safetensors (model.safetensors.index.json), config.json,
// and the mapping of LLaMA/Mistral/OPT tensor names to neutral and GGUF names.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/io/safetensors.h"

namespace mixpe::models {

// One logical set of tensors spread over one or more safetensors files.
class SafetensorsCheckpoint {
 public:
  // `path` is a .safetensors file, a *.safetensors.index.json, or a directory holding
  // model.safetensors.index.json or model.safetensors. Shards are memory-mapped. Throws
  // FormatError naming the index or shard and the field (missing shards, tensors the index
  // lists but the shard lacks, tensors in two shards, shard names that leave the directory).
  static SafetensorsCheckpoint open(const std::string& path);
  // Tensor pointers refer into the shards: movable, not copyable.
  SafetensorsCheckpoint(SafetensorsCheckpoint&&) = default;
  SafetensorsCheckpoint& operator=(SafetensorsCheckpoint&&) = default;
  SafetensorsCheckpoint(const SafetensorsCheckpoint&) = delete;
  SafetensorsCheckpoint& operator=(const SafetensorsCheckpoint&) = delete;

  const std::string& path() const { return path_; }
  const std::vector<SafetensorsFile>& shards() const { return shards_; }
  // Every tensor, shard by shard in data order.
  const std::vector<const SafetensorsTensor*>& tensors() const { return tensors_; }
  const SafetensorsTensor* find(const std::string& name) const;
  // Shard __metadata__ merged with the index's "metadata" (non-string values as JSON text).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // config.json next to the checkpoint, if present.
  const std::optional<nlohmann::json>& config() const { return config_; }

 private:
  SafetensorsCheckpoint() = default;
  std::string path_;
  std::vector<SafetensorsFile> shards_;
  std::vector<const SafetensorsTensor*> tensors_;
  std::map<std::string, const SafetensorsTensor*> by_name_;
  std::map<std::string, std::string> metadata_;
  std::optional<nlohmann::json> config_;
};

// The tensor naming scheme of a checkpoint family (Mistral uses the LLaMA names).
enum class TensorNaming { kLlama, kOpt };

// From config.json's "model_type" / "architectures"; nullopt if unrecognized.
std::optional<TensorNaming> detect_naming(const nlohmann::json& config);

struct MappedName {
  std::string neutral;  // e.g. "layers.3.attn.q.weight", "embed.weight", "lm_head.weight"
  std::string gguf;     // e.g. "blk.3.attn_q.weight", "token_embd.weight", "output.weight"
};

// Maps a Hugging Face tensor name; nullopt for names the family does not define.
std::optional<MappedName> map_hf_name(TensorNaming family, const std::string& hf_name);
// The neutral name of a Hugging Face or GGUF (`blk.N.*`) tensor name; nullopt if neither.
std::optional<std::string> neutral_tensor_name(TensorNaming family, const std::string& name);

}  // namespace mixpe::models
