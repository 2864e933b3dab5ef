// libFuzzer target: the mixpe format parser must accept or reject any bytes without crashing.
#include <cstddef>
#include <cstdint>
#include <span>

#include "models/io/mixpe_format.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto f = mixpe::models::MixpeFile::parse(std::span<const std::uint8_t>(data, size), "fuzz");
    for (const auto& t : f.tensors()) {
      // Dequantized tensors hold 4 bytes per weight; bound the work per input.
      if (t.stored_bytes() <= (1u << 16)) (void)mixpe::models::dequantize_mixpe_tensor(t, "fuzz");
    }
  } catch (const mixpe::models::FormatError&) {
  }
  return 0;
}
