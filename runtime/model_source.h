// What `mixpe eval` and `mixpe run` take: a model (LLM or neural operator) by directory, file or
// name, and the numerics to run it with (a design, or a PE type plus a weight format, and the
// weight quantization method).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/llm/llm_loader.h"
#include "models/llm/model_config.h"
#include "models/llm/tokenizer.h"
#include "models/operators/operator.h"
#include "runtime/engine.h"
#include "runtime/functional.h"

namespace CLI {
class App;
}

namespace mixpe::runtime {

// A whole file as text; throws std::runtime_error naming the path if it cannot be opened.
std::string read_text_file(const std::string& path);
// Directory of the trained models shipped with mixpe (env MIXPE_ZOO_DIR overrides).
std::string zoo_dir();
// A name in the zoo (e.g. "llama-kjv") becomes its directory; anything else is returned as is.
std::string resolve_model_path(const std::string& name_or_path);
// True when the model is a neural operator (a directory or config.json with an operator
// model_type, a zoo name of one, or a configs/operators preset).
bool is_operator_model(const std::string& name_or_path);

struct LlmSource {
  std::string path;
  models::LoadedLlm llm;
  std::optional<models::Tokenizer> tokenizer;
};

// A Hugging Face directory (config.json, model.safetensors[.index.json], tokenizer.json), a GGUF
// file (config and tokenizer from its metadata) or a mixpe/safetensors file with config.json (and
// tokenizer.json) beside it. Throws std::runtime_error naming the file and field.
LlmSource load_llm_source(const std::string& name_or_path);

// The numerics options every model command shares.
struct NumericsOptions {
  std::string numerics = "float";  // a PePath name
  std::string hw;                  // a design preset or YAML file; overrides --numerics
  std::vector<std::string> overrides;
  int wbits = 0;                   // 0: the design's
  int group = 0;                   // 0: the design's; -1 per-channel
  bool sym = false;
  bool clip_search = false;
  std::string method = "rtn";      // rtn | gptq | awq (LLMs)
  std::string calib;               // calibration text file (LLMs; default: the model's calib.txt)
  int nsamples = 64;
  int seqlen = 0;                  // 0: min(256, context)

  void add_to(CLI::App* cmd);
  // The engine: float, the design given by --hw, or the paper design of --numerics with the
  // weight format given by --wbits/--group/--sym.
  GemmEngine engine() const;
  // e.g. "mixpe-int8 on mixpe_w4a8_64x64, W4 g128 asym, rtn"
  std::string describe(const GemmEngine& e) const;
};

// Calibration windows for GPTQ/AWQ: opts.nsamples windows of opts.seqlen tokens spread evenly
// over opts.calib (default: calib.txt beside the model), tokenized with the model's tokenizer.
std::vector<std::vector<int>> calibration_sequences(const LlmSource& src, const NumericsOptions& opts);

// Writes a quantized LLaMA-family model as a directory: model.mixpe (Hugging Face tensor names;
// the given layers quantized, everything else FP32 as in `weights`, e.g. with AWQ's folded norm
// gains), config.json and tokenizer.json copied from the source. load_llm_source reads it back.
void write_quantized_llm(const LlmSource& src, const models::LlmWeights& weights,
                         const std::map<std::string, quant::QuantizedWeights>& layers, const std::string& out_dir,
                         const std::string& method);

// The model's linear layers for `engine`, quantized with opts.method (GPTQ/AWQ calibrate on
// opts.calib, tokenized; AWQ folds its scales into `llm.weights`). Progress lines go to stderr.
std::unique_ptr<QuantizedLinears> quantize_llm_for(LlmSource& src, const GemmEngine& engine, const NumericsOptions& opts,
                                                   bool verbose);

}  // namespace mixpe::runtime
