// Memory system timing in plain C++: SRAM buffers (capacity, banks, access counts) and a small
// DRAM timing model (bandwidth, CAS/activate/precharge latency, per-bank row buffers, refresh).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/config.h"

namespace mixpe::sim {

struct SramStats {
  std::int64_t reads = 0, writes = 0;            // bank-row accesses (one per cycle of transfer)
  std::int64_t bits_read = 0, bits_written = 0;
  std::int64_t peak_bytes_used = 0;              // highest byte address touched
};

class SramBuffer {
 public:
  SramBuffer(std::string name, const BufferConfig& cfg) : name_(std::move(name)), cfg_(cfg) {}
  const std::string& name() const { return name_; }
  const BufferConfig& config() const { return cfg_; }
  // Cycles to move `bits` through the banks: ceil(bits / (banks * bank_width_bits)).
  std::int64_t access_cycles(std::int64_t bits) const;
  // Throws std::out_of_range naming the buffer, range and capacity when it does not fit.
  void check_range(std::int64_t addr, std::int64_t bytes, const std::string& what) const;
  void record_read(std::int64_t bits);
  void record_write(std::int64_t bits);
  void touch(std::int64_t addr, std::int64_t bytes);
  const SramStats& stats() const { return stats_; }

 private:
  std::string name_;
  BufferConfig cfg_;
  SramStats stats_;
};

struct DramStats {
  std::int64_t read_bursts = 0, write_bursts = 0;
  std::int64_t bits_read = 0, bits_written = 0;
  std::int64_t row_hits = 0, row_misses = 0, row_conflicts = 0;  // miss: bank closed; conflict: other row open
  std::int64_t activates = 0;        // rows opened (row_misses + row_conflicts); each costs DramConfig::activate_pj
  std::int64_t refresh_stalls = 0;   // bursts delayed by a refresh window
  std::int64_t busy_ps = 0;          // time the data bus carried data
};

// Timing rules (docs/sim.md derives the test cases from them):
//  * address -> (row, bank, column): column = addr mod row_bytes, bank = (addr / row_bytes) mod
//    banks, row = addr / (row_bytes * banks); a transfer is split into aligned bursts of
//    bus_bits/8 * burst_length bytes, served in order;
//  * a burst's command issues at max(request time, bank ready); a hit issues CAS at once, a
//    closed bank adds tRCD, another open row adds tRP + tRCD; data starts at CAS + tCL or when
//    the bus frees, whichever is later, and takes burst_length / data_rate clocks;
//  * the bank is ready for its next CAS one burst time after this CAS (tCCD = burst time);
//  * refresh: all banks are blocked during [i tREFI, i tREFI + tRFC) for i >= 1 and every row is
//    closed afterwards; a command falling into the window waits for its end.
class DramModel {
 public:
  explicit DramModel(const DramConfig& cfg);
  // Time (ps) the last byte of the transfer has crossed the bus, for a request issued at now_ps.
  std::int64_t access(std::int64_t now_ps, std::uint64_t addr, std::uint64_t bytes, bool write);
  const DramStats& stats() const { return stats_; }
  const DramConfig& config() const { return cfg_; }
  std::int64_t burst_bytes() const { return burst_bytes_; }
  std::int64_t burst_ps() const { return burst_ps_; }
  double peak_bandwidth_gbps() const;  // GB/s = 1e9 bytes/s

 private:
  DramConfig cfg_;
  std::int64_t burst_bytes_, burst_ps_, tcl_ps_, trcd_ps_, trp_ps_, trfc_ps_, trefi_ps_;
  std::int64_t bus_free_ps_ = 0;
  std::vector<std::int64_t> open_row_;      // -1: closed
  std::vector<std::int64_t> bank_ready_ps_;
  std::vector<std::int64_t> bank_refresh_epoch_;
  DramStats stats_;
};

// Row activations of a sequence of transfers for the analytic executor: the same address map and
// open-row policy as DramModel (a transfer opens every row_bytes chunk it spans whose bank does not
// already hold that row), with time supplied by the caller only to close all rows at each refresh.
class DramRowTracker {
 public:
  explicit DramRowTracker(const DramConfig& cfg) : cfg_(cfg), open_row_(static_cast<std::size_t>(cfg.banks), -1) {}
  // Activations this transfer causes.
  std::int64_t access(std::uint64_t addr, std::uint64_t bytes);
  // Moves time to `now_ps` (non-decreasing); a refresh boundary (i tREFI, i >= 1) passed closes every row.
  void advance_to(std::int64_t now_ps);

 private:
  DramConfig cfg_;
  std::vector<std::int64_t> open_row_;  // -1: closed
  std::int64_t refresh_epoch_ = 0;
};

}  // namespace mixpe::sim
