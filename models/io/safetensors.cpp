// safetensors parsing (every offset and size checked against the buffer) and writing.
#include "models/io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <set>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

namespace mixpe::models {
namespace {

using nlohmann::json;

constexpr int kMaxJsonDepth = 8;

json parse_header_json(std::string_view text, const std::string& source) {
  std::set<std::string> top_keys;
  auto callback = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth > kMaxJsonDepth) throw_format_error(source, "header JSON", fmt::format("nested deeper than {}", kMaxJsonDepth));
    if (event == json::parse_event_t::key && depth == 1) {
      const std::string key = parsed.get<std::string>();
      if (!top_keys.insert(key).second) throw_format_error(source, "header JSON", fmt::format("duplicate key '{}'", key));
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), callback);
  } catch (const json::exception& e) {
    throw_format_error(source, "header JSON", e.what());
  }
}

std::vector<std::int64_t> parse_shape(const json& j, const std::string& source, const std::string& field) {
  if (!j.is_array()) throw_format_error(source, field, fmt::format("must be an array of integers, got {}", j.dump()));
  std::vector<std::int64_t> shape;
  for (const json& d : j) {
    if (!d.is_number_unsigned() || d.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
      throw_format_error(source, field, fmt::format("dimension {} is not a non-negative integer", d.dump()));
    }
    shape.push_back(d.get<std::int64_t>());
  }
  return shape;
}

}  // namespace

SafetensorsFile SafetensorsFile::open(const std::string& path) {
  auto file = std::make_shared<MappedFile>(path);
  SafetensorsFile f = parse(file->bytes(), path);
  f.file_ = std::move(file);
  return f;
}

SafetensorsFile SafetensorsFile::parse(std::span<const std::uint8_t> bytes, const std::string& source) {
  SafetensorsFile f;
  f.source_ = source;
  if (bytes.size() < 8) {
    throw_format_error(source, "header length", fmt::format("file is {} bytes, too short for the 8-byte header length", bytes.size()));
  }
  std::uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  if (n > kSafetensorsMaxHeader) {
    throw_format_error(source, "header length", fmt::format("{} bytes exceeds the {}-byte limit", n, kSafetensorsMaxHeader));
  }
  if (n > bytes.size() - 8) {
    throw_format_error(source, "header length",
                       fmt::format("{} bytes, but only {} bytes follow the length field (truncated file?)", n, bytes.size() - 8));
  }
  f.header_length_ = n;
  const std::string_view text(reinterpret_cast<const char*>(bytes.data() + 8), n);
  if (text.empty() || text.front() != '{') throw_format_error(source, "header JSON", "must start with '{'");
  const json header = parse_header_json(text, source);
  if (!header.is_object()) throw_format_error(source, "header JSON", "is not an object");

  const std::span<const std::uint8_t> buffer = bytes.subspan(8 + n);
  struct Range {
    std::uint64_t begin, end;
    std::size_t index;
  };
  std::vector<Range> ranges;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) throw_format_error(source, "__metadata__", "must be an object of strings");
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string()) {
          throw_format_error(source, fmt::format("__metadata__.{}", key), fmt::format("value {} is not a string", value.dump()));
        }
        f.metadata_[key] = value.get<std::string>();
      }
      continue;
    }
    const std::string field = fmt::format("tensor '{}'", name);
    if (name.empty()) throw_format_error(source, "tensor name", "is empty");
    if (!entry.is_object()) throw_format_error(source, field, "entry is not an object");
    if (!entry.contains("dtype") || !entry["dtype"].is_string()) throw_format_error(source, field + " dtype", "missing or not a string");
    const std::string dtype_str = entry["dtype"].get<std::string>();
    const std::optional<Dtype> dtype = parse_dtype(dtype_str);
    if (!dtype) throw_format_error(source, field + " dtype", fmt::format("unknown dtype '{}'", dtype_str));
    if (!entry.contains("shape")) throw_format_error(source, field + " shape", "missing");
    std::vector<std::int64_t> shape = parse_shape(entry["shape"], source, field + " shape");
    if (!entry.contains("data_offsets")) throw_format_error(source, field + " data_offsets", "missing");
    const json& offs = entry["data_offsets"];
    if (!offs.is_array() || offs.size() != 2 || !offs[0].is_number_unsigned() || !offs[1].is_number_unsigned()) {
      throw_format_error(source, field + " data_offsets", fmt::format("{} is not [begin, end] with unsigned integers", offs.dump()));
    }
    const auto begin = offs[0].get<std::uint64_t>();
    const auto end = offs[1].get<std::uint64_t>();
    if (begin > end || end > buffer.size()) {
      throw_format_error(source, field + " data_offsets",
                         fmt::format("[{}, {}] is outside the {}-byte data buffer", begin, end, buffer.size()));
    }
    const std::optional<std::uint64_t> numel = checked_numel(shape, dtype_size(*dtype));
    if (!numel) throw_format_error(source, field + " shape", fmt::format("[{}] overflows 64-bit sizes", fmt::join(shape, ", ")));
    const std::uint64_t needed = *numel * dtype_size(*dtype);
    if (end - begin != needed) {
      throw_format_error(source, field + " data_offsets",
                         fmt::format("[{}, {}] holds {} bytes but {} [{}] needs {}", begin, end, end - begin, dtype_str,
                                     fmt::join(shape, ", "), needed));
    }
    ranges.push_back({begin, end, f.tensors_.size()});
    f.tensors_.push_back({name, *dtype, std::move(shape), buffer.subspan(begin, end - begin)});
  }

  // The buffer must be covered exactly: sorted by offset, each tensor starts where the last ended.
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::uint64_t expected = 0;
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    const Range& r = ranges[i];
    const std::string& name = f.tensors_[r.index].name;
    if (r.begin < expected) {
      throw_format_error(source, fmt::format("tensor '{}' data_offsets", name),
                         fmt::format("[{}, {}] overlaps tensor '{}' ending at {}", r.begin, r.end,
                                     f.tensors_[ranges[i - 1].index].name, expected));
    }
    if (r.begin > expected) {
      throw_format_error(source, fmt::format("tensor '{}' data_offsets", name),
                         fmt::format("[{}, {}] leaves a gap of {} bytes after offset {}", r.begin, r.end, r.begin - expected, expected));
    }
    expected = r.end;
  }
  if (expected != buffer.size()) {
    throw_format_error(source, "data buffer",
                       fmt::format("{} bytes, but the tensors cover only {} (trailing bytes)", buffer.size(), expected));
  }
  std::vector<SafetensorsTensor> ordered;
  ordered.reserve(ranges.size());
  for (const Range& r : ranges) ordered.push_back(std::move(f.tensors_[r.index]));
  f.tensors_ = std::move(ordered);
  return f;
}

const SafetensorsTensor* SafetensorsFile::find(const std::string& name) const {
  for (const SafetensorsTensor& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

void write_safetensors(const std::string& path, std::span<const SafetensorsTensor> tensors,
                       const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) {
    json meta = json::object();
    for (const auto& [key, value] : metadata) {
      if (!is_valid_utf8(key) || !is_valid_utf8(value)) {
        throw std::invalid_argument(fmt::format("{}: metadata '{}' is not valid UTF-8", path, printable(key)));
      }
      meta[key] = value;
    }
    header["__metadata__"] = std::move(meta);
  }
  std::uint64_t offset = 0;
  for (const SafetensorsTensor& t : tensors) {
    if (t.name.empty() || t.name == "__metadata__" || !is_valid_utf8(t.name)) {
      throw std::invalid_argument(fmt::format("{}: invalid tensor name '{}'", path, printable(t.name)));
    }
    if (header.contains(t.name)) throw std::invalid_argument(fmt::format("{}: duplicate tensor name '{}'", path, t.name));
    const std::optional<std::uint64_t> numel = checked_numel(t.shape, dtype_size(t.dtype));
    if (!numel || *numel * dtype_size(t.dtype) != t.data.size()) {
      throw std::invalid_argument(fmt::format("{}: tensor '{}' has {} bytes, shape [{}] of {} needs {}", path, t.name,
                                              t.data.size(), fmt::join(t.shape, ", "), dtype_name(t.dtype),
                                              numel ? *numel * dtype_size(t.dtype) : 0));
    }
    header[t.name] = {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.data.size()}}};
    offset += t.data.size();
  }
  std::string text = header.dump();
  text.resize(align_up(text.size(), 8), ' ');
  AtomicFileWriter out(path);
  const std::uint64_t n = text.size();
  out.write(&n, 8);
  out.write(text.data(), text.size());
  for (const SafetensorsTensor& t : tensors) out.write(t.data);
  out.commit();
}

}  // namespace mixpe::models
