// POSIX memory maps, temp-file-and-rename writers and UTF-8 validation for model file I/O.
#include "models/io/file_io.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

namespace mixpe::models {

void throw_format_error(std::string_view file, std::string_view field, std::string_view problem) {
  throw FormatError(fmt::format("{}: {}: {}", file, field, problem));
}

MappedFile::MappedFile(std::string path) : path_(std::move(path)) {
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_format_error(path_, "open", std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw_format_error(path_, "stat", std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw_format_error(path_, "open", "not a regular file");
  }
  size_ = static_cast<std::size_t>(st.st_size);
  if (size_ > 0) {
    void* addr = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (addr == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      throw_format_error(path_, "mmap", std::strerror(err));
    }
    addr_ = addr;
  }
  ::close(fd);  // the mapping keeps the file alive
}

MappedFile::~MappedFile() {
  if (addr_ != nullptr) ::munmap(addr_, size_);
}

AtomicFileWriter::AtomicFileWriter(std::string path) : path_(std::move(path)) {
  std::string pattern = path_ + ".tmp.XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  const int fd = ::mkstemp(buf.data());
  if (fd < 0) throw_format_error(path_, "create temporary output", std::strerror(errno));
  temp_path_ = buf.data();
  file_ = ::fdopen(fd, "wb");
  if (file_ == nullptr) {
    const int err = errno;
    ::close(fd);
    ::unlink(temp_path_.c_str());
    throw_format_error(path_, "open temporary output", std::strerror(err));
  }
}

AtomicFileWriter::~AtomicFileWriter() {
  if (file_ != nullptr) std::fclose(file_);
  if (!committed_) ::unlink(temp_path_.c_str());
}

void AtomicFileWriter::write(const void* data, std::size_t n) {
  if (n == 0) return;
  if (file_ == nullptr || std::fwrite(data, 1, n, file_) != n) {
    throw_format_error(path_, "write", file_ == nullptr ? "writer already closed" : std::strerror(errno));
  }
  written_ += n;
}

void AtomicFileWriter::write_zeros(std::size_t n) {
  static constexpr std::array<std::uint8_t, 4096> kZeros{};
  while (n > 0) {
    const std::size_t chunk = std::min(n, kZeros.size());
    write(kZeros.data(), chunk);
    n -= chunk;
  }
}

void AtomicFileWriter::pad_to(std::uint64_t alignment) { write_zeros(align_up(written_, alignment) - written_); }

void AtomicFileWriter::commit() {
  if (file_ == nullptr) throw_format_error(path_, "commit", "writer already closed");
  const bool ok = std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
  const int err = errno;
  std::fclose(file_);
  file_ = nullptr;
  if (!ok) throw_format_error(path_, "flush", std::strerror(err));
  // mkstemp creates the file 0600; give the output the usual permissions.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::chmod(temp_path_.c_str(), 0666 & ~mask);
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0) throw_format_error(path_, "rename", std::strerror(errno));
  committed_ = true;
}

bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    int extra = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;
    for (int j = 1; j <= extra; ++j) {
      const auto cc = static_cast<unsigned char>(s[i + j]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Reject overlong encodings, surrogates and code points beyond U+10FFFF.
    static constexpr std::uint32_t kMinForLength[4] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

std::string printable(std::string_view s, std::size_t max_len) {
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < max_len; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  if (s.size() > max_len) out += "...";
  return out;
}

}  // namespace mixpe::models
