// DRAM timing and SRAM buffers against hand-computed cases (arithmetic next to each expectation).
#include <gtest/gtest.h>

#include "sim/config.h"
#include "sim/memory.h"

namespace mixpe::sim {
namespace {

// DDR4-3200: tCK 625 ps, BL8 on a 64-bit bus -> 64 B bursts of 4 tCK = 2500 ps; tCL = tRCD = tRP
// = 13750 ps; 16 banks, 8 KiB rows; tREFI 7.8 us, tRFC 350 ns.
TEST(Dram, Ddr4PresetDerivedQuantities) {
  const DramModel d(dram_preset("ddr4_3200"));
  EXPECT_EQ(d.burst_bytes(), 64);
  EXPECT_EQ(d.burst_ps(), 2500);
  EXPECT_DOUBLE_EQ(d.peak_bandwidth_gbps(), 25.6);  // 64 B / 2.5 ns
  EXPECT_DOUBLE_EQ(DramModel(dram_preset("lpddr5_6400")).peak_bandwidth_gbps(), 51.2);  // 128 B / 2.5 ns
  EXPECT_DOUBLE_EQ(DramModel(dram_preset("hbm2")).peak_bandwidth_gbps(), 256.0);         // 512 B / 2 ns
  EXPECT_DOUBLE_EQ(DramModel(dram_preset("ideal_1024b")).peak_bandwidth_gbps(), 64.0);   // 128 B / 2 ns
}

TEST(Dram, ColdReadPaysActivateAndCas) {
  DramModel d(dram_preset("ddr4_3200"));
  // tRCD 13750 + tCL 13750 + one burst 2500 = 30000 ps.
  EXPECT_EQ(d.access(0, 0, 64, false), 30000);
  EXPECT_EQ(d.stats().row_misses, 1);
  EXPECT_EQ(d.stats().bits_read, 512);
}

TEST(Dram, OneRowStreamsAtBusRate) {
  DramModel d(dram_preset("ddr4_3200"));
  // 8 KiB = 128 bursts in one row: first data at 27500, then back to back: 27500 + 128 * 2500 = 347500.
  EXPECT_EQ(d.access(0, 0, 8192, false), 347500);
  EXPECT_EQ(d.stats().row_misses, 1);
  EXPECT_EQ(d.stats().row_hits, 127);
}

TEST(Dram, SecondBankActivationHidesBehindTheBus) {
  DramModel d(dram_preset("ddr4_3200"));
  // 16 KiB spans banks 0 and 1; bank 1 activates while bank 0 streams, so the bus never idles:
  // 27500 + 256 * 2500 = 667500 ps, a DRAM-bound transfer at 25.6 GB/s after the first access.
  EXPECT_EQ(d.access(0, 0, 16384, false), 667500);
  EXPECT_EQ(d.stats().row_misses, 2);
  EXPECT_EQ(d.stats().row_hits, 254);
}

TEST(Dram, RowConflictPaysPrecharge) {
  DramModel d(dram_preset("ddr4_3200"));
  d.access(0, 0, 64, false);
  // Bank 0, row 1 (address 16 banks * 8 KiB = 131072) at 1 us: 1000000 + tRP 13750 + tRCD 13750
  // + tCL 13750 + burst 2500 = 1043750 ps.
  EXPECT_EQ(d.access(1000000, 131072, 64, false), 1043750);
  EXPECT_EQ(d.stats().row_conflicts, 1);
}

// Activates = row misses + row conflicts. Pattern on DDR4 (16 banks x 8 KiB rows, so bank 0 holds
// rows at 0, 128 KiB, 256 KiB, ...): open bank 0 row 0 (miss), read it again (hit), bank 0 row 1
// (conflict), back to row 0 (conflict), bank 1 row 0 (miss): 2 misses + 2 conflicts = 4 activates.
TEST(Dram, ActivatesCountMissesAndConflicts) {
  DramModel d(dram_preset("ddr4_3200"));
  std::int64_t t = 0;
  for (const std::uint64_t addr : {0ull, 64ull, 131072ull, 128ull, 8192ull}) t = d.access(t, addr, 64, false);
  EXPECT_EQ(d.stats().row_hits, 1);
  EXPECT_EQ(d.stats().row_misses, 2);
  EXPECT_EQ(d.stats().row_conflicts, 2);
  EXPECT_EQ(d.stats().activates, 4);
  // The analytic executor's tracker sees the same rows open (no refresh happened in these 0.2 us).
  DramRowTracker r(dram_preset("ddr4_3200"));
  std::int64_t a = 0;
  for (const std::uint64_t addr : {0ull, 64ull, 131072ull, 128ull, 8192ull}) a += r.access(addr, 64);
  EXPECT_EQ(a, 4);
}

// A streaming transfer opens one row per row_bytes chunk it spans, and a transfer continuing in an
// open row opens nothing: 16 KiB from 4 KiB spans 8 KiB chunks 0..2 (3 rows); the next 4 KiB
// [20 KiB, 24 KiB) stays in chunk 2 (0 rows); the timing model counts the same 3 activates.
TEST(Dram, RowTrackerMatchesTheModelOnAStream) {
  DramRowTracker r(dram_preset("ddr4_3200"));
  EXPECT_EQ(r.access(4096, 16384), 3);
  EXPECT_EQ(r.access(20480, 4096), 0);
  EXPECT_EQ(r.access(0, 0), 0);
  DramModel d(dram_preset("ddr4_3200"));
  d.access(d.access(0, 4096, 16384, false), 20480, 4096, true);
  EXPECT_EQ(d.stats().activates, 3);
  // The ideal interface has one 1 GiB row: a whole model's weights open it once.
  DramRowTracker ideal(dram_preset("ideal_1024b"));
  EXPECT_EQ(ideal.access(0, 700u << 20), 1);
}

TEST(Dram, RefreshBlocksAndClosesRows) {
  DramModel d(dram_preset("ddr4_3200"));
  d.access(0, 0, 64, false);  // opens bank 0 row 0
  // 7.9 us falls in the refresh window [7800000, 8150000): wait to 8150000, the row was closed by
  // the refresh, so tRCD + tCL + burst: 8150000 + 13750 + 13750 + 2500 = 8180000 ps.
  EXPECT_EQ(d.access(7900000, 64, 64, false), 8180000);
  EXPECT_EQ(d.stats().refresh_stalls, 1);
  EXPECT_EQ(d.stats().row_misses, 2);
  EXPECT_EQ(d.stats().row_hits, 0);
}

TEST(Dram, IdealInterfaceIs1024BitsPerCycle) {
  DramModel d(dram_preset("ideal_1024b"));
  // 1 MiB / 128 B = 8192 bursts of one 2000 ps cycle, no latency: 16384000 ps = 8192 cycles.
  EXPECT_EQ(d.access(0, 0, 1 << 20, false), 16384000);
  // Writes count separately: 1000 bytes -> 8 bursts (7.8 rounded up), 8000 bits.
  d.access(16384000, 0, 1000, true);
  EXPECT_EQ(d.stats().write_bursts, 8);
  EXPECT_EQ(d.stats().bits_written, 8000);
}

TEST(Sram, AccessCyclesAndCapacity) {
  SramBuffer b("ibuf", BufferConfig{4, 2, 64});  // 4 KiB, 2 banks x 64 bits = 128 bits per cycle
  EXPECT_EQ(b.access_cycles(1024), 8);           // 1024 / 128
  EXPECT_EQ(b.access_cycles(1025), 9);           // rounded up
  b.record_read(1024);
  b.record_write(256);
  EXPECT_EQ(b.stats().reads, 8);
  EXPECT_EQ(b.stats().writes, 2);
  EXPECT_EQ(b.stats().bits_read, 1024);
  EXPECT_NO_THROW(b.check_range(0, 4096, "load"));
  try {
    b.check_range(4000, 100, "load");
    FAIL();
  } catch (const std::out_of_range& e) {
    EXPECT_NE(std::string(e.what()).find("ibuf"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("4096"), std::string::npos);
  }
}

}  // namespace
}  // namespace mixpe::sim
