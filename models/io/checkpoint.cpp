// Sharded safetensors checkpoints and Hugging Face tensor-name mapping.
#include "models/io/checkpoint.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <span>
#include <sstream>

#include <fmt/format.h>

namespace mixpe::models {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json read_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_format_error(path, "open", "cannot read");
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return json::parse(ss.str());
  } catch (const json::exception& e) {
    throw_format_error(path, "JSON", e.what());
  }
}

struct LayerRule {
  const char* hf;       // the part after "layers.N."
  const char* neutral;  // after "layers.N."
  const char* gguf;     // after "blk.N."
};

constexpr LayerRule kLlamaLayer[] = {
    {"self_attn.q_proj", "attn.q", "attn_q"},          {"self_attn.k_proj", "attn.k", "attn_k"},
    {"self_attn.v_proj", "attn.v", "attn_v"},          {"self_attn.o_proj", "attn.o", "attn_output"},
    {"mlp.gate_proj", "mlp.gate", "ffn_gate"},         {"mlp.up_proj", "mlp.up", "ffn_up"},
    {"mlp.down_proj", "mlp.down", "ffn_down"},         {"input_layernorm", "attn_norm", "attn_norm"},
    {"post_attention_layernorm", "mlp_norm", "ffn_norm"},
};
constexpr LayerRule kOptLayer[] = {
    {"self_attn.q_proj", "attn.q", "attn_q"},          {"self_attn.k_proj", "attn.k", "attn_k"},
    {"self_attn.v_proj", "attn.v", "attn_v"},          {"self_attn.out_proj", "attn.o", "attn_output"},
    {"fc1", "mlp.up", "ffn_up"},                       {"fc2", "mlp.down", "ffn_down"},
    {"self_attn_layer_norm", "attn_norm", "attn_norm"}, {"final_layer_norm", "mlp_norm", "ffn_norm"},
};
constexpr LayerRule kLlamaGlobal[] = {
    {"model.embed_tokens", "embed", "token_embd"}, {"model.norm", "final_norm", "output_norm"}, {"lm_head", "lm_head", "output"}};
constexpr LayerRule kOptGlobal[] = {
    {"model.decoder.embed_tokens", "embed", "token_embd"},
    {"model.decoder.embed_positions", "pos_embed", "position_embd"},
    {"model.decoder.final_layer_norm", "final_norm", "output_norm"},
    {"lm_head", "lm_head", "output"}};

}  // namespace

SafetensorsCheckpoint SafetensorsCheckpoint::open(const std::string& path) {
  SafetensorsCheckpoint c;
  c.path_ = path;
  fs::path p(path);
  fs::path dir = p.parent_path();
  std::vector<std::string> shard_names;
  std::optional<json> weight_map;
  std::string index_path;
  if (fs::is_directory(p)) {
    dir = p;
    if (fs::exists(p / "model.safetensors.index.json")) {
      index_path = (p / "model.safetensors.index.json").string();
    } else if (fs::exists(p / "model.safetensors")) {
      shard_names.push_back("model.safetensors");
    } else {
      throw_format_error(path, "checkpoint", "directory has neither model.safetensors.index.json nor model.safetensors");
    }
  } else if (p.extension() == ".json") {
    index_path = path;
  } else {
    shard_names.push_back(p.filename().string());
  }

  if (!index_path.empty()) {
    const json index = read_json_file(index_path);
    if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object()) {
      throw_format_error(index_path, "weight_map", "missing or not an object");
    }
    weight_map = index["weight_map"];
    for (const auto& [tensor, shard] : weight_map->items()) {
      if (!shard.is_string()) throw_format_error(index_path, fmt::format("weight_map.{}", tensor), "is not a string");
      const std::string s = shard.get<std::string>();
      // Shards must sit next to the index: no directories, no "..".
      if (s.empty() || s.find('/') != std::string::npos || s == "." || s == "..") {
        throw_format_error(index_path, fmt::format("weight_map.{}", tensor), fmt::format("shard '{}' is not a file name in the index's directory", s));
      }
      if (std::find(shard_names.begin(), shard_names.end(), s) == shard_names.end()) shard_names.push_back(s);
    }
    std::sort(shard_names.begin(), shard_names.end());
    if (index.contains("metadata") && index["metadata"].is_object()) {
      for (const auto& [k, v] : index["metadata"].items()) c.metadata_[k] = v.is_string() ? v.get<std::string>() : v.dump();
    }
  }

  c.shards_.reserve(shard_names.size());
  for (const std::string& s : shard_names) c.shards_.push_back(SafetensorsFile::open((dir / s).string()));
  for (std::size_t i = 0; i < c.shards_.size(); ++i) {
    const SafetensorsFile& shard = c.shards_[i];
    for (const auto& [k, v] : shard.metadata()) c.metadata_.emplace(k, v);
    for (const SafetensorsTensor& t : shard.tensors()) {
      if (!c.by_name_.emplace(t.name, &t).second) {
        throw_format_error(shard.source(), fmt::format("tensor '{}'", t.name), "also appears in an earlier shard");
      }
      if (weight_map) {
        const json* listed = weight_map->contains(t.name) ? &(*weight_map)[t.name] : nullptr;
        if (listed == nullptr || listed->get<std::string>() != shard_names[i]) {
          throw_format_error(shard.source(), fmt::format("tensor '{}'", t.name),
                             fmt::format("is not listed for this shard in {}", index_path));
        }
      }
      c.tensors_.push_back(&t);
    }
  }
  if (weight_map) {
    for (const auto& [tensor, shard] : weight_map->items()) {
      if (!c.by_name_.contains(tensor)) {
        throw_format_error(index_path, fmt::format("weight_map.{}", tensor), fmt::format("shard '{}' has no such tensor", shard.get<std::string>()));
      }
    }
  }
  const fs::path config = dir / "config.json";
  if (fs::exists(config)) c.config_ = read_json_file(config.string());
  return c;
}

const SafetensorsTensor* SafetensorsCheckpoint::find(const std::string& name) const {
  const auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

std::optional<TensorNaming> detect_naming(const json& config) {
  std::string type = config.is_object() && config.contains("model_type") && config["model_type"].is_string()
                         ? config["model_type"].get<std::string>()
                         : "";
  if (type.empty() && config.is_object() && config.contains("architectures") && config["architectures"].is_array() &&
      !config["architectures"].empty() && config["architectures"][0].is_string()) {
    const std::string arch = config["architectures"][0].get<std::string>();
    if (arch.starts_with("Llama")) type = "llama";
    if (arch.starts_with("Mistral")) type = "mistral";
    if (arch.starts_with("OPT")) type = "opt";
  }
  if (type == "llama" || type == "mistral") return TensorNaming::kLlama;
  if (type == "opt") return TensorNaming::kOpt;
  return std::nullopt;
}

std::optional<MappedName> map_hf_name(TensorNaming family, const std::string& hf_name) {
  static const std::regex kSuffix(R"(^(.*)\.(weight|bias)$)");
  static const std::regex kLlamaLayerRe(R"(^model\.layers\.(\d+)\.(.+)$)");
  static const std::regex kOptLayerRe(R"(^model\.decoder\.layers\.(\d+)\.(.+)$)");
  std::smatch m;
  if (!std::regex_match(hf_name, m, kSuffix)) return std::nullopt;
  const std::string stem = m[1];
  const std::string suffix = m[2];
  const bool llama = family == TensorNaming::kLlama;
  std::smatch lm;
  if (std::regex_match(stem, lm, llama ? kLlamaLayerRe : kOptLayerRe)) {
    const std::string layer = lm[1];
    const std::string rest = lm[2];
    for (const LayerRule& r : llama ? std::span<const LayerRule>(kLlamaLayer) : std::span<const LayerRule>(kOptLayer)) {
      if (rest == r.hf) {
        return MappedName{fmt::format("layers.{}.{}.{}", layer, r.neutral, suffix), fmt::format("blk.{}.{}.{}", layer, r.gguf, suffix)};
      }
    }
    return std::nullopt;
  }
  for (const LayerRule& r : llama ? std::span<const LayerRule>(kLlamaGlobal) : std::span<const LayerRule>(kOptGlobal)) {
    if (stem == r.hf) return MappedName{fmt::format("{}.{}", r.neutral, suffix), fmt::format("{}.{}", r.gguf, suffix)};
  }
  return std::nullopt;
}

std::optional<std::string> neutral_tensor_name(TensorNaming family, const std::string& name) {
  if (const auto m = map_hf_name(family, name)) return m->neutral;
  static const std::regex kSuffix(R"(^(.*)\.(weight|bias)$)");
  static const std::regex kGgufLayer(R"(^blk\.(\d+)\.(.+)$)");
  std::smatch m;
  if (!std::regex_match(name, m, kSuffix)) return std::nullopt;
  const std::string stem = m[1], suffix = m[2];
  const bool llama = family == TensorNaming::kLlama;
  std::smatch lm;
  if (std::regex_match(stem, lm, kGgufLayer)) {
    for (const LayerRule& r : llama ? std::span<const LayerRule>(kLlamaLayer) : std::span<const LayerRule>(kOptLayer))
      if (lm[2] == r.gguf) return fmt::format("layers.{}.{}.{}", std::string(lm[1]), r.neutral, suffix);
    return std::nullopt;
  }
  for (const LayerRule& r : llama ? std::span<const LayerRule>(kLlamaGlobal) : std::span<const LayerRule>(kOptGlobal))
    if (stem == r.gguf) return fmt::format("{}.{}", r.neutral, suffix);
  return std::nullopt;
}

}  // namespace mixpe::models
