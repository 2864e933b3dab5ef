// Reading an operator's files: config.json (range-checked keys, errors naming the file, key and
// value, unknown keys rejected) and F32 weight tensors of an expected shape.
#pragma once

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "models/io/dtype.h"
#include "models/io/file_io.h"
#include "models/io/safetensors.h"

namespace mixpe::models {

// Reads and range-checks config keys; unknown keys are errors so typos do not pass silently.
class ConfigReader {
 public:
  ConfigReader(const nlohmann::json& j, std::string source) : j_(j), source_(std::move(source)) {
    if (!j_.is_object()) throw_format_error(source_, "config", "not a JSON object");
  }
  [[noreturn]] void fail(const std::string& key, const std::string& problem) const {
    throw_format_error(source_, key, fmt::format("{} (got {})", problem, j_.contains(key) ? j_.at(key).dump() : "nothing"));
  }
  int integer(const std::string& key, int lo, int hi, std::optional<int> fallback = std::nullopt) {
    seen_.insert(key);
    if (!j_.contains(key)) {
      if (!fallback) fail(key, "required integer missing");
      return *fallback;
    }
    const nlohmann::json& v = j_.at(key);
    if (!v.is_number_integer() || v.get<long long>() < lo || v.get<long long>() > hi) fail(key, fmt::format("must be an integer in [{}, {}]", lo, hi));
    return v.get<int>();
  }
  bool boolean(const std::string& key, bool fallback) {
    seen_.insert(key);
    if (!j_.contains(key)) return fallback;
    if (!j_.at(key).is_boolean()) fail(key, "must be true or false");
    return j_.at(key).get<bool>();
  }
  std::string choice(const std::string& key, const std::vector<std::string>& allowed, std::optional<std::string> fallback) {
    seen_.insert(key);
    if (!j_.contains(key)) {
      if (!fallback) fail(key, "required string missing");
      return *fallback;
    }
    const nlohmann::json& v = j_.at(key);
    if (v.is_string()) {
      const std::string s = v.get<std::string>();
      if (allowed.empty() || std::find(allowed.begin(), allowed.end(), s) != allowed.end()) return s;
    }
    fail(key, allowed.empty() ? "must be a string" : fmt::format("must be one of {}", fmt::join(allowed, ", ")));
  }
  std::vector<int> int_list(const std::string& key, std::size_t size, int lo, int hi) {
    seen_.insert(key);
    if (!j_.contains(key)) fail(key, "required list missing");
    const nlohmann::json& v = j_.at(key);
    if (!v.is_array() || v.size() != size) fail(key, fmt::format("must be a list of {} integers", size));
    std::vector<int> out;
    for (const nlohmann::json& e : v) {
      if (!e.is_number_integer() || e.get<long long>() < lo || e.get<long long>() > hi) fail(key, fmt::format("entries must be integers in [{}, {}]", lo, hi));
      out.push_back(e.get<int>());
    }
    return out;
  }
  void reject_unknown() const {
    for (const auto& [key, value] : j_.items())
      if (!seen_.count(key)) throw_format_error(source_, key, fmt::format("unknown key (value {})", value.dump()));
  }
  const std::string& source() const { return source_; }

 private:
  const nlohmann::json& j_;
  std::string source_;
  std::set<std::string> seen_;
};

// An F32 tensor of exactly `shape` from the weights file, as floats; zeros when `f` is null (a
// shapes-only model). Throws FormatError naming the file and tensor.
inline std::vector<float> read_tensor(const SafetensorsFile* f, const std::string& name, const std::vector<std::int64_t>& shape) {
  std::size_t n = 1;
  for (auto d : shape) n *= static_cast<std::size_t>(d);
  if (!f) return std::vector<float>(n, 0.0f);
  const SafetensorsTensor* t = f->find(name);
  if (!t) throw_format_error(f->source(), name, "missing tensor");
  if (t->dtype != Dtype::kF32) throw_format_error(f->source(), name, fmt::format("dtype {} (expected F32)", dtype_name(t->dtype)));
  if (t->shape != shape)
    throw_format_error(f->source(), name, fmt::format("shape [{}] (expected [{}])", fmt::join(t->shape, ", "), fmt::join(shape, ", ")));
  return to_float32(t->dtype, t->data);
}

}  // namespace mixpe::models
