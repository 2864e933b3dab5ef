// Speed of the Verilated RTL array against the SystemC per-PE and tile models on the same tile
// streams (Google Benchmark; numbers in bench/README.md).
#include <benchmark/benchmark.h>

#include <functional>
#include <memory>
#include <vector>

#include "Vbench_mixpe8_8x8.h"
#include "models/synthetic.h"
#include "quant/activations.h"
#include "rtl_array_model.h"
#include "sim/array.h"

namespace {

using namespace mixpe;

constexpr int kRows = 8, kCols = 8, kK = 512, kGroup = 128, kTiles = 4;

const std::vector<sim::ArrayTile>& tiles() {
  static const std::vector<sim::ArrayTile> t = [] {
    const int m = kRows, n = kCols * kTiles;
    const quant::Int8Activations x = quant::quantize_activations_int8(models::synthetic_activations(m, kK, 3), m, kK);
    const quant::QuantizedWeights w = quant::quantize_weights_rtn(models::synthetic_weights(n, kK, 3), n, kK, {4, kGroup, false});
    std::vector<sim::ArrayTile> v;
    for (int c0 = 0; c0 < n; c0 += kCols) v.push_back(sim::make_tile_mixpe_int8(x, w, 0, c0, kRows, kCols));
    return v;
  }();
  return t;
}

void run(benchmark::State& state, const std::function<std::unique_ptr<sim::ArrayModel>()>& make) {
  auto model = make();
  std::int64_t cycles = 0;
  for (auto _ : state) {
    const sim::StreamResult r = model->run_stream(tiles());
    cycles = r.cycles;
    benchmark::DoNotOptimize(r.y.data());
  }
  state.counters["PE-cycles/s"] = benchmark::Counter(static_cast<double>(cycles) * kRows * kCols * state.iterations(),
                                                     benchmark::Counter::kIsRate);
  state.counters["sim_cycles"] = static_cast<double>(cycles);
}

void BM_VerilatedArray8x8(benchmark::State& s) {
  run(s, [] { return std::make_unique<rtl_test::RtlArrayModel<Vbench_mixpe8_8x8>>(kRows, kCols, 4); });
}
void BM_PerPeModel8x8(benchmark::State& s) { run(s, [] { return sim::make_pe_array_model(); }); }
void BM_TileModel8x8(benchmark::State& s) { run(s, [] { return sim::make_tile_array_model(); }); }

BENCHMARK(BM_VerilatedArray8x8)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_PerPeModel8x8)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_TileModel8x8)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
