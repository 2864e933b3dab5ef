// Mapper legality: programs validate, every MAC of every instance is computed exactly once, and
// the emitted tiles run through the array model reproduce the oracle GEMM bit for bit.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <string>
#include <vector>

#include "models/synthetic.h"
#include "quant/gemm_ref.h"
#include "runtime/mapper.h"
#include "sim/array.h"
#include "sim/config.h"

#include <fmt/format.h>

namespace mixpe::runtime {
namespace {

struct Case {
  const char* hw;
  GemmProblem p;
};

std::vector<Case> cases() {
  std::vector<Case> v;
  for (const char* hw : {"test_mixpe_4x4", "test_int8_4x4", "test_fp16_4x4", "test_mixpe_8x8", "mixpe_w4a8_64x64", "fp16_32x28",
                         "int8_32x32", "mixpe_w4a16_32x32"}) {
    for (GemmProblem p : {GemmProblem{10, 13, 64, 1}, GemmProblem{1, 40, 512, 3}, GemmProblem{37, 9, 200, 2},
                          GemmProblem{70, 300, 4096, 1}}) {
      v.push_back({hw, p});
    }
  }
  return v;
}

TEST(Mapper, ProgramsValidateAndCoverEveryMacExactlyOnce) {
  for (const Case& c : cases()) {
    const sim::AcceleratorConfig cfg = sim::load_config(c.hw);
    const GemmMapping mp = map_gemm(c.p, cfg);
    const std::string what = fmt::format("{} M{} N{} K{} x{}", c.hw, c.p.m, c.p.n, c.p.k, c.p.count);
    sim::Program prog;
    std::uint64_t cursor = 0;
    std::vector<GemmPlacement> placed;
    emit_gemm(mp, c.p.count, cfg, prog, &cursor, &placed);
    EXPECT_NO_THROW(sim::validate_program(prog, cfg)) << what;
    // Coverage at group granularity over the padded K.
    const std::int64_t kunit = mp.tk;
    std::vector<int> hits(static_cast<std::size_t>(c.p.count * mp.m * mp.n * (mp.k / kunit)), 0);
    for (const GemmPlacement& g : placed) {
      ASSERT_EQ(prog.code[g.instr].op, sim::Opcode::kGemm);
      ASSERT_EQ(prog.code[g.instr].m, g.m);
      ASSERT_EQ(prog.code[g.instr].n, g.n);
      ASSERT_EQ(prog.code[g.instr].accumulate, g.k0 > 0) << what;
      ASSERT_EQ(prog.code[g.instr].flush, g.k0 + g.k == mp.k) << what;
      for (std::int64_t i = g.m0; i < g.m0 + g.m; ++i)
        for (std::int64_t j = g.n0; j < g.n0 + g.n; ++j)
          ++hits[static_cast<std::size_t>(((g.instance * mp.m + i) * mp.n + j) * (mp.k / kunit) + g.k0 / kunit)];
    }
    for (std::size_t i = 0; i < hits.size(); ++i) ASSERT_EQ(hits[i], 1) << what << " cell " << i;
    EXPECT_EQ(static_cast<std::int64_t>(placed.size()), mp.gemm_steps * c.p.count) << what;
    EXPECT_GE(mp.k, c.p.k);
    // K pads to whole groups, or per-channel on the weight-stationary array to whole R-row tiles.
    const std::int64_t pad_unit = mp.group > 0 ? mp.group : mp.dataflow == sim::Dataflow::kWs ? cfg.rows : 1;
    EXPECT_LT(mp.k - c.p.k, pad_unit) << what;
  }
}

// The dataflow choice: weight-stationary for a decode GEMV (one token fills one row of 64), both
// dataflows offered only where they can run, and a faster mapping than output-stationary alone.
TEST(Mapper, PicksTheDataflowPerGemm) {
  const sim::AcceleratorConfig both = sim::load_config("mixpe_w4a8_64x64", {"array.dataflow=both"});
  const sim::AcceleratorConfig os = sim::load_config("mixpe_w4a8_64x64", {"array.dataflow=os"});
  const GemmMapping gemv = map_gemm({1, 4096, 4096, 1}, both), gemv_os = map_gemm({1, 4096, 4096, 1}, os);
  EXPECT_EQ(gemv.dataflow, sim::Dataflow::kWs);
  EXPECT_EQ(gemv_os.dataflow, sim::Dataflow::kOs);
  // W4 codes through 64 columns x 16 load bits: 256 MACs per cycle against 64 for one OS row.
  EXPECT_LT(gemv.est_cycles * 3, gemv_os.est_cycles) << gemv.est_cycles << " vs " << gemv_os.est_cycles;
  // A group R does not divide (g = 32 on 64 rows) runs output-stationary on a `both` design.
  const sim::AcceleratorConfig g32 = sim::load_config("mixpe_w4a8_64x64", {"array.dataflow=both", "array.group_size=32"});
  EXPECT_EQ(map_gemm({1, 4096, 4096, 1}, g32).dataflow, sim::Dataflow::kOs);
  // 8-bit codes (DFT matrices) wider than 4 load bits per column: output-stationary.
  const sim::AcceleratorConfig narrow = sim::load_config("mixpe_w4a8_64x64", {"array.dataflow=both", "array.ws_load_bits=4"});
  EXPECT_EQ(map_gemm({1, 4096, 4096, 1, 8}, narrow).dataflow, sim::Dataflow::kOs);
  EXPECT_EQ(map_gemm({1, 4096, 4096, 1}, narrow).dataflow, sim::Dataflow::kWs);
}

TEST(Mapper, SmallBuffersForceTilingAndChunking) {
  const sim::AcceleratorConfig cfg = sim::load_config("test_mixpe_4x4");  // 4 KiB buffers
  const GemmMapping mp = map_gemm({70, 300, 4096, 1}, cfg);
  EXPECT_LT(mp.tk, 4096);
  EXPECT_LT(mp.tn, 300);
}

TEST(Mapper, ImpossibleShapesNameTheGemm) {
  const sim::AcceleratorConfig cfg = sim::load_config("test_int8_4x4", {"buffers.ibuf.size_kib=1", "buffers.wbuf.size_kib=1"});
  try {
    map_gemm({4, 4, 1 << 20, 1}, cfg, "layers.0.q_proj");
    FAIL() << "an impossible tiling was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("layers.0.q_proj"), std::string::npos) << e.what();
  }
  EXPECT_THROW(map_gemm({0, 4, 4, 1}, cfg), std::invalid_argument);
}

// Runs every emitted GEMM's array tiles through the tile model and assembles Y.
TEST(Mapper, EmittedTilesReproduceTheOracleBitForBit) {
  for (const char* hw : {"test_mixpe_4x4", "test_int8_4x4", "test_fp16_4x4"}) {
    const sim::AcceleratorConfig cfg = sim::load_config(hw);
    const int m = 40, n = 50, k = 64;  // operand tiles exceed half of the 4 KiB buffers: tiling needed
    const GemmMapping mp = map_gemm({m, n, k, 1}, cfg);
    ASSERT_EQ(mp.tk, k) << hw << ": this check needs whole-K tiles";
    EXPECT_TRUE(mp.tm < m || mp.tn < n) << hw << ": the case should exercise tiling";
    sim::Program prog;
    std::uint64_t cursor = 0;
    std::vector<GemmPlacement> placed;
    emit_gemm(mp, 1, cfg, prog, &cursor, &placed);

    const std::vector<float> xf = models::synthetic_activations(m, k, 17);
    const sim::ArrayMode mode = sim::array_mode_of(cfg);
    const bool int8 = mode == sim::ArrayMode::kInt8;
    const quant::QuantizedWeights w = quant::quantize_weights_rtn(models::synthetic_weights(n, k, 17), n, k,
                                                                  {cfg.weight_bits, int8 ? -1 : cfg.group_size, int8});
    const quant::Int8Activations x8 = quant::quantize_activations_int8(xf, m, k);
    const std::vector<quant::Half> xh = quant::to_half(xf);
    std::vector<float> ref;
    if (mode == sim::ArrayMode::kMixpeInt8) ref = quant::gemm_mixpe_int8_ref(x8, w);
    if (mode == sim::ArrayMode::kInt8) ref = quant::gemm_int8_ref(x8, w);
    if (mode == sim::ArrayMode::kFp16) ref = quant::gemm_fp16_ref(xh, m, w);
    ASSERT_FALSE(ref.empty()) << hw;

    auto model = sim::make_tile_array_model();
    std::vector<float> y(static_cast<std::size_t>(m) * n, -1.0f);
    for (const GemmPlacement& g : placed) {
      std::vector<sim::ArrayTile> tiles;  // stream order: row tiles outer, column tiles inner
      for (std::int64_t r0 = g.m0; r0 < g.m0 + g.m; r0 += cfg.rows)
        for (std::int64_t c0 = g.n0; c0 < g.n0 + g.n; c0 += cfg.cols) {
          const int r = static_cast<int>(r0), c = static_cast<int>(c0);
          if (mode == sim::ArrayMode::kMixpeInt8) tiles.push_back(sim::make_tile_mixpe_int8(x8, w, r, c, cfg.rows, cfg.cols));
          if (mode == sim::ArrayMode::kInt8) tiles.push_back(sim::make_tile_int8(x8, w, r, c, cfg.rows, cfg.cols));
          if (mode == sim::ArrayMode::kFp16) tiles.push_back(sim::make_tile_fp16(xh, m, w, r, c, cfg.rows, cfg.cols));
        }
      const sim::StreamResult res = model->run_stream(tiles);
      std::size_t t = 0;
      for (std::int64_t r0 = g.m0; r0 < g.m0 + g.m; r0 += cfg.rows)
        for (std::int64_t c0 = g.n0; c0 < g.n0 + g.n; c0 += cfg.cols, ++t)
          for (int r = 0; r < cfg.rows && r0 + r < g.m0 + g.m; ++r)
            for (int c = 0; c < cfg.cols && c0 + c < g.n0 + g.n; ++c)
              y[static_cast<std::size_t>(r0 + r) * n + (c0 + c)] = res.y[t][static_cast<std::size_t>(r) * cfg.cols + c];
    }
    for (std::size_t i = 0; i < y.size(); ++i)
      ASSERT_EQ(std::bit_cast<std::uint32_t>(y[i]), std::bit_cast<std::uint32_t>(ref[i])) << hw << " element " << i;
  }
}

}  // namespace
}  // namespace mixpe::runtime
