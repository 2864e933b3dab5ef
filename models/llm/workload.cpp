// Builds the per-op shapes of a transformer forward step.
#include "models/llm/workload.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

namespace mixpe::models {
namespace {

class Builder {
 public:
  explicit Builder(std::vector<Op>& ops) : ops_(ops) {}

  void linear(const std::string& name, int layer, std::int64_t m, std::int64_t n, std::int64_t k, std::string note = "") {
    Op op;
    op.name = name;
    op.layer = layer;
    op.kind = OpKind::kLinear;
    op.m = m;
    op.n = n;
    op.k = k;
    op.note = std::move(note);
    ops_.push_back(std::move(op));
  }
  void act_gemm(const std::string& name, int layer, OpKind kind, std::int64_t m, std::int64_t n, std::int64_t k,
                std::int64_t count, std::string note) {
    Op op;
    op.name = name;
    op.layer = layer;
    op.kind = kind;
    op.m = m;
    op.n = n;
    op.k = k;
    op.count = count;
    op.note = std::move(note);
    ops_.push_back(std::move(op));
  }
  void vec(const std::string& name, int layer, OpKind kind, std::int64_t elements, std::int64_t width, std::string note = "") {
    Op op;
    op.name = name;
    op.layer = layer;
    op.kind = kind;
    op.elements = elements;
    op.width = width;
    op.note = std::move(note);
    ops_.push_back(std::move(op));
  }

 private:
  std::vector<Op>& ops_;
};

}  // namespace

std::vector<Op> build_workload(const ModelConfig& c, const WorkloadSpec& spec) {
  if (spec.batch <= 0) throw std::invalid_argument(fmt::format("--batch = {} must be positive", spec.batch));
  if (spec.seq <= 0) throw std::invalid_argument(fmt::format("--seq = {} must be positive", spec.seq));
  if (!c.is_decoder() && spec.phase == Phase::kDecode) {
    throw std::invalid_argument(fmt::format("model {} is an encoder ({}): it has no decode phase", c.name, to_string(c.family)));
  }
  if (c.is_decoder() && spec.seq > c.max_positions) {
    throw std::invalid_argument(fmt::format("--seq = {} exceeds max_position_embeddings = {} of model {}", spec.seq,
                                            c.max_positions, c.name));
  }
  std::vector<Op> ops;
  Builder b(ops);
  const std::int64_t batch = spec.batch;
  const bool prefill = spec.phase == Phase::kPrefill;
  // Tokens per sequence entering the blocks, and the keys each query attends to.
  const std::int64_t q_len = !c.is_decoder() ? c.num_patches() + 1 : (prefill ? spec.seq : 1);
  std::int64_t kv_len = !c.is_decoder() ? q_len : spec.seq;
  if (c.sliding_window > 0) kv_len = std::min<std::int64_t>(kv_len, c.sliding_window);
  const std::int64_t tokens = batch * q_len;
  const std::int64_t h = c.hidden, hd = c.head_dim;
  const std::int64_t q_width = c.heads * hd, kv_width = c.kv_heads * hd;
  const char* bias_note = c.linear_bias ? "bias add counted as an elementwise op" : "";
  const std::string causal_note =
      c.is_decoder() && prefill ? "full q_len x kv_len product; the causal mask is applied in softmax, masked tiles are not skipped"
                                : "";

  if (!c.is_decoder()) {
    b.linear("patch_embed", -1, batch * c.num_patches(), h, static_cast<std::int64_t>(c.channels) * c.patch_size * c.patch_size,
             "patch convolution as a GEMM over flattened patches");
    b.vec("pos_embed", -1, OpKind::kElementwise, tokens * h, h, "add position embeddings (and the class token)");
    ops.back().inputs = 2;
  } else if (c.family == ModelFamily::kOpt) {
    b.vec("embed_positions", -1, OpKind::kElementwise, tokens * h, h, "token embedding lookup is a DMA gather; add learned positions");
    ops.back().inputs = 2;
  }

  for (int l = 0; l < c.layers; ++l) {
    const std::string p = fmt::format("layers.{}.", l);
    b.vec(p + "input_norm", l, OpKind::kNorm, tokens * h, h);
    b.linear(p + "q_proj", l, tokens, q_width, h, bias_note);
    b.linear(p + "k_proj", l, tokens, kv_width, h, bias_note);
    ops.back().shares_input_with_previous = true;
    b.linear(p + "v_proj", l, tokens, kv_width, h, bias_note);
    ops.back().shares_input_with_previous = true;
    // K and V reach the attention GEMMs in the weight format (the KV cache; in decode only the new
    // token's rows), written by the last op that touches each.
    std::size_t k_writer = ops.size() - 2, v_writer = ops.size() - 1;
    if (c.linear_bias) {
      b.vec(p + "qkv_bias", l, OpKind::kElementwise, tokens * (q_width + 2 * kv_width), q_width + 2 * kv_width);
      k_writer = v_writer = ops.size() - 1;
    }
    if (c.rotary) {
      b.vec(p + "rotary", l, OpKind::kRotary, tokens * (q_width + kv_width), hd);
      k_writer = ops.size() - 1;
    }
    for (std::size_t i : {k_writer, v_writer}) {
      ops[i].kv_elements += tokens * kv_width;
      ops[i].kv_width = hd;
    }
    const std::string gqa = c.kv_heads < c.heads ? fmt::format("; {} query heads share each K/V head", c.heads / c.kv_heads) : "";
    b.act_gemm(p + "attn_score", l, OpKind::kAttnScore, q_len, kv_len, hd, batch * c.heads, causal_note + gqa);
    b.vec(p + "softmax", l, OpKind::kSoftmax, batch * c.heads * q_len * kv_len, kv_len);
    b.act_gemm(p + "attn_value", l, OpKind::kAttnValue, q_len, hd, kv_len, batch * c.heads, gqa.empty() ? "" : gqa.substr(2));
    b.linear(p + "o_proj", l, tokens, h, q_width, bias_note);
    b.vec(p + "attn_residual", l, OpKind::kElementwise, tokens * h, h, c.linear_bias ? "residual add (with the o_proj bias)" : "residual add");
    ops.back().inputs = 2;
    b.vec(p + "post_attn_norm", l, OpKind::kNorm, tokens * h, h);
    if (c.gated_mlp) {
      b.linear(p + "gate_proj", l, tokens, c.intermediate, h);
      b.linear(p + "up_proj", l, tokens, c.intermediate, h);
      ops.back().shares_input_with_previous = true;
      b.vec(p + "act_mul", l, OpKind::kActivation, tokens * c.intermediate, c.intermediate,
            fmt::format("{}(gate) * up", to_string(c.activation)));
      ops.back().inputs = 2;
      b.linear(p + "down_proj", l, tokens, h, c.intermediate);
    } else {
      b.linear(p + "fc1", l, tokens, c.intermediate, h, bias_note);
      b.vec(p + "act", l, OpKind::kActivation, tokens * c.intermediate, c.intermediate,
            fmt::format("{} (with the fc1 bias)", to_string(c.activation)));
      b.linear(p + "fc2", l, tokens, h, c.intermediate, bias_note);
    }
    b.vec(p + "mlp_residual", l, OpKind::kElementwise, tokens * h, h, c.linear_bias ? "residual add (with the fc2 bias)" : "residual add");
    ops.back().inputs = 2;
  }

  if (!c.is_decoder()) {
    b.vec("final_norm", -1, OpKind::kNorm, tokens * h, h);
    b.linear("classifier", -1, batch, c.num_labels, h, "class token only");
  } else {
    // Generation needs the next-token logits of the last position of each sequence only.
    b.vec("final_norm", -1, OpKind::kNorm, batch * h, h, prefill ? "last position of each sequence only" : "");
    b.linear("lm_head", -1, batch, c.vocab, h, prefill ? "last position of each sequence only" : "");
  }
  return ops;
}

const char* to_string(OpKind k) {
  switch (k) {
    case OpKind::kLinear: return "linear";
    case OpKind::kAttnScore: return "attn_score";
    case OpKind::kAttnValue: return "attn_value";
    case OpKind::kNorm: return "norm";
    case OpKind::kSoftmax: return "softmax";
    case OpKind::kActivation: return "activation";
    case OpKind::kRotary: return "rotary";
    case OpKind::kElementwise: return "elementwise";
  }
  return "?";
}

const char* to_string(Phase p) { return p == Phase::kPrefill ? "prefill" : "decode"; }

}  // namespace mixpe::models
