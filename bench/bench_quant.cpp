// Throughput of the scalar oracles vs the fast kernels, per PE type (Google Benchmark).
#include <benchmark/benchmark.h>

#include <vector>

#include "models/synthetic.h"
#include "quant/gemm_fast.h"
#include "quant/gemm_ref.h"

namespace {

using namespace mixpe;

struct Problem {
  int m, n, k;
  std::vector<float> x;
  quant::QuantizedWeights w;
  quant::Int8Activations x8;
  quant::AlignedActivations x16;
  std::vector<quant::Half> xh;
  Problem(int m_, int n_, int k_) : m(m_), n(n_), k(k_) {
    x = models::synthetic_activations(m, k, 1);
    w = quant::quantize_weights_rtn(models::synthetic_weights(n, k, 1), n, k, {4, 128, false});
    x8 = quant::quantize_activations_int8(x, m, k);
    xh = quant::to_half(x);
    x16 = quant::align_activations_fp16(xh, m, k, 128);
  }
};

const Problem& problem() {
  static const Problem p(64, 256, 1024);  // the `mixpe gemm` default
  return p;
}

void report(benchmark::State& state) {
  const Problem& p = problem();
  state.counters["MAC/s"] = benchmark::Counter(static_cast<double>(p.m) * p.n * p.k * state.iterations(), benchmark::Counter::kIsRate);
}

void BM_MixpeInt8Ref(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(quant::gemm_mixpe_int8_ref(problem().x8, problem().w));
  report(state);
}
void BM_MixpeInt8Fast(benchmark::State& state) {
  const quant::PreparedWeights pw = quant::PreparedWeights::for_mixpe(problem().w);
  for (auto _ : state) benchmark::DoNotOptimize(quant::gemm_mixpe_int8(problem().x8, pw, static_cast<unsigned>(state.range(0))));
  report(state);
}
void BM_MixpeFp16Ref(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(quant::gemm_mixpe_aligned_ref(problem().x16, problem().w));
  report(state);
}
void BM_MixpeFp16Fast(benchmark::State& state) {
  const quant::PreparedWeights pw = quant::PreparedWeights::for_mixpe(problem().w);
  for (auto _ : state) benchmark::DoNotOptimize(quant::gemm_mixpe_aligned(problem().x16, pw, static_cast<unsigned>(state.range(0))));
  report(state);
}
void BM_Fp16Ref(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(quant::gemm_fp16_ref(problem().xh, problem().m, problem().w));
  report(state);
}
void BM_Fp16Fast(benchmark::State& state) {
  const quant::PreparedWeights pw = quant::PreparedWeights::for_fp16(problem().w);
  for (auto _ : state) benchmark::DoNotOptimize(quant::gemm_fp16(problem().xh, problem().m, pw, static_cast<unsigned>(state.range(0))));
  report(state);
}

BENCHMARK(BM_MixpeInt8Ref)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MixpeInt8Fast)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MixpeFp16Ref)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MixpeFp16Fast)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Fp16Ref)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Fp16Fast)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
