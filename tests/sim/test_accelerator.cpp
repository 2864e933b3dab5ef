// The SystemC accelerator on hand-derived programs: DRAM-bound load, compute-bound GEMM, buffer-bound
// GEMM, double buffering hiding DMA, barrier, vector op, numerics through the controller, JSON/VCD.
// Each test elaborates its own top, so ctest runs each in its own process.
#include <bit>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <unistd.h>

#include <gtest/gtest.h>

#include "quant/gemm_ref.h"
#include "sim/accelerator.h"

namespace mixpe::sim {
namespace {

// The cycle buckets partition the run.
void expect_partition(const RunStats& s) {
  const CycleBreakdown& b = s.cycles;
  EXPECT_EQ(b.compute + b.drain_stall + b.buffer_stall + b.vector + b.dram_stall + b.idle, b.total);
}

// test_mixpe_4x4: 4x4 MixPE W4A8, g = 8, per-PE model, 500 MHz (2000 ps cycles); buffers of 4 KiB with
// 2 x 64-bit banks (128 bits/cycle) for ibuf/wbuf and 2 x 128-bit banks (256 bits/cycle) for obuf.
AcceleratorConfig small(std::vector<std::string> overrides = {}) { return load_config("test_mixpe_4x4", overrides); }

// A 4x4x64 GEMM, g = 8: p = 8, nG = 8, T = 7*8 + 8 + 2*4 + 4 + 3 = 79 cycles. Footprints: act
// 4*64 B + 4*4 B scales = 272 B; weights 4*64*4/8 = 128 B + 4*8 groups*3 B = 224 B; out 64 B.
Instruction small_gemm(std::int64_t wgt_addr = 0, std::int64_t out_addr = 0, int payload = -1) {
  return gemm(ArrayMode::kMixpeInt8, 4, 4, 64, 8, 0, wgt_addr, out_addr, false, true, payload);
}

TEST(Accelerator, DramBoundLoad) {
  const auto cfg = small({"dram.preset=ddr4_3200", "buffers.ibuf.size_kib=16", "buffers.ibuf.banks=8", "buffers.ibuf.bank_width_bits=512"});
  Program p;
  p.code = {dma_load(BufferId::kIbuf, 0, 0, 8192)};
  const RunResult r = run_program(cfg, p);
  expect_partition(r.stats);
  // DRAM: one 8 KiB row: tRCD + tCL + 128 bursts * 2.5 ns = 347.5 ns = 173.75 cycles -> 174.
  // SRAM: 65536 bits / (8 * 512) = 16 cycles, hidden. So 174 cycles, all DRAM.
  EXPECT_EQ(r.stats.cycles.total, 174);
  EXPECT_EQ(r.stats.cycles.dram_stall, 174);
  EXPECT_EQ(r.stats.cycles.compute, 0);
  EXPECT_EQ(r.stats.dram.bits_read, 65536);
  EXPECT_EQ(r.stats.ibuf.bits_written, 65536);
  EXPECT_EQ(r.stats.dram.row_hits, 127);
}

TEST(Accelerator, ComputeBoundGemm) {
  Program p;
  p.code = {small_gemm()};
  const RunResult r = run_program(small(), p);
  expect_partition(r.stats);
  // Buffers: ibuf 2176 bits / 128 = 17, wbuf 1792 / 128 = 14, obuf 512 / 256 = 2 cycles < 79.
  EXPECT_EQ(r.stats.cycles.total, 79);
  EXPECT_EQ(r.stats.cycles.compute, 79);
  EXPECT_EQ(r.stats.cycles.buffer_stall, 0);
  EXPECT_EQ(r.stats.array.pe_macs, 4 * 4 * 64);
  EXPECT_EQ(r.stats.array.dequant_ops, 4 * 4 * 8);
  // Utilization = 1024 MACs / (16 PEs * 79 cycles).
  EXPECT_DOUBLE_EQ(r.stats.utilization(), 1024.0 / (16.0 * 79.0));
}

TEST(Accelerator, BufferBoundGemm) {
  Program p;
  p.code = {small_gemm()};
  const RunResult r = run_program(small({"buffers.ibuf.banks=1", "buffers.ibuf.bank_width_bits=8"}), p);
  expect_partition(r.stats);
  // ibuf now delivers 8 bits/cycle: 272 B * 8 / 8 = 272 cycles > the array's 79: 193 stall cycles.
  EXPECT_EQ(r.stats.cycles.total, 272);
  EXPECT_EQ(r.stats.cycles.buffer_stall, 193);
  EXPECT_EQ(r.stats.cycles.compute, 79);
}

TEST(Accelerator, GroupDrainStallsAreAttributed) {
  Program p;
  p.code = {gemm(ArrayMode::kMixpeInt8, 8, 8, 8, 4, 0, 0, 0)};
  const RunResult r = run_program(load_config("test_mixpe_8x8"), p);
  expect_partition(r.stats);
  // 8x8, g = 4 < R: p = 8, T = 8 + 4 + 16 + 8 + 3 = 39; idle feeder slots at the one group
  // boundary: 8 - 4 = 4.
  EXPECT_EQ(r.stats.cycles.total, 39);
  EXPECT_EQ(r.stats.cycles.drain_stall, 4);
  EXPECT_EQ(r.stats.cycles.compute, 35);
}

// Ideal DRAM narrowed to 64 bits: one 8-byte burst per 2000 ps cycle. act 272 B = 34 cycles,
// weights 224 B = 28 cycles; SRAM writes (17 and 14 cycles) hide behind them. GEMM = 79 cycles.
AcceleratorConfig narrow_dram() { return small({"dram.bus_bits=64"}); }

TEST(Accelerator, DoubleBufferingHidesDma) {
  Program p;
  p.code.push_back(dma_load(BufferId::kIbuf, 0, 0, 272));
  p.code.push_back(dma_load(BufferId::kWbuf, 0, 4096, 224));
  p.code.push_back(dma_load(BufferId::kWbuf, 256, 4096 + 224, 224));
  p.code.push_back(small_gemm(0, 0));
  p.code.push_back(small_gemm(256, 64));
  p.code.push_back(dma_load(BufferId::kWbuf, 0, 4096 + 448, 224));  // waits for GEMM 0 (WAR)
  p.code.push_back(small_gemm(0, 128));
  p.code.push_back(dma_load(BufferId::kWbuf, 256, 4096 + 672, 224));  // waits for GEMM 1 (WAR)
  p.code.push_back(small_gemm(256, 192));
  const RunResult r = run_program(narrow_dram(), p);
  expect_partition(r.stats);
  // Loads: act [0,34), w0 [34,62), w1 [62,90). G0 [62,141) issues its last tile at 126 (64 feed
  // cycles), releasing WBUF slot 0, and drains until 141; G1, of the same shape, continues the
  // stream from 126; w2 [126,154) after G0's release; G2 [190,269); w3 [190,218) after G1's
  // release; G3 [254,333). Total 62 + 3*64 + 79 = 333: w1..w3 hidden, drains overlapped.
  EXPECT_EQ(r.timing[3].start, 62);
  EXPECT_EQ(r.timing[4].start, 126);
  EXPECT_EQ(r.timing[5].start, 126);
  EXPECT_EQ(r.timing[7].start, 190);
  EXPECT_EQ(r.timing[8].end, 333);
  EXPECT_EQ(r.stats.cycles.total, 333);
  EXPECT_EQ(r.stats.cycles.compute, 271);
  EXPECT_EQ(r.stats.cycles.dram_stall, 62);
  EXPECT_EQ(r.stats.cycles.idle, 0);
}

TEST(Accelerator, SingleBufferSerializesDma) {
  Program p;
  p.code.push_back(dma_load(BufferId::kIbuf, 0, 0, 272));
  for (int i = 0; i < 4; ++i) {
    p.code.push_back(dma_load(BufferId::kWbuf, 0, 4096 + 224 * i, 224));
    p.code.push_back(small_gemm(0, 64 * i));
  }
  const RunResult r = run_program(narrow_dram(), p);
  expect_partition(r.stats);
  // Every weight load waits for the previous GEMM's last operand (64 feed cycles after its start):
  // 34 + 4 * 28 + 3 * 64 + 79 = 417; DMA alone while a drained GEMM's successor waits for its
  // weights: 62 + 3 * (28 - 15) = 101.
  EXPECT_EQ(r.stats.cycles.total, 417);
  EXPECT_EQ(r.stats.cycles.dram_stall, 62 + 3 * 13);
}

TEST(Accelerator, BarrierWaitsForEverything) {
  Program p;
  p.code = {dma_load(BufferId::kIbuf, 0, 0, 272), barrier(), dma_load(BufferId::kWbuf, 0, 4096, 224)};
  const RunResult r = run_program(narrow_dram(), p);
  expect_partition(r.stats);
  // The barrier (issued at cycle 1) completes when the load does (34); the next issue is a cycle later.
  EXPECT_EQ(r.timing[1].end, 34);
  EXPECT_EQ(r.timing[2].start, 35);
  EXPECT_EQ(r.stats.cycles.total, 35 + 28);
}

TEST(Accelerator, VectorOpCost) {
  Program p;
  p.code = {vector_op(VectorOp::kSoftmax, BufferId::kObuf, 4, 64, 0, 1024)};
  const RunResult r = run_program(small(), p);
  expect_partition(r.stats);
  // 256 elements * 5 ops = 1280 ops / 32 lanes + 8 latency = 48 cycles; but the obuf moves
  // 256 * 64 bits (read + write) at 256 bits/cycle = 64 cycles, so 64.
  EXPECT_EQ(r.stats.cycles.total, 64);
  EXPECT_EQ(r.stats.cycles.vector, 64);
  EXPECT_EQ(r.stats.vector.element_ops, 1280);
}

TEST(Accelerator, GemmNumericsThroughTheControllerMatchTheOracle) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  const int M = 6, N = 7, K = 64;
  std::vector<float> wf(N * K), xf(M * K);
  for (auto& v : wf) v = d(rng);
  for (auto& v : xf) v = d(rng);
  const auto w = quant::quantize_weights_rtn(wf, N, K, quant::WeightQuantConfig{4, 8, false});
  const auto x = quant::quantize_activations_int8(xf, M, K);
  Program p;
  p.payloads.emplace_back();
  for (int m0 = 0; m0 < M; m0 += 4)
    for (int n0 = 0; n0 < N; n0 += 4) p.payloads[0].push_back(make_tile_mixpe_int8(x, w, m0, n0, 4, 4));
  p.code = {gemm(ArrayMode::kMixpeInt8, M, N, K, 8, 0, 0, 0, false, true, 0)};
  const RunResult r = run_program(small({"buffers.ibuf.size_kib=8"}), p);
  expect_partition(r.stats);
  // 4 tiles streamed: 4 * 8 * 8 + (8 + 8 + 4 + 3 - 8) = 271 cycles.
  EXPECT_EQ(r.stats.cycles.total, 271);
  const auto ref = quant::gemm_mixpe_int8_ref(x, w);
  const auto& tiles = r.outputs.at(0);
  ASSERT_EQ(tiles.size(), 4u);
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) {
      const float got = tiles[(m / 4) * 2 + n / 4][(m % 4) * 4 + n % 4];
      EXPECT_EQ(std::bit_cast<std::uint32_t>(got), std::bit_cast<std::uint32_t>(ref[m * N + n])) << m << "," << n;
    }
}

TEST(Accelerator, JsonStatsAndVcd) {
  Program p;
  p.code = {dma_load(BufferId::kIbuf, 0, 0, 272), small_gemm(), dma_store(BufferId::kObuf, 0, 1 << 20, 64)};
  const std::string vcd = (std::filesystem::temp_directory_path() / ("mixpe_sim_test_" + std::to_string(::getpid()))).string();
  RunOptions opt;
  opt.vcd_path = vcd;
  const RunResult r = run_program(narrow_dram(), p, opt);
  expect_partition(r.stats);
  const auto j = r.stats_json();
  EXPECT_EQ(j["schema"], "mixpe.sim.stats/1");
  EXPECT_EQ(j["cycles"]["total"].get<std::int64_t>(), r.stats.cycles.total);
  // load 34, GEMM 79 after it (RAW on ibuf), store 64 B = 8 cycles after the GEMM (RAW on obuf).
  EXPECT_EQ(r.stats.cycles.total, 34 + 79 + 8);
  EXPECT_DOUBLE_EQ(j["energy_pj"]["pe"].get<double>(), 1024 * 0.6886);
  EXPECT_DOUBLE_EQ(j["energy_pj"]["dram"].get<double>(), 272 * 8 * 0.629 + 64 * 8 * 0.766);
  std::ifstream in(vcd + ".vcd");
  ASSERT_TRUE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_NE(ss.str().find("busy_array"), std::string::npos);
  std::filesystem::remove(vcd + ".vcd");
}

TEST(Accelerator, SecondRunInOneProcessIsRefused) {
  Program p;
  p.code = {barrier()};
  run_program(small(), p);
  EXPECT_THROW(run_program(small(), p), std::logic_error);
}

}  // namespace
}  // namespace mixpe::sim
