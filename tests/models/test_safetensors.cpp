// safetensors: byte-exact round trips for every dtype, the documented header layout, malformed files.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "models/io/safetensors.h"
#include "test_util.h"

namespace mixpe::models {
namespace {

using testing::Bytes;
using testing::expect_format_error;
using testing::TempDir;

// A file with `header` as its JSON header followed by `data`; `length` overrides the length field.
std::vector<std::uint8_t> make_file(const std::string& header, std::size_t data_bytes, std::int64_t length = -1) {
  Bytes b;
  b.put<std::uint64_t>(length < 0 ? header.size() : static_cast<std::uint64_t>(length));
  b.raw(header).zeros(data_bytes);
  return b.data;
}

TEST(Safetensors, RoundTripEveryDtypeIsByteIdentical) {
  TempDir dir;
  const std::vector<std::pair<Dtype, std::vector<std::int64_t>>> specs = {
      {Dtype::kF32, {3, 5}}, {Dtype::kF16, {4, 2, 3}}, {Dtype::kBF16, {7}}, {Dtype::kI8, {2, 9}},
      {Dtype::kU8, {5, 1}},  {Dtype::kI32, {6}},       {Dtype::kF64, {2}},  {Dtype::kI64, {3}},
      {Dtype::kI16, {4}},    {Dtype::kBool, {3}},      {Dtype::kF32, {}},   {Dtype::kF16, {0, 4}}};
  std::vector<std::vector<std::uint8_t>> buffers;
  std::vector<SafetensorsTensor> tensors;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const auto& [dtype, shape] = specs[i];
    buffers.push_back(testing::random_bytes(*checked_numel(shape) * dtype_size(dtype), static_cast<std::uint32_t>(i)));
    if (dtype == Dtype::kBool)
      for (auto& b : buffers.back()) b &= 1;
  }
  for (std::size_t i = 0; i < specs.size(); ++i) {
    tensors.push_back({"t" + std::to_string(i) + ".weight", specs[i].first, specs[i].second, buffers[i]});
  }
  const std::map<std::string, std::string> meta = {{"format", "pt"}, {"note", "ünïcode ✓"}};
  const std::string a = dir.file("a.safetensors");
  write_safetensors(a, tensors, meta);

  const SafetensorsFile f = SafetensorsFile::open(a);
  EXPECT_EQ(f.metadata(), meta);
  ASSERT_EQ(f.tensors().size(), tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const SafetensorsTensor& t = f.tensors()[i];  // data order is write order
    EXPECT_EQ(t.name, tensors[i].name);
    EXPECT_EQ(t.dtype, tensors[i].dtype);
    EXPECT_EQ(t.shape, tensors[i].shape);
    EXPECT_TRUE(std::equal(t.data.begin(), t.data.end(), buffers[i].begin(), buffers[i].end())) << t.name;
  }
  ASSERT_NE(f.find("t0.weight"), nullptr);
  EXPECT_EQ(f.find("missing"), nullptr);

  const std::string b = dir.file("b.safetensors");
  write_safetensors(b, f.tensors(), f.metadata());
  EXPECT_EQ(testing::read_bytes(a), testing::read_bytes(b));
  EXPECT_EQ(dir.entry_count(), 2u) << "temporary files left behind";
}

TEST(Safetensors, HeaderLayoutMatchesSpec) {
  TempDir dir;
  const std::vector<float> v = {1.0f, -2.0f};
  const SafetensorsTensor t{"w", Dtype::kF32, {2}, {reinterpret_cast<const std::uint8_t*>(v.data()), 8}};
  write_safetensors(dir.file("x"), {&t, 1});
  const std::vector<std::uint8_t> bytes = testing::read_bytes(dir.file("x"));
  const std::string json = R"({"w":{"data_offsets":[0,8],"dtype":"F32","shape":[2]}})";
  const std::size_t padded = (json.size() + 7) / 8 * 8;
  ASSERT_EQ(bytes.size(), 8 + padded + 8);
  std::uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n, padded);
  EXPECT_EQ(std::string(bytes.begin() + 8, bytes.begin() + 8 + json.size()), json);
  for (std::size_t i = json.size(); i < padded; ++i) EXPECT_EQ(bytes[8 + i], ' ');
  float back[2];
  std::memcpy(back, bytes.data() + 8 + padded, 8);
  EXPECT_EQ(back[0], 1.0f);
  EXPECT_EQ(back[1], -2.0f);
}

TEST(Safetensors, ParsesHandWrittenFileAndConvertsToFloat) {
  // F16 0x3C00 = 1.0, 0xC000 = -2.0; BF16 0x3F80 = 1.0.
  Bytes b;
  const std::string header = R"({"__metadata__":{"k":"v"},"b":{"dtype":"BF16","shape":[1],"data_offsets":[4,6]},)"
                             R"("a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}  )";
  b.put<std::uint64_t>(header.size()).raw(header).put<std::uint16_t>(0x3C00).put<std::uint16_t>(0xC000).put<std::uint16_t>(0x3F80);
  const SafetensorsFile f = SafetensorsFile::parse(b.data, "mem");
  ASSERT_EQ(f.tensors().size(), 2u);
  EXPECT_EQ(f.tensors()[0].name, "a");
  EXPECT_EQ(to_float32(Dtype::kF16, f.tensors()[0].data), (std::vector<float>{1.0f, -2.0f}));
  EXPECT_EQ(to_float32(Dtype::kBF16, f.tensors()[1].data), (std::vector<float>{1.0f}));
  EXPECT_EQ(f.metadata().at("k"), "v");
}

TEST(Safetensors, MalformedFilesNameFileAndField) {
  const std::string ok = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  auto parse = [](const std::vector<std::uint8_t>& bytes) { return [bytes] { SafetensorsFile::parse(bytes, "bad.st"); }; };
  EXPECT_NO_THROW(SafetensorsFile::parse(make_file(ok, 8), "ok"));
  expect_format_error(parse({1, 2, 3}), {"bad.st", "header length", "too short"});
  expect_format_error(parse(make_file(ok, 8, 1000)), {"bad.st", "header length", "1000"});
  expect_format_error(parse(make_file(ok, 8, 1ull << 40)), {"header length", "limit"});
  expect_format_error(parse(make_file(ok, 4)), {"bad.st", "tensor 'a' data_offsets", "outside"});  // truncated data
  expect_format_error(parse(make_file(ok, 12)), {"data buffer", "trailing"});
  expect_format_error(parse(make_file(ok.substr(0, ok.size() - 3), 8)), {"header JSON"});
  expect_format_error(parse(make_file(R"({"a":{"dtype":"F8","shape":[2],"data_offsets":[0,8]}})", 8)),
                      {"tensor 'a' dtype", "unknown dtype 'F8'"});
  expect_format_error(parse(make_file(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8)),
                      {"tensor 'a' data_offsets", "needs 12"});
  expect_format_error(parse(make_file(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8)),
                      {"tensor 'a' shape", "-2"});
  expect_format_error(
      parse(make_file(R"({"a":{"dtype":"F32","shape":[4611686018427387904,8],"data_offsets":[0,8]}})", 8)),
      {"tensor 'a' shape", "overflow"});
  expect_format_error(parse(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8)),
                      {"tensor 'a' data_offsets", "outside"});
  expect_format_error(parse(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                      R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                      12)),
                      {"tensor 'b' data_offsets", "overlaps tensor 'a'"});
  expect_format_error(parse(make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8)), {"gap"});
  expect_format_error(parse(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8)),
                      {"duplicate key 'a'"});
  expect_format_error(parse(make_file("{\"\xff\xfe\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8)),
                      {"bad.st", "header JSON", "UTF-8"});
  expect_format_error(parse(make_file(R"({"__metadata__":{"k":1}})", 0)), {"__metadata__.k", "not a string"});
  expect_format_error(parse(make_file(R"([1,2])", 0)), {"must start with '{'"});
  expect_format_error(parse(make_file(R"({"a":{"shape":[2],"data_offsets":[0,8]}})", 8)), {"tensor 'a' dtype", "missing"});
  expect_format_error(parse(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", 8)), {"data_offsets"});
}

TEST(Safetensors, EveryTruncationFailsCleanly) {
  TempDir dir;
  const std::vector<std::uint8_t> payload = testing::random_bytes(24, 3);
  const SafetensorsTensor t{"x", Dtype::kI32, {2, 3}, payload};
  write_safetensors(dir.file("x"), {&t, 1});
  const std::vector<std::uint8_t> bytes = testing::read_bytes(dir.file("x"));
  for (std::size_t len = 0; len < bytes.size(); ++len) {
    const std::vector<std::uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(len));
    EXPECT_THROW(SafetensorsFile::parse(cut, "cut"), FormatError) << len;
  }
}

TEST(Safetensors, OpenErrorsNameThePath) {
  TempDir dir;
  expect_format_error([&] { SafetensorsFile::open(dir.file("nope.safetensors")); }, {"nope.safetensors", "open"});
  testing::write_bytes(dir.file("empty"), {});
  expect_format_error([&] { SafetensorsFile::open(dir.file("empty")); }, {"empty", "header length"});
}

TEST(Safetensors, WriterRejectsBadInputWithoutLeavingFiles) {
  TempDir dir;
  const std::vector<std::uint8_t> six(6);
  const SafetensorsTensor wrong{"w", Dtype::kF32, {2}, six};
  EXPECT_THROW(write_safetensors(dir.file("o"), {&wrong, 1}), std::invalid_argument);
  const std::vector<std::uint8_t> eight(8);
  const SafetensorsTensor dup[2] = {{"w", Dtype::kF32, {2}, eight}, {"w", Dtype::kF32, {2}, eight}};
  EXPECT_THROW(write_safetensors(dir.file("o"), dup), std::invalid_argument);
  EXPECT_EQ(dir.entry_count(), 0u);
}

}  // namespace
}  // namespace mixpe::models
