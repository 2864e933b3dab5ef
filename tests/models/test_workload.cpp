// Workload graphs: MAC counts follow from the architecture; every op is present; bad specs fail.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <stdexcept>
#include <string>

#include "models/llm/workload.h"

namespace mixpe::models {
namespace {

std::int64_t total_macs(const std::vector<Op>& ops, bool linear_only) {
  std::int64_t sum = 0;
  for (const Op& op : ops)
    if (!linear_only || op.kind == OpKind::kLinear) sum += op.macs();
  return sum;
}

TEST(Workload, DecodeLinearMacsEqualParametersPerToken) {
  // One decode token touches every linear weight once, plus the LM head.
  const ModelConfig c = load_model_config("llama-2-7b");
  for (int batch : {1, 16}) {
    const auto ops = build_workload(c, {Phase::kDecode, batch, 2048});
    EXPECT_EQ(total_macs(ops, true), batch * (c.linear_params() + static_cast<std::int64_t>(c.vocab) * c.hidden));
    // Attention: per layer, batch * heads * (ctx * hd) for scores and again for values.
    EXPECT_EQ(total_macs(ops, false) - total_macs(ops, true), 2ll * c.layers * batch * c.heads * 2048 * c.head_dim);
  }
}

TEST(Workload, PrefillShapesAndOpInventory) {
  const ModelConfig c = load_model_config("opt-6.7b");
  const auto ops = build_workload(c, {Phase::kPrefill, 2, 64});
  std::map<OpKind, int> kinds;
  for (const Op& op : ops) kinds[op.kind]++;
  EXPECT_EQ(kinds[OpKind::kLinear], 6 * c.layers + 1);  // q k v o fc1 fc2, lm_head
  EXPECT_EQ(kinds[OpKind::kAttnScore], c.layers);
  EXPECT_EQ(kinds[OpKind::kSoftmax], c.layers);
  EXPECT_EQ(kinds[OpKind::kNorm], 2 * c.layers + 1);
  EXPECT_EQ(kinds[OpKind::kRotary], 0);  // OPT uses learned positions
  const Op& q = ops[2];
  ASSERT_EQ(q.name, "layers.0.q_proj");
  EXPECT_EQ(q.m, 128);
  EXPECT_EQ(q.n, 4096);
  EXPECT_EQ(q.k, 4096);
  const Op* score = nullptr;
  for (const Op& op : ops)
    if (op.name == "layers.0.attn_score") score = &op;
  ASSERT_NE(score, nullptr);
  EXPECT_EQ(score->m, 64);
  EXPECT_EQ(score->n, 64);
  EXPECT_EQ(score->k, 128);
  EXPECT_EQ(score->count, 2 * 32);
  EXPECT_NE(score->note.find("causal"), std::string::npos);
}

TEST(Workload, MistralSlidingWindowCapsTheKeys) {
  const ModelConfig c = load_model_config("mistral-7b");
  const auto ops = build_workload(c, {Phase::kDecode, 1, 8192});
  int scores = 0;
  for (const Op& op : ops) {
    if (op.kind == OpKind::kAttnScore) {
      EXPECT_EQ(op.n, 4096);
      ++scores;
    }
  }
  EXPECT_EQ(scores, c.layers);
}

TEST(Workload, VitEncoderHasClassTokenAndNoDecode) {
  const ModelConfig c = load_model_config("vit-b16");
  const auto ops = build_workload(c, {Phase::kPrefill, 1, 1});
  EXPECT_EQ(ops.front().name, "patch_embed");
  EXPECT_EQ(ops.front().m, 196);
  EXPECT_EQ(ops.front().k, 3 * 16 * 16);
  const auto q = std::find_if(ops.begin(), ops.end(), [](const Op& op) { return op.name == "layers.0.q_proj"; });
  ASSERT_NE(q, ops.end());
  EXPECT_EQ(q->m, 197);
  EXPECT_THROW(build_workload(c, {Phase::kDecode, 1, 64}), std::invalid_argument);
}

TEST(Workload, BadSpecsNameTheOption) {
  const ModelConfig c = load_model_config("tiny");
  try {
    build_workload(c, {Phase::kPrefill, 1, 100000});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("--seq = 100000"), std::string::npos) << e.what();
  }
  EXPECT_THROW(build_workload(c, {Phase::kPrefill, 0, 8}), std::invalid_argument);
}

}  // namespace
}  // namespace mixpe::models
