// Co-simulation (verification ladder step 4 inside the accelerator): one program on the SystemC
// accelerator, once with the per-PE array model and once with the Verilated RTL array in its place,
// gives the same total cycles, the same start and end cycle for every instruction, and the same
// output bits.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bit>
#include <cstdint>
#include <vector>

#include "Vmixpe8_4x4.h"
#include "models/synthetic.h"
#include "quant/activations.h"
#include "quant/gemm_ref.h"
#include "rtl_array_model.h"
#include "sim/accelerator.h"
#include "sim/array.h"
#include "sim/config.h"
#include "sim/isa.h"

namespace mixpe::rtl_test {
namespace {

// A GEMM of M = 6, N = 7, K = 32 (4 groups of 8) on the 4x4 test array: 2 x 2 array tiles with
// zero-padded rows and columns, loads before and a store after.
struct Case {
  sim::AcceleratorConfig cfg = sim::load_config("test_mixpe_4x4");
  quant::Int8Activations x;
  quant::QuantizedWeights w;
  sim::Program program;
  Case() {
    const int m = 6, n = 7, k = 32;
    x = quant::quantize_activations_int8(models::synthetic_activations(m, k, 77), m, k);
    w = quant::quantize_weights_rtn(models::synthetic_weights(n, k, 77), n, k, {cfg.weight_bits, cfg.group_size, false});
    std::vector<sim::ArrayTile> tiles;
    for (int r0 = 0; r0 < m; r0 += cfg.rows)
      for (int c0 = 0; c0 < n; c0 += cfg.cols) tiles.push_back(sim::make_tile_mixpe_int8(x, w, r0, c0, cfg.rows, cfg.cols));
    program.payloads.push_back(tiles);
    const sim::Instruction g = sim::gemm(sim::ArrayMode::kMixpeInt8, m, n, k, cfg.group_size, 0, 0, 0, false, true, 0);
    const sim::GemmFootprint f = sim::gemm_footprint(g, cfg);
    program.code = {sim::dma_load(sim::BufferId::kIbuf, 0, 0, f.act_bytes), sim::dma_load(sim::BufferId::kWbuf, 0, 4096, f.wgt_bytes), g,
                    sim::dma_store(sim::BufferId::kObuf, 0, 8192, f.out_bytes)};
  }
};

// Flattens what must agree: total cycles, per-instruction (start, end), output bits.
std::vector<std::int64_t> summary(const sim::RunResult& r) {
  std::vector<std::int64_t> s = {r.stats.cycles.total, r.stats.array.pe_macs, r.stats.array.dequant_ops};
  for (const sim::InstructionTiming& t : r.timing) {
    s.push_back(t.start);
    s.push_back(t.end);
  }
  for (const auto& [idx, tiles] : r.outputs)
    for (const auto& tile : tiles)
      for (float v : tile) s.push_back(std::bit_cast<std::uint32_t>(v));
  return s;
}

TEST(RtlCosim, ProgramOnRtlArrayMatchesPerPeModel) {
  const Case c;
  ASSERT_EQ(c.cfg.array_model, "pe");
  // SystemC elaborates once per process: the per-PE run happens in a child process.
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    const std::vector<std::int64_t> s = summary(sim::run_program(c.cfg, c.program));
    const std::size_t bytes = s.size() * sizeof(std::int64_t);
    const bool ok = ::write(fds[1], &bytes, sizeof bytes) == static_cast<ssize_t>(sizeof bytes) &&
                    ::write(fds[1], s.data(), bytes) == static_cast<ssize_t>(bytes);
    ::_exit(ok ? 0 : 1);
  }
  ::close(fds[1]);
  std::size_t bytes = 0;
  ASSERT_EQ(::read(fds[0], &bytes, sizeof bytes), static_cast<ssize_t>(sizeof bytes));
  std::vector<std::int64_t> pe(bytes / sizeof(std::int64_t));
  std::size_t got = 0;
  while (got < bytes) {
    const ssize_t n = ::read(fds[0], reinterpret_cast<char*>(pe.data()) + got, bytes - got);
    ASSERT_GT(n, 0);
    got += static_cast<std::size_t>(n);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  sim::RunOptions opts;
  opts.array_model = [&] { return std::make_unique<RtlArrayModel<Vmixpe8_4x4>>(4, 4, 4); };
  const sim::RunResult rtl_run = sim::run_program(c.cfg, c.program, opts);
  const std::vector<std::int64_t> rtl = summary(rtl_run);
  ASSERT_EQ(rtl.size(), pe.size());
  EXPECT_EQ(rtl[0], pe[0]) << "total cycles";
  for (std::size_t i = 0; i < rtl.size(); ++i) EXPECT_EQ(rtl[i], pe[i]) << "summary entry " << i;

  // And both equal the oracle (the outputs are the oracle's, not merely each other's).
  const std::vector<float> ref = quant::gemm_mixpe_int8_ref(c.x, c.w);
  const auto& tiles = rtl_run.outputs.at(2);
  ASSERT_EQ(tiles.size(), 4u);
  for (int r = 0; r < 6; ++r)
    for (int col = 0; col < 7; ++col) {
      const auto& tile = tiles[static_cast<std::size_t>((r / 4) * 2 + col / 4)];
      EXPECT_EQ(std::bit_cast<std::uint32_t>(tile[static_cast<std::size_t>(r % 4) * 4 + col % 4]),
                std::bit_cast<std::uint32_t>(ref[static_cast<std::size_t>(r) * 7 + col]))
          << r << "," << col;
    }
}

}  // namespace
}  // namespace mixpe::rtl_test
