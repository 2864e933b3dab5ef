// libFuzzer target: sim's YAML readers (hardware config, technology table, synthesized-unit table)
// must accept or reject any text with std::invalid_argument naming the file; anything else escaping
// (a YAML or conversion exception, a crash) is a finding.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "sim/area.h"
#include "sim/config.h"
#include "sim/energy.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    (void)mixpe::sim::parse_config_text(text, "fuzz.yaml");
  } catch (const std::invalid_argument&) {
  }
  try {
    (void)mixpe::sim::parse_tech_table(text, "fuzz.yaml");
  } catch (const std::invalid_argument&) {
  }
  try {
    (void)mixpe::sim::parse_unit_areas(text, "fuzz.yaml");
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
