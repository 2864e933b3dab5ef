// The analytic executor against the cycle (SystemC) executor: per transformer layer and whole
// model within 5%, over several designs and workloads. One case per process (SystemC elaborates once).
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
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
};

std::string case_name(const testing::TestParamInfo<Case>& info) {
  std::string s = std::string(info.param.hw) + "_" + info.param.model + "_" + models::to_string(info.param.phase) + "_b" +
                  std::to_string(info.param.batch) + "_s" + std::to_string(info.param.seq);
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

class AnalyticVsCycle : public testing::TestWithParam<Case> {};

TEST_P(AnalyticVsCycle, WithinFivePercentPerLayerAndOverall) {
  const Case c = GetParam();
  const sim::AcceleratorConfig cfg = sim::load_config(c.hw);
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
                    Case{"test_mixpe_8x8", "tiny", models::Phase::kPrefill, 1, 32},
                    Case{"mixpe_w4a8_64x64", "vit-b16", models::Phase::kPrefill, 1, 1}),
    case_name);

}  // namespace
}  // namespace mixpe::runtime

// libsystemc owns main(); it calls this.
extern "C" int sc_main(int argc, char* argv[]);
int sc_main(int argc, char* argv[]) {
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
