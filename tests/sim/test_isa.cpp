// Program validation: every bad instruction names its index, field and value.
#include <gtest/gtest.h>

#include "sim/isa.h"

namespace mixpe::sim {
namespace {

void expect_error(const Program& p, const AcceleratorConfig& cfg, const std::vector<std::string>& frags) {
  try {
    validate_program(p, cfg);
    FAIL();
  } catch (const std::invalid_argument& e) {
    for (const auto& f : frags) EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << e.what();
  }
}

TEST(Isa, ValidationNamesInstructionFieldAndValue) {
  const AcceleratorConfig cfg = load_config("test_mixpe_4x4");  // 4 KiB buffers
  Program p;
  p.code = {dma_load(BufferId::kIbuf, 4000, 0, 200)};
  expect_error(p, cfg, {"instruction 0", "load", "sram_addr", "4000", "ibuf"});
  p.code = {barrier(), gemm(ArrayMode::kFp16, 4, 4, 64, 8, 0, 0, 0)};
  expect_error(p, cfg, {"instruction 1", "gemm", "'mode'", "fp16", "mixpe_int8"});
  p.code = {gemm(ArrayMode::kMixpeInt8, 4, 4, 60, 8, 0, 0, 0)};
  expect_error(p, cfg, {"group_size", "8", "k = 60"});
  p.code = {gemm(ArrayMode::kMixpeInt8, 64, 4, 64, 8, 0, 0, 0)};
  expect_error(p, cfg, {"act_addr", "ibuf"});
  p.code = {gemm(ArrayMode::kMixpeInt8, 4, 4, 64, 8, 0, 0, 0, false, true, 3)};
  expect_error(p, cfg, {"payload", "3"});
  p.code = {vector_op(VectorOp::kAdd, BufferId::kObuf, 0, 4, 0, 0)};
  expect_error(p, cfg, {"vector", "rows"});
  p.code = {dma_load(BufferId::kIbuf, 0, 0, 272), gemm(ArrayMode::kMixpeInt8, 4, 4, 64, 8, 0, 0, 0), barrier()};
  EXPECT_NO_THROW(validate_program(p, cfg));
}

TEST(Isa, FootprintsAsDocumented) {
  const AcceleratorConfig cfg = load_config("test_mixpe_4x4");
  const GemmFootprint f = gemm_footprint(gemm(ArrayMode::kMixpeInt8, 4, 4, 64, 8, 0, 0, 0), cfg);
  EXPECT_EQ(f.act_bytes, 4 * 64 + 4 * 4);           // INT8 codes + fp32 per-token scales
  EXPECT_EQ(f.wgt_bytes, 4 * 64 * 4 / 8 + 4 * 8 * 3);  // 4-bit codes + (fp16 scale, zero byte) per group
  EXPECT_EQ(f.out_bytes, 4 * 4 * 4);
}

}  // namespace
}  // namespace mixpe::sim
