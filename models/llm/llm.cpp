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

// RMSNorm (x / rms(x) * g) or LayerNorm ((x - mean) / std * g + b), per row.
std::vector<float> norm(const std::vector<float>& x, int rows, int width, NormKind kind, double eps, const std::vector<float>& g,
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
    const float inv = static_cast<float>(1.0 / std::sqrt(sq / width + eps));
    for (int i = 0; i < width; ++i) {
      out[i] = static_cast<float>(in[i] - mean) * inv * g[i] + (b.empty() ? 0.0f : b[i]);
    }
  }
  return y;
}

// Rotary embedding as in the Hugging Face LLaMA code: pairs (i, i + d/2) of each head rotate by
// position * theta^(-2i/d); token t sits at position first + t.
void rotary(std::vector<float>& x, int tokens, int first, int heads, int head_dim, double theta) {
  const int half = head_dim / 2;
  for (int t = 0; t < tokens; ++t) {
    for (int h = 0; h < heads; ++h) {
      float* v = x.data() + (static_cast<std::size_t>(t) * heads + h) * head_dim;
      for (int i = 0; i < half; ++i) {
        const double angle = (first + t) * std::pow(theta, -2.0 * i / head_dim);
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

std::vector<float> llm_forward_step(const LlmWeights& w, KvCache& cache, const std::vector<int>& tokens, const LinearBackend& backend,
                                    const ActivationGemm& attention, bool last_logits_only) {
  const ModelConfig& c = w.config;
  const int t_len = static_cast<int>(tokens.size()), first = cache.length, len = first + t_len;
  if (t_len == 0 || len > c.max_positions) {
    throw std::invalid_argument(fmt::format("model {}: {} new tokens after {} cached ones (the context must be 1..{})", c.name,
                                            t_len, first, c.max_positions));
  }
  const int h = c.hidden, hd = c.head_dim, kvw = c.kv_heads * hd;
  if (cache.k.empty()) {
    cache.k.resize(c.layers);
    cache.v.resize(c.layers);
  }
  std::vector<float> x(static_cast<std::size_t>(t_len) * h);
  for (int t = 0; t < t_len; ++t) {
    if (tokens[t] < 0 || tokens[t] >= c.vocab) {
      throw std::invalid_argument(fmt::format("model {}: token {} at position {} is outside the vocabulary [0, {})", c.name, tokens[t],
                                              first + t, c.vocab));
    }
    for (int i = 0; i < h; ++i) {
      float v = w.embed[static_cast<std::size_t>(tokens[t]) * h + i];
      if (!w.positions.empty()) v += w.positions[static_cast<std::size_t>(first + t) * h + i];
      x[static_cast<std::size_t>(t) * h + i] = v;
    }
  }
  const int group = c.heads / c.kv_heads;
  const float inv_sqrt_d = 1.0f / std::sqrt(static_cast<float>(hd));
  for (int l = 0; l < c.layers; ++l) {
    const LayerWeights& lw = w.layers[l];
    const std::vector<float> xn = norm(x, t_len, h, c.norm, c.norm_eps, lw.input_norm, lw.input_norm_bias);
    std::vector<float> q = backend(lw.q, xn, t_len), k = backend(lw.k, xn, t_len);
    const std::vector<float> v = backend(lw.v, xn, t_len);
    if (c.rotary) {
      rotary(q, t_len, first, c.heads, hd, c.rope_theta);
      rotary(k, t_len, first, c.kv_heads, hd, c.rope_theta);
    }
    std::vector<float>& kc = cache.k[l];
    std::vector<float>& vc = cache.v[l];
    kc.insert(kc.end(), k.begin(), k.end());
    vc.insert(vc.end(), v.begin(), v.end());
    // Causal (optionally sliding-window) attention per head: query i (position first + i) sees
    // positions [lo, first + i].
    std::vector<float> attn(static_cast<std::size_t>(t_len) * c.heads * hd, 0.0f);
    auto lowest = [&](int i) { return c.sliding_window > 0 ? std::max(0, first + i - c.sliding_window + 1) : 0; };
    for (int head = 0; head < c.heads; ++head) {
      const int kvh = head / group;
      std::vector<float> scores(static_cast<std::size_t>(t_len) * len);
      if (attention) {
        std::vector<float> qh(static_cast<std::size_t>(t_len) * hd), kh(static_cast<std::size_t>(len) * hd);
        for (int i = 0; i < t_len; ++i)
          std::copy_n(q.data() + (static_cast<std::size_t>(i) * c.heads + head) * hd, hd, qh.data() + static_cast<std::size_t>(i) * hd);
        for (int j = 0; j < len; ++j)
          std::copy_n(kc.data() + static_cast<std::size_t>(j) * kvw + kvh * hd, hd, kh.data() + static_cast<std::size_t>(j) * hd);
        scores = attention(fmt::format("layers.{}.attn_score", l), qh, t_len, kh, len, hd);
      } else {
        for (int i = 0; i < t_len; ++i) {
          const float* qi = q.data() + (static_cast<std::size_t>(i) * c.heads + head) * hd;
          for (int j = lowest(i); j <= first + i; ++j) {
            const float* kj = kc.data() + static_cast<std::size_t>(j) * kvw + kvh * hd;
            float s = 0.0f;
            for (int d = 0; d < hd; ++d) s += qi[d] * kj[d];
            scores[static_cast<std::size_t>(i) * len + j] = s;
          }
        }
      }
      // Softmax over the visible positions; masked positions get probability 0.
      for (int i = 0; i < t_len; ++i) {
        float* row = scores.data() + static_cast<std::size_t>(i) * len;
        const int lo = lowest(i), hi = first + i;
        float max_score = -INFINITY;
        for (int j = lo; j <= hi; ++j) max_score = std::max(max_score, row[j] *= inv_sqrt_d);
        float denom = 0.0f;
        for (int j = lo; j <= hi; ++j) denom += (row[j] = std::exp(row[j] - max_score));
        for (int j = 0; j < len; ++j) row[j] = (j >= lo && j <= hi) ? row[j] / denom : 0.0f;
      }
      if (attention) {
        std::vector<float> vt(static_cast<std::size_t>(hd) * len);
        for (int j = 0; j < len; ++j)
          for (int d = 0; d < hd; ++d) vt[static_cast<std::size_t>(d) * len + j] = vc[static_cast<std::size_t>(j) * kvw + kvh * hd + d];
        const std::vector<float> o = attention(fmt::format("layers.{}.attn_value", l), scores, t_len, vt, hd, len);
        for (int i = 0; i < t_len; ++i)
          std::copy_n(o.data() + static_cast<std::size_t>(i) * hd, hd, attn.data() + (static_cast<std::size_t>(i) * c.heads + head) * hd);
      } else {
        for (int i = 0; i < t_len; ++i) {
          float* out = attn.data() + (static_cast<std::size_t>(i) * c.heads + head) * hd;
          for (int j = lowest(i); j <= first + i; ++j) {
            const float p = scores[static_cast<std::size_t>(i) * len + j];
            const float* vj = vc.data() + static_cast<std::size_t>(j) * kvw + kvh * hd;
            for (int d = 0; d < hd; ++d) out[d] += p * vj[d];
          }
        }
      }
    }
    const std::vector<float> o = backend(lw.o, attn, t_len);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] += o[i];

    const std::vector<float> xn2 = norm(x, t_len, h, c.norm, c.norm_eps, lw.post_norm, lw.post_norm_bias);
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
  cache.length = len;
  if (last_logits_only) {
    x.erase(x.begin(), x.end() - h);
    const std::vector<float> xf = norm(x, 1, h, c.norm, c.norm_eps, w.final_norm, w.final_norm_bias);
    return backend(w.lm_head, xf, 1);
  }
  const std::vector<float> xf = norm(x, t_len, h, c.norm, c.norm_eps, w.final_norm, w.final_norm_bias);
  return backend(w.lm_head, xf, t_len);
}

std::vector<float> llm_forward(const LlmWeights& w, const std::vector<int>& tokens, const LinearBackend& backend,
                               const ActivationGemm& attention) {
  KvCache cache;
  return llm_forward_step(w, cache, tokens, backend, attention);
}

}  // namespace mixpe::models
