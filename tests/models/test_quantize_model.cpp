// Whole-model quantization: tensor selection, exact stored values, GGUF mapping, clean failures.
#include <gtest/gtest.h>

#include <cmath>

#include "models/io/ggml_quants.h"
#include "models/io/gguf.h"
#include "models/io/mixpe_format.h"
#include "models/io/quantize_model.h"
#include "quant/metrics.h"
#include "test_util.h"
#include "tiny_checkpoint.h"

namespace mixpe::models {
namespace {

using testing::TempDir;

QuantizeOptions options(const TempDir& dir, int bits, int group, bool sym, OutputFormat fmt = OutputFormat::kMixpe) {
  QuantizeOptions o;
  o.input = dir.file("model.safetensors");
  o.output = dir.file(fmt == OutputFormat::kGguf ? "out.gguf" : "out.mixpe");
  o.weights = {bits, group, sym};
  o.format = fmt;
  return o;
}

const TensorReport& row(const QuantizeReport& r, const std::string& name) {
  for (const TensorReport& t : r.tensors)
    if (t.name == name) return t;
  throw std::runtime_error("no row " + name);
}

TEST(QuantizeModel, QuantizesLinearWeightsAndKeepsTheRest) {
  TempDir dir;
  const auto tensors = testing::tiny_llama_tensors();
  testing::write_tiny_llama(dir.file("model.safetensors"), tensors);
  const QuantizeReport r = quantize_model(options(dir, 4, 32, false));
  EXPECT_EQ(r.quantized_count, 14);  // 7 linear layers x 2 decoder layers
  ASSERT_EQ(r.tensors.size(), tensors.size());
  EXPECT_FALSE(row(r, "model.embed_tokens.weight").quantized);
  EXPECT_FALSE(row(r, "lm_head.weight").quantized);
  EXPECT_FALSE(row(r, "model.norm.weight").quantized);

  const MixpeFile f = MixpeFile::open(dir.file("out.mixpe"));
  EXPECT_EQ(f.metadata()["mixpe.quantization"], "rtn w4 g32 asym");
  EXPECT_EQ(f.metadata()["mixpe.source_metadata"]["format"], "pt");
  double sqnr_sum = 0;
  for (const auto& t : tensors) {
    const MixpeTensor* m = f.find(t.name);
    ASSERT_NE(m, nullptr) << t.name;
    const TensorReport& rr = row(r, t.name);
    const std::vector<float> w = to_float32(Dtype::kBF16, t.bytes);
    if (rr.quantized) {
      // Stored values are exactly what the RTN oracle produces for the same input.
      const quant::QuantizedWeights q = quant::quantize_weights_rtn(w, static_cast<int>(t.shape[0]), static_cast<int>(t.shape[1]), {4, 32, false});
      EXPECT_EQ(dequantize_mixpe_tensor(*m, "out"), quant::dequantize_weights_f32(q)) << t.name;
      const quant::ErrorMetrics e = quant::compare(std::vector<double>(w.begin(), w.end()), quant::dequantize_weights_f64(q));
      EXPECT_DOUBLE_EQ(rr.sqnr_db, e.sqnr_db);
      EXPECT_DOUBLE_EQ(rr.max_abs_error, e.max_abs);
      // 4-bit g32 RTN on Gaussian-like weights: roughly 6 dB per bit minus outlier and clipping losses.
      EXPECT_GT(rr.sqnr_db, 14.0) << t.name;
      EXPECT_LT(rr.sqnr_db, 26.0) << t.name;
      EXPECT_EQ(rr.bytes_out, t.shape[0] * t.shape[1] / 2 + t.shape[0] * t.shape[1] / 32 * 3);
      sqnr_sum += rr.sqnr_db;
    } else {
      EXPECT_EQ(m->kind, MixpeTensorKind::kPlain);
      EXPECT_TRUE(std::equal(m->data.begin(), m->data.end(), t.bytes.begin(), t.bytes.end())) << t.name;
    }
  }
  EXPECT_DOUBLE_EQ(r.mean_sqnr_db, sqnr_sum / 14);
  EXPECT_LT(r.bytes_out, r.bytes_in);
  EXPECT_EQ(r.file_bytes, std::filesystem::file_size(dir.file("out.mixpe")));
}

TEST(QuantizeModel, MoreBitsGiveHigherSqnr) {
  TempDir dir;
  testing::write_tiny_llama(dir.file("model.safetensors"), testing::tiny_llama_tensors(Dtype::kF32), Dtype::kF32);
  double last = 0;
  for (int bits : {2, 3, 4, 8}) {
    const QuantizeReport r = quantize_model(options(dir, bits, 64, false));
    EXPECT_GT(r.mean_sqnr_db, last + 4.0) << bits;
    last = r.mean_sqnr_db;
  }
}

TEST(QuantizeModel, IncludeAndSkipPatterns) {
  TempDir dir;
  testing::write_tiny_llama(dir.file("model.safetensors"), testing::tiny_llama_tensors());
  QuantizeOptions o = options(dir, 3, -1, true);
  o.include_regex = "lm_head";
  o.skip_regex = R"(mlp\.)";
  const QuantizeReport r = quantize_model(o);
  EXPECT_TRUE(row(r, "lm_head.weight").quantized);
  EXPECT_EQ(row(r, "lm_head.weight").group_size, 64);  // per-channel: g = K
  EXPECT_FALSE(row(r, "model.layers.0.mlp.up_proj.weight").quantized);
  EXPECT_TRUE(row(r, "model.layers.1.self_attn.o_proj.weight").quantized);
  EXPECT_EQ(r.quantized_count, 9);  // 4 attention x 2 + lm_head
}

TEST(QuantizeModel, GgufOutputUsesQ4_0AndQ8_0Exactly) {
  TempDir dir;
  const auto tensors = testing::tiny_llama_tensors();
  testing::write_tiny_llama(dir.file("model.safetensors"), tensors);
  for (int bits : {4, 8}) {
    const QuantizeReport r = quantize_model(options(dir, bits, 32, true, OutputFormat::kGguf));
    const GgufFile g = GgufFile::open(dir.file("out.gguf"));
    EXPECT_EQ(std::get<std::uint32_t>(g.find_metadata("general.file_type")->value), bits == 4 ? 2u : 7u);
    const GgufTensor* q = g.find("model.layers.1.mlp.down_proj.weight");
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(q->type, bits == 4 ? GgmlType::kQ4_0 : GgmlType::kQ8_0);
    EXPECT_EQ(q->dims, (std::vector<std::uint64_t>{128, 64}));  // ne[0] = K
    const auto& src = tensors[7 + 9];  // layer 1 down_proj
    ASSERT_EQ(src.name, "model.layers.1.mlp.down_proj.weight");
    const quant::QuantizedWeights oracle = quant::quantize_weights_rtn(to_float32(Dtype::kBF16, src.bytes), 64, 128, {bits, 32, true});
    EXPECT_EQ(dequantize_gguf_tensor(*q, "out"), quant::dequantize_weights_f32(oracle));
    EXPECT_EQ(g.find("model.norm.weight")->type, GgmlType::kBF16);
    EXPECT_EQ(r.quantized_count, 14);

    // GGUF in, mixpe out: the Q tensors are re-quantized from their exact values.
    QuantizeOptions back = options(dir, 8, 32, true);
    back.input = dir.file("out.gguf");
    back.output = dir.file("back.mixpe");
    const QuantizeReport rb = quantize_model(back);
    EXPECT_EQ(row(rb, "model.layers.1.mlp.down_proj.weight").in_type, bits == 4 ? "Q4_0" : "Q8_0");
    if (bits == 8) {  // Q8_0 -> W8 g32 sym is lossless: the largest code is always +-127, so s = d again
      EXPECT_TRUE(std::isinf(row(rb, "model.layers.1.mlp.down_proj.weight").sqnr_db));
    }
  }
}

TEST(QuantizeModel, KeptGgufBlocksStayExactInMixpeOutput) {
  TempDir dir;
  const std::vector<float> emb = synthetic_weights(8, 64, 5);
  const std::vector<BlockQ4_1> b41 = quantize_q4_1(emb);
  const std::vector<float> lin = synthetic_weights(16, 64, 6);
  const std::vector<BlockQ8_0> b80 = quantize_q8_0(lin);
  const std::vector<GgufTensorToWrite> tensors = {{"token_embd.weight", GgmlType::kQ4_1, {8, 64}, bytes_of<BlockQ4_1>(b41)},
                                                  {"blk.0.ffn_up.weight", GgmlType::kQ8_0, {16, 64}, bytes_of<BlockQ8_0>(b80)}};
  write_gguf(dir.file("in.gguf"), {{"general.architecture", GgufValue("llama")}}, tensors);
  QuantizeOptions o = options(dir, 4, 64, false);
  o.input = dir.file("in.gguf");
  const QuantizeReport r = quantize_model(o);
  EXPECT_EQ(row(r, "token_embd.weight").out_type, "W4 g32 min");
  EXPECT_TRUE(row(r, "blk.0.ffn_up.weight").quantized);  // GGUF linear names are recognized
  const MixpeFile f = MixpeFile::open(o.output);
  EXPECT_EQ(dequantize_mixpe_tensor(*f.find("token_embd.weight"), "out"), dequantize_q4_1(b41));
  EXPECT_EQ(f.metadata()["mixpe.source_metadata"]["general.architecture"], "llama");
}

TEST(QuantizeModel, GgufNamesFromConfig) {
  TempDir dir;
  testing::write_tiny_llama(dir.file("model.safetensors"), testing::tiny_llama_tensors());
  QuantizeOptions o = options(dir, 4, 32, true, OutputFormat::kGguf);
  o.gguf_names = true;
  EXPECT_THROW(quantize_model(o), std::invalid_argument);  // no config.json yet
  testing::write_llama_config(dir.path().string());
  quantize_model(o);
  const GgufFile g = GgufFile::open(o.output);
  EXPECT_NE(g.find("blk.0.attn_q.weight"), nullptr);
  EXPECT_NE(g.find("token_embd.weight"), nullptr);
  EXPECT_EQ(g.find("blk.0.attn_q.weight")->type, GgmlType::kQ4_0);
  EXPECT_EQ(g.find("output.weight")->type, GgmlType::kBF16);
}

TEST(QuantizeModel, FailuresLeaveNoOutput) {
  TempDir dir;
  testing::write_tiny_llama(dir.file("model.safetensors"), testing::tiny_llama_tensors());
  auto expect_invalid = [&](QuantizeOptions o, const std::string& part) {
    try {
      quantize_model(o);
      ADD_FAILURE() << "accepted; expected an error mentioning " << part;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
    EXPECT_EQ(dir.entry_count(), 1u) << "output or temporary file left behind";
  };
  expect_invalid(options(dir, 4, 128, false), "tensor 'model.layers.0.self_attn.q_proj.weight' shape [64, 64]: K = 64 is not a multiple of --group 128");
  expect_invalid(options(dir, 8, 32, false, OutputFormat::kGguf), "--format gguf");
  expect_invalid(options(dir, 4, 64, true, OutputFormat::kGguf), "--format gguf");
  expect_invalid(options(dir, 5, 32, false), "--wbits = 5");
  QuantizeOptions bad_re = options(dir, 4, 32, false);
  bad_re.skip_regex = "(";
  expect_invalid(bad_re, "--skip");
  QuantizeOptions missing = options(dir, 4, 32, false);
  missing.input = dir.file("nope.safetensors");
  EXPECT_THROW(quantize_model(missing), FormatError);
  EXPECT_EQ(dir.entry_count(), 1u);
}

}  // namespace
}  // namespace mixpe::models
