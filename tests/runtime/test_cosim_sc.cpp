// The functional executor against the cycle-level SystemC model: every GEMM of a tiny LLM's
// decode step (linear layers and attention on the KV cache) and of a small neural operator's
// forward, recorded by the functional executor, mapped by the mapper and run with its operands on
// the per-PE array model, gives the same bits. One case per process (SystemC elaborates once).
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <string>
#include <systemc>
#include <ostream>
#include <vector>

#include "models/llm/llm.h"
#include "models/llm/model_config.h"
#include "models/operators/operator.h"
#include "runtime/cosim.h"
#include "runtime/functional.h"
#include "runtime/operator_exec.h"
#include "sim/accelerator.h"
#include "sim/config.h"

namespace mixpe::runtime {
namespace {

struct Case {
  const char* hw;
  const char* act;  // array.act_type override ("" keeps the preset's)
  const char* workload;
  const char* dataflow = "os";
  const char* model = "pe";  // array model (pe: the register-level one)
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.hw << " " << (*c.act ? c.act : "preset") << " " << c.workload << " " << c.dataflow; }

std::string case_name(const testing::TestParamInfo<Case>& info) {
  std::string s = std::string(info.param.hw) + "_" + (*info.param.act ? info.param.act : "preset") + "_" + info.param.workload + "_" +
                  info.param.dataflow + (std::string(info.param.model) == "pe" ? "" : std::string("_") + info.param.model);
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

// Records every GEMM of the workload's last step through a design's engine.
std::vector<GemmCall> record(const Case& c, const sim::AcceleratorConfig& cfg) {
  std::vector<GemmCall> calls;
  if (std::string(c.workload) == "llm-decode") {
    const models::LlmWeights model = models::synthetic_llm_weights(models::load_model_config("tiny"), 3);
    QuantizedLinears q(model, GemmEngine(cfg));
    models::KvCache cache;
    const std::vector<int> prompt = {5, 17, 300, 42, 7, 99};
    models::llm_forward_step(model, cache, prompt, q.backend(), q.attention(), true);
    q.engine().set_observer([&](const GemmCall& call) { calls.push_back(call); });
    models::llm_forward_step(model, cache, {123}, q.backend(), q.attention(), true);
  } else {
    // The trained 1D FNO of the zoo, on one Burgers initial condition.
    const std::unique_ptr<models::NeuralOperator> op = models::load_operator("fno1d-burgers");
    OperatorExecutor exec(*op, GemmEngine(cfg));
    exec.engine().set_observer([&](const GemmCall& call) { calls.push_back(call); });
    std::vector<float> x(static_cast<std::size_t>(op->input_shape()[0]));
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(std::sin(2 * 3.14159265358979 * static_cast<double>(i) / x.size()));
    exec.forward(x, 1);
  }
  return calls;
}

class FunctionalVsCycle : public testing::TestWithParam<Case> {};

TEST_P(FunctionalVsCycle, EveryGemmGivesTheSameBits) {
  const Case c = GetParam();
  std::vector<std::string> ov = {std::string("array.model=") + c.model, std::string("array.dataflow=") + c.dataflow};
  if (*c.act) ov.push_back(std::string("array.act_type=") + c.act);
  const sim::AcceleratorConfig cfg = sim::load_config(c.hw, ov);
  const std::vector<GemmCall> calls = record(c, cfg);
  ASSERT_GT(calls.size(), 5u);
  const CosimProgram cp = build_cosim_program(calls, cfg);
  int ws_gemms = 0;
  for (const sim::Instruction& in : cp.program.code) ws_gemms += in.op == sim::Opcode::kGemm && in.dataflow == sim::Dataflow::kWs;
  if (std::string(c.dataflow) == "ws") {
    EXPECT_GT(ws_gemms, 0) << "the weight-stationary case must run weight-stationary GEMMs";
  }
  sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  const sim::RunResult run = sim::run_program(cfg, cp.program);
  const std::vector<std::vector<float>> ys = assemble_outputs(cp, calls, run.outputs, cfg);
  ASSERT_EQ(ys.size(), calls.size());
  std::size_t values = 0;
  int chunked = 0;
  for (std::size_t i = 0; i < calls.size(); ++i) {
    ASSERT_EQ(ys[i].size(), calls[i].y.size()) << calls[i].name;
    for (std::size_t j = 0; j < ys[i].size(); ++j)
      ASSERT_EQ(std::bit_cast<std::uint32_t>(ys[i][j]), std::bit_cast<std::uint32_t>(calls[i].y[j])) << calls[i].name << " element " << j;
    values += ys[i].size();
    chunked += calls[i].tk < calls[i].w.k ? 1 : 0;
  }
  EXPECT_GT(values, 100u);
  EXPECT_GT(run.stats.cycles.total, 0);
  RecordProperty("gemms", static_cast<int>(calls.size()));
  RecordProperty("chunked_gemms", chunked);
}

INSTANTIATE_TEST_SUITE_P(Designs, FunctionalVsCycle,
                         testing::Values(Case{"test_mixpe_8x8", "", "llm-decode"}, Case{"test_mixpe_4x4", "fp16", "llm-decode"},
                                         Case{"test_int8_4x4", "", "llm-decode"}, Case{"test_fp16_4x4", "", "operator"},
                                         Case{"test_mixpe_8x8", "", "operator"}, Case{"test_mixpe_4x4", "", "llm-decode", "ws"},
                                         Case{"test_mixpe_4x4", "bf16", "operator", "ws"}, Case{"test_int8_4x4", "", "llm-decode", "ws"},
                                         Case{"test_ant_4x4", "", "llm-decode"}, Case{"test_ant_4x4", "", "operator"},
                                         Case{"test_bitfusion_4x4", "", "llm-decode"}, Case{"test_bitfusion_4x4", "", "operator"}),
                         case_name);

}  // namespace
}  // namespace mixpe::runtime
