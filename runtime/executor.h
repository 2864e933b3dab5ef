// Compiles a model workload to one accelerator program and runs it on the analytic (closed-form)
// or the cycle (SystemC) executor, with per-op latency and energy.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "models/llm/workload.h"
#include "runtime/mapper.h"
#include "sim/config.h"
#include "sim/isa.h"
#include "sim/stats.h"

namespace mixpe::runtime {

enum class ExecutorKind { kAnalytic, kCycle };
const char* to_string(ExecutorKind e);
ExecutorKind parse_executor(const std::string& name);  // throws std::invalid_argument naming it

struct OpResult {
  models::Op op;
  std::string mapping;            // tiling and loop order, for GEMMs
  std::int64_t first_instr = 0, end_instr = 0;  // [first, end) in the program
  std::int64_t cycles = 0;        // latency attributed to this op
  std::int64_t dram_bytes = 0;
  sim::RunStats counts;           // event counts of this op's instructions (cycles.total = `cycles`)
  sim::EnergyBreakdown energy;    // picojoules, counts x technology table + leakage x cycles
};

struct SimulationReport {
  std::string hw, model, executor;
  models::WorkloadSpec spec;
  std::string description;        // what one step is, e.g. "prefill, batch 1, 64 tokens per sequence"
  std::string unit = "token";     // what `tokens` counts: "token" (LLMs) or "sample" (neural operators)
  std::int64_t tokens = 0;        // tokens produced (decode) or processed (prefill), or samples
  std::vector<OpResult> ops;
  std::int64_t total_cycles = 0;
  double clock_mhz = 0;
  sim::EnergyBreakdown energy;    // whole run
  double utilization = 0;         // PE MACs / (R C cycles)
  std::int64_t instructions = 0;
  std::vector<std::string> notes; // modelling choices the numbers depend on

  double seconds() const { return static_cast<double>(total_cycles) / (clock_mhz * 1e6); }
  double joules() const { return energy.total() * 1e-12; }
};

struct CompiledWorkload {
  sim::Program program;
  std::vector<OpResult> ops;  // mapping, instruction ranges and event counts filled; cycles not
};

// Reports (stage, done, total): stage "map" while ops are compiled, "simulate" while the cycle
// executor runs instructions.
using Progress = std::function<void(const char* stage, std::int64_t done, std::int64_t total)>;

// One step of any model as ops: a transformer's prefill or decode step, a neural operator's forward.
struct Workload {
  std::string model;
  std::string description;
  std::string unit = "token";
  std::int64_t units = 0;  // tokens or samples the step processes
  models::WorkloadSpec spec;
  std::vector<models::Op> ops;
  // How the vector unit runs norm and activation ops.
  models::NormKind norm = models::NormKind::kRmsNorm;
  models::ActivationKind activation = models::ActivationKind::kSilu;
};
Workload llm_workload(const models::ModelConfig& model, const models::WorkloadSpec& spec);

// Maps every op (throws std::invalid_argument naming the op if one cannot be mapped).
CompiledWorkload compile_workload(const Workload& w, const sim::AcceleratorConfig& cfg, const Progress& progress = nullptr);

SimulationReport simulate(const Workload& w, const sim::AcceleratorConfig& cfg, ExecutorKind executor, const Progress& progress = nullptr);
SimulationReport simulate(const models::ModelConfig& model, const models::WorkloadSpec& spec, const sim::AcceleratorConfig& cfg,
                          ExecutorKind executor, const Progress& progress = nullptr);

}  // namespace mixpe::runtime
