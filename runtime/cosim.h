// Cross-check of the functional executor against the cycle-level SystemC model: the GEMMs a
// functional run recorded, mapped as the simulator maps them and run with their operands as
// payloads, give the same bits.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/engine.h"
#include "sim/config.h"
#include "sim/isa.h"

namespace mixpe::runtime {

struct CosimProgram {
  sim::Program program;
  // Per recorded call: its GEMM instructions' placements (instruction index, m0, n0, k0, m, n).
  struct Piece {
    std::size_t instr = 0;
    int m0 = 0, n0 = 0, k0 = 0, m = 0, n = 0;
    int tile_rows = 0;  // tokens per array tile: R (output-stationary) or the job's M (weight-stationary)
    bool ws = false;
  };
  std::vector<std::vector<Piece>> pieces;
};

// Maps every call with the mapper (the same K chunk the engine used, checked) and builds the
// operand tiles of every GEMM instruction from the call's activations and weights.
CosimProgram build_cosim_program(const std::vector<GemmCall>& calls, const sim::AcceleratorConfig& hw);

// Per call, Y[m][n] from the array's per-tile outputs (`outputs`: instruction -> tiles of R x C),
// K chunks added in FP32 in chunk order as OBUF accumulates them.
std::vector<std::vector<float>> assemble_outputs(const CosimProgram& cp, const std::vector<GemmCall>& calls,
                                                 const std::map<std::size_t, std::vector<std::vector<float>>>& outputs,
                                                 const sim::AcceleratorConfig& hw);

}  // namespace mixpe::runtime
