// Neural-operator loading: model directory, bare config or preset name -> the family's builder.
#include "models/operators/operator.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "models/io/safetensors.h"

namespace mixpe::models {
namespace {

namespace fs = std::filesystem;

using Builder = std::unique_ptr<NeuralOperator> (*)(const nlohmann::json&, const std::string&, const SafetensorsFile*);

// The one table of operator families (model_type -> builder).
const std::vector<std::pair<std::string, Builder>>& families() {
  static const std::vector<std::pair<std::string, Builder>> kTable{
      {"fno", make_fno},
      {"ifno", make_fno},
      {"mgno", make_mgno},
      {"deeponet", make_deeponet},
  };
  return kTable;
}

fs::path zoo_dir() {
  if (const char* env = std::getenv("MIXPE_ZOO_DIR"); env && *env) return env;
  return MIXPE_SOURCE_ZOO_DIR;
}

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open", path.string()));
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(fmt::format("{}: invalid JSON: {}", path.string(), e.what()));
  }
}

std::unique_ptr<NeuralOperator> build(const fs::path& config_path, const std::optional<fs::path>& weights_path) {
  const nlohmann::json config = read_json(config_path);
  const std::string source = config_path.string();
  if (!config.is_object() || !config.contains("model_type") || !config.at("model_type").is_string()) {
    throw FormatError(fmt::format("{}: model_type: missing or not a string", source));
  }
  const std::string type = config.at("model_type").get<std::string>();
  for (const auto& [name, builder] : families()) {
    if (name != type) continue;
    if (!weights_path) return builder(config, source, nullptr);
    const SafetensorsFile weights = SafetensorsFile::open(weights_path->string());
    return builder(config, source, &weights);
  }
  std::string known;
  for (const auto& f : families()) known += (known.empty() ? "" : ", ") + f.first;
  throw FormatError(fmt::format("{}: model_type: value \"{}\" is not a neural operator family ({})", source, type, known));
}

std::unique_ptr<NeuralOperator> load_dir(const fs::path& dir) {
  const fs::path weights = dir / "model.safetensors";
  if (!fs::exists(weights)) throw std::runtime_error(fmt::format("{}: missing (model directory {})", weights.string(), dir.string()));
  return build(dir / "config.json", weights);
}

}  // namespace

const char* to_string(GemmRole r) {
  switch (r) {
    case GemmRole::kLift: return "lift";
    case GemmRole::kProject: return "project";
    case GemmRole::kPointwise: return "pointwise";
    case GemmRole::kSpectral: return "spectral";
    case GemmRole::kDft: return "dft";
    case GemmRole::kConv: return "conv";
    case GemmRole::kBranch: return "branch";
    case GemmRole::kTrunk: return "trunk";
  }
  return "?";
}

bool is_operator_config(const nlohmann::json& config) {
  if (!config.is_object() || !config.contains("model_type") || !config.at("model_type").is_string()) return false;
  const std::string type = config.at("model_type").get<std::string>();
  for (const auto& f : families())
    if (f.first == type) return true;
  return false;
}

std::unique_ptr<NeuralOperator> load_operator(const std::string& dir_or_config) {
  const fs::path p(dir_or_config);
  if (fs::is_directory(p)) return load_dir(p);
  if (fs::is_regular_file(p)) return build(p, std::nullopt);
  // A preset name: a trained model in the zoo, else a shapes-only config.
  if (!dir_or_config.empty() && dir_or_config.find('/') == std::string::npos) {
    const fs::path zoo = zoo_dir() / dir_or_config;
    if (fs::is_directory(zoo)) return load_dir(zoo);
    const fs::path preset = fs::path(MIXPE_SOURCE_CONFIG_DIR) / "operators" / (dir_or_config + ".json");
    if (fs::is_regular_file(preset)) return build(preset, std::nullopt);
    throw std::runtime_error(fmt::format("operator \"{}\": no model directory, config file, {} or {}", dir_or_config,
                                         zoo.string(), preset.string()));
  }
  throw std::runtime_error(fmt::format("operator \"{}\": no such model directory or config file", dir_or_config));
}

}  // namespace mixpe::models
