// One view of any model file mixpe reads (safetensors checkpoint, GGUF, mixpe): metadata, tensors,
// and each tensor's values as float, for `mixpe inspect` and `mixpe quantize`.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "models/io/checkpoint.h"
#include "models/io/dtype.h"
#include "models/io/gguf.h"
#include "models/io/mixpe_format.h"

namespace mixpe::models {

enum class ModelFormat { kSafetensors, kGguf, kMixpe };
std::string_view model_format_name(ModelFormat f);

struct ModelTensor {
  std::string name;
  std::string type;                 // "F32", "Q4_0", "W4 g128 asym", ...
  std::vector<std::int64_t> shape;  // PyTorch order
  std::uint64_t stored_bytes = 0;
  std::optional<Dtype> plain_dtype;  // set when the bytes below are plain little-endian elements
  std::span<const std::uint8_t> plain_data;
  const GgufTensor* gguf = nullptr;          // set for GGUF tensors
  const MixpeTensor* mixpe = nullptr;        // set for mixpe tensors
  bool dequantizable = true;
};

class Model {
 public:
  // Detects the format from the magic (GGUF, MIXPEMDL) or else treats `path` as a safetensors
  // checkpoint (file, index JSON or directory). Throws FormatError.
  static Model open(const std::string& path);

  const std::string& path() const { return path_; }
  ModelFormat format() const { return format_; }
  // The file's format version (GGUF 2/3, mixpe 1); 0 for safetensors, which has none.
  std::uint32_t format_version() const { return version_; }
  // Rendered as text (GGUF arrays abbreviated).
  const std::vector<std::pair<std::string, std::string>>& metadata() const { return metadata_; }
  const std::vector<ModelTensor>& tensors() const { return tensors_; }
  const ModelTensor* find(const std::string& name) const;
  // Logical values (dequantized) in PyTorch row-major order.
  std::vector<float> values(const ModelTensor& t) const;

  const SafetensorsCheckpoint* safetensors() const { return st_.get(); }
  const GgufFile* gguf() const { return gguf_.get(); }
  const MixpeFile* mixpe() const { return mixpe_.get(); }

 private:
  std::string path_;
  ModelFormat format_ = ModelFormat::kSafetensors;
  std::uint32_t version_ = 0;
  std::vector<std::pair<std::string, std::string>> metadata_;
  std::vector<ModelTensor> tensors_;
  std::shared_ptr<SafetensorsCheckpoint> st_;
  std::shared_ptr<GgufFile> gguf_;
  std::shared_ptr<MixpeFile> mixpe_;
};

}  // namespace mixpe::models
