// Clock, reset, optional VCD tracing and port bit-field access for the Verilated RTL tests.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <type_traits>

#include <verilated.h>
#include <verilated_vcd_c.h>

namespace mixpe::rtl_test {

// The n-th traced model of the process writes path with ".n" before the extension (n > 0).
inline std::string numbered_vcd_path(const std::string& path) {
  static int instances = 0;
  const int n = instances++;
  if (n == 0) return path;
  const std::size_t dot = path.rfind('.');
  const std::size_t slash = path.rfind('/');
  const bool has_ext = dot != std::string::npos && (slash == std::string::npos || dot > slash);
  std::string out = has_ext ? path.substr(0, dot) : path;
  out.append(".").append(std::to_string(n));
  if (has_ext) out.append(path, dot, std::string::npos);
  return out;
}

// Owns one Verilated model. Cycle t: set inputs, eval() and read outputs, then step() ends the
// cycle with a rising clock edge. Setting MIXPE_VCD=path.vcd dumps the waveform of each traced
// model the process builds: the first to path.vcd, later ones to path.1.vcd, path.2.vcd, ...
template <typename Model, bool kTraceable>
class Harness {
 public:
  explicit Harness(const char* vcd_path = std::getenv("MIXPE_VCD")) : ctx_(std::make_unique<VerilatedContext>()) {
    if constexpr (kTraceable) {
      if (vcd_path != nullptr) ctx_->traceEverOn(true);
    }
    top_ = std::make_unique<Model>(ctx_.get(), "top");
    if constexpr (kTraceable) {
      if (vcd_path != nullptr) {
        vcd_ = std::make_unique<VerilatedVcdC>();
        top_->trace(vcd_.get(), 99);
        vcd_->open(numbered_vcd_path(vcd_path).c_str());
      }
    }
    top_->clk_i = 0;
    top_->rst_ni = 0;
    top_->eval();
    step();
    step();
    top_->rst_ni = 1;
    top_->eval();
    cycle_ = 0;
  }
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;
  ~Harness() {
    if (vcd_) vcd_->close();
    top_->final();
  }

  Model& top() { return *top_; }
  Model* operator->() { return top_.get(); }
  void eval() { top_->eval(); }
  void step() {
    top_->clk_i = 1;
    top_->eval();
    dump();
    top_->clk_i = 0;
    top_->eval();
    dump();
    ++cycle_;
  }
  std::uint64_t cycle() const { return cycle_; }
  // $error/$fatal inside the RTL (drain overrun, misaligned drain) set this.
  bool rtl_error() const { return ctx_->gotError(); }
  // After this, an RTL $error is recorded in rtl_error() instead of aborting the process (for tests
  // that break a timing rule on purpose).
  void keep_running_on_error() { ctx_->fatalOnError(false); }

 private:
  void dump() {
    if (vcd_) vcd_->dump(time_);
    ++time_;
  }

  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Model> top_;
  std::unique_ptr<VerilatedVcdC> vcd_;
  std::uint64_t time_ = 0;
  std::uint64_t cycle_ = 0;
};

// Bit field [lsb, lsb + width) of a port, whether Verilator made it an integer or a VlWide.
template <typename Port>
void put_bits(Port& port, int lsb, int width, std::uint64_t value) {
  for (int i = 0; i < width; ++i) {
    const bool bit = (value >> i) & 1u;
    const int pos = lsb + i;
    if constexpr (std::is_integral_v<Port>) {
      const Port mask = static_cast<Port>(Port{1} << pos);
      port = bit ? static_cast<Port>(port | mask) : static_cast<Port>(port & ~mask);
    } else {
      const std::uint32_t mask = std::uint32_t{1} << (pos % 32);
      std::uint32_t& word = port.data()[pos / 32];
      word = bit ? (word | mask) : (word & ~mask);
    }
  }
}

template <typename Port>
std::uint64_t get_bits(const Port& port, int lsb, int width) {
  std::uint64_t value = 0;
  for (int i = 0; i < width; ++i) {
    const int pos = lsb + i;
    bool bit;
    if constexpr (std::is_integral_v<Port>) {
      bit = (static_cast<std::uint64_t>(port) >> pos) & 1u;
    } else {
      bit = (port.data()[pos / 32] >> (pos % 32)) & 1u;
    }
    value |= static_cast<std::uint64_t>(bit) << i;
  }
  return value;
}

// Two's complement value of a width-bit field.
inline std::int64_t sign_extend(std::uint64_t value, int width) {
  const std::uint64_t sign = std::uint64_t{1} << (width - 1);
  value &= (sign << 1) - 1;
  return static_cast<std::int64_t>(value ^ sign) - static_cast<std::int64_t>(sign);
}

}  // namespace mixpe::rtl_test
