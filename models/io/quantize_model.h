// Whole-model RTN quantization: pick the linear weights, quantize them, measure the error, write
// a mixpe or GGUF file atomically.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "models/io/model_file.h"
#include "quant/weights.h"

namespace mixpe::models {

enum class OutputFormat { kMixpe, kGguf };

// Names of linear-layer weights in Hugging Face (LLaMA/Mistral/OPT/GPT-style) and GGUF checkpoints.
inline constexpr const char* kLinearWeightPattern =
    R"((^|\.)(q_proj|k_proj|v_proj|o_proj|out_proj|gate_proj|up_proj|down_proj|fc1|fc2|dense|dense_h_to_4h|)"
    R"(dense_4h_to_h|query_key_value|c_attn|c_proj|c_fc|wq|wk|wv|wo|w1|w2|w3|attn_q|attn_k|attn_v|attn_qkv|)"
    R"(attn_output|ffn_gate|ffn_up|ffn_down)\.weight$)";

struct QuantizeOptions {
  std::string input;
  std::string output;
  quant::WeightQuantConfig weights;
  OutputFormat format = OutputFormat::kMixpe;
  std::string skip_regex;     // matching tensors are kept as they are
  std::string include_regex;  // matching 2-D tensors are quantized even if not linear (e.g. "lm_head")
  // Rename Hugging Face tensors to GGUF names (needs config.json). For LLaMA/Mistral this also
  // permutes the Q/K rows into llama.cpp's rotary layout and, for GGUF output, writes llama.cpp's
  // architecture metadata (general.architecture = "llama", llama.*).
  bool gguf_names = false;
  // Called before each tensor: (index, count, name).
  std::function<void(std::size_t, std::size_t, const std::string&)> progress;

  // Throws std::invalid_argument naming the option (e.g. "--format gguf").
  void validate() const;
};

struct TensorReport {
  std::string name;      // as written
  std::vector<std::int64_t> shape;
  std::string in_type;
  std::string out_type;
  bool quantized = false;
  int bits = 0;
  int group_size = 0;
  double sqnr_db = 0.0;
  double max_abs_error = 0.0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
};

struct QuantizeReport {
  std::vector<TensorReport> tensors;
  std::uint64_t bytes_in = 0;    // tensor data read
  std::uint64_t bytes_out = 0;   // tensor data written
  std::uint64_t file_bytes = 0;  // size of the output file
  int quantized_count = 0;
  double mean_sqnr_db = 0.0;     // over quantized tensors
  std::vector<std::string> notes;  // things left out of the output, e.g. an unsupported tokenizer.json
};

// The GGUF block type that holds `w` exactly: Q4_0 (4-bit g32 symmetric), Q4_1 (4-bit g32
// asymmetric, ggml's float-minimum quantizer), Q8_0 (8-bit g32 symmetric); nullopt otherwise.
std::optional<GgmlType> gguf_weight_type(const quant::WeightQuantConfig& w);

// Throws FormatError for unreadable input, std::invalid_argument for options or tensors that
// cannot be quantized as asked (naming the tensor); the output file exists only on success.
QuantizeReport quantize_model(const QuantizeOptions& opts);

}  // namespace mixpe::models
