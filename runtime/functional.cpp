// Quantizes a model's linear layers and runs them on the fast kernels of one PE type.
#include "runtime/functional.h"

#include <stdexcept>

#include <fmt/format.h>

#include "quant/activations.h"

namespace mixpe::runtime {
namespace {

constexpr PePath kAllPaths[] = {PePath::kFloat, PePath::kMixpeInt8, PePath::kMixpeFp16,
                                PePath::kMixpeBf16, PePath::kFp16, PePath::kInt8};

}  // namespace

const char* to_string(PePath p) {
  switch (p) {
    case PePath::kFloat: return "float";
    case PePath::kMixpeInt8: return "mixpe-int8";
    case PePath::kMixpeFp16: return "mixpe-fp16";
    case PePath::kMixpeBf16: return "mixpe-bf16";
    case PePath::kFp16: return "fp16";
    case PePath::kInt8: return "int8";
  }
  return "?";
}

PePath parse_pe_path(const std::string& name) {
  std::string known;
  for (PePath p : kAllPaths) {
    if (name == to_string(p)) return p;
    known += (known.empty() ? "" : ", ") + std::string(to_string(p));
  }
  throw std::invalid_argument(fmt::format("unknown PE path \"{}\" (known: {})", name, known));
}

QuantizedLinears::QuantizedLinears(const models::LlmWeights& model, PePath path, const quant::WeightQuantConfig& config,
                                   bool quantize_lm_head, const std::map<std::string, quant::QuantizedWeights>* stored)
    : path_(path) {
  if (path == PePath::kFloat) return;
  std::vector<const models::Linear*> todo = model.linears();
  if (quantize_lm_head) todo.push_back(&model.lm_head);
  const quant::WeightQuantConfig cfg = path == PePath::kInt8 ? quant::WeightQuantConfig{8, -1, true} : config;
  for (const models::Linear* l : todo) {
    auto e = std::make_unique<Entry>();
    const auto it = stored != nullptr ? stored->find(l->name) : std::map<std::string, quant::QuantizedWeights>::const_iterator{};
    const bool usable = stored != nullptr && it != stored->end() &&
                        (path != PePath::kInt8 || (it->second.symmetric && it->second.group_size == it->second.k && !it->second.has_mins()));
    e->weights = usable ? it->second : quant::quantize_weights_rtn(l->w, l->n, l->k, cfg, l->name);
    e->prepared = path == PePath::kFp16 ? quant::PreparedWeights::for_fp16(e->weights)
                                        : quant::PreparedWeights::for_mixpe(e->weights);
    layers_.emplace(l->name, std::move(e));
  }
}

const quant::QuantizedWeights* QuantizedLinears::weights(const std::string& name) const {
  const auto it = layers_.find(name);
  return it == layers_.end() ? nullptr : &it->second->weights;
}

std::vector<float> QuantizedLinears::run(const models::Linear& layer, const std::vector<float>& x, int m) const {
  const auto it = layers_.find(layer.name);
  if (it == layers_.end()) return models::linear_float(layer, x, m);
  const Entry& e = *it->second;
  std::vector<float> y;
  switch (path_) {
    case PePath::kMixpeInt8:
      y = quant::gemm_mixpe_int8(quant::quantize_activations_int8(x, m, layer.k), e.prepared);
      break;
    case PePath::kMixpeFp16:
      y = quant::gemm_mixpe_aligned(quant::align_activations_fp16(quant::to_half(x), m, layer.k, e.weights.group_size), e.prepared);
      break;
    case PePath::kMixpeBf16:
      y = quant::gemm_mixpe_aligned(quant::align_activations_bf16(quant::to_bfloat16(x), m, layer.k, e.weights.group_size), e.prepared);
      break;
    case PePath::kFp16:
      y = quant::gemm_fp16(quant::to_half(x), m, e.prepared);
      break;
    case PePath::kInt8:
      y = quant::gemm_int8(quant::quantize_activations_int8(x, m, layer.k), e.prepared);
      break;
    case PePath::kFloat:
      return models::linear_float(layer, x, m);
  }
  if (!layer.bias.empty()) {
    for (int r = 0; r < m; ++r)
      for (int c = 0; c < layer.n; ++c) y[static_cast<std::size_t>(r) * layer.n + c] += layer.bias[c];
  }
  return y;
}

models::LinearBackend QuantizedLinears::backend() const {
  return [this](const models::Linear& layer, const std::vector<float>& x, int m) { return run(layer, x, m); };
}

}  // namespace mixpe::runtime
