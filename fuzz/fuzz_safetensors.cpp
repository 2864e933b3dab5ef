// libFuzzer target: the safetensors parser must accept or reject any bytes without crashing.
#include <cstddef>
#include <cstdint>
#include <span>

#include "models/io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto f = mixpe::models::SafetensorsFile::parse(std::span<const std::uint8_t>(data, size), "fuzz");
    // Touch every accepted byte range: out-of-bounds spans would trip AddressSanitizer here.
    for (const auto& t : f.tensors()) {
      if (t.data.size() <= (1u << 20)) (void)mixpe::models::to_float32(t.dtype, t.data);
    }
  } catch (const mixpe::models::FormatError&) {
  }
  return 0;
}
