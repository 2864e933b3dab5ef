// The mixpe quantized model format (docs/formats.md): packed group-quantized weights of any bit
// width and group size, unquantized tensors, and JSON metadata.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/io/dtype.h"
#include "models/io/file_io.h"
#include "quant/packed.h"

namespace mixpe::models {

inline constexpr std::array<char, 8> kMixpeMagic = {'M', 'I', 'X', 'P', 'E', 'M', 'D', 'L'};
inline constexpr std::uint32_t kMixpeVersion = 1;
inline constexpr std::uint64_t kMixpeAlignment = 64;
inline constexpr std::uint64_t kMixpeMaxHeader = 100'000'000;

// The fixed 24-byte preamble; the JSON header follows it.
struct MixpePreamble {
  std::array<char, 8> magic;
  std::uint32_t version;
  std::uint32_t flags;  // reserved, 0
  std::uint64_t header_length;
};
static_assert(sizeof(MixpePreamble) == 24, "preamble is 8 + 4 + 4 + 8 bytes");

enum class MixpeTensorKind { kPlain, kQuantized };

struct MixpeTensor {
  std::string name;
  MixpeTensorKind kind = MixpeTensorKind::kPlain;
  Dtype dtype = Dtype::kF32;        // plain: element type; quantized: the source's type (informational)
  std::vector<std::int64_t> shape;  // PyTorch order; quantized: [N, K]
  std::span<const std::uint8_t> data;  // plain tensors
  // Quantized tensors: quant::PackedWeights fields and buffers.
  int bits = 0;
  int group_size = 0;
  bool symmetric = false;
  std::span<const std::uint8_t> codes, scales, zeros;
  std::span<const std::uint8_t> mins;  // optional FP16 group minimums (w = s*q + min); empty if absent

  std::uint64_t stored_bytes() const { return data.size() + codes.size() + scales.size() + zeros.size() + mins.size(); }
  quant::PackedWeights packed() const;  // copies the buffers
};

class MixpeFile {
 public:
  static MixpeFile open(const std::string& path);
  static MixpeFile parse(std::span<const std::uint8_t> bytes, const std::string& source);

  const std::string& source() const { return source_; }
  std::uint32_t version() const { return version_; }
  const nlohmann::json& metadata() const { return metadata_; }
  const std::vector<MixpeTensor>& tensors() const { return tensors_; }
  const MixpeTensor* find(const std::string& name) const;

 private:
  std::string source_;
  std::shared_ptr<MappedFile> file_;
  std::uint32_t version_ = 0;
  nlohmann::json metadata_ = nlohmann::json::object();
  std::vector<MixpeTensor> tensors_;
};

// True if the bytes start with the mixpe magic.
bool is_mixpe_file(std::span<const std::uint8_t> bytes);

// Values in PyTorch row-major order; quantized tensors are unpacked and dequantized exactly
// (rounded once to float). Throws FormatError naming the file and tensor.
std::vector<float> dequantize_mixpe_tensor(const MixpeTensor& t, const std::string& source);

struct MixpeTensorToWrite {
  std::string name;
  Dtype dtype = Dtype::kF32;
  std::vector<std::int64_t> shape;
  std::span<const std::uint8_t> data;             // plain tensors
  const quant::PackedWeights* packed = nullptr;   // quantized tensors (shape must be [n, k])
};

// Writes atomically; throws std::invalid_argument for duplicate or invalid names, sizes that do
// not match shapes, or metadata that is not a JSON object.
void write_mixpe(const std::string& path, const nlohmann::json& metadata, std::span<const MixpeTensorToWrite> tensors);

}  // namespace mixpe::models
