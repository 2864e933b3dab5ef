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

// An op's roofline: the fewest cycles its operations and its compulsory DRAM traffic allow.
struct Roofline {
  std::int64_t ops = 0;             // 2 per MAC on the array; element operations on the vector unit
  double intensity = 0;             // ops per compulsory DRAM byte
  std::int64_t compute_cycles = 0;  // ops at the unit's peak (2 R C per cycle, or the vector lanes)
  std::int64_t memory_cycles = 0;   // compulsory bytes at the DRAM interface's peak bandwidth
  std::int64_t cycles() const { return compute_cycles > memory_cycles ? compute_cycles : memory_cycles; }
  const char* bound() const { return memory_cycles > compute_cycles ? "memory" : "compute"; }
};

struct OpResult {
  models::Op op;
  std::string dataflow;           // "os" or "ws" for GEMMs, "vector" otherwise
  std::string mapping;            // dataflow, tiling and loop order, for GEMMs
  std::int64_t first_instr = 0, end_instr = 0;  // [first, end) in the program
  std::int64_t cycles = 0;        // latency attributed to this op
  std::int64_t dram_bytes = 0;
  // Bytes the op must move: GEMM operands once (weights, activations in the array's format, FP32
  // outputs) and the quantization passes' and vector ops' streams.
  std::int64_t compulsory_dram_bytes = 0;
  Roofline roofline;
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
  double area_mm2 = 0;            // whole design (sim/area.h); 0 when the area model does not cover it
  double peak_ops_per_s = 0;      // the array's 2 R C operations per cycle
  double peak_dram_bytes_per_s = 0;  // the DRAM interface's peak (refresh and row misses excluded)
  std::int64_t roofline_cycles = 0;  // sum of the ops' roofline cycles (ops run one after another)
  std::int64_t memory_bound_roofline_cycles = 0;  // the part of it from memory-bound ops
  std::int64_t compulsory_dram_bytes = 0;
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

// Maps every op (throws std::invalid_argument naming the op if one cannot be mapped) and emits the
// program the cycle executor runs, with each op's event counts.
CompiledWorkload compile_workload(const Workload& w, const sim::AcceleratorConfig& cfg, const Progress& progress = nullptr);

// The same ops, latencies and event counts without emitting the program: every GEMM and vector pass
// is counted in closed form from its mapping (DRAM row activations from a sample of its transfers).
// Time and memory do not grow with the number of instructions.
struct CostedWorkload {
  std::vector<OpResult> ops;
  std::int64_t instructions = 0;  // the program compile_workload would emit
};
CostedWorkload cost_workload(const Workload& w, const sim::AcceleratorConfig& cfg, const Progress& progress = nullptr);

SimulationReport simulate(const Workload& w, const sim::AcceleratorConfig& cfg, ExecutorKind executor, const Progress& progress = nullptr);
SimulationReport simulate(const models::ModelConfig& model, const models::WorkloadSpec& spec, const sim::AcceleratorConfig& cfg,
                          ExecutorKind executor, const Progress& progress = nullptr);

}  // namespace mixpe::runtime
