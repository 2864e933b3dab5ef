// Model-level calibration: input statistics per linear layer from the forward pass, then RTN,
// GPTQ or AWQ per layer, AWQ scales folded into the preceding ops.
#include "models/llm/calibrate.h"

#include <algorithm>
#include <cassert>
#include <map>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

namespace mixpe::models {
namespace {

// Thrown by the capturing backend to end a forward pass once a stage's inputs are recorded.
struct StopForward {};

// Linear layers that share one input, and the op before them that AWQ can fold 1/s into.
struct LayerGroup {
  std::vector<Linear*> members;
  std::string label;
  // Fold targets (any may be null/empty): a norm gain (+ bias) or a producing linear's rows.
  std::vector<float>* norm_gain = nullptr;
  std::vector<float>* norm_bias = nullptr;
  Linear* producer = nullptr;
  bool foldable = true;
};

std::vector<LayerGroup> decoder_groups(LlmWeights& w, int layer) {
  const ModelConfig& c = w.config;
  LayerWeights& lw = w.layers[layer];
  std::vector<LayerGroup> groups;
  groups.push_back({{&lw.q, &lw.k, &lw.v}, fmt::format("layer {} q/k/v", layer), &lw.input_norm, &lw.input_norm_bias});
  LayerGroup o{{&lw.o}, fmt::format("layer {} o", layer)};
  o.producer = &lw.v;
  o.foldable = c.kv_heads == c.heads && lw.v.n == lw.o.k;
  groups.push_back(o);
  LayerGroup mlp{{}, fmt::format("layer {} mlp in", layer), &lw.post_norm, &lw.post_norm_bias};
  if (c.gated_mlp) mlp.members.push_back(&lw.gate);
  mlp.members.push_back(&lw.up);
  groups.push_back(mlp);
  LayerGroup down{{&lw.down}, fmt::format("layer {} down", layer)};
  down.producer = &lw.up;
  down.foldable = c.gated_mlp || c.activation == ActivationKind::kRelu;
  groups.push_back(down);
  return groups;
}

std::vector<float> dequantized_copy(const quant::QuantizedWeights& q) { return quant::dequantize_weights_f32(q); }

class Calibrator {
 public:
  Calibrator(LlmWeights& w, const quant::WeightQuantConfig& cfg, const std::vector<std::vector<int>>& calib,
             const CalibrateOptions& opts)
      : w_(w), cfg_(cfg), calib_(calib), opts_(opts) {}

  // Runs every calibration sequence until all `groups` have seen their inputs; returns the stats
  // of each group's (shared) input.
  std::vector<quant::AwqInputStats> capture(const std::vector<LayerGroup*>& groups) {
    std::map<std::string, int> first_member;  // the layer whose input is recorded for group i
    std::set<std::string> members;
    std::vector<quant::AwqInputStats> stats;
    for (std::size_t i = 0; i < groups.size(); ++i) {
      first_member[groups[i]->members.front()->name] = static_cast<int>(i);
      for (const Linear* l : groups[i]->members) members.insert(l->name);
      stats.emplace_back(groups[i]->members.front()->k);
    }
    for (const std::vector<int>& seq : calib_) {
      if (opts_.max_rows > 0 &&
          std::all_of(stats.begin(), stats.end(), [&](const auto& s) { return s.rows >= opts_.max_rows; })) {
        break;
      }
      std::size_t seen = 0;
      const LinearBackend backend = [&](const Linear& l, const std::vector<float>& x, int m) {
        if (seen == groups.size() && !members.contains(l.name)) throw StopForward{};
        if (auto it = first_member.find(l.name); it != first_member.end()) {
          quant::AwqInputStats& s = stats[it->second];
          long long take = m;
          if (opts_.max_rows > 0) take = std::clamp(opts_.max_rows - s.rows, 0LL, static_cast<long long>(m));
          s.add(std::span<const float>(x.data(), static_cast<std::size_t>(take) * l.k), static_cast<int>(take));
          ++seen;
        }
        if (auto it = replaced_.find(l.name); it != replaced_.end()) return linear_float(it->second, x, m);
        return linear_float(l, x, m);
      };
      try {
        llm_forward(w_, seq, backend);
      } catch (const StopForward&) {
      }
    }
    return stats;
  }

  // Records a layer's quantized form; later captures run it dequantized when sequential.
  void store(const Linear& l, quant::QuantizedWeights q) {
    if (opts_.sequential) {
      Linear deq = l;
      deq.w = dequantized_copy(q);
      replaced_[l.name] = std::move(deq);
    }
    result.layers[l.name] = std::move(q);
  }

  QuantizedLlm result;

 private:
  LlmWeights& w_;
  const quant::WeightQuantConfig& cfg_;
  const std::vector<std::vector<int>>& calib_;
  const CalibrateOptions& opts_;
  std::map<std::string, Linear> replaced_;
};

void divide_rows(Linear& l, const std::vector<float>& s) {
  assert(static_cast<std::size_t>(l.n) == s.size());
  for (int row = 0; row < l.n; ++row) {
    for (int j = 0; j < l.k; ++j) l.w[static_cast<std::size_t>(row) * l.k + j] /= s[row];
    if (!l.bias.empty()) l.bias[row] /= s[row];
  }
}

void fold_awq(LayerGroup& g, const std::vector<float>& s) {
  for (Linear* l : g.members) l->w = quant::awq_scale_columns(l->w, l->n, l->k, s);
  if (g.producer) {
    divide_rows(*g.producer, s);
  } else {
    for (std::size_t j = 0; j < s.size(); ++j) {
      (*g.norm_gain)[j] /= s[j];
      if (g.norm_bias && !g.norm_bias->empty()) (*g.norm_bias)[j] /= s[j];
    }
  }
}

}  // namespace

const char* to_string(QuantMethod m) {
  switch (m) {
    case QuantMethod::kRtn: return "rtn";
    case QuantMethod::kGptq: return "gptq";
    case QuantMethod::kAwq: return "awq";
  }
  return "?";
}

QuantMethod parse_quant_method(const std::string& name) {
  if (name == "rtn") return QuantMethod::kRtn;
  if (name == "gptq") return QuantMethod::kGptq;
  if (name == "awq") return QuantMethod::kAwq;
  throw std::invalid_argument(fmt::format("quantization method '{}' is unknown (choose rtn, gptq or awq)", name));
}

QuantizedLlm quantize_llm(LlmWeights& weights, QuantMethod method, const quant::WeightQuantConfig& cfg,
                          const std::vector<std::vector<int>>& calib_sequences, const CalibrateOptions& opts,
                          const CalibrateProgress& progress) {
  const int n_layers = static_cast<int>(weights.layers.size());
  Calibrator cal(weights, cfg, calib_sequences, opts);
  LayerGroup head{{&weights.lm_head}, "lm_head", &weights.final_norm, &weights.final_norm_bias};

  if (method == QuantMethod::kRtn) {
    std::vector<Linear*> all;
    for (int layer = 0; layer < n_layers; ++layer)
      for (LayerGroup& g : decoder_groups(weights, layer)) all.insert(all.end(), g.members.begin(), g.members.end());
    if (opts.quantize_lm_head) all.push_back(&weights.lm_head);
    for (std::size_t i = 0; i < all.size(); ++i) {
      cal.result.layers[all[i]->name] = quant::quantize_weights_rtn(all[i]->w, all[i]->n, all[i]->k, cfg, all[i]->name);
      if (progress) progress(all[i]->name + " rtn", static_cast<int>(i + 1), static_cast<int>(all.size()));
    }
    return std::move(cal.result);
  }

  if (calib_sequences.empty()) {
    throw std::invalid_argument(fmt::format("{} quantization needs at least one calibration sequence", to_string(method)));
  }
  for (int layer = 0; layer < n_layers; ++layer) cfg.validate(weights.layers[layer].down.k, weights.layers[layer].down.name);

  // Stages: GPTQ sequential runs one per layer group; otherwise one per decoder layer.
  std::vector<std::vector<LayerGroup>> per_layer;
  for (int layer = 0; layer < n_layers; ++layer) per_layer.push_back(decoder_groups(weights, layer));
  std::vector<std::vector<LayerGroup*>> stages;
  for (auto& groups : per_layer) {
    if (method == QuantMethod::kGptq && opts.sequential) {
      for (LayerGroup& g : groups) stages.push_back({&g});
    } else {
      std::vector<LayerGroup*> stage;
      for (LayerGroup& g : groups) stage.push_back(&g);
      stages.push_back(stage);
    }
  }
  if (opts.quantize_lm_head) stages.push_back({&head});

  for (std::size_t si = 0; si < stages.size(); ++si) {
    std::vector<LayerGroup*>& stage = stages[si];
    const std::vector<quant::AwqInputStats> stats = cal.capture(stage);
    for (std::size_t gi = 0; gi < stage.size(); ++gi) {
      if (stats[gi].rows == 0) {
        throw std::runtime_error(fmt::format("{}: no calibration rows reached this layer", stage[gi]->members.front()->name));
      }
    }
    if (method == QuantMethod::kGptq) {
      for (std::size_t gi = 0; gi < stage.size(); ++gi) {
        const Eigen::MatrixXd h = stats[gi].gram * (2.0 / static_cast<double>(stats[gi].rows));
        for (Linear* l : stage[gi]->members) {
          cal.store(*l, quant::quantize_weights_gptq(l->w, l->n, l->k, h, cfg, opts.gptq, l->name));
        }
      }
    } else {
      // AWQ: every group's scales from this stage's (pre-fold) inputs, then all folds, then quantize.
      std::vector<std::vector<float>> scales(stage.size());
      for (std::size_t gi = 0; gi < stage.size(); ++gi) {
        LayerGroup& g = *stage[gi];
        const bool can_fold = g.foldable && (g.producer || (g.norm_gain && g.norm_gain->size() == static_cast<std::size_t>(g.members.front()->k)));
        if (!can_fold) {
          for (const Linear* l : g.members) cal.result.awq_unscaled.push_back(l->name);
          continue;
        }
        std::vector<quant::AwqLayer> layers;
        for (const Linear* l : g.members) layers.push_back({l->w, l->n, l->name});
        scales[gi] = quant::awq_search_scales(layers, g.members.front()->k, stats[gi], cfg, opts.awq).scales;
      }
      for (std::size_t gi = 0; gi < stage.size(); ++gi) {
        if (scales[gi].empty()) continue;
        fold_awq(*stage[gi], scales[gi]);
        for (const Linear* l : stage[gi]->members) cal.result.awq_scales[l->name] = scales[gi];
      }
      for (LayerGroup* g : stage)
        for (Linear* l : g->members) cal.store(*l, quant::quantize_weights_rtn(l->w, l->n, l->k, cfg, l->name));
    }
    if (progress) {
      std::string label;
      for (const LayerGroup* g : stage) label += (label.empty() ? "" : ", ") + g->label;
      progress(label + " " + to_string(method), static_cast<int>(si + 1), static_cast<int>(stages.size()));
    }
  }
  return std::move(cal.result);
}

}  // namespace mixpe::models
