// GEMM tiling search, closed-form cost and program emission.
#include "runtime/mapper.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "sim/array.h"

namespace mixpe::runtime {
namespace {

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

sim::Instruction gemm_instr(const GemmMapping& mp, std::int64_t m, std::int64_t n, const sim::AcceleratorConfig& cfg) {
  sim::Instruction in = sim::gemm(sim::array_mode_of(cfg), static_cast<int>(m), static_cast<int>(n), static_cast<int>(mp.tk), mp.group, 0, 0, 0);
  in.weight_bits = mp.weight_bits;
  in.dataflow = mp.dataflow;
  return in;
}

sim::GemmEvents gemm_ev(const GemmMapping& mp, std::int64_t m, std::int64_t n, bool accumulate, const sim::AcceleratorConfig& cfg) {
  sim::Instruction in = gemm_instr(mp, m, n, cfg);
  in.accumulate = accumulate;
  return sim::gemm_events(in, cfg);
}

struct Sizes {  // an extent split into full tiles and a last, possibly partial, tile
  std::int64_t full_count, full, last;
  std::int64_t tiles() const { return full_count + (last > 0 ? 1 : 0); }
};
Sizes split(std::int64_t extent, std::int64_t tile) {
  const std::int64_t full_count = extent / tile, last = extent % tile;
  return {full_count, tile, last};
}

std::vector<std::int64_t> tile_candidates(std::int64_t extent, std::int64_t unit) {
  std::vector<std::int64_t> out;
  for (std::int64_t t = unit;; t *= 2) {
    out.push_back(std::min(t, extent));
    if (t >= extent) break;
  }
  return out;
}

}  // namespace

const char* to_string(LoopOrder o) { return o == LoopOrder::kWeightsOuter ? "weights-outer" : "activations-outer"; }

MachineModel::MachineModel(const sim::AcceleratorConfig& cfg) {
  const sim::DramConfig& d = cfg.dram;
  const double bits_per_dram_clock = static_cast<double>(d.bus_bits) * d.data_rate;
  const double refresh_share = d.trefi_ns > 0 ? d.trfc_ns / d.trefi_ns : 0.0;
  dram_bits_per_cycle = bits_per_dram_clock * (d.clock_mhz / cfg.clock_mhz) * (1.0 - refresh_share);
  // A transfer's first burst opens a row: tRCD + tCL before data.
  dram_latency_cycles = static_cast<std::int64_t>((d.trcd_ns + d.tcl_ns) * cfg.clock_mhz / 1000.0 + 0.999);
}

void estimate(GemmMapping& mp, std::int64_t count, const sim::AcceleratorConfig& cfg) {
  const MachineModel mm(cfg);
  const Sizes ms = split(mp.m, mp.tm), ns = split(mp.n, mp.tn);
  const std::int64_t chunks = mp.k / mp.tk;
  auto wbytes = [&](std::int64_t n) { return sim::gemm_footprint(gemm_instr(mp, 1, n, cfg), cfg).wgt_bytes; };
  auto xbytes = [&](std::int64_t m) { return sim::gemm_footprint(gemm_instr(mp, m, 1, cfg), cfg).act_bytes; };
  const std::int64_t w_total = ns.full_count * wbytes(ns.full) + (ns.last ? wbytes(ns.last) : 0);
  const std::int64_t x_total = ms.full_count * xbytes(ms.full) + (ms.last ? xbytes(ms.last) : 0);
  const std::int64_t w_all = w_total * chunks, x_all = x_total * chunks;  // every K chunk once

  // Reloads: a tile is loaded once per pass of the other operand's loop unless it stays resident.
  std::int64_t w_loads, x_loads, w_bytes, x_bytes;
  if (mp.order == LoopOrder::kWeightsOuter) {
    const bool w_resident = chunks == 1;
    w_bytes = w_resident ? w_all : w_all * ms.tiles();
    w_loads = ns.tiles() * chunks * (w_resident ? 1 : ms.tiles());
    const bool x_resident = ms.tiles() == 1 && chunks == 1;
    x_bytes = x_resident ? x_all : x_all * ns.tiles();
    x_loads = x_resident ? 1 : ms.tiles() * ns.tiles() * chunks;
  } else {
    const bool x_resident = chunks == 1;
    x_bytes = x_resident ? x_all : x_all * ns.tiles();
    x_loads = ms.tiles() * chunks * (x_resident ? 1 : ns.tiles());
    const bool w_resident = ns.tiles() == 1 && chunks == 1;
    w_bytes = w_resident ? w_all : w_all * ms.tiles();
    w_loads = w_resident ? 1 : ms.tiles() * ns.tiles() * chunks;
  }
  const std::int64_t y_bytes = mp.m * mp.n * 4;
  const std::int64_t stores = ms.tiles() * ns.tiles();

  // The array unit's charge (sim/accelerator.cpp): GEMMs of one tile shape stream back to back and
  // only the last drains; a change of shape (a weight-stationary GEMM's partial row tile) drains.
  std::int64_t compute = 0, macs = 0;
  using Part = std::pair<std::int64_t, std::int64_t>;  // (how many tiles, their extent)
  const Part m_parts[] = {{ms.full_count, ms.full}, {ms.last ? 1 : 0, ms.last}};
  const Part n_parts[] = {{ns.full_count, ns.full}, {ns.last ? 1 : 0, ns.last}};
  std::int64_t tail[2] = {0, 0};
  // With two weight slots, the weight load after next waits until this GEMM has read its last
  // weight (release), so a GEMM that loads new weights takes at least (release + load) / 2. The
  // share of GEMMs that load weights follows the loop order (w_loads of all instructions).
  const double load_share = static_cast<double>(w_loads) / static_cast<double>(ms.tiles() * ns.tiles() * chunks);
  double paired = 0;
  for (int mi = 0; mi < 2; ++mi) {
    const auto& [mc, msz] = m_parts[mi];
    for (const auto& [nc, nsz] : n_parts) {
      if (mc == 0 || nc == 0) continue;
      const sim::GemmEvents first = gemm_ev(mp, msz, nsz, false, cfg), rest = gemm_ev(mp, msz, nsz, true, cfg);
      compute += mc * nc * (first.occupancy() + (chunks - 1) * rest.occupancy());
      const double w_load = static_cast<double>(wbytes(nsz)) * 8.0 / mm.dram_bits_per_cycle + static_cast<double>(mm.dram_latency_cycles);
      const double held = static_cast<double>(std::max(first.occupancy(), std::min(first.cycles(), first.release_cycles)));
      const double instrs = static_cast<double>(mc * nc * chunks);
      paired += instrs * (load_share * std::max(static_cast<double>(first.occupancy()), (held + w_load) / 2.0) +
                          (1.0 - load_share) * static_cast<double>(first.occupancy()));
      macs += mc * nc * chunks * first.pe_macs;
      tail[mi] = std::max(tail[mi], first.tail_cycles());
    }
  }
  // Drains: one at the end of the stream (instances of the GEMM continue one another's stream),
  // plus one at each change of shape inside an instance.
  const bool two_shapes = ms.full_count > 0 && ms.last > 0 &&
                          !sim::same_stream_shape(sim::gemm_tile_shape(gemm_instr(mp, ms.full, mp.tn, cfg), cfg),
                                                  sim::gemm_tile_shape(gemm_instr(mp, ms.last, mp.tn, cfg), cfg));
  // One shape: one drain at the end of the stream (instances continue one another's stream).
  const std::int64_t final_drain = two_shapes ? 0 : std::max(tail[0], tail[1]);
  if (two_shapes) {
    // Weights-outer visits the full row tiles, then the partial one, for every column tile; each
    // further instance starts again on the full shape.
    compute += mp.order == LoopOrder::kWeightsOuter ? ns.tiles() * (tail[0] + tail[1]) - tail[1] : tail[0];
    compute += tail[1];  // per instance, from its partial shape back to the next instance's full one
  }
  mp.gemm_steps = stores * chunks;
  mp.wgt_loads = w_loads;
  mp.act_loads = x_loads;
  mp.stores = stores;
  mp.wgt_load_bytes = w_bytes;
  mp.act_load_bytes = x_bytes;
  mp.instructions = (mp.gemm_steps + w_loads + x_loads + stores) * count;
  mp.compute_cycles = compute + final_drain;
  mp.dram_read_bytes = w_bytes + x_bytes;
  mp.dram_write_bytes = y_bytes;
  const double bw = mm.dram_bits_per_cycle;
  const double load_cycles = (w_bytes + x_bytes) * 8.0 / bw + static_cast<double>(w_loads + x_loads) * mm.dram_latency_cycles;
  const double store_cycles = y_bytes * 8.0 / bw + static_cast<double>(stores) * mm.dram_latency_cycles;
  // Double buffering overlaps memory and compute in steady state; the first loads and the last
  // store cannot overlap anything.
  const double first = (wbytes(std::min(mp.tn, mp.n)) + xbytes(std::min(mp.tm, mp.m))) * 8.0 / bw + 2.0 * mm.dram_latency_cycles;
  const double last = std::min(mp.tm, mp.m) * std::min(mp.tn, mp.n) * 32.0 / bw + mm.dram_latency_cycles;
  const double steady = std::max({static_cast<double>(compute * count + final_drain), (load_cycles + store_cycles) * count,
                                   paired * static_cast<double>(count)});
  mp.est_cycles = static_cast<std::int64_t>(steady + first + last + 0.5);
  mp.pe_macs = macs * count;
}

GemmMapping map_gemm(const GemmProblem& p, const sim::AcceleratorConfig& cfg, const std::string& name) {
  if (p.m <= 0 || p.n <= 0 || p.k <= 0 || p.count <= 0) {
    throw std::invalid_argument(fmt::format("{}: GEMM shape M={} N={} K={} x{} must be positive", name, p.m, p.n, p.k, p.count));
  }
  const sim::ArrayMode mode = sim::array_mode_of(cfg);
  GemmMapping base;
  base.m = p.m;
  base.n = p.n;
  base.k = p.k;
  base.group = cfg.group_size;
  base.weight_bits = p.weight_bits;
  if ((sim::per_channel_mode(mode) && mode != sim::ArrayMode::kFp16) || base.group == -1 || p.k < base.group) {
    base.group = -1;  // one group over K (per-channel)
  } else {
    base.k = ceil_div(p.k, base.group) * base.group;  // zero-pad K to whole groups
  }
  // The weight-stationary array needs R to divide the group (a weight tile's K-rows in one group)
  // and load lanes at least one code wide; the config checks its own group, but a GEMM may carry
  // weights of another group or width (a GGUF model's, 8-bit DFT matrices).
  const int wbits = p.weight_bits > 0 ? p.weight_bits : cfg.weight_bits;
  const bool ws_ok = sim::ws_supported(mode) && (base.group == -1 || base.group % cfg.rows == 0) && cfg.ws_load_bits >= wbits;
  std::vector<GemmMapping> flows;  // one base mapping per dataflow on offer
  if (cfg.dataflow != sim::ArrayDataflow::kWs) flows.push_back(base);
  if (cfg.dataflow != sim::ArrayDataflow::kOs && ws_ok) {
    GemmMapping b = base;
    b.dataflow = sim::Dataflow::kWs;
    // Weight-stationary tiles hold R K-rows: a per-channel K is zero-padded to whole tiles.
    if (b.group == -1) b.k = ceil_div(p.k, cfg.rows) * cfg.rows;
    flows.push_back(b);
  }
  if (flows.empty()) {
    throw std::invalid_argument(fmt::format("{}: the weight-stationary array of {} cannot run this GEMM (group {} is not a multiple of "
                                            "its {} rows, or W{} codes are wider than its {} load bits)",
                                            name, cfg.name, base.group, cfg.rows, wbits, cfg.ws_load_bits));
  }
  // K chunks accumulate in OBUF. A grouped GEMM chunks at whole groups; a per-channel one (the INT8
  // baseline's int32 partial sums) at multiples of 128 (and of R when weight-stationary). Chunks
  // change the FP32 summation (docs/numerics.md), so K is chunked only when no tiling of the whole
  // K fits in any dataflow; then every chunk size competes on cost (fewer chunks can mean more
  // activation reloads).
  auto chunk_sizes = [&](const GemmMapping& b) {
    std::vector<std::int64_t> tks;
    for (std::int64_t t = b.group == -1 ? 128 : b.group; t < b.k; t *= 2)
      if (b.k % t == 0 && (b.dataflow == sim::Dataflow::kOs || t % cfg.rows == 0)) tks.push_back(t);
    return tks;
  };
  auto fits = [&](GemmMapping mp, std::int64_t tm, std::int64_t tn) {
    mp.tm = tm, mp.tn = tn;
    const sim::GemmFootprint f = sim::gemm_footprint(gemm_instr(mp, tm, tn, cfg), cfg);
    // Double buffering: each operand tile may use half of its buffer.
    return 2 * f.act_bytes <= cfg.ibuf.size_bytes() && 2 * f.wgt_bytes <= cfg.wbuf.size_bytes() && 2 * f.out_bytes <= cfg.obuf.size_bytes();
  };
  GemmMapping best;
  bool found = false;
  std::int64_t smallest_tk = base.k;  // for the message when nothing fits
  auto search = [&](bool whole_k) {
    for (const GemmMapping& b : flows) {
      for (std::int64_t tk : whole_k ? std::vector<std::int64_t>{b.k} : chunk_sizes(b)) {
        smallest_tk = std::min(smallest_tk, tk);
        for (std::int64_t tm : tile_candidates(p.m, cfg.rows)) {
          for (std::int64_t tn : tile_candidates(p.n, cfg.cols)) {
            GemmMapping mp = b;
            mp.tk = tk;
            if (!fits(mp, tm, tn)) continue;
            mp.tm = tm;
            mp.tn = tn;
            for (LoopOrder order : {LoopOrder::kWeightsOuter, LoopOrder::kActivationsOuter}) {
              mp.order = order;
              estimate(mp, p.count, cfg);
              // The controller issues one instruction per cycle: charging that keeps the search from
              // trading a few cycles of first-load latency for many small tiles.
              const auto key = [](const GemmMapping& g) {
                return std::pair{g.est_cycles + g.instructions, g.dram_read_bytes + g.dram_write_bytes};
              };
              if (!found || key(mp) < key(best)) {
                best = mp;
                found = true;
              }
            }
          }
        }
      }
    }
  };
  search(true);
  if (!found) search(false);
  if (!found) {
    throw std::invalid_argument(fmt::format(
        "{}: no tiling of M={} N={} K={} fits the buffers of {} (even one {}x{} tile with K chunk {} exceeds half of IBUF {} KiB, "
        "WBUF {} KiB or OBUF {} KiB)", name, p.m, p.n, p.k, cfg.name, cfg.rows, cfg.cols, smallest_tk, cfg.ibuf.size_kib,
        cfg.wbuf.size_kib, cfg.obuf.size_kib));
  }
  return best;
}

void walk_gemm(const GemmMapping& mp, std::int64_t count, const sim::AcceleratorConfig& cfg, std::uint64_t* dram_cursor,
               const InstructionVisitor& visit) {
  const Sizes ms = split(mp.m, mp.tm), ns = split(mp.n, mp.tn);
  const std::int64_t chunks = mp.k / mp.tk;
  const sim::GemmFootprint full = sim::gemm_footprint(gemm_instr(mp, mp.tm, mp.tn, cfg), cfg);
  const std::int64_t ihalf = cfg.ibuf.size_bytes() / 2, whalf = cfg.wbuf.size_bytes() / 2;
  // Output tiles rotate through as many OBUF slots as fit (up to 8): a small tile's store, which
  // waits for the array's drain, then does not hold up the GEMMs behind it.
  const std::int64_t y_slots = std::clamp<std::int64_t>(cfg.obuf.size_bytes() / std::max<std::int64_t>(1, full.out_bytes), 2, 8);
  const std::int64_t y_stride = cfg.obuf.size_bytes() / y_slots;
  const bool weights_outer = mp.order == LoopOrder::kWeightsOuter;
  const std::int64_t outer = weights_outer ? ns.tiles() : ms.tiles(), inner = weights_outer ? ms.tiles() : ns.tiles();
  const std::uint64_t start = *dram_cursor;
  const auto instance_bytes = static_cast<std::uint64_t>(full.wgt_bytes * ns.tiles() * chunks + full.act_bytes * ms.tiles() * chunks +
                                                         full.out_bytes * ms.tiles() * ns.tiles());
  *dram_cursor = start + instance_bytes * static_cast<std::uint64_t>(count);
  int x_slot = 1, w_slot = 1;
  std::int64_t y_slot = y_slots - 1;
  std::size_t index = 0;
  const GemmPlacement none;
  auto emit = [&](const sim::Instruction& in, const GemmPlacement& where) {
    ++index;
    return visit(in, where);
  };
  for (std::int64_t inst = 0; inst < count; ++inst) {
    const std::uint64_t w_base = start + instance_bytes * static_cast<std::uint64_t>(inst);
    const std::uint64_t x_base = w_base + static_cast<std::uint64_t>(full.wgt_bytes * ns.tiles() * chunks);
    const std::uint64_t y_base = x_base + static_cast<std::uint64_t>(full.act_bytes * ms.tiles() * chunks);
    std::int64_t last_x = -1, last_w = -1;  // (tile, chunk) keys of what the slots hold
    for (std::int64_t o = 0; o < outer; ++o) {
      for (std::int64_t i = 0; i < inner; ++i) {
        const std::int64_t mt = weights_outer ? i : o, nt = weights_outer ? o : i;
        const std::int64_t m = mt < ms.full_count ? ms.full : ms.last, n = nt < ns.full_count ? ns.full : ns.last;
        const sim::GemmFootprint f = sim::gemm_footprint(gemm_instr(mp, m, n, cfg), cfg);
        y_slot = (y_slot + 1) % y_slots;
        for (std::int64_t kc = 0; kc < chunks; ++kc) {
          const std::int64_t xkey = mt * chunks + kc, wkey = nt * chunks + kc;
          if (xkey != last_x) {
            x_slot ^= 1;
            if (!emit(sim::dma_load(sim::BufferId::kIbuf, x_slot * ihalf, x_base + static_cast<std::uint64_t>(xkey * full.act_bytes), f.act_bytes), none))
              return;
            last_x = xkey;
          }
          if (wkey != last_w) {
            w_slot ^= 1;
            if (!emit(sim::dma_load(sim::BufferId::kWbuf, w_slot * whalf, w_base + static_cast<std::uint64_t>(wkey * full.wgt_bytes), f.wgt_bytes), none))
              return;
            last_w = wkey;
          }
          sim::Instruction g = sim::gemm(sim::array_mode_of(cfg), static_cast<int>(m), static_cast<int>(n), static_cast<int>(mp.tk), mp.group,
                                         x_slot * ihalf, w_slot * whalf, y_slot * y_stride, kc > 0, kc == chunks - 1);
          g.weight_bits = mp.weight_bits;
          g.dataflow = mp.dataflow;
          if (!emit(g, {index, inst, mt * mp.tm, nt * mp.tn, kc * mp.tk, m, n, mp.tk})) return;
        }
        const std::int64_t ytile = mt * ns.tiles() + nt;
        if (!emit(sim::dma_store(sim::BufferId::kObuf, y_slot * y_stride, y_base + static_cast<std::uint64_t>(ytile * full.out_bytes), m * n * 4), none))
          return;
      }
    }
  }
}

void emit_gemm(const GemmMapping& mp, std::int64_t count, const sim::AcceleratorConfig& cfg, sim::Program& prog,
               std::uint64_t* dram_cursor, std::vector<GemmPlacement>* placements) {
  const std::size_t first = prog.code.size();
  walk_gemm(mp, count, cfg, dram_cursor, [&](const sim::Instruction& in, const GemmPlacement& where) {
    if (placements != nullptr && in.op == sim::Opcode::kGemm) {
      GemmPlacement p = where;
      p.instr = first + where.instr;
      placements->push_back(p);
    }
    prog.code.push_back(in);
    return true;
  });
}

sim::RunStats gemm_counts(const GemmMapping& mp, std::int64_t count, const sim::AcceleratorConfig& cfg) {
  sim::RunStats s;
  const Sizes ms = split(mp.m, mp.tm), ns = split(mp.n, mp.tn);
  const std::int64_t chunks = mp.k / mp.tk;
  s.instructions = mp.instructions;
  s.dma_load.transfers = (mp.wgt_loads + mp.act_loads) * count;
  s.dma_load.bytes = (mp.wgt_load_bytes + mp.act_load_bytes) * count;
  s.dma_store.transfers = mp.stores * count;
  s.dma_store.bytes = mp.dram_write_bytes * count;
  s.dram.bits_read = s.dma_load.bytes * 8;
  s.dram.bits_written = s.dma_store.bytes * 8;
  s.wbuf.bits_written = mp.wgt_load_bytes * count * 8;
  s.ibuf.bits_written = mp.act_load_bytes * count * 8;
  s.obuf.bits_read = s.dma_store.bytes * 8;
  using Part = std::pair<std::int64_t, std::int64_t>;  // (how many tiles, their extent)
  const Part m_parts[] = {{ms.full_count, ms.full}, {ms.last ? 1 : 0, ms.last}};
  const Part n_parts[] = {{ns.full_count, ns.full}, {ns.last ? 1 : 0, ns.last}};
  for (const auto& [mc, msz] : m_parts) {
    for (const auto& [nc, nsz] : n_parts) {
      if (mc == 0 || nc == 0) continue;
      // The first K chunk of an output tile writes OBUF; the later ones also read it back.
      for (const bool accumulate : {false, true}) {
        const std::int64_t n_instr = mc * nc * (accumulate ? chunks - 1 : 1) * count;
        if (n_instr == 0) continue;
        const sim::GemmEvents ev = gemm_ev(mp, msz, nsz, accumulate, cfg);
        s.array.gemms += n_instr;
        s.array.tiles += n_instr * ev.tiles;
        s.array.pe_macs += n_instr * ev.pe_macs;
        s.array.dequant_ops += n_instr * ev.dequant_ops;
        s.array.edge_ops += n_instr * ev.edge_ops;
        s.ibuf.bits_read += n_instr * ev.ibuf_read_bits;
        s.wbuf.bits_read += n_instr * ev.wbuf_read_bits;
        s.obuf.bits_written += n_instr * ev.obuf_write_bits;
        s.obuf.bits_read += n_instr * ev.obuf_read_bits;
      }
    }
  }
  if (s.array.gemms > 0) s.array.pe_macs_by_mode[std::string(sim::to_string(sim::array_mode_of(cfg)))] = s.array.pe_macs;
  return s;
}

}  // namespace mixpe::runtime
