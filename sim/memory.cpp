// SRAM buffer accounting and the DRAM timing model.
#include "sim/memory.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace mixpe::sim {

std::int64_t SramBuffer::access_cycles(std::int64_t bits) const {
  const std::int64_t w = cfg_.bits_per_cycle();
  return (bits + w - 1) / w;
}

void SramBuffer::check_range(std::int64_t addr, std::int64_t bytes, const std::string& what) const {
  if (addr < 0 || bytes < 0 || addr + bytes > cfg_.size_bytes())
    throw std::out_of_range(fmt::format("{}: {} bytes at {} in {} exceed its capacity of {} bytes ({} KiB)", what, bytes, addr,
                                        name_, cfg_.size_bytes(), cfg_.size_kib));
}

void SramBuffer::record_read(std::int64_t bits) {
  stats_.reads += access_cycles(bits);
  stats_.bits_read += bits;
}

void SramBuffer::record_write(std::int64_t bits) {
  stats_.writes += access_cycles(bits);
  stats_.bits_written += bits;
}

void SramBuffer::touch(std::int64_t addr, std::int64_t bytes) { stats_.peak_bytes_used = std::max(stats_.peak_bytes_used, addr + bytes); }

namespace {
std::int64_t ns_to_ps(double ns) { return static_cast<std::int64_t>(std::llround(ns * 1000.0)); }
}  // namespace

DramModel::DramModel(const DramConfig& cfg) : cfg_(cfg) {
  const double tck_ps = 1e6 / cfg.clock_mhz;
  burst_bytes_ = static_cast<std::int64_t>(cfg.bus_bits / 8) * cfg.burst_length;
  burst_ps_ = static_cast<std::int64_t>(std::llround(tck_ps * cfg.burst_length / cfg.data_rate));
  tcl_ps_ = ns_to_ps(cfg.tcl_ns);
  trcd_ps_ = ns_to_ps(cfg.trcd_ns);
  trp_ps_ = ns_to_ps(cfg.trp_ns);
  trfc_ps_ = ns_to_ps(cfg.trfc_ns);
  trefi_ps_ = ns_to_ps(cfg.trefi_ns);
  open_row_.assign(cfg.banks, -1);
  bank_ready_ps_.assign(cfg.banks, 0);
  bank_refresh_epoch_.assign(cfg.banks, 0);
  assert(burst_ps_ > 0 && "burst time must be positive");
}

double DramModel::peak_bandwidth_gbps() const { return static_cast<double>(burst_bytes_) / static_cast<double>(burst_ps_) * 1000.0; }

std::int64_t DramModel::access(std::int64_t now_ps, std::uint64_t addr, std::uint64_t bytes, bool write) {
  if (bytes == 0) return now_ps;
  const std::uint64_t bb = static_cast<std::uint64_t>(burst_bytes_);
  const std::uint64_t first = addr / bb, last = (addr + bytes - 1) / bb;
  std::int64_t done = now_ps;
  for (std::uint64_t b = first; b <= last; ++b) {
    const std::uint64_t a = b * bb;
    const std::uint64_t row_index = a / static_cast<std::uint64_t>(cfg_.row_bytes);
    const int bank = static_cast<int>(row_index % static_cast<std::uint64_t>(cfg_.banks));
    const std::int64_t row = static_cast<std::int64_t>(row_index / static_cast<std::uint64_t>(cfg_.banks));
    std::int64_t cmd = std::max(now_ps, bank_ready_ps_[bank]);
    if (trefi_ps_ > 0) {
      const std::int64_t epoch = cmd / trefi_ps_;
      if (epoch >= 1 && cmd < epoch * trefi_ps_ + trfc_ps_) {
        cmd = epoch * trefi_ps_ + trfc_ps_;
        ++stats_.refresh_stalls;
      }
      if (epoch > bank_refresh_epoch_[bank]) {  // a refresh since the last use closed the row
        open_row_[bank] = -1;
        bank_refresh_epoch_[bank] = epoch;
      }
    }
    std::int64_t cas = cmd;
    if (open_row_[bank] == row) {
      ++stats_.row_hits;
    } else if (open_row_[bank] < 0) {
      ++stats_.row_misses;
      ++stats_.activates;
      cas += trcd_ps_;
    } else {
      ++stats_.row_conflicts;
      ++stats_.activates;
      cas += trp_ps_ + trcd_ps_;
    }
    open_row_[bank] = row;
    bank_ready_ps_[bank] = cas + burst_ps_;
    const std::int64_t data = std::max(cas + tcl_ps_, bus_free_ps_);
    bus_free_ps_ = data + burst_ps_;
    stats_.busy_ps += burst_ps_;
    done = bus_free_ps_;
    if (write) {
      ++stats_.write_bursts;
    } else {
      ++stats_.read_bursts;
    }
  }
  // Energy counts the bytes asked for, not the padding of partial bursts.
  (write ? stats_.bits_written : stats_.bits_read) += static_cast<std::int64_t>(bytes) * 8;
  return done;
}

std::int64_t DramRowTracker::access(std::uint64_t addr, std::uint64_t bytes) {
  if (bytes == 0) return 0;
  const auto row_bytes = static_cast<std::uint64_t>(cfg_.row_bytes);
  const auto banks = static_cast<std::uint64_t>(cfg_.banks);
  std::int64_t opened = 0;
  // Chunk c = addr / row_bytes lives in bank c mod banks, row c / banks (DramModel's map).
  for (std::uint64_t c = addr / row_bytes; c <= (addr + bytes - 1) / row_bytes; ++c) {
    std::int64_t& open = open_row_[static_cast<std::size_t>(c % banks)];
    const auto row = static_cast<std::int64_t>(c / banks);
    if (open != row) {
      open = row;
      ++opened;
    }
  }
  return opened;
}

void DramRowTracker::advance_to(std::int64_t now_ps) {
  const std::int64_t trefi_ps = ns_to_ps(cfg_.trefi_ns);
  if (trefi_ps <= 0 || now_ps / trefi_ps <= refresh_epoch_) return;
  refresh_epoch_ = now_ps / trefi_ps;
  std::fill(open_row_.begin(), open_row_.end(), -1);
}

}  // namespace mixpe::sim
