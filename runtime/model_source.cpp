// Model lookup and loading for the model commands, and their shared numerics options.
#include "runtime/model_source.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "models/io/mixpe_format.h"
#include "models/io/model_file.h"
#include "models/llm/calibrate.h"
#include "quant/packed.h"
#include "sim/config.h"

namespace mixpe::runtime {
namespace {

namespace fs = std::filesystem;

nlohmann::json read_json_file(const fs::path& p) {
  std::ifstream in(p);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open", p.string()));
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(fmt::format("{}: invalid JSON: {}", p.string(), e.what()));
  }
}

}  // namespace

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string zoo_dir() {
  if (const char* env = std::getenv("MIXPE_ZOO_DIR"); env != nullptr && *env != '\0') return env;
  if (const std::string share = sim::installed_data_dir(); !share.empty()) return share + "/zoo";
  return MIXPE_SOURCE_ZOO_DIR;
}

std::string resolve_model_path(const std::string& name) {
  if (fs::exists(name)) return name;
  if (!name.empty() && name.find('/') == std::string::npos && fs::is_directory(fs::path(zoo_dir()) / name)) {
    return (fs::path(zoo_dir()) / name).string();
  }
  return name;
}

bool is_operator_model(const std::string& name_or_path) {
  const fs::path p(resolve_model_path(name_or_path));
  if (fs::is_directory(p)) return fs::exists(p / "config.json") && models::is_operator_config(read_json_file(p / "config.json"));
  if (fs::is_regular_file(p) && p.extension() == ".json") return models::is_operator_config(read_json_file(p));
  if (fs::exists(p)) return false;
  return fs::is_regular_file(fs::path(MIXPE_SOURCE_CONFIG_DIR) / "operators" / (name_or_path + ".json"));
}

LlmSource load_llm_source(const std::string& name_or_path) {
  LlmSource src;
  src.path = resolve_model_path(name_or_path);
  const fs::path p(src.path);
  if (!fs::exists(p)) {
    throw std::runtime_error(fmt::format("model \"{}\": no such directory or file (and no model of that name in {})", name_or_path, zoo_dir()));
  }
  const fs::path dir = fs::is_directory(p) ? p : p.parent_path();
  // A directory written by `mixpe quantize --method ...` holds model.mixpe.
  const std::string model_path = fs::is_directory(p) && fs::exists(p / "model.mixpe") ? (p / "model.mixpe").string() : src.path;
  const models::Model file = models::Model::open(model_path);
  models::ModelConfig config;
  if (file.gguf() != nullptr) {
    config = models::llm_config_from_gguf(*file.gguf());
  } else if (fs::exists(dir / "config.json")) {
    config = models::load_model_config((dir / "config.json").string());
  } else {
    throw std::runtime_error(fmt::format("{}: no config.json beside the model file (needed for its architecture)", src.path));
  }
  if (!config.is_decoder()) throw std::runtime_error(fmt::format("{}: model_type {} is not a decoder LLM", src.path, models::to_string(config.family)));
  src.llm = models::load_llm(file, config);
  if (file.gguf() != nullptr && file.gguf()->find_metadata("tokenizer.ggml.tokens") != nullptr) {
    src.tokenizer = models::Tokenizer::from_gguf(*file.gguf());
  } else if (fs::exists(dir / "tokenizer.json")) {
    src.tokenizer = models::Tokenizer::load((dir / "tokenizer.json").string());
  }
  return src;
}

void NumericsOptions::add_to(CLI::App* cmd) {
  cmd->add_option("--numerics", numerics, "PE numerics: float, mixpe-int8, mixpe-fp16, mixpe-bf16, fp16, int8, bitfusion, ant (on the paper design for it)")
      ->capture_default_str();
  cmd->add_option("--hw", hw, "Run on this design's numerics, weight format and tiling instead (preset or .yaml)");
  cmd->add_option("-p,--param", overrides, "Override a key of the --hw design, e.g. -p array.group_size=64 (repeatable)");
  cmd->add_option("--wbits", wbits, "Weight bits (2, 3, 4, 8); default: the design's (4)");
  cmd->add_option("--group", group, "Weight group size along K; -1 per-channel; default: the design's (128)");
  cmd->add_flag("--sym", sym, "Symmetric (signed) weight codes instead of a zero point");
  cmd->add_flag("--clip-search", clip_search, "RTN: search the MSE-optimal clipping per group");
  cmd->add_option("--method", method, "Weight quantization: rtn, gptq or awq (LLMs)")->capture_default_str();
  cmd->add_option("--calib", calib, "Calibration text for gptq/awq (default: calib.txt beside the model)");
  cmd->add_option("--nsamples", nsamples, "Calibration windows")->capture_default_str();
  cmd->add_option("--seqlen", seqlen, "Calibration window length in tokens (default: min(256, context))");
}

GemmEngine NumericsOptions::engine() const {
  if (wbits != 0 && wbits != 2 && wbits != 3 && wbits != 4 && wbits != 8) {
    throw std::invalid_argument(fmt::format("--wbits = {} is not 2, 3, 4 or 8", wbits));
  }
  if (group < -1) throw std::invalid_argument(fmt::format("--group = {} must be positive or -1 (per-channel)", group));
  if (!hw.empty()) {
    std::vector<std::string> ov = overrides;
    if (wbits != 0) ov.push_back(fmt::format("array.weight_bits={}", wbits));
    if (group != 0) ov.push_back(fmt::format("array.group_size={}", group));
    if (sym) ov.push_back("array.weight_signed=true");
    return GemmEngine(sim::load_config(hw, ov), clip_search);
  }
  if (!overrides.empty()) throw std::invalid_argument("-p overrides need --hw (a design to override)");
  const PePath path = parse_pe_path(numerics);
  if (path == PePath::kFloat) return GemmEngine();
  return GemmEngine(design_for(path, {wbits != 0 ? wbits : 4, group != 0 ? group : 128, sym}), clip_search);
}

std::string NumericsOptions::describe(const GemmEngine& e) const {
  if (e.path() == PePath::kFloat) return "float (FP32 reference)";
  const quant::WeightQuantConfig& w = e.weight_config();
  return fmt::format("{} on {}: W{} {} {}, {}{}", to_string(e.path()), e.design()->name, w.bits,
                     w.group_size == -1 ? std::string("per-channel") : fmt::format("g{}", w.group_size), w.symmetric ? "sym" : "asym",
                     method, clip_search ? " + clip search" : "");
}

std::vector<std::vector<int>> calibration_sequences(const LlmSource& src, const NumericsOptions& opts) {
  std::string calib = opts.calib;
  const fs::path dir = fs::is_directory(src.path) ? fs::path(src.path) : fs::path(src.path).parent_path();
  if (calib.empty()) {
    if (!fs::exists(dir / "calib.txt")) throw std::invalid_argument(fmt::format("--method {} needs --calib FILE (no calib.txt in {})", opts.method, dir.string()));
    calib = (dir / "calib.txt").string();
  }
  if (!src.tokenizer) throw std::invalid_argument(fmt::format("{}: --calib needs the model's tokenizer (tokenizer.json)", src.path));
  const std::vector<int> ids = src.tokenizer->encode(read_text_file(calib));
  const int seqlen = opts.seqlen > 0 ? opts.seqlen : std::min(256, src.llm.weights.config.max_positions);
  if (opts.nsamples <= 0) throw std::invalid_argument(fmt::format("--nsamples = {} must be positive", opts.nsamples));
  if (seqlen > src.llm.weights.config.max_positions) {
    throw std::invalid_argument(fmt::format("--seqlen = {} exceeds the model's context ({})", seqlen, src.llm.weights.config.max_positions));
  }
  if (static_cast<int>(ids.size()) < seqlen) {
    throw std::invalid_argument(fmt::format("{}: {} tokens, fewer than one calibration window of {}", calib, ids.size(), seqlen));
  }
  // Windows spread evenly over the calibration text (deterministic).
  std::vector<std::vector<int>> seqs;
  const std::size_t span = ids.size() - static_cast<std::size_t>(seqlen);
  for (int i = 0; i < opts.nsamples; ++i) {
    const std::size_t s = opts.nsamples == 1 ? 0 : span * static_cast<std::size_t>(i) / static_cast<std::size_t>(opts.nsamples - 1);
    seqs.emplace_back(ids.begin() + static_cast<std::ptrdiff_t>(s), ids.begin() + static_cast<std::ptrdiff_t>(s) + seqlen);
  }
  return seqs;
}

void write_quantized_llm(const LlmSource& src, const models::LlmWeights& w, const std::map<std::string, quant::QuantizedWeights>& layers,
                         const std::string& out_dir, const std::string& method) {
  const models::ModelConfig& c = w.config;
  if (c.family != models::ModelFamily::kLlama && c.family != models::ModelFamily::kMistral) {
    throw std::invalid_argument(fmt::format("{}: writing a calibrated model supports the LLaMA/Mistral layout only", src.path));
  }
  const fs::path dir(out_dir), in_dir = fs::is_directory(src.path) ? fs::path(src.path) : fs::path(src.path).parent_path();
  fs::create_directories(dir);
  std::vector<models::MixpeTensorToWrite> tensors;
  std::vector<std::unique_ptr<quant::PackedWeights>> packed;
  auto plain = [&](const std::string& name, const std::vector<float>& v, std::vector<std::int64_t> shape) {
    tensors.push_back({name, models::Dtype::kF32, std::move(shape),
                       std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(v.data()), v.size() * sizeof(float)), nullptr});
  };
  auto linear = [&](const std::string& name, const models::Linear& l) {
    const auto it = layers.find(l.name);
    if (it == layers.end()) {
      plain(name, l.w, {l.n, l.k});
      return;
    }
    packed.push_back(std::make_unique<quant::PackedWeights>(quant::pack_weights(it->second)));
    tensors.push_back({name, models::Dtype::kF32, {l.n, l.k}, {}, packed.back().get()});
  };
  plain("model.embed_tokens.weight", w.embed, {c.vocab, c.hidden});
  for (int i = 0; i < c.layers; ++i) {
    const models::LayerWeights& lw = w.layers[static_cast<std::size_t>(i)];
    const std::string p = fmt::format("model.layers.{}.", i);
    plain(p + "input_layernorm.weight", lw.input_norm, {c.hidden});
    linear(p + "self_attn.q_proj.weight", lw.q);
    linear(p + "self_attn.k_proj.weight", lw.k);
    linear(p + "self_attn.v_proj.weight", lw.v);
    linear(p + "self_attn.o_proj.weight", lw.o);
    plain(p + "post_attention_layernorm.weight", lw.post_norm, {c.hidden});
    linear(p + "mlp.gate_proj.weight", lw.gate);
    linear(p + "mlp.up_proj.weight", lw.up);
    linear(p + "mlp.down_proj.weight", lw.down);
  }
  plain("model.norm.weight", w.final_norm, {c.hidden});
  linear("lm_head.weight", w.lm_head);
  models::write_mixpe((dir / "model.mixpe").string(), {{"mixpe.quantization", method}, {"mixpe.source", src.path}}, tensors);
  for (const char* f : {"config.json", "tokenizer.json"})
    if (fs::exists(in_dir / f) && !fs::equivalent(in_dir, dir)) fs::copy_file(in_dir / f, dir / f, fs::copy_options::overwrite_existing);
}

std::unique_ptr<QuantizedLinears> quantize_llm_for(LlmSource& src, const GemmEngine& engine, const NumericsOptions& opts,
                                                   bool verbose) {
  const models::QuantMethod method = models::parse_quant_method(opts.method);
  if (engine.path() == PePath::kFloat || method == models::QuantMethod::kRtn) {
    return std::make_unique<QuantizedLinears>(src.llm.weights, engine, false, &src.llm.quantized);
  }
  if (engine.path() == PePath::kAnt) {
    throw std::invalid_argument(fmt::format("--method {}: the ant design quantizes with ANT's own type and clip search (use --method rtn)",
                                            opts.method));
  }
  if (!src.llm.quantized.empty()) {
    throw std::invalid_argument(fmt::format("{}: --method {} needs float weights; the file stores {} layers quantized", src.path,
                                            opts.method, src.llm.quantized.size()));
  }
  const std::vector<std::vector<int>> seqs = calibration_sequences(src, opts);
  quant::WeightQuantConfig wq = engine.weight_config();
  if (engine.path() == PePath::kInt8 || engine.path() == PePath::kBitFusion) wq.group_size = -1;
  wq.clip_search = opts.clip_search;
  models::CalibrateOptions copt;
  const models::QuantizedLlm q = models::quantize_llm(
      src.llm.weights, method, wq, seqs, copt, [&](const std::string& stage, int done, int total) {
        if (verbose) fmt::print(stderr, "\r  {} {} {}/{}   ", opts.method, stage, done, total);
      });
  if (verbose) fmt::print(stderr, "\n");
  return std::make_unique<QuantizedLinears>(src.llm.weights, engine, false, &q.layers);
}

}  // namespace mixpe::runtime
