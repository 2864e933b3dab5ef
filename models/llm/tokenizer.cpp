// Byte-level BPE: tokenizer.json and GGUF loading, GPT-2 pre-tokenization scanner, rank-ordered merges.
#include "models/llm/tokenizer.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "models/io/file_io.h"

namespace mixpe::models {

struct Tokenizer::Cache {
  std::mutex mutex;
  std::unordered_map<std::string, std::vector<int>> pieces;
};

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::size_t kCacheLimit = 1 << 16;

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// GPT-2's reversible byte -> printable character map: printable Latin-1 bytes stand for
// themselves, the other 68 bytes take code points 256, 257, ... in byte order.
struct ByteMap {
  std::array<std::string, 256> to_char;
  std::unordered_map<std::uint32_t, std::uint8_t> to_byte;  // code point -> byte
  ByteMap() {
    std::uint32_t next = 256;
    for (std::uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      const std::uint32_t cp = printable ? b : next++;
      append_utf8(to_char[b], cp);
      to_byte[cp] = static_cast<std::uint8_t>(b);
    }
  }
};

const ByteMap& byte_map() {
  static const ByteMap m;
  return m;
}

// Code points of a UTF-8 string; false if it is not valid UTF-8 (then the token is raw bytes).
bool code_points(std::string_view s, std::vector<std::uint32_t>& out) {
  out.clear();
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<std::uint8_t>(s[i]);
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    std::uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (int k = 1; k < len; ++k) {
      const auto cc = static_cast<std::uint8_t>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    out.push_back(cp);
    i += len;
  }
  return true;
}

// The trainer's documented classes: ASCII letters and all non-ASCII bytes are letters.
bool is_letter(std::uint8_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80; }
bool is_digit(std::uint8_t c) { return c >= '0' && c <= '9'; }
bool is_space(std::uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }
bool is_other(std::uint8_t c) { return !is_letter(c) && !is_digit(c) && !is_space(c); }

std::uint64_t pair_key(int a, int b) { return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) | static_cast<std::uint32_t>(b); }

json read_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_format_error(path, "open", "cannot read the file");
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return json::parse(ss.str());
  } catch (const json::exception& e) {
    throw_format_error(path, "JSON", fmt::format("malformed: {}", e.what()));
  }
}

bool get_bool(const json& obj, const char* key, bool fallback, const std::string& source, const std::string& field) {
  if (!obj.contains(key) || obj[key].is_null()) return fallback;
  if (!obj[key].is_boolean()) throw_format_error(source, field + "." + key, fmt::format("{} is not a boolean", obj[key].dump()));
  return obj[key].get<bool>();
}

// A special-token entry of tokenizer_config.json: a string or {"content": ...}.
std::string token_content(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return "";
}

}  // namespace

std::vector<std::string_view> Tokenizer::pre_tokenize(std::string_view text) {
  std::vector<std::string_view> out;
  const std::size_t n = text.size();
  auto at = [&](std::size_t i) { return static_cast<std::uint8_t>(text[i]); };
  auto run = [&](std::size_t i, bool (*cls)(std::uint8_t)) {
    while (i < n && cls(at(i))) ++i;
    return i;
  };
  std::size_t i = 0;
  while (i < n) {
    const std::uint8_t c = at(i);
    std::size_t end = 0;
    // 's|'t|'re|'ve|'m|'ll|'d, tried in that order.
    if (c == '\'') {
      for (std::string_view suffix : {"s", "t", "re", "ve", "m", "ll", "d"}) {
        if (text.substr(i + 1, suffix.size()) == suffix) {
          end = i + 1 + suffix.size();
          break;
        }
      }
    }
    if (end == 0) {
      // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional single space, then a class run.
      const std::size_t start = c == ' ' && i + 1 < n ? i + 1 : i;
      if (start < n) {
        for (bool (*cls)(std::uint8_t) : {is_letter, is_digit, is_other}) {
          if (cls(at(start))) {
            end = run(start, cls);
            break;
          }
        }
      }
    }
    if (end == 0) {
      // `\s+(?!\S)` backs off one character before a non-space; `\s+` takes a lone space.
      const std::size_t stop = run(i, is_space);
      end = stop == n || stop - i == 1 ? stop : stop - 1;
    }
    out.push_back(text.substr(i, end - i));
    i = end;
  }
  return out;
}

Tokenizer Tokenizer::load(const std::string& path) {
  const json j = read_json(path);
  if (!j.is_object()) throw_format_error(path, "JSON", "top level is not an object");
  if (!j.contains("model") || !j["model"].is_object()) throw_format_error(path, "model", "missing or not an object");
  const json& m = j["model"];
  const std::string type = m.contains("type") && m["type"].is_string() ? m["type"].get<std::string>() : "";
  if (type != "BPE" && !(type.empty() && m.contains("merges"))) {
    throw_format_error(path, "model.type", fmt::format("\"{}\" is not supported (only byte-level \"BPE\")", type));
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (m.contains(key) && !m[key].is_null() && !(m[key].is_string() && m[key].get<std::string>().empty())) {
      throw_format_error(path, fmt::format("model.{}", key), fmt::format("{} is not supported by byte-level BPE", m[key].dump()));
    }
  }
  if (j.contains("normalizer") && !j["normalizer"].is_null()) {
    throw_format_error(path, "normalizer", fmt::format("{} is not supported (byte-level BPE uses none)", j["normalizer"].value("type", "?")));
  }

  Tokenizer t;
  // Pre-tokenizer: ByteLevel, alone or as the only step of a Sequence.
  const json* pre = j.contains("pre_tokenizer") && !j["pre_tokenizer"].is_null() ? &j["pre_tokenizer"] : nullptr;
  if (pre != nullptr && pre->value("type", "") == "Sequence" && pre->contains("pretokenizers") &&
      (*pre)["pretokenizers"].is_array() && (*pre)["pretokenizers"].size() == 1) {
    pre = &(*pre)["pretokenizers"][0];
  }
  if (pre == nullptr || !pre->is_object() || pre->value("type", "") != "ByteLevel") {
    throw_format_error(path, "pre_tokenizer", fmt::format("{} is not supported (only ByteLevel)", pre ? pre->dump() : "null"));
  }
  t.add_prefix_space_ = get_bool(*pre, "add_prefix_space", true, path, "pre_tokenizer");
  t.use_regex_ = get_bool(*pre, "use_regex", true, path, "pre_tokenizer");
  t.ignore_merges_ = get_bool(m, "ignore_merges", false, path, "model");

  if (!m.contains("vocab") || !m["vocab"].is_object()) throw_format_error(path, "model.vocab", "missing or not an object");
  std::vector<std::pair<std::string, int>> entries;
  int max_id = -1;
  auto check_id = [&](const json& v, const std::string& field) {
    if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() > (1 << 24)) {
      throw_format_error(path, field, fmt::format("id {} is not an integer in [0, 2^24]", v.dump()));
    }
    max_id = std::max(max_id, v.get<int>());
    return v.get<int>();
  };
  for (const auto& [token, id] : m["vocab"].items()) entries.emplace_back(token, check_id(id, fmt::format("model.vocab[\"{}\"]", token)));
  std::vector<AddedToken> added;
  if (j.contains("added_tokens") && !j["added_tokens"].is_null()) {
    if (!j["added_tokens"].is_array()) throw_format_error(path, "added_tokens", "is not an array");
    for (std::size_t i = 0; i < j["added_tokens"].size(); ++i) {
      const json& a = j["added_tokens"][i];
      const std::string field = fmt::format("added_tokens[{}]", i);
      if (!a.is_object() || !a.contains("content") || !a["content"].is_string() || a["content"].get<std::string>().empty() ||
          !a.contains("id")) {
        throw_format_error(path, field, "needs a non-empty string \"content\" and an \"id\"");
      }
      AddedToken at{a["content"].get<std::string>(), check_id(a["id"], field + ".id"), get_bool(a, "lstrip", false, path, field),
                    get_bool(a, "rstrip", false, path, field)};
      t.added_.push_back(at);
    }
  }
  t.tokens_.assign(static_cast<std::size_t>(max_id + 1), "");
  t.types_.assign(static_cast<std::size_t>(max_id + 1), TokenType::kUnused);
  for (const auto& [token, id] : entries) {
    if (t.types_[id] != TokenType::kUnused) {
      throw_format_error(path, fmt::format("model.vocab[\"{}\"]", token), fmt::format("id {} is also '{}'", id, t.tokens_[id]));
    }
    t.tokens_[id] = token;
    t.types_[id] = TokenType::kNormal;
  }
  if (j.contains("added_tokens") && j["added_tokens"].is_array()) {
    for (std::size_t i = 0; i < t.added_.size(); ++i) {
      const AddedToken& a = t.added_[i];
      if (t.types_[a.id] == TokenType::kNormal && t.tokens_[a.id] != a.content) {
        throw_format_error(path, fmt::format("added_tokens[{}].id", i),
                           fmt::format("{} is '{}' in model.vocab, not '{}'", a.id, t.tokens_[a.id], a.content));
      }
      t.tokens_[a.id] = a.content;
      t.types_[a.id] = get_bool(j["added_tokens"][i], "special", false, path, fmt::format("added_tokens[{}]", i)) ? TokenType::kControl
                                                                                                              : TokenType::kUserDefined;
    }
  }

  // Merges, as "a b" strings or [a, b] pairs; each side and the result must be tokens.
  if (!m.contains("merges") || !m["merges"].is_array()) throw_format_error(path, "model.merges", "missing or not an array");
  std::vector<std::pair<std::string, std::string>> merge_strings;
  for (std::size_t i = 0; i < m["merges"].size(); ++i) {
    const json& e = m["merges"][i];
    const std::string field = fmt::format("model.merges[{}]", i);
    if (e.is_string()) {
      const std::string s = e.get<std::string>();
      const std::size_t sp = s.find(' ');
      if (sp == std::string::npos || sp == 0 || sp + 1 >= s.size() || s.find(' ', sp + 1) != std::string::npos) {
        throw_format_error(path, field, fmt::format("\"{}\" is not two tokens separated by one space", printable(s)));
      }
      merge_strings.emplace_back(s.substr(0, sp), s.substr(sp + 1));
    } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
      merge_strings.emplace_back(e[0].get<std::string>(), e[1].get<std::string>());
    } else {
      throw_format_error(path, field, fmt::format("{} is neither \"a b\" nor [\"a\", \"b\"]", e.dump()));
    }
  }
  t.finish(path);
  for (std::size_t i = 0; i < merge_strings.size(); ++i) {
    const auto& [a, b] = merge_strings[i];
    const auto ia = t.vocab_.find(a), ib = t.vocab_.find(b), ic = t.vocab_.find(a + b);
    const std::string field = fmt::format("model.merges[{}]", i);
    if (ia == t.vocab_.end()) throw_format_error(path, field, fmt::format("'{}' is not in the vocabulary", printable(a)));
    if (ib == t.vocab_.end()) throw_format_error(path, field, fmt::format("'{}' is not in the vocabulary", printable(b)));
    if (ic == t.vocab_.end()) throw_format_error(path, field, fmt::format("the merged '{}' is not in the vocabulary", printable(a + b)));
    t.merges_.emplace_back(ia->second, ib->second);
    t.ranks_.emplace(pair_key(ia->second, ib->second), std::pair<int, int>{static_cast<int>(i), ic->second});  // first rank wins
  }
  if (m.contains("unk_token") && m["unk_token"].is_string()) {
    const auto it = t.vocab_.find(m["unk_token"].get<std::string>());
    if (it == t.vocab_.end()) throw_format_error(path, "model.unk_token", fmt::format("'{}' is not in the vocabulary", m["unk_token"].get<std::string>()));
    t.unk_ = it->second;
  }

  // BOS/EOS: tokenizer_config.json names them; config.json gives ids.
  const fs::path dir = fs::path(path).parent_path();
  if (fs::exists(dir / "tokenizer_config.json")) {
    const std::string tc_path = (dir / "tokenizer_config.json").string();
    const json tc = read_json(tc_path);
    for (const auto& [key, dst] : {std::pair{"bos_token", &t.bos_}, std::pair{"eos_token", &t.eos_}}) {
      if (!tc.is_object() || !tc.contains(key) || tc[key].is_null()) continue;
      const std::string content = token_content(tc[key]);
      const auto it = t.vocab_.find(content);
      if (it == t.vocab_.end()) throw_format_error(tc_path, key, fmt::format("{} is not a token of {}", tc[key].dump(), path));
      *dst = it->second;
    }
  }
  if (fs::exists(dir / "config.json")) {
    const std::string c_path = (dir / "config.json").string();
    const json c = read_json(c_path);
    for (const auto& [key, dst] : {std::pair{"bos_token_id", &t.bos_}, std::pair{"eos_token_id", &t.eos_}}) {
      if (*dst >= 0 || !c.is_object() || !c.contains(key) || !c[key].is_number_integer()) continue;
      const long long id = c[key].get<long long>();
      if (id < 0 || id >= t.vocab_size()) throw_format_error(c_path, key, fmt::format("{} is outside the vocabulary of {}", id, path));
      *dst = static_cast<int>(id);
    }
  }
  return t;
}

Tokenizer Tokenizer::from_gguf(const GgufFile& f) {
  const std::string& src = f.source();
  auto need = [&](const char* key) -> const GgufValue& {
    const GgufValue* v = f.find_metadata(key);
    if (v == nullptr) throw_format_error(src, fmt::format("metadata '{}'", key), "missing");
    return *v;
  };
  auto strings = [&](const char* key) {
    const auto* arr = std::get_if<GgufArray>(&need(key).value);
    if (arr == nullptr || arr->type != GgufValueType::kString) throw_format_error(src, fmt::format("metadata '{}'", key), "is not an array of strings");
    std::vector<std::string> out;
    out.reserve(arr->items.size());
    for (const GgufValue& v : arr->items) out.push_back(std::get<std::string>(v.value));
    return out;
  };
  auto integer = [&](const GgufValue& v, const std::string& field) -> long long {
    return std::visit(
        [&](const auto& x) -> long long {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
            return static_cast<long long>(x);
          } else {
            throw_format_error(src, field, fmt::format("has type {}, expected an integer", gguf_value_type_name(v.type())));
          }
        },
        v.value);
  };
  const auto* model = std::get_if<std::string>(&need("tokenizer.ggml.model").value);
  if (model == nullptr || *model != "gpt2") {
    throw_format_error(src, "metadata 'tokenizer.ggml.model'",
                       fmt::format("{} is not supported (only \"gpt2\", byte-level BPE)", need("tokenizer.ggml.model").to_string()));
  }
  Tokenizer t;
  t.add_prefix_space_ = false;
  if (const GgufValue* v = f.find_metadata("tokenizer.ggml.add_space_prefix"); v != nullptr && std::holds_alternative<bool>(v->value)) {
    t.add_prefix_space_ = std::get<bool>(v->value);
  }
  t.tokens_ = strings("tokenizer.ggml.tokens");
  t.types_.assign(t.tokens_.size(), TokenType::kNormal);
  if (const GgufValue* v = f.find_metadata("tokenizer.ggml.token_type")) {
    const auto* arr = std::get_if<GgufArray>(&v->value);
    if (arr == nullptr || arr->items.size() != t.tokens_.size()) {
      throw_format_error(src, "metadata 'tokenizer.ggml.token_type'", fmt::format("is not an array of {} integers", t.tokens_.size()));
    }
    for (std::size_t i = 0; i < arr->items.size(); ++i) {
      const long long ty = integer(arr->items[i], fmt::format("metadata 'tokenizer.ggml.token_type'[{}]", i));
      if (ty < 1 || ty > 6) throw_format_error(src, fmt::format("metadata 'tokenizer.ggml.token_type'[{}]", i), fmt::format("{} is not a token type (1..6)", ty));
      t.types_[i] = static_cast<TokenType>(ty);
    }
  }
  for (std::size_t i = 0; i < t.tokens_.size(); ++i) {
    if ((t.types_[i] == TokenType::kControl || t.types_[i] == TokenType::kUserDefined) && !t.tokens_[i].empty()) {
      t.added_.push_back({t.tokens_[i], static_cast<int>(i), false, false});
    }
  }
  t.finish(src);
  const std::vector<std::string> merges = strings("tokenizer.ggml.merges");
  for (std::size_t i = 0; i < merges.size(); ++i) {
    const std::string& s = merges[i];
    const std::string field = fmt::format("metadata 'tokenizer.ggml.merges'[{}]", i);
    const std::size_t sp = s.find(' ');
    if (sp == std::string::npos) throw_format_error(src, field, fmt::format("\"{}\" is not two tokens separated by a space", printable(s)));
    const std::string a = s.substr(0, sp), b = s.substr(sp + 1);
    const auto ia = t.vocab_.find(a), ib = t.vocab_.find(b), ic = t.vocab_.find(a + b);
    if (ia == t.vocab_.end() || ib == t.vocab_.end() || ic == t.vocab_.end()) {
      throw_format_error(src, field, fmt::format("\"{}\" names a token that is not in tokenizer.ggml.tokens", printable(s)));
    }
    t.merges_.emplace_back(ia->second, ib->second);
    t.ranks_.emplace(pair_key(ia->second, ib->second), std::pair<int, int>{static_cast<int>(i), ic->second});
  }
  for (const auto& [key, dst] : {std::pair{"tokenizer.ggml.bos_token_id", &t.bos_}, std::pair{"tokenizer.ggml.eos_token_id", &t.eos_},
                                 std::pair{"tokenizer.ggml.unknown_token_id", &t.unk_}}) {
    if (const GgufValue* v = f.find_metadata(key)) {
      const long long id = integer(*v, fmt::format("metadata '{}'", key));
      if (id < 0 || id >= t.vocab_size()) throw_format_error(src, fmt::format("metadata '{}'", key), fmt::format("{} is outside the vocabulary", id));
      *dst = static_cast<int>(id);
    }
  }
  return t;
}

void Tokenizer::finish(const std::string& source) {
  (void)source;
  vocab_.clear();
  vocab_.reserve(tokens_.size());
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    if (types_[i] == TokenType::kNormal || types_[i] == TokenType::kByte) vocab_.emplace(tokens_[i], static_cast<int>(i));
  }
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    if (types_[i] != TokenType::kUnused && !tokens_[i].empty()) vocab_.emplace(tokens_[i], static_cast<int>(i));
  }
  for (int b = 0; b < 256; ++b) {
    const auto it = vocab_.find(byte_map().to_char[b]);
    byte_token_[b] = it == vocab_.end() ? -1 : it->second;
  }
  // Longest first, so the longest added token wins at a position.
  std::stable_sort(added_.begin(), added_.end(), [](const AddedToken& a, const AddedToken& b) { return a.content.size() > b.content.size(); });
  cache_ = std::make_shared<Cache>();
}

void Tokenizer::bpe(std::string_view piece, std::vector<int>& out) const {
  {
    std::lock_guard<std::mutex> lock(cache_->mutex);
    const auto it = cache_->pieces.find(std::string(piece));
    if (it != cache_->pieces.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int> sym;
  sym.reserve(piece.size());
  std::string mapped;
  for (char ch : piece) {
    const auto b = static_cast<std::uint8_t>(ch);
    mapped += byte_map().to_char[b];
    int id = byte_token_[b];
    if (id < 0) {
      if (unk_ < 0) throw std::runtime_error(fmt::format("tokenizer: byte 0x{:02x} has no token and there is no unk_token", b));
      id = unk_;
    }
    sym.push_back(id);
  }
  const auto whole = ignore_merges_ ? vocab_.find(mapped) : vocab_.end();
  if (whole != vocab_.end()) {
    sym.assign(1, whole->second);
  } else {
    // Merge the lowest-ranked adjacent pair (leftmost on ties) until none is mergeable.
    while (sym.size() > 1) {
      int best = std::numeric_limits<int>::max(), at = -1, merged = -1;
      for (std::size_t i = 0; i + 1 < sym.size(); ++i) {
        const auto it = ranks_.find(pair_key(sym[i], sym[i + 1]));
        if (it != ranks_.end() && it->second.first < best) {
          best = it->second.first;
          at = static_cast<int>(i);
          merged = it->second.second;
        }
      }
      if (at < 0) break;
      sym[static_cast<std::size_t>(at)] = merged;
      sym.erase(sym.begin() + at + 1);
    }
  }
  out.insert(out.end(), sym.begin(), sym.end());
  std::lock_guard<std::mutex> lock(cache_->mutex);
  if (cache_->pieces.size() >= kCacheLimit) cache_->pieces.clear();
  cache_->pieces.emplace(std::string(piece), std::move(sym));
}

std::vector<int> Tokenizer::encode(std::string_view text) const {
  std::vector<int> out;
  auto encode_plain = [&](std::string_view seg) {
    if (seg.empty()) return;
    std::string prefixed;
    if (add_prefix_space_ && seg.front() != ' ') {
      prefixed.reserve(seg.size() + 1);
      prefixed += ' ';
      prefixed += seg;
      seg = prefixed;
    }
    if (!use_regex_) {
      bpe(seg, out);
      return;
    }
    for (std::string_view p : pre_tokenize(seg)) bpe(p, out);
  };
  std::size_t begin = 0, i = 0;
  while (i < text.size()) {
    const AddedToken* hit = nullptr;
    for (const AddedToken& a : added_) {
      if (text.compare(i, a.content.size(), a.content) == 0) {
        hit = &a;
        break;
      }
    }
    if (hit == nullptr) {
      ++i;
      continue;
    }
    std::size_t seg_end = i, next = i + hit->content.size();
    if (hit->lstrip) {
      while (seg_end > begin && is_space(static_cast<std::uint8_t>(text[seg_end - 1]))) --seg_end;
    }
    if (hit->rstrip) {
      while (next < text.size() && is_space(static_cast<std::uint8_t>(text[next]))) ++next;
    }
    encode_plain(text.substr(begin, seg_end - begin));
    out.push_back(hit->id);
    begin = i = next;
  }
  encode_plain(text.substr(begin));
  return out;
}

std::string Tokenizer::decode(std::span<const int> ids) const {
  std::string out;
  std::vector<std::uint32_t> cps;
  for (int id : ids) {
    if (id < 0 || id >= vocab_size()) throw std::out_of_range(fmt::format("tokenizer: id {} is outside the vocabulary of {}", id, vocab_size()));
    const std::string& tok = tokens_[static_cast<std::size_t>(id)];
    const TokenType ty = types_[static_cast<std::size_t>(id)];
    bool mapped = ty != TokenType::kControl && ty != TokenType::kUserDefined && code_points(tok, cps);
    std::string bytes;
    if (mapped) {
      for (std::uint32_t cp : cps) {
        const auto it = byte_map().to_byte.find(cp);
        if (it == byte_map().to_byte.end()) {
          mapped = false;
          break;
        }
        bytes += static_cast<char>(it->second);
      }
    }
    out += mapped ? bytes : tok;  // added tokens (and unmappable ones) are their own text
  }
  return out;
}

std::vector<std::string> Tokenizer::merges() const {
  std::vector<std::string> out;
  out.reserve(merges_.size());
  for (const auto& [a, b] : merges_) out.push_back(tokens_[static_cast<std::size_t>(a)] + " " + tokens_[static_cast<std::size_t>(b)]);
  return out;
}

GgufMetadata Tokenizer::gguf_metadata(int pad_to) const {
  const std::size_t n = std::max<std::size_t>(tokens_.size(), static_cast<std::size_t>(std::max(pad_to, 0)));
  GgufArray tokens{GgufValueType::kString, {}}, types{GgufValueType::kInt32, {}}, merges{GgufValueType::kString, {}};
  tokens.items.reserve(n);
  types.items.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const bool real = i < tokens_.size() && types_[i] != TokenType::kUnused;
    tokens.items.emplace_back(real ? tokens_[i] : fmt::format("[PAD{}]", i));
    types.items.emplace_back(static_cast<std::int32_t>(real ? types_[i] : TokenType::kUnused));
  }
  for (std::string& m : this->merges()) merges.items.emplace_back(std::move(m));
  GgufMetadata meta = {{"tokenizer.ggml.model", GgufValue("gpt2")},
                       {"tokenizer.ggml.pre", GgufValue("gpt-2")},
                       {"tokenizer.ggml.tokens", GgufValue(std::move(tokens))},
                       {"tokenizer.ggml.token_type", GgufValue(std::move(types))},
                       {"tokenizer.ggml.merges", GgufValue(std::move(merges))}};
  if (bos_ >= 0) meta.emplace_back("tokenizer.ggml.bos_token_id", GgufValue(static_cast<std::uint32_t>(bos_)));
  if (eos_ >= 0) meta.emplace_back("tokenizer.ggml.eos_token_id", GgufValue(static_cast<std::uint32_t>(eos_)));
  if (unk_ >= 0) meta.emplace_back("tokenizer.ggml.unknown_token_id", GgufValue(static_cast<std::uint32_t>(unk_)));
  meta.emplace_back("tokenizer.ggml.add_space_prefix", GgufValue(add_prefix_space_));
  return meta;
}

}  // namespace mixpe::models
