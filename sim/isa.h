// The accelerator's instruction set (docs/isa.md): DMA, GEMM, vector ops and barriers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/array.h"
#include "sim/config.h"

namespace mixpe::sim {

enum class Opcode { kLoad, kStore, kGemm, kVector, kBarrier };
enum class BufferId { kWbuf, kIbuf, kObuf };
// kQuantize: FP32 rows to the array's activation format (per-token INT8 codes and scale, or
// FP16/BF16 aligned to per-group block floating point); kQuantizeWeights: FP32 rows to the
// weight format (group codes, scales, zero points), for K and V entering the KV cache.
enum class VectorOp { kSoftmax, kRmsNorm, kLayerNorm, kSilu, kGelu, kAdd, kMul, kRope, kQuantize, kQuantizeWeights };

std::string_view to_string(Opcode o);
std::string_view to_string(BufferId b);
std::string_view to_string(VectorOp v);
// Element operations per element for the vector unit's cost model (docs/isa.md table).
int vector_ops_per_element(VectorOp v);

struct Instruction {
  Opcode op = Opcode::kBarrier;
  // kLoad / kStore: `bytes` between DRAM[dram_addr] and buf[sram_addr].
  BufferId buf = BufferId::kIbuf;
  std::int64_t sram_addr = 0;
  std::uint64_t dram_addr = 0;
  std::int64_t bytes = 0;
  // kGemm: Y[m][n] (+)= X[m][k] W[n][k]^T; X in IBUF at act_addr, W (codes, scales, zeros) in
  // WBUF at wgt_addr, Y (FP32) in OBUF at out_addr.
  std::int64_t act_addr = 0, wgt_addr = 0, out_addr = 0;
  int m = 0, n = 0, k = 0;
  int group_size = 0;  // weight quantization group (-1 or k: per-channel)
  int weight_bits = 0; // weight code width of this GEMM; 0: the config's array.weight_bits (e.g. 8-bit
                       // constant DFT matrices on a W4 design: the PE takes 2-8 bit codes alike)
  ArrayMode mode = ArrayMode::kMixpeInt8;
  Dataflow dataflow = Dataflow::kOs;  // weight-stationary needs k a multiple of the array's rows
  bool accumulate = false;  // add to the FP32 partial sums already in OBUF (read-modify-write)
  bool flush = true;        // last K chunk: results are final
  int payload = -1;         // index into Program::payloads for bit-exact numerics; -1: timing only
  // kVector: rows x cols FP32 elements of `vbuf` at src_addr -> dst_addr; `inputs` tensors of that
  // size lie back to back from src_addr (residual adds and gated activations read two).
  VectorOp vop = VectorOp::kAdd;
  BufferId vbuf = BufferId::kObuf;
  std::int64_t src_addr = 0, dst_addr = 0;
  int rows = 0, cols = 0;
  int inputs = 1;
};

Instruction dma_load(BufferId buf, std::int64_t sram_addr, std::uint64_t dram_addr, std::int64_t bytes);
Instruction dma_store(BufferId buf, std::int64_t sram_addr, std::uint64_t dram_addr, std::int64_t bytes);
Instruction gemm(ArrayMode mode, int m, int n, int k, int group_size, std::int64_t act_addr, std::int64_t wgt_addr,
                 std::int64_t out_addr, bool accumulate = false, bool flush = true, int payload = -1);
Instruction vector_op(VectorOp op, BufferId buf, int rows, int cols, std::int64_t src_addr, std::int64_t dst_addr, int inputs = 1);
Instruction barrier();

struct Program {
  std::vector<Instruction> code;
  // Operand tiles of GEMMs that want numerics, in the array's stream order (row tiles outer,
  // column tiles inner).
  std::vector<std::vector<ArrayTile>> payloads;
};

// Bytes a GEMM's operands occupy in the buffers (layout in docs/isa.md).
struct GemmFootprint {
  std::int64_t act_bytes = 0, wgt_bytes = 0, out_bytes = 0;
};
GemmFootprint gemm_footprint(const Instruction& in, const AcceleratorConfig& cfg);
// What one GEMM instruction costs the array unit, whatever its operand values: the tile model's
// closed-form event counts and the SRAM traffic of the output-stationary dataflow (activations
// re-read for every column tile, weights for every row tile). The accelerator, the mapper and the
// analytic executor all charge GEMMs through this one function.
struct GemmEvents {
  std::int64_t tiles = 0, pe_macs = 0, dequant_ops = 0, edge_ops = 0;
  std::int64_t drain_stall_cycles = 0, load_stall_cycles = 0;
  std::int64_t ibuf_read_bits = 0, wbuf_read_bits = 0, obuf_write_bits = 0, obuf_read_bits = 0;
  std::int64_t stream_cycles = 0;  // the tile stream's latency (docs/array.md)
  std::int64_t issue_cycles = 0;   // until a following stream of the same shape can start feeding
  std::int64_t release_cycles = 0; // until the last operand has been read from IBUF and WBUF
  std::int64_t buffer_cycles = 0;  // cycles the SRAM banks need for the traffic above
  std::int64_t cycles() const { return stream_cycles > buffer_cycles ? stream_cycles : buffer_cycles; }
  // The drain at the end, which a following GEMM of the same tile shape overlaps.
  std::int64_t tail_cycles() const { return stream_cycles - issue_cycles; }
  // Cycles the array is held when the next GEMM continues the stream.
  std::int64_t occupancy() const { return cycles() - tail_cycles() > 1 ? cycles() - tail_cycles() : 1; }
};
GemmEvents gemm_events(const Instruction& in, const AcceleratorConfig& cfg);

// The array mode a config's PE and activation types run.
ArrayMode array_mode_of(const AcceleratorConfig& cfg);
// The array shape of one tile of a GEMM on this config. Output-stationary tiles are R tokens x C
// channels; weight-stationary ones (jobs) are M = ceil(m / ceil(m / R)) tokens x C channels.
ArrayShape gemm_tile_shape(const Instruction& in, const AcceleratorConfig& cfg);
std::int64_t gemm_tile_count(const Instruction& in, const AcceleratorConfig& cfg);
// All-zero operand tiles of a GEMM (cycle models on timing-only instructions).
std::vector<ArrayTile> gemm_zero_tiles(const Instruction& in, const AcceleratorConfig& cfg);

// Checks every instruction against the config (buffer capacities, mode, shapes, payloads).
// Throws std::invalid_argument naming the instruction index, opcode, field and value.
void validate_program(const Program& p, const AcceleratorConfig& cfg);

}  // namespace mixpe::sim
