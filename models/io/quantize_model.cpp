// Model quantization driver: selection by name pattern, RTN per tensor, error metrics, output.
#include "models/io/quantize_model.h"

#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <regex>
#include <set>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "models/io/ggml_quants.h"
#include "models/llm/model_config.h"
#include "models/llm/tokenizer.h"
#include "quant/metrics.h"
#include "quant/packed.h"

namespace mixpe::models {
namespace {

using nlohmann::json;

std::optional<GgmlType> ggml_type_of(Dtype d) {
  switch (d) {
    case Dtype::kF32: return GgmlType::kF32;
    case Dtype::kF16: return GgmlType::kF16;
    case Dtype::kBF16: return GgmlType::kBF16;
    case Dtype::kF64: return GgmlType::kF64;
    case Dtype::kI8: return GgmlType::kI8;
    case Dtype::kI16: return GgmlType::kI16;
    case Dtype::kI32: return GgmlType::kI32;
    case Dtype::kI64: return GgmlType::kI64;
    default: return std::nullopt;
  }
}

std::regex compile(const std::string& pattern, const char* option) {
  try {
    return std::regex(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw std::invalid_argument(fmt::format("{} = '{}' is not a valid regular expression: {}", option, pattern, e.what()));
  }
}

json gguf_to_json(const GgufValue& v) {
  return std::visit(
      [](const auto& x) -> json {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return is_valid_utf8(x) ? json(x) : json(printable(x, x.size()));
        } else if constexpr (std::is_same_v<T, GgufArray>) {
          json a = json::array();
          for (const GgufValue& item : x.items) a.push_back(gguf_to_json(item));
          return a;
        } else if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
          return std::isfinite(x) ? json(x) : json(fmt::format("{}", x));
        } else {
          return json(x);
        }
      },
      v.value);
}

// The output tensor: kept bytes or quantized buffers, owned here until written.
struct OutTensor {
  std::string name;
  std::vector<std::int64_t> shape;
  Dtype dtype = Dtype::kF32;      // plain element type, or the source type of quantized weights
  std::optional<GgmlType> ggml;   // GGUF output type
  std::span<const std::uint8_t> data;
  std::vector<std::uint8_t> owned;
  std::unique_ptr<quant::PackedWeights> packed;
};

// llama.cpp's LLAMA_FTYPE_MOSTLY_* ids.
std::uint32_t gguf_file_type(GgmlType t) {
  switch (t) {
    case GgmlType::kQ4_0: return 2;
    case GgmlType::kQ4_1: return 3;
    default: return 7;  // Q8_0
  }
}

// The HF checkpoint's directory (for tokenizer.json), or empty.
std::filesystem::path checkpoint_dir(const Model& model) {
  if (model.safetensors() == nullptr) return {};
  const std::filesystem::path p(model.safetensors()->path());
  return std::filesystem::is_directory(p) ? p : p.parent_path();
}

// llama.cpp's LLaMA hyperparameter keys.
GgufMetadata llama_metadata(const ModelConfig& c) {
  auto u32 = [](int v) { return GgufValue(static_cast<std::uint32_t>(v)); };
  return {{"general.architecture", GgufValue("llama")},
          {"llama.vocab_size", u32(c.vocab)},
          {"llama.context_length", u32(c.max_positions)},
          {"llama.embedding_length", u32(c.hidden)},
          {"llama.block_count", u32(c.layers)},
          {"llama.feed_forward_length", u32(c.intermediate)},
          {"llama.attention.head_count", u32(c.heads)},
          {"llama.attention.head_count_kv", u32(c.kv_heads)},
          {"llama.attention.layer_norm_rms_epsilon", GgufValue(static_cast<float>(c.norm_eps))},
          {"llama.rope.freq_base", GgufValue(static_cast<float>(c.rope_theta))},
          {"llama.rope.dimension_count", u32(c.head_dim)}};
}

}  // namespace

std::optional<GgmlType> gguf_weight_type(const quant::WeightQuantConfig& w) {
  if (w.group_size != 32) return std::nullopt;
  if (w.bits == 4) return w.symmetric ? GgmlType::kQ4_0 : GgmlType::kQ4_1;
  if (w.bits == 8 && w.symmetric) return GgmlType::kQ8_0;
  return std::nullopt;
}

void QuantizeOptions::validate() const {
  if (weights.bits != 2 && weights.bits != 3 && weights.bits != 4 && weights.bits != 8) {
    throw std::invalid_argument(fmt::format("--wbits = {} is not supported (choose 2, 3, 4 or 8)", weights.bits));
  }
  if (weights.group_size != -1 && weights.group_size <= 0) {
    throw std::invalid_argument(fmt::format("--group = {} must be positive or -1 (per-channel)", weights.group_size));
  }
  if (format == OutputFormat::kGguf && !gguf_weight_type(weights)) {
    throw std::invalid_argument(fmt::format(
        "--format gguf stores only what GGUF represents exactly: --wbits 4 --group 32 --sym (Q4_0), --wbits 4 --group 32 "
        "(Q4_1) or --wbits 8 --group 32 --sym (Q8_0); got --wbits {} --group {}{} (use --format mixpe)",
        weights.bits, weights.group_size, weights.symmetric ? " --sym" : ""));
  }
  if (input.empty()) throw std::invalid_argument("input path is empty");
  if (output.empty()) throw std::invalid_argument("-o/--output is required");
  std::error_code ec;
  if (std::filesystem::equivalent(input, output, ec)) throw std::invalid_argument(fmt::format("-o {} would overwrite the input", output));
}

QuantizeReport quantize_model(const QuantizeOptions& opts) {
  opts.validate();
  const std::regex linear = compile(kLinearWeightPattern, "linear pattern");
  const std::regex skip = compile(opts.skip_regex.empty() ? "$^" : opts.skip_regex, "--skip");
  const std::regex include = compile(opts.include_regex.empty() ? "$^" : opts.include_regex, "--include");
  const Model model = Model::open(opts.input);
  const bool to_gguf = opts.format == OutputFormat::kGguf;

  std::optional<TensorNaming> family;
  if (opts.gguf_names) {
    if (model.safetensors() == nullptr || !model.safetensors()->config()) {
      throw std::invalid_argument("--gguf-names needs a Hugging Face checkpoint with config.json next to it");
    }
    family = detect_naming(*model.safetensors()->config());
    if (!family) throw std::invalid_argument(fmt::format("{}: config.json model_type is not LLaMA, Mistral or OPT", opts.input));
  }
  // LLaMA under GGUF names takes llama.cpp's Q/K row order, so it needs the head counts.
  std::optional<ModelConfig> llama;
  if (family == TensorNaming::kLlama) {
    try {
      llama = parse_hf_config(*model.safetensors()->config(), "config.json");
    } catch (const std::runtime_error& e) {
      throw std::invalid_argument(fmt::format("{}: --gguf-names permutes LLaMA's Q/K rows per head and needs a complete config.json: {}",
                                              opts.input, e.what()));
    }
  }
  static const std::regex kQk(R"(^blk\.\d+\.attn_(q|k)\.(weight|bias)$)");

  QuantizeReport report;
  std::vector<OutTensor> out;
  std::set<std::string> out_names;
  double sqnr_sum = 0.0;
  const std::size_t count = model.tensors().size();
  for (std::size_t i = 0; i < count; ++i) {
    const ModelTensor& t = model.tensors()[i];
    if (opts.progress) opts.progress(i, count, t.name);
    OutTensor o;
    o.name = t.name;
    if (family) {
      const std::optional<MappedName> mapped = map_hf_name(*family, t.name);
      if (mapped) o.name = mapped->gguf;
    }
    // Heads of a Q/K tensor to permute into llama.cpp's layout; 0 for every other tensor.
    int qk_heads = 0;
    std::smatch qk;
    if (llama && std::regex_match(o.name, qk, kQk)) qk_heads = qk[1] == "q" ? llama->heads : llama->kv_heads;
    const std::int64_t rows = t.shape.empty() ? 1 : t.shape[0];
    auto permuted = [&](std::span<const std::uint8_t> bytes) {
      o.owned = permute_llama_qk_rows(bytes, rows, qk_heads, true);
      return std::span<const std::uint8_t>(o.owned);
    };
    if (!out_names.insert(o.name).second) throw std::invalid_argument(fmt::format("{}: two tensors map to the name '{}'", opts.input, o.name));
    o.shape = t.shape;
    TensorReport row{o.name, t.shape, t.type, t.type};
    row.bytes_in = t.stored_bytes;

    const bool named = std::regex_search(t.name, linear) || std::regex_search(t.name, include);
    const bool quantize = t.shape.size() == 2 && named && !std::regex_search(t.name, skip) && t.dequantizable;
    if (quantize) {
      const std::int64_t n = t.shape[0], k = t.shape[1];
      if (n <= 0 || k <= 0 || n > std::numeric_limits<int>::max() || k > std::numeric_limits<int>::max()) {
        throw std::invalid_argument(fmt::format("{}: tensor '{}' shape [{}, {}] cannot be quantized", opts.input, t.name, n, k));
      }
      if (opts.weights.group_size != -1 && k % opts.weights.group_size != 0) {
        throw std::invalid_argument(fmt::format("{}: tensor '{}' shape [{}, {}]: K = {} is not a multiple of --group {} (exclude it with --skip)",
                                                opts.input, t.name, n, k, k, opts.weights.group_size));
      }
      std::vector<float> w = model.values(t);
      if (qk_heads > 0) w = permute_llama_qk_rows(std::span<const float>(w), n, qk_heads, true);
      // Q4_1 has float minimums, not zero points: ggml's own quantizer makes its codes.
      const bool q4_1 = to_gguf && gguf_weight_type(opts.weights) == GgmlType::kQ4_1;
      std::vector<BlockQ4_1> b41;
      if (q4_1) b41 = quantize_q4_1(w);
      quant::QuantizedWeights q = q4_1 ? q4_1_to_quantized(b41, static_cast<int>(n), static_cast<int>(k))
                                       : quant::quantize_weights_rtn(w, static_cast<int>(n), static_cast<int>(k), opts.weights, t.name);
      const std::vector<double> ref(w.begin(), w.end());
      const quant::ErrorMetrics err = quant::compare(ref, quant::dequantize_weights_f64(q));
      o.dtype = t.plain_dtype.value_or(Dtype::kF32);
      if (to_gguf) {
        if (q4_1) {
          o.owned.assign(bytes_of<BlockQ4_1>(b41).begin(), bytes_of<BlockQ4_1>(b41).end());
          o.ggml = GgmlType::kQ4_1;
        } else if (q.bits == 4) {
          const std::vector<BlockQ4_0> b = quantized_to_q4_0(q, t.name);
          o.owned.assign(bytes_of<BlockQ4_0>(b).begin(), bytes_of<BlockQ4_0>(b).end());
          o.ggml = GgmlType::kQ4_0;
        } else {
          const std::vector<BlockQ8_0> b = quantized_to_q8_0(q, t.name);
          o.owned.assign(bytes_of<BlockQ8_0>(b).begin(), bytes_of<BlockQ8_0>(b).end());
          o.ggml = GgmlType::kQ8_0;
        }
        o.data = o.owned;
        row.out_type = std::string(ggml_type_name(*o.ggml));
        row.bytes_out = o.owned.size();
      } else {
        o.packed = std::make_unique<quant::PackedWeights>(quant::pack_weights(q));
        row.out_type = fmt::format("W{} g{} {}", q.bits, q.group_size, q.symmetric ? "sym" : "asym");
        row.bytes_out = o.packed->total_bytes();
      }
      row.quantized = true;
      row.bits = q.bits;
      row.group_size = q.group_size;
      row.sqnr_db = err.sqnr_db;
      row.max_abs_error = err.max_abs;
      sqnr_sum += err.sqnr_db;
      ++report.quantized_count;
    } else if (to_gguf) {
      if (t.gguf != nullptr) {
        o.ggml = t.gguf->type;
        o.data = t.gguf->data;
      } else if (t.plain_dtype && ggml_type_of(*t.plain_dtype) && !(llama && t.shape.size() <= 1 && *t.plain_dtype != Dtype::kF32)) {
        o.ggml = ggml_type_of(*t.plain_dtype);
        o.data = qk_heads > 0 ? permuted(t.plain_data) : t.plain_data;
      } else if (t.dequantizable) {
        // Also 1-D tensors (norms, biases) of a llama.cpp LLaMA, which its converter stores as F32.
        const std::vector<float> v = model.values(t);
        o.owned = from_float32(Dtype::kF32, v);
        o.data = qk_heads > 0 ? permuted(std::vector<std::uint8_t>(o.owned)) : o.owned;
        o.ggml = GgmlType::kF32;
      } else {
        throw std::invalid_argument(fmt::format("{}: tensor '{}' of type {} has no GGUF equivalent", opts.input, t.name, t.type));
      }
      row.out_type = std::string(ggml_type_name(*o.ggml));
      row.bytes_out = o.data.size();
    } else {
      if (t.plain_dtype) {
        o.dtype = *t.plain_dtype;
        o.data = qk_heads > 0 ? permuted(t.plain_data) : t.plain_data;
      } else if (t.mixpe != nullptr && t.mixpe->kind == MixpeTensorKind::kQuantized) {
        o.dtype = t.mixpe->dtype;
        o.packed = std::make_unique<quant::PackedWeights>(t.mixpe->packed());
      } else if (t.gguf != nullptr && t.shape.size() == 2 &&
                 (t.gguf->type == GgmlType::kQ4_0 || t.gguf->type == GgmlType::kQ4_1 || t.gguf->type == GgmlType::kQ8_0)) {
        // GGUF blocks that are MixPE formats are kept exactly, not widened to float.
        o.packed = std::make_unique<quant::PackedWeights>(quant::pack_weights(gguf_to_quantized(*t.gguf, opts.input)));
        o.dtype = Dtype::kF32;
      } else if (t.dequantizable) {
        o.owned = from_float32(Dtype::kF32, model.values(t));
        o.data = qk_heads > 0 ? permuted(std::vector<std::uint8_t>(o.owned)) : o.owned;
        o.dtype = Dtype::kF32;
      } else {
        throw std::invalid_argument(fmt::format("{}: tensor '{}' of type {} cannot be stored in a mixpe file", opts.input, t.name, t.type));
      }
      row.out_type = !o.packed ? std::string(dtype_name(o.dtype))
                               : fmt::format("W{} g{} {}", o.packed->bits, o.packed->group_size,
                                             o.packed->symmetric ? "sym" : (o.packed->mins.empty() ? "asym" : "min"));
      row.bytes_out = o.packed ? o.packed->total_bytes() : o.data.size();
    }
    report.bytes_in += row.bytes_in;
    report.bytes_out += row.bytes_out;
    report.tensors.push_back(std::move(row));
    out.push_back(std::move(o));
  }
  if (opts.progress) opts.progress(count, count, "");
  report.mean_sqnr_db = report.quantized_count > 0 ? sqnr_sum / report.quantized_count : 0.0;

  const std::string method = fmt::format("rtn w{} g{} {}", opts.weights.bits, opts.weights.group_size, opts.weights.symmetric ? "sym" : "asym");
  if (to_gguf) {
    GgufMetadata meta;
    if (model.gguf() != nullptr) {
      for (const auto& kv : model.gguf()->metadata())
        if (kv.first != "general.file_type") meta.push_back(kv);
    } else {
      for (const auto& [k, v] : model.metadata()) meta.emplace_back(k, GgufValue(v));
    }
    auto put = [&](const std::string& key, GgufValue v) {
      for (auto& kv : meta) {
        if (kv.first == key) {
          kv.second = std::move(v);
          return;
        }
      }
      meta.emplace_back(key, std::move(v));
    };
    put("general.file_type", GgufValue(gguf_file_type(*gguf_weight_type(opts.weights))));
    put("mixpe.quantization", GgufValue(method));
    if (llama) {
      for (auto& [k, v] : llama_metadata(*llama)) put(k, std::move(v));
    }
    // llama.cpp's tokenizer keys from tokenizer.json next to a Hugging Face checkpoint.
    const std::filesystem::path tok = checkpoint_dir(model) / "tokenizer.json";
    if (model.safetensors() != nullptr && std::filesystem::exists(tok)) {
      try {
        const Tokenizer tokenizer = Tokenizer::load(tok.string());
        for (auto& [k, v] : tokenizer.gguf_metadata(llama ? llama->vocab : 0)) put(k, std::move(v));
      } catch (const std::runtime_error& e) {
        report.notes.push_back(fmt::format("tokenizer metadata not written: {}", e.what()));
      }
    }
    std::vector<GgufTensorToWrite> tensors;
    for (const OutTensor& o : out) tensors.push_back({o.name, *o.ggml, o.shape, o.data});
    write_gguf(opts.output, meta, tensors);
  } else {
    json source_meta = json::object();
    if (model.gguf() != nullptr) {
      for (const auto& [k, v] : model.gguf()->metadata()) source_meta[k] = gguf_to_json(v);
    } else if (model.mixpe() != nullptr) {
      source_meta = model.mixpe()->metadata();
    } else {
      for (const auto& [k, v] : model.metadata()) source_meta[k] = v;
    }
    json meta = {{"mixpe.quantization", method},
                 {"mixpe.source_format", model_format_name(model.format())},
                 {"mixpe.source_metadata", source_meta}};
    std::vector<MixpeTensorToWrite> tensors;
    for (const OutTensor& o : out) tensors.push_back({o.name, o.dtype, o.shape, o.data, o.packed.get()});
    write_mixpe(opts.output, meta, tensors);
  }
  report.file_bytes = std::filesystem::file_size(opts.output);
  return report;
}

}  // namespace mixpe::models
