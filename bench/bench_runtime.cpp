// Speed of the analytic executor on whole models (Google Benchmark).
#include <benchmark/benchmark.h>

#include "models/llm/model_config.h"
#include "runtime/executor.h"
#include "sim/config.h"

namespace {

using namespace mixpe;

void run(benchmark::State& state, const char* model_name, models::Phase phase, int batch, int seq) {
  const models::ModelConfig model = models::load_model_config(model_name);
  const sim::AcceleratorConfig cfg = sim::load_config("mixpe_w4a8_64x64");
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
void BM_AnalyticLlama27bDecode2048(benchmark::State& s) { run(s, "llama-2-7b", models::Phase::kDecode, 1, 2048); }

BENCHMARK(BM_AnalyticOpt67bPrefill64)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AnalyticOpt67bPrefill2048)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AnalyticLlama27bDecode2048)->Unit(benchmark::kMillisecond);

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
