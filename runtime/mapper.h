// Maps GEMMs onto the accelerator: tiling for the array and double-buffered SRAM, loop order, the
// emitted program, and the closed-form (analytic) cost of a mapping.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sim/config.h"
#include "sim/isa.h"
#include "sim/stats.h"

namespace mixpe::runtime {

// One GEMM as the array sees it: Y[M][N] = X[M][K] W[N][K]^T, `count` independent instances
// (e.g. one per attention head), W in the array's weight format.
struct GemmProblem {
  std::int64_t m = 0, n = 0, k = 0, count = 1;
  int weight_bits = 0;  // 0: the design's array.weight_bits
};

enum class LoopOrder {
  kWeightsOuter,      // each weight tile is loaded once; activation tiles stream past it
  kActivationsOuter,  // each activation tile is loaded once; weight tiles stream past it
};
const char* to_string(LoopOrder o);

struct GemmMapping {
  std::int64_t m = 0, n = 0, k = 0;  // k padded up to a multiple of the group size
  int group = 0;                     // the weight group used (-1: per-channel, when K < g)
  int weight_bits = 0;               // 0: the design's
  sim::Dataflow dataflow = sim::Dataflow::kOs;
  std::int64_t tm = 0, tn = 0, tk = 0;
  LoopOrder order = LoopOrder::kWeightsOuter;
  std::int64_t gemm_steps = 0;       // GEMM instructions per instance
  std::int64_t instructions = 0;     // loads, GEMMs and stores of all instances
  std::int64_t compute_cycles = 0;   // array busy cycles per instance
  std::int64_t dram_read_bytes = 0, dram_write_bytes = 0;  // per instance
  std::int64_t wgt_loads = 0, act_loads = 0, stores = 0;   // DMA transfers per instance
  std::int64_t wgt_load_bytes = 0, act_load_bytes = 0;     // per instance (their sum is dram_read_bytes)
  std::int64_t est_cycles = 0;       // analytic latency of all `count` instances
  std::int64_t pe_macs = 0;          // PE operations including padding, all instances
};

// Derived machine constants the analytic model uses.
struct MachineModel {
  double dram_bits_per_cycle = 0;  // sustained, refresh excluded
  std::int64_t dram_latency_cycles = 0;
  explicit MachineModel(const sim::AcceleratorConfig& cfg);
};

// Searches the dataflows the design offers (array.dataflow), tile sizes and loop orders for the
// fewest estimated cycles plus emitted instructions (the controller issues one per cycle), then the
// fewest DRAM bytes, then output-stationary. Throws
// std::invalid_argument naming the GEMM shape if no tiling fits the buffers.
GemmMapping map_gemm(const GemmProblem& p, const sim::AcceleratorConfig& cfg, const std::string& name = "gemm");
// The analytic cost of one candidate mapping (fills the cost fields of `mp`).
void estimate(GemmMapping& mp, std::int64_t count, const sim::AcceleratorConfig& cfg);

// Where one emitted GEMM instruction sits in the whole problem.
struct GemmPlacement {
  std::size_t instr = 0;  // index in Program::code
  std::int64_t instance = 0, m0 = 0, n0 = 0, k0 = 0, m = 0, n = 0, k = 0;
};

// Appends the mapping's instructions (timing only, no payloads) to `prog`, with DRAM operands
// at `*dram_cursor` (advanced past them); records each GEMM's placement if asked.
void emit_gemm(const GemmMapping& mp, std::int64_t count, const sim::AcceleratorConfig& cfg, sim::Program& prog,
               std::uint64_t* dram_cursor, std::vector<GemmPlacement>* placements = nullptr);

// The same instructions in the same order, handed one at a time to `visit` (the placement's
// `instr` counts from 0 within this call) instead of stored; stops early when `visit` returns
// false. `*dram_cursor` is advanced past all operands either way.
using InstructionVisitor = std::function<bool(const sim::Instruction& in, const GemmPlacement& where)>;
void walk_gemm(const GemmMapping& mp, std::int64_t count, const sim::AcceleratorConfig& cfg, std::uint64_t* dram_cursor,
               const InstructionVisitor& visit);

// Event counts of the mapping's instructions in closed form, equal to counting the emitted program
// instruction by instruction, except DRAM row activations (they depend on addresses and time).
sim::RunStats gemm_counts(const GemmMapping& mp, std::int64_t count, const sim::AcceleratorConfig& cfg);

}  // namespace mixpe::runtime
