// libFuzzer target: a Hugging Face config.json must parse into a ModelConfig or be rejected with a
// JSON syntax error, or with std::invalid_argument or std::runtime_error (an inconsistent shape)
// naming the file; anything else escaping (e.g. a JSON type error without the file) is a finding.
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "models/llm/model_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(data, data + size);
  } catch (const nlohmann::json::exception&) {  // a syntax error or a number out of range: rejected, as the reader does
    return 0;
  }
  try {
    (void)mixpe::models::parse_hf_config(j, "fuzz/config.json");
  } catch (const std::invalid_argument&) {
  } catch (const std::runtime_error&) {
  }
  return 0;
}
