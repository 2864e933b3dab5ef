// Workload compilation (mapping + program emission), event counting, and the two executors.
#include "runtime/executor.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "sim/area.h"
#include "sim/energy.h"
#if MIXPE_WITH_SYSTEMC
#include <systemc>

#include "sim/accelerator.h"
#endif

namespace mixpe::runtime {
namespace {

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

sim::VectorOp vector_op_of(const models::Op& op, const Workload& model) {
  switch (op.kind) {
    case models::OpKind::kNorm: return model.norm == models::NormKind::kRmsNorm ? sim::VectorOp::kRmsNorm : sim::VectorOp::kLayerNorm;
    case models::OpKind::kSoftmax: return sim::VectorOp::kSoftmax;
    case models::OpKind::kRotary: return sim::VectorOp::kRope;
    case models::OpKind::kActivation:
      // SwiGLU's gate product rides on the activation pass; ReLU costs one compare like an add.
      if (model.activation == models::ActivationKind::kGelu) return sim::VectorOp::kGelu;
      return model.activation == models::ActivationKind::kSilu ? sim::VectorOp::kSilu : sim::VectorOp::kAdd;
    default: return sim::VectorOp::kAdd;
  }
}

// Bytes of `elements` values (rows of `width`) in the array's activation format: per-token INT8
// codes and an FP32 scale, FP16/BF16 mantissas with a shift byte per group, or FP16.
std::int64_t activation_format_bytes(std::int64_t elements, std::int64_t width, const sim::AcceleratorConfig& cfg) {
  const std::int64_t rows = ceil_div(elements, width);
  switch (sim::array_mode_of(cfg)) {
    case sim::ArrayMode::kMixpeInt8:
    case sim::ArrayMode::kInt8:
    case sim::ArrayMode::kBitFusion:
    case sim::ArrayMode::kAnt: return elements + 4 * rows;
    case sim::ArrayMode::kMixpeAligned: return 2 * elements + rows * ceil_div(width, cfg.group_size > 0 ? cfg.group_size : width);
    case sim::ArrayMode::kFp16: return 2 * elements;
  }
  return elements;
}

// Bytes of `elements` values (rows of `width`) in the weight format: packed codes plus an FP16
// scale and a zero-point byte per group (per row when per-channel).
std::int64_t weight_format_bytes(std::int64_t elements, std::int64_t width, const sim::AcceleratorConfig& cfg) {
  const std::int64_t g = cfg.group_size > 0 ? cfg.group_size : width;
  return ceil_div(elements * cfg.weight_bits, 8) + 3 * ceil_div(elements, g);
}

// One pass of the vector unit over DRAM-resident FP32 tensors: chunks of rows are loaded into a
// half of OBUF (`inputs` tensors side by side), run through `vops` in place, and the result is
// stored in `out_bytes` bytes (FP32, or an array format when the pass quantizes). The two OBUF
// halves alternate so the next chunk loads while this one computes.
struct VectorPass {
  std::int64_t elements = 0, width = 0;
  int inputs = 1;
  std::vector<std::pair<sim::VectorOp, double>> vops;  // each op runs on this share of the rows
  std::int64_t out_bytes = 0;
};

// How emit/walk split a pass: `chunks` chunks of `rows_per` rows of `cols` FP32 values (the last
// has `last_rows`), each storing `out_full` bytes of the output (the last the remainder, `out_last`).
struct PassShape {
  std::int64_t cols = 0, rows_total = 0, rows_per = 0, chunks = 0, last_rows = 0, out_full = 0, out_last = 0;
  std::int64_t rows(std::int64_t chunk) const { return chunk + 1 == chunks ? last_rows : rows_per; }
  std::int64_t out(std::int64_t chunk) const { return chunk + 1 == chunks ? out_last : out_full; }
};

PassShape pass_shape(const VectorPass& v, const sim::AcceleratorConfig& cfg) {
  const std::int64_t half = cfg.obuf.size_bytes() / 2;
  PassShape p;
  p.cols = std::max<std::int64_t>(1, std::min<std::int64_t>(v.width, half / (4 * v.inputs)));
  p.rows_total = ceil_div(v.elements, p.cols);
  p.rows_per = std::max<std::int64_t>(1, half / (p.cols * 4 * v.inputs));
  p.chunks = ceil_div(p.rows_total, p.rows_per);
  p.last_rows = p.rows_total - (p.chunks - 1) * p.rows_per;
  // The output shrinks with quantization; each chunk stores its share, the last the remainder.
  p.out_full = v.out_bytes * p.rows_per / p.rows_total;
  p.out_last = v.out_bytes - (p.chunks - 1) * p.out_full;
  return p;
}

// Rows of a chunk that vector op `share` runs on (at least one).
std::int64_t op_rows(std::int64_t rows, double share) {
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(static_cast<double>(rows) * share + 0.5));
}

// The pass's instructions in program order, handed to `visit` (stops when it returns false).
void walk_vector_pass(const VectorPass& v, const sim::AcceleratorConfig& cfg, std::uint64_t* dram_cursor,
                      const InstructionVisitor& visit) {
  const PassShape p = pass_shape(v, cfg);
  const std::int64_t half = cfg.obuf.size_bytes() / 2;
  const std::uint64_t in_base = *dram_cursor;
  const std::uint64_t out_base = in_base + static_cast<std::uint64_t>(p.rows_total * p.cols * 4 * v.inputs);
  *dram_cursor = out_base + static_cast<std::uint64_t>(v.out_bytes);
  const GemmPlacement none;
  std::int64_t stored = 0;
  for (std::int64_t c = 0; c < p.chunks; ++c) {
    const std::int64_t r = c * p.rows_per, rows = p.rows(c), base = (c % 2) * half, in_bytes = rows * p.cols * 4;
    for (int i = 0; i < v.inputs; ++i) {
      const std::uint64_t src = in_base + static_cast<std::uint64_t>((static_cast<std::int64_t>(i) * p.rows_total + r) * p.cols * 4);
      if (!visit(sim::dma_load(sim::BufferId::kObuf, base + i * in_bytes, src, in_bytes), none)) return;
    }
    for (std::size_t i = 0; i < v.vops.size(); ++i) {
      // The op itself reads all its inputs; the quantization steps after it, its result.
      const sim::Instruction in = sim::vector_op(v.vops[i].first, sim::BufferId::kObuf, static_cast<int>(op_rows(rows, v.vops[i].second)),
                                                 static_cast<int>(p.cols), base, base, i == 0 ? v.inputs : 1);
      if (!visit(in, none)) return;
    }
    if (p.out(c) > 0 && !visit(sim::dma_store(sim::BufferId::kObuf, base, out_base + static_cast<std::uint64_t>(stored), p.out(c)), none)) return;
    stored += p.out(c);
  }
}

void emit_vector_pass(const VectorPass& v, const sim::AcceleratorConfig& cfg, sim::Program& prog, std::uint64_t* dram_cursor) {
  walk_vector_pass(v, cfg, dram_cursor, [&](const sim::Instruction& in, const GemmPlacement&) {
    prog.code.push_back(in);
    return true;
  });
}

// Cycles of one vector instruction: its element operations on the lanes after the unit's latency,
// or OBUF's bandwidth for reading its inputs and writing its result, whichever is longer.
double vector_instr_cycles(std::int64_t rows, std::int64_t cols, sim::VectorOp vop, int inputs, const sim::AcceleratorConfig& cfg) {
  const std::int64_t elems = rows * cols;
  const std::int64_t compute = cfg.vector_latency_cycles + ceil_div(elems * sim::vector_ops_per_element(vop), cfg.vector_lanes);
  return static_cast<double>(std::max(compute, ceil_div(elems * 32 * (inputs + 1), cfg.obuf.bits_per_cycle())));
}

// Closed-form cycles of one vector pass: each chunk's vector work overlaps its neighbours' DMA (two
// OBUF halves), so the pass takes the longer of the DMA stream (plus the last chunk's vector work)
// and the vector work (plus the first chunk's loads and the last chunk's store).
std::int64_t vector_pass_cycles(const VectorPass& v, const sim::AcceleratorConfig& cfg) {
  const MachineModel mm(cfg);
  const PassShape p = pass_shape(v, cfg);
  auto transfer = [&](std::int64_t bytes) { return static_cast<double>(bytes) * 8.0 / mm.dram_bits_per_cycle + static_cast<double>(mm.dram_latency_cycles); };
  auto chunk_vec = [&](std::int64_t rows) {
    double c = 0;
    for (std::size_t i = 0; i < v.vops.size(); ++i) c += vector_instr_cycles(op_rows(rows, v.vops[i].second), p.cols, v.vops[i].first, i == 0 ? v.inputs : 1, cfg);
    return c;
  };
  auto chunk_dma = [&](std::int64_t c) {
    return v.inputs * transfer(p.rows(c) * p.cols * 4) + (p.out(c) > 0 ? transfer(p.out(c)) : 0.0);
  };
  const std::int64_t full = p.chunks - 1;
  const double dma = static_cast<double>(full) * chunk_dma(0) + chunk_dma(full);
  const double vec = static_cast<double>(full) * chunk_vec(p.rows_per) + chunk_vec(p.last_rows);
  const double first_load = v.inputs * transfer(p.rows(0) * p.cols * 4);
  // The last store seen, and the vector work since the loads that followed the store before it.
  const double last_store = p.out_last > 0 ? transfer(p.out_last) : (full > 0 && p.out_full > 0 ? transfer(p.out_full) : 0.0);
  const double tail_vec = full > 0 && p.out_full > 0 ? chunk_vec(p.last_rows) : vec;
  return static_cast<std::int64_t>(std::max(dma + tail_vec, first_load + vec + last_store) + 0.5);
}

// The pass's instructions and event counts in closed form (DRAM row activations excluded), equal
// to counting walk_vector_pass's instructions.
sim::RunStats vector_pass_counts(const VectorPass& v, const sim::AcceleratorConfig& cfg) {
  const PassShape p = pass_shape(v, cfg);
  sim::RunStats s;
  const std::int64_t stores = (p.chunks - 1) * (p.out_full > 0 ? 1 : 0) + (p.out_last > 0 ? 1 : 0);
  s.instructions = p.chunks * (v.inputs + static_cast<std::int64_t>(v.vops.size())) + stores;
  s.dma_load.transfers = p.chunks * v.inputs;
  s.dma_load.bytes = p.rows_total * p.cols * 4 * v.inputs;
  s.dma_store.transfers = stores;
  s.dma_store.bytes = v.out_bytes;
  s.dram.bits_read = s.dma_load.bytes * 8;
  s.dram.bits_written = s.dma_store.bytes * 8;
  s.obuf.bits_written = s.dma_load.bytes * 8;
  s.obuf.bits_read = s.dma_store.bytes * 8;
  for (std::size_t i = 0; i < v.vops.size(); ++i) {
    const int inputs = i == 0 ? v.inputs : 1;
    for (const auto& [n, rows] : {std::pair{p.chunks - 1, p.rows_per}, std::pair{std::int64_t{1}, p.last_rows}}) {
      const std::int64_t elems = op_rows(rows, v.vops[i].second) * p.cols;
      s.vector.ops += n;
      s.vector.element_ops += n * elems * sim::vector_ops_per_element(v.vops[i].first);
      s.obuf.bits_read += n * elems * 32 * inputs;
      s.obuf.bits_written += n * elems * 32;
    }
  }
  return s;
}

// Event counts of instructions [first, end): GEMMs through sim::gemm_events (the accelerator's own
// accounting), DMA and vector ops as the accelerator's units record them. DRAM row activations come
// from `rows`, which carries the open rows from one call to the next in program order; the op runs
// over [start_cycle, start_cycle + cycles) with its transfers spread in proportion to their bytes,
// so that refreshes falling inside it close the rows as in the cycle model.
sim::RunStats count_events(const sim::Program& prog, std::size_t first, std::size_t end, const sim::AcceleratorConfig& cfg,
                           sim::DramRowTracker& rows, std::int64_t start_cycle, std::int64_t cycles) {
  sim::RunStats s;
  std::int64_t dma_bytes = 0, dma_done = 0;
  for (std::size_t i = first; i < end; ++i)
    if (prog.code[i].op == sim::Opcode::kLoad || prog.code[i].op == sim::Opcode::kStore) dma_bytes += prog.code[i].bytes;
  auto activates = [&](const sim::Instruction& in) {
    const double at = static_cast<double>(start_cycle) + static_cast<double>(cycles) * static_cast<double>(dma_done) / static_cast<double>(dma_bytes);
    rows.advance_to(static_cast<std::int64_t>(at * 1e6 / cfg.clock_mhz));
    dma_done += in.bytes;
    return rows.access(in.dram_addr, static_cast<std::uint64_t>(in.bytes));
  };
  s.config_name = cfg.name;
  s.rows = cfg.rows;
  s.cols = cfg.cols;
  s.clock_mhz = cfg.clock_mhz;
  auto buf = [&](sim::BufferId b) -> sim::SramStats& { return b == sim::BufferId::kWbuf ? s.wbuf : b == sim::BufferId::kIbuf ? s.ibuf : s.obuf; };
  for (std::size_t i = first; i < end; ++i) {
    const sim::Instruction& in = prog.code[i];
    ++s.instructions;
    switch (in.op) {
      case sim::Opcode::kLoad:
        s.dram.bits_read += in.bytes * 8;
        s.dram.activates += activates(in);
        buf(in.buf).bits_written += in.bytes * 8;
        ++s.dma_load.transfers;
        s.dma_load.bytes += in.bytes;
        break;
      case sim::Opcode::kStore:
        s.dram.bits_written += in.bytes * 8;
        s.dram.activates += activates(in);
        buf(in.buf).bits_read += in.bytes * 8;
        ++s.dma_store.transfers;
        s.dma_store.bytes += in.bytes;
        break;
      case sim::Opcode::kGemm: {
        const sim::GemmEvents ev = sim::gemm_events(in, cfg);
        ++s.array.gemms;
        s.array.tiles += ev.tiles;
        s.array.pe_macs += ev.pe_macs;
        s.array.pe_macs_by_mode[std::string(sim::to_string(in.mode))] += ev.pe_macs;
        s.array.dequant_ops += ev.dequant_ops;
        s.array.edge_ops += ev.edge_ops;
        s.ibuf.bits_read += ev.ibuf_read_bits;
        s.wbuf.bits_read += ev.wbuf_read_bits;
        s.obuf.bits_written += ev.obuf_write_bits;
        s.obuf.bits_read += ev.obuf_read_bits;
        break;
      }
      case sim::Opcode::kVector: {
        const std::int64_t elems = static_cast<std::int64_t>(in.rows) * in.cols;
        ++s.vector.ops;
        s.vector.element_ops += elems * sim::vector_ops_per_element(in.vop);
        buf(in.vbuf).bits_read += elems * 32 * in.inputs;
        buf(in.vbuf).bits_written += elems * 32;
        break;
      }
      case sim::Opcode::kBarrier: break;
    }
  }
  return s;
}

// The op's roofline: its operations at the peak rate of the unit that runs them, and its compulsory
// DRAM bytes at the interface's peak bandwidth (refresh and row misses excluded).
Roofline roofline_of(const OpResult& r, const sim::AcceleratorConfig& cfg) {
  Roofline f;
  const double peak_bits = static_cast<double>(cfg.dram.bus_bits) * cfg.dram.data_rate * cfg.dram.clock_mhz / cfg.clock_mhz;
  const std::int64_t ops = r.op.is_gemm() ? 2 * r.op.macs() : r.counts.vector.element_ops;
  const int wbits = r.op.weight_bits > 0 ? r.op.weight_bits : cfg.weight_bits;
  // A GEMM's peak: 2 ops per MAC, at the PEs' MACs per cycle (BitFusion's fused products, ANT's 8-bit halves).
  const double per_cycle = r.op.is_gemm() ? 2.0 * cfg.rows * cfg.cols * sim::macs_per_pe_cycle(sim::array_mode_of(cfg), wbits)
                                          : static_cast<double>(cfg.vector_lanes);
  f.ops = ops;
  f.compute_cycles = static_cast<std::int64_t>(std::ceil(static_cast<double>(ops) / per_cycle));
  f.memory_cycles = static_cast<std::int64_t>(std::ceil(static_cast<double>(r.compulsory_dram_bytes) * 8.0 / peak_bits));
  f.intensity = r.compulsory_dram_bytes > 0 ? static_cast<double>(ops) / static_cast<double>(r.compulsory_dram_bytes) : 0.0;
  return f;
}

// True when GEMM ops[i] reads its input from a vector op, which quantized it on the way out.
bool input_from_vector_op(const std::vector<models::Op>& ops, std::size_t i) {
  while (i > 0 && ops[i].shares_input_with_previous) --i;
  return i > 0 && !ops[i - 1].is_gemm();
}

std::vector<std::string> modelling_notes(const Workload& w, const sim::AcceleratorConfig& cfg) {
  std::vector<std::string> notes = {
      "every op reads its inputs from DRAM and writes its output back (no inter-op fusion); an op starts when the op it "
      "depends on has finished (q/k/v and gate/up projections, which share their input, overlap)",
      "vector ops stream their FP32 inputs from DRAM through OBUF; one that feeds a GEMM quantizes its output to the array's "
      "activation format on the way out, and a GEMM whose input comes from another GEMM first runs a quantization pass"};
  bool has_kv = false;
  for (const models::Op& op : w.ops) has_kv = has_kv || op.kv_elements > 0;
  if (has_kv) {
    notes.push_back(fmt::format("K and V are written in the array's weight format (W{} g{}), the KV cache the attention GEMMs read{}",
                                cfg.weight_bits, cfg.group_size,
                                w.spec.phase == models::Phase::kDecode && w.unit == "token" ? "; a decode step writes the new token's rows" : ""));
  }
  if (w.unit == "token" && w.spec.phase == models::Phase::kPrefill) notes.push_back("causal prefill computes the full score matrix (masked tiles are not skipped)");
  switch (cfg.dataflow) {
    case sim::ArrayDataflow::kOs: notes.push_back("the array is output-stationary (rows = tokens): with M < rows, the remaining rows idle"); break;
    case sim::ArrayDataflow::kWs:
      notes.push_back("the array is weight-stationary (weights held in the PEs, up to R tokens stream past, 16 load bits per column per cycle)");
      break;
    case sim::ArrayDataflow::kBoth: notes.push_back("the mapper picks output- or weight-stationary per GEMM, whichever is faster (each op's mapping says which)"); break;
  }
  return notes;
}

void add_counts(sim::RunStats& to, const sim::RunStats& from) {
  to.instructions += from.instructions;
  to.array.gemms += from.array.gemms;
  to.array.tiles += from.array.tiles;
  to.array.pe_macs += from.array.pe_macs;
  to.array.dequant_ops += from.array.dequant_ops;
  to.array.edge_ops += from.array.edge_ops;
  for (const auto& [mode, macs] : from.array.pe_macs_by_mode) to.array.pe_macs_by_mode[mode] += macs;
  for (auto [t, f] : {std::pair{&to.dma_load, &from.dma_load}, std::pair{&to.dma_store, &from.dma_store}}) {
    t->transfers += f->transfers;
    t->bytes += f->bytes;
  }
  to.vector.ops += from.vector.ops;
  to.vector.element_ops += from.vector.element_ops;
  for (auto [t, f] : {std::pair{&to.wbuf, &from.wbuf}, std::pair{&to.ibuf, &from.ibuf}, std::pair{&to.obuf, &from.obuf}}) {
    t->bits_read += f->bits_read;
    t->bits_written += f->bits_written;
  }
  to.dram.bits_read += from.dram.bits_read;
  to.dram.bits_written += from.dram.bits_written;
  to.dram.activates += from.dram.activates;
}

// What one op's program is built from, in program order. The emitting builder stores the
// instructions (the cycle executor runs them); the costing builder counts them in closed form (the
// analytic executor), so its time and memory do not grow with the program.
class ProgramBuilder {
 public:
  virtual ~ProgramBuilder() = default;
  virtual std::int64_t size() const = 0;  // instructions so far
  virtual void barrier() = 0;
  virtual void pass(const VectorPass& v) = 0;
  virtual void gemm(const GemmMapping& mp, std::int64_t count) = 0;
  // Sets r.end_instr and r.counts for the op built since r.first_instr, which lasts r.cycles.
  virtual void finish_op(OpResult& r) = 0;
};

class EmittingBuilder final : public ProgramBuilder {
 public:
  EmittingBuilder(const sim::AcceleratorConfig& cfg, sim::Program& prog) : cfg_(cfg), prog_(prog), rows_(cfg.dram) {}
  std::int64_t size() const override { return static_cast<std::int64_t>(prog_.code.size()); }
  void barrier() override { prog_.code.push_back(sim::barrier()); }
  void pass(const VectorPass& v) override { emit_vector_pass(v, cfg_, prog_, &cursor_); }
  void gemm(const GemmMapping& mp, std::int64_t count) override { emit_gemm(mp, count, cfg_, prog_, &cursor_); }
  void finish_op(OpResult& r) override {
    r.end_instr = size();
    r.counts = count_events(prog_, static_cast<std::size_t>(r.first_instr), static_cast<std::size_t>(r.end_instr), cfg_, rows_, op_start_, r.cycles);
    op_start_ += r.cycles;
  }

 private:
  const sim::AcceleratorConfig& cfg_;
  sim::Program& prog_;
  sim::DramRowTracker rows_;
  std::uint64_t cursor_ = 0;
  std::int64_t op_start_ = 0;  // the op's analytic start cycle, for the DRAM refresh windows
};

// Events in closed form (gemm_counts, vector_pass_counts). DRAM row activations depend on the
// addresses and the refresh times, so the first kRowSample transfers of each GEMM or pass go
// through the same DramRowTracker as the emitting builder, and the rest are extrapolated at the
// sample's activations per DRAM row spanned (a transfer of b bytes spans 1 + (b - 1) / row rows on
// average over alignments). Whole-program agreement with exact counting is tested.
class CostingBuilder final : public ProgramBuilder {
 public:
  static constexpr std::int64_t kRowSample = 256;
  explicit CostingBuilder(const sim::AcceleratorConfig& cfg) : cfg_(cfg), rows_(cfg.dram) {}
  std::int64_t size() const override { return size_; }
  void barrier() override { ++size_; }
  void pass(const VectorPass& v) override {
    Part p{v, {}, 0, cursor_, vector_pass_counts(v, cfg_)};
    walk_vector_pass(v, cfg_, &cursor_, [](const sim::Instruction&, const GemmPlacement&) { return false; });  // advances the cursor
    add(std::move(p));
  }
  void gemm(const GemmMapping& mp, std::int64_t count) override {
    Part p{{}, mp, count, cursor_, gemm_counts(mp, count, cfg_)};
    walk_gemm(mp, count, cfg_, &cursor_, [](const sim::Instruction&, const GemmPlacement&) { return false; });
    add(std::move(p));
  }
  void finish_op(OpResult& r) override {
    r.end_instr = size_;
    sim::RunStats s;
    for (const Part& p : parts_) add_counts(s, p.counts);
    s.instructions = r.end_instr - r.first_instr;  // with the barriers inside the op
    s.config_name = cfg_.name;
    s.rows = cfg_.rows;
    s.cols = cfg_.cols;
    s.clock_mhz = cfg_.clock_mhz;
    s.dram.activates = activates(s.dma_load.bytes + s.dma_store.bytes, r.cycles);
    r.counts = std::move(s);
    parts_.clear();
    op_start_ += r.cycles;
  }

 private:
  struct Part {
    VectorPass pass;  // when count == 0
    GemmMapping mp;
    std::int64_t count = 0;
    std::uint64_t base = 0;  // DRAM cursor at its start
    sim::RunStats counts;
  };
  void add(Part p) {
    size_ += p.counts.instructions;
    parts_.push_back(std::move(p));
  }
  std::int64_t activates(std::int64_t op_bytes, std::int64_t op_cycles) {
    const auto row = static_cast<double>(cfg_.dram.row_bytes);
    double total = 0;
    std::int64_t done = 0;  // DMA bytes of the op before the current transfer, for its time
    for (const Part& p : parts_) {
      std::int64_t n = 0, bytes = 0, spanned = 0, opened = 0;
      std::uint64_t cursor = p.base;
      auto visit = [&](const sim::Instruction& in, const GemmPlacement&) {
        if (in.op != sim::Opcode::kLoad && in.op != sim::Opcode::kStore) return true;
        if (n == kRowSample) return false;
        // Transfers spread over the op's time in proportion to their bytes (as count_events does).
        const double at = static_cast<double>(op_start_) + static_cast<double>(op_cycles) * static_cast<double>(done) / static_cast<double>(op_bytes);
        rows_.advance_to(static_cast<std::int64_t>(at * 1e6 / cfg_.clock_mhz));
        const auto addr = static_cast<std::uint64_t>(in.dram_addr), len = static_cast<std::uint64_t>(in.bytes);
        opened += rows_.access(addr, len);
        spanned += static_cast<std::int64_t>((addr + len - 1) / cfg_.dram.row_bytes - addr / cfg_.dram.row_bytes + 1);
        ++n;
        bytes += in.bytes;
        done += in.bytes;
        return true;
      };
      if (p.count == 0) walk_vector_pass(p.pass, cfg_, &cursor, visit);
      else walk_gemm(p.mp, p.count, cfg_, &cursor, visit);
      const std::int64_t part_bytes = p.counts.dma_load.bytes + p.counts.dma_store.bytes;
      const std::int64_t rest_n = p.counts.dma_load.transfers + p.counts.dma_store.transfers - n, rest_bytes = part_bytes - bytes;
      total += static_cast<double>(opened);
      if (rest_n > 0 && spanned > 0) {
        const double rest_spanned = static_cast<double>(rest_n) + static_cast<double>(rest_bytes - rest_n) / row;
        total += rest_spanned * static_cast<double>(opened) / static_cast<double>(spanned);
      }
      done += part_bytes - bytes;
    }
    return static_cast<std::int64_t>(total + 0.5);
  }

  const sim::AcceleratorConfig& cfg_;
  sim::DramRowTracker rows_;
  std::vector<Part> parts_;
  std::uint64_t cursor_ = 0;
  std::int64_t size_ = 0;
  std::int64_t op_start_ = 0;
};

// Builds every op of the workload in program order and attributes latency, counts and rooflines.
std::vector<OpResult> build_ops(const Workload& model, const sim::AcceleratorConfig& cfg, const Progress& progress, ProgramBuilder& b) {
  const std::vector<models::Op>& ops = model.ops;
  std::vector<OpResult> out;
  out.reserve(ops.size());
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const models::Op& op = ops[i];
    if (progress) progress("map", static_cast<std::int64_t>(i), static_cast<std::int64_t>(ops.size()));
    OpResult r;
    r.op = op;
    // An op waits for the result of the one before it, unless both read the same input.
    if (b.size() > 0 && !op.shares_input_with_previous) b.barrier();
    r.first_instr = b.size();
    std::int64_t pass_bytes = 0;
    auto pass = [&](const VectorPass& v) {
      b.pass(v);
      r.cycles += vector_pass_cycles(v, cfg);
      pass_bytes += v.elements * 4 * v.inputs + v.out_bytes;
    };
    if (op.is_gemm()) {
      // A GEMM's input arrives in the array's activation format when a vector op produced it (it
      // quantizes on the way out); after another GEMM, or at the start, a pass quantizes it first.
      if (!input_from_vector_op(ops, i)) {
        const std::int64_t x = op.m * op.k * op.count;
        pass({x, op.k, 1, {{sim::VectorOp::kQuantize, 1.0}}, activation_format_bytes(x, op.k, cfg)});
        b.barrier();
      }
      const GemmMapping mp = map_gemm({op.m, op.n, op.k, op.count, op.weight_bits}, cfg, op.name);
      b.gemm(mp, op.count);
      r.dataflow = sim::to_string(mp.dataflow);
      r.mapping = fmt::format("{} {}x{}x{} {}{}", r.dataflow, mp.tm, mp.tn, mp.tk, to_string(mp.order),
                              mp.k != op.k ? fmt::format(", K padded {}->{}", op.k, mp.k) : "");
      r.cycles += mp.est_cycles;
      sim::Instruction whole = sim::gemm(sim::array_mode_of(cfg), static_cast<int>(op.m), static_cast<int>(op.n), static_cast<int>(mp.k),
                                         mp.group, 0, 0, 0);
      whole.weight_bits = mp.weight_bits;
      const sim::GemmFootprint f = sim::gemm_footprint(whole, cfg);
      r.compulsory_dram_bytes = op.count * (f.wgt_bytes + f.act_bytes + f.out_bytes);
      if (op.kv_elements > 0) {  // K or V into the KV cache: a pass quantizes the stored output
        b.barrier();
        pass({op.kv_elements, op.kv_width, 1, {{sim::VectorOp::kQuantizeWeights, 1.0}}, weight_format_bytes(op.kv_elements, op.kv_width, cfg)});
      }
    } else {
      // A vector op that feeds a GEMM quantizes its output for it; K and V rows (the KV cache) go
      // to the weight format instead.
      const bool feeds_gemm = i + 1 < ops.size() && ops[i + 1].is_gemm();
      const std::int64_t plain = op.elements - op.kv_elements;
      VectorPass v{op.elements, op.width, op.inputs, {{vector_op_of(op, model), 1.0}}, 0};
      const double kv_share = static_cast<double>(op.kv_elements) / static_cast<double>(op.elements);
      if (feeds_gemm && plain > 0) v.vops.push_back({sim::VectorOp::kQuantize, 1.0 - kv_share});
      if (op.kv_elements > 0) v.vops.push_back({sim::VectorOp::kQuantizeWeights, kv_share});
      // One activation scale (or shift bytes) per row of the consuming GEMM's input, K wide.
      v.out_bytes = (feeds_gemm ? activation_format_bytes(plain, ops[i + 1].k, cfg) : 4 * plain) +
                    (op.kv_elements > 0 ? weight_format_bytes(op.kv_elements, op.kv_width, cfg) : 0);
      pass(v);
      r.dataflow = "vector";
    }
    r.compulsory_dram_bytes += pass_bytes;
    b.finish_op(r);
    r.dram_bytes = (r.counts.dram.bits_read + r.counts.dram.bits_written) / 8;
    r.roofline = roofline_of(r, cfg);
    out.push_back(std::move(r));
  }
  if (progress) progress("map", static_cast<std::int64_t>(ops.size()), static_cast<std::int64_t>(ops.size()));
  return out;
}

}  // namespace

const char* to_string(ExecutorKind e) { return e == ExecutorKind::kAnalytic ? "analytic" : "cycle"; }

ExecutorKind parse_executor(const std::string& name) {
  if (name == "analytic") return ExecutorKind::kAnalytic;
  if (name == "cycle") return ExecutorKind::kCycle;
  throw std::invalid_argument(fmt::format("--executor = {} is not an executor (analytic, cycle)", name));
}

Workload llm_workload(const models::ModelConfig& model, const models::WorkloadSpec& spec) {
  Workload w;
  w.model = model.name;
  w.spec = spec;
  w.ops = models::build_workload(model, spec);
  w.units = static_cast<std::int64_t>(spec.batch) *
            (model.is_decoder() ? (spec.phase == models::Phase::kPrefill ? spec.seq : 1) : model.num_patches() + 1);
  w.description = spec.phase == models::Phase::kDecode
                      ? fmt::format("decode, batch {}, context {}", spec.batch, spec.seq)
                      : fmt::format("prefill, batch {}, {} tokens per sequence", spec.batch, spec.seq);
  w.norm = model.norm;
  w.activation = model.activation;
  return w;
}

CompiledWorkload compile_workload(const Workload& model, const sim::AcceleratorConfig& cfg, const Progress& progress) {
  CompiledWorkload cw;
  EmittingBuilder b(cfg, cw.program);
  cw.ops = build_ops(model, cfg, progress, b);
  return cw;
}

CostedWorkload cost_workload(const Workload& model, const sim::AcceleratorConfig& cfg, const Progress& progress) {
  CostingBuilder b(cfg);
  CostedWorkload c;
  c.ops = build_ops(model, cfg, progress, b);
  c.instructions = b.size();
  return c;
}

SimulationReport simulate(const models::ModelConfig& model, const models::WorkloadSpec& spec, const sim::AcceleratorConfig& cfg,
                          ExecutorKind executor, const Progress& progress) {
  return simulate(llm_workload(model, spec), cfg, executor, progress);
}

SimulationReport simulate(const Workload& model, const sim::AcceleratorConfig& cfg, ExecutorKind executor, const Progress& progress) {
  // The analytic executor costs the program in closed form; the cycle executor runs it.
  CompiledWorkload cw;
  std::int64_t instructions = 0;
  if (executor == ExecutorKind::kAnalytic) {
    CostedWorkload c = cost_workload(model, cfg, progress);
    cw.ops = std::move(c.ops);
    instructions = c.instructions;
  } else {
    cw = compile_workload(model, cfg, progress);
    instructions = static_cast<std::int64_t>(cw.program.code.size());
  }
  const sim::TechTable tech = sim::load_tech_table(cfg.tech);
  SimulationReport rep;
  rep.hw = cfg.name;
  rep.model = model.model;
  rep.executor = to_string(executor);
  rep.spec = model.spec;
  rep.description = model.description;
  rep.unit = model.unit;
  rep.clock_mhz = cfg.clock_mhz;
  rep.tokens = model.units;
  rep.instructions = instructions;
  rep.notes = modelling_notes(model, cfg);

  if (executor == ExecutorKind::kCycle) {
#if !MIXPE_WITH_SYSTEMC
    throw std::invalid_argument("--executor = cycle needs the SystemC model: rebuild with -DMIXPE_BUILD_SIM=ON");
#else
    // sc_stop's info message goes to stdout, where it would corrupt `--json -`.
    sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
    sim::RunOptions options;
    if (progress) options.progress = [&](std::int64_t done, std::int64_t total) { progress("simulate", done, total); };
    const sim::RunResult run = sim::run_program(cfg, cw.program, options);
    // An op's latency is how far it moves the finish line: the latest end among its instructions
    // and all earlier ones, minus the same for the ops before it.
    std::int64_t finish = 0;
    for (OpResult& r : cw.ops) {
      std::int64_t end = finish;
      for (std::int64_t i = r.first_instr; i < r.end_instr; ++i) end = std::max(end, run.timing[static_cast<std::size_t>(i)].end);
      r.cycles = end - finish;
      finish = end;
    }
    rep.total_cycles = run.stats.cycles.total;
    rep.energy = run.stats.energy;
#endif
  }
  std::int64_t useful_macs = 0;
  for (std::size_t i = 0; i < cw.ops.size(); ++i) {
    OpResult& r = cw.ops[i];
    r.counts.cycles.total = r.cycles;
    r.energy = sim::compute_energy(r.counts, cfg, tech);
    useful_macs += r.op.macs();
    if (executor == ExecutorKind::kAnalytic) {
      rep.total_cycles += r.cycles;
      rep.energy += r.energy;
    }

  }
  try {
    rep.area_mm2 = sim::estimate_area(cfg, tech, sim::load_unit_areas()).total_mm2();
  } catch (const std::exception& e) {
    rep.notes.push_back(fmt::format("no area estimate: {}", e.what()));
  }
  const double macs_per_cycle = static_cast<double>(cfg.rows) * cfg.cols * sim::macs_per_pe_cycle(sim::array_mode_of(cfg), cfg.weight_bits);
  rep.peak_ops_per_s = 2.0 * macs_per_cycle * cfg.clock_mhz * 1e6;
  rep.peak_dram_bytes_per_s = static_cast<double>(cfg.dram.bus_bits) * cfg.dram.data_rate * cfg.dram.clock_mhz * 1e6 / 8.0;
  for (const OpResult& r : cw.ops) {
    rep.roofline_cycles += r.roofline.cycles();
    if (r.roofline.memory_cycles > r.roofline.compute_cycles) rep.memory_bound_roofline_cycles += r.roofline.cycles();
    rep.compulsory_dram_bytes += r.compulsory_dram_bytes;
  }
  // Against the design's peak MACs per cycle (BitFusion's fused modes count 2 or 4 per PE-cycle).
  rep.utilization = rep.total_cycles > 0 ? static_cast<double>(useful_macs) / (macs_per_cycle * rep.total_cycles) : 0.0;
  rep.ops = std::move(cw.ops);
  return rep;
}

}  // namespace mixpe::runtime
