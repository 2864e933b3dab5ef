// safetensors files: memory-mapped reader, validating parser and atomic writer.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "models/io/dtype.h"
#include "models/io/file_io.h"

namespace mixpe::models {

// One tensor: `data` points into the mapped file (reader) or the caller's buffer (writer).
struct SafetensorsTensor {
  std::string name;
  Dtype dtype = Dtype::kF32;
  std::vector<std::int64_t> shape;  // PyTorch order, outermost first
  std::span<const std::uint8_t> data;
};

// Layout (https://huggingface.co/docs/safetensors): u64 little-endian header length N, N bytes of
// UTF-8 JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}},
// then the data buffer, which the tensors must cover exactly, without gaps or overlaps.
class SafetensorsFile {
 public:
  // Maps and validates a file; throws FormatError naming the file and field.
  static SafetensorsFile open(const std::string& path);
  // Validates bytes the caller keeps alive; `source` names them in errors.
  static SafetensorsFile parse(std::span<const std::uint8_t> bytes, const std::string& source);

  const std::string& source() const { return source_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // In data-buffer order.
  const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }
  const SafetensorsTensor* find(const std::string& name) const;
  std::uint64_t header_length() const { return header_length_; }

 private:
  std::string source_;
  std::shared_ptr<MappedFile> file_;
  std::map<std::string, std::string> metadata_;
  std::vector<SafetensorsTensor> tensors_;
  std::uint64_t header_length_ = 0;
};

// Rejects headers above this size as the reference implementation does (100 MB).
inline constexpr std::uint64_t kSafetensorsMaxHeader = 100'000'000;

// Writes tensors in the given order (header padded with spaces to a multiple of 8 bytes so the
// data buffer is 8-byte aligned) through a temporary file renamed into place. Throws
// std::invalid_argument for duplicate or empty names, sizes that do not match shapes, or
// non-UTF-8 names.
void write_safetensors(const std::string& path, std::span<const SafetensorsTensor> tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace mixpe::models
