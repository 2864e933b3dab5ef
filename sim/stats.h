// Run statistics per component, cycle attribution, energy, and the JSON dump (docs/sim.md schema).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/config.h"
#include "sim/energy.h"
#include "sim/memory.h"

namespace mixpe::sim {

struct ArrayUnitStats {
  std::int64_t gemms = 0, tiles = 0;
  std::int64_t busy_cycles = 0;          // array occupied (incl. its drain and buffer stalls)
  std::int64_t drain_stall_cycles = 0;   // feeder bubbles because g < R (output-stationary)
  std::int64_t load_stall_cycles = 0;    // token slots idle while weights load (weight-stationary)
  std::int64_t buffer_stall_cycles = 0;  // waiting for SRAM bandwidth beyond the array's time
  std::int64_t pe_macs = 0, dequant_ops = 0, edge_ops = 0;
  std::map<std::string, std::int64_t> pe_macs_by_mode;  // key: array mode name
};

struct DmaUnitStats {
  std::int64_t transfers = 0, bytes = 0, busy_cycles = 0;
};

struct VectorUnitStats {
  std::int64_t ops = 0, element_ops = 0, busy_cycles = 0;
};

// Every cycle of the run lands in exactly one bucket, by priority: the array computing, the array
// stalled on the group drain, the array stalled on buffer bandwidth, the vector unit, DMA/DRAM,
// else idle (issue and dependency waits).
struct CycleBreakdown {
  std::int64_t total = 0, compute = 0, drain_stall = 0, buffer_stall = 0, load_stall = 0, vector = 0, dram_stall = 0, idle = 0;
};

struct EnergyBreakdown {  // picojoules
  double pe = 0, edge = 0, dequant = 0, vector = 0, wbuf = 0, ibuf = 0, obuf = 0, dram = 0, leakage = 0;
  double total() const { return pe + edge + dequant + vector + wbuf + ibuf + obuf + dram + leakage; }
  EnergyBreakdown& operator+=(const EnergyBreakdown& o) {
    pe += o.pe, edge += o.edge, dequant += o.dequant, vector += o.vector;
    wbuf += o.wbuf, ibuf += o.ibuf, obuf += o.obuf, dram += o.dram, leakage += o.leakage;
    return *this;
  }
};

struct RunStats {
  std::string config_name;
  int rows = 0, cols = 0;
  double clock_mhz = 0;
  std::int64_t instructions = 0;
  CycleBreakdown cycles;
  ArrayUnitStats array;
  DmaUnitStats dma_load, dma_store;
  VectorUnitStats vector;
  SramStats wbuf, ibuf, obuf;
  DramStats dram;
  EnergyBreakdown energy;
  double utilization() const;  // PE MACs / (R C total cycles)
  double seconds() const { return static_cast<double>(cycles.total) / (clock_mhz * 1e6); }
};

// Counts x the technology table, plus leakage (per PE and per SRAM KiB) x run time; DRAM from the
// config's DramConfig: bits x per-bit energy + activates x activate_pj + background_mw x run time.
EnergyBreakdown compute_energy(const RunStats& s, const AcceleratorConfig& cfg, const TechTable& tech);

nlohmann::json to_json(const RunStats& s);
inline constexpr const char* kStatsSchema = "mixpe.sim.stats/1";

}  // namespace mixpe::sim
