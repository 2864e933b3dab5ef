// GGUF: golden header bytes, round trips of every value and tensor type, malformed files.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/io/checkpoint.h"
#include "models/io/dtype.h"
#include "models/io/ggml_quants.h"
#include "models/io/gguf.h"
#include "models/io/model_file.h"
#include "models/io/quantize_model.h"
#include "models/io/safetensors.h"
#include "models/llm/llm_loader.h"
#include "models/llm/tokenizer.h"
#include "models/synthetic.h"
#include "quant/metrics.h"
#include "test_util.h"

namespace mixpe::models {
namespace {

using testing::Bytes;
using testing::expect_format_error;
using testing::TempDir;

TEST(Gguf, GoldenBytesOfASmallFile) {
  TempDir dir;
  const std::vector<float> v = {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f};
  const GgufMetadata meta = {{"a", GgufValue(std::uint8_t{7})}};
  const GgufTensorToWrite t{"t", GgmlType::kF32, {2, 3}, {reinterpret_cast<const std::uint8_t*>(v.data()), 24}};
  write_gguf(dir.file("x.gguf"), meta, {&t, 1});

  Bytes e;
  e.raw("GGUF").put<std::uint32_t>(3).put<std::uint64_t>(1).put<std::uint64_t>(1);
  e.str("a").put<std::uint32_t>(0).put<std::uint8_t>(7);
  // Innermost dimension first: PyTorch [2, 3] is ggml ne = {3, 2}.
  e.str("t").put<std::uint32_t>(2).put<std::uint64_t>(3).put<std::uint64_t>(2).put<std::uint32_t>(0).put<std::uint64_t>(0);
  const std::size_t header = e.data.size();  // 4+4+8+8 + 9+4+1 + 9+4+16+4+8 = 79
  ASSERT_EQ(header, 79u);
  e.zeros(96 - header);  // data section aligned to 32
  for (float f : v) e.put<float>(f);
  e.zeros(128 - 120);  // each tensor padded to the alignment
  EXPECT_EQ(testing::read_bytes(dir.file("x.gguf")), e.data);

  const GgufFile f = GgufFile::open(dir.file("x.gguf"));
  EXPECT_EQ(f.data_offset(), 96u);
  EXPECT_EQ(f.tensors()[0].dims, (std::vector<std::uint64_t>{3, 2}));
  EXPECT_EQ(f.tensors()[0].shape(), (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(dequantize_gguf_tensor(f.tensors()[0], "x"), v);
}

GgufMetadata every_value_type() {
  GgufArray strings{GgufValueType::kString, {GgufValue("a"), GgufValue(std::string("béta")), GgufValue("")}};
  GgufArray inner1{GgufValueType::kInt32, {GgufValue(std::int32_t{-1}), GgufValue(std::int32_t{2})}};
  GgufArray inner2{GgufValueType::kInt32, {}};
  GgufArray nested{GgufValueType::kArray, {GgufValue(inner1), GgufValue(inner2)}};
  GgufArray bools{GgufValueType::kBool, {GgufValue(true), GgufValue(false)}};
  return {
      {"general.alignment", GgufValue(std::uint32_t{64})},
      {"u8", GgufValue(std::uint8_t{200})},
      {"i8", GgufValue(std::int8_t{-100})},
      {"u16", GgufValue(std::uint16_t{60000})},
      {"i16", GgufValue(std::int16_t{-30000})},
      {"u32", GgufValue(std::uint32_t{4000000000u})},
      {"i32", GgufValue(std::int32_t{-2000000000})},
      {"f32", GgufValue(1.5f)},
      {"bool", GgufValue(true)},
      {"general.name", GgufValue("tiny")},
      {"u64", GgufValue(std::uint64_t{1} << 60)},
      {"i64", GgufValue(-(std::int64_t{1} << 60))},
      {"f64", GgufValue(-0.1)},
      {"strings", GgufValue(strings)},
      {"nested", GgufValue(nested)},
      {"bools", GgufValue(bools)},
  };
}

TEST(Gguf, RoundTripEveryValueAndTensorType) {
  TempDir dir;
  const int n = 3, k = 64;
  const std::vector<float> w = synthetic_weights(n, k, 1);
  const auto q40 = quantize_q4_0(w);
  const auto q41 = quantize_q4_1(w);
  const auto q80 = quantize_q8_0(w);
  const std::vector<std::uint8_t> f32 = from_float32(Dtype::kF32, w), f16 = from_float32(Dtype::kF16, w),
                                   bf16 = from_float32(Dtype::kBF16, w), i8 = testing::random_bytes(5, 1),
                                   i32 = testing::random_bytes(12, 2), f64 = from_float32(Dtype::kF64, w);
  const std::vector<GgufTensorToWrite> tensors = {
      {"f32", GgmlType::kF32, {n, k}, f32},          {"f16", GgmlType::kF16, {n, k}, f16},
      {"bf16", GgmlType::kBF16, {n, k}, bf16},       {"q4_0", GgmlType::kQ4_0, {n, k}, bytes_of<BlockQ4_0>(q40)},
      {"q4_1", GgmlType::kQ4_1, {n, k}, bytes_of<BlockQ4_1>(q41)}, {"q8_0", GgmlType::kQ8_0, {1, n, k}, bytes_of<BlockQ8_0>(q80)},
      {"i8", GgmlType::kI8, {5}, i8},                {"i32", GgmlType::kI32, {3}, i32},
      {"f64", GgmlType::kF64, {k, n}, f64},
  };
  const GgufMetadata meta = every_value_type();
  write_gguf(dir.file("a.gguf"), meta, tensors);
  const GgufFile f = GgufFile::open(dir.file("a.gguf"));
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 64u);
  EXPECT_EQ(f.data_offset() % 64, 0u);
  EXPECT_EQ(f.metadata(), meta);
  ASSERT_EQ(f.tensors().size(), tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const GgufTensor& t = f.tensors()[i];
    EXPECT_EQ(t.name, tensors[i].name);
    EXPECT_EQ(t.type, tensors[i].type);
    EXPECT_EQ(t.shape(), tensors[i].shape);
    EXPECT_EQ(t.offset % 64, 0u);
    EXPECT_TRUE(std::equal(t.data.begin(), t.data.end(), tensors[i].data.begin(), tensors[i].data.end())) << t.name;
  }
  EXPECT_EQ(dequantize_gguf_tensor(*f.find("f32"), "a"), w);
  EXPECT_EQ(dequantize_gguf_tensor(*f.find("q4_0"), "a"), dequantize_q4_0(q40));
  EXPECT_EQ(dequantize_gguf_tensor(*f.find("q4_1"), "a"), dequantize_q4_1(q41));
  EXPECT_EQ(dequantize_gguf_tensor(*f.find("q8_0"), "a"), dequantize_q8_0(q80));
  EXPECT_EQ(dequantize_gguf_tensor(*f.find("f16"), "a"), to_float32(Dtype::kF16, f16));

  std::vector<GgufTensorToWrite> again;
  for (const GgufTensor& t : f.tensors()) again.push_back({t.name, t.type, t.shape(), t.data});
  write_gguf(dir.file("b.gguf"), f.metadata(), again);
  EXPECT_EQ(testing::read_bytes(dir.file("a.gguf")), testing::read_bytes(dir.file("b.gguf")));
  EXPECT_EQ(dir.entry_count(), 2u);
}

TEST(Gguf, ValueRenderingForInspect) {
  const GgufMetadata meta = every_value_type();
  EXPECT_EQ(meta[1].second.to_string(), "200");
  EXPECT_EQ(meta[9].second.to_string(), "\"tiny\"");
  EXPECT_EQ(meta[14].second.to_string(), "[ARRAY x 2: [INT32 x 2: -1, 2], [INT32 x 0: ]]");
}

// A valid file built by hand, with hooks to break single fields.
struct HandFile {
  std::uint32_t version = 3;
  std::uint64_t kv_count = 1;
  std::string key = "general.alignment";
  std::uint32_t value_type = 4;
  std::uint32_t alignment = 32;
  std::string name = "w";
  std::uint32_t n_dims = 2;
  std::uint64_t dim0 = 32, dim1 = 2;
  std::uint32_t ggml_type = 2;  // Q4_0: 2 rows x 1 block x 18 bytes
  std::uint64_t offset = 0;
  std::size_t data_bytes = 36;

  std::vector<std::uint8_t> bytes() const {
    Bytes b;
    b.raw("GGUF").put<std::uint32_t>(version).put<std::uint64_t>(1).put<std::uint64_t>(kv_count);
    b.str(key).put<std::uint32_t>(value_type).put<std::uint32_t>(alignment);
    b.str(name).put<std::uint32_t>(n_dims).put<std::uint64_t>(dim0);
    if (n_dims > 1) b.put<std::uint64_t>(dim1);
    b.put<std::uint32_t>(ggml_type).put<std::uint64_t>(offset);
    b.zeros((32 - b.data.size() % 32) % 32);
    b.zeros(data_bytes);
    return b.data;
  }
};

auto parse(std::vector<std::uint8_t> bytes) {
  return [bytes = std::move(bytes)] { GgufFile::parse(bytes, "bad.gguf"); };
}

TEST(Gguf, MalformedFilesNameFileAndField) {
  ASSERT_NO_THROW(GgufFile::parse(HandFile{}.bytes(), "ok"));
  std::vector<std::uint8_t> b = HandFile{}.bytes();
  b[0] = 'X';
  expect_format_error(parse(b), {"bad.gguf", "magic", "not \"GGUF\""});
  HandFile h;
  h.version = 1;
  expect_format_error(parse(h.bytes()), {"bad.gguf", "version", "1"});
  h.version = 0x03000000;
  expect_format_error(parse(h.bytes()), {"version", "big-endian"});
  h = {};
  h.kv_count = 1ull << 62;
  expect_format_error(parse(h.bytes()), {"metadata_kv_count", "cannot fit"});
  h = {};
  h.value_type = 13;
  expect_format_error(parse(h.bytes()), {"metadata 'general.alignment' value type", "unknown value type 13"});
  h = {};
  h.value_type = 5;  // INT32 alignment
  expect_format_error(parse(h.bytes()), {"general.alignment", "expected UINT32"});
  h = {};
  h.alignment = 24;
  expect_format_error(parse(h.bytes()), {"general.alignment", "power of two"});
  h = {};
  h.key = "bad\xc3";
  expect_format_error(parse(h.bytes()), {"metadata[0] key", "UTF-8", "\\xc3"});
  h = {};
  h.name = "w\xff";
  expect_format_error(parse(h.bytes()), {"tensor_info[0] name", "UTF-8"});
  h = {};
  h.ggml_type = 99;
  expect_format_error(parse(h.bytes()), {"tensor 'w' type", "99"});
  h = {};
  h.n_dims = 5;
  expect_format_error(parse(h.bytes()), {"tensor 'w' n_dims", "5"});
  h = {};
  h.dim0 = 48;  // K not a multiple of the Q4_0 block
  expect_format_error(parse(h.bytes()), {"tensor 'w' dims", "48", "block size 32"});
  h = {};
  h.dim1 = 1ull << 62;
  expect_format_error(parse(h.bytes()), {"tensor 'w' dims"});
  h = {};
  h.dim0 = 1ull << 40;
  h.dim1 = 1ull << 40;
  expect_format_error(parse(h.bytes()), {"tensor 'w' dims", "overflow"});
  h = {};
  h.offset = 64;
  expect_format_error(parse(h.bytes()), {"tensor 'w' offset", "past the end"});
  h = {};
  h.offset = 3;
  expect_format_error(parse(h.bytes()), {"tensor 'w' offset", "alignment"});
  h = {};
  h.data_bytes = 20;
  expect_format_error(parse(h.bytes()), {"tensor 'w' offset", "truncated"});
}

TEST(Gguf, LyingLengthsAndCountsAreBounded) {
  Bytes b;
  b.raw("GGUF").put<std::uint32_t>(3).put<std::uint64_t>(0).put<std::uint64_t>(1);
  Bytes s = b;
  s.put<std::uint64_t>(1ull << 60).raw("abc").zeros(64);  // key length far past the end
  expect_format_error(parse(s.data), {"metadata[0] key", "truncated"});
  Bytes a = b;
  a.str("arr").put<std::uint32_t>(9).put<std::uint32_t>(8).put<std::uint64_t>(1ull << 59);
  expect_format_error(parse(a.data), {"metadata 'arr' count", "cannot fit"});
  Bytes d = b;  // arrays nested deeper than the limit
  d.str("deep").put<std::uint32_t>(9);
  for (int i = 0; i < 20; ++i) d.put<std::uint32_t>(9).put<std::uint64_t>(1);
  d.zeros(64);
  expect_format_error(parse(d.data), {"metadata 'deep'", "nested deeper"});
  Bytes bo = b;
  bo.str("flag").put<std::uint32_t>(7).put<std::uint8_t>(2);
  expect_format_error(parse(bo.data), {"metadata 'flag'", "BOOL byte is 2"});
  Bytes dup;
  dup.raw("GGUF").put<std::uint32_t>(3).put<std::uint64_t>(0).put<std::uint64_t>(2);
  dup.str("k").put<std::uint32_t>(0).put<std::uint8_t>(1).str("k").put<std::uint32_t>(0).put<std::uint8_t>(1);
  expect_format_error(parse(dup.data), {"metadata[1] key", "duplicate key 'k'"});
}

TEST(Gguf, OverlappingAndDuplicateTensorsAreRejected) {
  auto two = [](std::uint64_t off2, const std::string& name2) {
    Bytes b;
    b.raw("GGUF").put<std::uint32_t>(3).put<std::uint64_t>(2).put<std::uint64_t>(0);
    b.str("a").put<std::uint32_t>(1).put<std::uint64_t>(16).put<std::uint32_t>(0).put<std::uint64_t>(0);  // 64 bytes F32
    b.str(name2).put<std::uint32_t>(1).put<std::uint64_t>(8).put<std::uint32_t>(0).put<std::uint64_t>(off2);
    b.zeros((32 - b.data.size() % 32) % 32).zeros(128);
    return b.data;
  };
  ASSERT_NO_THROW(GgufFile::parse(two(64, "b"), "ok"));
  expect_format_error(parse(two(32, "b")), {"bad.gguf", "tensor 'b' offset", "overlaps tensor 'a'"});
  expect_format_error(parse(two(64, "a")), {"tensor_info[1] name", "duplicate tensor 'a'"});
}

TEST(Gguf, TypesWithoutDecoderAreListedButNotDequantized) {
  Bytes b;
  b.raw("GGUF").put<std::uint32_t>(3).put<std::uint64_t>(1).put<std::uint64_t>(0);
  b.str("iq").put<std::uint32_t>(2).put<std::uint64_t>(64).put<std::uint64_t>(3).put<std::uint32_t>(20).put<std::uint64_t>(0);
  b.zeros((32 - b.data.size() % 32) % 32).zeros(3 * 2 * 18);  // IQ4_NL: 18 bytes per 32 weights
  const GgufFile f = GgufFile::parse(b.data, "iq.gguf");
  EXPECT_EQ(ggml_type_name(f.tensors()[0].type), "IQ4_NL");
  EXPECT_EQ(f.tensors()[0].data.size(), 108u);
  expect_format_error([&] { dequantize_gguf_tensor(f.tensors()[0], "iq.gguf"); }, {"iq.gguf", "tensor 'iq' type", "IQ4_NL"});
  const std::vector<std::uint8_t> cut(b.data.begin(), b.data.end() - 1);
  expect_format_error(parse(cut), {"tensor 'iq' offset", "truncated"});
}

TEST(Gguf, EveryTruncationFailsCleanly) {
  TempDir dir;
  const std::vector<float> w = synthetic_weights(2, 32, 3);
  const auto q = quantize_q4_0(w);
  const GgufTensorToWrite t{"w", GgmlType::kQ4_0, {2, 32}, bytes_of<BlockQ4_0>(q)};
  write_gguf(dir.file("t.gguf"), every_value_type(), {&t, 1});
  const std::vector<std::uint8_t> bytes = testing::read_bytes(dir.file("t.gguf"));
  const std::size_t data_end = bytes.size() - (64 - 36);  // the padding after the last tensor is optional
  for (std::size_t len = 0; len < data_end; ++len) {
    const std::vector<std::uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(len));
    EXPECT_THROW(GgufFile::parse(cut, "cut"), FormatError) << len;
  }
  EXPECT_NO_THROW(GgufFile::parse({bytes.data(), data_end}, "cut"));
}

TEST(Gguf, WriterRejectsWhatReadersWouldNot) {
  TempDir dir;
  const std::vector<std::uint8_t> data(18 * 3);
  const GgufTensorToWrite bad_k{"w", GgmlType::kQ4_0, {3, 48}, data};  // K = 48 is not a multiple of 32
  EXPECT_THROW(write_gguf(dir.file("o"), {}, {&bad_k, 1}), std::invalid_argument);
  const GgufTensorToWrite long_name{std::string(64, 'x'), GgmlType::kQ4_0, {3, 32}, data};
  EXPECT_THROW(write_gguf(dir.file("o"), {}, {&long_name, 1}), std::invalid_argument);
  const GgufTensorToWrite wrong_size{"w", GgmlType::kQ4_0, {2, 32}, data};
  EXPECT_THROW(write_gguf(dir.file("o"), {}, {&wrong_size, 1}), std::invalid_argument);
  GgufArray mixed{GgufValueType::kInt32, {GgufValue(std::int32_t{1}), GgufValue(1.0f)}};
  EXPECT_THROW(write_gguf(dir.file("o"), {{"m", GgufValue(mixed)}}, {}), std::invalid_argument);
  EXPECT_THROW(write_gguf(dir.file("o"), {{"general.alignment", GgufValue(std::uint32_t{3})}}, {}), std::invalid_argument);
  EXPECT_EQ(dir.entry_count(), 0u);
}

}  // namespace
}  // namespace mixpe::models

// ---- llama.cpp interoperability: Q/K row permutation, Q4_1 output, LLaMA and tokenizer metadata ----

namespace mixpe::models {
namespace {

// llama.cpp's reshape(n_head, 2, D/2, K).swapaxes(1, 2): GGUF row (h, i, j) is HF row (h, j, i).
std::vector<float> numpy_style_permute(const std::vector<float>& w, int rows, int n_head) {
  const int width = static_cast<int>(w.size()) / rows, d = rows / n_head, half = d / 2;
  std::vector<float> out;
  for (int h = 0; h < n_head; ++h)
    for (int i = 0; i < half; ++i)
      for (int j = 0; j < 2; ++j) {
        const int src = h * d + j * half + i;
        out.insert(out.end(), w.begin() + src * width, w.begin() + (src + 1) * width);
      }
  return out;
}

TEST(GgufLlama, QkPermutationMatchesLlamaCppsReshape) {
  // One row per value, so the result reads as the source row order.
  std::vector<float> rows8(8);
  for (int i = 0; i < 8; ++i) rows8[i] = static_cast<float>(i);
  EXPECT_EQ(permute_llama_qk_rows(std::span<const float>(rows8), 8, 2, true), (std::vector<float>{0, 2, 1, 3, 4, 6, 5, 7}));
  EXPECT_EQ(permute_llama_qk_rows(std::span<const float>(rows8), 8, 1, true), (std::vector<float>{0, 4, 1, 5, 2, 6, 3, 7}));
  const std::vector<float> w = synthetic_weights(48, 32, 9);
  for (int heads : {1, 2, 3, 6}) {
    const std::vector<float> p = permute_llama_qk_rows(std::span<const float>(w), 48, heads, true);
    EXPECT_EQ(p, numpy_style_permute(w, 48, heads)) << heads;
    EXPECT_EQ(permute_llama_qk_rows(std::span<const float>(p), 48, heads, false), w) << heads;
  }
  // Row-wise quantization commutes with the permutation, so quantized rows can be moved as they are.
  const quant::QuantizedWeights q = quant::quantize_weights_rtn(w, 48, 32, {4, 16, false});
  const std::vector<float> pw = numpy_style_permute(w, 48, 3);
  const quant::QuantizedWeights pq = quant::quantize_weights_rtn(pw, 48, 32, {4, 16, false});
  const quant::QuantizedWeights moved = permute_llama_qk_rows(q, 3, true);
  EXPECT_EQ(moved.codes, pq.codes);
  EXPECT_EQ(moved.zeros, pq.zeros);
  EXPECT_EQ(quant::dequantize_weights_f32(moved), quant::dequantize_weights_f32(pq));
  EXPECT_EQ(quant::dequantize_weights_f32(permute_llama_qk_rows(moved, 3, false)), quant::dequantize_weights_f32(q));
  EXPECT_THROW(permute_llama_qk_rows(std::span<const float>(w), 48, 5, true), std::invalid_argument);
}


// A tiny Hugging Face LLaMA directory: grouped-query attention (4 heads, 2 KV heads, head size 16),
// config.json with rms_norm_eps / rope_theta, tokenizer.json (+ tokenizer_config.json).
struct HfLlama {
  TempDir dir;
  std::map<std::string, std::vector<float>> values;  // stored values by HF name
  std::string st() const { return dir.file("model.safetensors"); }
};

std::string byte_token(int b) {
  const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  int cp = b;
  if (!printable) {
    cp = 256;
    for (int x = 0; x < b; ++x) cp += (x >= 33 && x <= 126) || (x >= 161 && x <= 172) || (x >= 174 && x <= 255) ? 0 : 1;
  }
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

void make_hf_llama(HfLlama& m, Dtype dtype) {
  const int hidden = 64, mlp = 128, vocab = 304, kv = 32;
  std::vector<std::pair<std::string, std::vector<std::int64_t>>> shapes = {{"model.embed_tokens.weight", {vocab, hidden}}};
  for (int l = 0; l < 2; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    for (const auto& [name, shape] : std::vector<std::pair<std::string, std::vector<std::int64_t>>>{
             {"self_attn.q_proj.weight", {hidden, hidden}}, {"self_attn.k_proj.weight", {kv, hidden}},
             {"self_attn.v_proj.weight", {kv, hidden}},     {"self_attn.o_proj.weight", {hidden, hidden}},
             {"mlp.gate_proj.weight", {mlp, hidden}},       {"mlp.up_proj.weight", {mlp, hidden}},
             {"mlp.down_proj.weight", {hidden, mlp}},       {"input_layernorm.weight", {hidden}},
             {"post_attention_layernorm.weight", {hidden}}})
      shapes.emplace_back(p + name, shape);
  }
  shapes.push_back({"model.norm.weight", {hidden}});
  shapes.push_back({"lm_head.weight", {vocab, hidden}});
  std::vector<std::vector<std::uint8_t>> bytes;
  std::vector<SafetensorsTensor> st;
  std::uint64_t seed = 11;
  for (const auto& [name, shape] : shapes) {
    std::vector<float> w = shape.size() == 2 ? synthetic_weights(static_cast<int>(shape[0]), static_cast<int>(shape[1]), seed++)
                                             : synthetic_weights(1, static_cast<int>(shape[0]), seed++);
    if (shape.size() == 1) for (float& v : w) v = 1.0f + 0.1f * v;  // norm gains
    bytes.push_back(from_float32(dtype, w));
    m.values[name] = to_float32(dtype, bytes.back());
  }
  for (std::size_t i = 0; i < shapes.size(); ++i) st.push_back({shapes[i].first, dtype, shapes[i].second, bytes[i]});
  write_safetensors(m.st(), st, {{"format", "pt"}});
  std::ofstream(m.dir.file("config.json")) << R"({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64,
    "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 304,
    "max_position_embeddings": 64, "hidden_act": "silu", "rms_norm_eps": 1e-6, "rope_theta": 500000.0})";
  nlohmann::json vocab_json = nlohmann::json::object();
  for (int b = 0; b < 256; ++b) vocab_json[byte_token(b)] = b;
  vocab_json["he"] = 256;
  vocab_json["ll"] = 257;
  vocab_json["hell"] = 258;
  const nlohmann::json tok = {
      {"added_tokens", {{{"id", 301}, {"content", "<s>"}, {"special", true}}, {{"id", 302}, {"content", "</s>"}, {"special", true}}}},
      {"normalizer", nullptr},
      {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
      {"model", {{"type", "BPE"}, {"vocab", vocab_json}, {"merges", {"h e", "l l", "he ll"}}}}};
  std::ofstream(m.dir.file("tokenizer.json")) << tok.dump();
  std::ofstream(m.dir.file("tokenizer_config.json")) << R"({"bos_token": "<s>", "eos_token": "</s>"})";
}

QuantizeOptions gguf_options(const HfLlama& m, const std::string& out, quant::WeightQuantConfig w, bool names, const std::string& skip = "") {
  QuantizeOptions o;
  o.input = m.st();
  o.output = m.dir.file(out);
  o.weights = w;
  o.format = OutputFormat::kGguf;
  o.gguf_names = names;
  o.skip_regex = skip;
  return o;
}

void expect_same_weights(const LlmWeights& a, const LlmWeights& b) {
  EXPECT_EQ(a.embed, b.embed);
  EXPECT_EQ(a.final_norm, b.final_norm);
  EXPECT_EQ(a.lm_head.w, b.lm_head.w);
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (std::size_t l = 0; l < a.layers.size(); ++l) {
    const LayerWeights &x = a.layers[l], &y = b.layers[l];
    EXPECT_EQ(x.input_norm, y.input_norm);
    EXPECT_EQ(x.post_norm, y.post_norm);
    for (auto [p, q] : {std::pair{&x.q, &y.q}, std::pair{&x.k, &y.k}, std::pair{&x.v, &y.v}, std::pair{&x.o, &y.o},
                        std::pair{&x.gate, &y.gate}, std::pair{&x.up, &y.up}, std::pair{&x.down, &y.down}})
      EXPECT_EQ(p->w, q->w) << p->name;
  }
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

const std::vector<int> kTokens = {1, 7, 42, 3, 95, 0, 11, 300, 5};

TEST(GgufLlama, FloatGgufFromHfLoadsExactlyLikeTheSafetensors) {
  for (Dtype dtype : {Dtype::kF32, Dtype::kF16}) {
    HfLlama m;
    make_hf_llama(m, dtype);
    const ModelConfig cfg = load_model_config(m.dir.file("config.json"));
    EXPECT_EQ(cfg.norm_eps, 1e-6);
    EXPECT_EQ(cfg.rope_theta, 500000.0);
    const LoadedLlm ref = load_llm(Model::open(m.st()), cfg);
    const QuantizeReport r = quantize_model(gguf_options(m, "f.gguf", {8, 32, true}, true, ".*"));
    EXPECT_EQ(r.quantized_count, 0);
    EXPECT_TRUE(r.notes.empty());
    const Model file = Model::open(m.dir.file("f.gguf"));
    const GgufFile& g = *file.gguf();
    EXPECT_EQ(g.find("blk.0.attn_q.weight")->type, dtype == Dtype::kF32 ? GgmlType::kF32 : GgmlType::kF16);
    // The file holds llama.cpp's row order ...
    EXPECT_EQ(dequantize_gguf_tensor(*g.find("blk.1.attn_q.weight"), "f"), numpy_style_permute(ref.weights.layers[1].q.w, 64, 4));
    EXPECT_EQ(dequantize_gguf_tensor(*g.find("blk.1.attn_k.weight"), "f"), numpy_style_permute(ref.weights.layers[1].k.w, 32, 2));
    EXPECT_EQ(dequantize_gguf_tensor(*g.find("blk.1.attn_v.weight"), "f"), ref.weights.layers[1].v.w);
    EXPECT_EQ(g.find("blk.1.ffn_norm.weight")->type, GgmlType::kF32);  // llama.cpp keeps norms in F32
    // ... and llama.cpp's hyperparameters, from which the same config comes back.
    const ModelConfig gc = llm_config_from_gguf(g);
    EXPECT_EQ(std::get<std::string>(g.find_metadata("general.architecture")->value), "llama");
    EXPECT_EQ(std::get<std::uint32_t>(g.find_metadata("llama.rope.dimension_count")->value), 16u);
    EXPECT_EQ(gc.hidden, 64);
    EXPECT_EQ(gc.intermediate, 128);
    EXPECT_EQ(gc.layers, 2);
    EXPECT_EQ(gc.heads, 4);
    EXPECT_EQ(gc.kv_heads, 2);
    EXPECT_EQ(gc.head_dim, 16);
    EXPECT_EQ(gc.vocab, 304);
    EXPECT_EQ(gc.max_positions, 64);
    EXPECT_EQ(gc.norm_eps, static_cast<double>(1e-6f));  // stored as FLOAT32
    EXPECT_EQ(gc.rope_theta, 500000.0);
    // Loading undoes the permutation: the same weights, bit for bit, and the same logits.
    const LoadedLlm got = load_llm(file, cfg);
    EXPECT_TRUE(got.quantized.empty());
    expect_same_weights(got.weights, ref.weights);
    const std::vector<float> want = llm_forward(ref.weights, kTokens, linear_float);
    EXPECT_TRUE(same_bits(llm_forward(got.weights, kTokens, linear_float), want));
    // Rotary pairs rows (i, i + D/2): left in llama.cpp's order the logits would differ.
    LlmWeights raw = got.weights;
    raw.layers[0].q.w = dequantize_gguf_tensor(*g.find("blk.0.attn_q.weight"), "f");
    raw.layers[0].k.w = dequantize_gguf_tensor(*g.find("blk.0.attn_k.weight"), "f");
    const double diff = quant::compare(std::vector<double>(want.begin(), want.end()), llm_forward(raw, kTokens, linear_float)).max_abs;
    EXPECT_GT(diff, 1e-3);
  }
}

TEST(GgufLlama, Q8_0GgufFromHfLoadsLikeQuantizingTheSafetensors) {
  HfLlama m;
  make_hf_llama(m, Dtype::kBF16);
  const ModelConfig cfg = load_model_config(m.dir.file("config.json"));
  const LoadedLlm ref = load_llm(Model::open(m.st()), cfg);
  const QuantizeReport r = quantize_model(gguf_options(m, "q8.gguf", {8, 32, true}, true));
  EXPECT_EQ(r.quantized_count, 14);
  const LoadedLlm got = load_llm(Model::open(m.dir.file("q8.gguf")), cfg);
  ASSERT_EQ(got.quantized.size(), 14u);
  LlmWeights want = ref.weights;
  for (int l = 0; l < 2; ++l) {
    LayerWeights& lw = want.layers[static_cast<std::size_t>(l)];
    for (Linear* lin : {&lw.q, &lw.k, &lw.v, &lw.o, &lw.gate, &lw.up, &lw.down}) {
      const quant::QuantizedWeights q = quant::quantize_weights_rtn(lin->w, lin->n, lin->k, {8, 32, true});
      lin->w = quant::dequantize_weights_f32(q);
      const quant::QuantizedWeights& stored = got.quantized.at(lin->name);
      EXPECT_EQ(stored.codes, q.codes) << lin->name;
      EXPECT_EQ(quant::dequantize_weights_f32(stored), lin->w) << lin->name;
    }
  }
  expect_same_weights(got.weights, want);
  EXPECT_TRUE(same_bits(llm_forward(got.weights, kTokens, linear_float), llm_forward(want, kTokens, linear_float)));
}

TEST(GgufLlama, AsymmetricW4G32IsWrittenAsQ4_1) {
  HfLlama m;
  make_hf_llama(m, Dtype::kF32);
  const QuantizeReport r = quantize_model(gguf_options(m, "q41.gguf", {4, 32, false}, false));
  const GgufFile g = GgufFile::open(m.dir.file("q41.gguf"));
  EXPECT_EQ(std::get<std::uint32_t>(g.find_metadata("general.file_type")->value), 3u);  // MOSTLY_Q4_1
  const std::string name = "model.layers.1.mlp.up_proj.weight";
  const GgufTensor& t = *g.find(name);
  EXPECT_EQ(t.type, GgmlType::kQ4_1);
  // ggml's reference quantizer, byte for byte, read back exactly as group minimums.
  const std::vector<BlockQ4_1> blocks = quantize_q4_1(m.values.at(name));
  const std::span<const std::uint8_t> expected = bytes_of<BlockQ4_1>(blocks);
  EXPECT_TRUE(std::equal(t.data.begin(), t.data.end(), expected.begin(), expected.end()));
  const quant::QuantizedWeights q = gguf_to_quantized(t, "q41");
  EXPECT_TRUE(q.has_mins());
  EXPECT_EQ(quant::dequantize_weights_f32(q), dequantize_q4_1(blocks));
  const std::vector<float>& w = m.values.at(name);
  const double sqnr = quant::compare(std::vector<double>(w.begin(), w.end()), quant::dequantize_weights_f64(q)).sqnr_db;
  bool found = false;
  for (const TensorReport& row : r.tensors) {
    if (row.name != name) continue;
    found = true;
    EXPECT_EQ(row.out_type, "Q4_1");
    EXPECT_DOUBLE_EQ(row.sqnr_db, sqnr);
    EXPECT_GT(row.sqnr_db, 15.0);
    EXPECT_LT(row.sqnr_db, 30.0);
  }
  EXPECT_TRUE(found);
  // Under GGUF names the Q4_1 Q rows are permuted too and load back in HF order.
  quantize_model(gguf_options(m, "q41n.gguf", {4, 32, false}, true));
  const ModelConfig cfg = load_model_config(m.dir.file("config.json"));
  const LoadedLlm got = load_llm(Model::open(m.dir.file("q41n.gguf")), cfg);
  EXPECT_EQ(got.weights.layers[0].q.w, dequantize_q4_1(quantize_q4_1(m.values.at("model.layers.0.self_attn.q_proj.weight"))));
  EXPECT_TRUE(got.quantized.at("layers.0.k_proj").has_mins());
}

TEST(GgufLlama, TokenizerMetadataRoundTrip) {
  HfLlama m;
  make_hf_llama(m, Dtype::kF16);
  quantize_model(gguf_options(m, "t.gguf", {4, 32, true}, true));
  const GgufFile g = GgufFile::open(m.dir.file("t.gguf"));
  EXPECT_EQ(std::get<std::string>(g.find_metadata("tokenizer.ggml.model")->value), "gpt2");
  EXPECT_EQ(std::get<std::uint32_t>(g.find_metadata("tokenizer.ggml.bos_token_id")->value), 301u);
  EXPECT_EQ(std::get<std::uint32_t>(g.find_metadata("tokenizer.ggml.eos_token_id")->value), 302u);
  const Tokenizer hf = Tokenizer::load(m.dir.file("tokenizer.json"));
  const Tokenizer back = Tokenizer::from_gguf(g);
  EXPECT_EQ(back.vocab_size(), 304);  // padded to the embedding's rows
  EXPECT_EQ(back.bos_id(), 301);
  EXPECT_EQ(back.eos_id(), 302);
  for (const std::string s : {"<s>hello hell</s>", "  tabs\tand\nnew\xc3\xa9 lines 123", ""}) {
    EXPECT_EQ(back.encode(s), hf.encode(s)) << s;
    EXPECT_EQ(back.decode(back.encode(s)), s);
  }
  EXPECT_EQ(hf.encode("hello"), (std::vector<int>{258, 'o'}));
}

TEST(GgufLlama, LlamaCppLayoutWrittenByHandLoadsToHfRows) {
  HfLlama m;
  make_hf_llama(m, Dtype::kF32);
  const ModelConfig cfg = load_model_config(m.dir.file("config.json"));
  // What llama.cpp's converter would write: GGUF names, Q and K permuted; K as Q8_0.
  std::vector<std::vector<std::uint8_t>> keep;
  std::vector<GgufTensorToWrite> tensors;
  std::vector<float> k0;
  for (const auto& [name, v] : m.values) {
    const std::string gg = map_hf_name(TensorNaming::kLlama, name)->gguf;
    const bool q = gg.find("attn_q") != std::string::npos, k = gg.find("attn_k") != std::string::npos;
    std::vector<std::int64_t> shape = {static_cast<std::int64_t>(v.size()) / 64, 64};
    if (gg.find("norm") != std::string::npos) shape = {64};
    if (gg.find("ffn_down") != std::string::npos) shape = {64, 128};
    const std::vector<float> data = q ? numpy_style_permute(v, 64, 4) : k ? numpy_style_permute(v, 32, 2) : v;
    if (k) {
      const std::vector<BlockQ8_0> b = quantize_q8_0(data);
      const auto bytes = bytes_of<BlockQ8_0>(b);
      keep.emplace_back(bytes.begin(), bytes.end());
    } else {
      keep.push_back(from_float32(Dtype::kF32, data));
    }
    tensors.push_back({gg, k ? GgmlType::kQ8_0 : GgmlType::kF32, shape, {}});
  }
  for (std::size_t i = 0; i < tensors.size(); ++i) tensors[i].data = keep[i];
  const GgufMetadata meta = {{"general.architecture", GgufValue("llama")},
                             {"llama.context_length", GgufValue(std::uint32_t{64})},
                             {"llama.embedding_length", GgufValue(std::uint32_t{64})},
                             {"llama.block_count", GgufValue(std::uint32_t{2})},
                             {"llama.feed_forward_length", GgufValue(std::uint32_t{128})},
                             {"llama.attention.head_count", GgufValue(std::uint32_t{4})},
                             {"llama.attention.head_count_kv", GgufValue(std::uint32_t{2})},
                             {"llama.attention.layer_norm_rms_epsilon", GgufValue(1e-6f)},
                             {"llama.rope.freq_base", GgufValue(500000.0f)}};
  write_gguf(m.dir.file("cpp.gguf"), meta, tensors);
  const Model file = Model::open(m.dir.file("cpp.gguf"));
  const ModelConfig gc = llm_config_from_gguf(*file.gguf());
  EXPECT_EQ(gc.vocab, 304);  // from token_embd.weight: no vocab_size, no tokenizer
  const LoadedLlm got = load_llm(file, gc);
  for (int l = 0; l < 2; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    EXPECT_EQ(got.weights.layers[l].q.w, m.values.at(p + "self_attn.q_proj.weight"));
    const std::vector<float> k = dequantize_q8_0(quantize_q8_0(m.values.at(p + "self_attn.k_proj.weight")));
    EXPECT_EQ(got.weights.layers[l].k.w, k);
    EXPECT_EQ(quant::dequantize_weights_f32(got.quantized.at("layers." + std::to_string(l) + ".k_proj")), k);
    EXPECT_EQ(got.weights.layers[l].v.w, m.values.at(p + "self_attn.v_proj.weight"));
  }
  // A GGUF that is not LLaMA, or lacks a hyperparameter, is refused by key.
  write_gguf(m.dir.file("opt.gguf"), {{"general.architecture", GgufValue("gpt2")}}, {});
  testing::expect_format_error([&] { llm_config_from_gguf(GgufFile::open(m.dir.file("opt.gguf"))); }, {"general.architecture", "gpt2"});
  GgufMetadata partial(meta.begin(), meta.end() - 4);  // head_count and what follows
  write_gguf(m.dir.file("partial.gguf"), partial, {});
  testing::expect_format_error([&] { llm_config_from_gguf(GgufFile::open(m.dir.file("partial.gguf"))); }, {"llama.attention.head_count"});
}

}  // namespace
}  // namespace mixpe::models
