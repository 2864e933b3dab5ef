// mixpe format reading (every segment checked against the file and each other) and writing.
#include "models/io/mixpe_format.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <set>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "quant/weights.h"

namespace mixpe::models {
namespace {

using nlohmann::json;

struct Segment {
  std::uint64_t offset, size;
  std::string what;
};

class HeaderReader {
 public:
  HeaderReader(const std::string& source, std::span<const std::uint8_t> data) : source_(source), data_(data) {}

  const json& member(const json& obj, const char* key, const std::string& field) const {
    if (!obj.contains(key)) throw_format_error(source_, field + " " + key, "missing");
    return obj[key];
  }
  std::int64_t integer(const json& obj, const char* key, const std::string& field, std::int64_t lo, std::int64_t hi) const {
    const json& v = member(obj, key, field);
    if (!v.is_number_integer() || v.get<std::int64_t>() < lo || v.get<std::int64_t>() > hi) {
      throw_format_error(source_, field + " " + key, fmt::format("{} is not an integer in [{}, {}]", v.dump(), lo, hi));
    }
    return v.get<std::int64_t>();
  }
  std::span<const std::uint8_t> segment(const json& obj, const char* key, const std::string& field, std::uint64_t expected) {
    const json& v = member(obj, key, field);
    const std::string f = field + " " + key;
    if (!v.is_array() || v.size() != 2 || !v[0].is_number_unsigned() || !v[1].is_number_unsigned()) {
      throw_format_error(source_, f, fmt::format("{} is not [offset, size]", v.dump()));
    }
    const auto offset = v[0].get<std::uint64_t>(), size = v[1].get<std::uint64_t>();
    if (offset % kMixpeAlignment != 0) throw_format_error(source_, f, fmt::format("offset {} is not a multiple of {}", offset, kMixpeAlignment));
    if (offset > data_.size() || size > data_.size() - offset) {
      throw_format_error(source_, f,
                         fmt::format("[{}, {}) runs past the end of the {}-byte data section (truncated file?)", offset,
                                     offset + size, data_.size()));
    }
    if (size != expected) throw_format_error(source_, f, fmt::format("size {} but the header fields imply {}", size, expected));
    segments_.push_back({offset, size, f});
    return data_.subspan(offset, size);
  }
  void check_overlaps() {
    std::sort(segments_.begin(), segments_.end(), [](const Segment& a, const Segment& b) { return a.offset < b.offset; });
    for (std::size_t i = 1; i < segments_.size(); ++i) {
      const Segment& prev = segments_[i - 1];
      if (segments_[i].offset < prev.offset + prev.size) {
        throw_format_error(source_, segments_[i].what,
                           fmt::format("offset {} overlaps {} at [{}, {})", segments_[i].offset, prev.what, prev.offset, prev.offset + prev.size));
      }
    }
  }

 private:
  const std::string& source_;
  std::span<const std::uint8_t> data_;
  std::vector<Segment> segments_;
};

json parse_json(std::string_view text, const std::string& source) {
  auto callback = [&](int depth, json::parse_event_t, json&) {
    if (depth > 64) throw_format_error(source, "header JSON", "nested deeper than 64");
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), callback);
  } catch (const json::exception& e) {
    throw_format_error(source, "header JSON", e.what());
  }
}

}  // namespace

quant::PackedWeights MixpeTensor::packed() const {
  quant::PackedWeights p;
  p.n = static_cast<int>(shape.at(0));
  p.k = static_cast<int>(shape.at(1));
  p.bits = bits;
  p.group_size = group_size;
  p.symmetric = symmetric;
  p.codes.assign(codes.begin(), codes.end());
  p.scales.resize(scales.size() / 2);
  if (!scales.empty()) std::memcpy(p.scales.data(), scales.data(), scales.size());
  p.zeros.assign(zeros.begin(), zeros.end());
  p.mins.resize(mins.size() / 2);
  if (!mins.empty()) std::memcpy(p.mins.data(), mins.data(), mins.size());
  return p;
}

bool is_mixpe_file(std::span<const std::uint8_t> bytes) {
  return bytes.size() >= kMixpeMagic.size() && std::memcmp(bytes.data(), kMixpeMagic.data(), kMixpeMagic.size()) == 0;
}

MixpeFile MixpeFile::open(const std::string& path) {
  auto file = std::make_shared<MappedFile>(path);
  MixpeFile f = parse(file->bytes(), path);
  f.file_ = std::move(file);
  return f;
}

MixpeFile MixpeFile::parse(std::span<const std::uint8_t> bytes, const std::string& source) {
  MixpeFile f;
  f.source_ = source;
  MixpePreamble pre{};
  if (bytes.size() < sizeof(pre)) throw_format_error(source, "preamble", fmt::format("file is {} bytes, shorter than the 24-byte preamble", bytes.size()));
  std::memcpy(&pre, bytes.data(), sizeof(pre));
  if (pre.magic != kMixpeMagic) {
    throw_format_error(source, "magic", fmt::format("'{}' is not \"MIXPEMDL\"", printable({pre.magic.data(), pre.magic.size()})));
  }
  if (pre.version != kMixpeVersion) {
    throw_format_error(source, "version", fmt::format("{} is not supported (this reader knows version {})", pre.version, kMixpeVersion));
  }
  if (pre.flags != 0) throw_format_error(source, "flags", fmt::format("{:#x} has reserved bits set", pre.flags));
  if (pre.header_length > kMixpeMaxHeader || pre.header_length > bytes.size() - sizeof(pre)) {
    throw_format_error(source, "header length",
                       fmt::format("{} bytes, but the file has {} after the preamble (truncated?)", pre.header_length, bytes.size() - sizeof(pre)));
  }
  f.version_ = pre.version;
  const json header = parse_json({reinterpret_cast<const char*>(bytes.data()) + sizeof(pre), pre.header_length}, source);
  if (!header.is_object()) throw_format_error(source, "header JSON", "is not an object");
  const std::uint64_t data_start = align_up(sizeof(pre) + pre.header_length, kMixpeAlignment);
  const std::span<const std::uint8_t> data = data_start <= bytes.size() ? bytes.subspan(data_start) : std::span<const std::uint8_t>{};
  HeaderReader r(source, data);

  if (header.contains("metadata")) {
    if (!header["metadata"].is_object()) throw_format_error(source, "metadata", "is not an object");
    f.metadata_ = header["metadata"];
  }
  const json& tensors = r.member(header, "tensors", "header");
  if (!tensors.is_array()) throw_format_error(source, "tensors", "is not an array");
  std::set<std::string> names;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const json& e = tensors[i];
    std::string field = fmt::format("tensors[{}]", i);
    if (!e.is_object()) throw_format_error(source, field, "is not an object");
    MixpeTensor t;
    const json& name = r.member(e, "name", field);
    if (!name.is_string() || name.get<std::string>().empty()) throw_format_error(source, field + " name", "is not a non-empty string");
    t.name = name.get<std::string>();
    if (!names.insert(t.name).second) throw_format_error(source, field + " name", fmt::format("duplicate tensor '{}'", t.name));
    field = fmt::format("tensor '{}'", t.name);
    const json& dtype = r.member(e, "dtype", field);
    const std::optional<Dtype> d = dtype.is_string() ? parse_dtype(dtype.get<std::string>()) : std::nullopt;
    if (!d) throw_format_error(source, field + " dtype", fmt::format("unknown dtype {}", dtype.dump()));
    t.dtype = *d;
    const json& shape = r.member(e, "shape", field);
    if (!shape.is_array() || shape.size() > 8) throw_format_error(source, field + " shape", fmt::format("{} is not an array of at most 8 dimensions", shape.dump()));
    for (const json& dim : shape) {
      if (!dim.is_number_unsigned() || dim.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
        throw_format_error(source, field + " shape", fmt::format("dimension {} is not a non-negative integer", dim.dump()));
      }
      t.shape.push_back(dim.get<std::int64_t>());
    }
    const json& kind = r.member(e, "kind", field);
    if (kind == "plain") {
      t.kind = MixpeTensorKind::kPlain;
      const std::optional<std::uint64_t> numel = checked_numel(t.shape, dtype_size(t.dtype));
      if (!numel) throw_format_error(source, field + " shape", fmt::format("[{}] overflows 64-bit sizes", fmt::join(t.shape, ", ")));
      t.data = r.segment(e, "data", field, *numel * dtype_size(t.dtype));
    } else if (kind == "quantized") {
      t.kind = MixpeTensorKind::kQuantized;
      if (t.shape.size() != 2 || t.shape[0] < 1 || t.shape[1] < 1 || t.shape[0] > INT_MAX || t.shape[1] > INT_MAX) {
        throw_format_error(source, field + " shape", fmt::format("[{}] is not [N, K] with 1 <= N, K <= {}", fmt::join(t.shape, ", "), INT_MAX));
      }
      t.bits = static_cast<int>(r.integer(e, "bits", field, 1, 8));
      t.group_size = static_cast<int>(r.integer(e, "group_size", field, 1, INT_MAX));
      const json& sym = r.member(e, "symmetric", field);
      if (!sym.is_boolean()) throw_format_error(source, field + " symmetric", fmt::format("{} is not a boolean", sym.dump()));
      t.symmetric = sym.get<bool>();
      try {
        quant::WeightQuantConfig{t.bits, t.group_size, t.symmetric}.validate(static_cast<int>(t.shape[1]), t.name);
      } catch (const std::invalid_argument& ex) {
        throw_format_error(source, field + " bits/group_size", ex.what());
      }
      const auto n = static_cast<std::uint64_t>(t.shape[0]);
      const auto k = static_cast<std::uint64_t>(t.shape[1]);
      const std::uint64_t groups = n * (k / static_cast<std::uint64_t>(t.group_size));
      t.codes = r.segment(e, "codes", field, (k * t.bits + 7) / 8 * n);
      t.scales = r.segment(e, "scales", field, 2 * groups);
      t.zeros = r.segment(e, "zeros", field, groups);
      if (e.contains("mins")) {
        if (t.symmetric) throw_format_error(source, field + " mins", "group minimums need unsigned (asymmetric) codes");
        t.mins = r.segment(e, "mins", field, 2 * groups);
      }
      const int zmax = t.symmetric || !t.mins.empty() ? 0 : (1 << t.bits) - 1;
      for (std::size_t g = 0; g < t.zeros.size(); ++g) {
        if (t.zeros[g] > zmax) {
          throw_format_error(source, field + " zeros",
                             fmt::format("group {} has zero point {}, above {} for {}-bit {} weights", g, t.zeros[g], zmax, t.bits,
                                         t.symmetric ? "symmetric" : (t.mins.empty() ? "asymmetric" : "group-minimum")));
        }
      }
    } else {
      throw_format_error(source, field + " kind", fmt::format("{} is neither \"plain\" nor \"quantized\"", kind.dump()));
    }
    f.tensors_.push_back(std::move(t));
  }
  r.check_overlaps();
  return f;
}

const MixpeTensor* MixpeFile::find(const std::string& name) const {
  for (const MixpeTensor& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

std::vector<float> dequantize_mixpe_tensor(const MixpeTensor& t, const std::string& source) {
  if (t.kind == MixpeTensorKind::kPlain) return to_float32(t.dtype, t.data);
  try {
    return quant::dequantize_weights_f32(quant::unpack_weights(t.packed()));
  } catch (const std::invalid_argument& e) {
    throw_format_error(source, fmt::format("tensor '{}'", t.name), e.what());
  }
}

void write_mixpe(const std::string& path, const json& metadata, std::span<const MixpeTensorToWrite> tensors) {
  if (!metadata.is_object()) throw std::invalid_argument(fmt::format("{}: metadata must be a JSON object", path));
  json list = json::array();
  std::set<std::string> names;
  std::uint64_t offset = 0;
  auto place = [&](std::uint64_t size) {
    const json seg = {offset, size};
    offset = align_up(offset + size, kMixpeAlignment);
    return seg;
  };
  for (const MixpeTensorToWrite& t : tensors) {
    if (t.name.empty() || !is_valid_utf8(t.name)) throw std::invalid_argument(fmt::format("{}: invalid tensor name '{}'", path, printable(t.name)));
    if (!names.insert(t.name).second) throw std::invalid_argument(fmt::format("{}: duplicate tensor '{}'", path, t.name));
    json e = {{"name", t.name}, {"dtype", dtype_name(t.dtype)}, {"shape", t.shape}};
    if (t.packed == nullptr) {
      const std::optional<std::uint64_t> numel = checked_numel(t.shape, dtype_size(t.dtype));
      if (!numel || *numel * dtype_size(t.dtype) != t.data.size()) {
        throw std::invalid_argument(fmt::format("{}: tensor '{}' has {} bytes, {} [{}] needs {}", path, t.name, t.data.size(),
                                                dtype_name(t.dtype), fmt::join(t.shape, ", "), numel ? *numel * dtype_size(t.dtype) : 0));
      }
      e["kind"] = "plain";
      e["data"] = place(t.data.size());
    } else {
      const quant::PackedWeights& p = *t.packed;
      if (t.shape != std::vector<std::int64_t>{p.n, p.k}) {
        throw std::invalid_argument(fmt::format("{}: tensor '{}' shape [{}] differs from its packed weights [{}, {}]", path, t.name,
                                                fmt::join(t.shape, ", "), p.n, p.k));
      }
      quant::unpack_weights(p);  // validates every buffer size and value before anything is written
      e["kind"] = "quantized";
      e["bits"] = p.bits;
      e["group_size"] = p.group_size;
      e["symmetric"] = p.symmetric;
      e["codes"] = place(p.codes.size());
      e["scales"] = place(2 * p.scales.size());
      e["zeros"] = place(p.zeros.size());
      if (!p.mins.empty()) e["mins"] = place(2 * p.mins.size());
    }
    list.push_back(std::move(e));
  }
  std::string text;
  try {
    text = json{{"metadata", metadata}, {"tensors", std::move(list)}}.dump();
  } catch (const json::exception& e) {
    throw std::invalid_argument(fmt::format("{}: metadata cannot be encoded: {}", path, e.what()));
  }

  AtomicFileWriter out(path);
  const MixpePreamble pre{kMixpeMagic, kMixpeVersion, 0, text.size()};
  out.write(&pre, sizeof(pre));
  out.write(text.data(), text.size());
  out.pad_to(kMixpeAlignment);
  const std::uint64_t start = out.bytes_written();
  auto put = [&](const void* data, std::size_t size) {
    out.write(data, size);
    const std::uint64_t rel = out.bytes_written() - start;
    out.write_zeros(align_up(rel, kMixpeAlignment) - rel);
  };
  for (const MixpeTensorToWrite& t : tensors) {
    if (t.packed == nullptr) {
      put(t.data.data(), t.data.size());
    } else {
      put(t.packed->codes.data(), t.packed->codes.size());
      put(t.packed->scales.data(), 2 * t.packed->scales.size());
      put(t.packed->zeros.data(), t.packed->zeros.size());
      if (!t.packed->mins.empty()) put(t.packed->mins.data(), 2 * t.packed->mins.size());
    }
  }
  out.commit();
}

}  // namespace mixpe::models
