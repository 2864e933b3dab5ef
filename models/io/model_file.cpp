// Format detection and the common tensor view over safetensors, GGUF and mixpe files.
#include "models/io/model_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace mixpe::models {
namespace {

// The first 8 bytes of a regular file (fewer if it is shorter); empty for directories.
std::string peek_magic(const std::string& path) {
  if (std::filesystem::is_directory(path)) return {};
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::array<char, 8> buf{};
  const ssize_t n = ::read(fd, buf.data(), buf.size());
  ::close(fd);
  return n > 0 ? std::string(buf.data(), static_cast<std::size_t>(n)) : std::string{};
}

std::optional<Dtype> plain_dtype_of(GgmlType t) {
  switch (t) {
    case GgmlType::kF32: return Dtype::kF32;
    case GgmlType::kF16: return Dtype::kF16;
    case GgmlType::kBF16: return Dtype::kBF16;
    case GgmlType::kF64: return Dtype::kF64;
    case GgmlType::kI8: return Dtype::kI8;
    case GgmlType::kI16: return Dtype::kI16;
    case GgmlType::kI32: return Dtype::kI32;
    case GgmlType::kI64: return Dtype::kI64;
    default: return std::nullopt;
  }
}

}  // namespace

std::string_view model_format_name(ModelFormat f) {
  switch (f) {
    case ModelFormat::kSafetensors: return "safetensors";
    case ModelFormat::kGguf: return "gguf";
    case ModelFormat::kMixpe: return "mixpe";
  }
  return "unknown";
}

Model Model::open(const std::string& path) {
  Model m;
  m.path_ = path;
  const std::string magic = peek_magic(path);
  if (magic.starts_with("GGUF")) {
    m.format_ = ModelFormat::kGguf;
    m.gguf_ = std::make_shared<GgufFile>(GgufFile::open(path));
    m.version_ = m.gguf_->version();
    for (const auto& [k, v] : m.gguf_->metadata()) m.metadata_.emplace_back(k, v.to_string());
    for (const GgufTensor& t : m.gguf_->tensors()) {
      ModelTensor mt;
      mt.name = t.name;
      mt.type = std::string(ggml_type_name(t.type));
      mt.shape = t.shape();
      mt.stored_bytes = t.data.size();
      mt.plain_dtype = plain_dtype_of(t.type);
      if (mt.plain_dtype) mt.plain_data = t.data;
      mt.gguf = &t;
      mt.dequantizable = ggml_type_dequantizable(t.type);
      m.tensors_.push_back(std::move(mt));
    }
  } else if (magic == std::string(kMixpeMagic.data(), kMixpeMagic.size())) {
    m.format_ = ModelFormat::kMixpe;
    m.mixpe_ = std::make_shared<MixpeFile>(MixpeFile::open(path));
    m.version_ = m.mixpe_->version();
    for (const auto& [k, v] : m.mixpe_->metadata().items()) m.metadata_.emplace_back(k, v.is_string() ? v.get<std::string>() : v.dump());
    for (const MixpeTensor& t : m.mixpe_->tensors()) {
      ModelTensor mt;
      mt.name = t.name;
      mt.shape = t.shape;
      mt.stored_bytes = t.stored_bytes();
      mt.mixpe = &t;
      if (t.kind == MixpeTensorKind::kPlain) {
        mt.type = std::string(dtype_name(t.dtype));
        mt.plain_dtype = t.dtype;
        mt.plain_data = t.data;
      } else {
        mt.type = fmt::format("W{} g{} {}", t.bits, t.group_size, t.symmetric ? "sym" : (t.mins.empty() ? "asym" : "min"));
      }
      m.tensors_.push_back(std::move(mt));
    }
  } else {
    m.format_ = ModelFormat::kSafetensors;
    m.st_ = std::make_shared<SafetensorsCheckpoint>(SafetensorsCheckpoint::open(path));
    for (const auto& [k, v] : m.st_->metadata()) m.metadata_.emplace_back(k, v);
    for (const SafetensorsTensor* t : m.st_->tensors()) {
      ModelTensor mt;
      mt.name = t->name;
      mt.type = std::string(dtype_name(t->dtype));
      mt.shape = t->shape;
      mt.stored_bytes = t->data.size();
      mt.plain_dtype = t->dtype;
      mt.plain_data = t->data;
      m.tensors_.push_back(std::move(mt));
    }
  }
  return m;
}

const ModelTensor* Model::find(const std::string& name) const {
  for (const ModelTensor& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

std::vector<float> Model::values(const ModelTensor& t) const {
  if (t.plain_dtype) return to_float32(*t.plain_dtype, t.plain_data);
  if (t.gguf != nullptr) return dequantize_gguf_tensor(*t.gguf, path_);
  if (t.mixpe != nullptr) return dequantize_mixpe_tensor(*t.mixpe, path_);
  throw_format_error(path_, fmt::format("tensor '{}'", t.name), "has no readable values");
}

}  // namespace mixpe::models
