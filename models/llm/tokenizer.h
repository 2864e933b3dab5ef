// Byte-level BPE tokenizer (GPT-2 style) read from a Hugging Face tokenizer.json or from GGUF
// tokenizer metadata, and the conversion to llama.cpp's tokenizer.ggml.* keys.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "models/io/gguf.h"

namespace mixpe::models {

// llama.cpp's token types (tokenizer.ggml.token_type).
enum class TokenType : std::int32_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

// Byte-level BPE: text -> added (special) tokens matched verbatim, the rest split by GPT-2's
// pre-tokenization regex (implemented as a byte scanner: letters are ASCII letters and every byte
// >= 0x80, digits ASCII digits, whitespace ASCII whitespace), bytes mapped to GPT-2's printable
// characters, then merged by rank. encode never adds BOS/EOS; decode(encode(s)) == s for any
// byte string whose bytes all have vocabulary entries (unless an added token strips whitespace).
class Tokenizer {
 public:
  // Throws std::runtime_error naming the file and the field: missing file, malformed JSON, a model
  // type other than "BPE", a merge naming an unknown token, unsupported normalizers or pre-tokenizers.
  // BOS/EOS come from tokenizer_config.json (bos_token / eos_token) or config.json
  // (bos_token_id / eos_token_id) in the same directory, when present.
  static Tokenizer load(const std::string& tokenizer_json_path);
  // From tokenizer.ggml.{model = "gpt2", tokens, token_type, merges, bos_token_id, eos_token_id}.
  static Tokenizer from_gguf(const GgufFile& f);

  std::vector<int> encode(std::string_view text) const;
  // Token strings mapped back to bytes and concatenated (may be invalid UTF-8 for partial ids).
  // Throws std::out_of_range for an id outside the vocabulary.
  std::string decode(std::span<const int> ids) const;
  int vocab_size() const { return static_cast<int>(tokens_.size()); }
  int bos_id() const { return bos_; }  // -1 if none
  int eos_id() const { return eos_; }  // -1 if none
  const std::string& token(int id) const { return tokens_.at(static_cast<std::size_t>(id)); }
  TokenType token_type(int id) const { return types_.at(static_cast<std::size_t>(id)); }
  // Merges in rank order, as "left right" token strings.
  std::vector<std::string> merges() const;
  bool add_prefix_space() const { return add_prefix_space_; }

  // llama.cpp's tokenizer keys: model "gpt2", pre "gpt-2", tokens (padded with "[PAD<i>]" of type
  // UNUSED up to `pad_to`), token_type, merges, bos/eos ids.
  GgufMetadata gguf_metadata(int pad_to = 0) const;

  // Pre-tokenization alone (exposed for tests): the pieces of `text`, concatenating to it.
  static std::vector<std::string_view> pre_tokenize(std::string_view text);

 private:
  struct AddedToken {
    std::string content;
    int id = 0;
    bool lstrip = false, rstrip = false;
  };
  struct Cache;

  void finish(const std::string& source);  // builds lookup tables, checks merges
  void bpe(std::string_view piece, std::vector<int>& out) const;

  std::vector<std::string> tokens_;
  std::vector<TokenType> types_;
  std::unordered_map<std::string, int> vocab_;
  std::vector<std::pair<int, int>> merges_;                       // by rank
  std::unordered_map<std::uint64_t, std::pair<int, int>> ranks_;  // (left, right) -> (rank, merged id)
  std::vector<AddedToken> added_;
  int byte_token_[256] = {};  // token of each byte's GPT-2 character, -1 if absent
  int unk_ = -1;
  int bos_ = -1, eos_ = -1;
  bool add_prefix_space_ = false;
  bool use_regex_ = true;
  bool ignore_merges_ = false;  // a whole pre-token found in the vocabulary is one token (LLaMA-3)
  std::shared_ptr<Cache> cache_;
};

}  // namespace mixpe::models
