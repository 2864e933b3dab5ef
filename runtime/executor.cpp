// Workload compilation (mapping + program emission), event counting, and the two executors.
#include "runtime/executor.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

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

// Vector ops work on OBUF-resident FP32 rows, in chunks that fit half of OBUF.
void emit_vector(const models::Op& op, sim::VectorOp vop, const sim::AcceleratorConfig& cfg, sim::Program& prog) {
  const std::int64_t half = cfg.obuf.size_bytes() / 2;
  const std::int64_t cols = std::min<std::int64_t>(op.width, half / 4);
  const std::int64_t rows_total = ceil_div(op.elements, cols);
  const std::int64_t rows_per = std::max<std::int64_t>(1, half / (cols * 4));
  for (std::int64_t r = 0; r < rows_total; r += rows_per) {
    const std::int64_t rows = std::min(rows_per, rows_total - r);
    prog.code.push_back(sim::vector_op(vop, sim::BufferId::kObuf, static_cast<int>(rows), static_cast<int>(cols), 0, 0));
  }
}

// Event counts of instructions [first, end): GEMMs through sim::gemm_events (the accelerator's own
// accounting), DMA and vector ops as the accelerator's units record them.
sim::RunStats count_events(const sim::Program& prog, std::size_t first, std::size_t end, const sim::AcceleratorConfig& cfg) {
  sim::RunStats s;
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
        buf(in.buf).bits_written += in.bytes * 8;
        ++s.dma_load.transfers;
        s.dma_load.bytes += in.bytes;
        break;
      case sim::Opcode::kStore:
        s.dram.bits_written += in.bytes * 8;
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
        buf(in.vbuf).bits_read += elems * 32;
        buf(in.vbuf).bits_written += elems * 32;
        break;
      }
      case sim::Opcode::kBarrier: break;
    }
  }
  return s;
}

// Closed-form cycles of vector instructions run back to back on the vector unit.
std::int64_t vector_cycles(const sim::Program& prog, std::size_t first, std::size_t end, const sim::AcceleratorConfig& cfg) {
  std::int64_t total = 0;
  for (std::size_t i = first; i < end; ++i) {
    const sim::Instruction& in = prog.code[i];
    const std::int64_t elems = static_cast<std::int64_t>(in.rows) * in.cols;
    const std::int64_t compute = cfg.vector_latency_cycles + ceil_div(elems * sim::vector_ops_per_element(in.vop), cfg.vector_lanes);
    total += std::max(compute, ceil_div(elems * 64, cfg.obuf.bits_per_cycle()));
  }
  return total;
}

std::vector<std::string> modelling_notes(const sim::AcceleratorConfig& cfg) {
  return {
      "every op reads its inputs from DRAM and writes its FP32 outputs back (no inter-op fusion); an op starts when the op it "
      "depends on has finished (q/k/v and gate/up projections, which share their input, overlap)",
      fmt::format("attention GEMMs run on the array with the KV cache in the array's weight format (W{} g{})", cfg.weight_bits,
                  cfg.group_size),
      "vector ops (norms, softmax, rotary, activations, residuals) run on OBUF-resident data; their DRAM traffic is not modelled",
      "causal prefill computes the full score matrix (masked tiles are not skipped)",
      "the array is output-stationary (rows = tokens): with M < rows, the remaining rows idle"};
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
  const std::vector<models::Op>& ops = model.ops;
  CompiledWorkload cw;
  std::uint64_t dram_cursor = 0;
  for (const models::Op& op : ops) {
    if (progress) progress("map", static_cast<std::int64_t>(cw.ops.size()), static_cast<std::int64_t>(ops.size()));
    OpResult r;
    r.op = op;
    // An op waits for the result of the one before it, unless both read the same input.
    if (!cw.program.code.empty() && !op.shares_input_with_previous) cw.program.code.push_back(sim::barrier());
    r.first_instr = static_cast<std::int64_t>(cw.program.code.size());
    if (op.is_gemm()) {
      GemmMapping mp = map_gemm({op.m, op.n, op.k, op.count, op.weight_bits}, cfg, op.name);
      emit_gemm(mp, op.count, cfg, cw.program, &dram_cursor);
      r.mapping = fmt::format("{}x{}x{} {}{}", mp.tm, mp.tn, mp.tk, to_string(mp.order),
                              mp.k != op.k ? fmt::format(", K padded {}->{}", op.k, mp.k) : "");
      r.cycles = mp.est_cycles;
    } else {
      emit_vector(op, vector_op_of(op, model), cfg, cw.program);
    }
    r.end_instr = static_cast<std::int64_t>(cw.program.code.size());
    r.counts = count_events(cw.program, r.first_instr, r.end_instr, cfg);
    if (!op.is_gemm()) r.cycles = vector_cycles(cw.program, r.first_instr, r.end_instr, cfg);
    r.dram_bytes = (r.counts.dram.bits_read + r.counts.dram.bits_written) / 8;
    cw.ops.push_back(std::move(r));
  }
  if (progress) progress("map", static_cast<std::int64_t>(ops.size()), static_cast<std::int64_t>(ops.size()));
  return cw;
}

SimulationReport simulate(const models::ModelConfig& model, const models::WorkloadSpec& spec, const sim::AcceleratorConfig& cfg,
                          ExecutorKind executor, const Progress& progress) {
  return simulate(llm_workload(model, spec), cfg, executor, progress);
}

SimulationReport simulate(const Workload& model, const sim::AcceleratorConfig& cfg, ExecutorKind executor, const Progress& progress) {
  CompiledWorkload cw = compile_workload(model, cfg, progress);
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
  rep.instructions = static_cast<std::int64_t>(cw.program.code.size());
  rep.notes = modelling_notes(cfg);

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
  rep.utilization = rep.total_cycles > 0 ? static_cast<double>(useful_macs) / (static_cast<double>(cfg.rows) * cfg.cols * rep.total_cycles) : 0.0;
  rep.ops = std::move(cw.ops);
  return rep;
}

}  // namespace mixpe::runtime
