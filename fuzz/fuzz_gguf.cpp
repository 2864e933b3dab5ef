// libFuzzer target: the GGUF parser must accept or reject any bytes without crashing.
#include <cstddef>
#include <cstdint>
#include <span>

#include "models/io/gguf.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto f = mixpe::models::GgufFile::parse(std::span<const std::uint8_t>(data, size), "fuzz");
    for (const auto& [key, value] : f.metadata()) (void)value.to_string();
    for (const auto& t : f.tensors()) {
      if (t.data.size() <= (1u << 20) && mixpe::models::ggml_type_dequantizable(t.type)) {
        (void)mixpe::models::dequantize_gguf_tensor(t, "fuzz");
      }
    }
  } catch (const mixpe::models::FormatError&) {
  }
  return 0;
}
