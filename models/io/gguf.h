// GGUF (v2/v3, little-endian) files: metadata values, tensor infos, validating reader, atomic writer.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "models/io/file_io.h"
#include "quant/weights.h"

namespace mixpe::models {

inline constexpr std::uint32_t kGgufMagic = 0x46554747;  // "GGUF" read as a little-endian u32
inline constexpr std::uint32_t kGgufVersion = 3;
inline constexpr std::uint32_t kGgufDefaultAlignment = 32;
inline constexpr int kGgufMaxDims = 4;            // GGML_MAX_DIMS
inline constexpr std::size_t kGgufMaxNameBytes = 63;  // llama.cpp keeps names in char[64]
inline constexpr int kGgufMaxArrayNesting = 8;

// Metadata value type ids; the GgufValue variant index equals the id.
enum class GgufValueType : std::uint32_t {
  kUint8 = 0, kInt8 = 1, kUint16 = 2, kInt16 = 3, kUint32 = 4, kInt32 = 5, kFloat32 = 6,
  kBool = 7, kString = 8, kArray = 9, kUint64 = 10, kInt64 = 11, kFloat64 = 12,
};
std::string_view gguf_value_type_name(GgufValueType t);

struct GgufValue;
struct GgufArray {
  GgufValueType type = GgufValueType::kUint8;
  std::vector<GgufValue> items;  // every item holds `type`
  bool operator==(const GgufArray&) const;
};

struct GgufValue {
  using Storage = std::variant<std::uint8_t, std::int8_t, std::uint16_t, std::int16_t, std::uint32_t, std::int32_t,
                               float, bool, std::string, GgufArray, std::uint64_t, std::int64_t, double>;
  Storage value;

  GgufValue() = default;
  // Only exact alternative types, so a string literal cannot silently become a bool.
  template <typename T>
    requires(!std::is_same_v<std::decay_t<T>, GgufValue> && !std::is_same_v<std::decay_t<T>, const char*> &&
             !std::is_same_v<std::decay_t<T>, char*>)
  explicit GgufValue(T v) : value(std::in_place_type<T>, std::move(v)) {}
  explicit GgufValue(const char* s) : value(std::in_place_type<std::string>, s) {}

  GgufValueType type() const { return static_cast<GgufValueType>(value.index()); }
  bool operator==(const GgufValue& o) const { return value == o.value; }
  // A short human-readable rendering (arrays abbreviated).
  std::string to_string(std::size_t max_items = 8) const;
};

using GgufMetadata = std::vector<std::pair<std::string, GgufValue>>;

// ggml tensor type ids (only ones whose block layout is known here; others are rejected).
enum class GgmlType : std::uint32_t {
  kF32 = 0, kF16 = 1, kQ4_0 = 2, kQ4_1 = 3, kQ5_0 = 6, kQ5_1 = 7, kQ8_0 = 8, kQ8_1 = 9,
  kQ2_K = 10, kQ3_K = 11, kQ4_K = 12, kQ5_K = 13, kQ6_K = 14, kQ8_K = 15,
  kIQ2_XXS = 16, kIQ2_XS = 17, kIQ3_XXS = 18, kIQ1_S = 19, kIQ4_NL = 20, kIQ3_S = 21, kIQ2_S = 22, kIQ4_XS = 23,
  kI8 = 24, kI16 = 25, kI32 = 26, kI64 = 27, kF64 = 28, kIQ1_M = 29, kBF16 = 30,
};
struct GgmlTypeInfo {
  std::string_view name;
  std::uint32_t block_size;  // elements per block
  std::uint32_t type_size;   // bytes per block
};
std::optional<GgmlTypeInfo> ggml_type_info(std::uint32_t id);
std::string_view ggml_type_name(GgmlType t);
std::optional<GgmlType> parse_ggml_type(std::string_view name);  // "Q4_0", "F16", ...
// Element values are dequantizable by dequantize_gguf_tensor (F32, F16, BF16, F64, I8..I64, Q4_0, Q4_1, Q8_0).
bool ggml_type_dequantizable(GgmlType t);

struct GgufTensor {
  std::string name;
  GgmlType type = GgmlType::kF32;
  std::vector<std::uint64_t> dims;  // ggml order: dims[0] is the innermost (contiguous) dimension
  std::uint64_t offset = 0;         // from the start of the tensor data section
  std::span<const std::uint8_t> data;

  std::vector<std::int64_t> shape() const;  // PyTorch order: reversed dims
  std::uint64_t numel() const;
};

// Layout: u32 magic, u32 version, u64 tensor_count, u64 kv_count, kv_count (string key, u32 type,
// value), tensor_count (string name, u32 n_dims, u64 dims[n_dims], u32 ggml type, u64 offset),
// zero padding to general.alignment, tensor data. Strings are u64 length + bytes.
class GgufFile {
 public:
  static GgufFile open(const std::string& path);
  static GgufFile parse(std::span<const std::uint8_t> bytes, const std::string& source);

  const std::string& source() const { return source_; }
  std::uint32_t version() const { return version_; }
  std::uint32_t alignment() const { return alignment_; }
  std::uint64_t data_offset() const { return data_offset_; }
  const GgufMetadata& metadata() const { return metadata_; }
  const GgufValue* find_metadata(std::string_view key) const;
  const std::vector<GgufTensor>& tensors() const { return tensors_; }
  const GgufTensor* find(std::string_view name) const;

 private:
  std::string source_;
  std::shared_ptr<MappedFile> file_;
  std::uint32_t version_ = 0;
  std::uint32_t alignment_ = kGgufDefaultAlignment;
  std::uint64_t data_offset_ = 0;
  GgufMetadata metadata_;
  std::vector<GgufTensor> tensors_;
};

// Tensor values as float in PyTorch row-major order (= ggml storage order). Throws FormatError for
// types without a dequantizer here.
std::vector<float> dequantize_gguf_tensor(const GgufTensor& t, const std::string& source);

// A 2-D Q4_0, Q4_1 or Q8_0 tensor as MixPE group-quantized weights, exactly (models/io/ggml_quants.h).
// Throws FormatError naming the tensor for other types or shapes.
quant::QuantizedWeights gguf_to_quantized(const GgufTensor& t, const std::string& source);

// llama.cpp's HF -> GGUF converter reorders the rows of LLaMA's Q and K projections (weights and
// biases) within each head: HF's rotate-half layout (row h*D + j*D/2 + i, j in {0, 1}) becomes
// interleaved pairs (row h*D + 2*i + j), D = rows / n_head. `n_head` is the head count for Q and
// the KV head count for K. Rows are `rows` equal runs of bytes, so this applies to any element or
// block type. `to_gguf` false undoes it. Throws std::invalid_argument unless rows is a positive
// multiple of 2 * n_head and the data is a whole number of rows.
std::vector<std::uint8_t> permute_llama_qk_rows(std::span<const std::uint8_t> data, std::int64_t rows, int n_head, bool to_gguf);
std::vector<float> permute_llama_qk_rows(std::span<const float> data, std::int64_t rows, int n_head, bool to_gguf);
// The same row reordering on group-quantized weights (codes, scales, zero points, minimums).
quant::QuantizedWeights permute_llama_qk_rows(const quant::QuantizedWeights& q, int n_head, bool to_gguf);

struct GgufTensorToWrite {
  std::string name;
  GgmlType type = GgmlType::kF32;
  std::vector<std::int64_t> shape;  // PyTorch order; written reversed
  std::span<const std::uint8_t> data;
};

// Writes a GGUF v3 file atomically. The alignment is general.alignment from `metadata` if present
// (must be a UINT32 power of two), else 32. Throws std::invalid_argument for invalid names,
// duplicate keys or tensors, too many dimensions, an innermost dimension that is not a multiple
// of the type's block, or data sizes that do not match.
void write_gguf(const std::string& path, const GgufMetadata& metadata, std::span<const GgufTensorToWrite> tensors);

}  // namespace mixpe::models
