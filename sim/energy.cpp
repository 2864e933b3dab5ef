// Loading and validating technology/energy tables.
#include "sim/energy.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "sim/config.h"

namespace mixpe::sim {

double TechTable::at(const std::string& key) const {
  const auto it = entries.find(key);
  if (it == entries.end()) throw std::out_of_range(fmt::format("{}: technology table has no key '{}'", file, key));
  return it->second.value;
}

const std::vector<std::string>& required_tech_keys() {
  static const std::vector<std::string> keys = {
      "pe_mixpe_a8_pj", "pe_mixpe_a16_pj", "pe_fp16_pj", "pe_int8_pj", "pe_bitfusion_pj", "pe_ant_pj", "edge_add_pj", "dequant_op_pj", "vector_op_pj",
      "wbuf_read_pj_per_bit", "wbuf_write_pj_per_bit", "ibuf_read_pj_per_bit", "ibuf_write_pj_per_bit",
      "obuf_read_pj_per_bit", "obuf_write_pj_per_bit",
      "leakage_uw_per_pe", "leakage_uw_per_sram_kib"};
  return keys;
}

TechTable parse_tech_table(const std::string& yaml_text, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw std::invalid_argument(fmt::format("{}: YAML syntax error: {}", source, e.what()));
  }
  TechTable t;
  t.file = source;
  if (!root.IsMap() || !root["name"] || !root["entries"] || !root["entries"].IsMap())
    throw std::invalid_argument(fmt::format("{}: expected keys 'name' and 'entries' (a mapping)", source));
  if (!root["name"].IsScalar()) throw std::invalid_argument(fmt::format("{}: key 'name': expected a string", source));
  t.name = root["name"].Scalar();
  for (const auto& kv : root["entries"]) {
    const std::string key = kv.first.Scalar();
    const YAML::Node& e = kv.second;
    if (!e.IsMap() || !e["value"] || !e["source"] || !e["value"].IsScalar() || !e["source"].IsScalar())
      throw std::invalid_argument(fmt::format("{}: key 'entries.{}': expected {{value, source}}", source, key));
    const std::string v = e["value"].Scalar();
    char* end = nullptr;
    const double d = std::strtod(v.c_str(), &end);
    if (v.empty() || end != v.c_str() + v.size() || !std::isfinite(d) || d < 0.0)
      throw std::invalid_argument(fmt::format("{}: key 'entries.{}.value' = '{}': expected a non-negative number", source, key, v));
    const std::string src = e["source"].Scalar();
    if (src.empty()) throw std::invalid_argument(fmt::format("{}: key 'entries.{}.source' is empty: every value needs its source", source, key));
    t.entries[key] = TechEntry{d, src};
  }
  for (const auto& k : required_tech_keys())
    if (t.entries.find(k) == t.entries.end())
      throw std::invalid_argument(fmt::format("{}: missing key 'entries.{}'", source, k));
  return t;
}

TechTable load_tech_table(const std::string& name_or_path) {
  std::filesystem::path path(name_or_path);
  if (name_or_path.find('/') == std::string::npos && path.extension() != ".yaml")
    path = std::filesystem::path(config_dir()) / "tech" / (name_or_path + ".yaml");
  std::ifstream in(path);
  if (!in) throw std::invalid_argument(fmt::format("{}: cannot open technology table '{}'", path.string(), name_or_path));
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_tech_table(ss.str(), path.string());
}

}  // namespace mixpe::sim
