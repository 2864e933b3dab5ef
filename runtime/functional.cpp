// Quantizes a model's linear layers for one design and runs them through its GemmEngine.
#include "runtime/functional.h"

#include <stdexcept>

#include <fmt/format.h>

namespace mixpe::runtime {

QuantizedLinears::QuantizedLinears(const models::LlmWeights& model, PePath path, const quant::WeightQuantConfig& config,
                                   bool quantize_lm_head, const std::map<std::string, quant::QuantizedWeights>* stored)
    : QuantizedLinears(model, path == PePath::kFloat ? GemmEngine() : GemmEngine(design_for(path, config)), quantize_lm_head,
                       stored) {}

QuantizedLinears::QuantizedLinears(const models::LlmWeights& model, GemmEngine engine, bool quantize_lm_head,
                                   const std::map<std::string, quant::QuantizedWeights>* stored)
    : engine_(std::move(engine)) {
  if (engine_.path() == PePath::kFloat) return;
  std::vector<const models::Linear*> todo = model.linears();
  if (quantize_lm_head) todo.push_back(&model.lm_head);
  for (const models::Linear* l : todo) {
    const auto it = stored != nullptr ? stored->find(l->name) : std::map<std::string, quant::QuantizedWeights>::const_iterator{};
    const bool have = stored != nullptr && it != stored->end();
    const bool usable = have && engine_.adopt_refusal(it->second).empty();
    layers_[l->name] = usable ? engine_.adopt(it->second, l->name) : engine_.quantize(l->w, l->n, l->k, l->name);
  }
}

const quant::QuantizedWeights* QuantizedLinears::weights(const std::string& name) const {
  const auto it = layers_.find(name);
  return it == layers_.end() ? nullptr : &it->second->q;
}

std::vector<float> QuantizedLinears::run(const models::Linear& layer, const std::vector<float>& x, int m) const {
  const auto it = layers_.find(layer.name);
  if (it == layers_.end()) return models::linear_float(layer, x, m);
  std::vector<float> y = engine_.run(*it->second, x, m);
  if (!layer.bias.empty()) {
    for (int r = 0; r < m; ++r)
      for (int c = 0; c < layer.n; ++c) y[static_cast<std::size_t>(r) * layer.n + c] += layer.bias[c];
  }
  return y;
}

models::LinearBackend QuantizedLinears::backend() const {
  return [this](const models::Linear& layer, const std::vector<float>& x, int m) { return run(layer, x, m); };
}

models::ActivationGemm QuantizedLinears::attention() const {
  if (engine_.path() == PePath::kFloat) return nullptr;
  return [this](const std::string& name, const std::vector<float>& x, int m, const std::vector<float>& w, int n, int k) {
    // The cache operand is quantized like a weight, groups along the reduction (head_dim for
    // keys, positions for values), as the simulator's attention GEMMs assume.
    const std::shared_ptr<GemmOperand> op = engine_.quantize(w, n, k, name);
    return engine_.run(*op, x, m);
  };
}

}  // namespace mixpe::runtime
