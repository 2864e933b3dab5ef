// Energy from event counts and the JSON form of RunStats.
#include "sim/stats.h"

namespace mixpe::sim {

double RunStats::utilization() const {
  if (cycles.total == 0) return 0.0;
  return static_cast<double>(array.pe_macs) / (static_cast<double>(rows) * cols * static_cast<double>(cycles.total));
}

EnergyBreakdown compute_energy(const RunStats& s, const AcceleratorConfig& cfg, const TechTable& tech) {
  EnergyBreakdown e;
  static const std::map<std::string, std::string> kPeKey = {
      {"mixpe_int8", "pe_mixpe_a8_pj"}, {"mixpe_aligned", "pe_mixpe_a16_pj"}, {"fp16", "pe_fp16_pj"}, {"int8", "pe_int8_pj"},
      {"bitfusion", "pe_bitfusion_pj"}, {"ant", "pe_ant_pj"}};
  for (const auto& [mode, macs] : s.array.pe_macs_by_mode) e.pe += static_cast<double>(macs) * tech.at(kPeKey.at(mode));
  e.edge = static_cast<double>(s.array.edge_ops) * tech.at("edge_add_pj");
  e.dequant = static_cast<double>(s.array.dequant_ops) * tech.at("dequant_op_pj");
  e.vector = static_cast<double>(s.vector.element_ops) * tech.at("vector_op_pj");
  auto sram = [&](const SramStats& b, const std::string& n) {
    return static_cast<double>(b.bits_read) * tech.at(n + "_read_pj_per_bit") + static_cast<double>(b.bits_written) * tech.at(n + "_write_pj_per_bit");
  };
  e.wbuf = sram(s.wbuf, "wbuf");
  e.ibuf = sram(s.ibuf, "ibuf");
  e.obuf = sram(s.obuf, "obuf");
  // DRAM energy belongs to the memory technology (the preset), not to the accelerator's node.
  // Background: mW x s = 1e-3 J = 1e9 pJ.
  const DramConfig& d = cfg.dram;
  e.dram = static_cast<double>(s.dram.bits_read) * d.read_pj_per_bit + static_cast<double>(s.dram.bits_written) * d.write_pj_per_bit +
           static_cast<double>(s.dram.activates) * d.activate_pj + d.background_mw * s.seconds() * 1e9;
  // uW x s = 1e-6 J = 1e6 pJ.
  const double leak_uw = tech.at("leakage_uw_per_pe") * cfg.rows * cfg.cols +
                         tech.at("leakage_uw_per_sram_kib") * (cfg.wbuf.size_kib + cfg.ibuf.size_kib + cfg.obuf.size_kib);
  e.leakage = leak_uw * s.seconds() * 1e6;
  return e;
}

nlohmann::json to_json(const RunStats& s) {
  using nlohmann::json;
  auto sram = [](const SramStats& b) {
    return json{{"reads", b.reads}, {"writes", b.writes}, {"bits_read", b.bits_read}, {"bits_written", b.bits_written},
                {"peak_bytes_used", b.peak_bytes_used}};
  };
  json j;
  j["schema"] = kStatsSchema;
  j["config"] = {{"name", s.config_name}, {"rows", s.rows}, {"cols", s.cols}, {"clock_mhz", s.clock_mhz}};
  j["instructions"] = s.instructions;
  j["time_s"] = s.seconds();
  j["cycles"] = {{"total", s.cycles.total},         {"compute", s.cycles.compute}, {"drain_stall", s.cycles.drain_stall},
                 {"buffer_stall", s.cycles.buffer_stall}, {"load_stall", s.cycles.load_stall}, {"vector", s.cycles.vector},   {"dram_stall", s.cycles.dram_stall},
                 {"idle", s.cycles.idle}};
  j["utilization"] = s.utilization();
  j["array"] = {{"gemms", s.array.gemms},
                {"tiles", s.array.tiles},
                {"busy_cycles", s.array.busy_cycles},
                {"drain_stall_cycles", s.array.drain_stall_cycles},
                {"load_stall_cycles", s.array.load_stall_cycles},
                {"buffer_stall_cycles", s.array.buffer_stall_cycles},
                {"pe_macs", s.array.pe_macs},
                {"pe_macs_by_mode", s.array.pe_macs_by_mode},
                {"dequant_ops", s.array.dequant_ops},
                {"edge_ops", s.array.edge_ops}};
  j["dma"] = {{"load", {{"transfers", s.dma_load.transfers}, {"bytes", s.dma_load.bytes}, {"busy_cycles", s.dma_load.busy_cycles}}},
              {"store", {{"transfers", s.dma_store.transfers}, {"bytes", s.dma_store.bytes}, {"busy_cycles", s.dma_store.busy_cycles}}}};
  j["vector"] = {{"ops", s.vector.ops}, {"element_ops", s.vector.element_ops}, {"busy_cycles", s.vector.busy_cycles}};
  j["buffers"] = {{"wbuf", sram(s.wbuf)}, {"ibuf", sram(s.ibuf)}, {"obuf", sram(s.obuf)}};
  j["dram"] = {{"read_bursts", s.dram.read_bursts},   {"write_bursts", s.dram.write_bursts}, {"bits_read", s.dram.bits_read},
               {"bits_written", s.dram.bits_written}, {"row_hits", s.dram.row_hits},         {"row_misses", s.dram.row_misses},
               {"row_conflicts", s.dram.row_conflicts}, {"activates", s.dram.activates}, {"refresh_stalls", s.dram.refresh_stalls},
               {"busy_ps", s.dram.busy_ps}};
  j["energy_pj"] = {{"pe", s.energy.pe},     {"edge", s.energy.edge}, {"dequant", s.energy.dequant}, {"vector", s.energy.vector},
                    {"wbuf", s.energy.wbuf}, {"ibuf", s.energy.ibuf}, {"obuf", s.energy.obuf},       {"dram", s.energy.dram},
                    {"leakage", s.energy.leakage}, {"total", s.energy.total()}};
  return j;
}

}  // namespace mixpe::sim
