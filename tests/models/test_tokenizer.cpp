// Byte-level BPE tokenizer: GPT-2 pre-tokenization, merges by rank, added tokens, round trips,
// malformed files, GGUF metadata round trip, and the trainer's own ids for zoo/llama-kjv.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/io/file_io.h"
#include "models/io/gguf.h"
#include "models/llm/tokenizer.h"
#include "test_util.h"

namespace mixpe::models {
namespace {

using nlohmann::json;
using testing::TempDir;

// GPT-2's byte -> character map, written independently of the tokenizer's.
std::string byte_char(int b) {
  int cp = b;
  if (!((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255))) {
    int n = 0;
    for (int x = 0; x < b; ++x)
      if (!((x >= 33 && x <= 126) || (x >= 161 && x <= 172) || (x >= 174 && x <= 255))) ++n;
    cp = 256 + n;
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

// 256 byte tokens (id = byte), then the merges' results in order, then "<|end|>" (special) at 300.
json tiny_tokenizer(bool pair_merges = false) {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[byte_char(b)] = b;
  const std::vector<std::pair<std::string, std::string>> merges = {
      {"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}, {byte_char(' '), "w"}, {"o", "r"}, {byte_char(' ') + "w", "or"}, {"l", "d"},
      {"1", "2"}};
  json m = json::array();
  int id = 256;
  for (const auto& [a, b] : merges) {
    vocab[a + b] = id++;
    m.push_back(pair_merges ? json::array({a, b}) : json(a + " " + b));
  }
  return {{"version", "1.0"},
          {"added_tokens", json::array({{{"id", 300}, {"content", "<|end|>"}, {"special", true}}})},
          {"normalizer", nullptr},
          {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}}},
          {"decoder", {{"type", "ByteLevel"}}},
          {"model", {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"vocab", vocab}, {"merges", m}}}};
}

std::string write_json(const TempDir& dir, const json& j, const std::string& name = "tokenizer.json") {
  std::ofstream(dir.file(name)) << j.dump();
  return dir.file(name);
}

std::vector<std::string> pieces(std::string_view text) {
  std::vector<std::string> out;
  for (std::string_view p : Tokenizer::pre_tokenize(text)) out.emplace_back(p);
  return out;
}

using Pieces = std::vector<std::string>;

TEST(Tokenizer, PreTokenizationFollowsTheGpt2Regex) {
  // Expected splits checked against Python's re on bytes with the trainer's classes
  // (letters [A-Za-z\x80-\xff], digits [0-9], whitespace ASCII).
  EXPECT_EQ(pieces("Hello world"), (Pieces{"Hello", " world"}));
  EXPECT_EQ(pieces("I'm here, they're 'sam'"), (Pieces{"I", "'m", " here", ",", " they", "'re", " '", "sam", "'"}));
  EXPECT_EQ(pieces("a  b"), (Pieces{"a", " ", " b"}));
  EXPECT_EQ(pieces("  \tx"), (Pieces{"  ", "\t", "x"}));
  EXPECT_EQ(pieces("x\n\n"), (Pieces{"x", "\n\n"}));
  EXPECT_EQ(pieces("x \n\ny"), (Pieces{"x", " \n", "\n", "y"}));
  EXPECT_EQ(pieces("abc123 45!?. ok"), (Pieces{"abc", "123", " 45", "!?.", " ok"}));
  EXPECT_EQ(pieces("''s"), (Pieces{"''", "s"}));
  EXPECT_EQ(pieces("caf\xc3\xa9 \xe2\x80\x94 na\xc3\xafve"), (Pieces{"caf\xc3\xa9", " \xe2\x80\x94", " na\xc3\xafve"}));
  EXPECT_EQ(pieces("3:16 In"), (Pieces{"3", ":", "16", " In"}));
  // zoo/llama-kjv/README.md's examples of the trainer's rule.
  EXPECT_EQ(pieces("a  \n  b"), (Pieces{"a", "  \n ", " b"}));
  EXPECT_EQ(pieces("  multiple   spaces"), (Pieces{" ", " multiple", "  ", " spaces"}));
  EXPECT_EQ(pieces("trailing   "), (Pieces{"trailing", "   "}));
  EXPECT_EQ(pieces("x.'s"), (Pieces{"x", ".'", "s"}));
  EXPECT_EQ(pieces("'tis 'S"), (Pieces{"'t", "is", " '", "S"}));
  EXPECT_EQ(pieces(""), Pieces{});
  EXPECT_EQ(pieces(" "), (Pieces{" "}));
}

TEST(Tokenizer, MergesByRankAndAddedTokens) {
  TempDir dir;
  const Tokenizer t = Tokenizer::load(write_json(dir, tiny_tokenizer()));
  EXPECT_EQ(t.vocab_size(), 301);
  EXPECT_EQ(t.bos_id(), -1);
  EXPECT_EQ(t.eos_id(), -1);
  // hello: h e -> he (256), l l -> ll (257), he ll -> hell (258), hell o -> hello (259).
  EXPECT_EQ(t.encode("hello"), (std::vector<int>{259}));
  // " world": Ġ w -> Ġw (260), o r -> or (261), Ġw or -> Ġwor (262), l d -> ld (263).
  EXPECT_EQ(t.encode("hello world"), (std::vector<int>{259, 262, 263}));
  EXPECT_EQ(t.encode("helo"), (std::vector<int>{256, 'l', 'o'}));
  EXPECT_EQ(t.encode("x<|end|>12\n"), (std::vector<int>{'x', 300, 264, '\n'}));
  EXPECT_EQ(t.encode("<|end|><|end|>"), (std::vector<int>{300, 300}));
  EXPECT_EQ(t.encode(""), std::vector<int>{});
  EXPECT_EQ(t.token(259), "hello");
  EXPECT_EQ(t.token(262), byte_char(' ') + "wor");
  EXPECT_EQ(t.decode(std::vector<int>{259, 262, 263, 300}), "hello world<|end|>");
  EXPECT_THROW(t.decode(std::vector<int>{301}), std::out_of_range);
  // Merges given as [a, b] pairs are the same tokenizer.
  TempDir dir2;
  const Tokenizer p = Tokenizer::load(write_json(dir2, tiny_tokenizer(true)));
  EXPECT_EQ(p.encode("hello world<|end|>"), t.encode("hello world<|end|>"));
  EXPECT_EQ(p.merges(), t.merges());
}

TEST(Tokenizer, RoundTripsArbitraryText) {
  TempDir dir;
  const Tokenizer t = Tokenizer::load(write_json(dir, tiny_tokenizer()));
  const std::vector<std::string> texts = {
      "In the beginning God created the heaven and the earth.\n\n",
      "  leading spaces,\ttabs\t\tand\r\nCRLF   trailing   ",
      "caf\xc3\xa9 na\xc3\xafve \xe2\x80\x94 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80!!",
      "numbers 1234567890 3:16 and 'quotes' don't won't y'all",
      "\x01\x02\x7f\xff\xfe raw bytes <|end|> <|end",
      std::string(300, ' ') + "x" + std::string(5, '\n'),
  };
  for (const std::string& s : texts) EXPECT_EQ(t.decode(t.encode(s)), s);
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  const std::vector<int> ids = t.encode(all);
  EXPECT_EQ(t.decode(ids), all);
}

TEST(Tokenizer, BosEosFromTokenizerConfig) {
  TempDir dir;
  const std::string path = write_json(dir, tiny_tokenizer());
  std::ofstream(dir.file("tokenizer_config.json")) << R"({"bos_token": {"content": "<|end|>"}, "eos_token": "<|end|>"})";
  const Tokenizer t = Tokenizer::load(path);
  EXPECT_EQ(t.bos_id(), 300);
  EXPECT_EQ(t.eos_id(), 300);
  EXPECT_EQ(t.encode("hello").size(), 1u) << "encode never adds BOS/EOS";
}

void expect_error(const std::string& path, const std::vector<std::string>& parts) {
  try {
    Tokenizer::load(path);
    ADD_FAILURE() << "no error for " << path;
  } catch (const std::runtime_error& e) {
    for (const std::string& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << "'" << p << "' not in: " << e.what();
  }
}

TEST(Tokenizer, MalformedFilesNameFileAndField) {
  TempDir dir;
  expect_error(dir.file("missing.json"), {"missing.json"});
  std::ofstream(dir.file("bad.json")) << "{\"model\": ";
  expect_error(dir.file("bad.json"), {"bad.json", "JSON"});
  json j = tiny_tokenizer();
  j["model"]["type"] = "Unigram";
  expect_error(write_json(dir, j, "uni.json"), {"uni.json", "model.type", "Unigram"});
  j["model"]["type"] = "WordPiece";
  expect_error(write_json(dir, j, "wp.json"), {"wp.json", "model.type", "WordPiece"});
  j = tiny_tokenizer();
  j["model"]["merges"].push_back("h zzz");
  expect_error(write_json(dir, j, "merge.json"), {"merge.json", "model.merges[9]", "zzz"});
  j = tiny_tokenizer();
  j["model"]["merges"].push_back("he");
  expect_error(write_json(dir, j, "merge2.json"), {"merge2.json", "model.merges[9]"});
  j = tiny_tokenizer();
  j["pre_tokenizer"] = {{"type", "Metaspace"}};
  expect_error(write_json(dir, j, "meta.json"), {"meta.json", "pre_tokenizer", "Metaspace"});
  j = tiny_tokenizer();
  j["normalizer"] = {{"type", "NFC"}};
  expect_error(write_json(dir, j, "nfc.json"), {"nfc.json", "normalizer", "NFC"});
  j = tiny_tokenizer();
  j["model"]["vocab"]["dup"] = 5;
  expect_error(write_json(dir, j, "dup.json"), {"dup.json", "model.vocab", "id 5"});
}

TEST(Tokenizer, GgufMetadataRoundTrip) {
  TempDir dir;
  const std::string path = write_json(dir, tiny_tokenizer());
  std::ofstream(dir.file("config.json")) << R"({"bos_token_id": 300, "eos_token_id": 300})";
  const Tokenizer t = Tokenizer::load(path);
  EXPECT_EQ(t.bos_id(), 300);
  const GgufMetadata meta = t.gguf_metadata(320);
  write_gguf(dir.file("tok.gguf"), meta, {});
  const GgufFile f = GgufFile::open(dir.file("tok.gguf"));
  const auto& tokens = std::get<GgufArray>(f.find_metadata("tokenizer.ggml.tokens")->value);
  ASSERT_EQ(tokens.items.size(), 320u);
  EXPECT_EQ(std::get<std::string>(tokens.items[310].value), "[PAD310]");
  const auto& types = std::get<GgufArray>(f.find_metadata("tokenizer.ggml.token_type")->value);
  EXPECT_EQ(std::get<std::int32_t>(types.items[300].value), 3);  // CONTROL
  EXPECT_EQ(std::get<std::int32_t>(types.items[0].value), 1);    // NORMAL
  EXPECT_EQ(std::get<std::int32_t>(types.items[310].value), 5);  // UNUSED
  EXPECT_EQ(std::get<std::string>(std::get<GgufArray>(f.find_metadata("tokenizer.ggml.merges")->value).items[0].value), "h e");
  const Tokenizer g = Tokenizer::from_gguf(f);
  EXPECT_EQ(g.vocab_size(), 320);
  EXPECT_EQ(g.bos_id(), 300);
  EXPECT_EQ(g.eos_id(), 300);
  for (const std::string s : {"hello world<|end|>12", "caf\xc3\xa9 \t\n  x", "[PAD310] y'all"}) {
    EXPECT_EQ(g.encode(s), t.encode(s)) << s;
    EXPECT_EQ(g.decode(g.encode(s)), s);
  }
  // Other tokenizer models are refused by name.
  GgufMetadata spm = meta;
  spm[0].second = GgufValue("llama");
  write_gguf(dir.file("spm.gguf"), spm, {});
  EXPECT_THROW(Tokenizer::from_gguf(GgufFile::open(dir.file("spm.gguf"))), FormatError);
}

// The trainer's own encodings (zoo/llama-kjv/tokenizer_cases.json), id for id.
TEST(Tokenizer, MatchesTheTrainerOnLlamaKjv) {
  const std::filesystem::path zoo = std::filesystem::path(MIXPE_TEST_ZOO_DIR) / "llama-kjv";
  const std::filesystem::path cases_path = zoo / "tokenizer_cases.json";
  ASSERT_TRUE(std::filesystem::exists(cases_path)) << cases_path << " is committed with the model";
  ASSERT_TRUE(std::filesystem::exists(zoo / "tokenizer.json"));
  const Tokenizer t = Tokenizer::load((zoo / "tokenizer.json").string());
  std::ifstream in(cases_path);
  const json j = json::parse(in);
  const json& cases = j.is_array() ? j : j.at("cases");
  ASSERT_GT(cases.size(), 0u);
  int checked = 0;
  for (const json& c : cases) {
    const std::string text = c.at("text").get<std::string>();
    const std::vector<int> ids = c.at("ids").get<std::vector<int>>();
    EXPECT_EQ(t.encode(text), ids) << text;
    EXPECT_EQ(t.decode(ids), text);
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(cases.size()));
  // The trainer's special ids name added (control) tokens.
  for (const char* key : {"bos_token_id", "eos_token_id"}) {
    if (!j.is_object() || !j.contains(key)) continue;
    const int id = j[key].get<int>();
    EXPECT_EQ(t.token_type(id), TokenType::kControl) << key;
    const int ours = std::string(key) == "bos_token_id" ? t.bos_id() : t.eos_id();
    if (ours >= 0) {
      EXPECT_EQ(ours, id) << key;
    }
  }
}

}  // namespace
}  // namespace mixpe::models
