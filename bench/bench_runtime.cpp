// Speed of the analytic executor on whole models (Google Benchmark).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "models/llm/model_config.h"
#include "runtime/executor.h"
#include "sim/config.h"

namespace {

using namespace mixpe;

void run(benchmark::State& state, const char* model_name, models::Phase phase, int batch, int seq,
         const std::vector<std::string>& overrides = {}) {
  const models::ModelConfig model = models::load_model_config(model_name);
  const sim::AcceleratorConfig cfg = sim::load_config("mixpe_w4a8_64x64", overrides);
  std::int64_t instructions = 0;
  for (auto _ : state) {
    const runtime::SimulationReport r = runtime::simulate(model, {phase, batch, seq}, cfg, runtime::ExecutorKind::kAnalytic);
    instructions = r.instructions;
    benchmark::DoNotOptimize(r.total_cycles);
  }
  state.counters["instructions"] = static_cast<double>(instructions);
}

void BM_AnalyticOpt67bPrefill64(benchmark::State& s) { run(s, "opt-6.7b", models::Phase::kPrefill, 1, 64); }
void BM_AnalyticOpt67bPrefill2048(benchmark::State& s) { run(s, "opt-6.7b", models::Phase::kPrefill, 1, 2048); }
void BM_AnalyticOpt67bPrefill2048Ddr4(benchmark::State& s) {
  run(s, "opt-6.7b", models::Phase::kPrefill, 1, 2048, {"dram.preset=ddr4_3200"});
}
void BM_AnalyticLlama27bDecode2048(benchmark::State& s) { run(s, "llama-2-7b", models::Phase::kDecode, 1, 2048); }

// The paper's prefill table (docs/paper-comparison.md): four models on each of the five designs.
void BM_AnalyticPaperTable(benchmark::State& state) {
  std::vector<models::ModelConfig> models;
  for (const char* m : {"opt-6.7b", "llama-2-13b", "vit-b16", "vit-h14"}) models.push_back(models::load_model_config(m));
  std::vector<sim::AcceleratorConfig> designs;
  for (const char* hw : {"fp16_32x28", "int8_32x32", "mixpe_w4a16_32x32", "mixpe_w4a8_64x64", "mixpe_w4a8_32x32"})
    designs.push_back(sim::load_config(hw));
  for (auto _ : state) {
    for (const models::ModelConfig& m : models)
      for (const sim::AcceleratorConfig& cfg : designs)
        benchmark::DoNotOptimize(runtime::simulate(m, {models::Phase::kPrefill, 1, 64}, cfg, runtime::ExecutorKind::kAnalytic).total_cycles);
  }
}

BENCHMARK(BM_AnalyticOpt67bPrefill64)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AnalyticOpt67bPrefill2048)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AnalyticOpt67bPrefill2048Ddr4)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AnalyticLlama27bDecode2048)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AnalyticPaperTable)->Unit(benchmark::kMillisecond);

}  // namespace

#if MIXPE_WITH_SYSTEMC
// The runtime links libsystemc, which owns main() and calls sc_main.
extern "C" int sc_main(int argc, char* argv[]);
int sc_main(int argc, char* argv[]) {
#else
int main(int argc, char* argv[]) {
#endif
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
