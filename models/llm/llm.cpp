// Synthetic weights and the FP32 forward pass of decoder-only transformers.
#include "models/llm/llm.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <Eigen/Core>
#include <fmt/format.h>

#include "models/synthetic.h"

namespace mixpe::models {
namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

Linear shaped(const std::string& name, int n, int k) {
  Linear l;
  l.name = name;
  l.n = n;
  l.k = k;
  return l;
}

void fill_linear(Linear& l, bool bias, Rng& rng) {
  l.w = synthetic_weights(l.n, l.k, rng.next_u64());
  if (bias) {
    l.bias.resize(l.n);
    for (float& b : l.bias) b = static_cast<float>(0.02 * rng.normal());
  }
}

std::vector<float> gains(int n, Rng& rng) {
  std::vector<float> g(n);
  for (float& v : g) v = static_cast<float>(1.0 + 0.05 * rng.normal());
  return g;
}

// RMSNorm (x / rms(x) * g) or LayerNorm ((x - mean) / std * g + b), eps = 1e-5, per row.
std::vector<float> norm(const std::vector<float>& x, int rows, int width, NormKind kind, const std::vector<float>& g,
                        const std::vector<float>& b) {
  std::vector<float> y(x.size());
  for (int r = 0; r < rows; ++r) {
    const float* in = x.data() + static_cast<std::size_t>(r) * width;
    float* out = y.data() + static_cast<std::size_t>(r) * width;
    double mean = 0.0, sq = 0.0;
    for (int i = 0; i < width; ++i) mean += in[i];
    mean /= width;
    if (kind == NormKind::kRmsNorm) mean = 0.0;
    for (int i = 0; i < width; ++i) sq += (in[i] - mean) * (in[i] - mean);
    const float inv = static_cast<float>(1.0 / std::sqrt(sq / width + 1e-5));
    for (int i = 0; i < width; ++i) {
      out[i] = static_cast<float>(in[i] - mean) * inv * g[i] + (b.empty() ? 0.0f : b[i]);
    }
  }
  return y;
}

// Rotary embedding as in the Hugging Face LLaMA code: pairs (i, i + d/2) of each head rotate by
// position * 10000^(-2i/d).
void rotary(std::vector<float>& x, int tokens, int heads, int head_dim) {
  const int half = head_dim / 2;
  for (int t = 0; t < tokens; ++t) {
    for (int h = 0; h < heads; ++h) {
      float* v = x.data() + (static_cast<std::size_t>(t) * heads + h) * head_dim;
      for (int i = 0; i < half; ++i) {
        const double angle = t * std::pow(10000.0, -2.0 * i / head_dim);
        const float c = static_cast<float>(std::cos(angle)), s = static_cast<float>(std::sin(angle));
        const float a = v[i], b = v[i + half];
        v[i] = a * c - b * s;
        v[i + half] = b * c + a * s;
      }
    }
  }
}

float activation(float x, ActivationKind kind) {
  switch (kind) {
    case ActivationKind::kSilu: return x / (1.0f + std::exp(-x));
    case ActivationKind::kRelu: return std::max(x, 0.0f);
    case ActivationKind::kGelu: return 0.5f * x * (1.0f + std::erf(x / std::sqrt(2.0f)));
  }
  return x;
}

}  // namespace

std::vector<const Linear*> LlmWeights::linears() const {
  std::vector<const Linear*> out;
  for (const LayerWeights& l : layers) {
    for (const Linear* p : {&l.q, &l.k, &l.v, &l.o}) out.push_back(p);
    if (config.gated_mlp) out.push_back(&l.gate);
    out.push_back(&l.up);
    out.push_back(&l.down);
  }
  return out;
}

LlmWeights llm_skeleton(const ModelConfig& c) {
  if (!c.is_decoder()) throw std::invalid_argument(fmt::format("model {}: only decoder LLMs have a forward pass here", c.name));
  LlmWeights w;
  w.config = c;
  const int h = c.hidden, q_width = c.heads * c.head_dim, kv_width = c.kv_heads * c.head_dim;
  for (int l = 0; l < c.layers; ++l) {
    const std::string p = fmt::format("layers.{}.", l);
    LayerWeights lw;
    lw.q = shaped(p + "q_proj", q_width, h);
    lw.k = shaped(p + "k_proj", kv_width, h);
    lw.v = shaped(p + "v_proj", kv_width, h);
    lw.o = shaped(p + "o_proj", h, q_width);
    if (c.gated_mlp) lw.gate = shaped(p + "gate_proj", c.intermediate, h);
    lw.up = shaped(p + (c.gated_mlp ? "up_proj" : "fc1"), c.intermediate, h);
    lw.down = shaped(p + (c.gated_mlp ? "down_proj" : "fc2"), h, c.intermediate);
    w.layers.push_back(std::move(lw));
  }
  w.lm_head = shaped("lm_head", c.vocab, h);
  return w;
}

LlmWeights synthetic_llm_weights(const ModelConfig& c, std::uint64_t seed, long long max_params) {
  if (c.linear_params() > max_params) {
    throw std::invalid_argument(fmt::format("model {} has {} linear parameters; synthetic float weights are limited to {}",
                                            c.name, c.linear_params(), max_params));
  }
  LlmWeights w = llm_skeleton(c);
  Rng rng(seed);
  const int h = c.hidden;
  w.embed.resize(static_cast<std::size_t>(c.vocab) * h);
  for (float& v : w.embed) v = static_cast<float>(rng.normal());
  if (c.family == ModelFamily::kOpt) {
    w.positions.resize(static_cast<std::size_t>(c.max_positions) * h);
    for (float& v : w.positions) v = static_cast<float>(0.1 * rng.normal());
  }
  const bool ln = c.norm == NormKind::kLayerNorm;
  for (LayerWeights& lw : w.layers) {
    lw.input_norm = gains(h, rng);
    if (ln) lw.input_norm_bias.assign(h, 0.0f);
    for (Linear* l : {&lw.q, &lw.k, &lw.v, &lw.o}) fill_linear(*l, c.linear_bias, rng);
    lw.post_norm = gains(h, rng);
    if (ln) lw.post_norm_bias.assign(h, 0.0f);
    if (c.gated_mlp) fill_linear(lw.gate, false, rng);
    fill_linear(lw.up, c.linear_bias, rng);
    fill_linear(lw.down, c.linear_bias, rng);
  }
  w.final_norm = gains(h, rng);
  if (ln) w.final_norm_bias.assign(h, 0.0f);
  fill_linear(w.lm_head, false, rng);
  return w;
}

std::vector<float> linear_float(const Linear& layer, const std::vector<float>& x, int m) {
  if (x.size() != static_cast<std::size_t>(m) * layer.k) {
    throw std::invalid_argument(fmt::format("{}: input has {} values, expected [{}, {}]", layer.name, x.size(), m, layer.k));
  }
  std::vector<float> y(static_cast<std::size_t>(m) * layer.n);
  Eigen::Map<const RowMatrix> X(x.data(), m, layer.k);
  Eigen::Map<const RowMatrix> W(layer.w.data(), layer.n, layer.k);
  Eigen::Map<RowMatrix> Y(y.data(), m, layer.n);
  Y.noalias() = X * W.transpose();
  if (!layer.bias.empty()) {
    for (int r = 0; r < m; ++r)
      for (int c = 0; c < layer.n; ++c) Y(r, c) += layer.bias[c];
  }
  return y;
}

std::vector<float> llm_forward(const LlmWeights& w, const std::vector<int>& tokens, const LinearBackend& backend) {
  const ModelConfig& c = w.config;
  const int t_len = static_cast<int>(tokens.size());
  if (t_len == 0 || t_len > c.max_positions) {
    throw std::invalid_argument(fmt::format("model {}: {} tokens (must be 1..{})", c.name, t_len, c.max_positions));
  }
  const int h = c.hidden, hd = c.head_dim;
  std::vector<float> x(static_cast<std::size_t>(t_len) * h);
  for (int t = 0; t < t_len; ++t) {
    if (tokens[t] < 0 || tokens[t] >= c.vocab) {
      throw std::invalid_argument(fmt::format("model {}: token {} at position {} is outside the vocabulary [0, {})", c.name, tokens[t], t, c.vocab));
    }
    for (int i = 0; i < h; ++i) {
      float v = w.embed[static_cast<std::size_t>(tokens[t]) * h + i];
      if (!w.positions.empty()) v += w.positions[static_cast<std::size_t>(t) * h + i];
      x[static_cast<std::size_t>(t) * h + i] = v;
    }
  }
  const int group = c.heads / c.kv_heads;
  const float inv_sqrt_d = 1.0f / std::sqrt(static_cast<float>(hd));
  for (const LayerWeights& lw : w.layers) {
    const std::vector<float> xn = norm(x, t_len, h, c.norm, lw.input_norm, lw.input_norm_bias);
    std::vector<float> q = backend(lw.q, xn, t_len), k = backend(lw.k, xn, t_len);
    const std::vector<float> v = backend(lw.v, xn, t_len);
    if (c.rotary) {
      rotary(q, t_len, c.heads, hd);
      rotary(k, t_len, c.kv_heads, hd);
    }
    // Causal (optionally sliding-window) attention per head, in FP32.
    std::vector<float> attn(static_cast<std::size_t>(t_len) * c.heads * hd, 0.0f);
    std::vector<float> scores(t_len);
    for (int head = 0; head < c.heads; ++head) {
      const int kvh = head / group;
      for (int i = 0; i < t_len; ++i) {
        const int first = c.sliding_window > 0 ? std::max(0, i - c.sliding_window + 1) : 0;
        const float* qi = q.data() + (static_cast<std::size_t>(i) * c.heads + head) * hd;
        float max_score = -INFINITY;
        for (int j = first; j <= i; ++j) {
          const float* kj = k.data() + (static_cast<std::size_t>(j) * c.kv_heads + kvh) * hd;
          float s = 0.0f;
          for (int d = 0; d < hd; ++d) s += qi[d] * kj[d];
          scores[j] = s * inv_sqrt_d;
          max_score = std::max(max_score, scores[j]);
        }
        float denom = 0.0f;
        for (int j = first; j <= i; ++j) denom += (scores[j] = std::exp(scores[j] - max_score));
        float* out = attn.data() + (static_cast<std::size_t>(i) * c.heads + head) * hd;
        for (int j = first; j <= i; ++j) {
          const float p = scores[j] / denom;
          const float* vj = v.data() + (static_cast<std::size_t>(j) * c.kv_heads + kvh) * hd;
          for (int d = 0; d < hd; ++d) out[d] += p * vj[d];
        }
      }
    }
    const std::vector<float> o = backend(lw.o, attn, t_len);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] += o[i];

    const std::vector<float> xn2 = norm(x, t_len, h, c.norm, lw.post_norm, lw.post_norm_bias);
    std::vector<float> hidden = backend(lw.up, xn2, t_len);
    if (c.gated_mlp) {
      const std::vector<float> gate = backend(lw.gate, xn2, t_len);
      for (std::size_t i = 0; i < hidden.size(); ++i) hidden[i] *= activation(gate[i], c.activation);
    } else {
      for (float& v2 : hidden) v2 = activation(v2, c.activation);
    }
    const std::vector<float> down = backend(lw.down, hidden, t_len);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] += down[i];
  }
  const std::vector<float> xf = norm(x, t_len, h, c.norm, w.final_norm, w.final_norm_bias);
  return backend(w.lm_head, xf, t_len);
}

}  // namespace mixpe::models
