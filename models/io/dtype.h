// Element types of unquantized tensors (the safetensors set) and their conversion to float.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace mixpe::models {

enum class Dtype { kF64, kF32, kF16, kBF16, kI64, kI32, kI16, kI8, kU8, kBool };

// Names as safetensors spells them ("F32", "BF16", "I8", "BOOL", ...).
std::string_view dtype_name(Dtype d);
std::optional<Dtype> parse_dtype(std::string_view name);
std::size_t dtype_size(Dtype d);
bool is_float_dtype(Dtype d);

// Element count of a shape, or nullopt if a dimension is negative or the product (or the byte
// size with `elem_size`) overflows 64 bits.
std::optional<std::uint64_t> checked_numel(std::span<const std::int64_t> shape, std::uint64_t elem_size = 1);

// Converts little-endian elements to float (integers exactly when |v| < 2^24, F64 rounded to nearest).
// `bytes.size()` must be a multiple of dtype_size(d).
std::vector<float> to_float32(Dtype d, std::span<const std::uint8_t> bytes);

// Encodes floats as `d` (F16/BF16 with round-to-nearest-even); only float dtypes.
std::vector<std::uint8_t> from_float32(Dtype d, std::span<const float> values);

}  // namespace mixpe::models
