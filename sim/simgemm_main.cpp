// mixpe_simgemm: one timing-only GEMM on a hardware preset through the SystemC accelerator, tiled
// to fit the buffers with double buffering; prints a summary and dumps JSON (a demo, not the runtime's mapper).
#include <cstdio>
#include <numeric>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <systemc>

#include "sim/accelerator.h"

namespace {

using namespace mixpe::sim;

// Output-stationary tiling that fits the buffers: N in chunks whose FP32 outputs fit half of OBUF,
// K in chunks (multiples of g) whose activations and weights fit half of IBUF/WBUF; K chunks
// accumulate into OBUF. Halves alternate, so each load overlaps the previous chunk's GEMM.
Program build_program(const AcceleratorConfig& cfg, int m, int n, int k, int group) {
  const ArrayMode mode = array_mode_of(cfg);
  const int g = group == -1 ? k : group;
  if (g <= 0 || k % g != 0) throw std::invalid_argument(fmt::format("group size {} does not divide K = {}", group, k));
  // Per-channel weights (-1) may still be split along K: each chunk is then per-channel over kc.
  const int gran = group == -1 ? std::gcd(k, 128) : g;
  const int ig = group == -1 ? -1 : g;
  const std::int64_t half_w = cfg.wbuf.size_bytes() / 2, half_i = cfg.ibuf.size_bytes() / 2, half_o = cfg.obuf.size_bytes() / 2;
  auto fp = [&](int mm, int nn, int kk) { return gemm_footprint(gemm(mode, mm, nn, kk, ig, 0, 0, 0), cfg); };
  int nn = cfg.cols;
  while (nn + cfg.cols <= n && fp(m, nn + cfg.cols, g).out_bytes <= half_o) nn += cfg.cols;
  nn = std::min(nn, n);
  int kc = gran;
  while (kc + gran <= k && fp(m, nn, kc + gran).act_bytes <= half_i && fp(m, nn, kc + gran).wgt_bytes <= half_w) kc += gran;
  while (k % kc != 0) kc -= gran;  // equal chunks
  const GemmFootprint f = fp(m, nn, kc);
  if (f.act_bytes > half_i || f.wgt_bytes > half_w || f.out_bytes > half_o)
    throw std::invalid_argument(fmt::format("M = {} with {} columns and K chunk {} does not fit in half of the buffers", m, nn, kc));
  Program p;
  const std::uint64_t w_base = 1ull << 36, y_base = 2ull << 36;
  int wh = 0, ih = 0, oh = 0;
  for (int n0 = 0; n0 < n; n0 += nn, oh ^= 1) {
    const int ncur = std::min(nn, n - n0);
    for (int k0 = 0; k0 < k; k0 += kc, wh ^= 1, ih ^= 1) {
      const GemmFootprint c = fp(m, ncur, kc);
      p.code.push_back(dma_load(BufferId::kIbuf, ih * half_i, static_cast<std::uint64_t>(k0) * m, c.act_bytes));
      p.code.push_back(dma_load(BufferId::kWbuf, wh * half_w, w_base + (static_cast<std::uint64_t>(n0) * k + k0) / 2, c.wgt_bytes));
      p.code.push_back(gemm(mode, m, ncur, kc, ig, ih * half_i, wh * half_w, oh * half_o, k0 > 0, k0 + kc == k));
    }
    p.code.push_back(dma_store(BufferId::kObuf, oh * half_o, y_base + static_cast<std::uint64_t>(n0) * m * 4, fp(m, ncur, kc).out_bytes));
  }
  return p;
}

}  // namespace

int sc_main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: mixpe_simgemm <preset|file.yaml> M N K [key=value ...] [--group G] [--json out.json] [--vcd base]\n");
    return 2;
  }
  try {
    std::vector<std::string> overrides;
    std::string json_path, vcd;
    int group = 0;
    for (int i = 5; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "--json" && i + 1 < argc) json_path = argv[++i];
      else if (a == "--vcd" && i + 1 < argc) vcd = argv[++i];
      else if (a == "--group" && i + 1 < argc) group = std::stoi(argv[++i]);
      else overrides.push_back(a);
    }
    const AcceleratorConfig cfg = load_config(argv[1], overrides);
    const int m = std::stoi(argv[2]), n = std::stoi(argv[3]), k = std::stoi(argv[4]);
    if (group == 0) group = cfg.group_size;
    const Program prog = build_program(cfg, m, n, k, group);
    RunOptions opt;
    opt.vcd_path = vcd;
    const RunResult r = run_program(cfg, prog, opt);
    const RunStats& s = r.stats;
    fmt::print("{}: GEMM {}x{}x{} g{} on {}x{} {} ({} instructions)\n", cfg.name, m, n, k, group, cfg.rows, cfg.cols,
               to_string(array_mode_of(cfg)), s.instructions);
    fmt::print("  cycles {:>12}  ({:.3f} us at {} MHz)  utilization {:.3f}\n", s.cycles.total, s.seconds() * 1e6, cfg.clock_mhz, s.utilization());
    fmt::print("  compute {} | drain stall {} | buffer stall {} | vector {} | dram stall {} | idle {}\n", s.cycles.compute,
               s.cycles.drain_stall, s.cycles.buffer_stall, s.cycles.vector, s.cycles.dram_stall, s.cycles.idle);
    fmt::print("  energy {:.3f} uJ (pe {:.3f}, sram {:.3f}, dram {:.3f}, dequant {:.3f}, leakage {:.3f})\n", s.energy.total() * 1e-6,
               s.energy.pe * 1e-6, (s.energy.wbuf + s.energy.ibuf + s.energy.obuf) * 1e-6, s.energy.dram * 1e-6, s.energy.dequant * 1e-6,
               s.energy.leakage * 1e-6);
    if (!json_path.empty()) {
      std::ofstream out(json_path);
      if (!out) throw std::invalid_argument(json_path + ": cannot write");
      out << r.stats_json().dump(2) << "\n";
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mixpe_simgemm: %s\n", e.what());
    return 1;
  }
  return 0;
}
