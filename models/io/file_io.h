// Memory-mapped input files, atomic output files and the error type for malformed model files.
#pragma once

#include <bit>
#include <cstdint>
#include <cstdio>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace mixpe::models {

static_assert(std::endian::native == std::endian::little,
              "model file I/O reads little-endian fields with memcpy; a big-endian host needs byte swaps");

// A model file that cannot be read: the message names the file, the field and the bad value.
class FormatError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws FormatError("<file>: <field>: <problem>").
[[noreturn]] void throw_format_error(std::string_view file, std::string_view field, std::string_view problem);

// A read-only POSIX memory map of a whole file (an empty file maps to an empty span).
class MappedFile {
 public:
  explicit MappedFile(std::string path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const std::uint8_t> bytes() const { return {static_cast<const std::uint8_t*>(addr_), size_}; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  void* addr_ = nullptr;
  std::size_t size_ = 0;
};

// Writes a file under a temporary name in the destination directory and renames it into place on
// commit(), so readers never see a half-written file; without commit() the temporary is removed.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::string path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void write(const void* data, std::size_t n);
  void write(std::span<const std::uint8_t> data) { write(data.data(), data.size()); }
  void write_zeros(std::size_t n);
  // Pads with zero bytes up to the next multiple of `alignment`.
  void pad_to(std::uint64_t alignment);
  std::uint64_t bytes_written() const { return written_; }
  void commit();

 private:
  std::string path_;
  std::string temp_path_;
  std::FILE* file_ = nullptr;
  std::uint64_t written_ = 0;
  bool committed_ = false;
};

bool is_valid_utf8(std::string_view s);

// Renders bytes for an error message: printable ASCII as-is, everything else as \xNN, truncated.
std::string printable(std::string_view s, std::size_t max_len = 64);

constexpr std::uint64_t align_up(std::uint64_t v, std::uint64_t alignment) {
  return (v + alignment - 1) / alignment * alignment;
}

}  // namespace mixpe::models
