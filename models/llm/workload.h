// The operator graph of one forward step (prefill or decode) of a transformer, as shapes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/llm/model_config.h"

namespace mixpe::models {

enum class OpKind {
  kLinear,      // activation x quantized weight: Y[M][N] = X[M][K] W[N][K]^T
  kAttnScore,   // activation x activation: S = Q K^T per (sequence, head)
  kAttnValue,   // activation x activation: O = P V per (sequence, head)
  kNorm,        // RMSNorm / LayerNorm over rows of `width`
  kSoftmax,     // over rows of `width`
  kActivation,  // SiLU / GELU / ReLU (for SwiGLU: fused with the elementwise gate product)
  kRotary,      // rotary position embedding on Q and K
  kElementwise  // residual adds, bias adds, position embeddings
};

enum class Phase { kPrefill, kDecode };

struct Op {
  std::string name;  // e.g. "layers.3.q_proj"
  int layer = -1;    // -1 outside the transformer blocks
  OpKind kind = OpKind::kLinear;
  // GEMMs: `count` independent products of M x K by K x N.
  std::int64_t m = 0, n = 0, k = 0, count = 1;
  int weight_bits = 0;  // GEMMs with a weight format of their own (8-bit DFT matrices); 0: the design's
  // Vector ops: `elements` values in rows of `width`, read from `inputs` tensors of that size
  // (2 for residual adds and SwiGLU's gate * up).
  std::int64_t elements = 0, width = 0;
  int inputs = 1;
  // Elements of this op's output stored in the array's weight format because a later GEMM uses
  // them as its weight operand (K and V of attention: the KV cache), in rows of `kv_width`.
  std::int64_t kv_elements = 0, kv_width = 0;
  std::string note;  // how the op is modelled when that is not obvious
  // True when the op reads the same input as the op before it (k/v after q, up after gate), so
  // it need not wait for that op's result.
  bool shares_input_with_previous = false;

  bool is_gemm() const { return kind == OpKind::kLinear || kind == OpKind::kAttnScore || kind == OpKind::kAttnValue; }
  std::int64_t macs() const { return is_gemm() ? m * n * k * count : 0; }
};

struct WorkloadSpec {
  Phase phase = Phase::kPrefill;
  int batch = 1;
  // Prefill: tokens per sequence. Decode: context length including the new token (KV cache of
  // seq - 1 tokens plus the one being generated).
  int seq = 64;
};

// Throws std::invalid_argument naming the option when the spec does not fit the model
// (decode of an encoder, sequence beyond max_position_embeddings, non-positive sizes).
std::vector<Op> build_workload(const ModelConfig& model, const WorkloadSpec& spec);

const char* to_string(OpKind k);
const char* to_string(Phase p);

}  // namespace mixpe::models
