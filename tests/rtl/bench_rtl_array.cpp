// Speed of the Verilated RTL array against the SystemC per-PE and tile models on the same tile
// streams (numbers in bench/README.md). Output-stationary streams on 8x8 and 16x16 arrays run through
// all three; weight-stationary streams through the two SystemC models (no Verilated WS array of
// these sizes is built). Every model's outputs, valid cycles and cycle counts must be identical before
// anything is timed, or the program aborts naming the difference. A plain program (no Google
// Benchmark): the models of a stream are timed in interleaved rounds, so their ratios share the load
// of a busy machine. Usage: bench_rtl_array [seconds per model and stream, default 1].
#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "Vbench_mixpe8_16x16.h"
#include "Vbench_mixpe8_8x8.h"
#include "models/synthetic.h"
#include "quant/activations.h"
#include "rtl_array_model.h"
#include "sim/array.h"

namespace {

using namespace mixpe;

constexpr int kK = 512, kGroup = 128, kTiles = 4, kRounds = 5;

using MakeModel = std::function<std::unique_ptr<sim::ArrayModel>()>;

struct Stream {
  std::string name;
  int rows = 0, cols = 0;  // the array's R x C
  std::vector<sim::ArrayTile> tiles;
  std::vector<std::pair<std::string, MakeModel>> models;  // the Verilated array first, when there is one
  bool rtl = false;
};

// kTiles tiles of `tokens` x C (MixPE INT8 W4, K = 512, g = 128), output- or weight-stationary.
std::vector<sim::ArrayTile> make_tiles(int rows, int cols, int tokens, bool ws) {
  const int n = cols * kTiles;
  const quant::Int8Activations x = quant::quantize_activations_int8(models::synthetic_activations(tokens, kK, 3), tokens, kK);
  const quant::QuantizedWeights w = quant::quantize_weights_rtn(models::synthetic_weights(n, kK, 3), n, kK, {4, kGroup, false});
  std::vector<sim::ArrayTile> v;
  for (int c0 = 0; c0 < n; c0 += cols) {
    sim::ArrayTile t = sim::make_tile_mixpe_int8(x, w, 0, c0, tokens, cols);
    v.push_back(ws ? sim::to_weight_stationary(std::move(t), rows) : std::move(t));
  }
  return v;
}

template <typename Vtop>
MakeModel rtl_model(int rows, int cols) {
  return [rows, cols] { return std::make_unique<rtl_test::RtlArrayModel<Vtop>>(rows, cols, 4); };
}

std::vector<Stream> streams() {
  std::vector<Stream> v;
  const MakeModel pe = [] { return sim::make_pe_array_model(); };
  const MakeModel tile = [] { return sim::make_tile_array_model(); };
  v.push_back({"8x8 OS", 8, 8, make_tiles(8, 8, 8, false),
               {{"Verilated RTL", rtl_model<Vbench_mixpe8_8x8>(8, 8)}, {"per-PE model", pe}, {"tile model", tile}}, true});
  v.push_back({"16x16 OS", 16, 16, make_tiles(16, 16, 16, false),
               {{"Verilated RTL", rtl_model<Vbench_mixpe8_16x16>(16, 16)}, {"per-PE model", pe}, {"tile model", tile}}, true});
  for (int r : {8, 16})
    for (int m : {1, r})
      v.push_back({fmt::format("{}x{} WS M={}", r, r, m), r, r, make_tiles(r, r, m, true), {{"per-PE model", pe}, {"tile model", tile}}, false});
  return v;
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "bench_rtl_array: %s\n", what.c_str());
  std::abort();
}

// Outputs (bits), per-output valid cycles, total cycles and stalls of two models must be equal.
void expect_identical(const Stream& s, const std::string& an, const sim::StreamResult& a, const std::string& bn, const sim::StreamResult& b) {
  auto bad = [&](const std::string& what) { fail(fmt::format("{} stream: {} and {} differ in {}", s.name, an, bn, what)); };
  if (a.cycles != b.cycles) bad(fmt::format("cycles ({} vs {})", a.cycles, b.cycles));
  if (a.y.size() != b.y.size()) bad("the number of tiles");
  for (std::size_t t = 0; t < a.y.size(); ++t) {
    if (a.y[t].size() != b.y[t].size()) bad(fmt::format("tile {}'s output count", t));
    for (std::size_t i = 0; i < a.y[t].size(); ++i)
      if (std::bit_cast<std::uint32_t>(a.y[t][i]) != std::bit_cast<std::uint32_t>(b.y[t][i]))
        bad(fmt::format("tile {} output {} ({} vs {})", t, i, a.y[t][i], b.y[t][i]));
  }
  if (a.valid_cycle != b.valid_cycle) bad("per-output valid cycles");
  if (a.last_valid_cycle != b.last_valid_cycle) bad("last valid cycles");
  if (a.drain_stall_cycles != b.drain_stall_cycles) bad("drain stall cycles");
  if (a.load_stall_cycles != b.load_stall_cycles) bad("load stall cycles");
}

// Runs every model once and checks them against the first and the closed form; returns the cycles.
std::int64_t verify(const Stream& s) {
  std::vector<sim::StreamResult> r;
  for (const auto& [name, make] : s.models) r.push_back(make()->run_stream(s.tiles));
  for (std::size_t i = 1; i < r.size(); ++i) expect_identical(s, s.models[0].first, r[0], s.models[i].first, r[i]);
  const std::int64_t want = sim::stream_latency(sim::shape_of(s.tiles[0]), static_cast<std::int64_t>(s.tiles.size()));
  if (r[0].cycles != want) fail(fmt::format("{} stream: {} cycles, docs/array.md says {}", s.name, r[0].cycles, want));
  std::size_t nonzero = 0, total = 0;
  for (const auto& y : r[0].y) {
    total += y.size();
    nonzero += static_cast<std::size_t>(std::count_if(y.begin(), y.end(), [](float v) { return v != 0.0f; }));
  }
  if (nonzero * 2 < total) fail(fmt::format("{} stream: {} of {} outputs are zero, too few to compare", s.name, total - nonzero, total));
  return r[0].cycles;
}

double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
}

struct Time {
  double wall = 0, cpu = 0;  // ms per stream
};

// Runs the stream for about budget_ms of wall time, at least once, on a fresh model.
Time time_model(const MakeModel& make, const std::vector<sim::ArrayTile>& tiles, double budget_ms) {
  const auto model = make();
  const auto w0 = std::chrono::steady_clock::now();
  const double c0 = cpu_ms();
  int reps = 0;
  double wall = 0;
  std::int64_t cycles = 0;
  do {
    cycles += model->run_stream(tiles).cycles;
    ++reps;
    wall = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - w0).count();
  } while (wall < budget_ms);
  if (cycles <= 0) fail("a model ran no cycles");
  return {wall / reps, (cpu_ms() - c0) / reps};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string load_average() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return f ? a + " " + b + " " + c : "unknown";
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 1.0;
  if (!(seconds > 0)) fail(fmt::format("seconds per model must be positive, got '{}'", argc > 1 ? argv[1] : ""));
  const std::vector<Stream> all = streams();
  std::vector<std::int64_t> cycles;
  for (const Stream& s : all) cycles.push_back(verify(s));
  std::printf("All models agree on every stream (output bits, valid cycles, cycles). Load average before: %s\n", load_average().c_str());
  std::printf("MixPE INT8 W4, K = %d, g = %d, %d tiles (jobs) per stream; medians of %d interleaved rounds of %.2f s per model.\n\n", kK,
              kGroup, kTiles, kRounds, seconds / kRounds);
  std::printf("| array, stream | cycles | model | wall ms / stream | CPU ms / stream | PE-cycles/s | vs Verilator (wall) | vs Verilator (CPU) |\n");
  std::printf("|---|---:|---|---:|---:|---:|---:|---:|\n");
  for (std::size_t si = 0; si < all.size(); ++si) {
    const Stream& s = all[si];
    const std::size_t nm = s.models.size();
    std::vector<std::vector<Time>> t(nm);
    for (int round = 0; round < kRounds; ++round)
      for (std::size_t m = 0; m < nm; ++m) t[m].push_back(time_model(s.models[m].second, s.tiles, seconds * 1e3 / kRounds));
    for (std::size_t m = 0; m < nm; ++m) {
      std::vector<double> wall, cpu, rw, rcpu;
      for (int round = 0; round < kRounds; ++round) {
        wall.push_back(t[m][round].wall);
        cpu.push_back(t[m][round].cpu);
        if (s.rtl) {
          rw.push_back(t[0][round].wall / t[m][round].wall);
          rcpu.push_back(t[0][round].cpu / t[m][round].cpu);
        }
      }
      const double w = median(wall);
      const double pe_cycles = static_cast<double>(cycles[si]) * s.rows * s.cols / (w * 1e-3);
      const std::string ratio_w = s.rtl ? fmt::format("{:.1f}x", median(rw)) : "-";
      const std::string ratio_c = s.rtl ? fmt::format("{:.1f}x", median(rcpu)) : "-";
      const std::string rate = pe_cycles >= 1e9 ? fmt::format("{:.2f} G", pe_cycles / 1e9) : fmt::format("{:.0f} M", pe_cycles / 1e6);
      std::printf("| %s | %lld | %s | %.3f | %.3f | %s | %s | %s |\n", s.name.c_str(), static_cast<long long>(cycles[si]),
                  s.models[m].first.c_str(), w, median(cpu), rate.c_str(), ratio_w.c_str(), ratio_c.c_str());
    }
    std::fflush(stdout);
  }
  std::printf("\nLoad average after: %s\n", load_average().c_str());
  return 0;
}
