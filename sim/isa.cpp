// Instruction constructors, operand footprints and program validation.
#include "sim/isa.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

namespace mixpe::sim {

std::string_view to_string(Opcode o) {
  switch (o) {
    case Opcode::kLoad: return "load";
    case Opcode::kStore: return "store";
    case Opcode::kGemm: return "gemm";
    case Opcode::kVector: return "vector";
    case Opcode::kBarrier: return "barrier";
  }
  return "?";
}

std::string_view to_string(BufferId b) {
  switch (b) {
    case BufferId::kWbuf: return "wbuf";
    case BufferId::kIbuf: return "ibuf";
    case BufferId::kObuf: return "obuf";
  }
  return "?";
}

std::string_view to_string(VectorOp v) {
  switch (v) {
    case VectorOp::kSoftmax: return "softmax";
    case VectorOp::kRmsNorm: return "rmsnorm";
    case VectorOp::kLayerNorm: return "layernorm";
    case VectorOp::kSilu: return "silu";
    case VectorOp::kGelu: return "gelu";
    case VectorOp::kAdd: return "add";
    case VectorOp::kMul: return "mul";
    case VectorOp::kRope: return "rope";
    case VectorOp::kQuantize: return "quantize";
    case VectorOp::kQuantizeWeights: return "quantize_weights";
  }
  return "?";
}

int vector_ops_per_element(VectorOp v) {
  switch (v) {
    case VectorOp::kSoftmax: return 5;    // max, subtract, exp, sum, divide
    case VectorOp::kRmsNorm: return 4;    // square, sum, rsqrt-scale, gain
    case VectorOp::kLayerNorm: return 6;  // sum, subtract, square, sum, scale, gain+bias
    case VectorOp::kSilu: return 4;       // negate-exp, add, divide, multiply
    case VectorOp::kGelu: return 6;       // tanh approximation
    case VectorOp::kAdd: return 1;
    case VectorOp::kMul: return 1;
    case VectorOp::kRope: return 3;       // two multiplies and an add per element
    case VectorOp::kQuantize: return 3;   // max |x| (or max exponent), scale (or shift), round
    case VectorOp::kQuantizeWeights: return 4;  // group min, max, scale, round
  }
  return 1;
}

Instruction dma_load(BufferId buf, std::int64_t sram_addr, std::uint64_t dram_addr, std::int64_t bytes) {
  Instruction i;
  i.op = Opcode::kLoad;
  i.buf = buf;
  i.sram_addr = sram_addr;
  i.dram_addr = dram_addr;
  i.bytes = bytes;
  return i;
}

Instruction dma_store(BufferId buf, std::int64_t sram_addr, std::uint64_t dram_addr, std::int64_t bytes) {
  Instruction i = dma_load(buf, sram_addr, dram_addr, bytes);
  i.op = Opcode::kStore;
  return i;
}

Instruction gemm(ArrayMode mode, int m, int n, int k, int group_size, std::int64_t act_addr, std::int64_t wgt_addr,
                 std::int64_t out_addr, bool accumulate, bool flush, int payload) {
  Instruction i;
  i.op = Opcode::kGemm;
  i.mode = mode;
  i.m = m;
  i.n = n;
  i.k = k;
  i.group_size = group_size;
  i.act_addr = act_addr;
  i.wgt_addr = wgt_addr;
  i.out_addr = out_addr;
  i.accumulate = accumulate;
  i.flush = flush;
  i.payload = payload;
  return i;
}

Instruction vector_op(VectorOp op, BufferId buf, int rows, int cols, std::int64_t src_addr, std::int64_t dst_addr, int inputs) {
  Instruction i;
  i.op = Opcode::kVector;
  i.vop = op;
  i.vbuf = buf;
  i.rows = rows;
  i.cols = cols;
  i.src_addr = src_addr;
  i.dst_addr = dst_addr;
  i.inputs = inputs;
  return i;
}

Instruction barrier() { return Instruction{}; }

ArrayMode array_mode_of(const AcceleratorConfig& cfg) {
  switch (cfg.pe_type) {
    case PeType::kMixpe: return cfg.act_type == ActType::kInt8 ? ArrayMode::kMixpeInt8 : ArrayMode::kMixpeAligned;
    case PeType::kFp16: return ArrayMode::kFp16;
    case PeType::kInt8: return ArrayMode::kInt8;
    case PeType::kBitfusion: return ArrayMode::kBitFusion;
    case PeType::kAnt: return ArrayMode::kAnt;
  }
  return ArrayMode::kMixpeInt8;
}

namespace {
int weight_group(const Instruction& in) { return in.group_size == -1 ? in.k : in.group_size; }
}  // namespace

GemmFootprint gemm_footprint(const Instruction& in, const AcceleratorConfig& cfg) {
  const std::int64_t m = in.m, n = in.n, k = in.k;
  const std::int64_t wg = weight_group(in) > 0 ? k / weight_group(in) : 0;
  GemmFootprint f;
  const bool int8_act = int8_act_mode(in.mode);
  // Activations: codes/mantissas, plus per-token fp32 scale (INT8) or per-group shift byte (aligned).
  f.act_bytes = m * k * (int8_act ? 1 : 2) + (int8_act ? 4 * m : 0) + (in.mode == ArrayMode::kMixpeAligned ? m * wg : 0);
  // Weights: packed codes, then an fp16 scale and a zero-point byte per (channel, group).
  const std::int64_t bits = in.weight_bits > 0 ? in.weight_bits : cfg.weight_bits;
  f.wgt_bytes = (n * k * bits + 7) / 8 + n * wg * 3;
  f.out_bytes = m * n * 4;
  return f;
}

namespace {
int weight_bits_of(const Instruction& in, const AcceleratorConfig& cfg) { return in.weight_bits > 0 ? in.weight_bits : cfg.weight_bits; }
std::int64_t row_tiles(const Instruction& in, const AcceleratorConfig& cfg) { return (in.m + cfg.rows - 1) / cfg.rows; }
}  // namespace

ArrayShape gemm_tile_shape(const Instruction& in, const AcceleratorConfig& cfg) {
  const int wbits = weight_bits_of(in, cfg);
  const int slots = k_slots(in.mode, in.k, wbits);  // PE cycles over K (BitFusion: several products per cycle)
  ArrayShape s{in.mode, cfg.rows, cfg.cols, slots, per_channel_mode(in.mode) ? slots : weight_group(in)};
  s.dataflow = in.dataflow;
  s.weight_bits = wbits;
  s.load_bits = cfg.ws_load_bits;
  const std::int64_t rt = row_tiles(in, cfg);
  s.tokens = in.dataflow == Dataflow::kWs ? static_cast<int>((in.m + rt - 1) / rt) : cfg.rows;
  return s;
}

std::int64_t gemm_tile_count(const Instruction& in, const AcceleratorConfig& cfg) {
  return row_tiles(in, cfg) * ((in.n + cfg.cols - 1) / cfg.cols);
}

std::vector<ArrayTile> gemm_zero_tiles(const Instruction& in, const AcceleratorConfig& cfg) {
  const ArrayShape s = gemm_tile_shape(in, cfg);
  ArrayTile t = make_zero_tile(in.mode, s.tokens, cfg.cols, in.k, weight_group(in), s.weight_bits);
  if (in.dataflow == Dataflow::kWs) t = to_weight_stationary(std::move(t), cfg.rows, cfg.ws_load_bits);
  return std::vector<ArrayTile>(static_cast<std::size_t>(gemm_tile_count(in, cfg)), t);
}

GemmEvents gemm_events(const Instruction& in, const AcceleratorConfig& cfg) {
  const ArrayShape shape = gemm_tile_shape(in, cfg);
  const GemmFootprint f = gemm_footprint(in, cfg);
  GemmEvents e;
  e.tiles = gemm_tile_count(in, cfg);
  // Rows of the array that carry a token: all R (OS, padded) or the job's M (WS).
  const std::int64_t token_rows = shape.tokens;
  e.pe_macs = e.tiles * token_rows * shape.cols * static_cast<std::int64_t>(shape.k);
  e.dequant_ops = e.tiles * token_rows * shape.cols * static_cast<std::int64_t>(shape.groups());
  e.edge_ops = has_edge_unit(shape.mode) ? e.tiles * token_rows * static_cast<std::int64_t>(shape.k) : 0;
  e.drain_stall_cycles = drain_stall_cycles(shape, e.tiles);
  e.load_stall_cycles = load_stall_cycles(shape, e.tiles);
  const std::int64_t row_tiles = (in.m + cfg.rows - 1) / cfg.rows, col_tiles = (in.n + cfg.cols - 1) / cfg.cols;
  e.ibuf_read_bits = f.act_bytes * 8 * col_tiles;
  e.wbuf_read_bits = f.wgt_bytes * 8 * row_tiles;
  e.obuf_write_bits = f.out_bytes * 8;
  e.obuf_read_bits = in.accumulate ? f.out_bytes * 8 : 0;
  auto access = [](const BufferConfig& b, std::int64_t bits) { return (bits + b.bits_per_cycle() - 1) / b.bits_per_cycle(); };
  e.buffer_cycles = std::max({access(cfg.ibuf, e.ibuf_read_bits), access(cfg.wbuf, e.wbuf_read_bits),
                              access(cfg.obuf, e.obuf_write_bits + e.obuf_read_bits)});
  e.stream_cycles = stream_latency(shape, e.tiles);
  e.issue_cycles = stream_issue_cycles(shape, e.tiles);
  e.release_cycles = stream_release_cycles(shape, e.tiles);
  return e;
}

void validate_program(const Program& p, const AcceleratorConfig& cfg) {
  const BufferConfig* bufs[] = {&cfg.wbuf, &cfg.ibuf, &cfg.obuf};
  for (std::size_t idx = 0; idx < p.code.size(); ++idx) {
    const Instruction& in = p.code[idx];
    auto bad = [&](const char* field, const std::string& value, const std::string& why) {
      throw std::invalid_argument(fmt::format("program instruction {} ({}): field '{}' = {}: {}", idx, to_string(in.op), field, value, why));
    };
    auto range = [&](BufferId b, const char* field, std::int64_t addr, std::int64_t bytes) {
      const std::int64_t cap = bufs[static_cast<int>(b)]->size_bytes();
      if (addr < 0 || bytes < 0 || addr + bytes > cap)
        bad(field, std::to_string(addr),
            fmt::format("{} bytes from here exceed {} ({} bytes)", bytes, to_string(b), cap));
    };
    switch (in.op) {
      case Opcode::kLoad:
      case Opcode::kStore:
        if (in.bytes <= 0) bad("bytes", std::to_string(in.bytes), "must be positive");
        range(in.buf, "sram_addr", in.sram_addr, in.bytes);
        break;
      case Opcode::kGemm: {
        if (in.mode != array_mode_of(cfg))
          bad("mode", std::string(to_string(in.mode)),
              fmt::format("the configured array runs {}", to_string(array_mode_of(cfg))));
        if (in.m <= 0) bad("m", std::to_string(in.m), "must be positive");
        if (in.n <= 0) bad("n", std::to_string(in.n), "must be positive");
        if (in.k <= 0) bad("k", std::to_string(in.k), "must be positive");
        const int g = weight_group(in);
        if (g <= 0 || in.k % g != 0) bad("group_size", std::to_string(in.group_size), fmt::format("must divide k = {} (or be -1)", in.k));
        if (per_channel_mode(in.mode) && in.mode != ArrayMode::kFp16 && g != in.k)
          bad("group_size", std::to_string(in.group_size), fmt::format("{} is per-channel", to_string(in.mode)));
        if (in.weight_bits != 0 && in.weight_bits != 2 && in.weight_bits != 3 && in.weight_bits != 4 && in.weight_bits != 8)
          bad("weight_bits", std::to_string(in.weight_bits), "must be 2, 3, 4, 8 or 0 (the config's)");
        if (in.mode == ArrayMode::kBitFusion && in.weight_bits == 3)
          bad("weight_bits", "3", "the bitfusion PE fuses 2, 4 or 8-bit weights");
        // ANT: 4-bit types; 8-bit codes (the constant DFT matrices of neural operators) run as ANT's int8 type.
        if (in.mode == ArrayMode::kAnt && in.weight_bits != 0 && in.weight_bits != 4 && in.weight_bits != 8)
          bad("weight_bits", std::to_string(in.weight_bits), "the ant PE takes 4-bit types or 8-bit integers");
        if (in.dataflow == Dataflow::kWs) {
          if (!ws_supported(in.mode)) bad("dataflow", "ws", fmt::format("the {} array has no weight-stationary dataflow", to_string(in.mode)));
          if (in.k % cfg.rows != 0 || g % cfg.rows != 0)
            bad("dataflow", "ws", fmt::format("needs the array's {} rows to divide k = {} and the group {}", cfg.rows, in.k, g));
        }
        const GemmFootprint f = gemm_footprint(in, cfg);
        range(BufferId::kIbuf, "act_addr", in.act_addr, f.act_bytes);
        range(BufferId::kWbuf, "wgt_addr", in.wgt_addr, f.wgt_bytes);
        range(BufferId::kObuf, "out_addr", in.out_addr, f.out_bytes);
        if (in.payload >= 0) {
          if (in.payload >= static_cast<int>(p.payloads.size())) bad("payload", std::to_string(in.payload), "no such payload");
          const auto& tiles = p.payloads[in.payload];
          if (static_cast<std::int64_t>(tiles.size()) != gemm_tile_count(in, cfg))
            bad("payload", std::to_string(in.payload), fmt::format("has {} tiles, the GEMM needs {}", tiles.size(), gemm_tile_count(in, cfg)));
          const ArrayShape s = gemm_tile_shape(in, cfg);
          for (const auto& t : tiles) {
            const ArrayShape ts = shape_of(t);
            if (ts.mode != s.mode || ts.dataflow != s.dataflow || ts.rows != s.rows || ts.tokens != s.tokens || ts.cols != s.cols ||
                ts.k != s.k || ts.group_size != s.group_size)
              bad("payload", std::to_string(in.payload), "a tile's mode or shape differs from the GEMM's");
            check_tile(t);
          }
        }
        break;
      }
      case Opcode::kVector: {
        if (in.rows <= 0 || in.cols <= 0) bad("rows", fmt::format("{}x{}", in.rows, in.cols), "must be positive");
        const std::int64_t bytes = static_cast<std::int64_t>(in.rows) * in.cols * 4;
        if (in.inputs < 1) bad("inputs", std::to_string(in.inputs), "must be at least 1");
        range(in.vbuf, "src_addr", in.src_addr, bytes * in.inputs);
        range(in.vbuf, "dst_addr", in.dst_addr, bytes);
        break;
      }
      case Opcode::kBarrier: break;
    }
  }
}

}  // namespace mixpe::sim
