// SystemC modules of the accelerator: controller, DMA units over the DRAM model and SRAM buffers,
// the array unit driving an ArrayModel from the registry, and the vector unit.
#include "sim/accelerator.h"

#include <algorithm>
#include <cassert>
#include <map>
#include <memory>
#include <stdexcept>

#include <systemc>

#include "sim/array.h"
#include "sim/memory.h"

namespace mixpe::sim {
namespace {

using sc_core::sc_event;
using sc_core::sc_fifo;
using sc_core::sc_module_name;
using sc_core::sc_signal;
using sc_core::sc_time;

enum class Space { kWbuf, kIbuf, kObuf, kDram };
struct Region {
  Space space;
  std::int64_t lo, hi;  // [lo, hi)
  bool write;
};

enum class Busy { kArray, kVector, kDma };
struct Interval {
  std::int64_t start, end;
  Busy what;
};

Space space_of(BufferId b) { return static_cast<Space>(static_cast<int>(b)); }

class Accelerator : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(Accelerator);

  Accelerator(sc_module_name nm, const AcceleratorConfig& cfg, const Program& prog)
      : sc_module(nm),
        q_load_("q_load", cfg.queue_depth),
        q_store_("q_store", cfg.queue_depth),
        q_array_("q_array", cfg.queue_depth),
        q_vector_("q_vector", cfg.queue_depth),
        pc_("pc"),
        busy_load_("busy_load"),
        busy_store_("busy_store"),
        busy_array_("busy_array"),
        busy_vector_("busy_vector"),
        cfg_(cfg),
        prog_(prog),
        dram_(cfg.dram),
        wbuf_("wbuf", cfg.wbuf),
        ibuf_("ibuf", cfg.ibuf),
        obuf_("obuf", cfg.obuf),
        array_(make_array_model(cfg.array_model)),
        period_ps_(static_cast<std::int64_t>(1e6 / cfg.clock_mhz + 0.5)),
        done_(prog.code.size(), 0),
        released_(prog.code.size(), 0),
        deps_(prog.code.size()),
        timing_(prog.code.size()) {
    SC_THREAD(controller);
    SC_THREAD(load_unit);
    SC_THREAD(store_unit);
    SC_THREAD(array_unit);
    SC_THREAD(array_retire);
    SC_THREAD(vector_unit);
  }

  void trace(sc_core::sc_trace_file* tf) const {
    sc_core::sc_trace(tf, pc_, "pc");
    sc_core::sc_trace(tf, busy_load_, "busy_load");
    sc_core::sc_trace(tf, busy_store_, "busy_store");
    sc_core::sc_trace(tf, busy_array_, "busy_array");
    sc_core::sc_trace(tf, busy_vector_, "busy_vector");
  }

  RunResult report(const TechTable& tech) {
    RunResult r;
    RunStats& s = r.stats;
    s.config_name = cfg_.name;
    s.rows = cfg_.rows;
    s.cols = cfg_.cols;
    s.clock_mhz = cfg_.clock_mhz;
    s.instructions = static_cast<std::int64_t>(prog_.code.size());
    s.array = array_stats_;
    s.dma_load = load_stats_;
    s.dma_store = store_stats_;
    s.vector = vector_stats_;
    s.wbuf = wbuf_.stats();
    s.ibuf = ibuf_.stats();
    s.obuf = obuf_.stats();
    s.dram = dram_.stats();
    s.cycles = attribute();
    s.energy = compute_energy(s, cfg_, tech);
    r.timing = timing_;
    r.outputs = std::move(outputs_);
    return r;
  }

  void set_progress(std::function<void(std::int64_t, std::int64_t)> f) { progress_ = std::move(f); }
  void set_array_model(std::unique_ptr<ArrayModel> m) { array_ = std::move(m); }

 private:
  std::int64_t now_cycle() const { return static_cast<std::int64_t>(sc_core::sc_time_stamp().value()) / period_ps_; }
  std::int64_t now_ps() const { return static_cast<std::int64_t>(sc_core::sc_time_stamp().value()); }
  void wait_cycles(std::int64_t n) {
    if (n > 0) wait(sc_time(static_cast<double>(n * period_ps_), sc_core::SC_PS));
  }

  std::vector<Region> regions(const Instruction& in) const {
    switch (in.op) {
      case Opcode::kLoad:
        return {{space_of(in.buf), in.sram_addr, in.sram_addr + in.bytes, true},
                {Space::kDram, static_cast<std::int64_t>(in.dram_addr), static_cast<std::int64_t>(in.dram_addr) + in.bytes, false}};
      case Opcode::kStore:
        return {{space_of(in.buf), in.sram_addr, in.sram_addr + in.bytes, false},
                {Space::kDram, static_cast<std::int64_t>(in.dram_addr), static_cast<std::int64_t>(in.dram_addr) + in.bytes, true}};
      case Opcode::kGemm: {
        const GemmFootprint f = gemm_footprint(in, cfg_);
        std::vector<Region> r = {{Space::kIbuf, in.act_addr, in.act_addr + f.act_bytes, false},
                                 {Space::kWbuf, in.wgt_addr, in.wgt_addr + f.wgt_bytes, false},
                                 {Space::kObuf, in.out_addr, in.out_addr + f.out_bytes, true}};
        return r;
      }
      case Opcode::kVector: {
        const std::int64_t bytes = static_cast<std::int64_t>(in.rows) * in.cols * 4;
        return {{space_of(in.vbuf), in.src_addr, in.src_addr + bytes * in.inputs, false},
                {space_of(in.vbuf), in.dst_addr, in.dst_addr + bytes, true}};
      }
      case Opcode::kBarrier: return {};
    }
    return {};
  }

  enum class Hazard { kNone, kReads, kWrites };
  // How `b` (a later instruction) depends on in-flight `a`: only through a's reads (a load into a
  // buffer range a GEMM still reads), or through a's writes.
  static Hazard conflict(const std::vector<Region>& a, const std::vector<Region>& b) {
    Hazard h = Hazard::kNone;
    for (const auto& x : a)
      for (const auto& y : b)
        if (x.space == y.space && (x.write || y.write) && x.lo < y.hi && y.lo < x.hi) {
          if (x.write) return Hazard::kWrites;
          h = Hazard::kReads;
        }
    return h;
  }

  // A dependency on an instruction's reads is met once it has released them (a GEMM: when its
  // last operand has entered the array), one on its writes when it has finished.
  bool deps_done(int idx) const {
    for (const auto& [d, reads_only] : deps_[idx])
      if (!(reads_only ? released_[d] : done_[d])) return false;
    return true;
  }

  void finish(int idx, std::int64_t start) {
    timing_[idx].start = start;
    timing_[idx].end = now_cycle();
    done_[idx] = 1;
    released_[idx] = 1;
    done_event_.notify(sc_core::SC_ZERO_TIME);
    ++completed_;
    const std::int64_t total = static_cast<std::int64_t>(prog_.code.size());
    if (progress_ && (completed_ % std::max<std::int64_t>(1, total / 100) == 0 || completed_ == total)) progress_(completed_, total);
  }

  // In-order issue, one instruction per cycle; each instruction records which in-flight earlier
  // instructions touch an overlapping buffer or DRAM range with a write (RAW, WAR, WAW).
  void controller() {
    std::vector<int> inflight;
    for (std::size_t i = 0; i < prog_.code.size(); ++i) {
      const int idx = static_cast<int>(i);
      const Instruction& in = prog_.code[i];
      pc_.write(idx);
      timing_[idx].issue = now_cycle();
      inflight.erase(std::remove_if(inflight.begin(), inflight.end(), [&](int j) { return done_[j] != 0; }), inflight.end());
      if (in.op == Opcode::kBarrier) {
        const std::int64_t start = now_cycle();
        while (std::any_of(inflight.begin(), inflight.end(), [&](int j) { return done_[j] == 0; })) wait(done_event_);
        inflight.clear();
        finish(idx, start);
        wait_cycles(1);
        continue;
      }
      const auto mine = regions(in);
      for (int j : inflight) {
        // The array runs GEMMs in order and writes their outputs in order (a GEMM of another tile
        // shape waits for the drain), so one GEMM never waits for an earlier one's outputs.
        if (in.op == Opcode::kGemm && prog_.code[j].op == Opcode::kGemm) continue;
        if (const Hazard h = conflict(regions(prog_.code[j]), mine); h != Hazard::kNone) deps_[idx].push_back({j, h == Hazard::kReads});
      }
      inflight.push_back(idx);
      switch (in.op) {
        case Opcode::kLoad: q_load_.write(idx); break;
        case Opcode::kStore: q_store_.write(idx); break;
        case Opcode::kGemm: q_array_.write(idx); break;
        case Opcode::kVector: q_vector_.write(idx); break;
        case Opcode::kBarrier: break;
      }
      wait_cycles(1);
    }
    while (std::any_of(done_.begin(), done_.end(), [](char d) { return d == 0; })) wait(done_event_);
    end_cycle_ = now_cycle();
    sc_core::sc_stop();
  }

  int next(sc_fifo<int>& q) {
    int idx = -1;
    q.read(idx);  // the by-reference form: read() returning a value trips -Wmaybe-uninitialized in sc_fifo.h
    while (!deps_done(idx)) wait(done_event_);
    return idx;
  }

  SramBuffer& buffer(BufferId b) { return b == BufferId::kWbuf ? wbuf_ : b == BufferId::kIbuf ? ibuf_ : obuf_; }

  void dma(sc_fifo<int>& q, sc_signal<bool>& busy, DmaUnitStats& st, bool store) {
    for (;;) {
      const int idx = next(q);
      const Instruction& in = prog_.code[idx];
      const std::int64_t start = now_cycle();
      busy.write(true);
      SramBuffer& buf = buffer(in.buf);
      const std::int64_t bits = in.bytes * 8;
      const std::int64_t t0 = now_ps();
      const std::int64_t dram_done = dram_.access(t0, in.dram_addr, static_cast<std::uint64_t>(in.bytes), store);
      const std::int64_t sram_done = t0 + buf.access_cycles(bits) * period_ps_;
      const std::int64_t end = std::max(dram_done, sram_done);
      if (store) buf.record_read(bits);
      else buf.record_write(bits);
      buf.touch(in.sram_addr, in.bytes);
      const std::int64_t cycles = (end - t0 + period_ps_ - 1) / period_ps_;
      wait_cycles(cycles);
      busy.write(false);
      ++st.transfers;
      st.bytes += in.bytes;
      st.busy_cycles += cycles;
      intervals_.push_back({start, start + cycles, Busy::kDma});
      finish(idx, start);
    }
  }
  void load_unit() { dma(q_load_, busy_load_, load_stats_, false); }
  void store_unit() { dma(q_store_, busy_store_, store_stats_, true); }

  // A GEMM whose tiles have the shape of the previous one continues its stream: it starts feeding
  // when the previous one has issued its last tile, while that one drains (docs/array.md); a GEMM
  // of another shape waits for the drain. Each GEMM retires when its last output is written.
  void array_unit() {
    bool have_prev = false;
    ArrayShape prev_shape;
    std::int64_t drained_at = 0;
    for (;;) {
      const int idx = next(q_array_);
      const Instruction& in = prog_.code[idx];
      const ArrayShape shape = gemm_tile_shape(in, cfg_);
      if (have_prev && !same_stream_shape(prev_shape, shape) && now_cycle() < drained_at) wait_cycles(drained_at - now_cycle());
      const std::int64_t start = now_cycle();
      busy_array_.write(true);
      const GemmEvents ev = gemm_events(in, cfg_);
      const std::int64_t tiles = ev.tiles;
      StreamResult res;
      if (in.payload >= 0) {
        res = array_->run_stream(prog_.payloads[in.payload]);
        outputs_[static_cast<std::size_t>(idx)] = res.y;
      } else if (array_->name() == "tile") {
        // Timing only: the tile model's cycles and counts are closed form, no operands needed.
        res.cycles = ev.stream_cycles;
        res.drain_stall_cycles = ev.drain_stall_cycles;
        res.load_stall_cycles = ev.load_stall_cycles;
        res.pe_macs = ev.pe_macs;
        res.dequant_ops = ev.dequant_ops;
        res.edge_ops = ev.edge_ops;
      } else {
        // Cycle models need operands; cycles do not depend on their values.
        res = array_->run_stream(gemm_zero_tiles(in, cfg_));
      }
      ibuf_.record_read(ev.ibuf_read_bits);
      wbuf_.record_read(ev.wbuf_read_bits);
      obuf_.record_write(ev.obuf_write_bits);
      if (ev.obuf_read_bits > 0) obuf_.record_read(ev.obuf_read_bits);
      const std::int64_t cycles = std::max(res.cycles, ev.buffer_cycles);
      const std::int64_t held = std::max<std::int64_t>(1, cycles - (res.cycles - ev.issue_cycles));
      ArrayUnitStats& st = array_stats_;
      ++st.gemms;
      st.tiles += tiles;
      st.busy_cycles += start + cycles - std::max(start, std::min(drained_at, start + cycles));
      st.drain_stall_cycles += res.drain_stall_cycles;
      st.load_stall_cycles += res.load_stall_cycles;
      st.buffer_stall_cycles += cycles - res.cycles;
      st.pe_macs += res.pe_macs;
      st.pe_macs_by_mode[std::string(to_string(in.mode))] += res.pe_macs;
      st.dequant_ops += res.dequant_ops;
      st.edge_ops += res.edge_ops;
      intervals_.push_back({start, start + cycles, Busy::kArray});
      have_prev = true;
      prev_shape = shape;
      drained_at = start + cycles;
      // Input buffers are free once the last operand is read (with buffer stalls, at the end of
      // the held time); the outputs are written at the end of the drain.
      const std::int64_t release = std::max(held, std::min(cycles, ev.release_cycles));
      retire_.insert({start + release, {idx, false, start}});
      retire_.insert({drained_at, {idx, true, start}});
      retire_event_.notify(sc_core::SC_ZERO_TIME);
      wait_cycles(held);
      busy_array_.write(false);
    }
  }

  // Releases each GEMM's input buffers when its last operand has been read, and retires it when
  // its last output is written (GEMMs overlap in the array), in time order.
  void array_retire() {
    for (;;) {
      while (retire_.empty()) wait(retire_event_);
      const auto it = retire_.begin();
      if (now_cycle() < it->first) {
        wait(sc_time(static_cast<double>((it->first - now_cycle()) * period_ps_), sc_core::SC_PS), retire_event_);
        continue;  // an earlier event may have been queued meanwhile
      }
      const RetireEvent e = it->second;
      retire_.erase(it);
      if (e.finish) {
        finish(e.idx, e.start);
      } else {
        released_[static_cast<std::size_t>(e.idx)] = 1;
        done_event_.notify(sc_core::SC_ZERO_TIME);
      }
    }
  }

  void vector_unit() {
    for (;;) {
      const int idx = next(q_vector_);
      const Instruction& in = prog_.code[idx];
      const std::int64_t start = now_cycle();
      busy_vector_.write(true);
      const std::int64_t elems = static_cast<std::int64_t>(in.rows) * in.cols;
      const std::int64_t ops = elems * vector_ops_per_element(in.vop);
      SramBuffer& buf = buffer(in.vbuf);
      buf.record_read(elems * 32 * in.inputs);
      buf.record_write(elems * 32);
      const std::int64_t compute = cfg_.vector_latency_cycles + (ops + cfg_.vector_lanes - 1) / cfg_.vector_lanes;
      const std::int64_t cycles = std::max(compute, buf.access_cycles(elems * 32 * (in.inputs + 1)));
      wait_cycles(cycles);
      busy_vector_.write(false);
      ++vector_stats_.ops;
      vector_stats_.element_ops += ops;
      vector_stats_.busy_cycles += cycles;
      intervals_.push_back({start, start + cycles, Busy::kVector});
      finish(idx, start);
    }
  }

  // Sweeps the busy intervals: each cycle goes to the highest-priority busy unit.
  CycleBreakdown attribute() const {
    CycleBreakdown b;
    b.total = end_cycle_;
    std::vector<std::pair<std::int64_t, std::pair<int, int>>> ev;  // (cycle, (unit, +1/-1))
    for (const auto& iv : intervals_) {
      ev.push_back({iv.start, {static_cast<int>(iv.what), +1}});
      ev.push_back({iv.end, {static_cast<int>(iv.what), -1}});
    }
    std::sort(ev.begin(), ev.end());
    int active[3] = {0, 0, 0};
    std::int64_t prev = 0, array_busy = 0;
    for (const auto& [cyc, e] : ev) {
      const std::int64_t span = cyc - prev;
      if (active[0] > 0) array_busy += span;
      else if (active[1] > 0) b.vector += span;
      else if (active[2] > 0) b.dram_stall += span;
      active[e.first] += e.second;
      prev = cyc;
    }
    b.drain_stall = array_stats_.drain_stall_cycles;
    b.buffer_stall = array_stats_.buffer_stall_cycles;
    b.load_stall = array_stats_.load_stall_cycles;
    b.compute = array_busy - b.drain_stall - b.buffer_stall - b.load_stall;
    b.idle = b.total - array_busy - b.vector - b.dram_stall;
    assert(b.compute >= 0 && b.idle >= 0 && "cycle attribution must partition the run");
    return b;
  }

  sc_fifo<int> q_load_, q_store_, q_array_, q_vector_;
  sc_signal<int> pc_;
  sc_signal<bool> busy_load_, busy_store_, busy_array_, busy_vector_;
  sc_event done_event_;
  struct RetireEvent {
    int idx;
    bool finish;  // false: release the input buffers; true: outputs written
    std::int64_t start;
  };
  std::multimap<std::int64_t, RetireEvent> retire_;  // by cycle
  sc_event retire_event_;

  const AcceleratorConfig& cfg_;
  const Program& prog_;
  DramModel dram_;
  SramBuffer wbuf_, ibuf_, obuf_;
  std::unique_ptr<ArrayModel> array_;
  std::int64_t period_ps_;
  std::vector<char> done_;
  std::int64_t completed_ = 0;
  std::function<void(std::int64_t, std::int64_t)> progress_;
  std::vector<char> released_;
  std::vector<std::vector<std::pair<int, bool>>> deps_;  // (instruction, only its reads)
  std::vector<InstructionTiming> timing_;
  std::vector<Interval> intervals_;
  std::map<std::size_t, std::vector<std::vector<float>>> outputs_;
  ArrayUnitStats array_stats_;
  DmaUnitStats load_stats_, store_stats_;
  VectorUnitStats vector_stats_;
  std::int64_t end_cycle_ = 0;
};

bool g_elaborated = false;

}  // namespace

RunResult run_program(const AcceleratorConfig& cfg, const Program& program, const RunOptions& options) {
  if (g_elaborated) throw std::logic_error("run_program: SystemC elaborates once per process; start a new process per run");
  validate(cfg);
  validate_program(program, cfg);
  const TechTable tech = load_tech_table(options.tech_table.empty() ? cfg.tech : options.tech_table);
  g_elaborated = true;
  auto top = std::make_unique<Accelerator>("mixpe", cfg, program);
  top->set_progress(options.progress);
  if (options.array_model) top->set_array_model(options.array_model());
  sc_core::sc_trace_file* tf = nullptr;
  if (!options.vcd_path.empty()) {
    tf = sc_core::sc_create_vcd_trace_file(options.vcd_path.c_str());
    tf->set_time_unit(1, sc_core::SC_PS);
    top->trace(tf);
  }
  sc_core::sc_start();
  if (tf != nullptr) sc_core::sc_close_vcd_trace_file(tf);
  return top->report(tech);
}

}  // namespace mixpe::sim
