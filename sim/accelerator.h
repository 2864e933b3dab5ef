// The SystemC accelerator: a controller issuing the program to DMA-load, DMA-store, array and
// vector units over instruction queues, with buffer/DRAM-range scoreboarding so DMA overlaps compute.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/config.h"
#include "sim/isa.h"
#include "sim/stats.h"

namespace mixpe::sim {

struct RunOptions {
  std::string vcd_path;    // write a VCD of the controller/unit signals here (without ".vcd"); empty: none
  std::string tech_table;  // overrides cfg.tech (a name or a .yaml path); empty: cfg.tech
  // Called as instructions complete (about every 1% of the program, and at the end).
  std::function<void(std::int64_t done, std::int64_t total)> progress;
  // An array model supplied by the caller instead of cfg.array_model's registry entry: the
  // Verilated RTL array for co-simulation (tests/rtl/rtl_array_model.h).
  std::function<std::unique_ptr<ArrayModel>()> array_model;
};

struct InstructionTiming {  // cycle the unit started and finished each instruction
  std::int64_t issue = 0, start = 0, end = 0;
};

struct RunResult {
  RunStats stats;
  std::vector<InstructionTiming> timing;                          // per instruction
  std::map<std::size_t, std::vector<std::vector<float>>> outputs;  // GEMM index -> per-tile [R][C] results
  nlohmann::json stats_json() const { return to_json(stats); }
};

// Validates, elaborates, simulates and reports one program. SystemC elaborates once per process,
// so this may be called once per process; a second call throws std::logic_error.
// Config/program errors throw std::invalid_argument naming the instruction, field and value.
RunResult run_program(const AcceleratorConfig& cfg, const Program& program, const RunOptions& options = {});

}  // namespace mixpe::sim
