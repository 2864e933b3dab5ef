// mixpe format: round trips for every bit width and group size, preamble layout, malformed files.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "models/io/ggml_quants.h"
#include "models/io/mixpe_format.h"
#include "models/synthetic.h"
#include "quant/packed.h"
#include "test_util.h"

namespace mixpe::models {
namespace {

using nlohmann::json;
using testing::Bytes;
using testing::expect_format_error;
using testing::TempDir;

TEST(MixpeFormat, RoundTripEveryBitWidthAndGroup) {
  TempDir dir;
  struct Case {
    int bits, group;
    bool sym;
  };
  const std::vector<Case> cases = {{2, 32, false}, {3, 64, true}, {4, 128, false}, {8, 256, true}, {4, -1, true}, {3, -1, false}};
  std::vector<quant::PackedWeights> packed;
  std::vector<quant::QuantizedWeights> qs;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const int n = 5, k = 256;
    const std::vector<float> w = synthetic_weights(n, k, 100 + i);
    qs.push_back(quant::quantize_weights_rtn(w, n, k, {cases[i].bits, cases[i].group, cases[i].sym}));
    packed.push_back(quant::pack_weights(qs.back()));
  }
  const std::vector<std::uint8_t> norm = from_float32(Dtype::kBF16, std::vector<float>{1.0f, 0.5f, -2.0f});
  const std::vector<std::uint8_t> ids = testing::random_bytes(4 * 6, 9);
  std::vector<MixpeTensorToWrite> tensors = {{"norm.weight", Dtype::kBF16, {3}, norm, nullptr},
                                             {"ids", Dtype::kI32, {2, 3}, ids, nullptr}};
  for (std::size_t i = 0; i < packed.size(); ++i) {
    tensors.push_back({"w" + std::to_string(i), Dtype::kF16, {packed[i].n, packed[i].k}, {}, &packed[i]});
  }
  const json meta = {{"mixpe.quantization", "rtn"}, {"nested", {{"a", 1}, {"b", {1, 2, 3}}}}};
  write_mixpe(dir.file("a.mixpe"), meta, tensors);

  const MixpeFile f = MixpeFile::open(dir.file("a.mixpe"));
  EXPECT_EQ(f.version(), kMixpeVersion);
  EXPECT_EQ(f.metadata(), meta);
  ASSERT_EQ(f.tensors().size(), tensors.size());
  EXPECT_EQ(f.tensors()[0].kind, MixpeTensorKind::kPlain);
  EXPECT_EQ(to_float32(Dtype::kBF16, f.tensors()[0].data), (std::vector<float>{1.0f, 0.5f, -2.0f}));
  EXPECT_TRUE(std::equal(f.tensors()[1].data.begin(), f.tensors()[1].data.end(), ids.begin(), ids.end()));
  for (std::size_t i = 0; i < packed.size(); ++i) {
    const MixpeTensor& t = f.tensors()[2 + i];
    ASSERT_EQ(t.kind, MixpeTensorKind::kQuantized);
    EXPECT_EQ(t.dtype, Dtype::kF16);
    const quant::PackedWeights p = t.packed();
    EXPECT_EQ(p.bits, packed[i].bits);
    EXPECT_EQ(p.group_size, packed[i].group_size);
    EXPECT_EQ(p.symmetric, packed[i].symmetric);
    EXPECT_EQ(p.codes, packed[i].codes);
    EXPECT_EQ(p.scales, packed[i].scales);
    EXPECT_EQ(p.zeros, packed[i].zeros);
    EXPECT_EQ(dequantize_mixpe_tensor(t, "a"), quant::dequantize_weights_f32(qs[i])) << t.name;
  }

  std::vector<quant::PackedWeights> again_packed;
  for (const MixpeTensor& t : f.tensors())
    if (t.kind == MixpeTensorKind::kQuantized) again_packed.push_back(t.packed());
  std::vector<MixpeTensorToWrite> again;
  std::size_t qi = 0;
  for (const MixpeTensor& t : f.tensors()) {
    again.push_back({t.name, t.dtype, t.shape, t.data, t.kind == MixpeTensorKind::kQuantized ? &again_packed[qi++] : nullptr});
  }
  write_mixpe(dir.file("b.mixpe"), f.metadata(), again);
  EXPECT_EQ(testing::read_bytes(dir.file("a.mixpe")), testing::read_bytes(dir.file("b.mixpe")));
}

TEST(MixpeFormat, GroupMinimumsRoundTrip) {
  TempDir dir;
  const std::vector<float> w = synthetic_weights(4, 96, 21);
  const std::vector<BlockQ4_1> blocks = quantize_q4_1(w);
  const quant::PackedWeights p = quant::pack_weights(q4_1_to_quantized(blocks, 4, 96));
  ASSERT_EQ(p.mins.size(), 12u);
  const MixpeTensorToWrite t{"w", Dtype::kF32, {4, 96}, {}, &p};
  write_mixpe(dir.file("m"), json::object(), {&t, 1});
  const MixpeFile f = MixpeFile::open(dir.file("m"));
  EXPECT_EQ(f.tensors()[0].mins.size(), 24u);
  EXPECT_EQ(f.tensors()[0].packed().mins, p.mins);
  EXPECT_EQ(dequantize_mixpe_tensor(f.tensors()[0], "m"), dequantize_q4_1(blocks));
}

TEST(MixpeFormat, PreambleAndAlignment) {
  TempDir dir;
  const std::vector<std::uint8_t> data = {1, 2, 3};
  const MixpeTensorToWrite t{"x", Dtype::kU8, {3}, data, nullptr};
  write_mixpe(dir.file("x"), json::object(), {&t, 1});
  const std::vector<std::uint8_t> b = testing::read_bytes(dir.file("x"));
  EXPECT_EQ(std::string(b.begin(), b.begin() + 8), "MIXPEMDL");
  std::uint32_t version = 0, flags = 7;
  std::uint64_t hlen = 0;
  std::memcpy(&version, b.data() + 8, 4);
  std::memcpy(&flags, b.data() + 12, 4);
  std::memcpy(&hlen, b.data() + 16, 8);
  EXPECT_EQ(version, 1u);
  EXPECT_EQ(flags, 0u);
  const json header = json::parse(std::string(b.begin() + 24, b.begin() + 24 + static_cast<std::ptrdiff_t>(hlen)));
  EXPECT_EQ(header["tensors"][0]["data"], json({0, 3}));
  const std::size_t data_start = (24 + hlen + 63) / 64 * 64;
  ASSERT_EQ(b.size(), data_start + 64);  // segments padded to 64 bytes
  EXPECT_EQ(b[data_start], 1);
  EXPECT_EQ(b[data_start + 2], 3);
}

std::vector<std::uint8_t> make_file(const json& header, std::size_t data_bytes, std::uint32_t version = 1) {
  const std::string text = header.dump();
  std::vector<std::uint8_t> out = {'M', 'I', 'X', 'P', 'E', 'M', 'D', 'L'};
  Bytes fields;
  fields.put<std::uint32_t>(version).put<std::uint32_t>(0).put<std::uint64_t>(text.size());
  out.insert(out.end(), fields.data.begin(), fields.data.end());
  out.insert(out.end(), text.begin(), text.end());
  out.resize((out.size() + 63) / 64 * 64 + data_bytes, 0);
  return out;
}

json quantized_entry(std::uint64_t codes_off = 0, int bits = 4, std::int64_t k = 64) {
  // [2, 64] 4-bit g32: 64 code bytes, 4 groups -> 8 scale bytes, 4 zero bytes.
  return {{"name", "w"}, {"kind", "quantized"}, {"dtype", "F16"}, {"shape", {2, k}}, {"bits", bits}, {"group_size", 32},
          {"symmetric", false}, {"codes", {codes_off, 64}}, {"scales", {64, 8}}, {"zeros", {128, 4}}};
}

TEST(MixpeFormat, MalformedFilesNameFileAndField) {
  auto parse = [](std::vector<std::uint8_t> bytes) { return [bytes] { MixpeFile::parse(bytes, "bad.mixpe"); }; };
  const json ok = {{"tensors", {quantized_entry()}}};
  ASSERT_NO_THROW(MixpeFile::parse(make_file(ok, 192), "ok"));
  expect_format_error(parse({'M', 'I', 'X'}), {"bad.mixpe", "preamble"});
  std::vector<std::uint8_t> b = make_file(ok, 192);
  b[0] = 'Q';
  expect_format_error(parse(b), {"bad.mixpe", "magic"});
  expect_format_error(parse(make_file(ok, 192, 2)), {"version", "2"});
  b = make_file(ok, 192);
  b[16] = 0xFF;
  b[20] = 0x01;
  expect_format_error(parse(b), {"header length"});
  expect_format_error(parse(make_file(ok, 100)), {"tensor 'w' zeros", "past the end"});
  json e = quantized_entry(64);
  expect_format_error(parse(make_file({{"tensors", {e}}}, 192)), {"tensor 'w' scales", "overlaps tensor 'w' codes"});
  e = quantized_entry(3);
  expect_format_error(parse(make_file({{"tensors", {e}}}, 192)), {"tensor 'w' codes", "multiple of 64"});
  e = quantized_entry(0, 5);
  expect_format_error(parse(make_file({{"tensors", {e}}}, 192)), {"tensor 'w' bits/group_size", "bits = 5"});
  e = quantized_entry(0, 4, 48);
  expect_format_error(parse(make_file({{"tensors", {e}}}, 192)), {"tensor 'w' bits/group_size", "does not divide K = 48"});
  e = quantized_entry();
  e["codes"] = {0, 60};
  expect_format_error(parse(make_file({{"tensors", {e}}}, 192)), {"tensor 'w' codes", "size 60", "64"});
  e = quantized_entry();
  e["dtype"] = "F7";
  expect_format_error(parse(make_file({{"tensors", {e}}}, 192)), {"tensor 'w' dtype", "F7"});
  e = quantized_entry();
  e["kind"] = "sparse";
  expect_format_error(parse(make_file({{"tensors", {e}}}, 192)), {"tensor 'w' kind"});
  e = quantized_entry();
  e["shape"] = {1ull << 40, 64};
  expect_format_error(parse(make_file({{"tensors", {e}}}, 192)), {"tensor 'w' shape"});
  e = quantized_entry();
  e["symmetric"] = true;  // zero points must then be 0; make one nonzero
  std::vector<std::uint8_t> f = make_file({{"tensors", {e}}}, 192);
  f[f.size() - 192 + 128 + 2] = 3;
  expect_format_error(parse(f), {"tensor 'w' zeros", "zero point 3"});
  e = quantized_entry();
  e["mins"] = {192, 8};
  f = make_file({{"tensors", {e}}}, 256);
  EXPECT_NO_THROW(MixpeFile::parse(f, "ok"));
  f[f.size() - 256 + 128 + 1] = 2;  // a zero point next to a minimum
  expect_format_error(parse(f), {"tensor 'w' zeros", "zero point 2", "group-minimum"});
  e["symmetric"] = true;
  expect_format_error(parse(make_file({{"tensors", {e}}}, 256)), {"tensor 'w' mins", "unsigned"});
  const json plain = {{"name", "p"}, {"kind", "plain"}, {"dtype", "F32"}, {"shape", {1ull << 62, 8}}, {"data", {0, 0}}};
  expect_format_error(parse(make_file({{"tensors", {plain}}}, 0)), {"tensor 'p' shape", "overflow"});
  expect_format_error(parse(make_file({{"tensors", {quantized_entry(), quantized_entry()}}}, 192)), {"tensors[1] name", "duplicate"});
  expect_format_error(parse(make_file(json::array(), 0)), {"header JSON", "not an object"});
  expect_format_error(parse(make_file({{"x", 1}}, 0)), {"header tensors", "missing"});
}

TEST(MixpeFormat, EveryTruncationFailsCleanly) {
  TempDir dir;
  const quant::QuantizedWeights q = quant::quantize_weights_rtn(synthetic_weights(2, 64, 1), 2, 64, {3, 32, false});
  const quant::PackedWeights p = quant::pack_weights(q);
  const MixpeTensorToWrite t{"w", Dtype::kF32, {2, 64}, {}, &p};
  write_mixpe(dir.file("t"), {{"k", "v"}}, {&t, 1});
  const std::vector<std::uint8_t> bytes = testing::read_bytes(dir.file("t"));
  const std::size_t zeros_end = bytes.size() - 64 + 4;  // the last segment (4 zero points) and its padding
  for (std::size_t len = 0; len < zeros_end; ++len) {
    const std::vector<std::uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(len));
    EXPECT_THROW(MixpeFile::parse(cut, "cut"), FormatError) << len;
  }
}

TEST(MixpeFormat, WriterValidatesBeforeCreatingTheFile) {
  TempDir dir;
  quant::PackedWeights p = quant::pack_weights(quant::quantize_weights_rtn(synthetic_weights(2, 64, 1), 2, 64, {4, 32, false}));
  p.zeros.pop_back();
  const MixpeTensorToWrite bad{"w", Dtype::kF32, {2, 64}, {}, &p};
  EXPECT_THROW(write_mixpe(dir.file("o"), json::object(), {&bad, 1}), std::invalid_argument);
  const MixpeTensorToWrite wrong_shape{"w", Dtype::kF32, {64, 2}, {}, &p};
  EXPECT_THROW(write_mixpe(dir.file("o"), json::object(), {&wrong_shape, 1}), std::invalid_argument);
  EXPECT_EQ(dir.entry_count(), 0u);
}

}  // namespace
}  // namespace mixpe::models
