// Technology tables: validation errors, and energy = counts x table + leakage x time by hand.
#include <gtest/gtest.h>

#include "sim/energy.h"
#include "sim/stats.h"

namespace mixpe::sim {
namespace {

TEST(Tech, DefaultTableHasEveryKeyWithASource) {
  const TechTable t = load_tech_table("28nm_500mhz");
  for (const auto& k : required_tech_keys()) {
    ASSERT_TRUE(t.entries.count(k)) << k;
    EXPECT_FALSE(t.entries.at(k).source.empty()) << k;
  }
  // 344.3 uW at 500 MHz -> 0.6886 pJ per PE-cycle.
  EXPECT_DOUBLE_EQ(t.at("pe_mixpe_a8_pj"), 0.6886);
  // DRAM energy lives with the DRAM preset (sim/config.cpp), not in the node's table.
  EXPECT_EQ(t.entries.count("dram_read_pj_per_bit"), 0u);
}

TEST(Tech, ErrorsNameFileKeyAndValue) {
  auto expect = [](const std::string& yaml, const std::string& frag) {
    try {
      parse_tech_table(yaml, "t.yaml");
      FAIL() << yaml;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(frag), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("t.yaml"), std::string::npos) << e.what();
    }
  };
  expect("name: x\nentries: {pe_fp16_pj: {value: abc, source: s}}\n", "entries.pe_fp16_pj.value' = 'abc'");
  expect("name: x\nentries: {pe_fp16_pj: {value: -1, source: s}}\n", "'-1'");
  expect("name: x\nentries: {pe_fp16_pj: {value: 1}}\n", "entries.pe_fp16_pj");
  expect("name: x\nentries: {pe_fp16_pj: {value: 1, source: s}}\n", "missing key 'entries.pe_mixpe_a8_pj'");
  expect("name: x\n", "'entries'");
  EXPECT_THROW(load_tech_table("no_such_node"), std::invalid_argument);
}

TEST(Energy, CountsTimesTablePlusLeakage) {
  const TechTable t = load_tech_table("28nm_500mhz");
  AcceleratorConfig cfg;
  cfg.rows = 4;
  cfg.cols = 4;
  cfg.wbuf.size_kib = cfg.ibuf.size_kib = cfg.obuf.size_kib = 4;
  RunStats s;
  s.clock_mhz = 500;
  s.cycles.total = 1000;  // 2 us
  s.array.pe_macs_by_mode["mixpe_int8"] = 1000;
  s.array.dequant_ops = 10;
  s.dram.bits_read = 1000;
  s.dram.bits_written = 100;
  s.ibuf.bits_read = 64;
  const EnergyBreakdown e = compute_energy(s, cfg, t);
  EXPECT_DOUBLE_EQ(e.pe, 1000 * 0.6886);
  EXPECT_DOUBLE_EQ(e.dequant, 10 * 4.7);
  EXPECT_DOUBLE_EQ(e.dram, 1000 * 0.629 + 100 * 0.766);  // the default config's ideal_1024b interface
  EXPECT_DOUBLE_EQ(e.ibuf, 64 * 0.82);
  // Leakage: (34.43 uW * 16 PEs + 5 uW * 12 KiB) * 2e-6 s = 610.88 uW * 2 us = 1221.76 pJ.
  EXPECT_NEAR(e.leakage, 1221.76, 1e-9);
  EXPECT_NEAR(e.total(), e.pe + e.dequant + e.dram + e.ibuf + e.leakage, 1e-9);
  const auto j = to_json(s);
  EXPECT_EQ(j["schema"], kStatsSchema);
  EXPECT_EQ(j["cycles"]["total"], 1000);
}

// DRAM energy of a known event count on DDR4-3200, by hand: bits x per-bit + activates x activate
// energy + background power x run time, all from the preset.
TEST(Energy, DramFromThePresetsEnergies) {
  const TechTable t = load_tech_table("28nm_500mhz");
  AcceleratorConfig cfg;
  cfg.dram = dram_preset("ddr4_3200");
  RunStats s;
  s.clock_mhz = 500;
  s.cycles.total = 5000;  // 10 us
  s.dram.bits_read = 65536 * 8;  // 64 KiB
  s.dram.bits_written = 8192 * 8;
  s.dram.activates = 9;
  s.dram.row_misses = 100;  // only activates are charged, whatever the hit/miss split
  // 524288 x 5.99 + 65536 x 5.46 + 9 x 9236 + 270 mW x 10 us (= 2.7 uJ = 2.7e6 pJ)
  // = 3140485.12 + 357826.56 + 83124 + 2700000 = 6281435.68 pJ.
  EXPECT_NEAR(compute_energy(s, cfg, t).dram, 6281435.68, 1e-3);
  // Overrides of single values change only their term.
  cfg.dram.background_mw = 0;
  cfg.dram.activate_pj = 0;
  EXPECT_NEAR(compute_energy(s, cfg, t).dram, 3140485.12 + 357826.56, 1e-3);
  // HBM2 charges 3.9 pJ/bit either way: (524288 + 65536) x 3.9 = 2300313.6 pJ.
  cfg.dram = dram_preset("hbm2");
  EXPECT_NEAR(compute_energy(s, cfg, t).dram, 2300313.6, 1e-3);
  EXPECT_EQ(to_json(s)["dram"]["activates"], 9);
}

// The JSON dump carries exactly the sections docs/sim.md documents for mixpe.sim.stats/1.
TEST(StatsJson, SchemaSectionsAsDocumented) {
  const auto j = to_json(RunStats{});
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  const std::vector<std::string> want = {"array",  "buffers", "config", "cycles",      "dma",    "dram",
                                         "energy_pj", "instructions", "schema", "time_s", "utilization", "vector"};
  EXPECT_EQ(keys, want);
  std::vector<std::string> cycles;
  for (const auto& [k, v] : j["cycles"].items()) cycles.push_back(k);
  const std::vector<std::string> want_cycles = {"buffer_stall", "compute", "drain_stall", "dram_stall", "idle", "load_stall", "total", "vector"};
  EXPECT_EQ(cycles, want_cycles);
}

}  // namespace
}  // namespace mixpe::sim
