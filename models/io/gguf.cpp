// GGUF parsing with bounds checks on every read, tensor dequantization, and writing.
#include "models/io/gguf.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <set>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "models/io/dtype.h"
#include "models/io/ggml_quants.h"

namespace mixpe::models {
namespace {

struct TypeEntry {
  GgmlType type;
  GgmlTypeInfo info;
};

// Sizes from the block structs of ggml-common.h (QK_K = 256); only the first group and Q4_0, Q4_1,
// Q8_0 have value decoders here, the rest can be listed, size-checked and passed through.
constexpr std::array<TypeEntry, 29> kGgmlTypes{{
    {GgmlType::kF32, {"F32", 1, 4}},
    {GgmlType::kF16, {"F16", 1, 2}},
    {GgmlType::kQ4_0, {"Q4_0", 32, 18}},
    {GgmlType::kQ4_1, {"Q4_1", 32, 20}},
    {GgmlType::kQ5_0, {"Q5_0", 32, 22}},
    {GgmlType::kQ5_1, {"Q5_1", 32, 24}},
    {GgmlType::kQ8_0, {"Q8_0", 32, 34}},
    {GgmlType::kQ8_1, {"Q8_1", 32, 36}},
    {GgmlType::kQ2_K, {"Q2_K", 256, 84}},
    {GgmlType::kQ3_K, {"Q3_K", 256, 110}},
    {GgmlType::kQ4_K, {"Q4_K", 256, 144}},
    {GgmlType::kQ5_K, {"Q5_K", 256, 176}},
    {GgmlType::kQ6_K, {"Q6_K", 256, 210}},
    {GgmlType::kQ8_K, {"Q8_K", 256, 292}},
    {GgmlType::kIQ2_XXS, {"IQ2_XXS", 256, 66}},
    {GgmlType::kIQ2_XS, {"IQ2_XS", 256, 74}},
    {GgmlType::kIQ3_XXS, {"IQ3_XXS", 256, 98}},
    {GgmlType::kIQ1_S, {"IQ1_S", 256, 50}},
    {GgmlType::kIQ4_NL, {"IQ4_NL", 32, 18}},
    {GgmlType::kIQ3_S, {"IQ3_S", 256, 110}},
    {GgmlType::kIQ2_S, {"IQ2_S", 256, 82}},
    {GgmlType::kIQ4_XS, {"IQ4_XS", 256, 136}},
    {GgmlType::kIQ1_M, {"IQ1_M", 256, 56}},
    {GgmlType::kI8, {"I8", 1, 1}},
    {GgmlType::kI16, {"I16", 1, 2}},
    {GgmlType::kI32, {"I32", 1, 4}},
    {GgmlType::kI64, {"I64", 1, 8}},
    {GgmlType::kF64, {"F64", 1, 8}},
    {GgmlType::kBF16, {"BF16", 1, 2}},
}};

constexpr std::array<std::string_view, 13> kValueTypeNames{
    "UINT8", "INT8", "UINT16", "INT16", "UINT32", "INT32", "FLOAT32", "BOOL", "STRING", "ARRAY", "UINT64", "INT64", "FLOAT64"};
constexpr std::array<std::size_t, 13> kValueMinSize{1, 1, 2, 2, 4, 4, 4, 1, 8, 12, 8, 8, 8};

// A bounds-checked little-endian cursor; every failure names the field being read.
class Cursor {
 public:
  Cursor(std::span<const std::uint8_t> bytes, const std::string& source) : bytes_(bytes), source_(source) {}

  std::uint64_t pos() const { return pos_; }
  std::uint64_t remaining() const { return bytes_.size() - pos_; }

  void need(std::uint64_t n, std::string_view field) const {
    if (n > remaining()) {
      throw_format_error(source_, field,
                         fmt::format("needs {} bytes at offset {}, but the file ends after {} (truncated?)", n, pos_, remaining()));
    }
  }
  template <typename T>
  T read(std::string_view field) {
    need(sizeof(T), field);
    T v;
    std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string read_string(std::string_view field) {
    const auto len = read<std::uint64_t>(field);
    need(len, field);
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), len);
    pos_ += len;
    return s;
  }

 private:
  std::span<const std::uint8_t> bytes_;
  const std::string& source_;
  std::uint64_t pos_ = 0;
};

GgufValue read_value(Cursor& c, GgufValueType type, const std::string& field, int depth, const std::string& source) {
  switch (type) {
    case GgufValueType::kUint8: return GgufValue(c.read<std::uint8_t>(field));
    case GgufValueType::kInt8: return GgufValue(c.read<std::int8_t>(field));
    case GgufValueType::kUint16: return GgufValue(c.read<std::uint16_t>(field));
    case GgufValueType::kInt16: return GgufValue(c.read<std::int16_t>(field));
    case GgufValueType::kUint32: return GgufValue(c.read<std::uint32_t>(field));
    case GgufValueType::kInt32: return GgufValue(c.read<std::int32_t>(field));
    case GgufValueType::kFloat32: return GgufValue(c.read<float>(field));
    case GgufValueType::kBool: {
      const auto b = c.read<std::uint8_t>(field);
      if (b > 1) throw_format_error(source, field, fmt::format("BOOL byte is {}, not 0 or 1", b));
      return GgufValue(b == 1);
    }
    case GgufValueType::kString: return GgufValue(c.read_string(field));
    case GgufValueType::kUint64: return GgufValue(c.read<std::uint64_t>(field));
    case GgufValueType::kInt64: return GgufValue(c.read<std::int64_t>(field));
    case GgufValueType::kFloat64: return GgufValue(c.read<double>(field));
    case GgufValueType::kArray: {
      if (depth >= kGgufMaxArrayNesting) {
        throw_format_error(source, field, fmt::format("arrays nested deeper than {}", kGgufMaxArrayNesting));
      }
      const auto elem = c.read<std::uint32_t>(field + " element type");
      if (elem >= kValueTypeNames.size()) throw_format_error(source, field + " element type", fmt::format("unknown value type {}", elem));
      const auto count = c.read<std::uint64_t>(field + " count");
      // Bounds the allocation by what the file can actually hold.
      if (count > c.remaining() / kValueMinSize[elem]) {
        throw_format_error(source, field + " count",
                           fmt::format("{} {} elements cannot fit in the {} bytes left", count, kValueTypeNames[elem], c.remaining()));
      }
      GgufArray arr;
      arr.type = static_cast<GgufValueType>(elem);
      arr.items.reserve(count);
      for (std::uint64_t i = 0; i < count; ++i) {
        arr.items.push_back(read_value(c, arr.type, fmt::format("{}[{}]", field, i), depth + 1, source));
      }
      return GgufValue(std::move(arr));
    }
  }
  throw_format_error(source, field, fmt::format("unknown value type {}", static_cast<std::uint32_t>(type)));
}

class Sink {
 public:
  explicit Sink(AtomicFileWriter& out) : out_(out) {}
  template <typename T>
  void put(T v) { out_.write(&v, sizeof(T)); }
  void put_string(std::string_view s) {
    put<std::uint64_t>(s.size());
    out_.write(s.data(), s.size());
  }

 private:
  AtomicFileWriter& out_;
};

void write_value(Sink& s, const GgufValue& v) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          s.put_string(x);
        } else if constexpr (std::is_same_v<T, GgufArray>) {
          s.put<std::uint32_t>(static_cast<std::uint32_t>(x.type));
          s.put<std::uint64_t>(x.items.size());
          for (const GgufValue& item : x.items) write_value(s, item);
        } else if constexpr (std::is_same_v<T, bool>) {
          s.put<std::uint8_t>(x ? 1 : 0);
        } else {
          s.put<T>(x);
        }
      },
      v.value);
}

void check_value(const GgufValue& v, const std::string& path, const std::string& key, int depth) {
  if (const auto* arr = std::get_if<GgufArray>(&v.value)) {
    if (depth >= kGgufMaxArrayNesting) throw std::invalid_argument(fmt::format("{}: metadata '{}' nests arrays too deeply", path, key));
    for (const GgufValue& item : arr->items) {
      if (item.type() != arr->type) {
        throw std::invalid_argument(fmt::format("{}: metadata '{}' array of {} holds a {}", path, key,
                                                gguf_value_type_name(arr->type), gguf_value_type_name(item.type())));
      }
      check_value(item, path, key, depth + 1);
    }
  }
}

}  // namespace

std::string_view gguf_value_type_name(GgufValueType t) {
  const auto i = static_cast<std::size_t>(t);
  return i < kValueTypeNames.size() ? kValueTypeNames[i] : "UNKNOWN";
}

bool GgufArray::operator==(const GgufArray& o) const { return type == o.type && items == o.items; }

std::string GgufValue::to_string(std::size_t max_items) const {
  return std::visit(
      [&](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return fmt::format("\"{}\"", printable(x, 80));
        } else if constexpr (std::is_same_v<T, GgufArray>) {
          std::string out = fmt::format("[{} x {}: ", gguf_value_type_name(x.type), x.items.size());
          for (std::size_t i = 0; i < x.items.size() && i < max_items; ++i) {
            out += (i ? ", " : "") + x.items[i].to_string(max_items);
          }
          return out + (x.items.size() > max_items ? ", ...]" : "]");
        } else if constexpr (std::is_same_v<T, bool>) {
          return x ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::uint8_t> || std::is_same_v<T, std::int8_t>) {
          return fmt::format("{}", static_cast<int>(x));
        } else {
          return fmt::format("{}", x);
        }
      },
      value);
}

std::optional<GgmlTypeInfo> ggml_type_info(std::uint32_t id) {
  for (const TypeEntry& e : kGgmlTypes)
    if (static_cast<std::uint32_t>(e.type) == id) return e.info;
  return std::nullopt;
}

std::string_view ggml_type_name(GgmlType t) {
  const auto info = ggml_type_info(static_cast<std::uint32_t>(t));
  return info ? info->name : "UNKNOWN";
}

std::optional<GgmlType> parse_ggml_type(std::string_view name) {
  for (const TypeEntry& e : kGgmlTypes)
    if (e.info.name == name) return e.type;
  return std::nullopt;
}

bool ggml_type_dequantizable(GgmlType t) {
  switch (t) {
    case GgmlType::kF32: case GgmlType::kF16: case GgmlType::kBF16: case GgmlType::kF64:
    case GgmlType::kI8: case GgmlType::kI16: case GgmlType::kI32: case GgmlType::kI64:
    case GgmlType::kQ4_0: case GgmlType::kQ4_1: case GgmlType::kQ8_0:
      return true;
    default:
      return false;
  }
}

std::vector<std::int64_t> GgufTensor::shape() const {
  std::vector<std::int64_t> s(dims.rbegin(), dims.rend());
  return s;
}

std::uint64_t GgufTensor::numel() const {
  std::uint64_t n = 1;
  for (std::uint64_t d : dims) n *= d;
  return n;
}

GgufFile GgufFile::open(const std::string& path) {
  auto file = std::make_shared<MappedFile>(path);
  GgufFile f = parse(file->bytes(), path);
  f.file_ = std::move(file);
  return f;
}

GgufFile GgufFile::parse(std::span<const std::uint8_t> bytes, const std::string& source) {
  GgufFile f;
  f.source_ = source;
  Cursor c(bytes, source);
  const auto magic = c.read<std::uint32_t>("magic");
  if (magic != kGgufMagic) {
    throw_format_error(source, "magic",
                       fmt::format("'{}' is not \"GGUF\"", printable({reinterpret_cast<const char*>(bytes.data()), 4})));
  }
  f.version_ = c.read<std::uint32_t>("version");
  if (f.version_ != 2 && f.version_ != 3) {
    throw_format_error(source, "version",
                       fmt::format("{} is not supported (2 or 3, little-endian{})", f.version_,
                                   f.version_ == 0x03000000 || f.version_ == 0x02000000 ? "; this looks big-endian" : ""));
  }
  const auto tensor_count = c.read<std::uint64_t>("tensor_count");
  const auto kv_count = c.read<std::uint64_t>("metadata_kv_count");
  // Smallest possible entries: key (8 + 0) + type (4) + 1 value byte; tensor info 8 + 4 + 4 + 8.
  if (kv_count > c.remaining() / 13) {
    throw_format_error(source, "metadata_kv_count", fmt::format("{} entries cannot fit in a {}-byte file", kv_count, bytes.size()));
  }
  if (tensor_count > c.remaining() / 24) {
    throw_format_error(source, "tensor_count", fmt::format("{} tensors cannot fit in a {}-byte file", tensor_count, bytes.size()));
  }

  std::set<std::string, std::less<>> keys;
  f.metadata_.reserve(kv_count);
  for (std::uint64_t i = 0; i < kv_count; ++i) {
    const std::string field = fmt::format("metadata[{}]", i);
    std::string key = c.read_string(field + " key");
    if (key.empty() || !is_valid_utf8(key)) {
      throw_format_error(source, field + " key", fmt::format("'{}' is empty or not valid UTF-8", printable(key)));
    }
    if (!keys.insert(key).second) throw_format_error(source, field + " key", fmt::format("duplicate key '{}'", key));
    const std::string vfield = fmt::format("metadata '{}'", key);
    const auto type = c.read<std::uint32_t>(vfield + " value type");
    if (type >= kValueTypeNames.size()) throw_format_error(source, vfield + " value type", fmt::format("unknown value type {}", type));
    GgufValue value = read_value(c, static_cast<GgufValueType>(type), vfield, 0, source);
    f.metadata_.emplace_back(std::move(key), std::move(value));
  }
  if (const GgufValue* a = f.find_metadata("general.alignment")) {
    const auto* v = std::get_if<std::uint32_t>(&a->value);
    if (v == nullptr) {
      throw_format_error(source, "metadata 'general.alignment'", fmt::format("has type {}, expected UINT32", gguf_value_type_name(a->type())));
    }
    if (*v == 0 || (*v & (*v - 1)) != 0) {
      throw_format_error(source, "metadata 'general.alignment'", fmt::format("{} is not a power of two", *v));
    }
    f.alignment_ = *v;
  }

  std::set<std::string, std::less<>> names;
  std::vector<std::uint64_t> sizes;
  f.tensors_.reserve(tensor_count);
  for (std::uint64_t i = 0; i < tensor_count; ++i) {
    std::string field = fmt::format("tensor_info[{}]", i);
    GgufTensor t;
    t.name = c.read_string(field + " name");
    if (t.name.empty() || !is_valid_utf8(t.name)) {
      throw_format_error(source, field + " name", fmt::format("'{}' is empty or not valid UTF-8", printable(t.name)));
    }
    if (!names.insert(t.name).second) throw_format_error(source, field + " name", fmt::format("duplicate tensor '{}'", t.name));
    field = fmt::format("tensor '{}'", t.name);
    const auto n_dims = c.read<std::uint32_t>(field + " n_dims");
    if (n_dims > static_cast<std::uint32_t>(kGgufMaxDims)) {
      throw_format_error(source, field + " n_dims", fmt::format("{} exceeds the maximum of {}", n_dims, kGgufMaxDims));
    }
    for (std::uint32_t d = 0; d < n_dims; ++d) t.dims.push_back(c.read<std::uint64_t>(field + " dims"));
    const auto type_id = c.read<std::uint32_t>(field + " type");
    const std::optional<GgmlTypeInfo> info = ggml_type_info(type_id);
    if (!info) throw_format_error(source, field + " type", fmt::format("unknown or unsupported ggml type id {}", type_id));
    t.type = static_cast<GgmlType>(type_id);
    t.offset = c.read<std::uint64_t>(field + " offset");

    std::uint64_t numel = 1;
    for (std::uint64_t d : t.dims) {
      if (d > static_cast<std::uint64_t>(INT64_MAX) || (d != 0 && numel > static_cast<std::uint64_t>(INT64_MAX) / d)) {
        throw_format_error(source, field + " dims", fmt::format("[{}] overflows 64-bit element counts", fmt::join(t.dims, ", ")));
      }
      numel *= d;
    }
    const std::uint64_t inner = t.dims.empty() ? 1 : t.dims[0];
    if (inner % info->block_size != 0) {
      throw_format_error(source, field + " dims",
                         fmt::format("innermost dimension {} is not a multiple of the {} block size {}", inner, info->name, info->block_size));
    }
    if (numel / info->block_size > bytes.size() / info->type_size) {
      throw_format_error(source, field + " dims",
                         fmt::format("[{}] of {} needs more bytes than the whole {}-byte file", fmt::join(t.dims, ", "), info->name, bytes.size()));
    }
    sizes.push_back(numel / info->block_size * info->type_size);
    if (t.offset % f.alignment_ != 0) {
      throw_format_error(source, field + " offset", fmt::format("{} is not a multiple of the alignment {}", t.offset, f.alignment_));
    }
    f.tensors_.push_back(std::move(t));
  }

  f.data_offset_ = align_up(c.pos(), f.alignment_);
  if (f.data_offset_ > bytes.size() && !f.tensors_.empty()) {
    throw_format_error(source, "tensor data", fmt::format("section would start at {}, past the end of the {}-byte file", f.data_offset_, bytes.size()));
  }
  const std::uint64_t data_size = f.data_offset_ <= bytes.size() ? bytes.size() - f.data_offset_ : 0;
  for (std::size_t i = 0; i < f.tensors_.size(); ++i) {
    GgufTensor& t = f.tensors_[i];
    const std::uint64_t size = sizes[i];
    if (t.offset > data_size || size > data_size - t.offset) {
      throw_format_error(source, fmt::format("tensor '{}' offset", t.name),
                         fmt::format("[{}, {}) runs past the end of the {}-byte data section (truncated file?)", t.offset,
                                     t.offset + size, data_size));
    }
    t.data = bytes.subspan(f.data_offset_ + t.offset, size);
  }
  std::vector<const GgufTensor*> sorted;
  for (const GgufTensor& t : f.tensors_) sorted.push_back(&t);
  std::sort(sorted.begin(), sorted.end(), [](const GgufTensor* a, const GgufTensor* b) { return a->offset < b->offset; });
  for (std::size_t i = 1; i < sorted.size(); ++i) {
    const GgufTensor& prev = *sorted[i - 1];
    if (sorted[i]->offset < prev.offset + prev.data.size()) {
      throw_format_error(source, fmt::format("tensor '{}' offset", sorted[i]->name),
                         fmt::format("{} overlaps tensor '{}' at [{}, {})", sorted[i]->offset, prev.name, prev.offset,
                                     prev.offset + prev.data.size()));
    }
  }
  return f;
}

const GgufValue* GgufFile::find_metadata(std::string_view key) const {
  for (const auto& [k, v] : metadata_)
    if (k == key) return &v;
  return nullptr;
}

const GgufTensor* GgufFile::find(std::string_view name) const {
  for (const GgufTensor& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

std::vector<float> dequantize_gguf_tensor(const GgufTensor& t, const std::string& source) {
  switch (t.type) {
    case GgmlType::kF32: return to_float32(Dtype::kF32, t.data);
    case GgmlType::kF16: return to_float32(Dtype::kF16, t.data);
    case GgmlType::kBF16: return to_float32(Dtype::kBF16, t.data);
    case GgmlType::kF64: return to_float32(Dtype::kF64, t.data);
    case GgmlType::kI8: return to_float32(Dtype::kI8, t.data);
    case GgmlType::kI16: return to_float32(Dtype::kI16, t.data);
    case GgmlType::kI32: return to_float32(Dtype::kI32, t.data);
    case GgmlType::kI64: return to_float32(Dtype::kI64, t.data);
    case GgmlType::kQ4_0: return dequantize_q4_0(blocks_from_bytes<BlockQ4_0>(t.data));
    case GgmlType::kQ4_1: return dequantize_q4_1(blocks_from_bytes<BlockQ4_1>(t.data));
    case GgmlType::kQ8_0: return dequantize_q8_0(blocks_from_bytes<BlockQ8_0>(t.data));
    default:
      throw_format_error(source, fmt::format("tensor '{}' type", t.name),
                         fmt::format("{} cannot be dequantized by mixpe", ggml_type_name(t.type)));
  }
}

quant::QuantizedWeights gguf_to_quantized(const GgufTensor& t, const std::string& source) {
  const std::string field = fmt::format("tensor '{}'", t.name);
  if (t.dims.size() != 2 || t.dims[0] > INT32_MAX || t.dims[1] > INT32_MAX || t.dims[0] == 0 || t.dims[1] == 0) {
    throw_format_error(source, field + " dims", fmt::format("[{}] is not a 2-D weight", fmt::join(t.dims, ", ")));
  }
  const int n = static_cast<int>(t.dims[1]), k = static_cast<int>(t.dims[0]);
  switch (t.type) {
    case GgmlType::kQ4_0: return q4_0_to_quantized(blocks_from_bytes<BlockQ4_0>(t.data), n, k);
    case GgmlType::kQ4_1: return q4_1_to_quantized(blocks_from_bytes<BlockQ4_1>(t.data), n, k);
    case GgmlType::kQ8_0: return q8_0_to_quantized(blocks_from_bytes<BlockQ8_0>(t.data), n, k);
    default:
      throw_format_error(source, field + " type", fmt::format("{} has no MixPE group-quantized form", ggml_type_name(t.type)));
  }
}

namespace {

// Source row of each destination row.
std::vector<std::int64_t> qk_row_order(std::int64_t rows, int n_head, bool to_gguf) {
  if (n_head <= 0 || rows <= 0 || rows % (2 * static_cast<std::int64_t>(n_head)) != 0) {
    throw std::invalid_argument(fmt::format("Q/K row permutation: {} rows do not split into {} heads of an even size", rows, n_head));
  }
  const std::int64_t d = rows / n_head, half = d / 2;
  std::vector<std::int64_t> src(static_cast<std::size_t>(rows));
  for (std::int64_t h = 0; h < n_head; ++h) {
    for (std::int64_t i = 0; i < half; ++i) {
      for (std::int64_t j = 0; j < 2; ++j) {
        const std::int64_t hf = h * d + j * half + i, gg = h * d + 2 * i + j;
        src[static_cast<std::size_t>(to_gguf ? gg : hf)] = to_gguf ? hf : gg;
      }
    }
  }
  return src;
}

template <typename T>
std::vector<T> permute_rows(std::span<const T> data, std::int64_t rows, int n_head, bool to_gguf) {
  const std::vector<std::int64_t> src = qk_row_order(rows, n_head, to_gguf);
  if (data.size() % static_cast<std::size_t>(rows) != 0) {
    throw std::invalid_argument(fmt::format("Q/K row permutation: {} elements are not {} whole rows", data.size(), rows));
  }
  const std::size_t width = data.size() / static_cast<std::size_t>(rows);
  std::vector<T> out(data.size());
  for (std::size_t r = 0; r < src.size(); ++r) {
    std::copy_n(data.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(src[r]) * width), width,
                out.begin() + static_cast<std::ptrdiff_t>(r * width));
  }
  return out;
}

}  // namespace

std::vector<std::uint8_t> permute_llama_qk_rows(std::span<const std::uint8_t> data, std::int64_t rows, int n_head, bool to_gguf) {
  return permute_rows(data, rows, n_head, to_gguf);
}

std::vector<float> permute_llama_qk_rows(std::span<const float> data, std::int64_t rows, int n_head, bool to_gguf) {
  return permute_rows(data, rows, n_head, to_gguf);
}

quant::QuantizedWeights permute_llama_qk_rows(const quant::QuantizedWeights& q, int n_head, bool to_gguf) {
  quant::QuantizedWeights out = q;
  out.codes = permute_rows<std::int16_t>(q.codes, q.n, n_head, to_gguf);
  out.scales = permute_rows<quant::Half>(q.scales, q.n, n_head, to_gguf);
  out.zeros = permute_rows<std::uint8_t>(q.zeros, q.n, n_head, to_gguf);
  if (q.has_mins()) out.mins = permute_rows<quant::Half>(q.mins, q.n, n_head, to_gguf);
  return out;
}

void write_gguf(const std::string& path, const GgufMetadata& metadata, std::span<const GgufTensorToWrite> tensors) {
  std::uint32_t alignment = kGgufDefaultAlignment;
  std::set<std::string, std::less<>> keys;
  for (const auto& [key, value] : metadata) {
    if (key.empty() || !is_valid_utf8(key)) throw std::invalid_argument(fmt::format("{}: invalid metadata key '{}'", path, printable(key)));
    if (!keys.insert(key).second) throw std::invalid_argument(fmt::format("{}: duplicate metadata key '{}'", path, key));
    check_value(value, path, key, 0);
    if (key == "general.alignment") {
      const auto* v = std::get_if<std::uint32_t>(&value.value);
      if (v == nullptr || *v == 0 || (*v & (*v - 1)) != 0) {
        throw std::invalid_argument(fmt::format("{}: general.alignment must be a UINT32 power of two", path));
      }
      alignment = *v;
    }
  }
  std::set<std::string, std::less<>> names;
  std::vector<std::uint64_t> offsets;
  std::uint64_t offset = 0;
  for (const GgufTensorToWrite& t : tensors) {
    if (t.name.empty() || !is_valid_utf8(t.name) || t.name.size() > kGgufMaxNameBytes) {
      throw std::invalid_argument(fmt::format("{}: tensor name '{}' must be 1..{} bytes of UTF-8", path, printable(t.name), kGgufMaxNameBytes));
    }
    if (!names.insert(t.name).second) throw std::invalid_argument(fmt::format("{}: duplicate tensor '{}'", path, t.name));
    if (t.shape.size() > static_cast<std::size_t>(kGgufMaxDims)) {
      throw std::invalid_argument(fmt::format("{}: tensor '{}' has {} dimensions, GGUF allows {}", path, t.name, t.shape.size(), kGgufMaxDims));
    }
    const GgmlTypeInfo info = *ggml_type_info(static_cast<std::uint32_t>(t.type));
    const std::optional<std::uint64_t> numel = checked_numel(t.shape, info.type_size);
    const std::int64_t inner = t.shape.empty() ? 1 : t.shape.back();
    if (!numel || inner % info.block_size != 0) {
      throw std::invalid_argument(fmt::format("{}: tensor '{}' shape [{}]: innermost dimension is not a multiple of the {} block size {}",
                                              path, t.name, fmt::join(t.shape, ", "), info.name, info.block_size));
    }
    const std::uint64_t bytes = *numel / info.block_size * info.type_size;
    if (bytes != t.data.size()) {
      throw std::invalid_argument(fmt::format("{}: tensor '{}' {} [{}] needs {} bytes, got {}", path, t.name, info.name,
                                              fmt::join(t.shape, ", "), bytes, t.data.size()));
    }
    offsets.push_back(offset);
    offset = align_up(offset + bytes, alignment);
  }

  AtomicFileWriter out(path);
  Sink s(out);
  s.put<std::uint32_t>(kGgufMagic);
  s.put<std::uint32_t>(kGgufVersion);
  s.put<std::uint64_t>(tensors.size());
  s.put<std::uint64_t>(metadata.size());
  for (const auto& [key, value] : metadata) {
    s.put_string(key);
    s.put<std::uint32_t>(static_cast<std::uint32_t>(value.type()));
    write_value(s, value);
  }
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const GgufTensorToWrite& t = tensors[i];
    s.put_string(t.name);
    s.put<std::uint32_t>(static_cast<std::uint32_t>(t.shape.size()));
    for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it) s.put<std::uint64_t>(static_cast<std::uint64_t>(*it));
    s.put<std::uint32_t>(static_cast<std::uint32_t>(t.type));
    s.put<std::uint64_t>(offsets[i]);
  }
  out.pad_to(alignment);
  const std::uint64_t data_start = out.bytes_written();
  for (const GgufTensorToWrite& t : tensors) {
    out.write(t.data);
    out.write_zeros(align_up(out.bytes_written() - data_start, alignment) - (out.bytes_written() - data_start));
  }
  out.commit();
}

}  // namespace mixpe::models
