// Loads a decoder LLM's weights from any model file mixpe reads (safetensors, GGUF, mixpe),
// keeping the linear layers that the file stores quantized in their exact quantized form.
#pragma once

#include <map>
#include <string>

#include "models/llm/llm.h"
#include "models/llm/model_config.h"
#include "models/io/model_file.h"
#include "quant/weights.h"

namespace mixpe::models {

struct LoadedLlm {
  LlmWeights weights;  // float values; dequantized where the file stores them quantized
  // Linear layers stored quantized (mixpe tensors, GGUF Q4_0/Q4_1/Q8_0), by LlmWeights' layer
  // name (e.g. "layers.0.q_proj"): the functional executor runs these codes as they are.
  std::map<std::string, quant::QuantizedWeights> quantized;
};

// Maps the file's tensors (Hugging Face or GGUF names) onto `config`'s layers. Throws
// std::runtime_error naming the file and tensor for a missing tensor or a shape that does not
// match the config. Q/K tensors of a rotary (LLaMA/Mistral) model found under GGUF names
// (blk.N.attn_q / attn_k, in any file format) are in llama.cpp's row order (see
// permute_llama_qk_rows); the loader undoes it, for float and quantized tensors alike.
LoadedLlm load_llm(const Model& file, const ModelConfig& config);

// A LLaMA config from llama.cpp's GGUF keys (general.architecture = "llama", llama.*); the
// vocabulary from llama.vocab_size, tokenizer.ggml.tokens or token_embd.weight. Throws
// FormatError naming the file and key for a missing or invalid key.
ModelConfig llm_config_from_gguf(const GgufFile& f);

}  // namespace mixpe::models
