// Element type names, sizes and float conversions.
#include "models/io/dtype.h"

#include <array>
#include <cassert>
#include <cstring>
#include <stdexcept>

#include "quant/float16.h"

namespace mixpe::models {
namespace {

struct DtypeInfo {
  Dtype dtype;
  std::string_view name;
  std::size_t size;
};

constexpr std::array<DtypeInfo, 10> kDtypes{{
    {Dtype::kF64, "F64", 8},
    {Dtype::kF32, "F32", 4},
    {Dtype::kF16, "F16", 2},
    {Dtype::kBF16, "BF16", 2},
    {Dtype::kI64, "I64", 8},
    {Dtype::kI32, "I32", 4},
    {Dtype::kI16, "I16", 2},
    {Dtype::kI8, "I8", 1},
    {Dtype::kU8, "U8", 1},
    {Dtype::kBool, "BOOL", 1},
}};

template <typename T>
T load(const std::uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

}  // namespace

std::string_view dtype_name(Dtype d) { return kDtypes[static_cast<int>(d)].name; }
std::size_t dtype_size(Dtype d) { return kDtypes[static_cast<int>(d)].size; }

std::optional<Dtype> parse_dtype(std::string_view name) {
  for (const DtypeInfo& info : kDtypes)
    if (info.name == name) return info.dtype;
  return std::nullopt;
}

bool is_float_dtype(Dtype d) { return d == Dtype::kF64 || d == Dtype::kF32 || d == Dtype::kF16 || d == Dtype::kBF16; }

std::optional<std::uint64_t> checked_numel(std::span<const std::int64_t> shape, std::uint64_t elem_size) {
  assert(elem_size > 0);
  std::uint64_t n = elem_size;
  for (std::int64_t dim : shape) {
    if (dim < 0) return std::nullopt;
    const auto u = static_cast<std::uint64_t>(dim);
    if (u != 0 && n > UINT64_MAX / u) return std::nullopt;
    n *= u;
  }
  return n / elem_size;
}

std::vector<float> to_float32(Dtype d, std::span<const std::uint8_t> bytes) {
  const std::size_t size = dtype_size(d);
  assert(bytes.size() % size == 0 && "byte count must be a whole number of elements");
  const std::size_t n = bytes.size() / size;
  std::vector<float> out(n);
  const std::uint8_t* p = bytes.data();
  for (std::size_t i = 0; i < n; ++i, p += size) {
    switch (d) {
      case Dtype::kF64: out[i] = static_cast<float>(load<double>(p)); break;
      case Dtype::kF32: out[i] = load<float>(p); break;
      case Dtype::kF16: out[i] = quant::Half::from_bits(load<std::uint16_t>(p)).to_float(); break;
      case Dtype::kBF16: out[i] = quant::BFloat16::from_bits(load<std::uint16_t>(p)).to_float(); break;
      case Dtype::kI64: out[i] = static_cast<float>(load<std::int64_t>(p)); break;
      case Dtype::kI32: out[i] = static_cast<float>(load<std::int32_t>(p)); break;
      case Dtype::kI16: out[i] = static_cast<float>(load<std::int16_t>(p)); break;
      case Dtype::kI8: out[i] = static_cast<float>(load<std::int8_t>(p)); break;
      case Dtype::kU8: out[i] = static_cast<float>(*p); break;
      case Dtype::kBool: out[i] = *p != 0 ? 1.0f : 0.0f; break;
    }
  }
  return out;
}

std::vector<std::uint8_t> from_float32(Dtype d, std::span<const float> values) {
  if (!is_float_dtype(d)) throw std::invalid_argument("from_float32: only float dtypes can be encoded from float");
  std::vector<std::uint8_t> out(values.size() * dtype_size(d));
  std::uint8_t* p = out.data();
  for (float v : values) {
    switch (d) {
      case Dtype::kF64: {
        const double x = v;
        std::memcpy(p, &x, 8);
        p += 8;
        break;
      }
      case Dtype::kF32:
        std::memcpy(p, &v, 4);
        p += 4;
        break;
      case Dtype::kF16: {
        const std::uint16_t b = quant::Half::from_float(v).bits();
        std::memcpy(p, &b, 2);
        p += 2;
        break;
      }
      default: {
        const std::uint16_t b = quant::BFloat16::from_float(v).bits();
        std::memcpy(p, &b, 2);
        p += 2;
        break;
      }
    }
  }
  return out;
}

}  // namespace mixpe::models
