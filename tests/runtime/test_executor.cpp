// The analytic executor's closed-form costing against counting the emitted program instruction by
// instruction: two code paths that must agree on every op's latency and events.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "models/llm/model_config.h"
#include "models/operators/operator.h"
#include "runtime/executor.h"
#include "runtime/operator_exec.h"
#include "sim/config.h"

namespace mixpe::runtime {
namespace {

struct Case {
  const char* hw;
  const char* model;  // an LLM config name, or an operator preset ("fno...")
  models::Phase phase;
  int batch, seq;
  std::vector<std::string> overrides = {};
};
void PrintTo(const Case& c, std::ostream* os) {
  *os << c.hw << " " << c.model << " " << models::to_string(c.phase) << " b" << c.batch << " s" << c.seq;
  for (const std::string& o : c.overrides) *os << " " << o;
}

Workload workload_of(const Case& c) {
  const std::string m = c.model;
  if (m.starts_with("fno")) {
    const std::unique_ptr<models::NeuralOperator> op = models::load_operator(m);
    return operator_workload(*op, c.batch);
  }
  return llm_workload(models::load_model_config(m), {c.phase, c.batch, c.seq});
}

class ClosedFormCosting : public testing::TestWithParam<Case> {};

TEST_P(ClosedFormCosting, EqualsCountingTheEmittedProgram) {
  const Case c = GetParam();
  const sim::AcceleratorConfig cfg = sim::load_config(c.hw, c.overrides);
  const Workload w = workload_of(c);
  const CompiledWorkload emitted = compile_workload(w, cfg);
  const CostedWorkload costed = cost_workload(w, cfg);
  EXPECT_EQ(costed.instructions, static_cast<std::int64_t>(emitted.program.code.size()));
  ASSERT_EQ(costed.ops.size(), emitted.ops.size());
  double exact_activates = 0, costed_activates = 0;
  bool previous_walked = true;
  for (std::size_t i = 0; i < costed.ops.size(); ++i) {
    const OpResult& a = costed.ops[i];
    const OpResult& e = emitted.ops[i];
    SCOPED_TRACE(e.op.name + " (op " + std::to_string(i) + ")");
    EXPECT_EQ(a.first_instr, e.first_instr);
    EXPECT_EQ(a.end_instr, e.end_instr);
    EXPECT_EQ(a.cycles, e.cycles);
    EXPECT_EQ(a.mapping, e.mapping);
    EXPECT_EQ(a.compulsory_dram_bytes, e.compulsory_dram_bytes);
    const sim::RunStats &x = a.counts, &y = e.counts;
    EXPECT_EQ(x.instructions, y.instructions);
    EXPECT_EQ(x.array.gemms, y.array.gemms);
    EXPECT_EQ(x.array.tiles, y.array.tiles);
    EXPECT_EQ(x.array.pe_macs, y.array.pe_macs);
    EXPECT_EQ(x.array.pe_macs_by_mode, y.array.pe_macs_by_mode);
    EXPECT_EQ(x.array.dequant_ops, y.array.dequant_ops);
    EXPECT_EQ(x.array.edge_ops, y.array.edge_ops);
    EXPECT_EQ(x.dma_load.transfers, y.dma_load.transfers);
    EXPECT_EQ(x.dma_load.bytes, y.dma_load.bytes);
    EXPECT_EQ(x.dma_store.transfers, y.dma_store.transfers);
    EXPECT_EQ(x.dma_store.bytes, y.dma_store.bytes);
    EXPECT_EQ(x.vector.ops, y.vector.ops);
    EXPECT_EQ(x.vector.element_ops, y.vector.element_ops);
    for (auto [p, q] : {std::pair{&x.wbuf, &y.wbuf}, std::pair{&x.ibuf, &y.ibuf}, std::pair{&x.obuf, &y.obuf}}) {
      EXPECT_EQ(p->bits_read, q->bits_read);
      EXPECT_EQ(p->bits_written, q->bits_written);
    }
    EXPECT_EQ(x.dram.bits_read, y.dram.bits_read);
    EXPECT_EQ(x.dram.bits_written, y.dram.bits_written);
    // Up to 256 transfers per GEMM or pass go through the row tracker: an op with no more is exact,
    // up to the rows a sampled op before it left open (one per bank at most).
    const bool walked = y.dma_load.transfers + y.dma_store.transfers <= 256;
    if (walked && previous_walked) {
      EXPECT_EQ(x.dram.activates, y.dram.activates);
    }
    if (walked) {
      EXPECT_LE(std::abs(x.dram.activates - y.dram.activates), cfg.dram.banks);
    }
    previous_walked = walked;
    exact_activates += static_cast<double>(y.dram.activates);
    costed_activates += static_cast<double>(x.dram.activates);
  }
  // Beyond the sample, activations are extrapolated: within 2% over the whole program.
  ASSERT_GT(exact_activates, 0.0);
  EXPECT_NEAR(costed_activates / exact_activates, 1.0, 0.02) << costed_activates << " vs " << exact_activates;
}

INSTANTIATE_TEST_SUITE_P(
    Workloads, ClosedFormCosting,
    testing::Values(Case{"mixpe_w4a8_64x64", "tiny", models::Phase::kPrefill, 2, 64},
                    Case{"mixpe_w4a8_64x64", "opt-6.7b", models::Phase::kDecode, 1, 512, {"dram.preset=ddr4_3200"}},
                    Case{"mixpe_w4a8_64x64", "opt-6.7b", models::Phase::kPrefill, 1, 256, {"dram.preset=lpddr5_6400"}},
                    Case{"mixpe_w4a16_32x32", "tiny", models::Phase::kDecode, 4, 200, {"dram.preset=hbm2"}},
                    Case{"fp16_32x28", "tiny", models::Phase::kPrefill, 1, 128, {"dram.preset=ddr4_3200"}},
                    Case{"int8_32x32", "llama-2-7b", models::Phase::kDecode, 16, 1024, {"dram.preset=ddr4_3200"}},
                    Case{"test_mixpe_8x8", "tiny", models::Phase::kPrefill, 1, 32, {"array.dataflow=both"}},
                    Case{"mixpe_w4a8_64x64", "vit-b16", models::Phase::kPrefill, 1, 1, {"dram.preset=ddr4_3200"}},
                    Case{"mixpe_w4a8_64x64", "fno2d-ns", models::Phase::kPrefill, 4, 0, {"dram.preset=ddr4_3200"}}),
    [](const testing::TestParamInfo<Case>& info) {
      std::string s = std::string(info.param.hw) + "_" + info.param.model + "_" + models::to_string(info.param.phase) + "_b" +
                      std::to_string(info.param.batch) + "_s" + std::to_string(info.param.seq);
      for (const std::string& o : info.param.overrides) s.append("_").append(o, o.find('=') + 1);
      for (char& ch : s)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      return s;
    });

}  // namespace
}  // namespace mixpe::runtime
