// The analytic executor against the cycle (SystemC) executor: per transformer layer and whole
// model within 5%, over several designs and workloads. One case per process (SystemC elaborates once).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <ostream>
#include <vector>
#include <systemc>

#include "models/llm/model_config.h"
#include "runtime/executor.h"
#include "sim/config.h"

namespace mixpe::runtime {
namespace {

struct Case {
  const char* hw;
  const char* model;
  models::Phase phase;
  int batch, seq;
  std::vector<std::string> overrides = {};
};
// Readable, stable case descriptions in test listings (not the struct's raw bytes).
void PrintTo(const Case& c, std::ostream* os) {
  *os << c.hw << " " << c.model << " " << models::to_string(c.phase) << " b" << c.batch << " s" << c.seq;
  for (const std::string& o : c.overrides) *os << " " << o;
}

std::string case_name(const testing::TestParamInfo<Case>& info) {
  std::string s = std::string(info.param.hw) + "_" + info.param.model + "_" + models::to_string(info.param.phase) + "_b" +
                  std::to_string(info.param.batch) + "_s" + std::to_string(info.param.seq);
  for (const std::string& o : info.param.overrides) s.append("_").append(o, o.find('=') + 1);
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

class AnalyticVsCycle : public testing::TestWithParam<Case> {};

TEST_P(AnalyticVsCycle, WithinFivePercentPerLayerAndOverall) {
  const Case c = GetParam();
  const sim::AcceleratorConfig cfg = sim::load_config(c.hw, c.overrides);
  const models::ModelConfig model = models::load_model_config(c.model);
  const models::WorkloadSpec spec{c.phase, c.batch, c.seq};
  const SimulationReport a = simulate(model, spec, cfg, ExecutorKind::kAnalytic);
  const SimulationReport y = simulate(model, spec, cfg, ExecutorKind::kCycle);
  ASSERT_EQ(a.ops.size(), y.ops.size());
  std::map<int, std::pair<double, double>> layers;  // layer -> (analytic, cycle) cycles
  for (std::size_t i = 0; i < a.ops.size(); ++i) {
    layers[a.ops[i].op.layer].first += static_cast<double>(a.ops[i].cycles);
    layers[y.ops[i].op.layer].second += static_cast<double>(y.ops[i].cycles);
  }
  for (const auto& [layer, v] : layers) {
    if (layer < 0) continue;  // embeddings and the head are not a transformer layer
    EXPECT_NEAR(v.first / v.second, 1.0, 0.05) << "layer " << layer << ": analytic " << v.first << " cycle " << v.second;
  }
  EXPECT_NEAR(static_cast<double>(a.total_cycles) / y.total_cycles, 1.0, 0.05) << a.total_cycles << " vs " << y.total_cycles;
  EXPECT_NEAR(a.energy.total() / y.energy.total(), 1.0, 0.05);
  // Both executors see the same program; only the timing differs.
  EXPECT_EQ(a.instructions, y.instructions);
  EXPECT_GT(y.total_cycles, 0);
}

INSTANTIATE_TEST_SUITE_P(
    Designs, AnalyticVsCycle,
    testing::Values(Case{"mixpe_w4a8_64x64", "tiny", models::Phase::kPrefill, 2, 64},
                    Case{"mixpe_w4a8_64x64", "opt-6.7b", models::Phase::kDecode, 1, 512},
                    Case{"mixpe_w4a16_32x32", "tiny", models::Phase::kDecode, 4, 200},
                    Case{"fp16_32x28", "tiny", models::Phase::kPrefill, 1, 128},
                    Case{"int8_32x32", "tiny", models::Phase::kPrefill, 1, 96},
                    Case{"bitfusion_32x40", "tiny", models::Phase::kPrefill, 1, 96},
                    Case{"ant_32x32", "tiny", models::Phase::kDecode, 2, 64},
                    Case{"test_mixpe_8x8", "tiny", models::Phase::kPrefill, 1, 32},
                    Case{"mixpe_w4a8_64x64", "vit-b16", models::Phase::kPrefill, 1, 1},
                    // An independent check: the per-PE array model (not the closed form the analytic
                    // executor shares) runs every GEMM of whole tiny-model programs, both dataflows.
                    Case{"test_mixpe_4x4", "tiny", models::Phase::kPrefill, 1, 16, {"array.model=pe", "array.dataflow=os"}},
                    Case{"test_mixpe_4x4", "tiny", models::Phase::kPrefill, 1, 16, {"array.model=pe", "array.dataflow=ws"}},
                    Case{"test_mixpe_4x4", "tiny", models::Phase::kDecode, 2, 40, {"array.model=pe", "array.dataflow=os"}},
                    Case{"test_mixpe_4x4", "tiny", models::Phase::kDecode, 2, 40, {"array.model=pe", "array.dataflow=ws"}},
                    Case{"test_int8_4x4", "tiny", models::Phase::kDecode, 1, 40, {"array.model=pe", "array.dataflow=both"}}),
    case_name);

// DRAM energy on a real DRAM: the analytic executor's row activations (DramRowTracker: rows spanned
// by each transfer, open rows carried in program order, refreshes placed by the analytic op times)
// against the timing model's row misses + conflicts. With the per-bit and background energies
// zeroed, dram energy = activates x activate_pj, so the energy ratio is the activate-count ratio.
double activate_ratio(const std::vector<std::string>& extra, const char* model_name, models::WorkloadSpec spec) {
  std::vector<std::string> o = {"dram.preset=ddr4_3200", "dram.read_pj_per_bit=0", "dram.write_pj_per_bit=0", "dram.background_mw=0"};
  o.insert(o.end(), extra.begin(), extra.end());
  const sim::AcceleratorConfig cfg = sim::load_config("mixpe_w4a8_64x64", o);
  const models::ModelConfig model = models::load_model_config(model_name);
  const SimulationReport a = simulate(model, spec, cfg, ExecutorKind::kAnalytic);
  const SimulationReport y = simulate(model, spec, cfg, ExecutorKind::kCycle);
  EXPECT_GT(y.energy.dram, 0.0);
  std::printf("analytic %.0f activates, cycle %.0f\n", a.energy.dram / cfg.dram.activate_pj, y.energy.dram / cfg.dram.activate_pj);
  return a.energy.dram / y.energy.dram;
}

// Without refresh the two see the same open-row sequence up to the load/store units' overlap.
TEST(DramEnergy, ActivatesAgreeWithoutRefresh) {
  EXPECT_NEAR(activate_ratio({"dram.trefi_ns=0"}, "tiny", {models::Phase::kPrefill, 2, 64}), 1.0, 0.03);
}

// With refresh the analytic count also depends on where its op times put the refreshes.
TEST(DramEnergy, ActivatesAgreeWithRefresh) {
  EXPECT_NEAR(activate_ratio({}, "tiny", {models::Phase::kPrefill, 2, 64}), 1.0, 0.06);
}

// Bits and activates at DDR4-3200's energies: the per-bit part is exact (same bytes), the activate
// part as above. Background power x time is left out: it follows each executor's run time, which
// AnalyticVsCycle checks.
TEST(DramEnergy, BitsAndActivatesAgreeOnDdr4) {
  const sim::AcceleratorConfig cfg = sim::load_config("mixpe_w4a8_64x64", {"dram.preset=ddr4_3200", "dram.background_mw=0"});
  const models::ModelConfig model = models::load_model_config("tiny");
  const models::WorkloadSpec spec{models::Phase::kDecode, 4, 200};
  const SimulationReport a = simulate(model, spec, cfg, ExecutorKind::kAnalytic);
  const SimulationReport y = simulate(model, spec, cfg, ExecutorKind::kCycle);
  ASSERT_GT(y.energy.dram, 0.0);
  EXPECT_NEAR(a.energy.dram / y.energy.dram, 1.0, 0.02) << a.energy.dram << " vs " << y.energy.dram;
}

}  // namespace
}  // namespace mixpe::runtime
