// GGUF: golden header bytes, round trips of every value and tensor type, malformed files.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "models/io/dtype.h"
#include "models/io/ggml_quants.h"
#include "models/io/gguf.h"
#include "models/synthetic.h"
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
