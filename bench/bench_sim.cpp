// Speed of the array models per wall second: per-PE model in PE-cycles, tile model in simulated MACs.
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "quant/activations.h"
#include "quant/weights.h"
#include "sim/array.h"

namespace {

using namespace mixpe;

sim::ArrayTile random_tile(int rows, int cols, int k, int group) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> wf(static_cast<std::size_t>(cols) * k), xf(static_cast<std::size_t>(rows) * k);
  for (auto& v : wf) v = d(rng);
  for (auto& v : xf) v = d(rng);
  const auto w = quant::quantize_weights_rtn(wf, cols, k, quant::WeightQuantConfig{4, group, false});
  const auto x = quant::quantize_activations_int8(xf, rows, k);
  return sim::make_tile_mixpe_int8(x, w, 0, 0, rows, cols);
}

// Args: array side, K. g = 128 (or K if smaller).
void BM_PeArrayModel(benchmark::State& state) {
  const int side = static_cast<int>(state.range(0)), k = static_cast<int>(state.range(1));
  const std::vector<sim::ArrayTile> tiles = {random_tile(side, side, k, std::min(k, 128))};
  auto model = sim::make_array_model("pe");
  std::int64_t pe_cycles = 0;
  for (auto _ : state) {
    const auto r = model->run_stream(tiles);
    pe_cycles += r.cycles * side * side;
    benchmark::DoNotOptimize(r.y.data());
  }
  state.counters["PE_cycles_per_s"] = benchmark::Counter(static_cast<double>(pe_cycles), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PeArrayModel)->Args({8, 256})->Args({16, 256})->Args({64, 512})->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_TileArrayModel(benchmark::State& state) {
  const int side = static_cast<int>(state.range(0)), k = static_cast<int>(state.range(1));
  const std::vector<sim::ArrayTile> tiles = {random_tile(side, side, k, 128)};
  auto model = sim::make_array_model("tile");
  std::int64_t macs = 0;
  for (auto _ : state) {
    const auto r = model->run_stream(tiles);
    macs += r.pe_macs;
    benchmark::DoNotOptimize(r.y.data());
  }
  state.counters["MACs_per_s"] = benchmark::Counter(static_cast<double>(macs), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TileArrayModel)->Args({64, 4096})->Unit(benchmark::kMillisecond)->UseRealTime();

// Timing only (closed form): what whole-model sweeps use.
void BM_TileTimingOnly(benchmark::State& state) {
  const sim::ArrayShape s{sim::ArrayMode::kMixpeInt8, 64, 64, 4096, 128};
  std::int64_t macs = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(sim::stream_latency(s, 100));
    macs += 100LL * 64 * 64 * 4096;
  }
  state.counters["MACs_per_s"] = benchmark::Counter(static_cast<double>(macs), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TileTimingOnly)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
